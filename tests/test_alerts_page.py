"""The warning page (/alerts) and supervision from it and from a case's detail, through AppTest.

The pages run on a seeded demo city through a router like app.py's. Expected
figures come from the system of record through its views (``sor_views``);
supervisions are checked in the system of record's own tables.
"""

from __future__ import annotations

import datetime as dt
import html
import re

import pandas as pd
import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from data_access import alerts, schema, supervision
from data_access.clock import local_now
from data_access.scope import Period, Scope
from data_access.sor_views import ensure_views
from data_access.store import make_engine
from tests import demo
from tests.conftest import CITY_TZ, ROOT, sign_in
from tests.html_tables import all_tables, html_tables

ROUTER = """
import streamlit as st
from ui import boot

st.set_page_config(page_title="诉求指挥中心", layout="wide")
pages = [st.Page(f"{{root}}/pages/{{name}}.py", url_path=name.replace("_", "-"), default=name == {first!r})
         for name in ("alerts", "case", "cases", "big_screen")]
boot.run_routed(st.navigation(pages, position="hidden").run)
"""


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    end = local_now(CITY_TZ).replace(second=0, microsecond=0)
    env = demo.build(tmp_path_factory.mktemp("alerts_page"), appeals=12_000, months=2, end=end)
    engine = make_engine(env["APPEALS_DB_URL"])
    ensure_views(engine)
    yield env, engine, end - dt.timedelta(hours=1)
    engine.dispose()


@pytest.fixture
def page(city, monkeypatch):
    env, _, _ = city
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    def make(which: str, **params) -> AppTest:
        script = ROUTER.format(first=which).replace("{root}", str(ROOT))
        at = sign_in(AppTest.from_string(script, default_timeout=120))
        for k, v in params.items():
            at.query_params[k] = v
        return at

    def run(which: str, **params) -> AppTest:
        at = make(which, **params).run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    run.make = make
    return run


def _html(at: AppTest) -> str:
    return " ".join(h.value for h in at.get("html"))


def _totals(at: AppTest) -> dict[str, int]:
    text = _html(at)
    red = re.search(r'超期（红灯） <span class="red">([\d,]+)</span>', text)
    yellow = re.search(r'临期（黄灯） <span class="yellow">([\d,]+)</span>', text)
    assert red and yellow, "the page states no totals"
    return {"red": int(red.group(1).replace(",", "")), "yellow": int(yellow.group(1).replace(",", ""))}


def _sor(engine, fn, *args, **kw):
    with engine.connect() as conn:
        return fn(conn, *args, **kw)


def _warning_table(at: AppTest) -> pd.DataFrame:
    return html_tables(at)["warnings"]


def test_the_page_lists_red_then_yellow_with_totals_from_the_system_of_record(page, city):
    _, engine, as_of = city
    at = page("alerts", as_of=as_of.isoformat())
    assert not at.error, [e.value for e in at.error]
    expected = _sor(engine, alerts.warning_totals, Scope.whole(), Period.all_time(), as_of)
    assert expected["red"] > 0 and expected["yellow"] > 0
    assert _totals(at) == expected
    table = _warning_table(at)
    assert len(table) == min(expected["red"] + expected["yellow"], 200)  # the first page
    assert (table["灯"] == "红").sum() == expected["red"] and (table["灯"] == "黄").sum() == expected["yellow"]
    # the latest first: the earliest deadline on top, so every red row comes before every yellow one
    assert table["办理时限"].tolist() == sorted(table["办理时限"])
    assert table["灯"].tolist() == sorted(table["灯"], key=["红", "黄"].index)
    assert table.loc[table["灯"] == "红", "剩余/超期"].str.startswith("超期 ").all()
    assert table.loc[table["灯"] == "黄", "剩余/超期"].str.startswith("剩余 ").all()
    assert {b.label for b in at.download_button} == {"导出督办单（Excel）"}
    assert "period" in at.query_params  # the page says which period it shows


