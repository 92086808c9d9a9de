"""A loaded detector ready to score: encode face crops, run the head, return a `ModelOutput`."""

from __future__ import annotations

import keras
import numpy as np

from pipeline.model.architecture import SEQUENCE_HEAD, head_members
from pipeline.model.config import ModelInfo
from pipeline.model.fast_encoder import FastEncoderStatus, TFLiteEncoder, encode_in_batches
from pipeline.model.layers import CertaintyAttention
from pipeline.model.output import ClipPredictor, ModelOutput

ENCODE_BUCKET = 8
HEAD_BUCKET = 32


class LoadedModel(ClipPredictor):
    """A detector ready to score: load once (slow), then call `predict` per clip (fast)."""

    def __init__(self, model: keras.Model, info: ModelInfo):
        self.model = model
        self.info = info
        # Keras encodes until `load_detector` has verified a TFLite copy (fast_encoder.py).
        self.fast_encoder: TFLiteEncoder | None = None
        self.encoder_status = FastEncoderStatus("keras", "no .tflite encoder beside the model")
        self.encoder: keras.Model = model.get_layer("frame_features").layer
        self.head: keras.Model = model.get_layer(SEQUENCE_HEAD)
        self.input_size = int(self.encoder.input.shape[1])
        self.feature_dim = int(self.encoder.output.shape[-1])
        self._traced_temperature = self.attention_temperature

    def use_keras_encoder(self) -> None:
        """Score with the Keras encoder even when a verified TFLite copy exists (the reference)."""
        self.fast_encoder = None
        self.encoder_status = FastEncoderStatus("keras", "the Keras encoder was asked for")

    @property
    def attention_layers(self) -> list[CertaintyAttention]:
        """The certainty attention of every member head (one unless the head is an ensemble)."""
        return [member.get_layer("certainty_attention") for member in head_members(self.head)]

    @property
    def attention_temperature(self) -> float:
        return float(self.attention_layers[0].temperature)

    @property
    def certainty_measure(self) -> str:
        return str(self.attention_layers[0].measure)

    def set_attention_temperature(self, temperature: float) -> None:
        """Change the attention temperature at inference (the Attention lab's slider)."""
        if temperature <= 0:
            raise ValueError("attention temperature must be positive")
        for layer in self.attention_layers:
            layer.temperature = float(temperature)

    def encode(self, crops: np.ndarray) -> np.ndarray:
        """Backbone features for (N, S, S, 3) crops in 0..1.

        The verified TFLite copy when there is one (about 2x faster on a CPU), else Keras's
        `predict_on_batch`, a traced graph (about twice as fast as an eager call).
        """
        if len(crops) == 0:
            return np.zeros((0, self.feature_dim), dtype=np.float32)
        # Fixed batches of ENCODE_BUCKET crops (the last one padded): one traced graph for
        # every clip, and activation memory bounded by the batch, not by the clip.
        return encode_in_batches(self.fast_encoder or self.encoder.predict_on_batch, crops, ENCODE_BUCKET)

    def predict_features(self, features: np.ndarray, mask: np.ndarray) -> ModelOutput:
        """Run the head on (T, D) features (zeros where mask is 0).

        At the model's own attention temperature the head runs as a traced graph (8 ms
        instead of 90 ms per head on a CPU), on frames padded with masked-out ones to a
        multiple of HEAD_BUCKET so that few graphs are traced; masked frames change nothing.
        At any other temperature (the Attention lab) it runs eagerly, because a traced graph
        keeps the temperature it was traced with.
        """
        frames = len(mask)
        if self.attention_temperature == self._traced_temperature:
            padded = -(-frames // HEAD_BUCKET) * HEAD_BUCKET
            padded_features = np.zeros((1, padded, features.shape[1]), np.float32)
            padded_mask = np.zeros((1, padded), np.float32)
            padded_features[0, :frames], padded_mask[0, :frames] = features, mask
            outputs = self.head.predict_on_batch([padded_features, padded_mask])
        else:
            outputs = self.head([features[None].astype(np.float32), mask[None].astype(np.float32)], training=False)
        return ModelOutput(
            video_probability=float(np.asarray(outputs["video"]).reshape(-1)[0]),
            frame_probability=np.asarray(outputs["frame_p"])[0, :frames].astype(np.float64),
            certainty=np.asarray(outputs["certainty"])[0, :frames].astype(np.float64),
            attention=np.asarray(outputs["attention"])[0, :frames].astype(np.float64),
        )

    def predict_at_temperature(self, features: np.ndarray, mask: np.ndarray, temperature: float) -> ModelOutput:
        """The head on (T, D) features at another attention temperature, restored afterwards
        (the Attention lab's slider). Callers sharing the model must hold their lock around it."""
        previous = self.attention_temperature
        try:
            self.set_attention_temperature(temperature)
            return self.predict_features(features, np.asarray(mask, dtype=np.float32))
        finally:
            self.set_attention_temperature(previous)
