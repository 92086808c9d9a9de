"""The network's per-clip outputs as numpy arrays: what the runtime returns and the lab draws."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from pipeline.model.config import ModelInfo
    from pipeline.model.fast_encoder import FastEncoderStatus


@dataclass(frozen=True)
class ModelOutput:
    """Per-clip outputs of the network, as numpy arrays over the T sampled frames."""

    video_probability: float
    frame_probability: np.ndarray
    certainty: np.ndarray
    attention: np.ndarray


class ScoringModel(Protocol):
    """What scoring, the dashboard and the Attention lab need of a loaded model; met by the Keras
    runtime (`runtime.LoadedModel`) and by the LiteRT one (`lite.LiteModel`)."""

    info: ModelInfo
    input_size: int
    feature_dim: int
    encoder_status: FastEncoderStatus

    @property
    def attention_temperature(self) -> float: ...

    @property
    def certainty_measure(self) -> str: ...

    def set_attention_temperature(self, temperature: float) -> None: ...

    def encode(self, crops: np.ndarray) -> np.ndarray: ...

    def predict_features(self, features: np.ndarray, mask: np.ndarray) -> ModelOutput: ...

    def frame_features(self, face_crops: np.ndarray, mask: np.ndarray) -> np.ndarray: ...

    def predict(self, face_crops: np.ndarray, mask: np.ndarray) -> ModelOutput: ...

    def predict_at_temperature(self, features: np.ndarray, mask: np.ndarray, temperature: float) -> ModelOutput: ...
