"""The dashboard's one link to Streamlit's caches.

* ``st.cache_resource`` holds the engine of the system of record and the
  analytics store (one DuckDB connection per process, with its sync lock).
* ``st.cache_data`` (always with a ``ttl``) holds query results. Every entry
  is keyed by the store's data version, which each sync that copies rows
  increments, so new rows show at the next refresh and never later.

Pages call the functions below; they never touch SQL or connections.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass

import duckdb
import pandas as pd
import streamlit as st

from geo import layers

from . import queries, sync
from .analytics import open_store
from .clock import local_now
from .config import Settings, load_settings, redact_url
from .runner import set_limits
from .scope import Period, Scope
from .store import make_engine

TTL_SECONDS = 600


class StoreUnavailable(RuntimeError):
    """The analytics store cannot be opened (another process holds it, or the disk refuses)."""


def settings() -> Settings:
    return load_settings()


@st.cache_resource(show_spinner=False)
def _engine(url: str):
    return make_engine(url)


class _Store:
    def __init__(self, path: str):
        self.path = path
        self.con = open_store(path)
        self.lock = threading.Lock()
        self.last_attempt = 0.0  # time.monotonic() of the last sync attempt
        self.last_error: str | None = None


@st.cache_resource(show_spinner=False)
def _store(path: str) -> _Store:
    try:
        return _Store(path)
    except duckdb.IOException as exc:
        raise StoreUnavailable(f"分析库 {path} 无法打开（可能被其他进程占用）：{exc}") from exc


def _con() -> duckdb.DuckDBPyConnection:
    return _store(str(settings().analytics_path)).con


@dataclass(frozen=True)
class Freshness:
    """How current the analytics store is, for the header of every page."""

    version: int
    store: str
    synced_at: dt.datetime | None
    stale: bool
    error: str | None
    appeals: int
    source: str

    @property
    def empty(self) -> bool:
        return self.appeals == 0


def refresh(*, force: bool = False) -> Freshness:
    """Sync the analytics store if the last sync is older than the interval; report freshness.

    Only one session syncs at a time; the others go on with the data they have.
    """
    cfg = settings()
    set_limits(timeout_seconds=cfg.query_timeout_seconds, max_rows=cfg.max_rows)
    store = _store(str(cfg.analytics_path))
    due = force or time.monotonic() - store.last_attempt >= cfg.sync_interval_seconds
    if due and store.lock.acquire(blocking=False):
        try:
            store.last_attempt = time.monotonic()
            sync.sync(_engine(cfg.db_url), store.con, timezone=cfg.timezone,
                      lookback_seconds=cfg.sync_lookback_seconds)
            store.last_error = None
        except sync.SyncError as exc:
            store.last_error = str(exc)
        except Exception as exc:  # a malformed URL or a missing driver must not take the page down
            store.last_error = f"{redact_url(cfg.db_url)}: {type(exc).__name__}: {exc}"
        finally:
            store.lock.release()
    status = sync.status(store.con)
    now = local_now(cfg.timezone)
    stale = (status.last_success_at is None
             or (now - status.last_success_at).total_seconds() > cfg.stale_after_seconds
             or store.last_error is not None)
    return Freshness(version=status.version, store=store.path, synced_at=status.last_success_at, stale=stale,
                     error=store.last_error, appeals=status.appeals, source=redact_url(cfg.db_url))


def as_of(fresh: Freshness) -> dt.datetime:
    """The time the figures are judged at: the start of the last successful sync.

    Every row the store holds was committed by then, and when the source is
    unreachable the figures stay judged at the time of the data they show.
    Between syncs it does not move, so page runs share their cached results.
    """
    if fresh.synced_at is not None:
        return fresh.synced_at.replace(microsecond=0)
    return local_now(settings().timezone).replace(microsecond=0)


# ------------------------------------------------------------ queries ---
# Each wrapper takes the freshness key ``(store, version)`` as its first
# argument: it is part of the cache key and nothing else.

Token = tuple[str, int]


def token(fresh: Freshness) -> Token:
    return (fresh.store, fresh.version)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=500)
def region(key: Token, code: str) -> dict:
    return queries.region(_con(), code).to_dict()


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=50)
def top_regions(key: Token) -> pd.DataFrame:
    return queries.top_regions(_con())


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=500)
def resolve_scope(key: Token, code: str | None) -> Scope:
    return queries.resolve_scope(_con(), code)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=500)
def level_counts(key: Token, scope: Scope) -> dict[str, int]:
    return queries.level_counts(_con(), scope)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=1000)
def kpis(key: Token, scope: Scope, period: Period, as_of: dt.datetime) -> pd.Series:
    return queries.kpis(_con(), scope, period, as_of)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=500)
def children(key: Token, scope: Scope, period: Period, as_of: dt.datetime, level: str) -> pd.DataFrame:
    return queries.children(_con(), scope, period, as_of, level)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=500)
def daily_trend(key: Token, scope: Scope, period: Period, as_of: dt.datetime) -> pd.DataFrame:
    return queries.daily_trend(_con(), scope, period, as_of)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=500)
def category_counts(key: Token, scope: Scope, period: Period, as_of: dt.datetime, limit: int = 10):
    return queries.category_counts(_con(), scope, period, as_of, limit)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=500)
def channel_counts(key: Token, scope: Scope, period: Period, as_of: dt.datetime) -> pd.DataFrame:
    return queries.channel_counts(_con(), scope, period, as_of)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=500)
def newest_overdue(key: Token, scope: Scope, as_of: dt.datetime, limit: int = 20) -> pd.DataFrame:
    return queries.newest_overdue(_con(), scope, as_of, limit)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=500)
def heat_bins(key: Token, scope: Scope, period: Period, as_of: dt.datetime, cell_deg: float) -> pd.DataFrame:
    return queries.heat_bins(_con(), scope, period, as_of, cell_deg)


# ---------------------------------------------------------- drill-down ---

@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=500)
def ancestors(key: Token, code: str) -> pd.DataFrame:
    return queries.ancestors(_con(), code)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=500)
def comparison(key: Token, scope: Scope, period: Period, as_of: dt.datetime) -> pd.DataFrame:
    from . import compare

    return compare.comparison(_con(), scope, period, as_of)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=500)
def department_stats(key: Token, scope: Scope, period: Period, as_of: dt.datetime) -> pd.DataFrame:
    return queries.department_stats(_con(), scope, period, as_of)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=200)
def appeal_points(key: Token, scope: Scope, period: Period, as_of: dt.datetime) -> pd.DataFrame:
    return queries.appeal_points(_con(), scope, period, as_of)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=200)
def recent_appeals(key: Token, scope: Scope, period: Period, as_of: dt.datetime, channel: str | None = None,
                   limit: int = 10) -> pd.DataFrame:
    return queries.recent_appeals(_con(), scope, period, as_of, channel=channel, limit=limit)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=500)
def grid_worker(key: Token, grid_code: str) -> pd.DataFrame:
    return queries.grid_worker(_con(), grid_code)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=200)
def emerging_hotspots(key: Token, scope: Scope, as_of: dt.datetime, window_days: int = 7,
                      level: str = "grid") -> pd.DataFrame:
    from . import hotspots

    return hotspots.emerging_hotspots(_con(), scope, as_of, window_days=window_days, level=level)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=200)
def repeat_clusters(key: Token, scope: Scope, period: Period, as_of: dt.datetime, limit: int = 50) -> pd.DataFrame:
    from . import hotspots

    return hotspots.repeat_clusters(_con(), scope, period, as_of, limit=limit)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=200)
def hex_bins(key: Token, scope: Scope, period: Period, as_of: dt.datetime, cell_deg: float) -> tuple:
    """Hexagon counts and the reference latitude of their grid."""
    from . import hotspots

    mid_lat = hotspots.hex_mid_lat(_con(), scope)
    return hotspots.hex_bins(_con(), scope, period, as_of, cell_deg, mid_lat=mid_lat), mid_lat


# --------------------------------------------------------------- maps ---

@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=200)
def shapes(key: Token, scope: Scope, level: str) -> tuple[list[dict], layers.Bounds | None]:
    """Simplified GeoJSON features of the scope's regions at ``level``, and their bounds."""
    df = queries.region_shapes(_con(), scope, level)
    bounds = layers.bounds_of(df)
    if bounds is None:
        return [], None
    return layers.features(df, tolerance=layers.tolerance_for(bounds, len(df))), bounds


