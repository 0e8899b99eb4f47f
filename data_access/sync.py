"""Incremental copy of the system of record into the analytics store.

Appeals are copied by ``updated_at``:

1. *New rows*: every row after the high-water mark ``(updated_at, appeal_id)``,
   in that order, in batches; the mark advances with each committed batch, so
   an interrupted sync resumes where it stopped.
2. *Late commits*: a writer may stamp ``updated_at`` before its transaction
   commits, so a row can become visible with a stamp just below the mark.
   While the mark is recent (within ``lookback`` of now), the keys
   ``(appeal_id, updated_at)`` stamped in the lookback window are compared
   with the copy, and only missing or changed rows are fetched.
3. *Reconciliation*, at most every ``reconcile_seconds``: the rows at or below
   the mark are compared bucket by bucket (``reconcile.py``), and only the
   buckets that differ are compared key by key. Rows written below the mark
   (a slow clock, another zone, a commit later than the lookback) are copied
   and rows deleted in the source are deleted from the copy.

Each row is therefore copied once per change. Regions and departments are
small and change rarely: they are copied whole when their fingerprint (row
count and newest ``updated_at``; with the reconciliation also the sums of the
stamps) changes, and the appeals' region paths are then recomputed. Grid
workers and supervisions (督办) are copied whole the same way.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass

import duckdb
import pandas as pd
import pyarrow as pa
from sqlalchemy import Engine, String, and_, bindparam, case, cast, column, func, insert, inspect, null, or_, select, table, type_coerce, update
from sqlalchemy import DateTime as SaDateTime
from sqlalchemy.exc import SQLAlchemyError

from . import analytics as an
from . import cityzone
from . import reconcile as rc
from . import schema
from .clock import local_now
from .config import redact_url
from .runner import execute, run
from .sqlfuncs import epoch_seconds, micro_of

Progress = Callable[[str, int, int], None]

_DATETIME_COLUMNS = {c.name for c in schema.appeals.columns if isinstance(c.type, SaDateTime)}
_FETCH_IDS_CHUNK = 500


class SyncError(RuntimeError):
    """The system of record could not be read."""


@dataclass
class SyncResult:
    appeals_copied: int = 0
    regions_copied: int = 0
    departments_copied: int = 0
    supervisions_copied: int = 0
    # the reconciliation: whether it ran, the rows it copied and deleted, the keys it read from the source
    reconciled: bool = False
    appeals_reconciled: int = 0
    appeals_deleted: int = 0
    keys_compared: int = 0
    seconds: float = 0.0
    version: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.appeals_copied or self.regions_copied or self.departments_copied
                    or self.supervisions_copied or self.appeals_reconciled or self.appeals_deleted)


@dataclass
class SyncStatus:
    version: int
    last_success_at: dt.datetime | None
    last_attempt_at: dt.datetime | None
    last_error: str | None
    high_water: dt.datetime | None
    appeals: int


# ----------------------------------------------------------------- state ---

def _state(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    df = run(con, select(an.sync_state.c.key, an.sync_state.c.value), own_cursor=False)
    return dict(zip(df["key"], df["value"]))


def _set_state(con: duckdb.DuckDBPyConnection, **values) -> None:
    for key, value in values.items():
        stmt = insert(an.sync_state).values(key=key, value=None if value is None else str(value))
        execute(con, stmt.prefix_with("OR REPLACE"))


def _parse_ts(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def status(con: duckdb.DuckDBPyConnection) -> SyncStatus:
    """The store's sync state, read on a cursor of its own: every page run calls this on the shared
    connection, from its own thread, while a sync may be writing through another cursor."""
    cur = con.cursor()
    try:
        state = _state(cur)
        count = run(cur, select(func.count().label("n")).select_from(an.facts), own_cursor=False)["n"].iloc[0]
    finally:
        cur.close()
    return SyncStatus(
        version=int(state.get("version", 0)),
        last_success_at=_parse_ts(state.get("last_success_at")),
        last_attempt_at=_parse_ts(state.get("last_attempt_at")),
        last_error=state.get("last_error") or None,
        high_water=_parse_ts(state.get("appeals_high")),
        appeals=int(count),
    )


# ------------------------------------------------------------------ sync ---

def sync(sor: Engine, con: duckdb.DuckDBPyConnection, *, now: dt.datetime | None = None,
         timezone: str | None = None, lookback_seconds: float = 60.0, batch_rows: int = 50_000,
         reconcile_seconds: float | None = 0.0, progress: Progress | None = None) -> SyncResult:
    """Bring the analytics store up to date with the system of record.

    The reconciliation runs when the last one is at least ``reconcile_seconds``
    old by ``now`` (0: at every call; None: not at all).
    """
    started = time.perf_counter()
    unreadable = None
    if now is None and timezone is None:  # the city's time, in the zone stored with the data
        try:
            timezone = cityzone.zone_of(sor)
        except SQLAlchemyError as exc:  # stamped in the configured zone, then reported below like any failure
            timezone, unreadable = cityzone.resolve(None, cityzone.configured_zone()).zone, exc
    now = now or local_now(timezone)
    cur = con.cursor()
    try:
        result = SyncResult()
        try:
            if unreadable is not None:
                raise unreadable
            with sor.connect() as src:
                inspector = inspect(src)  # a city may serve these as views over its own tables
                present = set(inspector.get_table_names()) | set(inspector.get_view_names())
                missing = {"appeals", "regions", "departments"} - present
                if missing:
                    raise SyncError(f"{redact_url(str(sor.url))} has no table {', '.join(sorted(missing))}; "
                                    "create the schema with: python -m data_access init-db")
                _check_source(sor, cur)  # only once the new source is known to work
                due = _reconcile_due(cur, now, reconcile_seconds)
                result.regions_copied = _sync_small(src, cur, "regions", due)
                result.departments_copied = _sync_small(src, cur, "departments", due)
                if "grid_workers" in present:  # a city database may not have one
                    result.departments_copied += _sync_small(src, cur, "grid_workers", due)
                if "supervisions" in present:  # 督办, copied whole like the small tables
                    result.supervisions_copied = _sync_small(src, cur, "supervisions", due)
                if result.regions_copied:
                    _rebuild_paths(cur)
                cols = _source_columns(src)
                result.appeals_copied = _sync_appeals(src, cur, cols, now, lookback_seconds, batch_rows, progress)
                if due:
                    _reconcile(src, cur, cols, now, result, progress)
        except SQLAlchemyError as exc:
            message = f"{redact_url(str(sor.url))}: {type(exc).__name__}: {getattr(exc, 'orig', exc)}"
            _set_state(cur, last_attempt_at=now.isoformat(), last_error=message)
            raise SyncError(message) from exc
        except SyncError as exc:
            _set_state(cur, last_attempt_at=now.isoformat(), last_error=str(exc))
            raise
        state = _state(cur)
        version = int(state.get("version", 0)) + (1 if result.changed else 0)
        _set_state(cur, version=version, last_success_at=now.isoformat(), last_attempt_at=now.isoformat(),
                   last_error="")
        result.version = version
        result.seconds = time.perf_counter() - started
        return result
    finally:
        cur.close()


def _check_source(sor: Engine, con: duckdb.DuckDBPyConnection) -> None:
    """A store copied from another database is emptied rather than mixed."""
    source = redact_url(str(sor.url))
    known = _state(con).get("source")
    if known is not None and known != source:
        an.drop_tables(con)
        an.create_tables(con)
    if known != source:
        _set_state(con, source=source)


def _fingerprint(src, name: str, *, sums: bool) -> str:
    stamp = schema.metadata.tables[name].c.updated_at
    parts = [func.count(), func.max(stamp)]
    if sums:  # they see an update that moved a stamp backwards, or a delete plus an insert
        parts += [func.sum(epoch_seconds(stamp)), func.sum(micro_of(stamp))]
    row = src.execute(select(*parts)).one()
    return "|".join(str(v if v is None or isinstance(v, dt.datetime) else int(v)) for v in row)


def _sync_small(src, con: duckdb.DuckDBPyConnection, name: str, thorough: bool = True) -> int:
    """Copy a small table whole when its fingerprint changed.

    At every sync the fingerprint is the row count and the newest
    ``updated_at`` (cheap); when ``thorough`` (with the reconciliation), also
    the sums of the stamps, which take date arithmetic on every row.
    """
    dst_table = an.metadata.tables[name]
    state = _state(con)
    quick = _fingerprint(src, name, sums=False)
    if quick == state.get(f"{name}_fp"):
        if not thorough:
            return 0
        full = _fingerprint(src, name, sums=True)
        if full == state.get(f"{name}_fp_full"):
            return 0
    else:
        full = _fingerprint(src, name, sums=True)
    src_table = schema.metadata.tables[name]
    df = pd.DataFrame(src.execute(select(src_table)).all(), columns=[c.name for c in src_table.columns])
    con.begin()
    try:
        execute(con, dst_table.delete())
        if len(df):
            con.register("_sync_batch", df)
            batch = table("_sync_batch", *(column(c) for c in df.columns))
            execute(con, insert(dst_table).from_select(list(df.columns), select(*batch.c)))
            con.unregister("_sync_batch")
        _set_state(con, **{f"{name}_fp": quick, f"{name}_fp_full": full})
        con.commit()
    except Exception:
        con.rollback()
        raise
    return len(df)


def _rebuild_paths(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute every region's ancestors, then the appeals' path columns."""
    r = an.regions
    anc = select(r.c.code.label("code"), r.c.code.label("ancestor"), r.c.level.label("level")).cte(
        "anc", recursive=True)
    child, parent = r.alias("child"), r.alias("parent")
    anc = anc.union_all(
        select(anc.c.code, parent.c.code, parent.c.level)
        .select_from(anc.join(child, child.c.code == anc.c.ancestor).join(parent, parent.c.code == child.c.parent_code))
    )
    path_cols = [
        func.max(case((anc.c.level == level, anc.c.ancestor))).label(col) for level, col in an.PATH_COLUMNS.items()
    ]
    paths = select(anc.c.code, *path_cols).group_by(anc.c.code)
    f, p = an.facts, an.region_paths
    con.begin()
    try:
        execute(con, p.delete())
        execute(con, insert(p).from_select(["code", *an.PATH_COLUMNS.values()], paths))
        execute(con, update(f).values({col: null() for col in an.PATH_COLUMNS.values()}))
        execute(con, update(f).where(f.c.region_code == p.c.code)
                .values({col: p.c[col] for col in an.PATH_COLUMNS.values()}))
        con.commit()
    except Exception:
        con.rollback()
        raise


