"""The drill-down page (/region) through AppTest, at every level of the demo city."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from data_access import compare, queries
from data_access.scope import Period, Scope
from data_access.sor_views import ensure_views
from data_access.store import make_engine
from tests import demo
from tests.html_tables import html_tables
from tests.conftest import ROOT, sign_in

LEVEL_CODES = {"city": "210300", "district": "210302", "street": "210302001", "community": "210302001001",
               "grid": "210302001001001"}


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    return demo.build(tmp_path_factory.mktemp("region"), appeals=15_000, months=14)


@pytest.fixture
def page(city, monkeypatch):
    for name, value in city.items():
        monkeypatch.setenv(name, value)

    def run(as_role: str = "city", as_region: str | None = None, **params) -> AppTest:
        at = sign_in(AppTest.from_file(str(ROOT / "app.py"), default_timeout=120), as_role, as_region)
        at.switch_page("pages/region.py")
        for k, v in params.items():
            at.query_params[k] = v
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    return run


def _title(at) -> str:
    return next(h.value for h in at.get("html") if "screen-title" in h.value)


def _as_of(at):
    import datetime as dt
    import re

    return dt.datetime.fromisoformat(re.search(r"截至 (\d{4}-\d\d-\d\d \d\d:\d\d)", _title(at)).group(1))


@pytest.mark.parametrize("level", list(LEVEL_CODES))
def test_every_level_renders_with_its_figures(page, level):
    at = page(region=LEVEL_CODES[level], period="year")
    assert not at.error
    tiles = {m.label: m.value for m in at.metric}
    # 超期 and 临期 here count the period's appeals, and say so (the big screen's count every open appeal)
    assert set(tiles) >= {"受理量", "每万人诉求量", "办结率", "按时办结率", "满意率", "超期（本期受理）", "临期（本期受理）"}
    if level != "grid":
        assert "超期（本期受理）" in html_tables(at)["children-ranking"].columns
    assert tiles["受理量"] not in ("", "0")
    crumbs = next(h.value for h in at.get("html") if "crumbs" in h.value)
    assert crumbs.count("region=") >= (list(LEVEL_CODES).index(level))  # a link to every level above
    charts = at.get("plotly_chart")
    assert len(charts) == 3
    if level == "grid":
        assert "网格员" in " ".join(h.value for h in at.get("html"))
        assert len(at.get("deck_gl_json_chart")) == 1  # the grid's points
    else:
        assert len(at.get("deck_gl_json_chart")) == 1  # the children map


def test_tiles_equal_the_query_layer_and_compare_with_parent_and_last_year(page, city):
    at = page(region="210302001", period="30d")
    tiles = {m.label: m for m in at.metric}
    engine = make_engine(city["APPEALS_DB_URL"])
    ensure_views(engine)
    as_of = _as_of(at)
    with engine.connect() as conn:
        rows = compare.comparison(conn, Scope("210302001", "street"), Period.preset("30d", as_of.date()), as_of)
    engine.dispose()
    # the title shows as-of to the minute: compare counts, which match unless an appeal landed in that minute
    assert tiles["受理量"].value == f"{int(rows.loc['received', 'value']):,}"
    last = rows.loc["received", "last_year"]
    assert last is not None  # 14 months of data: last year's same 30 days exist
    notes = " ".join(h.value for h in at.get("html") if "tile-note" in h.value)
    assert "上级平均" in notes and "明细" in notes


def _tile_notes(at) -> list[str]:
    return [h.value for h in at.get("html") if h.value.startswith('<div class="tile-note"')]


def test_an_accounts_own_region_shows_no_parent_average_it_cannot_read(page):
    """A street account on its street: the district is outside its territory, so no "上级平均 —" on every tile;
    the district account sees the district's average on the same street."""
    own = _tile_notes(page("street", "210302001", region="210302001", period="30d"))
    assert len(own) == 7 and all("明细" in n and "上级平均" not in n for n in own), own
    above = _tile_notes(page("district", "210302", region="210302001", period="30d"))
    assert len(above) == 7 and all("上级平均" in n and "上级平均 —" not in n for n in above), above


def test_the_region_is_in_the_url_and_picking_a_child_goes_down(page):
    at = page(region="210302", period="7d")
    assert "铁东区" in _title(at)
    at.selectbox(key="child_pick").select_index(1).run()
    code = at.query_params["region"]
    code = code[-1] if isinstance(code, list) else code
    assert code.startswith("210302") and len(code) == 9  # one of its streets
    assert "街道" in _title(at)
    assert at.query_params["period"] in ("7d", ["7d"])  # the period stays


