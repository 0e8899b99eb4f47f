"""Meeting snapshots in a real browser, as the demo's district account (tiedong).

Headless Chromium signs in through the real form, opens 铁东区 on /region for last month, follows 冻结本页,
freezes, and looks at the snapshot at 1920×1080 and 1366×768 (no sideways overflow). A tile's 明细 link
leads to the list at the snapshot's moment. Screenshots: tests/artifacts/snapshot_*.png.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest

from data_access.clock import local_now
from data_access.seed.accounts import DEMO_PASSWORD, ensure_demo_accounts
from data_access.store import make_engine
from tests import browser, demo
from tests.conftest import CITY_TZ

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory, artifacts_dir):
    browser.require_chromium()
    env = demo.build(tmp_path_factory.mktemp("browser_snapshots"), appeals=8000, months=3)
    engine = make_engine(env["APPEALS_DB_URL"])
    ensure_demo_accounts(engine)
    engine.dispose()
    with browser.streamlit_server(env, artifacts_dir / "streamlit-server-snapshots.log") as url:
        yield url


def test_freeze_from_the_region_page_and_open_the_snapshot(server, chrome, artifacts_dir):
    today = local_now(CITY_TZ).date()
    last = today.replace(day=1) - dt.timedelta(days=1)
    first = last.replace(day=1)
    page = chrome.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(f"{server}/region?region=210302&period=custom&from={first}&to={last}")
    browser.sign_in(page, "tiedong", DEMO_PASSWORD)
    browser.settle(page)
    page.get_by_text("冻结本页").click()
    page.wait_for_url("**/snapshots?**", timeout=30_000)
    browser.settle(page)
    name = page.get_by_role("textbox", name="快照名称")
    assert name.input_value() == f"{first.month}月讲评 · 铁东区"
    assert page.get_by_role("textbox", name="统计周期").input_value() == f"{first:%Y-%m}"
    page.screenshot(path=str(artifacts_dir / "snapshot_form.png"))
    page.get_by_role("button", name="冻结").click()
    page.wait_for_url("**/snapshots?id=*", timeout=60_000)
    page.get_by_text("冻结快照 ·").first.wait_for(timeout=60_000)
    browser.settle(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator('[data-testid="stMetric"]').count() == 7
    page.screenshot(path=str(artifacts_dir / "snapshot_1920x1080.png"), full_page=True)
    page.set_viewport_size({"width": 1366, "height": 768})
    browser.settle(page, 800)
    page.screenshot(path=str(artifacts_dir / "snapshot_1366x768.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    # a tile's 明细 opens the list at the snapshot's moment and period
    href = page.locator(".tile-note a", has_text="明细").first.get_attribute("href")
    query = parse_qs(urlsplit(href).query)
    assert query["period"] == ["custom"] and query["from"] == [first.isoformat()] and query["to"] == [last.isoformat()]
    page.locator(".tile-note a", has_text="明细").first.click()
    page.wait_for_url("**/cases?**", timeout=30_000)
    browser.settle(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    page.close()
