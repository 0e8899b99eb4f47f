"""The city's time zone is stored with the data; a process that disagrees refuses."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from contextlib import redirect_stderr, redirect_stdout

import pytest
from sqlalchemy import select

from data_access import auth, cityzone, cli, schema
from data_access.clock import local_now
from data_access.store import create_schema, make_engine
from tests.conftest import insert_appeals, insert_regions

NEW_YORK = "America/New_York"
SHANGHAI = "Asia/Shanghai"


def _cli(*args) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        status = cli.main(list(args))
    return status, out.getvalue(), err.getvalue()


@pytest.fixture
def url(tmp_path, monkeypatch):
    monkeypatch.delenv("APPEALS_TZ", raising=False)
    cityzone.forget()
    return f"sqlite:///{tmp_path / 'appeals.db'}"


# ------------------------------------------------------------ resolve ---

@pytest.mark.parametrize("stored, configured, zone, source", [
    (SHANGHAI, None, SHANGHAI, "stored"),
    (SHANGHAI, SHANGHAI, SHANGHAI, "stored"),
    (None, NEW_YORK, NEW_YORK, "setting"),
    (None, None, SHANGHAI, "default"),
])
def test_the_stored_zone_wins_and_a_setting_fills_in(stored, configured, zone, source):
    assert cityzone.resolve(stored, configured) == cityzone.Resolved(zone, source)


def test_a_setting_that_disagrees_names_both_zones():
    with pytest.raises(cityzone.ZoneMismatch) as info:
        cityzone.resolve(SHANGHAI, NEW_YORK)
    assert SHANGHAI in str(info.value) and NEW_YORK in str(info.value)


@pytest.mark.parametrize("name", ["Mars/Olympus", "", "Asia/Shanghai; drop table"])
def test_a_zone_must_be_an_iana_name(name):
    with pytest.raises(cityzone.ZoneError):
        cityzone.check_name(name)


# ------------------------------------------------------ who records it ---

def test_init_db_records_the_default_zone(url):
    assert _cli("init-db", "--db", url)[0] == 0
    assert cityzone.stored_zone(make_engine(url)) == SHANGHAI


def test_init_db_records_the_zone_of_the_setting(url, monkeypatch):
    monkeypatch.setenv("APPEALS_TZ", NEW_YORK)
    assert _cli("init-db", "--db", url)[0] == 0
    assert cityzone.stored_zone(make_engine(url)) == NEW_YORK


def test_the_first_import_records_the_zone(url, tmp_path, monkeypatch):
    monkeypatch.setenv("APPEALS_TZ", NEW_YORK)
    data = tmp_path / "appeals.csv"
    data.write_text("id,created\nA1,2015-06-01 10:00\n", encoding="utf-8")
    mapping = tmp_path / "mapping.toml"
    mapping.write_text('[source]\ntimezone = "America/New_York"\n[columns]\nappeal_id = "id"\ncreated_at = "created"\n',
                       encoding="utf-8")
    status, _, err = _cli("import-appeals", str(data), "--mapping", str(mapping), "--db", url,
                          "--out", str(tmp_path / "out"), "--json")
    assert status == 0, err
    engine = make_engine(url)
    assert cityzone.stored_zone(engine) == NEW_YORK
    with engine.connect() as conn:
        assert conn.execute(select(schema.appeals.c.created_at)).scalar_one() == dt.datetime(2015, 6, 1, 10, 0)


def test_the_seeder_records_the_zone(tmp_path):
    from tests import demo

    env = demo.build(tmp_path, appeals=300, months=1)
    assert cityzone.stored_zone(make_engine(env["APPEALS_DB_URL"])) == SHANGHAI


def test_a_second_writer_keeps_the_stored_zone(url):
    engine = make_engine(url)
    cityzone.record(engine, NEW_YORK)
    assert cityzone.record(engine).zone == NEW_YORK  # no setting: what is stored stays
    with pytest.raises(cityzone.ZoneMismatch):
        cityzone.record(engine, SHANGHAI)
    assert cityzone.stored_zone(engine) == NEW_YORK


# ------------------------------------------------------- who refuses ---

def test_a_process_with_another_zone_refuses_clearly(url, monkeypatch):
    assert _cli("init-db", "--db", url)[0] == 0  # records Asia/Shanghai
    monkeypatch.setenv("APPEALS_TZ", NEW_YORK)
    cityzone.forget()
    status, out, err = _cli("kpis", "--json", "--db", url)
    assert status == 2 and out == ""
    assert SHANGHAI in err and NEW_YORK in err and "APPEALS_TZ" in err
    # a writer refuses too, and writes nothing
    status, _, err = _cli("init-db", "--db", url)
    assert status == 2 and NEW_YORK in err
    assert cityzone.stored_zone(make_engine(url)) == SHANGHAI


def test_a_process_without_a_setting_takes_the_stored_zone(url):
    engine = make_engine(url)
    create_schema(engine)
    cityzone.record(engine, NEW_YORK)
    insert_regions(engine)
    status, out, _ = _cli("kpis", "--json", "--db", url, "--as-of", "2015-06-01T12:00:00-04:00")
    assert status == 0
    assert json.loads(out)["as_of"] == "2015-06-01T12:00:00"  # converted into New York time, not Shanghai's


# ------------------------------------------------- the documented command ---

def test_timezone_set_and_show(url):
    engine = make_engine(url)
    create_schema(engine)  # an older database: the schema, but no zone
    assert cityzone.stored_zone(engine) is None
    status, _, err = _cli("timezone", "show", "--db", url)
    assert status == 1 and "timezone set" in err
    assert _cli("timezone", "set", NEW_YORK, "--db", url)[0] == 0
    assert _cli("timezone", "show", "--db", url)[:2] == (0, NEW_YORK + "\n")


def test_timezone_set_does_not_silently_replace_a_zone(url):
    assert _cli("timezone", "set", SHANGHAI, "--db", url)[0] == 0
    status, _, err = _cli("timezone", "set", NEW_YORK, "--db", url)
    assert status == 2 and SHANGHAI in err and "--force" in err
    assert _cli("timezone", "set", NEW_YORK, "--force", "--db", url)[0] == 0
    assert cityzone.stored_zone(make_engine(url)) == NEW_YORK


def test_timezone_set_rejects_a_bad_name(url):
    status, _, err = _cli("timezone", "set", "Asia/Nowhere", "--db", url)
    assert status == 2 and "IANA" in err


def test_a_database_without_the_table_is_readable(url):
    engine = make_engine(url)
    schema.appeals.create(engine)  # like a city's own views: no city_settings
    assert cityzone.stored_zone(engine) is None
    assert cityzone.zone_of(engine) == SHANGHAI


# -------------------------------------- every stored time is in that zone ---

def test_audit_rows_and_sessions_are_stamped_in_the_stored_zone(url):
    engine = make_engine(url)
    create_schema(engine)
    cityzone.record(engine, NEW_YORK)
    insert_regions(engine, updated_at=local_now(NEW_YORK))
    insert_appeals(engine, [{"appeal_id": "A1", "created_at": dt.datetime(2015, 6, 1, 9)}],
                   updated_at=local_now(NEW_YORK))
    before = local_now(NEW_YORK).replace(microsecond=0)
    auth.add_user(engine, "ny", role="city", region_code=None, password="correct horse battery")
    principal = auth.authenticate(engine, "ny", "correct horse battery")
    auth.start_session(engine, principal)
    auth.audit(engine, actor="ny", action="case_view", target="A1")
    after = local_now(NEW_YORK).replace(microsecond=0) + dt.timedelta(seconds=1)
    with engine.connect() as conn:
        stamps = [*conn.execute(select(schema.audit_log.c.at)).scalars(),
                  *conn.execute(select(schema.user_sessions.c.created_at)).scalars(),
                  *conn.execute(select(schema.users.c.created_at)).scalars()]
    assert len(stamps) >= 4
    # New York and Shanghai are 12 or 13 hours apart: a stamp in the wrong zone falls far outside
    assert all(before <= s <= after for s in stamps), (before, stamps, after)


def test_the_dashboard_refuses_when_its_setting_disagrees(url, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.conftest import ROOT, sign_in

    engine = make_engine(url)
    create_schema(engine)
    cityzone.record(engine, NEW_YORK)
    insert_regions(engine)
    insert_appeals(engine, [{"appeal_id": "A1", "created_at": local_now(NEW_YORK) - dt.timedelta(hours=1)}])
    monkeypatch.setenv("APPEALS_DB_URL", url)
    monkeypatch.setenv("APPEALS_ANALYTICS_PATH", str(tmp_path / "analytics.duckdb"))
    monkeypatch.setenv("APPEALS_TZ", SHANGHAI)
    at = sign_in(AppTest.from_file(str(ROOT / "app.py"), default_timeout=60))
    at.run()
    assert not at.exception
    errors = re.sub(r"\\(.)", r"\1", " ".join(e.value for e in at.error))  # as read: Markdown escapes undone
    assert NEW_YORK in errors and SHANGHAI in errors and "APPEALS_TZ" in errors
    assert not at.metric  # nothing is shown on a wrong clock

    monkeypatch.delenv("APPEALS_TZ")  # the same process without the setting serves in the stored zone
    cityzone.forget()
    at = sign_in(AppTest.from_file(str(ROOT / "app.py"), default_timeout=60))
    at.run()
    assert not at.exception and not at.error
    assert at.metric
