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
import sys
from pathlib import Path

import keras
import numpy as np
from tqdm import tqdm

from pipeline.cache import cached_extract_faces
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


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("data", type=Path, help="manifest CSV (file,label[,split,group]) or FF++/DFDC folder")
    parser.add_argument("--out", type=Path, default=DEFAULT_MODEL_PATH, help="where to save the .keras model")
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-4, help="Adam learning rate")
    parser.add_argument("--frames", type=int, default=Settings().frames, help="frames sampled per clip")
    parser.add_argument("--detector", default=Settings().detector)
    parser.add_argument("--backbone", default="mobilenet_v2", choices=sorted(BACKBONES))
    parser.add_argument("--fine-tune-layers", type=int, default=0, help="backbone layers to train (0: frozen)")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE_DIR)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-clips", type=int, help="use at most this many clips (quick runs)")
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


def _padded(items: list[FaceExtraction], frames: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    crops = np.zeros((len(items), frames, size, size, 3), dtype=np.uint8)
    masks = np.zeros((len(items), frames), dtype=np.float32)
    for i, faces in enumerate(items):
        mask = faces.mask[:frames]
        crops[i, : len(mask)][mask > 0] = faces.crops[: int(mask.sum())]
        masks[i, : len(mask)] = mask
    return crops, masks


def _targets(labels: np.ndarray, masks: np.ndarray) -> dict[str, np.ndarray]:
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


def _features(encoder: keras.Model, crops: np.ndarray, masks: np.ndarray, batch: int = 64) -> np.ndarray:
    """Frozen-backbone features for the face frames; zeros elsewhere."""
    n, t = masks.shape
    flat_crops = crops.reshape(n * t, *crops.shape[2:])
    picked = np.flatnonzero(masks.reshape(-1) > 0)
    features = np.zeros((n * t, int(encoder.output.shape[-1])), dtype=np.float32)
    for start in tqdm(range(0, len(picked), batch), desc="features", unit="batch", file=sys.stderr):
        rows = picked[start : start + batch]
        features[rows] = np.asarray(encoder(to_model_input(flat_crops[rows]), training=False))
    return features.reshape(n, t, -1)


class CropSequence(keras.utils.PyDataset):
    """Batches of (frames, mask) for end-to-end training, scaled to 0..1 on the fly."""

    def __init__(self, crops: np.ndarray, masks: np.ndarray, labels: np.ndarray, batch_size: int, seed: int):
        super().__init__()
        self.crops, self.masks, self.labels, self.batch_size = crops, masks, labels, batch_size
        self.order = np.random.default_rng(seed).permutation(len(labels))

    def __len__(self) -> int:
        return int(np.ceil(len(self.labels) / self.batch_size))

    def __getitem__(self, index: int):
        rows = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        return (
            {"frames": to_model_input(self.crops[rows]), "face_mask": self.masks[rows]},
            _targets(self.labels[rows], self.masks[rows]),
        )


def run_train(args: argparse.Namespace) -> int:
    clips = load_clips(args.data)
    check_group_split(clips)
    missing = [c for c in clips if not c.path.exists()]
    if missing:
        raise DataError(f"{len(missing)} clips listed but missing, e.g. {missing[0].path}")
    if args.max_clips:
        clips = clips[: args.max_clips]
    settings = Settings().with_overrides(frames=args.frames, detector=args.detector)
    config = ModelConfig(backbone=args.backbone, input_size=settings.crop_size)
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
    train_crops, train_masks = _padded([e[2] for e in train], settings.frames, size)
    val_crops, val_masks = _padded([e[2] for e in val], settings.frames, size)
    train_y = np.array([e[0].label for e in train], dtype=np.float32)
    val_y = np.array([e[0].label for e in val], dtype=np.float32)
    backup = args.cache_dir / "train_backup" / args.out.stem
    callbacks: list[keras.callbacks.Callback] = [keras.callbacks.BackupAndRestore(str(backup))]

    if args.fine_tune_layers <= 0:
        encoder.trainable = False
        train_x = [_features(encoder, train_crops, train_masks), train_masks]
        val_x = [_features(encoder, val_crops, val_masks), val_masks] if val else None
        compile_detector(head, args.lr)
        head.fit(
            train_x,
            _targets(train_y, train_masks),
            validation_data=(val_x, _targets(val_y, val_masks)) if val else None,
            epochs=args.epochs,
            batch_size=args.batch_size,
            callbacks=callbacks,
            verbose=1,
        )
        val_p = np.asarray(head.predict(val_x, verbose=0)["video"]).reshape(-1) if val else np.array([])
    else:
        for layer in encoder.layers[: -args.fine_tune_layers]:
            layer.trainable = False
        compile_detector(model, args.lr)
        train_data = CropSequence(train_crops, train_masks, train_y, args.batch_size, args.seed)
        val_data = CropSequence(val_crops, val_masks, val_y, args.batch_size, args.seed) if val else None
        model.fit(train_data, validation_data=val_data, epochs=args.epochs, callbacks=callbacks, verbose=1)
        val_p = (
            np.asarray(model.predict([to_model_input(val_crops), val_masks], verbose=0)["video"]).reshape(-1)
            if val
            else np.array([])
        )

    metrics = compute_metrics(val_y, val_p).to_dict() if len(val_y) else {}
    data_hash = hashlib.sha256("".join(sorted(e[1] for e in train)).encode()).hexdigest()
    info = ModelInfo(
        name=f"certainty-attention-{config.backbone}",
        version=args.version,
        sha256="",
        trained=True,
        backbone=config.backbone,
        input_size=size,
        created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        training_data_sha256=data_hash,
        weights_source=BACKBONES[config.backbone].weights_source,
        metrics={"val": metrics, "train_clips": len(train), "val_clips": len(val)},
        notes=f"trained by `python -m pipeline train {args.data}` for {args.epochs} epochs",
    )
    info = save_detector(model, args.out, info)
    print(f"saved {args.out} (sha256 {info.sha256[:12]}); val: {metrics}")
    return 0
