"""The demo territory: real districts of Liaoning, generated streets, communities and grids.

District/county outlines are real (``geo/data``, Amap geometry in GCJ-02,
converted to WGS84 here). Everything below district level is **generated and
fictional**: streets, communities and grids are density-weighted centroidal
Voronoi partitions (:mod:`geo._subdivide`) of their parent, with made-up names
(:mod:`geo._names`) and populations from a simple density model.

Two scales:

* ``"city"``: the urban area of Anshan (鞍山市 210300 with its four urban
  districts 铁东区, 铁西区, 立山区, 千山区), about 40 streets, 350
  communities and 3,000 grids.
* ``"province"``: all of Liaoning (辽宁省 210000, 14 cities, 100 districts),
  about 1,500 streets, 13,500 communities and 150,000 grids.

Codes follow the GB/T 2260 pattern: a district's 6-digit adcode, then three
digits per level (street ``210302001``, community ``210302001001``, grid
``210302001001001``), numbered north-west first.

Population model. Each city's (approximate, 2020 census) population is spread
over its districts with a density surface: a negative-exponential urban core
at the city centre (Anshan: lon 122.99, lat 41.11; elsewhere the centroid of
the inner urban districts: the smallest 区 and the 区 touching it that are at
most 1.5 times its size, because the centroid of all 区 falls far outside
downtown in cities like Dalian or Tieling), smaller town cores in the
counties and outer districts, and a flat rural background per district. The number of units per km² follows ``density ** beta`` with
``beta < 1``, so central grids are small and populous and rural ones large
and thinly populated. Grid populations are apportioned from the density and
summed upwards, so every parent is exactly the sum of its children.
"""

from __future__ import annotations

import gzip
import json
from functools import lru_cache
from pathlib import Path
from typing import Callable, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from data_access.scope import LEVELS
from geo import _names
from geo._subdivide import Frame, allocate, integrate, polygonal, split_each, subdivide
from geo.crs import to_wgs84

__all__ = ["LEVELS", "load_districts", "build_territory", "CITY_POPULATION"]

DATA_FILE = Path(__file__).resolve().parent / "data" / "liaoning_districts_gcj02.geojson.gz"

PROVINCE_CODE = "210000"
PROVINCE_NAME = "辽宁省"
ANSHAN_CODE = "210300"
ANSHAN_URBAN = ("210302", "210303", "210304", "210311")  # 铁东区 铁西区 立山区 千山区
ANSHAN_CENTRE = (122.99, 41.11)  # WGS84

# Resident population by city, approximately the 2020 census (total ≈ 42.6 million).
CITY_POPULATION: dict[str, int] = {
    "210100": 9_070_000,  # 沈阳市
    "210200": 7_450_000,  # 大连市
    "210300": 3_330_000,  # 鞍山市
    "210400": 1_860_000,  # 抚顺市
    "210500": 1_330_000,  # 本溪市
    "210600": 2_190_000,  # 丹东市
    "210700": 2_700_000,  # 锦州市
    "210800": 2_330_000,  # 营口市
    "210900": 1_650_000,  # 阜新市
    "211000": 1_600_000,  # 辽阳市
    "211100": 1_390_000,  # 盘锦市
    "211200": 2_390_000,  # 铁岭市
    "211300": 2_870_000,  # 朝阳市
    "211400": 2_430_000,  # 葫芦岛市
}

# Wanted (streets, communities, grids) per scale.
TOTALS: dict[str, tuple[int, int, int]] = {
    "city": (40, 350, 3000),
    "province": (1500, 13500, 150_000),
}

# Units per km² grow like density ** beta (streets, communities, grids).
_BETA = (0.60, 0.58, 0.58)
_SAMPLES_PER_CELL = 20
_CITY_PEAK = 24_000.0  # persons/km² at a city centre
_TOWN_PEAK = 9_000.0  # persons/km² at a county town
_TOWN_MIN_KM = 20.0  # outer 区 further than this from the centre get a town core
_INTEGRATION_POINTS = 20_000  # midpoint-rule points per district
_KM_PER_DEG = 111.32

