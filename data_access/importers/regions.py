"""``import-regions``: a boundary file as the regions of one level.

:func:`import_regions` reads one layer (GeoJSON, GeoPackage, Shapefile, zipped
Shapefile or CSV with WKT, see :func:`geo.readers.read_layer`), checks it,
converts it to WGS84 and upserts it into the ``regions`` table by code.

Order of work, and what stops an import (:class:`RegionImportError`, a
``ValueError``, with a message naming the file and, where it applies, the
field, the feature or the code; nothing is written when it is raised):

1. the arguments: ``level`` is one of ``LEVELS``, ``crs`` is understood;
2. the file is readable and has features; the named fields exist (the message
   lists the fields the file has);
3. every feature has a code (unique in the file, at most 32 characters) and a
   name (at most 100 characters); a population that is not a non-negative
   number is stored as NULL with the warning ``bad_population``;
4. every geometry is present, non-empty and a (multi)polygon;
5. the coordinate system (see below); after conversion to WGS84 an invalid
   geometry is repaired (``shapely.make_valid``, keeping its polygonal parts)
   and its code listed in ``repaired``; one with no area left stops the import;
   so does a CRS that contradicts the coordinates (:func:`_check_plausible`:
   degrees declared as a projected CRS, a converted layer outside the CRS's
   area of use or far from the regions already loaded);
6. a stored region's outline is not replaced by one far from it (the CRS is
   wrong, not the region); no code in the file may belong to a stored region of another level (a code
   names one region across all levels; silently turning a district into a
   street would orphan its streets); then parents (see below);
7. one transaction: new codes are inserted, changed rows updated, identical
   rows left alone.

Coordinate system. ``crs`` (``wgs84``, ``gcj02``, ``bd09`` or any CRS pyproj
understands such as ``EPSG:3857``) wins; otherwise the CRS the file declares;
otherwise, when the coordinates are plainly not longitude/latitude, the import
is refused and asks for ``--crs``; otherwise WGS84 is assumed, with the warning
``crs_assumed_wgs84``. **GCJ-02 and BD-09 cannot be detected automatically**:
they are longitude/latitude a few hundred metres off, and files from Amap,
Tencent or Baidu rarely say which they are. When a layer inside China is taken
as WGS84 without ``--crs``, the report's ``notes`` say so; pass
``--crs gcj02`` (Amap, Tencent) or ``--crs bd09`` (Baidu) when that is the source.

Parents. With ``parent_field`` the file names each parent; a parent code that
is neither in the file nor in the database is stored as NULL with the warning
``unknown_parent`` (an empty one with ``empty_parent``) and listed in
``without_parent``. Without it, when regions of a coarser level are loaded,
the nearest coarser loaded level is used: each region's parent is the region
of that level containing its representative point
(:class:`geo.placement.RegionIndex`); regions in none are listed in
``without_parent``. When no coarser level is loaded the regions are top-level
(parent NULL). Levels may be missing: nothing assumes a full hierarchy.

Writes. ``area_km2`` is computed in an equal-area projection (EPSG:6933, as
:mod:`geo.territory` does) and the centroid in longitude/latitude. A row is
updated when its name, parent, population or geometry (WKB bytes after
the same normalisation) changed, or its area/centroid are missing; identical
rows are not touched, so importing the same file twice writes nothing. Written
rows get ``updated_at`` = the city's local time, which is what the dashboard's
sync watches. Rows in the database that the file does not mention are kept,
and other levels' parents are not recomputed.

Warnings are counts of the regions each applies to.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Engine, bindparam, func, insert, select, update

from geo.crs import out_of_china, to_wgs84, transform_geometry
from geo.placement import RegionIndex
from geo.readers import BoundaryFileError, looks_like_lonlat, read_layer

from .. import cityzone
from ..clock import local_now, to_local_naive
from ..schema import regions
from ..scope import LEVELS

__all__ = ["RegionImportError", "RegionImportReport", "import_regions"]

MAX_CODE = regions.c.code.type.length  # 32
MAX_NAME = regions.c.name.type.length  # 100
_MAX_POPULATION = 2**31 - 1
_EQUAL_AREA = "EPSG:6933"
_IN_CHUNK = 500  # codes per IN (...) list
_WRITE_CHUNK = 5_000
_POLYGONAL = (3, 6)  # shapely type ids: Polygon, MultiPolygon
_SHOW = 10  # codes named in a message
# how far (degrees) a converted layer may lie outside its CRS's area of use, and at least
# how far from the regions already loaded, before its CRS is taken to contradict its coordinates
_AREA_OF_USE_MARGIN = 1.0
_TERRITORY_MARGIN = 5.0
_MOVE_MIN = 0.01


class RegionImportError(ValueError):
    """An import that was refused; nothing was written. The message names the file and the field/row/code."""


@dataclass
class RegionImportReport:
    file: str
    level: str
    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    crs: str = ""  # the coordinate system the file was converted from
    repaired: list[str] = field(default_factory=list)  # codes whose geometry was repaired
    parents_by_containment: int = 0
    without_parent: list[str] = field(default_factory=list)
    warnings: dict[str, int] = field(default_factory=dict)  # kind -> number of regions
    notes: list[str] = field(default_factory=list)  # human-readable remarks (e.g. about GCJ-02)

    def as_dict(self) -> dict:
        return asdict(self)


def import_regions(
    engine: Engine,
    path,
    *,
    level: str,
    code_field: str,
    name_field: str,
    parent_field: str | None = None,
    population_field: str | None = None,
    crs: str | None = None,
    timezone: str | None = None,
    now: dt.datetime | None = None,
) -> RegionImportReport:
    """Import the boundary file ``path`` as regions of ``level`` (see the module docstring).

    ``timezone``: the city's; by default the zone stored with the data, which the
    first import records (``cityzone.record``).
    """
    path = Path(path)
    file = str(path)

    # 1. arguments
    if level not in LEVELS:
        raise RegionImportError(f"{file}: unknown level {level!r}; expected one of {', '.join(LEVELS)}")
    if crs is not None:
        _check_crs(file, crs)

    # 2. the file and its fields
    try:
        gdf, declared = read_layer(path)
    except BoundaryFileError as exc:
        raise RegionImportError(str(exc)) from exc
    if len(gdf) == 0:
        raise RegionImportError(f"{file}: contains no features")
    is_csv = path.suffix.lower() == ".csv"

    def where(i: int) -> str:  # a feature as a person finds it in the file
        return f"line {i + 2}" if is_csv else f"feature {i + 1}"

    fields = [str(c) for c in gdf.columns if c != gdf.geometry.name]
    for option, name in (("code field", code_field), ("name field", name_field),
                         ("parent field", parent_field), ("population field", population_field)):
        if name is not None and name not in fields:
            raise RegionImportError(
                f"{file}: the {option} {name!r} is not in the file; its fields are: {', '.join(fields) or '(none)'}"
            )
    gdf = gdf.reset_index(drop=True)
    warnings: Counter = Counter()

    # 3. codes, names, population, parent codes
    codes = _texts(gdf[code_field])
    empty = [i for i, c in enumerate(codes) if not c]
    if empty:
        raise RegionImportError(f"{file}: empty code (field {code_field!r}) in {_list([where(i) for i in empty])}")
    long_codes = [c for c in codes if len(c) > MAX_CODE]
    if long_codes:
        raise RegionImportError(
            f"{file}: codes longer than {MAX_CODE} characters (field {code_field!r}): {_list(long_codes)}"
        )
    seen = Counter(codes)
    dupes = sorted(c for c, n in seen.items() if n > 1)
    if dupes:
        detail = [f"{c} ({', '.join(where(i) for i, x in enumerate(codes) if x == c)})" for c in dupes]
        raise RegionImportError(f"{file}: duplicate codes (field {code_field!r}): {_list(detail)}")
    names = _texts(gdf[name_field])
    empty = [codes[i] for i, n in enumerate(names) if not n]
    if empty:
        raise RegionImportError(f"{file}: empty name (field {name_field!r}) for code(s) {_list(empty)}")
    long_names = [codes[i] for i, n in enumerate(names) if len(n) > MAX_NAME]
    if long_names:
        raise RegionImportError(
            f"{file}: names longer than {MAX_NAME} characters (field {name_field!r}) for code(s) {_list(long_names)}"
        )
    if population_field is not None:
        population, bad = _populations(gdf[population_field])
        if bad:
            warnings["bad_population"] += bad
    else:
        population = [None] * len(codes)
    given_parents = _texts(gdf[parent_field]) if parent_field is not None else None

    # 4. geometries: present and polygonal (2-D from here on)
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if missing.any():
        raise RegionImportError(f"{file}: no geometry for code(s) {_list([codes[i] for i in np.flatnonzero(missing)])}")
    types = shapely.get_type_id(geoms)
    wrong = ~np.isin(types, _POLYGONAL)
    if wrong.any():
        detail = [f"{codes[i]} ({geoms[i].geom_type})" for i in np.flatnonzero(wrong)]
        raise RegionImportError(f"{file}: geometries that are not polygons for code(s) {_list(detail)}")
    geoms = shapely.force_2d(geoms)

    # 5. coordinate system
    notes: list[str] = []
    if crs is not None:
        used = crs
    elif declared is not None:
        used = declared
    elif not looks_like_lonlat(geoms):
        minx, miny, maxx, maxy = shapely.total_bounds(geoms)
        raise RegionImportError(
            f"{file}: coordinates are not longitude/latitude (x up to {_num(max(abs(minx), abs(maxx)))}, "
            f"y up to {_num(max(abs(miny), abs(maxy)))}) and the file declares no CRS; "
            "pass --crs EPSG:NNNN (the projection they are in)"
        )
    else:
        used = "wgs84"
        warnings["crs_assumed_wgs84"] += len(codes)
    source_bounds = shapely.total_bounds(geoms)
    try:
        geoms = np.asarray(to_wgs84(geoms, used), dtype=object)
    except Exception as exc:  # noqa: BLE001 - ValueError, pyproj's ProjError, ...
        raise RegionImportError(f"{file}: cannot convert from {_short(used)} to WGS84 ({exc}); pass --crs") from exc
    bounds = shapely.total_bounds(geoms)
    if not (np.all(np.isfinite(bounds)) and looks_like_lonlat(geoms)):
        raise RegionImportError(
            f"{file}: after converting from {_short(used)} the coordinates are not longitude/latitude "
            f"(bounds {', '.join(_num(b) for b in bounds)}); check the CRS and pass --crs"
        )
    _check_plausible(file, used, "--crs" if crs is not None else "the file", source_bounds, bounds, engine)
    is_wgs = _is_wgs84(used)
    centre = ((bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2)
    if is_wgs and crs is None and not bool(out_of_china(*centre)):
        notes.append(
            "The layer lies in China and was taken as WGS84 "
            + ("(the file declares no CRS)" if declared is None else f"(the file declares {declared})")
            + ". GCJ-02 (Amap, Tencent) and BD-09 (Baidu) cannot be detected automatically; "
            "if the data came from one of them, import again with --crs gcj02 or --crs bd09."
        )

    # 5b. repair (after conversion: a transform may itself create invalidity)
    repaired: list[str] = []
    invalid = np.flatnonzero(~shapely.is_valid(geoms))
    for i in invalid:
        fixed = _polygonal(shapely.make_valid(geoms[i]))
        if fixed is None:
            raise RegionImportError(f"{file}: the geometry of code {codes[i]} has no area (nothing left after repair)")
        geoms[i] = fixed
        repaired.append(codes[i])
    no_area = np.flatnonzero(shapely.area(geoms) <= 0)
    if len(no_area):
        raise RegionImportError(f"{file}: geometries without area for code(s) {_list([codes[i] for i in no_area])}")

    wkb = shapely.to_wkb(geoms)
    area = gpd.GeoSeries(geoms, crs="EPSG:4326").to_crs(_EQUAL_AREA).area.to_numpy() / 1e6
    cen = shapely.centroid(geoms)
    cen_lon, cen_lat = shapely.get_x(cen), shapely.get_y(cen)

    # 6. codes taken by another level, then parents
    existing = _existing(engine, codes)
    clash = [f"{c} ({existing[c]['level']} {existing[c]['name']})" for c in codes
             if c in existing and existing[c]["level"] != level]
    if clash:
        raise RegionImportError(
            f"{file}: codes already used by regions of another level (field {code_field!r}): {_list(clash)}; "
            "a code names one region across all levels, so give these regions codes of their own"
        )
    moved = [c for i, c in enumerate(codes) if c in existing and _moved_far(existing[c]["geometry"], geoms[i])]
    if moved:
        raise RegionImportError(
            f"{file}: converted from {_short(used)}, the new outline of code(s) {_list(moved)} lies far from the "
            "stored one; a region's outline is corrected, not moved across the map, so the CRS is probably wrong "
            "(check it and pass --crs); nothing was written"
        )
    file_codes = set(codes)
    without_parent: list[str] = []
    by_containment = 0
    if given_parents is not None:
        parents: list[str | None] = []
        outside = sorted({p for p in given_parents if p and p not in file_codes})
        known = _levels_of(engine, outside)
        rank = LEVELS.index(level)
        for code, p in zip(codes, given_parents):
            if not p:
                warnings["empty_parent"] += 1
            elif p == code:
                warnings["self_parent"] += 1
            elif p in file_codes:
                parents.append(p)
                continue
            elif p in known:
                if known[p] not in LEVELS or LEVELS.index(known[p]) >= rank:
                    warnings["parent_level_not_coarser"] += 1
                parents.append(p)
                continue
            else:
                warnings["unknown_parent"] += 1
            parents.append(None)
            without_parent.append(code)
    else:
        parents = [None] * len(codes)
        parent_level = _nearest_coarser_level(engine, level)
        if parent_level is not None:
            index = _region_index(engine, parent_level, exclude=file_codes)
            pts = shapely.point_on_surface(geoms)
            found = index.assign(shapely.get_x(pts), shapely.get_y(pts))
            for i, p in enumerate(found):
                if p is None:
                    without_parent.append(codes[i])
                else:
                    parents[i] = p
                    by_containment += 1
            notes.append(f"Parents by containment in the {parent_level} level.")

    # 7. diff against the database, then write
    timezone = cityzone.record(engine, timezone).zone  # stored with the data; the first import records it
    stamp = to_local_naive(now, timezone) if now is not None else local_now(timezone)
    inserts: list[dict] = []
    updates: list[dict] = []
    unchanged = 0
    for i, code in enumerate(codes):
        row = {
            "code": code,
            "name": names[i],
            "level": level,
            "parent_code": parents[i],
            "population": population[i],
            "area_km2": float(area[i]),
            "centroid_lon": float(cen_lon[i]),
            "centroid_lat": float(cen_lat[i]),
            "geometry": wkb[i],
            "updated_at": stamp,
        }
        old = existing.get(code)
        if old is None:
            inserts.append(row)
            continue
        if _same(old, row):
            unchanged += 1
        else:
            updates.append(row)
    _write(engine, inserts, updates)

    report = RegionImportReport(
        file=file,
        level=level,
        read=len(codes),
        inserted=len(inserts),
        updated=len(updates),
        unchanged=unchanged,
        crs=_short(used),
        repaired=repaired,
        parents_by_containment=by_containment,
        without_parent=without_parent,
        warnings=dict(sorted(warnings.items())),
        notes=notes,
    )
    return report


# --------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------


def _texts(values) -> list[str]:
    """Field values as stripped text ('' when missing); 47.0 reads as '47'."""
    out = []
    for v in values:
        if v is None or v is pd.NA or v is pd.NaT:
            out.append("")
            continue
        if isinstance(v, (float, np.floating)):
            if math.isnan(v):
                out.append("")
                continue
            if float(v).is_integer():
                v = int(v)
        out.append(str(v).strip())
    return out


def _populations(values) -> tuple[list[int | None], int]:
    """Non-negative whole numbers (rounded), None when missing or bad; and the number of bad values."""
    out: list[int | None] = []
    bad = 0
    for v in values:
        if v is None or v is pd.NA or (isinstance(v, (float, np.floating)) and math.isnan(v)):
            out.append(None)
            continue
        if isinstance(v, str):
            text = v.strip().replace(",", "").replace("，", "").replace(" ", "").replace("_", "")
            if not text:
                out.append(None)
                continue
            try:
                number = float(text)
            except ValueError:
                number = math.nan
        elif isinstance(v, (bool, np.bool_)):
            number = math.nan
        else:
            try:
                number = float(v)
            except (TypeError, ValueError):
                number = math.nan
        if not math.isfinite(number) or number < 0 or number > _MAX_POPULATION:
            out.append(None)
            bad += 1
        else:
            out.append(int(round(number)))
    return out, bad


def _polygonal(geom):
    """The polygonal part of a geometry as one valid (Multi)Polygon, or None when it has none."""
    stack = [geom]
    parts = []
    while stack:
        g = stack.pop()
        if g is None or g.is_empty:
            continue
        tid = shapely.get_type_id(g)
        if tid == 3:
            parts.append(g)
        elif tid in (4, 5, 6, 7):  # multi-part and collections
            stack.extend(shapely.get_parts(g))
    if not parts:
        return None
    out = shapely.union_all(parts) if len(parts) > 1 else parts[0]
    if not out.is_valid:
        out = shapely.make_valid(out)
        if shapely.get_type_id(out) not in _POLYGONAL:
            return _polygonal(out) if shapely.get_type_id(out) == 7 else None
    return out if shapely.get_type_id(out) in _POLYGONAL and not out.is_empty else None


def _check_crs(file: str, crs: str) -> None:
    try:
        transform_geometry(shapely.Point(120.0, 30.0), crs, "wgs84")
    except Exception as exc:  # noqa: BLE001 - ValueError, pyproj's ProjError (a RuntimeError), ...
        raise RegionImportError(
            f"{file}: unknown --crs {crs!r}; expected wgs84, gcj02, bd09 or EPSG:NNNN"
        ) from exc


def _check_plausible(file: str, crs: str, declared_by: str, source_bounds, bounds, engine: Engine) -> None:
    """Refuse a layer whose place after conversion shows that its CRS contradicts its coordinates.

    Three signs, each enough: a projected CRS (metres, feet) whose coordinates all
    lie within 180 × 90 units of its origin, i.e. longitude/latitude degrees read
    as metres (the whole layer would be a speck); a converted extent outside the
    CRS's area of use; a converted extent far from the regions already loaded.
    """
    crs_obj = _pyproj_crs(crs)
    shown = _short(crs)
    where = f"{_fmt_extent(bounds)}"
    if crs_obj is not None and not crs_obj.is_geographic:
        minx, miny, maxx, maxy = source_bounds
        if minx >= -180 and maxx <= 180 and miny >= -90 and maxy <= 90:
            raise RegionImportError(
                f"{file}: {declared_by} says the coordinates are in {shown}, a projected CRS, but they look like "
                f"longitude/latitude degrees (x {_num(minx)}…{_num(maxx)}, y {_num(miny)}…{_num(maxy)}); read as "
                f"{shown} the whole layer would be a speck at {where}. Pass --crs wgs84 (or the CRS they are "
                "really in); nothing was written"
            )
    use = getattr(crs_obj, "area_of_use", None) if crs_obj is not None else None
    if use is not None and use.west <= use.east:
        area = (use.west, use.south, use.east, use.north)
        if _gap(bounds, area) > _AREA_OF_USE_MARGIN:
            raise RegionImportError(
                f"{file}: converted from {shown} ({declared_by}), the layer lies at {where}, outside the area "
                f"where {shown} is used ({_fmt_extent(area)}); the CRS is probably wrong: check it and pass --crs; "
                "nothing was written"
            )
    territory = _territory_extent(engine)
    if territory is not None:
        margin = max(_TERRITORY_MARGIN, territory[2] - territory[0], territory[3] - territory[1])
        if _gap(bounds, territory) > margin:
            raise RegionImportError(
                f"{file}: converted from {shown} ({declared_by}), the layer lies at {where}, far from the regions "
                f"already loaded ({_fmt_extent(territory)}); the CRS is probably wrong: check it and pass --crs; "
                "nothing was written"
            )


def _pyproj_crs(crs: str):
    """The ``pyproj.CRS`` of ``crs``, or None for a named Chinese system (wgs84, gcj02, bd09)."""
    if isinstance(crs, str) and crs.strip().lower() in ("wgs84", "wgs-84", "gcj02", "bd09"):
        return None
    try:
        import pyproj

        return pyproj.CRS.from_user_input(crs)
    except Exception:  # noqa: BLE001 - not something pyproj knows: nothing to check against
        return None


def _gap(a, b) -> float:
    """The distance in degrees along the larger axis between two extents (0 when they touch or overlap)."""
    dx = max(a[0] - b[2], b[0] - a[2], 0.0)
    dy = max(a[1] - b[3], b[1] - a[3], 0.0)
    return float(max(dx, dy))


def _fmt_extent(b) -> str:
    return f"lon {b[0]:.4g}…{b[2]:.4g}, lat {b[1]:.4g}…{b[3]:.4g}"


def _territory_extent(engine: Engine) -> tuple[float, float, float, float] | None:
    """The extent of the stored regions' centroids, or None when none is stored."""
    stmt = select(func.min(regions.c.centroid_lon), func.min(regions.c.centroid_lat),
                  func.max(regions.c.centroid_lon), func.max(regions.c.centroid_lat)).where(
        regions.c.centroid_lon.is_not(None), regions.c.centroid_lat.is_not(None))
    with engine.connect() as conn:
        row = conn.execute(stmt).one()
    if row[0] is None:
        return None
    return tuple(float(v) for v in row)


