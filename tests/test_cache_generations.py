"""Cached results of a past data version or sync time are dropped when the store moves on.

Every query result is cached under the store's data version, and most also under the as-of time (the
start of the last sync). Once a sync has copied rows (a new version) or merely run (a new as-of time),
no page asks for the old keys again; kept for the cache's ten-minute TTL they only held memory: with a
sync every 10 s, up to sixty generations of every result (the load test's memory grew 45 % in five
minutes). ``cached.refresh`` drops them as soon as it sees the new generation; results keyed by the
version alone (names, outlines) survive a sync that copied nothing. The pages the dropped results
freed are handed back to the system (glibc keeps freed blocks among live ones otherwise).
"""

from __future__ import annotations

import datetime as dt

import pytest
import streamlit as st

from data_access import access, cached, queries
from data_access.scope import Period, Scope
from tests.conftest import insert_appeals


@pytest.fixture
def env(tiny_sor, tmp_path, monkeypatch):
    insert_appeals(tiny_sor, [dict(appeal_id=f"A{i}", created_at=dt.datetime(2026, 3, 1, 9) + dt.timedelta(hours=i))
                              for i in range(5)])
    monkeypatch.setenv("APPEALS_DB_URL", str(tiny_sor.url))
    monkeypatch.setenv("APPEALS_ANALYTICS_PATH", str(tmp_path / "analytics.duckdb"))
    st.cache_data.clear()
    st.cache_resource.clear()
    token = cached._ACTING.set(cached._Acting(None, access.Grant(region_code=None), None))  # a city-wide person
    yield tiny_sor
    cached._ACTING.reset(token)
    st.cache_data.clear()
    st.cache_resource.clear()


def _counting(monkeypatch, name):
    calls = []
    real = getattr(queries, name)
    monkeypatch.setattr(queries, name, lambda *a, **k: calls.append(1) or real(*a, **k))
    return calls


def test_a_new_version_or_sync_time_drops_the_old_results(env, monkeypatch):
    kpis_calls, region_calls = _counting(monkeypatch, "kpis"), _counting(monkeypatch, "top_regions")
    first = cached.refresh(force=True)
    key, as_of, period = cached.token(first), cached.as_of(first), Period.all_time()

    def look():
        cached.kpis(key, Scope.whole(), period, as_of)
        cached.top_regions(key)

    look()
    look()
    assert (len(kpis_calls), len(region_calls)) == (1, 1)  # the second look is served from the cache

    # a sync that copies nothing: a new as-of time, the same version
    again = cached.refresh(force=True)
    assert again.version == first.version and again.synced_at != first.synced_at
    look()
    assert len(kpis_calls) == 2  # results under the old as-of time were dropped
    assert len(region_calls) == 1  # keyed by the version alone: kept

    # a sync that copies rows: a new version
    insert_appeals(env, [dict(appeal_id="B1", created_at=dt.datetime(2026, 3, 2, 9))])
    moved = cached.refresh(force=True)
    assert moved.version == first.version + 1
    look()
    assert (len(kpis_calls), len(region_calls)) == (3, 2)  # every result of the old version was dropped


def test_a_page_run_that_sees_the_same_generation_keeps_the_cache(env, monkeypatch):
    calls = _counting(monkeypatch, "kpis")
    fresh = cached.refresh(force=True)
    cached.kpis(cached.token(fresh), Scope.whole(), Period.all_time(), cached.as_of(fresh))
    for _ in range(3):
        same = cached.refresh()  # within the sync interval: no sync, the same generation
        assert (same.version, same.synced_at) == (fresh.version, fresh.synced_at)
        cached.kpis(cached.token(same), Scope.whole(), Period.all_time(), cached.as_of(same))
    assert len(calls) == 1


def _rss_kib() -> int:
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_the_pages_freed_with_the_dropped_results_go_back_to_the_system():
    """Dropped results free many small blocks among live ones; glibc keeps such pages unless asked."""
    blocks = [bytes(2048) for _ in range(100_000)]  # ~200 MB in malloc'd blocks
    keep = blocks[::100]  # one in a hundred lives on, so the heap cannot simply shrink from its top
    del blocks
    held = _rss_kib()
    cached._return_free_memory()
    assert held - _rss_kib() > 100 * 1024, (held, _rss_kib())
    assert len(keep) == 1000
