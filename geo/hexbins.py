"""Hexagonal bins for the hotspot map: the hexagon grid, its cell size and its pydeck layer.

The grid is of **pointy-top** hexagons in an equirectangular plane: a point's
plane coordinates are ``x = lon · cos(mid_lat)`` and ``y = lat`` (degrees),
so that near ``mid_lat`` one unit of x is as long as one unit of y and the
hexagons are regular on the ground. ``size`` (``cell_deg``) is the
circumradius, the distance from a hexagon's centre to each of its corners,
in degrees of latitude (1° ≈ 111 km). Hexagons are addressed by axial
coordinates ``(q, r)`` (see https://www.redblobgames.com/grids/hexagons/):

    centre x = size · (√3 · q + √3/2 · r)        centre y = size · 3/2 · r

``data_access.hotspots.hex_bins`` counts appeals per hexagon in SQL with the
same formulas (cube rounding); this module holds the plain-Python/numpy side:
centres, corners, a reference assignment (for tests), the cell size for a
view, and the map layer.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

SQRT3 = math.sqrt(3.0)

# a view shows at most this many hexagons
MAX_CELLS = 3000
# the finest hexagon: about 28 m from centre to corner
MIN_CELL_DEG = 0.00025
# cell sizes are rounded up to one of these × 10^n, so that nearby views share bins (and caches)
_LADDER = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)


def lon_scale(mid_lat: float) -> float:
    """cos(mid_lat): how much shorter a degree of longitude is than a degree of latitude there."""
    return math.cos(math.radians(float(mid_lat)))


def centres(q, r, cell_deg: float, mid_lat: float) -> tuple[np.ndarray, np.ndarray]:
    """Longitude and latitude of the centres of hexagons (q, r)."""
    q = np.asarray(q, dtype=float)
    r = np.asarray(r, dtype=float)
    x = cell_deg * (SQRT3 * q + SQRT3 / 2.0 * r)
    y = cell_deg * 1.5 * r
    return x / lon_scale(mid_lat), y


def corners(lon: float, lat: float, cell_deg: float, mid_lat: float) -> list[list[float]]:
    """The six corners (lon, lat) of the pointy-top hexagon centred at (lon, lat), counter-clockwise."""
    k = lon_scale(mid_lat)
    out = []
    for i in range(6):
        a = math.radians(60.0 * i - 30.0)
        out.append([lon + cell_deg * math.cos(a) / k, lat + cell_deg * math.sin(a)])
    return out


def nearest_hexagon(lon, lat, cell_deg: float, mid_lat: float) -> tuple[np.ndarray, np.ndarray]:
    """(q, r) of the hexagon whose centre is nearest each point, by brute force.

    A reference for tests, independent of cube rounding: every hexagon within
    two steps of the point's fractional axial position is tried, and the one
    with the nearest centre (in the plane) wins. A point in a hexagon is
    nearer its centre than any other centre, so this is the containing hexagon.
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    x = lon * lon_scale(mid_lat)
    y = lat
    qf = (SQRT3 / 3.0 * x - y / 3.0) / cell_deg
    rf = (2.0 / 3.0 * y) / cell_deg
    q0, r0 = np.floor(qf), np.floor(rf)
    best_d = np.full(lon.shape, np.inf)
    best_q = np.zeros(lon.shape, dtype=np.int64)
    best_r = np.zeros(lon.shape, dtype=np.int64)
    for dq in range(-2, 4):
        for dr in range(-2, 4):
            q, r = q0 + dq, r0 + dr
            cx = cell_deg * (SQRT3 * q + SQRT3 / 2.0 * r)
            cy = cell_deg * 1.5 * r
            d = (cx - x) ** 2 + (cy - y) ** 2
            better = d < best_d
            best_d = np.where(better, d, best_d)
            best_q = np.where(better, q.astype(np.int64), best_q)
            best_r = np.where(better, r.astype(np.int64), best_r)
    return best_q, best_r


def hexagon_area(cell_deg: float) -> float:
    """Area of one hexagon in the plane (square degrees of latitude)."""
    return 1.5 * SQRT3 * cell_deg * cell_deg


def cell_for(bounds, max_cells: int = MAX_CELLS) -> float:
    """The hexagon size (circumradius, degrees of latitude) for a view: at most ``max_cells`` hexagons.

    ``bounds`` has ``west, south, east, north`` (``geo.layers.Bounds``). The
    box's area in the plane, plus a rim of half-cut hexagons along its edges,
    divided by a hexagon's area stays within ``max_cells``; the size is then
    rounded *up* to the ladder 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10ⁿ (so the
    count stays within the cap, and views of similar size share their bins).
    Never finer than ``MIN_CELL_DEG`` (≈ 28 m).
    """
    mid_lat = (bounds.south + bounds.north) / 2.0
    width = max(bounds.east - bounds.west, 0.0) * lon_scale(mid_lat)
    height = max(bounds.north - bounds.south, 0.0)
    if width <= 0 and height <= 0:
        return MIN_CELL_DEG
    # cells touching the box: (w + 2s)(h + 2s) / area(s) ≤ max_cells
    # → (A − 4) s² − 2 (w + h) s − w h ≥ 0 with A = 1.5 √3 · max_cells
    a = 1.5 * SQRT3 * max_cells - 4.0
    b = 2.0 * (width + height)
    c = width * height
    s = (b + math.sqrt(b * b + 4.0 * a * c)) / (2.0 * a)
    return _round_up(max(s, MIN_CELL_DEG))


def _round_up(value: float) -> float:
    exp = math.floor(math.log10(value))
    base = 10.0 ** exp
    for step in _LADDER:
        candidate = round(step * base, 12)
        if candidate >= value * (1 - 1e-12):
            return candidate
    return round(10.0 * base, 12)


def hexagon_layer(bins: pd.DataFrame, cell_deg: float, mid_lat: float, layer_id: str = "hexagons"):
    """A pickable pydeck ``PolygonLayer`` of the hexagons in ``bins``, coloured by count.

    ``bins`` has ``lon, lat, count`` (hexagon centres, as from
    ``data_access.hotspots.hex_bins``). Each object carries ``count`` (for a
    tooltip such as ``{"html": "诉求 {count} 件"}``), ``polygon`` (six corners,
    rounded to about 1 m) and ``fill`` (RGBA by quantile class of the counts,
    on ``geo.layers.PALETTE``).
    """
    import pydeck as pdk

    from . import layers

    colors, _ = layers.quantile_colors(bins["count"]) if len(bins) else ([], [])
    data = []
    for lon, lat, count, color in zip(bins["lon"].tolist(), bins["lat"].tolist(), bins["count"].tolist(), colors):
        ring = [[round(x, layers.COORD_DECIMALS), round(y, layers.COORD_DECIMALS)]
                for x, y in corners(lon, lat, cell_deg, mid_lat)]
        data.append({"polygon": ring, "count": int(count), "fill": [*color[:3], 170]})
    return pdk.Layer(
        "PolygonLayer",
        data,
        id=layer_id,
        pickable=True,
        stroked=True,
        filled=True,
        get_polygon="polygon",
        get_fill_color="fill",
        get_line_color=[10, 20, 40, 140],
        line_width_min_pixels=0.3,
        auto_highlight=True,
        highlight_color=[255, 255, 255, 90],
    )
