"""Every part of inference as a verified TFLite copy, run by LiteRT without TensorFlow.

Why: a fresh `score` process spent most of its time and memory importing TensorFlow and
building Keras models (8.1 s start-to-result and 1.2 GB on a 10-s 720p clip, against 0.54 s
of scoring). The frame encoder already had a TFLite copy; here the sequence head (frame
head, certainty attention, masked LSTM, ensemble mean) gets one too, converted with the
attention temperature as an input so that the Attention lab needs no Keras either.

When a model is saved, both copies are written beside the .keras file and verified against
Keras on a probe batch; the metadata records their sha256 and what LiteRT computed on the
probe (`LiteRecord`). At load, a copy is used only when its sha256 matches the record and
LiteRT still computes the recorded probe outputs; otherwise the caller loads Keras.
Loading from this module imports no TensorFlow.
"""

from __future__ import annotations

import hashlib
import threading
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from pipeline.model.fast_encoder import (
    PARITY_TOLERANCE,
    FastEncoderStatus,
    TFLiteEncoder,
    encode_in_batches,
    probe_batch,
    sidecar_path,
)
from pipeline.model.output import ClipPredictor, ModelOutput
from pipeline.model.tflite_runtime import make_interpreter

HEAD_SUFFIX = ".head.tflite"
# Largest |LiteRT - Keras| of any head output (probabilities, certainties, attention) on the
# probe: the float32 copy of the shipped head agrees to about 2e-6.
HEAD_PARITY_TOLERANCE = 1e-4
# Largest |now - recorded| of LiteRT's own probe outputs at load: the same file on the same
# runtime computes the same numbers; another runtime version or CPU may round differently.
REPLAY_TOLERANCE = 1e-4
# Probe clips for the head: (sampled frames, frames with a face), at three temperatures.
PROBE_CLIPS = ((32, 32), (32, 20), (7, 7), (64, 5), (5, 1))
PROBE_TEMPERATURES = (0.05, 1.0)
PROBE_SEED = 20261203
METADATA_KEY = "tflite_copies"


def head_copy_path(model_path: str | Path) -> Path:
    """`models/detector.keras` -> `models/detector.head.tflite`."""
    path = Path(model_path)
    return path.with_name(path.stem + HEAD_SUFFIX)


def output_arrays(output: ModelOutput) -> list[np.ndarray]:
    """Every output of the head as arrays, in one order, for comparing two runtimes."""
    video = np.array([output.video_probability])
    return [video, output.frame_probability, output.certainty, output.attention]


class HeadFunction(Protocol):
    def __call__(self, features: np.ndarray, mask: np.ndarray, temperature: float) -> ModelOutput: ...


def convert_head(head: Any, attention_layers: list[Any], feature_dim: int) -> bytes:
    """The Keras sequence head as a float32 TFLite flatbuffer with inputs (features (1, T, D),
    face mask (1, T), temperature ()) and outputs (video, frame_p, certainty, attention).

    The attention layers read their temperature as a Python attribute; while tracing, it is
    the temperature input, so one file serves every temperature."""
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    specs = [
        tf.TensorSpec([1, None, feature_dim], tf.float32, name="features"),
        tf.TensorSpec([1, None], tf.float32, name="face_mask"),
        tf.TensorSpec([], tf.float32, name="temperature"),
    ]

    def run(features: Any, mask: Any, temperature: Any) -> tuple[Any, ...]:
        saved = [layer.temperature for layer in attention_layers]
        for layer in attention_layers:
            object.__setattr__(layer, "temperature", temperature)
        try:
            out = head([features, mask], training=False)
        finally:
            for layer, value in zip(attention_layers, saved, strict=True):
                object.__setattr__(layer, "temperature", value)
        return (tf.reshape(out["video"], [1]), out["frame_p"], out["certainty"], out["attention"])

    function = tf.function(run, input_signature=specs)
    frozen = convert_variables_to_constants_v2(function.get_concrete_function())
    converter = tf.lite.TFLiteConverter.from_concrete_functions([frozen])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bytes(converter.convert())


class TFLiteHead:
    """Runs a converted head on one clip at a time (resized to the clip's length; one call at a
    time, as the interpreter is not thread-safe)."""

    def __init__(self, flatbuffer: bytes, threads: int = 1):
        self._interpreter = make_interpreter(model_content=flatbuffer, threads=threads)
        inputs = self._interpreter.get_input_details()
        self._features, self._mask, self._temperature = (d["index"] for d in inputs)
        self.feature_dim = int(inputs[0]["shape_signature"][-1])
        self._outputs = [d["index"] for d in self._interpreter.get_output_details()]
        self._frames = -1
        self._lock = threading.Lock()

    def __call__(self, features: np.ndarray, mask: np.ndarray, temperature: float) -> ModelOutput:
        frames = len(mask)
        with self._lock:
            if frames != self._frames:
                self._interpreter.resize_tensor_input(self._features, [1, frames, self.feature_dim])
                self._interpreter.resize_tensor_input(self._mask, [1, frames])
                self._interpreter.allocate_tensors()
                self._frames = frames
            self._interpreter.set_tensor(self._features, np.ascontiguousarray(features[None], dtype=np.float32))
            self._interpreter.set_tensor(self._mask, np.ascontiguousarray(mask[None], dtype=np.float32))
            self._interpreter.set_tensor(self._temperature, np.array(temperature, dtype=np.float32))
            self._interpreter.invoke()
            video, frame_p, certainty, attention = (
                np.array(self._interpreter.get_tensor(i), dtype=np.float64).reshape(-1) for i in self._outputs
            )
        return ModelOutput(float(video[0]), frame_p, certainty, attention)


