"""Every run checks who is looking again: pages, the big screen's own refresh, queries and downloads.

Through app.py's router (AppTest) on a small seeded demo city, with real sessions and kiosk tokens:

* the big screen's refresh (a fragment's own run, which does not pass through app.py's gate) asks
  ``ui.auth.require`` first: a revoked kiosk token, a disabled account, a session ended elsewhere, idle
  or past its cap shows nothing at the next refresh; the refresh itself is not activity;
* a run that forgot to ask is refused in the query layer (``cached.current_grant``);
* a download is checked again when the file is made: a disabled account gets no file and no audit row;
* an export is audited once the file is made, with the rows it holds; a refused or failed one writes no
  audit row and leaves one line in the log, no traceback;
* a wall verified recently keeps its last data through an outage of the system of record, on a fresh
  page load too; staff, a wall never verified and a revoked wall get nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import logging
import threading
import time

import pandas as pd
import pytest
from sqlalchemy import select, update
from streamlit.testing.v1 import AppTest

from data_access import auth, cached, schema
from data_access.clock import local_now
from data_access.store import make_engine
from tests import demo
from tests.conftest import CITY_TZ
from tests.test_signin import router
from ui import auth as ui_auth

pytestmark = pytest.mark.attack("cookie")

STREET, DISTRICT = "210302001", "210302"
PASSWORD = "correct horse battery"
# what a browser session holds from one run to the next (the sign-in state, and what the sign-in form is to say)
PRINCIPAL, SESSION, KIOSK, GRANT, VERIFIED = (
    "principal", "session_token", "kiosk_token", "access_grant", "access_verified_at")
CARRIED = (PRINCIPAL, SESSION, KIOSK, GRANT, "signed_in_state_ended", "clear_session_cookie")
SIGNED_OUT = "登录状态已失效"

# A fragment's own run, as the big screen's refresh runs it (``@widgets.guard @auth.live``): it does not pass
# through app.py's gate, so it asks first; when the whole app reruns and the gate finds nobody, the sign-in
# form shows. ``MIDRUN`` (when set) happens between the entry's check and the first query of the run.
REFRESH = """
import time
import streamlit as st
from data_access import cached
from data_access.scope import Period
from ui import auth, widgets

if st.session_state.get("principal") is None:  # app.py's gate finds nobody: the sign-in form
    st.write("SIGN-IN")
    st.stop()

@widgets.guard
@auth.live
def refresh():
    midrun = st.session_state.pop("midrun", None)
    if midrun is not None:
        midrun()
        st.session_state["access_verified_at"] = time.monotonic() - 60  # a long run: its queries check again
    fresh = cached.refresh()
    key = cached.token(fresh)
    st.metric("受理", int(cached.kpis(key, cached.resolve_scope(key, None), Period.all_time(), cached.as_of(fresh))["received"]))

refresh()
"""

# A run that reads data without asking first: the query layer checks anyway.
FORGETFUL = """
import streamlit as st
from data_access import cached
from data_access.access import NoAccess
from data_access.scope import Period

fresh = cached.refresh()
key = cached.token(fresh)
try:
    st.metric("受理", int(cached.kpis(key, cached.resolve_scope(key, None), Period.all_time(), cached.as_of(fresh))["received"]))
except NoAccess as exc:
    st.error(str(exc))
"""

# One run reading twenty figures.
MANY_QUERIES = """
import streamlit as st
from data_access import cached
from data_access.scope import Period

fresh = cached.refresh()
key = cached.token(fresh)
for days in range(20):
    figures = cached.kpis(key, cached.resolve_scope(key, None), Period.all_time(), cached.as_of(fresh))
