"""The dashboard in a real browser: headless Chromium against a running server.

Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import pytest

from data_access.clock import local_now
from data_access.store import make_engine
from tests import browser, demo
from tests.conftest import insert_appeals

pytestmark = pytest.mark.browser

REFRESH_SECONDS = 4


@pytest.fixture(scope="module")
def server(tmp_path_factory, artifacts_dir):
    browser.require_chromium()
    folder = tmp_path_factory.mktemp("browser")
    env = demo.build(folder)
    env.update({"APPEALS_REFRESH_SECONDS": str(REFRESH_SECONDS), "APPEALS_SYNC_INTERVAL_SECONDS": "1"})
    with browser.streamlit_server(env, artifacts_dir / "streamlit-server.log") as url:
        yield url, env


@pytest.fixture(scope="module")
def chrome():
    browser.require_chromium()
    with browser.chromium() as b:
        yield b


def _tile(page, label: str) -> str:
    return page.locator('[data-testid="stMetric"]', has_text=label).locator(
        '[data-testid="stMetricValue"]').inner_text().strip()


def test_big_screen_at_1920(server, chrome, artifacts_dir):
    url, _ = server
    page = chrome.new_page(viewport={"width": 1920, "height": 1080})
    outside = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(url) else None)
    page.goto(f"{url}/?kiosk=1")
    browser.wait_for_app(page)
    page.screenshot(path=str(artifacts_dir / "big_screen_1920x1080.png"))

    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator('[data-testid="stAlertContentError"]').count() == 0
    # every tile holds a figure
    values = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
    assert len(values) == 8 and all(v.strip() not in ("", "—") for v in values), values
    # the map canvas is drawn: the map area has many colours, not a blank box
    deck = page.locator('[data-testid="stDeckGlJsonChart"]')
    assert browser.distinct_colors(deck.screenshot()) > 200
    # three charts, two tables
    assert page.locator(".js-plotly-plot").count() == 3
    assert page.locator('[data-testid="stDataFrame"]').count() == 2
    # no scrolling at 1920×1080, and kiosk mode hides the menus
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    assert height <= 1080 + 2, height
    assert not page.locator('[data-testid="stSidebar"]').is_visible()
    assert not page.locator('[data-testid="stMainMenu"]').is_visible()
    # offline: nothing is fetched from anywhere but the dashboard (no default basemap, no CDN)
    assert [u for u in outside if not u.startswith("data:")] == []
    # hovering a grid shows its name and figures
    box = deck.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.45)
    tooltip = page.locator(".deck-tooltip")
    tooltip.wait_for(state="visible", timeout=10_000)
    assert "网格" in tooltip.inner_text() and "受理" in tooltip.inner_text() and "每万人" in tooltip.inner_text()
    page.close()


def test_big_screen_at_4k(server, chrome, artifacts_dir):
    """A 3840×2160 wall at 200 % scaling: the 1920×1080 layout at twice the resolution."""
    url, _ = server
    page = chrome.new_page(viewport={"width": 1920, "height": 1080}, device_scale_factor=2)
    page.goto(f"{url}/?kiosk=1")
    browser.wait_for_app(page)
    page.screenshot(path=str(artifacts_dir / "big_screen_3840x2160.png"))
    assert page.locator('[data-testid="stException"]').count() == 0
    shot = page.screenshot()
    from io import BytesIO

    from PIL import Image

    assert Image.open(BytesIO(shot)).size == (3840, 2160)
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    assert height <= 1080 + 2, height
    page.close()


def test_new_rows_appear_within_one_refresh_and_the_map_view_is_kept(server, chrome, artifacts_dir):
    url, env = server
    page = chrome.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(f"{url}/?kiosk=1&period=7d")
    browser.wait_for_app(page)
    before = int(_tile(page, "今日受理").replace(",", ""))

    deck = page.locator('[data-testid="stDeckGlJsonChart"]')
    box = deck.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    for _ in range(4):
        page.mouse.wheel(0, -300)
        page.wait_for_timeout(250)
    page.wait_for_timeout(1500)
    zoomed = deck.screenshot()

    # a writer adds three appeals to the system of record while the screen is up
    engine = make_engine(env["APPEALS_DB_URL"])
    now = local_now().replace(microsecond=0)
    insert_appeals(engine, [dict(appeal_id=f"LIVE-{i}", created_at=now, grid_code="210302001001001",
                                 lon=None, lat=None) for i in range(3)])
    engine.dispose()

    page.wait_for_function(
        """([label, before]) => {
            const m = [...document.querySelectorAll('[data-testid="stMetric"]')].find(e => e.innerText.includes(label));
            return m && parseInt(m.querySelector('[data-testid="stMetricValue"]').innerText.replace(/,/g, '')) >= before + 3;
        }""",
        arg=["今日受理", before],
        timeout=(REFRESH_SECONDS * 3 + 20) * 1000,
    )
    assert int(_tile(page, "今日受理").replace(",", "")) == before + 3
    assert page.locator('[data-testid="segmented_control"] button[aria-checked="true"], '
                        '[data-testid="stButtonGroup"] [aria-checked="true"]').first.inner_text() == "近7天"
    page.wait_for_timeout(1500)
    after = deck.screenshot()
    page.screenshot(path=str(artifacts_dir / "big_screen_after_refresh.png"))
    # the same zoomed view, not the initial one (the data changed by three appeals only)
    assert browser.image_difference(zoomed, after) < 12
    page.close()


def test_optional_tile_basemap(tmp_path_factory, chrome, artifacts_dir):
    folder = tmp_path_factory.mktemp("tiles")
    env = demo.build(folder, appeals=3000, months=2)
    with browser.tile_server() as (template, hits):
        env["APPEALS_TILE_URL"] = template
        with browser.streamlit_server(env, artifacts_dir / "streamlit-server-tiles.log") as url:
            page = chrome.new_page(viewport={"width": 1920, "height": 1080})
            page.goto(f"{url}/?kiosk=1")
            browser.wait_for_app(page)
            deck = page.locator('[data-testid="stDeckGlJsonChart"]')
            page.wait_for_timeout(3000)
            shot = deck.screenshot()
            page.screenshot(path=str(artifacts_dir / "big_screen_with_basemap.png"))
            page.close()
    assert hits, "no tile was requested"
    # the green tiles show around the territory
    assert browser.share_of_color(shot, browser.TILE_GREEN) > 0.1


def _click_until_url_changes(page, deck, before: str) -> bool:
    """Click points of the map (centre first) until one hits a child and the page goes down a level."""
    box = deck.bounding_box()
    for fx, fy in ((0.5, 0.5), (0.45, 0.45), (0.55, 0.55), (0.4, 0.6), (0.6, 0.4), (0.5, 0.35), (0.35, 0.5)):
        page.mouse.click(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
        try:
            page.wait_for_url(lambda u: u != before, timeout=8_000)
            return True
        except Exception:  # noqa: BLE001 - a miss (an edge, a gap): try the next point
            continue
    return False


def test_drill_down_by_clicking_the_map(server, chrome, artifacts_dir):
    url, _ = server
    page = chrome.new_page(viewport={"width": 1600, "height": 1000})
    page.goto(f"{url}/region?period=year")
    page.wait_for_selector('[data-testid="stDeckGlJsonChart"] canvas', timeout=60_000)
    page.wait_for_timeout(2500)
    assert "鞍山市" in page.locator(".screen-title").first.inner_text()
    seen = []
    for level_name, digits in (("区县", 6), ("街道", 9), ("社区", 12), ("网格", 15)):
        deck = page.locator('[data-testid="stDeckGlJsonChart"]').first
        assert _click_until_url_changes(page, deck, page.url), f"no click on the map went down to a {level_name}"
        page.wait_for_selector('[data-testid="stDeckGlJsonChart"] canvas', timeout=60_000)
        page.wait_for_timeout(2500)
        region = page.url.split("region=")[1].split("&")[0]
        assert len(region) == digits, page.url
        assert level_name in page.locator(".screen-title").first.inner_text()
        assert page.locator('[data-testid="stException"]').count() == 0
        assert "period=year" in page.url
        seen.append(page.url)
        page.screenshot(path=str(artifacts_dir / f"drill_{len(seen)}_{level_name}.png"))
        # the URL alone reproduces the view
        title = page.locator(".screen-title").first.inner_text()
        page.reload()
        page.wait_for_selector(".screen-title", timeout=60_000)
        page.wait_for_timeout(1500)
        assert page.locator(".screen-title").first.inner_text().split("截至")[0] == title.split("截至")[0]
    # the grid shows its worker and its appeals as points
    assert "网格员" in page.locator('[data-testid="stMain"]').inner_text()
    # the back button goes up again
    page.go_back()
    page.wait_for_timeout(4000)
    assert "社区" in page.locator(".screen-title").first.inner_text()
    page.close()
