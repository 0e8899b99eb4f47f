"""Comparisons for a region's figures: with its parent's average, with the period before (环比), and with the
same period a year earlier (同比)."""

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


def judged_like(earlier: Period, period: Period, as_of: dt.datetime) -> dt.datetime:
    """The moment to judge ``earlier`` at when ``period`` is judged at ``as_of``: as far from its end as
    ``as_of`` is from ``period``'s (the rule of ``previous_period``), and never later than ``as_of``."""
    return min(as_of, earlier.end + (as_of - period.end))


def covered(first: dt.datetime | None, period: Period, moment: dt.datetime) -> bool:
    """True when the data can speak for ``period`` judged at ``moment``: they begin no later than the period
    does (a period that starts before the first appeal would count the days before the data as empty days),
    and the period has begun by the moment."""
    return first is not None and period.start is not None and first <= period.start and moment > period.start


def earlier_periods(conn, period: Period, as_of: dt.datetime) -> dict[str, tuple[Period, dt.datetime] | None]:
    """The periods a comparison looks at, each with the moment it is judged at: ``previous`` (环比,
    ``previous_period``) and ``last_year`` (同比: the same period a year earlier, judged a year earlier).
    None for one that cannot be compared: the period is open-ended, or the earlier one lies (partly) before
    the data begin, where a count would be a fake 0."""
    first, _ = queries.data_range(conn, Scope.whole())
    found = {"previous": previous_period(period, as_of), "last_year": None}
    shifted = shift_period(period)
    if shifted is not None:
        found["last_year"] = (shifted, year_earlier(as_of))
    return {name: pair if pair is not None and covered(first, *pair) else None for name, pair in found.items()}


def previous_kpis(conn, scope: Scope, period: Period, as_of: dt.datetime) -> pd.Series | None:
    """The scope's figures in the period before (环比, judged at ``previous_period``'s moment); None when that
    period cannot be compared (``earlier_periods``)."""
    pair = earlier_periods(conn, period, as_of)["previous"]
    return None if pair is None else queries.kpis(conn, scope, *pair)


def comparison(conn, scope: Scope, period: Period, as_of: dt.datetime) -> pd.DataFrame:
    """Per indicator: the region's value, its parent's average, the previous period's value (环比) and last
    year's value (同比).

    The parent's average of a count is the parent's count divided by the number
    of regions at this region's level under the parent (the mean sibling); of a
    rate or 每万人诉求量, the parent's own figure (which weighs every appeal
    equally). Without a parent (the whole territory) the parent's column is
    None; without an earlier period the data cover (an open-ended period, or
    one that lies before the data begin: ``earlier_periods``), the previous or
    last year's column is None.
    """
    own = queries.kpis(conn, scope, period, as_of)
    parent_row, siblings = None, None
    if not scope.is_whole:
        info = queries.region(conn, scope.code)
        if info["parent_code"] is not None and not pd.isna(info["parent_code"]):
            parent = queries.resolve_scope(conn, str(info["parent_code"]))
            parent_row = queries.kpis(conn, parent, period, as_of)
            siblings = queries.level_counts(conn, parent).get(scope.level, 0) or None
    earlier = earlier_periods(conn, period, as_of)
    before = {name: None if pair is None else queries.kpis(conn, scope, *pair) for name, pair in earlier.items()}
    rows = []
    for key in COMPARED:
        parent_value = None
        if parent_row is not None:
            parent_value = parent_row[key]
            if key in COUNTS and parent_value is not None:
                parent_value = parent_value / siblings if siblings else None
        rows.append({"indicator": key, "value": own[key], "parent": parent_value,
                     **{name: None if row is None else row[key] for name, row in before.items()}})
    return pd.DataFrame(rows, columns=["indicator", "value", "parent", "previous", "last_year"]).set_index("indicator")
