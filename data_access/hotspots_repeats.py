"""Repeat appeals (重复诉求): chains of appeals about the same place and category.

Part of ``data_access.hotspots`` (import from there); docs/hotspots.md has the
exact rule and its limits. The SQL targets the analytics store (DuckDB:
window functions and an ordered list aggregate).
"""

from __future__ import annotations

import datetime as dt
import hashlib

import pandas as pd
from sqlalchemy import String, and_, case, cast, func, literal, not_, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement, FunctionElement

from . import indicators as ind
from .analytics import facts, regions
from .queries import _where
from .runner import run
from .scope import Period, Scope
from .sqlfuncs import floor_div, seconds_between

# metres per degree of latitude (and of longitude at the equator) on the WGS84 sphere of radius 6 378 137 m
M_PER_DEG = 111_319.49


class _ordered_list(FunctionElement):
    """``list(value ORDER BY a, b)``: the values of a group as a list, in order (DuckDB; PostgreSQL array)."""

    inherit_cache = True
    name = "ordered_list"


@compiles(_ordered_list)
def _ordered_list_duckdb(element, compiler, **kw):
    value, *order = [compiler.process(c, **kw) for c in element.clauses]
    return "list(%s ORDER BY %s)" % (value, ", ".join(order))


@compiles(_ordered_list, "postgresql")
def _ordered_list_pg(element, compiler, **kw):
    value, *order = [compiler.process(c, **kw) for c in element.clauses]
    return "array_agg(%s ORDER BY %s)" % (value, ", ".join(order))


REPEAT_COLUMNS = ["cluster_id", "region_code", "grid_name", "place", "place_kind", "category", "count",
                  "first_at", "last_at", "span_days", "addresses", "appeal_ids"]
CLUSTER_APPEAL_COLUMNS = ["appeal_id", "created_at", "channel", "subcategory", "status", "is_repeat"]


def _not_cancelled(as_of: dt.datetime) -> ColumnElement:
    return not_(ind.cancelled_at_t(facts, literal(as_of)))


def _place_key(radius_m: float) -> tuple[ColumnElement, ColumnElement]:
    """The place of an appeal as one string, and its kind ('point' or 'address').

    A point's place is its square cell of ``radius_m`` metres: ``x = lon ·
    111 319.49 · cos(band)`` and ``y = lat · 111 319.49`` metres, where
    ``band = floor(lat) + 0.5`` (one fixed scale per whole degree of latitude,
    so cells are true rectangles in lon/lat), and the cell is
    ``(floor(x / radius_m), floor(y / radius_m))``. An appeal without a point
    but with a non-empty (trimmed) address is placed by that address.
    """
    f = facts.c
    band = func.floor(f.lat) + 0.5
    x = f.lon * M_PER_DEG * func.cos(func.radians(band))
    y = f.lat * M_PER_DEG
    step = literal(float(radius_m))
    has_point = and_(f.lon.is_not(None), f.lat.is_not(None))
    key = case(
        (has_point, literal("p:") + cast(floor_div(x, step), String()) + literal(":")
         + cast(floor_div(y, step), String())),
        else_=literal("a:") + func.trim(f.address),
    )
    kind = case((has_point, literal("point")), else_=literal("address"))
    return key, kind


def _placed(scope: Scope, period: Period, as_of: dt.datetime, radius_m: float, *extra: ColumnElement):
    """The cohort's appeals that have a place, with their place key (a subquery)."""
    f = facts.c
    key, kind = _place_key(radius_m)
    has_place = or_(and_(f.lon.is_not(None), f.lat.is_not(None)),
                    and_(f.address.is_not(None), func.trim(f.address) != ""))
    return (
        select(f.appeal_id, f.region_code, f.category, f.created_at, f.address, key.label("place_key"),
               kind.label("place_kind"))
        .where(_where(scope, period, as_of), _not_cancelled(as_of), f.region_code.is_not(None), has_place, *extra)
        .subquery("placed")
    )