Progress = Callable[[str, int, int], None]


# --------------------------------------------------------------------------
# Districts
# --------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _districts() -> gpd.GeoDataFrame:
    with gzip.open(DATA_FILE, "rt", encoding="utf-8") as fh:
        data = json.load(fh)
    raw = gpd.GeoDataFrame.from_features(data["features"])
    gdf = to_wgs84(raw[["adcode", "city", "district", "geometry"]], "gcj02")
    gdf["adcode"] = gdf["adcode"].astype(str)
    gdf["geometry"] = [polygonal(g) for g in gdf.geometry.values]
    return gdf.sort_values("adcode", kind="stable").reset_index(drop=True)


def load_districts() -> gpd.GeoDataFrame:
    """The 100 districts/counties of Liaoning in WGS84 (EPSG:4326).

    Columns ``adcode``, ``city``, ``district``, ``geometry`` (valid polygons),
    sorted by adcode. The source is GCJ-02; see ``geo/data/SOURCE.md``.
    """
    return _districts().copy()


def _city_code(adcode: str) -> str:
    return adcode[:4] + "00"


def _is_county(name: str) -> bool:
    """县, 自治县 and county-level cities (…市) as opposed to urban 区."""
    return name.endswith("县") or name.endswith("市")


def _kind(name: str) -> str:
    if name.endswith("自治县"):
        return "autonomous"  # in Liaoning: the eastern mountains and western hills
    if name.endswith("县"):
        return "county"
    if name.endswith("市"):
        return "county_city"
    return "urban"


# Relative weight of a district kind for county-town size (per km²) and for
# the rural background density.
_TOWN_WEIGHT = {"urban": 1.0, "county": 1.0, "county_city": 2.0, "autonomous": 0.6}
_RURAL_WEIGHT = {"urban": 1.0, "county": 1.0, "county_city": 1.3, "autonomous": 0.5}


def _city_centre(geoms, areas: np.ndarray, urban: np.ndarray) -> tuple[float, float]:
    """The centroid of the smallest 区 and the 区 touching it that are at most 1.5 times as big."""
    if not urban.any():
        c = shapely.point_on_surface(shapely.union_all(geoms))
        return c.x, c.y
    idx = np.flatnonzero(urban)
    k = idx[np.argmin(areas[idx])]
    inner = [j for j in idx if j == k or (areas[j] <= 1.5 * areas[k] and shapely.intersects(geoms[j], geoms[k]))]
    core = shapely.union_all(geoms[inner])
    c = shapely.centroid(core)
    if not shapely.contains(core, c):
        c = shapely.point_on_surface(core)
    return c.x, c.y


# --------------------------------------------------------------------------
# Population density model
# --------------------------------------------------------------------------


