"""A page run while another session makes the first copy waits for it, instead of calling the data empty."""

from __future__ import annotations

import datetime as dt
import threading
import time

from data_access import sync
from tests.conftest import insert_appeals


def test_a_page_run_waits_for_the_first_copy_under_way(tiny_sor, tmp_path, monkeypatch):
    from data_access import cached

    insert_appeals(tiny_sor, [{"appeal_id": f"A{i}", "created_at": dt.datetime(2026, 3, 1, 9, i)} for i in range(5)])
    path = tmp_path / "analytics.duckdb"
    monkeypatch.setenv("APPEALS_DB_URL", str(tiny_sor.url))
    monkeypatch.setenv("APPEALS_ANALYTICS_PATH", str(path))
    store = cached._store(str(path))
    store.lock.acquire()  # another session starts the first copy…
    store.last_attempt = time.monotonic()  # …just now, so this run is not due to sync itself

    def first_copy():
        time.sleep(1.0)
        try:
            sync.sync(tiny_sor, store.con)
        finally:
            store.lock.release()

    worker = threading.Thread(target=first_copy)
    worker.start()
    fresh = cached.refresh()
    worker.join()
    assert fresh.appeals == 5 and not fresh.empty
