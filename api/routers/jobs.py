"""Jobs: submit a clip (upload or link) and poll its status."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, UploadFile, status

from api.auth import ServicesDep, UserId
from api.jobs import Job
from api.schemas import JobOut, LinkIn

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])


def job_out(job: Job) -> JobOut:
    return JobOut(
        id=job.id,
        status=job.status,
        file_name=job.file_name,
        created_at=job.created_at,
        analysis_id=job.analysis_id,
        error=job.error,
    )


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=JobOut)
async def upload(
    user_id: UserId,
    services: ServicesDep,
    file: Annotated[UploadFile, File(description="the video file")],
    frames: Annotated[int | None, Form(gt=0, le=256)] = None,
    detector: Annotated[str | None, Form()] = None,
) -> JobOut:
    """Analyse an uploaded clip; poll the returned job."""
    limit = services.engine.settings.max_file_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise HTTPException(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, f"the file is larger than {limit} bytes")
    if not data:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "the file is empty")
    job = services.jobs.submit(user_id, file.filename or "upload", data=data, frames=frames, detector=detector)
    return job_out(job)


@router.post("/link", status_code=status.HTTP_202_ACCEPTED, response_model=JobOut)
def link(user_id: UserId, services: ServicesDep, body: LinkIn) -> JobOut:
    """Analyse the clip behind an http(s) link; poll the returned job."""
    if not body.url.startswith(("http://", "https://")):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "only http:// and https:// links are accepted")
    name = body.file_name or body.url.rstrip("/").rsplit("/", 1)[-1].split("?")[0] or "link"
    job = services.jobs.submit(user_id, name, url=body.url, frames=body.frames, detector=body.detector)
    return job_out(job)


@router.get("/{job_id}", response_model=JobOut)
def job_status(user_id: UserId, services: ServicesDep, job_id: str) -> JobOut:
    """A job's status; another user's job is not found."""
    job = services.jobs.get(user_id, job_id)
    if job is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such job")
    return job_out(job)