class _Model:
    """Persons per km² as cores (negative exponentials) plus a rural background per district."""

    def __init__(self, districts: gpd.GeoDataFrame):
        lon, lat, amp, r = [], [], [], []
        self.background: dict[str, float] = {}
        self.centre: dict[str, tuple[float, float]] = {}
        eq_area = districts.to_crs("EPSG:6933").area.to_numpy() / 1e6
        cities = districts["adcode"].map(_city_code).to_numpy()
        for city in sorted(set(cities)):
            sel = np.flatnonzero(cities == city)
            ds = districts.iloc[sel]
            areas = eq_area[sel]
            total = float(CITY_POPULATION.get(city, 1_000_000))
            urban = np.array([not _is_county(n) for n in ds["district"]])
            if city == ANSHAN_CODE:
                centre = ANSHAN_CENTRE
            else:
                centre = _city_centre(ds.geometry.values, areas, urban)
            self.centre[city] = centre
            share = min(0.75, 0.30 + 0.04 * int(urban.sum()))
            lon.append(centre[0])
            lat.append(centre[1])
            amp.append(_CITY_PEAK)
            r.append(float(np.sqrt(share * total / (2 * np.pi * _CITY_PEAK))))

            # Town cores: counties, and outer urban districts away from the centre.
            pts = shapely.point_on_surface(ds.geometry.values)
            dist = np.hypot(
                (shapely.get_x(pts) - centre[0]) * _KM_PER_DEG * np.cos(np.radians(centre[1])),
                (shapely.get_y(pts) - centre[1]) * _KM_PER_DEG,
            )
            town = ~urban | (dist > _TOWN_MIN_KM)
            kind = [_kind(n) for n in ds["district"]]
            rest = (1.0 - share) * total
            town_total = 0.4 * rest if town.any() else 0.0
            town_w = areas * np.array([_TOWN_WEIGHT[k] for k in kind]) * town
            for k in np.flatnonzero(town):
                mass = town_total * town_w[k] / town_w.sum()
                lon.append(shapely.get_x(pts[k]))
                lat.append(shapely.get_y(pts[k]))
                amp.append(_TOWN_PEAK)
                r.append(float(np.sqrt(mass / (2 * np.pi * _TOWN_PEAK))))
            rural_w = np.array([_RURAL_WEIGHT[k] for k in kind])
            for k, adcode in enumerate(ds["adcode"]):
                self.background[adcode] = (rest - town_total) * rural_w[k] / np.sum(areas * rural_w)
        self.lon, self.lat = np.array(lon), np.array(lat)
        self.amp, self.r = np.array(amp), np.array(r)
        self.kx = _KM_PER_DEG * np.cos(np.radians(self.lat))

    def cores_near(self, bounds, cutoff: float = 0.5) -> np.ndarray:
        """Indices of cores contributing more than ``cutoff`` persons/km² inside ``bounds``."""
        d = self._dist_to_box(bounds)
        return np.flatnonzero(self.amp * np.exp(-d / self.r) > cutoff)

    def _dist_to_box(self, bounds) -> np.ndarray:
        minx, miny, maxx, maxy = bounds
        dx = (np.clip(self.lon, minx, maxx) - self.lon) * self.kx
        dy = (np.clip(self.lat, miny, maxy) - self.lat) * _KM_PER_DEG
        return np.hypot(dx, dy)

    def density(self, adcode: str, cores: np.ndarray, factor: float = 1.0):
        """A vectorised ``(lon, lat) -> persons/km²`` function for one district."""
        clon, clat, amp, r, kx = (a[cores] for a in (self.lon, self.lat, self.amp, self.r, self.kx))
        base = self.background[adcode]

        def f(x: np.ndarray, y: np.ndarray) -> np.ndarray:
            out = np.full(np.shape(x), base, dtype=float)
            for i in range(len(clon)):
                d = np.hypot((x - clon[i]) * kx[i], (y - clat[i]) * _KM_PER_DEG)
                out += amp[i] * np.exp(-d / r[i])
            return out * factor

        return f

    def bound(self, adcode: str, cores: np.ndarray, bounds, factor: float = 1.0) -> float:
        """An upper bound of :meth:`density` over the box ``bounds``."""
        d = self._dist_to_box(bounds)[cores]
        return float((self.background[adcode] + np.sum(self.amp[cores] * np.exp(-d / self.r[cores]))) * factor)


# --------------------------------------------------------------------------
# One district
# --------------------------------------------------------------------------

Row = tuple  # (code, name, level, parent_code, population, geometry)


