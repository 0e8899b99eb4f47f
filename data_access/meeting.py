"""The figures of a review meeting (讲评会, 周例会) for one scope, period and as-of time.

``figures(conn, scope, period, as_of)`` gathers, from the existing query
functions, what a meeting shows about a region:

========================== ==========================================================================
section                    what it holds (one ``Section``: a small table, with notes)
========================== ==========================================================================
``headline``               every figure of ``queries.kpis``, with 环比 (``compare.previous_period``)
                           and 同比 (the same period a year earlier, as ``compare.comparison``)
``children``               the units one level down (the streets of a district, the districts of a
                           city): ``queries.children``
``trend``                  received and closed per day: ``queries.daily_trend``
``categories``             the top categories: ``queries.category_counts``
``channels``               the channels: ``queries.channel_counts``
``hotspots``               emerging hotspots (grids, the last 14 days): ``hotspots.emerging_hotspots``
``repeats``                repeat clusters of the period: ``hotspots.repeat_clusters``
``overdue``                open appeals past their deadline, the newest first, with the count of every
                           one (超期 · 全部在办): ``queries.newest_overdue``, ``queries.kpis``
``supervision_streets``,   督办 per street and per department, with the open ones:
``supervision_departments`` ``supervision_queries``
``rankings``               the 红黑榜 of the streets and the departments, with the weights used
                           (``meeting_sections.rankings``, ``rankings.league``)
``child_trend``,           each child unit's daily trend and top categories (the slide of each
``child_categories``       street or district): ``meeting_sections``
========================== ==========================================================================

``MeetingFigures`` is frozen and made of plain values (ints, floats, strings,
booleans, dates, times and None), so that it goes through JSON and back
without loss (``to_json`` / ``from_json``: the result is equal, value for
value). A frozen snapshot (``data_access.snapshots``) stores that JSON; a
later reader gets the very figures that were computed, never recomputed.

**Adding a section** (the 红黑榜, and whatever a later meeting needs): write a
builder ``(conn, scope, period, as_of, context) -> Section`` and add it to
``BUILDERS`` under its name. Sections are a mapping by name, and a stored
snapshot keeps the sections it was frozen with: an older one simply lacks the
newer section (``MeetingFigures.get`` returns None), and a reader of a newer
one keeps the sections it does not know. ``FORMAT_VERSION`` changes only when
the meaning of an existing section changes.

No personal data: no name, phone, address or summary of an appellant (the
repeat clusters are named by their grid, as on every screen).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import numbers
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from . import compare, queries
from .scope import LEVEL_LABELS, Period, Scope, calendar_kind, calendar_label, levels_below

FORMAT_VERSION = 1

HEADLINE = "headline"
CHILDREN = "children"
TREND = "trend"
CATEGORIES = "categories"
CHANNELS = "channels"
HOTSPOTS = "hotspots"
REPEATS = "repeats"
OVERDUE = "overdue"
SUPERVISION_STREETS = "supervision_streets"
SUPERVISION_DEPARTMENTS = "supervision_departments"
# the 红黑榜 and each child unit's trend and categories: built in data_access/meeting_sections.py
RANKINGS = "rankings"
CHILD_TREND = "child_trend"
CHILD_CATEGORIES = "child_categories"

TOP_CATEGORIES = 10
HOTSPOT_WINDOW_DAYS = 14  # as on /region (ui.region.EMERGING_DAYS)
HOTSPOT_LEVEL = "grid"
REPEAT_LIMIT = 50
OVERDUE_LIST = 20
SUPERVISION_DEPARTMENTS_LIMIT = 30

KINDS = ("int", "float", "number", "str", "bool", "date", "datetime")


class FiguresError(ValueError):
    """Figures that cannot be made or read (an open period, a newer format). ``str()`` is for the screen."""


# ----------------------------------------------------------------- values ---

def _missing(value) -> bool:
    if value is None or value is pd.NaT or value is pd.NA:
        return True
    try:
        return bool(isinstance(value, (float, np.floating)) and math.isnan(value))
    except TypeError:
        return False


def _cell(value, kind: str):
    """``value`` as the plain Python value a section keeps for ``kind`` (None for any missing value)."""
    if _missing(value):
        return None
    if kind == "int":
        return int(value)
    if kind == "float":
        value = float(value)
        return value if math.isfinite(value) else None
    if kind == "number":
        if isinstance(value, (bool, np.bool_)):
            return int(value)
        if isinstance(value, numbers.Integral):
            return int(value)
        value = float(value)
        return value if math.isfinite(value) else None
    if kind == "str":
        return str(value)
    if kind == "bool":
        return bool(value)
    if kind == "datetime":
        moment = pd.Timestamp(value).to_pydatetime()
        if moment.tzinfo is not None:
            raise FiguresError(f"a time with a zone ({value}) where the city's local time is expected")
        return moment
    if kind == "date":
        if isinstance(value, dt.datetime) or isinstance(value, pd.Timestamp):
            return pd.Timestamp(value).date()
        if isinstance(value, dt.date):
            return value
        return dt.date.fromisoformat(str(value)[:10])
    raise FiguresError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")


def _kind_of(series: pd.Series) -> str:
    """The kind of a DataFrame column, from its dtype or, for objects, its values."""
    if pd.api.types.is_bool_dtype(series):
        return "bool"
    if pd.api.types.is_integer_dtype(series):
        return "int"
    if pd.api.types.is_float_dtype(series):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "datetime"
    present = [v for v in series.tolist() if not _missing(v)]
    if all(isinstance(v, str) for v in present):
        return "str"
    if all(isinstance(v, (dt.datetime, pd.Timestamp)) for v in present):
        return "datetime"
    if all(isinstance(v, dt.date) for v in present):
        return "date"
    if all(isinstance(v, (bool, np.bool_)) for v in present):
        return "bool"
    if all(isinstance(v, numbers.Number) for v in present):
        return "number"
    raise FiguresError(f"column {series.name!r} holds values a section cannot keep")


def _encode(value, kind: str):
    if value is None:
        return None
    if kind in ("date", "datetime"):
        return value.isoformat()
    return value


def _decode(value, kind: str):
    if value is None:
        return None
    if kind == "datetime":
        return dt.datetime.fromisoformat(value)
    if kind == "date":
        return dt.date.fromisoformat(value)
    if kind == "float":
        return float(value)
    return value


def _note(value):
    """A note's value: a JSON scalar (str, int, float, bool or None)."""
    if _missing(value):
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return value
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    raise FiguresError(f"a note holds {type(value).__name__}; only text, numbers, booleans and None")


