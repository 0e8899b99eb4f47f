"""The territory as the generator needs it: grids with their ancestors, the
departments that handle appeals at each level, random points inside grids,
and per-place pools of road, estate and staff names.
"""

from __future__ import annotations

import zlib

import numpy as np
import shapely

from . import catalogue as cat
from .people import estate_pool, road_pool, worker_names

REQUIRED_LEVELS = ("city", "district", "street", "community", "grid")


def substream(seed: int, name: str) -> np.random.Generator:
    """An independent, deterministic random stream for one purpose."""
    return np.random.default_rng([int(seed), zlib.crc32(name.encode())])


class Places:
    """Index of a territory GeoDataFrame (see geo.territory.build_territory)."""

    def __init__(self, territory, seed: int = 7) -> None:
        if territory.crs is not None and territory.crs.to_epsg() != 4326:
            territory = territory.to_crs(4326)
        self.territory = territory
        levels = set(territory["level"])
        missing = [lv for lv in REQUIRED_LEVELS if lv not in levels]
        if missing:
            raise ValueError(f"the territory has no {', '.join(missing)} level; "
                             f"the demo generator needs {', '.join(REQUIRED_LEVELS)}")
        codes = territory["code"].astype(str).tolist()
        parents = [None if p is None or (isinstance(p, float) and np.isnan(p)) else str(p)
                   for p in territory["parent_code"].tolist()]
        lvl = territory["level"].tolist()
        names = territory["name"].astype(str).tolist()
        pos = {c: i for i, c in enumerate(codes)}
        self.name_of = dict(zip(codes, names))

        # rows of each level, and each row's ancestor at each level
        by_level = {lv: [i for i, x in enumerate(lvl) if x == lv] for lv in REQUIRED_LEVELS}
        index_in_level = {}
        for lv in REQUIRED_LEVELS:
            for k, i in enumerate(by_level[lv]):
                index_in_level[i] = k

        def ancestor(i: int, level: str) -> int:
            seen = 0
            while i is not None and lvl[i] != level:
                p = parents[i]
                i = pos.get(p) if p is not None else None
                seen += 1
                if seen > 10:
                    return -1
            return -1 if i is None else index_in_level[i]

        g_rows = by_level["grid"]
        self.n_grids = len(g_rows)
        self.grid_codes = np.array([codes[i] for i in g_rows], dtype=object)
        self.grid_names = [names[i] for i in g_rows]
        pop = territory["population"].to_numpy(dtype=float, na_value=np.nan)[g_rows]
        pop = np.nan_to_num(pop, nan=0.0)
        self.grid_population = np.clip(pop, 0, None)
        geoms = np.asarray(territory.geometry.values, dtype=object)
        self.grid_geoms = geoms[g_rows]
        shapely.prepare(self.grid_geoms)
        self.grid_bounds = shapely.bounds(self.grid_geoms)

        self.level_codes = {lv: [codes[i] for i in by_level[lv]] for lv in REQUIRED_LEVELS}
        self.level_names = {lv: [names[i] for i in by_level[lv]] for lv in REQUIRED_LEVELS}
        self.grid_ancestor = {
            lv: np.array([ancestor(i, lv) for i in g_rows], dtype=np.int64)
            for lv in ("community", "street", "district", "city")
        }
        for lv, a in self.grid_ancestor.items():
            if (a < 0).any():
                bad = self.grid_codes[a < 0][0]
                raise ValueError(f"grid {bad} has no {lv} among its ancestors")
        self.district_city = np.array([ancestor(i, "city") for i in by_level["district"]], dtype=np.int64)
        self.street_district = np.array([ancestor(i, "district") for i in by_level["street"]], dtype=np.int64)
        self.community_street = np.array([ancestor(i, "street") for i in by_level["community"]],
                                         dtype=np.int64)
        self.community_district = self.street_district[self.community_street]

        self._build_departments()
        rng = substream(seed, "places")
        self.street_roads = road_pool(rng, len(self.level_codes["street"]))
        self.community_estates = estate_pool(rng, len(self.level_codes["community"]))
        self.grid_workers = worker_names(rng, self.n_grids)

    # ------------------------------------------------------------ departments
    def _build_departments(self) -> None:
        codes, names, levels, regions = [], [], [], []

        def add(code: str, name: str, level: str, region: str) -> int:
            codes.append(code)
            names.append(name)
            levels.append(level)
            regions.append(region)
            return len(codes) - 1

        cities, districts = self.level_codes["city"], self.level_codes["district"]
        self.city_dept = [
            {k: add(f"{c}-{k}", self.level_names["city"][i] + suffix, "city", c)
             for k, suffix in cat.CITY_DEPARTMENTS.items()}
            for i, c in enumerate(cities)
        ]
        self.district_bureau = [
            {k: add(f"{d}-{k}", self.level_names["district"][i] + suffix, "district", d)
             for k, suffix in cat.BUREAUS.items()}
            for i, d in enumerate(districts)
        ]
        self.street_office = np.array([
            add(f"{s}-BSC", _street_office_name(self.level_names["street"][i]), "street", s)
            for i, s in enumerate(self.level_codes["street"])
        ], dtype=np.int64)
        comm = self.level_codes["community"]
        self.community_committee = np.array([
            add(f"{c}-JWH", _committee_name(self.level_names["community"][i]), "community", c)
            for i, c in enumerate(comm)
        ], dtype=np.int64)
        self.community_station = np.array([
            add(f"{c}-WGZ", self.level_names["community"][i] + "网格工作站", "grid", c)
            for i, c in enumerate(comm)
        ], dtype=np.int64)
        self.dept_codes = np.array(codes, dtype=object)
        self.dept_names = np.array(names, dtype=object)
        self.dept_levels = levels
        self.dept_regions = regions

    def department_rows(self) -> list[tuple[str, str, str, str]]:
        return list(zip(self.dept_codes.tolist(), self.dept_names.tolist(), self.dept_levels,
                        self.dept_regions))

    def department_for(self, grid: np.ndarray, level: np.ndarray, sub: np.ndarray,
                       tables: cat.Tables) -> np.ndarray:
        """Department index per row from grid, handling level (0..4) and subcategory."""
        out = np.full(len(grid), -1, dtype=np.int64)
        comm = self.grid_ancestor["community"][grid]
        street = self.grid_ancestor["street"][grid]
        district = self.grid_ancestor["district"][grid]
        city = self.grid_ancestor["city"][grid]
        m = level == 0
        out[m] = self.community_station[comm[m]]
        m = level == 1
        out[m] = self.community_committee[comm[m]]
        m = level == 2
        out[m] = self.street_office[street[m]]
        # district bureaus and city departments depend on the subcategory's keys
        n_sub = len(tables.sub_names)
        bureau_table = np.array([[self.district_bureau[d][tables.sub_bureau[s]] for s in range(n_sub)]
                                 for d in range(len(self.district_bureau))], dtype=np.int64)
        city_table = np.array([[self.city_dept[c][tables.sub_city_dept[s]] for s in range(n_sub)]
                               for c in range(len(self.city_dept))], dtype=np.int64)
        m = level == 3
        out[m] = bureau_table[district[m], sub[m]]
        m = level == 4
        out[m] = city_table[city[m], sub[m]]
        return out

    # ------------------------------------------------------------ points
    def sample_points(self, rng: np.random.Generator, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Uniform random points inside each row's grid polygon (rejection sampling)."""
        n = len(grid)
        x = np.empty(n)
        y = np.empty(n)
        todo = np.arange(n)
        for _ in range(50):
            if not len(todo):
                break
            g = grid[todo]
            b = self.grid_bounds[g]
            cx = b[:, 0] + rng.random(len(todo)) * (b[:, 2] - b[:, 0])
            cy = b[:, 1] + rng.random(len(todo)) * (b[:, 3] - b[:, 1])
            ok = shapely.contains_xy(self.grid_geoms[g], cx, cy)
            x[todo[ok]] = cx[ok]
            y[todo[ok]] = cy[ok]
            todo = todo[~ok]
        if len(todo):  # slivers: fall back to a point known to be inside
            pts = shapely.point_on_surface(self.grid_geoms[grid[todo]])
            x[todo] = shapely.get_x(pts)
            y[todo] = shapely.get_y(pts)
        return x, y

    def jitter_inside(self, rng: np.random.Generator, grid: np.ndarray, x: np.ndarray, y: np.ndarray,
                      metres: float = 25.0) -> tuple[np.ndarray, np.ndarray]:
        """Points a few metres from (x, y), kept inside the grid (else unchanged)."""
        dx = rng.normal(0, metres / 85_000, len(x))
        dy = rng.normal(0, metres / 111_000, len(x))
        nx, ny = x + dx, y + dy
        ok = shapely.contains_xy(self.grid_geoms[grid], nx, ny)
        return np.where(ok, nx, x), np.where(ok, ny, y)

    # ------------------------------------------------------------ regions
    def region_rows(self, updated_at) -> list[tuple]:
        t = self.territory
        geoms = np.asarray(t.geometry.values, dtype=object)
        wkb = shapely.to_wkb(geoms)
        cen = shapely.centroid(geoms)
        lon, lat = shapely.get_x(cen), shapely.get_y(cen)
        pop = t["population"].to_numpy(dtype=float, na_value=np.nan)
        area = (t["area_km2"].to_numpy(dtype=float, na_value=np.nan) if "area_km2" in t
                else np.full(len(t), np.nan))
        parents = t["parent_code"].tolist()
        rows = []
        for i, (code, name, level) in enumerate(zip(t["code"].astype(str), t["name"].astype(str),
                                                    t["level"])):
            p = parents[i]
            p = None if p is None or (isinstance(p, float) and np.isnan(p)) else str(p)
            rows.append((code, name, level, p,
                         None if np.isnan(pop[i]) else int(pop[i]),
                         None if np.isnan(area[i]) else float(area[i]),
                         float(lon[i]), float(lat[i]), wkb[i], updated_at))
        return rows


REGION_COLUMNS = ("code", "name", "level", "parent_code", "population", "area_km2", "centroid_lon",
                  "centroid_lat", "geometry", "updated_at")


def _street_office_name(street: str) -> str:
    if street.endswith("镇") or street.endswith("乡"):
        return street + "人民政府"
    return street + "办事处"


def _committee_name(community: str) -> str:
    return community[:-1] + "村民委员会" if community.endswith("村") else community + "居委会"