@pytest.mark.parametrize("by", ["street", "department"])
def test_counts_by_unit_match_and_filters_go_through_the_url(page, city, by):
    _, engine, as_of = city
    counts = _sor(engine, alerts.warning_counts, Scope.whole(), Period.all_time(), as_of, by)
    at = page("alerts", as_of=as_of.isoformat())
    shown = html_tables(at)[f"counts-{by}"]
    assert shown["超期"].tolist() == counts["red"].tolist()
    assert shown["临期"].tolist() == counts["yellow"].tolist()
    assert shown["超期"].tolist() == sorted(shown["超期"], reverse=True)  # the worst first
    code = counts["code"].iloc[0]
    at = page("alerts", as_of=as_of.isoformat(), **{by: code})
    assert _totals(at) == _sor(engine, alerts.warning_totals, Scope.whole(), Period.all_time(), as_of,
                               filters={by: code})
    assert at.selectbox(key=f"alert_{by}").value == code


def test_picking_a_filter_writes_the_url_and_全部_clears_it(page, city):
    _, engine, as_of = city
    code = _sor(engine, alerts.warning_counts, Scope.whole(), Period.all_time(), as_of, "street")["code"].iloc[0]
    at = page("alerts", as_of=as_of.isoformat())
    at.selectbox(key="alert_street").set_value(code).run()
    assert at.query_params["street"] == code
    assert _totals(at) == _sor(engine, alerts.warning_totals, Scope.whole(), Period.all_time(), as_of,
                               filters={"street": code})
    at.selectbox(key="alert_street").set_value("").run()
    assert "street" not in at.query_params and at.selectbox(key="alert_street").value == ""


def test_an_unknown_filter_value_is_named_and_ignored(page, city):
    _, engine, as_of = city
    at = page("alerts", as_of=as_of.isoformat(), department="NO-SUCH-DEPT")
    assert any("NO-SUCH-DEPT" in w.value and "已忽略" in w.value for w in at.warning)
    assert _totals(at) == _sor(engine, alerts.warning_totals, Scope.whole(), Period.all_time(), as_of)


def test_a_district_scope_bounds_the_page(page, city):
    _, engine, as_of = city
    at = page("alerts", as_of=as_of.isoformat(), region="210302")
    assert _totals(at) == _sor(engine, alerts.warning_totals, Scope("210302", "district"), Period.all_time(), as_of)
    assert "铁东区" in _html(at)


@pytest.mark.parametrize("region, labels", [
    (None, ["区县", "街道", "承办单位", "类别", "渠道"]),
    ("210302", ["街道", "承办单位", "类别", "渠道"]),
    ("210302001", ["承办单位", "类别", "渠道"]),
])
def test_the_filters_offer_only_what_lies_below_the_pages_region(page, city, region, labels):
    """A district page has no 区县 filter and a street page no 街道 filter either: each would offer only itself."""
    _, _, as_of = city
    at = page("alerts", as_of=as_of.isoformat(), **({"region": region} if region else {}))
    assert [s.label for s in at.selectbox if s.key and s.key.startswith("alert_")] == labels
    assert not at.warning


def test_a_filter_above_the_pages_region_in_the_url_is_named_and_ignored(page, city):
    _, engine, as_of = city
    at = page("alerts", as_of=as_of.isoformat(), region="210302001", district="210302", street="210302001")
    warned = " ".join(w.value for w in at.warning)
    assert "区县筛选对街道范围不适用，已忽略" in warned and "街道筛选对街道范围不适用，已忽略" in warned
    assert _totals(at) == _sor(engine, alerts.warning_totals, Scope("210302001", "street"), Period.all_time(), as_of)


def test_a_filter_keeps_its_value_when_two_units_share_a_name(page, city):
    """Two communities' 居委会 can bear one name; a select box reports the label chosen, so
    equal labels once made a rerun jump to the other unit (and the list came up empty)."""
    _, engine, as_of = city
    options = _sor(engine, alerts.filter_options, Scope.whole(), as_of)["department"]
    shared = options[options.duplicated("name", keep=False)].sort_values("code")
    assert not shared.empty, "the demo city should have two units with the same name"
    first = shared["code"].iloc[0]
    at = page("alerts", as_of=as_of.isoformat(), department=first)
    at.run()  # a second run, as after any click
    assert at.query_params["department"] == first
    assert at.selectbox(key="alert_department").value == first
    assert first in at.selectbox(key="alert_department").format_func(first)
    district = at.selectbox(key="alert_district")  # a filter not chosen reads 全部, not an empty box
    assert district.format_func(district.value) == "全部" and "district" not in at.query_params


