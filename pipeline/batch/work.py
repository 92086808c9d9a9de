"""Scoring one clip inside a worker (a pool process or a Ray actor), as a `score --json` line."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.errors import PipelineError
from pipeline.results import error_json
from pipeline.settings import Settings


@dataclass(frozen=True)
class Task:
    """One clip to score: its path as given (the line's `file`) and its sha256 (None when unreadable)."""

    path: str
    sha256: str | None


def share_threads(workers: int) -> int:
    """Give each of N workers its share of OpenCV's threads; returns that share.

    Workers are not pinned to cores: on a shared 2-core machine, two pinned workers scored 0.50-0.56
    clips/s against 0.62-0.98 for one worker, while two unpinned ones scored 0.68-0.77 (one worker
    0.62), since a pinned worker cannot move off a core that another job is using."""
    import cv2

    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    share = max(1, cpus // max(1, workers))
    cv2.setNumThreads(share)
    return share


def load_scorer(settings: Settings) -> Any:
    """The Scorer of one worker, loaded once."""
    from pipeline.scoring.scorer import Scorer

    return Scorer.load(settings)


def score_task(scorer: Any, task: Task, data: bytes | None = None) -> dict[str, Any]:
    """The JSON line for `task`; a bad file is an error line with its reason, never a crash.

    `data` is the clip's bytes when the worker cannot see the driver's files (a Ray cluster)."""
    import cv2

    if task.sha256 is None:
        return error_json(task.path, f"{task.path}: file not found or unreadable")
    try:
        result = scorer.score(task.path) if data is None else _score_bytes(scorer, task, data)
        record: dict[str, Any] = result.to_json_dict()
        record["file"] = task.path
        return record
    except (PipelineError, cv2.error, OSError) as error:
        message = str(error) if isinstance(error, PipelineError) else f"{task.path}: {error}"
        return error_json(task.path, message, task.sha256)
    except Exception as error:  # a bug: this clip fails, the batch goes on
        return error_json(task.path, f"{task.path}: internal error ({type(error).__name__}: {error})", task.sha256)


def _score_bytes(scorer: Any, task: Task, data: bytes) -> Any:
    import tempfile

    suffix = Path(task.path).suffix or ".mp4"
    with tempfile.NamedTemporaryFile(suffix=suffix) as handle:
        handle.write(data)
        handle.flush()
        return scorer.score(handle.name)
