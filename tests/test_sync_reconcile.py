"""The reconciliation of the sync: rows written below the mark, and deleted rows, reach the copy.

Where it is the point, a test first shows that the incremental steps alone
(``reconcile_seconds=None``) leave the difference in place, then that a sync
with the reconciliation removes it. The syncs run an hour after the newest
row, so the late-commit lookback is off and only the reconciliation can find a
row. After each sync the copy must equal the source, row for row (key, stamp,
status, category).
"""

from __future__ import annotations

import datetime as dt
import math
import time

import pytest
from sqlalchemy import MetaData, bindparam, create_engine, event, select, text, update
from sqlalchemy.schema import DDL

from data_access import analytics, cli, reconcile, schema, sync
from data_access.runner import run
from data_access.sqlfuncs import epoch_seconds, micro_of, time_bucket
from data_access.store import bulk_insert, make_engine
from tests.conftest import SERVER_URLS, TINY_REGIONS, insert_appeals, insert_regions, ts

T0 = ts("2026-11-20 10:00:00")     # the newest row: the copy's mark
NOW = T0 + dt.timedelta(hours=1)   # the lookback (60 s) no longer looks below the mark
DAYS = 30


def _rows(n: int, start: int = 0, prefix: str = "B") -> list[dict]:
    """Appeals stamped over the DAYS days up to T0 (row 0 exactly at T0), with microseconds."""
    out = []
    for i in range(start, start + n):
        stamp = T0 - dt.timedelta(days=i % DAYS, seconds=(i * 37) % 86_000, microseconds=(i * 7919) % 1_000_000)
        out.append(dict(appeal_id=f"{prefix}{i:06d}", created_at=stamp - dt.timedelta(hours=1), updated_at=stamp))
    return out


def _sync(engine, con, **kwargs) -> sync.SyncResult:
    kwargs.setdefault("now", NOW)
    return sync.sync(engine, con, lookback_seconds=60, **kwargs)


def _source_rows(engine) -> set[tuple]:
    a = schema.appeals
    with engine.connect() as conn:
        rows = conn.execute(select(a.c.appeal_id, a.c.updated_at, a.c.status, a.c.category)).all()
    return {tuple(r) for r in rows}


def _copy_rows(con) -> set[tuple]:
    f = analytics.facts
    df = run(con, select(f.c.appeal_id, f.c.updated_at, f.c.status, f.c.category), max_rows=1_000_000)
    return {(i, t.to_pydatetime(), s, c) for i, t, s, c in df.itertuples(index=False)}


def _assert_equal(engine, con) -> None:
    source, copy = _source_rows(engine), _copy_rows(con)
    assert len(copy) == len(source)
    assert copy == source, (sorted(source - copy)[:5], sorted(copy - source)[:5])


def _set(engine, changes: list[dict]) -> None:
    """Update rows: {"k": appeal_id, "t": new updated_at, "s": new status}."""
    a = schema.appeals
    stmt = update(a).where(a.c.appeal_id == bindparam("k")).values(updated_at=bindparam("t"), status=bindparam("s"))
    with engine.begin() as conn:
        conn.execute(stmt, changes)


def _delete(engine, ids: list[str]) -> None:
    a = schema.appeals
    with engine.begin() as conn:
        conn.execute(a.delete().where(a.c.appeal_id.in_(ids)))


def _with_copy(engine):
    """600 appeals over 30 days in the system of record, and their copy."""
    insert_regions(engine, updated_at=T0)
    insert_appeals(engine, _rows(600))
    con = analytics.open_store(None)
    first = _sync(engine, con)
    assert first.appeals_copied == 600 and sync.status(con).high_water == T0
    return engine, con


@pytest.fixture
def synced(any_sor):
    return _with_copy(any_sor)


@pytest.fixture
def synced_sqlite(sor):
    return _with_copy(sor)


# ------------------------------------------------------------ the defect ---

def test_a_backdated_insert_arrives(synced):
    engine, con = synced
    late = dict(appeal_id="LATE1", created_at=T0 - dt.timedelta(days=3), updated_at=T0 - dt.timedelta(days=2))
    insert_appeals(engine, [late])
    assert _sync(engine, con, reconcile_seconds=None).appeals_copied == 0   # below the mark: not seen
    result = _sync(engine, con)
    assert result.reconciled and result.appeals_reconciled == 1 and result.appeals_deleted == 0
    assert result.changed
    _assert_equal(engine, con)


