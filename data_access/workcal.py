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

Working time (the deadline engine's measure, docs/deadlines.md): a working
day counts whole, 00:00 to 24:00, and a non-working day not at all. So the
working time between Friday 16:00 and Monday 10:00 is 8 + 10 = 18 hours, and
one working day is 24 working hours.

* ``working_seconds_between(a, b)``: the working seconds in ``[a, b)``
  (negative when ``b`` is before ``a``);
* ``add_working_seconds(start, s)``: the *latest* moment whose working time
  after ``start`` is ``s``: when the sum ends exactly at the end of a working
  day, the result is 00:00 of the next working day (not the midnight before a
  weekend). With this rule ``add_working_seconds(start, n * 86400)`` equals
  ``add_working_days(start, n)`` for every start;
* ``subtract_working_seconds(end, s)``: the *earliest* moment with ``s``
  working seconds before ``end`` (a count back that ends at 00:00 of a
  working day goes back to 24:00 of the working day before it). This is when
  the remaining working time first falls to ``s``.

Each has an ``_array`` twin for numpy ``datetime64`` arrays; they work in
microseconds and return ``datetime64[us]`` (seconds as ``float64``).
"""

from __future__ import annotations

import datetime as dt
import threading
import warnings

import chinese_calendar
import numpy as np

__all__ = [
    "is_workday", "next_workday", "add_working_days", "add_working_days_array",
    "working_seconds_between", "add_working_seconds", "subtract_working_seconds",
    "working_seconds_between_array", "add_working_seconds_array", "subtract_working_seconds_array",
]

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


# ------------------------------------------------------------ working time ---
# F(t), the working microseconds from the table's first day to t, is
# before[day] * DAY_US + (the time of day if the day is a working day, else 0).
# It is continuous and non-decreasing; working time between a and b is
# F(b) - F(a). Growing the table forward keeps F; growing it backward shifts F
# by a constant, so every computation below finishes its growing first.

DAY_US = 86_400_000_000
_NAT = np.iinfo(np.int64).min


def _as_us(values) -> tuple[np.ndarray, np.ndarray]:
    """(int64 microseconds since 1970, valid mask) of datetime-like values."""
    a = np.asarray(values)
    if a.dtype.kind != "M":
        a = a.astype("datetime64[us]")
    a = a.astype("datetime64[us]")
    valid = ~np.isnat(a)
    return a.astype(np.int64), valid


def _seconds_to_us(seconds, shape) -> np.ndarray:
    s = np.broadcast_to(np.asarray(seconds, dtype=np.float64), shape)
    if s.size and np.nanmin(s) < 0:
        raise ValueError("seconds must be >= 0")
    return np.rint(s * 1e6).astype(np.int64)


def _position(us: np.ndarray) -> np.ndarray:
    """F(t) for valid microsecond times; the table must cover their days (caller holds the lock)."""
    days = us // DAY_US
    tod = us - days * DAY_US
    idx = days - _table.first
    return _table.before[idx] * DAY_US + np.where(_table.flags[idx], tod, 0)


def _cover_days(us: np.ndarray) -> None:
    days = us // DAY_US
    _table.cover(int(days.min()), int(days.max()) + 1)


def working_seconds_between_array(starts, ends) -> np.ndarray:
    """Working seconds in ``[start, end)`` per row (negative when end < start); NaN where either is NaT."""
    a, va = _as_us(starts)
    b, vb = _as_us(ends)
    a, b = np.broadcast_arrays(a, b)
    valid = np.broadcast_to(va, a.shape) & np.broadcast_to(vb, b.shape)
    out = np.full(a.shape, np.nan)
    if not valid.any():
        return out
    both = np.concatenate((a[valid], b[valid]))
    with _lock:
        _cover_days(both)
        fa, fb = _position(a[valid]), _position(b[valid])
    out[valid] = (fb - fa) / 1e6
    return out


def add_working_seconds_array(starts, seconds) -> np.ndarray:
    """``start`` plus ``seconds`` (>= 0) of working time, per row; the latest such moment (module docstring)."""
    s, valid = _as_us(starts)
    add = _seconds_to_us(seconds, s.shape)
    out = np.full(s.shape, _NAT, dtype=np.int64)
    if valid.any():
        sv, av = s[valid], add[valid]
        with _lock:
            _cover_days(sv)
            target = _position(sv) + av
            k = target // DAY_US
            while int(k.max()) >= len(_table.workdays):
                # each added day adds at most one working day
                _table.cover(_table.first, _table.last + int(k.max()) + 1 - len(_table.workdays))
            out[valid] = _table.workdays[k] * DAY_US + (target - k * DAY_US)
    return out.astype("datetime64[us]")


def subtract_working_seconds_array(ends, seconds) -> np.ndarray:
    """``end`` minus ``seconds`` (>= 0) of working time, per row; the earliest such moment (module docstring)."""
    e, valid = _as_us(ends)
    sub = _seconds_to_us(seconds, e.shape)
    out = np.full(e.shape, _NAT, dtype=np.int64)
    if valid.any():
        ev, sv = e[valid], sub[valid]
        with _lock:
            _cover_days(ev)
            while True:
                target = _position(ev) - sv
                if int(target.min()) > 0:
                    break
                # grow backward: at least as many days as the largest count back needs, twice over
                back = max(int(-target.min() // DAY_US) * 2 + 14, 366)
                _table.cover(_table.first - back, _table.last)
            k = target // DAY_US
            r = target - k * DAY_US
            at_midnight = r == 0
            day = np.where(at_midnight, _table.workdays[np.maximum(k - 1, 0)] + 1, _table.workdays[k])
            out[valid] = day * DAY_US + r
    return out.astype("datetime64[us]")


def _to_datetime(us: np.datetime64) -> dt.datetime:
    return us.astype("datetime64[us]").item()


def working_seconds_between(start: dt.datetime, end: dt.datetime) -> float:
    """Working seconds in ``[start, end)`` (negative when ``end`` is before ``start``)."""
    return float(working_seconds_between_array(np.array([start], dtype="datetime64[us]"),
                                               np.array([end], dtype="datetime64[us]"))[0])


def add_working_seconds(start: dt.datetime, seconds: float) -> dt.datetime:
    """``start`` plus ``seconds`` of working time (see the module docstring)."""
    return _to_datetime(add_working_seconds_array(np.array([start], dtype="datetime64[us]"), seconds)[0])


def subtract_working_seconds(end: dt.datetime, seconds: float) -> dt.datetime:
    """``end`` minus ``seconds`` of working time (see the module docstring)."""
    return _to_datetime(subtract_working_seconds_array(np.array([end], dtype="datetime64[us]"), seconds)[0])
