"""The cases behind every number: each list's length is its figure, on a hand-computed fixture and a demo city.

The hand fixture is the one of tests/test_indicators.py (its docstring holds
the table of appeals); the demo is the seeded Anshan city (tests/demo.py,
20,000 appeals) copied into DuckDB. For every figure type (each set, each
rate's denominator and numerator, per_10k, closed_in_period), several scopes
and periods, ``case_count`` equals the figure of ``queries.kpis`` /
``queries.children`` / ``queries.daily_trend`` / ``category_counts`` /
``channel_counts``, and the pages of ``case_list`` hold exactly that many
distinct appeals.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import insert

from data_access import cases, exports, indicators as ind, queries, schema
from data_access.cases import CaseRequestError
from data_access.scope import Period, Scope
from data_access.store import make_engine
from tests import demo
from tests.conftest import insert_appeals, synced_store, ts
from tests.test_indicators import APPEALS, MARCH, T

WHOLE = Scope.whole()
EAST, WEST = Scope("101", "district"), Scope("102", "district")


# ======================================================= hand fixture ===

@pytest.fixture
def tiny(tiny_sor):
    insert_appeals(tiny_sor, APPEALS)
    return synced_store(tiny_sor), tiny_sor


def ids(con, figure, *, scope=WHOLE, period=MARCH, as_of=T, **kw) -> set[str]:
    rows = cases.case_list(con, scope, period, as_of, figure, limit=1000, **kw)
    assert rows["appeal_id"].is_unique
    return set(rows["appeal_id"])


# the members of every set in March as of T, by hand (see the table in tests/test_indicators.py)
EXPECTED = {
    "received": "a1 a2 a3 a4 a5 a6 a7 a8 a9 a12",
    "valid": "a1 a2 a3 a4 a5 a6 a8 a9 a12",
    "closed": "a1 a2 a6 a8 a12",
    "cancelled": "a7",
    "open": "a3 a4 a5 a9",                       # a9 was closed after T
    "overdue_open": "a3",
    "due_soon_open": "a4",
    "on_time": "a1 a8",
    "due": "a1 a2 a3 a8",                         # a6 no deadline, a12 no closing time
    "feedback_on_time": "a1",
    "feedback_due": "a1 a2 a3",
    "rated": "a1 a2 a6",
    "satisfied": "a1 a6",
    "level_known": "a1 a2 a6 a8",
    "in_grid": "a1 a6",
    "in_street": "a1 a2 a6",
    "repeat": "a8",
    "per_10k": "a1 a2 a3 a4 a5 a6 a8 a9 a12",
    "closed_in_period": "a1 a2 a6 a8",            # a12 has no closing time, a9 closed after T
}


def test_every_figure_is_named():
    assert set(ind.SETS) | set(ind.RATES) | {"per_10k", "closed_in_period"} == set(cases.FIGURES)
    for key, fig in cases.FIGURES.items():
        assert fig.list_label() and fig.label
        if fig.kind == "rate":
            assert ind.INDICATORS[key].label in fig.list_label("numerator")
            assert ind.SETS[fig.numerator] in fig.list_label("numerator")


@pytest.mark.parametrize("figure", [k for k in EXPECTED])
def test_each_set_lists_exactly_its_hand_computed_appeals(tiny, figure):
    con, _ = tiny
    expected = set(EXPECTED[figure].split())
    assert ids(con, figure) == expected
    assert cases.case_count(con, WHOLE, MARCH, T, figure) == len(expected)


@pytest.mark.parametrize("rate", list(ind.RATES))
def test_a_rate_lists_its_denominator_and_narrows_to_its_numerator(tiny, rate):
    con, _ = tiny
    numerator, denominator = ind.RATES[rate]
    rows = cases.case_list(con, WHOLE, MARCH, T, rate, limit=1000)
    assert set(rows["appeal_id"]) == set(EXPECTED[denominator].split())
    assert set(rows.loc[rows["in_numerator"], "appeal_id"]) == set(EXPECTED[numerator].split())
    assert ids(con, rate, part="numerator") == set(EXPECTED[numerator].split())
    n, d = (cases.case_count(con, WHOLE, MARCH, T, rate, part=p) for p in ("numerator", None))
    assert queries.kpis(con, WHOLE, MARCH, T)[rate] == pytest.approx(n / d)


@pytest.mark.parametrize("scope", [WHOLE, EAST, WEST, Scope("101001", "street"), Scope("102001001001", "grid")])
def test_counts_equal_kpis_in_every_scope(tiny, scope):
    con, _ = tiny
    k = queries.kpis(con, scope, MARCH, T)
    for key in (*ind.COUNT_KEYS, "valid"):
        assert cases.case_count(con, scope, MARCH, T, key) == k[key], key
    for rate in ind.RATES:
        d = cases.case_count(con, scope, MARCH, T, rate)
        n = cases.case_count(con, scope, MARCH, T, rate, part="numerator")
        assert (None if d == 0 else n / d) == pytest.approx(k[rate]), rate
    assert cases.case_count(con, scope, MARCH, T, "per_10k") * 10000 / k["population"] == pytest.approx(k["per_10k"])


def test_a_region_filter_equals_the_child_row(tiny):
    con, _ = tiny
    kids = queries.children(con, WHOLE, MARCH, T, "district").set_index("code")
    for code in kids.index:
        for key in ("received", "closed", "overdue_open", "valid"):
            assert cases.case_count(con, WHOLE, MARCH, T, key, filters={"region": code}) == kids.loc[code, key]
    assert ids(con, "received", filters={"region": "102"}) == {"a4", "a5", "a7", "a8", "a9"}


def test_the_trend_closed_line_per_day(tiny):
    con, _ = tiny
    period = Period(ts("2026-03-04"), ts("2026-03-08"))
    trend = queries.daily_trend(con, WHOLE, period, T)
    for day, closed, received in zip(trend["day"], trend["closed"], trend["received"]):
        one = Period.days(day.date(), day.date())
        assert cases.case_count(con, WHOLE, one, T, "closed_in_period") == closed
        assert cases.case_count(con, WHOLE, one, T, "received") == received
    assert ids(con, "closed_in_period", period=Period.days(dt.date(2026, 3, 5), dt.date(2026, 3, 5))) == {"a1", "a2"}


def test_rows_are_shown_as_they_stood_at_the_as_of_time(tiny):
    con, _ = tiny
    rows = cases.case_list(con, WHOLE, MARCH, T, "received", limit=100).set_index("appeal_id")
    assert rows.loc["a9", "status"] == "open" and pd.isna(rows.loc["a9", "closed_at"])  # closed after T
    assert rows.loc["a1", "status"] == "closed" and rows.loc["a1", "closed_at"] == ts("2026-03-05 10:00")
    assert rows.loc["a7", "status"] == "cancelled"
    # a3 (一般, a limit in working days) is overdue from Thu 03-05 09:00 to Tue 03-10 12:00: 123 clock hours,
    # 15 + 24 + 24 + 12 = 75 working hours (the weekend does not count)
    assert rows.loc["a3", "overdue_hours"] == pytest.approx(75.0)
    assert rows.loc["a3", "overdue"] == "3 个工作日 3 小时" and rows.loc["a3", "time_basis"] == "working"
    assert rows["overdue_hours"].notna().sum() == 1 and (rows["overdue"] != "").sum() == 1
    assert list(rows.loc["a4", ["district", "street", "community", "grid"]]) == ["西区", "西街道", "西社区", "西网格"]
    later = cases.case_list(con, WHOLE, MARCH, ts("2026-03-12 10:00"), "received", limit=100).set_index("appeal_id")
    assert later.loc["a9", "status"] == "closed" and later.loc["a9", "closed_at"] == ts("2026-03-11 09:00")
    assert "in_numerator" not in rows  # only a rate's list says whether a row is in the numerator


def test_filters_on_status_channel_and_category(tiny):
    con, _ = tiny
    assert ids(con, "received", filters={"status": "open"}) == {"a3", "a4", "a5", "a9"}  # the status at T
    assert ids(con, "received", filters={"status": "cancelled"}) == {"a7"}
    assert ids(con, "received", filters={"channel": "web"}) == set()
    assert len(ids(con, "received", filters={"category": "城市管理", "subcategory": "路灯损坏"})) == 10
    assert ids(con, "received", filters={"category": "供暖"}) == set()
    assert ids(con, "received", filters={"category": None, "channel": ""}) == set(EXPECTED["received"].split())


@pytest.mark.parametrize("kwargs, message", [
    (dict(figure="nonsense"), "未知的指标"),
    (dict(figure="closed", part="numerator"), "不是比率"),
    (dict(figure="on_time_rate", part="denominatorr"), "未知的列表部分"),
    (dict(figure="received", filters={"colour": "red"}), "未知的筛选条件"),
    (dict(figure="received", filters={"status": "done"}), "未知的状态"),
    (dict(figure="received", filters={"channel": "telegraph"}), "未知的渠道"),
    (dict(figure="received", filters={"region": "999"}), "不存在"),
    (dict(figure="received", sort="name"), "未知的排序"),
    (dict(figure="received", limit=0), "每页行数"),
    (dict(figure="received", offset=-1), "起始行"),
])
def test_bad_requests_raise_a_value_error_with_a_chinese_message(tiny, kwargs, message):
    con, _ = tiny
    figure = kwargs.pop("figure")
    with pytest.raises(ValueError, match=message):
        cases.case_list(con, WHOLE, MARCH, T, figure, **kwargs)
    assert issubclass(CaseRequestError, ValueError)


def test_export_has_every_row_and_refuses_beyond_its_cap(tiny):
    con, _ = tiny
    rows = cases.case_export(con, WHOLE, MARCH, T, "received")
    assert set(rows["appeal_id"]) == set(EXPECTED["received"].split())
    with pytest.raises(CaseRequestError, match="超过导出上限"):
        cases.case_export(con, WHOLE, MARCH, T, "received", cap=5)


def test_detail_has_every_field_the_place_and_the_department(tiny):
    con, _ = tiny
    row = cases.case_detail(con, "a8")
    assert row["appeal_id"] == "a8" and row["status"] == "closed" and row["is_repeat"] is True
    assert row["created_at"] == ts("2026-03-06 09:00") and row["rated_at"] is None
    assert [name for _, _, name in row["place"]] == ["测试市", "西区", "西街道", "西社区", "西网格"]
    assert row["street_name"] == "西街道" and row["department_name"] is None
    assert cases.case_detail(con, "nope") is None


def test_events_with_elapsed_and_remaining_hours(tiny):
    _, engine = tiny
    events = [  # given out of order: the timeline sorts by time
        ("a2", "handle", ts("2026-03-05 10:00"), "东区城管局", "已修复路灯"),
        ("a2", "accept", ts("2026-03-02 09:00"), "8890话务员0001", "受理，诉求人张三来电 13812345678"),
        ("a2", "dispatch", ts("2026-03-02 10:30"), "8890便民服务中心", "分流交办至东区城管局"),
        ("a2", "supervise", ts("2026-03-04 12:00"), "督办科", "已超期，请加快办理"),
        ("a1", "accept", ts("2026-03-01 09:00"), "8890话务员0002", "受理"),
    ]
    with engine.begin() as conn:
        conn.execute(insert(schema.appeal_events), [dict(zip(("appeal_id", "event_type", "event_at", "actor", "note"),
                                                             e)) for e in events])
    df = cases.case_events(engine, "a2")
    assert list(df["event_type"]) == ["accept", "dispatch", "supervise", "handle"]
    assert list(df["label"]) == ["受理", "分流交办", "督办", "处置"]
    assert list(df["elapsed_hours"]) == pytest.approx([0, 1.5, 51, 73])
    # deadline 03-04 09:00: 48 h left at acceptance; the closing came 25 h late
    assert list(df["to_deadline_hours"]) == pytest.approx([48, 46.5, -3, -25])
    assert "13812345678" not in df["note"].iloc[0] and "张三" not in df["note"].iloc[0]
    shown = cases.case_events(engine, "a2", show_personal=True)
    assert "13812345678 " in shown["note"].iloc[0] + " " and "张三" in shown["note"].iloc[0]
    assert cases.case_events(engine, "a6").empty and cases.case_events(engine, "nope").empty
    assert list(cases.case_events(engine, "nope").columns) == list(cases.EVENT_COLUMNS)


def test_events_without_a_deadline(tiny):
    _, engine = tiny
    with engine.begin() as conn:
        conn.execute(insert(schema.appeal_events), [
            dict(appeal_id="a6", event_type="accept", event_at=ts("2026-03-04 09:00"), actor="x", note=None),
            dict(appeal_id="a6", event_type="handle", event_at=ts("2026-03-06 09:00"), actor="y", note="办结")])
    df = cases.case_events(engine, "a6")
    assert list(df["elapsed_hours"]) == [0, 48] and df["to_deadline_hours"].isna().all()


def test_the_same_lists_on_the_system_of_record(tiny):
    """The list queries also run on the system of record through its views, with the same answers."""
    from data_access.sor_views import ensure_views

    con, engine = tiny
    ensure_views(engine)
    with engine.connect() as conn:
        for figure in EXPECTED:
            direct = cases.case_list(conn, EAST, MARCH, T, figure, limit=1000)
            copied = cases.case_list(con, EAST, MARCH, T, figure, limit=1000)
            assert list(direct["appeal_id"]) == list(copied["appeal_id"]), figure
            assert cases.case_count(conn, EAST, MARCH, T, figure) == len(copied)


# =========================================================== demo city ===

END = dt.datetime(2026, 11, 20, 10, 0)


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cases_demo")
    env = demo.build(folder, appeals=20_000, months=3, end=END)
    engine = make_engine(env["APPEALS_DB_URL"])
    con = synced_store(engine, env["APPEALS_ANALYTICS_PATH"])
    yield con, engine
    con.close()
    engine.dispose()


@pytest.fixture(scope="module")
def scopes(city) -> dict[str, Scope]:
    """The whole city, a district, its busiest street and that street's busiest grid."""
    con, _ = city
    district = Scope("210302", "district")
    street = queries.children(con, district, Period.all_time(), END, "street").sort_values("received").iloc[-1]
    grid = queries.children(con, Scope(street["code"], "street"), Period.all_time(), END, "grid")
    grid = grid.sort_values("received").iloc[-1]
    return {"whole": WHOLE, "district": district, "street": Scope(street["code"], "street"),
            "grid": Scope(grid["code"], "grid")}