def _source_columns(src):
    """Appeal columns to read; SQLite datetimes are read as text and parsed by DuckDB.

    A column the source lacks (an older database, or a city's view without it)
    reads as NULL if it may be NULL; a missing required column is an error.
    """
    have = {c["name"] for c in inspect(src).get_columns("appeals")}
    missing = [c.name for c in schema.appeals.columns if c.name not in have and not c.nullable]
    if missing:
        raise SyncError(f"{redact_url(str(src.engine.url))}: table appeals lacks required column(s) "
                        f"{', '.join(missing)}")
    cols = []
    for c in schema.appeals.columns:
        if c.name not in have:
            cols.append(null().label(c.name))
        elif src.dialect.name == "sqlite" and c.name in _DATETIME_COLUMNS:
            cols.append(type_coerce(c, String).label(c.name))
        else:
            cols.append(c)
    return cols


def _sync_appeals(src, con, cols, now, lookback_seconds, batch_rows, progress) -> int:
    a = schema.appeals
    state = _state(con)
    high = _parse_ts(state.get("appeals_high"))
    high_id = state.get("appeals_high_id") or ""
    copied = 0

    # 1. new rows after the mark, in mark order
    query = select(*cols).order_by(a.c.updated_at, a.c.appeal_id)
    if high is not None:
        # the leading range on updated_at lets every database use the (updated_at, appeal_id) index
        query = query.where(a.c.updated_at >= high, or_(a.c.updated_at > high, a.c.appeal_id > high_id))
    total = None
    if progress is not None:
        total = src.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    result = src.execution_options(stream_results=True, yield_per=batch_rows).execute(query)
    names = list(result.keys())
    for part in result.partitions(batch_rows):
        copied += _upsert(con, _arrow(part, names), advance=True)
        if progress is not None:
            progress("appeals", copied, max(total or 0, copied))

    # 2. late commits: rows stamped at or below the old mark, within the lookback.
    # Rows only ever leave that window in the source (an update re-stamps them
    # later, and step 1 has copied that), so equal counts mean nothing arrived late.
    if high is not None and (now - high).total_seconds() <= lookback_seconds:
        since = high - dt.timedelta(seconds=lookback_seconds)
        in_window = and_(a.c.updated_at >= since, a.c.updated_at <= high)
        source_count = src.execute(select(func.count()).where(in_window)).scalar_one()
        f = an.facts
        copy_count = run(con, select(func.count().label("n")).where(f.c.updated_at >= since, f.c.updated_at <= high),
                         own_cursor=False)["n"].iloc[0]
        if source_count != copy_count:
            stamp = next(c for c in cols if c.name == "updated_at")
            keys = pd.DataFrame(src.execute(select(a.c.appeal_id, stamp).where(in_window)).all(),
                                columns=["appeal_id", "updated_at"])
            copied += _copy_ids(src, con, cols, _missing_or_changed(con, keys))[0]
    return copied