def test_a_backdated_update_arrives(synced):
    engine, con = synced
    moved, same_second = _rows(600)[5], _rows(600)[8]
    _set(engine, [
        # to another day, below the mark
        {"k": moved["appeal_id"], "t": moved["updated_at"] - dt.timedelta(days=1, hours=3), "s": "closed"},
        # within the same second: the count and the whole seconds stay, only the microseconds move
        {"k": same_second["appeal_id"], "s": "cancelled",
         "t": same_second["updated_at"].replace(microsecond=(same_second["updated_at"].microsecond + 1) % 1_000_000)},
    ])
    assert _sync(engine, con, reconcile_seconds=None).appeals_copied == 0
    result = _sync(engine, con)
    assert result.appeals_reconciled == 2 and result.appeals_deleted == 0
    _assert_equal(engine, con)


def test_a_delete_reaches_the_copy(synced):
    engine, con = synced
    gone = ["B000003", "B000033", "B000200"]   # two in one day, one in another
    _delete(engine, gone)
    before = sync.status(con).version
    result = _sync(engine, con)
    assert result.appeals_deleted == 3 and result.appeals_reconciled == 0
    assert sync.status(con).version == before + 1        # caches see the change
    _assert_equal(engine, con)
    assert sync.status(con).appeals == 597
    with engine.begin() as conn:                          # every row: the mark stays, the copy empties
        conn.execute(schema.appeals.delete())
    assert _sync(engine, con).appeals_deleted == 597
    assert sync.status(con).appeals == 0


def test_a_burst_of_10000_changes(any_sor):
    """4,000 inserts, 4,000 updates, 2,000 deletes, half of the inserts and updates below the mark."""
    insert_regions(any_sor, updated_at=T0)
    base = _rows(6_000)
    insert_appeals(any_sor, base)
    con = analytics.open_store(None)
    _sync(any_sor, con)

    backdated_inserts = _rows(2_000, start=10_000)
    new_inserts = [dict(appeal_id=f"N{i:06d}", created_at=T0, updated_at=T0 + dt.timedelta(seconds=1 + i))
                   for i in range(2_000)]
    insert_appeals(any_sor, backdated_inserts + new_inserts)
    _set(any_sor, [{"k": r["appeal_id"], "s": "closed",
                    "t": (r["updated_at"] - dt.timedelta(hours=3) if i % 2 == 0
                          else T0 + dt.timedelta(minutes=10, microseconds=i))}
                   for i, r in enumerate(base[:4_000])])
    _delete(any_sor, [r["appeal_id"] for r in base[4_000:]])

    result = _sync(any_sor, con, now=T0 + dt.timedelta(hours=2))
    assert result.appeals_copied == 4_000                  # after the mark: new rows and forward updates
    assert result.appeals_reconciled == 4_000              # below it: backdated inserts and updates
    assert result.appeals_deleted == 2_000
    _assert_equal(any_sor, con)
    again = _sync(any_sor, con, now=T0 + dt.timedelta(hours=3))
    assert (again.appeals_copied, again.appeals_reconciled, again.appeals_deleted) == (0, 0, 0)


# -------------------------------------------------------------- the cost ---

def test_nothing_to_do_copies_nothing(synced):
    engine, con = synced
    before = sync.status(con).version
    result = _sync(engine, con)
    assert result.reconciled
    assert (result.appeals_copied, result.appeals_reconciled, result.appeals_deleted) == (0, 0, 0)
    assert not result.changed and result.version == before
    with engine.connect() as src:   # the buckets are equal: only the sweep read keys
        assert list(reconcile.differing_ranges(src, con, T0)) == []
    assert 0 < result.keys_compared <= reconcile.SWEEP_ROWS + 1


def _hour(stamp: dt.datetime) -> dt.datetime:
    return stamp.replace(minute=0, second=0, microsecond=0)


