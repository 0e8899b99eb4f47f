"""Query functions: (connection, scope, period, as-of, …) → small DataFrame.

All aggregation happens in SQL, through ``runner.run``. The connection is the
analytics store (DuckDB), or any connection holding the same tables (see
``baseline.py``). Indicators come from ``indicators.measures``.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import and_, case, func, literal, select, true
from sqlalchemy.sql.expression import ColumnElement

from . import deadlines
from . import indicators as ind
from .analytics import PATH_COLUMNS, departments, facts, grid_workers, region_paths, regions
from .runner import run
from .scope import Period, Scope
from .sqlfuncs import day_of, floor_div, seconds_between


class UnknownRegion(LookupError):
    """The scope names a region that does not exist."""


def scope_filter(scope: Scope) -> ColumnElement:
    """The row-level filter of a scope on ``appeal_facts``: one equality on the scope level's path column."""
    if scope.is_whole:
        return true()
    return facts.c[PATH_COLUMNS[scope.level]] == scope.code


_in_scope = scope_filter


def _regions_in_scope(scope: Scope) -> ColumnElement:
    """Regions at or below the scope (joined through region_paths)."""
    if scope.is_whole:
        return true()
    return region_paths.c[PATH_COLUMNS[scope.level]] == scope.code


def _where(scope: Scope, period: Period, as_of: dt.datetime) -> ColumnElement:
    return and_(_in_scope(scope), ind.cohort(facts, period.start, period.end, as_of))


# ------------------------------------------------------------- regions ---

def region(conn, code: str) -> pd.Series:
    """One region's code, name, level, parent and population; UnknownRegion if absent."""
    df = run(conn, select(regions.c.code, regions.c.name, regions.c.level, regions.c.parent_code,
                          regions.c.population).where(regions.c.code == code))
    if df.empty:
        raise UnknownRegion(code)
    return df.iloc[0]


def top_regions(conn) -> pd.DataFrame:
    """The regions without a parent: the territory's root(s)."""
    stmt = (select(regions.c.code, regions.c.name, regions.c.level, regions.c.population)
            .where(regions.c.parent_code.is_(None)).order_by(regions.c.code))
    return run(conn, stmt)


def resolve_scope(conn, code: str | None) -> Scope:
    """The scope of a region code (its level looked up); the whole territory for None."""
    if code is None or code == "":
        return Scope.whole()
    return Scope(code, str(region(conn, code)["level"]))


def scope_population(conn, scope: Scope) -> int | None:
    """Residents of the scope: the region's population, or the sum of the top regions."""
    r = regions
    if scope.is_whole:
        stmt = select(func.sum(r.c.population).label("population")).where(r.c.parent_code.is_(None))
    else:
        stmt = select(r.c.population.label("population")).where(r.c.code == scope.code)
    value = run(conn, stmt)["population"]
    return None if value.empty or pd.isna(value.iloc[0]) else int(value.iloc[0])


def level_counts(conn, scope: Scope) -> dict[str, int]:
    """How many regions of each level lie inside the scope (the scope's own region included)."""
    stmt = (
        select(regions.c.level, func.count().label("n"))
        .select_from(regions.join(region_paths, region_paths.c.code == regions.c.code))
        .where(_regions_in_scope(scope))
        .group_by(regions.c.level)
    )
    df = run(conn, stmt)
    return {str(k): int(v) for k, v in zip(df["level"], df["n"])}


CONTEXT_LEVELS = ("district", "street", "community")


def region_context(conn, scope: Scope, codes: list[str]) -> pd.DataFrame:
    """For regions inside the scope: ``code`` and the names of their district, street and community
    (``district``, ``street``, ``community``; None where a region has no such ancestor). Lists that span
    several parents use them to tell equal names apart."""
    if not codes:
        return pd.DataFrame(columns=["code", *CONTEXT_LEVELS])
    named = {level: regions.alias(f"r_{level}") for level in CONTEXT_LEVELS}
    source = region_paths
    for level, alias in named.items():
        source = source.outerjoin(alias, alias.c.code == region_paths.c[PATH_COLUMNS[level]])
    stmt = (select(region_paths.c.code, *(alias.c.name.label(level) for level, alias in named.items()))
            .select_from(source)
            .where(_regions_in_scope(scope), region_paths.c.code.in_([str(c) for c in codes])))
    return run(conn, stmt)


