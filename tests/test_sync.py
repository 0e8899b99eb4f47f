"""The incremental copy from the system of record into the analytics store."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update

from data_access import analytics, schema, sync
from data_access.runner import run
from data_access.store import make_engine
from sqlalchemy import func, select
from tests.conftest import insert_appeals, insert_regions, ts

T0 = ts("2026-11-20 10:00:00")


def _appeals(n: int, start: int = 0, grid: str = "101001001001") -> list[dict]:
    return [dict(appeal_id=f"S{i:05d}", created_at=T0 - dt.timedelta(hours=i), grid_code=grid)
            for i in range(start, start + n)]


def _facts(con):
    return run(con, select(analytics.facts.c.appeal_id, analytics.facts.c.status, analytics.facts.c.district_code,
                           analytics.facts.c.street_code).order_by(analytics.facts.c.appeal_id))


def test_new_and_updated_rows_are_copied_once(any_sor):
    insert_regions(any_sor, updated_at=T0)
    insert_appeals(any_sor, _appeals(250), updated_at=T0)
    con = analytics.open_store(None)
    first = sync.sync(any_sor, con, now=T0 + dt.timedelta(minutes=5), batch_rows=100)
    assert first.appeals_copied == 250 and first.regions_copied == 9
    assert sync.sync(any_sor, con, now=T0 + dt.timedelta(minutes=6)).appeals_copied == 0

    later = T0 + dt.timedelta(minutes=10)
    with any_sor.begin() as conn:
        conn.execute(update(schema.appeals).where(schema.appeals.c.appeal_id == "S00007")
                     .values(status="closed", closed_at=later, updated_at=later))
    insert_appeals(any_sor, _appeals(3, start=250), updated_at=later)
    again = sync.sync(any_sor, con, now=later + dt.timedelta(minutes=5))
    assert again.appeals_copied == 4          # one update, three new rows
    facts = _facts(con)
    assert len(facts) == 253 and facts["appeal_id"].is_unique
    assert facts.set_index("appeal_id").loc["S00007", "status"] == "closed"
    assert set(facts["district_code"]) == {"101"} and set(facts["street_code"]) == {"101001"}
    assert again.version == first.version + 1


def test_a_late_commit_below_the_mark_is_caught(sor):
    """A row stamped before the newest copied row, but committed after the sync, still arrives."""
    insert_regions(sor, updated_at=T0)
    insert_appeals(sor, _appeals(5), updated_at=T0)
    con = analytics.open_store(None)
    sync.sync(sor, con, now=T0 + dt.timedelta(seconds=5), lookback_seconds=60)
    insert_appeals(sor, _appeals(1, start=5), updated_at=T0 - dt.timedelta(seconds=20))
    result = sync.sync(sor, con, now=T0 + dt.timedelta(seconds=10), lookback_seconds=60)
    assert result.appeals_copied == 1
    assert len(_facts(con)) == 6


def test_quiet_store_does_not_recheck_old_rows(sor):
    insert_regions(sor, updated_at=T0)
    insert_appeals(sor, _appeals(50), updated_at=T0)
    con = analytics.open_store(None)
    sync.sync(sor, con, now=T0 + dt.timedelta(seconds=5))
    # long after the last write: nothing is re-read or re-copied
    assert sync.sync(sor, con, now=T0 + dt.timedelta(hours=1)).appeals_copied == 0


def test_store_survives_a_restart(tiny_sor, tmp_path):
    path = tmp_path / "analytics.duckdb"
    insert_appeals(tiny_sor, _appeals(40), updated_at=T0)
    con = analytics.open_store(path)
    sync.sync(tiny_sor, con, now=T0 + dt.timedelta(minutes=5))
    con.close()

    reopened = analytics.open_store(path)
    assert len(_facts(reopened)) == 40
    assert sync.status(reopened).appeals == 40
    result = sync.sync(tiny_sor, reopened, now=T0 + dt.timedelta(minutes=6))
    assert result.appeals_copied == 0 and result.regions_copied == 0


@pytest.mark.attack("faults")
def test_an_interrupted_sync_resumes_without_duplicates(tiny_sor, monkeypatch):
    insert_appeals(tiny_sor, [dict(appeal_id=f"R{i:03d}", created_at=T0, updated_at=T0 + dt.timedelta(seconds=i))
                              for i in range(30)])
    con = analytics.open_store(None)
    real_upsert, calls = sync._upsert, {"n": 0}

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk full")
        return real_upsert(*args, **kwargs)

    monkeypatch.setattr(sync, "_upsert", failing)
    with pytest.raises(RuntimeError):
        sync.sync(tiny_sor, con, now=T0 + dt.timedelta(hours=1), batch_rows=10)
    assert len(_facts(con)) == 20  # two batches committed, the third rolled back
    monkeypatch.setattr(sync, "_upsert", real_upsert)
    result = sync.sync(tiny_sor, con, now=T0 + dt.timedelta(hours=1), batch_rows=10)
    assert result.appeals_copied == 10
    assert len(_facts(con)) == 30 and _facts(con)["appeal_id"].is_unique


def test_changed_regions_recompute_the_paths(sor):
    tiny_sor = sor
    insert_regions(sor, updated_at=T0)
    insert_appeals(tiny_sor, _appeals(3), updated_at=T0)
    con = analytics.open_store(None)
    sync.sync(tiny_sor, con, now=T0)
    later = T0 + dt.timedelta(hours=1)
    with tiny_sor.begin() as conn:  # the east community moves to the west street
        conn.execute(update(schema.regions).where(schema.regions.c.code == "101001001")
                     .values(parent_code="102001", updated_at=later))
    result = sync.sync(tiny_sor, con, now=later)
    assert result.regions_copied == 9
    assert set(_facts(con)["street_code"]) == {"102001"}
    assert set(_facts(con)["district_code"]) == {"102"}


def test_a_store_from_another_database_is_emptied(tiny_sor, tmp_path):
    insert_appeals(tiny_sor, _appeals(5), updated_at=T0)
    con = analytics.open_store(None)
    sync.sync(tiny_sor, con, now=T0)
    other = make_engine(f"sqlite:///{tmp_path / 'other.db'}")
    from data_access.store import create_schema

    create_schema(other)
    sync.sync(other, con, now=T0)
    assert len(_facts(con)) == 0


@pytest.mark.attack("faults")
def test_unreachable_source_is_reported_without_the_password(tmp_path):
    con = analytics.open_store(None)
    engine = make_engine("postgresql+psycopg://someone:s3cret@127.0.0.1:1/nowhere", connect_timeout=2)
    with pytest.raises(sync.SyncError) as err:
        sync.sync(engine, con)
    assert "s3cret" not in str(err.value) and "127.0.0.1" in str(err.value)
    assert sync.status(con).last_error


def test_counts_agree_with_the_source(any_sor):
    insert_regions(any_sor, updated_at=T0)
    insert_appeals(any_sor, _appeals(120) + _appeals(80, start=500, grid="102001001001"), updated_at=T0)
    con = analytics.open_store(None)
    sync.sync(any_sor, con, now=T0 + dt.timedelta(minutes=5))
    copied = run(con, select(analytics.facts.c.district_code, func.count().label("n"))
                 .group_by(analytics.facts.c.district_code).order_by(analytics.facts.c.district_code))
    assert list(copied["n"]) == [120, 80]


def test_a_city_database_that_serves_views(tmp_path):
    """docs/existing-database.md: appeals, regions and departments may be views over a city's own tables."""
    from sqlalchemy import MetaData, Table
    from sqlalchemy.schema import DDL

    engine = make_engine(f"sqlite:///{tmp_path / 'city.db'}")
    own = MetaData()
    for table in (schema.regions, schema.departments, schema.appeals):
        table.to_metadata(own, name=f"city_{table.name}")
    own.create_all(engine)
    with engine.begin() as conn:
        for name in ("regions", "departments", "appeals"):
            conn.execute(DDL(f"CREATE VIEW {name} AS SELECT * FROM city_{name}"))
    regions_table = Table("city_regions", own)
    appeals_table = Table("city_appeals", own)
    from data_access.store import bulk_insert
    from tests.conftest import APPEAL_DEFAULTS, TINY_REGIONS

    bulk_insert(engine, regions_table, ["code", "name", "level", "parent_code", "population", "updated_at"],
                [(*r, T0) for r in TINY_REGIONS])
    columns = list(schema.APPEAL_COLUMNS)
    rows = [{**APPEAL_DEFAULTS, "appeal_id": f"V{i}", "created_at": T0, "updated_at": T0} for i in range(5)]
    bulk_insert(engine, appeals_table, columns, [tuple(r[c] for c in columns) for r in rows])
    con = analytics.open_store(None)
    result = sync.sync(engine, con, now=T0 + dt.timedelta(minutes=5))
    assert result.appeals_copied == 5 and result.regions_copied == 9
    assert set(_facts(con)["district_code"]) == {"101"}


def test_an_older_database_is_read_and_upgraded(tmp_path):
    """A system of record made before a nullable column existed still syncs; create_schema adds the column."""
    from sqlalchemy import MetaData, inspect

    from data_access.store import bulk_insert, create_schema

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    old = MetaData()
    for table in (schema.regions, schema.departments):
        table.to_metadata(old)
    appeals_then = schema.appeals.to_metadata(old)
    appeals_then._columns.remove(appeals_then.c.quality_flags)  # the column came later
    old.create_all(engine)
    columns = [c.name for c in appeals_then.columns]
    row = {"appeal_id": "O1", "channel": "hotline", "category": "供暖", "created_at": T0, "updated_at": T0,
           "status": "open", "is_repeat": False, "is_supervised": False}
    bulk_insert(engine, appeals_then, columns, [tuple(row.get(c) for c in columns)])
    con = analytics.open_store(None)
    assert sync.sync(engine, con, now=T0).appeals_copied == 1
    create_schema(engine)
    assert "quality_flags" in {c["name"] for c in inspect(engine).get_columns("appeals")}
    assert "grid_workers" in inspect(engine).get_table_names()
