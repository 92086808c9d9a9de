"""A tiny end-to-end training run on generated clips, through the CLI entry point."""

import json
from pathlib import Path

import numpy as np
import pytest

from pipeline.cli import main
from pipeline.model.storage import load_detector
from pipeline.training import cache as cache_module

from conftest import astronaut_frames, write_video


@pytest.fixture(scope="module")
def tiny_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dataset")
    rng = np.random.default_rng(0)
    rows = ["file,label,split,group,method"]
    for i in range(6):
        frames = astronaut_frames(12 + i)  # distinct files, distinct cache entries
        fake = i % 2 == 1
        if fake:  # a crude "manipulation": noise on every frame
            frames = [np.clip(f + rng.normal(0, 25, f.shape), 0, 255).astype(np.uint8) for f in frames]
        write_video(root / f"clip{i}.mp4", frames)
        split = "val" if i >= 4 else "train"
        rows.append(f"clip{i}.mp4,{'FAKE' if fake else 'REAL'},{split},g{i},{'noise' if fake else 'original'}")
    (root / "manifest.csv").write_text("\n".join(rows) + "\n")
    return root


def _train(data: Path, out: Path, cache: Path) -> int:
    return main(
        ["train", str(data / "manifest.csv"), "--backbone", "tiny_cnn", "--epochs", "2", "--batch-size", "2",
         "--frames", "4", "--detector", "haar", "--cache-dir", str(cache), "--out", str(out)]
    )  # fmt: skip


def test_train_saves_a_loadable_model_with_metadata(tiny_dataset: Path, tmp_path: Path):
    out = tmp_path / "model.keras"
    assert _train(tiny_dataset, out, tmp_path / "cache") == 0
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["trained"] is True and meta["backbone"] == "tiny_cnn"
    assert meta["metrics"]["train_clips"] == 4 and meta["metrics"]["val_clips"] == 2
    loaded = load_detector(out)
    assert loaded.info.trained and loaded.info.sha256 == meta["sha256"]
    assert len(list((tmp_path / "cache" / "crops").glob("*.npz"))) == 6


