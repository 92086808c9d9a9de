"""What training measured, as typed objects stored in the model metadata (no TensorFlow).

`train` writes a `TrainingReport`, `evaluate --fit-calibration` updates it, and the pages and
wording read it; each goes through `to_dict` / `from_dict` here, the one JSON round trip.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any


@dataclass(frozen=True)
class Metrics:
    """Video-level metrics of one set of clips."""

    clips: int
    fakes: int
    reals: int
    auc: float | None
    auc_ci95: tuple[float, float] | None
    accuracy: float
    log_loss: float
    brier: float
    ece: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Metrics:
        ci = data.get("auc_ci95")
        auc = data.get("auc")
        return cls(
            clips=int(data["clips"]),
            fakes=int(data["fakes"]),
            reals=int(data["reals"]),
            auc=None if auc is None else float(auc),
            auc_ci95=None if ci is None else (float(ci[0]), float(ci[1])),
            accuracy=float(data["accuracy"]),
            log_loss=float(data["log_loss"]),
            brier=float(data["brier"]),
            ece=float(data["ece"]),
        )


@dataclass(frozen=True)
class HeldOut:
    """Metrics on clips the measured model never trained on (a split or out-of-fold predictions)."""

    raw: Metrics
    calibrated: Metrics | None = None
    model: str = ""  # which model produced them, in words
    details: dict[str, Any] = field(default_factory=dict)  # e.g. folds, per-dataset AUC

    def best(self) -> Metrics:
        """The calibrated metrics when there are any (what a user sees), else the raw ones."""
        return self.calibrated or self.raw

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {**self.details, "raw": self.raw.to_dict()}
        out["calibrated"] = None if self.calibrated is None else self.calibrated.to_dict()
        if self.model:
            out["model"] = self.model
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> HeldOut | None:
        if not data or not data.get("raw"):
            return None
        details = {k: v for k, v in data.items() if k not in ("raw", "calibrated", "model")}
        calibrated = Metrics.from_dict(data["calibrated"]) if data.get("calibrated") else None
        return cls(Metrics.from_dict(data["raw"]), calibrated, str(data.get("model", "")), details)


@dataclass(frozen=True)
class TrainingReport:
    """How a model was trained and what was measured; unknown keys from other versions are kept."""

    train_clips: int = 0
    val_clips: int = 0
    trained_on_splits: tuple[str, ...] = ()
    training_minutes: float | None = None
    recipe: dict[str, Any] = field(default_factory=dict)
    history: dict[str, list[float]] = field(default_factory=dict)
    member_histories: list[dict[str, list[float]]] = field(default_factory=list)
    val: HeldOut | None = None
    cross_validation: HeldOut | None = None
    calibration_fit: dict[str, Any] | None = None  # clips, split and metrics of the last Platt fit
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        return self == TrainingReport()

    def with_calibration_fit(self, split: str, metrics: Metrics) -> TrainingReport:
        """After `evaluate --fit-calibration`: record the fit, and on val it becomes val's calibrated row."""
        fit = {"clips": metrics.clips, "split": split, "metrics": metrics.to_dict()}
        val = replace(self.val, calibrated=metrics) if split == "val" and self.val is not None else self.val
        return replace(self, calibration_fit=fit, val=val)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            **self.extra,
            "train_clips": self.train_clips,
            "val_clips": self.val_clips,
            "trained_on_splits": list(self.trained_on_splits),
            "training_minutes": self.training_minutes,
            "recipe": self.recipe,
            "history": self.history,
            "member_histories": self.member_histories,
            "val": None if self.val is None else self.val.to_dict(),
            "cross_validation": None if self.cross_validation is None else self.cross_validation.to_dict(),
        }
        if self.calibration_fit is not None:
            out["calibration_fit"] = self.calibration_fit
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> TrainingReport:
        data = dict(data or {})
        known = {f.name for f in fields(cls)} - {"extra"}
        return cls(
            train_clips=int(data.get("train_clips") or 0),
            val_clips=int(data.get("val_clips") or 0),
            trained_on_splits=tuple(data.get("trained_on_splits") or ()),
            training_minutes=data.get("training_minutes"),
            recipe=dict(data.get("recipe") or {}),
            history=dict(data.get("history") or {}),
            member_histories=list(data.get("member_histories") or []),
            val=HeldOut.from_dict(data.get("val")),
            cross_validation=HeldOut.from_dict(data.get("cross_validation")),
            calibration_fit=data.get("calibration_fit"),
            extra={k: v for k, v in data.items() if k not in known},
        )
