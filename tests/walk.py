"""Every page as each of its users: a walk in headless Chromium that follows everything leading somewhere.

Each role of the demo city (city, district, street, admin) signs in through
the real form, opens every page it may open, and on each page:

* checks that every link of the page's content opens in the same tab and stays
  in the dashboard, and that the links people rely on lead where they say
  (a tile to its figure's list, 进入 one level down, 查看 to that row's case…);
* clicks one link of every kind (same page, same target, same query keys): it
  must arrive in one click, in the same tab, at the link's address, with no
  error, and the back button must lead back (a sorting header must sort);
* opens every tab and checks that it shows something and no error;
* clicks one element of every clickable chart (a point of a trend, a bar, a
  region of the map): it must lead to its list or its region in the same tab,
  with no error, and back must lead back;
* clicks an option of every button group (the period, a sort direction) and
  the next page of a paged list: the URL must follow, with no error;
* saves screenshots at 1920×1080 and 1366×768 in tests/artifacts/walk/, and
  checks at 1366×768 that the page does not overflow sideways.

The roles are walked by tests/test_browser_walk_*.py (two files, so that two
workers walk at once). A kiosk's pages are walked in tests/test_browser_kiosk.py.
"""

from __future__ import annotations

from contextlib import contextmanager
from urllib.parse import parse_qs, quote, urljoin, urlparse

from sqlalchemy import select

from data_access import schema
from data_access.seed.accounts import DEMO_PASSWORD, ensure_demo_accounts
from data_access.store import make_engine
from tests import browser, demo

LIANHUA = "210302001"  # 莲花街道 of 铁东区: inside every role's territory
ROLES = ("demo", "tiedong", "lianhua", "admin")
STAFF_PAGES = ("/", "/region", "/compare", "/rankings", "/snapshots", "/present", "/alerts",
               "/cases?figure=overdue_open&period=all", "/case")
SIZES = ((1920, 1080), (1366, 768))


HOME = {"demo": "2103", "admin": "2103", "tiedong": "210302", "lianhua": LIANHUA}  # the code every region starts with


@contextmanager
def walk_server(tmp_path_factory, artifacts_dir, name: str):
    """The demo city served for a walk: yields (url, an appeal of 莲花街道 every role may open)."""
    browser.require_chromium()
    env = demo.build(tmp_path_factory.mktemp(f"browser_walk_{name}"), appeals=8000, months=2)
    engine = make_engine(env["APPEALS_DB_URL"])
    ensure_demo_accounts(engine)
    with engine.connect() as conn:
        case_id = conn.execute(select(schema.appeals.c.appeal_id)
                               .where(schema.appeals.c.grid_code.like(f"{LIANHUA}%"))
                               .order_by(schema.appeals.c.appeal_id).limit(1)).scalar_one()
    engine.dispose()
    # the big screen's refresh redraws its links with a new as-of time: not while the walk is clicking them
    # (the refresh itself is tested in test_browser.py)
    env["APPEALS_REFRESH_SECONDS"] = "3600"
    with browser.streamlit_server(env, artifacts_dir / f"streamlit-server-walk-{name}.log") as url:
        yield url, case_id



def _settle(page, pause_ms: int = 1200) -> None:
    """Wait until the page's script has run and its content is drawn."""
    page.wait_for_function(  # drawn: the main area holds text (a fresh page is empty until its script runs)
        '() => (document.querySelector(\'[data-testid="stMain"]\')?.innerText || "").trim().length > 20',
        timeout=60_000)
    browser.settle(page, pause_ms)


def _no_error(page, where: str) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0, where
    refused = page.locator('[data-testid="stMain"] [data-testid="stAlertContentError"]').all_inner_texts()
    assert not refused, f"{where}: {refused}"  # a link a role is shown must not lead to a refusal
    main = page.locator('[data-testid="stMain"]').inner_text()
    assert "页面出错" not in main and "Traceback" not in main, where
    assert len(main.strip()) > 20, f"{where}: the page shows nothing"


def _sign_in(context, url: str, account: str):
    page = context.new_page()
    page.goto(f"{url}/")
    browser.sign_in(page, account, DEMO_PASSWORD)
    _settle(page)
    return page


