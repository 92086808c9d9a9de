"""The paper's certainty-based attention, as serialisable Keras layers.

Each frame's fake probability p_t gives a certainty c_t (how far from a coin flip it
is). Attention is a softmax of c_t / temperature over the frames that show a face,
so confident frames speak louder and frames without a face are silent (weight 0).
"""

from __future__ import annotations

import math
from typing import Any

import keras
from keras import ops

from pipeline.settings import ATTENTION_TEMPERATURE, CERTAINTY_MEASURE

PACKAGE = "dfd"
CERTAINTY_MEASURES = ("margin", "entropy")
_EPSILON = 1e-7
_MASKED_LOGIT = -1e9
_LN2 = math.log(2.0)


def certainty_from_probability(p: Any, measure: str = CERTAINTY_MEASURE) -> Any:
    """Certainty in 0..1: |2p-1| ('margin') or 1 - binary entropy in bits ('entropy')."""
    if measure == "margin":
        return ops.abs(2.0 * p - 1.0)
    if measure == "entropy":
        q = ops.clip(p, _EPSILON, 1.0 - _EPSILON)
        entropy = -(q * ops.log(q) + (1.0 - q) * ops.log(1.0 - q)) / _LN2
        return 1.0 - entropy
    raise ValueError(f"unknown certainty measure {measure!r}; use one of {CERTAINTY_MEASURES}")


@keras.saving.register_keras_serializable(package=PACKAGE)
class CertaintyAttention(keras.layers.Layer):
    """Inputs: per-frame probabilities (B, T) and a face mask (B, T). Outputs: certainty, attention.

    `uniform=True` gives every face frame the same weight: the ablation "LSTM without attention".
    """

    def __init__(
        self,
        temperature: float = ATTENTION_TEMPERATURE,
        measure: str = CERTAINTY_MEASURE,
        uniform: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if temperature <= 0:
            raise ValueError("attention temperature must be positive")
        if measure not in CERTAINTY_MEASURES:
            raise ValueError(f"unknown certainty measure {measure!r}; use one of {CERTAINTY_MEASURES}")
        self.temperature = float(temperature)
        self.measure = measure
        self.uniform = bool(uniform)

    def call(self, inputs: Any) -> Any:
        probabilities, mask = inputs
        mask = ops.cast(mask, probabilities.dtype)
        certainty = certainty_from_probability(probabilities, self.measure) * mask
        scores = ops.zeros_like(certainty) if self.uniform else certainty / self.temperature
        logits = ops.where(mask > 0, scores, _MASKED_LOGIT)
        logits = logits - ops.max(logits, axis=-1, keepdims=True)
        weights = ops.exp(logits) * mask
        attention = weights / (ops.sum(weights, axis=-1, keepdims=True) + _EPSILON)
        return certainty, attention

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "temperature": self.temperature,
            "measure": self.measure,
            "uniform": self.uniform,
        }


@keras.saving.register_keras_serializable(package=PACKAGE)
class AttentionWeighting(keras.layers.Layer):
    """Scale each frame's features by its attention times the number of face frames.

    The factor keeps the average frame at its original scale, so the LSTM sees
    inputs of the same magnitude whatever the clip length.
    """

    def call(self, inputs: Any) -> Any:
        features, attention, mask = inputs
        mask = ops.cast(mask, features.dtype)
        face_frames = ops.sum(mask, axis=-1, keepdims=True)
        scale = attention * face_frames
        return features * ops.expand_dims(scale, -1)


@keras.saving.register_keras_serializable(package=PACKAGE)
class FaceMaskToBool(keras.layers.Layer):
    """Float face mask -> boolean mask, so the LSTM skips frames without a face."""

    def call(self, mask: Any) -> Any:
        return ops.greater(mask, 0.5)


@keras.saving.register_keras_serializable(package=PACKAGE)
class MaskedBinaryCrossentropy(keras.losses.Loss):
    """Frame-level BCE that ignores frames labelled -1 (no face in that frame)."""

    def __init__(self, name: str = "masked_bce", **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        y_true = ops.cast(y_true, y_pred.dtype)
        valid = ops.cast(y_true >= 0, y_pred.dtype)
        target = ops.clip(y_true, 0.0, 1.0)
        q = ops.clip(y_pred, _EPSILON, 1.0 - _EPSILON)
        loss = -(target * ops.log(q) + (1.0 - target) * ops.log(1.0 - q)) * valid
        return ops.sum(loss, axis=-1) / (ops.sum(valid, axis=-1) + _EPSILON)


@keras.saving.register_keras_serializable(package=PACKAGE)
class MaskFrames(keras.layers.Layer):
    """Zero the features of frames without a face (normalisation would make them non-zero)."""

    def call(self, inputs: Any) -> Any:
        features, mask = inputs
        return features * ops.expand_dims(ops.cast(mask, features.dtype), -1)


@keras.saving.register_keras_serializable(package=PACKAGE)
class TemporalDifference(keras.layers.Layer):
    """|x_t - x_(t-1)| between consecutive face frames (0 where either frame has no face).

    How much the face's features move from one sampled frame to the next: generators
    that render each frame (or each mouth) separately jitter or freeze in ways that a
    single frame cannot show.
    """

    def call(self, inputs: Any) -> Any:
        features, mask = inputs
        mask = ops.cast(mask, features.dtype)
        previous = ops.concatenate([features[:, :1], features[:, :-1]], axis=1)
        previous_mask = ops.concatenate([ops.zeros_like(mask[:, :1]), mask[:, :-1]], axis=1)
        both = ops.expand_dims(mask * previous_mask, -1)
        return ops.abs(features - previous) * both


@keras.saving.register_keras_serializable(package=PACKAGE)
class AttentionPooling(keras.layers.Layer):
    """Attention-weighted mean and standard deviation of the frame features over time.

    The attention sums to 1 over face frames, so these are the clip's feature statistics
    as the certainty-weighted frames describe them; the standard deviation carries how
    much the face changes across the clip.
    """

    def call(self, inputs: Any) -> Any:
        features, attention = inputs
        weights = ops.expand_dims(attention, -1)
        mean = ops.sum(features * weights, axis=1)
        variance = ops.sum(ops.square(features - ops.expand_dims(mean, 1)) * weights, axis=1)
        return ops.concatenate([mean, ops.sqrt(variance + _EPSILON)], axis=-1)
