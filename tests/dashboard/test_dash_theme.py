"""Colours that people can read: the theme, the chart template and the report's landmarks."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dashboard.charts import lab_figure, timeline_figure
from dashboard.lab import apply_strategy
from dashboard.quality import assess_quality
from dashboard.report import html_report
from dashboard.settings import QualityThresholds
from dashboard.theme import (
    FAKE_TEXT_COLOR,
    MIN_TEXT_CONTRAST,
    MUTED_TEXT,
    PLOTLY_TEMPLATE,
    TEXT_COLOR,
    contrast_ratio,
)
from dashboard.wording import ASSESSMENT_BADGES, CREDENTIAL_BADGES
from tests.dashboard.builders import make_result

REPO = Path(__file__).resolve().parents[2]


def test_contrast_ratio_matches_wcag_examples() -> None:
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#777777") == pytest.approx(4.48, abs=0.01)
    assert contrast_ratio("#808495") < MIN_TEXT_CONTRAST  # Streamlit's chart tick grey, the old default


@pytest.mark.parametrize("color", [TEXT_COLOR, MUTED_TEXT, FAKE_TEXT_COLOR])
def test_every_text_colour_reaches_4_5_to_1_on_white(color: str) -> None:
    assert contrast_ratio(color) >= MIN_TEXT_CONTRAST


def test_streamlit_theme_uses_the_same_dark_text() -> None:
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    assert config["theme"]["textColor"].lower() == TEXT_COLOR
    assert config["client"]["showSidebarNavigation"] is False  # no menu before login


def chart_text_colours(figure) -> list[str]:
    """Every colour the rendered chart gives to text: fonts, ticks, axis titles, annotations."""
    layout = figure.layout
    template = layout.template.layout
    colours = [layout.font.color or template.font.color, template.title.font.color, template.legend.font.color]
    for axis in (template.xaxis, template.yaxis):
        colours += [axis.tickfont.color, axis.title.font.color]
    colours += [a.font.color for a in layout.annotations]
    return colours


@pytest.mark.parametrize("build", ["timeline", "lab"])
def test_chart_text_is_dark_enough(build: str) -> None:
    result = make_result([0.9, None, 0.2, 0.7])
    if build == "timeline":
        figure = timeline_figure(result)
    else:
        figure = lab_figure(result, apply_strategy("mean", result, 1.0, None))
    colours = chart_text_colours(figure)
    assert None not in colours, colours  # an unset colour falls back to Plotly's or Streamlit's grey
    assert all(contrast_ratio(c) >= MIN_TEXT_CONTRAST for c in colours), colours
    assert figure.layout.template == PLOTLY_TEMPLATE


def test_report_has_landmarks() -> None:
    result = make_result([0.9, 0.8])
    page = html_report(result, "key", assess_quality(result, QualityThresholds()), datetime(2026, 1, 1, tzinfo=UTC))
    assert page.count("<main>") == 1 and "<header>" in page and "<footer>" in page
    assert page.index("<header>") < page.index("<main>") < page.index("</main>") < page.index("<footer>")


def test_verdict_badges_hold_no_icon_name() -> None:
    badges = [*ASSESSMENT_BADGES.values(), *CREDENTIAL_BADGES.values()]
    assert all(":material/" not in badge for badge in badges)
