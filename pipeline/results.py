"""The typed result of scoring one clip; it travels unchanged to the CLI, charts and reports."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

from pipeline.faces.types import Box
from pipeline.model.config import ModelInfo
from pipeline.settings import Settings
from pipeline.signals.contract import SignalResult
from pipeline.video import VideoInfo

# The stored record's format (dashboard result store); bump when `to_record` changes shape.
# 2: adds "signals".
RECORD_FORMAT = 2


class Verdict(StrEnum):
    FAKE = "fake"
    REAL = "real"
    NO_FACE = "no_face"  # abstain: nothing to judge
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class FrameRecord:
    """One sampled frame. Without a face, box/crop/scores are None and attention is 0."""

    index: int
    time_s: float
    face_box: Box | None
    crop: np.ndarray | None  # uint8 RGB, crop_size x crop_size
    p_fake: float | None
    certainty: float | None
    attention: float

    @property
    def has_face(self) -> bool:
        return self.face_box is not None

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "time_s": round(self.time_s, 4),
            "face_box": self.face_box.as_list() if self.face_box else None,
            "p_fake": _rounded(self.p_fake),
            "certainty": _rounded(self.certainty),
            "attention": round(self.attention, 6),
        }


@dataclass(frozen=True, slots=True)
class StageTimings:
    decode: float = 0.0
    detect: float = 0.0
    model: float = 0.0
    total: float = 0.0

    def to_json_dict(self) -> dict[str, float]:
        return {k: round(getattr(self, k), 4) for k in ("decode", "detect", "model", "total")}


@dataclass(frozen=True)
class VideoResult:
    """Everything known about one scored clip."""

    file: str
    sha256: str
    video: VideoInfo
    frames: tuple[FrameRecord, ...]
    probability_fake: float | None
    verdict: Verdict
    threshold: float
    timings: StageTimings
    model: ModelInfo
    settings: Settings = field(default_factory=Settings)
    raw_probability_fake: float | None = None  # before calibration
    # Every signal's own verdict, the ones that abstained included (with their reason).
    signals: tuple[SignalResult, ...] = ()

    @property
    def face_frames(self) -> int:
        return sum(frame.has_face for frame in self.frames)

    def to_json_dict(self) -> dict[str, Any]:
        """The CLI's JSON line schema (and the downloadable report's core)."""
        return {
            "file": self.file,
            "sha256": self.sha256,
            "verdict": str(self.verdict),
            "probability_fake": _rounded(self.probability_fake),
            "threshold": self.threshold,
            "frames": [frame.to_json_dict() for frame in self.frames],
            "timings_s": self.timings.to_json_dict(),
            "model": model_summary(self.model),
            "error": None,
            "video": {
                "width": self.video.width,
                "height": self.video.height,
                "fps": round(self.video.fps, 3),
                "frame_count": self.video.frame_count,
                "duration_s": round(self.video.duration_s, 3),
                "codec": self.video.codec,
                "size_bytes": self.video.size_bytes,
            },
            "signals": [signal.to_json_dict() for signal in self.signals],
        }


    def to_record(self) -> dict[str, Any]:
        """Every field except the crop pixels, at full precision: the one round trip to JSON
        (`from_record` reverses it). The CLI's `to_json_dict` is the rounded public view."""
        return {
            "format": RECORD_FORMAT,
            "file": self.file,
            "sha256": self.sha256,
            "video": asdict(self.video),
            "frames": [
                {
                    "index": int(frame.index),
                    "time_s": float(frame.time_s),
                    "face_box": _box_list(frame.face_box),
                    "p_fake": _plain(frame.p_fake),
                    "certainty": _plain(frame.certainty),
                    "attention": float(frame.attention),
                }
                for frame in self.frames
            ],
            "probability_fake": _plain(self.probability_fake),
            "verdict": str(self.verdict),
            "threshold": float(self.threshold),
            "timings": asdict(self.timings),
            "model": self.model.to_json_dict(),
            "settings": self.settings.to_dict(),
            "raw_probability_fake": _plain(self.raw_probability_fake),
            "signals": [signal.to_record() for signal in self.signals],
        }

    @classmethod
    def from_record(cls, record: dict[str, Any], crops: np.ndarray) -> VideoResult:
        """Rebuild the typed result; `crops` holds one crop per frame with a face, in frame order."""
        if record.get("format") != RECORD_FORMAT:
            raise ValueError(f"unknown result format {record.get('format')!r}")
        crop_iter = iter(crops)
        frames = []
        for item in record["frames"]:
            box = None if item["face_box"] is None else Box(*item["face_box"])
            frames.append(
                FrameRecord(
                    index=int(item["index"]),
                    time_s=float(item["time_s"]),
                    face_box=box,
                    crop=next(crop_iter) if box is not None else None,
                    p_fake=item["p_fake"],
                    certainty=item["certainty"],
                    attention=float(item["attention"]),
                )
            )
        return cls(
            file=record["file"],
            sha256=record["sha256"],
            video=VideoInfo(**record["video"]),
            frames=tuple(frames),
            probability_fake=record["probability_fake"],
            verdict=Verdict(record["verdict"]),
            threshold=float(record["threshold"]),
            timings=StageTimings(**record["timings"]),
            model=ModelInfo.from_json_dict(record["model"]),
            settings=Settings.from_dict(record["settings"]),
            raw_probability_fake=record["raw_probability_fake"],
            signals=tuple(SignalResult.from_record(item) for item in record["signals"]),
        )


def _plain(value: float | None) -> float | None:
    """Plain floats for JSON: detectors and models hand out numpy scalars."""
    return None if value is None else float(value)


def _box_list(box: Box | None) -> list[float] | None:
    return None if box is None else [float(v) for v in (box.x, box.y, box.w, box.h, box.score)]


def model_summary(info: ModelInfo) -> dict[str, Any]:
    return {"name": info.name, "version": info.version, "sha256": info.sha256, "trained": info.trained}


def error_json(file: str, message: str, sha256: str | None = None) -> dict[str, Any]:
    """The JSON line for a clip that could not be scored: same keys, no made-up score."""
    return {
        "file": file,
        "sha256": sha256,
        "verdict": str(Verdict.ERROR),
        "probability_fake": None,
        "threshold": None,
        "frames": [],
        "timings_s": None,
        "model": None,
        "error": message,
        "signals": [],
    }


def _rounded(value: float | None, digits: int = 6) -> float | None:
    return None if value is None else round(float(value), digits)
