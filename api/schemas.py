"""Response models: they mirror the domain types, so the OpenAPI schema documents them."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class JobOut(BaseModel):
    id: str
    status: str = Field(description="queued, running, done or error")
    file_name: str
    created_at: float
    analysis_id: int | None = Field(None, description="set when the job is done")
    error: str | None = None


class LinkIn(BaseModel):
    url: str = Field(description="an http(s) link to a video file")
    file_name: str | None = None
    frames: int | None = Field(None, gt=0, le=256)
    detector: str | None = None


class AnalysisOut(BaseModel):
    id: int
    created_at: float
    file_name: str
    sha256: str
    verdict: str
    probability_fake: float | None


class ResultOut(BaseModel):
    """The JSON line of `python -m pipeline score --json` (one schema for CLI, API and reports)."""

    file: str
    sha256: str | None
    verdict: str
    probability_fake: float | None
    threshold: float | None
    frames: list[dict[str, Any]]
    timings_s: dict[str, float] | None
    model: dict[str, Any] | None
    error: str | None
    video: dict[str, Any] | None = None
