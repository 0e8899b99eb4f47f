"""Parsing a column of timestamps as exported by real systems.

With a ``datetime_format`` the column is parsed with it. Without, ISO 8601
is tried first, then common layouts (US ``12/31/2017 11:59:58 PM``, Chinese
``2024年3月1日 9:30``, ``2024/03/01 09:30``, compact ``20240301093000``, epoch
seconds or milliseconds…); for each column the layout that reads the most
values wins, so that ``03/04`` is read the same way in every row.

Times carrying an offset (``Z``, ``+08:00``) are converted from it; times
without one are in the source's time zone. The result is naive local time in
the city's time zone, to the second.

Daylight saving: a local time without an offset may be *ambiguous* (it occurs
twice on the night the clocks go back) or *non-existent* (it falls into the
gap on the night they go forward). An ambiguous time is read as the earlier of
its two instants; a non-existent one is moved forward by the length of the gap
(02:30 in a one-hour gap becomes 03:30, in Lord Howe's half-hour gap 02:15
becomes 02:45). Both are readable times, never dropped; ``parse_times`` says
which values were either, so the importer can flag them. This holds whether or
not the source's zone is the city's.

One reading per column: once the column's best layout puts the month first
(``11/22/2026``), no value of that column is read day first, and the other way
round; a value that only reads in the other order is unreadable (and the
importer flags it), never read differently from its neighbours. When every
value reads both ways the column is read month first and ``undecided`` says so.
``layouts`` names the layouts the column was read with, for the import report.
The decision needs the whole column: an import streamed in batches makes it
with a :class:`LayoutScan` over the column first, then reads each batch with
the resulting :class:`TimeReading`, exactly as the whole column would be read.

Times before 1900 or from 2200 on (``0001-01-01``, ``9999-12-31``: placeholders,
not times) are beyond what the dashboard stores; they come out as NaT with
``beyond`` set, so the importer can quarantine or flag them by row.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import NamedTuple

import numpy as np
import pandas as pd

from ..clock import END_OF_TIME, FIRST_TIME

CANDIDATE_FORMATS = (
    "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M",
    "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d",
    "%Y年%m月%d日 %H:%M:%S", "%Y年%m月%d日 %H:%M", "%Y年%m月%d日%H时%M分", "%Y年%m月%d日 %H时%M分", "%Y年%m月%d日",
    "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%Y%m%d%H%M%S", "%Y%m%d%H%M", "%Y%m%d",
    "%m/%d/%Y", "%d/%m/%Y", "%Y.%m.%d %H:%M:%S", "%Y.%m.%d",
)
MONTH_FIRST = frozenset(f for f in CANDIDATE_FORMATS if f.startswith("%m/%d"))
DAY_FIRST = frozenset(f for f in CANDIDATE_FORMATS if f.startswith(("%d/%m", "%d.%m")))
_OFFSET = r"(?:Z|[+-]\d\d:?\d\d)$"
_OFFSET_RE = re.compile(_OFFSET)
EARLIEST = pd.Timestamp("1990-01-01")
# the times the dashboard stores: outside them a value is a placeholder (9999-12-31), not a time
LOWEST = pd.Timestamp(FIRST_TIME)
LATEST = pd.Timestamp(END_OF_TIME)  # exclusive
# a naive ISO time between these is read, in range and from 1990 on, whatever the zones (a day or more inside)
_SURE_FROM = EARLIEST + pd.Timedelta(days=2)
_SURE_UNTIL = LATEST - pd.Timedelta(days=2)
ISO_LAYOUT = "ISO 8601"
EPOCH_LAYOUT = "Unix seconds/milliseconds"
OFFSET_LAYOUT = "ISO 8601 with offset"
NATIVE_LAYOUT = "spreadsheet date-time"


class TimeReading(NamedTuple):
    """How a column is read, decided from the whole column (see :class:`LayoutScan`)."""

    fmt: str | None = None  # the mapping's datetime_format, if any
    picks: tuple[str, ...] = ()  # candidate layouts, in the order they read what ISO 8601 and epochs leave
    undecided: bool = False  # every day/month value read both ways: month first was taken

    @property
    def order(self) -> str | None:
        """The layout that fixes the column's day/month order, if any."""
        return next((f for f in ((self.fmt,) if self.fmt else self.picks)
                     if f.startswith(("%m/%d", "%d/%m", "%d.%m"))), None)

    def canonical(self) -> list[str]:
        """Every layout the column may be read with, in the order they are tried."""
        if self.fmt:
            return [NATIVE_LAYOUT, self.fmt]
        return [NATIVE_LAYOUT, OFFSET_LAYOUT, EPOCH_LAYOUT, ISO_LAYOUT, *self.picks]

    def ordered(self, counts: dict[str, int]) -> list[str]:
        """The layouts that read values, most values first (ties in the order they are tried)."""
        rank = {layout: i for i, layout in enumerate(self.canonical())}
        return sorted((k for k, n in counts.items() if n), key=lambda k: (-counts[k], rank.get(k, len(rank))))


