"""Fit the verdict band on out-of-sample predictions and store it in a model's metadata.

    python -m tools.fit_verdict_band ../shared/data/manifest.csv \
        --predict-model models/detector_development.keras --split val \
        --write models/detector.json --write models/detector_development.json

The predicting model must not have seen the scored split (the development model was trained
without val), so its probabilities there stand for what the shipped model does on new footage.
The training range (face size, resolution, compression) comes from the other split's clips.
Rerun it whenever a new model ships: it rewrites only the `verdict_band` and `input_range` keys.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tqdm import tqdm

from pipeline.assessment import (
    DEFAULT_MIN_CLIPS,
    DEFAULT_TARGET_RATE,
    Assessment,
    ClipEvidence,
    InputRange,
    VerdictBand,
    assess,
    clip_evidence,
    fit_band,
    out_of_range_reasons,
    training_range,
)
from pipeline.settings import DEFAULT_CACHE_DIR, Settings


@dataclass(frozen=True)
class LabelledEvidence:
    file: str
    label: int
    evidence: ClipEvidence


def fit(
    scored: list[LabelledEvidence],
    training: list[ClipEvidence],
    *,
    target_rate: float = DEFAULT_TARGET_RATE,
    min_clips: int = DEFAULT_MIN_CLIPS,
    min_face_frames: int,
) -> tuple[VerdictBand, InputRange, dict[str, int]]:
    """The band fitted on the in-range scored clips, the training range, and how many scored
    clips land in each verdict once the range checks apply too."""
    input_range = training_range(training)
    fitted_on = [
        item
        for item in scored
        if item.evidence.probability is not None
        and not out_of_range_reasons(item.evidence, input_range, min_face_frames)
    ]
    band = fit_band(
        [item.label for item in fitted_on],
        [float(item.evidence.probability or 0.0) for item in fitted_on],
        target_rate=target_rate,
        min_clips=min_clips,
    )
    counts = {str(a): 0 for a in Assessment}
    for item in scored:
        counts[str(assess(item.evidence, band, input_range, min_face_frames)[0])] += 1
    return band, input_range, counts


def write_band(meta_path: Path, band: VerdictBand, input_range: InputRange) -> None:
    """Replace the band and range in a model's metadata file, keeping every other key."""
    meta: dict[str, Any] = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    meta["verdict_band"] = band.to_json_dict()
    meta["input_range"] = input_range.to_json_dict()
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")


def _evidence(clips: list, settings: Settings, detector, cache_dir: Path, scorer=None) -> list[LabelledEvidence]:
    from pipeline.training.cache import cached_extract_faces

    items = []
    for clip in tqdm(clips, desc="clips", unit="clip", file=sys.stderr):
        try:
            sha256, faces = cached_extract_faces(clip.path, settings, detector, cache_dir)
        except Exception as error:  # an unreadable clip counts as an error, never as a verdict
            print(f"skipped {clip.path.name}: {error}", file=sys.stderr)
            continue
        probability = None
        if scorer is not None:
            probability = scorer.judge(clip.path, sha256, faces).probability_fake
        info = faces.info
        items.append(
            LabelledEvidence(
                clip.path.name,
                clip.label,
                clip_evidence(
                    probability,
                    [max(b.w, b.h) for b in faces.boxes if b is not None],
                    size_bytes=info.size_bytes,
                    duration_s=info.duration_s,
                    width=info.width,
                    height=info.height,
                    fps=info.fps,
                ),
            )
        )
    return items


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.fit_verdict_band", description=__doc__.splitlines()[0])
    parser.add_argument("manifest", type=Path)
    parser.add_argument("--predict-model", type=Path, default=Path("models/detector_development.keras"))
    parser.add_argument("--split", default="val", help="the split the predicting model never saw")
    parser.add_argument("--write", type=Path, action="append", required=True, help="model metadata to update")
    parser.add_argument("--target-rate", type=float, default=DEFAULT_TARGET_RATE)
    parser.add_argument("--min-clips", type=int, default=DEFAULT_MIN_CLIPS)
    parser.add_argument("--min-face-frames", type=int, help="default: the scoring setting")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE_DIR)
    parser.add_argument("--json-out", type=Path, help="also write the per-clip evidence and counts here")
    args = parser.parse_args(argv)

    from pipeline.scoring.scorer import Scorer
    from pipeline.training.datasets import load_clips

    clips = load_clips(args.manifest)
    scorer = Scorer.load(Settings(model_path=args.predict_model))
    settings = scorer.settings
    scored = _evidence([c for c in clips if c.split == args.split], settings, scorer.detector, args.cache_dir, scorer)
    training = _evidence([c for c in clips if c.split != args.split], settings, scorer.detector, args.cache_dir)
    band, input_range, counts = fit(
        scored,
        [item.evidence for item in training],
        target_rate=args.target_rate,
        min_clips=args.min_clips,
        min_face_frames=args.min_face_frames if args.min_face_frames is not None else settings.min_face_frames,
    )
    info = scorer.model.info
    band = replace(
        band,
        measured={
            **band.measured,
            "assessed_clips": counts,
            "split": args.split,
            "predicted_by": f"{info.name} {info.version}",
            "predicted_by_sha256": info.sha256,
            "fitted": datetime.now(UTC).isoformat(timespec="seconds"),
        },
    )
    for path in args.write:
        write_band(path, band, input_range)
    summary = {"verdict_band": band.to_json_dict(), "input_range": input_range.to_json_dict()}
    print(json.dumps(summary, indent=2))
    if args.json_out:
        rows = [{"file": s.file, "label": s.label, **s.evidence.__dict__} for s in scored]
        args.json_out.write_text(json.dumps({**summary, "clips": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
