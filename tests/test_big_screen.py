"""The big screen through AppTest: it renders, and its tiles equal the query layer's figures."""

from __future__ import annotations

import datetime as dt
import io
import json
from contextlib import redirect_stdout

import pytest
from streamlit.testing.v1 import AppTest

from data_access import cli
from tests import demo
from tests.conftest import ROOT, sign_in
from tests.html_tables import html_tables
from ui import format as fmt

TILE_KEYS = {
    "今日受理": ("today", "received"),
    "本月受理": ("month", "received"),
    "办结率 · 近30天": ("30d", "completion_rate"),
    "按时办结率 · 近30天": ("30d", "on_time_rate"),
    "满意率 · 近30天": ("30d", "satisfaction_rate"),
    "网格内解决率 · 近30天": ("30d", "in_grid_rate"),
    "超期 · 全部在办": ("all", "overdue_open"),
    "临期 · 全部在办": ("all", "due_soon_open"),
}


@pytest.fixture(scope="module")
def demo_env(tmp_path_factory):
    return demo.build(tmp_path_factory.mktemp("bigscreen"))


@pytest.fixture
def app(demo_env, monkeypatch):
    for name, value in demo_env.items():
        monkeypatch.setenv(name, value)

    def run(**params) -> AppTest:
        at = sign_in(AppTest.from_file(str(ROOT / "app.py"), default_timeout=120))
        for k, v in params.items():
            at.query_params[k] = v
        at.run()
        return at

    return run


def _cli_kpis(env, as_of, **period) -> dict:
    args = ["kpis", "--json", "--db", env["APPEALS_DB_URL"], "--as-of", as_of.isoformat()]
    for flag, value in period.items():
        args += [f"--{flag}", value.isoformat()]
    out = io.StringIO()
    with redirect_stdout(out):
        assert cli.main(args) == 0
    return json.loads(out.getvalue())


def _expected(env, as_of) -> dict:
    today = as_of.date()
    periods = {
        "today": {"from": today, "to": today},
        "month": {"from": today.replace(day=1), "to": today},
        "30d": {"from": today - dt.timedelta(days=29), "to": today},
        "all": {},
    }
    return {name: _cli_kpis(env, as_of, **p) for name, p in periods.items()}


def _tiles(at: AppTest) -> dict[str, str]:
    """Tile label → value."""
    return {m.label: m.value for m in at.metric}


def _tile_links(at: AppTest) -> dict[str, str]:
    """Tile label → the URL of its 明细 link."""
    import html
    import re

    found = (re.search(r'class="tile-link" data-label="([^"]*)"><a href="([^"]*)"', h.value) for h in at.get("html"))
    return {html.unescape(m.group(1)): html.unescape(m.group(2)) for m in found if m}


def _as_of_shown(at: AppTest):
    """The as-of time the page states in its header ("数据截至 …")."""
    import re

    text = " ".join(h.value for h in at.get("html"))
    found = re.search(r'数据截至 <b title="(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)">', text)
    assert found, "the header states no as-of time"
    return dt.datetime.fromisoformat(found.group(1))


def test_big_screen_renders_with_tiles_equal_to_kpis_json(app, demo_env):
    at = app()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    tiles = _tiles(at)
    assert set(tiles) == set(TILE_KEYS)
    expected = _expected(demo_env, _as_of_shown(at))
    for label, (period, key) in TILE_KEYS.items():
        value = expected[period][key]
        shown = fmt.rate(value) if key.endswith("_rate") else fmt.count(value)
        assert tiles[label] == shown, (label, tiles[label], shown)
    # the figures are real: the demo has appeals this month and a stock of overdue ones
    assert expected["month"]["received"] > 0 and expected["all"]["overdue_open"] > 0


def test_big_screen_has_every_panel(app):
    at = app()
    assert not at.exception
    titles = " ".join(h.value for h in at.get("html"))
    for panel in ("近30天受理与办结", "诉求类别前10位", "受理渠道", "街道排名", "最新超期工单", "诉求分布", "数据截至"):
        assert panel in titles, panel
    assert len(at.get("plotly_chart")) == 3
    assert len(at.get("deck_gl_json_chart")) == 1
    shown = html_tables(at)
    ranking, overdue = shown["ranking"], shown["newest-overdue"]
    assert len(ranking) >= 30          # the demo city has about 40 streets
    assert 0 < len(overdue) <= 20
    assert not {"appellant_name", "appellant_phone", "address"} & set(overdue.columns)


