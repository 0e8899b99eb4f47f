"""Every page as each of its users: a walk in headless Chromium that follows everything leading somewhere.

For each role of the demo city (city, district, street, admin) the walk signs in
through the real form, opens every page the role may open, and on each page:

* follows one link of every kind (same target page, same query keys) found in
  the page's content: it must arrive in one click, in the same tab, at the
  link's address, with no error; the back button must lead back;
* opens every tab and checks that it shows something and no error;
* saves screenshots at 1920×1080 and 1366×768 in tests/artifacts/walk/, and
  checks at 1366×768 that the page does not overflow sideways.

A kiosk token opens the big screen, which has no download button, and every
other page answers it with a refusal that shows no data.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urljoin, urlparse

import pytest
from sqlalchemy import select

from data_access import auth, schema
from data_access.seed.accounts import DEMO_PASSWORD, ensure_demo_accounts
from data_access.store import make_engine
from tests import browser, demo

pytestmark = pytest.mark.browser

LIANHUA = "210302001"  # 莲花街道 of 铁东区: inside every role's territory
ROLES = ("demo", "tiedong", "lianhua", "admin")
STAFF_PAGES = ("/", "/region", "/alerts", "/cases?figure=overdue_open&period=all", "/case")
SIZES = ((1920, 1080), (1366, 768))


@pytest.fixture(scope="module")
def walk_server(tmp_path_factory, artifacts_dir):
    browser.require_chromium()
    env = demo.build(tmp_path_factory.mktemp("browser_walk"), appeals=8000, months=2)
    engine = make_engine(env["APPEALS_DB_URL"])
    ensure_demo_accounts(engine)
    kiosk = auth.create_kiosk_token(engine, "210300", label="walk test wall")
    with engine.connect() as conn:
        case_id = conn.execute(select(schema.appeals.c.appeal_id)
                               .where(schema.appeals.c.grid_code.like(f"{LIANHUA}%"))
                               .order_by(schema.appeals.c.appeal_id).limit(1)).scalar_one()
    engine.dispose()
    with browser.streamlit_server(env, artifacts_dir / "streamlit-server-walk.log") as url:
        yield url, kiosk, case_id


@pytest.fixture(scope="module")
def chrome():
    browser.require_chromium()
    with browser.chromium() as b:
        yield b


def _settle(page, pause_ms: int = 1200) -> None:
    """Wait until the page's script has run and its content is drawn."""
    page.wait_for_selector('[data-testid="stMain"]', timeout=60_000)
    page.wait_for_function(
        '() => !document.querySelector(\'[data-testid="stStatusWidget"]\')'
        ' || !document.querySelector(\'[data-testid="stStatusWidget"]\').innerText.includes("Running")',
        timeout=60_000)
    page.wait_for_timeout(pause_ms)


def _no_error(page, where: str) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0, where
    main = page.locator('[data-testid="stMain"]').inner_text()
    assert "页面出错" not in main and "Traceback" not in main, where
    assert len(main.strip()) > 20, f"{where}: the page shows nothing"


def _sign_in(context, url: str, account: str):
    page = context.new_page()
    page.goto(f"{url}/")
    page.get_by_label("用户名").fill(account)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.get_by_role("button", name="退出登录").wait_for(state="attached", timeout=60_000)
    _settle(page)
    return page


def _links(page, base: str) -> list[tuple[str, str]]:
    """(kind, absolute href) of one link of every kind in the page's content; kind = path + query keys."""
    hrefs = page.eval_on_selector_all(
        '[data-testid="stMain"] a[href]',
        "els => els.filter(e => !e.hasAttribute('download') && e.offsetParent !== null)"
        ".map(e => e.getAttribute('href'))")
    chosen: dict[str, str] = {}
    for href in hrefs:
        absolute = urljoin(page.url, href)
        if not absolute.startswith(base) or absolute == page.url:
            continue  # outside links are not the dashboard's; a link to this very view leads nowhere
        parsed = urlparse(absolute)
        kind = parsed.path + "?" + ",".join(sorted(parse_qs(parsed.query)))
        chosen.setdefault(kind, absolute)
    return sorted(chosen.items())


def _follow(context, page, href: str, where: str) -> None:
    """Click the link to ``href``: one click, same tab, arrives, no error; back leads back."""
    before = page.url
    opened = len(context.pages)
    link = page.locator(f'[data-testid="stMain"] a[href="{urlparse(href).path}?{urlparse(href).query}"]')
    if link.count() == 0:
        link = page.locator(f'[data-testid="stMain"] a[href="{href}"]')
    target = link.first
    target.scroll_into_view_if_needed()
    target.click()
    page.wait_for_url(href, timeout=30_000)
    assert len(context.pages) == opened, f"{where}: {href} opened another tab"
    _settle(page, 800)
    _no_error(page, f"{where} → {href}")
    page.go_back()
    page.wait_for_url(before, timeout=30_000)
    _settle(page, 500)


def _tabs(page, where: str) -> None:
    tabs = page.locator('[data-testid="stMain"] [role="tab"]')
    for i in range(tabs.count()):
        tabs.nth(i).click()
        page.wait_for_timeout(400)
        assert tabs.nth(i).get_attribute("aria-selected") == "true", f"{where}: tab {i}"
        _no_error(page, f"{where} tab {tabs.nth(i).inner_text()}")


def _pages_for(account: str, case_id: str) -> list[str]:
    pages = [p if p != "/case" else f"/case?id={case_id}" for p in STAFF_PAGES]
    return pages + (["/audit"] if account == "admin" else [])


def _shot_name(account: str, path: str, size: tuple[int, int]) -> str:
    name = urlparse(path).path.strip("/") or "big_screen"
    return f"{account}_{name}_{size[0]}x{size[1]}.png"


@pytest.mark.parametrize("account", ROLES)
def test_walk_every_page_as(account, walk_server, chrome, artifacts_dir):
    url, _, case_id = walk_server
    folder = artifacts_dir / "walk"
    folder.mkdir(exist_ok=True)
    context = chrome.new_context(viewport={"width": SIZES[0][0], "height": SIZES[0][1]}, accept_downloads=True)
    try:
        page = _sign_in(context, url, account)
        followed = 0
        for path in _pages_for(account, case_id):
            where = f"{account} {path}"
            page.goto(f"{url}{path}")
            _settle(page)
            _no_error(page, where)
            _tabs(page, where)
            for _, href in _links(page, url):
                _follow(context, page, href, where)
                followed += 1
            for width, height in SIZES:
                page.set_viewport_size({"width": width, "height": height})
                page.wait_for_timeout(800)
                page.screenshot(path=str(folder / _shot_name(account, path, (width, height))), full_page=False)
                if width < 1920:
                    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
                    assert overflow <= 1, f"{where} at {width}×{height} overflows sideways by {overflow} px"
            page.set_viewport_size({"width": SIZES[0][0], "height": SIZES[0][1]})
        assert followed >= 5, f"{account}: only {followed} links were found to follow"
    finally:
        context.close()
