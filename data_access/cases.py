"""The cases behind every number: the appeals a figure counts, paged, sorted and exported.

A figure on screen is the size of a set of appeals (``indicators.SETS``) in a
scope, a period and as of a time, or a rate of two such sets
(``indicators.RATES``). The list behind it is filtered by the very same
condition objects (``indicators.conditions``, ``indicators.cohort``,
``indicators.closed_within`` and ``queries._where`` / ``queries._in_scope``),
so its length equals the figure by construction:

* a set                 the set (``figure="overdue_open"``);
* a rate                its denominator set; ``part="numerator"`` narrows the
                        list to the numerator set, and every row of the
                        denominator list says ``in_numerator``;
* ``per_10k``           the valid appeals (received − cancelled) it counts;
* ``closed_in_period``  the trend's 办结 line: appeals closed in the period,
                        whenever received (``indicators.closed_within``).

``filters`` narrow a list further by exact matches (``FILTERS``), e.g. the
category of a bar in the category chart, or ``region``: a region inside the
scope (a ranking row), matched at its own level through the path columns.
``status`` matches the status at the as-of time, as the rows show it.
``channel`` takes one of our channel codes or any channel the data hold (a
source's own word that no mapping groups); anything else is refused.

Personal data (appellant's name, phone, address; phone numbers and the name
inside the summary and notes) is masked in every result unless the caller
passes ``show_personal=True``; only the case detail passes ``privacy.may_show_personal_data(grant)``.

Rows show each appeal as it stood at the as-of time: ``status`` is the status
at T (an appeal closed after T is 在办) and ``closed_at`` is empty when the
closing came after T.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Engine, and_, case, func, literal, select
from sqlalchemy.sql.expression import ColumnElement

from . import deadlines, workcal
from . import indicators as ind
from . import privacy
from .analytics import PATH_COLUMNS, departments, facts, regions
from .queries import _in_scope, _where
from .runner import run
from .schema import appeal_events, appeals
from .scope import LEVELS, Period, Scope
from .sqlfuncs import seconds_between
from .vocab import CHANNELS, EVENT_TYPES, STATUSES

PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
EXPORT_CAP = 100_000
SUMMARY_CHARS = 60


class CaseRequestError(ValueError):
    """A case list was asked for something that does not exist; the message is for the screen (Chinese)."""


# ------------------------------------------------------------- figures ---

@dataclass(frozen=True)
class Figure:
    key: str
    label: str          # the figure's Chinese name
    kind: str           # set | rate | per_10k | closed_in_period
    base: str | None    # the set the list shows (None: closed_in_period)
    numerator: str | None = None  # a rate's numerator set

    def list_label(self, part: str | None = None) -> str:
        """What the list holds, in Chinese: "超期在办", "按时办结率 · 分子：按时办结"."""
        if self.kind == "rate":
            if part == "numerator":
                return f"{self.label} · 分子：{ind.SETS[self.numerator]}"
            return f"{self.label} · 分母：{ind.SETS[self.base]}"
        if self.kind == "per_10k":
            return f"{self.label} · {ind.SETS[self.base]}"
        return self.label


def _figures() -> dict[str, Figure]:
    out = {key: Figure(key, label, "set", key) for key, label in ind.SETS.items()}
    for key in ind.RATES:
        base, numerator = ind.figure_set(key)
        out[key] = Figure(key, ind.INDICATORS[key].label, "rate", base, numerator)
    base, _ = ind.figure_set("per_10k")
    out["per_10k"] = Figure("per_10k", ind.INDICATORS["per_10k"].label, "per_10k", base)
    out["closed_in_period"] = Figure("closed_in_period", "期间办结（按办结时间）", "closed_in_period", None)
    return out


# every figure a link can name
FIGURES: dict[str, Figure] = _figures()
PARTS = ("numerator",)

SORTS = {
    "created_at": "受理时间",
    "deadline_at": "办理时限",
    "closed_at": "办结时间",
    "category": "类别",
    "status": "状态",
    "overdue": "超期时长",
}

FILTERS = {
    "category": "类别",
    "subcategory": "子类",
    "channel": "渠道",
    "department_code": "承办单位",
    "status": "状态",
    "region": "区域",
    "cluster": "重复诉求簇",
}

# the list's columns, in order (in_numerator only for a rate's list)
LIST_COLUMNS = (
    "appeal_id", "created_at", "category", "subcategory", "channel", "channel_label", "status", "deadline_at",
    "closed_at", "district", "street", "community", "grid", "department", "appellant_name", "appellant_phone",
    "address", "summary", "urgency", "paused_since", *deadlines.OVERDUE_COLUMNS, "in_numerator",
)
PERSONAL_COLUMNS = ("appellant_name", "appellant_phone", "address")


def figure(key: str) -> Figure:
    """The figure named ``key``; CaseRequestError when there is none."""
    try:
        return FIGURES[key]
    except (KeyError, TypeError):
        raise CaseRequestError(f"未知的指标 “{str(key)[:40]}”") from None


def _check_part(fig: Figure, part: str | None) -> None:
    if part is None:
        return
    if part not in PARTS:
        raise CaseRequestError(f"未知的列表部分 “{str(part)[:40]}”（可用：numerator 分子）")
    if fig.kind != "rate":
        raise CaseRequestError(f"“{fig.label}” 不是比率，没有分子列表")


# ---------------------------------------------------------- conditions ---

def _status_at(t) -> ColumnElement:
    return case((ind.closed_at_t(facts, t), "closed"), (ind.cancelled_at_t(facts, t), "cancelled"),
                else_="open")


def _closed_at_at(t) -> ColumnElement:
    return case((facts.c.closed_at <= t, facts.c.closed_at), else_=None)


def _overdue_order(t) -> ColumnElement:
    """The sort key 超期时长: the clock time from the deadline to t (to the pause for a paused appeal), for the
    appeals overdue at t. Within a basis it orders as the shown overdue time (``deadlines.with_overdue``)."""
    stop = case((and_(facts.c.paused_since.is_not(None), facts.c.paused_since <= t), facts.c.paused_since), else_=t)
    return case((ind.overdue_at_t(facts, t), seconds_between(facts.c.deadline_at, stop) / 3600.0), else_=None)


def _filter_conditions(conn, filters: dict | None, t, scope: Scope, period: Period,
                       as_of: dt.datetime) -> list[ColumnElement]:
    out = []
    for name, value in (filters or {}).items():
        if value is None or value == "":
            continue
        if name not in FILTERS:
            raise CaseRequestError(f"未知的筛选条件 “{str(name)[:40]}”（可用：{'、'.join(FILTERS)}）")
        value = str(value)
        if name == "status":
            if value not in STATUSES:
                raise CaseRequestError(f"未知的状态 “{value[:40]}”（可用：{'、'.join(STATUSES)}）")
            out.append(_status_at(t) == value)
        elif name == "channel":
            if value not in CHANNELS and not _channel_exists(conn, value):
                raise CaseRequestError(f"未知的渠道 “{value[:40]}”：数据中没有这个渠道")
            out.append(facts.c.channel == value)
        elif name == "region":
            found = run(conn, select(regions.c.level).where(regions.c.code == value))
            if found.empty or found["level"].iloc[0] not in PATH_COLUMNS:
                raise CaseRequestError(f"区域代码 “{value[:40]}” 不存在")
            out.append(facts.c[PATH_COLUMNS[found["level"].iloc[0]]] == value)
        elif name == "cluster":  # a repeat cluster, found again for the same scope, period and as-of
            from .hotspots import cluster_appeals

            ids = cluster_appeals(conn, scope, period, as_of, value)["appeal_id"].tolist()
            if not ids:
                raise CaseRequestError(f"重复诉求簇 “{value[:40]}” 在该范围和时段内不存在")
            out.append(facts.c.appeal_id.in_(ids))
        else:
            out.append(facts.c[name] == value)
    return out


def _channel_exists(conn, value: str) -> bool:
    """Whether any appeal carries this channel: one of ours, or a source's own word (docs/import.md)."""
    found = run(conn, select(facts.c.appeal_id).where(facts.c.channel == value).limit(1))
    return not found.empty


