"""The shared engine: analyse or reuse, clear one-line errors, and the lab's full-model re-run."""

from __future__ import annotations

import io
import os
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data as skimage_data

from dashboard.engine import (
    AnalysisBusyError,
    AnalysisError,
    Engine,
    clear_stale_uploads,
    progress_text,
    safe_file_name,
    sniff_container,
)
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


def test_a_result_is_reused_only_for_the_user_who_produced_it(
    tiny_engine: Engine, astronaut_clip: Path, tmp_path: Path
) -> None:
    """Row 5: B's upload of A's clip is analysed afresh; B sees B's file name and timings, never A's."""
    results = ResultStore(tmp_path / "results")
    data = astronaut_clip.read_bytes()
    alice = tiny_engine.analyse(data, "alice-source-tape.mp4", tiny_engine.settings, results, owner=1)
    bob = tiny_engine.analyse(data, "bob.mp4", tiny_engine.settings, results, owner=2)
    assert not bob.reused and bob.key != alice.key
    assert bob.result.timings != alice.result.timings
    stored = (tmp_path / "results" / f"{bob.key}.json").read_text()
    assert "alice-source-tape" not in stored
    assert tiny_engine.analyse(data, "again.mp4", tiny_engine.settings, results, owner=1).reused


def test_uploads_are_read_in_chunks_not_whole(tiny_engine: Engine, astronaut_clip: Path, tmp_path: Path) -> None:
    """Row 9: the engine reads the upload like a stream (Streamlit's UploadedFile is one)."""

    class ChunkedOnly(io.RawIOBase):
        def __init__(self, payload: bytes):
            self.inner = io.BytesIO(payload)
            self.largest = 0

        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            assert size > 0, "read the whole upload at once"
            block = self.inner.read(size)
            self.largest = max(self.largest, len(block))
            return block

        def seek(self, offset: int, whence: int = 0) -> int:
            return self.inner.seek(offset, whence)

    payload = astronaut_clip.read_bytes() * 10  # over a megabyte; trailing copies are ignored by the decoder
    source = ChunkedOnly(payload)
    analysed = tiny_engine.analyse(source, "long.mp4", tiny_engine.settings, ResultStore(tmp_path), owner=3)  # type: ignore[arg-type]
    assert analysed.result.verdict in (Verdict.FAKE, Verdict.REAL)
    assert 0 < source.largest < len(payload)


def test_decoding_and_faces_run_outside_the_model_lock(
    tiny_engine: Engine, astronaut_clip: Path, tmp_path: Path
) -> None:
    """Row 9: while another analysis holds the model, a new clip is decoded and its faces found."""
    faces_done = threading.Event()
    outcome: list[object] = []

    def progress(stage: str, fraction: float) -> None:
        if stage == "faces" and fraction >= 1.0:
            faces_done.set()

    def run() -> None:
        results = ResultStore(tmp_path / "results")
        outcome.append(tiny_engine.analyse(astronaut_clip.read_bytes(), "b.mp4", tiny_engine.settings, results,
                                           on_progress=progress, owner=4))

    with tiny_engine._lock:  # someone else's model step
        worker = threading.Thread(target=run)
        worker.start()
        assert faces_done.wait(120), "decoding waited for the model lock"
        assert not outcome  # the model step itself still waits
    worker.join(120)
    assert outcome and outcome[0].result.face_frames > 0  # type: ignore[attr-defined]


def test_one_analysis_at_a_time_per_user(tiny_engine: Engine, astronaut_clip: Path, tmp_path: Path) -> None:
    results = ResultStore(tmp_path / "results")
    with tiny_engine._user_slot(5):
        with pytest.raises(AnalysisBusyError):
            tiny_engine.analyse(astronaut_clip.read_bytes(), "a.mp4", tiny_engine.settings, results, owner=5)
        assert tiny_engine.analyse(astronaut_clip.read_bytes(), "a.mp4", tiny_engine.settings, results, owner=6)
    assert tiny_engine.analyse(astronaut_clip.read_bytes(), "a.mp4", tiny_engine.settings, results, owner=5)


def test_the_dashboard_has_its_own_documented_length_limit(tiny_engine: Engine) -> None:
    assert tiny_engine.settings_for(frames=8).max_duration_s == 600.0
    assert tiny_engine.settings.max_duration_s > 600.0  # the command line keeps the pipeline's


def test_a_clip_over_the_length_limit_is_refused(tiny_engine: Engine, astronaut_clip: Path, tmp_path: Path) -> None:
    settings = tiny_engine.settings.with_overrides(max_duration_s=0.5)
    with pytest.raises(AnalysisError, match="min limit"):
        tiny_engine.analyse(astronaut_clip.read_bytes(), "long.mp4", settings, ResultStore(tmp_path), owner=7)


def test_a_still_image_renamed_mp4_is_refused_by_its_content(tiny_engine: Engine, tmp_path: Path) -> None:
    """Row 12: it used to get a verdict as a one-frame clip."""
    png = cv2.imencode(".png", skimage_data.astronaut()[:, :, ::-1])[1].tobytes()
    with pytest.raises(AnalysisError) as error:
        tiny_engine.analyse(png, "portrait.mp4", tiny_engine.settings, ResultStore(tmp_path / "r"), owner=8)
    message = str(error.value)
    assert message.startswith("portrait.mp4: this is not a video file (its content is a PNG image)")
    assert "\n" not in message and not (tmp_path / "r").exists()


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\x00\x00\x00\x20ftypisom" + bytes(20), "mp4"),
        (b"\x1a\x45\xdf\xa3" + bytes(20), "matroska"),
        (b"RIFF\x00\x00\x00\x00AVI LIST", "avi"),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", None),
        (b"\x89PNG\r\n\x1a\n" + bytes(20), None),
        (b"", None),
    ],
)
def test_containers_are_known_by_their_first_bytes(head: bytes, expected: str | None) -> None:
    assert sniff_container(head) == expected


def test_stale_uploads_of_a_dead_server_are_cleared(tmp_path: Path) -> None:
    """Row 7: after kill -9 the upload stayed for good; the next start removes it, not a live one."""
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    dead = subprocess_pid_that_exited()
    (uploads / f"upload-{dead}-x1").mkdir()
    (uploads / f"upload-{dead}-x1" / "evidence.mp4").write_bytes(b"clip")
    (uploads / f"upload-{os.getpid()}-x2").mkdir()
    (uploads / "tmpabc123").mkdir()  # an older version's temporary folder
    old = uploads / f"upload-{os.getpid()}-x3"
    old.mkdir()
    os.utime(old, (time.time() - 7 * 3600, time.time() - 7 * 3600))
    assert clear_stale_uploads(uploads) == 3
    assert [p.name for p in uploads.iterdir()] == [f"upload-{os.getpid()}-x2"]


def subprocess_pid_that_exited() -> int:
    import subprocess

    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_concurrent_saves_of_one_result_never_collide(tmp_path: Path) -> None:
    """Row 8: 4 threads x 30 saves of the same key used to raise 40 FileNotFoundErrors."""
    from tests.dashboard.builders import make_result

    results = ResultStore(tmp_path / "results")
    result = make_result([0.2, 0.9, None, 0.7])
    key = "a" * 32 + "_" + "b" * 16
    errors: list[BaseException] = []

    def save_many() -> None:
        for _ in range(30):
            try:
                results.save(key, result)
            except BaseException as error:
                errors.append(error)

    threads = [threading.Thread(target=save_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == [f"{key}.json", f"{key}.npz"]
    loaded = results.load(key)
    assert loaded is not None and loaded.probability_fake == result.probability_fake
