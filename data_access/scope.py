"""Scope (which territory) and period (which time window) of every query."""

from __future__ import annotations

import datetime as dt
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

    def label(self) -> str:
        if self.start is None and self.end is None:
            return "全部时间"
        first = self.start.date().isoformat() if self.start else "…"
        last = (self.end - dt.timedelta(microseconds=1)).date().isoformat() if self.end else "…"
        return first if first == last else f"{first} 至 {last}"


def levels_below(counts: dict[str, int], scope: Scope) -> list[str]:
    """The levels that have regions under the scope, coarsest first (``counts``: regions per level)."""
    start = 0 if scope.is_whole else LEVELS.index(scope.level) + 1
    return [lvl for lvl in LEVELS[start:] if counts.get(lvl)]
