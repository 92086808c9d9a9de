"""The downloadable reports: a JSON file for tools and a printable, self-contained HTML page for people.

The HTML report has no script and no external file: the chart is inline SVG and the faces are
inline PNGs, so it prints, archives and attaches to a story as one file. Every value shown is
HTML-escaped (file names come from users).
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import cv2
import numpy as np

from dashboard.charts import describe_timeline
from dashboard.quality import QualityReport
from dashboard.settings import APP_NAME, REPORT_VERSION
from dashboard.store import CaseNote
from dashboard.theme import FAKE_TEXT_COLOR
from dashboard.wording import (
    ATTENTION,
    CERTAINTY,
    FRAME_PROBABILITY,
    JSON_LABELS,
    THRESHOLD,
    TIMELINE_TITLE,
    UNTRAINED_WARNING,
    VIDEO_PROBABILITY,
    assessment_label,
    band_summary,
    percent,
    person_sentence,
    plain_limits,
    verdict_sentence,
)
from pipeline.assessment import Assessment
from pipeline.results import FrameRecord, VideoResult

SETTINGS_SHOWN = ("frames", "sample_fps", "detector", "min_face_fraction", "crop_size", "attention_temperature")


def json_report(
    result: VideoResult,
    key: str,
    quality: QualityReport,
    generated_at: datetime,
    notes: Sequence[CaseNote] = (),
) -> dict[str, Any]:
    """The CLI's JSON schema plus what a reader of the report needs: settings, quality, notes, limits."""
    return {
        "report": {
            "version": REPORT_VERSION,
            "tool": APP_NAME,
            "generated_at": generated_at.astimezone(UTC).isoformat(timespec="seconds"),
            "result_key": key,
        },
        **result.to_json_dict(),
        "verdict_text": verdict_sentence(result),
        "raw_probability_fake": result.raw_probability_fake,
        "settings": result.settings.to_dict(),
        "model_details": result.model.to_json_dict(),
        "quality": quality.to_json_dict(),
        "case_notes": [{"created_at": n.created_utc, "author": n.author, "text": n.text} for n in notes],
        "limitations": plain_limits(result.model),
        "labels": JSON_LABELS,
    }


def top_faces(result: VideoResult, count: int) -> list[FrameRecord]:
    """Frames with a face, most attended first (ties: earlier first)."""
    faces = [f for f in result.frames if f.crop is not None]
    return sorted(faces, key=lambda f: (-f.attention, f.time_s))[:count]


def face_alt(frame: FrameRecord) -> str:
    p = "—" if frame.p_fake is None else f"{frame.p_fake:.2f}"
    c = "—" if frame.certainty is None else f"{frame.certainty:.2f}"
    return (
        f"Face crop at {frame.time_s:.2f} s: {ATTENTION.lower()} {frame.attention:.3f}, "
        f"{FRAME_PROBABILITY.lower()} {p}, {CERTAINTY.lower()} {c}"
    )