def _chains(placed, window_days: float):
    """Each appeal with ``is_first`` (it starts a chain) and ``chain`` (the chain's number in its place)."""
    key = [placed.c.region_code, placed.c.category, placed.c.place_key]
    order = [placed.c.created_at, placed.c.appeal_id]
    prev = func.lag(placed.c.created_at).over(partition_by=key, order_by=order)
    gap_limit = float(window_days) * 86400.0
    starts = select(
        *placed.c,
        case((or_(prev.is_(None), seconds_between(prev, placed.c.created_at) > gap_limit), 1), else_=0)
        .label("is_first"),
    ).subquery("starts")
    s = starts.c
    chain = func.sum(s.is_first).over(partition_by=[s.region_code, s.category, s.place_key],
                                      order_by=[s.created_at, s.appeal_id], rows=(None, 0))
    return select(*starts.c, chain.label("chain")).cte("chains")


def _digest(region_code: str, category: str, place_key: str) -> str:
    text = "\x1f".join((region_code, category, place_key))
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]


def _cluster_id(first_id: str, region_code: str, category: str, place_key: str) -> str:
    return f"{first_id}#{_digest(region_code, category, place_key)}"


def repeat_clusters(conn, scope: Scope, period: Period, as_of: dt.datetime, *, window_days: float = 30,
                    radius_m: float = 150, min_size: int = 3, limit: int | None = 100) -> pd.DataFrame:
    """Clusters of repeat appeals (重复诉求): the same place and category, chained within ``window_days``.

    The appeals considered are the cohort (received in the period, no later
    than ``as_of``, in the scope) that are not cancelled at ``as_of`` and have
    a grid and a place. Two appeals are at the **same place** when they are in
    the same grid (``region_code``) and either both have a point in the same
    square cell of ``radius_m`` metres, or both lack a point and have the same
    non-empty address (see ``_place_key``). Within a place and category,
    appeals in time order form a **chain**: each follows the previous one
    within ``window_days`` (a longer gap starts a new chain). Chains of at
    least ``min_size`` appeals are returned, the largest first (then the most
    recent), at most ``limit`` (None: all).

    Columns:

    * ``cluster_id`` – stable id, ``"<first appeal id>#<8 hex digits>"`` (the
      digest of grid, category and place); pass it to ``cluster_appeals``.
      It stays the same while the chain grows.
    * ``region_code``, ``grid_name`` – the grid and its name.
    * ``place`` – the cluster's most common address when at least half of its
      appeals carry it, else the grid name (a 150 m cell of a dense estate
      holds many addresses; naming one of them would mislead). Exact
      addresses are personal data: show ``grid_name`` on public screens.
    * ``place_kind`` – ``"point"`` (clustered by location) or ``"address"``.
    * ``category`` – the appeals' category.
    * ``count`` – appeals in the cluster.
    * ``first_at``, ``last_at`` – creation times of the first and last.
    * ``span_days`` – days from the first to the last (float).
    * ``addresses`` – distinct non-empty addresses in the cluster.
    * ``appeal_ids`` – the appeal ids in time order (a list).
    """
    if window_days <= 0 or radius_m <= 0:
        raise ValueError("window_days and radius_m must be positive")
    chains = _chains(_placed(scope, period, as_of, radius_m), window_days)
    c = chains.c
    key = [c.region_code, c.category, c.place_key, c.chain]
    top = (
        select(*key, func.min(c.place_kind).label("place_kind"), func.count().label("count"),
               func.min(c.created_at).label("first_at"), func.max(c.created_at).label("last_at"),
               func.max(case((c.is_first == 1, c.appeal_id))).label("first_id"))
        .group_by(*key)
        .having(func.count() >= int(min_size))
        .order_by(func.count().desc(), func.max(c.created_at).desc(), func.max(case((c.is_first == 1, c.appeal_id))))
    )
    if limit is not None:
        top = top.limit(int(limit))
    top = top.cte("top")
    k = top.c
    same = and_(c.region_code == k.region_code, c.category == k.category, c.place_key == k.place_key,
                c.chain == k.chain)
    tkey = [k.region_code, k.category, k.place_key, k.chain]
    members = (
        select(*tkey, _ordered_list(c.appeal_id, c.created_at, c.appeal_id).label("appeal_ids"),
               func.count(func.distinct(func.nullif(func.trim(c.address), ""))).label("addresses"))
        .select_from(top.join(chains, same))
        .group_by(*tkey)
        .subquery("members")
    )
    address = func.trim(c.address)
    addr = (
        select(*tkey, address.label("address"), func.count().label("n"),
               func.row_number().over(partition_by=tkey, order_by=[func.count().desc(), address]).label("rank"))
        .select_from(top.join(chains, same))
        .where(c.address.is_not(None), address != "")
        .group_by(*tkey, address)
        .subquery("addr")
    )
    mem, ad = members.c, addr.c
    stmt = (
        select(k.region_code, regions.c.name.label("grid_name"), ad.address, ad.n.label("address_n"), k.place_kind,
               k.category, k.place_key, k.count, k.first_at, k.last_at, k.first_id, mem.appeal_ids, mem.addresses)
        .select_from(
            top.join(members, and_(mem.region_code == k.region_code, mem.category == k.category,
                                   mem.place_key == k.place_key, mem.chain == k.chain))
            .outerjoin(regions, regions.c.code == k.region_code)
            .outerjoin(addr, and_(ad.region_code == k.region_code, ad.category == k.category,
                                  ad.place_key == k.place_key, ad.chain == k.chain, ad.rank == 1))
        )
        .order_by(k.count.desc(), k.last_at.desc(), k.first_id)
    )
    df = run(conn, stmt)
    return _finish_clusters(df)


