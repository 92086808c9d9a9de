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


class ClipPredictor:
    """Encode a clip's face crops into per-frame features, then run the head: the part of
    `ScoringModel` both runtimes share. They provide `feature_dim`, `encode` and `predict_features`."""

    feature_dim: int

    def encode(self, crops: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def predict_features(self, features: np.ndarray, mask: np.ndarray) -> ModelOutput:
        raise NotImplementedError

    def frame_features(self, face_crops: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """(T, D) features: a crop for each frame where mask is 1, in order; zeros elsewhere
        (the head masks those frames out)."""
        mask = np.asarray(mask, dtype=np.float32)
        if int(mask.sum()) != len(face_crops):
            raise ValueError("one crop is needed for each masked-in frame")
        features = np.zeros((len(mask), self.feature_dim), dtype=np.float32)
        features[mask > 0] = self.encode(face_crops)
        return features

    def predict(self, face_crops: np.ndarray, mask: np.ndarray) -> ModelOutput:
        """Score one clip: `face_crops` holds a crop for each frame where mask is 1, in order."""
        mask = np.asarray(mask, dtype=np.float32)
        return self.predict_features(self.frame_features(face_crops, mask), mask)