def png_data_uri(rgb: np.ndarray, size: int = 160) -> str:
    small = cv2.resize(rgb, (size, size), interpolation=cv2.INTER_AREA)
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(small, cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError("cannot encode a face crop as PNG")
    return "data:image/png;base64," + base64.b64encode(encoded.tobytes()).decode()


def timeline_svg(result: VideoResult, width: int = 720, height: int = 260) -> str:
    """The timeline as a static SVG: probability line, certainty dots, attention bars, threshold."""
    left, right, top, bottom = 48, 52, 16, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    frames = result.frames
    end = max([f.time_s for f in frames] + [result.video.duration_s, 1e-6])
    att_max = max([f.attention for f in frames] + [1e-6])

    def x(t: float) -> float:
        return left + plot_w * t / end

    def y(v: float) -> float:
        return top + plot_h * (1 - v)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'role="img" aria-labelledby="chart-title chart-desc">',
        f'<title id="chart-title">{TIMELINE_TITLE}</title>',
        f'<desc id="chart-desc">{html.escape(describe_timeline(result))}</desc>',
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="#fff" stroke="#888"/>',
    ]
    for v in (0.25, 0.5, 0.75):
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#e5e5e5"/>')
    for v in (0.0, 0.5, 1.0):
        parts.append(f'<text x="{left - 6}" y="{y(v) + 4:.1f}" font-size="11" text-anchor="end">{v:.1f}</text>')
    step = _nice_step(end)
    tick = 0.0
    while tick <= end + 1e-9:
        parts.append(
            f'<text x="{x(tick):.1f}" y="{top + plot_h + 16}" font-size="11" text-anchor="middle">{tick:g}</text>'
        )
        tick += step
    parts.append(
        f'<text x="{left + plot_w / 2}" y="{height - 4}" font-size="12" text-anchor="middle">Time (s)</text>'
        f'<text x="{width - 6}" y="{top + 10}" font-size="11" text-anchor="end" fill="#0072B2">'
        f"{ATTENTION.lower()} (max {att_max:.3f})</text>"
    )
    bar_w = max(2.0, 0.6 * plot_w / max(len(frames), 1))
    for f in frames:
        if f.attention > 0:
            h = plot_h * f.attention / att_max
            parts.append(
                f'<rect x="{x(f.time_s) - bar_w / 2:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w:.1f}" '
                f'height="{h:.1f}" fill="#0072B2" fill-opacity="0.3"/>'
            )
    parts.append(
        f'<line x1="{left}" x2="{left + plot_w}" y1="{y(result.threshold):.1f}" y2="{y(result.threshold):.1f}" '
        'stroke="#D55E00" stroke-dasharray="6 4"/>'
        f'<text x="{left + 4}" y="{y(result.threshold) - 4:.1f}" font-size="11" fill="{FAKE_TEXT_COLOR}">'
        f"threshold {result.threshold:.2f}</text>"
    )
    for name, color, dash in (("p_fake", "#D55E00", ""), ("certainty", "#555555", ' stroke-dasharray="2 3"')):
        for run in _runs([(f.time_s, getattr(f, name)) for f in frames]):
            points = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in run)
            parts.append(f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="2"{dash}/>')
    for f in frames:
        if f.p_fake is not None:
            parts.append(f'<circle cx="{x(f.time_s):.1f}" cy="{y(f.p_fake):.1f}" r="2.5" fill="#D55E00"/>')
        else:
            parts.append(
                f'<text x="{x(f.time_s):.1f}" y="{y(0) - 2:.1f}" font-size="10" text-anchor="middle" '
                'fill="#595959">×</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def _provenance_html(result: VideoResult) -> str:
    e = html.escape
    if result.provenance is None:
        return "<p>Provenance was not checked for this analysis.</p>"
    c2pa, container = result.provenance.c2pa, result.provenance.container
    rows = [
        ("Claim generator", c2pa.claim_generator),
        ("Signer", c2pa.signer),
        ("Signed at", c2pa.signed_at),
        *[("Declared action", f"{a.action} {a.digital_source_type or ''}".strip()) for a in c2pa.actions],
        *[("Validation", f"{i.code}: {i.plain}") for i in c2pa.issues],
        ("Container", f"{container.format_name or 'unreadable'}, encoder {container.encoder or 'none'}"),
        ("Creation time", container.creation_time or "not recorded"),
    ]
    table = "".join(f"<tr><th>{e(label)}</th><td>{e(value)}</td></tr>" for label, value in rows if value)
    hints = "".join(f"<li>{e(hint)}</li>" for hint in container.hints)
    return f"<p>{e(c2pa.summary)}</p><table>{table}</table><ul>{hints}</ul>"


def _setting(value: object) -> str:
    return "—" if value is None else str(value)


def _runs(points: list[tuple[float, float | None]]) -> list[list[tuple[float, float]]]:
    """Split a series at missing values, so a line never bridges frames without a face."""
    runs: list[list[tuple[float, float]]] = [[]]
    for t, v in points:
        if v is None:
            runs.append([])
        else:
            runs[-1].append((t, v))
    return [run for run in runs if run]


def _nice_step(span: float) -> float:
    raw = span / 6
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    return next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)


def html_report(
    result: VideoResult,
    key: str,
    quality: QualityReport,
    generated_at: datetime,
    faces: int = 6,
    notes: Sequence[CaseNote] = (),
) -> str:
    """A printable one-file report a journalist can attach to a story."""
    e = html.escape
    verdict_class = {Assessment.SIGNS_OF_MANIPULATION: "fake", Assessment.NO_SIGNS_FOUND: "real"}.get(
        result.assessment, "abstain"
    )
    reasons = "".join(f"<li>{e(reason)}</li>" for reason in result.assessment_reasons)
    people = "".join(f"<li>{e(person_sentence(p))}</li>" for p in result.people) or "<li>No face was found.</li>"
    source_rows = (
        f"<tr><th>Source link</th><td>{e(result.source.url)}</td></tr>"
        f"<tr><th>Fetched at</th><td>{e(result.source.fetched_at)}</td></tr>"
        if result.source
        else ""
    )
    provenance = _provenance_html(result)
    note_items = (
        "".join(f"<li><strong>{e(n.created_utc)} · {e(n.author)}</strong><br>{e(n.text)}</li>" for n in notes)
        or "<li>No case notes.</li>"
    )
    probability = percent(result.probability_fake)
    settings = result.settings.to_dict()
    settings_rows = "".join(
        f"<tr><th>{e(name.replace('_', ' '))}</th><td>{e(_setting(settings.get(name)))}</td></tr>"
        for name in SETTINGS_SHOWN
        if name in settings
    )
    quality_rows = "".join(f"<tr><th>{e(label)}</th><td>{e(value)}</td></tr>" for label, value in quality.rows())
    quality_warnings = "".join(f"<li>{e(w)}</li>" for w in quality.warnings) or "<li>No quality warning.</li>"
    face_items = "".join(
        f'<figure><img src="{png_data_uri(f.crop)}" alt="{e(face_alt(f))}" width="140" height="140">'
        f"<figcaption>{f.time_s:.2f} s · {ATTENTION.lower()} {f.attention:.3f}<br>"
        f"{FRAME_PROBABILITY.lower()} {('—' if f.p_fake is None else f'{f.p_fake:.2f}')}"
        f" · {CERTAINTY.lower()} {('—' if f.certainty is None else f'{f.certainty:.2f}')}</figcaption></figure>"
        for f in top_faces(result, faces)
        if f.crop is not None
    )
    limits = "".join(f"<li>{e(item)}</li>" for item in plain_limits(result.model))
    untrained = "" if result.model.trained else f'<p class="warning" role="alert">{e(UNTRAINED_WARNING)}</p>'
    info = result.model
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Verification report: {e(result.file)}</title>
<style>
body {{ font-family: Georgia, 'Times New Roman', serif; color: #111; max-width: 780px; margin: 2em auto;
  padding: 0 1em; }}
h1 {{ font-size: 1.6em; margin-bottom: .2em; }} h2 {{ font-size: 1.15em; border-bottom: 1px solid #ccc; }}
table {{ border-collapse: collapse; width: 100%; font-size: .92em; }}
th, td {{ text-align: left; padding: 3px 8px; border-bottom: 1px solid #eee; vertical-align: top; }}
th {{ width: 32%; font-weight: 600; }}
code {{ font-size: .85em; word-break: break-all; }}
.verdict {{ border: 2px solid #555; border-radius: 6px; padding: .6em 1em; margin: 1em 0; }}
.verdict.fake {{ border-color: #D55E00; }} .verdict.real {{ border-color: #009E73; }}
.verdict .label {{ font-size: 1.4em; font-weight: bold; }}
.warning {{ border: 3px solid #b00020; color: #b00020; padding: .6em; font-weight: bold; }}
.faces {{ display: flex; flex-wrap: wrap; gap: 10px; }}
figure {{ margin: 0; width: 140px; font-size: .8em; }}
footer {{ margin-top: 2em; font-size: .8em; color: #555; }}
@media print {{ body {{ margin: 0; max-width: none; }} .faces, figure, svg {{ break-inside: avoid; }} }}
</style></head><body>
<header>
<h1>Deepfake verification report</h1>
<p>Generated {e(generated_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"))} by {e(APP_NAME)}.</p>
</header>
<main>
{untrained}
<section class="verdict {verdict_class}" aria-label="Assessment">
<div class="label">{e(assessment_label(result.assessment))}</div>
<div>{VIDEO_PROBABILITY}: <strong>{probability}</strong></div>
<ul>{reasons}</ul>
<p>{e(verdict_sentence(result))}</p>
<p><small>{e(band_summary(result.band))}</small></p>
</section>
<h2>People</h2>
<ul>{people}</ul>
<h2>File</h2>
<table>
<tr><th>File name</th><td>{e(result.file)}</td></tr>
<tr><th>SHA-256</th><td><code>{e(result.sha256)}</code></td></tr>
<tr><th>Size</th><td>{result.video.size_bytes:,} bytes</td></tr>
{source_rows}
<tr><th>Analysed at</th><td>{e(result.analysed_at or "not recorded")}</td></tr>
<tr><th>Result key</th><td><code>{e(key)}</code></td></tr>
</table>
<h2>Model and settings</h2>
<table>
<tr><th>Model</th><td>{e(info.name)} version {e(info.version)}{"" if info.trained else " (UNTRAINED)"}</td></tr>
<tr><th>Model SHA-256</th><td><code>{e(info.sha256)}</code></td></tr>
<tr><th>Backbone, input</th><td>{e(info.backbone)}, {info.input_size} px</td></tr>
<tr><th>{THRESHOLD}</th><td>{result.threshold:.3f}</td></tr>
<tr><th>Calibration</th><td>temperature {info.calibration_temperature:.3f}, bias {info.calibration_bias:+.3f}</td></tr>
{settings_rows}
</table>
<h2>Timeline</h2>
{timeline_svg(result)}
<p><small>Red: {FRAME_PROBABILITY.lower()} (each frame's face). Dotted grey: {CERTAINTY.lower()}.
Blue bars: {ATTENTION.lower()} (how much the frame counted). × marks frames without a face.</small></p>
<h2>Faces the model weighed most</h2>
<div class="faces">{face_items or "<p>No face was found.</p>"}</div>
<h2>Provenance</h2>
{provenance}
<h2>Case notes</h2>
<ul>{note_items}</ul>
<h2>Input quality</h2>
<table>{quality_rows}</table>
<ul>{quality_warnings}</ul>
<h2>Limitations</h2>
<ul>{limits}</ul>
</main>
<footer>This report records what an automated model estimated; it is not proof that a video is or is not
manipulated. Keep the original file: its SHA-256 above identifies exactly the bytes that were analysed.</footer>
</body></html>
"""
