"""Staff clicking through the dashboard in a real browser: every control of the big screen, and the pages on a
1366×768 laptop. The links of tables and tiles (one click, the same tab, the back button leads back, each
leading where it says) are clicked by the walk (tests/walk.py) as every role.

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
    """The tile's label once the rerun has replaced the old tile (for a moment both are in the page)."""
    labels = page.locator(f".st-key-tile-{key} [data-testid='stMetricLabel']")
    page.wait_for_function("(s) => document.querySelectorAll(s).length === 1",
                           arg=f".st-key-tile-{key} [data-testid='stMetricLabel']", timeout=30_000)
    return labels.inner_text().strip()


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
