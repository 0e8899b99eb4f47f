"""``import-appeals``: a city's appeal export into the system of record, with nothing lost.

    first pass over the file: how each time column is read, which ids repeat,
        which points many rows share (only a few columns are looked at) →
    then batch after batch (``BATCH_ROWS`` records):
        normalise (quarantine or warn) → coordinates to WGS84 →
        place every point in the finest loaded region (one spatial index, built once) →
        compare with what is stored → insert new, update changed, leave the rest,
        in one transaction per batch (written by a thread of its own while the next batch is read) →
    report, and write the quarantined rows whole to a file next to the report.

Rows read = inserted + updated + unchanged + quarantined, always. Importing the
same file twice changes nothing; a corrected file updates rows by appeal_id.
Only the columns an import owns are compared and written, so figures the
dashboard adds later (supervision, repeat flags) are never overwritten.

Memory holds a batch or two, the spatial index, and per row of the file only
18 bytes during the first pass (a hash of its id, its point, two bits), so a
file of millions of rows imports in the memory of a few hundred thousand. What the
whole file decides is decided by the first pass and is the same whatever the
batch size: one day/month reading per time column, a duplicate id (the first
row with an id is imported, every later one quarantined, naming the first),
a point shared by ``default_point_min`` importable rows.

Each batch commits on its own, with a mark in ``city_settings``
(``import_in_progress``: the file, when the import started, the rows done). An
import that stops half-way (killed, the machine down) leaves the batches it
committed and its mark; the next import reports the mark (``resumed``), and
importing the same file again completes it: the rows already written count as
unchanged. See docs/import.md.

An appeal keeps the deadline of its export (``deadline_source = 'import'``,
and ``warn_at`` from the configured yellow thresholds, docs/deadlines.md); an
appeal exported without one gets none (it is flagged ``missing_deadline``,
never given a deadline by rule).
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import math
import os
import queue
import threading
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Engine, bindparam, delete, insert, select, update

from geo.crs import points_to_wgs84
from geo.placement import RegionIndex

from .. import cityzone, schema
from ..clock import local_now
from ..config import DATA_DIR, Settings, load_settings
from ..deadlines import Rules, limit_arrays, load_rules, warn_at_array
from ..store import create_schema
from .mapping import Mapping
from .normalize import (TIME_FIELDS, IdTracker, Normalized, appeal_ids, coordinates, hash_ids, normalize,
                        raw_times, surely_quarantined)
from .readers import RawBatch, RawTable, Source, SourceFileError, TableSource, open_source
from .report import ImportReport, QuarantineWriter, write_report
from .times import LayoutScan, TimeReading

# the columns an import owns (compared for "unchanged", written on insert and update)
OWNED = (
    "channel", "channel_label", "category", "subcategory", "summary", "address", "lon", "lat", "grid_code",
    "department_code", "created_at", "deadline_at", "closed_at", "status", "satisfaction", "quality_flags",
    "deadline_source", "warn_at",
)
_TIMES = ("created_at", "deadline_at", "closed_at", "warn_at")
_FLOATS = ("lon", "lat")
_CHUNK = 500
BATCH_ROWS = 50_000  # records read, checked and written at a time (APPEALS_IMPORT_BATCH_ROWS)
WARNING_ROWS_SHOWN = 20  # rows named per warning kind in the report
DEFAULT_OUT_DIR = DATA_DIR / "imports"
SQLITE_CACHE_KIB = 256 * 1024  # the import connection's page cache on SQLite (the default is 2 MiB)
GC_THRESHOLD = 500_000  # new containers between two collections of the youngest generation
PROGRESS_KEY = "import_in_progress"  # city_settings: the mark of an import under way
_NO_POINT = np.int64(-1)


def batch_rows(value: int | None = None) -> int:
    """The batch size: ``value``, else APPEALS_IMPORT_BATCH_ROWS, else BATCH_ROWS."""
    if value is None:
        raw = os.environ.get("APPEALS_IMPORT_BATCH_ROWS", "").strip()
        value = int(raw) if raw else BATCH_ROWS
    if value < 1:
        raise ValueError(f"the batch size must be at least 1, not {value}")
    return value


def import_appeals(engine: Engine, path: str | Path, mapping: Mapping, *, timezone: str | None = None,
                   out_dir: Path | None = None, now: dt.datetime | None = None,
                   settings: Settings | None = None, batch_size: int | None = None) -> ImportReport:
    """Import one file; see the module docstring. Raises SourceFileError for a file that cannot be read."""
    source = open_source(path, mapping.format)
    missing = sorted({c for c in mapping.columns.values() if c not in source.columns})
    if missing and (not source.empty or mapping.format != "open311"):  # an empty Open311 list has no columns
        raise SourceFileError(f"{path}: the mapping {mapping.path} names column(s) {', '.join(missing)} that the "
                              f"file does not have; it has: {', '.join(source.columns)}")
    return import_source(engine, source, mapping, source_name=str(path), timezone=timezone,
                         out_dir=out_dir or DEFAULT_OUT_DIR, now=now, settings=settings, batch_size=batch_size)


def import_table(engine: Engine, table: RawTable, mapping: Mapping, *, source: str, timezone: str | None = None,
                 out_dir: Path | None, now: dt.datetime | None = None,
                 settings: Settings | None = None, batch_size: int | None = None) -> ImportReport:
    """Import records already read (tests feed it directly)."""
    return import_source(engine, TableSource(table), mapping, source_name=source, timezone=timezone,
                         out_dir=out_dir, now=now, settings=settings, batch_size=batch_size)


def import_source(engine: Engine, source: Source, mapping: Mapping, *, source_name: str,
                  timezone: str | None = None, out_dir: Path | None, now: dt.datetime | None = None,
                  settings: Settings | None = None, batch_size: int | None = None) -> ImportReport:
    """The import itself: a first pass over ``source``, then batch after batch, each committed on its own."""
    size = batch_rows(batch_size)
    create_schema(engine)
    # the city's zone, stored with the data: the first import records it, a later one must agree
    timezone = cityzone.record(engine, timezone).zone
    now = (now or local_now(timezone)).replace(microsecond=0)
    with _collected_less_often():
        return _import(engine, source, mapping, source_name, size, timezone, now, out_dir,
                       settings or load_settings())


@contextmanager
def _collected_less_often():
    """Python's cyclic garbage collector run every ``GC_THRESHOLD`` new containers rather than every 700.

    A batch creates hundreds of thousands of lists and tuples; collected every
    700 of them, the ones still alive would be scanned again and again (half
    of the CSV reading time). What was alive before the import is frozen out
    of the collector's scans.
    """
    thresholds = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, 10, 10)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def _import(engine: Engine, source: Source, mapping: Mapping, source_name: str, size: int, timezone: str,
            now: dt.datetime, out_dir: Path | None, settings: Settings) -> ImportReport:
    facts = _first_pass(source, mapping, size, timezone, now)
    report = ImportReport(source=source_name)
    run = _Run(engine, mapping, timezone, now, facts, settings)
    quarantine = QuarantineWriter(source.columns, source.extra)
    base = None
    if out_dir is not None:
        out_dir = Path(out_dir)
        base = out_dir / f"{Path(source_name).stem}-{now:%Y%m%d-%H%M%S}"
    report.resumed = _start_mark(engine, source_name, now)
    counts: dict[str, Counter] = {name: Counter() for name in TIME_FIELDS}
    changed = SourceFileError(f"{source_name}: the file changed during the import; import it again")
    done = 0
    run.writer = _Writer(engine, now)
    try:
        for number, batch in enumerate(source.batches(size, _mapped(mapping))):
            if number >= len(facts.sizes) or len(batch) != facts.sizes[number]:
                raise changed
            _import_batch(run, batch, report, counts, quarantine, base)
            done += 1
    finally:
        try:
            run.writer.close()
        finally:
            quarantine.close()
    if done != len(facts.sizes):
        raise changed
    report.time_formats = {name: facts.readings[name].ordered(counts[name]) for name in TIME_FIELDS
                           if facts.readings[name].ordered(counts[name])}
    report.time_order_undecided = [name for name in TIME_FIELDS if facts.readings[name].undecided]
    report.quarantine_file = quarantine.path
    assert report.balanced, report.as_dict()
    _end_mark(engine)
    if base is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        write_report(report, base.with_name(base.name + "-report.json"))
    return report


# ---------------------------------------------------------- first pass ---

@dataclass
class FileFacts:
    """What the whole file decides, from the first pass."""

    sizes: list[int] = field(default_factory=list)  # records per batch
    readings: dict[str, TimeReading] = field(default_factory=dict)  # how each time column is read
    repeated: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.uint64))  # hashes of repeated ids
    crowded: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))  # default points (packed)


def _first_pass(source: Source, mapping: Mapping, size: int, timezone: str, now: dt.datetime) -> FileFacts:
    """Read the file once for what only the whole file can tell, before anything is written.

    Only the id, status, time and coordinate columns are looked at. Per row, a
    64-bit hash of its id, its packed WGS84 point and two bits are kept until
    the end of the pass (18 bytes a row).

    Default points: each point's count of importable rows is bounded from
    below (rows surely imported: unique id, a plain ISO creation time well
    inside the range, nothing else wrong) and from above (rows not surely
    quarantined). A point whose lower bound reaches ``default_point_min`` is a
    default point, one whose upper bound does not is not; only when a point
    lies between are its rows read again (:func:`_crowded`).
    """
    facts = FileFacts()
    scans = {name: LayoutScan(mapping.datetime_format) for name in TIME_FIELDS}
    hashes, points, possible, sure = [], [], [], []
    needed = [mapping.column(f) for f in ("appeal_id", "status", *TIME_FIELDS, "lon", "lat") if mapping.column(f)]
    for batch in source.batches(size, needed):
        facts.sizes.append(len(batch))
        ids = appeal_ids(batch, mapping)
        hashes.append(hash_ids(ids))
        read = {name: scan.add(raw_times(batch, mapping, name)) for name, scan in scans.items()}
        points.append(_points(batch, mapping))
        surely_read, given = read["created_at"]
        possible.append(~surely_quarantined(batch, mapping, ids, given))
        sure.append(possible[-1] & surely_read)
    facts.readings = {name: scan.reading() for name, scan in scans.items()}
    every = np.concatenate(hashes) if hashes else np.empty(0, dtype=np.uint64)
    del hashes
    facts.repeated = _repeated(every)
    keys = np.concatenate(points) if points else np.empty(0, dtype=np.int64)
    possible = np.concatenate(possible) if possible else np.empty(0, dtype=bool)
    sure = np.concatenate(sure) if sure else np.empty(0, dtype=bool)
    sure &= ~np.isin(every, facts.repeated)
    del every
    located = keys != _NO_POINT
    least = mapping.default_point_min
    upper_values, upper = np.unique(keys[located & possible], return_counts=True)
    lower_values, lower = np.unique(keys[located & sure], return_counts=True)
    crowded = lower_values[lower >= least]
    maybe = np.setdiff1d(upper_values[upper >= least], crowded)
    if len(maybe):
        crowded = np.union1d(crowded, _crowded(source, mapping, size, facts, keys, maybe, timezone, now))
    facts.crowded = crowded
    return facts


def _mapped(mapping: Mapping) -> list[str]:
    """The source columns the mapping names."""
    return sorted(set(mapping.columns.values()))


def _repeated(hashes: np.ndarray) -> np.ndarray:
    """The hashes that occur more than once, sorted."""
    ordered = np.sort(hashes)
    return np.unique(ordered[1:][ordered[1:] == ordered[:-1]])


def _points(batch: RawBatch, mapping: Mapping) -> np.ndarray:
    """Each record's point in WGS84, packed in one integer (rounded to 1e-6°), or -1 where it has none."""
    lon, lat, _, _ = coordinates(batch, mapping)
    lon, lat, _ = _converted(lon, lat, mapping.crs)
    return _pack(lon.to_numpy(dtype=float), lat.to_numpy(dtype=float))


