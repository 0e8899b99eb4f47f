"""Presentation mode (/present) through app.py's router (AppTest), on a seeded demo city: live and from a
snapshot, with the figures checked against the query layer read from the system of record itself, the
links of the figures, the theme, and the meeting pack made from the page."""

from __future__ import annotations

import datetime as dt
import html as htmllib
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from data_access import analytics, queries, snapshots, sync
from data_access.clock import local_now
from data_access.scope import Period, Scope
from data_access.sor_views import ensure_views
from data_access.store import create_schema, make_engine
from tests import demo
from tests.conftest import CITY_TZ, sign_in
from tests.test_signin import router
from ui import format as fmt

DISTRICT = "210302"


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    end = local_now(CITY_TZ).replace(second=0, microsecond=0)
    folder = tmp_path_factory.mktemp("present_page")
    env = demo.build(folder, appeals=8_000, months=3, end=end)
    engine = make_engine(env["APPEALS_DB_URL"])
    create_schema(engine)
    ensure_views(engine)
    first = (end.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    last = end.replace(day=1).date() - dt.timedelta(days=1)
    as_of = dt.datetime.combine(last + dt.timedelta(days=1), dt.time())
    yield {"env": env, "engine": engine, "folder": folder, "first": first.date(), "last": last,
           "text": f"{first:%Y-%m}", "as_of": as_of}
    engine.dispose()


@pytest.fixture
def page(city, monkeypatch):
    for name, value in city["env"].items():
        monkeypatch.setenv(name, value)

    def run(at=None, **params):
        if at is None:
            at = sign_in(router("present"), "district", DISTRICT, name="tiedong")
            for k, v in params.items():
                at.query_params[k] = v
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        assert not [e.value for e in at.error if "页面出错" in e.value], [e.value for e in at.error]
        return at

    return run


def _deck(at) -> str:
    found = [h.value for h in at.get("html") if 'id="present-stage"' in h.value]
    assert len(found) == 1
    return found[0]


def _slides(doc: str) -> list[tuple[str, str]]:
    """(kind, HTML) of every slide."""
    return re.findall(r'<section class="slide kind-(\w+)"[^>]*>(.*?)</section>', doc, flags=re.S)


def _figure(slide: str, label: str) -> tuple[str, str | None]:
    """The value written for ``label`` on a slide, and its link."""
    m = re.search(r'<span class="fig-label">' + re.escape(label) + r'</span>(?:<a class="fig-value" href="([^"]*)"[^>]*>'
                  r'([^<]*)</a>|<span class="fig-value">([^<]*)</span>)', slide)
    assert m, label
    return (m.group(2) if m.group(2) is not None else m.group(3)), (None if m.group(1) is None
                                                                     else htmllib.unescape(m.group(1)))


def _kpis(city, code=DISTRICT, level="district"):
    with city["engine"].connect() as conn:
        return queries.kpis(conn, Scope(code, level), Period.calendar(city["text"]), city["as_of"])


def test_live_slides_show_the_figures_with_links_at_the_as_of(page, city):
    at = page(region=DISTRICT, period="custom", **{"from": city["first"].isoformat(), "to": city["last"].isoformat(),
                                                   "as_of": city["as_of"].isoformat()})
    doc = _deck(at)
    slides = _slides(doc)
    kinds = [k for k, _ in slides]
    assert kinds[:2] == ["cover", "headline"] and kinds[-2:] == ["hotspots", "overdue"]
    assert kinds.count("rankings") == 2
    with city["engine"].connect() as conn:
        streets = queries.children(conn, Scope(DISTRICT, "district"), Period.calendar(city["text"]), city["as_of"],
                                   "street")
    assert kinds.count("unit") == len(streets) > 1
    assert f'<div class="present-counter">1 / {len(slides)}</div>' in doc
    assert "present-deck dark" in doc  # the default theme
    kpis = _kpis(city)
    head = dict(slides)["headline"]
    assert int(kpis["received"]) > 0
    assert _figure(head, "受理量")[0] == fmt.count(kpis["received"])
    assert _figure(head, "办结率")[0] == fmt.rate(kpis["completion_rate"])
    assert _figure(head, "按时办结率")[0] == fmt.rate(kpis["on_time_rate"])
    assert _figure(head, "满意率")[0] == fmt.rate(kpis["satisfaction_rate"])
    assert _figure(head, "超期（本期受理）")[0] == fmt.count(kpis["overdue_open"])
    # the headline's figures link to their lists on /cases, at the as-of time and the period shown
    url = _figure(head, "办结率")[1]
    query = parse_qs(urlsplit(url).query)
    assert urlsplit(url).path == "/cases"
    assert query["figure"] == ["completion_rate"] and query["region"] == [DISTRICT]
    assert query["as_of"] == [city["as_of"].isoformat()]
    assert (query["from"], query["to"]) == ([city["first"].isoformat()], [city["last"].isoformat()])
    # each street's slide: its own figures, linked to its own list
    biggest = streets.sort_values(["received", "code"], ascending=[False, True]).iloc[0]
    unit = [html for kind, html in slides if kind == "unit"][0]
    assert f"<h1>{biggest['name']}</h1>" in unit
    value, url = _figure(unit, "受理量")
    assert value == fmt.count(biggest["received"])
    assert parse_qs(urlsplit(url).query)["region"] == [biggest["code"]]
    assert unit.count("data:image/png;base64,") == 2  # its map and its trend
    # its top categories, each count linked to that category's appeals in the street
    cats = re.search(r"<h3>主要诉求类别</h3>(.*?)</table>", unit, flags=re.S).group(1)
    url = htmllib.unescape(re.findall(r'href="([^"]+)"', cats)[0])
    assert parse_qs(urlsplit(url).query)["region"] == [biggest["code"]] and "category" in parse_qs(urlsplit(url).query)
    # the speaker notes carry the definitions
    assert "办结率：已办结 ÷ （受理 − 撤销）" in head


def test_without_a_period_the_previous_month_is_shown(page, city):
    at = page(region=DISTRICT, as_of=city["as_of"].isoformat())
    doc = _deck(at)
    head = dict(_slides(doc))["headline"]
    assert _figure(head, "受理量")[0] == fmt.count(_kpis(city)["received"])


def test_a_snapshot_is_shown_as_frozen_in_the_light_theme(page, city):
    path = city["folder"] / "aside.duckdb"
    con = analytics.open_store(str(path))
    try:
        sync.sync(city["engine"], con, timezone=CITY_TZ)
        made = snapshots.freeze(city["engine"], con, Scope(DISTRICT, "district"), Period.calendar(city["text"]),
                                city["as_of"], name="讲评 · 铁东区", created_by="tiedong")
    finally:
        con.close()
    at = page(snapshot=str(made.info.id), theme="light")
    doc = _deck(at)
    assert "present-deck light" in doc
    slides = dict(_slides(doc))
    assert "<h1>讲评 · 铁东区</h1>" in slides["cover"]
    frozen = made.figures.headline("received")["value"]
    assert _figure(slides["headline"], "受理量")[0] == fmt.count(frozen) == fmt.count(_kpis(city)["received"])
    assert any("冻结快照 · 讲评 · 铁东区" in h.value for h in at.get("html"))
    # another district's snapshot is refused to this account, as on /snapshots
    con = analytics.open_store(str(city["folder"] / "aside2.duckdb"))
    try:
        sync.sync(city["engine"], con, timezone=CITY_TZ)
        other = snapshots.freeze(city["engine"], con, Scope("210303", "district"), Period.calendar(city["text"]),
                                 city["as_of"], name="别区", created_by="admin")
    finally:
        con.close()
    at = page(snapshot=str(other.info.id))
    assert not [h for h in at.get("html") if 'id="present-stage"' in h.value]
    assert any("不存在，或不在本辖区" in e.value for e in at.error)


def test_the_pack_is_made_on_the_click_and_offered_as_three_downloads(page, city):
    at = page(region=DISTRICT, period="custom", **{"from": city["first"].isoformat(), "to": city["last"].isoformat(),
                                                   "as_of": city["as_of"].isoformat()})
    assert not at.get("download_button")
    next(b for b in at.button if b.label == "制作会议材料").click()
    at = page(at=at)
    labels = sorted(b.proto.label for b in at.get("download_button"))
    assert labels == sorted(["下载 PPTX", "下载 PDF", "下载附表 Excel"])
