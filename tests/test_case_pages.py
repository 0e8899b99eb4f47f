"""The case list (/cases) and the case detail (/case) through AppTest, on a seeded demo city.

The pages run through a router like app.py's (``st.navigation`` over the
pages), so they work whether or not app.py lists them yet. Expected figures
come from the system of record through its views (``sor_views``), not from
the page's own analytics copy.
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from streamlit.testing.v1 import AppTest

from data_access import cases, queries
from data_access.clock import local_now
from data_access.scope import Period, Scope
from data_access.sor_views import ensure_views
from data_access.store import make_engine
from tests import demo
from tests.conftest import CITY_TZ, ROOT, sign_in
from tests.html_tables import html_tables

MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")

ROUTER = """
import streamlit as st
from ui import boot

st.set_page_config(page_title="诉求指挥中心", layout="wide")
pages = [st.Page({first!r}, url_path={first_path!r}, default=True),
         st.Page({second!r}, url_path={second_path!r}),
         st.Page({big!r}, url_path="big-screen")]
boot.run_routed(st.navigation(pages, position="hidden").run)
"""


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    end = local_now(CITY_TZ).replace(second=0, microsecond=0)
    env = demo.build(tmp_path_factory.mktemp("case_pages"), end=end)
    engine = make_engine(env["APPEALS_DB_URL"])
    ensure_views(engine)
    yield env, engine, end - dt.timedelta(hours=1)
    engine.dispose()


@pytest.fixture
def page(city, monkeypatch):
    env, _, _ = city
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    def run(which: str, role: str = "city", home: str | None = None, **params) -> AppTest:
        other = "case" if which == "cases" else "cases"
        script = ROUTER.format(first=str(ROOT / "pages" / f"{which}.py"), first_path=which,
                               second=str(ROOT / "pages" / f"{other}.py"), second_path=other,
                               big=str(ROOT / "pages" / "big_screen.py"))
        at = sign_in(AppTest.from_string(script, default_timeout=120), role=role, region=home)
        for k, v in params.items():
            at.query_params[k] = v
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    return run


def _qp(at: AppTest, key: str) -> str | None:
    """A URL parameter as the page left it."""
    value = at.query_params.get(key)
    return value[-1] if isinstance(value, list) else value


def _html(at: AppTest) -> str:
    return " ".join(h.value for h in at.get("html"))


def _title_count(at: AppTest) -> int:
    found = re.search(r'共 <span class="n">([\d,]+)</span> 件', _html(at))
    assert found, "the title states no count"
    return int(found.group(1).replace(",", ""))


def _expected(engine, scope, period, as_of, figure, **kw) -> int:
    with engine.connect() as conn:
        return cases.case_count(conn, scope, period, as_of, figure, **kw)


@pytest.mark.parametrize("params, scope, period_of, figure, kw", [
    (dict(figure="overdue_open", period="all"), Scope.whole(), lambda t: Period.all_time(), "overdue_open", {}),
    (dict(figure="received", region="210302", period="30d"), Scope("210302", "district"),
     lambda t: Period.preset("30d", t.date()), "received", {}),
    (dict(figure="on_time_rate", part="numerator", region="210303", period="7d"), Scope("210303", "district"),
     lambda t: Period.preset("7d", t.date()), "on_time_rate", {"part": "numerator"}),
    (dict(figure="satisfaction_rate", period="month"), Scope.whole(), lambda t: Period.preset("month", t.date()),
     "satisfaction_rate", {}),
    (dict(figure="closed_in_period", period="custom", **{"from": "D", "to": "D"}), Scope.whole(),
     lambda t: Period.days((t - dt.timedelta(days=2)).date(), (t - dt.timedelta(days=2)).date()),
     "closed_in_period", {}),
    (dict(figure="received", period="30d", channel="hotline", category="供暖"), Scope.whole(),
     lambda t: Period.preset("30d", t.date()), "received", {"filters": {"channel": "hotline", "category": "供暖"}}),
])
def test_the_title_counts_exactly_the_figure(page, city, params, scope, period_of, figure, kw):
    _, engine, as_of = city
    day = (as_of - dt.timedelta(days=2)).date().isoformat()
    params = {k: (day if v == "D" else v) for k, v in params.items()}
    at = page("cases", as_of=as_of.isoformat(), **params)
    assert not at.error, [e.value for e in at.error]
    expected = _expected(engine, scope, period_of(as_of), as_of, figure, **kw)
    assert expected > 0
    assert _title_count(at) == expected
    assert f"截至 {as_of:%Y-%m-%d %H:%M}" in _html(at)
    table = html_tables(at)["cases"]
    assert len(table) == min(expected, cases.PAGE_SIZE)
    assert {b.label for b in at.download_button} == {"导出 CSV", "导出 Excel"}


def test_the_title_names_the_figure_the_scope_and_the_period(page, city):
    _, _, as_of = city
    at = page("cases", figure="overdue_open", region="210302", period="30d", as_of=as_of.isoformat())
    title = _html(at)
    assert f"超期在办 · 铁东区 · 近30天 · 截至 {as_of:%Y-%m-%d %H:%M} · 共" in title
    at = page("cases", figure="on_time_rate", part="numerator", period="30d", as_of=as_of.isoformat())
    assert "按时办结率 · 分子：按时办结" in _html(at)


def test_the_headline_figure_of_kpis_equals_the_title(page, city):
    _, engine, as_of = city
    at = page("cases", figure="overdue_open", period="all", region="210303", as_of=as_of.isoformat())
    with engine.connect() as conn:
        k = queries.kpis(conn, Scope("210303", "district"), Period.all_time(), as_of)
    assert _title_count(at) == k["overdue_open"] > 0


def test_lists_mask_personal_data_whoever_looks(page, city, monkeypatch):
    _, _, as_of = city
    monkeypatch.setenv("APPEALS_SHOW_PERSONAL_DATA", "1")
    for role in ("city", "admin"):
        at = page("cases", role=role, figure="received", period="30d", as_of=as_of.isoformat())
        table = html_tables(at)["cases"]
        names = table["诉求人"][table["诉求人"] != ""]
        assert len(names) > 0 and names.str.contains(r"\*").all()
        assert not any(MOBILE.search(str(v)) for v in table.to_numpy().ravel())
        assert not table["地址"].str.contains("单元|室").any()
        assert "个人信息已脱敏" in _html(at)


def test_pages_and_sorting_go_through_the_url(page, city):
    _, engine, as_of = city
    scope, period = Scope("210302", "district"), Period.preset("30d", as_of.date())
    at = page("cases", figure="received", region="210302", period="30d", as_of=as_of.isoformat(), page="2")
    with engine.connect() as conn:
        second = cases.case_list(conn, scope, period, as_of, "received", offset=50, limit=50)
        third = cases.case_list(conn, scope, period, as_of, "received", offset=100, limit=50)
        by_deadline = cases.case_list(conn, scope, period, as_of, "received", sort="deadline_at",
                                      descending=False, limit=50)

    def shown_ids(at):
        return [parse_qs(urlsplit(u).query)["id"][0] for u in html_tables(at)["cases"]["工单号"]]

    assert shown_ids(at) == list(second["appeal_id"])
    (pager,) = at.get("pagination")
    assert pager.value == 2
    pager.set_value(3).run()
    assert not at.exception
    assert _qp(at, "page") == "3"
    assert shown_ids(at) == list(third["appeal_id"])
    at.selectbox(key="case_sort").set_value("deadline_at").run()
    assert _qp(at, "sort") == "deadline_at" and _qp(at, "desc") == "1"
    at.button_group(key="case_dir").set_value("asc").run()
    assert not at.exception
    assert _qp(at, "desc") == "0" and "page" not in at.query_params
    assert shown_ids(at) == list(by_deadline["appeal_id"])
    # the same URL opened afresh shows the same page
    again = page("cases", figure="received", region="210302", period="30d", as_of=as_of.isoformat(),
                 sort="deadline_at", desc="0")
    assert shown_ids(again) == list(by_deadline["appeal_id"])


def test_a_sort_change_writes_the_url_and_returns_to_page_one(page, city):
    _, _, as_of = city
    at = page("cases", figure="received", period="30d", as_of=as_of.isoformat(), page="3")
    at.selectbox(key="case_sort").set_value("closed_at").run()
    assert not at.exception
    assert _qp(at, "sort") == "closed_at" and "page" not in at.query_params
    assert at.get("pagination")[0].value == 1


def test_each_row_links_to_its_detail_and_back(page, city):
    _, _, as_of = city
    at = page("cases", figure="overdue_open", period="all", as_of=as_of.isoformat())
    link = html_tables(at)["cases"]["工单号"].iloc[0]
    query = parse_qs(urlsplit(link).query)
    assert urlsplit(link).path == "/case" and query["from"][0].startswith("/cases?figure=overdue_open")
    detail = page("case", role="admin", id=query["id"][0], **{"from": query["from"][0]})
    assert not detail.error
    text = _html(detail)
    assert query["id"][0] in text and "← 返回工单列表" in text and 'href="/cases?figure=overdue_open' in text
    assert "在办 · 红灯·超期 · 超期 " in text
    for label in ("受理", "分流交办"):
        assert f'<span class="ev">{label}</span>' in text
    assert not MOBILE.search(text)  # an administrator sees no personal data


def test_events_past_the_deadline_are_marked(page, city):
    _, engine, as_of = city
    with engine.connect() as conn:
        overdue = cases.case_list(conn, Scope.whole(), Period.all_time(), as_of, "overdue_open", limit=50)
    late = next(a for a in overdue["appeal_id"] if (cases.case_events(engine, a)["to_deadline_hours"] < 0).any())
    text = _html(page("case", id=late))
    assert 'late">' in text  # the event's dot is red
    assert '<span class="over">超过时限' in text and '<span class="left">距时限' in text


def test_the_detail_masks_unless_allowed_and_shows_the_timeline(page, city, monkeypatch):
    _, engine, as_of = city
    with engine.connect() as conn:
        rows = cases.case_list(conn, Scope.whole(), Period.all_time(), as_of, "rated", limit=50,
                               show_personal=True)
    row = rows[rows["appellant_name"].notna()].iloc[0]
    with engine.connect() as conn:
        district = cases.case_detail(conn, row["appeal_id"])["district_code"]
    at = page("case", role="admin", id=row["appeal_id"])  # an administrator never sees personal data
    text = _html(at)
    assert row["appellant_name"] not in text and row["appellant_phone"] not in text
    assert "个人信息已脱敏" in text and "← 返回指挥大屏" in text
    for label in ("受理", "分流交办", "处置", "评价"):
        assert f'<span class="ev">{label}</span>' in text
    at = page("case", role="district", home=district, id=row["appeal_id"])  # staff of its district do
    text = _html(at)
    assert row["appellant_name"] in text and row["appellant_phone"] in text and row["address"] in text
    monkeypatch.setenv("APPEALS_SHOW_PERSONAL_DATA", "false")  # unless the deployment switches it off
    at = page("case", role="district", home=district, id=row["appeal_id"])
    assert row["appellant_phone"] not in _html(at)


@pytest.mark.parametrize("params, kind, message", [
    (dict(), "error", "缺少指标参数"),
    (dict(figure="bogus"), "error", "未知的指标"),
    (dict(figure="received", region="999999"), "error", "不存在"),
    (dict(figure="received", region="' OR 1=1 --"), "warning", "无效"),
    (dict(figure="received", period="nonsense"), "warning", "未知的时间范围"),
    (dict(figure="received", period="custom", **{"from": "2026-13-01"}), "warning", "自定义时间段"),
    (dict(figure="received", page="999"), "warning", "超出范围"),
    (dict(figure="received", page="two"), "warning", "页码"),
    (dict(figure="received", sort="name"), "warning", "未知的排序"),
    (dict(figure="closed", part="numerator"), "warning", "part"),
    (dict(figure="received", channel="telegraph"), "error", "未知的渠道"),
    (dict(figure="received", child="999"), "error", "不存在"),
    (dict(figure="received", as_of="last tuesday"), "warning", "last tuesday"),
])
def test_bad_parameters_give_a_clear_message(page, params, kind, message):
    at = page("cases", **params)
    shown = " ".join(e.value for e in getattr(at, kind))
    assert message in shown, (kind, shown, [e.value for e in at.error], [w.value for w in at.warning])
    if kind == "warning":
        assert not at.error, [e.value for e in at.error]


def test_a_period_without_appeals_shows_an_empty_list(page):
    at = page("cases", figure="received", period="custom", **{"from": "2001-01-01", "to": "2001-01-31"})
    assert not at.error
    assert _title_count(at) == 0
    assert any("没有工单" in i.value for i in at.info)
    assert all(b.disabled for b in at.download_button)


@pytest.mark.parametrize("params, message", [
    (dict(id="GD00000000000000"), "不存在"),
    (dict(), "缺少工单号"),
    (dict(id="x" * 200), "过长"),
])
def test_an_unknown_case_gives_a_clear_message(page, params, message):
    at = page("case", **params)
    assert message in " ".join(e.value for e in at.error)


def test_a_back_link_elsewhere_is_ignored(page, city):
    _, engine, as_of = city
    with engine.connect() as conn:
        appeal_id = cases.case_list(conn, Scope.whole(), Period.all_time(), as_of, "received", limit=1)[
            "appeal_id"].iloc[0]
    at = page("case", id=appeal_id, **{"from": "https://evil.example/cases?x=1"})
    text = _html(at)
    assert "evil.example" not in text and "← 返回指挥大屏" in text


def test_figure_url_reproduces_the_figure(page, city):
    from ui import cases as ui_cases
    from ui.params import ViewParams

    _, engine, as_of = city
    view = ViewParams(kiosk=False, period="30d", date_from=None, date_to=None, region="210302", as_of=None,
                      problems=())
    url = ui_cases.figure_url("received", view, as_of, region="210302", channel="hotline", child=None)
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert urlsplit(url).path == "/cases" and query["as_of"] == as_of.isoformat() and query["period"] == "30d"
    at = page("cases", **query)
    expected = _expected(engine, Scope("210302", "district"), Period.preset("30d", as_of.date()), as_of,
                         "received", filters={"channel": "hotline"})
    assert _title_count(at) == expected > 0
    stock = ui_cases.figure_url("overdue_open", view, as_of, region="210302", period={"period": "all"})
    assert "period=all" in stock
    with pytest.raises(ValueError):
        ui_cases.figure_url("nonsense", view, as_of)
    with pytest.raises(ValueError):
        ui_cases.figure_url("received", view, as_of, colour="red")


@pytest.mark.attack("injection")
def test_url_values_are_escaped(page):
    at = page("cases", figure="received", category="<img src=x onerror=alert(1)>")
    text = _html(at)
    assert "<img" not in text and "&lt;img" in text
    assert _title_count(at) == 0


@pytest.mark.parametrize("which, params", [("cases", {"figure": "received", "period": "7d"}),
                                           ("case", {"id": "GD20260101000001"})])
def test_a_kiosk_grant_reads_no_list_and_no_case_whichever_way_the_page_is_reached(page, city, which, params):
    """The query layer refuses a wall screen everything but the big screen's figures (app.py refuses the
    page itself before; this router goes around it)."""
    at = page(which, role="kiosk", **params)
    assert any("大屏令牌只能查看指挥大屏" in e.value or "不能查看工单详情" in e.value for e in at.error), [
        e.value for e in at.error]
    assert not html_tables(at) and not at.dataframe and not at.download_button and not at.metric
