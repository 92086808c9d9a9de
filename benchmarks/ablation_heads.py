"""Ablation of the sequence head on the trained backbone's features, same data, same run.

Re-trains, from scratch and with identical budgets and seeds, two heads on the frozen
features of the shipped model's (fine-tuned) backbone:
- (a') certainty-based attention + LSTM (ours),
- (d)  the LSTM without attention (every face frame weighs the same),
and pools the frame probabilities of (a') by (b) their mean and (c) the confident strategy.
Reports val AUC per seed and the mean. Usage:

    python benchmarks/ablation_heads.py ../shared/data/manifest.csv --model models/detector.keras
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from pipeline.aggregation import aggregate  # noqa: E402
from pipeline.cache import cached_extract_faces  # noqa: E402
from pipeline.datasets import load_clips  # noqa: E402
from pipeline.faces.detectors import create_detector  # noqa: E402
from pipeline.faces.track import to_model_input  # noqa: E402
from pipeline.metrics import auc_or_none  # noqa: E402
from pipeline.model.detector import ModelConfig, build_sequence_head, compile_detector, load_detector  # noqa: E402
from pipeline.settings import DEFAULT_CACHE_DIR, Settings  # noqa: E402
from pipeline.train import training_targets  # noqa: E402


def clip_features(model, crops: np.ndarray, mask: np.ndarray) -> np.ndarray:
    features = np.zeros((len(mask), model.feature_dim), dtype=np.float32)
    if len(crops):
        features[mask > 0] = np.concatenate(
            [model.encode(to_model_input(crops[i : i + 64])) for i in range(0, len(crops), 64)]
        )
    return features


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("manifest", type=Path)
    parser.add_argument("--model", type=Path, default=REPO / "models" / "detector.keras")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE_DIR)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()
    if not args.manifest.exists():
        print(f"skipped: {args.manifest} not found")
        return 0

    import keras

    settings = Settings()
    model = load_detector(args.model)
    detector = create_detector(settings.detector)
    clips = [c for c in load_clips(args.manifest) if c.split in ("train", "val")]
    features, masks, labels, splits = [], [], [], []
    for clip in clips:
        _, faces = cached_extract_faces(clip.path, settings, detector, args.cache_dir)
        if faces.mask.sum() == 0:
            continue
        features.append(clip_features(model, faces.crops, faces.mask))
        masks.append(faces.mask)
        labels.append(clip.label)
        splits.append(clip.split)
    x, m = np.stack(features), np.stack(masks)
    y, split = np.array(labels, dtype=np.float32), np.array(splits)
    train, val = split == "train", split == "val"
    print(f"features: train {train.sum()}, val {val.sum()} clips", file=sys.stderr)

    rows: dict[str, list[float]] = {
        "(a') attention + LSTM": [],
        "(d) LSTM, no attention": [],
        "(b) mean": [],
        "(c) confident": [],
    }
    for seed in range(args.seeds):
        for name, uniform in (("(a') attention + LSTM", False), ("(d) LSTM, no attention", True)):
            keras.utils.set_random_seed(seed)
            head = build_sequence_head(model.feature_dim, ModelConfig(uniform_attention=uniform))
            compile_detector(head, 2e-4)
            head.fit(
                [x[train], m[train]], training_targets(y[train], m[train]), epochs=args.epochs, batch_size=16, verbose=0
            )
            out = head.predict([x[val], m[val]], verbose=0)
            rows[name].append(auc_or_none(y[val], np.asarray(out["video"]).reshape(-1)))
            if not uniform:
                frame_p = np.asarray(out["frame_p"])
                for rule, key in (("mean", "(b) mean"), ("confident", "(c) confident")):
                    pooled = [aggregate(rule, frame_p[i], m[val][i]) for i in range(len(frame_p))]
                    rows[key].append(auc_or_none(y[val], np.array(pooled)))
        print(f"seed {seed}: " + ", ".join(f"{k} {v[-1]:.3f}" for k, v in rows.items()), file=sys.stderr)

    print(
        f"\nval AUC, heads re-trained {args.epochs} epochs on frozen features of {args.model.name}, {args.seeds} seeds"
    )
    print("| head | AUC per seed | mean |")
    print("|---|---|---|")
    for name, values in rows.items():
        print(f"| {name} | {', '.join(f'{v:.3f}' for v in values)} | {np.mean(values):.3f} |")
    if args.json_out:
        args.json_out.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
