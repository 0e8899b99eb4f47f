"""The demo territory (geo.territory) and its subdivision helpers."""

from __future__ import annotations

import gzip
import json
import re

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo import _names
from geo._subdivide import allocate, subdivide
from geo.territory import DATA_FILE, LEVELS, build_territory, load_districts

COLUMNS = ["code", "name", "level", "parent_code", "population", "area_km2", "geometry"]
CODE_DIGITS = {"province": 6, "city": 6, "district": 6, "street": 9, "community": 12, "grid": 15}
CENTRE = (122.99, 41.11)


@pytest.fixture(scope="module")
def city():
    return build_territory("city")


@pytest.fixture(scope="module")
def small_province():
    # The province code path on two districts: an urban 区 and a county.
    return build_territory("province", adcodes=["210302", "210321"], totals=(12, 60, 300))


def _equal_area(gdf):
    return gpd.GeoSeries(gdf.geometry.values, index=gdf.index, crs="EPSG:4326").to_crs("EPSG:6933")


def check_structure(t):
    """Levels nest, codes follow GB/T 2260, children number from 001."""
    assert list(t.columns) == COLUMNS
    assert t.crs.to_epsg() == 4326
    assert t["code"].is_unique
    rank = t["level"].map({lv: i for i, lv in enumerate(LEVELS)})
    assert rank.notna().all()
    assert list(zip(rank, t["code"])) == sorted(zip(rank, t["code"])), "coarsest level first, then by code"
    by_code = t.set_index("code")
    roots = t[t["parent_code"].isna()]
    assert len(roots) == 1 and roots["parent_code"].iloc[0] is None
    for level, digits in CODE_DIGITS.items():
        codes = t.loc[t["level"] == level, "code"]
        assert codes.str.fullmatch(rf"\d{{{digits}}}").all(), level
    kids = t[t["parent_code"].notna()]
    assert kids["parent_code"].isin(by_code.index).all()
    parent_level = by_code.loc[kids["parent_code"], "level"].to_numpy()
    expected = {"city": "province", "district": "city", "street": "district", "community": "street", "grid": "community"}
    assert (parent_level == kids["level"].map(expected).to_numpy()).all()
    fine = kids[kids["level"].isin(["street", "community", "grid"])]
    assert (fine["code"].str[:-3] == fine["parent_code"]).all()
    for _, sib in fine.groupby("parent_code"):
        assert sorted(int(c[-3:]) for c in sib["code"]) == list(range(1, len(sib) + 1))
    dist = t[t["level"] == "district"]
    assert (dist["parent_code"] == dist["code"].str[:4] + "00").all()


def check_geometry(t):
    """Valid polygons; children cover their parent with no gaps or overlaps."""
    assert t.geometry.is_valid.all()
    assert (~t.geometry.is_empty).all()
    assert set(t.geom_type) <= {"Polygon", "MultiPolygon"}
    assert (t["area_km2"] > 0).all()
    eq = _equal_area(t)
    area = dict(zip(t["code"], eq.area))
    for parent, idx in t[t["parent_code"].notna()].groupby("parent_code").groups.items():
        children = eq.loc[idx].values
        union = shapely.union_all(children).area
        assert union == pytest.approx(area[parent], rel=1e-3), f"gap under {parent}"
        assert shapely.area(children).sum() == pytest.approx(union, rel=1e-3), f"overlap under {parent}"
    # area_km2 is the equal-area area
    assert np.allclose(t["area_km2"], eq.area / 1e6, rtol=1e-9)


def check_population(t):
    assert (t["population"] > 0).all()
    assert t["population"].dtype.kind == "i"
    pop = dict(zip(t["code"], t["population"]))
    sums = t[t["parent_code"].notna()].groupby("parent_code")["population"].sum()
    for parent, total in sums.items():
        assert pop[parent] == total, parent


def check_names(t):
    kids = t[t["parent_code"].notna()]
    assert not kids.duplicated(["parent_code", "name"]).any(), "names unique among siblings"
    name = dict(zip(t["code"], t["name"]))
    streets = t[t["level"] == "street"]
    assert streets["name"].str.contains(r"(?:街道|镇|乡)$").all()
    comms = t[t["level"] == "community"]
    for code, nm, parent in zip(comms["code"], comms["name"], comms["parent_code"]):
        assert nm.endswith("社区" if name[parent].endswith("街道") else "村"), (code, nm)
    grids = t[t["level"] == "grid"]
    for code, nm, parent in zip(grids["code"], grids["name"], grids["parent_code"]):
        assert nm == f"{name[parent]}第{int(code[-3:])}网格"


