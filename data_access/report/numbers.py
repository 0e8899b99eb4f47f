"""How the slides write numbers: as the screens do (ui/format.py, ui/region.delta): counts whole with thousands
separators, rates with one decimal and %, 每万人 with one decimal, changes signed (rates in 个百分点)."""

from __future__ import annotations

import math

MISSING = "—"
NO_COMPARISON = "无可比数据"


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def count(value) -> str:
    return MISSING if _missing(value) else f"{round(float(value)):,}"


def rate(value) -> str:
    return MISSING if _missing(value) else f"{100 * float(value):.1f}%"


def per_10k(value) -> str:
    return MISSING if _missing(value) else f"{float(value):,.1f}"


def score(value) -> str:
    """A composite (a fraction) as points out of 100 with one decimal (``rankings.score``)."""
    return MISSING if _missing(value) else f"{100 * float(value):.1f}"


WRITERS = {"count": count, "rate": rate, "per_10k": per_10k}


def write(kind: str, value) -> str:
    return WRITERS[kind](value)


def change(kind: str, value, other) -> str:
    """``value − other``, signed: "+12", "−3.4 个百分点", "持平"; 无可比数据 when either is unknown."""
    if _missing(value) or _missing(other):
        return NO_COMPARISON
    diff = float(value) - float(other)
    if kind == "rate":
        shown, unit, places = round(diff * 100, 1), " 个百分点", 1
    elif kind == "per_10k":
        shown, unit, places = round(diff, 1), "", 1
    else:
        shown, unit, places = float(round(diff)), "", 0
    if shown == 0:
        return "持平"
    return f"{shown:+,.{places}f}{unit}"


def rank_change(value) -> str:
    """A move in the ranking: ↑2, ↓1, 持平; — when there is none to compare."""
    if _missing(value):
        return MISSING
    value = int(value)
    return "持平" if value == 0 else (f"↑{value}" if value > 0 else f"↓{-value}")
