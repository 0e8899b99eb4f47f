"""The load test's parts (bench/load.py): the live writer, and sessions over Streamlit's own WebSocket.

The writer's changes reach the copy through the incremental sync alone. A short load on a small demo
city, against a real server, runs kiosk screens (with their auto-refresh) and signed-in staff through
the WebSocket protocol with no error; a page that shows an error, and a session the server refuses,
are counted as errors, so a load with errors cannot pass as clean.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from data_access import schema, sync
from data_access.seed import churn
from tests.conftest import insert_appeals, synced_store, ts

T0 = ts("2026-11-20 10:00:00")


def _count(engine, *where) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(schema.appeals).where(*where)).scalar_one()


def test_live_changes_are_new_arrivals_and_closures_stamped_now(tiny_sor, tmp_path):
    rows = [dict(appeal_id=f"A{i:03d}", created_at=T0 - dt.timedelta(days=i % 20, hours=i % 7),
                 deadline_at=T0 - dt.timedelta(days=i % 20) + dt.timedelta(days=5)) for i in range(60)]
    insert_appeals(tiny_sor, rows, updated_at=T0)
    con = synced_store(tiny_sor, tmp_path / "analytics.duckdb")
    now = T0 + dt.timedelta(minutes=3)
    made = churn.live_changes(tiny_sor, arrivals=7, closures=4, now=now, seed=1)
    assert made == {"arrived": 7, "closed": 4}
    assert _count(tiny_sor, schema.appeals.c.created_at == now, schema.appeals.c.status == "open") == 7
    assert _count(tiny_sor, schema.appeals.c.closed_at == now, schema.appeals.c.status == "closed") == 4
    # a new arrival keeps its template's time limit, counted from now
    with tiny_sor.connect() as conn:
        new = conn.execute(select(schema.appeals).where(schema.appeals.c.created_at == now)).all()
    assert all(r.deadline_at is None or r.deadline_at > now for r in new)
    assert all(r.closed_at is None and r.rated_at is None for r in new)
    # the incremental steps alone copy them: stamped now, above the copy's mark
    result = sync.sync(tiny_sor, con, reconcile_seconds=None, now=now + dt.timedelta(seconds=5))
    assert result.appeals_copied == 11
    assert sync.status(con).appeals == 67
    # another call picks other rows
    again = churn.live_changes(tiny_sor, arrivals=3, closures=2, now=now + dt.timedelta(minutes=1))
    assert again == {"arrived": 3, "closed": 2}
    assert _count(tiny_sor) == 70
    con.close()
