"""Settings, from environment variables first, then ``.streamlit/secrets.toml``.

Every setting is documented in the README (Configuration) and, for sign-in, docs/security.md.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_DIR / "data"
SECRETS_PATH = PROJECT_DIR / ".streamlit" / "secrets.toml"

DEFAULT_DB_URL = f"sqlite:///{DATA_DIR / 'appeals.db'}"
DEFAULT_TIMEZONE = "Asia/Shanghai"


_TRUE = ("1", "true", "yes", "on", "y")
_FALSE = ("0", "false", "no", "off", "n")


def boolean(raw) -> bool:
    """A setting's yes/no: "1", "true", "yes", "on" (any case) or a TOML true; "0", "false", "no", "off"."""
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"not a yes/no value: {raw!r}")


@dataclass(frozen=True)
class Settings:
    db_url: str = DEFAULT_DB_URL
    analytics_path: Path = DATA_DIR / "analytics.duckdb"
    # the city's time zone. The zone stored with the data wins (data_access.cityzone.bind);
    # APPEALS_TZ, when set (timezone_set), must agree with it
    timezone: str = DEFAULT_TIMEZONE
    timezone_set: bool = False
    # the big screen reloads its data this often
    refresh_seconds: int = 60
    # a page run syncs the analytics store when the last sync is older than this
    sync_interval_seconds: float = 10.0
    # rows stamped this long before the newest copied row are re-checked (late commits)
    sync_lookback_seconds: float = 60.0
    # a sync compares the whole copy with the source (rows written below the mark, deletes) at most this often
    reconcile_seconds: float = 300.0
    # "data is stale" warning when the last successful sync is older than this
    stale_after_seconds: int = 300
    # the feed-silence banner never shows before this many minutes without a new appeal
    # (data_access/feed.py: beyond it, the usual arrivals at that hour decide)
    feed_silence_minutes: float = 30.0
    # optional XYZ raster tile URL for the map's basemap (offline when empty)
    tile_url: str = ""
    # 临期 (yellow): remaining working time at most this share of the allowed
    # working time, or at most this many working days, whichever comes first
    due_soon_fraction: float = 0.2
    due_soon_workdays: float = 1.0
    query_timeout_seconds: float = 30.0
    max_rows: int = 100_000
    # let roles that may see personal data see it on a case's detail (data_access.privacy);
    # false masks it for everyone (a demo, a training room)
    show_personal_data: bool = True
    # sign-in (data_access/auth.py): a session ends after this long without a page run,
    # and in any case this long after signing in
    session_idle_seconds: int = 1800
    session_max_seconds: int = 43200
    # sign-in throttle (data_access/auth.py): within login_lockout_seconds, one client (IP address) may fail
    # this many times for one name, and login_max_failures_per_client times in all; accounts are never locked
    login_max_failures: int = 5
    login_lockout_seconds: int = 900
    login_max_failures_per_client: int = 30
    # behind a reverse proxy every browser comes from the proxy's address: name the header in which the proxy
    # passes the browser's own (e.g. X-Real-IP), so that the throttle counts per browser, not per proxy
    client_ip_header: str = ""
    # signs the session cookie (HMAC-SHA256); empty: a random secret kept beside the analytics store
    cookie_secret: str = field(default="", repr=False)
    # single sign-on (st.login): the identity provider's claims that carry the role and the region code
    oidc_role_claim: str = "role"
    oidc_region_claim: str = "region"


_ENV = {
    "db_url": ("APPEALS_DB_URL", str),
    "analytics_path": ("APPEALS_ANALYTICS_PATH", Path),
    "timezone": ("APPEALS_TZ", str),
    "refresh_seconds": ("APPEALS_REFRESH_SECONDS", int),
    "sync_interval_seconds": ("APPEALS_SYNC_INTERVAL_SECONDS", float),
    "sync_lookback_seconds": ("APPEALS_SYNC_LOOKBACK_SECONDS", float),
    "reconcile_seconds": ("APPEALS_RECONCILE_SECONDS", float),
    "stale_after_seconds": ("APPEALS_STALE_AFTER_SECONDS", int),
    "feed_silence_minutes": ("APPEALS_FEED_SILENCE_MINUTES", float),
    "tile_url": ("APPEALS_TILE_URL", str),
    "due_soon_fraction": ("APPEALS_DUE_SOON_FRACTION", float),
    "due_soon_workdays": ("APPEALS_DUE_SOON_WORKDAYS", float),
    "query_timeout_seconds": ("APPEALS_QUERY_TIMEOUT_SECONDS", float),
    "max_rows": ("APPEALS_MAX_ROWS", int),
    "show_personal_data": ("APPEALS_SHOW_PERSONAL_DATA", boolean),
    "session_idle_seconds": ("APPEALS_SESSION_IDLE_SECONDS", int),
    "session_max_seconds": ("APPEALS_SESSION_MAX_SECONDS", int),
    "login_max_failures": ("APPEALS_LOGIN_MAX_FAILURES", int),
    "login_lockout_seconds": ("APPEALS_LOGIN_LOCKOUT_SECONDS", int),
    "login_max_failures_per_client": ("APPEALS_LOGIN_MAX_FAILURES_PER_CLIENT", int),
    "client_ip_header": ("APPEALS_CLIENT_IP_HEADER", str),
    "cookie_secret": ("APPEALS_COOKIE_SECRET", str),
    "oidc_role_claim": ("APPEALS_OIDC_ROLE_CLAIM", str),
    "oidc_region_claim": ("APPEALS_OIDC_REGION_CLAIM", str),
}


def _read_secrets(path: Path) -> dict:
    if not path.is_file():
        return {}
    with path.open("rb") as fh:
        return tomllib.load(fh)


def load_settings(env: dict | None = None, secrets_path: Path | None = None) -> Settings:
    """Environment variables win over ``secrets.toml``; both use the same names."""
    env = os.environ if env is None else env
    secrets = _read_secrets(secrets_path or SECRETS_PATH)
    values = {}
    for field, (name, kind) in _ENV.items():
        raw = env.get(name)
        if raw is None or raw == "":
            raw = secrets.get(name)
        if raw is None or raw == "":
            continue
        try:
            values[field] = kind(raw)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"setting {name}={raw!r} is not a valid {kind.__name__}") from exc
    if "timezone" in values:
        values["timezone_set"] = True
    return Settings(**values)


def redact_url(url: str) -> str:
    """The database URL without its password, for messages and logs."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL is shown as given, minus anything after '@'
        return url.split("@")[-1]
