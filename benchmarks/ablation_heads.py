"""Ablation of the sequence head on the shipped model's frozen features: same data, same run.

Re-trains from scratch, with the shipped model's recipe (epochs, learning rate, batch size,
augmented copies, family weights) and identical seeds, heads that differ in one thing:
- (a)  certainty-based attention + LSTM + temporal statistics (the shipped architecture),
- (d)  the same without attention (every face frame weighs the same),
- (a0) the paper's head alone: certainty attention + LSTM, no temporal statistics,
- (d0) the paper's head without attention,
- (a-frame / a-temporal) (a) with the certainty measured the other way: from each frame alone
  (the paper) or from each frame read in the context of its neighbours,
and pools the frame probabilities of (a) by (b) their mean and (c) the confident strategy.
Reports val AUC per seed and the mean; the ensemble row averages (a)'s video probabilities
over the seeds so far (what `--members N` ships). Features come from `train`'s cache when
it has run with the same settings. Usage:

    python -m benchmarks.ablation_heads ../shared/data/manifest.csv --model models/detector.keras
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from pipeline.model.architecture import build_sequence_head
from pipeline.model.config import config_from_architecture
from pipeline.model.storage import load_detector
from pipeline.scoring.aggregation import aggregate
from pipeline.settings import DEFAULT_CACHE_DIR, Settings
from pipeline.training.datasets import load_clips
from pipeline.training.heads import feature_bank, fit_head, run_key
from pipeline.training.metrics import auc_or_none
from pipeline.training.train import extract_all, padded_crops

REPO = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("manifest", type=Path)
    parser.add_argument("--model", type=Path, default=REPO / "models" / "detector.keras")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE_DIR)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()
    if not args.manifest.exists():
        print(f"skipped: {args.manifest} not found")
        return 0

    model = load_detector(args.model)
    config = config_from_architecture(model.info.architecture)
    recipe = model.info.metrics.get("recipe", {})
    epochs, batch_size = int(recipe.get("epochs", 50)), int(recipe.get("batch_size", 32))
    learning_rate, copies = float(recipe.get("learning_rate", 1e-4)), int(recipe.get("augment_copies", 3))
    settings = Settings()
    clips = load_clips(args.manifest)
    extracted = extract_all(clips, settings, args.cache_dir)
    extracted = [e for e in extracted if e[0].split == "train"] + [e for e in extracted if e[0].split == "val"]
    crops, masks = padded_crops([e[2] for e in extracted], settings.frames, model.input_size)
    labels = np.array([e[0].label for e in extracted], dtype=np.float32)
    # The same clips, order and seed as `train`, so its cached features are read back, not recomputed.
    seed = int(recipe.get("seed", 0))
    key = run_key([e[1] for e in extracted], settings.extraction_key(), config.backbone, model.input_size, copies, seed)
    bank = feature_bank(
        model.encoder, crops, masks, labels, [e[0] for e in extracted], copies=copies, seed=seed,
        cache_file=args.cache_dir / "features" / f"{key}.npz",
    )  # fmt: skip
    del crops
    train_rows = np.array([i for i, e in enumerate(extracted) if e[0].split == "train"])
    val_rows = np.array([i for i, e in enumerate(extracted) if e[0].split == "val"])
    x, m, y, w = bank.training_set(train_rows)
    val_x, val_masks = bank.clean(val_rows)
    val_y = labels[val_rows]
    config = replace(config, members=1)  # single heads: the seeds show their spread

    heads = {
        "(a) certainty attention + LSTM + temporal statistics (shipped)": config,
        "(d) the same, no attention (uniform weights)": replace(config, uniform_attention=True),
        "(a0) paper head: certainty attention + LSTM": replace(
            config, temporal_differences=False, pooled_statistics=False
        ),
        "(d0) paper head without attention": replace(
            config, temporal_differences=False, pooled_statistics=False, uniform_attention=True
        ),
    }
    other_source = "temporal" if config.certainty_source == "frame" else "frame"
    heads[f"(a-{other_source}) certainty from the {other_source} model instead"] = replace(
        config, certainty_source=other_source
    )
    first = next(iter(heads))
    rows: dict[str, list[float]] = {name: [] for name in heads}
    ensemble_row = "(a, ensemble) mean of (a)'s video probabilities over seeds 0..N"
    rows[ensemble_row] = []
    first_probabilities: list[np.ndarray] = []
    rows["(b) mean of (a)'s frame probabilities"] = []
    rows["(c) confident strategy on (a)'s frame probabilities"] = []
    for seed in range(args.seeds):
        for name, head_config in heads.items():
            head = build_sequence_head(model.feature_dim, head_config)
            fit_head(head, x, m, y, w, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, seed=seed)
            out = head.predict([val_x, val_masks], verbose=0)
            rows[name].append(auc_or_none(val_y, np.asarray(out["video"]).reshape(-1)))
            if name == first:
                first_probabilities.append(np.asarray(out["video"]).reshape(-1))
                rows[ensemble_row].append(auc_or_none(val_y, np.mean(first_probabilities, axis=0)))
                frame_p = np.asarray(out["frame_p"])
                for rule, key in (("mean", "(b)"), ("confident", "(c)")):
                    pooled = np.array(
                        [aggregate(rule, frame_p[i], val_masks[i]).probability for i in range(len(frame_p))]
                    )
                    rows[next(k for k in rows if k.startswith(key))].append(auc_or_none(val_y, pooled))
        print(f"seed {seed}: " + ", ".join(f"{k[:4]} {v[-1]:.3f}" for k, v in rows.items()), file=sys.stderr)

    print(
        f"\nval AUC ({len(val_y)} clips), heads re-trained on frozen features of {args.model.name} with its recipe "
        f"({epochs} epochs, lr {learning_rate}, batch {batch_size}, {copies} augmented copies), {args.seeds} seeds"
    )
    print("| head | AUC per seed | mean |")
    print("|---|---|---|")
    for name, values in rows.items():
        print(f"| {name} | {', '.join(f'{v:.3f}' for v in values)} | {np.mean(values):.3f} |")
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
