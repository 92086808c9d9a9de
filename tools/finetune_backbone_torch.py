"""Fine-tune the mid-level MobileNetV2 backbone on face crops, with torch on a GPU.

Why: frozen ImageNet features cap every head we trained at a val AUC of about
0.63-0.67 (docs/experiments.md). Fine-tuning the network itself is the next lever,
but on 2 CPU cores it takes hours; on one GPU it takes minutes. This script runs
where torch, torchvision and OpenCV are installed (not this project's runtime): it
reads the bundle from tools/export_crop_bundle.py and writes fine-tuned weights that
tools/import_finetuned_backbone.py turns into a Keras backbone for `pipeline train`.

One fixed recipe, no choice made on val. Stages, in order:
  check   the torch copy reproduces the Keras backbone's reference features;
  probe   same-run baseline: logistic regression on frozen ImageNet features;
  dev     fine-tune on the train split; val AUC (mean of frame probabilities) and a
          logistic probe on the fine-tuned features, per epoch for the curve only;
  final   the same recipe on every clip: the weights to ship;
  cv      group 5-fold over every clip: out-of-fold AUC of the recipe.

    python -m tools.finetune_backbone_torch --bundle .gpu/bundle.npz --out $OUT
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from pipeline.training.augment import ClipAugmentation
from pipeline.training.datasets import Clip, family_weights
from pipeline.training.metrics import auc_or_none as auc
from tools.export_crop_bundle import MID_PREFIXES, bundle_crops

ROOT = Path(__file__).resolve().parents[1]

# As pipeline.model.mobilenet_v2, which cannot be imported here: it needs Keras.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
MID_CHANNELS = 576
REFERENCE_TOLERANCE = 2e-3


@dataclass(frozen=True)
class Recipe:
    epochs: int = 12
    batch_size: int = 32  # the paper's batch size
    backbone_lr: float = 1e-4  # the paper's learning rate
    head_lr: float = 1e-3
    weight_decay: float = 1e-4
    dropout: float = 0.2
    warmup_steps: int = 100
    seed: int = 0


@dataclass
class Bundle:
    crops: np.ndarray  # (N, S, S, 3) uint8 RGB
    crop_clip: np.ndarray  # (N,) clip row of each crop
    label: np.ndarray  # (clips,)
    split: np.ndarray
    group: np.ndarray
    dataset: np.ndarray
    method: np.ndarray
    weights: dict[str, np.ndarray]
    reference_crops: np.ndarray
    reference_features: np.ndarray


def load_bundle(path: Path) -> Bundle:
    z = np.load(path)
    return Bundle(
        crops=bundle_crops(z, np.arange(len(z["offsets"]) - 1)),
        crop_clip=z["crop_clip"],
        label=z["clip_label"],
        split=z["clip_split"],
        group=z["clip_group"],
        dataset=z["clip_dataset"],
        method=z["clip_method"],
        weights={k[2:]: z[k] for k in z.files if k.startswith("w:")},
        reference_crops=z["reference_crops"],
        reference_features=z["reference_features"],
    )


def subset(bundle: Bundle, every: int) -> Bundle:
    """Every n-th clip and the reference crops' clips, with their crops: for smoke runs."""
    keep = np.union1d(np.arange(0, len(bundle.label), every), bundle.crop_clip[bundle.reference_crops])
    crop_keep = np.isin(bundle.crop_clip, keep)
    new_row = {int(old): new for new, old in enumerate(keep)}
    new_crop = np.cumsum(crop_keep) - 1
    return Bundle(
        crops=bundle.crops[crop_keep],
        crop_clip=np.array([new_row[int(c)] for c in bundle.crop_clip[crop_keep]]),
        label=bundle.label[keep],
        split=bundle.split[keep],
        group=bundle.group[keep],
        dataset=bundle.dataset[keep],
        method=bundle.method[keep],
        weights=bundle.weights,
        reference_crops=new_crop[bundle.reference_crops],
        reference_features=bundle.reference_features,
    )


