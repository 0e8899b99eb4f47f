"""The dashboard in a real browser: headless Chromium against a running server.

Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import pytest

from data_access.clock import local_now
from data_access.store import make_engine
from tests import browser, demo
from tests.conftest import CITY_TZ, insert_appeals

pytestmark = pytest.mark.browser

REFRESH_SECONDS = 4


PASSWORD = "browser-test-password"


def _accounts(env) -> str:
    """Staff accounts and a kiosk token in the demo's system of record; returns the token."""
    from data_access import auth
    from data_access.store import create_schema

    engine = make_engine(env["APPEALS_DB_URL"])
    create_schema(engine)
    auth.add_user(engine, "staff", role="city", region_code=None, password=PASSWORD)
    token = auth.create_kiosk_token(engine, "210300", label="browser test wall")
    engine.dispose()
    return token


@pytest.fixture(scope="module")
def server(tmp_path_factory, artifacts_dir):
    browser.require_chromium()
    folder = tmp_path_factory.mktemp("browser")
    env = demo.build(folder)
    env.update({"APPEALS_REFRESH_SECONDS": str(REFRESH_SECONDS), "APPEALS_SYNC_INTERVAL_SECONDS": "1"})
    env["KIOSK_TOKEN"] = _accounts(env)
    with browser.streamlit_server(env, artifacts_dir / "streamlit-server.log") as url:
        yield url, env


def _kiosk(env) -> str:
    return f"kiosk={env['KIOSK_TOKEN']}"


def _signed_in_page(chrome, url: str, path: str, **viewport):
    """A page whose browser signed in through the real form at ``path`` (a deep link), and is now there."""
    page = chrome.new_page(viewport=viewport or {"width": 1600, "height": 1000})
    page.goto(f"{url}{path}")
    browser.sign_in(page, "staff", PASSWORD)
    return page



def _tile(page, label: str) -> str:
    return page.locator('[data-testid="stMetric"]', has_text=label).locator(
        '[data-testid="stMetricValue"]').inner_text().strip()


def test_big_screen_at_1920(server, chrome, artifacts_dir):
    url, env = server
    page = chrome.new_page(viewport={"width": 1920, "height": 1080})
    outside = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(url) else None)
    page.goto(f"{url}/?{_kiosk(env)}")
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
    # three charts, two tables (HTML: a kiosk gets no data grid and its toolbar)
    assert page.locator(".js-plotly-plot").count() == 3
    assert page.locator("table.tbl").count() == 2 and page.locator('[data-testid="stDataFrame"]').count() == 0
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
    url, env = server
    page = chrome.new_page(viewport={"width": 1920, "height": 1080}, device_scale_factor=2)
    page.goto(f"{url}/?{_kiosk(env)}")
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
    page.goto(f"{url}/?{_kiosk(env)}&period=7d")
    browser.wait_for_app(page)
    before = int(_tile(page, "今日受理").replace(",", ""))

    deck = page.locator('[data-testid="stDeckGlJsonChart"]')
    box = deck.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    for _ in range(4):
        page.mouse.wheel(0, -300)
        page.wait_for_timeout(250)
    page.wait_for_timeout(1500)
    zoomed = deck.screenshot(path=str(artifacts_dir / "map_zoomed.png"))

    # a writer adds three appeals to the system of record while the screen is up
    engine = make_engine(env["APPEALS_DB_URL"])
    now = local_now(CITY_TZ).replace(microsecond=0)
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
    after = deck.screenshot(path=str(artifacts_dir / "map_after_refresh.png"))
    page.screenshot(path=str(artifacts_dir / "big_screen_after_refresh.png"))
    # the same zoomed view, not the initial one (the data changed by three appeals only)
    assert browser.image_difference(zoomed, after) < 12
    page.close()


