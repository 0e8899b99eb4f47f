"""The meeting snapshots page (/snapshots) through app.py's router (AppTest), on a seeded demo city:
freezing from the form, the list each account may see, opening a snapshot with its real figures and
links, and deleting (the creator or an administrator only)."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from data_access import analytics, compare, queries, schema, snapshots, sync
from data_access.clock import local_now
from data_access.scope import Period, Scope
from data_access.sor_views import ensure_views
from data_access.store import create_schema, make_engine
from tests import demo
from tests.conftest import CITY_TZ, sign_in
from tests.html_tables import html_tables
from tests.test_signin import router
from ui import format as fmt

DISTRICT, STREET, OTHER_STREET = "210302", "210302001", "210303001"


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    end = local_now(CITY_TZ).replace(second=0, microsecond=0)
    folder = tmp_path_factory.mktemp("snapshots_page")
    env = demo.build(folder, appeals=15_000, months=14, end=end)
    engine = make_engine(env["APPEALS_DB_URL"])
    create_schema(engine)
    ensure_views(engine)
    first = (end.replace(day=1) - dt.timedelta(days=1)).replace(day=1)  # last month: a monthly review
    last = end.replace(day=1).date() - dt.timedelta(days=1)
    yield {"env": env, "engine": engine, "folder": folder, "first": first.date(), "last": last,
           "text": f"{first:%Y-%m}", "month": first.month}
    engine.dispose()


@pytest.fixture
def page(city, monkeypatch):
    for name, value in city["env"].items():
        monkeypatch.setenv(name, value)

    def run(role: str = "district", region: str | None = DISTRICT, name: str = "tiedong", at=None,
            target: str = "snapshots", **params):
        if at is None:
            at = sign_in(router(target), role, region, name=name)
            for k, v in params.items():
                at.query_params[k] = v
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        assert not [e.value for e in at.error if "页面出错" in e.value], [e.value for e in at.error]
        return at

    return run


def _html(at) -> str:
    return "\n".join(h.value for h in at.get("html"))


def _freeze_aside(city, code: str, level: str, created_by: str, name: str):
    """A snapshot frozen outside the page (a copy of its own), as the command line would."""
    path = city["folder"] / f"aside-{code}-{created_by}.duckdb"
    con = analytics.open_store(str(path))
    try:
        sync.sync(city["engine"], con, timezone=CITY_TZ)
        period = Period.calendar(city["text"])
        as_of = dt.datetime.combine(city["last"] + dt.timedelta(days=1), dt.time())
        return snapshots.freeze(city["engine"], con, Scope(code, level), period, as_of, name=name,
                                created_by=created_by)
    finally:
        con.close()


def test_freezing_from_the_form_opens_the_snapshot_with_its_real_figures(page, city):
    at = page(region=DISTRICT, period="custom", **{"from": city["first"].isoformat(), "to": city["last"].isoformat()})
    inputs = {t.label: t.value for t in at.text_input}
    assert inputs["快照名称"] == f"{city['month']}月讲评 · 铁东区"
    assert inputs["统计周期"] == city["text"]
    moment = dt.datetime.fromisoformat(inputs["截至（时点）"])
    next(b for b in at.button if b.label == "冻结").click()
    at = page(at=at)
    ident = at.query_params["id"]
    ident = int(ident[-1] if isinstance(ident, list) else ident)

    # the system of record holds it, as the person's, with its audit row
    found = snapshots.load(city["engine"], ident)
    assert (found.info.name, found.info.created_by, found.info.scope_code, found.info.period_text, found.info.as_of) \
        == (f"{city['month']}月讲评 · 铁东区", "tiedong", DISTRICT, city["text"], moment)
    a = schema.audit_log
    with city["engine"].connect() as conn:
        audit = conn.execute(select(a.c.actor, a.c.region_code).where(a.c.action == "snapshot_freeze",
                                                                      a.c.target == str(ident))).all()
    assert audit == [("tiedong", DISTRICT)]

    # the page shows it: the banner, and tiles equal to the query layer's figures read from the system of
    # record itself at the snapshot's moment (another path than the analytics copy the page froze from)
    banner = _html(at)
    assert (f"冻结快照 · {city['month']}月讲评 · 铁东区 · 截至 {moment:%Y-%m-%d %H:%M:%S} · 冻结于 "
            f"{found.info.created_at:%Y-%m-%d %H:%M:%S}") in banner
    period = Period.calendar(city["text"])
    with city["engine"].connect() as conn:
        kpis = queries.kpis(conn, Scope(DISTRICT, "district"), period, moment)
        streets = queries.children(conn, Scope(DISTRICT, "district"), period, moment, "street")
        previous, previous_at = compare.previous_period(period, moment)
        earlier = queries.kpis(conn, Scope(DISTRICT, "district"), previous, previous_at)
    tiles = {m.label: m for m in at.metric}
    assert int(kpis["received"]) > 0
    assert tiles["受理量"].value == f"{int(kpis['received']):,}"
    assert tiles["办结率"].value == fmt.rate(kpis["completion_rate"])
    assert tiles["超期（本期受理）"].value == f"{int(kpis['overdue_open']):,}"
    change = int(kpis["received"]) - int(earlier["received"])  # 环比: the month before, judged as far from its end
    assert tiles["受理量"].proto.delta == ("持平" if change == 0 else f"{change:+,}")
    assert tiles["受理量"].proto.delta_description == "环比"
    # the units below, each with its count
    table = html_tables(at)["snapshot-children"]
    assert dict(zip(table["名称"], table["受理"])) == {n: int(v) for n, v in
                                                    zip(streets["name"], streets["received"])}
    # every tile links to its list at the snapshot's moment and period
    notes = [h.value for h in at.get("html") if h.value.startswith('<div class="tile-note"') and ">明细<" in h.value]
    assert len(notes) == 7
    for note in notes:
        url = re.search(r'href="([^"]+)"', note).group(1).replace("&amp;", "&")
        query = parse_qs(urlsplit(url).query)
        assert urlsplit(url).path == "/cases"
        assert query["as_of"] == [moment.isoformat()] and query["region"] == [DISTRICT]
        assert (query["period"], query["from"], query["to"]) == (["custom"], [city["first"].isoformat()],
                                                                 [city["last"].isoformat()])
    assert len(at.get("plotly_chart")) == 3  # the trend, the categories, the channels
    assert any(f"/snapshots?id={ident}" in h.value for h in at.get("html"))  # the link that reproduces it
    assert any(f"/present?snapshot={ident}" in h.value for h in at.get("html"))  # and the one that presents it


def test_the_same_link_shows_the_same_figures_after_new_data(page, city, monkeypatch):
    """The snapshot's link reads what was stored: appeals received in its period afterwards (entered late)
    change the live count on /region at the same moment, not the snapshot's."""
    from tests.conftest import insert_appeals

    monkeypatch.setenv("APPEALS_SYNC_INTERVAL_SECONDS", "0")  # every page run syncs the copy first
    made = _freeze_aside(city, DISTRICT, "district", "tiedong", "回看测试")
    frozen = made.figures.headline("received")["value"]
    before = {m.label: m.value for m in page(id=str(made.info.id)).metric}
    grid = f"{STREET}001001"
    insert_appeals(city["engine"], [dict(appeal_id=f"LATE{i}", grid_code=grid,
                                         created_at=dt.datetime.combine(city["first"], dt.time(10, i)))
                                    for i in range(3)])
    after = {m.label: m.value for m in page(id=str(made.info.id)).metric}
    assert after == before and before["受理量"] == f"{frozen:,}"
    live = page(target="region", region=DISTRICT, period="custom", as_of=made.info.as_of.isoformat(),
                **{"from": city["first"].isoformat(), "to": city["last"].isoformat()})
    assert {m.label: m.value for m in live.metric}["受理量"] == f"{frozen + 3:,}"


