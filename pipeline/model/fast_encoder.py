"""The frame encoder compiled to TensorFlow Lite: the same features for less CPU.

Why: on a 2-core CPU, running the backbone over 32 face crops cost more than decoding
the whole clip (`make bench`). TFLite's XNNPACK kernels run the same float32 network
about 2x faster than Keras's traced graph (2.1x in the model stage of `make bench`).
The .tflite file is written beside the .keras file when a model is saved (or later by
`python -m pipeline.model.fast_encoder MODEL`). It is used only when its sha256 matches
the model's metadata *and* it reproduces the Keras features on a probe batch at load;
otherwise the Keras encoder runs. A stale or foreign file can slow scoring down but
never change a verdict.
"""

from __future__ import annotations

import hashlib
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.model.tflite_runtime import default_threads, make_interpreter

SIDECAR_SUFFIX = ".encoder.tflite"
# Largest |TFLite - Keras| allowed on the probe batch. The float32 copies agree to below 1e-6
# (shipped features reach about 0.3); an int8 copy of the shipped encoder differs by about 1e-2,
# another model's encoder by far more.
PARITY_TOLERANCE = 1e-3
PROBE_SEED = 20261127


def sidecar_path(model_path: str | Path) -> Path:
    """`models/detector.keras` -> `models/detector.encoder.tflite`."""
    path = Path(model_path)
    return path.with_name(path.stem + SIDECAR_SUFFIX)


def convert_encoder(encoder: Any) -> bytes:
    """The Keras `encoder` (crops -> features) as a float32 TFLite flatbuffer."""
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    size = int(encoder.input.shape[1])
    spec = tf.TensorSpec([None, size, size, 3], tf.float32)
    function = tf.function(lambda crops: encoder(crops, training=False), input_signature=[spec])
    frozen = convert_variables_to_constants_v2(function.get_concrete_function())
    converter = tf.lite.TFLiteConverter.from_concrete_functions([frozen])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bytes(converter.convert())


class TFLiteEncoder:
    """Runs a converted encoder on fixed batches; one call at a time (the interpreter is not
    thread-safe, and the dashboard shares one loaded model between sessions)."""

    def __init__(self, flatbuffer: bytes, batch: int, threads: int | None = None):
        self._interpreter = make_interpreter(model_content=flatbuffer, threads=threads or default_threads())
        details = self._interpreter.get_input_details()[0]
        self.input_size = int(details["shape"][1])
        self.batch = batch
        self._interpreter.resize_tensor_input(details["index"], [batch, self.input_size, self.input_size, 3])
        self._interpreter.allocate_tensors()
        self._input = details["index"]
        self._output = self._interpreter.get_output_details()[0]["index"]
        self._lock = threading.Lock()

    def __call__(self, crops: np.ndarray) -> np.ndarray:
        """Features of exactly `batch` crops, (batch, S, S, 3) float32 in 0..1."""
        if crops.shape[0] != self.batch:
            raise ValueError(f"expected a batch of {self.batch} crops, got {crops.shape[0]}")
        with self._lock:
            self._interpreter.set_tensor(self._input, np.ascontiguousarray(crops, dtype=np.float32))
            self._interpreter.invoke()
            return np.array(self._interpreter.get_tensor(self._output), dtype=np.float32)


