"""One vocabulary: the same name for the same number everywhere, plain limits, readable sizes."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dashboard.charts import lab_figure, timeline_figure
from dashboard.lab import apply_strategy
from dashboard.quality import assess_quality
from dashboard.report import html_report, json_report
from dashboard.settings import QualityThresholds
from dashboard.wording import (
    FRAME_PROBABILITY,
    JSON_LABELS,
    VIDEO_PROBABILITY,
    file_size,
    plain_limits,
)
from pipeline.model.config import ModelInfo
from pipeline.model.report import TrainingReport
from tests.dashboard.builders import make_result

REPO = Path(__file__).resolve().parents[2]
# Names the same numbers had on different pages before they were defined once.
OLD_NAMES = ("Fake probability", "Video probability of manipulation", "Weight of the frame", "fake probability")
APP_SOURCES = [REPO / "Home.py", *sorted((REPO / "pages").glob("*.py")), *sorted((REPO / "dashboard").rglob("*.py"))]


@pytest.mark.parametrize(
    ("size", "text"), [(26_000, "26 KB"), (999_499, "999 KB"), (1_400_000, "1.4 MB"), (512, "512 bytes")]
)
def test_file_sizes_read_as_people_say_them(size: int, text: str) -> None:
    assert file_size(size) == text


def test_quality_panel_shows_a_small_clip_in_kb() -> None:
    result = make_result([0.2, 0.3])
    rows = dict(assess_quality(result, QualityThresholds()).rows())
    assert "0.0 MB" not in rows["Codec, file size"]
    assert re.search(r"\d+ (KB|bytes|MB)$", rows["Codec, file size"])


@pytest.mark.parametrize("path", APP_SOURCES, ids=lambda p: p.name)
def test_no_page_uses_an_old_name_for_a_number(path: Path) -> None:
    text = path.read_text()
    assert not [name for name in OLD_NAMES if name in text]


def test_charts_json_and_report_use_the_same_names() -> None:
    result = make_result([0.9, None, 0.2, 0.7])
    quality = assess_quality(result, QualityThresholds())
    generated = datetime(2026, 1, 1, tzinfo=UTC)
    assert FRAME_PROBABILITY in {t.name for t in timeline_figure(result).data}
    lab = lab_figure(result, apply_strategy("mean", result, 1.0, None))
    assert FRAME_PROBABILITY in {t.name for t in lab.data}
    report = json_report(result, "key", quality, generated)
    assert report["labels"]["probability_fake"] == VIDEO_PROBABILITY == JSON_LABELS["probability_fake"]
    json.dumps(report)  # serialisable
    page = html_report(result, "key", quality, generated)
    assert f"{VIDEO_PROBABILITY}: <strong>" in page


def test_limits_for_readers_are_plain_words() -> None:
    measured = {"clips": 106, "fakes": 63, "reals": 43, "auc": 0.73, "accuracy": 0.708}
    measured |= {"log_loss": 0.59, "brier": 0.2, "ece": 0.05}
    metrics = TrainingReport.from_dict({"val": {"raw": measured, "calibrated": measured}})
    info = ModelInfo("m", "1", "x", True, "b", 224, metrics=metrics, notes="by `python -m pipeline train --refit-all`")
    limits = plain_limits(info)
    assert "right about 7 times in 10" in limits[0] and "106 clips" in limits[0]
    text = " ".join(limits)
    for jargon in ("python -m", "--", "recipe", "AUC", "`"):
        assert jargon not in text
    untrained = ModelInfo("m", "0", "x", False, "b", 224, metrics=metrics)
    assert "times in 10" not in " ".join(plain_limits(untrained))