def condition(conn, scope: Scope, period: Period, as_of: dt.datetime, figure_key: str, *,
              part: str | None = None, filters: dict | None = None) -> ColumnElement:
    """The WHERE of a figure's list: the figure's own condition (as in ``queries``), then the filters."""
    fig = figure(figure_key)
    _check_part(fig, part)
    t = literal(as_of)
    if fig.kind == "closed_in_period":
        parts = [_in_scope(scope), ind.closed_within(facts, period.start, period.end, as_of)]
    else:
        sets = ind.conditions(facts, as_of)
        parts = [_where(scope, period, as_of), sets[fig.base]]
        if part == "numerator":
            parts.append(sets[fig.numerator])
    return and_(*parts, *_filter_conditions(conn, filters, t, scope, period, as_of))


# -------------------------------------------------------------- queries ---

def case_count(conn, scope: Scope, period: Period, as_of: dt.datetime, figure: str, *,
               part: str | None = None, filters: dict | None = None) -> int:
    """How many appeals the list holds: the figure itself (or the filtered part of it)."""
    where = condition(conn, scope, period, as_of, figure, part=part, filters=filters)
    return int(run(conn, select(func.count().label("n")).select_from(facts).where(where))["n"].iloc[0])


def _order(sort: str, descending: bool, t) -> list:
    keys = {
        "created_at": facts.c.created_at,
        "deadline_at": facts.c.deadline_at,
        "closed_at": _closed_at_at(t),
        "category": facts.c.category,
        "status": _status_at(t),
        "overdue": _overdue_order(t),
    }
    if sort not in keys:
        raise CaseRequestError(f"未知的排序 “{str(sort)[:40]}”（可用：{'、'.join(SORTS)}）")
    key = keys[sort]
    # the appeal id breaks ties, so the order is total and pages neither repeat nor skip a row
    if descending:
        return [key.desc().nulls_last(), facts.c.appeal_id.desc()]
    return [key.asc().nulls_last(), facts.c.appeal_id.asc()]


