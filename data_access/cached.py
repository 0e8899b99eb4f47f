"""The dashboard's one link to Streamlit's caches.

* ``st.cache_resource`` holds the engine of the system of record and the
  analytics store (one DuckDB connection per process, with its sync lock).
* ``st.cache_data`` (always with a ``ttl``) holds query results. Every entry
  is keyed by the store's data version, which each sync that copies rows
  increments, so new rows show at the next refresh and never later. Most are
  keyed by the as-of time (the last sync) too. When a page run sees a new
  version or sync time, the entries of the old one are dropped at once: no
  page asks for them again (``_drop_dead_entries``).

Pages call the functions below; they never touch SQL or connections.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import functools
import hashlib
import inspect
import logging
import threading
import time
from dataclasses import dataclass, field

import duckdb
import pandas as pd
import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from geo import layers

from . import access, cityzone, queries, sync
from . import feed as feed_
from .analytics import open_store
from .clock import local_now
from .config import Settings, load_settings, redact_url
from .files import keep_private
from .runner import set_limits
from .scope import Period, Scope
from .store import make_engine

TTL_SECONDS = 600
keep_private()  # the dashboard's process creates its files (the analytics store, its WAL) for its owner only
# a page run waits this long for another session's first copy of the data before it says there is none
FIRST_COPY_WAIT_SECONDS = 120


class StoreUnavailable(RuntimeError):
    """The analytics store cannot be opened (another process holds it, or the disk refuses)."""


def settings() -> Settings:
    """The configuration, with the city's time zone as the data records it (``cityzone.bind``).

    Raises ``cityzone.ZoneMismatch`` when APPEALS_TZ disagrees with the stored
    zone (the router refuses to serve). While the system of record cannot be
    read, the zone read last is kept, or APPEALS_TZ / Asia/Shanghai before any.
    """
    return _bound(load_settings())


def _bound(base: Settings) -> Settings:
    try:
        return cityzone.bind(base, _engine(base.db_url))
    except SQLAlchemyError:
        return base


def city_now() -> dt.datetime:
    """The city's time now (naive local time in the data's zone), to the second."""
    return local_now(settings().timezone).replace(microsecond=0)


def city_zone() -> cityzone.Resolved:
    """The zone and where it comes from: stored with the data, APPEALS_TZ, or the default."""
    base = load_settings()
    try:
        return cityzone.resolved(_engine(base.db_url), base)
    except SQLAlchemyError:
        return cityzone.Resolved(base.timezone, "unreachable")


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
        self.generation: tuple | None = None  # (version, last sync) of the cached results
        self.generation_lock = threading.Lock()


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
            _escalate(cfg)
            sync.sync(_engine(cfg.db_url), store.con, timezone=cfg.timezone,
                      lookback_seconds=cfg.sync_lookback_seconds, reconcile_seconds=cfg.reconcile_seconds)
            store.last_error = None
        except sync.SyncError as exc:
            store.last_error = str(exc)
        except Exception as exc:  # a malformed URL or a missing driver must not take the page down
            store.last_error = f"{redact_url(cfg.db_url)}: {type(exc).__name__}: {exc}"
        finally:
            store.lock.release()
    elif store.lock.locked() and sync.status(store.con).appeals == 0:
        # another session is making the first copy: there is nothing to show until it ends, so wait for it
        # rather than call an empty store "no data"
        if store.lock.acquire(timeout=FIRST_COPY_WAIT_SECONDS):
            store.lock.release()
    status = sync.status(store.con)
    _drop_dead_entries(store, (status.version, status.last_success_at))
    now = local_now(cfg.timezone)
    stale = (status.last_success_at is None
             or (now - status.last_success_at).total_seconds() > cfg.stale_after_seconds
             or store.last_error is not None)
    return Freshness(version=status.version, store=store.path, synced_at=status.last_success_at, stale=stale,
                     error=store.last_error, appeals=status.appeals, source=redact_url(cfg.db_url))


def _drop_dead_entries(store: _Store, generation: tuple) -> None:
    """Drop the cached results of an older data version, and those judged at an older sync time.

    Every cached query is keyed by the version (``Token``) and most by the as-of time, the start of the
    last sync (``as_of``). Once either has moved, no page asks for the old keys again; left to the TTL
    they would hold up to ``TTL_SECONDS`` / ``APPEALS_SYNC_INTERVAL_SECONDS`` generations of every result
    (sixty with the defaults). A run still drawing the old generation may put a few back; the TTL and
    ``max_entries`` bound those. The pages they freed go back to the system (``_return_free_memory``).
    """
    if store.generation == generation:
        return
    with store.generation_lock:
        old, store.generation = store.generation, generation
    if old is None or old == generation:
        return  # this process's first look at the store: nothing of an older generation is cached here
    new_version = old[0] != generation[0]
    for fn, judged_at_a_time in _keyed_caches():
        if new_version or judged_at_a_time:
            fn.clear()
    _return_free_memory()


def _return_free_memory() -> None:
    """Hand the pages freed by the dropped results back to the system (glibc keeps them otherwise)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def _keyed_caches() -> list[tuple]:
    """The cached functions keyed by a ``Token``, each with whether it is also keyed by an as-of time."""
    found, seen = [], set()
    for value in list(globals().values()):
        fn = value
        while fn is not None and not hasattr(fn, "clear"):
            fn = getattr(fn, "__wrapped__", None)
        if fn is None or id(fn) in seen or not callable(fn):
            continue
        try:
            params = list(inspect.signature(fn).parameters)
        except (TypeError, ValueError):
            continue
        if params[:1] == ["key"]:
            seen.add(id(fn))
            found.append((fn, "as_of" in params))
    return found


