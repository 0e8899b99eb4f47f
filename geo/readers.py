"""Reading boundary files: GeoJSON, GeoPackage, Shapefile (plain or zipped) and CSV with WKT.

:func:`read_layer` returns the layer as read (no reprojection) together with
the coordinate reference system the *file declares*, or ``None`` when it
declares none. Deciding what to do about a missing CRS is the caller's job
(see :mod:`data_access.importers.regions`).

Two things about Chinese boundary files shape this module:

* A GeoJSON without a ``crs`` member is WGS84 by the GeoJSON specification,
  and GDAL reports EPSG:4326 for it. But GeoJSON exported from Amap, Tencent
  or Baidu data is GCJ-02 or BD-09 and never says so, so here a GeoJSON
  without an explicit ``crs`` member declares **no** CRS. A legacy ``crs``
  member (``{"type": "name", "properties": {"name": "EPSG:3857"}}``) is
  honoured.
* Shapefiles without a ``.cpg`` file are often GBK-encoded. GDAL then reads
  their text as ISO-8859-1; such text is decoded again as UTF-8 or GB18030
  when it is valid in one of them.
"""

from __future__ import annotations

import json
import mmap
import re
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

__all__ = ["BoundaryFileError", "read_layer", "looks_like_lonlat", "SUPPORTED_SUFFIXES", "WKT_COLUMNS"]

SUPPORTED_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".zip", ".csv")
# Column names (case-insensitive) that hold WKT in a CSV, in order of preference.
WKT_COLUMNS = ("wkt", "geometry", "geom", "the_geom")

_EWKT_SRID = re.compile(r"^\s*SRID=(\d+)\s*;\s*", re.IGNORECASE)


