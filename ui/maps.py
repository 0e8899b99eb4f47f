"""The map panel: choropleth of 每万人诉求量, heat of recent appeals, outlines, legend."""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import streamlit as st

from data_access import cached
from data_access.scope import LEVEL_LABELS, Period, Scope, levels_below
from geo import layers

from . import format as fmt
from . import widgets
from .text import markup

OUTLINE_STYLE = {  # colour and width by rank: the coarsest outline is the brightest
    0: ((120, 220, 255, 230), 2.2),
    1: ((200, 220, 255, 120), 1.0),
}

TOOLTIP = {
    "html": "<b>{name}</b><br/>受理 {received_s} · 每万人 {per_10k_s}<br/>"
            "办结率 {completion_s} · 满意率 {satisfaction_s}<br/>超期（本期受理） {overdue_s}",
    "style": {"backgroundColor": "#0d1f3d", "color": "#dbe7ff", "fontSize": "13px", "border": "1px solid #1d3b66"},
}


def _fields(tooltip: dict) -> list[str]:
    """The properties a tooltip's template shows: ``{name}`` → name."""
    return re.findall(r"{(\w+)}", tooltip.get("html") or tooltip.get("text") or "")


def for_tooltip(features: list[dict], tooltip: dict = TOOLTIP) -> list[dict]:
    """Copies of ``features`` whose properties named in the tooltip are escaped for HTML.

    deck.gl writes a tooltip's ``html`` into the page as HTML, with each ``{field}`` replaced as it is: a
    region named ``<img src=…>`` would load an outside image (or run a handler). Escaped, the name reads
    as those characters. Every feature or point behind a tooltip goes through this (or ``points_for_tooltip``).
    """
    fields = _fields(tooltip)
    out = []
    for f in features:
        props = dict(f["properties"])
        for field in fields:
            if field in props:
                props[field] = markup(props[field])
        out.append({**f, "properties": props})
    return out


def points_for_tooltip(points: pd.DataFrame, tooltip: dict) -> pd.DataFrame:
    """``points`` (a row per dot) with the columns the tooltip shows escaped for HTML (see ``for_tooltip``)."""
    return points.assign(**{c: [markup(v) for v in points[c]] for c in _fields(tooltip) if c in points})


def territory_name(key) -> str:
    roots = cached.top_regions(key)
    return str(roots["name"].iloc[0]) if len(roots) == 1 else "全域"


def _outline_levels(below: list[str], level: str) -> list[str]:
    coarser = [lvl for lvl in below[: below.index(level)] if lvl != "community"]
    return coarser[-2:]


def colour_measure(values) -> tuple[str, str]:
    """What the map colours by: 每万人诉求量, or 受理量 where the regions have no population."""
    if values["per_10k"].notna().any():
        return "per_10k", "每万人诉求量"
    return "received", "受理量"


def _with_values(feats: list[dict], values, measure: str) -> list[dict]:
    """Copies of the features with this period's figures and colours as properties."""
    colors = layers.classify(values[measure]).colors
    by_code = {}
    for (_, row), color in zip(values.iterrows(), colors):
        by_code[row["code"]] = {
            "fill": color,
            "received": int(row["received"]),
            "received_s": fmt.count(row["received"]),
            "per_10k_s": fmt.per_10k(row["per_10k"]),
            "completion_s": fmt.rate(row["completion_rate"]),
            "satisfaction_s": fmt.rate(row["satisfaction_rate"]),
            "overdue_s": fmt.count(row["overdue_open"]),
        }
    out = []
    for f in feats:
        props = {**f["properties"], **by_code.get(f["properties"]["code"], {"fill": [*layers.NO_DATA, 120]})}
        out.append({"type": "Feature", "geometry": f["geometry"], "properties": props})
    return for_tooltip(out)


def build_deck(key, scope: Scope, period: Period, as_of: dt.datetime, *, tile_url: str = ""):
    """The deck for the scope, its choropleth level, its colour classes and the measure's label."""
    counts = cached.level_counts(key, scope)
    below = levels_below(counts, scope)
    level = layers.map_level(counts, below)
    if level is None:
        return None, None, [], ""
    feats, bounds = cached.shapes(key, scope, level)
    if bounds is None:
        return None, level, [], ""
    values = cached.children(key, scope, period, as_of, level)
    measure, measure_label = colour_measure(values)
    classes = layers.classify(values[measure])
    deck_layers = [layers.choropleth_layer(_with_values(feats, values, measure))]
    from .region import hotspot_outline_layer

    hot = hotspot_outline_layer(key, scope, as_of)
    recent = Period.preset("7d", as_of.date())
    bins = cached.heat_bins(key, scope, recent, as_of, layers.heat_cell_deg(bounds))
    if not bins.empty:
        deck_layers.append(layers.heat_layer(bins))
    outlines = _outline_levels(below, level)  # coarsest first; drawn last, on top
    for rank, lvl in reversed(list(enumerate(outlines))):
        outline, _ = cached.shapes(key, scope, lvl)
        color, width = OUTLINE_STYLE[min(rank, 1)]
        deck_layers.append(layers.outline_layer(outline, color=color, width_px=width, layer_id=f"outline-{lvl}"))
    if hot is not None:  # on top of everything
        deck_layers.append(hot)
    deck = layers.make_deck(deck_layers, layers.fit_view(bounds, 1000, 880), tooltip=TOOLTIP, tile_url=tile_url)
    return deck, level, classes, measure_label


def render(key, scope: Scope, period: Period, period_label: str, as_of: dt.datetime, *, height: int,
           tile_url: str = "") -> None:
    deck, level, classes, measure_label = build_deck(key, scope, period, as_of, tile_url=tile_url)
    if deck is None:
        widgets.empty_state("该范围没有可显示的区域边界。", "导入边界：python -m data_access import-regions …")
        return
    widgets.panel_title(f"{LEVEL_LABELS[level]}诉求分布", f"{period_label}{measure_label} · 热力为近7天 · 红框为新发热点")
    st.pydeck_chart(deck, height=height, key="bigmap")
    widgets.legend(classes, layers.PALETTE, measure_label, fmt.count if measure_label == "受理量" else fmt.per_10k)