st.metric("受理", int(figures["received"]))
"""


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    end = local_now(CITY_TZ).replace(second=0, microsecond=0)
    env = demo.build(tmp_path_factory.mktemp("live_revocation"), appeals=3000, months=2, end=end)
    engine = make_engine(env["APPEALS_DB_URL"])
    for name, role, region in (("city", "city", None), ("street", "street", STREET)):
        auth.add_user(engine, name, role=role, region_code=region, password=PASSWORD)
    yield env, engine
    engine.dispose()


@pytest.fixture
def app(city, monkeypatch):
    env, _ = city
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    def run(page: str | None = None, at: AppTest | None = None, **params) -> AppTest:
        at = at if at is not None else router(page)
        for k, v in params.items():
            at.query_params[k] = v
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    return run


def _new_user(engine, role: str = "street", region: str | None = STREET) -> str:
    name = f"u{time.monotonic_ns() % 10**12}"
    auth.add_user(engine, name, role=role, region_code=region, password=PASSWORD)
    return name


def _sign_in(app, name: str, page: str | None = None, **params) -> AppTest:
    at = app(page, **params)
    at.text_input(key="sign_in_name").input(name)
    at.text_input(key="sign_in_password").input(PASSWORD)
    next(b for b in at.button if b.label == "登录").click()
    at = app(page, at=at)
    assert at.session_state[SESSION]
    return at


def _carry(signed: AppTest, script: str | None = None, page: str | None = None) -> AppTest:
    """The same browser session in another run: what the session holds, carried over; checked a
    refresh later (not within ``RECHECK_SECONDS`` of the last check)."""
    at = AppTest.from_string(script, default_timeout=120) if script else router(page)
    for key in CARRIED:
        if key in signed.session_state:
            at.session_state[key] = signed.session_state[key]
    at.session_state[VERIFIED] = time.monotonic() - 60
    return at


def _later(at: AppTest) -> AppTest:
    at.session_state[VERIFIED] = time.monotonic() - 60
    return at


def _session_row(engine, token: str):
    s = schema.user_sessions
    with engine.connect() as conn:
        return conn.execute(select(s).where(s.c.id == auth._digest(token))).one()


def _move_session(engine, token: str, **values) -> None:
    s = schema.user_sessions
    with engine.begin() as conn:
        conn.execute(update(s).where(s.c.id == auth._digest(token)).values(**values))


def _shows_data(at: AppTest) -> bool:
    return bool(at.metric)


def _audit(engine, action: str, actor: str | None = None) -> list[dict]:
    a = schema.audit_log
    stmt = select(a).where(a.c.action == action)
    if actor:
        stmt = stmt.where(a.c.actor == actor)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(stmt.order_by(a.c.id)).mappings()]


# ------------------------------------------------------ the refresh ---

def test_a_revoked_kiosk_shows_nothing_at_its_next_refresh(app, city):
    _, engine = city
    token = auth.create_kiosk_token(engine, DISTRICT, label="refresh test")
    wall = app(kiosk=token)
    assert len(wall.metric) == 8 and not wall.error
    refresh = app(at=_carry(wall, REFRESH))
    assert _shows_data(refresh), [e.value for e in refresh.error]
    auth.revoke_kiosk_token(engine, token)
    refresh = app(at=_later(refresh))
    assert not _shows_data(refresh)
    assert [m.value for m in refresh.markdown] == ["SIGN-IN"]
    assert GRANT not in refresh.session_state and KIOSK not in refresh.session_state
    # and the whole app then says why, with no figure
    page = app(kiosk=token)
    assert any("令牌无效或已被吊销" in e.value for e in page.error) and not page.metric


def _disable(engine, name, token):
    auth.disable_user(engine, name)


def _sign_out_elsewhere(engine, name, token):
    auth.end_session(engine, token, reason="signout")


def _idle(engine, name, token):
    now = local_now(CITY_TZ).replace(microsecond=0)
    _move_session(engine, token, last_seen_at=now - dt.timedelta(seconds=1800 + 30))


def _past_cap(engine, name, token):
    now = local_now(CITY_TZ).replace(microsecond=0)
    _move_session(engine, token, expires_at=now - dt.timedelta(seconds=1))


@pytest.mark.parametrize("end, reason", [(_disable, "disabled"), (_sign_out_elsewhere, "signout"),
                                         (_idle, "idle"), (_past_cap, "expired")])
def test_a_staff_screen_shows_nothing_at_its_next_refresh(app, city, end, reason):
    _, engine = city
    name = _new_user(engine)
    signed = _sign_in(app, name)
    token = signed.session_state[SESSION]
    refresh = app(at=_carry(signed, REFRESH))
    assert _shows_data(refresh)
    end(engine, name, token)
    refresh = app(at=_later(refresh))
    assert not _shows_data(refresh) and [m.value for m in refresh.markdown] == ["SIGN-IN"]
    assert _session_row(engine, token).ended_reason == reason
    # the page run that follows shows the sign-in form and says why
    page = app(at=_carry(refresh, page=None))
    assert {b.label for b in page.button} >= {"登录"} and not page.metric
    assert any("登录状态已失效" in w.value for w in page.warning), [w.value for w in page.warning]


def test_a_refusal_met_during_a_refresh_reruns_the_app_too(app, city):
    """Disabled after the refresh's first check, before its queries: the query layer refuses, and the
    screen goes to the sign-in form rather than showing the refusal in place of its figures."""
    _, engine = city
    name = _new_user(engine)
    signed = _sign_in(app, name)
    refresh = _carry(signed, REFRESH)
    refresh.session_state["midrun"] = lambda: auth.disable_user(engine, name)
    refresh = app(at=refresh)
    assert not _shows_data(refresh) and [m.value for m in refresh.markdown] == ["SIGN-IN"]
    assert not refresh.error
    page = app(at=_carry(refresh, page=None))
    assert any("登录状态已失效" in w.value for w in page.warning), [w.value for w in page.warning]


def test_a_refresh_is_not_activity_but_a_page_run_is(app, city):
    """An unattended screen reaches its idle expiry: the automatic refresh never moves last_seen_at."""
    _, engine = city
    signed = _sign_in(app, _new_user(engine))
    token = signed.session_state[SESSION]
    before = local_now(CITY_TZ).replace(microsecond=0) - dt.timedelta(seconds=300)
    _move_session(engine, token, last_seen_at=before)
    refresh = app(at=_carry(signed, REFRESH))
    assert _shows_data(refresh)
    assert _session_row(engine, token).last_seen_at == before
    app(at=_carry(signed, page=None))  # someone opens a page: that is activity
    assert _session_row(engine, token).last_seen_at > before


def test_the_refresh_of_a_changed_account_reads_under_its_new_region(app, city):
    """The check re-reads the account: a street account moved to the whole city reads the city."""
    _, engine = city
    name = _new_user(engine)
    signed = _sign_in(app, name)
    street = app(at=_carry(signed, REFRESH)).metric[0].value
    u = schema.users
    with engine.begin() as conn:
        conn.execute(update(u).where(u.c.name == name).values(role="city", region_code=None))
    whole = app(at=_carry(signed, REFRESH))
    assert int(whole.metric[0].value) > int(street)
    assert whole.session_state[GRANT].region_code is None


def test_a_run_that_forgot_to_ask_is_refused_by_the_query_layer(app, city):
    _, engine = city
    name = _new_user(engine)
    signed = _sign_in(app, name)
    run = app(at=_carry(signed, FORGETFUL))
    assert run.metric and not run.error
    auth.disable_user(engine, name)
    run = app(at=_later(run))
    assert not run.metric
    assert [e.value for e in run.error if SIGNED_OUT in e.value]
    assert GRANT not in run.session_state  # nothing more is read in this session


def test_a_query_within_one_run_is_not_checked_again(city, monkeypatch):
    """The query layer checks at most every RECHECK_SECONDS: one run's dozens of queries cost no more queries."""
    env, engine = city
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    calls = []
    real = auth.resume_session
    monkeypatch.setattr(auth, "resume_session", lambda *a, **k: calls.append(1) or real(*a, **k))
    at = AppTest.from_string(MANY_QUERIES, default_timeout=120)
    token = auth.start_session(engine, auth.Principal(name="street", role="street", region_code=STREET))
    principal = auth.resume_session(engine, token)
    at.session_state[PRINCIPAL] = principal
    at.session_state[SESSION] = token
    at.session_state[GRANT] = ui_auth.grant_of(principal)
    calls.clear()
    at.run()
    assert at.metric and not at.exception
    assert len(calls) == 1, len(calls)


