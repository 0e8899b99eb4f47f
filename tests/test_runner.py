"""The one query path: bound parameters, time limit, row cap; settings; scopes and periods."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
from sqlalchemy import column, func, literal, select, table, text

from data_access import runner
from data_access.config import load_settings, redact_url
from data_access.scope import LEVELS, Period, Scope, levels_below


@pytest.fixture
def con():
    c = duckdb.connect()
    c.execute("CREATE TABLE t AS SELECT range AS n, 'x' || range AS s FROM range(50)")
    return c


T = table("t", column("n"), column("s"))


def test_values_travel_as_bound_parameters(con):
    sql, params = runner.compile_duckdb(select(T.c.n).where(T.c.s == "x1' OR '1'='1"))
    assert "$1" in sql and "OR '1'='1" not in sql and params == ["x1' OR '1'='1"]
    assert runner.run(con, select(T.c.n).where(T.c.s == "x1' OR '1'='1")).empty


def test_row_cap(con):
    assert len(runner.run(con, select(T.c.n), max_rows=50)) == 50
    with pytest.raises(runner.RowCapExceeded):
        runner.run(con, select(T.c.n), max_rows=49)


def test_time_limit(con):
    slow = select(func.count()).select_from(text("range(10000000000) a"))
    with pytest.raises(runner.QueryTimeout):
        runner.run(con, slow, timeout_seconds=0.3)


def test_a_sqlalchemy_connection_gives_the_same_frame(sor, con):
    with sor.connect() as conn:
        df = runner.run(conn, select(literal(3).label("x")))
    assert df["x"].tolist() == [3]


@pytest.mark.parametrize("env, field, expected", [
    ({"APPEALS_DB_URL": "sqlite:////tmp/x.db"}, "db_url", "sqlite:////tmp/x.db"),
    ({"APPEALS_REFRESH_SECONDS": "15"}, "refresh_seconds", 15),
    ({"APPEALS_TILE_URL": "http://t/{z}/{x}/{y}.png"}, "tile_url", "http://t/{z}/{x}/{y}.png"),
    ({}, "refresh_seconds", 60),
])
def test_settings_from_the_environment(tmp_path, env, field, expected):
    assert getattr(load_settings(env, tmp_path / "none.toml"), field) == expected


def test_environment_wins_over_secrets(tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('APPEALS_DB_URL = "sqlite:////from/secrets.db"\nAPPEALS_REFRESH_SECONDS = 30\n')
    assert load_settings({}, secrets).db_url == "sqlite:////from/secrets.db"
    both = load_settings({"APPEALS_DB_URL": "sqlite:////from/env.db"}, secrets)
    assert both.db_url == "sqlite:////from/env.db" and both.refresh_seconds == 30


def test_a_bad_setting_names_itself(tmp_path):
    with pytest.raises(ValueError, match="APPEALS_REFRESH_SECONDS"):
        load_settings({"APPEALS_REFRESH_SECONDS": "soon"}, tmp_path / "none.toml")


def test_passwords_are_redacted():
    assert "s3cret" not in redact_url("postgresql+psycopg://u:s3cret@db/appeals")


@pytest.mark.parametrize("name, first, last", [
    ("today", "2026-11-22", "2026-11-22"),
    ("7d", "2026-11-16", "2026-11-22"),
    ("30d", "2026-10-24", "2026-11-22"),
    ("month", "2026-11-01", "2026-11-22"),
    ("year", "2026-01-01", "2026-11-22"),
])
def test_period_presets_include_both_ends(name, first, last):
    p = Period.preset(name, dt.date(2026, 11, 22))
    assert p.start == dt.datetime.fromisoformat(first)
    assert p.end == dt.datetime.fromisoformat(last) + dt.timedelta(days=1)


def test_bad_periods_and_scopes_are_refused():
    with pytest.raises(ValueError):
        Period(dt.datetime(2026, 2, 1), dt.datetime(2026, 1, 1))
    with pytest.raises(ValueError):
        Period.preset("forever", dt.date(2026, 1, 1))
    with pytest.raises(ValueError):
        Scope("210302", "county")
    with pytest.raises(ValueError):
        Scope(None, "district")


@pytest.mark.parametrize("scope, expected", [
    (Scope.whole(), ["city", "district", "street", "grid"]),
    (Scope("1", "district"), ["street", "grid"]),
    (Scope("1", "grid"), []),
])
def test_levels_below_skip_missing_levels(scope, expected):
    counts = {"city": 1, "district": 4, "street": 40, "grid": 3000}  # no community level
    assert levels_below(counts, scope) == expected
    assert all(level in LEVELS for level in expected)