PERIODS = {  # each relative to the as-of time, as on screen
    "30d": lambda as_of: Period.preset("30d", as_of.date()),
    "all": lambda as_of: Period.all_time(),
    "month": lambda as_of: Period.preset("month", as_of.date()),
    "days": lambda as_of: Period.days(dt.date(2026, 9, 10), dt.date(2026, 9, 20)),
}
AS_OFS = {"end": END, "past": END - dt.timedelta(days=20, hours=3)}


def _all_pages(con, scope, period, as_of, figure, *, page=1000, **kw) -> pd.DataFrame:
    out, offset = [], 0
    while True:
        rows = cases.case_list(con, scope, period, as_of, figure, offset=offset, limit=page, **kw)
        out.append(rows)
        if len(rows) < page:
            return pd.concat(out, ignore_index=True)
        offset += page


@pytest.mark.parametrize("as_of_name", list(AS_OFS))
@pytest.mark.parametrize("period_name", list(PERIODS))
@pytest.mark.parametrize("scope_name", ["whole", "district", "street", "grid"])
def test_demo_every_figure_equals_kpis(city, scopes, scope_name, period_name, as_of_name):
    con, _ = city
    scope, as_of = scopes[scope_name], AS_OFS[as_of_name]
    period = PERIODS[period_name](as_of)
    k = queries.kpis(con, scope, period, as_of)
    count = {key: cases.case_count(con, scope, period, as_of, key) for key in cases.FIGURES}
    numerator = {rate: cases.case_count(con, scope, period, as_of, rate, part="numerator") for rate in ind.RATES}
    for key in (*ind.COUNT_KEYS, "valid"):
        assert count[key] == k[key], key
    assert count["open"] == k["received"] - k["closed"] - k["cancelled"]
    for rate, (num, den) in ind.RATES.items():
        assert count[rate] == count[den] and numerator[rate] == count[num], rate
        assert (None if count[den] == 0 else numerator[rate] / count[den]) == pytest.approx(k[rate]), rate
    # the denominators the headline figures pin down exactly
    assert count["completion_rate"] == count["repeat_rate"] == k["valid"]
    assert count["callback_rate"] == k["closed"]
    assert count["per_10k"] == k["valid"]
    if k["per_10k"] is not None:
        assert count["per_10k"] * 10000 / k["population"] == pytest.approx(k["per_10k"])
    assert k["received"] > 0 and k["closed"] > 0