# --------------------------------------------------------------- sections ---

@dataclass(frozen=True)
class Section:
    """One named table of a meeting's figures: ``columns``, the ``kinds`` of their values, ``rows`` (tuples of
    plain values, None where missing) and ``notes`` (what the table needs said: its window, a count, why a
    comparison is missing), each a JSON scalar."""

    columns: tuple[str, ...]
    kinds: tuple[str, ...]
    rows: tuple[tuple, ...] = ()
    notes: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.columns) != len(self.kinds):
            raise FiguresError("a section needs one kind per column")
        for kind in self.kinds:
            if kind not in KINDS:
                raise FiguresError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
        object.__setattr__(self, "columns", tuple(str(c) for c in self.columns))
        object.__setattr__(self, "kinds", tuple(self.kinds))
        rows = []
        for row in self.rows:
            row = tuple(row)
            if len(row) != len(self.columns):
                raise FiguresError(f"a row of {len(row)} values in a section of {len(self.columns)} columns")
            rows.append(tuple(_cell(v, k) for v, k in zip(row, self.kinds)))
        object.__setattr__(self, "rows", tuple(rows))
        object.__setattr__(self, "notes", {str(k): _note(v) for k, v in dict(self.notes).items()})

    @classmethod
    def from_frame(cls, df: pd.DataFrame, columns: Mapping[str, str] | list[str] | None = None,
                   notes: Mapping[str, object] | None = None) -> "Section":
        """A section of ``df``'s ``columns`` (a list, or a mapping of column → kind; default: all, kinds from
        their dtypes)."""
        if columns is None:
            columns = list(df.columns)
        if not isinstance(columns, Mapping):
            columns = {c: _kind_of(df[c]) for c in columns}
        names = list(columns)
        rows = list(zip(*(df[c].tolist() for c in names))) if len(df) else []
        return cls(tuple(names), tuple(columns.values()), tuple(rows), dict(notes or {}))

    def frame(self) -> pd.DataFrame:
        """The table as a DataFrame (ints as int64 when none is missing, floats as float64, times as datetime64;
        dates as datetime64 at midnight, as the charts read days)."""
        df = pd.DataFrame(list(self.rows), columns=list(self.columns), dtype=object)
        for name, kind in zip(self.columns, self.kinds):
            col = df[name]
            if kind == "int" and col.notna().all():
                df[name] = col.astype("int64")
            elif kind == "float" or (kind == "number" and len(col) and col.notna().all()):
                df[name] = pd.to_numeric(col, errors="coerce").astype("float64")
            elif kind in ("date", "datetime"):
                df[name] = pd.to_datetime(col)
        return df

    def records(self) -> list[dict]:
        return [dict(zip(self.columns, row)) for row in self.rows]

    def column(self, name: str) -> list:
        i = self.columns.index(name)
        return [row[i] for row in self.rows]

    def lookup(self, key_column: str, key, column: str):
        """The value of ``column`` in the row whose ``key_column`` is ``key`` (KeyError when there is none)."""
        i, j = self.columns.index(key_column), self.columns.index(column)
        for row in self.rows:
            if row[i] == key:
                return row[j]
        raise KeyError(key)

    def __len__(self) -> int:
        return len(self.rows)

    def to_dict(self) -> dict:
        return {"columns": list(self.columns), "kinds": list(self.kinds),
                "rows": [[_encode(v, k) for v, k in zip(row, self.kinds)] for row in self.rows],
                "notes": dict(self.notes)}

    @classmethod
    def from_dict(cls, data: Mapping) -> "Section":
        kinds = tuple(data["kinds"])
        rows = tuple(tuple(_decode(v, k) for v, k in zip(row, kinds)) for row in data.get("rows", ()))
        return cls(tuple(data["columns"]), kinds, rows, dict(data.get("notes") or {}))


