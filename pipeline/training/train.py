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
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import keras
import numpy as np
from tqdm import tqdm

from pipeline.errors import DataError, PipelineError
from pipeline.faces.registry import create_detector
from pipeline.faces.track import to_model_input
from pipeline.model.architecture import SEQUENCE_HEAD, assemble_detector, build_detector, build_head, compile_detector
from pipeline.model.backbones import BACKBONES
from pipeline.model.config import ModelConfig, ModelInfo
from pipeline.model.report import TrainingReport
from pipeline.model.storage import save_detector
from pipeline.scoring.calibration import calibrate, cross_fitted_calibration, fit_platt
from pipeline.scoring.extraction import FaceExtraction
from pipeline.settings import DEFAULT_CACHE_DIR, DEFAULT_MODEL_PATH, Settings
from pipeline.training.augment import augment_clip
from pipeline.training.cache import cached_extract_faces
from pipeline.training.datasets import Clip, check_group_split, family_weights, load_clips
from pipeline.training.heads import (
    FeatureBank,
    HeadRecipe,
    adapt_normalisation,
    clip_groups,
    feature_bank,
    frozen_features,
    group_folds,
    run_key,
    train_members,
    training_targets,
    video_probabilities,
)
from pipeline.training.metrics import auc_or_none, compute_metrics