@pytest.mark.parametrize("scope_name", ["whole", "district", "street", "grid"])
def test_demo_the_pages_of_every_list_hold_exactly_its_figure(city, scopes, scope_name):
    con, _ = city
    scope, period = scopes[scope_name], PERIODS["30d"](END)
    for figure in cases.FIGURES:
        for part in ((None, "numerator") if cases.FIGURES[figure].kind == "rate" else (None,)):
            n = cases.case_count(con, scope, period, END, figure, part=part)
            rows = _all_pages(con, scope, period, END, figure, part=part)
            assert len(rows) == n and rows["appeal_id"].is_unique, (figure, part)
            if part is None and cases.FIGURES[figure].kind == "rate":
                assert int(rows["in_numerator"].sum()) == cases.case_count(con, scope, period, END, figure,
                                                                           part="numerator")
    whole = cases.case_export(con, scope, Period.all_time(), END, "received")
    assert len(whole) == cases.case_count(con, scope, Period.all_time(), END, "received")
    assert whole["appeal_id"].is_unique


@pytest.mark.parametrize("parent, level", [
    ("whole", "district"), ("district", "street"), ("street", "community"), ("street", "grid")])
def test_demo_children_rows_equal_their_filtered_lists(city, scopes, parent, level):
    con, _ = city
    scope, period = scopes[parent], PERIODS["30d"](END)
    kids = queries.children(con, scope, period, END, level)
    assert len(kids) > 1
    for row in kids.head(12).itertuples(index=False):
        child = Scope(row.code, level)
        for key in (*ind.COUNT_KEYS, "valid"):
            expected = getattr(row, key)
            assert cases.case_count(con, scope, period, END, key, filters={"region": row.code}) == expected
            assert cases.case_count(con, child, period, END, key) == expected
        for rate, (num, den) in ind.RATES.items():
            d = cases.case_count(con, scope, period, END, rate, filters={"region": row.code})
            n = cases.case_count(con, scope, period, END, rate, part="numerator", filters={"region": row.code})
            value = getattr(row, rate)
            assert (None if d == 0 else n / d) == pytest.approx(None if pd.isna(value) else value), rate
        per_10k = cases.case_count(con, scope, period, END, "per_10k", filters={"region": row.code})
        if row.population:
            assert per_10k * 10000 / row.population == pytest.approx(row.per_10k)


