"""Partition a polygon into cells: density-weighted, clipped centroidal Voronoi.

The recipe, used at every level of the generated territory:

1. draw sample points inside the parent from a density ``u(lon, lat)``
   (rejection sampling), about ``samples_per_cell`` per wanted child;
2. pick ``n`` of them as seeds and move the seeds to the mean of the samples
   nearest to them a couple of times (Lloyd / k-means steps on the density
   samples, so cells come out roughly compact and smaller where ``u`` is high);
3. Voronoi cells of the seeds (computed in a local km frame so that they are
   not stretched by the longitude/latitude aspect), clipped to the parent;
4. clean up: tiny cells (< 1 % of the median sibling) and small detached
   fragments of a cell are merged into the neighbour sharing the longest border.

Clipping happens in the output (lon/lat) coordinates, so the children cover
the parent exactly and share edges with each other: no gaps, no overlaps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import shapely

Density = Callable[[np.ndarray, np.ndarray], np.ndarray]

KM_PER_DEG_LAT = 110.574
KM_PER_DEG_LON_EQUATOR = 111.320

_POLYGON = 3  # shapely.GeometryType.POLYGON
_MERGE_TOL = 1e-7  # degrees (~1 cm): tolerance when measuring shared borders


@dataclass(frozen=True)
class Frame:
    """Local equirectangular frame: km east/north of (lon0, lat0)."""

    lon0: float
    lat0: float
    kx: float  # km per degree of longitude at lat0
    ky: float = KM_PER_DEG_LAT

    @classmethod
    def around(cls, geom) -> "Frame":
        minx, miny, maxx, maxy = shapely.bounds(geom)
        lon0, lat0 = (minx + maxx) / 2.0, (miny + maxy) / 2.0
        return cls(lon0, lat0, KM_PER_DEG_LON_EQUATOR * float(np.cos(np.radians(lat0))))

    def to_km(self, lon, lat) -> tuple[np.ndarray, np.ndarray]:
        return (np.asarray(lon) - self.lon0) * self.kx, (np.asarray(lat) - self.lat0) * self.ky

    def to_deg(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        return np.asarray(x) / self.kx + self.lon0, np.asarray(y) / self.ky + self.lat0

    def area_km2(self, geoms) -> np.ndarray:
        return shapely.area(geoms) * (self.kx * self.ky)


def sample_points(
    geom,
    m: int,
    rng: np.random.Generator,
    density: Density | None = None,
    bound: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``m`` random points inside ``geom`` with probability ∝ ``density``.

    ``bound`` is an upper bound of the density over the bounding box of
    ``geom``; without it the maximum over the first candidate batch (times 1.1)
    is used, which slightly flattens a peak the batch missed.
    """
    if m <= 0:
        return np.empty(0), np.empty(0)
    minx, miny, maxx, maxy = shapely.bounds(geom)
    bbox_area = max((maxx - minx) * (maxy - miny), 1e-300)
    fill = max(shapely.area(geom) / bbox_area, 1e-3)
    shapely.prepare(geom)
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    got = 0
    accept = 1.0
    for _ in range(200):
        need = m - got
        batch = int(min(max(256, 1.3 * need / (fill * accept)), 4_000_000))
        x = rng.uniform(minx, maxx, batch)
        y = rng.uniform(miny, maxy, batch)
        inside = shapely.contains_xy(geom, x, y)
        x, y = x[inside], y[inside]
        if density is not None and len(x):
            u = density(x, y)
            if bound is None:
                bound = float(u.max()) * 1.1
            keep = rng.random(len(x)) * bound < u
            accept = max(float(keep.mean()), 0.01) if len(x) else accept
            x, y = x[keep], y[keep]
        xs.append(x)
        ys.append(y)
        got += len(x)
        if got >= m:
            break
    x, y = np.concatenate(xs)[:m], np.concatenate(ys)[:m]
    if len(x) < m:  # pathological (a sliver of a parent): fall back to surface points
        pt = shapely.point_on_surface(geom)
        x = np.concatenate([x, np.full(m - len(x), shapely.get_x(pt))])
        y = np.concatenate([y, np.full(m - len(y), shapely.get_y(pt))])
    return x, y


