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
