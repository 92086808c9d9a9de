"""Input-quality warnings and the downloadable reports."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

from dashboard.quality import assess_quality
from dashboard.report import html_report, json_report, timeline_svg, top_faces
from dashboard.settings import AppSettings, QualityThresholds
from tests.dashboard.builders import make_result

WHEN = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
KEY = "0" * 32 + "_" + "1" * 16


def test_good_input_has_no_warning() -> None:
    quality = assess_quality(make_result([0.9, 0.8, 0.7, 0.6]), QualityThresholds())
    assert quality.warnings == ()
    assert quality.frames_with_face == 4 and quality.median_face_px == 200.0


def test_low_resolution_heavy_compression_few_and_small_faces_are_flagged() -> None:
    result = make_result([0.9, None, None, None], width=320, height=240, size_bytes=2_000, face_h=40)
    text = " ".join(assess_quality(result, QualityThresholds()).warnings)
    for word in ("Low resolution", "Heavy compression", "Few faces", "Small faces"):
        assert word in text


def test_json_report_has_the_cli_schema_plus_context() -> None:
    result = make_result([0.9, None, 0.2])
    report = json_report(result, KEY, assess_quality(result, QualityThresholds()), WHEN)
    json.dumps(report)  # serialisable
    for key in ("file", "sha256", "verdict", "probability_fake", "threshold", "frames", "model", "video"):
        assert key in report
    assert report["report"]["generated_at"] == "2026-11-26T12:00:00+00:00"
    assert report["model_details"]["version"] == "1.2.3"
    assert report["settings"]["frames"] == 32
    assert report["limitations"] and report["quality"]["frames_with_face"] == 2


def test_html_report_is_self_contained_and_complete() -> None:
    result = make_result([0.9, None, 0.2, 0.8], file="interview.mp4")
    page = html_report(result, KEY, assess_quality(result, QualityThresholds()), WHEN, faces=2)
    for text in ("interview.mp4", result.sha256, "1.2.3", "Decision threshold", "<svg", "Limitations", "frames"):
        assert text in page
    assert page.count("<img ") == 2
    assert len(re.findall(r'<img [^>]*alt="Face crop at', page)) == 2
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")


def test_html_report_escapes_the_file_name() -> None:
    result = make_result([0.9], file='<script>alert("x")</script>.mp4')
    page = html_report(result, KEY, assess_quality(result, QualityThresholds()), WHEN)
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_untrained_model_is_flagged_loudly_in_the_report() -> None:
    result = make_result([0.9], trained=False)
    page = html_report(result, KEY, assess_quality(result, QualityThresholds()), WHEN)
    assert "UNTRAINED MODEL" in page and 'role="alert"' in page


def test_no_face_report_says_it_abstains() -> None:
    result = make_result([None, None])
    page = html_report(result, KEY, assess_quality(result, QualityThresholds()), WHEN)
    assert "No face found: no assessment" in page and "No face was found." in page


def test_top_faces_are_sorted_by_attention() -> None:
    faces = top_faces(make_result([0.6, 0.99, None, 0.5, 0.1]), 3)
    assert [f.attention for f in faces] == sorted((f.attention for f in faces), reverse=True)
    assert all(f.crop is not None for f in faces)


def test_svg_breaks_the_line_at_frames_without_a_face() -> None:
    svg = timeline_svg(make_result([0.9, 0.8, None, 0.2, 0.1]))
    assert svg.count('stroke="#D55E00" stroke-width="2"/>') == 2  # two probability runs
    assert "<title" in svg and "<desc" in svg


def test_reports_carry_assessment_people_provenance_and_escaped_notes() -> None:
    from dashboard.store import CaseNote
    from tests.dashboard.builders import make_evidence_result

    result = make_evidence_result()
    quality = assess_quality(result, AppSettings().quality)
    notes = [CaseNote(1, 1, 0.0, "ada", "<script>alert('x')</script> & called")]
    page = html_report(result, "k" * 32, quality, datetime(2026, 12, 3, tzinfo=UTC), notes=notes)
    assert "Signs of manipulation" in page and "Person 2, seen from" in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; called" in page and "<script>" not in page
    assert "Test Newsroom Signer" in page and "https://example.org/watch?v=1" in page
    report = json_report(result, "k" * 32, quality, datetime(2026, 12, 3, tzinfo=UTC), notes=notes)
    assert report["case_notes"][0]["text"] == notes[0].text
    assert report["assessment"] == "signs_of_manipulation" and len(report["people"]) == 2
