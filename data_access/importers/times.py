"""Parsing a column of timestamps as exported by real systems.

With a ``datetime_format`` the column is parsed with it. Without, ISO 8601
is tried first, then common layouts (US ``12/31/2017 11:59:58 PM``, Chinese
``2024年3月1日 9:30``, ``2024/03/01 09:30``, compact ``20240301093000``, epoch
seconds or milliseconds…); for each column the layout that reads the most
values wins, so that ``03/04`` is read the same way in every row.

Times carrying an offset (``Z``, ``+08:00``) are converted from it; times
without one are in the source's time zone. The result is naive local time in
the city's time zone, to the second.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

CANDIDATE_FORMATS = (
    "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M",
    "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d",
    "%Y年%m月%d日 %H:%M:%S", "%Y年%m月%d日 %H:%M", "%Y年%m月%d日%H时%M分", "%Y年%m月%d日 %H时%M分", "%Y年%m月%d日",
    "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%Y%m%d%H%M%S", "%Y%m%d%H%M", "%Y%m%d",
    "%m/%d/%Y", "%d/%m/%Y", "%Y.%m.%d %H:%M:%S", "%Y.%m.%d",
)
_OFFSET = r"(?:Z|[+-]\d\d:?\d\d)$"
EARLIEST = pd.Timestamp("1990-01-01")


def parse_times(values: pd.Series, *, fmt: str | None, source_tz: str, city_tz: str) -> pd.Series:
    """Naive city-local timestamps (``datetime64``), NaT where a value is empty or unreadable."""
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    if values.empty:
        return out
    native = values.map(lambda v: isinstance(v, (dt.datetime, dt.date)) and not isinstance(v, bool))
    if native.any():  # an Excel cell holding a date-time
        stamps = pd.to_datetime(values[native].map(_as_datetime), errors="coerce")
        out[native] = _to_city(stamps, source_tz, city_tz)
    text = values[~native].map(lambda v: "" if v is None else str(v).strip())
    text = text[text != ""]
    if text.empty:
        return out
    if fmt:
        out[text.index] = _parse_with(text, fmt, source_tz, city_tz)
        return out.dt.floor("s")
    aware = text.str.contains(_OFFSET, regex=True)
    if aware.any():
        parsed = pd.to_datetime(text[aware], format="ISO8601", errors="coerce", utc=True)
        out[parsed.index] = parsed.dt.tz_convert(city_tz).dt.tz_localize(None)
    rest = text[~aware]
    rest = _epochs(rest, out, city_tz)
    if not rest.empty:
        iso = pd.to_datetime(rest, format="ISO8601", errors="coerce")
        ok = iso.notna()
        out[iso[ok].index] = _to_city(iso[ok], source_tz, city_tz)
        rest = rest[~ok]
    while not rest.empty:
        best, best_parsed = None, None
        for candidate in CANDIDATE_FORMATS:
            parsed = pd.to_datetime(rest, format=candidate, errors="coerce")
            if best_parsed is None or parsed.notna().sum() > best_parsed.notna().sum():
                best, best_parsed = candidate, parsed
        if best is None or best_parsed.notna().sum() == 0:
            break
        ok = best_parsed.notna()
        out[best_parsed[ok].index] = _to_city(best_parsed[ok], source_tz, city_tz)
        rest = rest[~ok]
    return out.dt.floor("s")


def _as_datetime(value):
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.combine(value, dt.time())


def _parse_with(text: pd.Series, fmt: str, source_tz: str, city_tz: str) -> pd.Series:
    parsed = pd.to_datetime(text, format=fmt, errors="coerce", utc="%z" in fmt)
    if "%z" in fmt:
        return parsed.dt.tz_convert(city_tz).dt.tz_localize(None)
    return _to_city(parsed, source_tz, city_tz)


def _epochs(text: pd.Series, out: pd.Series, city_tz: str) -> pd.Series:
    """Unix seconds (10 digits) or milliseconds (13 digits); returns what is left to parse."""
    digits = text.str.fullmatch(r"\d{10}|\d{13}")
    if not digits.any():
        return text
    numbers = text[digits].astype("int64")
    unit_ms = text[digits].str.len() == 13
    stamps = pd.to_datetime(numbers.where(~unit_ms, numbers // 1000), unit="s", utc=True)
    out[stamps.index] = stamps.dt.tz_convert(city_tz).dt.tz_localize(None)
    return text[~digits]


def _to_city(naive: pd.Series, source_tz: str, city_tz: str) -> pd.Series:
    if naive.empty:
        return naive
    if getattr(naive.dt, "tz", None) is not None:
        return naive.dt.tz_convert(city_tz).dt.tz_localize(None)
    if source_tz == city_tz:
        return naive
    local = naive.dt.tz_localize(source_tz, ambiguous="NaT", nonexistent="shift_forward")
    return local.dt.tz_convert(city_tz).dt.tz_localize(None)
