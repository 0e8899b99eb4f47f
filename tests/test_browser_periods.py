"""The period picker in a real browser: on /region, staff pick 月 and then another month; the URL holds the
month (a link reproduces the view) and the line under the region's name states the month and the moment.

Headless Chromium signs in as the demo's city account. Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from data_access.scope import calendar_label
from data_access.seed.accounts import DEMO_PASSWORD, ensure_demo_accounts
from data_access.store import make_engine
from tests import browser, demo
from ui import periods

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory, artifacts_dir):
    browser.require_chromium()
    env = demo.build(tmp_path_factory.mktemp("browser_periods"), appeals=4000, months=4)
    engine = make_engine(env["APPEALS_DB_URL"])
    ensure_demo_accounts(engine)
    engine.dispose()
    with browser.streamlit_server(env, artifacts_dir / "streamlit-server-periods.log") as url:
        yield url


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def _title(page) -> str:
    return page.locator(".screen-title").first.inner_text()


def _no_error(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0
    assert not page.locator('[data-testid="stAlertContentError"]').all_inner_texts()


def test_picking_a_month_on_region_writes_the_url_and_the_label(server, chrome, artifacts_dir):
    context = chrome.new_context(viewport={"width": 1600, "height": 1000})
    page = context.new_page()
    page.goto(f"{server}/region?region=210302&period=30d")
    browser.sign_in(page, "demo", DEMO_PASSWORD)
    page.wait_for_selector('[data-testid="stMetric"]', timeout=60_000)
    browser.settle(page)
    assert "统计周期 近30天 · 截至" in _title(page)

    # 月 (not 本月): the month picker opens at the last month complete at the data's time
    page.locator('[data-testid="stButtonGroup"] button', has_text=re.compile(r"^月$")).click()
    page.wait_for_url(lambda u: re.fullmatch(r"\d{4}-\d\d", _query(u).get("period", "")) is not None,
                      timeout=30_000)
    browser.settle(page)
    _no_error(page)
    month = _query(page.url)["period"]
    page.wait_for_function("t => document.querySelector('.screen-title').innerText.includes(t)",
                           arg=f"统计周期 {calendar_label(month)} · 截至", timeout=30_000)
    assert _query(page.url)["region"] == "210302"  # the rest of the view stays
    page.screenshot(path=str(artifacts_dir / "periods_region_month.png"))

    # another month from the list: the one before
    earlier = periods.before(month)
    page.locator(".st-key-region_month [data-testid='stSelectbox']").click()
    page.locator('[role="option"]', has_text=calendar_label(earlier)).first.click()
    page.wait_for_url(lambda u: _query(u).get("period") == earlier, timeout=30_000)
    browser.settle(page)
    _no_error(page)
    page.wait_for_function("t => document.querySelector('.screen-title').innerText.includes(t)",
                           arg=f"统计周期 {calendar_label(earlier)} · 截至", timeout=30_000)
    # each tile compares with the month before it (环比)
    deltas = page.locator("[data-testid='stMetricDelta']").all_inner_texts()
    assert len(deltas) == 7, deltas
    page.screenshot(path=str(artifacts_dir / "periods_region_month_before.png"))

    # the URL alone reproduces the view
    page.reload()
    page.wait_for_selector(".screen-title", timeout=60_000)
    browser.settle(page)
    assert f"统计周期 {calendar_label(earlier)} · 截至" in _title(page)
    context.close()