def test_each_account_lists_and_opens_only_its_regions_snapshots(page, city):
    district = _freeze_aside(city, DISTRICT, "district", "tiedong", "铁东区的快照")
    other = _freeze_aside(city, OTHER_STREET, "street", "someone", "别处街道的快照")
    names = lambda at: set(html_tables(at)["snapshots"]["名称"]) if "snapshots" in html_tables(at) else set()  # noqa

    assert {"铁东区的快照"} <= names(page("city", None, "demo"))
    assert "别处街道的快照" in names(page("city", None, "demo"))
    seen = names(page())  # the district account: its district and streets only
    assert "铁东区的快照" in seen and "别处街道的快照" not in seen
    assert not ({"铁东区的快照", "别处街道的快照"} & names(page("street", STREET, "lianhua")))

    refused = page("street", STREET, "lianhua", id=str(district.info.id))
    assert any("无权访问" in e.value and "不在本辖区" in e.value for e in refused.error), [e.value for e in refused.error]
    assert not refused.metric and "冻结快照" not in _html(refused)
    # an id that does not exist says the same to a bounded account, and "不存在" to the whole territory
    assert any("不在本辖区" in e.value for e in page("street", STREET, "lianhua", id="999999").error)
    assert any("不存在" in e.value for e in page("city", None, "demo", id="999999").error)
    assert any("无效" in e.value for e in page("city", None, "demo", id="x1").error)
    assert other.info.id  # frozen, listed for the city only


