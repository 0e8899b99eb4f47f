"""Periods, moments and comparisons on the pages, through AppTest, on the tiny hand-computed city of
tests/test_compare.py (one year earlier, so that its months lie before any test machine's clock):

* east district (101), October 2025: 5 appeals, 3 closed on 20 October; September 2025: 3, of which one
  closed only on 5 October (open when September is judged, on 1 October); west (102), October: 1 open;
* the data begin on 15 August 2025, so August, and every month of 2024, cannot be compared.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest
from streamlit.testing.v1 import AppTest

from data_access import cases, compare
from data_access.scope import Period, Scope
from tests.conftest import ROOT, insert_appeals, sign_in, synced_store
from tests.html_tables import html_tables
from tests.test_compare import months_rows

AS_OF = "2025-11-01T00:00:00"
LABEL = "统计周期 2025年10月 · 截至 2025-11-01 00:00"


def _year_before(row: dict) -> dict:
    return {k: compare.year_earlier(v) if isinstance(v, dt.datetime) else v for k, v in row.items()}


@pytest.fixture
def city(tiny_sor, tmp_path, monkeypatch):
    insert_appeals(tiny_sor, [_year_before(r) for r in months_rows()])
    monkeypatch.setenv("APPEALS_DB_URL", str(tiny_sor.url))
    monkeypatch.setenv("APPEALS_ANALYTICS_PATH", str(tmp_path / "analytics.duckdb"))
    return tiny_sor


def _open(page: str, **query) -> AppTest:
    at = sign_in(AppTest.from_file(str(ROOT / "app.py"), default_timeout=120))
    if page != "big_screen":
        at.switch_page(f"pages/{page}.py")
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def _html(at: AppTest) -> str:
    return " ".join(h.value for h in at.get("html"))


def _metrics(at: AppTest) -> dict:
    return {m.label: (m.value, m.proto.delta, m.proto.delta_description) for m in at.metric}


def _query(at: AppTest) -> dict:
    return {k: (v[-1] if isinstance(v, list) else v) for k, v in dict(at.query_params).items()}


def test_region_states_the_period_and_the_moment_and_shows_the_previous_period(city):
    at = _open("region", region="101", period="2025-10", as_of=AS_OF)
    assert LABEL in _html(at)
    tiles = _metrics(at)
    assert tiles["受理量"] == ("5", "+2", "环比")                  # 5 in October, 3 in September
    assert tiles["办结率"] == ("60.0%", "-6.7 个百分点", "环比")    # 3 of 5, against 2 of 3 on 1 October
    assert tiles["每万人诉求量"] == ("8.3", "+3.3", "环比")         # 5 and 3 per 6,000 residents
    assert tiles["超期（本期受理）"][2] == "环比"
    # October 2024 lies before the data: 同比 says so on every tile, never a change against 0
    notes = [h.value for h in at.get("html") if h.value.startswith('<div class="tile-note"')]
    assert len(notes) == 7 and all("同比 无可比数据" in n for n in notes), notes


def test_region_says_when_the_previous_period_cannot_be_compared(city):
    at = _open("region", region="101", period="2025-09", as_of="2025-10-01T00:00:00")
    assert "统计周期 2025年9月 · 截至 2025-10-01 00:00" in _html(at)
    tiles = _metrics(at)
    assert tiles["受理量"] == ("3", "无可比数据", "环比")  # August began before the first appeal
    assert all(delta == "无可比数据" for _, delta, _ in tiles.values())


def test_the_staff_big_screen_shows_the_label_and_the_previous_period(city):
    at = _open("big_screen", region="101", period="2025-10", as_of=AS_OF)
    assert f'<div class="period-label">{LABEL}</div>' in _html(at)
    tiles = _metrics(at)
    assert tiles["办结率 · 2025年10月"] == ("60.0%", "-6.7 个百分点", "环比")
    assert tiles["超期 · 全部在办"][1:] == ("", "")  # a stock of open appeals has no period before it
    # 本月 on 1 November at midnight: the month has just begun, the days before it are October's last day
    assert tiles["本月受理"][2] == "环比"


def test_the_warning_and_list_pages_state_the_period_and_the_moment(city):
    # the warning page's appeals are those received in the period, and it says so
    assert "统计周期（按受理时间） 2025年10月 · 截至 2025-11-01 00:00" in _html(
        _open("alerts", region="101", period="2025-10", as_of=AS_OF))
    listed = _open("cases", figure="received", region="101", period="2025-10", as_of=AS_OF)
    assert "受理 · 东区 · 2025年10月 · 截至 2025-11-01 00:00 · 共 <span class=\"n\">5</span>" in _html(listed)
    assert html_tables(listed)["cases"].shape[0] == 5


def test_the_picker_writes_the_url_and_the_label_follows(city):
    at = _open("region", region="101", period="30d", as_of=AS_OF)
    assert "统计周期 近30天 · 截至 2025-11-01 00:00" in _html(at)
    at.segmented_control(key="region_kind").set_value("month").run()
    # a kind opens at its last period complete at the moment: October on 1 November
    assert _query(at)["period"] == "2025-10" and LABEL in _html(at)
    assert _query(at)["as_of"] == AS_OF  # choosing a period never moves the moment
    at.selectbox(key="region_month").select("2025-09").run()
    assert _query(at)["period"] == "2025-09" and "统计周期 2025年9月 · 截至 2025-11-01 00:00" in _html(at)
    assert _metrics(at)["受理量"][0] == "3"
    at.segmented_control(key="region_kind").set_value("quarter").run()
    # the third quarter began before the first appeal (15 August): the quarter opens at the current one
    assert _query(at)["period"] == "2025-Q4" and "统计周期 2025年第4季度（未结束） · 截至 2025-11-01 00:00" in _html(at)
    at.segmented_control(key="region_preset").set_value("7d").run()
    assert _query(at)["period"] == "7d" and "统计周期 近7天 · 截至 2025-11-01 00:00" in _html(at)
    at.segmented_control(key="region_kind").set_value("custom").run()
    assert _query(at) | {"region": "101"} == {"region": "101", "period": "custom", "from": "2025-10-26",
                                              "to": "2025-11-01", "as_of": AS_OF}
    at.datetime_input(key="region_as_of").set_value(dt.datetime(2025, 10, 21, 8, 30)).run()
    assert _query(at)["as_of"] == "2025-10-21T08:30:00" and "截至 2025-10-21 08:30" in _html(at)
    at.segmented_control(key="region_as_of_mode").set_value("latest").run()
    assert "as_of" not in _query(at) and _query(at)["period"] == "custom"  # 最新: the data's time


@pytest.mark.parametrize("page, extra", [("region", {}), ("big_screen", {}), ("alerts", {}),
                                         ("cases", {"figure": "received"}), ("compare", {})])
def test_a_bad_period_is_a_clear_warning_on_every_page(city, page, extra):
    at = _open(page, period="2025-13", **extra)
    warned = " ".join(w.value for w in at.warning)
    assert "未知的时间范围 “2025-13”" in warned and "2026-W44（周）" in warned, warned


def _case_count(engine, url: str) -> int:
    """The length of the list behind a link, counted on the copy of the system of record."""
    q = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    as_of = dt.datetime.fromisoformat(q["as_of"])
    period = Period.calendar(q["period"])
    scope = Scope(q["region"], {3: "district", 6: "street"}[len(q["region"])])
    filters = {"category": q["category"]} if "category" in q else None
    con = synced_store(engine)
    try:
        return cases.case_count(con, scope, period, as_of, q["figure"], filters=filters)
    finally:
        con.close()


def test_compare_puts_two_periods_side_by_side_with_the_lists_behind_the_change(city):
    at = _open("compare", region="101", period="2025-10", as_of=AS_OF)
    shown = _html(at)
    assert "本期 2025年10月 · 截至 2025-11-01 00:00" in shown
    assert "对比期 2025年9月 · 截至 2025-10-01 00:00（上期，环比）" in shown
    tiles = _metrics(at)
    assert tiles["受理量"] == ("5", "+2", "较对比期") and tiles["办结率"] == ("60.0%", "-6.7 个百分点", "较对比期")
    tables = html_tables(at)
    by_category = tables["difference-category"]
    # the same change (+1) each: the more appeals now first
    assert by_category[["类别", "本期", "对比期", "变化"]].values.tolist() == [["城市管理", 3, 2, "+1"],
                                                                           ["供暖", 2, 1, "+1"]]
    by_street = tables["difference-street"]
    assert by_street[["街道", "本期", "对比期", "变化"]].values.tolist() == [["东街道", 5, 3, "+2"]]
    # each row links to its appeals of either period, judged at that period's moment: as many as it counts
    heating = by_category.iloc[1]
    before = parse_qs(urlsplit(heating["对比期工单"]).query)
    assert before["period"] == ["2025-09"] and before["as_of"] == ["2025-10-01T00:00:00"]
    assert _case_count(city, heating["对比期工单"]) == 1 and _case_count(city, heating["本期工单"]) == 2
    assert _case_count(city, by_street.iloc[0]["对比期工单"]) == 3


def test_compare_with_a_period_before_the_data_says_the_change_cannot_be_computed(city):
    at = _open("compare", region="101", period="2025-10", as_of=AS_OF, period_b="yoy")
    assert "对比期 2024年10月 · 截至 2024-11-01 00:00（去年同期，同比）" in _html(at)
    assert all(delta == "无可比数据" for _, delta, _ in _metrics(at).values())
    assert any("早于数据起点" in i.value for i in at.info)
    table = html_tables(at)["difference-category"]
    assert set(table["变化"]) == {"无可比数据"} and set(table["对比期"]) == {"—"}
    # a period of one's own: August 2025, whose first half lies before the first appeal
    at = _open("compare", region="101", period="2025-10", as_of=AS_OF, period_b="2025-08")
    assert "对比期 2025年8月 · 截至 2025-09-01 00:00" in _html(at)
    assert _metrics(at)["受理量"][1] == "无可比数据"


def test_compare_without_bounds_asks_for_a_period(city):
    at = _open("compare", region="101", period="all", as_of=AS_OF)
    assert any("无法与另一时段对比" in i.value for i in at.info)
