"""Widgets shared by the pages: running an upload, the verdict card, timeline, gallery, quality, downloads.

Every heavy step happens outside cached functions; progress bars are drawn here, in the script
thread, from the pipeline's plain callback.
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
import streamlit as st

from dashboard.charts import CHART_CONFIG, describe_timeline, timeline_figure
from dashboard.engine import AnalysisBusyError, AnalysisError, Engine, progress_text, safe_file_name
from dashboard.quality import QualityReport, assess_quality
from dashboard.report import face_alt, html_report, json_report, top_faces
from dashboard.results_store import with_display_name
from dashboard.settings import VIDEO_TYPES, AppSettings
from dashboard.signals_wording import signal_sentence
from dashboard.store import Analysis, CaseNote, NoteError, Store
from dashboard.ui import runtime
from dashboard.ui.auth import CurrentUser
from dashboard.ui.evidence import (
    assessment_card,
    keyframes_panel,
    notes_panel,
    pdf_download,
    people_panel,
    provenance_panel,
)
from dashboard.wording import (
    ATTENTION,
    CERTAINTY,
    FRAME_PROBABILITY,
    UNTRAINED_WARNING,
    VIDEO_PROBABILITY,
    any_verdict_label,
    model_summary_line,
    percent,
    plain_limits,
    verdict_sentence,
)
from pipeline.faces.registry import available_detectors
from pipeline.results import VideoResult

CURRENT = "current_analysis_id"


@dataclass(frozen=True)
class Opened:
    """A user's analysis row with its typed result."""

    analysis: Analysis
    result: VideoResult


def analysis_settings_sidebar(engine: Engine, app: AppSettings) -> tuple[int, str]:
    """The two choices a user may change: how many frames to sample and which face detector."""
    with st.sidebar:
        st.subheader("Analysis settings")
        frames = st.select_slider(
            "Frames to sample",
            options=list(app.frame_choices),
            value=engine.settings.frames if engine.settings.frames in app.frame_choices else app.frame_choices[0],
            help="More frames: more evidence, slower analysis.",
            key="setting_frames",
        )
        detectors = available_detectors()
        default = engine.settings.detector if engine.settings.detector in detectors else detectors[0]
        detector = st.selectbox("Face detector", detectors, index=detectors.index(default), key="setting_detector")
    return int(frames), str(detector)


def app_limit_minutes() -> int:
    return round(runtime.app_settings().max_duration_s / 60)


def video_uploader(label: str, key: str) -> Any:
    limit = st.get_option("server.maxUploadSize")
    return st.file_uploader(
        label,
        type=list(VIDEO_TYPES),
        key=key,
        help=f"{', '.join(VIDEO_TYPES)}; up to {limit} MB and {app_limit_minutes()} minutes. The file is deleted "
        "after analysis; only the result and face crops are kept for your history.",
    )


def analyse_upload(uploaded: Any, engine: Engine, user: CurrentUser, frames: int, detector: str) -> int | None:
    """Analyse an upload once per file and settings; returns the user's analysis id, or None on error.

    A finished upload is remembered in the session, so reruns (a click on the chart) do not repeat it.
    """
    app = runtime.app_settings()
    store = runtime.get_store(app)
    results = runtime.get_results(app)
    token = f"{uploaded.file_id}:{frames}:{detector}"
    done: dict[str, dict[str, Any]] = st.session_state.setdefault("analysed_uploads", {})
    if token in done:
        outcome = done[token]
        if outcome.get("error"):
            st.error(outcome["error"])
            return None
        st.caption(outcome["note"])
        return int(outcome["analysis_id"])

    name = safe_file_name(uploaded.name)
    status = st.status(f"Analysing {name}…", expanded=True)
    bar = status.progress(0.0, text="Reading the upload…")

    def on_progress(stage: str, fraction: float) -> None:
        value, text = progress_text(stage, fraction)
        bar.progress(value, text=text)

    started = time.perf_counter()
    try:
        analysed = engine.analyse(
            uploaded,  # streamed to disk a chunk at a time, never copied whole in memory
            name,
            engine.settings_for(frames=frames, detector=detector),
            results,
            on_progress=on_progress,
            work_dir=app.uploads_dir,
            owner=user.id,
        )
    except AnalysisBusyError as error:
        status.update(label=f"{name} is waiting", state="error", expanded=True)
        st.warning(str(error))  # not remembered: the same upload may go once the other analysis ends
        return None
    except AnalysisError as error:
        status.update(label=f"Could not analyse {name}", state="error", expanded=True)
        message = f"Could not analyse the file: {error}"
        done[token] = {"error": message}
        st.error(message)
        return None
    elapsed = time.perf_counter() - started
    result = analysed.result
    analysis_id = _remember(store, user, name, analysed, frames, detector)
    # Results are stored per user, so a reused one is this user's own earlier analysis.
    note = (
        f"{name}: you analysed this file with these settings before; showing that result."
        if analysed.reused
        else f"{name}: analysed in {elapsed:.1f} s (decode {result.timings.decode:.1f} s, faces "
        f"{result.timings.detect:.1f} s, model {result.timings.model:.1f} s)."
    )
    status.update(label=note, state="complete", expanded=False)
    done[token] = {"analysis_id": analysis_id, "note": note}
    return analysis_id


