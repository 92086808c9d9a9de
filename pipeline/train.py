"""`python -m pipeline train DATA`: the paper's recipe (BCE, Adam, lr 1e-4, batch 32, 50 epochs).

Face crops are cached on disk (decode once). With `--fine-tune-layers 0` the backbone
is frozen, its features are computed once per clip and only the attention/LSTM head
trains, which takes minutes on a CPU; with N > 0 the last N backbone layers train
end to end on the cached crops. Training resumes from its backup after a crash.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

import keras
import numpy as np
from tqdm import tqdm

from pipeline.augment import augment_clip
from pipeline.cache import cached_extract_faces
from pipeline.calibration import calibrate, fit_platt
from pipeline.datasets import Clip, check_group_split, load_clips
from pipeline.errors import DataError, PipelineError
from pipeline.faces.detectors import create_detector
from pipeline.faces.track import to_model_input
from pipeline.metrics import compute_metrics
from pipeline.model.backbones import BACKBONES
from pipeline.model.detector import (
    SEQUENCE_HEAD,
    ModelConfig,
    ModelInfo,
    build_detector,
    compile_detector,
    save_detector,
)
from pipeline.scoring import FaceExtraction
from pipeline.settings import DEFAULT_CACHE_DIR, DEFAULT_MODEL_PATH, Settings

NO_FACE_LABEL = -1.0
# Calibrated probabilities make 0.5 the equal-cost decision point.
DEFAULT_THRESHOLD = 0.5


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("data", type=Path, help="manifest CSV (file,label[,split,group]) or FF++/DFDC folder")
    parser.add_argument("--out", type=Path, default=DEFAULT_MODEL_PATH, help="where to save the .keras model")
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-4, help="Adam learning rate")
    parser.add_argument("--frames", type=int, default=Settings().frames, help="frames sampled per clip")
    parser.add_argument("--detector", default=Settings().detector)
    parser.add_argument("--backbone", default=Settings().backbone, choices=sorted(BACKBONES))
    parser.add_argument("--lstm-units", type=int, default=ModelConfig().lstm_units)
    parser.add_argument(
        "--certainty-source",
        choices=("frame", "temporal"),
        default=ModelConfig().certainty_source,
        help="p_t behind the certainty: each frame alone (paper) or in the context of its neighbours",
    )
    parser.add_argument("--fine-tune-layers", type=int, default=0, help="backbone layers to train (0: frozen)")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE_DIR)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-clips", type=int, help="use at most this many clips (quick runs)")
    parser.add_argument("--frames-per-clip", type=int, default=16, help="frames per clip in a training step")
    parser.add_argument("--validation-freq", type=int, default=1, help="validate every N epochs")
    parser.add_argument("--no-augment", action="store_true", help="train without format-destroying augmentation")
    parser.add_argument(
        "--augment-copies",
        type=int,
        default=3,
        help="frozen backbone: augmented copies of each training clip, besides the clean one",
    )
    parser.add_argument("--version", default=dt.date.today().isoformat())


def extract_all(clips: list[Clip], settings: Settings, cache_dir: Path) -> list[tuple[Clip, str, FaceExtraction]]:
    """Face crops of every clip (from the cache when present); clips without faces are skipped."""
    detector = create_detector(
        settings.detector, max_side=settings.detector_max_side, min_face_fraction=settings.min_face_fraction
    )
    kept = []
    for clip in tqdm(clips, desc="faces", unit="clip", file=sys.stderr):
        try:
            sha256, faces = cached_extract_faces(clip.path, settings, detector, cache_dir)
        except PipelineError as error:
            print(f"skipped: {error}", file=sys.stderr)
            continue
        if faces.mask.sum() == 0:
            print(f"skipped: {clip.path}: no face found", file=sys.stderr)
            continue
        kept.append((clip, sha256, faces))
    return kept


def padded_crops(items: list[FaceExtraction], frames: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    crops = np.zeros((len(items), frames, size, size, 3), dtype=np.uint8)
    masks = np.zeros((len(items), frames), dtype=np.float32)
    for i, faces in enumerate(items):
        mask = faces.mask[:frames]
        crops[i, : len(mask)][mask > 0] = faces.crops[: int(mask.sum())]
        masks[i, : len(mask)] = mask
    return crops, masks


def training_targets(labels: np.ndarray, masks: np.ndarray) -> dict[str, np.ndarray]:
    """Video and frame labels; certainty and attention get placeholders (they have no loss,
    but Keras wants a target for every output of a dict-output model)."""
    frame_labels = np.where(masks > 0, labels[:, None], NO_FACE_LABEL).astype(np.float32)
    placeholder = np.zeros_like(masks, dtype=np.float32)
    return {
        "video": labels.astype(np.float32),
        "frame_p": frame_labels,
        "certainty": placeholder,
        "attention": placeholder,
    }


def frozen_features(encoder: keras.Model, crops: np.ndarray, masks: np.ndarray, batch: int = 64) -> np.ndarray:
    """Frozen-backbone features for the face frames; zeros elsewhere."""
    n, t = masks.shape
    flat_crops = crops.reshape(n * t, *crops.shape[2:])
    picked = np.flatnonzero(masks.reshape(-1) > 0)
    features = np.zeros((n * t, int(encoder.output.shape[-1])), dtype=np.float32)
    for start in tqdm(range(0, len(picked), batch), desc="features", unit="batch", file=sys.stderr):
        rows = picked[start : start + batch]
        features[rows] = np.asarray(encoder(to_model_input(flat_crops[rows]), training=False))
    return features.reshape(n, t, -1)


def augmented_features(
    encoder: keras.Model,
    crops: np.ndarray,
    masks: np.ndarray,
    labels: np.ndarray,
    clip_weights: np.ndarray,
    copies: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Frozen features of the clean clips plus `copies` augmented versions of each.

    Returns features, masks, labels and per-sequence sample weights (family balance,
    scaled to a mean of 1). Each copy degrades a clip with one random augmentation, so
    the head cannot rely on JPEG quality, sharpness or colour to tell real from fake.
    """
    rng = np.random.default_rng(seed)
    features = [frozen_features(encoder, crops, masks)]
    for copy in range(copies):
        print(f"augmented copy {copy + 1} of {copies}", file=sys.stderr)
        degraded = np.stack([augment_clip(clip, rng) for clip in crops])
        features.append(frozen_features(encoder, degraded, masks))
    repeats = copies + 1
    weights = np.tile(clip_weights, repeats)
    return (
        np.concatenate(features),
        np.tile(masks, (repeats, 1)),
        np.tile(labels, repeats),
        (weights / weights.mean()).astype(np.float32),
    )


