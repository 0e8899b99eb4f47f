"""Comparisons for a region's figures: with its parent's average, and with the same period a year earlier."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from . import queries
from .scope import Period, Scope

COMPARED = ("received", "per_10k", "completion_rate", "on_time_rate", "satisfaction_rate", "overdue_open",
            "due_soon_open")
COUNTS = ("received", "overdue_open", "due_soon_open")


def year_earlier(moment: dt.datetime) -> dt.datetime:
    try:
        return moment.replace(year=moment.year - 1)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year - 1, day=28)


def shift_period(period: Period) -> Period | None:
    """The same period a year earlier; None for an open-ended period."""
    if period.start is None or period.end is None:
        return None
    return Period(year_earlier(period.start), year_earlier(period.end))


def _month_start(moment: dt.datetime, back: int) -> dt.datetime:
    index = moment.year * 12 + moment.month - 1 - back
    return moment.replace(year=index // 12, month=index % 12 + 1, day=1)


def _calendar_unit(period: Period) -> int | None:
    """How many months the period spans when it is whole calendar months (a month, a quarter, a year): 1, 3, 12.
    None for any other period."""
    start, end = period.start, period.end
    if start is None or end is None or start.time() != dt.time() or start.day != 1 or end.time() != dt.time() \
            or end.day != 1:
        return None
    months = (end.year - start.year) * 12 + end.month - start.month
    if months == 1 or (months == 3 and start.month % 3 == 1) or (months == 12 and start.month == 1):
        return months
    return None


def previous_period(period: Period, as_of: dt.datetime) -> tuple[Period, dt.datetime] | None:
    """环比: the period just before this one, and the moment to judge it at (as far from its end as as_of is
    from this period's end: October judged on 1 November compares with September judged on 1 October).

    A whole calendar month, quarter or year is compared with the previous month,
    quarter or year (September for October, whatever their lengths); any other
    period with the period of the same length that ends where it starts (the 7
    days before the last 7 days). None for an open-ended period.
    """
    if period.start is None or period.end is None:
        return None
    months = _calendar_unit(period)
    if months is not None:
        earlier = Period(_month_start(period.start, months), period.start)
    else:
        earlier = Period(period.start - (period.end - period.start), period.start)
    return earlier, earlier.end + (as_of - period.end)


def comparison(conn, scope: Scope, period: Period, as_of: dt.datetime) -> pd.DataFrame:
    """Per indicator: the region's value, its parent's average, and last year's value.

    The parent's average of a count is the parent's count divided by the number
    of regions at this region's level under the parent (the mean sibling); of a
    rate or 每万人诉求量, the parent's own figure (which weighs every appeal
    equally). Without a parent (the whole territory), a bounded period, or data
    covering all of last year's period, the comparison is None.
    """
    own = queries.kpis(conn, scope, period, as_of)
    parent_row, siblings = None, None
    if not scope.is_whole:
        info = queries.region(conn, scope.code)
        if info["parent_code"] is not None and not pd.isna(info["parent_code"]):
            parent = queries.resolve_scope(conn, str(info["parent_code"]))
            parent_row = queries.kpis(conn, parent, period, as_of)
            siblings = queries.level_counts(conn, parent).get(scope.level, 0) or None
    earlier = shift_period(period)
    first, _ = queries.data_range(conn, Scope.whole())
    if earlier is not None and (first is None or first > earlier.start):
        earlier = None  # last year's period lies (partly) before the data begin: no honest comparison
    last = queries.kpis(conn, scope, earlier, year_earlier(as_of)) if earlier is not None else None
    rows = []
    for key in COMPARED:
        parent_value = None
        if parent_row is not None:
            parent_value = parent_row[key]
            if key in COUNTS and parent_value is not None:
                parent_value = parent_value / siblings if siblings else None
        rows.append({"indicator": key, "value": own[key], "parent": parent_value,
                     "last_year": None if last is None else last[key]})
    return pd.DataFrame(rows).set_index("indicator")