@pytest.mark.parametrize("scope_name", ["whole", "district", "grid"])
@pytest.mark.parametrize("as_of_name", list(AS_OFS))
def test_demo_each_day_of_the_trend(city, scopes, scope_name, as_of_name):
    con, _ = city
    scope, as_of = scopes[scope_name], AS_OFS[as_of_name]
    trend = queries.daily_trend(con, scope, Period.preset("30d", as_of.date()), as_of)
    assert trend["closed"].sum() > 0
    for day, closed, received in zip(trend["day"], trend["closed"], trend["received"]):
        one = Period.days(day.date(), day.date())
        assert cases.case_count(con, scope, one, as_of, "closed_in_period") == closed, day
        assert cases.case_count(con, scope, one, as_of, "received") == received, day
    last = trend.iloc[-2]
    one = Period.days(last["day"].date(), last["day"].date())
    rows = _all_pages(con, scope, one, as_of, "closed_in_period", page=7)
    assert len(rows) == last["closed"] and rows["appeal_id"].is_unique
    assert ((rows["closed_at"] >= pd.Timestamp(one.start)) & (rows["closed_at"] < pd.Timestamp(one.end))).all()


@pytest.mark.parametrize("scope_name", ["whole", "district", "street"])
def test_demo_category_and_channel_filters_equal_the_chart_rows(city, scopes, scope_name):
    con, _ = city
    scope, period = scopes[scope_name], PERIODS["30d"](END)
    cats = queries.category_counts(con, scope, period, END, limit=100)
    assert len(cats) > 5
    for row in cats.itertuples(index=False):
        assert cases.case_count(con, scope, period, END, "received", filters={"category": row.category}) \
            == row.received
    chans = queries.channel_counts(con, scope, period, END)
    for row in chans.itertuples(index=False):
        assert cases.case_count(con, scope, period, END, "received", filters={"channel": row.channel}) \
            == row.received
    top = cats.iloc[0]
    rows = cases.case_export(con, scope, period, END, "received", filters={"category": top.category})
    assert len(rows) == top.received and set(rows["category"]) == {top.category}