def probe_batch(size: int, count: int) -> np.ndarray:
    """Deterministic face-sized inputs with smooth structure and fine texture, in 0..1."""
    rng = np.random.default_rng(PROBE_SEED)
    coarse = rng.random((count, 8, 8, 3), dtype=np.float32)
    smooth = np.repeat(np.repeat(coarse, -(-size // 8), axis=1), -(-size // 8), axis=2)[:, :size, :size]
    noise = rng.random((count, size, size, 3), dtype=np.float32)
    return np.clip(0.8 * smooth + 0.2 * noise, 0.0, 1.0).astype(np.float32)


@dataclass(frozen=True)
class FastEncoderStatus:
    """Which encoder scores, and why (shown by `make bench` and the model's info)."""

    runtime: str  # "tflite" or "keras"
    reason: str
    max_difference: float | None = None


def verified_encoder(
    flatbuffer: bytes, keras_encode: Callable[[np.ndarray], np.ndarray], batch: int, name: str
) -> tuple[TFLiteEncoder | None, FastEncoderStatus]:
    """`flatbuffer` as an encoder, if it reproduces `keras_encode` on the probe batch."""
    try:
        encoder = TFLiteEncoder(flatbuffer, batch)
        probe = probe_batch(encoder.input_size, batch)
        difference = float(np.max(np.abs(encoder(probe) - keras_encode(probe))))
    except Exception as error:  # a damaged file or a missing runtime: fall back, say why
        return None, FastEncoderStatus("keras", f"{name} cannot run ({type(error).__name__}: {error})")
    if not difference <= PARITY_TOLERANCE:
        return None, FastEncoderStatus(
            "keras", f"{name} differs from the Keras encoder by {difference:.2g}", difference
        )
    return encoder, FastEncoderStatus("tflite", f"{name} matches the Keras encoder", difference)


def load_fast_encoder(
    model_path: Path,
    expected_sha256: str | None,
    keras_encode: Callable[[np.ndarray], np.ndarray],
    batch: int,
) -> tuple[TFLiteEncoder | None, FastEncoderStatus]:
    """The verified TFLite encoder beside `model_path`, or None and the reason it is not used."""
    path = sidecar_path(model_path)
    if not path.is_file():
        return None, FastEncoderStatus("keras", "no .tflite encoder beside the model")
    flatbuffer = path.read_bytes()
    if expected_sha256 is None:
        return None, FastEncoderStatus("keras", f"{path.name} is not recorded in the model's metadata")
    if hashlib.sha256(flatbuffer).hexdigest() != expected_sha256:
        return None, FastEncoderStatus("keras", f"{path.name} does not match the sha256 in the model's metadata")
    return verified_encoder(flatbuffer, keras_encode, batch, path.name)


def encode_in_batches(run: Callable[[np.ndarray], np.ndarray], crops: np.ndarray, batch: int) -> np.ndarray:
    """`run` over fixed batches of `batch` crops (the last one padded with zeros), concatenated."""
    count = len(crops)
    padded = -(-count // batch) * batch
    if padded != count:
        crops = np.concatenate([crops, np.zeros((padded - count, *crops.shape[1:]), dtype=crops.dtype)])
    parts = [np.asarray(run(crops[i : i + batch]), dtype=np.float32) for i in range(0, padded, batch)]
    return np.concatenate(parts)[:count]


def training_encoder(encoder: Any, batch: int) -> tuple[Callable[[np.ndarray], np.ndarray], FastEncoderStatus]:
    """A function (N, S, S, 3) -> features for the frozen-feature passes of training: the
    encoder converted in memory and verified like a shipped one (5.7x faster than the eager
    Keras calls it replaces, on 640 crops), or Keras itself when conversion or verification fails."""

    def keras_run(crops: np.ndarray) -> np.ndarray:
        return np.asarray(encoder(crops, training=False), dtype=np.float32)

    try:
        flatbuffer = convert_encoder(encoder)
    except Exception as error:  # an op TFLite cannot convert: train on Keras, as before
        return keras_run, FastEncoderStatus("keras", f"conversion failed ({type(error).__name__}: {error})")
    fast, status = verified_encoder(flatbuffer, keras_run, batch, "the converted encoder")
    if fast is None:
        return keras_run, status
    return (lambda crops: encode_in_batches(fast, crops, batch)), status


def write_sidecar(encoder: Any, model_path: str | Path) -> str:
    """Convert `encoder` and write it beside `model_path`; returns the file's sha256."""
    flatbuffer = convert_encoder(encoder)
    sidecar_path(model_path).write_bytes(flatbuffer)
    return hashlib.sha256(flatbuffer).hexdigest()