# ---------------------------------------------------------------- figures ---

@dataclass(frozen=True)
class MeetingFigures:
    """What a review meeting shows for one scope, period and as-of time: named ``sections``.

    ``scope_code`` None is the whole territory. ``period_text`` is the period as written (``2026-10``,
    ``2026-Q4``, ``2026-W44``, ``2026``, ``2026-10-15``, or ``2026-10-05..2026-11-03``), ``period_label`` its
    Chinese title. Equality is value for value, so a snapshot read back equals the figures frozen.
    """

    scope_code: str | None
    scope_level: str
    scope_name: str
    period_start: dt.datetime
    period_end: dt.datetime
    period_text: str
    period_label: str
    as_of: dt.datetime
    sections: Mapping[str, Section] = field(default_factory=dict)
    version: int = FORMAT_VERSION

    def __post_init__(self) -> None:
        object.__setattr__(self, "sections", dict(self.sections))

    @property
    def scope(self) -> Scope:
        return Scope(self.scope_code, self.scope_level)

    @property
    def period(self) -> Period:
        return Period(self.period_start, self.period_end)

    def section(self, name: str) -> Section:
        """A section by name (KeyError naming the ones there are)."""
        try:
            return self.sections[name]
        except KeyError:
            raise KeyError(f"no section {name!r}; these figures hold {', '.join(self.sections)}") from None

    def get(self, name: str) -> Section | None:
        return self.sections.get(name)

    def with_section(self, name: str, section: Section) -> "MeetingFigures":
        """The same figures with one more section (or ``name`` replaced)."""
        return replace(self, sections={**self.sections, name: section})

    def headline(self, indicator: str) -> dict:
        """One indicator of the headline: ``value``, ``previous`` (环比) and ``last_year`` (同比)."""
        head = self.section(HEADLINE)
        for row in head.records():
            if row["indicator"] == indicator:
                return row
        raise KeyError(indicator)

    def to_dict(self) -> dict:
        return {
            "version": self.version,
            "scope": {"code": self.scope_code, "level": self.scope_level, "name": self.scope_name},
            "period": {"start": self.period_start.isoformat(), "end": self.period_end.isoformat(),
                       "text": self.period_text, "label": self.period_label},
            "as_of": self.as_of.isoformat(),
            "sections": {name: section.to_dict() for name, section in self.sections.items()},
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, allow_nan=False, separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: Mapping) -> "MeetingFigures":
        version = int(data.get("version", 0))
        if version < 1 or version > FORMAT_VERSION:
            raise FiguresError(f"会议数据格式版本 {version} 无法读取（本程序读取 1 至 {FORMAT_VERSION}）")
        scope, period = data["scope"], data["period"]
        return cls(
            scope_code=scope["code"], scope_level=scope["level"], scope_name=scope["name"],
            period_start=dt.datetime.fromisoformat(period["start"]),
            period_end=dt.datetime.fromisoformat(period["end"]),
            period_text=period["text"], period_label=period["label"],
            as_of=dt.datetime.fromisoformat(data["as_of"]),
            sections={name: Section.from_dict(body) for name, body in data["sections"].items()},
            version=version,
        )

    @classmethod
    def from_json(cls, text: str) -> "MeetingFigures":
        return cls.from_dict(json.loads(text))