@pytest.mark.parametrize("sort", list(cases.SORTS))
@pytest.mark.parametrize("descending", [True, False])
def test_demo_sorting_and_paging_are_stable(city, scopes, sort, descending):
    con, _ = city
    scope, period = scopes["district"], PERIODS["30d"](END)
    figure = "received"
    n = cases.case_count(con, scope, period, END, figure)
    assert n > 500
    paged = _all_pages(con, scope, period, END, figure, page=cases.PAGE_SIZE, sort=sort, descending=descending)
    whole = cases.case_export(con, scope, period, END, figure, sort=sort, descending=descending)
    # no duplicates, no gaps, and the pages are the whole list in the same order
    assert len(paged) == n and paged["appeal_id"].is_unique
    assert list(paged["appeal_id"]) == list(whole["appeal_id"])
    again = cases.case_list(con, scope, period, END, figure, sort=sort, descending=descending, offset=150, limit=50)
    assert list(again["appeal_id"]) == list(paged["appeal_id"].iloc[150:200])
    column = {"overdue": "overdue_hours"}.get(sort, sort)
    values = paged[column]
    present = values.dropna()
    assert values.isna().sum() == 0 or values.iloc[len(present):].isna().all()  # empty values last
    # the overdue time is in each appeal's basis: it is in order within a basis
    groups = paged.loc[present.index, "time_basis"] if sort == "overdue" else pd.Series("", index=present.index)
    for _, part in present.groupby(groups):
        assert list(part) == list(part.sort_values(ascending=not descending, kind="stable"))