@pytest.mark.parametrize("period", ["today", "7d"])
def test_the_rankings_overdue_is_the_tiles_overdue(app, demo_env, period):
    """超期 means one thing on the big screen: every open overdue appeal, whenever received. The street
    ranking's 超期 column adds up to the tile, for any period, and both labels say 全部在办."""
    at = app(period=period)
    tiles = _tiles(at)
    ranking = html_tables(at)["ranking"]
    column = "超期（全部在办）"
    assert column in ranking.columns and "超期" not in ranking.columns
    total = sum(int(str(v).replace(",", "")) for v in ranking[column])
    expected = _expected(demo_env, _as_of_shown(at))["all"]["overdue_open"]
    assert total == expected and fmt.count(total) == tiles["超期 · 全部在办"]
    # the period's own overdue appeals are fewer (today's, or the last 30 days' which hold the last 7 days'):
    # the two meanings differ on this data, so the sum above tells them apart
    assert _expected(demo_env, _as_of_shown(at))[{"7d": "30d"}.get(period, period)]["overdue_open"] < expected


@pytest.mark.parametrize("period", ["today", "7d", "month", "year", "all"])
def test_every_period_renders(app, period):
    at = app(period=period)
    assert not at.exception and not at.error


def test_a_district_big_screen_and_bad_parameters(app):
    at = app(region="210302", kiosk="1")
    assert not at.exception and not at.error
    assert "铁东区" in " ".join(h.value for h in at.get("html"))
    at = app(region="999999")
    assert not at.exception
    assert any("不存在" in w.value for w in at.warning)
    at = app(region="' OR 1=1 --", period="bogus")
    assert not at.exception and not at.error


@pytest.mark.attack("faults")
@pytest.mark.parametrize("db_url, message", [
    ("postgresql+psycopg://someone:pw@127.0.0.1:1/nowhere", "无法连接诉求数据库"),
    ("sqlite:///{tmp}/no-tables.db", "no table"),
    ("notadriver://x", "无法连接诉求数据库"),
])
def test_unusable_database_shows_a_clear_message(monkeypatch, tmp_path, db_url, message):
    monkeypatch.setenv("APPEALS_DB_URL", db_url.format(tmp=tmp_path))
    monkeypatch.setenv("APPEALS_ANALYTICS_PATH", str(tmp_path / "analytics.duckdb"))
    at = sign_in(AppTest.from_file(str(ROOT / "app.py"), default_timeout=60))
    at.run()
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    assert message in errors
    assert "pw@" not in errors


@pytest.mark.attack("faults")
def test_empty_database_shows_an_empty_state(monkeypatch, tmp_path, sor):
    monkeypatch.setenv("APPEALS_DB_URL", str(sor.url))
    monkeypatch.setenv("APPEALS_ANALYTICS_PATH", str(tmp_path / "analytics.duckdb"))
    at = sign_in(AppTest.from_file(str(ROOT / "app.py"), default_timeout=60))
    at.run()
    assert not at.exception and not at.error
    assert any("暂无数据" in i.value for i in at.info)


@pytest.mark.attack("faults")
def test_a_lost_source_keeps_the_last_data_with_a_warning(monkeypatch, tmp_path):
    env = demo.build(tmp_path, appeals=3000, months=2)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("APPEALS_SYNC_INTERVAL_SECONDS", "0")
    at = sign_in(AppTest.from_file(str(ROOT / "app.py"), default_timeout=120))
    at.run()
    assert not at.exception and not at.error
    received = _tiles(at)["本月受理"]

    from data_access import sync

    def unreachable(*args, **kwargs):
        raise sync.SyncError("postgresql://db.internal/appeals: OperationalError: connection refused")

    monkeypatch.setattr(sync, "sync", unreachable)  # the database goes away
    at = sign_in(AppTest.from_file(str(ROOT / "app.py"), default_timeout=120))
    at.run()
    assert not at.exception
    header = " ".join(h.value for h in at.get("html"))
    assert "数据源连接失败" in header
    assert _tiles(at)["本月受理"] == received  # the last data, still shown


def test_the_screen_as_of_a_past_moment_matches_kpis(app, demo_env):
    past = _as_of_shown(app()) - dt.timedelta(days=20, hours=3)
    at = app(as_of=past.isoformat())
    assert not at.exception and not at.error
    assert "回看时点" in " ".join(h.value for h in at.get("html"))
    tiles = _tiles(at)
    expected = _expected(demo_env, past)
    for label, (period, key) in TILE_KEYS.items():
        value = expected[period][key]
        assert tiles[label] == (fmt.rate(value) if key.endswith("_rate") else fmt.count(value)), label