def _select(figure_key: str, as_of: dt.datetime, *, full_summary: bool):
    t = literal(as_of)
    fig = FIGURES[figure_key]
    names = {level: regions.alias(f"r_{level}") for level in ("district", "street", "community", "grid")}
    dept = departments.alias("dept")
    source = facts
    for level, alias in names.items():
        source = source.outerjoin(alias, alias.c.code == facts.c[PATH_COLUMNS[level]])
    source = source.outerjoin(dept, dept.c.code == facts.c.department_code)
    summary = facts.c.summary if full_summary else func.substr(facts.c.summary, 1, SUMMARY_CHARS * 2)
    columns = [
        facts.c.appeal_id, facts.c.created_at, facts.c.category, facts.c.subcategory, facts.c.channel,
        facts.c.channel_label, _status_at(t).label("status"), facts.c.deadline_at,
        _closed_at_at(t).label("closed_at"),
        *(alias.c.name.label(level) for level, alias in names.items()),
        dept.c.name.label("department"),
        facts.c.appellant_name, facts.c.appellant_phone, facts.c.address, summary.label("summary"),
        facts.c.urgency, facts.c.paused_since,  # the appeal's basis and pause (deadlines.with_overdue)
    ]
    if fig.kind == "rate":
        numerator = ind.conditions(facts, as_of)[fig.numerator]
        columns.append(case((numerator, True), else_=False).label("in_numerator"))
    return select(*columns).select_from(source)


_TEXT_COLUMNS = ("appeal_id", "category", "subcategory", "channel", "channel_label", "status", "district", "street",
                 "community", "grid", "department", "appellant_name", "appellant_phone", "address", "summary")


def _text(values) -> list:
    """Strings with None for missing (pandas 3 reads a missing string as NaN)."""
    return [None if v is None or (isinstance(v, float) and v != v) or v is pd.NA else str(v) for v in values]