def clip_weights(bundle: Bundle, rows: np.ndarray) -> np.ndarray:
    """Sampling weights of clips `rows`, from the same family balance `pipeline train` uses."""
    clips = [
        Clip(Path(str(r)), int(bundle.label[r]), str(bundle.split[r]), str(bundle.group[r]),
             str(bundle.method[r]), str(bundle.dataset[r]))
        for r in rows
    ]  # fmt: skip
    return family_weights(clips)


def clip_means(values: np.ndarray, crop_clip: np.ndarray, rows: np.ndarray) -> np.ndarray:
    return np.array([values[crop_clip == r].mean() for r in rows])


def per_dataset_auc(bundle: Bundle, rows: np.ndarray, scores: np.ndarray) -> dict[str, float | None]:
    out = {}
    for name in sorted(set(bundle.dataset[rows])):
        keep = bundle.dataset[rows] == name
        out[str(name)] = auc(bundle.label[rows][keep], scores[keep])
    return out


def main(argv: list[str] | None = None) -> int:
    import torch
    import torchvision
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold
    from torch import nn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--epochs", type=int, default=Recipe.epochs)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=min(12, os.cpu_count() or 1))
    parser.add_argument("--seed", type=int, default=Recipe.seed)
    parser.add_argument("--every", type=int, default=1, help="keep every n-th clip (smoke runs)")
    parser.add_argument("--stages", default="check,probe,dev,final,cv")
    parser.add_argument(
        "--stop-after-epochs",
        type=int,
        help="leave this run after that many epochs, with checkpoints to resume from (split a long CPU run)",
    )
    args = parser.parse_args(argv)
    recipe = Recipe(epochs=args.epochs, seed=args.seed)
    stages = set(args.stages.split(","))
    args.out.mkdir(parents=True, exist_ok=True)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    # Full float32 outside autocast: the reference check and the evaluation need it.
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    started = time.time()
    report: dict = {
        "recipe": asdict(recipe),
        "device": torch.cuda.get_device_name() if device.type == "cuda" else "cpu",
    }

    def log(message: str) -> None:
        print(f"[{time.time() - started:7.1f}s] {message}", flush=True)

    def save_report() -> None:
        (args.out / "report.json").write_text(json.dumps(report, indent=1))

    bundle = load_bundle(args.bundle)
    if args.every > 1:
        bundle = subset(bundle, args.every)
    clips = np.arange(len(bundle.label))
    log(f"bundle: {len(clips)} clips, {len(bundle.crops)} crops, device {report['device']}")

    class FrameClassifier(nn.Module):
        """Mid-level MobileNetV2 (to block 14's expansion), average-pooled, then one logit."""

        def __init__(self) -> None:
            super().__init__()
            net = torchvision.models.mobilenet_v2(weights=None)
            state = {k: torch.from_numpy(np.asarray(v)) for k, v in bundle.weights.items()}
            missing, unexpected = net.load_state_dict(state, strict=False)
            needed = [k for k in net.state_dict() if k.startswith(MID_PREFIXES) and "num_batches" not in k]
            if unexpected or set(needed) & set(missing):
                raise SystemExit(f"weights do not fit: unexpected={unexpected} missing={set(needed) & set(missing)}")
            self.net = net  # keeps torchvision's state_dict names for the export
            self.encoder = nn.Sequential(*net.features[:14], net.features[14].conv[0])
            self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
            self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))
            self.dropout = nn.Dropout(recipe.dropout)
            self.linear = nn.Linear(MID_CHANNELS, 1)

        def features(self, x: torch.Tensor) -> torch.Tensor:
            return self.encoder((x - self.mean) / self.std).mean(dim=(2, 3))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.linear(self.dropout(self.features(x))).squeeze(1)

        def mid_state(self) -> dict[str, np.ndarray]:
            return {
                k: v.detach().float().cpu().numpy()
                for k, v in self.net.state_dict().items()
                if k.startswith(MID_PREFIXES) and "num_batches" not in k
            }

    def to_input(batch_u8: torch.Tensor) -> torch.Tensor:
        """(B, S, S, 3) uint8 -> (B, 3, S, S) float 0..1 on the device, channels-last."""
        x = batch_u8.to(device, non_blocking=True).permute(0, 3, 1, 2).float().div_(255.0)
        return x.contiguous(memory_format=torch.channels_last)

    @torch.no_grad()
    def embed(model: FrameClassifier, rows: np.ndarray, batch: int = 256) -> tuple[np.ndarray, np.ndarray]:
        """(features, fake probability) of crops `rows`, clean, in eval mode, in float32."""
        model.eval()
        feats, probs = [], []
        for start in range(0, len(rows), batch):
            x = to_input(torch.from_numpy(bundle.crops[rows[start : start + batch]]))
            f = model.features(x)
            feats.append(f.cpu().numpy())
            probs.append(torch.sigmoid(model.linear(f).squeeze(1)).cpu().numpy())
        return np.concatenate(feats), np.concatenate(probs)

    def augmented_batch(rows: np.ndarray, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Each crop degraded by its own random draw of the project's augmentation."""
        rng = np.random.default_rng(seed)
        crops = np.stack([ClipAugmentation.draw(rng).apply(bundle.crops[i], rng) for i in rows])
        labels = bundle.label[bundle.crop_clip[rows]].astype(np.float32)
        return torch.from_numpy(crops), torch.from_numpy(labels)

    def epoch_batches(weights: np.ndarray, count: int, rng: np.random.Generator, pool: ThreadPoolExecutor):
        """Batches of crops drawn by weight, augmented by a thread pool: OpenCV releases the
        GIL, and threads need no shared memory (container /dev/shm can be tiny)."""
        drawn = rng.choice(len(weights), size=count, p=weights)
        starts = range(0, count - recipe.batch_size + 1, recipe.batch_size)
        seeds = rng.integers(0, 2**32, size=len(starts))
        futures = [
            pool.submit(augmented_batch, drawn[s : s + recipe.batch_size], seed)
            for s, seed in zip(starts, seeds, strict=True)
        ]
        for future in futures:
            yield future.result()

    def crop_rows(clip_rows: np.ndarray) -> np.ndarray:
        return np.flatnonzero(np.isin(bundle.crop_clip, clip_rows))

    def probe_auc(train_feats, train_rows, test_feats, test_rows, test_clips) -> float | None:
        scores = probe_scores(train_feats, train_rows, test_feats, test_rows, test_clips)
        return auc(bundle.label[test_clips], scores)

    def probe_scores(train_feats, train_rows, test_feats, test_rows, test_clips) -> np.ndarray:
        """Logistic regression on crop features, family-weighted, scored as clip means."""
        clip_w = dict(
            zip(
                np.unique(bundle.crop_clip[train_rows]),
                clip_weights(bundle, np.unique(bundle.crop_clip[train_rows])),
                strict=True,
            )
        )
        w = np.array([clip_w[c] for c in bundle.crop_clip[train_rows]])
        mu, sd = train_feats.mean(0), train_feats.std(0) + 1e-6
        lr = LogisticRegression(C=0.1, max_iter=2000)
        lr.fit((train_feats - mu) / sd, bundle.label[bundle.crop_clip[train_rows]], sample_weight=w * len(w))
        p = lr.predict_proba((test_feats - mu) / sd)[:, 1]
        return clip_means(p, bundle.crop_clip[test_rows], test_clips)

    def fine_tune(train_clips: np.ndarray, tag: str, eval_clips: np.ndarray | None = None) -> FrameClassifier:
        torch.manual_seed(recipe.seed)
        model = FrameClassifier().to(device).to(memory_format=torch.channels_last)
        rows = crop_rows(train_clips)
        clip_w = dict(zip(train_clips, clip_weights(bundle, train_clips), strict=True))
        crop_w = np.array([clip_w[c] / np.sum(bundle.crop_clip == c) for c in bundle.crop_clip[rows]])
        weights = np.zeros(len(bundle.crops))
        weights[rows] = crop_w
        weights /= weights.sum()
        rng = np.random.default_rng(recipe.seed)
        steps_per_epoch = len(rows) // recipe.batch_size
        pool = ThreadPoolExecutor(args.workers)
        backbone = list(model.encoder.parameters())
        head = list(model.linear.parameters())
        optimiser = torch.optim.AdamW(
            [{"params": backbone, "lr": recipe.backbone_lr}, {"params": head, "lr": recipe.head_lr}],
            weight_decay=recipe.weight_decay,
        )
        total = recipe.epochs * steps_per_epoch

        def schedule(step: int) -> float:
            if step < recipe.warmup_steps:
                return (step + 1) / recipe.warmup_steps
            return 0.5 * (1 + math.cos(math.pi * (step - recipe.warmup_steps) / max(1, total - recipe.warmup_steps)))

        scheduler = torch.optim.lr_scheduler.LambdaLR(optimiser, schedule)
        loss_fn = nn.BCEWithLogitsLoss()
        curve: list[dict] = []
        # Every epoch ends with a checkpoint (weights, optimiser, schedule, the random streams), so a
        # crashed or split run resumes where it stopped and draws the same batches as an unbroken one.
        checkpoint = args.out / f"checkpoint_{tag}.pt"
        identity = {"recipe": asdict(recipe), "clips": train_clips.tolist(), "bundle": str(args.bundle.resolve())}
        first_epoch = 0
        if checkpoint.exists():
            state = torch.load(checkpoint, map_location=device, weights_only=False)
            if state["identity"] == identity:
                model.load_state_dict(state["model"])
                optimiser.load_state_dict(state["optimiser"])
                scheduler.load_state_dict(state["scheduler"])
                rng.bit_generator.state = state["numpy_rng"]
                torch.set_rng_state(state["torch_rng"])
                if state.get("cuda_rng") is not None and device.type == "cuda":
                    torch.cuda.set_rng_state_all(state["cuda_rng"])
                curve, first_epoch = state["curve"], state["epoch"]
                log(f"{tag}: resumed after epoch {first_epoch} from {checkpoint.name}")
            else:
                log(f"{tag}: {checkpoint.name} belongs to another recipe or clip set; starting over")
        for epoch in range(first_epoch, recipe.epochs):
            if args.stop_after_epochs is not None and epochs_run[0] >= args.stop_after_epochs:
                pool.shutdown()
                raise SystemExit(f"stopped after {epochs_run[0]} epochs as asked; run again to resume")
            model.train()
            losses = []
            for x_u8, y in epoch_batches(weights, len(rows), rng, pool):
                x = to_input(x_u8)
                with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
                    logits = model(x)
                loss = loss_fn(logits.float(), y.to(device).float())
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                optimiser.step()
                scheduler.step()
                losses.append(loss.item())
            point = {"epoch": epoch + 1, "train_loss": float(np.mean(losses))}
            if eval_clips is not None:
                test_rows = crop_rows(eval_clips)
                _, p = embed(model, test_rows)
                point["eval_auc"] = auc(
                    bundle.label[eval_clips], clip_means(p, bundle.crop_clip[test_rows], eval_clips)
                )
            curve.append(point)
            log(f"{tag} epoch {epoch + 1}/{recipe.epochs}: {point}")
            state = {
                "identity": identity,
                "epoch": epoch + 1,
                "model": model.state_dict(),
                "optimiser": optimiser.state_dict(),
                "scheduler": scheduler.state_dict(),
                "numpy_rng": rng.bit_generator.state,
                "torch_rng": torch.get_rng_state(),
                "cuda_rng": torch.cuda.get_rng_state_all() if device.type == "cuda" else None,
                "curve": curve,
            }
            torch.save(state, checkpoint.with_suffix(".partial"))
            checkpoint.with_suffix(".partial").replace(checkpoint)
            epochs_run[0] += 1
        pool.shutdown()
        report.setdefault("curves", {})[tag] = curve
        return model

    def save_weights(model: FrameClassifier, name: str) -> None:
        feats, _ = embed(model, bundle.reference_crops.astype(np.int64))
        np.savez(
            args.out / f"{name}.npz", reference_features=feats, **{f"w:{k}": v for k, v in model.mid_state().items()}
        )
        log(f"wrote {name}.npz")

    epochs_run = [0]  # epochs trained by this process, over every stage (for --stop-after-epochs)
    all_rows = np.arange(len(bundle.crops))
    train_clips = clips[bundle.split == "train"]
    val_clips = clips[bundle.split == "val"]
    train_rows, val_rows = crop_rows(train_clips), crop_rows(val_clips)

    if "check" in stages:
        model = FrameClassifier().to(device)
        feats, _ = embed(model, bundle.reference_crops.astype(np.int64))
        diff = float(np.abs(feats - bundle.reference_features).max())
        scale = float(np.abs(bundle.reference_features).max())
        report["check"] = {"max_abs_diff": diff, "max_abs_reference": scale}
        save_report()
        log(f"check: max |torch - keras| = {diff:.2e} (features up to {scale:.2f})")
        if diff > REFERENCE_TOLERANCE * max(1.0, scale):
            raise SystemExit("the torch backbone does not reproduce the Keras reference features")

    if "probe" in stages:
        model = FrameClassifier().to(device)
        feats, _ = embed(model, all_rows)
        report["probe_imagenet_val_auc"] = probe_auc(
            feats[train_rows], train_rows, feats[val_rows], val_rows, val_clips
        )
        save_report()
        log(f"probe on frozen ImageNet features: val AUC {report['probe_imagenet_val_auc']}")
        if "cv" in stages or "probecv" in stages:
            oof = np.full(len(clips), np.nan)
            for fit, test in GroupKFold(args.folds).split(clips, groups=bundle.group):
                fit_rows, test_rows = crop_rows(clips[fit]), crop_rows(clips[test])
                scores = probe_scores(feats[fit_rows], fit_rows, feats[test_rows], test_rows, clips[test])
                oof[test] = scores
            report["probe_imagenet_cv_auc"] = auc(bundle.label, oof)
            save_report()
            log(f"probe on frozen ImageNet features: group {args.folds}-fold AUC {report['probe_imagenet_cv_auc']}")

    if "dev" in stages:
        t0 = time.time()
        model = fine_tune(train_clips, "dev", eval_clips=val_clips)
        feats, p = embed(model, all_rows)
        val_scores = clip_means(p[val_rows], bundle.crop_clip[val_rows], val_clips)
        report["dev"] = {
            "seconds": time.time() - t0,
            "val_auc_frame_mean": auc(bundle.label[val_clips], val_scores),
            "val_auc_probe_on_finetuned": probe_auc(
                feats[train_rows], train_rows, feats[val_rows], val_rows, val_clips
            ),
            "val_per_dataset": per_dataset_auc(bundle, val_clips, val_scores),
        }
        save_weights(model, "dev")
        save_report()
        log(f"dev: {report['dev']}")

    if "final" in stages:
        t0 = time.time()
        model = fine_tune(clips, "final")
        save_weights(model, "final")
        report["final"] = {"seconds": time.time() - t0}
        save_report()

    if "cv" in stages:
        t0 = time.time()
        oof = np.full(len(clips), np.nan)
        for fold, (fit, test) in enumerate(GroupKFold(args.folds).split(clips, groups=bundle.group)):
            model = fine_tune(clips[fit], f"cv{fold}")
            test_rows = crop_rows(clips[test])
            _, p = embed(model, test_rows)
            oof[test] = clip_means(p, bundle.crop_clip[test_rows], clips[test])
            report["cv"] = {"folds_done": fold + 1, "oof": oof.tolist()}
            save_report()
        report["cv"].update(
            seconds=time.time() - t0,
            auc=auc(bundle.label, oof),
            per_dataset=per_dataset_auc(bundle, clips, oof),
        )
        save_report()
        log(f"cv: auc {report['cv']['auc']} per dataset {report['cv']['per_dataset']}")
    log("done")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