def probe_clips(features: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Deterministic (features, mask) clips drawn from `features`, the encoder's features of the
    probe crops, so the head sees features on the scale of real ones."""
    rng = np.random.default_rng(PROBE_SEED)
    clips = []
    for frames, faces in PROBE_CLIPS:
        mask = np.zeros(frames, np.float32)
        mask[np.sort(rng.choice(frames, faces, replace=False))] = 1.0
        clip = np.zeros((frames, features.shape[1]), np.float32)
        clip[mask > 0] = features[rng.integers(0, len(features), faces)]
        clips.append((clip, mask))
    return clips


def head_difference(
    lite: HeadFunction, reference: HeadFunction, clips: list[tuple[np.ndarray, np.ndarray]], temperatures: list[float]
) -> float:
    """The largest |lite - reference| of any output, over every probe clip and temperature."""
    worst = 0.0
    for features, mask in clips:
        for temperature in temperatures:
            ours = output_arrays(lite(features, mask, temperature))
            pairs = zip(ours, output_arrays(reference(features, mask, temperature)), strict=True)
            worst = max(worst, *(float(np.max(np.abs(a - b))) for a, b in pairs))
    return worst


@dataclass(frozen=True)
class LiteRecord:
    """What the metadata says about the copies (key `tflite_copies`)."""

    encoder_sha256: str
    head_sha256: str
    attention_temperature: float
    certainty_measure: str
    input_size: int
    feature_dim: int
    encoder_difference: float  # largest |LiteRT - Keras| on the probe at save time
    head_difference: float
    probe_video: list[float]  # LiteRT's video probabilities on the probe clips (replayed at load)
    probe_features: list[float]  # LiteRT's mean feature of each probe crop

    def to_json_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json_dict(cls, data: dict[str, Any]) -> LiteRecord:
        return cls(**{key: data[key] for key in cls.__dataclass_fields__})


class LiteModel(ClipPredictor):
    """A detector scored entirely in LiteRT: the same interface as the Keras runtime for scoring,
    the dashboard and the Attention lab (`encode`, `predict_features`, `predict`, temperature)."""

    runtime = "tflite"

    def __init__(self, info: Any, encoder: TFLiteEncoder, head: TFLiteHead, record: LiteRecord, status_reason: str):
        self.info = info
        self.fast_encoder = encoder
        self.head = head
        self.record = record
        self.input_size = record.input_size
        self.feature_dim = record.feature_dim
        self.certainty_measure = record.certainty_measure
        self._temperature = record.attention_temperature
        self.encoder_status = FastEncoderStatus("tflite", status_reason, record.encoder_difference)

    @property
    def attention_temperature(self) -> float:
        return self._temperature

    def set_attention_temperature(self, temperature: float) -> None:
        """Change the attention temperature at inference (an input of the head copy)."""
        if temperature <= 0:
            raise ValueError("attention temperature must be positive")
        self._temperature = float(temperature)

    def encode(self, crops: np.ndarray) -> np.ndarray:
        """Backbone features for (N, S, S, 3) crops in 0..1."""
        if len(crops) == 0:
            return np.zeros((0, self.feature_dim), dtype=np.float32)
        return encode_in_batches(self.fast_encoder, crops, self.fast_encoder.batch)

    def predict_features(self, features: np.ndarray, mask: np.ndarray) -> ModelOutput:
        """The head on (T, D) features (zeros where mask is 0) at the current temperature."""
        return self.head(np.asarray(features, np.float32), np.asarray(mask, np.float32), self._temperature)

    def predict_at_temperature(self, features: np.ndarray, mask: np.ndarray, temperature: float) -> ModelOutput:
        """The head at another attention temperature (the Attention lab); nothing to restore."""
        if temperature <= 0:
            raise ValueError("attention temperature must be positive")
        return self.head(np.asarray(features, np.float32), np.asarray(mask, np.float32), float(temperature))


def _probe_record(encoder: TFLiteEncoder, head: TFLiteHead, input_size: int, temperature: float) -> dict[str, Any]:
    """LiteRT's own outputs on the probe: features' means and the clips' video probabilities."""
    features = encoder(probe_batch(input_size, encoder.batch))
    clips = probe_clips(features)
    return {
        "probe_features": [float(v) for v in features.mean(axis=1)],
        "probe_video": [head(f, m, temperature).video_probability for f, m in clips],
    }


def export_copies(
    encoder_flatbuffer: bytes,
    head_flatbuffer: bytes,
    keras_encode: Any,
    keras_head: HeadFunction,
    attention_temperature: float,
    certainty_measure: str,
    batch: int,
) -> LiteRecord:
    """Verify both flatbuffers against Keras on the probe; raises ValueError when either differs."""
    encoder = TFLiteEncoder(encoder_flatbuffer, batch)
    head = TFLiteHead(head_flatbuffer)
    size = encoder.input_size
    probe = probe_batch(size, batch)
    keras_features = np.asarray(keras_encode(probe), dtype=np.float32)
    encoder_difference = float(np.max(np.abs(encoder(probe) - keras_features)))
    if not encoder_difference <= PARITY_TOLERANCE:
        raise ValueError(f"the TFLite encoder differs from Keras by {encoder_difference:.2g}")
    clips = probe_clips(keras_features)
    temperatures = [attention_temperature, *PROBE_TEMPERATURES]
    difference = head_difference(head, keras_head, clips, temperatures)
    if not difference <= HEAD_PARITY_TOLERANCE:
        raise ValueError(f"the TFLite head differs from Keras by {difference:.2g}")
    return LiteRecord(
        encoder_sha256=hashlib.sha256(encoder_flatbuffer).hexdigest(),
        head_sha256=hashlib.sha256(head_flatbuffer).hexdigest(),
        attention_temperature=float(attention_temperature),
        certainty_measure=certainty_measure,
        input_size=size,
        feature_dim=head.feature_dim,
        encoder_difference=encoder_difference,
        head_difference=difference,
        **_probe_record(encoder, head, size, attention_temperature),
    )


def keras_head_function(head: Any, attention_layers: list[Any]) -> HeadFunction:
    """The Keras head called eagerly at any temperature: the reference the copy must match."""

    def run(features: np.ndarray, mask: np.ndarray, temperature: float) -> ModelOutput:
        saved = [layer.temperature for layer in attention_layers]
        for layer in attention_layers:
            layer.temperature = float(temperature)
        try:
            out = head([features[None].astype(np.float32), mask[None].astype(np.float32)], training=False)
        finally:
            for layer, value in zip(attention_layers, saved, strict=True):
                layer.temperature = value
        return ModelOutput(
            float(np.asarray(out["video"]).reshape(-1)[0]),
            *(np.asarray(out[key], dtype=np.float64).reshape(-1) for key in ("frame_p", "certainty", "attention")),
        )

    return run


def write_copies(
    encoder: Any, head: Any, attention_layers: list[Any], model_path: str | Path, batch: int
) -> LiteRecord:
    """Convert the Keras `encoder` and `head`, verify them, and write both beside `model_path`
    (nothing is written when either fails); returns the record for the metadata."""
    from pipeline.model.fast_encoder import convert_encoder

    encoder_flatbuffer = convert_encoder(encoder)
    feature_dim = int(encoder.output.shape[-1])
    head_flatbuffer = convert_head(head, attention_layers, feature_dim)
    record = export_copies(
        encoder_flatbuffer,
        head_flatbuffer,
        lambda crops: encode_in_batches(encoder.predict_on_batch, crops, batch),
        keras_head_function(head, attention_layers),
        float(attention_layers[0].temperature),
        str(attention_layers[0].measure),
        batch,
    )
    sidecar_path(model_path).write_bytes(encoder_flatbuffer)
    head_copy_path(model_path).write_bytes(head_flatbuffer)
    return record


def _read_verified(path: Path, expected_sha256: str) -> bytes:
    if not path.is_file():
        raise FileNotFoundError(f"{path.name} is missing")
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != expected_sha256:
        raise ValueError(f"{path.name} does not match the sha256 in the model's metadata")
    return data


def load_lite_model(model_path: str | Path, info: Any, metadata: dict[str, Any]) -> tuple[LiteModel | None, str]:
    """The model in LiteRT when both copies are recorded in `metadata`, match their sha256 and
    replay the recorded probe outputs; else None and why (the caller then loads Keras)."""
    if METADATA_KEY not in metadata:
        return None, "the model's metadata records no TFLite copies of the head"
    model_path = Path(model_path)
    try:
        record = LiteRecord.from_json_dict(metadata[METADATA_KEY])
        encoder = TFLiteEncoder(_read_verified(sidecar_path(model_path), record.encoder_sha256), record_batch(record))
        head = TFLiteHead(_read_verified(head_copy_path(model_path), record.head_sha256))
        replay = _probe_record(encoder, head, record.input_size, record.attention_temperature)
    except Exception as error:  # missing runtime, missing or foreign file, damaged record
        return None, f"TFLite copies unusable ({type(error).__name__}: {error})"
    keys = ("probe_features", "probe_video")
    drift = max(float(np.max(np.abs(np.subtract(replay[key], getattr(record, key))))) for key in keys)
    if not drift <= REPLAY_TOLERANCE:
        return None, f"LiteRT no longer reproduces the recorded probe outputs (difference {drift:.2g})"
    reason = (
        f"TFLite copies verified at save (encoder {record.encoder_difference:.1e}, head {record.head_difference:.1e})"
    )
    return LiteModel(info, encoder, head, record, reason), reason


def record_batch(record: LiteRecord) -> int:
    """The encoder batch the probe was recorded with (its feature means, one per crop)."""
    return len(record.probe_features)