def _frame(at: AppTest, column: str, nth: int = 0) -> pd.DataFrame:
    """The ``nth`` table of the page that has ``column``."""
    return [d.value for d in all_tables(at) if column in d.value.columns][nth]


def test_the_supervision_tab_counts_only_the_filtered_appeals(page, city):
    from data_access import supervision_queries as sq

    _, engine, as_of = city
    whole = _sor(engine, sq.open_supervisions, Scope.whole(), as_of, limit=100_000)
    street = whole["street_code"].value_counts().index[0]  # the street with the most open supervisions
    street_name = whole.loc[whole["street_code"] == street, "street_name"].iloc[0]
    category = whole.loc[whole["street_code"] == street, "category"].value_counts().index[0]
    for filters in ({"street": street}, {"street": street, "category": category}):
        at = page("alerts", as_of=as_of.isoformat(), **filters)
        expected = _sor(engine, sq.open_supervisions, Scope.whole(), as_of, limit=200, filters=filters)
        assert 0 < len(expected) < len(whole)
        assert _frame(at, "要求答复")["工单号"].tolist() == expected["appeal_id"].tolist()
        for nth, by in enumerate(("department", "street")):
            stats = _sor(engine, sq.supervision_stats, Scope.whole(), Period.all_time(), as_of, by, filters=filters)
            shown = _frame(at, "按时答复率", nth)
            assert shown["名称"].tolist() == stats["name"].tolist()
            assert shown["督办"].tolist() == stats["supervised"].tolist()
            assert shown["待答复"].tolist() == stats["open"].tolist()
        whole_stats = _sor(engine, sq.supervision_stats, Scope.whole(), Period.all_time(), as_of, "street")
        assert _frame(at, "按时答复率", 1)["名称"].tolist() == [street_name] != whole_stats["name"].tolist()
        candidates = _sor(engine, sq.unsatisfied_candidates, Scope.whole(), Period.all_time(), as_of, filters=filters)
        shown = [d.value for d in all_tables(at) if "回访时间" in d.value.columns]
        assert (shown[0]["工单号"].tolist() if shown else []) == candidates["appeal_id"].tolist()
        # the tab says plainly which appeals it counts
        note = " ".join(i.value for i in at.info)
        assert "只统计符合筛选条件的工单" in note and street_name in note
        assert ("category" not in filters) or category in note
    at = page("alerts", as_of=as_of.isoformat())
    assert not [i for i in at.info if "筛选条件" in i.value]
    assert any("全部工单（未筛选）" in c.value for c in at.caption)


def _small_department(engine) -> tuple[str, list[str]]:
    """A department with a few red or yellow appeals not supervised yet (it may have supervised ones too):
    its code and those appeals. The demo's warnings move with the clock, so no fixed count is assumed."""
    now = local_now(CITY_TZ).replace(microsecond=0)
    listed = _sor(engine, alerts.warning_list, Scope.whole(), Period.all_time(), now)
    free = listed[~listed["is_supervised"].astype(bool)]
    per = free.groupby("department_code").size()
    per = per[(per >= 2) & (per <= 12)].sort_values(kind="stable")
    assert not per.empty, "the demo city should have a department with a few unsupervised warnings"
    code = per.index[0]
    return code, sorted(free.loc[free["department_code"] == code, "appeal_id"])


def _unsupervised(engine, street: str | None = None) -> str:
    """A red or yellow appeal never supervised (the latest deadline, so the earlier tests' picks differ),
    in ``street`` when given."""
    listed = _sor(engine, alerts.warning_list, Scope.whole(), Period.all_time(), local_now(CITY_TZ).replace(microsecond=0))
    free = listed[~listed["is_supervised"].astype(bool)]
    if street is not None:
        free = free[free["street_code"] == street]
    assert not free.empty
    return free["appeal_id"].iloc[-1]


def _rows(engine, table, **where):
    stmt = select(table)
    for column, value in where.items():
        stmt = stmt.where(table.c[column].in_(value) if isinstance(value, (list, tuple)) else table.c[column] == value)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings()]


