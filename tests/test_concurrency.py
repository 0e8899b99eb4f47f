"""Page queries from many sessions while the sync writes: the shared analytics connection never races.

Every page run reads the sync status and runs its queries on the one
process-wide DuckDB connection (``data_access.cached``); the sync writes through
a cursor of its own. Twenty threads read as twenty sessions would, while the
main thread syncs new rows again and again; no read may fail.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from data_access import analytics, queries, sync
from data_access.scope import Period, Scope
from tests.conftest import insert_appeals, insert_regions, ts

pytestmark = pytest.mark.attack("faults")

T0 = ts("2026-11-20 10:00:00")
THREADS = 20
SYNCS = 8


def _appeals(n: int, start: int) -> list[dict]:
    return [dict(appeal_id=f"C{i:06d}", created_at=T0 - dt.timedelta(minutes=i), grid_code="101001001001")
            for i in range(start, start + n)]


def test_twenty_sessions_read_while_the_sync_writes(sor, tmp_path, attack_tries):
    insert_regions(sor, updated_at=T0)
    insert_appeals(sor, _appeals(200, 0), updated_at=T0)
    con = analytics.open_store(tmp_path / "analytics.duckdb")
    sync.sync(sor, con, now=T0 + dt.timedelta(minutes=1))
    errors: list[str] = []
    runs = [0] * THREADS
    done = threading.Event()

    def session(i: int) -> None:
        while not done.is_set():
            try:
                status = sync.status(con)  # as every page run does first
                assert status.appeals >= 200
                queries.kpis(con, Scope.whole(), Period.all_time(), T0 + dt.timedelta(hours=1))
                queries.children(con, Scope.whole(), Period.all_time(), T0 + dt.timedelta(hours=1), "street")
                runs[i] += 1
            except Exception as exc:  # noqa: BLE001 - every failure is what this test counts
                errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=session, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    try:
        for k in range(SYNCS):
            stamp = T0 + dt.timedelta(minutes=2 + k)
            insert_appeals(sor, _appeals(20, 200 + 20 * k), updated_at=stamp)
            sync.sync(sor, con, now=stamp + dt.timedelta(seconds=30), reconcile_seconds=0.0 if k % 4 == 0 else None)
    finally:
        done.set()
        for t in threads:
            t.join(timeout=60)
    assert errors == [], f"{len(errors)} of {sum(runs) + len(errors)} page runs failed, e.g. {errors[:3]}"
    assert min(runs) > 0
    attack_tries("faults", sum(runs))  # page reads during the syncs
    assert sync.status(con).appeals == 200 + 20 * SYNCS
