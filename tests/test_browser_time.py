"""The data's own time, as a person sees it in Chromium: a silent feed, historical data, today's audit rows."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from data_access import auth, schema
from data_access.clock import local_now
from data_access.store import make_engine
from tests import browser, demo
from tests.conftest import CITY_TZ, insert_appeals

pytestmark = pytest.mark.browser

PASSWORD = "browser-time-2026"


def _steady_feed(engine, end: dt.datetime, grids: list[str]) -> None:
    """An appeal every ten minutes, day and night, for four weeks up to ``end``: six an hour at every hour."""
    n = 28 * 24 * 6
    insert_appeals(engine, [{"appeal_id": f"FEED{i:05d}", "created_at": end - dt.timedelta(minutes=10 * i),
                             "grid_code": grids[i % len(grids)], "lon": None, "lat": None} for i in range(n)])


@pytest.fixture(scope="module")
def silent_server(tmp_path_factory, artifacts_dir):
    """The demo city whose feed stopped two hours ago (a steady feed, so any hour of the day is implausible)."""
    browser.require_chromium()
    folder = tmp_path_factory.mktemp("silent")
    stopped = local_now(CITY_TZ).replace(second=0, microsecond=0) - dt.timedelta(hours=2)
    env = demo.build(folder, appeals=3000, months=2, end=stopped - dt.timedelta(hours=1))
    engine = make_engine(env["APPEALS_DB_URL"])
    with engine.connect() as conn:
        grids = list(conn.execute(select(schema.regions.c.code).where(schema.regions.c.level == "grid")
                                  .order_by(schema.regions.c.code).limit(40)).scalars())
    _steady_feed(engine, stopped, grids)
    auth.add_user(engine, "admin", role="admin", region_code=None, password=PASSWORD)
    auth.add_user(engine, "staff", role="city", region_code=None, password=PASSWORD)
    token = auth.create_kiosk_token(engine, "210300", label="silent wall")
    engine.dispose()
    with browser.streamlit_server(env, artifacts_dir / "streamlit-server-silent.log") as url:
        yield url, token, stopped


def _sign_in(page, url: str, path: str, name: str) -> None:
    page.goto(f"{url}{path}")
    browser.sign_in(page, name, PASSWORD)


def test_a_feed_silent_for_two_hours_shows_its_banner_on_the_wall(silent_server, artifacts_dir):
    url, token, stopped = silent_server
    with browser.chromium() as chrome:
        page = chrome.new_page(viewport={"width": 1920, "height": 1080})
        page.goto(f"{url}/?kiosk={token}")
        browser.wait_for_app(page)
        banner = page.locator(".data-banner.silent")
        assert banner.count() == 1 and banner.is_visible()
        text = banner.inner_text()
        assert "数据源可能中断" in text and "最近一条工单" in text and f"{stopped:%Y-%m-%d %H:%M}" in text
        assert "分钟前" in text or "小时前" in text
        newest = page.locator(".screen-meta b[title]").nth(1)
        assert newest.get_attribute("title") == f"{stopped:%Y-%m-%d %H:%M:%S}"
        # the banner takes room from the map, so the wall still needs no scrolling
        assert page.evaluate("document.scrollingElement.scrollHeight") <= 1080 + 40
        page.screenshot(path=str(artifacts_dir / "big_screen_feed_silent.png"))


def test_staff_pages_show_the_newest_appeal_and_the_banner(silent_server, artifacts_dir):
    url, _, stopped = silent_server
    with browser.chromium() as chrome:
        page = chrome.new_page(viewport={"width": 1600, "height": 1000})
        _sign_in(page, url, "/region", "staff")
        for path in ("/region", "/alerts"):
            page.goto(f"{url}{path}")
            page.locator(".data-banner.silent").wait_for(timeout=60_000)
            page.locator("table.tbl").first.wait_for(timeout=60_000)
            page.wait_for_timeout(1500)
            assert page.locator(".times-line b[title]").nth(1).get_attribute("title") == f"{stopped:%Y-%m-%d %H:%M:%S}"
            page.screenshot(path=str(artifacts_dir / f"feed_silent_{path.strip('/')}.png"))


def test_todays_sign_in_is_on_the_audit_page_without_touching_a_filter(silent_server, artifacts_dir):
    url, _, _ = silent_server
    with browser.chromium() as chrome:
        page = chrome.new_page(viewport={"width": 1600, "height": 1000})
        _sign_in(page, url, "/audit", "admin")
        page.locator('[data-testid="stDataFrame"]').wait_for(timeout=60_000)
        page.wait_for_timeout(1500)
        today = local_now(CITY_TZ).date()
        # the date filters open at the city's today, whatever the server's TZ: the sign-in just made is listed
        shown = [page.get_by_role("spinbutton", name=f"{part}, 截止日期").get_attribute("aria-valuenow")
                 for part in ("year", "month", "day")]
        assert shown == [str(today.year), str(today.month), str(today.day)]
        assert page.get_by_text("该条件下没有审计记录").count() == 0
        cells = page.locator('[role="gridcell"]').all_inner_texts()
        signed_in_today = [c for c in cells if c.startswith(today.isoformat())]
        assert signed_in_today, cells[:20]
        assert "admin" in cells and "登录" in cells, cells[:20]
        page.screenshot(path=str(artifacts_dir / "audit_today.png"))


# ------------------------------------------------------ historical data ---
# A city's export in the shape of the Los Angeles 311 data (US times, the source's own channel words), from a
# zone with daylight saving, ending on 31 December 2017: it must open at its own time, with its own words.

LA = "America/Los_Angeles"
LA_CHANNELS = ("Call", "Mobile App", "Self Service", "Driver Self Report", "Email")


def _la_like(folder) -> tuple[str, dt.datetime]:
    import csv
    import json

    from data_access import cityzone
    from data_access.importers.appeals import import_appeals
    from data_access.importers.mapping import parse_mapping
    from data_access.importers.regions import import_regions
    from data_access.store import create_schema

    url = f"sqlite:///{folder / 'la.db'}"
    engine = make_engine(url)
    create_schema(engine)
    cityzone.record(engine, LA)  # as `APPEALS_TZ=America/Los_Angeles python -m data_access init-db` does
    squares = [("cd-1", "1", -118.30), ("cd-2", "2", -118.25)]
    (folder / "districts.json").write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"slug": code, "name": name},
         "geometry": {"type": "Polygon", "coordinates": [[[w, 34.0], [w + 0.05, 34.0], [w + 0.05, 34.05],
                                                          [w, 34.05], [w, 34.0]]]}}
        for code, name, w in squares]}), encoding="utf-8")
    import_regions(engine, folder / "districts.json", level="district", code_field="slug", name_field="name")
    newest = dt.datetime(2017, 12, 31, 23, 59, 58)
    with (folder / "requests.csv").open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["SRNumber", "CreatedDate", "ClosedDate", "Status", "RequestType", "RequestSource",
                      "Latitude", "Longitude"])
        for i in range(400):
            created = newest - dt.timedelta(minutes=17 * i)
            closed = "" if i % 3 == 0 else (created + dt.timedelta(hours=5)).strftime("%m/%d/%Y %I:%M:%S %p")
            out.writerow([f"1-{i:07d}", created.strftime("%m/%d/%Y %I:%M:%S %p"), closed,
                          "Open" if i % 3 == 0 else "Closed", ("Bulky Items", "Graffiti Removal")[i % 2],
                          LA_CHANNELS[i % len(LA_CHANNELS)], 34.01 + (i % 4) * 0.01, -118.29 + (i % 7) * 0.012])
    mapping = parse_mapping({
        "source": {"format": "csv", "timezone": LA, "datetime_format": "%m/%d/%Y %I:%M:%S %p"},
        "columns": {"appeal_id": "SRNumber", "created_at": "CreatedDate", "closed_at": "ClosedDate",
                    "status": "Status", "category": "RequestType", "channel": "RequestSource",
                    "lat": "Latitude", "lon": "Longitude"},
        "values": {"status": {"Open": "open", "Closed": "closed"}},  # channels: no grouping, the words stay
    })
    report = import_appeals(engine, folder / "requests.csv", mapping, out_dir=folder / "out")
    assert report.inserted == 400 and report.quarantined == 0
    auth.add_user(engine, "la", role="city", region_code=None, password=PASSWORD)
    engine.dispose()
    return url, newest


def test_a_historical_city_opens_at_its_own_time_with_its_own_words(tmp_path, artifacts_dir):
    browser.require_chromium()
    url_db, newest = _la_like(tmp_path)
    env = {"APPEALS_DB_URL": url_db, "APPEALS_ANALYTICS_PATH": str(tmp_path / "la.duckdb")}
    with browser.streamlit_server(env, artifacts_dir / "streamlit-server-la.log") as url, \
            browser.chromium() as chrome:
        page = chrome.new_page(viewport={"width": 1920, "height": 1080})
        _sign_in(page, url, "/", "la")
        browser.wait_for_app(page)
        banner = page.locator(".data-banner.historical")
        assert banner.count() == 1 and f"{newest:%Y-%m-%d %H:%M:%S}" in banner.inner_text()
        assert page.locator(".data-banner.silent").count() == 0
        assert page.locator("#live-clock").get_attribute("data-tz") == LA  # the city's clock, from the data
        text = page.locator("body").inner_text()
        for word in LA_CHANNELS:
            assert word in text, word
        assert "其他渠道" not in text
        page.screenshot(path=str(artifacts_dir / "historical_city_big_screen.png"))
        page.goto(f"{url}/region")
        page.locator(".data-banner.historical").wait_for(timeout=60_000)
        page.locator('[data-testid="stDeckGlJsonChart"] canvas').wait_for(timeout=60_000)
        page.wait_for_timeout(2000)
        page.screenshot(path=str(artifacts_dir / "historical_city_region.png"))