def test_second_run_reads_crops_from_the_cache(tiny_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    cache = tmp_path / "cache"
    assert _train(tiny_dataset, tmp_path / "a.keras", cache) == 0

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded a clip although its crops were cached")

    monkeypatch.setattr(cache_module, "extract_faces", no_decoding)
    assert _train(tiny_dataset, tmp_path / "b.keras", cache) == 0


def test_end_to_end_fine_tuning_with_augmentation(tiny_dataset: Path, tmp_path: Path):
    out = tmp_path / "e2e.keras"
    code = main(
        ["train", str(tiny_dataset / "manifest.csv"), "--backbone", "tiny_cnn", "--epochs", "1", "--batch-size", "2",
         "--frames", "4", "--frames-per-clip", "3", "--fine-tune-layers", "2", "--detector", "haar",
         "--cache-dir", str(tmp_path / "cache"), "--out", str(out)]
    )  # fmt: skip
    assert code == 0
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["calibration_temperature"] > 0
    assert {"raw", "calibrated"} <= set(meta["metrics"]["val"])
    assert "loss" in meta["metrics"]["history"]


def test_family_weights_balance_labels_and_generators():
    from pipeline.training.datasets import Clip, family_weights

    clips = [Clip(Path(f"{i}"), 1, "train", str(i), "A") for i in range(6)]
    clips += [Clip(Path("b"), 1, "train", "b", "B")]
    clips += [Clip(Path(f"r{i}"), 0, "train", f"r{i}", "original", "D") for i in range(3)]
    weights = family_weights(clips)
    assert weights.sum() == pytest.approx(1.0)
    assert weights[:6].sum() == pytest.approx(weights[6]) == pytest.approx(0.25)
    assert weights[7:].sum() == pytest.approx(0.5)


def test_temperature_scaling_recovers_overconfidence():
    from pipeline.scoring.calibration import fit_temperature

    rng = np.random.default_rng(0)
    true_p = rng.uniform(0.05, 0.95, 4000)
    labels = (rng.random(4000) < true_p).astype(int)
    overconfident = 1 / (1 + np.exp(-np.log(true_p / (1 - true_p)) * 3))
    assert 2.0 < fit_temperature(labels, overconfident) < 4.5


def test_evaluate_reports_metrics_ablation_robustness_and_reliability(tiny_dataset: Path, tmp_path: Path, capsys):
    model = tmp_path / "model.keras"
    cache = tmp_path / "cache"
    assert _train(tiny_dataset, model, cache) == 0
    capsys.readouterr()
    report, diagram = tmp_path / "eval.json", tmp_path / "reliability.png"
    code = main(
        ["evaluate", str(tiny_dataset / "manifest.csv"), "--split", "all", "--model", str(model), "--frames", "4",
         "--detector", "haar", "--cache-dir", str(cache), "--ablation", "--robustness",
         "--reliability-png", str(diagram), "--json-out", str(report)]
    )  # fmt: skip
    assert code == 0
    captured = capsys.readouterr()
    printed = captured.out
    assert "| all | 6 | 3 | 3 |" in printed
    data = json.loads(report.read_text())
    assert data["rows"]["all"]["clips"] == 6 and "method: noise" in data["rows"]
    extra = data["extra_rows"]
    assert "(b) mean of frame probabilities" in extra and "(c) confident strategy" in extra
    assert "format-only classifier" in extra
    assert any(name.startswith("(a) cross-fitted calibration") for name in extra)
    assert len(data["clips"]) == 6 and {"probability_fake", "raw_probability_fake"} <= set(data["clips"][0])
    assert {"robustness: low_bitrate_150k", "robustness: downscaled_360p", "robustness: normalised_256px_crf26"} <= set(
        extra
    )
    # Haar at half resolution cannot see the wide shot's small faces: a note, not a crash or a made-up row.
    assert "robustness: wide_shot_720p_face10" in extra or (
        "wide_shot_720p_face10: 6 of 6 copies abstained (no face)" in captured.err
    )
    assert diagram.read_bytes()[:4] == b"\x89PNG"


def test_augmented_copies_keep_labels_masks_and_family_balance(tmp_path: Path):
    import keras

    from pipeline.training.datasets import Clip
    from pipeline.training.heads import feature_bank

    crop = keras.Input((8, 8, 3))
    encoder = keras.Model(crop, keras.layers.GlobalAveragePooling2D()(crop))
    crops = np.random.default_rng(0).integers(0, 255, (3, 4, 8, 8, 3), dtype=np.uint8)
    masks = np.array([[1, 1, 0, 1], [1, 1, 1, 1], [0, 1, 1, 1]], dtype=np.float32)
    labels = np.array([0, 1, 1], dtype=np.float32)
    clips = [
        Clip(Path(f"c{i}.mp4"), int(y), "train", f"g{i}", "m" if y else "original", "d") for i, y in enumerate(labels)
    ]
    cache = tmp_path / "features.npz"
    bank = feature_bank(encoder, crops, masks, labels, clips, copies=2, seed=0, cache_file=cache)
    x, m, y, w = bank.training_set(np.arange(3))
    assert x.shape == (9, 4, 3) and m.shape == (9, 4)
    np.testing.assert_array_equal(y, np.tile(labels, 3))
    np.testing.assert_array_equal(m[3:6], masks)
    assert np.all(x[m == 0] == 0)  # no features for frames without a face
    assert w.mean() == pytest.approx(1.0) and w[0] == pytest.approx(2 * w[1])  # one real weighs two fakes
    assert not np.allclose(x[:3], x[3:6])  # the copies really are degraded
    again = feature_bank(encoder, crops * 0, masks, labels, clips, copies=2, seed=0, cache_file=cache)
    np.testing.assert_array_equal(again.features, bank.features)  # read back from the cache, not recomputed


def test_platt_scaling_fixes_a_model_that_leans_to_one_side():
    from pipeline.scoring.calibration import calibrate, fit_platt, fit_temperature

    rng = np.random.default_rng(1)
    true_p = rng.uniform(0.05, 0.95, 4000)
    labels = (rng.random(4000) < true_p).astype(int)
    # Overconfident (x3) and shifted towards "real" (-1.5 on the logit scale).
    leaning = 1 / (1 + np.exp(-(np.log(true_p / (1 - true_p)) * 3 - 1.5)))
    temperature, bias = fit_platt(labels, leaning)
    assert 2.4 < temperature < 3.6 and 0.3 < bias < 0.7  # undoes x3 and -1.5/3
    fixed = np.array([calibrate(p, temperature, bias) for p in leaning])
    only_t = fit_temperature(labels, leaning)
    shrunk = np.array([calibrate(p, only_t) for p in leaning])
    assert abs(fixed.mean() - labels.mean()) < 0.01 < abs(shrunk.mean() - labels.mean())


def test_cross_fitted_calibration_never_uses_a_clips_own_group():
    from pipeline.scoring.calibration import cross_fitted_calibration
    from pipeline.training.metrics import expected_calibration_error

    rng = np.random.default_rng(2)
    true_p = rng.uniform(0.05, 0.95, 400)
    labels = (rng.random(400) < true_p).astype(int)
    leaning = 1 / (1 + np.exp(-(np.log(true_p / (1 - true_p)) * 3 - 1.5)))
    groups = np.repeat(np.arange(40), 10)
    fitted = cross_fitted_calibration(labels, leaning, groups)
    assert expected_calibration_error(labels, fitted) < 0.5 * expected_calibration_error(labels, leaning)
    flipped = labels.copy()
    flipped[groups == 7] = 1 - flipped[groups == 7]  # group 7's own labels cannot move its calibration
    again = cross_fitted_calibration(flipped, leaning, groups)
    np.testing.assert_allclose(again[groups == 7], fitted[groups == 7])
    assert not np.allclose(again[groups != 7], fitted[groups != 7])


def test_evaluate_fit_calibration_stores_platt_parameters(tiny_dataset: Path, tmp_path: Path):
    model, cache = tmp_path / "model.keras", tmp_path / "cache"
    assert _train(tiny_dataset, model, cache) == 0
    meta_file = model.with_suffix(".json")
    before = json.loads(meta_file.read_text())
    code = main(
        ["evaluate", str(tiny_dataset / "manifest.csv"), "--split", "val", "--model", str(model), "--frames", "4",
         "--detector", "haar", "--cache-dir", str(cache), "--fit-calibration"]
    )  # fmt: skip
    assert code == 0
    after = json.loads(meta_file.read_text())
    assert after["metrics"]["calibration_fit"]["clips"] == 2
    assert after["sha256"] == before["sha256"]  # the weights are untouched
    assert load_detector(model).info.calibration_bias == pytest.approx(after["calibration_bias"])


def _refit(data: Path, out: Path, cache: Path) -> int:
    return main(
        ["train", str(data / "manifest.csv"), "--backbone", "tiny_cnn", "--epochs", "1", "--batch-size", "4",
         "--frames", "4", "--detector", "haar", "--cache-dir", str(cache), "--out", str(out),
         "--members", "2", "--refit-all", "--folds", "3", "--augment-copies", "1"]
    )  # fmt: skip


def test_refit_all_ships_an_all_clip_ensemble_and_keeps_the_train_only_model(tiny_dataset: Path, tmp_path: Path):
    out = tmp_path / "model.keras"
    assert _refit(tiny_dataset, out, tmp_path / "cache") == 0
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["metrics"]["trained_on_splits"] == ["train", "val"] and meta["metrics"]["train_clips"] == 6
    cv = meta["metrics"]["cross_validation"]
    assert cv["folds"] == 3 and cv["clips"] == 6 and len(cv["clip_probabilities"]) == 6
    assert cv["calibrated_cross_fitted"]["clips"] == 6 and cv["calibrated"]["ece"] is not None
    assert meta["metrics"]["val"]["model"].startswith("development")
    assert meta["architecture"]["members"] == 2 and len(meta["metrics"]["member_histories"]) == 2
    development = out.with_name("model_development.keras")
    dev_meta = json.loads(development.with_suffix(".json").read_text())
    assert dev_meta["metrics"]["trained_on_splits"] == ["train"] and dev_meta["metrics"]["train_clips"] == 4
    assert dev_meta["version"] == meta["version"] + "-development"
    shipped, held_out = load_detector(out), load_detector(development)
    assert len(shipped.attention_layers) == 2 and shipped.info.sha256 != held_out.info.sha256


def test_refit_resumes_from_finished_heads_and_cached_features(
    tiny_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from pipeline.training import heads as frozen_training

    cache = tmp_path / "cache"
    assert _refit(tiny_dataset, tmp_path / "a.keras", cache) == 0
    first = json.loads((tmp_path / "a.json").read_text())["metrics"]["cross_validation"]["clip_probabilities"]

    def no_training(*args, **kwargs):
        raise AssertionError("re-trained a head that had finished")

    def no_features(*args, **kwargs):
        raise AssertionError("recomputed features that were cached")

    monkeypatch.setattr(frozen_training, "fit_head", no_training)
    monkeypatch.setattr(frozen_training, "feature_stack", no_features)
    assert _refit(tiny_dataset, tmp_path / "a.keras", cache) == 0
    again = json.loads((tmp_path / "a.json").read_text())["metrics"]["cross_validation"]["clip_probabilities"]
    assert again == pytest.approx(first, abs=1e-5)


def test_a_development_backbone_keeps_val_held_out_and_calibrates_the_refit_model(
    tiny_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
):
    from pipeline.model import backbones

    # A stand-in for a backbone fine-tuned on the train split only.
    twin = backbones.Backbone("tiny_cnn_twin", backbones.BACKBONES["tiny_cnn"].build, "test twin")
    monkeypatch.setitem(backbones.BACKBONES, "tiny_cnn_twin", twin)
    out = tmp_path / "model.keras"
    command = ["train", str(tiny_dataset / "manifest.csv"), "--backbone", "tiny_cnn", "--epochs", "1",
               "--batch-size", "4", "--frames", "4", "--detector", "haar", "--cache-dir", str(tmp_path / "cache"),
               "--out", str(out), "--refit-all", "--augment-copies", "1",
               "--development-backbone", "tiny_cnn_twin"]  # fmt: skip
    # Cross-validating heads on a backbone that saw every fold would be optimistic: refused.
    assert main([*command, "--folds", "3"]) != 0
    assert "--folds 0" in capsys.readouterr().err and not out.exists()
    assert main([c for c in command if c != "--refit-all"]) != 0  # a twin without a refit means nothing
    assert "add --refit-all" in capsys.readouterr().err and not out.exists()
    assert main([*command, "--folds", "0"]) == 0
    shipped = json.loads(out.with_suffix(".json").read_text())
    development = json.loads(out.with_name("model_development.json").read_text())
    assert shipped["backbone"] == "tiny_cnn" and development["backbone"] == "tiny_cnn_twin"
    assert development["architecture"]["backbone"] == "tiny_cnn_twin"
    assert shipped["metrics"]["cross_validation"] is None
    assert "development model's val predictions" in shipped["notes"]
    # Both carry the Platt fit on the development model's held-out val predictions.
    assert shipped["calibration_temperature"] == pytest.approx(development["calibration_temperature"])
    assert shipped["calibration_bias"] == pytest.approx(development["calibration_bias"])
    assert load_detector(out.with_name("model_development.keras")).info.backbone == "tiny_cnn_twin"


def test_evaluating_a_refit_model_on_val_says_in_sample_and_refuses_to_calibrate(
    tiny_dataset: Path, tmp_path: Path, capsys
):
    model, cache = tmp_path / "model.keras", tmp_path / "cache"
    assert _refit(tiny_dataset, model, cache) == 0
    before = model.with_suffix(".json").read_text()
    capsys.readouterr()
    report = tmp_path / "eval.json"
    evaluate = ["evaluate", str(tiny_dataset / "manifest.csv"), "--split", "val", "--model", str(model),
                "--frames", "4", "--detector", "haar", "--cache-dir", str(cache)]  # fmt: skip
    assert main([*evaluate, "--json-out", str(report)]) == 0
    captured = capsys.readouterr()
    assert "IN-SAMPLE" in captured.out and "IN-SAMPLE" in captured.err
    assert json.loads(report.read_text())["in_sample"] is True
    assert main([*evaluate, "--fit-calibration"]) != 0
    assert "in-sample" in capsys.readouterr().err
    assert model.with_suffix(".json").read_text() == before  # the stored calibration is untouched
    development = ["evaluate", str(tiny_dataset / "manifest.csv"), "--split", "val", "--frames", "4",
                   "--model", str(tmp_path / "model_development.keras"), "--detector", "haar",
                   "--cache-dir", str(cache), "--json-out", str(report)]  # fmt: skip
    assert main(development) == 0
    assert json.loads(report.read_text())["in_sample"] is False
