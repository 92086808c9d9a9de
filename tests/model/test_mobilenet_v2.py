"""MobileNetV2 backbone: builds, loads the committed ImageNet weights, and still matches torchvision.

The reference numbers below were produced by torchvision 0.29.1 (torch 2.14.1)
with ``tools/verify_mobilenet_v2.py torch``; they guard the conversion and the
layer graph (padding, BN epsilon, normalisation) without needing torch here.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from pipeline.model import mobilenet_v2 as mnv2

# torchvision logits at 224x224 (skimage image, resize order=1 + anti-aliasing, 0..1).
TORCH_TOP5 = {
    "astronaut": [
        (450, 10.40196),
        (560, 10.174787),
        (518, 8.926611),
        (571, 8.808651),
        (907, 8.762283),
    ],
    "chelsea": [
        (285, 16.763809),
        (282, 15.161962),
        (281, 14.640261),
        (728, 12.489473),
        (287, 11.299058),
    ],
    "coffee": [
        (967, 20.671663),
        (968, 15.436968),
        (504, 13.907967),
        (925, 12.932195),
        (809, 11.835676),
    ],
}
TOL = 1e-3


def _image(name: str, size: int = 224) -> np.ndarray:
    import skimage.data
    from skimage.transform import resize

    img = resize(getattr(skimage.data, name)(), (size, size), order=1, anti_aliasing=True)
    return img.astype(np.float32)[None]


@pytest.fixture(scope="module")
def classifier() -> keras.Model:
    return mnv2.build_mobilenet_v2(include_top=True, weights="imagenet_offline")


@pytest.fixture(scope="module")
def logits(classifier: keras.Model) -> dict[str, np.ndarray]:
    batch = np.concatenate([_image(n) for n in TORCH_TOP5])
    out = np.asarray(classifier(batch, training=False))
    return dict(zip(TORCH_TOP5, out, strict=True))


def test_builds_headless_with_1280_features() -> None:
    model = mnv2.build_mobilenet_v2(weights=None)
    assert model.output_shape == (None, 1280)
    assert not any(isinstance(layer, keras.layers.Lambda) for layer in model.layers)


def test_committed_weights_file_is_present_and_small() -> None:
    assert mnv2.DEFAULT_WEIGHTS_PATH.is_file()
    assert mnv2.DEFAULT_WEIGHTS_PATH.stat().st_size < 15_000_000


def test_headless_loads_same_weights_as_classifier(classifier: keras.Model) -> None:
    headless = mnv2.build_mobilenet_v2((160, 160, 3), include_top=False, weights="imagenet_offline")
    assert headless.output_shape == (None, 1280)
    for layer in headless.layers:
        for a, b in zip(
            layer.get_weights(),
            classifier.get_layer(layer.name).get_weights(),
            strict=True,
        ):
            np.testing.assert_array_equal(a, b)
    feats = np.asarray(headless(_image("chelsea", 160), training=False))
    assert feats.shape == (1, 1280) and np.isfinite(feats).all() and feats.min() >= 0.0


def test_chelsea_is_a_cat(logits: dict[str, np.ndarray]) -> None:
    assert int(np.argmax(logits["chelsea"])) in range(281, 286)


@pytest.mark.parametrize("name", list(TORCH_TOP5))
def test_top5_logits_match_torchvision(logits: dict[str, np.ndarray], name: str) -> None:
    got = logits[name]
    assert [int(i) for i in np.argsort(-got)[:5]] == [i for i, _ in TORCH_TOP5[name]]
    for idx, ref in TORCH_TOP5[name]:
        assert abs(float(got[idx]) - ref) < TOL, (name, idx, float(got[idx]), ref)


def test_missing_weights_file_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(mnv2, "DEFAULT_WEIGHTS_PATH", tmp_path / "absent.weights.h5")
    with pytest.raises(FileNotFoundError, match="convert_mobilenet_v2"):
        mnv2.build_mobilenet_v2((96, 96, 3))


def test_keras_file_round_trips_in_safe_mode(tmp_path: Path) -> None:
    model = mnv2.build_mobilenet_v2((64, 64, 3), weights=None)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    x = np.random.default_rng(0).random((2, 64, 64, 3), dtype=np.float32)
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), atol=1e-5)
