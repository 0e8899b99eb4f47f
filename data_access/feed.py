"""The data's own time: when the newest appeal arrived, and whether the feed has gone silent.

A live hall whose feed from the hotline platform stopped an hour ago must not
look like a quiet hour, and a database whose newest appeal is months old must
not open on an empty present. Two questions, answered from the appeals
themselves (never from the sync time, which moves on while nothing arrives):

* **Feed silence.** How many appeals would normally have arrived since the
  newest one? The usual arrivals per hour of the day are taken from the
  ``PROFILE_DAYS`` days before the newest appeal; their sum over the silent
  hours is the expected count. When it reaches ``SILENT_EXPECTED`` (the
  chance of so long a silence in a working feed is then below 1 %) and the
  silence is longer than the configured floor
  (``APPEALS_FEED_SILENCE_MINUTES``), the feed is called silent.
* **Historical data.** When the newest appeal is older than the start of the
  period a page asks for (an open period counts as the default 近30天), the
  page opens at the data's time: ``as_of`` is the newest appeal. An ``as_of``
  in the URL still wins.

The feed is the data source as a whole, like the sync time: its newest
arrival is the same for every viewer, and only a time is shown, never a
figure of a region outside a person's grant.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import extract, func, select

from .analytics import facts
from .queries import scope_filter
from .runner import run
from .scope import Scope

PROFILE_DAYS = 28
# expected arrivals in the silence above which it is called implausible: P(no arrival) = e^-5 < 1 %
SILENT_EXPECTED = 5.0
# the silence is judged over at most this many hours (longer is silent anyway, if the feed was ever busy)
_MAX_HOURS = 24 * 14


@dataclass(frozen=True)
class FeedStatus:
    newest: dt.datetime | None  # the newest appeal's arrival (created_at), not after ``now``
    per_hour: tuple[float, ...]  # usual arrivals in each hour of the day (0–23) before ``newest``
    now: dt.datetime

    @property
    def silence(self) -> dt.timedelta | None:
        return None if self.newest is None else max(self.now - self.newest, dt.timedelta(0))

    @property
    def expected(self) -> float:
        """Appeals that would usually have arrived since the newest one."""
        return expected_arrivals(self.per_hour, self.newest, self.now) if self.newest is not None else 0.0

    def silent(self, floor_minutes: float) -> bool:
        """No appeal for longer than is plausible at this hour (and longer than the floor)."""
        gap = self.silence
        if gap is None or gap < dt.timedelta(minutes=floor_minutes):
            return False
        return self.expected >= SILENT_EXPECTED


def newest_arrival(conn, scope: Scope, now: dt.datetime) -> dt.datetime | None:
    """The newest ``created_at`` in the scope, not after ``now`` (a row stamped in the future is ignored)."""
    stmt = select(func.max(facts.c.created_at).label("newest")).where(scope_filter(scope), facts.c.created_at <= now)
    value = run(conn, stmt)["newest"].iloc[0]
    return None if value is None or pd.isna(value) else pd.Timestamp(value).to_pydatetime()


def arrivals_by_hour(conn, scope: Scope, until: dt.datetime, days: int = PROFILE_DAYS) -> tuple[float, ...]:
    """Mean arrivals in each hour of the day (0–23) over the ``days`` days up to ``until``."""
    hour = extract("hour", facts.c.created_at)
    stmt = (select(hour.label("hour"), func.count().label("n"))
            .where(scope_filter(scope), facts.c.created_at > until - dt.timedelta(days=days), facts.c.created_at <= until)
            .group_by(hour))
    df = run(conn, stmt)
    counts = [0.0] * 24
    for h, n in zip(df["hour"], df["n"]):
        counts[int(h) % 24] += float(n)
    return tuple(c / days for c in counts)


def feed_status(conn, scope: Scope, now: dt.datetime) -> FeedStatus:
    newest = newest_arrival(conn, scope, now)
    per_hour = arrivals_by_hour(conn, scope, newest) if newest is not None else (0.0,) * 24
    return FeedStatus(newest=newest, per_hour=per_hour, now=now)


def expected_arrivals(per_hour: tuple[float, ...], start: dt.datetime, end: dt.datetime) -> float:
    """The usual arrivals between ``start`` and ``end``: each hour of the day at its own rate, partial hours pro rata."""
    end = min(end, start + dt.timedelta(hours=_MAX_HOURS))
    total, t = 0.0, start
    while t < end:
        next_hour = t.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
        step = min(next_hour, end) - t
        total += per_hour[t.hour] * step.total_seconds() / 3600
        t = next_hour
    return total


def opening_as_of(newest: dt.datetime | None, horizon: dt.datetime | None) -> dt.datetime | None:
    """The moment a page opens at when the data is historical: the newest appeal, when it is older than
    ``horizon`` (the start of the period asked for); otherwise None (the data's present)."""
    if newest is None or horizon is None or newest >= horizon:
        return None
    return newest.replace(microsecond=0) + (dt.timedelta(seconds=1) if newest.microsecond else dt.timedelta(0))


def silence_text(gap: dt.timedelta) -> str:
    """"N 分钟" / "N 小时" / "N 天", rounded down, as a banner says it."""
    minutes = gap.total_seconds() / 60
    if minutes < 120:
        return f"{math.floor(minutes)} 分钟"
    hours = minutes / 60
    if hours < 48:
        return f"{math.floor(hours)} 小时"
    return f"{math.floor(hours / 24)} 天"
