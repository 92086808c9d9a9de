"""History filters and analysis links."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from dashboard.history import HistoryFilter, analysis_id_from_query, day_range, hash_prefix
from dashboard.store import Analysis


def analysis(id_: int, name: str, verdict: str, day: date) -> Analysis:
    stamp = datetime(day.year, day.month, day.day, 12, tzinfo=UTC).timestamp()
    return Analysis(id_, 1, stamp, name, f"{id_:02d}" * 32, f"key{id_}", verdict, 0.5, {})


ROWS = [
    analysis(1, "Interview-Original.mp4", "real", date(2026, 11, 1)),
    analysis(2, "interview-edit.mp4", "fake", date(2026, 11, 20)),
    analysis(3, "street.mov", "no_face", date(2026, 12, 2)),
]


@pytest.mark.parametrize(
    ("value", "expected"), [("12", 12), (" 7 ", 7), ("0", None), ("-3", None), ("abc", None), ("", None), (None, None)]
)
def test_only_a_positive_whole_number_names_an_analysis(value: str | None, expected: int | None) -> None:
    assert analysis_id_from_query(value) == expected


def test_filters_by_name_verdict_and_dates() -> None:
    ids = lambda rows: [a.id for a in rows]  # noqa: E731
    assert ids(HistoryFilter().apply(ROWS, UTC)) == [1, 2, 3]
    assert ids(HistoryFilter(name="INTERVIEW").apply(ROWS, UTC)) == [1, 2]
    assert ids(HistoryFilter(name="interview", verdicts=frozenset({"fake"})).apply(ROWS, UTC)) == [2]
    assert ids(HistoryFilter(first_day=date(2026, 11, 20)).apply(ROWS, UTC)) == [2, 3]
    assert ids(HistoryFilter(last_day=date(2026, 11, 20)).apply(ROWS, UTC)) == [1, 2]
    assert ids(HistoryFilter(first_day=date(2026, 11, 2), last_day=date(2026, 11, 30)).apply(ROWS, UTC)) == [2]


def test_hash_prefix_is_short_and_exact() -> None:
    assert hash_prefix("ab" * 32) == "abababababab"


def test_day_range_reads_every_shape_of_the_date_picker() -> None:
    first, last = date(2026, 11, 1), date(2026, 11, 30)
    assert day_range(()) == (None, None)
    assert day_range((first,)) == (first, None)  # the second day is not picked yet
    assert day_range((first, last)) == (first, last)
    assert day_range(first) == (first, first)
