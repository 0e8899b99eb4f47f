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


# ------------------------------------------------- sessions over the WebSocket ---

import asyncio  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import secrets  # noqa: E402
import sys  # noqa: E402

import pytest  # noqa: E402

from data_access import auth  # noqa: E402
from data_access.seed.accounts import ensure_demo_accounts  # noqa: E402
from data_access.store import make_engine  # noqa: E402
from tests import demo  # noqa: E402
from tests.conftest import ROOT  # noqa: E402

_spec = importlib.util.spec_from_file_location("bench_load", ROOT / "bench" / "load.py")
load = importlib.util.module_from_spec(_spec)
sys.modules["bench_load"] = load
_spec.loader.exec_module(load)

REFRESH = 3


@pytest.fixture(scope="module")
def server(tmp_path_factory, artifacts_dir):
    env = demo.build(tmp_path_factory.mktemp("load"), appeals=6000)
    env.update(APPEALS_COOKIE_SECRET=secrets.token_urlsafe(32), APPEALS_REFRESH_SECONDS=str(REFRESH))
    engine = make_engine(env["APPEALS_DB_URL"])
    ensure_demo_accounts(engine)
    with load.own_server(env, artifacts_dir / "streamlit-server-load.log") as (url, pid):
        yield {"url": url, "ws": url.replace("http", "ws", 1) + "/_stcore/stream", "pid": pid, "env": env,
               "engine": engine}
    engine.dispose()


def _cookie(server, name: str) -> str:
    token = auth.start_session(server["engine"], auth.Principal(name=name, role="city", region_code=None))
    return f"appeals_session={auth.sign_cookie(token, server['env']['APPEALS_COOKIE_SECRET'])}"


def _runs(ws_url: str, steps, *, cookie: str | None = None):
    """Open one session, run each (page, query, follow the auto-refresh) and return (seconds, errors, elements)."""
    async def go():
        session = load.Session(ws_url, cookie=cookie)
        await session.open()
        out = []
        try:
            for page, query, refresh in steps:
                seconds, errors = await session.run(page, query)
                out.append((seconds, errors, session.elements, dict(session.auto_rerun)))
                if refresh:
                    fragment = next(iter(session.auto_rerun))
                    seconds, errors = await session.run(page, query, fragment_id=fragment)
                    out.append((seconds, errors, session.elements, dict(session.auto_rerun)))
        finally:
            await session.close()
        return out
    return asyncio.run(go())


def test_a_kiosk_screen_opens_and_follows_its_auto_refresh(server):
    token = auth.create_kiosk_token(server["engine"], "210300", label="load test")
    (opened, refreshed) = _runs(server["ws"], [("", f"kiosk={token}", True)])
    assert opened[1] == [] and opened[2] > 20  # the big screen: tiles, charts, map, tables
    assert list(opened[3].values()) == [REFRESH]  # the server asks for the fragment every APPEALS_REFRESH_SECONDS
    assert refreshed[1] == [] and refreshed[2] > 10  # the fragment re-ran and drew the screen's body again


def test_staff_pages_run_signed_in_by_the_cookie(server):
    cookie = _cookie(server, "tiedong")
    steps = [(page, query, False) for _, page, query in load.staff_pages("210302")]
    runs = _runs(server["ws"], steps, cookie=cookie)
    assert [r[1] for r in runs] == [[] for _ in steps]
    assert all(r[2] > 3 for r in runs)


def test_errors_are_counted_a_refusal_an_unsigned_session_and_a_revoked_kiosk(server):
    cookie = _cookie(server, "lianhua")  # 莲花街道: another district is refused with an error
    (refused,) = _runs(server["ws"], [("region", "region=210303", False)], cookie=cookie)
    assert any("无权访问" in e for e in refused[1]), refused[1]
    (unsigned,) = _runs(server["ws"], [("cases", "figure=received", False)])
    assert unsigned[1] == ["the sign-in form: this session is not signed in"]
    token = auth.create_kiosk_token(server["engine"], "210300")
    auth.revoke_kiosk_token(server["engine"], token)
    (revoked,) = _runs(server["ws"], [("", f"kiosk={token}", False)])
    assert any("大屏令牌无效" in e for e in revoked[1]), revoked[1]


def test_a_short_load_reports_runs_errors_times_and_memory(server, capsys, monkeypatch):
    monkeypatch.setenv("APPEALS_COOKIE_SECRET", server["env"]["APPEALS_COOKIE_SECRET"])  # the deployment's
    code = load.main(["--url", server["url"], "--db", server["env"]["APPEALS_DB_URL"], "--pid", str(server["pid"]),
                      "--sessions", "3", "--kiosks", "1", "--duration", "8", "--ramp", "1", "--think", "0.5",
                      "--write-every", "2", "--arrivals", "3", "--closures", "3", "--warm-up", "0", "--settle", "0",
                      "--json-only"])
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["errors"] == 0, report["error_examples"]
    assert report["runs"] >= 4 and report["sessions_opened"] >= 3
    assert {"kiosk_open", "big_screen", "region"} <= set(report["by_kind"])
    assert report["all"]["p50"] > 0 and report["all"]["p95"] >= report["all"]["p50"]
    assert report["rss_mib"]["before"] > 50 and report["rss_mib"]["peak"] >= report["rss_mib"]["before"]
    assert report["writer"]["arrived"] >= 3 and report["writer"]["errors"] == []
    assert report["server_cpu"]["seconds"] > 0 and report["server_cpu"]["per_run"] > 0
    assert code == (0 if report["rss_mib"]["growth_percent"] <= 10 else 1)
