"""Training sequence heads on a frozen backbone: feature banks, seed ensembles, group folds.

With the backbone frozen, the costly part (the CNN over every face crop, clean and in
each augmented copy) runs once and is cached on disk; every head after that (ensemble
members, cross-validation folds, the final refit on all clips) trains on the same stored
features in about a minute each on a laptop CPU.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
from tqdm import tqdm

from pipeline.faces.track import to_model_input
from pipeline.model.architecture import compile_detector, head_members
from pipeline.model.fast_encoder import training_encoder
from pipeline.training.augment import augment_clip
from pipeline.training.datasets import Clip, family_weights

NO_FACE_LABEL = -1.0
FEATURE_BATCH = 64


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


def frozen_features(
    encoder: keras.Model,
    crops: np.ndarray,
    masks: np.ndarray,
    batch: int = FEATURE_BATCH,
    encode: Callable[[np.ndarray], np.ndarray] | None = None,
) -> np.ndarray:
    """Frozen-backbone features for the face frames; zeros elsewhere. `encode` (crops in 0..1 ->
    features) replaces the eager Keras call, e.g. with `training_encoder`'s TFLite copy."""
    run = encode or (lambda x: np.asarray(encoder(x, training=False)))
    n, t = masks.shape
    flat_crops = crops.reshape(n * t, *crops.shape[2:])
    picked = np.flatnonzero(masks.reshape(-1) > 0)
    features = np.zeros((n * t, int(encoder.output.shape[-1])), dtype=np.float32)
    for start in tqdm(range(0, len(picked), batch), desc="features", unit="batch", file=sys.stderr):
        rows = picked[start : start + batch]
        features[rows] = run(to_model_input(flat_crops[rows]))
    return features.reshape(n, t, -1)


def feature_stack(encoder: keras.Model, crops: np.ndarray, masks: np.ndarray, copies: int, seed: int) -> np.ndarray:
    """(copies + 1, clips, T, D): the clean clips' features, then one array per augmented copy."""
    encode, status = training_encoder(encoder, FEATURE_BATCH)
    print(f"frozen features on {status.runtime}: {status.reason}", file=sys.stderr)
    rng = np.random.default_rng(seed)
    stack = [frozen_features(encoder, crops, masks, encode=encode)]
    for copy in range(copies):
        print(f"augmented copy {copy + 1} of {copies}", file=sys.stderr)
        degraded = np.stack([augment_clip(clip, rng) for clip in crops])
        stack.append(frozen_features(encoder, degraded, masks, encode=encode))
    return np.stack(stack)