def _escalate(cfg: Settings) -> None:
    """Supervisions left unanswered past their due time go up one level, before the sync copies them.

    A database the dashboard may not write to (a city's views) is left alone.
    """
    from sqlalchemy import inspect

    from . import supervision

    engine = _engine(cfg.db_url)
    try:
        if "supervisions" not in inspect(engine).get_table_names():
            return
        supervision.escalate_overdue(engine, now=local_now(cfg.timezone), timezone=cfg.timezone)
    except Exception as exc:  # noqa: BLE001 - never block the dashboard's refresh
        import logging

        logging.getLogger("appeals").warning("automatic escalation skipped: %s", exc)


def as_of(fresh: Freshness) -> dt.datetime:
    """The time the figures are judged at: the start of the last successful sync.

    Every row the store holds was committed by then, and when the source is
    unreachable the figures stay judged at the time of the data they show.
    Between syncs it does not move, so page runs share their cached results.
    """
    if fresh.synced_at is not None:
        return fresh.synced_at.replace(microsecond=0)
    return local_now(settings().timezone).replace(microsecond=0)


def feed(key: "Token") -> "feed_.FeedStatus":
    """The newest appeal and the usual arrivals per hour, for the whole feed, judged at the city's now.

    The feed is the data source, like the sync time: the same for every
    viewer, and it carries times and rates, never a region's figures
    (``data_access.feed``). Cached per store version and minute.
    """
    return _feed(key, city_now().replace(second=0))


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=20)
def _feed(key: "Token", now: dt.datetime):
    return feed_.feed_status(_con(), Scope.whole(), now)


# ------------------------------------------------------------ queries ---
# Each wrapper takes the freshness key ``(store, version)`` as its first
# argument: it is part of the cache key and nothing else.

Token = tuple[str, int]


def token(fresh: Freshness) -> Token:
    return (fresh.store, fresh.version)


# ------------------------------------------------------------- access ---
# Every wrapper that takes a scope, a region code or an appeal id checks it
# against the signed-in person's grant (``data_access.access``) before it
# runs or reads its cache. The grant lives in the session, set at sign-in by
# ``ui.auth``; without one, nothing is allowed.

GRANT_KEY = "access_grant"
PERSONAL_DATA_VIEWS = ("case_detail", "case_events")
EXPORTS = ("case_file",)
# what a wall screen (a kiosk grant, ``Grant.screen_only``) may read: the big screen's own queries, no more
SCREEN_VIEWS = ("region", "level_counts", "kpis", "children", "daily_trend", "category_counts", "channel_counts",
                "newest_overdue", "heat_bins", "shapes", "emerging_hotspots")


# ------------------------------------------------------ who is looking ---
# Sign-in (``ui.auth.gate``) puts the person (``PRINCIPAL_KEY``), their grant
# and what proves them into the session: a session token, or a wall screen's
# kiosk token. Every run re-checks that proof against the system of record
# before it reads anything: app.py's gate on a page run, ``ui.auth.require`` on
# a fragment's own run (the big screen's refresh), ``current_grant`` on every
# query (so a run that forgot to ask is checked too), and ``deferred`` when a
# download is made. A revoked kiosk token, a disabled account, an idle or
# expired session, a sign-out elsewhere: the next run reads nothing.

PRINCIPAL_KEY = "principal"
SESSION_TOKEN_KEY = "session_token"
KIOSK_TOKEN_KEY = "kiosk_token"
VERIFIED_KEY = "access_verified_at"  # time.monotonic() of the last check in this session
# a principal checked this recently is not checked again (one run's queries share its entry check)
RECHECK_SECONDS = 2.0
SIGNED_OUT = "登录状态已失效（会话过期或空闲超时、账号已停用、大屏令牌已吊销，或已在别处退出登录），请重新登录。"
UNVERIFIABLE = "无法核验登录状态：诉求数据库无法访问。请稍后重试或联系管理员。"
_log = logging.getLogger("appeals")


class Unverifiable(RuntimeError):
    """The system of record cannot be read, so who is looking cannot be checked."""


class NotSignedIn(access.NoAccess):
    """A query refused because the person's proof was refused on the way (or cannot be checked)."""


@dataclass(frozen=True)
class Credential:
    """What proves a principal on every run: ``kind`` "session" (a sign-in's token) or "kiosk" (a wall's)."""

    kind: str
    token: str = field(repr=False)


