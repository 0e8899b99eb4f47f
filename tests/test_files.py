"""Databases and stores hold password hashes and personal data: the files made for them are private."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from data_access import analytics
from data_access.store import create_schema, make_engine
from tests.conftest import ROOT

pytestmark = pytest.mark.attack("deployment")


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def open_umask():
    """A process whose umask lets everyone read (the usual 022), restored afterwards."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_a_new_sqlite_record_and_its_folder_are_private(tmp_path, open_umask):
    db = tmp_path / "data" / "appeals.db"
    engine = make_engine(f"sqlite:///{db}")
    create_schema(engine)  # writes: the WAL appears beside the file
    engine.dispose()
    assert _mode(db.parent) == 0o700
    assert _mode(db) == 0o600
    for extra in db.parent.iterdir():
        assert _mode(extra) & 0o077 == 0, extra.name


def test_a_new_analytics_store_is_private(tmp_path, open_umask):
    path = tmp_path / "store" / "analytics.duckdb"
    con = analytics.open_store(path)
    con.close()
    assert _mode(path.parent) == 0o700
    assert _mode(path) == 0o600


def test_an_existing_file_keeps_its_mode(tmp_path, open_umask):
    db = tmp_path / "appeals.db"
    make_engine(f"sqlite:///{db}").dispose()
    os.chmod(db, 0o640)  # its owner's choice: left alone
    engine = make_engine(f"sqlite:///{db}")
    create_schema(engine)
    engine.dispose()
    assert _mode(db) == 0o640


def test_the_command_line_creates_private_files(tmp_path):
    """As a person runs it, with the usual umask: init-db makes the record, sync the store."""
    env = {**os.environ, "APPEALS_DB_URL": f"sqlite:///{tmp_path / 'd' / 'appeals.db'}",
           "APPEALS_ANALYTICS_PATH": str(tmp_path / "d" / "analytics.duckdb")}
    for command in (["init-db"], ["sync"]):
        subprocess.run(["sh", "-c", 'umask 022 && exec "$0" -m data_access "$@"', sys.executable, *command],
                       cwd=ROOT, env=env, check=True, capture_output=True, timeout=120)
    modes = {p.name: _mode(p) for p in (tmp_path / "d").iterdir()}
    assert _mode(tmp_path / "d") == 0o700
    assert modes and all(m & 0o077 == 0 for m in modes.values()), modes


def test_make_run_listens_on_this_machine_only():
    makefile = (ROOT / "Makefile").read_text()
    assert "ADDRESS ?= 127.0.0.1" in makefile and "--server.address $(ADDRESS)" in makefile