def test_demo_overdue_list_is_sorted_by_lateness(city):
    con, _ = city
    rows = cases.case_list(con, WHOLE, Period.all_time(), END, "overdue_open", sort="overdue", limit=200)
    assert len(rows) > 20 and rows["overdue_hours"].notna().all() and (rows["overdue"] != "").all()
    for _, part in rows.groupby("time_basis"):  # each basis in order of its own time
        assert part["overdue_hours"].is_monotonic_decreasing
    assert (rows["status"] == "open").all() and (rows["deadline_at"] < pd.Timestamp(END)).all()


# ============================================================= exports ===

def test_csv_has_a_bom_chinese_headers_labels_and_formatted_times(tiny):
    import io

    con, _ = tiny
    rows = cases.case_export(con, WHOLE, MARCH, T, "on_time_rate", sort="created_at", descending=False)
    data = exports.to_csv_bytes(rows)
    assert data.startswith(b"\xef\xbb\xbf")
    table = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert list(table.columns) == [exports.HEADERS[c] for c in exports.HEADERS]
    assert list(table["工单号"]) == ["a1", "a2", "a3", "a8"]
    first = table.iloc[0]
    assert first["受理时间"] == "2026-03-01 09:00" and first["办结时间"] == "2026-03-05 10:00"
    assert first["渠道"] == "8890热线" and first["状态"] == "已办结" and first["计入分子"] == "是"
    assert first["诉求人"] == "张*" and first["联系电话"] == "138****5678"
    a3 = table.set_index("工单号").loc["a3"]
    assert a3["状态"] == "在办" and a3["办结时间"] == "" and a3["计入分子"] == "否"
    assert a3["超期"] == "3 个工作日 3 小时" and float(a3["超期（工作日）"]) == pytest.approx(75 / 24, abs=0.01)
    assert a3["超期（小时）"] == ""  # a limit in working days: its number is in working days only