def grant_of(principal) -> access.Grant:
    """What a principal may read and do (``access.Grant``)."""
    return access.Grant(region_code=principal.region_code, personal_data=principal.may_see_personal_data,
                        export=principal.may_export, case_detail=not principal.is_kiosk,
                        supervise_levels=principal.supervision_levels, screen_only=principal.is_kiosk)


class _KioskMemory:
    """Wall screens this process verified, for an outage of the system of record.

    A kiosk token checked successfully within ``session_idle_seconds`` keeps
    its screen while the system of record cannot be read, on a fresh page load
    too. A token refused once (revoked, unknown) is forgotten at once, so an
    outage never revives it. Keyed by the token's SHA-256; staff sessions are
    never kept here (no data for them without a check).
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.seen: dict[str, tuple[object, float]] = {}

    @staticmethod
    def _key(token: str) -> str:
        return hashlib.sha256(token.encode("utf-8")).hexdigest()

    def note(self, token: str, principal) -> None:
        with self.lock:
            if principal is None:
                self.seen.pop(self._key(token), None)
            else:
                self.seen[self._key(token)] = (principal, time.monotonic())

    def recent(self, token: str, within_seconds: float):
        with self.lock:
            entry = self.seen.get(self._key(token))
        if entry is not None and time.monotonic() - entry[1] <= within_seconds:
            return entry[0]
        return None


_kiosks = _KioskMemory()


def verify(credential: Credential, *, touch: bool = True):
    """The principal a credential stands for now, read from the system of record; None when refused
    (a revoked or unknown kiosk token; a session ended, idle, past its cap or of a disabled account).

    Raises ``Unverifiable`` when the system of record cannot be read, except for a kiosk token this
    process verified within ``session_idle_seconds``: that wall keeps its principal through the outage.
    ``touch``: the check is someone's activity (see ``auth.resume_session``).
    """
    from sqlalchemy.exc import SQLAlchemyError

    from . import auth

    try:
        engine = sor_engine()
        if credential.kind == "kiosk":
            principal = auth.kiosk_principal(engine, credential.token)
        else:
            principal = auth.resume_session(engine, credential.token, settings=settings(), touch=touch)
    except (SQLAlchemyError, OSError) as exc:
        if credential.kind == "kiosk":
            kept = _kiosks.recent(credential.token, settings().session_idle_seconds)
            if kept is not None:
                return kept
        raise Unverifiable(f"{type(exc).__name__}") from exc
    if credential.kind == "kiosk":
        _kiosks.note(credential.token, principal)
    return principal


def _session_credential() -> Credential | None:
    """The proof kept with this session's principal; None for single sign-on (the identity provider's)."""
    principal = _session_get(PRINCIPAL_KEY)
    if principal is None:
        return None
    kind, key = ("kiosk", KIOSK_TOKEN_KEY) if principal.is_kiosk else ("session", SESSION_TOKEN_KEY)
    token = _session_get(key)
    return Credential(kind, token) if isinstance(token, str) and token else None


def admit(principal, credential: Credential | None = None):
    """Keep a verified principal, its grant and its proof in this session."""
    st.session_state[PRINCIPAL_KEY] = principal
    st.session_state[GRANT_KEY] = grant_of(principal)
    if credential is not None:
        st.session_state[KIOSK_TOKEN_KEY if credential.kind == "kiosk" else SESSION_TOKEN_KEY] = credential.token
    st.session_state[VERIFIED_KEY] = time.monotonic()
    return principal


def forget() -> None:
    """Nobody is signed in in this session any more."""
    for name in (PRINCIPAL_KEY, SESSION_TOKEN_KEY, KIOSK_TOKEN_KEY, GRANT_KEY, VERIFIED_KEY):
        st.session_state.pop(name, None)


def recheck(*, touch: bool = False, max_age: float = RECHECK_SECONDS):
    """This session's principal, checked again against the system of record (unless it was checked
    within ``max_age`` seconds); None, with the session forgotten, when it is refused.

    A principal without a proof kept here (single sign-on) is returned as it is. Raises ``Unverifiable``
    (see ``verify``). ``touch`` False: a check nobody asked for, which does not count as activity.
    """
    principal = _session_get(PRINCIPAL_KEY)
    credential = _session_credential()
    if principal is None or credential is None:
        return principal
    verified = _session_get(VERIFIED_KEY)
    if isinstance(verified, float) and time.monotonic() - verified < max_age:
        return principal
    fresh = verify(credential, touch=touch)
    if fresh is None:
        forget()
        return None
    return admit(fresh, credential)


# Who a deferred download runs for. Streamlit runs a download's callable in a
# server thread with no session; ``deferred`` captures the person who saw the
# button and their proof, checks the proof again when the file is made, and
# restores them here, so the file is bounded and audited as theirs.


@dataclass(frozen=True)
class _Acting:
    principal: object
    grant: access.Grant
    credential: Credential | None


_ACTING: contextvars.ContextVar[_Acting | None] = contextvars.ContextVar("appeals_acting", default=None)


def _session_get(name: str):
    try:
        return st.session_state.get(name)
    except Exception:  # noqa: BLE001 - no session (bare mode, a server thread): nobody
        return None


def current_grant() -> access.Grant:
    """The grant of the person this run (or download) is for; ``access.NOBODY`` when nobody is signed in.

    The person's proof is checked again first (``recheck``, at most every ``RECHECK_SECONDS``): refused,
    ``NotSignedIn`` (an ``access.NoAccess``) says so, and the session holds nobody from then on.
    """
    acting = _ACTING.get()
    if acting is not None:
        return acting.grant
    grant = _session_get(GRANT_KEY)
    if not isinstance(grant, access.Grant):
        return access.NOBODY
    if _session_credential() is not None:
        try:
            principal = recheck(touch=False)
        except Unverifiable as exc:
            raise NotSignedIn(UNVERIFIABLE) from exc
        if principal is None:
            raise NotSignedIn(SIGNED_OUT)
        grant = _session_get(GRANT_KEY)
    return grant if isinstance(grant, access.Grant) else access.NOBODY


def _principal():
    acting = _ACTING.get()
    return acting.principal if acting is not None else _session_get(PRINCIPAL_KEY)


class DownloadRefused(RuntimeError):
    """A download that was not made: refused (the person is no longer signed in, or may not) or failed.
    No file, no audit row; one line in the log, not a traceback."""


def deferred(fn):
    """``fn`` wrapped to run, later and in any thread, as the person signed in now (for download buttons).

    When it runs, that person's proof is checked again (``verify``): a disabled account, a session that
    ended or expired, a revoked token get ``DownloadRefused`` and ``fn`` never runs.
    """
    acting = _ACTING.get()
    captured = acting if acting is not None else _Acting(_principal(), current_grant(), _session_credential())

    @functools.wraps(fn)
    def run(*args, **kwargs):
        now_acting = captured
        if captured.credential is not None:
            try:
                principal = verify(captured.credential)
            except Unverifiable as exc:
                raise DownloadRefused(UNVERIFIABLE) from exc
            if principal is None:
                raise DownloadRefused(SIGNED_OUT)
            now_acting = _Acting(principal, grant_of(principal), captured.credential)
        token = _ACTING.set(now_acting)
        try:
            return fn(*args, **kwargs)
        finally:
            _ACTING.reset(token)
    return run


class Export(bytes):
    """A file made for a download: its bytes, and ``rows``, how many rows of appeals it holds."""

    def __new__(cls, data: bytes, rows: int):
        made = super().__new__(cls, data)
        made.rows = int(rows)
        return made

    def __reduce__(self):  # cached results are pickled: keep the count
        return (Export, (bytes(self), self.rows))


def export(build, *, target: str, kind: str, region_code: str | None = None, detail: dict | None = None):
    """A download button's callable: ``build()`` (returning an ``Export``) runs when the button is
    clicked, as the person who saw it, checked again then (``deferred``).

    The export is audited only once the file is made, with the rows it really holds. A refused or
    failed export writes no audit row, delivers no file (Streamlit's download fails) and leaves one
    line in the log, no traceback.
    """
    person = _account() or "anonymous"

    def make() -> bytes:
        made = build()
        if not isinstance(made, Export):
            raise TypeError(f"an export's build returned {type(made).__name__}, not Export")
        audit("export", target=target, region_code=region_code,
              detail={**(detail or {}), "kind": kind, "rows": made.rows})
        return bytes(made)

    run = deferred(make)

    def download() -> bytes:
        try:
            return run()
        except Exception as exc:  # noqa: BLE001 - whatever went wrong, no file and no audit row
            _log.warning("export %s (%s) for %s not made: %s: %s", target, kind, person, type(exc).__name__, exc)
            raise DownloadRefused(str(exc)) from None
    return download


class _QuietRefusals(logging.Filter):
    """Streamlit logs a failed download's exception with its traceback; ours is already a line in the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        seen = 0
        while exc is not None and seen < 10:
            if isinstance(exc, DownloadRefused):
                return False
            exc, seen = exc.__cause__ or exc.__context__, seen + 1
        return True


_QUIET = _QuietRefusals()
for _name in ("streamlit.runtime.backend_operation_handler", "streamlit.runtime.media_file_manager"):
    logging.getLogger(_name).addFilter(_QUIET)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=5000)
