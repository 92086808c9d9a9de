"""score_video end to end on generated clips, with a tiny model so it runs in seconds."""

from pathlib import Path

import numpy as np
import pytest

from pipeline.faces.detectors import create_detector
from pipeline.model.detector import ModelConfig, untrained_detector
from pipeline.results import Verdict
from pipeline.scoring import Scorer, calibrate, extract_faces
from pipeline.settings import Settings

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
    assert set(data) >= {
        "file",
        "sha256",
        "verdict",
        "probability_fake",
        "threshold",
        "frames",
        "timings_s",
        "model",
        "error",
    }
    assert set(data["timings_s"]) == {"decode", "detect", "model", "total"}
    assert set(data["model"]) >= {"name", "version", "sha256"}
    frame = data["frames"][0]
    assert set(frame) == {"index", "time_s", "face_box", "p_fake", "certainty", "attention"}
    assert isinstance(np.asarray(frame["face_box"]).tolist(), list)


def test_attention_temperature_setting_reaches_the_model(astronaut_clip: Path):
    model = untrained_detector(ModelConfig(backbone="tiny_cnn", input_size=64, pretrained_backbone=False))
    assert model.attention_temperature == pytest.approx(0.2)
    model.set_attention_temperature(0.05)
    sharp = Scorer(SETTINGS, model, create_detector("haar")).score(astronaut_clip)
    model.set_attention_temperature(5.0)
    flat = Scorer(SETTINGS, model, create_detector("haar")).score(astronaut_clip)
    flat_weights = [f.attention for f in flat.frames if f.has_face]
    assert max(flat_weights) - min(flat_weights) <= max(f.attention for f in sharp.frames) - min(
        f.attention for f in sharp.frames if f.has_face
    )