def _timeline(at: AppTest) -> list[tuple[str, str, str]]:
    """The case detail's timeline: (label, time, note) of each entry, oldest first."""
    items = re.findall(r'<span class="ev">(.*?)</span><span class="when">(.*?)</span>.*?<div class="note">(.*?)</div>',
                       _html(at))
    return [(label, when, html.unescape(note)) for label, when, note in items]


def test_every_answered_supervision_of_the_demo_has_its_answer_event_and_the_detail_agrees(page, city):
    _, engine, _ = city
    sups = pd.DataFrame(_rows(engine, schema.supervisions))
    answered = sups[sups["status"] == "answered"]
    answers = pd.DataFrame(_rows(engine, schema.appeal_events, event_type="answer"))
    assert len(answered) > 20 and len(answers) == len(answered)
    notes = answers.groupby(["appeal_id", "event_at"])["note"].apply(list).to_dict()
    for r in answered.itertuples():  # at its answer time, naming it, with its text
        assert [n for n in notes.get((r.appeal_id, r.answered_at), []) if f"督办 #{r.id}" in n and n.endswith(r.answer)]

    # the detail of appeals whose supervisions escalated, were answered late and on time: the table and the
    # timeline tell the same story, and every date has its year
    chains = sups.dropna(subset=["escalated_from"])
    picks = {
        chains.loc[chains["supervisor"] == supervision.SYSTEM_ACTOR, "appeal_id"].iloc[0],
        answered.loc[answered["answered_at"] > answered["due_at"], "appeal_id"].iloc[0],
        answered.loc[answered["answered_at"] <= answered["due_at"], "appeal_id"].iloc[0],
    }
    for appeal in sorted(picks):
        at = page("case", id=appeal)
        rows = sups[sups["appeal_id"] == appeal].sort_values(["created_at", "id"])
        table = at.dataframe[0].value
        assert table["编号"].tolist() == [str(i) for i in rows["id"]]
        assert table["督办时间"].tolist() == [f"{t:%Y-%m-%d %H:%M}" for t in rows["created_at"]]
        assert table["答复期限"].tolist() == [f"{t:%Y-%m-%d %H:%M}" for t in rows["due_at"]]
        timeline = _timeline(at)
        shown_answers = [(when, note) for label, when, note in timeline if label == "督办答复"]
        assert len(shown_answers) == (table["状态"].str.startswith("已答复")).sum()
        for r, status, answered_text in zip(rows.itertuples(), table["状态"], table["答复时间"]):
            if r.status == "answered":
                assert answered_text == f"{r.answered_at:%Y-%m-%d %H:%M}"
                late = "（逾期答复）" in next(n for w, n in shown_answers if f"督办 #{r.id}" in n and
                                                w == f"{r.answered_at:%Y-%m-%d %H:%M:%S}")
                assert status == ("已答复（逾期）" if late else "已答复（按时）")
            else:
                assert answered_text == "" and not [n for _, n in shown_answers if f"督办 #{r.id}" in n]
            if r.supervisor == supervision.SYSTEM_ACTOR:  # an automatic escalation: 督办升级 names both rows
                assert [n for label, _, n in timeline if label == "督办升级" and f"#{int(r.escalated_from)} 逾期未答复" in n
                        and f"#{r.id}" in n]
            else:
                assert [n for label, w, n in timeline if label == "督办" and w == f"{r.created_at:%Y-%m-%d %H:%M:%S}"]