def _contains(key: Token, outer: str, inner: str) -> bool:
    return access.contains(_con(), outer, inner)


def _check_scope(key: Token, grant: access.Grant, scope: Scope) -> None:
    if grant.is_whole:
        return
    if not isinstance(scope, Scope) or scope.is_whole or not _contains(key, grant.region_code, scope.code):
        raise access.NoAccess("无权查看该范围：只能查看本辖区。")


def _check_related(key: Token, grant: access.Grant, code) -> None:
    """A region's name and outline may be read when it is inside the grant or above it (breadcrumbs)."""
    if grant.is_whole:
        return
    code = str(code)[:access.MAX_CODE_LENGTH]
    if not (_contains(key, grant.region_code, code) or _contains(key, code, grant.region_code)):
        raise access.NoAccess("无权查看该区域：只能查看本辖区。")


def _guarded(fn):
    """Check the arguments ``scope``, ``code``, ``grid_code``, ``appeal_id`` and ``show_personal`` first."""
    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        given = bound.arguments
        grant = current_grant()
        if grant.screen_only and fn.__name__ not in SCREEN_VIEWS:
            raise access.NoAccess("大屏令牌只能查看指挥大屏。")
        key = given.get("key")
        if "scope" in given:
            _check_scope(key, grant, given["scope"])
        if "code" in given and given["code"] is not None:
            _check_related(key, grant, given["code"])
        if "grid_code" in given:
            _check_scope(key, grant, Scope(str(given["grid_code"])[:access.MAX_CODE_LENGTH], "grid"))
        if "appeal_id" in given:
            access.check_appeal(_con(), grant, given["appeal_id"])
        if given.get("show_personal") and not (grant.personal_data and fn.__name__ in PERSONAL_DATA_VIEWS):
            given["show_personal"] = False  # personal data: only on a case's detail, and only for some roles
        if fn.__name__ in EXPORTS and not grant.export:
            raise access.NoAccess("该账号不能导出数据。")
        result = fn(*bound.args, **bound.kwargs)
        if fn.__name__ == "comparison" and not grant.is_whole and given["scope"].code == grant.region_code:
            result = result.assign(parent=None)  # the parent's average is a figure from outside the grant
        return result

    return wrapper


