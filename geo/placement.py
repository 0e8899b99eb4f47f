"""Bulk point-in-polygon placement: which region holds each point.

:class:`RegionIndex` answers, for millions of points at once, "the code of the
finest-level region containing this point". It keeps one ``shapely.STRtree``
per level and works from the finest level to the coarsest, so a point inside
a grid is settled by the grid tree and only the points outside every grid are
looked up again one level up (a city with only some levels loaded works the
same way: levels without regions are simply absent).

Per level the tree gives the candidates whose bounding box holds the point;
each candidate is then tested exactly with ``intersects`` against the
*prepared* region geometry, so a point on a boundary belongs to every region
it touches. Among several regions of the finest matching level the lowest
code wins, which makes shared boundaries deterministic.

All geometries are WGS84 longitude/latitude.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import shapely

from data_access.scope import LEVELS

__all__ = ["RegionIndex"]

# Points per batch: bounds the memory of the candidate pairs.
_BATCH = 250_000


class _Level:
    """The regions of one level, sorted by code (so a lower index is a lower code)."""

    __slots__ = ("level", "codes", "geoms", "tree")

    def __init__(self, level: str, codes: np.ndarray, geoms: np.ndarray):
        order = np.argsort(codes, kind="stable")
        self.level = level
        self.codes = codes[order]
        self.geoms = geoms[order]
        shapely.prepare(self.geoms)
        self.tree = shapely.STRtree(self.geoms)

    def locate(self, points: np.ndarray) -> np.ndarray:
        """For each point, the index of the lowest-code region touching it, or -1."""
        out = np.full(len(points), -1, dtype=np.int64)
        if len(points) == 0 or len(self.codes) == 0:
            return out
        pidx, tidx = self.tree.query(points)  # bounding boxes only
        if len(pidx) == 0:
            return out
        hit = shapely.intersects(self.geoms[tidx], points[pidx])  # prepared, exact
        pidx, tidx = pidx[hit], tidx[hit]
        if len(pidx) == 0:
            return out
        order = np.lexsort((tidx, pidx))
        pidx, tidx = pidx[order], tidx[order]
        first = np.ones(len(pidx), dtype=bool)
        first[1:] = pidx[1:] != pidx[:-1]
        out[pidx[first]] = tidx[first]
        return out


class RegionIndex:
    """A spatial index of regions at one or more levels.

    Build it with :meth:`build`; :meth:`assign` places points.
    """

    def __init__(self, levels: list[_Level]):
        # finest first
        self._levels = sorted(levels, key=lambda lv: -LEVELS.index(lv.level))

    @classmethod
    def build(cls, codes: Iterable, levels: Iterable, geometries: Iterable) -> "RegionIndex":
        """An index of regions: their codes, levels (from ``LEVELS``) and shapely geometries (WGS84).

        Regions whose geometry is None or empty are left out (they contain nothing).
        """
        codes = np.asarray([str(c) for c in codes], dtype=object)
        levels = np.asarray(list(levels), dtype=object)
        geoms = np.empty(len(codes), dtype=object)
        geoms[:] = list(geometries)
        if not (len(codes) == len(levels) == len(geoms)):
            raise ValueError(
                f"codes, levels and geometries differ in length ({len(codes)}, {len(levels)}, {len(geoms)})"
            )
        unknown = sorted(set(levels.tolist()) - set(LEVELS))
        if unknown:
            raise ValueError(f"unknown level(s) {', '.join(map(repr, unknown))}; expected one of {', '.join(LEVELS)}")
        keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        per_level = []
        for level in LEVELS:
            sel = keep & (levels == level)
            if sel.any():
                per_level.append(_Level(level, codes[sel], geoms[sel]))
        return cls(per_level)

    @property
    def levels(self) -> list[str]:
        """The levels that have regions, finest first."""
        return [lv.level for lv in self._levels]

    def __len__(self) -> int:
        return sum(len(lv.codes) for lv in self._levels)

    def assign(self, lon, lat) -> np.ndarray:
        """For each point the code of the finest-level region containing it.

        ``lon``/``lat`` are array-likes of equal length (WGS84). Returns an
        object array of codes, ``None`` where no region contains the point or
        its coordinates are NaN/infinite. A point on a shared boundary goes to
        the lowest code among the regions of the finest level it touches.
        """
        lon = np.asarray(lon, dtype=float).ravel()
        lat = np.asarray(lat, dtype=float).ravel()
        if lon.shape != lat.shape:
            raise ValueError(f"lon and lat differ in length ({len(lon)}, {len(lat)})")
        out = np.full(len(lon), None, dtype=object)
        valid = np.flatnonzero(np.isfinite(lon) & np.isfinite(lat))
        for start in range(0, len(valid), _BATCH):
            idx = valid[start:start + _BATCH]
            points = shapely.points(lon[idx], lat[idx])
            todo = np.arange(len(idx))
            for level in self._levels:
                if len(todo) == 0:
                    break
                found = level.locate(points[todo])
                hit = found >= 0
                out[idx[todo[hit]]] = level.codes[found[hit]]
                todo = todo[~hit]
        return out