def test_optional_tile_basemap(tmp_path_factory, chrome, artifacts_dir):
    folder = tmp_path_factory.mktemp("tiles")
    env = demo.build(folder, appeals=3000, months=2)
    token = _accounts(env)
    with browser.tile_server() as (template, hits):
        env["APPEALS_TILE_URL"] = template
        with browser.streamlit_server(env, artifacts_dir / "streamlit-server-tiles.log") as url:
            page = chrome.new_page(viewport={"width": 1920, "height": 1080})
            page.goto(f"{url}/?kiosk={token}")
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
    tooltip = page.locator(".deck-tooltip")
    for fx, fy in ((0.5, 0.5), (0.45, 0.45), (0.55, 0.55), (0.4, 0.6), (0.6, 0.4), (0.5, 0.35), (0.35, 0.5)):
        x, y = box["x"] + box["width"] * fx, box["y"] + box["height"] * fy
        page.mouse.move(x, y)  # as a person does: point first; no tooltip there, nothing to click
        try:
            tooltip.wait_for(state="visible", timeout=1_500)
        except Exception:  # noqa: BLE001 - a gap between regions: try the next point
            continue
        page.mouse.click(x, y)
        try:
            page.wait_for_url(lambda u: u != before, timeout=8_000)
            return True
        except Exception:  # noqa: BLE001 - a miss (an edge, a gap): try the next point
            continue
    return False


def test_drill_down_by_clicking_the_map(server, chrome, artifacts_dir):
    url, _ = server
    page = _signed_in_page(chrome, url, "/region?period=year")
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


def _street_with_both_lights(env) -> tuple[str, int, int]:
    """A street with red and yellow appeals, few enough to show them all on one screen."""
    from data_access import alerts
    from data_access.scope import Period, Scope
    from data_access.sor_views import ensure_views

    engine = make_engine(env["APPEALS_DB_URL"])
    ensure_views(engine)
    with engine.connect() as conn:
        counts = alerts.warning_counts(conn, Scope.whole(), Period.all_time(), local_now(CITY_TZ), "street")
    engine.dispose()
    both = counts[(counts["red"] > 0) & (counts["yellow"] > 0)].assign(n=lambda d: d["red"] + d["yellow"])
    assert not both.empty, "the demo city should have a street with red and yellow appeals"
    few = both[both["n"].between(3, 12)]
    row = (few if not few.empty else both).sort_values(["n", "code"]).iloc[-1 if not few.empty else 0]
    return row["code"], int(row["red"]), int(row["yellow"])


def _share(png: bytes, test) -> float:
    from io import BytesIO

    from PIL import Image

    pixels = list(Image.open(BytesIO(png)).convert("RGB").getdata())
    return sum(1 for p in pixels if test(p)) / len(pixels)


def test_the_warning_page_shows_red_and_yellow_rows(server, chrome, artifacts_dir):
    url, env = server
    street, red, yellow = _street_with_both_lights(env)
    page = _signed_in_page(chrome, url, f"/alerts?street={street}", width=1920, height=1080)
    grid = page.locator('table[data-table="warnings"]')
    grid.wait_for(timeout=60_000)
    page.wait_for_timeout(2500)
    assert page.locator('[data-testid="stException"]').count() == 0
    totals = page.locator(".alert-totals").inner_text()
    assert f"超期（红灯） {red} 件" in totals and f"临期（黄灯） {yellow} 件" in totals, totals
    page.screenshot(path=str(artifacts_dir / "alerts_1920x1080.png"))
    shot = grid.screenshot()
    # red rows: rgba(255,77,79,.28) over the dark page; yellow rows: rgba(250,219,20,.3)
    reddish = _share(shot, lambda p: p[0] > p[1] + 25 and p[0] > p[2] + 15)
    yellowish = _share(shot, lambda p: p[0] > p[2] + 20 and p[1] > p[2] + 20 and abs(p[0] - p[1]) < 20)
    assert reddish > 0.05 and yellowish > 0.02, (reddish, yellowish)
    page.close()