# ---------------------------------------------------------------- periods ---

RANGE_SEPARATOR = ".."
_RANGE = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})\s*(?:\.\.|至|~)\s*(\d{4}-\d{2}-\d{2})\s*$")
PERIOD_FORMS = "2026-10-15（日）、2026-W44（周）、2026-10（月）、2026-Q4（季）、2026（年）或 2026-10-05..2026-11-03（起止日期）"


def parse_period(text: str) -> tuple[Period, str]:
    """A meeting's period from its text: a calendar period (``Period.calendar``) or two dates, both included
    (``2026-10-05..2026-11-03``). Returns the period and its text as written canonically.
    Raises FiguresError naming the accepted forms."""
    text = str(text or "").strip()
    found = _RANGE.match(text)
    if found:
        try:
            first, last = dt.date.fromisoformat(found[1]), dt.date.fromisoformat(found[2])
        except ValueError:
            raise FiguresError(f"无法识别的统计周期 “{text[:40]}”；可写作 {PERIOD_FORMS}") from None
        if last < first:
            raise FiguresError(f"统计周期的结束日期 {last} 早于开始日期 {first}")
        return Period.days(first, last), period_text(Period.days(first, last))
    try:
        return Period.calendar(text), text
    except ValueError:
        raise FiguresError(f"无法识别的统计周期 “{text[:40]}”；可写作 {PERIOD_FORMS}") from None


def period_text(period: Period) -> str:
    """The text of a period of whole days: its calendar form when it is exactly one (the year, quarter, month,
    ISO week or day), else ``first..last`` (both included). FiguresError for an open period or one that does
    not start and end at midnight."""
    start, end = period.start, period.end
    if start is None or end is None:
        raise FiguresError("会议数据需要有起止日期的统计周期（不能是“全部时间”）")
    if start.time() != dt.time() or end.time() != dt.time():
        raise FiguresError("会议数据的统计周期须为整日（自零时起，至零时止）")
    first, last = start.date(), (end - dt.timedelta(days=1)).date()
    iso = first.isocalendar()
    for text in (f"{first.year}", f"{first.year}-Q{(first.month - 1) // 3 + 1}", f"{first:%Y-%m}",
                 f"{iso[0]}-W{iso[1]:02d}", f"{first:%Y-%m-%d}"):
        if Period.calendar(text) == period:
            return text
    return f"{first:%Y-%m-%d}{RANGE_SEPARATOR}{last:%Y-%m-%d}"