class ParsedTimes(NamedTuple):
    values: pd.Series  # naive city-local datetime64, NaT where empty or unreadable
    ambiguous: pd.Series  # bool: a source-local time that occurs twice (read as the earlier)
    nonexistent: pd.Series  # bool: a source-local time in a gap (moved forward by the gap)
    beyond: pd.Series  # bool: a readable time before LOWEST or from LATEST on (NaT in values)
    layouts: tuple[str, ...] = ()  # the layouts the column was read with, most values first
    undecided: bool = False  # every day/month value read both ways: month first was taken
    counts: dict | None = None  # layout -> values it read (these values; a batch's share of a column)
    reading: TimeReading | None = None  # how the column is read
    given: pd.Series | None = None  # bool: the value is not blank (None, NaN, NA, NaT or only spaces)


class LayoutScan:
    """The whole-column decision, fed one batch of a column at a time.

    For each value that neither carries an offset nor is an epoch nor reads as
    ISO 8601, the scan notes which candidate layouts read it (a bit per
    layout) and counts values by that signature. The greedy choice of
    :func:`parse_times` (the layout reading the most values that are left,
    first in ``CANDIDATE_FORMATS`` on a tie; the other day/month order out once
    one is chosen; repeat until no layout reads a value that is left) depends
    on nothing else, so :meth:`reading` makes it on the counts: the same
    choice as on the whole column at once, with memory for the signatures
    only. ``parse_times(batch, reading=…)`` then reads any batch of the column
    exactly as the whole column would be read.
    """

    def __init__(self, fmt: str | None = None):
        self.fmt = fmt
        self.signatures: dict[int, int] = {}

    def add(self, values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        """Note a batch of the column. Returns which of its values are not blank, and which are surely
        read, within range and from 1990 on, however the column is read (plain ISO 8601 times a few
        days inside the bounds)."""
        sure = np.zeros(len(values), dtype=bool)
        if values.empty:
            return sure, sure.copy()
        texts, kinds = _classify(values)
        given = kinds != EMPTY
        if self.fmt:
            text = _part(texts, kinds >= OFFSET)
            _mark_sure(sure, pd.to_datetime(text, format=self.fmt, errors="coerce", utc="%z" in self.fmt))
            return sure, given
        rest = _part(texts, kinds == TEXT)
        if not rest.empty:
            iso = pd.to_datetime(rest, format="ISO8601", errors="coerce")
            _mark_sure(sure, iso)
            rest = rest[iso.isna().to_numpy()]
        if rest.empty:
            return sure, given
        signature = np.zeros(len(rest), dtype=np.int64)
        for bit, candidate in enumerate(CANDIDATE_FORMATS):
            read = pd.to_datetime(rest, format=candidate, errors="coerce").notna().to_numpy()
            signature |= read.astype(np.int64) << bit
        for sig, n in zip(*np.unique(signature, return_counts=True)):
            self.signatures[int(sig)] = self.signatures.get(int(sig), 0) + int(n)
        return sure, given

    def reading(self) -> TimeReading:
        if self.fmt:
            return TimeReading(fmt=self.fmt)
        left = dict(self.signatures)
        bit = {f: 1 << i for i, f in enumerate(CANDIDATE_FORMATS)}
        candidates = list(CANDIDATE_FORMATS)
        picks: list[str] = []
        undecided = False
        while left:
            best, best_n = None, -1
            for candidate in candidates:
                n = sum(count for sig, count in left.items() if sig & bit[candidate])
                if n > best_n:
                    best, best_n = candidate, n
            if best is None or best_n == 0:
                break
            if best in MONTH_FIRST or best in DAY_FIRST:
                # one reading per column: the other order is out for every value that is left
                other = DAY_FIRST if best in MONTH_FIRST else MONTH_FIRST
                twin = _twin(best)
                undecided = undecided or (twin in other and all(
                    sig & bit[twin] for sig in left if sig & bit[best]))
                candidates = [c for c in candidates if c not in other]
            candidates.remove(best)
            picks.append(best)
            left = {sig: n for sig, n in left.items() if not sig & bit[best]}
        return TimeReading(picks=tuple(picks), undecided=undecided)


def _mark_sure(sure: np.ndarray, parsed: pd.Series) -> None:
    """Mark the values (``parsed`` is indexed by position) parsed well inside the stored range,
    whatever the zones do to them."""
    if parsed.dtype.kind != "M":
        return
    naive = parsed.dt.tz_localize(None) if getattr(parsed.dt, "tz", None) is not None else parsed
    inside = ((naive >= _SURE_FROM) & (naive < _SURE_UNTIL)).to_numpy()
    sure[parsed.index.to_numpy()[inside]] = True


def parse_times(values: pd.Series, *, fmt: str | None, source_tz: str, city_tz: str,
                reading: TimeReading | None = None) -> ParsedTimes:
    """Naive city-local timestamps, NaT where a value is empty or unreadable, and the DST cases met.

    ``reading`` is how the column is read, decided from the whole column by a
    :class:`LayoutScan`; without it, ``values`` are the whole column and decide.
    """
    if reading is None:
        scan = LayoutScan(fmt)
        scan.add(values)
        reading = scan.reading()
    flags = _Flags(len(values), reading)
    if values.empty:
        return flags.result(values.index, floor=False)
    texts, kinds = _classify(values)
    flags.given = kinds != EMPTY
    native = np.flatnonzero(kinds == NATIVE)
    if len(native):  # an Excel cell holding a date-time
        cells = pd.Series(values.iloc[native].tolist(), index=native, dtype=object)
        stamps = pd.to_datetime(cells.map(_as_datetime), errors="coerce")
        flags.used(NATIVE_LAYOUT, stamps)
        flags.put(flags.note(_to_city(flags.in_range(stamps), source_tz, city_tz)))
    if not (kinds >= OFFSET).any():
        return flags.result(values.index, floor=False)
    if reading.fmt:
        flags.put(_parse_with(_part(texts, kinds >= OFFSET), reading.fmt, source_tz, city_tz, flags))
        return flags.result(values.index)
    aware = _part(texts, kinds == OFFSET)
    if not aware.empty:
        parsed = flags.in_range(pd.to_datetime(aware, format="ISO8601", errors="coerce", utc=True))
        flags.used(OFFSET_LAYOUT, parsed)
        flags.put(parsed.dt.tz_convert(city_tz).dt.tz_localize(None))
    epochs = _part(texts, kinds == EPOCH)
    if not epochs.empty:
        flags.put(_epochs(epochs, city_tz, flags))
    rest = _part(texts, kinds == TEXT)
    if not rest.empty:
        iso = pd.to_datetime(rest, format="ISO8601", errors="coerce")
        ok = iso.notna()
        flags.used(ISO_LAYOUT, iso)
        flags.put(flags.note(_to_city(flags.in_range(iso[ok]), source_tz, city_tz)))
        rest = rest[~ok.to_numpy()]
    for pick in reading.picks:
        if rest.empty:
            break
        parsed = pd.to_datetime(rest, format=pick, errors="coerce")
        ok = parsed.notna()
        flags.used(pick, parsed)
        flags.put(flags.note(_to_city(flags.in_range(parsed[ok]), source_tz, city_tz)))
        rest = rest[~ok.to_numpy()]
    return flags.result(values.index)


# what a value is, for reading it: nothing, a date-time object, or text (with an offset, an epoch, other)
EMPTY, NATIVE, OFFSET, EPOCH, TEXT = range(5)
_NATIVE = object()


def _text_of(value):
    """A value that is not a ``str``: "" when blank (None, NaN, NA, NaT), _NATIVE for a date-time object,
    else its text."""
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, (dt.datetime, dt.date)) and not isinstance(value, bool):
        return _NATIVE
    return str(value).strip()