def test_an_unreadable_as_of_is_named(app):
    at = app(as_of="last tuesday")
    assert not at.exception
    assert any("last tuesday" in w.value for w in at.warning)


def test_every_tile_links_to_a_list_of_its_size(app, demo_env):
    """The list behind each tile, filtered as the tile is, holds as many appeals as the tile shows."""
    from urllib.parse import parse_qs, urlsplit

    from data_access import cases
    from data_access.scope import Period, Scope
    from data_access.sor_views import ensure_views
    from data_access.store import make_engine

    at = app()
    links, tiles = _tile_links(at), _tiles(at)
    assert set(links) == set(tiles)
    engine = make_engine(demo_env["APPEALS_DB_URL"])
    ensure_views(engine)
    with engine.connect() as conn:
        for label, url in links.items():
            q = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
            assert urlsplit(url).path == "/cases"
            as_of = dt.datetime.fromisoformat(q["as_of"])
            period = Period.preset(q["period"], as_of.date())
            count = cases.case_count(conn, Scope.whole(), period, as_of, q["figure"])
            if q["figure"] in cases.FIGURES and label.split(" ·")[0] in ("今日受理", "本月受理", "超期", "临期"):
                assert fmt.count(count) == tiles[label], label
            else:  # a rate's list is its denominator; the rate is |numerator| / |list|
                part = cases.case_count(conn, Scope.whole(), period, as_of, q["figure"], part="numerator")
                assert fmt.rate(part / count if count else None) == tiles[label], label
    engine.dispose()


def test_a_district_screen_sizes_its_tables_to_their_rows(app):
    """A district's street ranking has fewer rows than the panel holds: the tables are HTML tables as high as
    their rows (at most the panel, then they scroll inside), with no fixed height and no empty row."""
    at = app(region="210302")
    assert not at.exception and not at.dataframe
    shown = html_tables(at)
    assert 0 < len(shown["ranking"]) < 11
    for table in shown.values():
        assert all(any(str(v).strip() for v in row) for row in table.itertuples(index=False))
    assert all("height:" not in h.value.replace("max-height:", "") for h in at.get("html") if "data-table" in h.value)


@pytest.mark.parametrize("level", ["street", "community", "grid"])
def test_the_staff_big_screen_of_every_level(app, demo_env, level):
    """Down to a grid, whose ranking has no children: the screen still renders, with its own figures."""
    from sqlalchemy import select

    from data_access import schema
    from data_access.store import make_engine

    engine = make_engine(demo_env["APPEALS_DB_URL"])
    with engine.connect() as conn:
        code, name = conn.execute(select(schema.appeals.c.grid_code, schema.regions.c.name)
                                  .join(schema.regions, schema.regions.c.code == schema.appeals.c.grid_code)
                                  .order_by(schema.appeals.c.appeal_id).limit(1)).one()
        digits = {"street": 9, "community": 12, "grid": 15}[level]
        code = code[:digits]
        name = conn.execute(select(schema.regions.c.name).where(schema.regions.c.code == code)).scalar_one()
    engine.dispose()
    at = app(region=code, period="all")
    assert not at.exception and not at.error, [e.value for e in at.exception]
    assert name in " ".join(h.value for h in at.get("html"))
    assert _tiles(at)["超期 · 全部在办"] not in ("", "—")


@pytest.mark.attack("kiosk")
def test_a_kiosk_gets_the_big_screen_and_a_refusal_on_every_other_page(demo_env, monkeypatch):
    from data_access import auth
    from data_access.store import make_engine
    from tests.html_tables import all_tables
    from ui.auth import KIOSK_REFUSAL

    for name, value in demo_env.items():
        monkeypatch.setenv(name, value)
    engine = make_engine(demo_env["APPEALS_DB_URL"])
    token = auth.create_kiosk_token(engine, "210300", label="AppTest wall")
    engine.dispose()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["kiosk"] = token
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert len(at.metric) == 8 and not at.download_button
    shown = html_tables(at)
    assert set(shown) == {"ranking", "newest-overdue"} and "工单" not in shown["ranking"].columns
    for page in ("region", "alerts", "cases", "case", "audit", "snapshots", "present"):
        at.switch_page(str(ROOT / "pages" / f"{page}.py"))
        at.query_params.update({"figure": "received", "id": "GD20260101000001"})
        at.run()
        assert [e.value for e in at.error] == [KIOSK_REFUSAL], page
        assert not at.metric and not all_tables(at) and not at.download_button and not at.get("plotly_chart"), page
