"""Analyses requested through the API run one at a time on a background thread.

Scoring takes seconds, longer than an HTTP client should wait, so a request gets a job id at
once and polls it. One thread scores, as the dashboard's engine runs one analysis at a time.
Jobs live in memory; their results land in the user's history (the SQLite store), which
survives a restart.
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from dashboard.engine import AnalysisError, safe_file_name

if TYPE_CHECKING:
    from api.services import Services



@dataclass(frozen=True)
class Job:
    id: str
    user_id: int
    file_name: str
    status: str  # queued, running, done, error
    created_at: float
    analysis_id: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class Request:
    job_id: str
    data: bytes | None
    url: str | None
    frames: int | None
    detector: str | None


class JobQueue:
    def __init__(self, services: Services):
        self._services = services
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._queue: queue.Queue[Request] = queue.Queue()
        self._worker: threading.Thread | None = None

    def submit(
        self,
        user_id: int,
        file_name: str,
        data: bytes | None = None,
        url: str | None = None,
        frames: int | None = None,
        detector: str | None = None,
    ) -> Job:
        job = Job(uuid.uuid4().hex, user_id, safe_file_name(file_name), "queued", time.time())
        with self._lock:
            self._jobs[job.id] = job
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._work, name="api-jobs", daemon=True)
                self._worker.start()
        self._queue.put(Request(job.id, data, url, frames, detector))
        return job

    def get(self, user_id: int, job_id: str) -> Job | None:
        """A job, only when it belongs to `user_id`."""
        with self._lock:
            job = self._jobs.get(job_id)
        return job if job is not None and job.user_id == user_id else None

    def wait(self, timeout_s: float = 60.0) -> None:
        """Block until every submitted job has finished (tests, and a clean shutdown)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                if all(job.status in ("done", "error") for job in self._jobs.values()):
                    return
            time.sleep(0.02)
        raise TimeoutError("jobs still running")

    def _update(self, job_id: str, **changes: object) -> Job:
        with self._lock:
            job = replace(self._jobs[job_id], **changes)  # type: ignore[arg-type]
            self._jobs[job_id] = job
            return job

    def _work(self) -> None:
        while True:
            request = self._queue.get()
            job = self._update(request.job_id, status="running")
            try:
                analysis_id = self._run(job, request)
            except AnalysisError as error:
                self._update(job.id, status="error", error=str(error))
            except Exception as error:  # a bug: this job fails, the API stays up
                self._update(job.id, status="error", error=f"internal error ({type(error).__name__})")
            else:
                self._update(job.id, status="done", analysis_id=analysis_id)

    def _run(self, job: Job, request: Request) -> int:
        services = self._services
        engine = services.engine
        app = services.app
        settings = engine.settings_for(frames=request.frames, detector=request.detector)
        if request.data is None:
            # The dashboard's own fetch: http(s) only, public addresses only (no way into the newsroom's
            # network), within the size and duration caps, the link recorded in the result.
            analysed = engine.analyse_link(
                request.url or "",
                settings,
                services.results,
                max_bytes=app.link_max_bytes,
                max_duration_s=app.link_max_duration_s,
                allow_loopback=app.allow_loopback_links,
                work_dir=app.uploads_dir,
                owner=job.user_id,
            )
        else:
            analysed = engine.analyse(
                request.data, job.file_name, settings, services.results, work_dir=app.uploads_dir, owner=job.user_id
            )
        result = analysed.result
        existing = services.store.find_analysis(job.user_id, analysed.key, job.file_name)
        if existing is not None:
            return existing.id
        return services.store.add_analysis(
            job.user_id,
            job.file_name,
            result.sha256,
            analysed.key,
            str(result.verdict),
            result.probability_fake,
            {"frames": settings.frames, "detector": settings.detector, "source": "api"},
        )
