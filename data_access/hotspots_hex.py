"""Hexagon bins of appeal points for the hotspot map, counted in SQL.

Part of ``data_access.hotspots`` (import from there); the grid's geometry,
the cell size for a view and the pydeck layer are in ``geo.hexbins``.
"""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
from sqlalchemy import and_, case, func, literal, select

from .analytics import facts, region_paths, regions
from .queries import _regions_in_scope, _where
from .runner import run
from .scope import Period, Scope
from .sqlfuncs import floor_div

def hex_mid_lat(conn, scope: Scope) -> float:
    """The reference latitude of the scope's hexagon grid: the middle of its regions' centroids, to 0.1°.

    Rounded so that the grid (and cached bins) stay put while data change.
    """
    r = regions.c
    stmt = (select(func.min(r.centroid_lat).label("lo"), func.max(r.centroid_lat).label("hi"))
            .select_from(regions.join(region_paths, region_paths.c.code == r.code))
            .where(_regions_in_scope(scope)))
    row = run(conn, stmt).iloc[0]
    if pd.isna(row["lo"]) or pd.isna(row["hi"]):
        return 0.0
    return round((float(row["lo"]) + float(row["hi"])) / 2.0, 1)


def hex_bins(conn, scope: Scope, period: Period, as_of: dt.datetime, cell_deg: float, *,
             mid_lat: float | None = None) -> pd.DataFrame:
    """Appeals with a location counted per pointy-top hexagon (cancelled ones included, like ``heat_bins``).

    The hexagons tile the equirectangular plane ``x = lon · cos(mid_lat)``,
    ``y = lat``; ``cell_deg`` is their circumradius in degrees of latitude
    (``geo.hexbins.cell_for`` picks it for a view); ``mid_lat`` defaults to
    ``hex_mid_lat(conn, scope)``, and the map layer must be drawn with the
    same value. Each point goes to the hexagon whose centre is nearest:
    fractional axial coordinates ``q = (√3/3 · x − y/3) / s``, ``r = 2/3 · y / s``
    are cube-rounded in SQL.

    Columns: ``q``, ``r`` (axial coordinates, int), ``lon``, ``lat`` (the
    hexagon's centre), ``count`` (appeals). ``df.attrs`` holds ``cell_deg``
    and ``mid_lat``.
    """
    from geo.hexbins import centres, lon_scale

    if cell_deg <= 0:
        raise ValueError("cell_deg must be positive")
    if mid_lat is None:
        mid_lat = hex_mid_lat(conn, scope)
    k = lon_scale(mid_lat)
    s = float(cell_deg)
    f = facts.c
    x = f.lon * k
    y = f.lat
    frac = (
        select(((x * (math.sqrt(3.0) / 3.0) - y / 3.0) / s).label("qf"), (y * (2.0 / 3.0) / s).label("rf"))
        .where(_where(scope, period, as_of), f.lon.is_not(None), f.lat.is_not(None))
        .subquery("frac")
    )
    one = literal(1.0)
    yf = -frac.c.qf - frac.c.rf
    rounded = select(
        frac.c.qf, frac.c.rf, yf.label("yf"),
        floor_div(frac.c.qf + 0.5, one).label("rq"), floor_div(frac.c.rf + 0.5, one).label("rr"),
        floor_div(yf + 0.5, one).label("ry"),
    ).subquery("rounded")
    c = rounded.c
    dq, dr, dy = func.abs(c.rq - c.qf), func.abs(c.rr - c.rf), func.abs(c.ry - c.yf)
    q_wrong = and_(dq > dy, dq > dr)
    q = case((q_wrong, -c.ry - c.rr), else_=c.rq)
    r = case((q_wrong, c.rr), (dy > dr, c.rr), else_=-c.rq - c.ry)
    cells = select(q.label("q"), r.label("r")).subquery("cells")
    stmt = select(cells.c.q, cells.c.r, func.count().label("count")).group_by(cells.c.q, cells.c.r) \
        .order_by(cells.c.r, cells.c.q)
    df = run(conn, stmt, max_rows=200_000)
    df = df.astype({"q": "int64", "r": "int64", "count": "int64"})
    lon, lat = centres(df["q"].to_numpy(), df["r"].to_numpy(), s, mid_lat)
    out = pd.DataFrame({"q": df["q"], "r": df["r"], "lon": lon, "lat": lat, "count": df["count"]})
    out.attrs.update(cell_deg=s, mid_lat=float(mid_lat))
    return out
