"""How numbers, durations and times are written on screen."""

from __future__ import annotations

import datetime as dt
import math

WEEKDAYS = "一二三四五六日"


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def count(value) -> str:
    return "—" if _missing(value) else f"{int(value):,}"


def rate(value, digits: int = 1) -> str:
    """A fraction as a percentage; '—' when there is no denominator."""
    return "—" if _missing(value) else f"{100 * float(value):.{digits}f}%"


def per_10k(value) -> str:
    return "—" if _missing(value) else f"{float(value):,.1f}"


def hours(value) -> str:
    """A duration in hours as 天/小时."""
    if _missing(value):
        return "—"
    h = float(value)
    if h >= 48:
        return f"{h / 24:.1f} 天"
    return f"{h:.1f} 小时"


def stamp(value: dt.datetime | None, seconds: bool = False) -> str:
    return "—" if value is None else value.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def date_cn(value: dt.date) -> str:
    return f"{value:%Y年%m月%d日} 星期{WEEKDAYS[value.weekday()]}"
