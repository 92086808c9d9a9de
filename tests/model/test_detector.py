from pathlib import Path

import numpy as np
import pytest

from pipeline.model.architecture import build_detector
from pipeline.model.config import ModelConfig, ModelInfo
from pipeline.model.layers import CertaintyAttention, certainty_from_probability
from pipeline.model.runtime import LoadedModel
from pipeline.model.storage import load_detector, save_detector

TINY = ModelConfig(backbone="tiny_cnn", input_size=64, pretrained_backbone=False, lstm_units=8)


def test_attention_sums_to_one_over_face_frames_and_is_zero_when_masked():
    p = np.array([[0.5, 0.9, 0.6, 0.99, 0.1]], dtype=np.float32)
    mask = np.array([[1, 1, 1, 0, 1]], dtype=np.float32)
    certainty, attention = (np.asarray(t) for t in CertaintyAttention(temperature=0.2)([p, mask]))
    assert attention.sum() == pytest.approx(1.0, abs=1e-5)
    assert attention[0, 3] == 0.0 and certainty[0, 3] == 0.0
    np.testing.assert_allclose(certainty[0, [0, 1, 2, 4]], [0.0, 0.8, 0.2, 0.8], atol=1e-6)
    # Higher certainty, more weight; equal certainty, equal weight.
    assert attention[0, 1] > attention[0, 2] > attention[0, 0]
    assert attention[0, 1] == pytest.approx(attention[0, 4])


def test_lower_temperature_sharpens_attention():
    p = np.array([[0.6, 0.9]], dtype=np.float32)
    mask = np.ones((1, 2), dtype=np.float32)
    soft = np.asarray(CertaintyAttention(temperature=1.0)([p, mask])[1])
    sharp = np.asarray(CertaintyAttention(temperature=0.05)([p, mask])[1])
    assert sharp[0, 1] > soft[0, 1] > 0.5


def test_entropy_certainty_is_zero_at_a_coin_flip_and_one_at_the_extremes():
    values = np.asarray(certainty_from_probability(np.array([0.5, 1e-9, 1 - 1e-9]), "entropy"))
    np.testing.assert_allclose(values, [0.0, 1.0, 1.0], atol=1e-4)


def test_model_exposes_per_frame_outputs():
    model = build_detector(TINY, seed=0)
    frames = np.random.default_rng(0).random((2, 6, 64, 64, 3), dtype=np.float32)
    mask = np.array([[1, 1, 1, 1, 0, 0], [1, 0, 1, 0, 1, 0]], dtype=np.float32)
    out = {k: np.asarray(v) for k, v in model([frames, mask]).items()}
    assert out["video"].shape == (2,)
    assert out["frame_p"].shape == out["certainty"].shape == out["attention"].shape == (2, 6)
    np.testing.assert_allclose(out["attention"].sum(axis=1), [1.0, 1.0], atol=1e-5)
    assert (out["attention"][mask == 0] == 0).all()
    assert ((out["video"] > 0) & (out["video"] < 1)).all()


def test_save_load_round_trip_gives_identical_outputs(tmp_path: Path):
    model = build_detector(TINY, seed=3)
    frames = np.random.default_rng(1).random((1, 5, 64, 64, 3), dtype=np.float32)
    mask = np.array([[1, 0, 1, 1, 1]], dtype=np.float32)
    before = {k: np.asarray(v) for k, v in model([frames, mask]).items()}
    info = ModelInfo(
        name="tiny", version="t1", sha256="", trained=True, backbone="tiny_cnn", input_size=64, threshold=0.4
    )
    saved = save_detector(model, tmp_path / "tiny.keras", info)
    loaded = load_detector(tmp_path / "tiny.keras")
    after = {k: np.asarray(v) for k, v in loaded.model([frames, mask]).items()}
    for key in before:
        np.testing.assert_array_equal(before[key], after[key])
    assert loaded.info.sha256 == saved.sha256 and len(saved.sha256) == 64
    assert loaded.info.threshold == 0.4 and loaded.info.trained
    # The split encoder/head path used by scoring agrees with the full model.
    split = loaded.predict(frames[0][mask[0] > 0], mask[0])
    assert split.video_probability == pytest.approx(float(before["video"][0]), abs=1e-5)
    np.testing.assert_allclose(split.attention, before["attention"][0], atol=1e-5)


def test_missing_explicit_model_file_is_a_clear_error(tmp_path: Path):
    from pipeline.errors import ModelError

    with pytest.raises(ModelError, match="not found"):
        load_detector(tmp_path / "nope.keras")
    bad = tmp_path / "bad.keras"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ModelError, match="cannot load"):
        load_detector(bad)


def test_untrained_fallback_says_so():
    from pipeline.model.storage import untrained_detector

    loaded = untrained_detector(TINY)
    assert isinstance(loaded, LoadedModel)
    assert loaded.info.trained is False and "untrained" in loaded.info.version