def test_signing_in_survives_a_reload_and_a_deep_link_and_signing_out_works(server, chrome, artifacts_dir):
    url, _ = server
    page = chrome.new_page(viewport={"width": 1600, "height": 1000})
    page.goto(f"{url}/alerts")
    page.get_by_role("button", name="登录").wait_for(timeout=60_000)
    assert page.locator('[data-testid="stDataFrame"]').count() == 0  # nothing before signing in
    page.get_by_text("请使用本单位账号登录").wait_for(timeout=30_000)
    page.get_by_label("用户名").wait_for(timeout=30_000)
    page.wait_for_timeout(500)
    page.screenshot(path=str(artifacts_dir / "sign_in.png"))
    page.get_by_label("用户名").fill("staff")
    page.get_by_label("密码").fill("not the password")
    page.get_by_role("button", name="登录").click()
    page.get_by_text("用户名或密码错误").wait_for(timeout=30_000)
    page.close()

    context = chrome.new_context(viewport={"width": 1600, "height": 1000})
    page = context.new_page()
    page.goto(f"{url}/alerts")
    browser.sign_in(page, "staff", PASSWORD)
    page.get_by_text("超期预警与督办").first.wait_for(timeout=60_000)
    page.wait_for_timeout(1500)  # the cookie script runs
    assert any(c["name"] == "appeals_session" for c in page.context.cookies())
    page.reload()  # a reload keeps the sign-in
    page.get_by_role("button", name="退出登录").wait_for(state="attached", timeout=60_000)
    other = context.new_page()  # a deep link in another tab of the same browser
    other.goto(f"{url}/region?region=210302&period=year")
    other.get_by_role("button", name="退出登录").wait_for(state="attached", timeout=60_000)
    assert "铁东区" in other.locator(".screen-title").first.inner_text()
    other.close()
    # signing out: the form again, and the cookie no longer opens anything
    page.locator('[data-testid="stSidebarCollapsedControl"] button, [data-testid="stExpandSidebarButton"]').first.click()
    page.get_by_role("button", name="退出登录").click()
    page.get_by_role("button", name="登录").wait_for(timeout=60_000)
    page.goto(f"{url}/alerts")
    page.get_by_role("button", name="登录").wait_for(timeout=60_000)
    assert page.locator('[data-testid="stDataFrame"]').count() == 0
    context.close()


def test_an_export_downloads_a_file_and_is_audited(server, chrome, artifacts_dir):
    from sqlalchemy import select

    from data_access import schema

    url, env = server
    engine = make_engine(env["APPEALS_DB_URL"])

    def exports() -> list:
        with engine.connect() as conn:
            return conn.execute(select(schema.audit_log.c.actor, schema.audit_log.c.target, schema.audit_log.c.detail)
                                .where(schema.audit_log.c.action == "export")).all()

    before = len(exports())
    page = _signed_in_page(chrome, url, "/cases?figure=received&period=7d")
    button = page.get_by_role("button", name="导出 CSV")
    button.wait_for(timeout=60_000)
    try:
        with page.expect_download(timeout=60_000) as info:
            button.click()
    finally:
        page.screenshot(path=str(artifacts_dir / "case_list_export.png"))
    path = info.value.path()
    import csv

    table = list(csv.reader(open(path, encoding="utf-8-sig")))
    assert table[0][0] == "工单号"
    on_screen = int(page.locator(".case-title .n").inner_text().replace(",", ""))
    assert len(table) - 1 == on_screen > 10  # the file holds the rows the page counts
    rows = exports()
    assert len(rows) == before + 1 and rows[-1].actor == "staff" and rows[-1].target == "received"

    # the 督办单 of the warning page, in the same signed-in browser
    page.goto(f"{url}/alerts")
    button = page.get_by_role("button", name="导出督办单（Excel）")
    button.wait_for(timeout=60_000)
    totals = page.locator(".alert-totals").inner_text()
    with page.expect_download(timeout=60_000) as info:
        button.click()
    import io
    import re

    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(open(info.value.path(), "rb").read())).worksheets[0]
    cells = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert cells[0][:3] == ["序号", "预警", "工单号"]
    red, yellow = (int(n.replace(",", "")) for n in re.findall(r"（[红黄]灯）\s*([\d,]+)\s*件", totals))
    body = cells[1:]
    assert len(body) == red + yellow > 0  # every red and yellow appeal the page counts
    assert sum(1 for r in body if r[1] == "超期") == red and sum(1 for r in body if r[1] == "临期") == yellow
    rows = exports()
    assert len(rows) == before + 2 and rows[-1].actor == "staff" and rows[-1].target == "督办单"
    page.close()
    engine.dispose()


def _list_count(page) -> int:
    """The count a case list states in its title (共 N 件)."""
    page.wait_for_url("**/cases?**", timeout=60_000)
    n = page.locator(".case-title .n")
    n.wait_for(timeout=60_000)
    return int(n.inner_text().replace(",", ""))