def test_one_backdated_change_reads_two_buckets_not_the_table(synced, monkeypatch):
    engine, con = synced
    monkeypatch.setattr(reconcile, "SWEEP_ROWS", 10)
    rows = _rows(600)
    row = rows[42]
    new_stamp = row["updated_at"] - dt.timedelta(days=2)
    _set(engine, [{"k": row["appeal_id"], "t": new_stamp, "s": "closed"}])
    result = _sync(engine, con)
    assert result.appeals_reconciled == 1
    # the keys of the two hours it left and joined, and the sweep's 10 (11 with the moved row)
    hours = {_hour(row["updated_at"]), _hour(new_stamp)}
    in_hours = sum(_hour(r["updated_at"]) in hours for r in rows) + 1
    assert result.keys_compared <= in_hours + 11 < len(rows) / 10
    _assert_equal(engine, con)


def test_a_large_bucket_is_compared_by_minute(any_sor, monkeypatch):
    monkeypatch.setattr(reconcile, "KEY_LIMIT", 100)
    monkeypatch.setattr(reconcile, "SWEEP_ROWS", 10)
    hour = [dict(appeal_id=f"H{i:04d}", created_at=T0 - dt.timedelta(hours=2),
                 updated_at=T0 - dt.timedelta(seconds=6 * i)) for i in range(600)]   # 10 rows a minute
    insert_appeals(any_sor, hour)
    con = analytics.open_store(None)
    _sync(any_sor, con)
    late = T0 - dt.timedelta(minutes=30, seconds=31)
    insert_appeals(any_sor, [dict(appeal_id="LATE2", created_at=late, updated_at=late)])
    result = _sync(any_sor, con)
    assert result.appeals_reconciled == 1
    assert 11 <= result.keys_compared <= 11 + 11    # one minute's keys and the sweep, not the hour's 600
    _assert_equal(any_sor, con)


def test_the_sweep_sees_what_the_sums_cannot(synced, monkeypatch):
    """A row deleted and another inserted with exactly its stamp leave every count and sum as they were."""
    engine, con = synced
    monkeypatch.setattr(reconcile, "SWEEP_ROWS", 100)
    victim = _rows(600)[77]
    _delete(engine, [victim["appeal_id"]])
    insert_appeals(engine, [{**victim, "appeal_id": "TWIN77"}])
    with engine.connect() as src:
        assert list(reconcile.differing_ranges(src, con, T0)) == []
    for _ in range(math.ceil(600 / 100) + 1):     # one full turn of the sweep
        _sync(engine, con)
    _assert_equal(engine, con)


def test_the_sweep_takes_a_stamp_shared_by_many_rows_whole(sor, monkeypatch):
    """The seeder and the importer stamp whole batches alike: the sweep neither stops nor skips there."""
    monkeypatch.setattr(reconcile, "SWEEP_ROWS", 100)
    batch = T0 - dt.timedelta(hours=1)
    insert_appeals(sor, [dict(appeal_id=f"S{i:03d}", created_at=batch, updated_at=batch) for i in range(300)]
                   + [dict(appeal_id=f"T{i:03d}", created_at=T0, updated_at=T0 + dt.timedelta(seconds=i))
                      for i in range(150)])
    con = analytics.open_store(None)
    assert _sync(sor, con).keys_compared == 300          # the 300 of the first stamp, at once
    assert _sync(sor, con).keys_compared == 100          # then the next 100
    assert _sync(sor, con).keys_compared == 50           # the rest, up to the mark; then from the start again
    assert _sync(sor, con).keys_compared == 300


def test_the_reconciliation_waits_for_its_interval(synced_sqlite):
    engine, con = synced_sqlite     # reconciled at NOW
    assert not _sync(engine, con, reconcile_seconds=300, now=NOW + dt.timedelta(seconds=10)).reconciled
    late = dict(appeal_id="LATE3", created_at=T0 - dt.timedelta(days=4), updated_at=T0 - dt.timedelta(days=4))
    insert_appeals(engine, [late])
    early = _sync(engine, con, reconcile_seconds=300, now=NOW + dt.timedelta(seconds=299))
    assert not early.reconciled and early.appeals_reconciled == 0
    due = _sync(engine, con, reconcile_seconds=300, now=NOW + dt.timedelta(seconds=300))
    assert due.reconciled and due.appeals_reconciled == 1
    _assert_equal(engine, con)
    # a clock set back does not stop it for good
    assert _sync(engine, con, reconcile_seconds=300, now=NOW - dt.timedelta(days=1)).reconciled