def period_label(text: str) -> str:
    """The Chinese title of a period's text: 2026年10月, 2026年第4季度, … or 2026-10-05 至 2026-11-03."""
    found = _RANGE.match(text)
    if found:
        return f"{found[1]} 至 {found[2]}"
    return calendar_label(text)


def default_name(text: str, region_name: str) -> str:
    """The name a snapshot is offered: "10月讲评 · 铁东区", "第4季度讲评 · 铁东区", "第44周讲评 · …"."""
    found = _RANGE.match(text)
    if found:
        head = f"{found[1][5:]}至{found[2][5:]}"
    else:
        kind = calendar_kind(text)
        period = Period.calendar(text)
        start = period.start
        head = {"year": f"{start.year}年", "quarter": f"第{(start.month - 1) // 3 + 1}季度",
                "month": f"{start.month}月", "week": f"第{start.isocalendar()[1]}周",
                "day": f"{start.month}月{start.day}日"}[kind]
    return f"{head}讲评 · {region_name}"


# --------------------------------------------------------------- builders ---

@dataclass
class Context:
    """What builders share: the scope's level below, the time-limit rules, and the first appeal of the data."""

    child_level: str | None
    rules: object
    first_appeal: dt.datetime | None
    weights: object = None  # the 红黑榜's weights (ranking_weights.Weights); None: its DEFAULTS


def _kpi_row(row: pd.Series) -> dict:
    return {k: row[k] for k in row.index}


def _earlier(conn, scope: Scope, earlier: Period | None, at: dt.datetime | None, first: dt.datetime | None,
             what: str) -> tuple[dict | None, dict]:
    """The kpis of an earlier period, or None with the reason, and the notes that describe it."""
    if earlier is None:
        return None, {f"{what}_reason": "统计周期不完整，无法比较"}
    notes = {f"{what}_start": earlier.start, f"{what}_end": earlier.end, f"{what}_as_of": at,
             f"{what}_label": _label_of(earlier)}
    if first is None or first > earlier.start:
        # the earlier period lies (partly) before the data begin: no honest comparison, never a fake 0
        return None, {**notes, f"{what}_reason": "该时段早于数据起始时间，无可比数据"}
    return _kpi_row(queries.kpis(conn, scope, earlier, at)), {**notes, f"{what}_reason": None}


def _label_of(period: Period) -> str:
    try:
        return period_label(period_text(period))
    except FiguresError:
        return period.label()


def headline(conn, scope: Scope, period: Period, as_of: dt.datetime, ctx: Context) -> Section:
    """Every figure of ``queries.kpis``, with 环比 (``previous``) and 同比 (``last_year``).

    环比: the previous period (``compare.previous_period``: the previous calendar month, quarter or year, or
    the same length before) judged as far from its end as ``as_of`` is from this one's. 同比: the same period
    a year earlier judged a year earlier (``compare.shift_period``, ``compare.year_earlier``). Either is
    missing (None, with the reason in the notes) when its period begins before the data do, exactly as
    ``compare.comparison`` decides for 同比.
    """
    own = _kpi_row(queries.kpis(conn, scope, period, as_of))
    prev = compare.previous_period(period, as_of)
    previous, prev_notes = _earlier(conn, scope, prev[0] if prev else None, prev[1] if prev else None,
                                    ctx.first_appeal, "previous")
    last, last_notes = _earlier(conn, scope, compare.shift_period(period), compare.year_earlier(as_of),
                                ctx.first_appeal, "last_year")
    rows = [(key, own[key], None if previous is None else previous[key], None if last is None else last[key])
            for key in own]
    return Section(("indicator", "value", "previous", "last_year"), ("str", "number", "number", "number"),
                   tuple(rows), {**prev_notes, **last_notes})