def region_shapes(conn, scope: Scope, level: str) -> pd.DataFrame:
    """Code, name, population and WKB geometry of the scope's regions at ``level`` that have an outline."""
    stmt = (
        select(regions.c.code, regions.c.name, regions.c.population, regions.c.geometry)
        .select_from(regions.join(region_paths, region_paths.c.code == regions.c.code))
        .where(_regions_in_scope(scope), regions.c.level == level, regions.c.geometry.is_not(None))
        .order_by(regions.c.code)
    )
    return run(conn, stmt, max_rows=250_000)


# ---------------------------------------------------------- indicators ---

def kpis(conn, scope: Scope, period: Period, as_of: dt.datetime) -> pd.Series:
    """The headline indicators of the scope: every count and rate, plus per_10k.

    Counts are ints; rates are floats, or None when their denominator is 0.
    """
    df = run(conn, select(*ind.measures(facts, as_of)).where(_where(scope, period, as_of)))
    raw = df.iloc[0]
    row = pd.Series(
        {**{k: int(raw[k]) for k in (*ind.COUNT_KEYS, "valid")}, **{k: _rate(raw[k]) for k in ind.RATE_KEYS}},
        dtype=object,
    )
    population = scope_population(conn, scope)
    row["population"] = population
    row["per_10k"] = (row["valid"] * 10000.0 / population) if population else None
    return row


