"""Two periods side by side for one scope (两期对比): the appeals received in period A and in period B, per
category or per region of a level below the scope, with the change.

Each period is judged at its own as-of time (``compare.previous_period`` and ``compare.year_earlier`` say which
one a 环比 or a 同比 uses). Counts are of the period's cohort (``indicators.cohort``): what ``kpis`` counts as
``received``, so the rows of a list add up to the period's 受理量.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import case, func, null, or_, select

from . import indicators as ind
from .analytics import PATH_COLUMNS, facts, region_paths, regions
from .queries import scope_filter
from .runner import run
from .scope import LEVELS, Period, Scope

GROUPS = ("category", *LEVELS)


def counts_by(conn, scope: Scope, a: Period, a_as_of: dt.datetime, b: Period, b_as_of: dt.datetime,
              by: str) -> pd.DataFrame:
    """Appeals received in A and in B, per ``by``: ``category``, or a level below the scope (every region of
    that level inside the scope, also those with no appeal in either period).

    Columns ``key`` (the category, or the region's code), ``name``, ``parent_name`` (a region's parent; None
    for a category), ``a``, ``b`` and ``change`` (``a - b``), the largest change (up or down) first, then the
    most appeals in A, then the key.
    """
    if by not in GROUPS:
        raise ValueError(f"unknown grouping {by!r}; expected one of {', '.join(GROUPS)}")
    if by != "category" and not scope.is_whole and LEVELS.index(by) <= LEVELS.index(scope.level):
        raise ValueError(f"level {by!r} is not below the scope's level {scope.level!r}")
    in_a = ind.cohort(facts, a.start, a.end, a_as_of)
    in_b = ind.cohort(facts, b.start, b.end, b_as_of)
    key = facts.c.category if by == "category" else facts.c[PATH_COLUMNS[by]]
    agg = (
        select(key.label("key"),
               func.sum(case((in_a, 1), else_=0)).label("a"),
               func.sum(case((in_b, 1), else_=0)).label("b"))
        .where(scope_filter(scope), or_(in_a, in_b), key.is_not(None))
        .group_by(key)
        .subquery("agg")
    )
    if by == "category":
        a_count, b_count = agg.c.a, agg.c.b
        stmt = select(agg.c.key, agg.c.key.label("name"), null().label("parent_name"),
                      a_count.label("a"), b_count.label("b"), (a_count - b_count).label("change"))
    else:
        a_count, b_count = func.coalesce(agg.c.a, 0), func.coalesce(agg.c.b, 0)
        parent = regions.alias("parent")
        inside = region_paths.c[PATH_COLUMNS[scope.level]] == scope.code if not scope.is_whole else None
        stmt = (
            select(regions.c.code.label("key"), regions.c.name, parent.c.name.label("parent_name"),
                   a_count.label("a"), b_count.label("b"), (a_count - b_count).label("change"))
            .select_from(regions.join(region_paths, region_paths.c.code == regions.c.code)
                         .outerjoin(parent, parent.c.code == regions.c.parent_code)
                         .outerjoin(agg, agg.c.key == regions.c.code))
            .where(regions.c.level == by)
        )
        if inside is not None:
            stmt = stmt.where(inside)
    stmt = stmt.order_by(func.abs(a_count - b_count).desc(), a_count.desc(), stmt.selected_columns.key)
    df = run(conn, stmt, max_rows=250_000)
    return df.astype({"a": "int64", "b": "int64", "change": "int64"})
