"""TFLite copies of the whole network (encoder and head), run by LiteRT without TensorFlow."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from pipeline.model import lite
from pipeline.model.architecture import build_detector
from pipeline.model.config import ModelConfig, ModelInfo
from pipeline.model.runtime import ENCODE_BUCKET
from pipeline.model.storage import untrained_detector

TINY = ModelConfig(backbone="tiny_cnn", input_size=64, pretrained_backbone=False, lstm_units=8, members=2)
# Scores from the copies equal Keras's within this (the copies agree to about 1e-6).
SCORE_TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory):
    """A tiny two-member ensemble, its copies written beside it, and the record."""
    folder = tmp_path_factory.mktemp("lite")
    keras_model = untrained_detector(TINY)
    path = folder / "tiny.keras"
    record = lite.write_copies(keras_model.encoder, keras_model.head, keras_model.attention_layers, path, ENCODE_BUCKET)
    return keras_model, path, record


def _info() -> ModelInfo:
    return ModelInfo(name="tiny", version="t", sha256="x", trained=False, backbone="tiny_cnn", input_size=64)


def test_copies_reproduce_keras_on_clips_masks_and_temperatures(exported) -> None:
    keras_model, path, record = exported
    model, reason = lite.load_lite_model(path, _info(), {lite.METADATA_KEY: record.to_json_dict()})
    assert model is not None, reason
    assert record.head_difference <= lite.HEAD_PARITY_TOLERANCE
    rng = np.random.default_rng(5)
    for frames, faces in ((16, 16), (16, 9), (40, 3), (3, 1)):
        mask = np.zeros(frames, np.float32)
        mask[rng.choice(frames, faces, replace=False)] = 1
        crops = rng.random((faces, 64, 64, 3), dtype=np.float32)
        for temperature in (keras_model.attention_temperature, 0.07, 2.0):
            keras_model.set_attention_temperature(temperature)
            model.set_attention_temperature(temperature)
            ours, theirs = model.predict(crops, mask), keras_model.predict(crops, mask)
            assert ours.video_probability == pytest.approx(theirs.video_probability, abs=SCORE_TOLERANCE)
            for name in ("frame_probability", "certainty", "attention"):
                np.testing.assert_allclose(getattr(ours, name), getattr(theirs, name), atol=SCORE_TOLERANCE)
        keras_model.set_attention_temperature(record.attention_temperature)


def test_a_copy_that_is_not_the_recorded_one_is_refused(exported, tmp_path: Path) -> None:
    _, path, record = exported
    metadata = {lite.METADATA_KEY: record.to_json_dict()}
    other = untrained_detector(replace(TINY, members=1, lstm_units=4))
    foreign = tmp_path / "tiny.keras"
    lite.sidecar_path(foreign).write_bytes(lite.sidecar_path(path).read_bytes())
    lite.head_copy_path(foreign).write_bytes(lite.convert_head(other.head, other.attention_layers, other.feature_dim))
    model, reason = lite.load_lite_model(foreign, _info(), metadata)
    assert model is None and "sha256" in reason
    lite.head_copy_path(foreign).unlink()
    model, reason = lite.load_lite_model(foreign, _info(), metadata)
    assert model is None and "missing" in reason
    assert lite.load_lite_model(path, _info(), {})[0] is None


def test_a_runtime_that_no_longer_computes_the_recorded_probe_is_refused(exported) -> None:
    _, path, record = exported
    drifted = replace(record, probe_video=[v + 0.01 for v in record.probe_video])
    model, reason = lite.load_lite_model(path, _info(), {lite.METADATA_KEY: drifted.to_json_dict()})
    assert model is None and "probe" in reason


def test_export_refuses_a_head_that_differs_from_keras(exported) -> None:
    keras_model, path, record = exported
    other = build_detector(TINY, seed=99)
    wrong_head = lite.convert_head(
        other.get_layer("sequence_head"), keras_model.attention_layers, keras_model.feature_dim
    )
    with pytest.raises(ValueError, match="head differs"):
        lite.export_copies(
            lite.sidecar_path(path).read_bytes(),
            wrong_head,
            keras_model.encode,
            lite.keras_head_function(keras_model.head, keras_model.attention_layers),
            record.attention_temperature,
            record.certainty_measure,
            ENCODE_BUCKET,
        )