def _copy_ids(src, con: duckdb.DuckDBPyConnection, cols, ids: list[str],
              batch_rows: int = 50_000) -> tuple[int, set[str]]:
    """Fetch these appeals from the source and upsert them; the rows copied and the ids found."""
    a = schema.appeals
    names = [c.name for c in cols]
    copied, found, pending = 0, set(), []
    for start in range(0, len(ids), _FETCH_IDS_CHUNK):
        chunk = ids[start:start + _FETCH_IDS_CHUNK]
        pending += src.execute(select(*cols).where(a.c.appeal_id.in_(bindparam("ids", expanding=True))),
                               {"ids": chunk}).all()
        if len(pending) >= batch_rows or start + _FETCH_IDS_CHUNK >= len(ids):
            rows = _arrow(pending, names)
            found.update(rows.column("appeal_id").to_pylist())
            copied += _upsert(con, rows, advance=False, delete_first=True)
            pending = []
    return copied, found


# ------------------------------------------------------- reconciliation ---

def _reconcile_due(con: duckdb.DuckDBPyConnection, now: dt.datetime, every: float | None) -> bool:
    if every is None:
        return False
    last = _parse_ts(_state(con).get("reconciled_at"))
    # a clock set back (last in the future) must not stop the reconciliation for good
    return last is None or last > now or (now - last).total_seconds() >= every