CHILD_COLUMNS = {"code": "str", "name": "str", "population": "int", "received": "int", "closed": "int",
                 "cancelled": "int", "overdue_open": "int", "due_soon_open": "int", "valid": "int",
                 "completion_rate": "float", "on_time_rate": "float", "feedback_on_time_rate": "float",
                 "satisfaction_rate": "float", "callback_rate": "float", "in_grid_rate": "float",
                 "in_street_rate": "float", "repeat_rate": "float", "per_10k": "float"}


def children(conn, scope: Scope, period: Period, as_of: dt.datetime, ctx: Context) -> Section:
    """The units one level below the scope with their figures (none below a grid)."""
    level = ctx.child_level
    notes = {"level": level, "level_label": LEVEL_LABELS.get(level) if level else None}
    if level is None:
        return Section(tuple(CHILD_COLUMNS), tuple(CHILD_COLUMNS.values()), (), notes)
    return Section.from_frame(queries.children(conn, scope, period, as_of, level), CHILD_COLUMNS, notes)


def trend(conn, scope: Scope, period: Period, as_of: dt.datetime, ctx: Context) -> Section:
    df = queries.daily_trend(conn, scope, period, as_of)
    return Section.from_frame(df, {"day": "date", "received": "int", "closed": "int"})


def categories(conn, scope: Scope, period: Period, as_of: dt.datetime, ctx: Context) -> Section:
    df = queries.category_counts(conn, scope, period, as_of, TOP_CATEGORIES)
    return Section.from_frame(df, {"category": "str", "received": "int"}, {"limit": TOP_CATEGORIES})


def channels(conn, scope: Scope, period: Period, as_of: dt.datetime, ctx: Context) -> Section:
    return Section.from_frame(queries.channel_counts(conn, scope, period, as_of), {"channel": "str", "received": "int"})


HOTSPOT_FIELDS = {"region_code": "str", "name": "str", "category": "str", "observed": "int", "expected": "float",
                  "ratio": "float", "p_adjusted": "float", "window_start": "datetime", "window_end": "datetime",
                  "baseline": "str"}


def hotspots(conn, scope: Scope, period: Period, as_of: dt.datetime, ctx: Context) -> Section:
    """Emerging hotspots at ``as_of``: grids × category far above their own baseline in the last 14 days."""
    from . import hotspots as hot

    df = hot.emerging_hotspots(conn, scope, as_of, window_days=HOTSPOT_WINDOW_DAYS, level=HOTSPOT_LEVEL)
    return Section.from_frame(df, HOTSPOT_FIELDS, {"window_days": HOTSPOT_WINDOW_DAYS, "level": HOTSPOT_LEVEL,
                                                   "mode": df.attrs.get("mode"), "tested": df.attrs.get("tested")})


REPEAT_FIELDS = {"cluster_id": "str", "region_code": "str", "grid_name": "str", "category": "str", "count": "int",
                 "first_at": "datetime", "last_at": "datetime"}


def repeats(conn, scope: Scope, period: Period, as_of: dt.datetime, ctx: Context) -> Section:
    """Repeat clusters of the period (grid, category, size, first and last appeal; no address)."""
    from . import hotspots as hot

    df = hot.repeat_clusters(conn, scope, period, as_of, limit=REPEAT_LIMIT)
    return Section.from_frame(df, REPEAT_FIELDS, {"limit": REPEAT_LIMIT})


OVERDUE_FIELDS = {"appeal_id": "str", "created_at": "datetime", "deadline_at": "datetime", "category": "str",
                  "subcategory": "str", "urgency": "str", "street": "str", "department": "str",
                  "time_basis": "str", "overdue_hours": "float", "overdue": "str"}