# --------------------------------------------------------- downloads ---

@pytest.fixture
def downloads(monkeypatch):
    """The callables the page hands to its download buttons (Streamlit runs them when clicked)."""
    from streamlit.runtime.media_file_manager import MediaFileManager

    seen: list = []
    real = MediaFileManager.add_deferred

    def spy(self, data_callable, *args, **kwargs):
        seen.append(data_callable)
        return real(self, data_callable, *args, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", spy)
    return seen


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(logging.Formatter("%(name)s %(levelname)s %(message)s").format(record))


@pytest.fixture
def logs():
    handler = _Records()
    loggers = [logging.getLogger(n) for n in ("appeals", "streamlit.runtime.backend_operation_handler",
                                               "streamlit.runtime.media_file_manager")]
    for lg in loggers:
        lg.addHandler(handler)
    yield handler.lines
    for lg in loggers:
        lg.removeHandler(handler)


def click(data_callable) -> tuple[bytes | None, str]:
    """What Streamlit does when the button is clicked: the callable runs in a server thread with no
    session (``DeferredFileHandler``); the browser gets the file's URL, or an error."""
    from streamlit.proto.BackMsg_pb2 import BackendOperationRequest
    from streamlit.runtime.backend_operation_handler import DeferredFileHandler
    from streamlit.runtime.media_file_manager import MediaFileManager
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

    storage = MemoryMediaFileStorage("/media")
    manager = MediaFileManager(storage)
    file_id = manager.add_deferred(data_callable, "text/csv", "coords", file_name="export.csv")
    request = BackendOperationRequest(request_id="r1")
    request.deferred_file.file_id = file_id
    out = {}

    def serve():
        out["response"] = asyncio.run(DeferredFileHandler(lambda: manager).handle(request, "session"))

    worker = threading.Thread(target=serve)
    worker.start()
    worker.join()
    response = out["response"]
    if response.error_msg:
        return None, response.error_msg
    url = response.deferred_file.url
    return storage.get_file(url.rsplit("/", 1)[-1].split(".")[0]).content, ""


def _case_downloads(app, downloads, name: str) -> tuple[AppTest, list]:
    signed = _sign_in(app, name)
    downloads.clear()
    page = app(at=_carry(signed, page="cases"), figure="received", period="30d")
    assert [b.label for b in page.get("download_button")] == ["导出 CSV", "导出 Excel"]
    assert len(downloads) == 2
    return page, list(downloads)


def _csv_rows(data: bytes) -> int:
    return len(pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, encoding="utf-8-sig"))


