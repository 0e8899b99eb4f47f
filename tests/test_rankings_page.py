"""The 红黑榜 page (/rankings) through app.py's router (AppTest), on the tiny city of ``tests/rankings_fixture.py``
with its weights stored in the system of record (a minimum of 2 valid appeals): every figure on the page is
one computed by hand there. Also the cached wrappers' guards."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from data_access import access, auth, cached, ranking_weights
from data_access.scope import Scope
from data_access.store import make_engine
from tests import rankings_fixture as fx
from tests.conftest import ROOT, sign_in, ts
from tests.html_tables import html_tables

OCTOBER = {"period": "custom", "from": "2026-10-01", "to": "2026-10-31", "as_of": "2026-11-01T00:00"}


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    env = fx.database(tmp_path_factory.mktemp("rankings_page"))
    engine = make_engine(env["APPEALS_DB_URL"])
    ranking_weights.save(engine, ranking_weights.checked(0.3, 0.4, 0.3, 2), actor="cli", now=ts("2026-11-01 08:00"))
    engine.dispose()
    return env


@pytest.fixture
def page(city, monkeypatch):
    for name, value in city.items():
        monkeypatch.setenv(name, value)

    def run(as_role: str | None = "city", as_region: str | None = None, path: str = "pages/rankings.py",
            **params) -> AppTest:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        if as_role is not None:
            sign_in(at, as_role, as_region)
        at.switch_page(path)
        for k, v in params.items():
            at.query_params[k] = v
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    return run


def _html(at) -> str:
    return " ".join(h.value for h in at.get("html"))


def _rows(at, name: str) -> list[list[str]]:
    """A table's rows as the cells read (links as their URL)."""
    return html_tables(at, text=True)[name].values.tolist()


def test_the_street_boards_and_tables_show_the_figures_computed_by_hand(page):
    at = page(**OCTOBER)
    assert not at.error and not at.warning, ([e.value for e in at.error], [w.value for w in at.warning])
    text = _html(at)
    assert "红黑榜<small> · 全域 · 街道 · 2026-10-01 至 2026-10-31 · 截至 2026-11-01 00:00" in text
    # 红榜: the two 新华街道 tie at 1st, told apart by their districts; the one without a rated appeal has no 满意率
    red = [row[:9] for row in _rows(at, "red-board")]
    assert red == [["1", "新华街道", "东区", "2", "100.0%", "100.0%", "100.0%", "100.0", "↑1"],
                   ["1", "新华街道", "西区", "2", "100.0%", "100.0%", "—", "100.0", "—"]]
    assert [row[:9] for row in _rows(at, "black-board")] == [
        ["3", "东街道", "东区", "4", "66.7%", "33.3%", "50.0%", "48.3", "↓2"]]
    assert html_tables(at)["red-board"].columns.tolist() == [
        "名次", "街道", "所属区县", "受理", "办结率", "按时办结率", "满意率", "综合得分", "环比", "工单"]
    # the arrows' colours: up is better (green), down is worse (red)
    assert '<span class="better">↑1</span>' in text and '<span class="worse">↓2</span>' in text
    league = {row[1] + row[2]: row for row in _rows(at, "league")}
    assert [league["新华街道东区"][i] for i in (0, 8, 9, 10)] == ["1", "↑1", "2", "+35.0"]
    assert [league["东街道东区"][i] for i in (0, 8, 9, 10)] == ["3", "↓2", "1", "-51.7"]
    assert [league["新华街道西区"][i] for i in (0, 8, 9, 10)] == ["1", "—", "—", "—"]
    apart = _rows(at, "unranked")
    assert [row[:9] for row in apart] == [["西街道", "西区", "1", "1", "100.0%", "100.0%", "—", "100.0",
                                           "有效受理少于 2 件"]]


def test_the_page_states_the_weights_the_rule_and_the_previous_period(page):
    text = _html(page(**OCTOBER))
    assert "办结率 × 30.0% + 按时办结率 × 40.0% + 满意率 × 30.0%" in text
    assert "系统设置（2026-11-01 08:00 由命令行修改）" in text
    assert "有效受理（不含撤销）少于 2 件的单位不参与排名" in text
    assert "与上期 2026-09-01 至 2026-09-30（截至 2026-10-01 00:00）的名次相比" in text
    assert '<div class="board red">红榜' in text and '<div class="board black">黑榜' in text


