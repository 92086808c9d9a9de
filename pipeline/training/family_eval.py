"""`python -m pipeline.training.family_eval DATA`: the leave-families-out measurement (issue 13).

Every clip is scored by models that never saw its generator family, its person or its source
(`pipeline.training.families`). Rows:
- format baselines: a small classifier on container facts alone (duration, resolution and fps,
  bitrate, audio presence), trained the same way; a detector should beat these by far;
- `texture statistics`: ridge regression on the clip's mean, spread over time and frame-to-frame
  change of the frozen ImageNet mid-level MobileNetV2 features (block 14) of its 32 face crops;
- with `--heads`: 1.2.0's head recipe (certainty attention + LSTM, 50 epochs, Adam 1e-4) retrained
  per fold on the same frozen features. 1.2.0's fine-tuned CNN saw every clip, so it cannot be
  measured inside folds; the ImageNet CNN stands in for it.
Each row has a 95% group-bootstrap interval; `--heads` adds paired differences against the head.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pipeline.settings import DEFAULT_CACHE_DIR, Settings
from pipeline.training.families import (
    FORMAT_COLUMNS,
    AucWithCi,
    container_facts,
    family_folds,
    format_baseline_scores,
    group_bootstrap_auc,
    out_of_fold_scores,
    paired_auc_difference,
)

if TYPE_CHECKING:
    from pipeline.training.heads import FeatureBank

BACKBONE = "mobilenet_v2_mid"
# Ridge penalty on standardised clip statistics, the middle of the grid measured on 2026-12-03
# (docs/experiments.md); larger values lost AUC, smaller ones did not gain.
RIDGE_ALPHA = 1000.0


def clip_statistics(features: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """(clips, T, D) -> (clips, 3D): mean, standard deviation over time, and mean absolute change
    between consecutive sampled frames, over the frames with a face."""
    rows = []
    for clip, mask in zip(features, masks, strict=True):
        x = clip[mask > 0]
        change = np.abs(np.diff(x, axis=0)).mean(0) if len(x) > 1 else np.zeros(x.shape[1])
        rows.append(np.concatenate([x.mean(0), x.std(0), change]))
    return np.stack(rows)


def ridge_scores(
    statistics: np.ndarray, labels: np.ndarray, weights: np.ndarray, folds: np.ndarray, alpha: float = RIDGE_ALPHA
) -> np.ndarray:
    """Out-of-fold ridge scores; `statistics` is (copies, clips, D): copy 0 clean (scored), every
    copy trained on."""
    from sklearn.linear_model import RidgeClassifier
    from sklearn.preprocessing import StandardScaler

    copies = len(statistics)
    weights = weights / weights.mean()  # mean one, so `alpha` means the same whatever the clip count

    def fit_and_score(train: np.ndarray, test: np.ndarray) -> np.ndarray:
        x = np.concatenate([statistics[c, train] for c in range(copies)])
        scaler = StandardScaler().fit(x)
        model = RidgeClassifier(alpha=alpha).fit(
            scaler.transform(x), np.tile(labels[train], copies), sample_weight=np.tile(weights[train], copies)
        )
        return np.asarray(model.decision_function(scaler.transform(statistics[0, test])), dtype=float)

    return out_of_fold_scores(folds, fit_and_score)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("data", type=Path, help="manifest CSV with label, method and group columns")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--fold-seed", type=int, default=0)
    parser.add_argument("--augment-copies", type=int, default=1, help="augmented copies trained on, besides the clean")
    parser.add_argument("--heads", action="store_true", help="also retrain 1.2.0's head recipe per fold (slow)")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE_DIR)
    parser.add_argument("--json-out", type=Path, help="write every row and the per-clip scores here")


def run(args: argparse.Namespace) -> int:
    from pipeline.training.datasets import family_weights, load_clips
    from pipeline.training.heads import feature_bank, run_key
    from pipeline.training.train import extract_all, padded_crops

    started = time.perf_counter()
    clips = load_clips(args.data)
    folds = family_folds(clips, args.folds, args.fold_seed)
    labels = np.array([c.label for c in clips])
    groups = np.array([c.group for c in clips])
    facts = np.array([[container_facts(str(c.path))[k] for k in FORMAT_COLUMNS] for c in clips])
    scores: dict[str, np.ndarray] = {
        f"format: {name}": s for name, s in format_baseline_scores(facts, labels, folds).items()
    }

    settings = Settings()
    extracted = extract_all(clips, settings, args.cache_dir)
    if len(extracted) != len(clips):
        print(f"{len(clips) - len(extracted)} clips without faces are left out", file=sys.stderr)
    kept = np.array([clips.index(e[0]) for e in extracted])
    crops, masks = padded_crops([e[2] for e in extracted], settings.frames, settings.crop_size)
    from pipeline.model.backbones import build_backbone

    encoder = build_backbone(BACKBONE, settings.crop_size)
    key = run_key([e[1] for e in extracted], settings.extraction_key(), BACKBONE, args.augment_copies, 0)
    bank = feature_bank(
        encoder, crops, masks, labels[kept], [e[0] for e in extracted], copies=args.augment_copies, seed=0,
        cache_file=args.cache_dir / "features" / f"{key}.npz",
    )  # fmt: skip
    del crops
    weights = family_weights([clips[i] for i in kept])
    statistics = np.stack([clip_statistics(copy, masks) for copy in bank.features])
    texture = np.full(len(clips), np.nan)
    texture[kept] = ridge_scores(statistics, labels[kept], weights, folds[kept])
    scores["texture statistics (ridge, ImageNet block 14)"] = texture

    if args.heads:
        scores["1.2.0's head recipe (ImageNet block 14)"] = head_scores(bank, folds[kept], kept, len(clips))

    rows = {}
    for name, s in scores.items():
        ok = ~np.isnan(s)
        rows[name] = group_bootstrap_auc(labels[ok], s[ok], groups[ok])
    print(f"leave-families-out, {args.folds} folds (seed {args.fold_seed}), {len(clips)} clips:")
    print("| row | AUC (95% CI) |\n|---|---|")
    for name, auc in rows.items():
        print(f"| {name} | {auc} |")
    differences: dict[str, AucWithCi] = {}
    if args.heads:
        reference = scores["1.2.0's head recipe (ImageNet block 14)"]
        ok = ~np.isnan(reference) & ~np.isnan(texture)
        differences["texture statistics - 1.2.0's head recipe"] = paired_auc_difference(
            labels[ok], texture[ok], reference[ok], groups[ok]
        )
        for name, diff in differences.items():
            print(f"paired difference, {name}: {diff}")
    print(f"{time.perf_counter() - started:.0f} s", file=sys.stderr)
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(
            json.dumps(
                {
                    "folds": folds.tolist(),
                    "rows": {k: vars(v) for k, v in rows.items()},
                    "differences": {k: vars(v) for k, v in differences.items()},
                    "scores": {k: [None if np.isnan(x) else float(x) for x in v] for k, v in scores.items()},
                    "files": [str(c.path.name) for c in clips],
                },
                indent=1,
            )
        )
    return 0


def head_scores(bank: FeatureBank, folds: np.ndarray, kept: np.ndarray, count: int) -> np.ndarray:
    """1.2.0's head recipe (one member, the recipe's first seed) trained per fold on `bank`."""
    from pipeline.model.architecture import build_head
    from pipeline.model.config import ModelConfig
    from pipeline.training.heads import HeadRecipe, train_members, video_probabilities

    out = np.full(count, np.nan)
    for fold in np.unique(folds):
        train, test = np.flatnonzero(folds != fold), np.flatnonzero(folds == fold)
        head = build_head(int(bank.features.shape[-1]), ModelConfig(backbone=BACKBONE, members=1))
        train_members(head, bank, train, HeadRecipe(), tag=f"fold{fold}")
        out[kept[test]] = video_probabilities(head, *bank.clean(test))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