def _links(page, base: str) -> dict[str, tuple[str, str]]:
    """Kind → (href as written, absolute URL): one link of every kind in the page's content; kind = path +
    query keys (a link's values, such as the data's as-of time, change from one run to the next)."""
    hrefs = page.eval_on_selector_all(
        '[data-testid="stMain"] a[href]',
        "els => els.filter(e => !e.hasAttribute('download') && e.offsetParent !== null)"
        ".map(e => e.getAttribute('href'))")
    chosen: dict[str, tuple[str, str]] = {}
    for href in hrefs:
        absolute = urljoin(page.url, href)
        if not absolute.startswith(base) or absolute == page.url:
            continue  # outside links are not the dashboard's; a link to this very view leads nowhere
        parsed = urlparse(absolute)
        kind = parsed.path + "?" + ",".join(sorted(parse_qs(parsed.query)))
        chosen.setdefault(kind, (href, absolute))
    return chosen


class _NotClicked(AssertionError):
    """The click did not happen (the link was being redrawn); it did not lead somewhere wrong."""


def _follow(context, page, href: str, absolute: str, where: str) -> None:
    """Click the link: one click, same tab, arrives at its address, no error; back leads back."""
    before = page.url
    opened = len(context.pages)
    target = page.locator(f'[data-testid="stMain"] a[href="{href}"]:visible').first
    try:
        target.scroll_into_view_if_needed(timeout=15_000)
        target.click(timeout=15_000)
    except Exception as exc:  # noqa: BLE001 - name the link that could not be clicked
        raise _NotClicked(f"{where}: cannot click {href}: {type(exc).__name__}") from exc
    page.wait_for_url(absolute, timeout=30_000)
    assert len(context.pages) == opened, f"{where}: {href} opened another tab"
    _settle(page, 300)
    _no_error(page, f"{where} → {href}")
    _sorted_as_asked(page, f"{where} → {href}")
    page.go_back()
    page.wait_for_url(before, timeout=30_000)
    _settle(page, 200)


def _number(text: str) -> float | None:
    text = text.strip().replace(",", "").rstrip("%")
    try:
        return float(text)
    except ValueError:
        return None


def _sorted_as_asked(page, where: str) -> None:
    """After a sorting header's link (``…_sort=列&…_sort_desc=1``): the table sorted by that parameter (the one
    whose headers carry it) shows that column in that order."""
    query = parse_qs(urlparse(page.url).query)
    for key, (column,) in ((k, v) for k, v in query.items() if k.endswith("_sort")):
        descending = query.get(f"{key}_desc", ["0"])[0] not in ("0", "")
        values = None
        for _ in range(20):  # the table may still be drawing
            values = page.evaluate("""([param, column]) => {
                for (const t of document.querySelectorAll('[data-testid="stMain"] table')) {
                  if (!t.querySelector(`thead a[href*="${param}="]`)) continue;
                  const heads = [...t.querySelectorAll('thead th')].map(h => h.innerText.replace(/[▲▼↑↓\\s]/g, ''));
                  const i = heads.indexOf(column.replace(/\\s/g, ''));
                  if (i >= 0) return [...t.querySelectorAll('tbody tr')].map(r => (r.children[i] || {}).innerText || '');
                }
                return null; }""", [key, column])
            if values is not None:
                break
            page.wait_for_timeout(500)
        assert values is not None, f"{where}: no table sorted by {key} has the column {column}"
        numbers = [n for n in map(_number, values) if n is not None]
        shown = numbers if len(numbers) == len(values) else [v.strip() for v in values]  # numbers, or names
        assert shown == sorted(shown, reverse=descending), f"{where}: {column} is not sorted: {shown[:10]}"


def _href(page, selector: str, text: str | None = None) -> str:
    link = page.locator(selector, has_text=text) if text else page.locator(selector)
    link.first.wait_for(state="attached", timeout=30_000)
    return urljoin(page.url, link.first.get_attribute("href"))


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}