def _finish_clusters(df: pd.DataFrame) -> pd.DataFrame:
    if df.empty:
        return pd.DataFrame({col: pd.Series(dtype=object) for col in REPEAT_COLUMNS})
    out = pd.DataFrame({
        "cluster_id": [_cluster_id(f, r, c, p) for f, r, c, p in
                       zip(df["first_id"], df["region_code"], df["category"], df["place_key"])],
        "region_code": df["region_code"],
        "grid_name": df["grid_name"],
        "place": [a if isinstance(a, str) and a.strip() and 2 * int(an) >= int(n) else (g if isinstance(g, str) else r)
                  for a, an, n, g, r in zip(df["address"], df["address_n"].fillna(0), df["count"], df["grid_name"],
                                            df["region_code"])],
        "place_kind": df["place_kind"],
        "category": df["category"],
        "count": df["count"].astype("int64"),
        "first_at": pd.to_datetime(df["first_at"]),
        "last_at": pd.to_datetime(df["last_at"]),
    })
    out["span_days"] = (out["last_at"] - out["first_at"]).dt.total_seconds() / 86400.0
    out["addresses"] = df["addresses"].fillna(0).astype("int64")
    out["appeal_ids"] = [list(v) for v in df["appeal_ids"]]
    return out[REPEAT_COLUMNS].reset_index(drop=True)


def cluster_appeals(conn, scope: Scope, period: Period, as_of: dt.datetime, cluster_id: str, *,
                    window_days: float = 30, radius_m: float = 150) -> pd.DataFrame:
    """The appeals of one cluster from ``repeat_clusters`` (same scope, period, as-of and parameters).

    Columns: ``appeal_id``, ``created_at``, ``channel``, ``subcategory``,
    ``status``, ``is_repeat`` (the source's own flag), in time order; no
    personal data. Empty when the id is unknown or the cluster has changed
    place (e.g. other parameters).
    """
    first_id, sep, digest = str(cluster_id).rpartition("#")
    empty = pd.DataFrame({col: pd.Series(dtype=object) for col in CLUSTER_APPEAL_COLUMNS})
    if not sep or not first_id:
        return empty
    key, _ = _place_key(radius_m)
    f = facts.c
    head = run(conn, select(f.region_code, f.category, key.label("place_key"))
               .where(f.appeal_id == first_id, f.region_code.is_not(None)))
    if head.empty:
        return empty
    region_code, category, place_key = (str(head.iloc[0][k]) for k in ("region_code", "category", "place_key"))
    if _digest(region_code, category, place_key) != digest:
        return empty
    placed = _placed(scope, period, as_of, radius_m, f.region_code == region_code, f.category == category,
                     key == place_key)
    chains = _chains(placed, window_days)
    c = chains.c
    target = select(c.chain).where(c.appeal_id == first_id, c.is_first == 1).scalar_subquery()
    stmt = (
        select(f.appeal_id, f.created_at, f.channel, f.subcategory, f.status, f.is_repeat)
        .select_from(chains.join(facts, facts.c.appeal_id == c.appeal_id))
        .where(c.chain == target)
        .order_by(f.created_at, f.appeal_id)
    )
    df = run(conn, stmt)
    return df[CLUSTER_APPEAL_COLUMNS] if not df.empty else empty
