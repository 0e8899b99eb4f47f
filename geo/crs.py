"""Coordinate transforms between WGS84, GCJ-02 and BD-09.

Chinese web maps do not use plain WGS84 longitude/latitude:

* **GCJ-02** ("Mars coordinates") is the obfuscated system mandated for maps
  published in mainland China; Amap (Gaode), Tencent and Google's China tiles
  use it. It is WGS84 plus a smooth, non-linear offset of a few hundred metres.
* **BD-09** is Baidu's additional offset on top of GCJ-02.

The forward GCJ-02 formula below is the widely published one (Krasovsky
ellipsoid, ``a = 6378245.0``, ``ee = 0.00669342162296594323``). GCJ-02 has no
closed-form inverse; :func:`gcj02_to_wgs84` inverts it by fixed-point iteration
to better than 1e-7 degrees (a few millimetres), not the usual one-step
approximation that is off by up to a metre or two.

All point functions are vectorised: they accept scalars or array-likes and
return ``numpy`` arrays (0-d for scalar input, which behave like floats).
Points outside the rough bounding box of China are returned unchanged by every
transform, as the published reference implementations do for GCJ-02.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import shapely

__all__ = [
    "wgs84_to_gcj02",
    "gcj02_to_wgs84",
    "bd09_to_gcj02",
    "gcj02_to_bd09",
    "bd09_to_wgs84",
    "wgs84_to_bd09",
    "out_of_china",
    "transform_geometry",
    "to_wgs84",
]

_A = 6378245.0  # Krasovsky 1940 semi-major axis
_EE = 0.00669342162296594323  # Krasovsky 1940 first eccentricity squared
_X_PI = np.pi * 3000.0 / 180.0  # BD-09 constant

_GCJ_INVERSE_TOL = 1e-9  # degrees; the iteration converges far below 1e-7
_GCJ_INVERSE_MAX_ITER = 30



def _as_arrays(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    return np.broadcast_arrays(lon, lat)


def out_of_china(lon, lat) -> np.ndarray:
    """True where a point lies outside the rough bounding box of China."""
    lon, lat = _as_arrays(lon, lat)
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _transform_lat(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def _gcj_offset(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The GCJ-02 offset (dlon, dlat) in degrees at WGS84 position (lon, lat)."""
    dlat = _transform_lat(lon - 105.0, lat - 35.0)
    dlon = _transform_lon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * np.pi
    magic = np.sin(radlat)
    magic = 1.0 - _EE * magic * magic
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 → GCJ-02 (the standard published formula)."""
    lon, lat = _as_arrays(lon, lat)
    dlon, dlat = _gcj_offset(lon, lat)
    outside = out_of_china(lon, lat)
    return np.where(outside, lon, lon + dlon), np.where(outside, lat, lat + dlat)


def gcj02_to_wgs84(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 → WGS84, the exact inverse of :func:`wgs84_to_gcj02`.

    Solves ``wgs + offset(wgs) = gcj`` by fixed-point iteration
    ``wgs ← gcj − offset(wgs)``. The offset changes by less than 1e-4 of a
    degree per degree, so each step gains about four digits; two or three
    steps reach 1e-9 degrees.
    """
    lon, lat = _as_arrays(lon, lat)
    outside = out_of_china(lon, lat)
    w_lon, w_lat = lon.copy(), lat.copy()
    for _ in range(_GCJ_INVERSE_MAX_ITER):
        dlon, dlat = _gcj_offset(w_lon, w_lat)
        n_lon, n_lat = lon - dlon, lat - dlat
        step = max(
            float(np.max(np.abs(n_lon - w_lon), initial=0.0)),
            float(np.max(np.abs(n_lat - w_lat), initial=0.0)),
        )
        w_lon, w_lat = n_lon, n_lat
        if step < _GCJ_INVERSE_TOL:
            break
    return np.where(outside, lon, w_lon), np.where(outside, lat, w_lat)