def _reconcile(src, con: duckdb.DuckDBPyConnection, cols, now: dt.datetime, result: SyncResult,
               progress: Progress | None) -> None:
    """Compare the rows at or below the mark; copy what differs, delete what the source no longer has."""
    # stamped first: a reconciliation that fails is reported, and tried again after the interval, not at every sync
    _set_state(con, reconciled_at=now.isoformat())
    state = _state(con)
    f = an.facts
    newest = run(con, select(func.max(f.c.updated_at).label("t")), own_cursor=False)["t"].iloc[0]
    marks = [t for t in (_parse_ts(state.get("appeals_high")), None if pd.isna(newest) else newest.to_pydatetime())
             if t is not None]
    if not marks:  # nothing copied yet, nothing to compare
        return
    cutoff = max(marks)  # the copy may hold a row fetched by id with a stamp above the mark
    ranges = list(rc.differing_ranges(src, con, cutoff))
    sweep, next_sweep = rc.sweep_range(src, _parse_ts(state.get("reconcile_sweep")), cutoff)
    ranges.append((sweep, rc.SWEEP_ROWS))
    stamp = next(c for c in cols if c.name == "updated_at")
    done = 0
    for group in rc.batches(ranges, rc.KEY_BATCH):
        diff = rc.compare_keys(src, con, stamp, group)
        result.keys_compared += diff.keys
        # an orphan moved to another stamp (copy the current row) or was deleted
        copied, found = _copy_ids(src, con, cols, diff.stale + diff.orphans)
        result.appeals_reconciled += copied
        result.appeals_deleted += _delete_ids(con, [i for i in diff.orphans if i not in found])
        done += len(group)
        if progress is not None:
            progress("reconcile", done, len(ranges))
    result.reconciled = True
    _set_state(con, reconcile_sweep=next_sweep.isoformat() if next_sweep else "")


