"""`python -m pipeline evaluate MANIFEST`: video-level metrics, overall and per method/dataset.

Clips are scored through the same face extraction as `score` (via the crop cache),
so evaluation measures what users get. Clips without a face are counted as
abstentions and left out of the metrics, never given a made-up score.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from pipeline.cache import cached_extract_faces
from pipeline.datasets import Clip, load_clips
from pipeline.errors import DataError, PipelineError
from pipeline.metrics import Metrics, compute_metrics
from pipeline.settings import DEFAULT_CACHE_DIR, Settings


@dataclass(frozen=True)
class ScoredClip:
    clip: Clip
    probability: float | None  # None: no face (abstained)
    error: str | None = None


def add_evaluate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("manifest", type=Path, help="manifest CSV (or a FF++/DFDC folder)")
    parser.add_argument("--model", type=Path, help="model file (default: the shipped model)")
    parser.add_argument("--split", default="val", help="which split to evaluate: val, train or all (default val)")
    parser.add_argument("--frames", type=int, help="frames to sample per clip")
    parser.add_argument("--detector", help="face detector")
    parser.add_argument("--threshold", type=float, help="decision threshold (default: the model's)")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE_DIR, help="face-crop cache")
    parser.add_argument("--json-out", type=Path, help="also write the metrics as JSON here")


def score_clips(clips: list[Clip], scorer, cache_dir: Path) -> list[ScoredClip]:
    scored = []
    for clip in tqdm(clips, desc="scoring", unit="clip", file=sys.stderr):
        try:
            sha256, faces = cached_extract_faces(clip.path, scorer.settings, scorer.detector, cache_dir)
            result = scorer.judge(clip.path, sha256, faces)
            scored.append(ScoredClip(clip, result.probability_fake))
        except PipelineError as error:
            scored.append(ScoredClip(clip, None, str(error)))
    return scored


def metric_rows(scored: list[ScoredClip], threshold: float) -> list[tuple[str, Metrics]]:
    """Overall, then one row per method (its fakes against all reals), then per dataset."""
    judged = [s for s in scored if s.probability is not None]
    if not judged:
        raise DataError("no clip could be scored")

    def metrics(items: list[ScoredClip]) -> Metrics:
        return compute_metrics(
            np.array([s.clip.label for s in items]), np.array([s.probability for s in items]), threshold
        )

    rows = [("all", metrics(judged))]
    reals = [s for s in judged if s.clip.label == 0]
    for method in sorted({s.clip.method for s in judged if s.clip.label == 1}):
        rows.append((f"method: {method}", metrics(reals + [s for s in judged if s.clip.method == method])))
    for dataset in sorted({s.clip.dataset for s in judged if s.clip.dataset}):
        rows.append((f"dataset: {dataset}", metrics([s for s in judged if s.clip.dataset == dataset])))
    return rows


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


def run_evaluate(args: argparse.Namespace) -> int:
    from pipeline.scoring import Scorer

    clips = load_clips(args.manifest)
    if args.split != "all":
        clips = [c for c in clips if c.split == args.split]
    if not clips:
        raise DataError(f"{args.manifest}: no clips in split {args.split!r}")
    settings = Settings().with_overrides(
        frames=args.frames, detector=args.detector, model_path=args.model, threshold=args.threshold
    )
    scorer = Scorer.load(settings)
    if not scorer.model.info.trained:
        print("warning: evaluating an UNTRAINED model", file=sys.stderr)
    scored = score_clips(clips, scorer, args.cache_dir)
    rows = metric_rows(scored, scorer.threshold)
    abstained = [s for s in scored if s.probability is None and s.error is None]
    failed = [s for s in scored if s.error]
    print(f"model: {scorer.model.info.name} {scorer.model.info.version}; threshold {scorer.threshold:.3f}")
    print(format_table(rows))
    print(f"no_face (abstained): {len(abstained)}; errors: {len(failed)}")
    for s in failed:
        print(f"error: {s.error}", file=sys.stderr)
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(
            json.dumps(
                {
                    "model": scorer.model.info.name,
                    "version": scorer.model.info.version,
                    "threshold": scorer.threshold,
                    "rows": {name: m.to_dict() for name, m in rows},
                    "no_face": [str(s.clip.path) for s in abstained],
                    "errors": [s.error for s in failed],
                },
                indent=2,
            )
        )
    return 0
