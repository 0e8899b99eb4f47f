"""Coordinate transforms WGS84 / GCJ-02 / BD-09 (geo.crs)."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo import crs

# Reference values printed by wandergis/coordtransform (test/app.js), the
# widely used implementation of the published formulas, for input (116.404, 39.915).
REF_IN = (116.404, 39.915)
REF_WGS84_TO_GCJ02 = (116.41024449916938, 39.91640428150164)
REF_GCJ02_TO_BD09 = (116.41036949371029, 39.92133699351021)
REF_BD09_TO_GCJ02 = (116.39762729119315, 39.90865673957631)
REF_GCJ02_TO_WGS84_ONE_STEP = (116.39775550083061, 39.91359571849836)  # approximate inverse


def _rand_china(n=20_000, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(73.0, 135.0, n), rng.uniform(18.0, 53.5, n)


def test_forward_gcj02_matches_reference():
    lon, lat = crs.wgs84_to_gcj02(*REF_IN)
    assert lon == pytest.approx(REF_WGS84_TO_GCJ02[0], abs=1e-9)
    assert lat == pytest.approx(REF_WGS84_TO_GCJ02[1], abs=1e-9)


def test_tiananmen_pair():
    lon, lat = crs.wgs84_to_gcj02(116.397128, 39.916527)
    assert lon == pytest.approx(116.403370, abs=2e-5)
    assert lat == pytest.approx(39.917930, abs=2e-5)


def test_bd09_matches_reference():
    lon, lat = crs.gcj02_to_bd09(*REF_IN)
    assert (lon, lat) == pytest.approx(REF_GCJ02_TO_BD09, abs=1e-9)
    lon, lat = crs.bd09_to_gcj02(*REF_IN)
    assert (lon, lat) == pytest.approx(REF_BD09_TO_GCJ02, abs=1e-9)


def test_gcj02_inverse_is_exact_not_one_step():
    lon, lat = crs.gcj02_to_wgs84(*REF_IN)
    # Close to the one-step approximation ...
    assert (lon, lat) == pytest.approx(REF_GCJ02_TO_WGS84_ONE_STEP, abs=2e-5)
    # ... but it really inverts the forward transform.
    back = crs.wgs84_to_gcj02(lon, lat)
    assert back == pytest.approx(REF_IN, abs=1e-9)


def test_shift_near_anshan():
    lon, lat = 122.99, 41.11
    glon, glat = crs.wgs84_to_gcj02(lon, lat)
    assert glon - lon == pytest.approx(0.0055, abs=0.0005)
    assert glat - lat == pytest.approx(0.0019, abs=0.0005)
    # about 500 m
    metres = math.hypot((glon - lon) * 111_320 * math.cos(math.radians(lat)), (glat - lat) * 110_574)
    assert 400 < metres < 600


def test_gcj02_round_trip_arrays():
    lon, lat = _rand_china()
    w_lon, w_lat = crs.gcj02_to_wgs84(*crs.wgs84_to_gcj02(lon, lat))
    assert np.abs(w_lon - lon).max() < 1e-7
    assert np.abs(w_lat - lat).max() < 1e-7
    g_lon, g_lat = crs.wgs84_to_gcj02(*crs.gcj02_to_wgs84(lon, lat))
    assert np.abs(g_lon - lon).max() < 1e-7
    assert np.abs(g_lat - lat).max() < 1e-7


def test_bd09_round_trips():
    lon, lat = _rand_china()
    # Baidu's published inverse is itself approximate (a few 1e-6 degrees, < 0.5 m).
    b_lon, b_lat = crs.bd09_to_gcj02(*crs.gcj02_to_bd09(lon, lat))
    assert np.abs(b_lon - lon).max() < 5e-6
    assert np.abs(b_lat - lat).max() < 5e-6
    w_lon, w_lat = crs.bd09_to_wgs84(*crs.wgs84_to_bd09(lon, lat))
    assert np.abs(w_lon - lon).max() < 5e-6
    assert np.abs(w_lat - lat).max() < 5e-6
    # BD-09 lies roughly another 0.0065/0.006 degrees away from GCJ-02
    d_lon, d_lat = crs.gcj02_to_bd09(122.99, 41.11)
    assert d_lon - 122.99 == pytest.approx(0.0065, abs=0.001)
    assert d_lat - 41.11 == pytest.approx(0.006, abs=0.001)


@pytest.mark.parametrize(
    "func",
    [crs.wgs84_to_gcj02, crs.gcj02_to_wgs84, crs.bd09_to_gcj02, crs.gcj02_to_bd09, crs.bd09_to_wgs84, crs.wgs84_to_bd09],
)
def test_outside_china_unchanged(func):
    lon = np.array([2.3522, -74.006, 139.69, 122.99])  # Paris, New York, Tokyo (east of the box), Anshan
    lat = np.array([48.8566, 40.7128, 35.69, 41.11])
    out_lon, out_lat = func(lon, lat)
    assert np.array_equal(out_lon[:3], lon[:3])
    assert np.array_equal(out_lat[:3], lat[:3])
    assert out_lon[3] != lon[3]  # inside China something happens


def test_scalars_and_shapes():
    lon, lat = crs.wgs84_to_gcj02(122.99, 41.11)
    assert np.ndim(lon) == 0 and isinstance(float(lon), float)
    grid_lon, grid_lat = np.meshgrid(np.linspace(120, 124, 4), np.linspace(39, 43, 3))
    out_lon, out_lat = crs.gcj02_to_wgs84(grid_lon, grid_lat)
    assert out_lon.shape == (3, 4) and out_lat.shape == (3, 4)


def test_transform_geometry_polygon_round_trip():
    poly = shapely.Polygon([(122.9, 41.0), (123.1, 41.0), (123.1, 41.2), (122.9, 41.2)])
    gcj = crs.transform_geometry(poly, "wgs84", "gcj02")
    assert gcj.centroid.x - poly.centroid.x == pytest.approx(0.0055, abs=0.001)
    back = crs.transform_geometry(gcj, "gcj02", "wgs84")
    assert np.abs(shapely.get_coordinates(back) - shapely.get_coordinates(poly)).max() < 1e-9
    # direct GCJ-02 → BD-09 equals the point function
    bd = crs.transform_geometry(poly, "gcj02", "bd09")
    x, y = crs.gcj02_to_bd09(*shapely.get_coordinates(poly).T)
    assert np.allclose(shapely.get_coordinates(bd), np.column_stack([x, y]), atol=1e-12)
    # arrays of geometries work too
    arr = crs.transform_geometry(np.array([poly, poly.centroid]), "wgs84", "gcj02")
    assert len(arr) == 2 and arr[0].equals(gcj)


def test_to_wgs84_geodataframe():
    gdf = gpd.GeoDataFrame(
        {"name": ["a", "b"]},
        geometry=[shapely.Point(122.99, 41.11), shapely.box(123.0, 41.0, 123.1, 41.1)],
    )  # no CRS declared, like the source data
    out = crs.to_wgs84(gdf, "gcj02")
    assert isinstance(out, gpd.GeoDataFrame)
    assert out.crs.to_epsg() == 4326
    assert list(out["name"]) == ["a", "b"]
    assert out.geometry.iloc[0].x == pytest.approx(122.99 - 0.0055, abs=0.001)
    assert gdf.geometry.iloc[0].x == 122.99  # input untouched
    series = crs.to_wgs84(gdf.geometry, "bd09")
    assert isinstance(series, gpd.GeoSeries) and series.crs.to_epsg() == 4326
    same = crs.to_wgs84(shapely.Point(1, 2), "WGS84")
    assert same.equals(shapely.Point(1, 2))


def test_to_wgs84_via_pyproj():
    x, y = 13_691_000.0, 5_028_000.0  # Web Mercator, near Anshan
    pt = crs.to_wgs84(shapely.Point(x, y), "EPSG:3857")
    r = 6_378_137.0
    assert pt.x == pytest.approx(math.degrees(x / r), abs=1e-9)
    assert pt.y == pytest.approx(math.degrees(2 * math.atan(math.exp(y / r)) - math.pi / 2), abs=1e-9)
    gdf = gpd.GeoDataFrame(geometry=[shapely.Point(x, y)], crs="EPSG:3857")
    out = crs.to_wgs84(gdf, "EPSG:3857")
    assert out.crs.to_epsg() == 4326 and out.geometry.iloc[0].equals_exact(pt, 1e-9)
    # and the other way, WGS84 → Web Mercator → GCJ-02 chains through WGS84
    g = crs.transform_geometry(shapely.Point(x, y), "EPSG:3857", "gcj02")
    assert g.x - pt.x == pytest.approx(0.0055, abs=0.001)


@pytest.mark.parametrize("bad", ["foo", "gcj03", "EPSG:999999", None])
def test_unknown_crs_raises(bad):
    with pytest.raises(ValueError, match="unknown coordinate system"):
        crs.to_wgs84(shapely.Point(1, 2), bad)
    with pytest.raises(ValueError, match="unknown coordinate system"):
        crs.transform_geometry(shapely.Point(1, 2), "wgs84", bad)
