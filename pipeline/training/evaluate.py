"""`python -m pipeline evaluate MANIFEST`: video-level metrics, overall and per method/dataset.

Clips are scored through the same face extraction as `score` (via the crop cache),
so evaluation measures what users get. Clips without a face are counted as
abstentions and left out of the metrics, never given a made-up score.

Optional extras, all on the same clips in the same run:
- `--robustness`: the clips re-encoded at a low bitrate, downscaled to 360p,
  normalised around the face (one square size, one quality), so format tells nothing,
  and shrunk into a wide shot (the face a tenth of a 720p frame's height);
- `--ablation`: other aggregation rules over the same per-frame probabilities, the
  peer MesoNet with its published weights, other model files (`--compare-model`),
  and a classifier that sees only the file format (resolution, fps, bitrate, length);
- `--reliability-png`: the reliability diagram of the calibrated probabilities.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from tqdm import tqdm

from pipeline.errors import DataError, PipelineError
from pipeline.model.config import ModelInfo
from pipeline.results import Verdict, VideoResult
from pipeline.scoring.aggregation import aggregate
from pipeline.scoring.calibration import calibrate, cross_fitted_calibration, fit_platt
from pipeline.settings import DEFAULT_CACHE_DIR, Settings
from pipeline.training.cache import cached_extract_faces
from pipeline.training.datasets import Clip, load_clips
from pipeline.training.metrics import ECE_BINS, Metrics, compute_metrics
from pipeline.training.transcode import FACE_VARIANTS, ROBUSTNESS_VARIANTS, median_box, reencode

if TYPE_CHECKING:
    from pipeline.scoring.scorer import Scorer


@dataclass(frozen=True)
class ScoredClip:
    clip: Clip
    result: VideoResult | None  # None: the clip could not be read (see error)
    error: str | None = None

    @property
    def probability(self) -> float | None:
        return None if self.result is None else self.result.probability_fake


def add_evaluate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("manifest", type=Path, help="manifest CSV (or a FF++/DFDC folder)")
    parser.add_argument("--model", type=Path, help="model file (default: the shipped model)")
    parser.add_argument("--split", default="val", help="which split to evaluate: val, train or all (default val)")
    parser.add_argument("--frames", type=int, help="frames to sample per clip")
    parser.add_argument("--detector", help="face detector")
    parser.add_argument("--threshold", type=float, help="decision threshold (default: the model's)")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE_DIR, help="face-crop cache")
    parser.add_argument("--robustness", action="store_true", help="add re-encoded, 360p, normalised, wide-shot rows")
    parser.add_argument("--ablation", action="store_true", help="add aggregation, peer and format-only rows")
    parser.add_argument("--compare-model", type=Path, action="append", default=[], help="another model to add")
    parser.add_argument("--reliability-png", type=Path, help="save the reliability diagram here")
    parser.add_argument("--json-out", type=Path, help="also write the metrics as JSON here")
    parser.add_argument(
        "--fit-calibration",
        action="store_true",
        help="fit Platt scaling on these clips' raw probabilities and store it in the model's metadata",
    )


@dataclass(frozen=True)
class ClipScore:
    """One evaluated clip in the summary."""

    file: str
    label: int
    method: str
    dataset: str
    probability_fake: float | None
    raw_probability_fake: float | None


@dataclass(frozen=True)
class EvaluationSummary:
    """What `evaluate --json-out` writes: every metric row and every clip's probability."""

    model: str
    version: str
    threshold: float
    in_sample: bool
    rows: dict[str, Metrics]
    extra_rows: dict[str, Metrics]
    no_face: list[str]
    clips: list[ClipScore]
    errors: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "rows": {name: m.to_dict() for name, m in self.rows.items()},
            "extra_rows": {name: m.to_dict() for name, m in self.extra_rows.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvaluationSummary:
        return cls(
            model=data["model"],
            version=data["version"],
            threshold=float(data["threshold"]),
            in_sample=bool(data["in_sample"]),
            rows={name: Metrics.from_dict(m) for name, m in data["rows"].items()},
            extra_rows={name: Metrics.from_dict(m) for name, m in data["extra_rows"].items()},
            no_face=list(data["no_face"]),
            clips=[ClipScore(**clip) for clip in data["clips"]],
            errors=list(data["errors"]),
        )


def _raw_probability(scored: ScoredClip) -> float:
    """The uncalibrated probability of a clip that was scored with a face."""
    assert scored.result is not None and scored.result.raw_probability_fake is not None
    return float(scored.result.raw_probability_fake)


def score_clips(clips: list[Clip], scorer: Scorer, cache_dir: Path, label: str = "scoring") -> list[ScoredClip]:
    scored = []
    for clip in tqdm(clips, desc=label, unit="clip", file=sys.stderr):
        try:
            sha256, faces = cached_extract_faces(clip.path, scorer.settings, scorer.detector, cache_dir)
            scored.append(ScoredClip(clip, scorer.judge(clip.path, sha256, faces)))
        except PipelineError as error:
            scored.append(ScoredClip(clip, None, str(error)))
    return scored


def _metrics_of(items: list[tuple[Clip, float]], threshold: float) -> Metrics:
    return compute_metrics(np.array([c.label for c, _ in items]), np.array([p for _, p in items]), threshold)


def metric_rows(
    scored: list[ScoredClip], threshold: float, prefix: str = "", breakdown: bool = True
) -> list[tuple[str, Metrics]]:
    """Overall, then one row per method (its fakes against all reals), then per dataset."""
    judged = [(s.clip, s.probability) for s in scored if s.probability is not None]
    if not judged:
        raise DataError("no clip could be scored")
    rows = [(prefix or "all", _metrics_of(judged, threshold))]
    if not breakdown:
        return rows
    reals = [(c, p) for c, p in judged if c.label == 0]
    for method in sorted({c.method for c, _ in judged if c.label == 1}):
        rows.append(
            (f"method: {method}", _metrics_of(reals + [(c, p) for c, p in judged if c.method == method], threshold))
        )
    for dataset in sorted({c.dataset for c, _ in judged if c.dataset}):
        rows.append(
            (f"dataset: {dataset}", _metrics_of([(c, p) for c, p in judged if c.dataset == dataset], threshold))
        )
    return rows


def aggregation_rows(scored: list[ScoredClip], threshold: float) -> list[tuple[str, Metrics]]:
    """The same per-frame probabilities, pooled by other rules (the ablation's b and c)."""
    rules: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
        "(b) mean of frame probabilities": lambda p, m: aggregate("mean", p, m).probability,
        "(c) confident strategy": lambda p, m: aggregate("confident", p, m).probability,
        "certainty-weighted mean (no LSTM)": lambda p, m: aggregate("certainty_attention", p, m).probability,
        "max of frame probabilities": lambda p, m: aggregate("max", p, m).probability,
    }
    rows = []
    for name, rule in rules.items():
        items = []
        for s in scored:
            if s.result is None or s.result.probability_fake is None:
                continue
            p = np.array([f.p_fake if f.p_fake is not None else 0.0 for f in s.result.frames])
            mask = np.array([f.has_face for f in s.result.frames], dtype=float)
            items.append((s.clip, rule(p, mask)))
        rows.append((name, _metrics_of(items, threshold)))
    return rows


