"""Every file of the hostile-media corpus (tests/hostile_media.py) through the dashboard's analysis path.

Each one ends as a verdict or as one clear line (`AnalysisError`), never a traceback; nothing is left in
the upload folder; the figures (how many, how many refused, slowest, largest memory peak) go to
artifacts/hostile_media.json. Time is measured, not asserted.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections import Counter
from pathlib import Path

import pytest

from dashboard.engine import AnalysisError, Engine
from dashboard.results_store import ResultStore
from tests.hostile_media import HostileInput, build_corpus

pytest_plugins = ["tests.dashboard.support"]

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
# Kinds that must never get a verdict.
REFUSED_KINDS = {"zero-byte", "non-video renamed .mp4", "audio only", "valid but decodes for long"}


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _reset_peak_rss() -> None:
    with contextlib.suppress(OSError):  # Linux: start a new peak for this file
        Path("/proc/self/clear_refs").write_text("5")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[HostileInput]:
    return build_corpus(tmp_path_factory.mktemp("hostile"))


def test_the_corpus_is_large_and_covers_every_kind(corpus: list[HostileInput]) -> None:
    kinds = Counter(item.kind for item in corpus)
    assert len(corpus) >= 200
    assert set(kinds) >= {
        "truncated",
        "bit-flipped",
        "zero-byte",
        "wrong-extension",
        "non-video renamed .mp4",
        "huge claimed dimensions",
        "thousands of tiny frames",
        "audio only",
        "still image",
        "valid but decodes for long",
    }


def test_every_hostile_file_gets_a_verdict_or_one_clear_line(
    tiny_engine: Engine, corpus: list[HostileInput], tmp_path: Path
) -> None:
    results = ResultStore(tmp_path / "results")
    uploads = tmp_path / "uploads"
    settings = tiny_engine.settings_for(frames=16)
    rows = []
    for number, item in enumerate(corpus):
        _reset_peak_rss()
        started = time.perf_counter()
        with open(item.path, "rb") as handle:
            try:
                analysed = tiny_engine.analyse(
                    handle, item.path.name, settings, results, work_dir=uploads, owner=1000 + number
                )
                outcome, message = "verdict", str(analysed.result.verdict)
            except AnalysisError as error:
                outcome, message = "refused", str(error)
        rows.append(
            {
                "file": item.path.name,
                "kind": item.kind,
                "bytes": item.path.stat().st_size,
                "outcome": outcome,
                "message": message,
                "seconds": round(time.perf_counter() - started, 3),
                "peak_rss_mb": round(_peak_rss_mb(), 1),
            }
        )
    def unclear(row: dict) -> bool:
        message = row["message"]
        if row["outcome"] != "refused":
            return False
        leaks = "Traceback" in message or str(tmp_path) in message
        return "\n" in message or not message.startswith(row["file"]) or leaks

    problems = [row for row in rows if unclear(row)]
    assert problems == []
    wrongly_accepted = [row["file"] for row in rows if row["kind"] in REFUSED_KINDS and row["outcome"] != "refused"]
    assert wrongly_accepted == []
    stills = [row for row in rows if row["kind"] == "still image" and row["file"].startswith("still-png")]
    assert all("PNG image" in row["message"] for row in stills)
    assert list(uploads.iterdir()) == []  # every temporary upload was removed
    summary = {
        "inputs": len(rows),
        "verdicts": sum(row["outcome"] == "verdict" for row in rows),
        "refused_with_one_line": sum(row["outcome"] == "refused" for row in rows),
        "tracebacks_or_other_errors": 0,
        "max_seconds": max(row["seconds"] for row in rows),
        "slowest": max(rows, key=lambda row: row["seconds"])["file"],
        "max_peak_rss_mb": max(row["peak_rss_mb"] for row in rows),
        "by_kind": {
            kind: dict(Counter(row["outcome"] for row in rows if row["kind"] == kind))
            for kind in sorted({row["kind"] for row in rows})
        },
    }
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "hostile_media.json").write_text(json.dumps({"summary": summary, "inputs": rows}, indent=2) + "\n")
    print("\nhostile media:", json.dumps(summary))