def _remember(store: Store, user: CurrentUser, name: str, analysed: Any, frames: int, detector: str) -> int:
    """The user's history row for this analysis (an existing one for the same file and result)."""
    existing = store.find_analysis(user.id, analysed.key, name)
    if existing is not None:
        return existing.id
    result = analysed.result
    return store.add_analysis(
        user.id,
        name,
        result.sha256,
        analysed.key,
        str(result.assessment),
        result.probability_fake,
        {"frames": frames, "detector": detector, **({"url": result.source.url} if result.source else {})},
    )


def analyse_link(url: str, engine: Engine, user: CurrentUser, frames: int, detector: str) -> int | None:
    """Fetch and analyse a pasted link; returns the user's analysis id, or None (with a message) on error."""
    app = runtime.app_settings()
    store = runtime.get_store(app)
    status = st.status(f"Fetching {url}…", expanded=True)
    bar = status.progress(0.0, text="Fetching the video…")

    def on_progress(stage: str, fraction: float) -> None:
        value, text = progress_text(stage, fraction)
        bar.progress(value, text=text)

    started = time.perf_counter()
    try:
        analysed = engine.analyse_link(
            url,
            engine.settings_for(frames=frames, detector=detector),
            runtime.get_results(app),
            max_bytes=app.link_max_bytes,
            max_duration_s=app.link_max_duration_s,
            allow_loopback=app.allow_loopback_links,
            on_progress=on_progress,
            work_dir=app.uploads_dir,
            owner=user.id,
        )
    except AnalysisBusyError as error:
        status.update(label="Waiting for your other analysis", state="error", expanded=True)
        st.warning(str(error))
        return None
    except AnalysisError as error:
        status.update(label="Could not analyse the link", state="error", expanded=True)
        st.error(f"Could not analyse the link: {error}")
        return None
    name = Path(analysed.result.file).name
    analysis_id = _remember(store, user, name, analysed, frames, detector)
    status.update(
        label=f"{name}: fetched and analysed in {time.perf_counter() - started:.1f} s.",
        state="complete",
        expanded=False,
    )
    return analysis_id


def open_analysis(user: CurrentUser, analysis_id: int) -> Opened | None:
    """The user's analysis with its result; None (with a message) when it is gone or not theirs."""
    app = runtime.app_settings()
    analysis = runtime.get_store(app).get_analysis(user.id, analysis_id)
    if analysis is None:
        return None
    cache = st.session_state.setdefault("opened_results", {})
    result = cache.get(analysis.result_key)
    if result is None:
        result = runtime.get_results(app).load(analysis.result_key)
        if result is None:
            st.warning(f"The stored result of {analysis.file_name} is missing; please analyse the clip again.")
            return None
        cache.clear()  # keep one result per session in memory; the disk holds the rest
        cache[analysis.result_key] = result
    return Opened(analysis, with_display_name(result, analysis.file_name))


def browser_zone() -> ZoneInfo | None:
    """The browser's time zone (None: the server's, when the browser does not say)."""
    with contextlib.suppress(ZoneInfoNotFoundError, ValueError, TypeError):
        return ZoneInfo(st.context.timezone) if st.context.timezone else None
    return None


def format_when(timestamp: float) -> str:
    """A stored time in the browser's time zone."""
    return datetime.fromtimestamp(timestamp, tz=browser_zone()).strftime("%Y-%m-%d %H:%M")


def analysis_label(analysis: Analysis) -> str:
    when = format_when(analysis.created_at)
    probability = percent(analysis.probability, digits=0)
    return f"{analysis.file_name} · {any_verdict_label(analysis.verdict)} ({probability}) · {when}"