def _rate(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def children(conn, scope: Scope, period: Period, as_of: dt.datetime, level: str) -> pd.DataFrame:
    """Every region at ``level`` inside the scope, with its indicators (zero when no appeals)."""
    path = facts.c[PATH_COLUMNS[level]]
    agg = (
        select(path.label("code"), *ind.measures(facts, as_of))
        .where(_where(scope, period, as_of), path.is_not(None))
        .group_by(path)
        .subquery("agg")
    )
    counts = [func.coalesce(agg.c[k], 0).label(k) for k in (*ind.COUNT_KEYS, "valid")]
    rates = [agg.c[k] for k in ind.RATE_KEYS]
    parent = regions.alias("parent")
    stmt = (
        select(
            regions.c.code, regions.c.name, parent.c.name.label("parent_name"), regions.c.population, *counts, *rates,
            ind.per_10k(func.coalesce(agg.c.valid, 0), regions.c.population).label("per_10k"),
        )
        .select_from(
            regions.join(region_paths, region_paths.c.code == regions.c.code)
            .outerjoin(parent, parent.c.code == regions.c.parent_code)
            .outerjoin(agg, agg.c.code == regions.c.code)
        )
        .where(_regions_in_scope(scope), regions.c.level == level)
        .order_by(regions.c.code)
    )
    return run(conn, stmt, max_rows=250_000)


# -------------------------------------------------------------- charts ---

def daily_trend(conn, scope: Scope, period: Period, as_of: dt.datetime) -> pd.DataFrame:
    """Per day of the period: appeals received that day, and appeals closed that day."""
    if period.start is None or period.end is None:
        raise ValueError("a daily trend needs a bounded period")
    received = (
        select(day_of(facts.c.created_at).label("day"), func.count().label("received"),
               literal(0).label("closed"))
        .where(_where(scope, period, as_of))
        .group_by(day_of(facts.c.created_at))
    )
    closed = (
        select(day_of(facts.c.closed_at).label("day"), literal(0).label("received"), func.count().label("closed"))
        .where(_in_scope(scope), ind.closed_within(facts, period.start, period.end, as_of))
        .group_by(day_of(facts.c.closed_at))
    )
    both = received.union_all(closed).subquery("both")
    stmt = (
        select(both.c.day, func.sum(both.c.received).label("received"), func.sum(both.c.closed).label("closed"))
        .group_by(both.c.day)
        .order_by(both.c.day)
    )
    df = run(conn, stmt)
    days = pd.date_range(period.start.date(), (min(period.end, as_of + dt.timedelta(microseconds=1))
                                                - dt.timedelta(microseconds=1)).date(), freq="D")
    df["day"] = pd.to_datetime(df["day"])
    out = pd.DataFrame({"day": days}).merge(df, on="day", how="left").fillna({"received": 0, "closed": 0})
    return out.astype({"received": "int64", "closed": "int64"})


def category_counts(conn, scope: Scope, period: Period, as_of: dt.datetime, limit: int = 10) -> pd.DataFrame:
    """The categories with the most appeals received in the period."""
    stmt = (
        select(facts.c.category, func.count().label("received"))
        .where(_where(scope, period, as_of))
        .group_by(facts.c.category)
        .order_by(func.count().desc(), facts.c.category)
        .limit(limit)
    )
    return run(conn, stmt)


def channel_counts(conn, scope: Scope, period: Period, as_of: dt.datetime) -> pd.DataFrame:
    stmt = (
        select(facts.c.channel, func.count().label("received"))
        .where(_where(scope, period, as_of))
        .group_by(facts.c.channel)
        .order_by(func.count().desc(), facts.c.channel)
    )
    return run(conn, stmt)


def heat_bins(conn, scope: Scope, period: Period, as_of: dt.datetime, cell_deg: float) -> pd.DataFrame:
    """Appeals with a location, counted per square cell of ``cell_deg`` degrees (cell centres)."""
    step = literal(float(cell_deg))
    bx, by = floor_div(facts.c.lon, step), floor_div(facts.c.lat, step)
    stmt = (
        select(bx.label("bx"), by.label("by"), func.count().label("count"))
        .where(_where(scope, period, as_of), facts.c.lon.is_not(None), facts.c.lat.is_not(None))
        .group_by(bx, by)
    )
    df = run(conn, stmt, max_rows=200_000)
    df["lon"] = (df.pop("bx") + 0.5) * cell_deg
    df["lat"] = (df.pop("by") + 0.5) * cell_deg
    return df[["lon", "lat", "count"]]


# --------------------------------------------------------------- lists ---

def newest_overdue(conn, scope: Scope, as_of: dt.datetime, limit: int = 20, *, rules=None) -> pd.DataFrame:
    """Open appeals past their deadline at ``as_of``, the most recently overdue first, with how late each is
    in its basis under ``rules`` (``deadlines.with_overdue``: ``overdue_hours``, the text ``overdue``, …).

    No personal data: no name, phone, address or summary.
    """
    street = regions.alias("street")
    dept = departments.alias("dept")
    stmt = (
        select(
            facts.c.appeal_id, facts.c.created_at, facts.c.deadline_at, facts.c.category, facts.c.subcategory,
            facts.c.urgency, facts.c.status, facts.c.closed_at, facts.c.paused_since, facts.c.channel,
            street.c.name.label("street"), dept.c.name.label("department"),
        )
        .select_from(
            facts.outerjoin(street, street.c.code == facts.c.street_code)
            .outerjoin(dept, dept.c.code == facts.c.department_code)
        )
        .where(_in_scope(scope), facts.c.created_at <= as_of, ind.overdue_at_t(facts, literal(as_of)))
        .order_by(facts.c.deadline_at.desc(), facts.c.appeal_id)
        .limit(limit)
    )
    return deadlines.with_overdue(run(conn, stmt), as_of, rules=rules)


def data_range(conn, scope: Scope) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The first and last creation times in the scope (None, None when empty)."""
    df = run(conn, select(func.min(facts.c.created_at).label("first"), func.max(facts.c.created_at).label("last"))
             .where(_in_scope(scope)))
    first, last = df["first"].iloc[0], df["last"].iloc[0]
    return (None if pd.isna(first) else pd.Timestamp(first).to_pydatetime(),
            None if pd.isna(last) else pd.Timestamp(last).to_pydatetime())



def grid_worker(conn, grid_code: str) -> pd.DataFrame:
    """The grid worker(s) of a grid: code, name, phone."""
    w = grid_workers
    return run(conn, select(w.c.code, w.c.name, w.c.phone).where(w.c.grid_code == grid_code).order_by(w.c.code))


def ancestors(conn, code: str) -> pd.DataFrame:
    """The region and every region above it (code, name, level), coarsest first."""
    path = select(*[region_paths.c[col].label(level) for level, col in PATH_COLUMNS.items()]).where(
        region_paths.c.code == code).subquery("path")
    codes = [path.c[level] for level in PATH_COLUMNS]
    stmt = (
        select(regions.c.code, regions.c.name, regions.c.level)
        .select_from(regions.join(path, regions.c.code.in_(codes)))
    )
    df = run(conn, stmt)
    order = {level: i for i, level in enumerate(PATH_COLUMNS)}
    return df.sort_values("level", key=lambda s: s.map(order)).reset_index(drop=True)


def department_stats(conn, scope: Scope, period: Period, as_of: dt.datetime, limit: int = 30) -> pd.DataFrame:
    """The departments that handled the scope's appeals received in the period, with their indicators."""
    keys = ("received", "closed", "overdue_open", "valid", "completion_rate", "on_time_rate", "satisfaction_rate")
    agg = (
        select(facts.c.department_code.label("code"), *ind.measures(facts, as_of, keys))
        .where(_where(scope, period, as_of), facts.c.department_code.is_not(None))
        .group_by(facts.c.department_code)
        .subquery("agg")
    )
    stmt = (
        select(agg.c.code, func.coalesce(departments.c.name, agg.c.code).label("name"), departments.c.level,
               departments.c.region_code, *[agg.c[k] for k in keys if k != "valid"])
        .select_from(agg.outerjoin(departments, departments.c.code == agg.c.code))
        .order_by(agg.c.received.desc(), agg.c.code)
        .limit(limit)
    )
    return run(conn, stmt)


def appeal_points(conn, scope: Scope, period: Period, as_of: dt.datetime, limit: int = 5000) -> pd.DataFrame:
    """Located appeals of the scope received in the period (a grid's points): no personal data.

    ``state`` at ``as_of``: overdue (超期), due_soon (临期), open (other open ones), closed or cancelled.
    """
    overdue = ind.overdue_at_t(facts, literal(as_of))
    due_soon = ind.due_soon_at_t(facts, literal(as_of))
    open_ = ind.open_at_t(facts, literal(as_of))
    state = case((overdue, "overdue"), (due_soon, "due_soon"), (open_, "open"), else_=facts.c.status)
    stmt = (
        select(facts.c.appeal_id, facts.c.lon, facts.c.lat, facts.c.category, facts.c.subcategory,
               facts.c.created_at, state.label("state"))
        .where(_where(scope, period, as_of), facts.c.lon.is_not(None), facts.c.lat.is_not(None))
        .order_by(facts.c.created_at.desc())
        .limit(limit)
    )
    return run(conn, stmt)


def recent_appeals(conn, scope: Scope, period: Period, as_of: dt.datetime, *, channel: str | None = None,
                   limit: int = 10) -> pd.DataFrame:
    """The newest appeals of the scope in the period (e.g. a grid worker's patrol reports): no personal data."""
    stmt = (
        select(facts.c.appeal_id, facts.c.created_at, facts.c.category, facts.c.subcategory, facts.c.summary,
               facts.c.status, facts.c.closed_at)
        .where(_where(scope, period, as_of), *([facts.c.channel == channel] if channel else []))
        .order_by(facts.c.created_at.desc(), facts.c.appeal_id)
        .limit(limit)
    )
    return run(conn, stmt)
