"""The TFLite copy of the frame encoder: used only when it is the model's own and reproduces Keras."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pipeline.model.architecture import build_detector
from pipeline.model.config import ModelConfig, ModelInfo
from pipeline.model.fast_encoder import probe_batch, sidecar_path, write_sidecar
from pipeline.model.storage import load_detector, save_detector

TINY = ModelConfig(backbone="tiny_cnn", input_size=64, pretrained_backbone=False, lstm_units=8)


def _saved(tmp_path: Path, seed: int = 3, name: str = "tiny.keras") -> Path:
    info = ModelInfo(name="tiny", version="t1", sha256="", trained=True, backbone="tiny_cnn", input_size=64)
    path = tmp_path / name
    save_detector(build_detector(TINY, seed=seed), path, info)
    return path


def test_saving_writes_a_verified_tflite_encoder_that_matches_keras(tmp_path: Path):
    path = _saved(tmp_path)
    meta = json.loads(path.with_suffix(".json").read_text())
    assert sidecar_path(path).is_file() and len(meta["encoder_tflite_sha256"]) == 64
    loaded = load_detector(path)
    assert loaded.encoder_status.runtime == "tflite", loaded.encoder_status.reason
    crops = np.random.default_rng(0).random((11, 64, 64, 3), dtype=np.float32)  # not a multiple of the batch
    fast = loaded.encode(crops)
    loaded.use_keras_encoder()
    reference = loaded.encode(crops)
    assert fast.shape == reference.shape == (11, loaded.feature_dim)
    np.testing.assert_allclose(fast, reference, atol=1e-5)
    mask = np.ones(11, dtype=np.float32)
    assert loaded.predict(crops, mask).video_probability == pytest.approx(
        load_detector(path).predict(crops, mask).video_probability, abs=1e-6
    )


def test_a_missing_or_unrecorded_sidecar_falls_back_to_keras(tmp_path: Path):
    path = _saved(tmp_path)
    sidecar_path(path).unlink()
    status = load_detector(path).encoder_status
    assert status.runtime == "keras" and "no .tflite" in status.reason
    meta_file = path.with_suffix(".json")
    meta = json.loads(meta_file.read_text())
    write_sidecar(load_detector(path).encoder, path)
    meta["encoder_tflite_sha256"] = None
    meta_file.write_text(json.dumps(meta))
    assert "not recorded" in load_detector(path).encoder_status.reason


def test_a_foreign_encoder_is_refused_even_when_its_hash_is_recorded(tmp_path: Path):
    """Another model's encoder, recorded in the metadata: the probe batch exposes it."""
    path = _saved(tmp_path, seed=3)
    other = _saved(tmp_path, seed=4, name="other.keras")
    sidecar_path(path).write_bytes(sidecar_path(other).read_bytes())
    meta_file = path.with_suffix(".json")
    meta = json.loads(meta_file.read_text())
    meta["encoder_tflite_sha256"] = json.loads(other.with_suffix(".json").read_text())["encoder_tflite_sha256"]
    meta_file.write_text(json.dumps(meta))
    status = load_detector(path).encoder_status
    assert status.runtime == "keras" and "differs from the Keras encoder" in status.reason
    assert status.max_difference is not None and status.max_difference > 1e-3


def test_a_damaged_or_swapped_file_is_refused_by_its_hash(tmp_path: Path):
    path = _saved(tmp_path)
    data = bytearray(sidecar_path(path).read_bytes())
    data[len(data) // 2] ^= 0xFF
    sidecar_path(path).write_bytes(bytes(data))
    status = load_detector(path).encoder_status
    assert status.runtime == "keras" and "does not match the sha256" in status.reason


def test_probe_batch_is_deterministic_and_in_range():
    a, b = probe_batch(32, 4), probe_batch(32, 4)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (4, 32, 32, 3) and a.min() >= 0.0 and a.max() <= 1.0 and a.std() > 0.05


def test_the_shipped_model_scores_with_its_verified_tflite_encoder():
    from pipeline.settings import DEFAULT_MODEL_PATH

    if not DEFAULT_MODEL_PATH.exists():
        pytest.skip("no shipped model")
    status = load_detector(DEFAULT_MODEL_PATH).encoder_status
    assert status.runtime == "tflite", status.reason
    assert status.max_difference is not None and status.max_difference < 1e-4


def test_training_features_come_from_a_verified_tflite_copy_or_from_keras(monkeypatch: pytest.MonkeyPatch):
    from pipeline.model import fast_encoder
    from pipeline.model.fast_encoder import training_encoder

    encoder = build_detector(TINY, seed=5).get_layer("frame_features").layer
    crops = np.random.default_rng(2).random((70, 64, 64, 3), dtype=np.float32)  # one full batch and a partial one
    reference = np.asarray(encoder(crops, training=False))
    encode, status = training_encoder(encoder, batch=64)
    assert status.runtime == "tflite", status.reason
    np.testing.assert_allclose(encode(crops), reference, atol=1e-5)

    def cannot_convert(_encoder: object) -> bytes:
        raise RuntimeError("unsupported op")

    monkeypatch.setattr(fast_encoder, "convert_encoder", cannot_convert)
    encode, status = training_encoder(encoder, batch=64)
    assert status.runtime == "keras" and "unsupported op" in status.reason
    np.testing.assert_allclose(encode(crops), reference, atol=1e-6)
