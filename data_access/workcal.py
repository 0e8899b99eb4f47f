"""The working-day calendar used for time limits (办理时限).

Time limits count working days on the Chinese calendar: public holidays are
off, and the 调休 make-up working days on weekends are on. The calendar comes
from the ``chinese_calendar`` package. For a year it does not know yet, the
calendar falls back to Monday–Friday and warns once per year.

Two ways to add working days, with the same rule:

* ``add_working_days(start, n)`` for one ``datetime``;
* ``add_working_days_array(starts, n)`` for numpy ``datetime64`` arrays
  (millions of rows), built on a precomputed day table.

The rule: if ``start`` falls on a working day, the result is the same clock
time on the n-th following working day. If ``start`` falls on a non-working
day, the clock starts at 00:00 of the next working day, and the result is
00:00 of the n-th working day after that one.
"""

from __future__ import annotations

import datetime as dt
import threading
import warnings

import chinese_calendar
import numpy as np

__all__ = ["is_workday", "next_workday", "add_working_days", "add_working_days_array"]

_warned_years: set[int] = set()
_lock = threading.Lock()


def is_workday(d: dt.date) -> bool:
    """Whether ``d`` is a working day (holidays off, 调休 weekend days on)."""
    if isinstance(d, dt.datetime):
        d = d.date()
    try:
        return bool(chinese_calendar.is_workday(d))
    except NotImplementedError:
        if d.year not in _warned_years:
            _warned_years.add(d.year)
            warnings.warn(
                f"the chinese_calendar package has no holiday data for {d.year}; "
                f"working days in {d.year} are taken as Monday to Friday",
                RuntimeWarning,
                stacklevel=2,
            )
        return d.weekday() < 5


def next_workday(d: dt.date) -> dt.date:
    """The first working day strictly after ``d``."""
    d = d + dt.timedelta(days=1)
    while not is_workday(d):
        d += dt.timedelta(days=1)
    return d


def add_working_days(start: dt.datetime, n: int) -> dt.datetime:
    """``start`` plus ``n`` working days (see the module docstring for the rule)."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    day = start.date()
    if is_workday(day):
        clock = start.timetz()
    else:
        day = next_workday(day)
        clock = dt.time(0, 0, tzinfo=start.tzinfo)
    for _ in range(n):
        day = next_workday(day)
    return dt.datetime.combine(day, clock)


class _DayTable:
    """Working-day flags for a contiguous range of days, grown on demand.

    ``first`` is the first day as days since 1970-01-01; ``flags[i]`` tells
    whether day ``first + i`` is a working day; ``before[i]`` counts the working
    days in ``[first, first + i)``; ``workdays`` lists the working days (as
    days since 1970) in order.
    """

    def __init__(self) -> None:
        self.first = 0
        self.flags = np.zeros(0, dtype=bool)
        self.before = np.zeros(0, dtype=np.int64)
        self.workdays = np.zeros(0, dtype=np.int64)

    @property
    def last(self) -> int:  # exclusive
        return self.first + len(self.flags)

    def cover(self, lo: int, hi: int) -> None:
        """Make the table cover days ``[lo, hi)``."""
        if len(self.flags) and lo >= self.first and hi <= self.last:
            return
        if len(self.flags):
            lo, hi = min(lo, self.first), max(hi, self.last)
        epoch = dt.date(1970, 1, 1)
        flags = np.empty(hi - lo, dtype=bool)
        for i in range(hi - lo):
            day = lo + i
            if len(self.flags) and self.first <= day < self.last:
                flags[i] = self.flags[day - self.first]
            else:
                flags[i] = is_workday(epoch + dt.timedelta(days=day))
        self.first = lo
        self.flags = flags
        self.before = np.concatenate(([0], np.cumsum(flags)[:-1])).astype(np.int64)
        self.workdays = (np.flatnonzero(flags) + lo).astype(np.int64)


_table = _DayTable()


def add_working_days_array(starts, n) -> np.ndarray:
    """Vectorised ``add_working_days`` for ``datetime64`` arrays.

    ``starts`` is converted to ``datetime64[s]``; ``n`` is an int or an integer
    array broadcastable against ``starts``. NaT stays NaT. Returns
    ``datetime64[s]``.
    """
    starts = np.asarray(starts).astype("datetime64[s]")
    n = np.broadcast_to(np.asarray(n, dtype=np.int64), starts.shape)
    if n.size and n.min() < 0:
        raise ValueError("n must be >= 0")
    result = np.full(starts.shape, np.datetime64("NaT"), dtype="datetime64[s]")
    valid = ~np.isnat(starts)
    if not valid.any():
        return result
    s = starts[valid]
    nv = n[valid]
    days = s.astype("datetime64[D]").astype(np.int64)
    clock = s.astype(np.int64) - days * 86400
    lo, hi = int(days.min()), int(days.max()) + 1
    with _lock:
        _table.cover(lo, hi)
        # grow the table until the n-th working day after the latest start is in it
        while True:
            idx = days - _table.first
            # before[idx] is the index of the first working day on or after the start day
            k = _table.before[idx] + nv
            need = int(k.max()) + 1
            if need <= len(_table.workdays):
                break
            # each added day adds at most one working day: never look further
            # ahead than needed (a year without holiday data warns)
            _table.cover(_table.first, _table.last + need - len(_table.workdays))
        flags = _table.flags[idx]
        target = _table.workdays[k]
    # a working-day start keeps its clock time; a non-working one ends at 00:00
    seconds = target * 86400 + np.where(flags, clock, 0)
    result[valid] = seconds.astype("datetime64[s]")
    return result