def _destinations(page, page_kind: str, account: str, where: str) -> int:
    """The links people rely on lead where they say. Returns how many were checked."""
    home = HOME[account]
    checks = []
    if page_kind == "/":
        checks = [
            (_href(page, ".st-key-tile-today .tile-link a"),
             lambda u: u.path == "/cases" and u.q.get("figure") == "received" and u.q.get("period") == "today"),
            (_href(page, ".st-key-tile-overdue .tile-link a"),
             lambda u: u.path == "/cases" and u.q.get("figure") == "overdue_open"),
            (_href(page, 'table[data-table="ranking"] a', "明细"),
             lambda u: u.path == "/cases" and u.q.get("region", "").startswith(home)
             and len(u.q["region"]) > len(home)),
            (_href(page, 'table[data-table="newest-overdue"] a', "GD"),
             lambda u: u.path == "/case" and u.q.get("id", "").startswith("GD")),
            (_href(page, '[data-testid="stMain"] a', "超期与临期预警 · 督办 →"),
             lambda u: u.path == "/alerts" and u.q.get("period") == "all"),
        ]
    elif page_kind == "/region":
        here = _query(page.url).get("region")
        checks = [
            (_href(page, 'table[data-table="children-ranking"] a', "进入"),  # one level down, inside the territory
             lambda u: u.path == "/region" and u.q.get("region", "").startswith(home) and u.q["region"] != here),
            (_href(page, 'table[data-table="departments"] a', "明细"),
             lambda u: u.path == "/cases" and "department" in u.q),
        ]
    elif page_kind == "/alerts":
        row = page.locator('table[data-table="warnings"] tbody tr').first
        appeal = row.locator("td").nth(1).inner_text().strip()
        checks = [(urljoin(page.url, row.locator("a", has_text="查看").get_attribute("href")),
                   lambda u: u.path == "/case" and u.q.get("id") == appeal)]
    elif page_kind == "/cases":
        link = page.locator('table[data-table="cases"] tbody tr').first.locator("a").first
        appeal = link.inner_text().strip()
        checks = [(urljoin(page.url, link.get_attribute("href")),
                   lambda u: u.path == "/case" and u.q.get("id") == appeal)]
    elif page_kind == "/case":
        checks = [(_href(page, '[data-testid="stMain"] a', "返回工单列表"),
                   lambda u: u.path == "/cases" and u.q.get("figure") == "overdue_open")]
    for href, expected in checks:
        parsed = urlparse(href)
        assert expected(type("Link", (), {"path": parsed.path, "q": _query(href)})), f"{where}: {href}"
    return len(checks)


def _tabs(page, where: str) -> None:
    tabs = page.locator('[data-testid="stMain"] [role="tab"]')
    for i in range(tabs.count()):
        tabs.nth(i).click()
        page.wait_for_timeout(400)
        assert tabs.nth(i).get_attribute("aria-selected") == "true", f"{where}: tab {i}"
        _no_error(page, f"{where} tab {tabs.nth(i).inner_text()}")


def _pages_for(account: str, case_id: str) -> list[str]:
    # a case opened from a list, as people open it: its page leads back to that list
    back = quote("/cases?figure=overdue_open&period=all", safe="")
    pages = [p if p != "/case" else f"/case?id={case_id}&from={back}" for p in STAFF_PAGES]
    return pages + (["/audit"] if account == "admin" else [])


def _shot_name(account: str, path: str, size: tuple[int, int]) -> str:
    name = urlparse(path).path.strip("/") or "big_screen"
    return f"{account}_{name}_{size[0]}x{size[1]}.png"


def _every_link_stays_in_this_tab(page, base: str, where: str) -> int:
    """Every link of the page's content (not only one of each kind) opens in this tab, inside the dashboard."""
    found = page.eval_on_selector_all(
        '[data-testid="stMain"] a[href]',
        "els => els.filter(e => !e.hasAttribute('download')).map(e => [e.getAttribute('href'), e.target || ''])")
    for href, target in found:
        assert target in ("", "_self"), f"{where}: {href} opens in {target}"
        assert urljoin(page.url, href).startswith(base), f"{where}: {href} leads outside the dashboard"
    return len(found)


def _back(page, before: str) -> None:
    page.go_back()
    page.wait_for_url(before, timeout=30_000)
    _settle(page, 200)


