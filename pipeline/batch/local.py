"""The default batch runner: a local process pool, one loaded model per worker process.

Processes (spawned, not forked: TensorFlow and LiteRT hold threads a fork would copy in a broken
state) each load the scorer once and get an equal share of OpenCV's threads. At most a few clips per
worker are in flight, so an archive of millions of files is streamed, not queued whole.
This module imports no Ray.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

from pipeline.batch.work import Task, load_scorer, score_task, share_threads
from pipeline.results import error_json
from pipeline.settings import Settings

IN_FLIGHT_PER_WORKER = 2

_scorer: Any = None


def _start_worker(settings: Settings, workers: int, ready: Any) -> None:
    global _scorer
    share_threads(workers)
    _scorer = load_scorer(settings)
    ready.put(time.time())


def _score(task: Task) -> dict[str, Any]:
    return score_task(_scorer, task)


class LocalPool:
    """Scores tasks on `workers` processes and yields their lines as they finish."""

    def __init__(self, settings: Settings, workers: int):
        self.settings = settings
        self.workers = max(1, workers)
        self._context = multiprocessing.get_context("spawn")
        self._ready: Any = self._context.Queue()

    def ready_times(self) -> list[float]:
        """Wall-clock times (time.time) at which workers finished loading their model, so far."""
        times = []
        while not self._ready.empty():
            times.append(self._ready.get())
        return times

    def results(self, tasks: Iterable[Task]) -> Iterator[dict[str, Any]]:
        pending: dict[Future[dict[str, Any]], Task] = {}
        queue = iter(tasks)
        with ProcessPoolExecutor(
            self.workers,
            mp_context=self._context,
            initializer=_start_worker,
            initargs=(self.settings, self.workers, self._ready),
        ) as pool:
            exhausted = False
            while pending or not exhausted:
                while not exhausted and len(pending) < self.workers * IN_FLIGHT_PER_WORKER:
                    task = next(queue, None)
                    if task is None:
                        exhausted = True
                        break
                    pending[pool.submit(_score, task)] = task
                if not pending:
                    break
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    task = pending.pop(future)
                    try:
                        yield future.result()
                    except Exception as error:  # a worker died (e.g. killed for memory): say so, go on
                        reason = f"{task.path}: worker failed ({type(error).__name__}: {error})"
                        yield error_json(task.path, reason, task.sha256)
