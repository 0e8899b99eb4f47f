"""红黑榜: streets, or departments (承办单位), ranked by the 三率 and a weighted composite, with their movement.

``league(conn, scope, period, as_of, unit, weights)`` is a query function like
those of ``queries``: the counts and rates of every unit are aggregated in SQL
(``indicators.measures``, the one definition of each rate) over the scope's
appeals received in the period; the composite, the ranks and the comparison
with the previous period (环比, ``compare.previous_period``) are computed on
that small table. The rules are those of docs/metrics.md ("红黑榜"):

* **composite** = the weighted mean of the unit's 办结率, 按时办结率 and 满意率
  that are defined; a rate without a denominator (no rated appeal: 满意率 "—")
  leaves the mean, and the weights of the others are scaled up to add to 1. No
  defined rate with a weight above 0: no composite.
* **ranked** when the unit has at least ``weights.min_appeals`` valid appeals
  (received − cancelled) and a composite; the others are listed apart
  (``reason`` "too_few" or "no_rate").
* **rank**: competition ranking (1, 2, 2, 4) of the composite as shown, in
  points with one decimal (``score``): equal shown scores share a rank.
* **movement**: the previous period judged at the same distance from its end,
  with the same weights. ``rank_change`` (earlier rank − rank: positive moved
  up) and ``composite_change`` only when the unit is ranked in both periods;
  otherwise None, as when there is no previous period (an open-ended period)
  or the data do not cover it.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import case, func, select

from . import indicators as ind
from . import queries
from .analytics import PATH_COLUMNS, departments, facts, region_paths, regions
from .compare import previous_period
from .ranking_weights import RATES, Weights
from .runner import run
from .scope import Period, Scope

UNITS = ("street", "department")
COUNTS = ("received", "valid", "closed", "due", "rated")  # valid, due, rated: the three rates' denominators
COLUMNS = ("code", "name", "district", "region_code", "level", *COUNTS, *RATES, "composite", "ranked", "reason",
           "rank", "previous_composite", "previous_rank", "composite_change", "rank_change")


def score(composite) -> float | None:
    """A composite (a fraction) as the score shown and ranked: points out of 100, one decimal."""
    if composite is None or pd.isna(composite):
        return None
    return round(100.0 * float(composite), 1)


# -------------------------------------------------------------- figures ---

def _aggregate(key, scope: Scope, period: Period, as_of: dt.datetime):
    """Per value of ``key``: the counts and the three rates of the scope's cohort."""
    sets = ind.conditions(facts, as_of)
    return (
        select(key.label("code"), *ind.measures(facts, as_of, ("received", "valid", "closed", *RATES)),
               *(func.count(case((sets[name], 1))).label(name) for name in ("due", "rated")))
        .where(queries.scope_filter(scope), ind.cohort(facts, period.start, period.end, as_of), key.is_not(None))
        .group_by(key)
        .subquery("agg")
    )


def unit_figures(conn, scope: Scope, period: Period, as_of: dt.datetime, unit: str) -> pd.DataFrame:
    """Every unit of the scope with its counts and rates: ``code``, ``name``, ``district`` (the name of the
    unit's district; a unit above district level: its own region's name), ``region_code`` (where the unit
    sits), ``level``, ``COUNTS`` and ``RATES``.

    Streets: every street inside the scope, those without appeals with zero counts. Departments: every
    department that handled at least one of the scope's appeals received in the period.
    """
    district = regions.alias("district")
    if unit == "street":
        agg = _aggregate(facts.c[PATH_COLUMNS["street"]], scope, period, as_of)
        parent = regions.alias("parent")
        stmt = (
            select(regions.c.code, regions.c.name, func.coalesce(district.c.name, parent.c.name).label("district"),
                   regions.c.code.label("region_code"), regions.c.level,
                   *(func.coalesce(agg.c[k], 0).label(k) for k in COUNTS), *(agg.c[k] for k in RATES))
            .select_from(
                regions.join(region_paths, region_paths.c.code == regions.c.code)
                .outerjoin(district, district.c.code == region_paths.c[PATH_COLUMNS["district"]])
                .outerjoin(parent, parent.c.code == regions.c.parent_code)
                .outerjoin(agg, agg.c.code == regions.c.code))
            .where(queries._regions_in_scope(scope), regions.c.level == "street")
            .order_by(regions.c.code)
        )
    elif unit == "department":
        agg = _aggregate(facts.c.department_code, scope, period, as_of)
        place = region_paths.alias("place")
        own = regions.alias("own")
        stmt = (
            select(agg.c.code, func.coalesce(departments.c.name, agg.c.code).label("name"),
                   func.coalesce(district.c.name, own.c.name).label("district"),
                   departments.c.region_code, departments.c.level,
                   *(agg.c[k] for k in COUNTS), *(agg.c[k] for k in RATES))
            .select_from(
                agg.outerjoin(departments, departments.c.code == agg.c.code)
                .outerjoin(place, place.c.code == departments.c.region_code)
                .outerjoin(district, district.c.code == place.c[PATH_COLUMNS["district"]])
                .outerjoin(own, own.c.code == departments.c.region_code))
            .order_by(agg.c.code)
        )
    else:
        raise ValueError(f"unit must be one of {', '.join(UNITS)}, not {unit!r}")
    df = run(conn, stmt, max_rows=250_000)
    for k in COUNTS:
        df[k] = df[k].astype("int64")
    for k in RATES:
        df[k] = pd.to_numeric(df[k], errors="coerce").astype("float64")
    return df