def _arrive(engine, n: int) -> None:
    """``n`` new appeals in the street, received an hour ago (copies of one of its appeals)."""
    a = schema.appeals
    now = local_now(CITY_TZ).replace(microsecond=0)
    with engine.begin() as conn:
        row = dict(conn.execute(select(a).where(a.c.grid_code.like(f"{STREET}%")).limit(1)).mappings().one())
        for i in range(n):
            conn.execute(a.insert().values({**row, "appeal_id": f"{row['appeal_id']}N{time.monotonic_ns() % 10**9}{i}",
                                            "created_at": now - dt.timedelta(hours=1), "updated_at": now}))


SYNC = """
from data_access import cached
cached.refresh(force=True)
"""


def test_an_export_is_audited_once_made_with_the_rows_it_holds(app, city, downloads, logs):
    """Not the count the page showed when it was drawn: the rows of the file, made when clicked."""
    _, engine = city
    name = _new_user(engine)
    _, (csv, xlsx) = _case_downloads(app, downloads, name)
    assert _audit(engine, "export", name) == []  # drawing the buttons exports nothing
    _arrive(engine, 3)  # appeals arrive after the page was drawn, and reach the copy before the click
    app(at=AppTest.from_string(SYNC, default_timeout=120))
    data, error = click(csv)
    assert not error and data
    rows = _audit(engine, "export", name)
    assert len(rows) == 1
    detail = json.loads(rows[0]["detail"])
    assert detail["kind"] == "csv" and detail["rows"] == _csv_rows(data) > 0
    data, error = click(xlsx)
    assert not error and data[:2] == b"PK"
    assert [json.loads(r["detail"])["kind"] for r in _audit(engine, "export", name)] == ["csv", "xlsx"]
    assert not any("Traceback" in line for line in logs)


@pytest.mark.parametrize("how", ["disable", "sign_out_elsewhere"])
def test_a_download_after_the_account_is_disabled_makes_no_file_and_no_audit_row(app, city, downloads, logs, how):
    _, engine = city
    name = _new_user(engine)
    page, (csv, xlsx) = _case_downloads(app, downloads, name)
    if how == "disable":
        auth.disable_user(engine, name)
    else:
        auth.end_session(engine, page.session_state[SESSION], reason="signout")
    for callable_ in (csv, xlsx):
        data, error = click(callable_)
        assert data is None and error
    assert _audit(engine, "export", name) == []
    assert sum("not made" in line for line in logs) == 2, logs
    assert not any("Traceback" in line or "Error executing deferred" in line for line in logs), logs


