"""Draw the training curve stored in a model's metadata (models/detector.json) as a PNG.

Usage: python -m tools.plot_training_curve models/detector.json models/training_curve.png
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def main(meta_path: Path, out: Path) -> None:
    metrics = json.loads(meta_path.read_text())["metrics"]
    histories = metrics.get("member_histories") or [metrics["history"]]
    figure, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5), dpi=110)
    for index, history in enumerate(histories):
        member = f" (head {index + 1})" if len(histories) > 1 else ""
        epochs = range(1, len(history["loss"]) + 1)
        left.plot(epochs, history["video_loss"], label=f"train video loss{member}")
        right.plot(epochs, history["video_auc"], label=f"train video AUC, augmented{member}")
        if "val_video_auc" in history:
            every = len(history["loss"]) // max(len(history["val_video_auc"]), 1)
            val_epochs = [every * (i + 1) for i in range(len(history["val_video_auc"]))]
            left.plot(val_epochs, history["val_video_loss"], marker="o", label=f"val video loss{member}")
            right.plot(val_epochs, history["val_video_auc"], marker="o", label=f"val video AUC{member}")
    for axis, title in ((left, "loss"), (right, "AUC")):
        axis.set_xlabel("epoch")
        axis.set_title(title)
        axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(out)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
