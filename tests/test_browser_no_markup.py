"""In Chromium: hostile URL parameters and hostile names in the data show as text, and nothing is fetched.

AppTest (tests/test_no_markup.py) reads the Markdown the server sends; this
reads what Streamlit's own renderer, plotly and deck.gl make of it in a real
browser: an error naming ``[请重新登录](http://evil.example/x)`` holds no link,
``![b](…)`` loads no image, ``:red[红]`` is no colour, ``:material/home:`` no
icon, ``$x^2$`` no formula; a category named ``<a href=…>链</a>`` is no link
in the chart, and a district named ``<img src=…>`` loads nothing from the map's
tooltip. No request leaves the dashboard. Screenshots: ``no_markup_*.png``.
"""

from __future__ import annotations

import pytest

from data_access import auth
from data_access.store import make_engine
from tests import browser
from tests.test_no_markup import CATEGORY, DISTRICT, STREET, hostile_city

pytestmark = [pytest.mark.browser, pytest.mark.attack("injection")]

PASSWORD = "no-markup-browser-password"
JOIN = "\u2060"  # ui.text's invisible joiner: not something a person reads


@pytest.fixture(scope="module")
def server(tmp_path_factory, artifacts_dir):
    browser.require_chromium()
    city = hostile_city(tmp_path_factory.mktemp("browser_no_markup"), appeals=4_000)
    engine = make_engine(city["env"]["APPEALS_DB_URL"])
    auth.add_user(engine, "staff", role="city", region_code=None, password=PASSWORD)
    engine.dispose()
    with browser.streamlit_server(city["env"], artifacts_dir / "streamlit-server-no-markup.log") as url:
        yield url, city


@pytest.fixture(scope="module")
def signed_in(server, chrome):
    """One signed-in tab, and every request it makes that leaves the dashboard."""
    url, _ = server
    context = chrome.new_context(viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((url, "data:", "blob:")) else None)
    page.goto(f"{url}/audit")
    browser.sign_in(page, "staff", PASSWORD)
    yield page, outside
    context.close()


def _open(page, url: str, path: str, query: dict[str, str]) -> None:
    from urllib.parse import urlencode

    page.goto(f"{url}{path}?{urlencode(query)}")
    page.locator('[data-testid="stMain"]').wait_for(timeout=60_000)
    browser.settle(page, 2500)


def _no_live_markup(page, where) -> None:
    """Nothing in ``where`` links, loads or styles from a value."""
    # (the page's own links may carry a value in their query string, encoded: they stay on the dashboard)
    assert where.locator('a[href*="evil"]:not([href^="/"]):not([href^="?"]), a[href^="javascript"]').count() == 0
    assert where.locator('img[src*="evil"], img[alt="Streamlit logo"]').count() == 0
    styled = (".stMarkdownColoredText, .stMarkdownColoredBackground, .stMarkdownBadge, .katex, [role=img], "
              "strong, em, del, code")
    assert where.locator(f'[data-testid="stMarkdownContainer"] :is({styled})').count() == 0
    assert page.locator('[data-testid="stException"]').count() == 0


URLS = {  # what a tester put into URLs (issue 12, item 4), and what each page must then read
    "case-link": ("/case", {"id": "[请重新登录](http://evil.example/x)"}, ["[请重新登录](http://evil.example/x)"]),
    "case-image": ("/case", {"id": "![b](http://evil.example/x.png)"}, ["![b](http://evil.example/x.png)"]),
    "cases-figure": ("/cases", {"figure": ":red[红] **粗**"}, [":red[红] **粗**"]),
    "cases-sort": ("/cases", {"figure": "received", "sort": "$x^2$ <b>粗</b>", "period": "www.evil.example"},
                   ["$x^2$ <b>粗</b>", "www.evil.example"]),
    "region-metric": ("/region", {"metric": ":material/home: :streamlit:",
                                  "as_of": "<img src=http://evil.example/y.png>"},
                      [":material/home: :streamlit:", "<img src=http://evil.example/y.png>"]),
    "alerts-filters": ("/alerts", {"department": "[点我](http://evil.example/d)", "category": "_斜_ ~~删~~ `码`"},
                       ["[点我](http://evil.example/d)", "_斜_ ~~删~~ `码`"]),
}


@pytest.mark.parametrize("name", list(URLS))
def test_a_hostile_url_shows_its_values_as_text(server, signed_in, artifacts_dir, name):
    url, _ = server
    page, outside = signed_in
    path, query, expected = URLS[name]
    _open(page, url, path, query)
    page.screenshot(path=str(artifacts_dir / f"no_markup_{name}.png"))
    alerts = page.locator('[data-testid="stAlert"]')
    assert alerts.count() > 0
    text = " ".join(alerts.all_inner_texts()).replace(JOIN, "")
    for value in expected:
        assert value in text, (value, text)
    _no_live_markup(page, alerts)
    _no_live_markup(page, page.locator('[data-testid="stMain"]'))
    assert outside == []


def test_hostile_names_show_as_text_in_charts_tables_and_map_tooltips(server, signed_in, artifacts_dir):
    url, city = server
    page, outside = signed_in
    _open(page, url, "/", {"region": city["district"]})
    browser.wait_for_app(page)
    main = page.locator('[data-testid="stMain"]')
    # the category chart: the name as its characters, no link in the drawing
    chart = page.locator('[data-testid="stPlotlyChart"]').nth(1)
    assert CATEGORY in chart.text_content()
    assert chart.locator("a").count() == 0
    # the ranking names the streets as they are written
    assert STREET in main.inner_text() and DISTRICT in main.inner_text()
    _no_live_markup(page, main)
    # the map's tooltips: point at the streets; whatever shows, no name in it is a tag
    deck = page.locator('[data-testid="stDeckGlJsonChart"]')
    box = deck.bounding_box()
    tooltip = page.locator(".deck-tooltip")
    seen = []
    for fx in (0.5, 0.4, 0.6, 0.3, 0.7):
        for fy in (0.5, 0.4, 0.6, 0.3, 0.7):
            page.mouse.move(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
            try:
                tooltip.wait_for(state="visible", timeout=800)
            except Exception:  # noqa: BLE001 - no street under the pointer: the next point
                continue
            seen.append(tooltip.inner_text())
            assert tooltip.locator("img, a, svg").count() == 0, seen[-1]
    page.screenshot(path=str(artifacts_dir / "no_markup_big_screen.png"))
    assert seen, "no tooltip showed"
    assert outside == []
