"""Map layers for pydeck: region shapes, choropleth colours, heat, view.

The map works without a basemap (government halls are often offline): the
region outlines are the map. A raster tile URL is optional configuration.
The payload stays small at any scale: shapes are simplified and rounded, and
a view never ships more than ``MAX_FEATURES`` polygons.
"""

from __future__ import annotations

import json
import math
from urllib.parse import quote
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pydeck as pdk
import shapely

# a map shows at most this many polygons; finer levels are left for drill-down
MAX_FEATURES = 4000
# decimal places kept in coordinates (5 ≈ 1 m)
COORD_DECIMALS = 5

# sequential palette on a dark background: low = deep blue, high = hot orange
PALETTE = [
    (33, 102, 172),
    (67, 147, 195),
    (146, 197, 222),
    (253, 219, 199),
    (244, 165, 130),
    (214, 96, 77),
    (178, 24, 43),
]
NO_DATA = (60, 70, 90)


@dataclass(frozen=True)
class Bounds:
    west: float
    south: float
    east: float
    north: float

    @property
    def center(self) -> tuple[float, float]:
        return (self.west + self.east) / 2, (self.south + self.north) / 2


def _geometries(shapes: pd.DataFrame) -> np.ndarray:
    """Validated shapely geometries from a WKB column; bad rows are refused loudly."""
    if "geometry" not in shapes:
        raise ValueError("shapes need a 'geometry' column of WKB")
    geoms = shapely.from_wkb(shapes["geometry"].to_numpy(), on_invalid="ignore")
    bad = [code for code, g in zip(shapes.get("code", range(len(geoms))), geoms) if g is None]
    if bad:
        raise ValueError(f"regions without a readable geometry: {', '.join(map(str, bad[:10]))}")
    return geoms


def map_level(counts: dict[str, int], levels_below: list[str]) -> str | None:
    """The finest of ``levels_below`` whose polygons fit on one map (``counts``: regions per level)."""
    usable = [lvl for lvl in levels_below if 0 < counts.get(lvl, 0) <= MAX_FEATURES]
    return usable[-1] if usable else None


def bounds_of(shapes: pd.DataFrame) -> Bounds | None:
    if shapes.empty:
        return None
    west, south, east, north = shapely.total_bounds(_geometries(shapes))
    if not all(math.isfinite(v) for v in (west, south, east, north)):
        return None
    return Bounds(float(west), float(south), float(east), float(north))


def tolerance_for(bounds: Bounds, count: int) -> float:
    """Simplification tolerance in degrees: about 1/1500 of the view, finer with fewer shapes."""
    span = max(bounds.east - bounds.west, bounds.north - bounds.south)
    return span / (1500 if count > 500 else 4000)


def features(shapes: pd.DataFrame, values: pd.DataFrame | None = None, *, tolerance: float = 0.0) -> list[dict]:
    """GeoJSON features of the shapes, simplified, with properties from ``values`` (joined on code)."""
    if shapes.empty:
        return []
    geoms = _geometries(shapes)
    if tolerance > 0:
        geoms = shapely.simplify(geoms, tolerance, preserve_topology=True)
    geoms = shapely.transform(geoms, lambda xy: np.round(xy, COORD_DECIMALS))
    props = shapes.drop(columns=["geometry"])
    if values is not None:
        props = props.merge(values, on="code", how="left", suffixes=("", "_v"))
    records = props.to_dict("records")
    out = []
    for geom, record in zip(geoms, records):
        if geom is None or geom.is_empty:
            continue
        clean = {k: _jsonable(v) for k, v in record.items()}
        out.append({"type": "Feature", "geometry": json.loads(shapely.to_geojson(geom)), "properties": clean})
    return out


def _jsonable(value):
    if value is None:
        return None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else round(float(value), 4)
    if isinstance(value, (pd.Timestamp,)):
        return value.isoformat()
    return value