def test_xlsx_has_one_sheet_with_the_same_table(tiny):
    import io

    from openpyxl import load_workbook

    con, _ = tiny
    rows = cases.case_export(con, WHOLE, MARCH, T, "received")
    book = load_workbook(io.BytesIO(exports.to_xlsx_bytes(rows, "受理:3/2026*")))
    (sheet,) = book.worksheets
    assert sheet.title == "受理_3_2026_"
    values = list(sheet.values)
    assert list(values[0]) == [exports.HEADERS[c] for c in exports.HEADERS if c in rows]
    assert len(values) == 1 + len(rows)
    assert [r[0] for r in values[1:]] == list(rows["appeal_id"])
    by_id = {r[0]: r for r in values[1:]}
    header = list(values[0])
    assert by_id["a3"][header.index("超期")] == "3 个工作日 3 小时"
    assert by_id["a3"][header.index("超期（工作日）")] == pytest.approx(75 / 24, abs=0.01)
    assert by_id["a3"][header.index("超期（小时）")] is None
    assert by_id["a1"][header.index("超期")] is None and by_id["a9"][header.index("办结时间")] is None


def test_an_urgent_appeal_is_late_in_clock_hours_in_the_list_and_the_files(tiny_sor):
    """A limit in hours (紧急) counts clock hours, weekend or not; a limit in working days working time."""
    import io

    insert_appeals(tiny_sor, [
        dict(appeal_id="u1", urgency="urgent", created_at=ts("2026-03-05 09:00"), deadline_at=ts("2026-03-05 15:00")),
        dict(appeal_id="n1", urgency="normal", created_at=ts("2026-03-05 09:00"), deadline_at=ts("2026-03-05 15:00")),
    ])
    con = synced_store(tiny_sor)
    # Thu 15:00 to Mon 10:30: 91.5 clock hours, 9 + 24 + 10.5 = 43.5 working hours
    at = ts("2026-03-09 10:30")
    rows = cases.case_export(con, WHOLE, MARCH, at, "overdue_open").set_index("appeal_id")
    assert rows.loc["u1", "overdue"] == "91 小时" and rows.loc["u1", "overdue_hours"] == pytest.approx(91.5)
    assert rows.loc["n1", "overdue"] == "1 个工作日 19 小时" and rows.loc["n1", "overdue_hours"] == pytest.approx(43.5)
    table = pd.read_csv(io.BytesIO(exports.to_csv_bytes(rows.reset_index())), dtype=str, keep_default_na=False,
                        encoding="utf-8-sig").set_index("工单号")
    assert table.loc["u1", "超期"] == "91 小时" and table.loc["n1", "超期"] == "1 个工作日 19 小时"
    assert float(table.loc["u1", "超期（小时）"]) == 91.5 and table.loc["u1", "超期（工作日）"] == ""
    assert float(table.loc["n1", "超期（工作日）"]) == pytest.approx(43.5 / 24, abs=0.01)
    assert table.loc["n1", "超期（小时）"] == ""


def test_an_empty_list_exports_its_headers(tiny):
    con, _ = tiny
    rows = cases.case_export(con, WHOLE, Period(ts("2025-01-01"), ts("2025-02-01")), T, "received")
    assert rows.empty
    assert exports.to_csv_bytes(rows).decode("utf-8-sig").strip() == ",".join(
        exports.HEADERS[c] for c in exports.HEADERS if c in rows)
    assert exports.to_xlsx_bytes(rows)[:2] == b"PK"
