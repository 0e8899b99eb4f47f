"""Staff clicking through the dashboard in a real browser: every control of the big screen, the links of
tables and tiles (one click, the same tab, the back button leads back), and the pages on a 1366×768 laptop.

Headless Chromium signs in as the demo's city account. Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from data_access.seed.accounts import DEMO_PASSWORD, ensure_demo_accounts
from data_access.store import make_engine
from tests import browser, demo

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory, artifacts_dir):
    browser.require_chromium()
    env = demo.build(tmp_path_factory.mktemp("browser_nav"), appeals=8000)
    engine = make_engine(env["APPEALS_DB_URL"])
    ensure_demo_accounts(engine)
    engine.dispose()
    with browser.streamlit_server(env, artifacts_dir / "streamlit-server-nav.log") as url:
        yield url



_settle = browser.settle


def _sign_in(chrome, url: str, path: str = "/", width: int = 1920, height: int = 1080, account: str = "demo"):
    """A page in a browser context of its own, signed in through the real form at ``path``."""
    context = chrome.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.goto(f"{url}{path}")
    browser.sign_in(page, account, DEMO_PASSWORD)
    _settle(page)
    return page


def _no_error(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0
    errors = page.locator('[data-testid="stAlertContentError"]').all_inner_texts()
    assert not errors, errors


def _click_as_a_person(page, locator) -> None:
    """Click the middle of ``locator`` with the mouse, after checking that it, and nothing lying over it,
    is what is there (a transparent header over a control takes the click and nothing happens)."""
    locator.scroll_into_view_if_needed()
    box = locator.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    on_top = locator.evaluate("(e, p) => { const t = document.elementFromPoint(p[0], p[1]);"
                              " return !!t && (e === t || e.contains(t)); }", [x, y])
    assert on_top, (locator, page.evaluate(f"() => document.elementFromPoint({x}, {y}).outerHTML.slice(0, 200)"))
    page.mouse.click(x, y)


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def _tile_value(page, key: str) -> str:
    return page.locator(f".st-key-tile-{key} [data-testid='stMetricValue']").inner_text().strip()


def _tile_label(page, key: str) -> str:
    return page.locator(f".st-key-tile-{key} [data-testid='stMetricLabel']").inner_text().strip()


PERIODS = {"today": "今日", "7d": "近7天", "month": "本月", "year": "本年", "all": "全部", "30d": "近30天"}


def test_staff_can_click_every_period_of_the_big_screen(server, chrome, artifacts_dir):
    """At 1920×1080 signed in, each period option takes a click: the URL and the period's figures change."""
    page = _sign_in(chrome, server)
    browser.wait_for_app(page)
    page.screenshot(path=str(artifacts_dir / "nav_big_screen_staff_1920.png"))
    seen = {}
    for period, label in PERIODS.items():
        option = page.locator('[data-testid="stButtonGroup"] button', has_text=label).first
        _click_as_a_person(page, option)
        page.wait_for_url(lambda u, p=period: _query(u).get("period") == p, timeout=30_000)
        page.wait_for_function(f'() => [...document.querySelectorAll(".st-key-tile-completion p")]'
                               f'.some(p => p.innerText.includes("{label}"))', timeout=30_000)
        _settle(page, 800)
        _no_error(page)
        assert _tile_label(page, "completion") == f"办结率 · {label}"
        seen[period] = (_tile_value(page, "completion"), _tile_value(page, "satisfaction"))
    assert len(set(seen.values())) >= 4, seen  # the figures follow the period
    page.context.close()


def _one_click(page, locator, expect) -> str:
    """Click a link once; it must open ``expect(url)`` in this tab (no other page opened). Returns the URL."""
    before = len(page.context.pages)
    _click_as_a_person(page, locator)
    page.wait_for_url(expect, timeout=60_000)
    _settle(page)
    assert len(page.context.pages) == before, "the link opened another tab"
    _no_error(page)
    return page.url