def adapt_normalisation(head: keras.Model, features: np.ndarray, masks: np.ndarray) -> None:
    """Fit the head's feature standardisation on the face frames (not the zero padding)."""
    if any(layer.name == "feature_norm" for layer in head.layers):
        head.get_layer("feature_norm").adapt(features[masks > 0][:, None, :])


def fit_head(
    head: keras.Model,
    features: np.ndarray,
    masks: np.ndarray,
    labels: np.ndarray,
    weights: np.ndarray,
    *,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    seed: int = 0,
    validation: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    validation_freq: int = 1,
    callbacks: list[keras.callbacks.Callback] | None = None,
) -> keras.callbacks.History:
    """Train a sequence head on frozen features: the one recipe shared by `train` and the ablation."""
    keras.utils.set_random_seed(seed)
    adapt_normalisation(head, features, masks)
    compile_detector(head, learning_rate)
    return head.fit(
        [features, masks],
        training_targets(labels, masks),
        sample_weight=weights,
        validation_data=(
            ([validation[0], validation[1]], training_targets(validation[2], validation[1])) if validation else None
        ),
        validation_freq=validation_freq,
        epochs=epochs,
        batch_size=batch_size,
        callbacks=callbacks or [],
        verbose=2 if validation is not None else 0,
    )


def family_weights(clips: list[Clip]) -> np.ndarray:
    """Sampling weights: fakes and reals weigh the same in total, and so does every
    generator family within the fakes and every dataset within the reals, so the many
    clips of one family cannot drown the rare ones."""
    keys = [(c.label, c.method if c.label else c.dataset) for c in clips]
    families_per_label = {label: {k for k in keys if k[0] == label} for label in (0, 1)}
    counts = {k: keys.count(k) for k in set(keys)}
    weights = np.array([1.0 / (counts[k] * len(families_per_label[k[0]])) for k in keys])
    return weights / weights.sum()


