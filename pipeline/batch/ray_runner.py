"""Batch scoring on Ray: an actor pool with one loaded model per actor.

The same code runs on a laptop (`ray.init()`: local Ray) and on a cluster
(`ray.init(address=...)`). Each actor loads the scorer once in its constructor; clips are
streamed to the actors a few at a time and their lines come back as they finish. On a
cluster the actors may not see the driver's disk, so each clip's bytes travel with it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pipeline.batch.work import Task, load_scorer, score_task, share_threads
from pipeline.results import error_json
from pipeline.settings import Settings

IN_FLIGHT_PER_ACTOR = 2


class ScoringActor:
    """One worker: a scorer loaded once, then `score` per clip (made a Ray actor by `RayPool`)."""

    def __init__(self, settings: Settings, index: int, actors: int, local: bool):
        if local:
            share_threads(actors)
        self.scorer = load_scorer(settings)
        self.loaded_at = time.time()

    def ready(self) -> float:
        return self.loaded_at

    def score(self, task: Task, data: bytes | None) -> dict[str, Any]:
        return score_task(self.scorer, task, data)


class RayPool:
    """Scores tasks on `workers` Ray actors (on local Ray, or the cluster at `address`)."""

    def __init__(self, settings: Settings, workers: int, address: str | None = None):
        import ray

        self.settings = settings
        self.workers = max(1, workers)
        self.address = address
        self.ship_bytes = address is not None
        if not ray.is_initialized():
            import pipeline

            package = Path(pipeline.__file__).parent
            if address is None:
                # Workers import the same `pipeline` as this process (a checkout may shadow an install).
                environment = {"env_vars": {"PYTHONPATH": str(package.parent)}}
                ray.init(num_cpus=self.workers, include_dashboard=False, log_to_driver=False, runtime_env=environment)
            else:
                ray.init(address=address, runtime_env={"py_modules": [str(package)]})
        actor_class: Any = ray.remote(num_cpus=1)(ScoringActor)
        self.actors: list[Any] = [
            actor_class.remote(settings, i, self.workers, address is None) for i in range(self.workers)
        ]
        self._ray = ray

    def ready_times(self) -> list[float]:
        return list(self._ray.get([actor.ready.remote() for actor in self.actors]))

    def results(self, tasks: Iterable[Task]) -> Iterator[dict[str, Any]]:
        from ray.util import ActorPool

        pool = ActorPool(self.actors)
        queue = iter(tasks)
        submitted: dict[str, Task] = {}
        in_flight = 0

        def submit(task: Task) -> None:
            data = Path(task.path).read_bytes() if self.ship_bytes and task.sha256 else None
            pool.submit(lambda actor, item: actor.score.remote(item[0], item[1]), (task, data))
            submitted[task.path] = task

        exhausted = False
        while True:
            while not exhausted and in_flight < self.workers * IN_FLIGHT_PER_ACTOR:
                task = next(queue, None)
                if task is None:
                    exhausted = True
                    break
                submit(task)
                in_flight += 1
            if in_flight == 0:
                return
            try:
                record = pool.get_next_unordered()
            except Exception as error:  # an actor died: its clip fails, the run goes on
                yield error_json("?", f"a Ray worker failed ({type(error).__name__}: {error})")
            else:
                submitted.pop(record["file"], None)
                yield record
            in_flight -= 1

    def close(self) -> None:
        for actor in self.actors:
            self._ray.kill(actor)
        if self.address is None:
            self._ray.shutdown()