def _district_rows(
    adcode: str,
    name: str,
    dgeom,
    counts: tuple[int, int, int],
    population: int,
    dens: Callable,
    bound: float,
    seed: int,
) -> list[Row]:
    """Streets, communities and grids of one district (its own RNG stream)."""
    rng = np.random.default_rng([seed, int(adcode)])
    frame = Frame.around(dgeom)
    b_s, b_c, b_g = _BETA
    streets = subdivide(dgeom, counts[0], rng, lambda x, y: dens(x, y) ** b_s, bound**b_s, frame=frame)
    comms_by_street = split_each(
        streets, counts[1], dgeom, rng, lambda x, y: dens(x, y) ** b_c, bound**b_c, 2, frame, _SAMPLES_PER_CELL
    )
    comms = [c for cs in comms_by_street for c in cs]
    grids_by_comm = split_each(
        comms, counts[2], dgeom, rng, lambda x, y: dens(x, y) ** b_g, bound**b_g, 2, frame, _SAMPLES_PER_CELL
    )

    # Population: apportion the district total over grids by density × area.
    grids = np.array([g for gs in grids_by_comm for g in gs], dtype=object)
    pts = shapely.point_on_surface(grids)
    weight = frame.area_km2(grids) * dens(shapely.get_x(pts), shapely.get_y(pts))
    gpop = allocate(population, weight, min(30, max(1, population // (3 * len(grids)))))
    grid_owner = np.repeat(np.arange(len(comms)), [len(gs) for gs in grids_by_comm])
    comm_pop = np.bincount(grid_owner, gpop, minlength=len(comms)).astype(np.int64)
    comm_owner = np.repeat(np.arange(len(streets)), [len(cs) for cs in comms_by_street])
    street_pop = np.bincount(comm_owner, comm_pop, minlength=len(streets)).astype(np.int64)

    # Street names: in a county the densest one or two are 街道, the rest 镇/乡.
    county = _is_county(name)
    subdistricts = (2 if name.endswith("市") else 1) if county else 0
    names = _names.street_names(len(streets), rng, county=county, subdistricts=subdistricts)
    density_rank = np.argsort(-street_pop / frame.area_km2(np.array(streets, dtype=object)), kind="stable")
    s_names = [""] * len(streets)
    for rank, i in enumerate(density_rank):
        s_names[i] = names[rank]

    rows: list[Row] = []
    ci = gi = 0
    for si, street in enumerate(streets):
        scode = f"{adcode}{si + 1:03d}"
        rows.append((scode, s_names[si], "street", adcode, street_pop[si], street))
        rural = s_names[si].endswith(("镇", "乡"))
        c_names = _names.community_names(len(comms_by_street[si]), rng, rural=rural)
        for cj, comm in enumerate(comms_by_street[si]):
            ccode = f"{scode}{cj + 1:03d}"
            rows.append((ccode, c_names[cj], "community", scode, comm_pop[ci], comm))
            for gk, grid in enumerate(grids_by_comm[ci]):
                rows.append((f"{ccode}{gk + 1:03d}", _names.grid_name(c_names[cj], gk + 1), "grid", ccode, gpop[gi], grid))
                gi += 1
            ci += 1
    return rows


# --------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------


def _select(scale: str, adcodes: Sequence[str] | None, all_districts: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if scale not in TOTALS:
        raise ValueError(f"unknown scale {scale!r}; expected 'city' or 'province'")
    if adcodes is None:
        adcodes = ANSHAN_URBAN if scale == "city" else all_districts["adcode"]
    chosen = {str(a) for a in adcodes}
    missing = sorted(chosen - set(all_districts["adcode"]))
    if missing:
        raise ValueError(f"unknown district codes: {', '.join(missing)}")
    if not chosen:
        raise ValueError("no districts chosen")
    if scale == "city" and len({_city_code(c) for c in chosen}) != 1:
        raise ValueError("the 'city' scale takes districts of one city")
    out = all_districts[all_districts["adcode"].isin(chosen)].reset_index(drop=True)
    # Fresh geometry objects: the subdivision prepares (mutates) them.
    out["geometry"] = shapely.from_wkb(shapely.to_wkb(out.geometry.values))
    return out


def build_territory(
    scale: str = "city",
    seed: int = 7,
    progress: Progress | None = None,
    *,
    adcodes: Sequence[str] | None = None,
    totals: tuple[int, int, int] | None = None,
) -> gpd.GeoDataFrame:
    """Build the demo territory as one GeoDataFrame (EPSG:4326).

    Columns ``code``, ``name``, ``level``, ``parent_code`` (None for the root),
    ``population``, ``area_km2`` (equal-area, EPSG:6933) and ``geometry``;
    rows are ordered coarsest level first, then by code. The same ``scale``
    and ``seed`` always give identical output.

    ``progress(stage, done, total)`` is called as districts are finished.
    ``adcodes`` restricts the scale to some districts (with their city, and
    for ``"province"`` the province, as ancestors) and ``totals`` overrides
    the wanted (streets, communities, grids); both are mainly for tests.
    """
    all_districts = _districts()
    districts = _select(scale, adcodes, all_districts)
    cities = districts["adcode"].map(_city_code).to_numpy()
    if totals is None:
        full = len(ANSHAN_URBAN) if scale == "city" else len(all_districts)
        totals = tuple(max(1, round(t * len(districts) / full)) for t in TOTALS[scale])

    # Density model; integrals over whole cities to normalise to their population.
    model = _Model(all_districts)
    powers = (1.0, *_BETA)
    factor: dict[str, float] = {}
    integrals: dict[str, np.ndarray] = {}
    city_all = all_districts["adcode"].map(_city_code)
    for city in sorted(set(cities)):
        members = all_districts[city_all == city]
        for adcode, geom in zip(members["adcode"], shapely.from_wkb(shapely.to_wkb(members.geometry.values))):
            cores = model.cores_near(shapely.bounds(geom))
            integrals[adcode] = integrate(geom, model.density(adcode, cores), powers, _INTEGRATION_POINTS)
        factor[city] = CITY_POPULATION.get(city, 1_000_000) / sum(integrals[a][0] for a in members["adcode"])
    weights = np.array([integrals[a] * factor[c] ** np.array(powers) for a, c in zip(districts["adcode"], cities)])
    population = np.round(weights[:, 0]).astype(np.int64)
    n_streets = allocate(totals[0], weights[:, 1], 2)
    n_comms = allocate(totals[1], weights[:, 2], 2 * n_streets)
    n_grids = allocate(totals[2], weights[:, 3], 2 * n_comms)

    geoms = districts.geometry.values
    rows: list[Row] = []
    for i, (adcode, name) in enumerate(zip(districts["adcode"], districts["district"])):
        cores = model.cores_near(shapely.bounds(geoms[i]))
        f = factor[cities[i]]
        rows += _district_rows(
            adcode,
            name,
            geoms[i],
            (int(n_streets[i]), int(n_comms[i]), int(n_grids[i])),
            int(population[i]),
            model.density(adcode, cores, f),
            model.bound(adcode, cores, shapely.bounds(geoms[i]), f),
            seed,
        )
        if progress is not None:
            progress("districts", i + 1, len(districts))

    # Districts, cities and the province (a district's grids sum to its population).
    root = None if scale == "city" else PROVINCE_CODE
    city_geoms = []
    for city in sorted(set(cities)):
        sel = cities == city
        geom = polygonal(shapely.union_all(geoms[sel]))
        city_geoms.append(geom)
        rows.append((city, districts["city"][sel].iloc[0], "city", root, population[sel].sum(), geom))
    for i, (adcode, name) in enumerate(zip(districts["adcode"], districts["district"])):
        rows.append((adcode, name, "district", cities[i], population[i], geoms[i]))
    if root is not None:
        rows.append((root, PROVINCE_NAME, "province", None, population.sum(), polygonal(shapely.union_all(city_geoms))))
    if progress is not None:
        progress("assemble", 0, 1)

    code, name, level, parent, pop, geom = zip(*rows)
    gdf = gpd.GeoDataFrame(
        {
            "code": list(code),
            "name": list(name),
            "level": list(level),
            "parent_code": pd.Series(list(parent), dtype=object),
            "population": np.array(pop, dtype=np.int64),
        },
        geometry=gpd.GeoSeries(np.array(geom, dtype=object), crs="EPSG:4326"),
    )
    gdf.insert(5, "area_km2", gdf.geometry.to_crs("EPSG:6933").area.to_numpy() / 1e6)
    rank = gdf["level"].map({lv: i for i, lv in enumerate(LEVELS)})
    gdf = gdf.iloc[np.lexsort((gdf["code"].to_numpy(), rank.to_numpy()))].reset_index(drop=True)
    if progress is not None:
        progress("assemble", 1, 1)
    return gdf