def test_a_failed_reconciliation_is_reported_and_waits_for_its_interval(synced_sqlite, monkeypatch):
    engine, con = synced_sqlite     # reconciled at NOW
    from sqlalchemy.exc import OperationalError

    def broken(*_args, **_kwargs):
        raise OperationalError("SELECT …", {}, Exception("the view is broken"))

    monkeypatch.setattr(reconcile, "differing_ranges", broken)
    later = NOW + dt.timedelta(seconds=300)
    with pytest.raises(sync.SyncError, match="the view is broken"):
        _sync(engine, con, reconcile_seconds=300, now=later)
    assert "the view is broken" in sync.status(con).last_error
    # the next syncs copy new rows as before and do not retry at once
    insert_appeals(engine, [dict(appeal_id="NEW1", created_at=T0, updated_at=T0 + dt.timedelta(minutes=1))])
    result = _sync(engine, con, reconcile_seconds=300, now=later + dt.timedelta(seconds=10))
    assert result.appeals_copied == 1 and not result.reconciled
    assert sync.status(con).last_error is None


def test_small_tables_see_a_backdated_update_and_a_delete(synced):
    engine, con = synced
    with engine.begin() as conn:   # newest updated_at and row count stay as they were
        conn.execute(update(schema.regions).where(schema.regions.c.code == "102")
                     .values(name="西区（新）", updated_at=T0 - dt.timedelta(days=1)))
    assert _sync(engine, con, reconcile_seconds=None).regions_copied == 0   # the quick fingerprint
    assert _sync(engine, con).regions_copied == 9                           # the sums, with the reconciliation
    names = run(con, select(analytics.regions.c.name).where(analytics.regions.c.code == "102"))
    assert names["name"].tolist() == ["西区（新）"]
    with engine.begin() as conn:
        conn.execute(schema.regions.delete().where(schema.regions.c.code == "102001001001"))
    assert _sync(engine, con).regions_copied == 8


def test_the_sync_command_reconciles_and_says_so(tmp_path, capsys):
    engine = make_engine(f"sqlite:///{tmp_path / 'appeals.db'}")
    from data_access.store import create_schema

    create_schema(engine)
    insert_appeals(engine, _rows(50))
    store = tmp_path / "analytics.duckdb"
    args = ["sync", "--db", str(engine.url), "--analytics", str(store)]
    assert cli.main(args) == 0
    _delete(engine, ["B000001", "B000002"])
    assert cli.main(args) == 0
    assert "2 deleted" in capsys.readouterr().err
    con = analytics.open_store(store)
    _assert_equal(engine, con)


# ------------------------------------------------- a city's read-only views ---