def resolve_scope(key: Token, code: str | None) -> Scope:
    """The scope a URL asks for, bounded by the signed-in person's region (``access.bound_scope``)."""
    return _bounded_scope(key, current_grant(), code)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=500)
def _bounded_scope(key: Token, grant: access.Grant, code: str | None) -> Scope:
    return access.bound_scope(_con(), grant, code)


@_guarded
@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=500)
def region(key: Token, code: str) -> dict:
    return queries.region(_con(), code).to_dict()


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=50)
def top_regions(key: Token) -> pd.DataFrame:
    return queries.top_regions(_con())


@_guarded
@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=500)
def level_counts(key: Token, scope: Scope) -> dict[str, int]:
    return queries.level_counts(_con(), scope)


@_guarded
@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=1000)
def kpis(key: Token, scope: Scope, period: Period, as_of: dt.datetime) -> pd.Series:
    return queries.kpis(_con(), scope, period, as_of)


@_guarded
@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=500)
def children(key: Token, scope: Scope, period: Period, as_of: dt.datetime, level: str) -> pd.DataFrame:
    return queries.children(_con(), scope, period, as_of, level)


@_guarded
@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=500)
def daily_trend(key: Token, scope: Scope, period: Period, as_of: dt.datetime) -> pd.DataFrame:
    return queries.daily_trend(_con(), scope, period, as_of)


@_guarded
@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=500)
def category_counts(key: Token, scope: Scope, period: Period, as_of: dt.datetime, limit: int = 10):
    return queries.category_counts(_con(), scope, period, as_of, limit)


@_guarded
@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=500)
def channel_counts(key: Token, scope: Scope, period: Period, as_of: dt.datetime) -> pd.DataFrame:
    return queries.channel_counts(_con(), scope, period, as_of)


@_guarded
@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=500)
def newest_overdue(key: Token, scope: Scope, as_of: dt.datetime, limit: int = 20) -> pd.DataFrame:
    return queries.newest_overdue(_con(), scope, as_of, limit, rules=time_limit_rules(key))


@_guarded
@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=500)
def heat_bins(key: Token, scope: Scope, period: Period, as_of: dt.datetime, cell_deg: float) -> pd.DataFrame:
    return queries.heat_bins(_con(), scope, period, as_of, cell_deg)


# ---------------------------------------------------------- drill-down ---

@_guarded
@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=500)
def region_context(key: Token, scope: Scope, codes: tuple[str, ...]) -> pd.DataFrame:
    """The district, street and community names of regions inside the scope (to tell equal names apart)."""
    return queries.region_context(_con(), scope, list(codes))


@_guarded
@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=500)
def ancestors(key: Token, code: str) -> pd.DataFrame:
    return queries.ancestors(_con(), code)


@_guarded
@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=500)
def comparison(key: Token, scope: Scope, period: Period, as_of: dt.datetime) -> pd.DataFrame:
    from . import compare

    return compare.comparison(_con(), scope, period, as_of)


@_guarded
@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=500)
def earlier_periods(key: Token, period: Period, as_of: dt.datetime) -> dict:
    """The periods 环比 and 同比 compare with, each with its moment, or None (``compare.earlier_periods``)."""
    from . import compare

    return compare.earlier_periods(_con(), period, as_of)


@_guarded
@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=500)
def previous_kpis(key: Token, scope: Scope, period: Period, as_of: dt.datetime) -> pd.Series | None:
    from . import compare

    return compare.previous_kpis(_con(), scope, period, as_of)