def gcj02_to_bd09(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 → BD-09 (Baidu's published formula)."""
    lon, lat = _as_arrays(lon, lat)
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    outside = out_of_china(lon, lat)
    bd_lon = z * np.cos(theta) + 0.0065
    bd_lat = z * np.sin(theta) + 0.006
    return np.where(outside, lon, bd_lon), np.where(outside, lat, bd_lat)


def bd09_to_gcj02(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 → GCJ-02 (Baidu's published inverse formula).

    The published inverse is itself approximate; the round trip
    ``gcj02_to_bd09(bd09_to_gcj02(p))`` is accurate to about 1e-6 degrees
    (well under a metre), which is the precision of Baidu's own API.
    """
    lon, lat = _as_arrays(lon, lat)
    x = lon - 0.0065
    y = lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    outside = out_of_china(lon, lat)
    return np.where(outside, lon, z * np.cos(theta)), np.where(outside, lat, z * np.sin(theta))


def bd09_to_wgs84(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 → WGS84 (via GCJ-02)."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def wgs84_to_bd09(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 → BD-09 (via GCJ-02)."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


# --------------------------------------------------------------------------
# Geometries and GeoDataFrames
# --------------------------------------------------------------------------

_ALIASES = {
    "wgs84": "wgs84",
    "wgs-84": "wgs84",
    "epsg:4326": "wgs84",
    "4326": "wgs84",
    "gcj02": "gcj02",
    "gcj-02": "gcj02",
    "gcj": "gcj02",
    "mars": "gcj02",
    "amap": "gcj02",
    "bd09": "bd09",
    "bd-09": "bd09",
    "bd09ll": "bd09",
    "baidu": "bd09",
}

_TO_WGS84 = {"gcj02": gcj02_to_wgs84, "bd09": bd09_to_wgs84}
_FROM_WGS84 = {"gcj02": wgs84_to_gcj02, "bd09": wgs84_to_bd09}

PointFunc = Callable[[np.ndarray, np.ndarray], "tuple[np.ndarray, np.ndarray]"]


def _normalise(name) -> "str | object":
    """A named Chinese system ('wgs84', 'gcj02', 'bd09') or a ``pyproj.CRS``."""
    if isinstance(name, str) and name.strip().lower() in _ALIASES:
        return _ALIASES[name.strip().lower()]
    import pyproj

    if name is None:
        raise ValueError(
            "unknown coordinate system None; expected 'wgs84', 'gcj02', 'bd09' "
            "or a CRS pyproj understands (e.g. 'EPSG:3857')"
        )
    try:
        crs = pyproj.CRS.from_user_input(name)
    except Exception as exc:  # pyproj.exceptions.CRSError and friends
        raise ValueError(
            f"unknown coordinate system {name!r}; expected 'wgs84', 'gcj02', 'bd09' "
            "or a CRS pyproj understands (e.g. 'EPSG:3857')"
        ) from exc
    if crs.equals(pyproj.CRS.from_epsg(4326), ignore_axis_order=True):
        return "wgs84"
    return crs


def _pyproj_func(src, dst) -> PointFunc:
    import pyproj

    tr = pyproj.Transformer.from_crs(src, dst, always_xy=True)

    def func(x, y):
        return tr.transform(np.asarray(x, dtype=float), np.asarray(y, dtype=float))

    return func


def _point_func(src, dst) -> PointFunc | None:
    """A vectorised (lon, lat) → (lon, lat) function, or None for identity."""
    s, d = _normalise(src), _normalise(dst)
    if isinstance(s, str) and isinstance(d, str):
        if s == d:
            return None
        if d == "wgs84":
            return _TO_WGS84[s]
        if s == "wgs84":
            return _FROM_WGS84[d]
        if (s, d) == ("gcj02", "bd09"):
            return gcj02_to_bd09
        if (s, d) == ("bd09", "gcj02"):
            return bd09_to_gcj02
    # At least one side is a pyproj CRS: go through WGS84.
    import pyproj

    if not isinstance(s, str) and not isinstance(d, str):
        return _pyproj_func(s, d)
    wgs = pyproj.CRS.from_epsg(4326)
    first = (
        _pyproj_func(s, wgs) if not isinstance(s, str) else _TO_WGS84.get(s)
    )  # None when s == "wgs84"
    second = (
        _pyproj_func(wgs, d) if not isinstance(d, str) else _FROM_WGS84.get(d)
    )  # None when d == "wgs84"
    steps = [f for f in (first, second) if f is not None]

    def chained(x, y):
        for f in steps:
            x, y = f(x, y)
        return x, y

    return chained


def _apply(geom, func: PointFunc | None):
    if func is None:
        return geom

    def coords_func(xy: np.ndarray) -> np.ndarray:
        x, y = func(xy[:, 0], xy[:, 1])
        return np.column_stack([np.asarray(x, dtype=float), np.asarray(y, dtype=float)])

    return shapely.transform(geom, coords_func)


def transform_geometry(geom, src: str, dst: str):
    """Transform a shapely geometry (or an array of them) from ``src`` to ``dst``.

    ``src``/``dst`` are ``"wgs84"``, ``"gcj02"``, ``"bd09"`` or any CRS pyproj
    understands (``"EPSG:3857"``...). Only x/y are transformed.
    """
    return _apply(geom, _point_func(src, dst))


def to_wgs84(obj, src: str):
    """Convert a GeoDataFrame / GeoSeries / shapely geometry from ``src`` to WGS84.

    ``src`` is ``"wgs84"``, ``"gcj02"``, ``"bd09"`` or any CRS pyproj understands.
    The CRS a GeoDataFrame declares is ignored: Chinese data usually declares
    EPSG:4326 (or nothing) even when it is really GCJ-02. GeoPandas input
    returns a new object of the same type with ``crs`` EPSG:4326.
    """
    func = _point_func(src, "wgs84")
    try:
        import geopandas as gpd
    except ImportError:  # pragma: no cover - geopandas is a dependency
        gpd = None
    if gpd is not None and isinstance(obj, gpd.GeoDataFrame):
        out = obj.copy()
        col = out.geometry.name
        values = _apply(np.asarray(out.geometry.values), func)
        out[col] = gpd.GeoSeries(values, index=out.index)
        return out.set_geometry(col).set_crs("EPSG:4326", allow_override=True)
    if gpd is not None and isinstance(obj, gpd.GeoSeries):
        values = _apply(np.asarray(obj.values), func)
        return gpd.GeoSeries(values, index=obj.index, name=obj.name, crs="EPSG:4326")
    return _apply(obj, func)


def points_to_wgs84(lon, lat, src: str) -> tuple[np.ndarray, np.ndarray]:
    """Convert arrays of points from ``src`` (as for ``to_wgs84``) to WGS84 longitude/latitude."""
    func = _point_func(src, "wgs84")
    x, y = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    if func is None:
        return x, y
    out_x, out_y = func(x, y)
    return np.asarray(out_x, dtype=float), np.asarray(out_y, dtype=float)