def test_a_rows_link_opens_the_appeals_behind_it_in_the_same_tab(page):
    at = page(**OCTOBER)
    assert re.search(r'<a href="/cases\?[^"]*region=101001[^"]*" target="_self">明细</a>', _html(at))
    link = next(row[-1] for row in _rows(at, "black-board") if row[1] == "东街道")
    params = dict(parse_qsl(urlsplit(link).query))
    assert urlsplit(link).path == "/cases"
    assert params == {"figure": "received", "region": "101001", "period": "custom", "from": "2026-10-01",
                      "to": "2026-10-31", "as_of": "2026-11-01T00:00:00"}
    listed = page(path="pages/cases.py", **params)
    assert re.search(r'共 <span class="n">4</span> 件', _html(listed))  # 东街道's 受理 on the board


def test_departments_name_their_district_and_link_their_appeals(page):
    at = page(unit="department", **OCTOBER)
    assert "承办单位 · 2026-10-01" in _html(at)
    assert [row[:9] for row in _rows(at, "red-board")] == [
        ["1", "西区城市管理局", "西区", "2", "100.0%", "100.0%", "—", "100.0", "—"]]
    assert [row[:9] for row in _rows(at, "black-board")] == [
        ["3", "东街道办事处", "东区", "2", "100.0%", "50.0%", "50.0%", "65.0", "↓2"]]
    league = {row[1]: row for row in _rows(at, "league")}
    assert [league["东区城市管理局"][i] for i in (0, 2, 7, 8, 10)] == ["2", "东区", "76.7", "持平", "+11.7"]
    assert [row[:2] for row in _rows(at, "unranked")] == [["测试市供暖办", "测试市"]]
    link = dict(parse_qsl(urlsplit(league["东区城市管理局"][-1]).query))
    assert link["department"] == "101-CG" and "region" not in link
    listed = page(path="pages/cases.py", **link)
    assert re.search(r'共 <span class="n">4</span> 件', _html(listed))


def test_the_unit_picker_writes_the_url(page):
    at = page(**OCTOBER)
    at.segmented_control(key="rank_unit").set_value("department").run()
    assert at.query_params["unit"] in ("department", ["department"])
    assert [row[1] for row in _rows(at, "red-board")] == ["西区城市管理局"]


def test_the_places_picker_writes_the_url(page):
    at = page(**OCTOBER)
    at.number_input(key="rank_n").set_value(1).run()
    assert at.query_params["n"] in ("1", ["1"])
    assert not at.warning and _rows(at, "red-board")


def test_a_period_without_a_previous_one_shows_no_movement(page):
    at = page(period="all", as_of="2026-11-01T00:00")
    assert "所选时间段没有可比的上期" in _html(at)
    league = _rows(at, "league")
    assert league and all(row[8] == "—" and row[9] == "—" and row[10] == "—" for row in league)


@pytest.mark.parametrize("params, message", [
    ({"unit": "grid"}, "未知的排名对象 “grid”，已改为街道"),
    ({"n": "0"}, "红黑榜名额 “0” 无效（应为 1 至 50 的整数），已改为 5"),
    ({"n": "many"}, "红黑榜名额 “many” 无效"),
])
def test_a_choice_that_makes_no_sense_says_so_and_uses_the_default(page, params, message):
    at = page(**OCTOBER, **params)
    assert any(message in w.value for w in at.warning), [w.value for w in at.warning]
    assert _rows(at, "red-board")


def test_a_street_account_ranks_its_own_street_only_and_nothing_outside(page):
    at = page("street", "101001", **OCTOBER)
    assert not at.error
    assert [row[1] for row in _rows(at, "league")] == ["东街道"]
    assert "参与排名的单位不足两个" in " ".join(i.value for i in at.info)
    outside = page("street", "101001", region="102", **OCTOBER)
    assert any("无权" in e.value for e in outside.error) and not html_tables(outside)


def test_a_kiosk_gets_the_refusal_and_no_data(page, city):
    engine = make_engine(city["APPEALS_DB_URL"])
    token = auth.create_kiosk_token(engine, "101", label="大厅一号屏")
    engine.dispose()
    at = page(None, kiosk=token, **OCTOBER)
    assert any("大屏令牌只能打开指挥大屏" in e.value for e in at.error), [e.value for e in at.error]
    assert not html_tables(at) and "红榜" not in _html(at)


# ------------------------------------------------------ cached wrappers ---

@pytest.fixture
def store(city, monkeypatch):
    for name, value in city.items():
        monkeypatch.setenv(name, value)
    st.cache_data.clear()
    st.cache_resource.clear()
    yield cached.refresh(force=True)
    st.cache_data.clear()
    st.cache_resource.clear()


