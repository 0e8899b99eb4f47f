"""Hotspots of the demo data.

* Stable hotspots: a few per cent of grids have a persistently higher rate for
  one category (an old estate with heating problems, a market with hawkers).
* Emerging hotspots (``plan_hotspots``): 3–5 surges planted in the last 14
  days before ``end``, each a grid and category whose appeals rise to many
  times the grid's own baseline, in different districts where possible.

Both come from deterministic random streams derived from the seed, so the
same (territory, seed, end) always gives the same hotspots.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from .. import clock
from . import catalogue as cat
from .places import Places, substream

SURGE_DAYS = 14


@dataclass
class PlantedHotspot:
    grid_code: str
    category: str
    start: dt.datetime
    end: dt.datetime
    extra_appeals: int


@dataclass(frozen=True)
class StableHotspots:
    grid: np.ndarray  # grid index
    category: np.ndarray  # category index
    factor: np.ndarray


def stable_hotspots(places: Places, seed: int) -> StableHotspots:
    rng = substream(seed, "stable-hotspots")
    n = max(1, int(round(cat.STABLE_HOTSPOT_SHARE * places.n_grids)))
    n = min(n, places.n_grids)
    w = places.grid_population + 1e-9
    grids = rng.choice(places.n_grids, size=n, replace=False, p=w / w.sum())
    names = list(cat.STABLE_HOTSPOT_CATEGORIES)
    p = np.array([cat.STABLE_HOTSPOT_CATEGORIES[k] for k in names])
    picks = rng.choice(len(names), size=n, p=p / p.sum())
    categories = np.array([cat.CATEGORY_NAMES.index(names[i]) for i in picks], dtype=np.int64)
    lo, hi = cat.STABLE_HOTSPOT_FACTOR
    factor = lo + (hi - lo) * rng.random(n)
    return StableHotspots(grids.astype(np.int64), categories, factor)


def plan_surges(places: Places, seed: int, end: dt.datetime) -> list[tuple[PlantedHotspot, int, tuple[str, ...]]]:
    """The emerging hotspots with their grid index and the subcategories they use."""
    rng = substream(seed, "emerging-hotspots")
    stable = stable_hotspots(places, seed)
    stable_pairs = set(zip(stable.grid.tolist(), stable.category.tolist()))
    lo, hi = cat.SURGE_COUNT
    n = int(rng.integers(lo, hi + 1))

    in_heating = end.month in cat.HEATING_MONTHS
    surges = [s for s in cat.SURGES if in_heating or not s[2]]
    weights = np.array([4.0 if s[2] else 1.0 for s in surges])
    order = rng.choice(len(surges), size=min(n, len(surges)), replace=False, p=weights / weights.sum())

    n_districts = len(places.level_codes["district"])
    district_order = rng.permutation(n_districts)
    grid_district = places.grid_ancestor["district"]
    used: set[int] = set()
    first_day = (end - dt.timedelta(days=SURGE_DAYS)).date() + dt.timedelta(days=1)
    out = []
    for k, si in enumerate(order.tolist()):
        category, subs, _ = surges[si]
        ci = cat.CATEGORY_NAMES.index(category)
        district = district_order[k % n_districts]
        cand = np.flatnonzero(grid_district == district)
        cand = np.array([g for g in cand.tolist() if g not in used and (g, ci) not in stable_pairs],
                        dtype=np.int64)
        if not len(cand):
            cand = np.array([g for g in range(places.n_grids) if g not in used], dtype=np.int64)
        if not len(cand):
            break
        w = places.grid_population[cand] ** 2 + 1e-9
        grid = int(cand[rng.choice(len(cand), p=w / w.sum())])
        used.add(grid)
        offset = int(rng.integers(0, 6))
        start = dt.datetime.combine(first_day + dt.timedelta(days=offset), dt.time())
        extra = int(rng.integers(cat.SURGE_EXTRA[0], cat.SURGE_EXTRA[1] + 1))
        spot = PlantedHotspot(str(places.grid_codes[grid]), category, start, end, extra)
        out.append((spot, grid, subs))
    return out


def plan_hotspots(territory, seed: int, end: dt.datetime, timezone: str = "Asia/Shanghai") -> list[PlantedHotspot]:
    """The emerging hotspots ``seed_demo`` plants for this territory, seed and end (naive, or aware and
    converted to ``timezone``).

    (``seed_demo`` plants them all unless their extra appeals would exceed 5% of
    the appeals asked for; its report lists those it planted.)
    """
    if end.tzinfo is not None:
        end = clock.to_local_naive(end, timezone)
    places = territory if isinstance(territory, Places) else Places(territory, seed)
    return [spot for spot, _, _ in plan_surges(places, seed, end)]
