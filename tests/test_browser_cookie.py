"""The session cookie is set by the server with HttpOnly; a download's media URL is short-lived.

In Chromium, signed in through the real form (served by ``serve.py``, as ``make run`` does): the
``appeals_session`` cookie is ``HttpOnly``, ``SameSite=Strict``, for every path, and a script in the
page cannot read it (``document.cookie``); a reload keeps the sign-in; signing out removes the cookie.
The route that sets it takes a ticket once, only from a page of this server.

Streamlit serves files by id under ``/media/`` without looking at the cookie (docs/security.md): an
export's URL works without the cookie, but only until the next page runs of the server end (Streamlit
drops a download once no session shows it), and its id is a 128-bit hash of the file's bytes and name.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from data_access.seed.accounts import DEMO_PASSWORD, ensure_demo_accounts
from data_access.store import make_engine
from tests import browser, demo

pytestmark = [pytest.mark.browser, pytest.mark.attack("cookie")]


@pytest.fixture(scope="module")
def server(tmp_path_factory, artifacts_dir):
    browser.require_chromium()
    env = demo.build(tmp_path_factory.mktemp("browser_cookie"), appeals=4000, months=2)
    engine = make_engine(env["APPEALS_DB_URL"])
    ensure_demo_accounts(engine)
    engine.dispose()
    with browser.streamlit_server(env, artifacts_dir / "streamlit-server-cookie.log") as url:
        yield url


def _post(url: str, path: str, body: dict | None, *, origin: str | None, method: str = "POST") -> int:
    headers = {"Content-Type": "application/json", **({"Origin": origin} if origin else {})}
    request = urllib.request.Request(f"{url}{path}", data=json.dumps(body or {}).encode(), headers=headers,
                                     method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _session_cookie(context) -> dict | None:
    return next((c for c in context.cookies() if c["name"] == "appeals_session" and c["value"]), None)


def test_the_session_cookie_is_http_only_and_survives_a_reload_until_sign_out(server, chrome):
    context = chrome.new_context(viewport={"width": 1600, "height": 1000})
    page = context.new_page()
    posted = []
    page.on("request", lambda r: posted.append(r) if r.url.endswith("/api/session") else None)
    page.goto(f"{server}/cases?figure=received&period=month")
    browser.sign_in(page, "demo", DEMO_PASSWORD)
    page.wait_for_function("() => true")
    page.wait_for_timeout(1500)  # the page posts its ticket
    cookie = _session_cookie(context)
    assert cookie is not None, context.cookies()
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict" and cookie["path"] == "/"
    assert "appeals_session" not in page.evaluate("document.cookie")  # no script in the page reads it
    assert [r.method for r in posted] == ["POST"]
    ticket = json.loads(posted[0].post_data)["ticket"]

    # the route: a ticket works once, and only from a page of this server
    assert _post(server, "/api/session", {"ticket": ticket}, origin=server) == 403  # already used
    assert _post(server, "/api/session", {"ticket": "x" * 43}, origin=server) == 403  # never issued
    assert _post(server, "/api/session", {"ticket": ticket}, origin="http://evil.example") == 403
    assert _post(server, "/api/session", {}, origin=None, method="DELETE") == 403

    page.reload()  # a reload keeps the sign-in, through the cookie
    page.get_by_role("button", name="退出登录").wait_for(state="attached", timeout=60_000)
    assert len(posted) == 1  # the browser has the cookie: no second ticket
    page.locator('[data-testid="stSidebarCollapsedControl"] button, [data-testid="stExpandSidebarButton"]').first.click()
    page.get_by_role("button", name="退出登录").click()
    page.get_by_role("button", name="登录").wait_for(timeout=60_000)
    page.wait_for_timeout(1500)  # the page asks the server to clear the cookie
    assert _session_cookie(context) is None, context.cookies()
    page.goto(f"{server}/cases?figure=received&period=month")
    page.get_by_role("button", name="登录").wait_for(timeout=60_000)
    context.close()


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_an_exports_media_url_ends_with_the_next_page_runs(server, chrome):
    context = chrome.new_context(viewport={"width": 1600, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.goto(f"{server}/cases?figure=received&period=month")
    browser.sign_in(page, "demo", DEMO_PASSWORD)
    page.get_by_role("button", name="导出 CSV").wait_for(timeout=60_000)
    browser.settle(page)
    with page.expect_download(timeout=60_000) as done:
        page.get_by_role("button", name="导出 CSV").click()
    media = done.value.url
    assert "/media/" in media
    file_id = media.rsplit("/", 1)[1].split(".")[0]
    assert len(file_id) == 32 and int(file_id, 16) >= 0  # a 128-bit hash, not a counter
    # Streamlit serves it by id, without the cookie (documented), while it lives ...
    assert _status(media) == 200
    # ... until two page runs of the server have ended after it was made
    for _ in range(2):
        page.reload()
        page.get_by_role("button", name="导出 CSV").wait_for(timeout=60_000)
        browser.settle(page)
    assert _status(media) == 404
    context.close()
