"""The CLI as a user runs it: a subprocess, JSON lines on stdout, exit codes."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SCORE_JSON_KEYS

REPO = Path(__file__).resolve().parent.parent
FRAME_KEYS = {"index", "time_s", "face_box", "p_fake", "certainty", "attention"}
# Added on 2026-12-03: the signals, the three-level assessment, people, provenance and links.
TOP_KEYS = SCORE_JSON_KEYS | {
    "signals",
    "assessment",
    "assessment_reasons",
    "band",
    "people",
    "provenance",
    "keyframes",
    "source",
    "analysed_at",
}


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args], cwd=REPO, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def mixed_run(astronaut_clip, blank_clip, corrupted_clip, empty_clip, truncated_clip, text_file, clip_dir):
    paths = [astronaut_clip, blank_clip, corrupted_clip, empty_clip, truncated_clip, text_file, clip_dir]
    return paths, run_cli("score", "--json", "--frames", "8", *map(str, paths))


def test_every_clip_gets_one_json_line_and_errors_exit_1(mixed_run):
    paths, done = mixed_run
    assert done.returncode == 1, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["file"] for line in lines] == [str(p) for p in paths]
    assert all(set(line) >= TOP_KEYS for line in lines)
    assert "Traceback" not in done.stderr


def test_good_clip_line_matches_the_schema(mixed_run):
    good = json.loads(mixed_run[1].stdout.splitlines()[0])
    assert good["verdict"] in {"fake", "real"}
    assert 0.0 <= good["probability_fake"] <= 1.0
    assert good["error"] is None
    assert len(good["sha256"]) == 64
    assert set(good["timings_s"]) == {"decode", "detect", "model", "total"}
    assert {"name", "version", "sha256"} <= set(good["model"])
    assert len(good["frames"]) == 8
    assert all(set(f) == FRAME_KEYS for f in good["frames"])
    with_face = [f for f in good["frames"] if f["face_box"] is not None]
    assert abs(sum(f["attention"] for f in with_face) - 1.0) < 1e-4
    assert good["assessment"] in {"signs_of_manipulation", "inconclusive", "no_signs_found"}
    assert good["assessment_reasons"] and all(isinstance(r, str) for r in good["assessment_reasons"])
    assert good["people"][0]["id"] == 1 and good["people"][0]["frames"] == len(with_face)
    assert good["provenance"]["c2pa"]["state"] == "absent"
    if (REPO / "models" / "detector.json").exists():  # the shipped model carries its fitted band
        assert set(good["band"]) >= {"lower", "upper", "target_rate"}


def test_no_face_is_an_abstain_not_an_error(mixed_run):
    blank = json.loads(mixed_run[1].stdout.splitlines()[1])
    assert blank["verdict"] == "no_face" and blank["assessment"] == "no_face"
    assert blank["probability_fake"] is None and blank["error"] is None


def test_bad_inputs_get_a_one_line_reason_naming_the_file(mixed_run):
    paths, done = mixed_run
    lines = [json.loads(line) for line in done.stdout.splitlines()][2:]
    for path, line in zip(paths[2:], lines, strict=True):
        assert line["verdict"] == "error" and line["assessment"] == "error"
        assert line["probability_fake"] is None
        assert str(path) in line["error"] and "\n" not in line["error"]
    assert "0 bytes" in lines[1]["error"]
    assert "directory" in lines[4]["error"]
    error_lines = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 5


def test_processed_clips_exit_0_and_say_the_model_is_untrained(astronaut_clip, blank_clip):
    done = run_cli("score", "--frames", "4", str(astronaut_clip), str(blank_clip))
    assert done.returncode == 0, done.stderr
    assert "no face found" in done.stdout
    if not (REPO / "models" / "detector.keras").exists():
        assert "UNTRAINED" in done.stderr


def test_usage_errors_exit_2(astronaut_clip):
    assert run_cli("score").returncode == 2
    assert run_cli("score", "--frames", "0", str(astronaut_clip)).returncode == 2
    done = run_cli("score", "--detector", "nonexistent", str(astronaut_clip))
    assert done.returncode == 2 and "nonexistent" in done.stderr and "Traceback" not in done.stderr
