"""The source's words are kept: a channel no mapping groups is stored, counted, filtered and shown as itself.

One small export with the kinds of channel word a city's file holds: words the
mapping groups into our channels (市民热线 → hotline, 网格巡查 → grid, "mobile app"
→ app, matched ignoring case), our own code (hotline) and our own name (8890热线),
words it does not know (LA 311's Call and "Web Form & Email", a number, a word
that looks like SQL), a blank, and words longer than the columns. The expected
values are the words themselves, cut where the column ends.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest
from sqlalchemy import MetaData, inspect, select

from data_access import alerts, analytics, cases, exports, queries, schema, sync
from data_access.importers.appeals import import_appeals
from data_access.importers.mapping import parse_mapping
from data_access.scope import Period, Scope
from data_access.sor_views import drop_views, ensure_views
from data_access.store import bulk_insert, create_schema
from tests.conftest import synced_store

AS_OF = dt.datetime(2026, 4, 1)
ALL = Period.all_time()
WHOLE = Scope.whole()

LONG = "区政务服务中心转办（第三方平台）" * 5          # 80 characters
SPACED = "A" * 31 + " " + "B" * 10                     # its 32nd character is a space
SQLISH = "x' OR '1'='1"

MAPPING = parse_mapping({
    "source": {"timezone": "Asia/Shanghai"},
    "columns": {"appeal_id": "id", "created_at": "created", "deadline_at": "deadline", "category": "type",
                "channel": "source", "department": "dept"},
    "values": {"channel": {"市民热线": "hotline", "网格巡查": "grid", "mobile app": "app"}},
})

# id, source word, deadline, category, department
ROWS = [
    ("C01", "Call", "2026-03-05 09:00", "Bulky Items", "Bureau of Sanitation"),   # overdue at AS_OF
    ("C02", "Call", "", "Bulky Items", "Bureau of Sanitation"),
    ("C03", "Web Form & Email", "", "Graffiti", ""),
    ("C04", "市民热线", "", "供暖", "市热力公司"),
    ("C05", "网格巡查", "", "占道经营", ""),
    ("C06", "Mobile App", "", "311", ""),
    ("C07", "hotline", "", "供暖", ""),
    ("C08", "8890热线", "", "供暖", ""),
    ("C09", "", "", "供暖", ""),
    ("C10", LONG, "", "供暖", ""),
    ("C11", "12345", "", "供暖", ""),
    ("C12", SQLISH, "", "供暖", ""),
    ("C13", SPACED, "", "供暖", ""),
]

# stored (channel, channel_label), worked out from the rules in docs/import.md
STORED = {
    "C01": ("Call", "Call"),
    "C02": ("Call", "Call"),
    "C03": ("Web Form & Email", "Web Form & Email"),
    "C04": ("hotline", "市民热线"),
    "C05": ("grid", "网格巡查"),
    "C06": ("app", "Mobile App"),
    "C07": ("hotline", "hotline"),
    "C08": ("hotline", "8890热线"),
    "C09": ("other", None),
    "C10": (LONG[:32], LONG[:64]),
    "C11": ("12345", "12345"),
    "C12": (SQLISH, SQLISH),
    "C13": ("A" * 31, SPACED),
}


def _export(path, rows=ROWS):
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["id", "created", "deadline", "type", "source", "dept"])
    for i, (key, word, deadline, category, dept) in enumerate(rows):
        writer.writerow([key, f"2026-03-{i + 1:02d} 09:00", deadline, category, word, dept])
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def _stored(engine) -> dict:
    a = schema.appeals
    with engine.connect() as conn:
        return {r[0]: (r[1], r[2]) for r in conn.execute(select(a.c.appeal_id, a.c.channel, a.c.channel_label))}


@pytest.fixture
def imported(tmp_path, sor):
    report = import_appeals(sor, _export(tmp_path / "export.csv"), MAPPING, timezone="Asia/Shanghai",
                            out_dir=tmp_path / "out", now=AS_OF)
    con = synced_store(sor)
    yield sor, con, report
    con.close()


# ------------------------------------------------------------- the import ---

def test_the_import_keeps_the_sources_words(imported):
    sor, _, report = imported
    assert (report.read, report.inserted, report.quarantined) == (13, 13, 0)
    # Call ×2, Web Form & Email, LONG, 12345, SQLISH, SPACED; the blank is no channel at all
    assert report.warnings["unmapped_channel"] == 7
    assert _stored(sor) == STORED
    assert len(LONG[:32]) == 32 and len(LONG[:64]) == 64


def test_reimporting_changes_nothing_and_an_older_import_gains_its_words(tmp_path, imported):
    sor, _, _ = imported
    again = import_appeals(sor, _export(tmp_path / "export.csv"), MAPPING, timezone="Asia/Shanghai",
                           out_dir=None, now=AS_OF)
    assert (again.unchanged, again.updated, again.inserted) == (13, 0, 0)
    # rows imported before words were kept: channel other, no label
    a = schema.appeals
    with sor.begin() as conn:
        conn.execute(a.update().where(a.c.appeal_id.in_(["C01", "C04"])).values(channel="other", channel_label=None))
    fixed = import_appeals(sor, _export(tmp_path / "export.csv"), MAPPING, timezone="Asia/Shanghai",
                           out_dir=None, now=AS_OF)
    assert (fixed.unchanged, fixed.updated) == (11, 2)
    assert _stored(sor) == STORED


# ---------------------------------------------------------------- queries ---

def test_channel_counts_has_one_row_per_word(imported):
    _, con, _ = imported
    counts = queries.channel_counts(con, WHOLE, ALL, AS_OF)
    assert dict(zip(counts["channel"], counts["received"])) == {
        "hotline": 3, "Call": 2, "grid": 1, "app": 1, "other": 1, "Web Form & Email": 1, LONG[:32]: 1,
        "12345": 1, SQLISH: 1, "A" * 31: 1}


@pytest.mark.parametrize("word, ids", [
    ("Call", {"C01", "C02"}),
    ("Web Form & Email", {"C03"}),
    (SQLISH, {"C12"}),                 # a bound value: it matches itself, not everything
    ("hotline", {"C04", "C07", "C08"}),
    ("grid", {"C05"}),
    ("web", set()),                    # one of our channels, with no appeals: an empty list, not an error
])
def test_the_case_list_filters_by_any_channel_in_the_data(imported, word, ids):
    _, con, _ = imported
    rows = cases.case_list(con, WHOLE, ALL, AS_OF, "received", filters={"channel": word})
    assert set(rows["appeal_id"]) == ids
    assert cases.case_count(con, WHOLE, ALL, AS_OF, "received", filters={"channel": word}) == len(ids)


@pytest.mark.parametrize("word", ["telegraph", "call", "Call ", "' OR 1=1 --"])
def test_a_channel_not_in_the_data_is_refused_with_a_message(imported, word):
    _, con, _ = imported
    with pytest.raises(cases.CaseRequestError, match="未知的渠道"):
        cases.case_list(con, WHOLE, ALL, AS_OF, "received", filters={"channel": word})


def test_patrol_reports_are_the_grid_group(imported):
    _, con, _ = imported
    reports = queries.recent_appeals(con, WHOLE, ALL, AS_OF, channel="grid")
    assert list(reports["appeal_id"]) == ["C05"]


def test_the_warning_page_offers_and_filters_by_a_word(imported):
    _, con, _ = imported
    options = alerts.filter_options(con, WHOLE, AS_OF)
    assert {"Call", "Web Form & Email", "hotline", "other"} <= set(options["channel"]["code"])
    listed = alerts.warning_list(con, WHOLE, ALL, AS_OF, filters={"channel": "Call"})
    assert list(listed["appeal_id"]) == ["C01"] and list(listed["state"]) == ["red"]


def test_detail_and_exports_carry_the_word(imported):
    _, con, _ = imported
    assert cases.case_detail(con, "C04")["channel_label"] == "市民热线"
    rows = cases.case_export(con, WHOLE, ALL, AS_OF, "received", sort="created_at", descending=False)
    table = exports.present(rows).set_index("工单号")
    assert table.loc["C01", "渠道"] == "Call" and table.loc["C01", "来源渠道（原文）"] == "Call"
    assert table.loc["C04", "渠道"] == "8890热线" and table.loc["C04", "来源渠道（原文）"] == "市民热线"
    assert table.loc["C09", "渠道"] == "其他渠道" and table.loc["C09", "来源渠道（原文）"] == ""
    assert table.loc["C10", "渠道"] == LONG[:32] and table.loc["C10", "来源渠道（原文）"] == LONG[:64]


def test_unmapped_departments_and_categories_show_as_themselves(imported):
    _, con, _ = imported
    rows = cases.case_list(con, WHOLE, ALL, AS_OF, "received", filters={"channel": "Call"})
    assert set(rows["category"]) == {"Bulky Items"} and set(rows["department"]) == {"Bureau of Sanitation"}
    table = exports.present(rows)
    assert set(table["类别"]) == {"Bulky Items"} and set(table["承办单位"]) == {"Bureau of Sanitation"}
    top = queries.category_counts(con, WHOLE, ALL, AS_OF)
    assert dict(zip(top["category"], top["received"]))["Bulky Items"] == 2
    depts = queries.department_stats(con, WHOLE, ALL, AS_OF)
    assert dict(zip(depts["name"], depts["received"])) == {"Bureau of Sanitation": 2, "市热力公司": 1}
    filtered = cases.case_list(con, WHOLE, ALL, AS_OF, "received", filters={"category": "Graffiti"})
    assert list(filtered["appeal_id"]) == ["C03"]


# --------------------------------------------------------------------- UI ---

def test_bars_are_labelled_with_the_words(imported):
    from ui import charts

    _, con, _ = imported
    counts = queries.channel_counts(con, WHOLE, ALL, AS_OF)
    fig = charts.channel_bars(counts, 300)
    # plotly renders HTML in labels: each is escaped there (``&amp;``), and plotly shows it as the word again
    bars = dict(zip((html.unescape(y) for y in fig.data[0].y), (c[0] for c in fig.data[0].customdata)))
    assert bars == {"8890热线": "hotline", "Call": "Call", "网格员上报": "grid", "随手拍": "app", "其他渠道": "other",
                    "Web Form & Email": "Web Form & Email", LONG[:32]: LONG[:32], "12345": "12345",
                    SQLISH: SQLISH, "A" * 31: "A" * 31}
    assert fig.layout.yaxis.type == "category"  # "12345" is a name, not a position on a number axis
    categories = charts.categories(queries.category_counts(con, WHOLE, ALL, AS_OF), 300)
    assert "311" in list(categories.data[0].y) and categories.layout.yaxis.type == "category"


def test_names_that_two_channels_share_are_told_apart():
    from ui.format import channel_names

    assert channel_names(["hotline", "Call", "other"]) == ["8890热线", "Call", "其他渠道"]
    # a view may hand over our own name as a word: the two bars must not merge into one
    assert channel_names(["hotline", "8890热线"]) == ["8890热线（hotline）", "8890热线（8890热线）"]


@pytest.mark.parametrize("word", ["Web Form & Email", "a=b#c?d", "市民 热线/100%", SQLISH])
def test_a_bar_link_carries_the_word_encoded(imported, word):
    from ui import cases as ui_cases
    from ui.params import ViewParams

    _, con, _ = imported
    view = ViewParams(kiosk=False, period="all", date_from=None, date_to=None, region=None, as_of=None,
                      problems=())
    url = ui_cases.figure_url("received", view, AS_OF, channel=word)
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert query["channel"] == word and word not in urlsplit(url).query
    request = ui_cases.read_request(query)
    assert request.filters == {"channel": word}
    if word in ("Web Form & Email", SQLISH):
        rows = cases.case_list(con, WHOLE, ALL, AS_OF, "received", filters=request.filters)
        assert len(rows) == 1


def test_case_detail_shows_the_word_beside_its_group():
    from ui.cases import channel_text

    assert channel_text("hotline", "Call") == "8890热线（来源：Call）"
    assert channel_text("hotline", "8890热线") == "8890热线"
    assert channel_text("hotline", "hotline") == "8890热线"
    assert channel_text("hotline", None) == "8890热线"
    assert channel_text("Call", "Call") == "Call"
    assert channel_text(LONG[:32], LONG[:64]) == f"{LONG[:32]}（来源：{LONG[:64]}）"


# ------------------------------------------------------- every database ---

def test_long_words_are_stored_cut_on_every_database(any_sor, tmp_path):
    wide = "🚒消防通道占用（来自微信小程序“随手拍”的二次转办）" * 3   # 4-byte characters too
    rows = [("W1", wide, "", "消防", ""), ("W2", "Call", "", "消防", ""), ("W3", "市民热线", "", "消防", "")]
    export = _export(tmp_path / "wide.csv", rows)
    report = import_appeals(any_sor, export, MAPPING, timezone="Asia/Shanghai", out_dir=None, now=AS_OF)
    assert (report.inserted, report.quarantined) == (3, 0)
    assert _stored(any_sor) == {"W1": (wide[:32], wide[:64]), "W2": ("Call", "Call"), "W3": ("hotline", "市民热线")}
    again = import_appeals(any_sor, export, MAPPING, timezone="Asia/Shanghai", out_dir=None, now=AS_OF)
    assert again.unchanged == 3
    ensure_views(any_sor)
    with any_sor.connect() as conn:  # the query layer on the database itself
        counts = queries.channel_counts(conn, WHOLE, ALL, AS_OF)
    assert dict(zip(counts["channel"], counts["received"])) == {wide[:32]: 1, "Call": 1, "hotline": 1}


def test_a_database_without_the_label_column_still_works(any_sor):
    """An older system of record, or a city's view made before channel_label: NULL wherever it is read."""
    drop_views(any_sor)
    schema.appeals.drop(any_sor)
    old = MetaData()
    then = schema.appeals.to_metadata(old)
    then._columns.remove(then.c.channel_label)
    old.create_all(any_sor)
    columns = [c.name for c in then.columns]
    row = {"appeal_id": "O1", "channel": "Call", "category": "供暖", "created_at": dt.datetime(2026, 3, 2, 9),
           "updated_at": dt.datetime(2026, 3, 2, 9), "status": "open", "is_repeat": False, "is_supervised": False}
    bulk_insert(any_sor, then, columns, [tuple(row.get(c) for c in columns)])

    ensure_views(any_sor)
    f = analytics.facts
    with any_sor.connect() as conn:  # the query layer on the database itself, through its views
        counts = queries.channel_counts(conn, WHOLE, ALL, AS_OF)
        labels = conn.execute(select(f.c.appeal_id, f.c.channel_label)).all()
    assert dict(zip(counts["channel"], counts["received"])) == {"Call": 1}
    assert [tuple(r) for r in labels] == [("O1", None)]
    con = analytics.open_store(None)
    try:
        assert sync.sync(any_sor, con, now=AS_OF).appeals_copied == 1
        assert cases.case_detail(con, "O1")["channel_label"] is None
    finally:
        con.close()

    create_schema(any_sor)  # an upgrade adds the column; the views follow
    assert "channel_label" in {c["name"] for c in inspect(any_sor).get_columns("appeals")}
    ensure_views(any_sor)
    assert "channel_label" in {c["name"] for c in inspect(any_sor).get_columns("appeal_facts")}