# ---------------------------------------------------------------- ranks ---

def composite(figures: pd.DataFrame, weights: Weights) -> pd.Series:
    """The weighted mean of each row's defined rates (their weights scaled up to add to 1); NaN without any."""
    total = pd.Series(0.0, index=figures.index)
    weight = pd.Series(0.0, index=figures.index)
    for rate in RATES:
        w = weights.of(rate)
        known = figures[rate].notna()
        total = total + (figures[rate].fillna(0.0) * w).where(known, 0.0)
        weight = weight + known.astype(float) * w
    return (total / weight.where(weight > 0)).astype("float64")


def ranked(figures: pd.DataFrame, weights: Weights) -> pd.DataFrame:
    """``figures`` with ``composite``, ``ranked``, ``reason`` (None, "too_few", "no_rate") and ``rank``
    (competition ranking of ``score``; None for a unit not ranked)."""
    out = figures.copy()
    out["composite"] = composite(out, weights)
    too_few = out["valid"] < weights.min_appeals
    no_rate = out["composite"].isna()
    out["ranked"] = ~too_few & ~no_rate
    out["reason"] = _objects([("too_few" if few else "no_rate" if none else None)
                              for few, none in zip(too_few, no_rate)], out.index)
    shown = out["composite"].map(score).astype("float64")
    ranks = shown.where(out["ranked"]).rank(method="min", ascending=False)
    out["rank"] = _objects([None if pd.isna(r) else int(r) for r in ranks], out.index)
    return out


def _objects(values, index) -> pd.Series:
    """Python values (ints, strings) and None, kept as they are (not floats and NaN)."""
    return pd.Series(values, index=index, dtype=object)


def league(conn, scope: Scope, period: Period, as_of: dt.datetime, unit: str, weights: Weights) -> pd.DataFrame:
    """The 红黑榜 of the scope's streets or departments (``unit``) for the period judged at ``as_of``.

    Columns ``COLUMNS``; the ranked units first, by rank (then code), then the others, the most appeals first.
    ``attrs``: ``previous`` (the earlier period and the moment it is judged at, or None when there is no
    comparison) and ``weights``.
    """
    now = ranked(unit_figures(conn, scope, period, as_of, unit), weights)
    earlier = previous_period(period, as_of)
    if earlier is not None:
        first, _ = queries.data_range(conn, Scope.whole())
        if first is None or first > earlier[0].start:
            earlier = None  # the data begin after the previous period starts: its figures would be partial
    before = None
    if earlier is not None:
        before = ranked(unit_figures(conn, scope, earlier[0], earlier[1], unit), weights).set_index("code")
    if before is None:
        now["previous_composite"] = float("nan")
        now["previous_rank"] = _objects([None] * len(now), now.index)
    else:
        now["previous_composite"] = now["code"].map(before["composite"]).astype("float64")
        now["previous_rank"] = _objects([None if pd.isna(r) else int(r) for r in now["code"].map(before["rank"])],
                                        now.index)
    both = now["ranked"] & now["previous_rank"].notna()
    now["composite_change"] = (now["composite"] - now["previous_composite"]).where(both).astype("float64")
    now["rank_change"] = _objects([int(p) - int(r) if ok else None
                                   for p, r, ok in zip(now["previous_rank"], now["rank"], both)], now.index)
    order = now.assign(_ranked=~now["ranked"], _rank=now["rank"].astype("float64"), _valid=-now["valid"])
    order = order.sort_values(["_ranked", "_rank", "_valid", "code"], kind="stable")
    out = now.loc[order.index, list(COLUMNS)].reset_index(drop=True)
    out.attrs["previous"] = earlier
    out.attrs["weights"] = weights
    return out


def red_black(table: pd.DataFrame, n: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The 红榜 (best) and 黑榜 (worst) of a ``league``: each at most ``k`` places deep, where ``k`` is ``n``
    or half the ranked units if fewer (rounded down), so that no unit is on both.

    红榜: the units ranked 1 to k (a tie at place k brings every unit that shares it). 黑榜: the units with
    fewer than k ranked units below them, the worst first, less any already on the 红榜 (when every unit ties).
    """
    league_ = table[table["ranked"]]
    k = min(int(n), len(league_) // 2)
    if k < 1:
        return league_.iloc[0:0], league_.iloc[0:0]
    ranks = league_["rank"].astype("float64")
    red = league_[ranks <= k]
    from_bottom = league_["composite"].map(score).astype("float64").rank(method="min", ascending=True)
    black = league_[(from_bottom <= k) & ~(ranks <= k)]
    black = black.assign(_bottom=from_bottom[black.index]).sort_values(["_bottom", "code"], kind="stable")
    return red, black.drop(columns="_bottom")