def test_a_kiosks_export_is_refused_without_an_audit_row_or_a_traceback(app, city, logs):
    """A wall may export nothing: whatever handed it a download, the file is not made and nothing is audited."""
    _, engine = city
    token = auth.create_kiosk_token(engine, DISTRICT, label="export test")
    script = """
import streamlit as st
from data_access import cached
from data_access.scope import Period
from ui import auth

auth.gate()
fresh = cached.refresh()
key = cached.token(fresh)
scope = cached.resolve_scope(key, None)
def build():
    return cached.case_file(key, scope, Period.all_time(), cached.as_of(fresh), "received", "csv")
st.session_state["made"] = cached.export(build, target="received", kind="csv", region_code=scope.code)
"""
    at = AppTest.from_string(script, default_timeout=120)
    at.query_params["kiosk"] = token
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    before = len(_audit(engine, "export"))
    data, error = click(at.session_state["made"])
    assert data is None and error
    assert len(_audit(engine, "export")) == before
    assert any("not made" in line and "NoAccess" in line for line in logs), logs
    assert not any("Traceback" in line or "Error executing deferred" in line for line in logs), logs


def test_a_failed_export_writes_no_audit_row(app, city, downloads, logs, monkeypatch):
    from data_access import exports

    _, engine = city
    name = _new_user(engine)
    _, (csv, xlsx) = _case_downloads(app, downloads, name)

    def broken(*args, **kwargs):
        raise OSError("no space left on device")

    monkeypatch.setattr(exports, "to_xlsx_bytes", broken)
    data, error = click(xlsx)
    assert data is None and error
    assert _audit(engine, "export", name) == []
    assert any("not made" in line and "no space left" in line for line in logs), logs
    assert not any("Traceback" in line for line in logs), logs


# ----------------------------------------------------------- outages ---

@pytest.fixture
def outage(monkeypatch):
    """Turn the system of record off: every connection to it is refused (the analytics copy stays)."""
    def start():
        broken = make_engine("postgresql+psycopg://appeals@127.0.0.1:9/appeals", connect_timeout=2)
        monkeypatch.setattr(cached, "_engine", lambda url: broken)
    return start


def _tiles(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _header(at: AppTest) -> str:
    return " ".join(h.value for h in at.get("html"))


def test_a_wall_verified_recently_keeps_its_last_data_through_an_outage(app, city, outage, monkeypatch):
    _, engine = city
    monkeypatch.setenv("APPEALS_SYNC_INTERVAL_SECONDS", "0")
    token = auth.create_kiosk_token(engine, DISTRICT, label="outage wall")
    unopened = auth.create_kiosk_token(engine, DISTRICT, label="never opened")
    revoked = auth.create_kiosk_token(engine, DISTRICT, label="revoked before the outage")
    wall = app(kiosk=token)
    shown = _tiles(wall)
    assert len(shown) == 8
    app(kiosk=revoked)
    auth.revoke_kiosk_token(engine, revoked)
    assert not app(kiosk=revoked).metric  # refused once: forgotten
    staff = _sign_in(app, _new_user(engine, "city", None))
    assert staff.metric

    outage()
    # a fresh page load of the wall: its last data, with the outage banner
    fresh = app(kiosk=token)
    assert not fresh.error, [e.value for e in fresh.error]
    assert _tiles(fresh) == shown
    assert "数据源连接失败" in _header(fresh)
    # its own refresh too
    refresh = app(at=_carry(fresh, REFRESH))
    assert _shows_data(refresh), [e.value for e in refresh.error]
    # staff get no data without a check, nor does a wall never verified, nor a revoked one
    for at in (app(at=_carry(staff, page=None)), app(kiosk=unopened), app(kiosk=revoked)):
        assert not at.metric
        assert any("无法核验登录状态" in e.value for e in at.error), [e.value for e in at.error]
    # the grace lasts the idle time (APPEALS_SESSION_IDLE_SECONDS) after the wall's last successful check
    monkeypatch.setenv("APPEALS_SESSION_IDLE_SECONDS", "1")
    time.sleep(1.2)
    at = app(kiosk=token)
    assert not at.metric and any("无法核验登录状态" in e.value for e in at.error)


def test_the_outage_page_tries_again_by_itself(app, city, outage):
    """No data, and a fragment that reruns the app every refresh, so a wall comes back after the outage."""
    _, engine = city
    outage()
    at = app(kiosk=auth.create_kiosk_token(engine, DISTRICT))
    assert any("自动重试" in e.value and "OperationalError" in e.value for e in at.error) and not at.metric
    assert "verify_retry_shown_at" in at.session_state