def set_trainable_tail(encoder: keras.Model, layers: int) -> int:
    """Train only the last `layers` backbone layers; BatchNorm stays frozen (small batches
    of correlated frames would corrupt its statistics). Returns the trainable layer count."""
    flat = [layer for layer in _flatten_layers(encoder) if layer.weights]
    for index, layer in enumerate(flat):
        trainable = index >= len(flat) - layers and not isinstance(layer, keras.layers.BatchNormalization)
        layer.trainable = trainable
    return sum(layer.trainable for layer in flat)


def _flatten_layers(model: keras.Model) -> list[keras.layers.Layer]:
    flat: list[keras.layers.Layer] = []
    for layer in model.layers:
        flat.extend(_flatten_layers(layer) if isinstance(layer, keras.Model) else [layer])
    return flat


class ClipBatches(keras.utils.PyDataset):
    """Batches of (frames, mask) -> targets for end-to-end training.

    Training batches draw clips with `family_weights`, take `frames_per_clip` frames in
    temporal order, and degrade each clip with one random augmentation. Validation
    batches (augment=False, weights=None) go through every clip once, all frames.
    """

    def __init__(
        self,
        crops: np.ndarray,
        masks: np.ndarray,
        labels: np.ndarray,
        batch_size: int,
        *,
        weights: np.ndarray | None = None,
        frames_per_clip: int | None = None,
        augment: bool = False,
        seed: int = 0,
    ):
        super().__init__()
        self.crops, self.masks, self.labels = crops, masks, labels
        self.batch_size, self.weights, self.augment, self.seed = batch_size, weights, augment, seed
        self.frames_per_clip = frames_per_clip
        self.epoch = 0

    def __len__(self) -> int:
        return int(np.ceil(len(self.labels) / self.batch_size))

    def on_epoch_end(self) -> None:
        self.epoch += 1

    def __getitem__(self, index: int):
        rng = np.random.default_rng([self.seed, self.epoch, index])
        if self.weights is None:
            rows = np.arange(index * self.batch_size, min((index + 1) * self.batch_size, len(self.labels)))
        else:
            rows = rng.choice(len(self.labels), size=self.batch_size, p=self.weights)
        total = self.masks.shape[1]
        keep = min(self.frames_per_clip or total, total)
        frames = np.zeros((len(rows), keep, *self.crops.shape[2:]), dtype=np.uint8)
        masks = np.zeros((len(rows), keep), dtype=np.float32)
        for i, row in enumerate(rows):
            picks = np.sort(rng.choice(total, size=keep, replace=False)) if keep < total else np.arange(total)
            clip_frames = self.crops[row, picks]
            if self.augment:
                clip_frames = augment_clip(clip_frames, rng)
            frames[i] = clip_frames * self.masks[row, picks, None, None, None].astype(np.uint8)
            masks[i] = self.masks[row, picks]
        labels = self.labels[rows]
        return {"frames": to_model_input(frames), "face_mask": masks}, training_targets(labels, masks)


