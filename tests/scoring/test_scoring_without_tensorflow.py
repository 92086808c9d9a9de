"""Scoring with the model's verified TFLite copies imports no TensorFlow and scores as Keras does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.model.architecture import build_detector
from pipeline.model.config import ModelConfig, ModelInfo
from pipeline.model.lite import LiteModel, head_copy_path
from pipeline.model.loader import load_scoring_model
from pipeline.model.runtime import LoadedModel
from pipeline.model.storage import load_detector, save_detector
from pipeline.scoring.scorer import Scorer
from pipeline.settings import DEFAULT_MODEL_PATH, Settings

from conftest import astronaut_frames, write_video

REPO = Path(__file__).resolve().parents[2]
TINY = ModelConfig(backbone="tiny_cnn", input_size=64, pretrained_backbone=False, lstm_units=8, members=2)
# A clip's probability from the copies equals Keras's within this (they agree to about 1e-6).
SCORE_TOLERANCE = 1e-4
# Runs `score --json` and reports which heavy packages the process imported.
PROBE = """
import json, runpy, sys
sys.argv = ["dfd", "score", "--json", *sys.argv[1:]]
try:
    runpy.run_module("pipeline", run_name="__main__")
except SystemExit:
    pass
print(json.dumps({"imported": sorted(m for m in ("tensorflow", "keras", "ray") if m in sys.modules)}))
"""


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny trained-looking ensemble saved the normal way: with both TFLite copies."""
    path = tmp_path_factory.mktemp("lite-model") / "tiny.keras"
    info = ModelInfo(name="tiny", version="t1", sha256="", trained=True, backbone="tiny_cnn", input_size=64)
    saved = save_detector(build_detector(TINY, seed=7), path, info)
    assert saved.tflite_copies is not None and head_copy_path(path).is_file()
    return path


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("lite-clips")
    return [
        write_video(folder / "slide.mp4", astronaut_frames(24)),
        write_video(folder / "longer.mp4", astronaut_frames(40)),
    ]


def run_score(*argv: str) -> tuple[list[dict], list[str]]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, done.stderr[-2000:]
    return lines[:-1], lines[-1]["imported"]


def test_saved_models_load_in_litert(saved_model: Path) -> None:
    assert isinstance(load_scoring_model(saved_model), LiteModel)
    assert isinstance(load_detector(saved_model), LoadedModel)


def test_scoring_process_imports_no_tensorflow_and_matches_keras(saved_model: Path, clips: list[Path]) -> None:
    lines, imported = run_score("--detector", "haar", "--frames", "12", "--model", str(saved_model), *map(str, clips))
    assert imported == []
    settings = Settings().with_overrides(detector="haar", frames=12, model_path=saved_model)
    lite_scorer = Scorer.load(settings)
    assert isinstance(lite_scorer.model, LiteModel)
    keras_scorer = Scorer(lite_scorer.settings, load_detector(saved_model), lite_scorer.detector)
    for line, clip in zip(lines, clips, strict=True):
        reference = keras_scorer.score(clip)
        assert line["verdict"] == str(reference.verdict)
        assert reference.probability_fake is not None
        assert line["probability_fake"] == pytest.approx(reference.probability_fake, abs=SCORE_TOLERANCE)
        frames = [f["p_fake"] for f in line["frames"] if f["p_fake"] is not None]
        expected = [f.p_fake for f in reference.frames if f.p_fake is not None]
        assert frames == pytest.approx(expected, abs=SCORE_TOLERANCE)


def test_a_model_whose_head_copy_is_damaged_scores_on_keras(saved_model: Path, clips: list[Path], tmp_path: Path):
    damaged = tmp_path / saved_model.name
    for source in saved_model.parent.iterdir():
        (tmp_path / source.name).write_bytes(source.read_bytes())
    head = head_copy_path(damaged)
    head.write_bytes(head.read_bytes()[:-16] + bytes(16))
    assert isinstance(load_scoring_model(damaged), LoadedModel)
    lines, imported = run_score("--detector", "haar", "--frames", "12", "--model", str(damaged), str(clips[0]))
    assert "tensorflow" in imported and lines[0]["verdict"] in {"fake", "real"}


@pytest.mark.skipif(not DEFAULT_MODEL_PATH.is_file(), reason="no shipped model")
def test_the_shipped_model_scores_without_tensorflow(clips: list[Path]) -> None:
    assert isinstance(load_scoring_model(DEFAULT_MODEL_PATH), LiteModel)
    lines, imported = run_score("--frames", "8", str(clips[0]))
    assert imported == [] and lines[0]["verdict"] in {"fake", "real", "no_face"}


@pytest.mark.skipif(not DEFAULT_MODEL_PATH.is_file(), reason="no shipped model")
def test_the_dashboard_engine_and_the_api_load_without_tensorflow() -> None:
    code = (
        "import sys\n"
        "from dashboard.engine import load_engine\n"
        "from api.app import create_app\n"
        "engine = load_engine()\n"
        "import dashboard.ui.components, dashboard.model_card\n"
        "print(type(engine.scorer.model).__name__, 'tensorflow' in sys.modules, 'keras' in sys.modules)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.stdout.split() == ["LiteModel", "False", "False"], done.stderr[-2000:]