# the colour of every region when the values hardly differ (no class would mean anything)
NEUTRAL = (96, 125, 160)
# below this relative spread ((max - min) / max) the values are shown as one colour
NO_SPREAD = 0.05
# with fewer regions than this, classes are equal intervals of the range (quantiles of a handful of
# values would paint 157 and 163 as opposite ends of the scale)
FEW = 12


@dataclass(frozen=True)
class Classes:
    """The colour of each value, and how the classes were made (for an honest legend)."""

    colors: list[list[int]]
    breaks: list[float]  # the upper bound of every class but the last
    method: str  # "quantile" | "equal" | "none" (no spread: one neutral colour) | "empty"
    low: float | None  # the data's range
    high: float | None


def classify(values: pd.Series, palette=PALETTE) -> Classes:
    """Colour classes that reflect the real spread of the values.

    * no spread (all equal, or within ``NO_SPREAD`` of each other): one neutral colour;
    * a handful of regions (fewer than ``FEW``): equal intervals of [min, max];
    * otherwise quantile classes, each holding about as many regions.

    Class k holds the values in (break k-1, break k]: a value equal to a break takes the lower class, so
    regions sharing the lowest value are all "low".
    """
    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    finite = v[np.isfinite(v)]
    if finite.size == 0:
        return Classes([[*NO_DATA, 120] for _ in v], [], "empty", None, None)
    low, high = float(finite.min()), float(finite.max())
    scale = max(abs(low), abs(high))
    if high - low <= NO_SPREAD * scale or high == low:
        colors = [[*NEUTRAL, 190] if np.isfinite(x) else [*NO_DATA, 120] for x in v]
        return Classes(colors, [], "none", low, high)
    k = len(palette)
    if finite.size < FEW:
        breaks = low + (high - low) * np.arange(1, k) / k
        method = "equal"
    else:
        breaks = np.quantile(finite, np.arange(1, k) / k)
        method = "quantile"
    classes = np.searchsorted(breaks, v, side="left")
    colors = [[*palette[c], 190] if np.isfinite(x) else [*NO_DATA, 120] for x, c in zip(v, classes)]
    return Classes(colors, [float(b) for b in breaks], method, low, high)


def quantile_colors(values: pd.Series, palette=PALETTE) -> tuple[list[list[int]], list[float]]:
    """A colour per value by quantile class, and the class breaks (hexagon counts: many values, any spread)."""
    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    finite = v[np.isfinite(v)]
    if finite.size == 0:
        return [[*NO_DATA, 120] for _ in v], []
    breaks = np.quantile(finite, np.arange(1, len(palette)) / len(palette))
    classes = np.searchsorted(breaks, v, side="left")
    colors = [[*palette[c], 190] if np.isfinite(x) else [*NO_DATA, 120] for x, c in zip(v, classes)]
    return colors, [float(b) for b in breaks]


def choropleth_layer(feats: list[dict], layer_id: str = "choropleth") -> pdk.Layer:
    return pdk.Layer(
        "GeoJsonLayer",
        {"type": "FeatureCollection", "features": feats},
        id=layer_id,
        pickable=True,
        stroked=True,
        filled=True,
        get_fill_color="properties.fill",
        get_line_color=[10, 20, 40, 160],
        line_width_min_pixels=0.3,
        auto_highlight=True,
        highlight_color=[255, 255, 255, 90],
    )


def pickable_outline(feats: list[dict], layer_id: str = "children-pick") -> pdk.Layer:
    """Invisible fills that still take clicks (to drill down while another layer colours the map)."""
    return pdk.Layer(
        "GeoJsonLayer",
        {"type": "FeatureCollection", "features": feats},
        id=layer_id,
        pickable=True,
        stroked=False,
        filled=True,
        get_fill_color=[0, 0, 0, 1],
    )


def outline_layer(feats: list[dict], *, color, width_px: float, layer_id: str) -> pdk.Layer:
    return pdk.Layer(
        "GeoJsonLayer",
        {"type": "FeatureCollection", "features": feats},
        id=layer_id,
        pickable=False,
        stroked=True,
        filled=False,
        get_line_color=list(color),
        line_width_min_pixels=width_px,
    )