class BoundaryFileError(ValueError):
    """A boundary file that cannot be read; the message names the file and the reason."""

    def __init__(self, path, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


def read_layer(path: str | Path) -> tuple[gpd.GeoDataFrame, str | None]:
    """Read a boundary file: ``(layer, declared CRS or None)``.

    Supported: GeoJSON (``.geojson``, ``.json``), GeoPackage (``.gpkg``, its
    first layer), Shapefile (``.shp``), a zipped Shapefile (``.zip``, its
    first layer) and CSV with a WKT column (``wkt``, ``geometry``, ``geom`` or
    ``the_geom``; the other columns become properties, read as text so codes
    keep their leading zeros). The declared CRS is a string pyproj understands,
    ``"EPSG:NNNN"`` where it has an EPSG code, else WKT. A CSV declares none
    (unless every row is EWKT with the same ``SRID=NNNN;``), nor does a GeoJSON
    without an explicit ``crs`` member (see the module docstring).

    The coordinates are returned as stored: nothing is reprojected.
    Raises :class:`BoundaryFileError` when the file is missing or unreadable.
    """
    path = Path(path)
    if not path.exists():
        raise BoundaryFileError(path, "no such file")
    if path.is_dir():
        raise BoundaryFileError(path, "is a directory, not a boundary file")
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise BoundaryFileError(
            path, f"unsupported file type {suffix or '(none)'!r}; expected one of {', '.join(SUPPORTED_SUFFIXES)}"
        )
    if suffix == ".csv":
        return _read_csv(path)
    source = f"zip://{path.resolve()}" if suffix == ".zip" else str(path)
    return _read_ogr(path, source)


def looks_like_lonlat(gdf) -> bool:
    """True when every coordinate lies within ±180 (x) and ±90 (y); True for an empty layer."""
    geoms = np.asarray(gdf.geometry.values if hasattr(gdf, "geometry") else gdf, dtype=object)
    bounds = shapely.bounds(geoms)
    if bounds.size == 0 or np.all(np.isnan(bounds)):
        return True
    minx, miny, maxx, maxy = (np.nanmin(bounds[:, 0]), np.nanmin(bounds[:, 1]),
                              np.nanmax(bounds[:, 2]), np.nanmax(bounds[:, 3]))
    return bool(minx >= -180 and maxx <= 180 and miny >= -90 and maxy <= 90)


# --------------------------------------------------------------------------
# GDAL formats
# --------------------------------------------------------------------------


def _read_ogr(path: Path, source: str) -> tuple[gpd.GeoDataFrame, str | None]:
    import pyogrio

    try:
        layers = pyogrio.list_layers(source)
        if len(layers) == 0:
            raise BoundaryFileError(path, "contains no layer")
        layer = layers[0][0]
        info = pyogrio.read_info(source, layer=layer)
        with warnings.catch_warnings():
            # a GeoJSON property holding numbers and text: geopandas says so, and keeps the text
            warnings.filterwarnings("ignore", message="Could not parse column", category=UserWarning)
            gdf = gpd.read_file(source, layer=layer, engine="pyogrio")
    except BoundaryFileError:
        raise
    except Exception as exc:  # pyogrio.errors.DataSourceError, DataLayerError, ...
        raise BoundaryFileError(path, f"cannot read it ({_reason(exc)})") from exc
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf.columns:
        raise BoundaryFileError(path, "has no geometry column")

    driver = info.get("driver")
    declared = _crs_string(gdf.crs)
    if driver == "GeoJSON" and not _geojson_declares_crs(path):
        declared = None
    if driver == "ESRI Shapefile" and str(info.get("encoding") or "").upper() in ("ISO-8859-1", "LATIN1"):
        gdf = _redecode_text(gdf)
    return gdf, declared


def _geojson_declares_crs(path: Path) -> bool:
    """True when the GeoJSON has an explicit, non-null top-level ``crs`` member."""
    if path.suffix.lower() == ".zip":  # a GeoJSON inside a zip: trust GDAL
        return True
    with path.open("rb") as fh:
        try:
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
                if mm.find(b'"crs"') < 0:
                    return False
        except ValueError:  # an empty file cannot be mapped
            return False
    try:
        with path.open("r", encoding="utf-8-sig") as fh:
            data = json.load(fh)
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(data, dict) and data.get("crs") is not None


def _crs_string(crs) -> str | None:
    if crs is None:
        return None
    auth = crs.to_authority()
    if auth is None:
        auth = crs.to_authority(min_confidence=90)
    if auth is not None:
        return f"{auth[0]}:{auth[1]}"
    return crs.to_wkt()


def _redecode_text(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Text GDAL read as ISO-8859-1 (a Shapefile without .cpg), decoded again as UTF-8 or GB18030."""
    out = None
    for col in gdf.columns:
        if col == gdf.geometry.name:
            continue
        values = gdf[col]
        if not (pd.api.types.is_string_dtype(values) or values.dtype == object):
            continue
        texts = [v for v in values if isinstance(v, str)]
        if not any(any(ord(ch) > 127 for ch in t) for t in texts):
            continue
        if any(any(ord(ch) > 255 for ch in t) for t in texts):
            continue  # not Latin-1 text: leave it
        for encoding in ("utf-8", "gb18030"):
            try:
                decoded = [v.encode("latin-1").decode(encoding) if isinstance(v, str) else v for v in values]
            except UnicodeError:
                continue
            if out is None:
                out = gdf.copy()
            out[col] = pd.Series(decoded, index=gdf.index, dtype=object)
            break
    return gdf if out is None else out


# --------------------------------------------------------------------------
# CSV with WKT
# --------------------------------------------------------------------------


def _read_csv(path: Path) -> tuple[gpd.GeoDataFrame, str | None]:
    frame = None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)
            break
        except UnicodeDecodeError:
            continue
        except (pd.errors.ParserError, pd.errors.EmptyDataError, OSError) as exc:
            raise BoundaryFileError(path, f"cannot read it as CSV ({_reason(exc)})") from exc
    if frame is None:
        raise BoundaryFileError(path, "cannot read it as CSV (neither UTF-8 nor GB18030 text)")

    by_lower = {str(c).strip().lower(): c for c in frame.columns}
    column = next((by_lower[name] for name in WKT_COLUMNS if name in by_lower), None)
    if column is None:
        raise BoundaryFileError(
            path,
            f"no WKT column (expected one named {', '.join(WKT_COLUMNS)}); "
            f"its columns are {', '.join(map(str, frame.columns)) or '(none)'}",
        )

    texts = frame[column].astype(str).str.strip()
    srids = texts.str.extract(_EWKT_SRID, expand=False)
    texts = texts.str.replace(_EWKT_SRID, "", regex=True)
    present = texts != ""
    geoms = np.full(len(texts), None, dtype=object)
    if present.any():
        parsed = shapely.from_wkt(texts[present].to_numpy(dtype=object), on_invalid="ignore")
        bad = np.flatnonzero(pd.isna(parsed))
        if len(bad):
            rows = texts[present].index[bad]
            lines = ", ".join(str(i + 2) for i in rows[:10]) + (" …" if len(rows) > 10 else "")
            raise BoundaryFileError(path, f"column {column!r} holds text that is not WKT on line(s) {lines}")
        geoms[present.to_numpy()] = parsed

    declared = None
    used = srids[present].dropna().unique()
    if len(used) == 1 and srids[present].notna().all():
        declared = f"EPSG:{used[0]}"

    props = frame.drop(columns=[column])
    gdf = gpd.GeoDataFrame(props, geometry=gpd.GeoSeries(geoms, index=frame.index), crs=None)
    return gdf, declared


def _reason(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]
