"""Revocation while the page is open, in a real browser: the next refresh shows nothing, no file is made.

One server (the big screen refreshes every few seconds). The token is revoked and the accounts are
disabled with the command line, as an administrator would, while Chromium keeps the page open:

* a wall screen (``?kiosk=<token>``) whose token is revoked goes blank at its next refresh and says why;
  after that the server sends it nothing more (no WebSocket frame in the next refresh period);
* a staff big screen whose account is disabled shows the sign-in form at its next refresh, saying why,
  and is sent nothing more;
* an open /cases page whose account is disabled delivers no file from 导出 CSV, and no export is audited.

Screenshots go to tests/artifacts/ (``revocation_*.png``).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pytest
from sqlalchemy import select

from data_access import auth, schema
from data_access.store import make_engine
from tests import browser, demo
from tests.conftest import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.attack("cookie")]

REFRESH_SECONDS = 3
PASSWORD = "revocation-test-password"
APPEAL = re.compile(rb"GD\d{14}")


@pytest.fixture(scope="module")
def server(tmp_path_factory, artifacts_dir):
    browser.require_chromium()
    env = demo.build(tmp_path_factory.mktemp("browser_revocation"), appeals=3000, months=2)
    env.update({"APPEALS_REFRESH_SECONDS": str(REFRESH_SECONDS), "APPEALS_SYNC_INTERVAL_SECONDS": "1"})
    engine = make_engine(env["APPEALS_DB_URL"])
    for name in ("wall_staff", "export_staff"):
        auth.add_user(engine, name, role="city", region_code=None, password=PASSWORD)
    env["KIOSK_TOKEN"] = auth.create_kiosk_token(engine, "210300", label="revocation wall")
    engine.dispose()
    log = artifacts_dir / "streamlit-server-revocation.log"
    with browser.streamlit_server(env, log) as url:
        yield url, env, log


def cli(env, *args: str) -> str:
    """``python -m data_access …`` against the demo's system of record, as an administrator runs it."""
    done = subprocess.run([sys.executable, "-m", "data_access", *args, "--db", env["APPEALS_DB_URL"]],
                          cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _frames(page) -> list[bytes]:
    """Every WebSocket frame the page receives from now on."""
    got: list[bytes] = []

    def on_socket(ws):
        ws.on("framereceived", lambda payload: got.append(payload if isinstance(payload, bytes)
                                                          else payload.encode("utf-8")))

    page.on("websocket", on_socket)
    return got


def _main(page):
    return page.locator('[data-testid="stMain"]')


def _blank_within(page, text: str, seconds: float) -> None:
    """Wait until the page says ``text`` and shows no tile: the next refresh, and no more."""
    page.get_by_text(text).first.wait_for(timeout=int(seconds * 1000))
    browser.settle(page, 500)
    assert _main(page).locator('[data-testid="stMetric"]').count() == 0


def test_a_revoked_wall_goes_blank_at_its_next_refresh(server, chrome, artifacts_dir):
    url, env, _ = server
    token = env["KIOSK_TOKEN"]
    page = chrome.new_page(viewport={"width": 1920, "height": 1080})
    frames = _frames(page)
    page.goto(f"{url}/?kiosk={token}")
    browser.wait_for_app(page)
    assert _main(page).locator('[data-testid="stMetric"]').count() == 8
    assert any(APPEAL.search(f) for f in frames)  # the screen carries the newest overdue appeals' numbers
    frames.clear()
    page.wait_for_timeout(REFRESH_SECONDS * 1000 + 500)  # it refreshes, and still shows its figures
    assert _main(page).locator('[data-testid="stMetric"]').count() == 8
    assert frames  # the refresh talks to the browser
    page.screenshot(path=str(artifacts_dir / "revocation_wall_before.png"))

    cli(env, "kiosk-token", "revoke", token)
    revoked_at = time.monotonic()
    _blank_within(page, "大屏令牌无效或已被吊销", REFRESH_SECONDS + 15)
    took = time.monotonic() - revoked_at
    page.screenshot(path=str(artifacts_dir / "revocation_wall_after.png"))
    main = _main(page)
    for testid in ("stMetric", "stDeckGlJsonChart", "stPlotlyChart"):
        assert main.locator(f'[data-testid="{testid}"]').count() == 0, testid
    assert main.locator("table").count() == 0
    # nothing more arrives: another refresh period passes without a frame
    frames.clear()
    page.wait_for_timeout(REFRESH_SECONDS * 1000 + 1500)
    assert not frames, len(frames)
    assert main.locator('[data-testid="stMetric"]').count() == 0
    assert took < REFRESH_SECONDS + 15
    page.close()


def test_a_disabled_staff_screen_goes_blank_at_its_next_refresh(server, chrome, artifacts_dir):
    url, env, _ = server
    page = chrome.new_page(viewport={"width": 1920, "height": 1080})
    frames = _frames(page)
    page.goto(f"{url}/")
    browser.sign_in(page, "wall_staff", PASSWORD)
    browser.wait_for_app(page)
    assert _main(page).locator('[data-testid="stMetric"]').count() == 8
    assert any(APPEAL.search(f) for f in frames)

    cli(env, "users", "disable", "wall_staff")
    page.get_by_role("button", name="登录", exact=True).wait_for(timeout=(REFRESH_SECONDS + 15) * 1000)
    _blank_within(page, "登录状态已失效", 10)
    page.screenshot(path=str(artifacts_dir / "revocation_staff_after.png"))
    assert page.get_by_role("button", name="登录", exact=True).count() == 1
    assert page.get_by_role("button", name="退出登录", exact=True).count() == 0
    frames.clear()
    page.wait_for_timeout(REFRESH_SECONDS * 1000 + 1500)
    assert not frames, len(frames)
    assert _main(page).locator('[data-testid="stMetric"]').count() == 0
    page.close()


def _exports(env, actor: str) -> list:
    engine = make_engine(env["APPEALS_DB_URL"])
    try:
        with engine.connect() as conn:
            a = schema.audit_log
            return conn.execute(select(a.c.id, a.c.detail).where(a.c.action == "export", a.c.actor == actor)).all()
    finally:
        engine.dispose()


def test_a_disabled_account_gets_no_file_from_an_open_case_list(server, chrome, artifacts_dir):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    url, env, log = server
    page = chrome.new_page(viewport={"width": 1600, "height": 1000})
    page.goto(f"{url}/cases?figure=received&period=30d")
    browser.sign_in(page, "export_staff", PASSWORD)
    button = page.get_by_role("button", name="导出 CSV")
    button.wait_for(timeout=60_000)
    browser.settle(page)
    assert int(page.locator(".case-title .n").inner_text().replace(",", "")) > 10

    cli(env, "users", "disable", "export_staff")
    delivered = []
    page.on("download", lambda d: delivered.append(d))
    try:
        with page.expect_download(timeout=15_000):
            button.click()
    except PlaywrightTimeout:
        pass
    page.wait_for_timeout(1000)
    page.screenshot(path=str(artifacts_dir / "revocation_export_refused.png"))
    assert delivered == [], [d.suggested_filename for d in delivered]
    assert _exports(env, "export_staff") == []
    text = log.read_text(encoding="utf-8", errors="replace")
    assert "not made" in text and "Traceback" not in text and "Error executing deferred" not in text
    # the page's next run shows the sign-in form, not the list
    page.reload()
    page.get_by_role("button", name="登录", exact=True).wait_for(timeout=60_000)
    assert page.locator(".case-title").count() == 0
    page.close()
