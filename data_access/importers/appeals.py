"""``import-appeals``: a city's appeal export into the system of record, with nothing lost.

    read file → normalise (quarantine or warn) → coordinates to WGS84 →
    place every point in the finest loaded region (one bulk spatial-index pass) →
    compare with what is stored → insert new, update changed, leave the rest →
    report, and write the quarantined rows whole to a file next to the report.

Rows read = inserted + updated + unchanged + quarantined, always. Importing the
same file twice changes nothing; a corrected file updates rows by appeal_id.
Only the columns an import owns are compared and written, so figures the
dashboard adds later (supervision, repeat flags) are never overwritten.

An appeal keeps the deadline of its export (``deadline_source = 'import'``,
and ``warn_at`` from the configured yellow thresholds, docs/deadlines.md); an
appeal exported without one gets none (it is flagged ``missing_deadline``,
never given a deadline by rule).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Engine, bindparam, select, update

from geo.crs import points_to_wgs84
from geo.placement import RegionIndex

from .. import cityzone, schema
from ..clock import local_now
from ..config import DATA_DIR, Settings, load_settings
from ..deadlines import limit_arrays, load_rules, warn_at_array
from ..store import bulk_insert, create_schema
from .mapping import Mapping
from .normalize import Normalized, normalize
from .readers import RawTable, SourceFileError, read_source
from .report import ImportReport, write_quarantine, write_report

# the columns an import owns (compared for "unchanged", written on insert and update)
OWNED = (
    "channel", "channel_label", "category", "subcategory", "summary", "address", "lon", "lat", "grid_code",
    "department_code", "created_at", "deadline_at", "closed_at", "status", "satisfaction", "quality_flags",
    "deadline_source", "warn_at",
)
_CHUNK = 500
WARNING_ROWS_SHOWN = 20  # rows named per warning kind in the report
DEFAULT_OUT_DIR = DATA_DIR / "imports"


def import_appeals(engine: Engine, path: str | Path, mapping: Mapping, *, timezone: str | None = None,
                   out_dir: Path | None = None, now: dt.datetime | None = None,
                   settings: Settings | None = None) -> ImportReport:
    """Import one file; see the module docstring. Raises SourceFileError for a file that cannot be read."""
    table = read_source(path, mapping.format)
    missing = sorted({c for c in mapping.columns.values() if c not in table.columns})
    if missing and (table.records or mapping.format != "open311"):  # an empty Open311 list has no columns
        raise SourceFileError(f"{path}: the mapping {mapping.path} names column(s) {', '.join(missing)} that the "
                              f"file does not have; it has: {', '.join(table.columns)}")
    return import_table(engine, table, mapping, source=str(path), timezone=timezone,
                        out_dir=out_dir or DEFAULT_OUT_DIR, now=now, settings=settings)


def import_table(engine: Engine, table: RawTable, mapping: Mapping, *, source: str, timezone: str | None = None,
                 out_dir: Path | None, now: dt.datetime | None = None,
                 settings: Settings | None = None) -> ImportReport:
    """Import records already read (the heart of ``import_appeals``; tests feed it directly)."""
    create_schema(engine)
    # the city's zone, stored with the data: the first import records it, a later one must agree
    timezone = cityzone.record(engine, timezone).zone
    now = (now or local_now(timezone)).replace(microsecond=0)
    report = ImportReport(read=len(table.records), source=source)
    norm = normalize(table, mapping, city_tz=timezone, now=now)
    frame, ok = norm.frame, norm.reason.isna()
    _to_wgs84(norm, ok, mapping.crs)
    _place(engine, norm, ok)
    _flag_default_points(norm, ok, mapping.default_point_min)
    frame["quality_flags"] = _flags(norm, frame.index)
    _deadline_fields(engine, frame, ok, settings or load_settings())

    good = frame[ok]
    existing = _existing(engine, good["appeal_id"].tolist())
    new_rows, changed_rows = [], []
    for record in good.to_dict("records"):
        values = {c: _py(record.get(c)) for c in OWNED}
        values["appeal_id"] = record["appeal_id"]
        stored = existing.get(record["appeal_id"])
        if stored is None:
            new_rows.append(values)
        elif any(not _same(values[c], stored.get(c)) for c in OWNED):
            changed_rows.append(values)
    _write_departments(engine, good, now)
    _insert(engine, new_rows, now)
    _update(engine, changed_rows, now)

    report.inserted, report.updated = len(new_rows), len(changed_rows)
    report.unchanged = len(good) - len(new_rows) - len(changed_rows)
    report.quarantined = int((~ok).sum())
    report.quarantine_reasons = Counter(norm.reason[~ok].tolist())
    report.warnings = Counter({kind: int(mask[ok].sum()) for kind, mask in norm.warnings.items()
                               if int(mask[ok].sum())})
    rows = table.rows or list(range(1, len(table.records) + 1))
    report.warning_rows = {kind: [rows[i] for i in np.flatnonzero((mask & ok).to_numpy())[:WARNING_ROWS_SHOWN]]
                           for kind, mask in norm.warnings.items() if kind in report.warnings}
    report.time_formats = dict(norm.layouts)
    report.time_order_undecided = list(norm.undecided)
    assert report.balanced, report.as_dict()
    if out_dir is not None:
        _write_files(report, table, norm, ok, Path(out_dir), Path(source).stem, now)
    return report


# ------------------------------------------------------------- places ---

def _to_wgs84(norm: Normalized, ok: pd.Series, crs: str) -> None:
    f = norm.frame
    located = ok & f["lon"].notna() & f["lat"].notna()
    if crs == "wgs84" or not located.any():
        return
    lon, lat = points_to_wgs84(f.loc[located, "lon"].to_numpy(), f.loc[located, "lat"].to_numpy(), crs)
    bad = ~(np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180) & (np.abs(lat) <= 90))
    f.loc[located, "lon"] = np.where(bad, np.nan, lon)
    f.loc[located, "lat"] = np.where(bad, np.nan, lat)
    if bad.any():
        idx = f.index[located][bad]
        norm.warnings["bad_coordinates"] = norm.warnings.get(
            "bad_coordinates", pd.Series(False, index=f.index)) | f.index.isin(idx)


def _region_index(engine: Engine) -> RegionIndex | None:
    r = schema.regions
    with engine.connect() as conn:
        rows = conn.execute(select(r.c.code, r.c.level, r.c.geometry).where(r.c.geometry.is_not(None))).all()
    if not rows:
        return None
    import shapely

    codes, levels, blobs = zip(*rows)
    return RegionIndex.build(list(codes), list(levels), shapely.from_wkb(list(blobs)))


def _place(engine: Engine, norm: Normalized, ok: pd.Series) -> None:
    f = norm.frame
    located = ok & f["lon"].notna() & f["lat"].notna()
    f["grid_code"] = None
    if not located.any():
        return
    index = _region_index(engine)
    if index is None:
        norm.warnings["no_regions_loaded"] = located
        return
    codes = index.assign(f.loc[located, "lon"].to_numpy(dtype=float), f.loc[located, "lat"].to_numpy(dtype=float))
    f.loc[located, "grid_code"] = codes
    outside = located & f["grid_code"].isna()
    norm.warnings["outside_regions"] = outside


def _flag_default_points(norm: Normalized, ok: pd.Series, minimum: int) -> None:
    """Many appeals on one identical point: the geocoder fell back to a default location."""
    f = norm.frame
    located = ok & f["lon"].notna()
    keys = f.loc[located, "lon"].round(6).astype(str) + "," + f.loc[located, "lat"].round(6).astype(str)
    counts = keys.map(keys.value_counts())
    crowded = pd.Series(False, index=f.index)
    crowded[counts[counts >= minimum].index] = True
    norm.warnings["default_point"] = crowded


def _deadline_fields(engine: Engine, frame: pd.DataFrame, ok: pd.Series, settings: Settings) -> None:
    """``deadline_source`` ('import' where the export gives a deadline, else NULL) and ``warn_at``.

    The yellow moment follows the engine: working time, or clock time where
    the rules give the appeal's kind a limit in hours.
    """
    has = (ok & frame["deadline_at"].notna()).to_numpy()
    frame["deadline_source"] = pd.Series(np.where(has, "import", None), index=frame.index, dtype=object)
    warn = np.full(len(frame), np.datetime64("NaT"), dtype="datetime64[us]")
    if has.any():
        rows = frame[has]
        nothing = [None] * len(rows)
        clock = limit_arrays(load_rules(engine), rows["category"],
                             rows["subcategory"] if "subcategory" in rows else nothing,
                             rows["urgency"] if "urgency" in rows else nothing)["clock"]
        warn[has] = warn_at_array(rows["created_at"], rows["deadline_at"], clock,
                                  fraction=settings.due_soon_fraction, workdays=settings.due_soon_workdays)
    frame["warn_at"] = pd.Series(warn, index=frame.index)


def _flags(norm: Normalized, index) -> pd.Series:
    kinds = sorted(norm.warnings)
    table = pd.DataFrame({k: norm.warnings[k].reindex(index, fill_value=False) for k in kinds}, index=index)
    return table.apply(lambda row: ",".join(k for k in kinds if row[k]) or None, axis=1) if kinds else \
        pd.Series([None] * len(index), index=index, dtype=object)


# -------------------------------------------------------------- writes ---

def _py(value):
    """A DataFrame cell as the database driver wants it: None for NaN/NaT, datetime, float, str."""
    if value is None:
        return None
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.to_pydatetime()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, np.floating):
        return None if np.isnan(value) else float(value)
    if value is pd.NaT:
        return None
    return value


def _same(new, old) -> bool:
    if new is None or old is None:
        return new is None and old is None
    if isinstance(new, float) or isinstance(old, float):
        return abs(float(new) - float(old)) <= 1e-9
    if isinstance(new, dt.datetime) and isinstance(old, dt.datetime):
        return new.replace(microsecond=0) == old.replace(microsecond=0)
    return new == old


def _existing(engine: Engine, ids: list[str]) -> dict[str, dict]:
    a = schema.appeals
    found: dict[str, dict] = {}
    stmt = select(a.c.appeal_id, *[a.c[c] for c in OWNED]).where(a.c.appeal_id.in_(bindparam("ids", expanding=True)))
    with engine.connect() as conn:
        for start in range(0, len(ids), _CHUNK):
            for row in conn.execute(stmt, {"ids": ids[start:start + _CHUNK]}).mappings():
                found[row["appeal_id"]] = dict(row)
    return found


def _insert(engine: Engine, rows: list[dict], now: dt.datetime) -> None:
    if not rows:
        return
    columns = ["appeal_id", *OWNED, "updated_at", "is_repeat", "is_supervised"]
    bulk_insert(engine, schema.appeals, columns,
                ([*(r[c] for c in ["appeal_id", *OWNED]), now, False, False] for r in rows))


def _update(engine: Engine, rows: list[dict], now: dt.datetime) -> None:
    if not rows:
        return
    a = schema.appeals
    stmt = (update(a).where(a.c.appeal_id == bindparam("key"))
            .values({c: bindparam(f"v_{c}") for c in (*OWNED, "updated_at")}))
    params = [{"key": r["appeal_id"], **{f"v_{c}": r[c] for c in OWNED}, "v_updated_at": now} for r in rows]
    with engine.begin() as conn:
        for start in range(0, len(params), 5000):
            conn.execute(stmt, params[start:start + 5000])


def _write_departments(engine: Engine, good: pd.DataFrame, now: dt.datetime) -> None:
    """Departments named by the file that the database does not have yet."""
    named = good[["department_code", "department"]].dropna().drop_duplicates("department_code")
    if named.empty:
        return
    d = schema.departments
    with engine.connect() as conn:
        known = {row[0] for row in conn.execute(select(d.c.code).where(
            d.c.code.in_(bindparam("codes", expanding=True))), {"codes": named["department_code"].tolist()})}
    new = named[~named["department_code"].isin(known)]
    bulk_insert(engine, d, ["code", "name", "level", "region_code", "updated_at"],
                ((code, name, "unknown", None, now) for code, name in zip(new["department_code"], new["department"])))


def _write_files(report: ImportReport, table: RawTable, norm: Normalized, ok: pd.Series, out_dir: Path,
                 stem: str, now: dt.datetime) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    base = out_dir / f"{stem}-{now:%Y%m%d-%H%M%S}"
    if report.quarantined:
        rows = [(table.rows[i], table.records[i], norm.reason[i], norm.detail[i] or "")
                for i in norm.reason.index[~ok]]
        path = base.with_name(base.name + "-quarantine.csv")
        write_quarantine(path, table.columns, rows)
        report.quarantine_file = str(path)
    write_report(report, base.with_name(base.name + "-report.json"))