@pytest.mark.parametrize("path, trace, figure", [("/", 0, "received"), ("/region", 1, "closed_in_period")])
def test_a_click_on_a_trend_point_opens_that_days_list(server, chrome, artifacts_dir, path, trace, figure):
    import re
    from urllib.parse import parse_qs, urlparse

    url, _ = server
    page = _signed_in_page(chrome, url, path, width=1920, height=1080)
    trend = page.locator(".js-plotly-plot").first
    points = trend.locator("g.trace.scatter").nth(trace).locator("path.point")
    others = trend.locator("g.trace.scatter").nth(1 - trace).locator("path.point")
    points.nth(19).wait_for(timeout=60_000)  # every day of the trend is a point
    trend.scroll_into_view_if_needed()  # below the fold on /region: a person scrolls down to it
    page.wait_for_timeout(1000)
    # hovering is "closest": aim at a recent day where the other line's point is far away
    boxes = [points.nth(i).bounding_box() for i in range(points.count())]
    other = [others.nth(i).bounding_box() for i in range(others.count())]
    recent = range(max(0, len(boxes) - 15), len(boxes) - 1)
    i = max(recent, key=lambda k: min(abs(boxes[k]["y"] - b["y"]) + abs(boxes[k]["x"] - b["x"]) for b in other))
    box = boxes[i]
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)  # as a person points at it: the hover says the day and the count
    page.locator(".hovertext").first.wait_for(timeout=10_000)
    hover = page.locator(".hovertext").first.text_content()  # e.g. "11-27 受理 812 件" and "点击查看工单"
    day, shown = re.search(r"(\d\d-\d\d) (?:受理|办结) ([\d,]+) 件", hover).groups()
    shown = int(shown.replace(",", ""))
    page.mouse.click(x, y)
    count = _list_count(page)  # one click, same tab
    query = parse_qs(urlparse(page.url).query)
    assert query["figure"] == [figure] and query["period"] == ["custom"] and query["from"] == query["to"]
    assert query["from"][0][5:] == day  # the day clicked
    assert count == shown  # the list holds exactly the appeals the point counts
    page.screenshot(path=str(artifacts_dir / f"trend_click_{figure}.png"))
    page.close()


@pytest.fixture(scope="module")
def year_server(tmp_path_factory, artifacts_dir):
    """A small demo over more than a year, so that 同比 is known."""
    folder = tmp_path_factory.mktemp("browser-year")
    env = demo.build(folder, appeals=5000, months=14)
    _accounts(env)
    with browser.streamlit_server(env, artifacts_dir / "streamlit-server-year.log") as url:
        yield url


def test_the_region_tiles_arrows_and_colours_as_rendered(year_server, chrome, artifacts_dir):
    """Down is ↓ and up is ↑; green is better and red is worse for each indicator; 持平 has neither."""
    from ui.region import LOWER_IS_BETTER, TILES

    url = year_server
    page = _signed_in_page(chrome, url, "/region?period=30d", width=1920, height=1080)
    page.locator('[data-testid="stMetricDelta"]').first.wait_for(timeout=60_000)
    page.wait_for_timeout(1000)
    seen = 0
    for ind, label, _ in TILES:
        delta = page.locator(f".st-key-tile-{ind} [data-testid='stMetricDelta']")
        if delta.count() == 0:
            continue  # no change to show (a rate without a denominator)
        text = delta.inner_text().strip()
        icons = delta.locator("[data-testid^='stMetricDeltaIcon']")
        red, green, blue = (int(v) for v in delta.evaluate("e => getComputedStyle(e).color")[4:-1].split(",")[:3])
        if text in ("持平", "无可比数据"):  # no change, or no earlier period to compare with: grey, no arrow
            assert icons.count() == 0 and abs(red - green) < 40, (ind, text)
            continue
        down = text.startswith("-")
        assert icons.first.get_attribute("data-testid") == ("stMetricDeltaIcon-Down" if down
                                                              else "stMetricDeltaIcon-Up"), (ind, text)
        better = down if ind in LOWER_IS_BETTER else not down
        assert (green > red) == better, (ind, text, (red, green, blue))
        seen += 1
    assert seen >= 3
    page.screenshot(path=str(artifacts_dir / "region_tiles_1920.png"))
    page.close()
