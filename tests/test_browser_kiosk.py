"""A wall screen (``?kiosk=<token>``) in a real browser: the big screen, and nothing else.

Every other page answers with a refusal and no data; the big screen has no download button, no table
toolbar on hover, no link into lists. Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import pytest

from data_access import auth
from data_access.store import make_engine
from tests import browser, demo

pytestmark = [pytest.mark.browser, pytest.mark.attack("kiosk")]


@pytest.fixture(scope="module")
def server(tmp_path_factory, artifacts_dir):
    browser.require_chromium()
    env = demo.build(tmp_path_factory.mktemp("browser_kiosk"), appeals=6000)
    engine = make_engine(env["APPEALS_DB_URL"])
    token = auth.create_kiosk_token(engine, "210300", label="kiosk browser test")
    engine.dispose()
    with browser.streamlit_server(env, artifacts_dir / "streamlit-server-kiosk.log") as url:
        yield url, token



REFUSED = {
    "cases": "/cases?figure=received&period=7d",
    "alerts": "/alerts",
    "region": "/region?period=30d",
    "case": "/case?id=GD20260101000001",
    "audit": "/audit",
    "snapshots": "/snapshots",
    "present": "/present",
}


@pytest.mark.parametrize("name", list(REFUSED))
def test_every_page_but_the_big_screen_refuses_a_kiosk(server, chrome, artifacts_dir, name):
    url, token = server
    page = chrome.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(f"{url}{REFUSED[name]}&kiosk={token}" if "?" in REFUSED[name] else f"{url}{REFUSED[name]}?kiosk={token}")
    page.get_by_text("大屏令牌只能打开指挥大屏").wait_for(timeout=60_000)
    page.wait_for_timeout(2000)
    page.screenshot(path=str(artifacts_dir / f"kiosk_refused_{name}.png"))
    main = page.locator('[data-testid="stMain"]')
    assert page.locator('[data-testid="stException"]').count() == 0
    for testid in ("stMetric", "stDataFrame", "stDownloadButton", "stDeckGlJsonChart", "stPlotlyChart"):
        assert main.locator(f'[data-testid="{testid}"]').count() == 0, testid
    assert main.locator("table").count() == 0
    assert not any(ch.isdigit() for ch in main.inner_text()), main.inner_text()  # no figure, no appeal number
    page.close()


def test_the_big_screen_of_a_kiosk_has_no_download_toolbar_or_links(server, chrome, artifacts_dir):
    url, token = server
    page = chrome.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(f"{url}/?kiosk={token}")
    browser.wait_for_app(page)
    main = page.locator('[data-testid="stMain"]')
    assert main.locator('[data-testid="stDownloadButton"]').count() == 0
    assert main.locator('[data-testid="stDataFrame"]').count() == 0
    tables = main.locator("table.tbl")
    assert tables.count() == 2
    assert main.locator("a[href]").count() == 0  # nothing leads to a list
    # a wall cannot scroll: every column of both tables is in view (long names are cut short with "…")
    sizes = tables.evaluate_all("ts => ts.map(t => [t.parentElement.scrollWidth, t.parentElement.clientWidth])")
    assert all(scroll <= client for scroll, client in sizes), sizes
    # hovering each table and the map shows no toolbar (download, search, full screen)
    for target in (tables.nth(0), tables.nth(1), main.locator('[data-testid="stDeckGlJsonChart"]')):
        target.hover()
        page.wait_for_timeout(600)
        toolbars = page.locator('[data-testid="stElementToolbar"]')
        assert all(not t.is_visible() for t in toolbars.all()), target
    page.screenshot(path=str(artifacts_dir / "kiosk_big_screen_hover.png"))
    page.close()
