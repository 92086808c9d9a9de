"""The PDF evidence report: pypdf finds the file hash, the assessment, the model version, people, notes."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from pypdf import PdfReader

from dashboard.pdf_report import pdf_report
from dashboard.quality import assess_quality
from dashboard.settings import AppSettings
from dashboard.store import CaseNote
from tests.dashboard.builders import make_evidence_result, make_result

GENERATED = datetime(2026, 12, 3, 17, 30, tzinfo=UTC)


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_pdf_holds_hash_assessment_model_version_people_and_notes() -> None:
    result = make_evidence_result()
    notes = [CaseNote(1, 1, 1_796_000_000.0, "ada", "<b>Uploader</b> called: «first seen» 2024 & ünïcode")]
    data = pdf_report(
        result,
        "k" * 32,
        assess_quality(result, AppSettings().quality),
        GENERATED,
        keyframes=result.keyframes,
        notes=notes,
    )
    assert data.startswith(b"%PDF")
    text = pdf_text(data)
    flat = text.replace("\n", "")
    assert result.sha256 in flat
    assert result.model.sha256 in flat
    assert "version 1.2.3" in text
    assert "Signs of manipulation" in text and "signs_of_manipulation" in text
    assert "0.855" in text  # the band's upper limit
    assert "Person 2" in text and "0.91" in text
    assert "https://example.org/watch?v=1" in text
    assert "Test Newsroom Signer" in text and "not on a trust list" in text.replace("\n", " ")
    assert "<b>Uploader</b> called: «first seen» 2024 & ünïcode" in text  # printed as written
    assert "pHash 000000000000000c" in text  # keyframes with their hash


def test_pdf_of_a_clip_without_a_face() -> None:
    result = make_result([None, None])
    text = pdf_text(pdf_report(result, "k" * 32, assess_quality(result, AppSettings().quality), GENERATED))
    assert result.sha256 in text.replace("\n", "") and "No face was found" in text


def test_a_row_at_the_foot_of_a_page_moves_whole_to_the_next() -> None:
    from dashboard.pdf_report import _Pdf

    pdf = _Pdf("footer")
    pdf.add_page()
    pdf.set_y(pdf.h - pdf.b_margin - 3)
    pdf.row("Label", "a value")
    pdf.row("Next label", "next value")
    assert pdf.page_no() == 2 and pdf.get_y() < 40  # two rows on page 2, not one page per row
