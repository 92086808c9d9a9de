"""The shared engine: analyse or reuse, clear one-line errors, and the lab's full-model re-run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dashboard.engine import AnalysisError, Engine, progress_text, safe_file_name
from dashboard.results_store import ResultStore
from pipeline.results import Verdict

pytest_plugins = ["tests.dashboard.support"]


def test_analyse_then_reuse_the_stored_result(tiny_engine: Engine, astronaut_clip: Path, tmp_path: Path) -> None:
    results = ResultStore(tmp_path / "results")
    stages: list[str] = []
    data = astronaut_clip.read_bytes()
    first = tiny_engine.analyse(
        data, "interview.mp4", tiny_engine.settings, results, on_progress=lambda s, f: stages.append(s)
    )
    assert not first.reused
    assert first.result.file == "interview.mp4"
    assert first.result.verdict in (Verdict.FAKE, Verdict.REAL)
    assert first.result.face_frames > 0
    assert {"decoding", "faces", "model"} <= set(stages)
    second = tiny_engine.analyse(data, "interview.mp4", tiny_engine.settings, results)
    assert second.reused and second.key == first.key
    assert second.result.probability_fake == first.result.probability_fake
    other = tiny_engine.analyse(data, "interview.mp4", tiny_engine.settings_for(frames=8), results)
    assert not other.reused and other.key != first.key and len(other.result.frames) == 8


def test_no_face_is_an_abstention(tiny_engine: Engine, blank_clip: Path, tmp_path: Path) -> None:
    analysed = tiny_engine.analyse(blank_clip.read_bytes(), "blank.mp4", tiny_engine.settings, ResultStore(tmp_path))
    assert analysed.result.verdict == Verdict.NO_FACE
    assert analysed.result.probability_fake is None


@pytest.mark.parametrize("fixture", ["truncated_clip", "corrupted_clip", "empty_clip", "text_file"])
def test_bad_files_give_one_line_messages_and_store_nothing(
    tiny_engine: Engine, tmp_path: Path, fixture: str, request: pytest.FixtureRequest
) -> None:
    path: Path = request.getfixturevalue(fixture)
    results = ResultStore(tmp_path / "results")
    with pytest.raises(AnalysisError) as error:
        tiny_engine.analyse(path.read_bytes(), "evidence.mp4", tiny_engine.settings, results, work_dir=tmp_path / "up")
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith("evidence.mp4")
    assert str(tmp_path) not in message  # the server's temporary path never leaks
    assert not (tmp_path / "results").exists() or list((tmp_path / "results").iterdir()) == []
    assert list((tmp_path / "up").iterdir()) == []  # the upload was removed


def test_full_model_at_the_model_temperature_reproduces_the_verdict(
    tiny_engine: Engine, astronaut_clip: Path, tmp_path: Path
) -> None:
    analysed = tiny_engine.analyse(astronaut_clip.read_bytes(), "a.mp4", tiny_engine.settings, ResultStore(tmp_path))
    output = tiny_engine.full_model(analysed.key, analysed.result, tiny_engine.model_temperature)
    assert output.video_probability == pytest.approx(analysed.result.raw_probability_fake, abs=1e-5)
    attention = [f.attention for f in analysed.result.frames]
    assert np.allclose(output.attention, attention, atol=1e-5)


def test_full_model_changes_attention_and_restores_the_temperature(
    tiny_engine: Engine, astronaut_clip: Path, tmp_path: Path
) -> None:
    analysed = tiny_engine.analyse(astronaut_clip.read_bytes(), "a.mp4", tiny_engine.settings, ResultStore(tmp_path))
    sharp = tiny_engine.full_model(analysed.key, analysed.result, 0.01)
    flat = tiny_engine.full_model(analysed.key, analysed.result, 5.0)
    assert sharp.attention.max() > flat.attention.max()
    for layer in tiny_engine.scorer.model.attention_layers:
        assert layer.temperature == pytest.approx(tiny_engine.model_temperature)
    with pytest.raises(ValueError):
        tiny_engine.full_model(analysed.key, analysed.result, 0.0)


def test_progress_is_monotonic_through_the_stages() -> None:
    values = [progress_text(s, f)[0] for s, f in [("decoding", 0), ("faces", 0.5), ("faces", 1), ("model", 1)]]
    assert values == sorted(values) and values[-1] == 1.0
    assert "50%" in progress_text("faces", 0.5)[1]


@pytest.mark.parametrize(
    ("name", "expected"),
    [("../../etc/passwd", "passwd"), ("C:\\Users\\me\\clip.mp4", "clip.mp4"), ("a<b>.mp4", "a_b_.mp4"), ("", "upload")],
)
def test_upload_names_are_made_safe(name: str, expected: str) -> None:
    assert safe_file_name(name) == expected


def test_a_file_over_the_size_limit_is_refused_with_a_message(
    tiny_engine: Engine, astronaut_clip: Path, tmp_path: Path
) -> None:
    settings = tiny_engine.settings.with_overrides(max_file_bytes=10_000)
    with pytest.raises(AnalysisError) as error:
        tiny_engine.analyse(astronaut_clip.read_bytes(), "huge.mp4", settings, ResultStore(tmp_path))
    assert str(error.value).startswith("huge.mp4") and "\n" not in str(error.value)