def test_only_the_creator_or_an_admin_may_delete(page, city):
    made = _freeze_aside(city, DISTRICT, "district", "tiedong", "待删除的快照")
    ident = made.info.id
    # a city account sees it but may not delete it
    city_view = page("city", None, "demo")
    assert "待删除的快照" in set(html_tables(city_view)["snapshots"]["名称"])
    assert not [s for s in city_view.selectbox if s.key == "snapshot_delete_pick"]
    assert any("只有快照的创建人或管理员可以删除快照" in c.value for c in city_view.caption)
    with pytest.raises(snapshots.SnapshotRefused):
        snapshots.delete(city["engine"], ident, account="demo", role="city")
    # an administrator is offered it
    admin = page("admin", None, "root")
    assert [s for s in admin.selectbox if s.key == "snapshot_delete_pick"]
    # its creator deletes it from the page
    at = page()
    at.selectbox(key="snapshot_delete_pick").set_value(ident)
    at = page(at=at)
    next(b for b in at.button if b.key == "snapshot_delete").click()
    at = page(at=at)
    assert any("已删除快照“待删除的快照”" in s.value for s in at.success), [s.value for s in at.success]
    assert "待删除的快照" not in set(html_tables(at).get("snapshots", {"名称": []})["名称"])
    with pytest.raises(snapshots.SnapshotNotFound):
        snapshots.load(city["engine"], ident)
    a = schema.audit_log
    with city["engine"].connect() as conn:
        assert conn.execute(select(a.c.actor).where(a.c.action == "snapshot_delete", a.c.target == str(ident))) \
            .scalars().all() == ["tiedong"]


def test_the_region_page_offers_to_freeze_its_view(page, city):
    at = page(target="region", region=DISTRICT, period="7d")
    link = re.search(r'<div class="freeze-link"><a href="([^"]+)"', _html(at))
    assert link and link.group(1).replace("&amp;", "&") == f"/snapshots?region={DISTRICT}&period=7d"
    shown = re.search(r'<a href="([^"]+)" target="_self" title="以幻灯片放映[^"]*">演示 ›</a>', _html(at))
    assert shown and shown.group(1).replace("&amp;", "&") == f"/present?region={DISTRICT}&period=7d"
    # an open period cannot be frozen: the form offers last month instead, and says so
    at = page(region=DISTRICT, period="all")
    assert {t.label: t.value for t in at.text_input}["统计周期"] == city["text"]
    assert any("已改为上月" in c.value for c in at.caption)