def pick_analysis(
    user: CurrentUser, label: str, key: str, store: Store, default_id: int | None, newest_by_default: bool = True
) -> int | None:
    """A select box over the user's own analyses (newest first); empty until chosen unless a default applies."""
    analyses = store.list_analyses(user.id, limit=200)
    if not analyses:
        return None
    ids = [a.id for a in analyses]
    labels = {a.id: analysis_label(a) for a in analyses}
    if st.session_state.get(key) not in ids:  # first visit, or the chosen analysis was deleted
        st.session_state[key] = default_id if default_id in ids else (ids[0] if newest_by_default else None)
    return st.selectbox(label, ids, format_func=labels.__getitem__, key=key, placeholder="Choose a past analysis…")


def verdict_card(result: VideoResult, compact: bool = False) -> None:
    """The verdict, the calibrated probability, and what the model is and cannot do.

    The compact card (Compare page) names an untrained model in one line; the page warns in full once.
    """
    with st.container(border=True):
        if not result.model.trained:
            if compact:
                st.error("Untrained model: this score carries no evidence.", icon=":material/warning:")
            else:
                st.error(UNTRAINED_WARNING, icon=":material/warning:")
        probability = percent(result.probability_fake)
        left, right = st.columns([3, 2] if compact else [3, 1.2])
        with left:
            assessment_card(result, key=None if compact else "assessment_card")
            st.markdown(verdict_sentence(result))
        with right:
            st.metric(
                VIDEO_PROBABILITY,
                probability,
                help="Calibrated probability from the model (the main face's); the assessment compares the most "
                "suspicious person's with the band fitted on clips the model had not seen.",
            )
            st.caption(f"{result.face_frames} of {len(result.frames)} frames with the main face")
        if not compact:
            with st.expander("About the model and its known limits"):
                st.markdown(f"**Model:** {model_summary_line(result.model)}")
                st.markdown("\n".join(f"- {item}" for item in plain_limits(result.model)))


def timeline_section(
    result: VideoResult,
    key: str,
    x_range: tuple[float, float] | None = None,
    attention_max: float | None = None,
    frame_viewer: bool = True,
    height: int = 480,
    title: str | None = None,
    share_of_clip: bool = False,
) -> None:
    """The Plotly timeline; a click on a point (or the slider) shows that frame's face crop."""
    figure = timeline_figure(
        result,
        **({"title": title} if title else {}),
        x_range=x_range,
        attention_max=attention_max,
        height=height,
        share_of_clip=share_of_clip,
    )
    alt = describe_timeline(result)
    if not frame_viewer:
        st.plotly_chart(figure, key=f"chart_{key}", config=CHART_CONFIG, theme=None, alt=alt)
        st.caption(alt)
        return
    chart_col, frame_col = st.columns([3, 1])
    with chart_col:
        event = st.plotly_chart(
            figure,
            key=f"chart_{key}",
            on_select="rerun",
            selection_mode="points",
            config=CHART_CONFIG,
            theme=None,
            alt=alt,
        )
        st.caption(alt)
    picked = _selected_position(event)
    slider_key = f"frame_{key}"
    seen_key = f"seen_selection_{key}"
    if picked is not None and st.session_state.get(seen_key) != picked:
        st.session_state[seen_key] = picked
        st.session_state[slider_key] = picked  # the click wins; the slider follows it
    positions = list(range(len(result.frames)))
    if not positions:
        return
    if slider_key not in st.session_state:  # start on the frame that counted most
        st.session_state[slider_key] = max(positions, key=lambda i: result.frames[i].attention)
    with frame_col:
        st.markdown("**Selected frame**")
        position = st.select_slider(
            "Frame shown (or click a point in the chart)",
            options=positions,
            format_func=lambda i: f"{result.frames[i].time_s:.2f} s",
            key=slider_key,
        )
        frame = result.frames[position]
        if frame.crop is not None:
            st.image(frame.crop, caption=face_alt(frame), alt=face_alt(frame), width=200)
        else:
            st.info(f"No face found at {frame.time_s:.2f} s.")


def _selected_position(event: Any) -> int | None:
    """The frame position of the clicked point, from its customdata."""
    try:
        points = event["selection"]["points"]
    except (KeyError, TypeError):
        return None
    for point in points or []:
        data = point.get("customdata")
        if isinstance(data, list):
            data = data[0] if data else None
        if data is not None:
            try:
                return int(data)
            except (TypeError, ValueError):
                continue
    return None