def _pack(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Points rounded to 6 decimals as one integer each (the same rounding as ``round(6)``); -1 for NaN."""
    keys = np.full(len(lon), _NO_POINT, dtype=np.int64)
    ok = np.isfinite(lon) & np.isfinite(lat)
    x = np.rint(lon[ok] * 1e6).astype(np.int64) + 180_000_000
    y = np.rint(lat[ok] * 1e6).astype(np.int64) + 90_000_000
    keys[ok] = (x << 28) | y
    return keys


def _crowded(source: Source, mapping: Mapping, size: int, facts: FileFacts, keys: np.ndarray,
             suspects: np.ndarray, timezone: str, now: dt.datetime) -> np.ndarray:
    """Of the points shared by many rows, those shared by ``default_point_min`` rows that are imported.

    A second look, only when some point is shared that often: the rows on such
    a point are normalised to learn whether they are quarantined (which only
    the whole file's readings and ids decide). ``keys`` are every row's point
    from the first pass.
    """
    tracker = IdTracker(facts.repeated)
    counts: Counter = Counter()
    suspect = np.isin(keys, suspects)
    start = 0
    for batch in source.batches(size, _mapped(mapping)):
        earlier = tracker.earlier(appeal_ids(batch, mapping), batch.rows)
        on = np.flatnonzero(suspect[start:start + len(batch)])
        if len(on):
            norm = normalize(batch.take(on), mapping, city_tz=timezone, now=now, readings=facts.readings,
                             earlier=earlier.iloc[on].reset_index(drop=True))
            counts.update(keys[start:start + len(batch)][on][norm.reason.isna().to_numpy()].tolist())
        start += len(batch)
    return np.array(sorted(k for k, n in counts.items() if n >= mapping.default_point_min), dtype=np.int64)


# --------------------------------------------------------------- batches ---

@dataclass
class _Run:
    engine: Engine
    mapping: Mapping
    timezone: str
    now: dt.datetime
    facts: FileFacts
    settings: Settings
    index: RegionIndex | None = None
    rules: Rules | None = None
    tracker: IdTracker | None = None
    departments: set = field(default_factory=set)  # department codes known to be stored
    writer: "_Writer | None" = None

    def __post_init__(self):
        self.index = _region_index(self.engine)
        self.rules = load_rules(self.engine)
        self.tracker = IdTracker(self.facts.repeated)


def _import_batch(run: _Run, batch: RawBatch, report: ImportReport, counts: dict, quarantine: QuarantineWriter,
                  base: Path | None) -> None:
    earlier = run.tracker.earlier(appeal_ids(batch, run.mapping), batch.rows)
    norm = normalize(batch, run.mapping, city_tz=run.timezone, now=run.now, readings=run.facts.readings,
                     earlier=earlier)
    frame, ok = norm.frame, norm.reason.isna()
    _to_wgs84(norm, run.mapping.crs)
    _place(run.index, norm, ok)
    _flag_default_points(norm, ok, run.facts.crowded)
    frame["quality_flags"] = _flags(norm.warnings, len(frame))
    _deadline_fields(run.rules, frame, ok, run.settings)

    good = frame[ok]
    existing = _existing(run.engine, good["appeal_id"].tolist())
    new_rows, changed_rows = _split(good, existing)
    # the rows this batch writes: ids later batches cannot hold (they would be duplicates), so the next
    # batch is compared with what is stored while this one is written
    run.writer.put(_Write(_new_departments(run.engine, good, run.now, run.departments),
                          new_rows[_WRITTEN], changed_rows[_WRITTEN], report.read + len(batch), batch.rows[-1]))

    report.read += len(batch)
    report.inserted += len(new_rows)
    report.updated += len(changed_rows)
    report.unchanged += len(good) - len(new_rows) - len(changed_rows)
    report.quarantined += int((~ok).sum())
    report.quarantine_reasons.update(norm.reason[~ok].tolist())
    for kind, mask in norm.warnings.items():
        hits = np.flatnonzero((mask & ok).to_numpy())
        if len(hits):
            report.warnings[kind] += len(hits)
            shown = report.warning_rows.setdefault(kind, [])
            shown.extend(batch.rows[i] for i in hits[:WARNING_ROWS_SHOWN - len(shown)])
    for name, layouts in norm.layout_counts.items():
        counts[name].update(layouts)
    if not ok.all():
        if base is not None:
            if quarantine.path is None:
                base.parent.mkdir(parents=True, exist_ok=True)
                quarantine.open(base.with_name(base.name + "-quarantine.csv"))
            quarantine.write((batch.rows[i], batch.record(i), norm.reason.iat[i], norm.detail.iat[i] or "")
                             for i in np.flatnonzero(~ok.to_numpy()))


_WRITTEN = ["appeal_id", *OWNED]


@dataclass
class _Write:
    """A batch's writes, committed in one transaction with the import's mark."""

    departments: list[dict]
    new: pd.DataFrame
    changed: pd.DataFrame
    rows_done: int
    last_row: int


class _Writer:
    """Commits the batches in order, in a thread of its own, while the next batch is read and checked.

    The database does its work (SQLite's, the driver's) without Python's lock,
    so the two overlap. At most one batch waits. An error in the writer stops
    the import at the next batch; an error in the reader (an interruption)
    lets the writer commit the batches already handed to it, whole, first.
    """

    def __init__(self, engine: Engine, now: dt.datetime):
        self.engine, self.now = engine, now
        self.queue: queue.Queue = queue.Queue(maxsize=1)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="import-writer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (item := self.queue.get()) is not None:
            if self.error is None:
                try:
                    _commit(self.engine, item, self.now)
                except BaseException as exc:  # handed to the reading thread
                    self.error = exc

    def put(self, item: _Write) -> None:
        self._raise()
        self.queue.put(item)

    def close(self) -> None:
        """Wait until every batch handed over is committed."""
        if self.thread.is_alive():
            self.queue.put(None)
            self.thread.join()
        self._raise()

    def _raise(self) -> None:
        if self.error is not None:
            raise self.error


def _commit(engine: Engine, item: _Write, now: dt.datetime) -> None:
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            # the appeals' indexes grow with every batch: a larger page cache keeps their pages at hand
            conn.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        if item.departments:
            conn.execute(insert(schema.departments), item.departments)
        _insert(conn, item.new, now)
        _update(conn, item.changed, now)
        _progress(conn, item.rows_done, item.last_row)


# ------------------------------------------------------------- places ---

def _converted(lon: pd.Series, lat: pd.Series, crs: str) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Points given in ``crs`` in WGS84, and which became unusable (NaN) by the conversion.

    Every point of the batch is converted together, in the first pass and in
    the batch itself alike, so both see the same values (an iterative inverse
    such as GCJ-02's stops when the whole array has converged).
    """
    bad = pd.Series(False, index=lon.index)
    given = lon.notna() & lat.notna()
    if crs == "wgs84" or not given.any():
        return lon, lat, bad
    x, y = points_to_wgs84(lon[given].to_numpy(), lat[given].to_numpy(), crs)
    unusable = ~(np.isfinite(x) & np.isfinite(y) & (np.abs(x) <= 180) & (np.abs(y) <= 90))
    lon, lat = lon.copy(), lat.copy()
    lon[given] = np.where(unusable, np.nan, x)
    lat[given] = np.where(unusable, np.nan, y)
    bad[given] = unusable
    return lon, lat, bad


def _to_wgs84(norm: Normalized, crs: str) -> None:
    f = norm.frame
    f["lon"], f["lat"], bad = _converted(f["lon"], f["lat"], crs)
    if bad.any():
        norm.warnings["bad_coordinates"] = norm.warnings.get("bad_coordinates", pd.Series(False, index=f.index)) | bad


def _region_index(engine: Engine) -> RegionIndex | None:
    r = schema.regions
    with engine.connect() as conn:
        rows = conn.execute(select(r.c.code, r.c.level, r.c.geometry).where(r.c.geometry.is_not(None))).all()
    if not rows:
        return None
    import shapely

    codes, levels, blobs = zip(*rows)
    return RegionIndex.build(list(codes), list(levels), shapely.from_wkb(list(blobs)))


def _place(index: RegionIndex | None, norm: Normalized, ok: pd.Series) -> None:
    f = norm.frame
    located = ok & f["lon"].notna() & f["lat"].notna()
    f["grid_code"] = pd.Series([None] * len(f), index=f.index, dtype=object)
    if not located.any():
        return
    if index is None:
        norm.warnings["no_regions_loaded"] = located
        return
    codes = index.assign(f.loc[located, "lon"].to_numpy(dtype=float), f.loc[located, "lat"].to_numpy(dtype=float))
    f.loc[located, "grid_code"] = codes
    norm.warnings["outside_regions"] = located & f["grid_code"].isna()


def _flag_default_points(norm: Normalized, ok: pd.Series, crowded: np.ndarray) -> None:
    """Many importable appeals of the file on one identical point: the geocoder fell back to a default location."""
    f = norm.frame
    located = (ok & f["lon"].notna()).to_numpy()
    keys = _pack(f["lon"].to_numpy(dtype=float), f["lat"].to_numpy(dtype=float))
    norm.warnings["default_point"] = pd.Series(located & np.isin(keys, crowded), index=f.index)


def _deadline_fields(rules: Rules, frame: pd.DataFrame, ok: pd.Series, settings: Settings) -> None:
    """``deadline_source`` ('import' where the export gives a deadline, else NULL) and ``warn_at``.

    The yellow moment follows the engine: working time, or clock time where
    the rules give the appeal's kind a limit in hours.
    """
    has = (ok & frame["deadline_at"].notna()).to_numpy()
    frame["deadline_source"] = pd.Series(np.where(has, "import", None), index=frame.index, dtype=object)
    warn = np.full(len(frame), np.datetime64("NaT"), dtype="datetime64[us]")
    if has.any():
        rows = frame[has]
        # the rules' answer once per distinct (category, subcategory): an export has a few hundred
        kinds = rows["category"].astype(object) + "\x00" + rows["subcategory"].fillna("\x01").astype(object)
        codes, distinct = pd.factorize(kinds.to_numpy(dtype=object))
        first = np.unique(codes, return_index=True)[1]
        sample = rows.iloc[first]
        nothing = [None] * len(sample)
        clock = limit_arrays(rules, sample["category"], sample["subcategory"], nothing)["clock"][codes]
        warn[has] = warn_at_array(rows["created_at"], rows["deadline_at"], clock,
                                  fraction=settings.due_soon_fraction, workdays=settings.due_soon_workdays)
    frame["warn_at"] = pd.Series(warn, index=frame.index)


def _flags(warnings: dict[str, pd.Series], n: int) -> np.ndarray:
    """Each row's warning kinds, sorted and comma-separated, or None."""
    kinds = sorted(warnings)
    if not kinds or not n:
        return np.full(n, None, dtype=object)
    code = np.zeros(n, dtype=np.int64)
    for bit, kind in enumerate(kinds):
        code |= warnings[kind].to_numpy(dtype=bool).astype(np.int64) << bit
    values, where = np.unique(code, return_inverse=True)
    names = np.array([",".join(k for bit, k in enumerate(kinds) if v >> bit & 1) or None for v in values.tolist()],
                     dtype=object)
    return names[where]


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


def _existing(engine: Engine, ids: list[str]) -> pd.DataFrame:
    """The stored owned columns of the appeals among ``ids``, indexed by appeal_id."""
    a = schema.appeals
    found: list = []
    stmt = select(a.c.appeal_id, *[a.c[c] for c in OWNED]).where(a.c.appeal_id.in_(bindparam("ids", expanding=True)))
    with engine.connect() as conn:
        for start in range(0, len(ids), _CHUNK):
            found.extend(conn.execute(stmt, {"ids": ids[start:start + _CHUNK]}).all())
    return pd.DataFrame.from_records(found, columns=["appeal_id", *OWNED]).set_index("appeal_id")


def _split(good: pd.DataFrame, existing: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rows not stored yet, and the stored rows of which an owned column differs.

    Times are compared to the second, coordinates to 1e-9 degrees, the rest exactly.
    """
    stored = good["appeal_id"].isin(existing.index).to_numpy()
    new = good[~stored]
    both = good[stored]
    if both.empty:
        return new, both
    old = existing.loc[both["appeal_id"].to_numpy()]
    differs = np.zeros(len(both), dtype=bool)
    for c in OWNED:
        a, b = both[c], old[c]
        if c in _TIMES:
            a = pd.to_datetime(a).dt.floor("s").to_numpy()
            b = pd.to_datetime(b.to_numpy(dtype=object)).floor("s").to_numpy()
            same = (a == b) | (np.isnat(a) & np.isnat(b))
        elif c in _FLOATS:
            a = a.to_numpy(dtype=float)
            b = pd.to_numeric(pd.Series(b.to_numpy(dtype=object)), errors="coerce").to_numpy(dtype=float)
            with np.errstate(invalid="ignore"):
                same = (np.abs(a - b) <= 1e-9) | (np.isnan(a) & np.isnan(b))
        else:
            a, b = _objects(a), _objects(b)
            same = np.fromiter((x == y for x, y in zip(a, b)), dtype=bool, count=len(a))
        differs |= ~same
    return new, both[differs]


def _objects(values: pd.Series) -> list:
    """Values as Python objects, None for a missing one (None, NaN, NA)."""
    array = values.to_numpy(dtype=object, copy=True)
    missing = pd.isna(array)
    if missing.any():
        array[missing] = None
    return array.tolist()


def _column_values(frame: pd.DataFrame, column: str, dialect) -> list:
    """A column as the driver takes it: None for NaN/NaT; SQLite times as SQLAlchemy stores them (text)."""
    values = frame[column]
    if column in _TIMES:
        stamps = values.to_numpy(dtype="datetime64[us]")
        if dialect.name != "sqlite":
            return stamps.astype(object).tolist()
        # SQLAlchemy's SQLite format, 'YYYY-MM-DD HH:MM:SS.ffffff', made for the whole column at once
        valid = ~np.isnat(stamps)
        text = np.datetime_as_string(stamps, unit="us")
        if len(text) and text.dtype.itemsize >= 4 * 26:
            letters = text.view(np.uint32).reshape(len(text), -1)
            letters[valid, 10] = ord(" ")  # the 'T' between date and time
        out = text.astype(object)
        out[~valid] = None
        return out.tolist()
    if column in _FLOATS:
        numbers = values.to_numpy(dtype=float)
        out = numbers.astype(object)
        out[np.isnan(numbers)] = None
        return out.tolist()
    return _objects(values)


def _insert(conn, rows: pd.DataFrame, now: dt.datetime) -> None:
    """New appeals, through the driver's executemany (the statement built by SQLAlchemy Core)."""
    if rows.empty:
        return
    a = schema.appeals
    columns = ["appeal_id", *OWNED, "updated_at", "is_repeat", "is_supervised"]
    dialect = conn.dialect
    stmt = insert(a).compile(dialect=dialect, column_keys=columns)
    stamp = now.isoformat(" ", "microseconds") if dialect.name == "sqlite" else now
    values = {c: _column_values(rows, c, dialect) for c in ["appeal_id", *OWNED]}
    n = len(rows)
    values.update({"updated_at": [stamp] * n, "is_repeat": [False] * n, "is_supervised": [False] * n})
    if dialect.positional:
        params = list(zip(*(values[k] for k in stmt.positiontup)))
    else:
        params = [dict(zip(columns, row)) for row in zip(*(values[c] for c in columns))]
    conn.exec_driver_sql(str(stmt), params)


def _update(conn, rows: pd.DataFrame, now: dt.datetime) -> None:
    if rows.empty:
        return
    a = schema.appeals
    stmt = (update(a).where(a.c.appeal_id == bindparam("key"))
            .values({c: bindparam(f"v_{c}") for c in (*OWNED, "updated_at")}))
    params = [{"key": r["appeal_id"], **{f"v_{c}": _py(r[c]) for c in OWNED}, "v_updated_at": now}
              for r in rows.to_dict("records")]
    for start in range(0, len(params), 5000):
        conn.execute(stmt, params[start:start + 5000])


def _new_departments(engine: Engine, good: pd.DataFrame, now: dt.datetime, known: set) -> list[dict]:
    """The departments named by the file that the database does not have yet (``known`` grows)."""
    named = good[["department_code", "department"]].dropna().drop_duplicates("department_code")
    named = named[~named["department_code"].isin(known)]
    if named.empty:
        return []
    d = schema.departments
    with engine.connect() as conn:
        stored = {row[0] for row in conn.execute(select(d.c.code).where(
            d.c.code.in_(bindparam("codes", expanding=True))), {"codes": named["department_code"].tolist()})}
    known.update(named["department_code"])
    new = named[~named["department_code"].isin(stored)]
    return [{"code": code, "name": name, "level": "unknown", "region_code": None, "updated_at": now}
            for code, name in zip(new["department_code"], new["department"])]


# ------------------------------------------------------- the import's mark ---

def _start_mark(engine: Engine, source_name: str, now: dt.datetime) -> dict | None:
    """Set this import's mark; returns the mark an import that did not finish left, if any."""
    t = schema.city_settings
    mark = _mark_value({"file": Path(source_name).name, "started_at": now.isoformat(" "), "rows_done": 0})
    with engine.begin() as conn:
        left = conn.execute(select(t.c.value).where(t.c.key == PROGRESS_KEY)).scalar_one_or_none()
        if left is None:
            conn.execute(insert(t).values(key=PROGRESS_KEY, value=mark, updated_at=now))
        else:
            conn.execute(update(t).where(t.c.key == PROGRESS_KEY).values(value=mark, updated_at=now))
    if left is None:
        return None
    try:
        found = json.loads(left)
    except ValueError:
        return {"file": left}
    return found if isinstance(found, dict) else {"file": left}


def _progress(conn, rows_done: int, last_row: int) -> None:
    """The mark moves on in the batch's own transaction: it counts exactly the rows committed."""
    t = schema.city_settings
    value = conn.execute(select(t.c.value).where(t.c.key == PROGRESS_KEY)).scalar_one_or_none()
    mark = json.loads(value) if value else {}
    mark.update(rows_done=rows_done, last_row=last_row)
    conn.execute(update(t).where(t.c.key == PROGRESS_KEY).values(value=_mark_value(mark)))


def _end_mark(engine: Engine) -> None:
    t = schema.city_settings
    with engine.begin() as conn:
        conn.execute(delete(t).where(t.c.key == PROGRESS_KEY))


def _mark_value(mark: dict) -> str:
    """The mark as JSON within the column's 255 characters (a long file name is cut)."""
    text = json.dumps(mark, ensure_ascii=False)
    while len(text) > 255 and len(mark.get("file", "")) > 8:
        mark = {**mark, "file": "…" + mark["file"][-(len(mark["file"]) // 2):]}
        text = json.dumps(mark, ensure_ascii=False)
    return text