# -------------------------------------------------------------- cases ---
# The appeals behind every figure (data_access/cases.py). ``filters`` is a
# dict of exact matches; personal data is masked unless ``show_personal``.

from . import cases as _cases  # noqa: E402
from . import exports as _exports  # noqa: E402


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=500)
def case_count(key: Token, scope: Scope, period: Period, as_of: dt.datetime, figure: str,
               part: str | None = None, filters: dict | None = None) -> int:
    return _cases.case_count(_con(), scope, period, as_of, figure, part=part, filters=filters)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=500)
def case_list(key: Token, scope: Scope, period: Period, as_of: dt.datetime, figure: str,
              part: str | None = None, filters: dict | None = None, sort: str = "created_at",
              descending: bool = True, offset: int = 0, limit: int = _cases.PAGE_SIZE,
              show_personal: bool = False) -> pd.DataFrame:
    return _cases.case_list(_con(), scope, period, as_of, figure, part=part, filters=filters, sort=sort,
                            descending=descending, offset=offset, limit=limit, show_personal=show_personal)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=8)
def case_file(key: Token, scope: Scope, period: Period, as_of: dt.datetime, figure: str, kind: str,
              part: str | None = None, filters: dict | None = None, sort: str = "created_at",
              descending: bool = True, show_personal: bool = False, sheet_name: str = "工单列表") -> bytes:
    """The whole list as a file: ``kind`` "csv" or "xlsx"."""
    df = _cases.case_export(_con(), scope, period, as_of, figure, part=part, filters=filters, sort=sort,
                            descending=descending, show_personal=show_personal)
    return _exports.to_csv_bytes(df) if kind == "csv" else _exports.to_xlsx_bytes(df, sheet_name)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=500)
def case_detail(key: Token, appeal_id: str, show_personal: bool = False) -> dict | None:
    return _cases.case_detail(_con(), appeal_id, show_personal=show_personal)


@st.cache_data(ttl=60, show_spinner=False, max_entries=500)
def case_events(key: Token, appeal_id: str, show_personal: bool = False) -> pd.DataFrame:
    """The timeline, read from the system of record (a lookup of one appeal's events)."""
    return _cases.case_events(_engine(settings().db_url), appeal_id, show_personal=show_personal)