def face_gallery(result: VideoResult, count: int, columns: int = 4, width: int = 150, compact: bool = False) -> None:
    """The face crops, most attended first, each with its scores."""
    faces = top_faces(result, count)
    if not faces:
        st.info("No face crops: no face was found in the sampled frames.")
        return
    for start in range(0, len(faces), columns):
        cells = st.columns(columns)
        for cell, frame in zip(cells, faces[start : start + columns], strict=False):
            p = "—" if frame.p_fake is None else f"{frame.p_fake:.2f}"
            c = "—" if frame.certainty is None else f"{frame.certainty:.2f}"
            with cell:
                if frame.crop is not None:
                    st.image(frame.crop, width=width, alt=face_alt(frame))
                if compact:
                    st.caption(f"**{frame.time_s:.1f} s**  \n{ATTENTION.lower()} {frame.attention:.3f}  \n{p}")
                else:
                    st.caption(
                        f"**{frame.time_s:.2f} s** · {ATTENTION.lower()} {frame.attention:.3f}  \n"
                        f"{FRAME_PROBABILITY.lower()} {p} · {CERTAINTY.lower()} {c}"
                    )


def quality_panel(quality: QualityReport) -> None:
    table = pd.DataFrame(quality.rows(), columns=["Measure", "Value"]).set_index("Measure")
    st.table(table)
    for warning in quality.warnings:
        st.warning(warning, icon=":material/warning:")
    if not quality.warnings:
        st.success("No input-quality concern.", icon=":material/check_circle:")


def downloads(
    result: VideoResult, key: str, quality: QualityReport, app: AppSettings, notes: list[CaseNote] | None = None
) -> None:
    generated = datetime.now(UTC)
    stem = Path(result.file).stem or "clip"
    notes = notes or []
    report = json_report(result, key, quality, generated, notes=notes)
    left, right, third = st.columns(3)
    left.download_button(
        "Download JSON report",
        json.dumps(report, indent=2),
        file_name=f"{stem}.report.json",
        mime="application/json",
        on_click="ignore",
        icon=":material/download:",
        key=f"json_{key}",
    )
    right.download_button(
        "Download printable report (HTML)",
        html_report(result, key, quality, generated, faces=app.report_faces, notes=notes),
        file_name=f"{stem}.report.html",
        mime="text/html",
        on_click="ignore",
        icon=":material/print:",
        key=f"html_{key}",
    )
    with third:
        pdf_download(result, key, quality, notes, app)


def signal_rows(result: VideoResult) -> None:
    """One line per signal in plain words, with the stretches of the timeline it finds suspicious."""
    if not result.signals:
        return
    with st.container(key="signal_rows"):
        st.header("Signals")
        for signal in result.signals:
            st.markdown(f"- {signal_sentence(signal)}")


def full_result_view(opened: Opened, app: AppSettings) -> None:
    """Everything the Analyze page shows about one analysis.

    The order serves a phone first (390 px, where columns stack): the assessment, the downloads and the
    timeline come within the first two screens; the quality panel, people and provenance follow.
    """
    result = opened.result
    key = opened.analysis.result_key
    quality = assess_quality(result, app.quality)
    store = runtime.get_store(app)
    analysis = opened.analysis
    verdict_card(result)
    with st.container(key="reports"):
        downloads(result, key, quality, app, store.list_notes(analysis.user_id, analysis.id))
        st.caption(
            "The PDF evidence report and the printable HTML report hold the file name, size, SHA-256, source "
            "link, model version and hash, settings, assessment with its band and reasons, every person, the "
            "chart, top faces, keyframes, provenance, case notes and limitations."
        )
    st.header("Timeline")
    timeline_section(result, key)
    signal_rows(result)
    with st.container(border=True):
        st.header("Input quality")
        quality_panel(quality)
    st.header("Faces the model weighed most")
    face_gallery(result, app.gallery_faces)
    with st.container(key="people_panel"):
        st.header("Every person")
        people_panel(result, key, timeline_section, face_gallery, app.gallery_faces)
    provenance_panel(result)
    keyframes_panel(result, key)
    notes_panel(
        store.list_notes(analysis.user_id, analysis.id),
        lambda text: store.add_note(analysis.user_id, analysis.id, text, app.note_max_chars),
        NoteError,
        key,
    )
