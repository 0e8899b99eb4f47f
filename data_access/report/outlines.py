"""The outlines the slides' maps are drawn from: the regions' boundaries in the store, simplified."""

from __future__ import annotations

import shapely
from shapely.geometry import shape

from .. import queries
from ..scope import Scope

TOLERANCE_SHARE = 1 / 800  # of the map's span: finer than a slide shows


def outlines(conn, scope: Scope, level: str | None) -> dict[str, object]:
    """code → shapely geometry of the scope's regions at ``level`` (empty when ``level`` is None)."""
    if level is None:
        return {}
    df = queries.region_shapes(conn, scope, level)
    if df.empty:
        return {}
    geoms = shapely.from_wkb(df["geometry"].to_numpy(), on_invalid="ignore")
    found = {str(c): g for c, g in zip(df["code"], geoms) if g is not None and not g.is_empty}
    return simplified(found)


def from_features(features: list[dict]) -> dict[str, object]:
    """code → shapely geometry from GeoJSON features whose properties hold ``code``."""
    return {str(f["properties"]["code"]): shape(f["geometry"]) for f in features
            if f.get("geometry") and f.get("properties", {}).get("code") is not None}


def simplified(found: dict[str, object]) -> dict[str, object]:
    if not found:
        return {}
    west, south, east, north = shapely.total_bounds(list(found.values()))
    tolerance = max(east - west, north - south) * TOLERANCE_SHARE
    return {code: shapely.simplify(g, tolerance, preserve_topology=True) for code, g in found.items()}
