"""Calendar periods as a meeting names them: a day, an ISO week, a month, a quarter, a year."""

from __future__ import annotations

import datetime as dt

import pytest

from data_access.scope import Period, calendar_kind, calendar_label


def day(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


@pytest.mark.parametrize("text, kind, start, end, label", [
    ("2026-10-15", "day", "2026-10-15", "2026-10-16", "2026年10月15日"),
    ("2026-10", "month", "2026-10-01", "2026-11-01", "2026年10月"),
    ("2026-12", "month", "2026-12-01", "2027-01-01", "2026年12月"),
    ("2026-Q4", "quarter", "2026-10-01", "2027-01-01", "2026年第4季度"),
    ("2026-Q1", "quarter", "2026-01-01", "2026-04-01", "2026年第1季度"),
    ("2026", "year", "2026-01-01", "2027-01-01", "2026年"),
    # ISO week 44 of 2026 runs Monday 26 October to Sunday 1 November
    ("2026-W44", "week", "2026-10-26", "2026-11-02", "2026年第44周（10-26至11-01）"),
    # week 1 of 2026 begins in 2025 (29 December)
    ("2026-W01", "week", "2025-12-29", "2026-01-05", "2026年第1周（12-29至01-04）"),
])
def test_calendar_periods(text, kind, start, end, label):
    assert Period.calendar(text) == Period(day(start), day(end))
    assert calendar_kind(text) == kind
    assert calendar_label(text) == label


@pytest.mark.parametrize("text", ["2026-13", "2026-02-30", "2026-Q5", "2026-W54", "26-10", "2026/10", "", "month",
                                  "2026-10-1", "2026-10-01T00:00"])
def test_what_is_not_a_calendar_period_is_refused_with_the_accepted_forms(text):
    with pytest.raises(ValueError, match="2026-W44"):
        Period.calendar(text)
