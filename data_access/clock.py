"""The one clock: every "now" and "today" of the product, in the city's time zone.

Stored times are naive wall-clock times in the city's zone (docs/architecture.md,
"Time"), and the zone is stored with the data (``data_access.cityzone``). So
"now" is the naive local time in that zone, whatever the server's own zone
(``TZ``) is. Nothing else in the project reads the wall clock:
``tests/test_one_clock.py`` fails the suite when code outside this module
calls ``date.today()``, ``datetime.now()`` and the like. Durations are
measured with ``time.monotonic()`` or ``time.perf_counter()``, which are not
wall-clock readings.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

# The span of times the product stores and shows: an import takes a time outside it for a
# placeholder (9999-12-31 as "no deadline"), and a URL's dates outside it are refused with a
# message. Well inside what pandas holds (1677-09-21 to 2262-04-11), so no computation overflows.
FIRST_TIME = dt.datetime(1900, 1, 1)
END_OF_TIME = dt.datetime(2200, 1, 1)  # exclusive


def local_now(timezone: str) -> dt.datetime:
    """The city's wall-clock time now, naive, to the microsecond."""
    return dt.datetime.now(ZoneInfo(timezone)).replace(tzinfo=None)


def local_today(timezone: str) -> dt.date:
    """The city's calendar day now."""
    return local_now(timezone).date()


def to_local_naive(value: dt.datetime, timezone: str) -> dt.datetime:
    """An aware datetime converted to naive local time; a naive one is returned unchanged."""
    if value.tzinfo is None:
        return value
    return value.astimezone(ZoneInfo(timezone)).replace(tzinfo=None)