def _back_to(page, start: str, marker: str) -> None:
    page.go_back()
    page.wait_for_url(lambda u: u == start, timeout=30_000)
    page.get_by_text(marker).first.wait_for(timeout=60_000)
    _settle(page, 500)
    _no_error(page)


def _first_link(page, table: str, text: str):
    return page.locator(f'table[data-table="{table}"] a', has_text=text).first


def test_links_on_the_big_screen_open_in_one_click_and_back_leads_back(server, chrome, artifacts_dir):
    page = _sign_in(chrome, server, "/?period=7d")
    browser.wait_for_app(page)
    start = page.url
    clicks = [
        ("tile", page.locator(".st-key-tile-today .tile-link a"),
         lambda u: urlsplit(u).path == "/cases" and _query(u).get("figure") == "received"
         and _query(u).get("period") == "today"),
        ("tile overdue", page.locator(".st-key-tile-overdue .tile-link a"),
         lambda u: urlsplit(u).path == "/cases" and _query(u).get("figure") == "overdue_open"),
        ("ranking", _first_link(page, "ranking", "明细"),
         lambda u: urlsplit(u).path == "/cases" and _query(u).get("region", "").startswith("2103")),
        ("overdue list", _first_link(page, "newest-overdue", "GD"),
         lambda u: urlsplit(u).path == "/case" and _query(u).get("id", "").startswith("GD")),
        ("to alerts", page.get_by_text("超期与临期预警 · 督办 →"),
         lambda u: urlsplit(u).path == "/alerts" and _query(u).get("period") == "all"),
    ]
    for name, locator, expect in clicks:
        locator.wait_for(timeout=60_000)
        _one_click(page, locator, expect)
        page.screenshot(path=str(artifacts_dir / f"nav_from_big_screen_{name.replace(' ', '_')}.png"))
        _back_to(page, start, "街道排名")
        browser.wait_for_app(page)
    page.context.close()


def test_links_in_tables_of_the_other_pages_open_in_one_click_and_back_leads_back(server, chrome, artifacts_dir):
    page = _sign_in(chrome, server, "/region?period=30d")
    page.locator('table[data-table="children-ranking"]').wait_for(timeout=60_000)
    start = page.url
    # a ranking's 进入 goes down a level; back goes up again
    _one_click(page, _first_link(page, "children-ranking", "进入"),
               lambda u: urlsplit(u).path == "/region" and len(_query(u).get("region", "")) == 6)
    assert "区县" in page.locator(".screen-title").first.inner_text()
    page.screenshot(path=str(artifacts_dir / "nav_region_down.png"))
    _back_to(page, start, "区县排名")
    # a header sorts the table through the URL, in the same tab
    ranking = page.locator('table[data-table="children-ranking"]')
    _one_click(page, ranking.locator("th a", has_text="超期"), lambda u: _query(u).get("rank_sort") == "超期（本期受理）")
    cells = page.locator('table[data-table="children-ranking"] tbody tr td:nth-child(7)').all_inner_texts()
    values = [int(c.replace(",", "")) for c in cells]
    assert values == sorted(values, reverse=True) and len(values) > 3, values
    _back_to(page, start, "区县排名")
    # a department's 明细
    _one_click(page, _first_link(page, "departments", "明细"),
               lambda u: urlsplit(u).path == "/cases" and "department" in _query(u))
    _back_to(page, start, "承办单位")

    page.goto(f"{server}/alerts")
    page.locator('table[data-table="warnings"]').wait_for(timeout=60_000)
    _settle(page)
    start = page.url
    row = page.locator('table[data-table="warnings"] tbody tr').first
    appeal = row.locator("td").nth(1).inner_text().strip()
    _one_click(page, row.locator("a", has_text="查看"),
               lambda u: urlsplit(u).path == "/case" and _query(u).get("id") == appeal)
    assert appeal in page.locator(".case-title").inner_text()
    page.screenshot(path=str(artifacts_dir / "nav_alerts_case.png"))
    _back_to(page, start, "预警工单")
    page.get_by_role("tab", name="按单位与街道").click()
    _one_click(page, _first_link(page, "counts-street", "明细"),
               lambda u: urlsplit(u).path == "/cases" and _query(u).get("figure") == "overdue_open")
    _back_to(page, start, "预警工单")

    page.goto(f"{server}/cases?figure=received&period=7d")
    page.locator('table[data-table="cases"]').wait_for(timeout=60_000)
    _settle(page)
    start = page.url
    link = page.locator('table[data-table="cases"] tbody tr').first.locator("a").first
    appeal = link.inner_text().strip()
    _one_click(page, link, lambda u: urlsplit(u).path == "/case" and _query(u).get("id") == appeal)
    assert appeal in page.locator(".case-title").inner_text()
    # the detail's own link back to the list, and the browser's back button, both lead to the list
    _one_click(page, page.get_by_text("← 返回工单列表"), lambda u: urlsplit(u).path == "/cases")
    page.go_back()
    page.wait_for_url(lambda u: urlsplit(u).path == "/case", timeout=30_000)
    _back_to(page, start, "共")
    page.context.close()