def overdue(conn, scope: Scope, period: Period, as_of: dt.datetime, ctx: Context) -> Section:
    """The newest overdue open appeals (any received date), and how many are open and overdue
    (``stock_overdue``: 超期 · 全部在办) or due soon (``stock_due_soon``) at ``as_of``."""
    stock = queries.kpis(conn, scope, Period.all_time(), as_of)
    df = queries.newest_overdue(conn, scope, as_of, OVERDUE_LIST, rules=ctx.rules)
    return Section.from_frame(df, OVERDUE_FIELDS, {"stock_overdue": int(stock["overdue_open"]),
                                                   "stock_due_soon": int(stock["due_soon_open"]),
                                                   "limit": OVERDUE_LIST})


SUPERVISION_FIELDS = {"code": "str", "name": "str", "parent": "str", "supervised": "int", "answered_on_time": "int",
                      "answered_late": "int", "open": "int", "escalated": "int", "on_time_rate": "float"}


def supervision_streets(conn, scope: Scope, period: Period, as_of: dt.datetime, ctx: Context) -> Section:
    """督办 started in the period, per street (worst first), and the supervisions open at ``as_of``
    (``open_now``, of which ``open_overdue`` past their answer date), whenever started."""
    from . import supervision_queries as sq

    stats = sq.supervision_stats(conn, scope, period, as_of, "street")
    open_now = sq.open_supervisions(conn, scope, as_of, limit=None)
    return Section.from_frame(stats, SUPERVISION_FIELDS, {"open_now": len(open_now),
                                                          "open_overdue": int(open_now["overdue"].sum())})


def supervision_departments(conn, scope: Scope, period: Period, as_of: dt.datetime, ctx: Context) -> Section:
    """督办 started in the period, per department supervised, the worst first (at most 30)."""
    from . import supervision_queries as sq

    stats = sq.supervision_stats(conn, scope, period, as_of, "department", limit=SUPERVISION_DEPARTMENTS_LIMIT)
    return Section.from_frame(stats, SUPERVISION_FIELDS, {"limit": SUPERVISION_DEPARTMENTS_LIMIT})


Builder = Callable[..., Section]
# the sections figures() makes, in order; a new section (the 红黑榜: RANKINGS) is one more entry
BUILDERS: dict[str, Builder] = {
    HEADLINE: headline,
    CHILDREN: children,
    TREND: trend,
    CATEGORIES: categories,
    CHANNELS: channels,
    HOTSPOTS: hotspots,
    REPEATS: repeats,
    OVERDUE: overdue,
    SUPERVISION_STREETS: supervision_streets,
    SUPERVISION_DEPARTMENTS: supervision_departments,
}


def figures(conn, scope: Scope, period: Period, as_of: dt.datetime, *, rules=None,
            text: str | None = None, weights=None) -> MeetingFigures:
    """The figures of a review meeting for ``scope`` and ``period``, judged at ``as_of`` (see the module
    docstring). ``conn``: the analytics store (the hotspot queries need DuckDB). ``rules``: the time-limit
    rules for how late each overdue appeal is (None: the built-in ones). ``text``: the period as written
    (default: ``period_text(period)``). ``weights``: the 红黑榜's weights in force (``ranking_weights.load``; None:
    its defaults); the section keeps the weights it was ranked with."""
    text = text or period_text(period)
    if period.start is None or period.end is None:
        raise FiguresError("会议数据需要有起止日期的统计周期（不能是“全部时间”）")
    name = "全域" if scope.is_whole else str(queries.region(conn, scope.code)["name"])
    below = levels_below(queries.level_counts(conn, scope), scope)
    first, _ = queries.data_range(conn, Scope.whole())
    ctx = Context(child_level=below[0] if below else None, rules=rules, first_appeal=first, weights=weights)
    sections = {key: build(conn, scope, period, as_of, ctx) for key, build in BUILDERS.items()}
    return MeetingFigures(scope_code=scope.code, scope_level=scope.level, scope_name=name,
                          period_start=period.start, period_end=period.end, period_text=text,
                          period_label=period_label(text), as_of=as_of, sections=sections)


from . import meeting_sections  # noqa: E402,F401 - adds the 红黑榜 and the child units' sections to BUILDERS