def test_uniform_attention_ablation_weighs_face_frames_alike():
    p = np.array([[0.5, 0.99, 0.7, 0.2]], dtype=np.float32)
    mask = np.array([[1, 1, 1, 0]], dtype=np.float32)
    _, attention = CertaintyAttention(uniform=True)([p, mask])
    np.testing.assert_allclose(np.asarray(attention), [[1 / 3, 1 / 3, 1 / 3, 0.0]], atol=1e-6)


def test_temporal_difference_is_zero_across_missing_faces_and_at_the_start():
    from pipeline.model.layers import TemporalDifference

    features = np.array([[[1.0, 2.0], [3.0, 1.0], [9.0, 9.0], [4.0, 4.0]]], dtype=np.float32)
    mask = np.array([[1, 1, 0, 1]], dtype=np.float32)
    differences = np.asarray(TemporalDifference()([features, mask]))
    np.testing.assert_allclose(differences[0], [[0, 0], [2, 1], [0, 0], [0, 0]])


def test_attention_pooling_gives_weighted_mean_and_spread():
    from pipeline.model.layers import AttentionPooling

    features = np.array([[[0.0], [2.0], [100.0]]], dtype=np.float32)
    attention = np.array([[0.5, 0.5, 0.0]], dtype=np.float32)  # the third frame has no face
    pooled = np.asarray(AttentionPooling()([features, attention]))
    np.testing.assert_allclose(pooled, [[1.0, 1.0]], atol=1e-3)


def test_feature_normalisation_is_stored_in_the_model_file(tmp_path: Path):
    from pipeline.model.architecture import build_sequence_head
    from pipeline.training.heads import adapt_normalisation

    head = build_sequence_head(3, TINY)
    features = np.random.default_rng(0).normal(50.0, 4.0, (4, 5, 3)).astype(np.float32)
    mask = np.ones((4, 5), dtype=np.float32)
    mask[0, 4] = 0
    features[0, 4] = 0.0  # padding must not move the statistics
    adapt_normalisation(head, features, mask)
    mean = np.asarray(head.get_layer("feature_norm").mean).reshape(-1)
    np.testing.assert_allclose(mean, features[mask > 0].mean(0), rtol=1e-4)
    head.save(tmp_path / "head.keras")
    import keras

    again = keras.saving.load_model(tmp_path / "head.keras", safe_mode=True, compile=False)
    np.testing.assert_allclose(np.asarray(again.get_layer("feature_norm").mean).reshape(-1), mean, rtol=1e-6)


def test_architecture_in_metadata_rebuilds_the_config():
    from dataclasses import asdict

    from pipeline.model.config import config_from_architecture

    stored = {**asdict(TINY), "a_future_option": 1}
    assert config_from_architecture(stored) == TINY


def test_mid_level_backbone_gives_576_features_from_the_imagenet_weights():
    from pipeline.model.backbones import build_backbone

    mid = build_backbone("mobilenet_v2_mid", 64)
    full = build_backbone("mobilenet_v2", 64)
    assert mid.output.shape[-1] == 576
    # Same converted weights: the shared layers match exactly.
    np.testing.assert_array_equal(
        mid.get_layer("block3_expand_conv").get_weights()[0], full.get_layer("block3_expand_conv").get_weights()[0]
    )


@pytest.mark.parametrize("name", ["mobilenet_v2_mid_ft", "mobilenet_v2_mid_ft_train"])
def test_fine_tuned_backbones_load_their_committed_weights(name: str):
    from pipeline.model.backbones import build_backbone

    tuned = build_backbone(name, 64)
    imagenet = build_backbone("mobilenet_v2_mid", 64)
    random = build_backbone(name, 64, pretrained=False)
    assert tuned.output.shape[-1] == 576 and tuned.name == name
    conv = "block3_expand_conv"
    # Fine-tuning moved the weights away from ImageNet's, and loading replaced the random ones.
    difference = np.abs(tuned.get_layer(conv).get_weights()[0] - imagenet.get_layer(conv).get_weights()[0])
    assert 0 < difference.mean() < np.abs(imagenet.get_layer(conv).get_weights()[0]).mean()
    assert not np.allclose(tuned.get_layer(conv).get_weights()[0], random.get_layer(conv).get_weights()[0])


def test_temporal_certainty_reads_each_frame_in_context_and_round_trips(tmp_path: Path):
    import keras

    from pipeline.model.architecture import build_sequence_head

    config = ModelConfig(lstm_units=4, context_units=4, certainty_source="temporal")
    head = build_sequence_head(6, config)
    assert "frame_context" in {layer.name for layer in head.layers}
    rng = np.random.default_rng(0)
    features = rng.normal(size=(1, 5, 6)).astype(np.float32)
    mask = np.array([[1, 1, 0, 1, 1]], dtype=np.float32)
    out = head([features, mask])
    assert np.asarray(out["attention"])[0, 2] == 0.0
    # A frame's probability depends on its neighbours: change frame 0, frame 1's p_t moves.
    changed = features.copy()
    changed[0, 0] += 3.0
    moved = np.asarray(head([changed, mask])["frame_p"])[0, 1] - np.asarray(out["frame_p"])[0, 1]
    assert abs(moved) > 1e-6
    head.save(tmp_path / "head.keras")
    again = keras.saving.load_model(tmp_path / "head.keras", safe_mode=True, compile=False)
    np.testing.assert_allclose(np.asarray(again([features, mask])["video"]), np.asarray(out["video"]), rtol=1e-5)