LAPTOP_PAGES = {
    "big_screen": "/",
    "region": "/region?period=30d",
    "alerts": "/alerts",
    "cases": "/cases?figure=received&period=7d",
}


def _fully_inside(page, selector: str, container: str | None = None, whole: bool = True) -> list[str]:
    """Elements of the page (not the closed sidebar) matching ``selector`` that stick out of the window (or of
    their ``container`` ancestor), or, with ``whole``, whose content is cut (wider than the element)."""
    return page.evaluate("""([selector, container, whole]) => {
        const out = [];
        const inMain = selector.split(',').map(s => '[data-testid="stMain"] ' + s.trim()).join(', ');
        for (const e of document.querySelectorAll(inMain)) {
          const r = e.getBoundingClientRect();
          if (r.width === 0) continue;
          const box = container ? e.closest(container).getBoundingClientRect()
                                : {left: 0, right: window.innerWidth};
          if (r.left < box.left - 1 || r.right > box.right + 1) out.push('outside: ' + e.innerText);
          if (whole && e.scrollWidth > e.clientWidth + 1) out.push('cut: ' + e.innerText.slice(0, 80));
        }
        return out; }""", [selector, container, whole])


@pytest.mark.parametrize("name", list(LAPTOP_PAGES))
def test_staff_pages_fit_a_1366_laptop(server, chrome, artifacts_dir, name):
    page = _sign_in(chrome, server, LAPTOP_PAGES[name], width=1366, height=768)
    page.wait_for_timeout(3000)
    _settle(page)
    _no_error(page)
    page.screenshot(path=str(artifacts_dir / f"laptop_1366_{name}.png"))
    page.screenshot(path=str(artifacts_dir / f"laptop_1366_{name}_full.png"), full_page=True)
    width, inner = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner, (width, inner)
    # period options, tiles' labels and values, buttons and select boxes are whole and inside the window
    problems = _fully_inside(page, '[data-testid="stButtonGroup"] button')
    problems += _fully_inside(page, '[data-testid="stMetricLabel"] p', '[data-testid="stMetric"]')
    problems += _fully_inside(page, '[data-testid="stMetricValue"]', '[data-testid="stMetric"]')
    problems += _fully_inside(page, '[data-testid="stSelectbox"], [data-testid="stBaseButton-secondary"]')
    # charts, maps and tables inside the window (a wide table scrolls inside its own frame)
    problems += _fully_inside(page, ".js-plotly-plot, [data-testid='stDeckGlJsonChart'], .tbl-wrap", whole=False)
    assert not problems, problems
    if name == "big_screen":
        # the trend's legend sits above its lines, not on them
        legend = page.locator(".js-plotly-plot").first.locator("g.legend").bounding_box()
        plot = page.locator(".js-plotly-plot").first.locator("rect.nsewdrag").first.bounding_box()
        assert legend["y"] + legend["height"] <= plot["y"] + 1, (legend, plot)
        # the whole territory is on the map: its outline is inside the canvas
        assert page.locator('[data-testid="stDeckGlJsonChart"]').bounding_box()["width"] >= 900
    page.context.close()
