"""Scope (which territory) and period (which time window) of every query."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

# Territory levels, coarsest first. Not every territory has all of them.
LEVELS: tuple[str, ...] = ("province", "city", "district", "street", "community", "grid")

LEVEL_LABELS = {
    "all": "全域",
    "province": "省",
    "city": "市",
    "district": "区县",
    "street": "街道",
    "community": "社区",
    "grid": "网格",
}


PERIOD_PRESETS = ("today", "7d", "30d", "month", "year", "all")


@dataclass(frozen=True)
class Scope:
    """A region code and its level. ``code=None`` means the whole territory."""

    code: str | None = None
    level: str = "all"

    def __post_init__(self) -> None:
        if self.code is None:
            if self.level != "all":
                raise ValueError("a scope without a region code must have level 'all'")
        elif self.level not in LEVELS:
            raise ValueError(f"unknown level {self.level!r}; expected one of {', '.join(LEVELS)}")

    @classmethod
    def whole(cls) -> "Scope":
        return cls()

    @property
    def is_whole(self) -> bool:
        return self.code is None

    def as_dict(self) -> dict:
        return {"code": self.code, "level": self.level}


@dataclass(frozen=True)
class Period:
    """Appeals created in ``[start, end)``. ``None`` bounds are open."""

    start: dt.datetime | None = None
    end: dt.datetime | None = None

    def __post_init__(self) -> None:
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValueError(f"period ends ({self.end}) before it starts ({self.start})")

    @classmethod
    def all_time(cls) -> "Period":
        return cls()

    @classmethod
    def days(cls, first: dt.date | None, last: dt.date | None) -> "Period":
        """Whole calendar days from ``first`` to ``last``, both included."""
        start = dt.datetime.combine(first, dt.time()) if first else None
        end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time()) if last else None
        return cls(start, end)

    @classmethod
    def preset(cls, name: str, today: dt.date) -> "Period":
        """Named periods ending today: today, 7d, 30d (the last 7 / 30 days), month, year, all."""
        if name == "today":
            return cls.days(today, today)
        if name in ("7d", "30d"):
            return cls.days(today - dt.timedelta(days=int(name[:-1]) - 1), today)
        if name == "month":
            return cls.days(today.replace(day=1), today)
        if name == "year":
            return cls.days(today.replace(month=1, day=1), today)
        if name == "all":
            return cls.all_time()
        raise ValueError(f"unknown period {name!r}; expected one of {', '.join(PERIOD_PRESETS)}")

    @classmethod
    def calendar(cls, text: str) -> "Period":
        """A calendar period written as in a meeting's title: ``2026-10-15`` (a day), ``2026-W44`` (an ISO
        week, Monday to Sunday), ``2026-10`` (a month), ``2026-Q4`` (a quarter), ``2026`` (a year).
        Raises ValueError naming the accepted forms."""
        kind, start, end = _calendar_bounds(text)
        return cls(dt.datetime.combine(start, dt.time()), dt.datetime.combine(end, dt.time()))

    def label(self) -> str:
        if self.start is None and self.end is None:
            return "全部时间"
        first = self.start.date().isoformat() if self.start else "…"
        last = (self.end - dt.timedelta(microseconds=1)).date().isoformat() if self.end else "…"
        return first if first == last else f"{first} 至 {last}"


CALENDAR_FORMS = "2026-10-15 (日), 2026-W44 (周), 2026-10 (月), 2026-Q4 (季), 2026 (年)"


def calendar_kind(text: str) -> str:
    """day, week, month, quarter or year: which calendar period ``text`` names (ValueError if none)."""
    return _calendar_bounds(text)[0]


def calendar_label(text: str) -> str:
    """The Chinese title of a calendar period: 2026年10月, 2026年第4季度, 2026年第44周（10-26至11-01）…"""
    kind, start, end = _calendar_bounds(text)
    if kind == "day":
        return f"{start.year}年{start.month}月{start.day}日"
    if kind == "week":
        year, week, _ = start.isocalendar()
        last = end - dt.timedelta(days=1)
        return f"{year}年第{week}周（{start:%m-%d}至{last:%m-%d}）"
    if kind == "month":
        return f"{start.year}年{start.month}月"
    if kind == "quarter":
        return f"{start.year}年第{(start.month - 1) // 3 + 1}季度"
    return f"{start.year}年"


_CALENDAR = re.compile(r"^(?P<year>\d{4})(?:-(?:(?P<month>\d{2})(?:-(?P<day>\d{2}))?|Q(?P<quarter>[1-4])"
                       r"|W(?P<week>\d{2})))?$")


def _calendar_bounds(text: str) -> tuple[str, dt.date, dt.date]:
    """(kind, first day, day after the last) of a calendar period's text."""
    found = _CALENDAR.match(str(text).strip())
    if not found:
        raise ValueError(f"unknown period {text!r}; expected one of {CALENDAR_FORMS}")
    year = int(found["year"])
    try:
        if found["day"]:
            start = dt.date(year, int(found["month"]), int(found["day"]))
            return "day", start, start + dt.timedelta(days=1)
        if found["month"]:
            start = dt.date(year, int(found["month"]), 1)
            return "month", start, _add_months(start, 1)
        if found["quarter"]:
            start = dt.date(year, 3 * int(found["quarter"]) - 2, 1)
            return "quarter", start, _add_months(start, 3)
        if found["week"]:
            start = dt.date.fromisocalendar(year, int(found["week"]), 1)
            return "week", start, start + dt.timedelta(days=7)
        start = dt.date(year, 1, 1)
        return "year", start, dt.date(year + 1, 1, 1)
    except ValueError:
        raise ValueError(f"no such period {text!r}; expected one of {CALENDAR_FORMS}") from None


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def levels_below(counts: dict[str, int], scope: Scope) -> list[str]:
    """The levels that have regions under the scope, coarsest first (``counts``: regions per level)."""
    start = 0 if scope.is_whole else LEVELS.index(scope.level) + 1
    return [lvl for lvl in LEVELS[start:] if counts.get(lvl)]