# ------------------------------------------------------------------ pages ---

ROUTER = """
import streamlit as st
from ui import boot

st.set_page_config(page_title="诉求指挥中心", layout="wide")
pages = [st.Page({first!r}, url_path={first_path!r}, default=True),
         st.Page({second!r}, url_path={second_path!r})]
boot.run_routed(st.navigation(pages, position="hidden").run)
"""


def _page(tmp_path, sor, monkeypatch, which: str, **params):
    from streamlit.testing.v1 import AppTest

    from tests.conftest import ROOT, sign_in

    monkeypatch.setenv("APPEALS_DB_URL", str(sor.url))
    monkeypatch.setenv("APPEALS_ANALYTICS_PATH", str(tmp_path / "page.duckdb"))
    other = "case" if which == "cases" else "cases"
    script = ROUTER.format(first=str(ROOT / "pages" / f"{which}.py"), first_path=which,
                           second=str(ROOT / "pages" / f"{other}.py"), second_path=other)
    at = sign_in(AppTest.from_string(script, default_timeout=120))
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at, " ".join(h.value for h in at.get("html"))


def test_the_pages_show_the_words(tmp_path, sor, monkeypatch):
    import html

    import_appeals(sor, _export(tmp_path / "export.csv"), MAPPING, timezone="Asia/Shanghai", out_dir=None, now=AS_OF)
    at, text = _page(tmp_path, sor, monkeypatch, "case", id="C04")
    assert "8890热线（来源：市民热线）" in text
    at, text = _page(tmp_path, sor, monkeypatch, "cases", figure="received", period="all",
                     as_of=AS_OF.isoformat(), channel="Web Form & Email")
    assert not at.error, [e.value for e in at.error]
    assert '共 <span class="n">1</span> 件' in text and html.escape("渠道：Web Form & Email") in text
    at, _ = _page(tmp_path, sor, monkeypatch, "cases", figure="received", period="all", as_of=AS_OF.isoformat(),
                  channel="Telegraph")
    assert "未知的渠道" in " ".join(e.value for e in at.error)
