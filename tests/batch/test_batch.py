"""Batch verification: inputs, the resumable journal, and both runners on the shipped model."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import pytest

from pipeline.batch.command import add_batch_arguments, run_batch
from pipeline.batch.inputs import collect_inputs
from pipeline.batch.journal import Journal, done_path
from pipeline.settings import Settings

from conftest import SCORE_JSON_KEYS, astronaut_frames, write_video

FRAMES = 8


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two good clips in nested folders, one broken file, and a text file the folder scan skips."""
    root = tmp_path_factory.mktemp("archive")
    (root / "desk" / "day1").mkdir(parents=True)
    write_video(root / "desk" / "a.mp4", astronaut_frames(12))
    write_video(root / "desk" / "day1" / "b.mp4", astronaut_frames(12, face_px=200))
    (root / "desk" / "broken.mp4").write_bytes(b"not a video" * 200)
    (root / "desk" / "notes.txt").write_text("desk notes\n")
    return root


def batch_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_batch_arguments(parser)
    return parser.parse_args([*argv, "--no-progress"])


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_inputs_come_from_folders_files_and_manifests(archive: Path, tmp_path: Path) -> None:
    folder = collect_inputs([archive / "desk"])
    assert [p.name for p in folder] == ["a.mp4", "broken.mp4", "b.mp4"]
    manifest = tmp_path / "list.txt"
    manifest.write_text(f"# the desk's clips\n{archive / 'desk' / 'a.mp4'}\n\nmissing.mp4\n")
    csv_manifest = tmp_path / "list.csv"
    csv_manifest.write_text(f"path,label\n{archive / 'desk' / 'day1' / 'b.mp4'},real\n")
    found = collect_inputs([manifest, csv_manifest, archive / "desk" / "a.mp4"])
    assert found == [archive / "desk" / "a.mp4", tmp_path / "missing.mp4", archive / "desk" / "day1" / "b.mp4"]


def test_journal_skips_only_clips_done_with_the_same_settings(tmp_path: Path) -> None:
    out = tmp_path / "results.jsonl"
    journal = Journal(out, "key-1")
    journal.write({"file": "a.mp4", "sha256": "aaa", "verdict": "fake"})
    journal.write({"file": "b.mp4", "sha256": "bbb", "verdict": "error"})
    journal.close()
    again = Journal(out, "key-1")
    assert again.is_done("aaa") and not again.is_done("bbb")
    assert not Journal(out, "key-2").is_done("aaa")
    out.write_text("")  # results lost: nothing counts as done, whatever the marks say
    assert done_path(out).read_text().strip() and not Journal(out, "key-1").is_done("aaa")


@pytest.mark.parametrize("runner", ["local", "ray"])
def test_batch_writes_score_json_lines_and_resumes(archive: Path, tmp_path: Path, runner: str) -> None:
    if runner == "ray":
        pytest.importorskip("ray")
    out = tmp_path / "results.jsonl"
    settings = Settings().with_overrides(frames=FRAMES)
    extra = ["--ray"] if runner == "ray" else []
    argv = [str(archive / "desk"), str(tmp_path / "gone.mp4"), "--out", str(out), "--workers", "2", *extra]
    assert run_batch(batch_args(*argv), settings) == 1  # the broken and the missing file fail
    first = lines(out)
    by_name = {Path(line["file"]).name: line for line in first}
    assert set(by_name) == {"a.mp4", "b.mp4", "broken.mp4", "gone.mp4"}
    assert all(set(line) >= SCORE_JSON_KEYS for line in first)
    assert by_name["a.mp4"]["verdict"] in {"fake", "real"}, by_name["a.mp4"]["error"]
    assert len(by_name["a.mp4"]["frames"]) == FRAMES
    assert by_name["broken.mp4"]["verdict"] == "error" and by_name["broken.mp4"]["error"]
    assert by_name["gone.mp4"]["verdict"] == "error" and "not found" in by_name["gone.mp4"]["error"]
    if runner == "ray":
        assert "ray" in sys.modules
        return
    # A rerun skips the two scored clips and retries only the failures.
    assert run_batch(batch_args(*argv), settings) == 1
    second = lines(out)[len(first) :]
    assert sorted(Path(line["file"]).name for line in second) == ["broken.mp4", "gone.mp4"]
    # Other settings score everything again.
    assert run_batch(batch_args(*argv), settings.with_overrides(frames=FRAMES + 2)) == 1
    third = lines(out)[len(first) + len(second) :]
    assert len(third) == 4


def test_dfd_batch_on_the_local_pool_imports_no_ray(archive: Path, tmp_path: Path) -> None:
    import subprocess

    probe = (
        "import runpy, sys\n"
        "sys.argv = ['dfd', 'batch', *sys.argv[1:]]\n"
        "try:\n    runpy.run_module('pipeline', run_name='__main__')\n"
        "except SystemExit as done:\n    code = done.code\n"
        "print('RAY' if 'ray' in sys.modules else 'NO-RAY', code)\n"
    )
    out = tmp_path / "r.jsonl"
    repo = Path(__file__).resolve().parents[2]
    argv = [str(archive / "desk" / "a.mp4"), "--out", str(out), "--workers", "1", "--frames", str(FRAMES)]
    env = {**os.environ, "PYTHONPATH": str(repo)}
    done = subprocess.run([sys.executable, "-c", probe, *argv], cwd=repo, env=env, capture_output=True, text=True)
    assert done.stdout.split()[-2:] == ["NO-RAY", "0"], done.stderr[-2000:]
    assert [line["verdict"] for line in lines(out)] in (["fake"], ["real"])
    assert "1 scored" in done.stderr


def test_the_batch_benchmark_runs_as_a_module() -> None:
    import subprocess

    repo = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_batch", "--help"], cwd=repo, capture_output=True, text=True
    )
    assert done.returncode == 0 and "workers" in done.stdout, done.stderr[-2000:]