def test_unknown_certainty_source_is_refused():
    from pipeline.model.architecture import build_sequence_head

    with pytest.raises(ValueError, match="certainty source"):
        build_sequence_head(4, ModelConfig(certainty_source="oracle"))


def test_ensemble_head_averages_its_members_and_round_trips(tmp_path: Path):
    from dataclasses import replace

    from pipeline.model.architecture import head_members

    model = build_detector(replace(TINY, members=3), seed=0)
    loaded = LoadedModel(model, ModelInfo("t", "1", "", True, "tiny_cnn", 64))
    members = head_members(loaded.head)
    assert len(members) == 3 and len(loaded.attention_layers) == 3
    rng = np.random.default_rng(0)
    features = rng.normal(size=(1, 5, loaded.feature_dim)).astype(np.float32)
    mask = np.array([[1, 1, 0, 1, 1]], dtype=np.float32)
    each = [member([features, mask]) for member in members]
    videos = [float(np.asarray(out["video"])[0]) for out in each]
    assert max(videos) - min(videos) > 1e-6  # the members differ: independently initialised
    out = loaded.predict_features(features[0], mask[0])
    assert out.video_probability == pytest.approx(np.mean(videos), abs=1e-6)
    assert out.attention.sum() == pytest.approx(1.0, abs=1e-5) and out.attention[2] == 0.0
    saved = save_detector(model, tmp_path / "ensemble.keras", loaded.info)
    again = load_detector(tmp_path / "ensemble.keras")
    assert again.info.sha256 == saved.sha256 and len(again.attention_layers) == 3
    assert again.predict_features(features[0], mask[0]).video_probability == pytest.approx(
        out.video_probability, abs=1e-5
    )
    loaded.set_attention_temperature(0.05)  # the Attention lab's slider reaches every member
    assert all(layer.temperature == 0.05 for layer in loaded.attention_layers)
    assert loaded.predict_features(features[0], mask[0]).attention.max() > out.attention.max()


def test_saved_file_carries_no_optimizer_state(tmp_path: Path):
    import io
    import zipfile
    from dataclasses import replace

    import h5py

    from pipeline.model.architecture import head_members
    from pipeline.training.heads import fit_head

    model = build_detector(replace(TINY, members=2), seed=0)
    loaded = LoadedModel(model, ModelInfo("t", "1", "", True, "tiny_cnn", 64))
    rng = np.random.default_rng(0)
    features = rng.normal(size=(4, 3, loaded.feature_dim)).astype(np.float32)
    masks, labels = np.ones((4, 3), np.float32), np.array([0, 1, 0, 1], np.float32)
    for member in head_members(loaded.head):
        fit_head(member, features, masks, labels, np.ones(4, np.float32), epochs=1, batch_size=2, learning_rate=1e-3)
    before = loaded.predict_features(features[0], masks[0]).video_probability
    save_detector(model, tmp_path / "m.keras", loaded.info)
    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        config = archive.read("config.json").decode()
        names: list[str] = []
        h5py.File(io.BytesIO(archive.read("model.weights.h5")), "r").visit(names.append)
    assert '"optimizer"' not in config and not any("optimizer" in name for name in names)
    again = load_detector(tmp_path / "m.keras")
    assert again.predict_features(features[0], masks[0]).video_probability == pytest.approx(before, abs=1e-6)


def test_traced_padded_head_matches_the_eager_head_and_the_lab_temperature_still_applies():
    from dataclasses import replace

    model = build_detector(replace(TINY, members=2), seed=0)
    loaded = LoadedModel(model, ModelInfo("t", "1", "", True, "tiny_cnn", 64))
    rng = np.random.default_rng(0)
    features = rng.normal(size=(20, loaded.feature_dim)).astype(np.float32)
    mask = (rng.random(20) > 0.3).astype(np.float32)
    features[mask == 0] = 0
    eager = {k: np.asarray(v)[0] for k, v in loaded.head([features[None], mask[None]], training=False).items()}
    traced = loaded.predict_features(features, mask)  # padded to 32 frames, traced graph
    assert traced.attention.shape == (20,)
    assert traced.video_probability == pytest.approx(float(eager["video"]), abs=1e-5)
    np.testing.assert_allclose(traced.attention, eager["attention"], atol=1e-5)
    np.testing.assert_allclose(traced.frame_probability, eager["frame_p"], atol=1e-5)
    original = loaded.attention_temperature
    loaded.set_attention_temperature(0.02)
    sharp = loaded.predict_features(features, mask)
    assert sharp.attention.max() > traced.attention.max() + 1e-3  # not the graph traced at 0.2
    loaded.set_attention_temperature(original)
    again = loaded.predict_features(features, mask)
    np.testing.assert_allclose(again.attention, traced.attention, atol=1e-6)
