"""Hotspot queries: repeat appeals (重复诉求), emerging hotspots (新发热点) and hexagon bins.

docs/hotspots.md explains each detector, its rule or statistical test, its
parameters and its limits. Like ``queries``, every function takes the
analytics store's connection, a scope and the as-of time, aggregates in SQL
(through ``runner.run``) and returns a small DataFrame; only the last steps
(hashing ids, the Poisson test) run in Python over already-aggregated rows.

* ``repeat_clusters`` / ``cluster_appeals``: chains of appeals about the same
  place and category, each within ``window_days`` of the previous one.
* ``emerging_hotspots``: units (regions at a level) × category whose count in
  the last ``window_days`` is significantly above their own seasonal baseline.
* ``hex_bins``: appeal points counted per hexagon (the map layer is
  ``geo.hexbins.hexagon_layer``).
* ``hotspot_summary``: the two detectors' headline counts for a tile.

The code lives in ``hotspots_repeats``, ``hotspots_emerging`` and
``hotspots_hex``; import everything from here. The SQL targets the analytics
store (DuckDB); its window functions and ordered list aggregate are not meant
for the system-of-record views.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from .hotspots_emerging import (HOTSPOT_COLUMNS, MAX_YEARS, PRIOR_COUNT, RECENT_WINDOWS, SEASONAL_SHIFTS_WEEKS,
                                emerging_hotspots, poisson_sf)
from .hotspots_hex import hex_bins, hex_mid_lat
from .hotspots_repeats import CLUSTER_APPEAL_COLUMNS, M_PER_DEG, REPEAT_COLUMNS, cluster_appeals, repeat_clusters
from .scope import Period, Scope

__all__ = [
    "CLUSTER_APPEAL_COLUMNS", "HOTSPOT_COLUMNS", "MAX_YEARS", "M_PER_DEG", "PRIOR_COUNT", "RECENT_WINDOWS",
    "REPEAT_COLUMNS", "SEASONAL_SHIFTS_WEEKS", "cluster_appeals", "emerging_hotspots", "hex_bins", "hex_mid_lat",
    "hotspot_summary", "poisson_sf", "repeat_clusters",
]


def hotspot_summary(conn, scope: Scope, as_of: dt.datetime, *, window_days: int = 7, level: str = "grid",
                    repeat_days: int = 30) -> pd.Series:
    """Headline figures for a tile: emerging hotspots now and repeat clusters of the last ``repeat_days``.

    Keys: ``emerging`` (flagged unit × category pairs, default parameters of
    ``emerging_hotspots``), ``emerging_top`` (the most significant one as
    "<name>·<category> <observed>件", or None), ``tested``, ``mode``,
    ``window_start``, ``window_end``; ``repeat_clusters`` (clusters of ≥ 3
    in the repeat period), ``repeat_appeals`` (appeals in them),
    ``repeat_period`` (its ``Period``).
    """
    hot = emerging_hotspots(conn, scope, as_of, window_days=window_days, level=level, limit=None)
    period = Period(as_of - dt.timedelta(days=repeat_days), None)
    rep = repeat_clusters(conn, scope, period, as_of, limit=None)
    top = None if hot.empty else f"{hot['name'].iloc[0]}·{hot['category'].iloc[0]} {int(hot['observed'].iloc[0])}件"
    return pd.Series({
        "emerging": int(len(hot)),
        "emerging_top": top,
        "tested": int(hot.attrs.get("tested", 0)),
        "mode": hot.attrs.get("mode", "none"),
        "window_start": hot.attrs.get("window_start"),
        "window_end": hot.attrs.get("window_end"),
        "repeat_clusters": int(len(rep)),
        "repeat_appeals": int(rep["count"].sum()) if len(rep) else 0,
        "repeat_period": period,
    }, dtype=object)