def run_train(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    clips = load_clips(args.data)
    check_group_split(clips)
    missing = [c for c in clips if not c.path.exists()]
    if missing:
        raise DataError(f"{len(missing)} clips listed but missing, e.g. {missing[0].path}")
    if args.max_clips:
        clips = clips[: args.max_clips]
    settings = Settings().with_overrides(frames=args.frames, detector=args.detector)
    config = ModelConfig(
        backbone=args.backbone,
        input_size=settings.crop_size,
        lstm_units=args.lstm_units,
        certainty_source=args.certainty_source,
    )
    extracted = extract_all(clips, settings, args.cache_dir)
    train = [e for e in extracted if e[0].split == "train"]
    val = [e for e in extracted if e[0].split == "val"]
    if not train:
        raise DataError("no training clips with faces")
    print(f"clips with faces: train {len(train)}, val {len(val)}", file=sys.stderr)

    model = build_detector(config, seed=args.seed)
    encoder = model.get_layer("frame_features").layer
    head = model.get_layer(SEQUENCE_HEAD)
    size = config.input_size
    train_crops, train_masks = padded_crops([e[2] for e in train], settings.frames, size)
    val_crops, val_masks = padded_crops([e[2] for e in val], settings.frames, size)
    train_y = np.array([e[0].label for e in train], dtype=np.float32)
    val_y = np.array([e[0].label for e in val], dtype=np.float32)
    backup = args.cache_dir / "train_backup" / args.out.stem
    callbacks: list[keras.callbacks.Callback] = [keras.callbacks.BackupAndRestore(str(backup))]

    if args.fine_tune_layers <= 0:
        encoder.trainable = False
        copies = 0 if args.no_augment else args.augment_copies
        train_x, train_masks_all, train_y_all, weights = augmented_features(
            encoder, train_crops, train_masks, train_y, family_weights([e[0] for e in train]), copies, args.seed
        )
        val_x = [frozen_features(encoder, val_crops, val_masks), val_masks] if val else None
        history = fit_head(
            head,
            train_x,
            train_masks_all,
            train_y_all,
            weights,
            epochs=args.epochs,
            batch_size=args.batch_size,
            learning_rate=args.lr,
            seed=args.seed,
            validation=(val_x[0], val_masks, val_y) if val else None,
            validation_freq=args.validation_freq,
            callbacks=callbacks,
        )
        val_p = np.asarray(head.predict(val_x, verbose=0)["video"]).reshape(-1) if val else np.array([])
    else:
        sample = slice(0, min(len(train_crops), 64))
        sample_features = frozen_features(encoder, train_crops[sample], train_masks[sample])
        adapt_normalisation(head, sample_features, train_masks[sample])
        trainable = set_trainable_tail(encoder, args.fine_tune_layers)
        print(f"fine-tuning {trainable} backbone layers", file=sys.stderr)
        compile_detector(model, args.lr)
        train_data = ClipBatches(
            train_crops,
            train_masks,
            train_y,
            args.batch_size,
            weights=family_weights([e[0] for e in train]),
            frames_per_clip=args.frames_per_clip,
            augment=not args.no_augment,
            seed=args.seed,
        )
        val_data = ClipBatches(val_crops, val_masks, val_y, args.batch_size) if val else None
        history = model.fit(
            train_data,
            validation_data=val_data,
            validation_freq=args.validation_freq,
            epochs=args.epochs,
            callbacks=callbacks,
            verbose=2,
        )
        val_p = (
            np.concatenate([np.asarray(model.predict_on_batch(x)["video"]).reshape(-1) for x, _ in val_data])
            if val_data
            else np.array([])
        )

    temperature, bias = fit_platt(val_y, val_p) if len(np.unique(val_y)) == 2 else (1.0, 0.0)
    calibrated = np.array([calibrate(p, temperature, bias) for p in val_p])
    metrics = (
        {
            "raw": compute_metrics(val_y, val_p).to_dict(),
            "calibrated": compute_metrics(val_y, calibrated).to_dict(),
        }
        if len(val_y)
        else {}
    )
    data_hash = hashlib.sha256("".join(sorted(e[1] for e in train)).encode()).hexdigest()
    minutes = (time.perf_counter() - started) / 60
    command = "python -m pipeline train " + " ".join(sys.argv[2:]) if sys.argv[1:2] == ["train"] else ""
    info = ModelInfo(
        name=f"certainty-attention-{config.backbone}",
        version=args.version,
        sha256="",
        trained=True,
        backbone=config.backbone,
        input_size=size,
        threshold=DEFAULT_THRESHOLD,
        calibration_temperature=temperature,
        calibration_bias=bias,
        created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        training_data_sha256=data_hash,
        weights_source=BACKBONES[config.backbone].weights_source,
        metrics={
            "val": metrics,
            "train_clips": len(train),
            "val_clips": len(val),
            "training_minutes": round(minutes, 1),
            "recipe": {
                "epochs": args.epochs,
                "batch_size": args.batch_size,
                "learning_rate": args.lr,
                "fine_tune_layers": args.fine_tune_layers,
                "augment_copies": 0 if args.no_augment else args.augment_copies,
                "frames": settings.frames,
                "seed": args.seed,
            },
            "history": {k: [round(float(v), 5) for v in vs] for k, vs in history.history.items()},
        },
        architecture=asdict(config),
        notes=f"trained for {args.epochs} epochs on {args.data}" + (f" by `{command}`" if command else ""),
    )
    info = save_detector(model, args.out, info)
    print(f"saved {args.out} (sha256 {info.sha256[:12]}) in {minutes:.1f} min")
    print(f"calibration: temperature {temperature:.3f}, bias {bias:+.3f}")
    print(json.dumps(metrics, indent=1))
    return 0