@dataclass(frozen=True)
class FeatureBank:
    """Backbone features of every clip: copy 0 is clean, copies 1.. are augmented."""

    features: np.ndarray  # (copies + 1, clips, T, D)
    masks: np.ndarray  # (clips, T)
    labels: np.ndarray  # (clips,)
    clips: tuple[Clip, ...]

    def training_set(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Features, masks, labels and family-balanced weights (mean 1) of `rows`, every copy."""
        repeats = len(self.features)
        weights = np.tile(family_weights([self.clips[i] for i in rows]), repeats)
        return (
            self.features[:, rows].reshape(-1, *self.features.shape[2:]),
            np.tile(self.masks[rows], (repeats, 1)),
            np.tile(self.labels[rows], repeats),
            (weights / weights.mean()).astype(np.float32),
        )

    def clean(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.features[0, rows], self.masks[rows]


def feature_bank(
    encoder: keras.Model,
    crops: np.ndarray,
    masks: np.ndarray,
    labels: np.ndarray,
    clips: Sequence[Clip],
    *,
    copies: int,
    seed: int,
    cache_file: Path | None = None,
) -> FeatureBank:
    """Compute (or read back) the features of every clip, clean and augmented."""
    if cache_file is not None and cache_file.exists():
        with np.load(cache_file) as stored:
            features = stored["features"]
        print(f"features read from {cache_file}", file=sys.stderr)
    else:
        features = feature_stack(encoder, crops, masks, copies, seed)
        if cache_file is not None:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            partial = cache_file.with_suffix(".partial.npz")
            np.savez(partial, features=features)
            partial.replace(cache_file)
    return FeatureBank(features, masks, labels.astype(np.float32), tuple(clips))


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
    """Train one sequence head on frozen features: the one recipe shared by `train` and the ablation."""
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


@dataclass(frozen=True)
class HeadRecipe:
    """How every head of a run is trained (the paper's optimiser settings by default)."""

    epochs: int = 50
    batch_size: int = 32
    learning_rate: float = 1e-4
    seed: int = 0


def train_members(
    head: keras.Model,
    bank: FeatureBank,
    rows: np.ndarray,
    recipe: HeadRecipe,
    *,
    tag: str,
    checkpoints: Path | None = None,
    validation_rows: np.ndarray | None = None,
    validation_freq: int = 1,
) -> list[dict[str, list[float]]]:
    """Train each member of `head` on `rows` (member i with seed `recipe.seed + i`).

    With `checkpoints`, a finished member's weights are kept there, so a crashed run
    resumes after its last finished head instead of starting over. Returns each
    member's training history.
    """
    features, masks, labels, weights = bank.training_set(rows)
    validation = None
    if validation_rows is not None and len(validation_rows):
        validation = (*bank.clean(validation_rows), bank.labels[validation_rows])
    histories = []
    for index, member in enumerate(head_members(head)):
        done = checkpoints / f"{tag}_member{index}.weights.h5" if checkpoints else None
        if done is not None and done.exists():
            adapt_normalisation(member, features, masks)  # builds the layer so the weights fit
            member.load_weights(done)
            histories.append(json.loads(done.with_suffix(".history.json").read_text()))
            print(f"{tag}: member {index} read from {done}", file=sys.stderr)
            continue
        callbacks = (
            [keras.callbacks.BackupAndRestore(str(checkpoints / f"{tag}_member{index}_backup"))]
            if checkpoints is not None
            else []
        )
        history = fit_head(
            member,
            features,
            masks,
            labels,
            weights,
            epochs=recipe.epochs,
            batch_size=recipe.batch_size,
            learning_rate=recipe.learning_rate,
            seed=recipe.seed + index,
            validation=validation,
            validation_freq=validation_freq,
            callbacks=callbacks,
        )
        record = {k: [round(float(v), 5) for v in vs] for k, vs in history.history.items()}
        histories.append(record)
        if done is not None:
            member.save_weights(done)
            done.with_suffix(".history.json").write_text(json.dumps(record))
        print(f"{tag}: member {index + 1} of {len(head_members(head))} trained", file=sys.stderr)
    return histories


def video_probabilities(head: keras.Model, features: np.ndarray, masks: np.ndarray) -> np.ndarray:
    if len(features) == 0:
        return np.zeros(0)
    return np.asarray(head.predict([features, masks], verbose=0, batch_size=128)["video"], dtype=float).reshape(-1)


def clip_groups(clips: Sequence[Clip]) -> np.ndarray:
    """Each clip's group (a person or a source video); a clip without one is its own group."""
    return np.array([c.group or str(c.path) for c in clips])


def group_folds(clips: Sequence[Clip], folds: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train rows, test rows) per fold; a group (a person or a source video) never straddles two."""
    from sklearn.model_selection import GroupKFold

    groups = clip_groups(clips)
    folds = min(folds, len(np.unique(groups)))
    if folds < 2:
        raise ValueError("cross-validation needs at least two groups")
    rows = np.arange(len(clips))
    return [(train, test) for train, test in GroupKFold(folds).split(rows, groups=groups)]


def run_key(*parts: object) -> str:
    """A short digest naming the cached features or checkpoints of one exact recipe."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]