@_guarded
@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=200)
def two_period_counts(key: Token, scope: Scope, a: Period, as_of: dt.datetime, b: Period, b_as_of: dt.datetime,
                      by: str) -> pd.DataFrame:
    """Appeals received in A (judged at ``as_of``) and in B (at ``b_as_of``) per category or child region."""
    from . import two_periods

    return two_periods.counts_by(_con(), scope, a, as_of, b, b_as_of, by)


@_guarded
@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=50)
def data_span(key: Token) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The first and the newest appeal of the whole store: the span the period pickers offer (the data
    source's own extent, the same for every viewer, like ``feed``)."""
    return queries.data_range(_con(), Scope.whole())


@_guarded
@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=500)
def department_stats(key: Token, scope: Scope, period: Period, as_of: dt.datetime) -> pd.DataFrame:
    return queries.department_stats(_con(), scope, period, as_of)


@_guarded
@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=200)
def appeal_points(key: Token, scope: Scope, period: Period, as_of: dt.datetime) -> pd.DataFrame:
    return queries.appeal_points(_con(), scope, period, as_of)


@_guarded
@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=200)
def recent_appeals(key: Token, scope: Scope, period: Period, as_of: dt.datetime, channel: str | None = None,
                   limit: int = 10) -> pd.DataFrame:
    return queries.recent_appeals(_con(), scope, period, as_of, channel=channel, limit=limit)


@_guarded
@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=500)
def grid_worker(key: Token, grid_code: str) -> pd.DataFrame:
    return queries.grid_worker(_con(), grid_code)


@_guarded
@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=200)
def emerging_hotspots(key: Token, scope: Scope, as_of: dt.datetime, window_days: int = 7,
                      level: str = "grid") -> pd.DataFrame:
    from . import hotspots

    return hotspots.emerging_hotspots(_con(), scope, as_of, window_days=window_days, level=level)


@_guarded
@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=200)
def repeat_clusters(key: Token, scope: Scope, period: Period, as_of: dt.datetime, limit: int = 50) -> pd.DataFrame:
    from . import hotspots

    return hotspots.repeat_clusters(_con(), scope, period, as_of, limit=limit)


@_guarded
@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=200)
def hex_bins(key: Token, scope: Scope, period: Period, as_of: dt.datetime, cell_deg: float) -> tuple:
    """Hexagon counts and the reference latitude of their grid."""
    from . import hotspots

    mid_lat = hotspots.hex_mid_lat(_con(), scope)
    return hotspots.hex_bins(_con(), scope, period, as_of, cell_deg, mid_lat=mid_lat), mid_lat


# ------------------------------------------------------------- alerts ---

@_guarded
@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=200)
def warning_list(key: Token, scope: Scope, period: Period, as_of: dt.datetime, filters: tuple = ()) -> pd.DataFrame:
    """The red and yellow appeals with their remaining time (``deadlines.annotate``), the earliest deadline first."""
    from . import alerts, deadlines

    rows = alerts.warning_list(_con(), scope, period, as_of, filters=dict(filters))
    out = deadlines.annotate(rows, as_of, rules=time_limit_rules(key))
    return out.sort_values(["deadline_at", "appeal_id"], na_position="last").reset_index(drop=True)


@_guarded
@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=200)
def warning_totals(key: Token, scope: Scope, period: Period, as_of: dt.datetime, filters: tuple = ()) -> dict:
    from . import alerts

    return alerts.warning_totals(_con(), scope, period, as_of, filters=dict(filters))


@_guarded
@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=200)
def warning_counts(key: Token, scope: Scope, period: Period, as_of: dt.datetime, by: str,
                   filters: tuple = ()) -> pd.DataFrame:
    from . import alerts

    return alerts.warning_counts(_con(), scope, period, as_of, by, filters=dict(filters))


@_guarded
@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=100)
def warning_filter_options(key: Token, scope: Scope, as_of: dt.datetime) -> dict:
    from . import alerts

    return alerts.filter_options(_con(), scope, as_of)


def supervise(appeal_ids, **kwargs) -> list[int]:
    """督办 appeals (``supervision.supervise``) when the grant allows it, at a level the grant allows
    (the person's own and below: ``Grant.supervise_levels``), and every appeal lies inside it."""
    from . import supervision

    grant = current_grant()
    if not grant.supervise:
        raise access.NoAccess("该账号不能督办。")
    for appeal_id in appeal_ids:
        access.check_appeal(_con(), grant, appeal_id)
    kwargs["allowed_levels"] = grant.supervise_levels  # whatever the caller said
    return supervision.supervise(sor_engine(), appeal_ids, account=_account(), **kwargs)


def answer(supervision_id: int, appeal_id: str, **kwargs) -> None:
    """Record the answer to a supervision of an appeal inside the grant (``supervision.answer``)."""
    from . import supervision

    grant = current_grant()
    if not grant.supervise:
        raise access.NoAccess("该账号不能记录督办答复。")
    access.check_appeal(_con(), grant, appeal_id)
    supervision.answer(sor_engine(), supervision_id, account=_account(), **kwargs)


def _account() -> str | None:
    """The signed-in account's name, for the audit log."""
    principal = _principal()
    return principal.name if principal is not None else None