def _moved_far(stored_wkb, new) -> bool:
    """True when a new outline does not come near the stored one: it lies outside the stored
    outline's extent grown on every side by that extent's larger side (0.01° at least)."""
    if stored_wkb is None:
        return False
    old = shapely.from_wkb(bytes(stored_wkb), on_invalid="ignore")
    if old is None or old.is_empty:
        return False
    minx, miny, maxx, maxy = old.bounds
    grow = max(maxx - minx, maxy - miny, _MOVE_MIN)
    return not shapely.intersects(new, shapely.box(minx - grow, miny - grow, maxx + grow, maxy + grow))


def _is_wgs84(crs: str) -> bool:
    if isinstance(crs, str) and crs.strip().lower() in ("wgs84", "wgs-84", "epsg:4326", "4326", "ogc:crs84"):
        return True
    try:
        import pyproj

        c = pyproj.CRS.from_user_input(crs)
        # CGCS2000 and friends: lon/lat within centimetres of WGS84, and as blind to GCJ-02.
        return c.is_geographic
    except Exception:  # noqa: BLE001 - a named Chinese system such as gcj02
        return False


def _short(crs: str) -> str:
    """A CRS for a message or the report: as given, or its name when it is long WKT."""
    if isinstance(crs, str) and len(crs) > 60:
        try:
            import pyproj

            c = pyproj.CRS.from_user_input(crs)
            auth = c.to_authority(min_confidence=70)
            return f"{auth[0]}:{auth[1]}" if auth else c.name
        except Exception:  # noqa: BLE001
            return crs[:60] + "…"
    return crs


