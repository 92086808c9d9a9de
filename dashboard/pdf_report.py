"""The PDF evidence report, beside the HTML one: everything a desk needs to file with a story.

File identity (name, size, SHA-256, source link), the model and settings, the assessment with its
band and reasons, every person, a static timeline, the faces that counted most, keyframes,
provenance, case notes and limitations. Text is drawn with DejaVu Sans (shipped with matplotlib),
so any name or note prints as written; nothing in it is interpreted as markup.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import cv2
import matplotlib
import numpy as np
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from dashboard.quality import QualityReport
from dashboard.report import SETTINGS_SHOWN, top_faces
from dashboard.settings import APP_NAME
from dashboard.store import CaseNote
from dashboard.wording import (
    ATTENTION,
    FRAME_PROBABILITY,
    UNTRAINED_WARNING,
    assessment_label,
    band_summary,
    person_sentence,
    plain_limits,
)
from pipeline.keyframes import Keyframe
from pipeline.results import VideoResult

matplotlib.use("Agg")
import matplotlib.pyplot as plt

FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
FONT = "DejaVu"
MONO = "DejaVuMono"
PAGE_WIDTH_MM = 180
PERSON_COLOURS = ("#D55E00", "#0072B2", "#009E73", "#CC79A7", "#E69F00")


class _Pdf(FPDF):
    def __init__(self, footer_text: str):
        super().__init__(format="A4")
        self.footer_text = footer_text
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(True, margin=15)
        self.add_font(FONT, "", str(FONT_DIR / "DejaVuSans.ttf"))
        self.add_font(FONT, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        self.add_font(MONO, "", str(FONT_DIR / "DejaVuSansMono.ttf"))

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, "", 7)
        self.set_text_color(90)
        self.cell(0, 5, f"{self.footer_text} · page {self.page_no()}", align="C")
        self.set_text_color(0)

    def heading(self, text: str) -> None:
        self.ln(2)
        self.set_font(FONT, "B", 12)
        self.cell(0, 7, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_draw_color(180)
        self.line(self.l_margin, self.get_y(), self.l_margin + PAGE_WIDTH_MM, self.get_y())
        self.ln(1.5)

    def paragraph(self, text: str, size: float = 9.5, bold: bool = False) -> None:
        self.set_font(FONT, "B" if bold else "", size)
        self.multi_cell(0, 4.8, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def row(self, label: str, value: str, mono: bool = False) -> None:
        if self.get_y() + 10 > self.h - self.b_margin:
            self.add_page()  # a label and its value stay on one page
        self.set_font(FONT, "B", 8.5)
        y = self.get_y()
        self.multi_cell(48, 4.6, label, new_x=XPos.RIGHT, new_y=YPos.TOP)
        label_bottom = y + 4.6 * max(1, len(self.multi_cell(48, 4.6, label, dry_run=True, output="LINES")))
        self.set_font(MONO if mono else FONT, "", 7.5 if mono else 8.5)
        self.multi_cell(0, 4.6, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_y(max(self.get_y(), label_bottom))

    def bullets(self, items: Sequence[str]) -> None:
        for item in items:
            self.paragraph(f"• {item}", size=8.5)


def pdf_report(
    result: VideoResult,
    key: str,
    quality: QualityReport,
    generated_at: datetime,
    *,
    keyframes: Sequence[Keyframe] = (),
    notes: Sequence[CaseNote] = (),
    faces: int = 6,
) -> bytes:
    """The evidence report as PDF bytes."""
    pdf = _Pdf(f"{APP_NAME} · {Path(result.file).name} · SHA-256 {result.sha256[:16]}…")
    pdf.add_page()
    pdf.set_font(FONT, "B", 17)
    pdf.cell(0, 9, "Deepfake verification: evidence report", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.paragraph(f"Generated {generated_at.astimezone(UTC):%Y-%m-%d %H:%M UTC} by {APP_NAME}.", size=8.5)
    if not result.model.trained:
        pdf.set_text_color(176, 0, 32)
        pdf.paragraph(UNTRAINED_WARNING, bold=True)
        pdf.set_text_color(0)

    pdf.heading(f"Assessment: {assessment_label(result.assessment)}")
    probability = "none" if result.probability_fake is None else f"{result.probability_fake:.3f}"
    pdf.paragraph(f"Assessment code: {result.assessment.value}. Probability of manipulation: {probability}.")
    pdf.bullets(result.assessment_reasons)
    pdf.paragraph(band_summary(result.band), size=8.5)
    suspicious = result.most_suspicious_person
    if suspicious is not None and len(result.people) > 1:
        pdf.paragraph(f"The assessment is that of {person_sentence(suspicious)}", size=9)

    pdf.heading("File")
    pdf.row("File name", Path(result.file).name)
    pdf.row("Size", f"{result.video.size_bytes:,} bytes")
    pdf.row("SHA-256", result.sha256, mono=True)
    if result.source is not None:
        pdf.row("Source link", result.source.url)
        pdf.row("Fetched at", result.source.fetched_at)
    pdf.row("Analysed at", result.analysed_at or "not recorded")
    pdf.row(
        "Video",
        f"{result.video.width}x{result.video.height}, {result.video.fps:.2f} fps, "
        f"{result.video.duration_s:.2f} s, codec {result.video.codec}",
    )
    pdf.row("Result key", key, mono=True)

    info = result.model
    pdf.heading("Model and settings")
    pdf.row("Model", f"{info.name} version {info.version}" + ("" if info.trained else " (UNTRAINED)"))
    pdf.row("Model SHA-256", info.sha256, mono=True)
    pdf.row("Calibration", f"temperature {info.calibration_temperature:.3f}, bias {info.calibration_bias:+.3f}")
    settings = result.settings.to_dict()
    for name in SETTINGS_SHOWN:
        if name in settings:
            pdf.row(name.replace("_", " "), str(settings[name]))

    pdf.heading("People")
    if not result.people:
        pdf.paragraph("No face was found in the sampled frames.")
    for person in result.people:
        pdf.paragraph(person_sentence(person), size=8.5)
    if result.people:
        pdf.image(io.BytesIO(timeline_png(result)), w=PAGE_WIDTH_MM)
        pdf.paragraph(
            f"{FRAME_PROBABILITY} of each sampled frame, one line per person; the dashed lines are the band's limits.",
            size=7.5,
        )

    crops = [(f"{f.time_s:.2f} s, {ATTENTION.lower()} {f.attention:.3f}", f.crop) for f in top_faces(result, faces)]
    crops += [
        (f"Person {p.id} at {f.time_s:.2f} s", f.crop)
        for p in result.people[1:]
        for f in p.records[:1]
        if f.crop is not None
    ]
    if crops:
        pdf.heading("Faces the model weighed most")
        _image_grid(pdf, [(caption, crop) for caption, crop in crops if crop is not None], width=28)

    if keyframes:
        pdf.heading("Keyframes for reverse image search")
        _image_grid(
            pdf,
            [(f"{k.kind.value} {k.time_s:.2f} s\npHash {k.phash}", _thumbnail(k.rgb, 320)) for k in keyframes],
            width=42,
        )

    pdf.heading("Provenance")
    if result.provenance is None:
        pdf.paragraph("Provenance was not checked for this analysis.")
    else:
        c2pa, container = result.provenance.c2pa, result.provenance.container
        pdf.paragraph(c2pa.summary, size=9)
        for label, value in (
            ("Claim generator", c2pa.claim_generator),
            ("Signer", c2pa.signer),
            ("Issuer", c2pa.issuer),
            ("Signed at", c2pa.signed_at),
        ):
            if value:
                pdf.row(label, value)
        for action in c2pa.actions:
            source = f" (digital source: {action.digital_source_type})" if action.digital_source_type else ""
            pdf.row("Declared action", f"{action.action}{source}")
        for issue in c2pa.issues:
            pdf.row("Validation", f"{issue.code}: {issue.plain}")
        pdf.row(
            "Container",
            f"{container.format_name or 'unreadable'}; encoder {container.encoder or 'none'}; "
            f"created {container.creation_time or 'not recorded'}; audio {'yes' if container.has_audio else 'no'}",
        )
        pdf.bullets(container.hints)

    pdf.heading("Case notes")
    if not notes:
        pdf.paragraph("No case notes.", size=8.5)
    for note in notes:
        pdf.paragraph(f"{note.created_utc} · {note.author}", size=8, bold=True)
        pdf.paragraph(note.text, size=8.5)

    pdf.heading("Input quality")
    for label, value in quality.rows():
        pdf.row(label, value)
    pdf.bullets(quality.warnings or ["No quality warning."])

    pdf.heading("Limitations")
    pdf.bullets(plain_limits(info))
    pdf.paragraph(
        "This report records what an automated model estimated; it is not proof that a video is or is not "
        "manipulated. Keep the original file: its SHA-256 identifies exactly the bytes that were analysed.",
        size=8,
    )
    return bytes(pdf.output())


def timeline_png(result: VideoResult) -> bytes:
    """The per-person frame probability of manipulation as a static chart."""
    figure, axis = plt.subplots(figsize=(7.2, 2.4), dpi=130)
    for person, colour in zip(result.people, PERSON_COLOURS * 4, strict=False):
        points = [(f.time_s, f.p_fake) for f in person.records if f.p_fake is not None]
        if points:
            times, values = zip(*points, strict=True)
            axis.plot(times, values, marker="o", markersize=2.5, color=colour, label=f"Person {person.id}")
    band = result.band
    for limit in (band.lower, band.upper) if band is not None else ():
        if limit is not None:
            axis.axhline(limit, color="#555555", linestyle="--", linewidth=0.8)
    axis.set_ylim(0, 1)
    axis.set_xlim(0, max(result.video.duration_s, 1e-3))
    axis.set_xlabel("time (s)")
    axis.set_ylabel(FRAME_PROBABILITY)
    axis.legend(fontsize=7, loc="upper right")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()


def _thumbnail(rgb: np.ndarray, width: int) -> np.ndarray:
    height = max(1, round(rgb.shape[0] * width / rgb.shape[1]))
    return cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA)


def _png(rgb: np.ndarray) -> io.BytesIO:
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError("cannot encode an image for the PDF")
    return io.BytesIO(encoded.tobytes())


def _image_grid(pdf: _Pdf, items: Sequence[tuple[str, np.ndarray]], width: float) -> None:
    """Images in rows, each with a caption under it."""
    per_row = max(1, int(PAGE_WIDTH_MM // (width + 4)))
    for start in range(0, len(items), per_row):
        chunk = items[start : start + per_row]
        height = max(width * image.shape[0] / image.shape[1] for _, image in chunk)
        if pdf.get_y() + height + 12 > pdf.h - pdf.b_margin:
            pdf.add_page()
        top = pdf.get_y()
        for column, (caption, image) in enumerate(chunk):
            x = pdf.l_margin + column * (width + 4)
            pdf.image(_png(image), x=x, y=top, w=width)
            pdf.set_xy(x, top + height + 1)
            pdf.set_font(FONT, "", 6.5)
            pdf.multi_cell(width, 3, caption, new_x=XPos.RIGHT, new_y=YPos.TOP)
        pdf.set_xy(pdf.l_margin, top + height + 9)