@pytest.mark.parametrize("params, message", [
    ({"region": "999999"}, "不存在"),
    ({"region": "'; DROP TABLE appeals; --"}, "无效"),
    ({"period": "custom", "from": "2026-05-01", "to": "2026-01-01"}, "早于"),
    ({"period": "custom", "from": "yesterday", "to": "today"}, "起止日期"),
    ({"period": "forever"}, "未知的时间范围"),
    ({"metric": "happiness", "region": "210302"}, "未知的地图指标"),
])
def test_bad_parameters_give_clear_messages(page, params, message):
    at = page(**params)
    shown = " ".join([e.value for e in at.error] + [w.value for w in at.warning])
    assert message in shown, shown


def test_queries_behind_the_page_agree_with_children(city):
    """The ranking's rows are the children of the region, with the region's totals as their sum."""
    from data_access import analytics, sync

    con = analytics.open_store(None)
    sync.sync(make_engine(city["APPEALS_DB_URL"]), con)
    as_of = sync.status(con).last_success_at
    period = Period.preset("year", as_of.date())
    kids = queries.children(con, Scope("210302", "district"), period, as_of, "street")
    whole = queries.kpis(con, Scope("210302", "district"), period, as_of)
    assert int(kids["received"].sum()) == whole["received"]


def test_the_hexagon_layer_shows_recent_appeals(page):
    import json

    at = page(region="210302", layer="hex")
    spec = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    kinds = {layer["@@type"] for layer in spec["layers"]}
    assert "PolygonLayer" in kinds  # the hexagons
    hexes = next(layer for layer in spec["layers"] if layer["@@type"] == "PolygonLayer")
    assert 0 < len(hexes["data"]) <= 3000


def _display(frame) -> "pd.DataFrame":
    """A table as the browser shows it: a styled table's display values, else its cells as text."""
    import pandas as pd
    import pyarrow as pa

    styler = frame.proto.arrow_data.styler
    if styler.display_values:
        return pa.ipc.open_stream(styler.display_values).read_all().to_pandas()
    return frame.value.astype(str).where(frame.value.notna(), pd.NA)


@pytest.fixture
def heights(monkeypatch):
    """Every st.dataframe call's rows and height, as the pages make them."""
    import streamlit as st

    calls = []
    real = st.dataframe

    def recording(data, *args, **kwargs):
        calls.append((len(getattr(data, "data", data)), kwargs.get("height")))
        return real(data, *args, **kwargs)

    monkeypatch.setattr(st, "dataframe", recording)
    return calls


@pytest.mark.parametrize("level", ["district", "street"])
def test_tables_write_numbers_one_way_and_fit_their_rows(page, level):
    """Rates with one decimal and %, counts whole with separators, a missing figure as "—" (never None); no
    table has a fixed height (an empty row under the last one) or an empty row."""
    import re

    at = page(region=LEVEL_CODES[level], period="today")
    assert not at.error
    shown = html_tables(at, text=True)
    ranking = shown["children-ranking"]
    for column in ("办结率", "按时率", "满意率"):
        assert ranking[column].map(lambda v: v == "—" or re.fullmatch(r"\d{1,3}\.\d%", v) is not None).all(), \
            ranking[column].tolist()
    assert ranking["受理"].map(lambda v: re.fullmatch(r"\d{1,3}(,\d{3})*", v) is not None).all()
    # today's figures leave some rates without a denominator: they read "—"
    assert (ranking[["办结率", "按时率", "满意率"]] == "—").any().any()
    for table in shown.values():
        assert not table.isin(["None", "nan", "NaN", "<NA>"]).any().any(), table
        assert all(any(v.strip() for v in row) for row in table.itertuples(index=False))
    for frame in at.dataframe:  # tables without links stay data grids
        assert not _display(frame).isin(["None", "nan", "NaN", "<NA>"]).any().any()


def test_a_grids_points_are_drawn_only_in_colours_the_legend_names(page):
    """Yellow is 临期 on the grid map as on every page, and each colour drawn is in the legend."""
    import json

    from ui.region import POINT_STYLES

    at = page(region=LEVEL_CODES["grid"], period="year")
    legend = " ".join(h.value for h in at.get("html") if "网格内诉求点位" in h.value)
    deck = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    (points,) = [layer["data"] for layer in deck["layers"] if layer.get("@@type") == "ScatterplotLayer"]
    assert points
    named = {tuple(rgb): (label, colour) for label, colour, rgb in POINT_STYLES.values()}
    for p in points:
        label, colour = named[tuple(p["color"][:3])]
        assert p["state_s"] == label and f"{colour}：{label}" in legend
    assert "黄：临期" in legend and "黄：在办" not in legend
    assert all(f"{colour}：{label}" in legend for label, colour, _ in POINT_STYLES.values())