def cross_fitted_calibration_rows(scored: list[ScoredClip], threshold: float) -> list[tuple[str, Metrics]]:
    """Calibration measured honestly (`cross_fitted_calibration`): the shipped calibration is fitted
    on all of val, so val's ECE with it is optimistic."""
    usable = [s for s in scored if s.result is not None and s.result.raw_probability_fake is not None]
    labels = np.array([s.clip.label for s in usable], dtype=float)
    if len(np.unique(labels)) < 2:
        return []
    calibrated = cross_fitted_calibration(
        labels,
        np.array([_raw_probability(s) for s in usable]),
        np.array([s.clip.group for s in usable]),
    )
    items = [(s.clip, p) for s, p in zip(usable, calibrated, strict=True)]
    return [
        ("(a) cross-fitted calibration: Platt fitted on the other half of the groups", _metrics_of(items, threshold))
    ]


def mesonet_rows(scored: list[ScoredClip], scorer: Scorer, cache_dir: Path) -> list[tuple[str, Metrics]]:
    """The peer: MesoNet's published weights on the same face crops, mean over frames."""
    from pipeline.training.peers.mesonet import MESONET_DIR, load_meso4, meso4_fake_probabilities

    weight_files = [MESONET_DIR / name for name in ("Meso4_DF.h5", "Meso4_F2F.h5") if (MESONET_DIR / name).exists()]
    if not weight_files:
        return []
    crops = {
        s.clip.path: cached_extract_faces(s.clip.path, scorer.settings, scorer.detector, cache_dir)[1].crops
        for s in scored
        if s.probability is not None
    }  # read once, shared by every weight file
    rows = []
    for weights in weight_files:
        model = load_meso4(weights)
        items = [
            (s.clip, float(meso4_fake_probabilities(model, crops[s.clip.path]).mean()))
            for s in scored
            if s.clip.path in crops
        ]
        rows.append((f"peer: MesoNet {weights.name}", _metrics_of(items, 0.5)))
    return rows