# Calibrated probabilities make 0.5 the equal-cost decision point.
DEFAULT_THRESHOLD = 0.5


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("data", type=Path, help="manifest CSV (file,label[,split,group]) or FF++/DFDC folder")
    parser.add_argument(
        "--recipe", type=Path, help="a TOML file of these options over the defaults (e.g. configs/detector-1.2.0.toml)"
    )
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
    parser.add_argument("--members", type=int, default=1, help="frozen backbone: heads averaged in an ensemble")
    parser.add_argument(
        "--refit-all",
        action="store_true",
        help="frozen backbone: after measuring the recipe on val, ship a model retrained on every clip "
        "(train and val), calibrated on out-of-fold predictions; the train-only model is kept beside it",
    )
    parser.add_argument(
        "--folds",
        type=int,
        default=5,
        help="group folds for --refit-all's calibration (0: calibrate on the development model's val predictions)",
    )
    parser.add_argument(
        "--development-backbone",
        choices=sorted(BACKBONES),
        help="with --refit-all: the backbone of the train-only model (default: --backbone). For a backbone "
        "fine-tuned on every clip, give its train-split twin here, so val stays held out",
    )
    parser.add_argument(
        "--development-out",
        type=Path,
        help="with --refit-all: where the train-only model goes (default: OUT's name + _development)",
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

    def __getitem__(self, index: int) -> tuple[Any, Any]:
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


@dataclass
class TrainedHeads:
    """What a training run produced, before it is saved."""

    model: keras.Model
    val_probabilities: np.ndarray
    histories: list[dict[str, list[float]]]
    cross_validation: dict[str, object] | None = None
    development_model: keras.Model | None = None
    calibration: tuple[float, float] | None = None  # Platt (temperature, bias) when not fitted on val


def run_train(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    clips = load_clips(args.data)
    check_group_split(clips)
    missing = [c for c in clips if not c.path.exists()]
    if missing:
        raise DataError(f"{len(missing)} clips listed but missing, e.g. {missing[0].path}")
    if args.max_clips:
        clips = clips[: args.max_clips]
    if args.fine_tune_layers > 0 and (args.members > 1 or args.refit_all):
        raise DataError("--members and --refit-all need a frozen backbone (--fine-tune-layers 0)")
    settings = Settings().with_overrides(frames=args.frames, detector=args.detector)
    config = ModelConfig(
        backbone=args.backbone,
        input_size=settings.crop_size,
        lstm_units=args.lstm_units,
        certainty_source=args.certainty_source,
        members=max(1, args.members),
    )
    extracted = extract_all(clips, settings, args.cache_dir)
    train = [e for e in extracted if e[0].split == "train"]
    val = [e for e in extracted if e[0].split == "val"]
    if not train:
        raise DataError("no training clips with faces")
    print(f"clips with faces: train {len(train)}, val {len(val)}", file=sys.stderr)
    if args.refit_all and not val:
        raise DataError("--refit-all needs val clips to measure the recipe on first")
    if args.development_backbone and not args.refit_all:
        raise DataError("--development-backbone names the train-only model of a --refit-all run: add --refit-all")
    if args.development_backbone not in (None, args.backbone) and args.folds >= 2:
        raise DataError(
            "a backbone fine-tuned on every clip has seen every fold, so cross-validating heads on it "
            "is optimistic: with --development-backbone use --folds 0 (calibration from the "
            "development model's held-out val predictions)"
        )

    if args.fine_tune_layers <= 0:
        trained = _train_frozen(args, config, settings, train + val)
    else:
        trained = _train_end_to_end(args, config, settings, train, val)

    val_y = np.array([e[0].label for e in val], dtype=np.float32)
    val_p = trained.val_probabilities
    val_platt = fit_platt(val_y, val_p) if len(np.unique(val_y)) == 2 else (1.0, 0.0)
    val_metrics = (
        {
            "raw": compute_metrics(val_y, val_p).to_dict(),
            "calibrated": compute_metrics(val_y, np.array([calibrate(p, *val_platt) for p in val_p])).to_dict(),
        }
        if len(val_y)
        else {}
    )
    minutes = (time.perf_counter() - started) / 60
    command = "python -m pipeline train " + " ".join(sys.argv[2:]) if sys.argv[1:2] == ["train"] else ""
    common = {
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
            "members": config.members,
            "refit_all": bool(args.refit_all),
            "folds": args.folds if args.refit_all else None,
            "development_backbone": args.development_backbone if args.refit_all else None,
        },
        "history": trained.histories[0] if trained.histories else {},
        "member_histories": trained.histories,
    }

    def model_info(
        splits: list[str],
        platt: tuple[float, float],
        metrics: dict[str, object],
        note: str,
        version: str,
        backbone: str = config.backbone,
    ) -> ModelInfo:
        used = [e for e in extracted if e[0].split in splits]
        return ModelInfo(
            name=f"certainty-attention-{backbone}",
            version=version,
            sha256="",
            trained=True,
            backbone=backbone,
            input_size=config.input_size,
            threshold=DEFAULT_THRESHOLD,
            calibration_temperature=platt[0],
            calibration_bias=platt[1],
            created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            training_data_sha256=hashlib.sha256("".join(sorted(e[1] for e in used)).encode()).hexdigest(),
            weights_source=BACKBONES[backbone].weights_source,
            metrics=TrainingReport.from_dict(
                {**common, **metrics, "train_clips": len(used), "trained_on_splits": splits}
            ),
            architecture=asdict(replace(config, backbone=backbone)),
            notes=note,
        )

    trained_by = f"by `{command}`" if command else f"on {args.data}"
    if trained.development_model is not None:
        development_out = args.development_out or args.out.with_name(f"{args.out.stem}_development{args.out.suffix}")
        development = model_info(
            ["train"],
            val_platt,
            {"val": {**val_metrics, "model": "this model"}},
            f"the development model of a --refit-all run {trained_by}: trained on the train split only, "
            "so its val metrics are held out; Platt calibration fitted on val",
            f"{args.version}-development",
            backbone=args.development_backbone or config.backbone,
        )
        development = save_detector(trained.development_model, development_out, development)
        print(f"saved {development_out} (train split only; sha256 {development.sha256[:12]})")
    platt = trained.calibration or val_platt
    metrics: dict[str, object] = {"val": {**val_metrics, "model": "this model"}}
    splits = ["train"]
    note = f"trained for {args.epochs} epochs {trained_by}"
    if args.refit_all:
        splits = ["train", "val"]
        metrics = {
            "val": {**val_metrics, "model": "development (the same recipe trained on the train split only)"},
            "cross_validation": trained.cross_validation,
        }
        calibrated_on = (
            "out-of-fold predictions" if trained.cross_validation else "the development model's val predictions"
        )
        note = (
            f"trained for {args.epochs} epochs on every clip (train and val) {trained_by}; "
            f"val metrics are the train-only development model's, calibration from {calibrated_on}"
        )
    info = save_detector(trained.model, args.out, model_info(splits, platt, metrics, note, args.version))
    print(f"saved {args.out} (sha256 {info.sha256[:12]}) in {minutes:.1f} min")
    print(f"calibration: temperature {platt[0]:.3f}, bias {platt[1]:+.3f}")
    print(json.dumps(metrics, indent=1))
    return 0


def _train_frozen(
    args: argparse.Namespace, config: ModelConfig, settings: Settings, extracted: list[tuple[Clip, str, FaceExtraction]]
) -> TrainedHeads:
    """Frozen backbone: features once, then every head (members, folds, refit) on them."""
    clips = [e[0] for e in extracted]
    crops, masks = padded_crops([e[2] for e in extracted], settings.frames, config.input_size)
    labels = np.array([c.label for c in clips], dtype=np.float32)
    copies = 0 if args.no_augment else args.augment_copies
    shas = [e[1] for e in extracted]

    def frozen(backbone: str) -> tuple[keras.Model, keras.Model, FeatureBank, str]:
        """(detector, its frozen encoder, the encoder's feature bank, the bank's key) for one backbone."""
        detector = build_detector(replace(config, backbone=backbone), seed=args.seed)
        encoder = detector.get_layer("frame_features").layer
        encoder.trainable = False
        key = run_key(shas, settings.extraction_key(), backbone, config.input_size, copies, args.seed)
        bank = feature_bank(
            encoder, crops, masks, labels, clips, copies=copies, seed=args.seed,
            cache_file=args.cache_dir / "features" / f"{key}.npz",
        )  # fmt: skip
        return detector, encoder, bank, key

    model, encoder, bank, features_key = frozen(config.backbone)
    head = model.get_layer(SEQUENCE_HEAD)
    feature_dim = int(encoder.output.shape[-1])
    recipe = HeadRecipe(args.epochs, args.batch_size, args.lr, args.seed)
    checkpoints = args.cache_dir / "train_backup" / args.out.stem / run_key(features_key, asdict(config), recipe,
                                                                          args.refit_all, args.folds,
                                                                          args.development_backbone)  # fmt: skip
    checkpoints.mkdir(parents=True, exist_ok=True)
    train_rows = np.array([i for i, c in enumerate(clips) if c.split == "train"])
    val_rows = np.array([i for i, c in enumerate(clips) if c.split == "val"], dtype=int)

    def new_head(offset: int) -> keras.Model:
        keras.utils.set_random_seed(args.seed + offset)
        return build_head(feature_dim, config)

    if not args.refit_all:
        histories = train_members(head, bank, train_rows, recipe, tag="model", checkpoints=checkpoints,
                                  validation_rows=val_rows, validation_freq=args.validation_freq)  # fmt: skip
        return TrainedHeads(model, video_probabilities(head, *bank.clean(val_rows)), histories)

    development_encoder, development_bank = encoder, bank
    if args.development_backbone not in (None, config.backbone):
        _, development_encoder, development_bank, _ = frozen(args.development_backbone)
    development_head = new_head(1000)
    histories = train_members(development_head, development_bank, train_rows, recipe, tag="development",
                              checkpoints=checkpoints, validation_rows=val_rows,
                              validation_freq=args.validation_freq)  # fmt: skip
    val_p = video_probabilities(development_head, *development_bank.clean(val_rows))
    development_model = assemble_detector(development_encoder, development_head)
    all_rows = np.arange(len(clips))
    if args.folds < 2:
        train_members(head, bank, all_rows, recipe, tag="final", checkpoints=checkpoints)
        platt = fit_platt(labels[val_rows], val_p)
        return TrainedHeads(model, val_p, histories, development_model=development_model, calibration=platt)
    out_of_fold = np.zeros(len(clips))
    folds = group_folds(clips, args.folds)
    for fold, (fit_rows, test_rows) in enumerate(folds):
        fold_head = new_head(2000 + fold)
        train_members(fold_head, bank, fit_rows, recipe, tag=f"fold{fold}", checkpoints=checkpoints)
        out_of_fold[test_rows] = video_probabilities(fold_head, *bank.clean(test_rows))
    train_members(head, bank, all_rows, recipe, tag="final", checkpoints=checkpoints)
    platt = fit_platt(labels, out_of_fold)
    calibrated = np.array([calibrate(p, *platt) for p in out_of_fold])
    datasets = np.array([c.dataset for c in clips])
    cross_validation = {
        "folds": len(folds),
        "clips": len(clips),
        "by": "group (a person or a source video never straddles two folds)",
        "raw": compute_metrics(labels, out_of_fold).to_dict(),
        "calibrated": compute_metrics(labels, calibrated).to_dict(),
        "calibrated_cross_fitted": compute_metrics(
            labels, cross_fitted_calibration(labels, out_of_fold, clip_groups(clips))
        ).to_dict(),
        "per_dataset_auc": {
            dataset: auc
            for dataset in sorted(set(datasets))
            if (auc := auc_or_none(labels[datasets == dataset], out_of_fold[datasets == dataset])) is not None
        },
        "clip_probabilities": {c.path.name: round(float(p), 5) for c, p in zip(clips, out_of_fold, strict=True)},
    }
    return TrainedHeads(
        model,
        val_p,
        histories,
        cross_validation=cross_validation,
        development_model=development_model,
        calibration=platt,
    )


def _train_end_to_end(
    args: argparse.Namespace,
    config: ModelConfig,
    settings: Settings,
    train: list[tuple[Clip, str, FaceExtraction]],
    val: list[tuple[Clip, str, FaceExtraction]],
) -> TrainedHeads:
    """Fine-tune the last backbone layers with the head, on the cached crops."""
    model = build_detector(config, seed=args.seed)
    encoder = model.get_layer("frame_features").layer
    head = model.get_layer(SEQUENCE_HEAD)
    size = config.input_size
    train_crops, train_masks = padded_crops([e[2] for e in train], settings.frames, size)
    val_crops, val_masks = padded_crops([e[2] for e in val], settings.frames, size)
    train_y = np.array([e[0].label for e in train], dtype=np.float32)
    val_y = np.array([e[0].label for e in val], dtype=np.float32)
    backup = args.cache_dir / "train_backup" / args.out.stem
    sample = slice(0, min(len(train_crops), 64))
    adapt_normalisation(head, frozen_features(encoder, train_crops[sample], train_masks[sample]), train_masks[sample])
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
        callbacks=[keras.callbacks.BackupAndRestore(str(backup))],
        verbose=2,
    )
    val_p = (
        np.concatenate([np.asarray(model.predict_on_batch(x)["video"]).reshape(-1) for x, _ in val_data])
        if val_data
        else np.array([])
    )
    record = {k: [round(float(v), 5) for v in vs] for k, vs in history.history.items()}
    return TrainedHeads(model, val_p, [record])