def audit_rows(actions: tuple, actor: str | None, since: dt.date, until: dt.date):
    """The audit log, for administrators only (read from the system of record, never cached)."""
    from . import audit_queries

    principal = _principal()
    if not current_grant().is_whole or principal is None or principal.role != "admin":
        raise access.NoAccess("审计日志仅对管理员开放。")
    with sor_engine().connect() as conn:
        return audit_queries.audit_rows(conn, actions=list(actions) or None, actor=actor,
                                        since=dt.datetime.combine(since, dt.time()),
                                        until=dt.datetime.combine(until + dt.timedelta(days=1), dt.time()))


def audit(action: str, *, target: str | None = None, region_code: str | None = None, detail: dict | None = None):
    """Append one audit row for the signed-in person (case views, exports)."""
    from . import auth

    auth.audit(sor_engine(), actor=_account() or "anonymous", action=action, target=target, region_code=region_code, detail=detail)


def sor_engine():
    """The system of record's engine, for the few writes staff make (supervision)."""
    return _engine(settings().db_url)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=10)
def time_limit_rules(key: Token):
    """The time-limit rules of the system of record, as the deadline engine reads them.

    A source without the rule table (a city's own views) gets none, so the
    built-in limits by urgency (``deadlines.BUILTIN``) apply, as in the engine.
    """
    from . import deadlines

    try:
        return deadlines.load_rules(sor_engine())
    except Exception:  # noqa: BLE001
        return deadlines.Rules()


OPEN_SUPERVISIONS_SHOWN = 200  # rows of the open supervisions on the warning page


@_guarded
@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=100)
def open_supervisions(key: Token, scope: Scope, as_of: dt.datetime, filters: tuple = ()) -> pd.DataFrame:
    from . import supervision_queries

    return supervision_queries.open_supervisions(_con(), scope, as_of, limit=OPEN_SUPERVISIONS_SHOWN,
                                                 filters=dict(filters))


@_guarded
@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=100)
def supervision_stats(key: Token, scope: Scope, period: Period, as_of: dt.datetime, by: str,
                      filters: tuple = ()) -> pd.DataFrame:
    from . import supervision_queries

    return supervision_queries.supervision_stats(_con(), scope, period, as_of, by, filters=dict(filters))


@_guarded
@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=100)
def unsatisfied_candidates(key: Token, scope: Scope, period: Period, as_of: dt.datetime,
                           filters: tuple = ()) -> pd.DataFrame:
    from . import supervision_queries

    return supervision_queries.unsatisfied_candidates(_con(), scope, period, as_of, filters=dict(filters))


@_guarded
@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=500)
def supervisions_of(key: Token, appeal_id: str, as_of: dt.datetime) -> pd.DataFrame:
    from . import supervision_queries

    return supervision_queries.supervisions_of(_con(), appeal_id, as_of)


# --------------------------------------------------------------- maps ---

@_guarded
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


@_guarded
@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=500)
def case_count(key: Token, scope: Scope, period: Period, as_of: dt.datetime, figure: str,
               part: str | None = None, filters: dict | None = None) -> int:
    return _cases.case_count(_con(), scope, period, as_of, figure, part=part, filters=filters)


@_guarded
@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=500)
def case_list(key: Token, scope: Scope, period: Period, as_of: dt.datetime, figure: str,
              part: str | None = None, filters: dict | None = None, sort: str = "created_at",
              descending: bool = True, offset: int = 0, limit: int = _cases.PAGE_SIZE,
              show_personal: bool = False) -> pd.DataFrame:
    return _cases.case_list(_con(), scope, period, as_of, figure, part=part, filters=filters, sort=sort,
                            descending=descending, offset=offset, limit=limit, show_personal=show_personal,
                            rules=time_limit_rules(key))


@_guarded
@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=8)
def case_file(key: Token, scope: Scope, period: Period, as_of: dt.datetime, figure: str, kind: str,
              part: str | None = None, filters: dict | None = None, sort: str = "created_at",
              descending: bool = True, show_personal: bool = False, sheet_name: str = "工单列表") -> Export:
    """The whole list as a file: ``kind`` "csv" or "xlsx", with the number of appeals it holds."""
    df = _cases.case_export(_con(), scope, period, as_of, figure, part=part, filters=filters, sort=sort,
                            descending=descending, show_personal=show_personal, rules=time_limit_rules(key))
    return Export(_exports.to_csv_bytes(df) if kind == "csv" else _exports.to_xlsx_bytes(df, sheet_name), len(df))


@_guarded
@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=500)
def case_detail(key: Token, appeal_id: str, show_personal: bool = False) -> dict | None:
    return _cases.case_detail(_con(), appeal_id, show_personal=show_personal)


@_guarded
@st.cache_data(ttl=60, show_spinner=False, max_entries=500)
def case_events(key: Token, appeal_id: str, show_personal: bool = False) -> pd.DataFrame:
    """The timeline, read from the system of record (a lookup of one appeal's events)."""
    return _cases.case_events(_engine(settings().db_url), appeal_id, show_personal=show_personal,
                              rules=time_limit_rules(key))