def _finish(df: pd.DataFrame, as_of: dt.datetime, rules, *, show_personal: bool,
            summary_chars: int | None) -> pd.DataFrame:
    """Mask personal data (unless allowed), cut the summary, set the types, say how late each appeal is
    (``deadlines.with_overdue``)."""
    for column in _TEXT_COLUMNS:
        df[column] = pd.Series(_text(df[column].tolist()), index=df.index, dtype=object)
    for column in ("created_at", "deadline_at", "closed_at", "paused_since"):
        df[column] = pd.to_datetime(df[column])
    df["urgency"] = pd.Series(_text(df["urgency"].tolist()), index=df.index, dtype=object)
    df = deadlines.with_overdue(df, as_of, rules=rules)
    if "in_numerator" in df:
        df["in_numerator"] = df["in_numerator"].astype(bool)
    if not show_personal:
        names = df["appellant_name"].tolist()
        df["summary"] = [privacy.mask_text(s, (n,)) for s, n in zip(df["summary"].tolist(), names)]
        df["appellant_name"] = [privacy.mask_name(n) for n in names]
        df["appellant_phone"] = [privacy.mask_phone(p) for p in df["appellant_phone"].tolist()]
        df["address"] = [privacy.mask_address(a) for a in df["address"].tolist()]
    if summary_chars is not None:
        df["summary"] = [s if s is None or len(s) <= summary_chars else s[:summary_chars] + "…"
                         for s in df["summary"].tolist()]
    return df.reset_index(drop=True)


def case_list(conn, scope: Scope, period: Period, as_of: dt.datetime, figure: str, *,
              part: str | None = None, filters: dict | None = None, sort: str = "created_at",
              descending: bool = True, offset: int = 0, limit: int = PAGE_SIZE,
              show_personal: bool = False, rules=None) -> pd.DataFrame:
    """One page of the list behind a figure (``LIST_COLUMNS``), in a total order (ties broken by appeal id).

    How late an appeal open past its deadline at the as-of time is, in its
    basis under ``rules`` (the time-limit rules; None: the built-in ones), is in
    ``deadlines.OVERDUE_COLUMNS`` (``overdue_hours``, the text ``overdue``, …;
    empty otherwise); ``in_numerator`` (rates only) whether the row counts in
    the rate's numerator. The summary is cut to ``SUMMARY_CHARS`` characters.
    """
    if not isinstance(offset, int) or offset < 0:
        raise CaseRequestError(f"起始行 {offset!r} 无效")
    if not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE_SIZE:
        raise CaseRequestError(f"每页行数 {limit!r} 无效（1 至 {MAX_PAGE_SIZE}）")
    where = condition(conn, scope, period, as_of, figure, part=part, filters=filters)
    stmt = (_select(figure, as_of, full_summary=False).where(where)
            .order_by(*_order(sort, descending, literal(as_of))).offset(offset).limit(limit))
    return _finish(run(conn, stmt), as_of, rules, show_personal=show_personal, summary_chars=SUMMARY_CHARS)


def case_export(conn, scope: Scope, period: Period, as_of: dt.datetime, figure: str, *,
                part: str | None = None, filters: dict | None = None, sort: str = "created_at",
                descending: bool = True, show_personal: bool = False, cap: int = EXPORT_CAP,
                rules=None) -> pd.DataFrame:
    """The whole list, for CSV and Excel (the summary in full); CaseRequestError beyond ``cap`` rows."""
    n = case_count(conn, scope, period, as_of, figure, part=part, filters=filters)
    if n > cap:
        raise CaseRequestError(f"该列表共 {n:,} 件，超过导出上限 {cap:,} 件；请缩小范围、时间段或增加筛选条件后再导出。")
    where = condition(conn, scope, period, as_of, figure, part=part, filters=filters)
    stmt = _select(figure, as_of, full_summary=True).where(where).order_by(*_order(sort, descending, literal(as_of)))
    return _finish(run(conn, stmt, max_rows=max(cap, 1)), as_of, rules, show_personal=show_personal,
                   summary_chars=None)


# -------------------------------------------------------------- detail ---

