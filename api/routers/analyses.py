"""Analyses: the user's history, each result as JSON, and the report downloads."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.responses import HTMLResponse, JSONResponse

from api.auth import ServicesDep, UserId
from api.schemas import AnalysisOut, ResultOut
from dashboard.quality import assess_quality
from dashboard.report import html_report, json_report
from dashboard.results_store import with_display_name
from dashboard.store import Analysis
from pipeline.results import VideoResult

router = APIRouter(prefix="/v1/analyses", tags=["analyses"])


def _own(services: ServicesDep, user_id: int, analysis_id: int) -> tuple[Analysis, VideoResult]:
    """The user's analysis and its stored result; 404 for another user's or a missing one."""
    analysis = services.store.get_analysis(user_id, analysis_id)
    result = services.results.load(analysis.result_key) if analysis else None
    if analysis is None or result is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such analysis")
    return analysis, with_display_name(result, analysis.file_name)


@router.get("", response_model=list[AnalysisOut])
def list_analyses(
    user_id: UserId,
    services: ServicesDep,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0),
) -> list[AnalysisOut]:
    """The user's own analyses, newest first."""
    return [
        AnalysisOut(
            id=a.id,
            created_at=a.created_at,
            file_name=a.file_name,
            sha256=a.sha256,
            verdict=a.verdict,
            probability_fake=a.probability,
        )
        for a in services.store.list_analyses(user_id, limit=limit, offset=offset)
    ]


@router.get("/{analysis_id}", response_model=ResultOut)
def result(user_id: UserId, services: ServicesDep, analysis_id: int) -> ResultOut:
    """The result in the schema of `score --json`."""
    _, found = _own(services, user_id, analysis_id)
    return ResultOut(**found.to_json_dict())


@router.get("/{analysis_id}/report.json")
def report_json(user_id: UserId, services: ServicesDep, analysis_id: int) -> JSONResponse:
    """The downloadable JSON report (as on the dashboard)."""
    analysis, found = _own(services, user_id, analysis_id)
    quality = assess_quality(found, services.app.quality)
    report = json_report(found, analysis.result_key, quality, datetime.now(UTC))
    name = f"{analysis.file_name.rsplit('.', 1)[0]}.report.json"
    return JSONResponse(report, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/{analysis_id}/report.html", response_class=HTMLResponse)
def report_html(user_id: UserId, services: ServicesDep, analysis_id: int) -> HTMLResponse:
    """The printable HTML report (as on the dashboard)."""
    analysis, found = _own(services, user_id, analysis_id)
    quality = assess_quality(found, services.app.quality)
    page = html_report(found, analysis.result_key, quality, datetime.now(UTC), faces=services.app.report_faces)
    name = f"{analysis.file_name.rsplit('.', 1)[0]}.report.html"
    return HTMLResponse(page, headers={"Content-Disposition": f'attachment; filename="{name}"'})
