"""`python -m pipeline batch PATH... --out results.jsonl`: score an archive, resumably."""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

from pipeline.batch.inputs import collect_inputs
from pipeline.batch.journal import Journal, Summary, settings_key
from pipeline.batch.work import Task
from pipeline.errors import PipelineError
from pipeline.hashing import file_sha256
from pipeline.results import error_json
from pipeline.settings import Settings


def default_workers() -> int:
    from pipeline.model.tflite_runtime import default_threads

    return default_threads()


def add_batch_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="video files, folders (recursive) or manifests")
    parser.add_argument("--out", type=Path, required=True, help="JSON lines file (appended to; reruns skip done clips)")
    parser.add_argument("--workers", type=int, help="worker processes or Ray actors (default: one per CPU)")
    parser.add_argument("--ray", action="store_true", help="run on local Ray instead of a process pool")
    parser.add_argument("--ray-address", help="run on the Ray cluster at this address (e.g. ray://head:10001)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def pending_tasks(paths: list[Path], journal: Journal) -> list[Task]:
    """Tasks for the clips not done yet with these settings (hashing each file once)."""
    tasks = []
    for path in paths:
        try:
            sha256: str | None = file_sha256(path)
        except OSError:
            sha256 = None  # scored as an error line, with the reason
        if sha256 is not None and journal.is_done(sha256):
            journal.skip()
            continue
        tasks.append(Task(str(path), sha256))
    return tasks


class Runner(Protocol):
    """A pool of workers that each hold a loaded model and yield `score --json` lines as clips finish."""

    def results(self, tasks: Iterable[Task]) -> Iterator[dict[str, Any]]: ...


def make_runner(settings: Settings, workers: int, use_ray: bool, address: str | None) -> Runner:
    if use_ray or address:
        from pipeline.batch.ray_runner import RayPool

        return RayPool(settings, workers, address)
    from pipeline.batch.local import LocalPool

    return LocalPool(settings, workers)


def run_tasks(tasks: list[Task], journal: Journal, runner: Runner | None, progress: bool) -> Summary:
    """Write each line as it arrives, under one progress bar; returns the summary."""
    from tqdm import tqdm

    started = time.perf_counter()
    bar = tqdm(total=len(tasks), unit="clip", disable=not progress, file=sys.stderr, dynamic_ncols=True)
    unreadable = [task for task in tasks if task.sha256 is None]
    readable = [task for task in tasks if task.sha256 is not None]
    records: Iterator[dict[str, Any]] = itertools.chain(
        (error_json(task.path, f"{task.path}: file not found or unreadable") for task in unreadable),
        runner.results(readable) if runner is not None else (),
    )
    try:
        for record in records:
            journal.write(record)
            bar.update(1)
    finally:
        bar.close()
        journal.summary.seconds = time.perf_counter() - started
    return journal.summary


def run_batch(args: argparse.Namespace, settings: Settings) -> int:
    """Exit code 0 when every clip has a line without error, 1 when any failed."""
    if args.workers is not None and args.workers < 1:
        print("error: --workers must be at least 1", file=sys.stderr)
        return 2
    paths = collect_inputs(args.paths)
    if not paths:
        print("error: no video files found", file=sys.stderr)
        return 2
    journal = Journal(args.out, settings_key(settings))
    try:
        tasks = pending_tasks(paths, journal)
        needs_workers = any(task.sha256 is not None for task in tasks)
        workers = args.workers or default_workers()
        runner = make_runner(settings, workers, args.ray, args.ray_address) if needs_workers else None
        summary = run_tasks(tasks, journal, runner, not args.no_progress)
        if runner is not None and hasattr(runner, "close"):
            runner.close()
    except PipelineError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        journal.close()
    print(f"{args.out}: {summary.line()}", file=sys.stderr)
    return 1 if summary.verdicts.get("error") else 0
