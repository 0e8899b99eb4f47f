"""Fixture databases, built by code in a temporary directory."""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from data_access import analytics, schema, sync  # noqa: E402
from data_access.clock import local_now  # noqa: E402
from data_access.store import bulk_insert, create_schema, make_engine  # noqa: E402

pytest_plugins = ["tests.attack_report"]  # the attack suite's table (pytest -m attack)
ARTIFACTS = ROOT / "tests" / "artifacts"
# the zone of the fixture cities (and of the demo): every "now" in a test is the city's
CITY_TZ = "Asia/Shanghai"

# A tiny territory: one city, two districts, one street / community / grid each.
TINY_REGIONS = [
    # code, name, level, parent, population
    ("100", "测试市", "city", None, 10000),
    ("101", "东区", "district", "100", 6000),
    ("102", "西区", "district", "100", 4000),
    ("101001", "东街道", "street", "101", 6000),
    ("102001", "西街道", "street", "102", 4000),
    ("101001001", "东社区", "community", "101001", 6000),
    ("102001001", "西社区", "community", "102001", 4000),
    ("101001001001", "东网格", "grid", "101001001", 6000),
    ("102001001001", "西网格", "grid", "102001001", 4000),
]

APPEAL_DEFAULTS = {
    "channel": "hotline",
    "channel_label": None,
    "category": "城市管理",
    "subcategory": "路灯损坏",
    "urgency": "normal",
    "summary": "反映路灯不亮",
    "appellant_name": "张三",
    "appellant_phone": "13812345678",
    "address": "东区东街道1号",
    "lon": 123.0,
    "lat": 41.0,
    "grid_code": "101001001001",
    "department_code": None,
    "handling_level": None,
    "dispatched_at": None,
    "first_feedback_at": None,
    "deadline_at": None,
    "feedback_deadline_at": None,
    "closed_at": None,
    "rated_at": None,
    "status": "open",
    "satisfaction": None,
    "is_repeat": False,
    "is_supervised": False,
    "quality_flags": None,
    "deadline_source": None,
    "warn_at": None,
    "paused_since": None,
}


def ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def insert_regions(engine, rows=TINY_REGIONS, updated_at: dt.datetime | None = None) -> None:
    stamp = updated_at or local_now(CITY_TZ).replace(microsecond=0)
    bulk_insert(engine, schema.regions, ["code", "name", "level", "parent_code", "population", "updated_at"],
                [(*r, stamp) for r in rows])


def insert_appeals(engine, appeals: list[dict], updated_at: dt.datetime | None = None) -> None:
    stamp = updated_at or local_now(CITY_TZ)  # writers stamp in the city's time zone, like every writer must
    columns = list(schema.APPEAL_COLUMNS)
    rows = []
    for a in appeals:
        full = {**APPEAL_DEFAULTS, "updated_at": stamp, **a}
        rows.append(tuple(full[c] for c in columns))
    bulk_insert(engine, schema.appeals, columns, rows)


@pytest.fixture
def sor(tmp_path):
    """An empty SQLite system of record with the schema."""
    engine = make_engine(f"sqlite:///{tmp_path / 'appeals.db'}")
    create_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def tiny_sor(sor):
    insert_regions(sor)
    return sor


def synced_store(engine, path=None):
    con = analytics.open_store(path)
    sync.sync(engine, con)
    return con


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS



# ------------------------------------------------------- server databases ---
# Tests that need PostgreSQL or MariaDB use the local servers (as on CI); on a
# machine without them they skip, saying why.
BASE_SERVER_URLS = {
    "postgresql": os.environ.get("APPEALS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
    "mariadb": os.environ.get("APPEALS_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/test"),
}
# The suite runs in parallel workers (pytest-xdist): each worker but the first gets a database of its own
# on each server (test_gw1, …), created from the first's connection, so that resets never collide.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "gw0")


def _worker_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    if WORKER == "gw0":
        return url
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{WORKER}").render_as_string(hide_password=False)


SERVER_URLS = {kind: _worker_url(url) for kind, url in BASE_SERVER_URLS.items()}


@pytest.fixture(scope="session", autouse=True)
def _worker_databases():
    """Create this worker's databases on the servers that answer (a server that does not is skipped later)."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    if WORKER == "gw0":
        return
    for kind, base in BASE_SERVER_URLS.items():
        name = make_url(SERVER_URLS[kind]).database
        engine = make_engine(base, connect_timeout=3)
        try:
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                if kind == "postgresql":
                    if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first():
                        conn.execute(text(f'CREATE DATABASE "{name}"'))  # a name made here, not from input
                else:
                    conn.execute(text(f"CREATE DATABASE IF NOT EXISTS `{name}`"))
        except Exception:  # noqa: BLE001 - no server here: its tests skip, saying why
            pass
        finally:
            engine.dispose()


def _reset(engine) -> None:
    from data_access.sor_views import drop_views

    drop_views(engine)
    schema.metadata.drop_all(engine)
    create_schema(engine)


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def any_sor(request, tmp_path):
    """An empty system of record on each kind of database."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'appeals.db'}")
        create_schema(engine)
    else:
        url = SERVER_URLS[request.param]
        engine = make_engine(url, connect_timeout=3)
        try:
            with engine.connect():
                pass
        except Exception as exc:  # noqa: BLE001 - any failure to connect means "not here"
            pytest.skip(f"{request.param} server not reachable at {url}: {type(exc).__name__}")
        _reset(engine)
    yield engine
    engine.dispose()


# ------------------------------------------------------------ sign-in ---

def sign_in(at, role: str = "city", region: str | None = None, name: str = "测试员", *,
            display_name: str | None = None, unit: str | None = None):
    """Put a signed-in person into an AppTest session (as ``ui.auth`` does after the sign-in form)."""
    from data_access.auth import Principal
    from ui.auth import PRINCIPAL_KEY, grant_of
    from data_access.cached import GRANT_KEY

    principal = Principal(name=name, role=role, region_code=region, display_name=display_name, unit=unit)
    at.session_state[PRINCIPAL_KEY] = principal
    at.session_state[GRANT_KEY] = grant_of(principal)
    return at


@pytest.fixture(scope="module")
def chrome():
    """Headless Chromium for a module's browser tests (tests/browser.py); skips where it is not installed."""
    from tests import browser

    browser.require_chromium()
    with browser.chromium() as b:
        yield b


# ------------------------------------------------------------- scheduling ---

def pytest_collection_modifyitems(config, items):
    """The browser tests first: they are the longest files, and two workers (pytest.ini: --dist loadfile,
    --no-loadscope-reorder) finish together when the longest work starts first and the short files fill in."""
    items.sort(key=lambda item: 0 if item.get_closest_marker("browser") else 1)
