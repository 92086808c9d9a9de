"""score_video end to end on generated clips, with a tiny model so it runs in seconds."""

from pathlib import Path

import numpy as np
import pytest

from pipeline.faces.registry import create_detector
from pipeline.model.config import ModelConfig
from pipeline.model.storage import save_detector, untrained_detector
from pipeline.results import Verdict
from pipeline.scoring.aggregation import certainty_attention_weights
from pipeline.scoring.calibration import calibrate
from pipeline.scoring.extraction import extract_faces
from pipeline.scoring.scorer import Scorer
from pipeline.settings import ATTENTION_TEMPERATURE, Settings

from conftest import SCORE_JSON_KEYS

SETTINGS = Settings(frames=8, detector="haar", crop_size=64)


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    model = untrained_detector(ModelConfig(backbone="tiny_cnn", input_size=64, pretrained_backbone=False))
    return Scorer(SETTINGS, model, create_detector("haar"))


def test_faces_are_found_tracked_and_cropped(astronaut_clip: Path):
    faces = extract_faces(astronaut_clip, SETTINGS, create_detector("haar"))
    assert faces.indices == (0, 7, 14, 21, 28, 35, 42, 49)
    assert faces.mask.sum() >= 7  # the portrait's face is visible in every frame
    assert faces.crops.shape == (int(faces.mask.sum()), 64, 64, 3)
    xs = [box.x for box in faces.boxes if box is not None]
    assert xs == sorted(xs)  # the track follows the face as it slides right


def test_score_gives_per_frame_evidence_and_a_verdict(astronaut_clip: Path, scorer: Scorer):
    result = scorer.score(astronaut_clip)
    assert result.verdict in (Verdict.FAKE, Verdict.REAL)
    assert 0.0 < result.probability_fake < 1.0
    assert len(result.frames) == 8
    face_frames = [f for f in result.frames if f.has_face]
    assert sum(f.attention for f in face_frames) == pytest.approx(1.0, abs=1e-5)
    assert all(f.crop.shape == (64, 64, 3) for f in face_frames)
    assert all(0.0 <= f.certainty <= 1.0 for f in face_frames)
    assert result.sha256 and len(result.sha256) == 64
    assert result.timings.total >= result.timings.decode + result.timings.detect
    assert result.model.trained is False


def test_clip_without_a_face_abstains(blank_clip: Path, scorer: Scorer):
    result = scorer.score(blank_clip)
    assert result.verdict is Verdict.NO_FACE
    assert result.probability_fake is None
    assert len(result.frames) == 8
    assert all(not f.has_face and f.attention == 0.0 and f.p_fake is None for f in result.frames)


def test_calibration_temperature():
    assert calibrate(0.5, 2.0) == pytest.approx(0.5)
    assert calibrate(0.9, 1.0) == pytest.approx(0.9)
    assert 0.5 < calibrate(0.9, 2.0) < 0.9  # a higher temperature softens
    assert calibrate(0.9, 0.5) > 0.9


def test_json_dict_matches_the_cli_schema(astronaut_clip: Path, scorer: Scorer):
    data = scorer.score(astronaut_clip).to_json_dict()
    assert set(data) >= SCORE_JSON_KEYS
    assert set(data["timings_s"]) == {"decode", "detect", "model", "total"}
    assert set(data["model"]) >= {"name", "version", "sha256"}
    frame = data["frames"][0]
    assert set(frame) == {"index", "time_s", "face_box", "p_fake", "certainty", "attention"}
    assert isinstance(np.asarray(frame["face_box"]).tolist(), list)


def test_attention_temperature_setting_reaches_the_model(astronaut_clip: Path, tmp_path: Path):
    """Settings.attention_temperature must change the weights: each run's attention is the
    numpy rule at *that* temperature, so a setting that is ignored fails here."""
    model = untrained_detector(ModelConfig(backbone="tiny_cnn", input_size=64, pretrained_backbone=False))
    assert model.attention_temperature == pytest.approx(ATTENTION_TEMPERATURE)
    path = tmp_path / "tiny.keras"
    save_detector(model.model, path, model.info)
    spreads = {}
    for temperature in (0.05, 5.0):
        settings = SETTINGS.with_overrides(model_path=path, attention_temperature=temperature)
        result = Scorer.load(settings).score(astronaut_clip)
        assert result.settings.attention_temperature == temperature
        faces = [f for f in result.frames if f.has_face]
        p = np.array([f.p_fake for f in faces])
        expected = certainty_attention_weights(p, np.ones(len(p)), temperature)
        assert np.allclose([f.attention for f in faces], expected, atol=1e-5)
        spreads[temperature] = max(f.attention for f in faces) - min(f.attention for f in faces)
    assert spreads[5.0] < spreads[0.05]


def test_every_result_carries_the_cnn_lstm_signal(astronaut_clip: Path, blank_clip: Path, scorer: Scorer):
    result = scorer.score(astronaut_clip)
    (signal,) = result.signals
    assert signal.name == "cnn_lstm" and signal.available
    assert signal.probability_fake == result.probability_fake  # one signal: the verdict is its own
    assert signal.windows and all(0.0 <= w.score <= 1.0 and w.end_s > w.start_s for w in signal.windows)
    assert [s["name"] for s in result.to_json_dict()["signals"]] == ["cnn_lstm"]
    (silent,) = scorer.score(blank_clip).signals
    assert not silent.available and "no face" in silent.reason and silent.probability_fake is None