def _delete_ids(con: duckdb.DuckDBPyConnection, ids: list[str]) -> int:
    """Delete these appeals from the copy, in one transaction; the number of ids."""
    if not ids:
        return 0
    f = an.facts
    g = table("_sync_gone", column("appeal_id"))
    con.register("_sync_gone", pa.table({"appeal_id": pa.array(ids, pa.string())}))
    con.begin()
    try:
        execute(con, f.delete().where(f.c.appeal_id.in_(select(g.c.appeal_id))))
        con.commit()
    except Exception:
        con.rollback()
        raise
    finally:
        con.unregister("_sync_gone")
    return len(ids)


def _missing_or_changed(con: duckdb.DuckDBPyConnection, keys: pd.DataFrame) -> list[str]:
    if keys.empty:
        return []
    con.register("_sync_keys", keys)
    try:
        k = table("_sync_keys", column("appeal_id"), column("updated_at"))
        f = an.facts
        stmt = (
            select(k.c.appeal_id)
            .select_from(k.outerjoin(f, f.c.appeal_id == k.c.appeal_id))
            .where(or_(f.c.appeal_id.is_(None), f.c.updated_at != cast(k.c.updated_at, SaDateTime)))
        )
        return run(con, stmt, max_rows=len(keys), own_cursor=False)["appeal_id"].tolist()
    finally:
        con.unregister("_sync_keys")


def _arrow(rows, names: list[str]) -> pa.Table:
    """Rows from the source as an Arrow table (column by column; no per-cell Python objects kept)."""
    columns = list(zip(*rows)) if rows else [[] for _ in names]
    return pa.table({name: pa.array(col) for name, col in zip(names, columns)})


def _upsert(con: duckdb.DuckDBPyConnection, df: pa.Table, *, advance: bool, delete_first: bool = False) -> int:
    """Insert or replace a batch of appeals, with their region paths, in one transaction.

    ``delete_first`` deletes the batch's ids and then inserts, instead of
    INSERT OR REPLACE: DuckDB (1.5) keeps some memory for every row it
    replaces until the file is closed, about 300 bytes, which a reconciliation
    that re-copies millions of rows would pile up past the memory limit.
    """
    if df.num_rows == 0:
        return 0
    f, p = an.facts, an.region_paths
    batch = table("_sync_batch", *(column(c) for c in df.column_names))
    values = []
    for name in df.column_names:
        value = batch.c[name]
        if name in _DATETIME_COLUMNS:
            value = cast(value, SaDateTime)
        values.append(value)
    paths = [p.c[col] for col in an.PATH_COLUMNS.values()]
    target_names = ["region_code" if n == "grid_code" else n for n in df.column_names] + list(an.PATH_COLUMNS.values())
    stmt = insert(f).from_select(
        target_names,
        select(*values, *paths).select_from(batch.outerjoin(p, p.c.code == batch.c.grid_code)),
    )
    if not delete_first:
        stmt = stmt.prefix_with("OR REPLACE")
    con.begin()
    try:
        con.register("_sync_batch", df)
        if delete_first:
            execute(con, f.delete().where(f.c.appeal_id.in_(select(batch.c.appeal_id))))
        execute(con, stmt)
        con.unregister("_sync_batch")
        if advance:
            last_stamp = df.column("updated_at")[-1].as_py()
            high = last_stamp if isinstance(last_stamp, dt.datetime) else dt.datetime.fromisoformat(last_stamp)
            _set_state(con, appeals_high=high.isoformat(), appeals_high_id=df.column("appeal_id")[-1].as_py())
        con.commit()
    except Exception:
        con.rollback()
        raise
    return df.num_rows


def rebuild(sor: Engine, con: duckdb.DuckDBPyConnection, **kwargs) -> SyncResult:
    """Empty the analytics store and copy everything again (e.g. after a view's definition changed)."""
    an.drop_tables(con)
    an.create_tables(con)
    return sync(sor, con, **kwargs)