def _arrived(context, page, before: str, opened: int, where: str) -> bool:
    """After a click: did the page go somewhere, in this tab, with no error?"""
    try:
        page.wait_for_url(lambda u: u != before, timeout=8_000)
    except Exception:  # noqa: BLE001 - the click hit nothing (a gap between bars, an edge of the map)
        return False
    assert len(context.pages) == opened, f"{where}: the click opened another tab"
    _settle(page, 300)
    _no_error(page, where)
    return True


_CHARTS_DRAWN = """() => [...document.querySelectorAll('[data-testid="stMain"] [data-testid="stPlotlyChart"]')]
    .every(c => c.querySelector('.js-plotly-plot g.trace'))"""


def _chart_targets(page) -> list[tuple[str, object]]:
    """(kind, locator) of what can be clicked in each chart: a trend's points, a bar chart's bars, a map."""
    try:  # plotly draws after the page's run: wait until every chart holds its traces
        page.wait_for_function(_CHARTS_DRAWN, timeout=20_000)
    except Exception:  # noqa: BLE001 - a chart without data has no trace; the charts drawn are still clicked
        pass
    found = []
    plots = page.locator('[data-testid="stMain"] .js-plotly-plot')
    for i in range(plots.count()):
        plot = plots.nth(i)
        points = plot.locator("g.trace.scatter path.point")
        bars = plot.locator("g.trace.bars g.point path")
        if points.count():
            found.append((f"chart {i} point", points))
        elif bars.count():
            found.append((f"chart {i} bar", bars))
    drill = page.locator('[data-testid="stMain"] [class*="st-key-drill-"] [data-testid="stDeckGlJsonChart"]')
    if drill.count():  # the drill-down map (the big screen's map is for looking at)
        found.append(("map", drill.first))
    return found