def test_supervising_a_batch_from_the_warning_page(page, city):
    _, engine, _ = city
    dept, ids = _small_department(engine)
    at = page("alerts", department=dept)
    table = _warning_table(at)
    assert sorted(table.loc[table["已督办"] == "", "工单号"]) == ids
    at.radio(key="supervise_which").set_value(1)
    at.selectbox(key="supervise_level").set_value("district")
    at.text_input(key="supervise_who").input("区8890督查室 王科长")
    at.text_area(key="supervise_reason").input("超期未办结，请于期限内办结并答复群众")
    next(b for b in at.button if b.label == "督办").click()
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any(f"已区级督办 {len(ids)} 件工单" in s.value for s in at.success), (
        ids, [s.value for s in at.success], [w.value for w in at.warning], [i.value for i in at.info])

    # the system of record holds the supervision, the event and the audit row of each appeal
    sups = _rows(engine, schema.supervisions, appeal_id=ids)
    assert sorted(s["appeal_id"] for s in sups) == ids
    assert {(s["level"], s["status"], s["supervisor"]) for s in sups} == {("district", "open", "区8890督查室 王科长")}
    assert all(s["due_at"].time() == dt.time(18, 0) and s["reason"].startswith("超期未办结") for s in sups)
    events = _rows(engine, schema.appeal_events, appeal_id=ids, event_type="supervise")
    assert sorted(e["appeal_id"] for e in events) == ids and all("区级督办" in e["note"] for e in events)
    audit = _rows(engine, schema.audit_log, target=ids, action="supervise")
    # the audit names the signed-in account; the supervision, the name staff gave
    assert sorted(a["target"] for a in audit) == ids and {a["actor"] for a in audit} == {"测试员"}
    grids = {r["appeal_id"]: r["grid_code"] for r in _rows(engine, schema.appeals, appeal_id=ids)}
    # a district-level supervision is the district's: the district code heads the appeal's grid code
    assert all(len(a["region_code"]) == 6 and grids[a["target"]].startswith(a["region_code"]) for a in audit)

    # the choice of which appeals survives the changed counts (they are captions, not labels)
    assert at.radio(key="supervise_which").value == 1
    # after the sync the page forced, the list shows them as supervised, and so do the open supervisions
    table = _warning_table(at)
    assert (table.loc[table["工单号"].isin(ids), "已督办"] == "是").all()
    from data_access import supervision_queries
    sync_time = local_now(CITY_TZ) + dt.timedelta(minutes=1)
    expected = _sor(engine, supervision_queries.open_supervisions, Scope.whole(), sync_time, limit=200,
                    filters={"department": dept})  # the page's filter bounds its open supervisions too
    assert set(ids) <= set(expected["appeal_id"])
    assert _frame(at, "要求答复")["工单号"].tolist() == expected["appeal_id"].tolist()

    # every row of the department is supervised now: the "not yet supervised" set is empty
    before = len(_rows(engine, schema.supervisions))
    at = page.make("alerts", department=dept).run()
    at.radio(key="supervise_which").set_value(1)
    at.text_input(key="supervise_who").input("区8890督查室 王科长")
    at.text_area(key="supervise_reason").input("再次督办")
    next(b for b in at.button if b.label == "督办").click()
    at.run()
    assert any("没有选中要督办的工单" in e.value for e in at.error)
    assert len(_rows(engine, schema.supervisions)) == before


def test_a_supervision_without_a_reason_is_refused_and_nothing_is_written(page, city):
    _, engine, _ = city
    before = len(_rows(engine, schema.supervisions))
    at = page("case", id=_unsupervised(engine))
    at.text_input(key="supervise_case_who").input("张三")
    next(b for b in at.button if b.label == "督办").click()
    at.run()
    assert any("督办原因" in e.value for e in at.error), [e.value for e in at.error]
    assert len(_rows(engine, schema.supervisions)) == before


def test_no_selection_supervises_nothing(page, city):
    _, engine, _ = city
    before = len(_rows(engine, schema.supervisions))
    at = page("alerts")
    assert at.radio(key="supervise_which").value == 0  # the ticked rows, never the whole list by default
    at.text_input(key="supervise_who").input("张三")
    at.text_area(key="supervise_reason").input("测试")
    next(b for b in at.button if b.label == "督办").click()
    at.run()
    assert any("没有选中要督办的工单" in e.value for e in at.error)
    assert len(_rows(engine, schema.supervisions)) == before