# ------------------------------------------------------------ 红黑榜 ---

@_guarded
@st.cache_data(ttl=60, show_spinner=False, max_entries=10)
def ranking_weights(key: Token):
    """The 红黑榜's weights in force (``ranking_weights.Weights``), read from the system of record: a change made
    with ``python -m data_access weights --set`` shows within a minute. The page passes them to ``league``."""
    from . import ranking_weights as stored

    return stored.load(sor_engine())


@_guarded
@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=200)
def league(key: Token, scope: Scope, period: Period, as_of: dt.datetime, unit: str, weights) -> pd.DataFrame:
    """The 红黑榜 of the scope's streets or departments (``rankings.league``) under ``weights``."""
    from . import rankings

    return rankings.league(_con(), scope, period, as_of, unit, weights)


# ----------------------------------------------------------- meetings ---
# A review meeting's figures (data_access/meeting.py) and their frozen snapshots (data_access/snapshots.py,
# in the system of record). A snapshot is read, listed or deleted only by a person whose region contains its
# scope; a wall screen reads none of them.

@_guarded
@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=50)
def meeting_figures(key: Token, scope: Scope, period: Period, as_of: dt.datetime, weights=None):
    """The figures of a review meeting, live (``meeting.figures``), the 红黑榜 under ``weights`` (None: those in
    force, ``ranking_weights``)."""
    from . import meeting

    if weights is None:
        weights = ranking_weights(key)
    return meeting.figures(_con(), scope, period, as_of, rules=time_limit_rules(key), weights=weights)


def _snapshot_in_grant(key: Token, grant: access.Grant, info, ident) -> None:
    if grant.is_whole:
        return
    if info is None or info.scope_code is None or not _contains(key, grant.region_code, info.scope_code):
        raise access.NoAccess(f"快照 {str(ident)[:20]} 不存在，或不在本辖区。")


def _snapshot_info(key: Token, grant: access.Grant, snapshot_id):
    from . import snapshots

    try:
        found = snapshots.info(sor_engine(), snapshot_id)
    except snapshots.SnapshotNotFound:
        if not grant.is_whole:  # the same answer as for another region's snapshot: ids tell nothing
            raise access.NoAccess(f"快照 {str(snapshot_id)[:20]} 不存在，或不在本辖区。") from None
        raise
    _snapshot_in_grant(key, grant, found, snapshot_id)
    return found


@_guarded
def snapshot_list(key: Token) -> list:
    """The snapshots whose scope lies within the person's region (all of them for the whole territory),
    the newest first (``snapshots.SnapshotInfo``)."""
    from . import snapshots

    grant = current_grant()
    return snapshots.list_snapshots(sor_engine(), within=grant.region_code,
                                    contains=lambda outer, inner: _contains(key, outer, inner))


@_guarded
def snapshot(key: Token, snapshot_id: int):
    """A snapshot with its figures as frozen (``snapshots.Snapshot``), when its scope lies within the person's
    region; ``access.NoAccess`` otherwise."""
    from . import snapshots

    _snapshot_info(key, current_grant(), snapshot_id)
    return snapshots.load(sor_engine(), snapshot_id)


@_guarded
def freeze_snapshot(key: Token, scope: Scope, period: Period, as_of: dt.datetime, name: str):
    """Freeze the meeting's figures of ``scope`` and ``period`` at ``as_of`` as the signed-in person.

    ``as_of`` may not be later than the start of the analytics store's last sync: rows committed after it
    may be missing from the copy, and would change the figures."""
    from . import snapshots

    account = _account()
    if account is None:
        raise access.NoAccess("请先登录。")
    synced = sync.status(_con()).last_success_at
    data_time = synced.replace(microsecond=0) if synced is not None else None
    if data_time is None or as_of > data_time:
        raise snapshots.SnapshotError(
            f"截至时间 {as_of:%Y-%m-%d %H:%M:%S} 晚于数据时间"
            f"{'' if data_time is None else f' {data_time:%Y-%m-%d %H:%M:%S}'}，此后到达的工单还会改变这些数字，不能冻结")
    figures = meeting_figures(key, scope, period, as_of, ranking_weights(key))
    return snapshots.store(sor_engine(), figures, name=name, created_by=account)


@_guarded
def may_delete_snapshot(info) -> bool:
    """Whether the signed-in person may delete this snapshot: its creator, or an administrator."""
    from . import snapshots

    principal = _principal()
    return principal is not None and snapshots.may_delete(info, principal.name, principal.role)


@_guarded
def delete_snapshot(key: Token, snapshot_id: int):
    """Delete a snapshot within the person's region, for its creator or an administrator
    (``snapshots.SnapshotRefused`` for anyone else)."""
    from . import snapshots

    _snapshot_info(key, current_grant(), snapshot_id)
    principal = _principal()
    if principal is None:
        raise access.NoAccess("请先登录。")
    return snapshots.delete(sor_engine(), snapshot_id, account=principal.name, role=principal.role)