def _num(x: float) -> str:
    return f"{x:.0f}" if abs(x) >= 1000 else f"{x:.6g}"


def _list(items: list[str]) -> str:
    shown = ", ".join(items[:_SHOW])
    return shown + (f" and {len(items) - _SHOW} more" if len(items) > _SHOW else "")


def _same(old: dict, new: dict) -> bool:
    if (old["name"], old["level"], old["parent_code"], old["population"]) != (
        new["name"], new["level"], new["parent_code"], new["population"]
    ):
        return False
    if old["area_km2"] is None or old["centroid_lon"] is None or old["centroid_lat"] is None:
        return False
    return old["geometry"] == new["geometry"]


# --------------------------------------------------------------------------
# The database (SQLAlchemy Core, bound parameters)
# --------------------------------------------------------------------------


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _levels_of(engine: Engine, codes: list[str]) -> dict[str, str]:
    """The level of each of ``codes`` that is in the database."""
    out: dict[str, str] = {}
    if not codes:
        return out
    with engine.connect() as conn:
        for chunk in _chunks(codes, _IN_CHUNK):
            stmt = select(regions.c.code, regions.c.level).where(regions.c.code.in_(chunk))
            out.update({code: lvl for code, lvl in conn.execute(stmt)})
    return out


def _existing(engine: Engine, codes: list[str]) -> dict[str, dict]:
    """The stored rows of ``codes``, geometry as WKB re-encoded the way this importer encodes it."""
    cols = (regions.c.code, regions.c.name, regions.c.level, regions.c.parent_code, regions.c.population,
            regions.c.area_km2, regions.c.centroid_lon, regions.c.centroid_lat, regions.c.geometry)
    rows: dict[str, dict] = {}
    with engine.connect() as conn:
        for chunk in _chunks(codes, _IN_CHUNK):
            for r in conn.execute(select(*cols).where(regions.c.code.in_(chunk))):
                rows[r.code] = dict(r._mapping)
    if rows:
        keys = list(rows)
        raw = [rows[k]["geometry"] for k in keys]
        present = [i for i, b in enumerate(raw) if b is not None]
        if present:
            try:
                normalised = shapely.to_wkb(shapely.from_wkb([bytes(raw[i]) for i in present], on_invalid="ignore"))
            except Exception:  # noqa: BLE001 - unreadable stored geometry: treat as changed
                normalised = [None] * len(present)
            for i, b in zip(present, normalised):
                rows[keys[i]]["geometry"] = b
    return rows