def _city_engine(kind: str, tmp_path):
    """A writable engine on the city's own tables, and a read-only one that sees only the views."""
    if kind == "sqlite":
        path = tmp_path / "city.db"
        writer = make_engine(f"sqlite:///{path}")
        reader = make_engine(f"sqlite:///{path}")
        event.listen(reader, "connect", lambda dbapi, _rec: dbapi.execute("PRAGMA query_only = 1"))
        return writer, reader, None
    url = SERVER_URLS["postgresql"]
    probe = make_engine(url, connect_timeout=3)
    try:
        with probe.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS recon_city CASCADE"))
            conn.execute(text("CREATE SCHEMA recon_city"))
    except Exception as exc:  # noqa: BLE001 - any failure to connect means "not here"
        pytest.skip(f"postgresql server not reachable at {url}: {type(exc).__name__}")
    finally:
        probe.dispose()
    writer = create_engine(url, connect_args={"options": "-c search_path=recon_city"})
    reader = create_engine(url, connect_args={"options": "-c search_path=recon_city"
                                                         " -c default_transaction_read_only=on"})
    return writer, reader, "recon_city"


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_views_over_a_city_database(kind, tmp_path):
    """docs/existing-database.md: appeals, regions and departments are views over other tables; only SELECTs."""
    writer, reader, where = _city_engine(kind, tmp_path)
    own = MetaData()
    tables = {t.name: t.to_metadata(own, name=f"city_{t.name}", schema=where)
              for t in (schema.regions, schema.departments, schema.appeals)}
    own.create_all(writer)
    with writer.begin() as conn:
        for name in tables:
            conn.execute(DDL(f"CREATE VIEW {name} AS SELECT * FROM city_{name}"))
    city_appeals = tables["appeals"]
    bulk_insert(writer, tables["regions"], ["code", "name", "level", "parent_code", "population", "updated_at"],
                [(*r, T0) for r in TINY_REGIONS])
    columns = list(schema.APPEAL_COLUMNS)
    from tests.conftest import APPEAL_DEFAULTS

    def put(rows):
        bulk_insert(writer, city_appeals, columns, [tuple({**APPEAL_DEFAULTS, **r}[c] for c in columns) for r in rows])

    put(_rows(300))
    con = analytics.open_store(None)
    try:
        assert _sync(reader, con).appeals_copied == 300
        put([dict(appeal_id="VLATE", created_at=T0 - dt.timedelta(days=6), updated_at=T0 - dt.timedelta(days=5))])
        moved = _rows(300)[10]
        with writer.begin() as conn:
            conn.execute(update(city_appeals).where(city_appeals.c.appeal_id == moved["appeal_id"])
                         .values(status="closed", updated_at=moved["updated_at"] - dt.timedelta(hours=5)))
            conn.execute(city_appeals.delete().where(city_appeals.c.appeal_id.in_(["B000020", "B000021"])))
        result = _sync(reader, con)
        assert (result.appeals_reconciled, result.appeals_deleted) == (2, 2)
        _assert_equal(reader, con)
    finally:
        if where is not None:
            with writer.begin() as conn:
                conn.execute(text(f"DROP SCHEMA {where} CASCADE"))
        writer.dispose()
        reader.dispose()


# ------------------------------------------------ the same numbers everywhere ---

STAMPS = [
    ts("2026-11-20 10:00:00"), ts("2026-11-20 23:59:59.999999"), ts("2026-11-21 00:00:00"),
    ts("2024-02-29 12:34:56.123456"), ts("2026-03-29 02:30:00"),    # a leap day; a summer-time gap elsewhere
    ts("1970-01-01 00:00:00"), ts("1969-12-31 23:59:59.500000"), ts("1969-12-31 00:00:00"),
]
EPOCH = dt.datetime(1970, 1, 1)


def _expected(stamp: dt.datetime) -> tuple:
    return (*((stamp - EPOCH) // dt.timedelta(seconds=w) for w in reconcile.WIDTHS), stamp.microsecond)


def _bucket_select(table):
    c = table.c.updated_at
    return select(table.c.appeal_id, *(time_bucket(c, w).label(f"b{w}") for w in reconcile.WIDTHS),
                  micro_of(c).label("u"), epoch_seconds(c).label("s")).order_by(table.c.appeal_id)


CONNECTION_ZONES = {"sqlite": [None], "postgresql": ["SET TIME ZONE 'Etc/GMT+12'", "SET TIME ZONE 'Etc/GMT-14'"],
                 "mysql": ["SET time_zone = '-12:00'", "SET time_zone = '+13:00'"]}


def test_bucket_numbers_do_not_depend_on_the_time_zone(any_sor, monkeypatch):
    """The buckets equal a naive Python computation whatever the process's TZ and the connection's zone."""
    insert_appeals(any_sor, [dict(appeal_id=f"Z{i}", created_at=s, updated_at=s) for i, s in enumerate(STAMPS)])
    expected = [_expected(s) for s in STAMPS]
    try:
        for process_tz in ("Etc/GMT+12", "Etc/GMT-14"):
            monkeypatch.setenv("TZ", process_tz)
            time.tzset()
            for statement in CONNECTION_ZONES[any_sor.dialect.name]:
                with any_sor.connect() as conn:
                    if statement:
                        conn.execute(text(statement))
                    got = [tuple(int(v) for v in row[1:-1]) for row in conn.execute(_bucket_select(schema.appeals))]
                assert got == expected, (process_tz, statement)
            con = analytics.open_store(None)
            sync.sync(any_sor, con, now=T0, reconcile_seconds=None)
            df = run(con, _bucket_select(analytics.facts))
            assert [tuple(int(v) for v in row[1:-1]) for row in df.itertuples(index=False)] == expected, process_tz
    finally:
        monkeypatch.undo()
        time.tzset()