def format_only_rows(manifest: Path, evaluated: list[ScoredClip]) -> list[tuple[str, Metrics]]:
    """A classifier that sees only the container: resolution, fps, bitrate, length, codec.

    Trained on the manifest's train split, scored on the evaluated clips: what a model
    could get by reading the format instead of the face.
    """
    from sklearn.ensemble import GradientBoostingClassifier

    from pipeline.video import probe_video

    def features(clip: Clip) -> list[float]:
        info = probe_video(clip.path)
        duration = max(info.duration_s, 1e-3)
        return [
            info.width,
            info.height,
            info.width / max(info.height, 1),
            info.fps,
            duration,
            info.size_bytes * 8 / duration / 1000,
            info.size_bytes * 8 / max(info.width * info.height * info.frame_count, 1),
            float(info.codec == "h264"),
        ]

    train = [c for c in load_clips(manifest) if c.split == "train" and c.path.exists()]
    model = GradientBoostingClassifier(random_state=0).fit(
        np.array([features(c) for c in train]), np.array([c.label for c in train])
    )
    items = [
        (s.clip, float(model.predict_proba(np.array([features(s.clip)]))[0, 1]))
        for s in evaluated
        if s.probability is not None
    ]
    return [("format-only classifier", _metrics_of(items, 0.5))]


def robustness_rows(scored: list[ScoredClip], scorer: Scorer, cache_dir: Path) -> list[tuple[str, Metrics]]:
    """Score re-encoded copies of the clips (made once, kept in the cache folder)."""
    rows = []
    usable = [s for s in scored if s.result is not None and s.result.probability_fake is not None]
    for variant in [*ROBUSTNESS_VARIANTS, *FACE_VARIANTS]:
        copies = []
        for s in tqdm(usable, desc=f"re-encoding: {variant}", unit="clip", file=sys.stderr):
            target = cache_dir / "robustness" / variant / f"{s.result.sha256[:32]}.mp4"
            if not target.exists():
                if variant in ROBUSTNESS_VARIANTS:
                    reencode(s.clip.path, target, ROBUSTNESS_VARIANTS[variant])
                else:
                    box = median_box(f.face_box for f in s.result.frames)
                    assert box is not None  # usable clips have faces
                    FACE_VARIANTS[variant](s.clip.path, target, box)
            copies.append(Clip(target, s.clip.label, s.clip.split, s.clip.group, s.clip.method, s.clip.dataset))
        rescored = score_clips(copies, scorer, cache_dir, label=f"scoring: {variant}")
        abstained = sum(r.probability is None for r in rescored)
        if abstained:  # the row's clip count shows it too, but a row needs at least one scored copy
            print(f"robustness: {variant}: {abstained} of {len(rescored)} copies abstained (no face)", file=sys.stderr)
        if abstained < len(rescored):
            rows += metric_rows(rescored, scorer.threshold, prefix=f"robustness: {variant}", breakdown=False)
    return rows


