"""Wall-clock time in the city's time zone.

Timestamps in the appeal database are naive local times (see
docs/architecture.md), so "now" is the naive local time too.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo


def local_now(timezone: str = "Asia/Shanghai") -> dt.datetime:
    return dt.datetime.now(ZoneInfo(timezone)).replace(tzinfo=None)


def to_local_naive(value: dt.datetime, timezone: str = "Asia/Shanghai") -> dt.datetime:
    """An aware datetime converted to naive local time; a naive one is returned unchanged."""
    if value.tzinfo is None:
        return value
    return value.astimezone(ZoneInfo(timezone)).replace(tzinfo=None)