def nearest(px: np.ndarray, py: np.ndarray, sx: np.ndarray, sy: np.ndarray, chunk: int = 200_000) -> np.ndarray:
    """Index of the nearest seed (sx, sy) for every point (px, py), brute force."""
    out = np.empty(len(px), dtype=np.int64)
    for i in range(0, len(px), chunk):
        dx = px[i : i + chunk, None] - sx[None, :]
        dy = py[i : i + chunk, None] - sy[None, :]
        out[i : i + chunk] = np.argmin(dx * dx + dy * dy, axis=1)
    return out


def lloyd_seeds(x: np.ndarray, y: np.ndarray, n: int, rng: np.random.Generator, steps: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """``n`` seeds from samples (x, y) (km): a random subset, then ``steps`` k-means steps."""
    m = len(x)
    pick = rng.choice(m, size=n, replace=False)
    sx, sy = x[pick].copy(), y[pick].copy()
    for _ in range(steps):
        lab = nearest(x, y, sx, sy)
        cnt = np.bincount(lab, minlength=n)
        has = cnt > 0
        sx[has] = np.bincount(lab, x, minlength=n)[has] / cnt[has]
        sy[has] = np.bincount(lab, y, minlength=n)[has] / cnt[has]
    return sx, sy


def _polygon_parts(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    parts, owner = shapely.get_parts(geoms, return_index=True)
    keep = (shapely.get_type_id(parts) == _POLYGON) & ~shapely.is_empty(parts)
    parts, owner = parts[keep], owner[keep]
    area = shapely.area(parts)
    keep = area > 0
    return parts[keep], owner[keep]


def polygonal(geom):
    """The polygonal part of ``geom`` as a valid Polygon or MultiPolygon."""
    if not shapely.is_valid(geom):
        geom = shapely.make_valid(geom)
    parts, _ = _polygon_parts(np.array([geom]))
    if len(parts) == 1:
        return parts[0]
    return shapely.multipolygons(parts)


def _shared_length(a, b) -> float:
    return float(shapely.length(shapely.intersection(shapely.boundary(a), shapely.buffer(b, _MERGE_TOL))))


def partition(parent, sx: np.ndarray, sy: np.ndarray, frame: Frame, sliver: float = 0.01) -> tuple[list, np.ndarray]:
    """Clip the Voronoi cells of seeds (km, in ``frame``) to ``parent``.

    Returns ``(cells, kept)``: the child geometries and, for each, the index of
    its seed. Seeds whose cell vanished or was merged away are not in ``kept``.
    """
    n = len(sx)
    if n <= 1:
        return [parent], np.arange(min(n, 1))
    minx, miny, maxx, maxy = shapely.bounds(parent)
    (x0, x1), (y0, y1) = frame.to_km([minx, maxx], [miny, maxy])
    x0, x1 = min(x0, sx.min()), max(x1, sx.max())
    y0, y1 = min(y0, sy.min()), max(y1, sy.max())
    pad = max(x1 - x0, y1 - y0) + 1.0
    env = shapely.box(x0 - pad, y0 - pad, x1 + pad, y1 + pad)
    vor = shapely.voronoi_polygons(shapely.multipoints(np.column_stack([sx, sy])), extend_to=env, ordered=True)
    cells = shapely.get_parts(vor)
    if len(cells) != n:  # GEOS merges duplicate seeds; subdivide() never passes any
        raise ValueError("seeds must be distinct")
    kx, ky, lon0, lat0 = frame.kx, frame.ky, frame.lon0, frame.lat0
    cells = shapely.transform(cells, lambda c: c / (kx, ky) + (lon0, lat0))

    shapely.prepare(parent)
    inside = shapely.contains_properly(parent, cells)
    clipped = cells.copy()
    if (~inside).any():
        clipped[~inside] = shapely.intersection(cells[~inside], parent)

    parts, owner = _polygon_parts(clipped)
    area = shapely.area(parts)
    cell_area = np.bincount(owner, area, minlength=n)
    alive = cell_area > 0
    if not alive.any():
        return [parent], np.array([0])
    threshold = sliver * float(np.median(cell_area[alive]))
    alive &= cell_area >= threshold

    # The main (largest) part of every cell.
    order = np.lexsort((-area, owner))
    first = np.ones(len(order), dtype=bool)
    first[1:] = owner[order][1:] != owner[order][:-1]
    main_area = np.zeros(n)
    main_area[owner[order][first]] = area[order][first]
    is_main = np.zeros(len(parts), dtype=bool)
    is_main[order[first]] = True

    # Orphans: every part of a dropped cell, and small detached fragments.
    orphan = ~alive[owner] | (~is_main & (area < 0.25 * main_area[owner]))
    new_owner = owner.copy()
    if orphan.any():
        stay = np.flatnonzero(~orphan)
        tree = shapely.STRtree(parts[stay])
        for i in np.flatnonzero(orphan):
            cand = stay[tree.query(parts[i], predicate="dwithin", distance=_MERGE_TOL)]
            cand = cand[owner[cand] != owner[i]] if alive[owner[i]] else cand
            if len(cand):
                lengths = [_shared_length(parts[i], parts[j]) for j in cand]
                best = int(np.argmax(lengths))
                if lengths[best] > 0:
                    new_owner[i] = owner[cand[best]]
                    continue
            if not alive[owner[i]]:  # an isolated bit of a dropped cell: nearest survivor
                new_owner[i] = owner[stay[tree.query_nearest(parts[i])[0]]]

    kept = np.flatnonzero(alive)
    out = []
    for k in kept:
        mine = parts[new_owner == k]
        geom = mine[0] if len(mine) == 1 else shapely.union_all(mine)
        out.append(polygonal(geom))
    return out, kept


def spatial_order(geoms, frame: Frame) -> np.ndarray:
    """Stable north-west-first order of geometries (by their surface points)."""
    pts = shapely.point_on_surface(np.asarray(geoms, dtype=object))
    x, y = frame.to_km(shapely.get_x(pts), shapely.get_y(pts))
    return np.lexsort((x, np.round(x - y, 6)))


def subdivide(
    parent,
    n: int,
    rng: np.random.Generator,
    density: Density | None = None,
    bound: float | None = None,
    *,
    samples_per_cell: int = 20,
    steps: int = 2,
    samples: tuple[np.ndarray, np.ndarray] | None = None,
    frame: Frame | None = None,
) -> list:
    """Split ``parent`` into about ``n`` cells (fewer if some were merged away).

    ``samples`` (lon, lat inside ``parent``, drawn from the density) may be
    given; otherwise they are drawn here. The cells are returned in
    :func:`spatial_order`.
    """
    if n <= 1:
        return [parent]
    frame = frame or Frame.around(parent)
    if samples is None or len(samples[0]) < 3 * n:
        samples = sample_points(parent, samples_per_cell * n, rng, density, bound)
    px, py = frame.to_km(*samples)
    n = min(n, len(px))
    sx, sy = lloyd_seeds(px, py, n, rng, steps)
    sx, sy = _snap_inside(parent, sx, sy, px, py, frame)
    cells, _ = partition(parent, sx, sy, frame)
    return [cells[i] for i in spatial_order(cells, frame)]


def _snap_inside(parent, sx, sy, px, py, frame: Frame) -> tuple[np.ndarray, np.ndarray]:
    """Move seeds that fell outside a concave parent onto their nearest sample."""
    lon, lat = frame.to_deg(sx, sy)
    outside = ~shapely.contains_xy(parent, lon, lat)
    if outside.any():
        j = nearest(sx[outside], sy[outside], px, py)
        sx, sy = sx.copy(), sy.copy()
        sx[outside], sy[outside] = px[j], py[j]
    # Seeds must be distinct for the Voronoi diagram.
    xy = np.round(np.column_stack([sx, sy]), 9)
    _, first = np.unique(xy, axis=0, return_index=True)
    if len(first) < len(sx):
        dup = np.setdiff1d(np.arange(len(sx)), first)
        sx, sy = sx.copy(), sy.copy()
        sx[dup] += 1e-6 * (1 + np.arange(len(dup)))
    return sx, sy


def allocate(total: int, weights, minimum=0) -> np.ndarray:
    """Integers ≥ ``minimum`` summing to ``total``, otherwise ∝ ``weights`` (largest remainder)."""
    w = np.asarray(weights, dtype=float)
    n = len(w)
    base = np.broadcast_to(np.asarray(minimum, dtype=np.int64), (n,)).copy()
    if base.sum() > total:  # cannot honour the minimum: shrink it evenly
        base = np.minimum(base, max(total // max(n, 1), 0))
    rest = total - int(base.sum())
    if rest <= 0 or n == 0:
        return base
    w = np.where(w > 0, w, 0.0)
    if w.sum() <= 0:
        w = np.ones(n)
    exact = rest * w / w.sum()
    share = np.floor(exact).astype(np.int64)
    left = rest - int(share.sum())
    if left > 0:
        order = np.lexsort((np.arange(n), -(exact - share)))
        share[order[:left]] += 1
    return base + share


def assign(geoms: Sequence, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """For each point the index of the geometry containing it (-1 if none)."""
    lab = np.full(len(x), -1, dtype=np.int64)
    for i, g in enumerate(geoms):
        minx, miny, maxx, maxy = shapely.bounds(g)
        cand = np.flatnonzero((lab < 0) & (x >= minx) & (x <= maxx) & (y >= miny) & (y <= maxy))
        if len(cand):
            shapely.prepare(g)
            lab[cand[shapely.contains_xy(g, x[cand], y[cand])]] = i
    return lab


def integrate(geom, func: Density, powers: Sequence[float], points: int = 20_000) -> np.ndarray:
    """∫ func ** p over ``geom`` (km²) for each power, by the midpoint rule."""
    frame = Frame.around(geom)
    minx, miny, maxx, maxy = shapely.bounds(geom)
    area = float(frame.area_km2(geom))
    h = np.sqrt(area / points)  # km
    xs = np.arange(minx + h / frame.kx / 2, maxx, h / frame.kx)
    ys = np.arange(miny + h / frame.ky / 2, maxy, h / frame.ky)
    gx, gy = (a.ravel() for a in np.meshgrid(xs, ys))
    shapely.prepare(geom)
    inside = shapely.contains_xy(geom, gx, gy)
    vals = func(gx[inside], gy[inside])
    cell = area / max(int(inside.sum()), 1)  # exact total area, midpoint values
    return np.array([np.sum(vals**p) * cell for p in powers])


def split_each(
    parents: Sequence,
    n_total: int,
    region,
    rng: np.random.Generator,
    density: Density,
    bound: float,
    min_children: int,
    frame: Frame,
    samples_per_cell: int = 20,
) -> list[list]:
    """Subdivide every parent (together a partition of ``region``): ``n_total`` children in all.

    The children are shared out in proportion to the density's mass in each
    parent (estimated by one set of density samples over the whole region,
    which then also serve the k-means of every parent).
    """
    x, y = sample_points(region, samples_per_cell * n_total, rng, density, bound)
    lab = assign(parents, x, y)
    counts = allocate(n_total, np.bincount(lab[lab >= 0], minlength=len(parents)), min_children)
    out = []
    for i, parent in enumerate(parents):
        mine = lab == i
        out.append(subdivide(parent, int(counts[i]), rng, density, bound, samples=(x[mine], y[mine]), frame=frame))
    return out