# --------------------------------------------------------------------------
# City scale
# --------------------------------------------------------------------------


def test_city_counts(city):
    counts = city["level"].value_counts()
    assert counts["city"] == 1 and counts["district"] == 4
    assert "province" not in counts
    for level, want in (("street", 40), ("community", 350), ("grid", 3000)):
        assert abs(counts[level] - want) <= 0.1 * want, (level, counts[level])
    root = city.iloc[0]
    assert (root["code"], root["name"], root["level"]) == ("210300", "鞍山市", "city")
    districts = city[city["level"] == "district"]
    assert list(districts["code"]) == ["210302", "210303", "210304", "210311"]
    assert list(districts["name"]) == ["铁东区", "铁西区", "立山区", "千山区"]
    # 铁东区 really has 10 streets and 88 communities
    tiedong = city[city["code"].str.startswith("210302")]
    assert 8 <= (tiedong["level"] == "street").sum() <= 12
    assert 70 <= (tiedong["level"] == "community").sum() <= 105


def test_city_structure(city):
    check_structure(city)


def test_city_geometry(city):
    check_geometry(city)
    # the root is the union of the four districts
    districts = city[city["level"] == "district"]
    assert shapely.union_all(districts.geometry.values).equals(city.geometry.iloc[0])


def test_every_grid_in_exactly_one_community(city):
    grids = city[city["level"] == "grid"]
    comms = city[city["level"] == "community"]
    pts = grids.geometry.representative_point().values
    tree = shapely.STRtree(comms.geometry.values)
    pairs = tree.query(pts, predicate="intersects")
    hits = np.bincount(pairs[0], minlength=len(grids))
    assert (hits == 1).all()
    owner = comms["code"].to_numpy()[pairs[1][np.argsort(pairs[0])]]
    assert (owner == grids["parent_code"].to_numpy()).all()


def test_city_population(city):
    check_population(city)
    assert 1.3e6 < city["population"].iloc[0] < 1.7e6
    # central grids are small and populous, peripheral ones large and sparse
    grids = city[city["level"] == "grid"]
    pts = grids.geometry.representative_point()
    km = np.hypot((pts.x - CENTRE[0]) * 84.0, (pts.y - CENTRE[1]) * 110.6)
    core, rim = grids[km < 2.5], grids[km > 12]
    assert len(core) > 50 and len(rim) > 50
    assert 700 <= core["population"].median() <= 2000
    assert rim["population"].median() < core["population"].median() / 2
    assert rim["area_km2"].median() > 4 * core["area_km2"].median()
    # 千山区 (large, partly mountainous) has bigger units than 铁东区
    streets = city[city["level"] == "street"]
    qianshan = streets[streets["parent_code"] == "210311"]["area_km2"].median()
    tiedong = streets[streets["parent_code"] == "210302"]["area_km2"].median()
    assert qianshan > 1.5 * tiedong


def test_city_names(city):
    check_names(city)
    streets = city[city["level"] == "street"]
    assert streets["name"].str.endswith("街道").all()  # all four are urban 区


def test_districts_converted_from_gcj02(city):
    with gzip.open(DATA_FILE, "rt", encoding="utf-8") as fh:
        raw = gpd.GeoDataFrame.from_features(json.load(fh)["features"])
    raw_tiedong = raw[raw["adcode"].astype(str) == "210302"].geometry.iloc[0].centroid
    tiedong = city[city["code"] == "210302"].geometry.iloc[0].centroid
    assert tiedong.x - raw_tiedong.x == pytest.approx(-0.0055, abs=0.001)
    assert tiedong.y - raw_tiedong.y == pytest.approx(-0.0019, abs=0.001)


def test_deterministic(city):
    again = build_territory("city", seed=7)
    for col in ("code", "name", "level", "parent_code", "population"):
        assert again[col].tolist() == city[col].tolist(), col
    assert (shapely.to_wkb(again.geometry.values) == shapely.to_wkb(city.geometry.values)).all()


def test_other_seed_differs(small_province):
    other = build_territory("province", seed=8, adcodes=["210302", "210321"], totals=(12, 60, 300))
    grids_a = small_province[small_province["level"] == "grid"].geometry.values
    grids_b = other[other["level"] == "grid"].geometry.values
    assert [g.wkb for g in grids_a] != [g.wkb for g in grids_b]


# --------------------------------------------------------------------------
# Province code path (two districts) and the source data
# --------------------------------------------------------------------------