def _click_chart(context, page, kind: str, target, where: str) -> None:
    """Click an element of a chart as a person does (point at it, then click): it leads somewhere in this
    tab with no error, and back leads back."""
    before, opened = page.url, len(context.pages)
    if kind == "map":
        target.scroll_into_view_if_needed()
        page.wait_for_selector('[data-testid="stDeckGlJsonChart"] canvas', timeout=60_000)
        page.wait_for_timeout(1500)  # deck.gl draws after the canvas appears
        box = target.bounding_box()
        spots = [(0.5, 0.5), (0.45, 0.45), (0.55, 0.55), (0.4, 0.6), (0.6, 0.4), (0.5, 0.35), (0.35, 0.5)]
        candidates = [(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy) for fx, fy in spots]
    else:
        target.first.scroll_into_view_if_needed()
        n = target.count()
        picks = [n - 2, n - 4, n // 2, 0] if kind.endswith("point") else [0, 1, n // 2]  # recent days, big bars
        candidates = []
        for k in dict.fromkeys(max(0, min(n - 1, k)) for k in picks):
            b = target.nth(k).bounding_box()
            if b:
                candidates.append((b["x"] + b["width"] / 2, b["y"] + max(2, b["height"] / 2)))
    for x, y in candidates:
        page.mouse.move(x, y)
        page.wait_for_timeout(300)
        if kind != "map":
            try:
                page.wait_for_selector(".hoverlayer > *", state="attached", timeout=2_000)
            except Exception:  # noqa: BLE001 - plotly shows no label here: not on a point or bar, a click does nothing
                continue
        page.mouse.click(x, y)
        if _arrived(context, page, before, opened, f"{where} → {kind}"):
            _back(page, before)
            return
    raise AssertionError(f"{where}: no click on {kind} led anywhere")


def _click_buttons(page, where: str) -> list[str]:
    """Click the next page of a paged list, then an option of each button group: each changes the URL (the
    view is shareable) with no error. Returns the kinds clicked. Done last on a page: it changes the view."""
    kinds = []
    following = page.locator('[data-testid="stMain"] [data-testid="stPaginationNext"]')
    if following.count() and following.first.is_enabled():
        before = page.url
        following.first.click()
        page.wait_for_url(lambda u: u != before and "page=2" in u, timeout=30_000)
        _settle(page, 300)
        _no_error(page, f"{where} next page")
        kinds.append("next page")
    groups = page.locator('[data-testid="stMain"] [data-testid="stButtonGroup"]')
    for i in range(groups.count()):
        option = groups.nth(i).locator('button[aria-checked="false"]').last
        if not option.count():
            continue
        before, label = page.url, option.inner_text()
        option.scroll_into_view_if_needed()
        option.click()
        page.wait_for_url(lambda u: u != before, timeout=30_000)
        _settle(page, 300)
        _no_error(page, f"{where} button group {i}")
        assert groups.nth(i).locator('button[aria-checked="true"]').inner_text() == label, where
        kinds.append(f"button group {i}")
    return kinds




def walk_role(chrome, url: str, case_id: str, account: str, folder) -> dict:
    """Walk every page ``account`` may open (see the module's docstring). Returns what was done: the number of
    links seen and of destinations checked, and the (page, kind) of links, charts and buttons clicked."""
    done = {"links": 0, "destinations": 0, "pages": [], "clicked": set(), "charts": set(), "buttons": set()}
    clicked = done["clicked"]
    context = chrome.new_context(viewport={"width": SIZES[0][0], "height": SIZES[0][1]})
    context.set_default_navigation_timeout(60_000)
    try:
        page = _sign_in(context, url, account)
        for path in _pages_for(account, case_id):
            where = f"{account} {path}"
            page.goto(f"{url}{path}")
            _settle(page)
            _no_error(page, where)
            done["pages"].append(urlparse(path).path)
            _tabs(page, where)
            done["links"] += _every_link_stays_in_this_tab(page, url, where)
            page_kind = urlparse(path).path
            done["destinations"] += _destinations(page, page_kind, account, where)
            for kind in sorted(_links(page, url)):
                current = _links(page, url)  # as drawn now, after the last visit and back
                for _ in range(30):  # the page may still be drawing its lower sections
                    if kind in current:
                        break
                    page.wait_for_timeout(500)
                    current = _links(page, url)
                assert kind in current, f"{where}: the link {kind} is gone after going back"
                for attempt in range(3):  # a sync in between redraws the links with the new as-of time
                    href, absolute = _links(page, url).get(kind, current[kind])
                    if not page.locator(f'[data-testid="stMain"] a[href="{href}"]:visible').count():
                        page.wait_for_timeout(1000)
                        continue
                    try:
                        _follow(context, page, href, absolute, where)
                        break
                    except _NotClicked:
                        if attempt == 2:
                            raise
                        page.wait_for_timeout(1000)  # the link was being redrawn under the pointer: find it again
                else:
                    raise AssertionError(f"{where}: the link {kind} is not shown")
                clicked.add((page_kind, kind))
            for kind, target in _chart_targets(page):
                _click_chart(context, page, kind, target, where)
                clicked.add((page_kind, kind))
                done["charts"].add((page_kind, kind))
            if page.locator('[data-testid="stDeckGlJsonChart"]').count():  # a map: let deck.gl draw it
                page.wait_for_selector('[data-testid="stDeckGlJsonChart"] canvas', timeout=60_000)
                page.wait_for_timeout(2000)
            for width, height in SIZES:
                page.set_viewport_size({"width": width, "height": height})
                page.wait_for_timeout(500)
                page.screenshot(path=str(folder / _shot_name(account, path, (width, height))))
                if width < 1920:
                    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
                    assert overflow <= 1, f"{where} at {width}×{height} overflows sideways by {overflow} px"
            page.set_viewport_size({"width": SIZES[0][0], "height": SIZES[0][1]})
            done["buttons"].update((page_kind, k) for k in _click_buttons(page, where))
    finally:
        context.close()
    return done


def check_walk(done: dict, account: str) -> None:
    """What every role's walk must have done: a role that sees fewer things still sees these."""
    assert done["links"] >= 10, f"{account}: only {done['links']} links on all pages"
    assert done["destinations"] >= 10, f"{account}: only {done['destinations']} links checked for where they lead"
    kinds = {k for _, k in done["clicked"]}
    assert len(done["clicked"]) >= 12, sorted(done["clicked"])
    # the trend, category and channel charts of the big screen and of /region, and the drill-down map
    charts = done["charts"]
    assert sum(1 for p, _ in charts if p == "/") >= 3 and sum(1 for p, _ in charts if p == "/region") >= 4, charts
    assert "map" in kinds, charts
    # the period of the big screen and of /region
    assert {("/", "button group 0"), ("/region", "button group 0")} <= done["buttons"], done["buttons"]