def case_detail(conn, appeal_id: str, *, show_personal: bool = False) -> dict | None:
    """Every field of one appeal, its place (``place``: [(level, code, name)], coarsest first) and department.

    Region names are in ``<level>_name`` (e.g. ``street_name``), the
    department's in ``department_name``. None when there is no such appeal.
    """
    names = {level: regions.alias(f"r_{level}") for level in LEVELS}
    dept = departments.alias("dept")
    source = facts
    for level, alias in names.items():
        source = source.outerjoin(alias, alias.c.code == facts.c[PATH_COLUMNS[level]])
    source = source.outerjoin(dept, dept.c.code == facts.c.department_code)
    stmt = (select(facts, *(alias.c.name.label(f"{level}_name") for level, alias in names.items()),
                   dept.c.name.label("department_name"), dept.c.level.label("department_level"))
            .select_from(source).where(facts.c.appeal_id == str(appeal_id)))
    df = run(conn, stmt)
    if df.empty:
        return None
    row = {k: _plain(v) for k, v in df.iloc[0].to_dict().items()}
    row["place"] = [(level, row[PATH_COLUMNS[level]], row[f"{level}_name"] or row[PATH_COLUMNS[level]])
                    for level in LEVELS if row.get(PATH_COLUMNS[level])]
    if not show_personal:
        row["summary"] = privacy.mask_text(row["summary"], (row["appellant_name"],))
        row["appellant_name"] = privacy.mask_name(row["appellant_name"])
        row["appellant_phone"] = privacy.mask_phone(row["appellant_phone"])
        row["address"] = privacy.mask_address(row["address"])
    return row


def _plain(value):
    """A DataFrame cell as a plain Python value (None for missing, datetime for timestamps)."""
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if value is None or (not isinstance(value, (str, bytes, list, tuple)) and pd.isna(value)):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


EVENT_COLUMNS = ("event_type", "label", "event_at", "actor", "note", "elapsed_hours", "to_deadline_hours",
                 "time_basis")


def case_events(engine: Engine, appeal_id: str, *, show_personal: bool = False, rules=None) -> pd.DataFrame:
    """The appeal's timeline from the system of record (``appeal_events``), oldest first.

    ``elapsed_hours`` is the time since the appeal was received (calendar
    hours) and ``to_deadline_hours`` the time left to its deadline at each
    event (negative: past the deadline; empty without a deadline), in the
    appeal's basis under ``rules`` (``time_basis``: working hours for limits in
    working days, clock hours for limits in hours), as every screen says how
    late an appeal is. Phone numbers and the appellant's name inside notes are
    masked unless ``show_personal``.
    """
    with engine.connect() as conn:
        head = run(conn, select(appeals.c.created_at, appeals.c.deadline_at, appeals.c.appellant_name,
                                appeals.c.category, appeals.c.subcategory, appeals.c.urgency)
                   .where(appeals.c.appeal_id == str(appeal_id)))
        events = run(conn, select(appeal_events.c.event_type, appeal_events.c.event_at, appeal_events.c.actor,
                                  appeal_events.c.note)
                     .where(appeal_events.c.appeal_id == str(appeal_id))
                     .order_by(appeal_events.c.event_at, appeal_events.c.id))
    if head.empty or events.empty:
        return pd.DataFrame({c: pd.Series(dtype="float64" if c.endswith("_hours") else "object")
                             for c in EVENT_COLUMNS})
    first = head.iloc[0]
    created = pd.Timestamp(first["created_at"])
    deadline = first["deadline_at"]
    deadline = None if deadline is None or pd.isna(deadline) else pd.Timestamp(deadline)
    name = first["appellant_name"]
    basis = deadlines.basis_of({k: _plain(first[k]) for k in ("category", "subcategory", "urgency")}, rules)
    at = pd.to_datetime(events["event_at"])
    if deadline is None:
        to_deadline = [float("nan")] * len(at)
    elif basis == deadlines.CLOCK:
        to_deadline = ((deadline - at).dt.total_seconds() / 3600.0).tolist()
    else:
        to_deadline = (workcal.working_seconds_between_array(deadlines.to_us(at), deadlines.to_us([deadline] * len(at)))
                       / 3600.0).tolist()
    out = pd.DataFrame({
        "event_type": events["event_type"],
        "label": [EVENT_TYPES.get(e, e) for e in events["event_type"]],
        "event_at": at,
        "actor": events["actor"],
        "note": events["note"] if show_personal else [privacy.mask_text(n, (name,)) for n in events["note"]],
        "elapsed_hours": (at - created).dt.total_seconds() / 3600.0,
        "to_deadline_hours": pd.Series(to_deadline, index=events.index, dtype="float64"),
        "time_basis": basis,
    })
    return out
