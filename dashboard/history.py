"""History filters and links to one analysis, without Streamlit (so each rule is unit-tested)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo

from dashboard.store import Analysis

ANALYSIS_PARAM = "analysis"  # the URL query parameter that names an analysis: /Analyze?analysis=12
HASH_PREFIX = 12  # characters of the SHA-256 shown in History: enough to tell two files apart by eye


def analysis_id_from_query(value: str | None) -> int | None:
    """The analysis id of a link, or None when the parameter is absent or not a positive whole number."""
    if value is None or not value.strip().isdigit():
        return None
    number = int(value.strip())
    return number if number > 0 else None


def hash_prefix(sha256: str) -> str:
    return sha256[:HASH_PREFIX]


def day_range(picked: object) -> tuple[date | None, date | None]:
    """(first, last) day of a date picker's value: nothing, one day, or a range (still being picked)."""
    if isinstance(picked, date):
        return picked, picked
    days = [d for d in picked if isinstance(d, date)] if isinstance(picked, tuple | list) else []
    if not days:
        return None, None
    return days[0], days[1] if len(days) > 1 else None


@dataclass(frozen=True)
class HistoryFilter:
    """What a user narrows the History list to; an empty filter keeps everything."""

    name: str = ""  # part of the file name, any case
    verdicts: frozenset[str] = field(default_factory=frozenset)  # stored verdict values; empty: all
    first_day: date | None = None
    last_day: date | None = None

    def keeps(self, analysis: Analysis, zone: tzinfo | None = None) -> bool:
        if self.name.strip() and self.name.strip().lower() not in analysis.file_name.lower():
            return False
        if self.verdicts and analysis.verdict not in self.verdicts:
            return False
        day = datetime.fromtimestamp(analysis.created_at, tz=zone).date()
        if self.first_day is not None and day < self.first_day:
            return False
        return self.last_day is None or day <= self.last_day

    def apply(self, analyses: list[Analysis], zone: tzinfo | None = None) -> list[Analysis]:
        return [a for a in analyses if self.keeps(a, zone)]