def heat_layer(bins: pd.DataFrame, layer_id: str = "heat") -> pdk.Layer:
    """Binned counts (cell centres) as a heat map; short keys and rounded centres keep it small."""
    data = pd.DataFrame({"x": bins["lon"].round(COORD_DECIMALS), "y": bins["lat"].round(COORD_DECIMALS),
                         "n": bins["count"].astype(int)})
    return pdk.Layer(
        "HeatmapLayer",
        data.to_dict("records"),
        id=layer_id,
        get_position=["x", "y"],
        get_weight="n",
        radius_pixels=28,
        intensity=1.0,
        # only real concentrations glow, and faintly enough that the region colours under them still read
        threshold=0.3,
        opacity=0.35,
        aggregation="SUM",
    )


def heat_cell_deg(bounds: Bounds) -> float:
    """Bin size for the heat layer: about 1/250 of the view's span."""
    span = max(bounds.east - bounds.west, bounds.north - bounds.south)
    return max(span / 250.0, 0.0005)


def fit_view(bounds: Bounds, width_px: int = 1100, height_px: int = 800, padding: float = 0.06) -> pdk.ViewState:
    """The web-mercator zoom that fits the bounds into the map's pixel size."""
    lon, lat = bounds.center
    lon_span = max(bounds.east - bounds.west, 1e-6) * (1 + 2 * padding)
    y0, y1 = (_merc_y(bounds.south), _merc_y(bounds.north))
    y_span = max(abs(y1 - y0), 1e-9) * (1 + 2 * padding)
    # deck.gl's world is 512 px wide at zoom 0
    zoom_x = math.log2(width_px * 360.0 / (512.0 * lon_span))
    zoom_y = math.log2(height_px * 2 * math.pi / (512.0 * y_span))
    return pdk.ViewState(longitude=lon, latitude=lat, zoom=round(min(zoom_x, zoom_y), 2), pitch=0, bearing=0)


def _merc_y(lat: float) -> float:
    lat = max(min(lat, 85.0), -85.0)
    return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def tile_style_url(tile_url: str) -> str:
    """A MapLibre style with one raster tile source, as a data: URL (the optional online basemap)."""
    style = {
        "version": 8,
        "sources": {"basemap": {"type": "raster", "tiles": [tile_url], "tileSize": 256}},
        "layers": [{"id": "basemap", "type": "raster", "source": "basemap"}],
    }
    return "data:application/json;charset=utf-8," + quote(json.dumps(style, separators=(",", ":")))


class CompactDeck(pdk.Deck):
    """A deck whose JSON is compact UTF-8: pydeck's own pretty-prints with ASCII escapes,
    which makes the map about three times larger on the wire."""

    def to_json(self) -> str:
        from pydeck.bindings.json_tools import default_serialize

        return json.dumps(self, default=default_serialize, separators=(",", ":"), ensure_ascii=False)


def make_deck(layers: list[pdk.Layer], view: pdk.ViewState, *, tooltip: dict | None = None,
              tile_url: str = "") -> pdk.Deck:
    """A deck with no basemap (offline), or the configured raster tiles.

    pydeck's default style value tells Streamlit to draw no basemap at all;
    ``map_style=None`` would make it fetch CARTO's, a foreign CDN.
    """
    options = {"map_provider": "carto", "map_style": tile_style_url(tile_url)} if tile_url else {"map_provider": None}
    return CompactDeck(layers=layers, initial_view_state=view, tooltip=tooltip or False, **options)


def points_layer(points: pd.DataFrame, layer_id: str = "points") -> pdk.Layer:
    """Appeals as dots (columns lon, lat, color; the rest goes to the tooltip)."""
    return pdk.Layer(
        "ScatterplotLayer",
        points.to_dict("records"),
        id=layer_id,
        get_position=["lon", "lat"],
        get_fill_color="color",
        get_radius=12,
        radius_min_pixels=3,
        radius_max_pixels=9,
        pickable=True,
        stroked=True,
        get_line_color=[7, 20, 43, 200],
        line_width_min_pixels=1,
    )