def save_reliability_diagram(scored: list[ScoredClip], path: Path, title: str) -> None:
    """Observed fake rate against mean predicted probability per bin, with clip counts."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    judged = [(s.clip.label, s.probability) for s in scored if s.probability is not None]
    labels, probs = np.array([x for x, _ in judged]), np.array([p for _, p in judged])
    edges = np.linspace(0, 1, ECE_BINS + 1)
    which = np.clip(np.digitize(probs, edges[1:-1]), 0, ECE_BINS - 1)
    centres, observed, counts = [], [], []
    for b in range(ECE_BINS):
        chosen = which == b
        if chosen.any():
            centres.append(probs[chosen].mean())
            observed.append(labels[chosen].mean())
            counts.append(int(chosen.sum()))
    figure, axis = plt.subplots(figsize=(5, 5), dpi=120)
    axis.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
    axis.plot(centres, observed, marker="o", color="#1f5fa8", label="model")
    for x, y, n in zip(centres, observed, counts, strict=True):
        axis.annotate(str(n), (x, y), textcoords="offset points", xytext=(4, -10), fontsize=7)
    axis.set_xlabel("predicted probability of fake (calibrated)")
    axis.set_ylabel("observed fraction of fakes")
    axis.set_title(title, fontsize=9)
    axis.set_xlim(0, 1)
    axis.set_ylim(0, 1)
    axis.legend(loc="upper left", fontsize=8)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def format_table(rows: list[tuple[str, Metrics]]) -> str:
    lines = [
        "| rows | clips | fakes | reals | AUC | AUC 95% CI | accuracy | log loss | Brier | ECE |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, m in rows:
        auc = f"{m.auc:.3f}" if m.auc is not None else "n/a"
        ci = f"{m.auc_ci95[0]:.3f}-{m.auc_ci95[1]:.3f}" if m.auc_ci95 else "n/a"
        lines.append(
            f"| {name} | {m.clips} | {m.fakes} | {m.reals} | {auc} | {ci} | {m.accuracy:.3f} | "
            f"{m.log_loss:.3f} | {m.brier:.3f} | {m.ece:.3f} |"
        )
    return "\n".join(lines)


def refit_calibration(scored: list[ScoredClip], scorer: Scorer, split: str) -> list[ScoredClip]:
    """Fit Platt scaling on the clips' raw probabilities, store it with the model, re-calibrate the results."""
    from dataclasses import replace

    from pipeline.model.config import metadata_path

    usable = [s for s in scored if s.result is not None and s.result.raw_probability_fake is not None]
    labels = np.array([s.clip.label for s in usable], dtype=float)
    if len(np.unique(labels)) < 2:
        raise DataError("--fit-calibration needs both real and fake clips")
    temperature, bias = fit_platt(labels, np.array([_raw_probability(s) for s in usable]))
    model_file = scorer.settings.model_path
    meta_file = metadata_path(model_file)
    if not meta_file.exists():
        raise DataError(f"{meta_file}: no metadata to store the calibration in")
    calibrated = np.array([calibrate(_raw_probability(s), temperature, bias) for s in usable])
    calibrated_by_clip = {id(s): p for s, p in zip(usable, calibrated, strict=True)}
    stored = ModelInfo.from_json_dict(json.loads(meta_file.read_text()))
    stored = replace(
        stored,
        calibration_temperature=temperature,
        calibration_bias=bias,
        metrics=stored.metrics.with_calibration_fit(split, compute_metrics(labels, calibrated)),
    )
    meta_file.write_text(json.dumps(stored.to_json_dict(), indent=2) + "\n")
    scorer.model.info = replace(
        scorer.model.info, calibration_temperature=temperature, calibration_bias=bias, metrics=stored.metrics
    )
    print(f"calibration stored in {meta_file}: temperature {temperature:.3f}, bias {bias:+.3f}", file=sys.stderr)

    def recalibrated(s: ScoredClip) -> ScoredClip:
        if id(s) not in calibrated_by_clip:
            return s
        assert s.result is not None  # only usable clips are recalibrated
        p = float(calibrated_by_clip[id(s)])
        verdict = Verdict.FAKE if p >= scorer.threshold else Verdict.REAL
        return replace(s, result=replace(s.result, probability_fake=p, verdict=verdict, model=scorer.model.info))

    return [recalibrated(s) for s in scored]