def test_supervising_and_answering_from_a_case_detail(page, city):
    _, engine, _ = city
    appeal = _unsupervised(engine)
    at = page("case", id=appeal)
    assert any("该工单尚未督办" in i.value for i in at.info)
    at.selectbox(key="supervise_case_level").set_value("street")  # a city account may supervise at any level
    at.text_input(key="supervise_case_who").input("街道督办组 李四")
    at.text_area(key="supervise_case_reason").input("群众多次来电，请加快办理")
    next(b for b in at.button if b.label == "督办").click()
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    (sup,) = _rows(engine, schema.supervisions, appeal_id=appeal)
    assert (sup["level"], sup["status"], sup["supervisor"]) == ("street", "open", "街道督办组 李四")
    history = at.dataframe[0].value
    assert history["状态"].tolist() == ["待答复"] and history["督办人"].tolist() == ["街道督办组 李四"]
    assert '<span class="ev">督办</span>' in _html(at)  # the timeline shows the supervise event after the sync

    at.text_input(key="answer_who").input("承办单位 王五")
    at.text_area(key="answer_text").input("已派人现场处置，预计明日办结")
    next(b for b in at.button if b.label == "记录答复").click()
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    (sup,) = _rows(engine, schema.supervisions, appeal_id=appeal)
    assert sup["status"] == "answered" and sup["answer"] == "已派人现场处置，预计明日办结"
    assert _rows(engine, schema.audit_log, target=appeal, action="answer")
    assert at.dataframe[0].value["状态"].tolist() == ["已答复（按时）"]


def test_a_kiosk_case_view_has_no_supervision_forms(page, city):
    _, engine, _ = city
    at = page("case", id=_unsupervised(engine), kiosk="1")
    assert not [b for b in at.button if b.label in ("督办", "记录答复")]


def test_an_unanswered_supervision_escalates_at_the_next_refresh_and_shows_so(page, city, monkeypatch):
    from data_access import supervision

    _, engine, _ = city
    appeal = _unsupervised(engine)
    now = local_now(CITY_TZ).replace(microsecond=0)
    (first,) = supervision.supervise(engine, [appeal], level="street", reason="请尽快办结", supervisor="街道督办组",
                                     now=now - dt.timedelta(hours=3), due_at=now - dt.timedelta(hours=1))
    monkeypatch.setenv("APPEALS_SYNC_INTERVAL_SECONDS", "0")  # this run syncs, and escalates before it
    at = page("case", id=appeal)
    rows = sorted(_rows(engine, schema.supervisions, appeal_id=appeal), key=lambda r: r["id"])
    assert [(r["level"], r["status"]) for r in rows] == [("street", "escalated"), ("district", "open")]
    assert rows[1]["escalated_from"] == first and rows[1]["supervisor"] == supervision.SYSTEM_ACTOR
    history = at.dataframe[0].value
    assert history["级别"].tolist() == ["街道", "区"]
    assert history["状态"].tolist() == ["已升级", "待答复"]
    assert history["来源"].tolist() == ["", "自动升级"]
    assert _rows(engine, schema.audit_log, target=appeal, action="escalate")


# ------------------------------------------------- who may supervise, as whom ---
# The demo's district account (铁东区) and street account (莲花街道 of 铁东区), as the demo names them.
TIEDONG = dict(role="district", region="210302", name="tiedong", display_name="张伟", unit="铁东区综合指挥中心督办科")
LIANHUA = dict(role="street", region="210302001", name="lianhua", display_name="李娜", unit="莲花街道督办组")


@pytest.fixture
def as_account(city, monkeypatch):
    env, _, _ = city
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    def run(account: dict, which: str, **params) -> AppTest:
        account = dict(account)
        script = ROUTER.format(first=which).replace("{root}", str(ROOT))
        at = sign_in(AppTest.from_string(script, default_timeout=120), account.pop("role"), account.pop("region"),
                     **account)
        for k, v in params.items():
            at.query_params[k] = v
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        return at
    return run


@pytest.mark.parametrize("account, levels", [(TIEDONG, ["street", "district"]), (LIANHUA, ["street"]),
                                             (dict(role="city", region=None, name="demo"),
                                              ["street", "district", "city"])])
def test_the_form_offers_the_accounts_own_level_and_below_and_signs_with_its_unit_and_name(as_account, city,
                                                                                           account, levels):
    _, engine, _ = city
    appeal = _unsupervised(engine, LIANHUA["region"])
    for at in (as_account(account, "case", id=appeal), as_account(account, "alerts")):
        key = "supervise_case" if at.query_params.get("id") else "supervise"
        level = at.selectbox(key=f"{key}_level")
        assert level.options == [{"street": "街道", "district": "区", "city": "市"}[lv] for lv in levels]
        assert level.value == levels[-1]  # the account's own level first
        expected = f"{account['unit']} · {account['display_name']}" if "unit" in account else account["name"]
        assert at.text_input(key=f"{key}_who").value == expected