def _as(grant: access.Grant):
    return cached._ACTING.set(cached._Acting(None, grant, None))


def test_the_cached_league_uses_the_weights_read_from_the_system_of_record(store):
    token = _as(access.Grant(region_code=None))
    try:
        key = cached.token(store)
        weights = cached.ranking_weights(key)
        assert (weights.min_appeals, weights.changed_by) == (2, "cli")
        table = cached.league(key, Scope.whole(), fx.OCTOBER, fx.AS_OF, "street", weights)
        assert table["rank"].tolist() == [1, 1, 3, None]
        assert table.attrs["previous"] == (fx.SEPTEMBER, fx.SEPTEMBER_AS_OF)  # kept through the cache
    finally:
        cached._ACTING.reset(token)


@pytest.mark.parametrize("grant, scope", [
    (access.Grant(region_code="101", screen_only=True), Scope("101", "district")),  # a wall screen
    (access.Grant(region_code="101001"), Scope("102", "district")),  # a street account, another district
    (access.Grant(region_code="101001"), Scope.whole()),
])
def test_the_cached_league_is_guarded(store, grant, scope):
    token = _as(grant)
    try:
        with pytest.raises(access.NoAccess):
            cached.league(cached.token(store), scope, fx.OCTOBER, fx.AS_OF, "street", ranking_weights.DEFAULTS)
    finally:
        cached._ACTING.reset(token)


def test_a_wall_screen_cannot_read_the_weights_either(store):
    token = _as(access.Grant(region_code="101", screen_only=True))
    try:
        with pytest.raises(access.NoAccess):
            cached.ranking_weights(cached.token(store))
    finally:
        cached._ACTING.reset(token)


# ------------------------------------------------------ the demo city ---

def test_on_the_demo_city_every_listed_unit_is_told_apart(tmp_path_factory, monkeypatch):
    """The demo has departments (and streets) that share a name across districts, and committees that share one
    within a district: on the city's 红黑榜, a unit's name as shown with its district names one unit."""
    from collections import Counter

    from tests import demo

    env = demo.build(tmp_path_factory.mktemp("rankings_demo"), appeals=6000, months=2)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for unit, column in (("department", "承办单位"), ("street", "街道")):
        at = sign_in(AppTest.from_file(str(ROOT / "app.py"), default_timeout=120))
        at.switch_page("pages/rankings.py")
        at.query_params.update(period="all", unit=unit)
        at.run()
        assert not at.exception and not at.error
        tables = html_tables(at, text=True)
        assert {"red-board", "black-board", "league"} <= set(tables)
        shown: dict[tuple, set] = {}
        raw: Counter = Counter()
        for table in ("league", "unranked"):
            for _, row in tables.get(table, pd.DataFrame(columns=[column, "所属区县", "工单"])).iterrows():
                query = dict(parse_qsl(urlsplit(row["工单"]).query))
                code = query.get("department") or query.get("region")
                shown.setdefault((row[column], row["所属区县"]), set()).add(code)
                raw[row[column].split("（")[0]] += 1
        assert all(len(codes) == 1 for codes in shown.values()), {k: v for k, v in shown.items() if len(v) > 1}
        assert max(raw.values()) > 1, f"no shared {column} name in the demo: the test would mean nothing"


# ------------------------------------------------------------ the cells ---

def test_movement_and_score_change_cells():
    from ui import rankings as ui

    assert ui.movement(2) == ui.tables.Marked("↑2", "better", 2)
    assert ui.movement(-3) == ui.tables.Marked("↓3", "worse", -3)
    assert ui.movement(0).text == "持平" and ui.movement(None).text == "—" and ui.movement(float("nan")).text == "—"
    assert ui.score_change(0.9, 0.8).text == "+10.0" and ui.score_change(0.8, 0.9).css == "worse"
    assert ui.score_change(0.90004, 0.89996).text == "持平"  # both read 90.0
    assert ui.score_change(0.9, float("nan")).text == "—"


def test_a_marked_column_sorts_by_its_key_with_the_unknown_last():
    from ui import tables

    df = pd.DataFrame({"单位": list("abcd"), "环比": [tables.Marked("↓3", "worse", -3), tables.Marked("—", "none"),
                                                   tables.Marked("↑2", "better", 2), tables.Marked("持平", "same", 0)]})
    html = tables.table_html(df, name="t", sort="s", query={"s": "环比", "s_desc": "1"})
    assert re.findall(r"<td>([a-d])</td>", html) == ["c", "d", "a", "b"]
    assert '<span class="better">↑2</span>' in html and '<span class="worse">↓3</span>' in html