def _classify(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Each value's stripped text and its kind (EMPTY, NATIVE, OFFSET, EPOCH or TEXT), in one pass.

    OFFSET: ends with ``Z`` or ``+08:00`` (the sign's place looked at first); EPOCH: 10 or 13 decimal
    digits (what ``\\d{10}|\\d{13}`` matches; no offset ends in a digit run alone).
    """
    texts = [v.strip() if type(v) is str else _text_of(v) for v in values.tolist()]
    kinds = np.fromiter(
        ((NATIVE if t is _NATIVE else EMPTY) if type(t) is not str or not t else
         EPOCH if len(t) in (10, 13) and t.isdecimal() else
         OFFSET if (t[-1] == "Z" or len(t) > 4 and t[-5] in "+-" or len(t) > 5 and t[-6] in "+-")
         and _OFFSET_RE.search(t) is not None else
         TEXT for t in texts), dtype=np.int8, count=len(texts))
    return np.array(texts, dtype=object), kinds


def _part(texts: np.ndarray, mask: np.ndarray) -> pd.Series:
    """The texts where ``mask``, indexed by their positions."""
    where = np.flatnonzero(mask)
    return pd.Series(texts[where], index=where, dtype=object)


def _twin(chosen: str) -> str:
    """The same layout with day and month swapped."""
    return chosen.replace("%m/%d", "%D1").replace("%d/%m", "%m/%d").replace("%D1", "%d/%m")


class _Flags:
    """Collects the values read, which were ambiguous, non-existent or out of range, and the layouts used.

    Series handed to it are indexed by position in the column.
    """

    def __init__(self, n: int, reading: TimeReading) -> None:
        self.values = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
        self.ambiguous = np.zeros(n, dtype=bool)
        self.nonexistent = np.zeros(n, dtype=bool)
        self.beyond = np.zeros(n, dtype=bool)
        self.layouts: dict[str, int] = {}
        self.reading = reading
        self.given = np.zeros(n, dtype=bool)

    def put(self, values: pd.Series) -> None:
        self.values[values.index.to_numpy()] = values.to_numpy(dtype="datetime64[ns]")

    def note(self, converted: tuple[pd.Series, pd.Series, pd.Series]) -> pd.Series:
        values, ambiguous, nonexistent = converted
        self.ambiguous[ambiguous.index.to_numpy()[ambiguous.to_numpy(dtype=bool)]] = True
        self.nonexistent[nonexistent.index.to_numpy()[nonexistent.to_numpy(dtype=bool)]] = True
        return values

    def in_range(self, parsed: pd.Series) -> pd.Series:
        """``parsed`` with the times before LOWEST or from LATEST on made NaT (and noted)."""
        naive = parsed.dt.tz_localize(None) if getattr(parsed.dt, "tz", None) is not None else parsed
        out = ((naive < LOWEST) | (naive >= LATEST)).to_numpy()
        if out.any():
            self.beyond[parsed.index.to_numpy()[out]] = True
            parsed = parsed.where(~out)
        return parsed.dt.as_unit("ns")

    def used(self, layout: str, parsed: pd.Series) -> None:
        read = int(parsed.notna().sum())
        if read:
            self.layouts[layout] = self.layouts.get(layout, 0) + read

    def result(self, index: pd.Index, *, floor: bool = True) -> ParsedTimes:
        values = pd.Series(self.values, index=index)
        if floor:
            values = values.dt.floor("s")
        layouts = tuple(self.reading.ordered(self.layouts))
        return ParsedTimes(values, pd.Series(self.ambiguous, index=index), pd.Series(self.nonexistent, index=index),
                           pd.Series(self.beyond, index=index), layouts, self.reading.undecided, dict(self.layouts),
                           self.reading, pd.Series(self.given, index=index))


def _as_datetime(value):
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.combine(value, dt.time())


def _parse_with(text: pd.Series, fmt: str, source_tz: str, city_tz: str, flags: _Flags) -> pd.Series:
    parsed = pd.to_datetime(text, format=fmt, errors="coerce", utc="%z" in fmt)
    flags.used(fmt, parsed)
    parsed = flags.in_range(parsed)
    if "%z" in fmt:
        return parsed.dt.tz_convert(city_tz).dt.tz_localize(None)
    return flags.note(_to_city(parsed, source_tz, city_tz))


def _epochs(text: pd.Series, city_tz: str, flags: _Flags) -> pd.Series:
    """Unix seconds (10 digits) or milliseconds (13 digits), as naive city-local times."""
    numbers = text.astype("int64")
    unit_ms = (text.str.len() == 13).to_numpy()
    stamps = pd.to_datetime(numbers.where(~unit_ms, numbers // 1000), unit="s", utc=True)
    flags.used(EPOCH_LAYOUT, stamps)
    stamps = flags.in_range(stamps)
    return stamps.dt.tz_convert(city_tz).dt.tz_localize(None)


def _to_city(naive: pd.Series, source_tz: str, city_tz: str) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Source-local times as naive city-local times, and which were ambiguous or non-existent."""
    none = pd.Series(False, index=naive.index)
    if naive.empty:
        return naive, none, none.copy()
    if getattr(naive.dt, "tz", None) is not None:
        return naive.dt.tz_convert(city_tz).dt.tz_localize(None), none, none.copy()
    local, ambiguous, nonexistent = localize(naive, source_tz)
    return local.dt.tz_convert(city_tz).dt.tz_localize(None), ambiguous, nonexistent


def localize(naive: pd.Series, tz: str) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Naive wall-clock times in ``tz`` as instants (aware), with masks of the ambiguous and non-existent ones.

    An ambiguous time is the earlier of its two instants; a non-existent one is
    read with the UTC offset in force just before the gap, which moves it
    forward by the gap's length, whatever that length (pandas'
    ``nonexistent="shift_forward"`` would give the end of the gap instead).
    """
    strict = naive.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    odd = naive.notna() & strict.isna()
    ambiguous = pd.Series(False, index=naive.index)
    nonexistent = pd.Series(False, index=naive.index)
    if not odd.any():
        return strict, ambiguous, nonexistent
    rows = naive[odd]
    # True picks the instant of the offset in force before the change: the earlier one
    earlier = rows.dt.tz_localize(tz, ambiguous=np.ones(len(rows), dtype=bool), nonexistent="NaT")
    ambiguous[odd] = earlier.notna().to_numpy()
    strict[ambiguous] = earlier[earlier.notna()]
    gap = rows[earlier.isna()]
    if not gap.empty:
        nonexistent[gap.index] = True
        before = gap.dt.tz_localize(tz, nonexistent="shift_backward")  # the last instant before the gap
        offset = before.dt.tz_localize(None) - before.dt.tz_convert("UTC").dt.tz_localize(None)
        strict[gap.index] = (gap - offset).dt.tz_localize("UTC").dt.tz_convert(tz)
    return strict, ambiguous, nonexistent