def test_a_district_account_supervises_as_its_unit_and_name_and_the_audit_names_the_login(as_account, city):
    _, engine, _ = city
    appeal = _unsupervised(engine, LIANHUA["region"])
    at = as_account(TIEDONG, "case", id=appeal)
    at.text_area(key="supervise_case_reason").input("超期未办结，请于期限内办结并答复群众")
    next(b for b in at.button if b.label == "督办").click()
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    (sup,) = _rows(engine, schema.supervisions, appeal_id=appeal)
    assert (sup["level"], sup["supervisor"], sup["region_code"]) == ("district", "铁东区综合指挥中心督办科 · 张伟", "210302")
    (event,) = _rows(engine, schema.appeal_events, appeal_id=appeal, event_type="supervise")
    assert event["actor"] == "铁东区综合指挥中心督办科 · 张伟"
    (audit,) = _rows(engine, schema.audit_log, target=appeal, action="supervise")
    assert audit["actor"] == "tiedong"
    assert at.dataframe[0].value["督办人"].tolist() == ["铁东区综合指挥中心督办科 · 张伟"]
    # the open supervision is the district's own level: no higher one to offer, and the page says why
    assert not [b for b in at.button if b.label == "督办"]
    assert any("本账号不能再提级" in c.value for c in at.caption)
    # the street account cannot raise it either; the city account may, to the city only
    at = as_account(LIANHUA, "case", id=appeal)
    assert not [b for b in at.button if b.label == "督办"] and any("不能再提级" in c.value for c in at.caption)
    at = as_account(dict(role="city", region=None, name="demo"), "case", id=appeal)
    assert at.selectbox(key="supervise_case_level").options == ["市"]


FORGED = """
import datetime as dt
import streamlit as st
from data_access import cached, supervision
from data_access.access import NoAccess

cached.refresh()
try:
    ids = cached.supervise([{appeal!r}], level={level!r}, reason="越级督办", supervisor="伪造",
                           due_at=dt.datetime.fromisoformat({due!r}), allowed_levels=("street", "district", "city"))
    st.success(f"written {{ids}}")
except (supervision.SupervisionError, NoAccess) as exc:
    st.error(str(exc))
"""


@pytest.mark.attack("jurisdiction")
@pytest.mark.parametrize("account, level, words", [
    (TIEDONG, "city", "本账号不能发起市级督办：督办只能在本级及以下发起，本账号可发起街道级、区级督办"),
    (LIANHUA, "district", "本账号不能发起区级督办：督办只能在本级及以下发起，本账号可发起街道级督办"),
    (LIANHUA, "city", "本账号不能发起市级督办"),
])
def test_a_forged_request_above_the_accounts_level_is_refused_and_writes_nothing(city, monkeypatch, account,
                                                                                 level, words):
    env, engine, _ = city
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    appeal = _unsupervised(engine, LIANHUA["region"])
    due = local_now(CITY_TZ).replace(microsecond=0) + dt.timedelta(days=3)
    account = dict(account)
    script = FORGED.format(appeal=appeal, level=level, due=due.isoformat())
    at = sign_in(AppTest.from_string(script, default_timeout=120), account.pop("role"), account.pop("region"),
                 **account)
    before = (len(_rows(engine, schema.supervisions)), len(_rows(engine, schema.appeal_events)),
              len(_rows(engine, schema.audit_log)))
    at.run()
    assert not at.exception and not at.success, [s.value for s in at.success]
    assert len(at.error) == 1 and words in at.error[0].value, [e.value for e in at.error]
    assert (len(_rows(engine, schema.supervisions)), len(_rows(engine, schema.appeal_events)),
            len(_rows(engine, schema.audit_log))) == before


