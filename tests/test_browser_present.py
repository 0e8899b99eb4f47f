"""Presentation mode (/present) in a real browser, as the demo's district account (tiedong), at 1920×1080.

Headless Chromium signs in through the real form, opens 铁东区's slides for last month, goes forward and back
with the keyboard (ArrowRight, PageDown, space, ArrowLeft, PageUp) checking the counter, shows the speaker
notes (N), fills the screen (F), and saves a screenshot of each kind of slide, dark and light, in
tests/artifacts/present/. A figure's link leads to its list on /cases at the slides' as-of time.
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
    env = demo.build(tmp_path_factory.mktemp("browser_present"), appeals=8000, months=3)
    engine = make_engine(env["APPEALS_DB_URL"])
    ensure_demo_accounts(engine)
    engine.dispose()
    with browser.streamlit_server(env, artifacts_dir / "streamlit-server-present.log") as url:
        yield url


def _counter(page) -> str:
    return page.locator(".present-counter").inner_text()


def _visible_kind(page) -> str:
    return page.locator("section.slide:not([hidden])").get_attribute("data-kind")


def test_present_moves_with_the_keyboard_and_shows_every_kind_of_slide(server, chrome, artifacts_dir):
    today = local_now(CITY_TZ).date()
    last = today.replace(day=1) - dt.timedelta(days=1)
    first = last.replace(day=1)
    as_of = dt.datetime.combine(last + dt.timedelta(days=1), dt.time())
    folder = artifacts_dir / "present"
    folder.mkdir(parents=True, exist_ok=True)
    page = chrome.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(f"{server}/present?region=210302&period=custom&from={first}&to={last}&as_of={as_of.isoformat()}")
    browser.sign_in(page, "tiedong", DEMO_PASSWORD)
    page.locator("#present-stage").wait_for(timeout=120_000)
    browser.settle(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    total = page.locator("section.slide").count()
    assert total >= 8
    assert _counter(page) == f"1 / {total}" and _visible_kind(page) == "cover"
    page.locator("#present-stage").click(position={"x": 5, "y": 5})  # focus the page, as a presenter would
    assert _counter(page) == f"1 / {total}"  # a click on the left third goes back: none before the first
    for key, expected in (("ArrowRight", 2), ("PageDown", 3), (" ", 4), ("ArrowLeft", 3), ("PageUp", 2)):
        page.keyboard.press(key)
        assert _counter(page) == f"{expected} / {total}", key
    assert page.evaluate("location.hash") == "#2"
    page.keyboard.press("End")
    assert _counter(page) == f"{total} / {total}"
    page.keyboard.press("ArrowRight")  # past the last: stays
    assert _counter(page) == f"{total} / {total}"
    page.keyboard.press("Home")
    assert _counter(page) == f"1 / {total}"

    # full screen, one screenshot per kind of slide (the first of each), and the notes on the headline
    page.keyboard.press("f")
    browser.settle(page, 500)
    box = page.locator("#present-stage").bounding_box()
    assert (box["width"], box["height"]) == (1920, 1080)
    seen = {}
    for n in range(1, total + 1):
        kind = _visible_kind(page)
        if kind not in seen:
            seen[kind] = n
            page.screenshot(path=str(folder / f"dark-{n:02d}-{kind}.png"))
        page.keyboard.press("ArrowRight")
    assert set(seen) == {"cover", "headline", "rankings", "unit", "hotspots", "overdue"}
    page.keyboard.press("Home")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("n")
    notes = page.locator("section.slide:not([hidden]) .notes")
    assert notes.is_visible() and "办结率：已办结 ÷ （受理 − 撤销）" in notes.inner_text()
    page.screenshot(path=str(folder / "dark-02-headline-notes.png"))
    page.keyboard.press("n")
    assert not notes.is_visible()
    # the headline's figures are large: readable from the back of a meeting room
    size = page.locator("section.slide:not([hidden]) .fig-value").first.evaluate(
        "e => e.getBoundingClientRect().height")
    assert size >= 70
    # a figure leads to its appeals at the slides' moment
    href = page.locator("section.slide:not([hidden]) a.fig-value").first.get_attribute("href")
    query = parse_qs(urlsplit(href).query)
    assert urlsplit(href).path == "/cases" and query["as_of"] == [as_of.isoformat()]
    assert (query["from"], query["to"]) == ([first.isoformat()], [last.isoformat()])
    page.keyboard.press("Escape")
    browser.settle(page, 300)
    assert page.locator("#present-stage").bounding_box()["width"] < 1920

    # the light theme, for a bright room: the same slides
    page.goto(f"{server}/present?region=210302&period=custom&from={first}&to={last}&as_of={as_of.isoformat()}"
              f"&theme=light#{seen['unit']}")
    page.locator(".present-deck.light").wait_for(timeout=120_000)
    browser.settle(page)
    assert _counter(page) == f"{seen['unit']} / {total}"  # the hash keeps the slide
    page.keyboard.press("f")
    browser.settle(page, 500)
    for kind, n in seen.items():
        page.keyboard.press("Home")
        for _ in range(n - 1):
            page.keyboard.press("PageDown")
        assert _visible_kind(page) == kind
        page.screenshot(path=str(folder / f"light-{n:02d}-{kind}.png"))
    page.keyboard.press("Escape")
    page.screenshot(path=str(folder / "page-light.png"), full_page=True)
    # the link of a figure opens the list
    page.keyboard.press("Home")
    page.keyboard.press("ArrowRight")
    page.locator("section.slide:not([hidden]) a.fig-value").first.click()
    page.wait_for_url("**/cases?**", timeout=30_000)
    browser.settle(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    page.close()
