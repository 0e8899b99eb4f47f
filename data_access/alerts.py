"""The warning page's queries (超期预警): red (超期) and yellow (临期) open appeals.

Red and yellow are the sets ``overdue_open`` and ``due_soon_open`` of
``indicators.conditions()``: the page's counts are the big screen's 超期 and 临期
for the same scope and period.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import and_, case, func, literal, or_, select

from . import indicators as ind
from .analytics import PATH_COLUMNS, departments, facts, regions
from .queries import _where
from .runner import run
from .scope import Period, Scope
from .unit_names import with_names

# URL / widget filter name -> column of the facts
FILTERS = {
    "district": facts.c.district_code,
    "street": facts.c.street_code,
    "department": facts.c.department_code,
    "category": facts.c.category,
    "channel": facts.c.channel,
}
STATES = ("red", "yellow")


def filter_conditions(filters: dict | None) -> list:
    """The page's filters (``FILTERS``: district, street, department, category, channel) as conditions on
    the appeals (``appeal_facts``); an empty value is no filter. Every query of the warning page uses these."""
    parts = []
    for name, value in (filters or {}).items():
        if value in (None, ""):
            continue
        if name not in FILTERS:
            raise ValueError(f"unknown filter {name!r}; expected one of {', '.join(FILTERS)}")
        parts.append(FILTERS[name] == value)
    return parts


def _conditions(scope: Scope, period: Period, as_of: dt.datetime, filters: dict | None, states):
    sets = ind.conditions(facts, as_of)
    wanted = [sets["overdue_open"] if s == "red" else sets["due_soon_open"] for s in states]
    parts = [_where(scope, period, as_of), or_(*wanted), *filter_conditions(filters)]
    return and_(*parts), sets


def warning_list(conn, scope: Scope, period: Period, as_of: dt.datetime, *, filters: dict | None = None,
                 states=STATES, limit: int = 2000) -> pd.DataFrame:
    """Red and yellow appeals, the latest first (most overdue, then the nearest deadline). No personal data."""
    where, sets = _conditions(scope, period, as_of, filters, states)
    street, dept = regions.alias("street"), departments.alias("dept")
    state = case((sets["overdue_open"], "red"), else_="yellow")
    stmt = (
        select(facts.c.appeal_id, facts.c.created_at, facts.c.deadline_at, facts.c.warn_at, facts.c.category,
               facts.c.subcategory, facts.c.channel, facts.c.urgency, facts.c.department_code,
               facts.c.is_supervised, facts.c.district_code, facts.c.street_code, facts.c.paused_since,
               street.c.name.label("street"), dept.c.name.label("department"), state.label("state"))
        .select_from(facts.outerjoin(street, street.c.code == facts.c.street_code)
                     .outerjoin(dept, dept.c.code == facts.c.department_code))
        .where(where)
        .order_by(facts.c.deadline_at.asc(), facts.c.appeal_id)
        .limit(limit)
    )
    return run(conn, stmt)


def warning_totals(conn, scope: Scope, period: Period, as_of: dt.datetime, *,
                   filters: dict | None = None) -> dict[str, int]:
    where, sets = _conditions(scope, period, as_of, filters, STATES)
    stmt = select(func.count(case((sets["overdue_open"], 1))).label("red"),
                  func.count(case((sets["due_soon_open"], 1))).label("yellow")).where(where)
    row = run(conn, stmt).iloc[0]
    return {"red": int(row["red"]), "yellow": int(row["yellow"])}


def warning_counts(conn, scope: Scope, period: Period, as_of: dt.datetime, by: str, *,
                   filters: dict | None = None) -> pd.DataFrame:
    """Red and yellow per department or street (``code``, ``name``, ``parent``, ``red``, ``yellow``), the worst first."""
    if by == "department":
        key = facts.c.department_code
    elif by == "street":
        key = facts.c[PATH_COLUMNS["street"]]
    else:
        raise ValueError("by must be 'department' or 'street'")
    where, sets = _conditions(scope, period, as_of, filters, STATES)
    agg = (
        select(key.label("code"), func.count(case((sets["overdue_open"], 1))).label("red"),
               func.count(case((sets["due_soon_open"], 1))).label("yellow"))
        .where(where, key.is_not(None))
        .group_by(key)
        .subquery("agg")
    )
    source, name, parent = with_names(agg, agg.c.code, by)
    stmt = (
        select(agg.c.code, name, parent, agg.c.red, agg.c.yellow)
        .select_from(source)
        .order_by(agg.c.red.desc(), agg.c.yellow.desc(), agg.c.code)
    )
    return run(conn, stmt)


def filter_options(conn, scope: Scope, as_of: dt.datetime) -> dict[str, pd.DataFrame]:
    """The values each filter can take among the open appeals of the scope (code and name)."""
    open_ = and_(_where(scope, Period.all_time(), as_of), ind.open_at_t(facts, literal(as_of)))
    out = {}
    for name, column, table in (("district", facts.c.district_code, regions),
                                ("street", facts.c.street_code, regions),
                                ("department", facts.c.department_code, departments)):
        sub = select(column.label("code")).where(open_, column.is_not(None)).distinct().subquery()
        out[name] = run(conn, select(sub.c.code, func.coalesce(table.c.name, sub.c.code).label("name"))
                        .select_from(sub.outerjoin(table, table.c.code == sub.c.code)).order_by(sub.c.code))
    for name, column in (("category", facts.c.category), ("channel", facts.c.channel)):
        out[name] = run(conn, select(column.label("code")).where(open_).distinct().order_by(column))
    return out


def newly_red(deadlines: pd.Series, as_of: dt.datetime, seconds: int = 60) -> pd.Series:
    """Which appeals turned red within the last ``seconds`` (their deadline passed that recently)."""
    d = pd.to_datetime(deadlines)
    return (d < pd.Timestamp(as_of)) & (d >= pd.Timestamp(as_of) - pd.Timedelta(seconds=seconds))