def trained_on(info: ModelInfo, split: str) -> bool:
    """Whether the model saw this split's clips in training (a --refit-all model saw val too)."""
    splits = list(info.metrics.trained_on_splits) or (["train"] if info.trained else [])
    return (split == "all" and bool(splits)) or split in splits


def run_evaluate(args: argparse.Namespace) -> int:
    from pipeline.scoring.scorer import Scorer

    clips = load_clips(args.manifest)
    if args.split != "all":
        clips = [c for c in clips if c.split == args.split]
    if not clips:
        raise DataError(f"{args.manifest}: no clips in split {args.split!r}")
    settings = Settings().with_overrides(
        frames=args.frames, detector=args.detector, model_path=args.model, threshold=args.threshold
    )
    scorer = Scorer.load(settings)
    info = scorer.model.info
    if not info.trained:
        print("warning: evaluating an UNTRAINED model", file=sys.stderr)
    in_sample = trained_on(info, args.split)
    if in_sample:
        if args.fit_calibration:
            raise DataError(
                f"{info.name} {info.version} was trained on the {args.split} split: calibrating on it would be "
                "in-sample (a --refit-all model is calibrated on out-of-fold predictions already)"
            )
        print(
            f"warning: IN-SAMPLE: {info.name} {info.version} was trained on the {args.split} split, so these "
            "numbers overstate its skill; evaluate its train-only development model instead",
            file=sys.stderr,
        )
    scored = score_clips(clips, scorer, args.cache_dir)
    if args.fit_calibration:
        scored = refit_calibration(scored, scorer, args.split)
        info = scorer.model.info
    rows = metric_rows(scored, scorer.threshold)
    extra: list[tuple[str, Metrics]] = []
    if args.ablation:
        extra += [(f"(a) {info.name} {info.version} (certainty attention + LSTM)", rows[0][1])]
        extra += cross_fitted_calibration_rows(scored, scorer.threshold)
        extra += aggregation_rows(scored, scorer.threshold)
        for other in args.compare_model:
            other_scorer = Scorer.load(settings.with_overrides(model_path=other))
            other_rows = metric_rows(score_clips(clips, other_scorer, args.cache_dir), other_scorer.threshold)
            extra.append((f"{other_scorer.model.info.name} {other_scorer.model.info.version}", other_rows[0][1]))
        extra += mesonet_rows(scored, scorer, args.cache_dir)
        if args.manifest.suffix == ".csv" or (args.manifest / "manifest.csv").exists():
            manifest = args.manifest if args.manifest.suffix == ".csv" else args.manifest / "manifest.csv"
            extra += format_only_rows(manifest, scored)
    if args.robustness:
        extra += robustness_rows(scored, scorer, args.cache_dir)
    if args.reliability_png:
        save_reliability_diagram(
            scored, args.reliability_png, f"{info.name} {info.version}: {args.split} split, {len(clips)} clips"
        )
    abstained = [s for s in scored if s.result is not None and s.probability is None]
    failed = [s for s in scored if s.error]
    print(f"model: {info.name} {info.version}; threshold {scorer.threshold:.3f}" + ("; IN-SAMPLE" if in_sample else ""))
    print(format_table(rows))
    if extra:
        print()
        print(format_table(extra))
    print(f"no_face (abstained): {len(abstained)}; errors: {len(failed)}")
    for s in failed:
        print(f"error: {s.error}", file=sys.stderr)
    if args.json_out:
        summary = EvaluationSummary(
            model=info.name,
            version=info.version,
            threshold=scorer.threshold,
            in_sample=in_sample,
            rows=dict(rows),
            extra_rows=dict(extra),
            no_face=[str(s.clip.path) for s in abstained],
            clips=[
                ClipScore(
                    file=s.clip.path.name,
                    label=s.clip.label,
                    method=s.clip.method,
                    dataset=s.clip.dataset,
                    probability_fake=s.probability,
                    raw_probability_fake=None if s.result is None else s.result.raw_probability_fake,
                )
                for s in scored
            ],
            errors=[s.error for s in failed if s.error],
        )
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(summary.to_dict(), indent=2))
    return 0