def _nearest_coarser_level(engine: Engine, level: str) -> str | None:
    """The finest level coarser than ``level`` that has regions with geometry, or None."""
    coarser = LEVELS[: LEVELS.index(level)]
    if not coarser:
        return None
    stmt = select(regions.c.level).where(regions.c.level.in_(coarser), regions.c.geometry.is_not(None)).distinct()
    with engine.connect() as conn:
        present = {r[0] for r in conn.execute(stmt)}
    for lvl in reversed(coarser):
        if lvl in present:
            return lvl
    return None


def _region_index(engine: Engine, level: str, exclude: set[str]) -> RegionIndex:
    """A :class:`RegionIndex` of the stored regions of one level (their WKB decoded with shapely)."""
    stmt = select(regions.c.code, regions.c.geometry).where(regions.c.level == level,
                                                            regions.c.geometry.is_not(None))
    codes, blobs = [], []
    with engine.connect() as conn:
        for code, blob in conn.execute(stmt):
            if code not in exclude:
                codes.append(code)
                blobs.append(bytes(blob))
    geoms = shapely.from_wkb(blobs, on_invalid="ignore") if blobs else np.empty(0, dtype=object)
    return RegionIndex.build(codes, [level] * len(codes), geoms)


def _write(engine: Engine, inserts: list[dict], updates: list[dict]) -> None:
    """Inserts and updates in one transaction (all or nothing)."""
    if not inserts and not updates:
        return
    names = [c.name for c in regions.columns if c.name != "code"]
    upd = (
        update(regions)
        .where(regions.c.code == bindparam("b_code"))
        .values({n: bindparam(f"b_{n}") for n in names})
    )
    with engine.begin() as conn:
        for chunk in _chunks(inserts, _WRITE_CHUNK):
            conn.execute(insert(regions), chunk)
        for chunk in _chunks(updates, _WRITE_CHUNK):
            conn.execute(upd, [{f"b_{k}": v for k, v in row.items()} for row in chunk])