def test_load_districts():
    d = load_districts()
    assert len(d) == 100
    assert list(d.columns) == ["adcode", "city", "district", "geometry"]
    assert d.crs.to_epsg() == 4326
    assert d["adcode"].is_unique and d["adcode"].str.fullmatch(r"21\d{4}").all()
    assert d["city"].nunique() == 14
    assert d.geometry.is_valid.all()
    assert set(d.geom_type) <= {"Polygon", "MultiPolygon"}
    minx, miny, maxx, maxy = d.total_bounds
    assert 118 < minx < maxx < 126.5 and 38 < miny < maxy < 44


def test_province_path(small_province):
    t = small_province
    root = t.iloc[0]
    assert (root["code"], root["name"], root["level"], root["parent_code"]) == ("210000", "辽宁省", "province", None)
    cities = t[t["level"] == "city"]
    assert list(cities["code"]) == ["210300"] and list(cities["parent_code"]) == ["210000"]
    assert list(t.loc[t["level"] == "district", "name"]) == ["铁东区", "台安县"]
    counts = t["level"].value_counts()
    for level, want in (("street", 12), ("community", 60), ("grid", 300)):
        assert abs(counts[level] - want) <= 0.1 * want
    check_structure(t)
    check_geometry(t)
    check_population(t)
    check_names(t)
    # a county has mostly towns and townships, with one 街道 for its seat
    county_streets = t[(t["level"] == "street") & (t["parent_code"] == "210321")]["name"]
    assert county_streets.str.endswith("街道").sum() == 1
    assert county_streets.str.endswith(("镇", "乡")).sum() == len(county_streets) - 1
    villages = t[(t["level"] == "community") & t["name"].str.endswith("村")]
    assert len(villages) > 0


def test_bad_arguments():
    with pytest.raises(ValueError, match="scale"):
        build_territory("county")
    with pytest.raises(ValueError, match="unknown district"):
        build_territory("province", adcodes=["999999"])


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def test_subdivide_synthetic_polygon():
    # concave (L-shaped) with a hole
    parent = shapely.Polygon([(0, 0), (0.2, 0), (0.2, 0.2), (0.1, 0.2), (0.1, 0.08), (0, 0.08)])
    parent = parent.difference(shapely.Point(0.15, 0.05).buffer(0.01))
    parent = shapely.affinity.translate(parent, 122.9, 41.0)
    peak = (122.95, 41.04)

    def density(x, y):
        return 1 + 50 * np.exp(-np.hypot((x - peak[0]) * 84, (y - peak[1]) * 111) / 2)

    cells = subdivide(parent, 60, np.random.default_rng(3), density)
    again = subdivide(parent, 60, np.random.default_rng(3), density)
    assert [c.wkb for c in cells] == [c.wkb for c in again]
    assert 54 <= len(cells) <= 60
    arr = np.array(cells)
    assert shapely.is_valid(arr).all() and not shapely.is_empty(arr).any()
    union = shapely.union_all(arr)
    assert union.area == pytest.approx(parent.area, rel=1e-9)
    assert shapely.area(arr).sum() == pytest.approx(union.area, rel=1e-9)
    assert shapely.coverage_is_valid(arr)
    areas = shapely.area(arr)
    assert areas.min() > 0.01 * np.median(areas)
    # smaller cells near the density peak
    pts = shapely.point_on_surface(arr)
    d = np.hypot((shapely.get_x(pts) - peak[0]) * 84, (shapely.get_y(pts) - peak[1]) * 111)
    assert np.median(areas[d < 2]) < np.median(areas[d > 6])
    assert subdivide(parent, 1, np.random.default_rng(0)) == [parent]


def test_allocate():
    out = allocate(100, [1, 1, 2, 0], minimum=5)
    assert out.sum() == 100 and (out >= 5).all()
    assert out[2] > out[0] and out[3] == 5
    assert allocate(10, [3, 3, 3]).tolist() == [4, 3, 3]
    assert allocate(3, [1, 1, 1, 1], minimum=2).sum() <= 4


def test_name_pools():
    assert len(_names.URBAN_WORDS) >= 150
    assert all(len(w) == 2 for w in _names.URBAN_WORDS)
    rng = np.random.default_rng(0)
    names = _names.community_names(300, rng, rural=False)
    assert len(set(names)) == 300 and all(n.endswith("社区") for n in names)
    towns = _names.street_names(40, rng, county=True, subdistricts=2)
    assert len(set(towns)) == 40
    assert sum(n.endswith("街道") for n in towns) == 2
    assert all(re.search(r"(街道|镇|乡)$", n) for n in towns)