def _screen_as_of(at: AppTest) -> dt.datetime:
    """The as-of time the big screen judged its figures at (its tiles' links carry it to the second)."""
    from urllib.parse import parse_qs, urlsplit

    import html

    links = [re.search(r'class="tile-link" data-label="[^"]*"><a href="([^"]*)"', h.value) for h in at.get("html")]
    found = {parse_qs(urlsplit(html.unescape(m.group(1))).query)["as_of"][0] for m in links if m}
    assert len(found) == 1, found
    return dt.datetime.fromisoformat(found.pop())


def _overdue_texts(engine, as_of: dt.datetime) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The CSV and the Excel file of the overdue list as the download buttons make them (case_file)."""
    import io

    from openpyxl import load_workbook

    from data_access import cases, deadlines, exports

    with engine.connect() as conn:
        rows = cases.case_export(conn, Scope.whole(), Period.all_time(), as_of, "overdue_open",
                                 rules=deadlines.load_rules(engine))
    csv = pd.read_csv(io.BytesIO(exports.to_csv_bytes(rows)), dtype=str, keep_default_na=False, encoding="utf-8-sig")
    values = list(load_workbook(io.BytesIO(exports.to_xlsx_bytes(rows))).worksheets[0].values)
    xlsx = pd.DataFrame(values[1:], columns=values[0])
    return csv.set_index("工单号"), xlsx.set_index("工单号")


def test_one_appeal_is_equally_late_on_every_screen_and_in_the_files(page, city, monkeypatch):
    """The big screen's newest overdue appeals read the same 超期 on /cases, /case, /alerts and in the CSV and
    Excel files: one rule (the appeal's basis) and one way of writing it."""
    from urllib.parse import parse_qs, urlsplit

    from data_access import cases

    _, engine, _ = city
    # the pages judge at the data's time, which each sync moves: no sync on a timer while the pages are compared
    monkeypatch.setenv("APPEALS_SYNC_INTERVAL_SECONDS", "3600")
    for _attempt in range(3):  # a sync between the page runs moves the data's time: look again
        screen = page("big_screen")
        as_of = _screen_as_of(screen)
        newest = html_tables(screen, text=True)["newest-overdue"]
        newest["工单号"] = [parse_qs(urlsplit(u).query)["id"][0] for u in newest["工单号"]]  # the number links
        assert len(newest) > 0 and (newest["超期"].str.len() > 0).all()
        csv, xlsx = _overdue_texts(engine, as_of)
        seen = []  # (appeal, the big screen's text, what each other place shows)
        for appeal_id, late in zip(newest["工单号"].iloc[:3], newest["超期"].iloc[:3]):
            row = _sor(engine, lambda conn, a: cases.case_detail(conn, a), appeal_id)
            detail = re.search(r"红灯·超期 · 超期 ([^·<]+?) ·", _html(page("case", id=appeal_id)))
            listed = page("cases", figure="overdue_open", period="all", as_of=as_of.isoformat(),
                          child=row["street_code"], category=row["category"],
                          **({"subcategory": row["subcategory"]} if row["subcategory"] else {}))
            table = html_tables(listed, text=True)["cases"]
            ids = [parse_qs(urlsplit(u).query)["id"][0] for u in table["工单号"]]
            warned = _warning_table(page("alerts", as_of=as_of.isoformat(), street=row["street_code"],
                                         category=row["category"])).set_index("工单号")
            seen.append((appeal_id, late, {
                "/case": detail.group(1) if detail else None,
                "/cases": table["超期"].iloc[ids.index(appeal_id)],
                "/alerts": warned.loc[appeal_id, "剩余/超期"].removeprefix("超期 "),
                "CSV": csv.loc[appeal_id, "超期"], "Excel": xlsx.loc[appeal_id, "超期"]}))
        if _screen_as_of(page("big_screen")) == as_of:  # the detail is judged at the data's time: unchanged
            break
    else:
        pytest.fail("the data's time moved during every attempt")
    for appeal_id, late, shown in seen:
        assert all(text == late for text in shown.values()), (appeal_id, late, shown)
    checked = [late for _, late, _ in seen]
    # no third unit: working days and hours, or hours
    assert all(re.fullmatch(r"[\d,]+ 个工作日( \d+ 小时)?|[\d,]+ 小时( \d+ 分钟)?|\d+ 分钟|不足 1 分钟", t)
               for t in checked), checked
