"""Who is looking: local accounts, sign-in, sessions and wall-screen (kiosk) tokens.

No UI here (``ui/auth.py`` draws the forms); only the system of record,
through SQLAlchemy Core with bound parameters.

* **Accounts** (``users``): a name, a role (``ROLES``), a region, an
  argon2id password hash (``argon2-cffi``), and optionally the person's name
  and unit, which name them on what they write (督办人). Managed only from the
  command line (``python -m data_access users …``, see ``data_access/cli_auth.py``).
  A role may supervise (督办) at its own level or below
  (``SUPERVISION_LEVELS_OF_ROLE``).
* **Sign-in** (``authenticate``): unknown name, wrong password and disabled
  account all answer the same message and take the same time (argon2 runs
  against a dummy hash for an unknown name). Failures are throttled per
  client (IP address) and typed name, never per account: after
  ``settings.login_max_failures`` failures within
  ``settings.login_lockout_seconds`` that client may not try that name again
  until the window has moved on, and after ``login_max_failures_per_client``
  failures it may try no name at all. A known name and an unknown one are
  throttled alike, with the same message, so the throttle tells nobody whether
  an account exists; and nobody can lock an owner out, who signs in from
  their own client as usual (OWASP ASVS 2.2.1). A success clears that
  client's failures for that name.
* **Sessions** (``user_sessions``): ``start_session`` hands out a random token
  and stores only its SHA-256. ``resume_session`` re-checks it on every page
  run: ended, past its absolute cap, idle too long or the account disabled
  means None. The browser keeps the token in a cookie signed with HMAC-SHA256
  (``sign_cookie`` / ``unsign_cookie``, ``cookie_secret``).
* **Kiosk tokens** (``kiosk_tokens``): a read-only principal bound to a region
  for a wall screen (``/?kiosk=<token>``); stored as SHA-256 only.
* **Audit**: every sign-in, failed sign-in, sign-out and change of an account
  or token appends an ``audit_log`` row (``audit`` is also what the pages use
  for case views and exports).

Times are naive wall-clock times of the city (``local_now``), whole seconds;
every function takes ``now`` so that tests control the clock. Messages of
``AuthError`` are Chinese, for the screen, and never tell whether an account
exists.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, bindparam, func, insert, inspect, select, update
from sqlalchemy.exc import IntegrityError

from . import cityzone, schema
from .clock import local_now, to_local_naive

__all__ = [
    "AuthError", "MIN_PASSWORD_LENGTH", "Principal", "ROLES", "ROLE_LABELS", "SUPERVISION_LEVELS_OF_ROLE",
    "add_user", "audit", "authenticate", "cookie_secret", "create_kiosk_token", "disable_user", "end_session",
    "hash_password", "kiosk_principal", "list_users", "reset_password", "resume_session", "revoke_kiosk_token",
    "set_profile", "sign_cookie", "start_session", "supervisor_label", "unsign_cookie", "verify_password",
]

ROLES: tuple[str, ...] = ("city", "district", "street", "admin")
KIOSK_ROLE = "kiosk"
ROLE_LABELS = {"city": "市级", "district": "区级", "street": "街道级", "admin": "管理员", "kiosk": "只读大屏"}
# the region level a bounded role's region must have (city: optional, the territory's root)
_ROLE_LEVELS = {"district": ("district",), "street": ("street",), "city": ("city", "province")}
# the 督办 levels each role may issue, lowest first: its own level and those below (data_access/supervision.py)
SUPERVISION_LEVELS_OF_ROLE: dict[str, tuple[str, ...]] = {
    "city": ("street", "district", "city"),
    "district": ("street", "district"),
    "street": ("street",),
}
PROFILE_SEPARATOR = " · "

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024  # longer input is refused (and never hashed) at sign-in
KIOSK_PREFIX = "kiosk:"
ID_PREFIX_LENGTH = 8  # the part of a kiosk token's id that names it in principals and the audit log

# Writes of ``last_seen_at`` / ``last_used_at`` at most this often (a page run each second would write each second).
TOUCH_SECONDS = 60

# The hasher: argon2id with argon2-cffi's defaults. Tests may swap in a cheaper one.
PASSWORD_HASHER = PasswordHasher()

BAD_CREDENTIALS = "用户名或密码错误"

_users = schema.users
_sessions = schema.user_sessions
_kiosk = schema.kiosk_tokens
_MAX_NAME = _users.c.name.type.length  # 64
_MAX_ACTOR = schema.audit_log.c.actor.type.length  # 64
_MAX_ACTION = schema.audit_log.c.action.type.length  # 32
_MAX_TARGET = schema.audit_log.c.target.type.length  # 64
_MAX_REGION = schema.audit_log.c.region_code.type.length  # 32
_MAX_LABEL = _kiosk.c.label.type.length  # 100
_MAX_SUPERVISOR = schema.supervisions.c.supervisor.type.length  # 64: "unit · display name" must fit
_PROFILE = ("display_name", "unit")  # added to ``users`` later: a database not upgraded yet lacks them
_MAX_TOKEN = 256  # anything longer is no token of ours


class AuthError(ValueError):
    """A refused sign-in or account change. ``str()`` is a Chinese message for the screen."""


@dataclass(frozen=True)
class Principal:
    """The person (or wall screen) behind a browser session.

    ``region_code`` None: the whole territory (a city account without a region, an admin).
    """

    name: str  # the user name, or "kiosk:<first 8 characters of the token's id>"
    role: str  # city | district | street | admin | kiosk
    region_code: str | None
    session_id: str | None = None
    display_name: str | None = None  # the person's name, e.g. 张伟
    unit: str | None = None  # their unit, e.g. 铁东区综合指挥中心督办科

    @property
    def is_kiosk(self) -> bool:
        return self.role == KIOSK_ROLE

    @property
    def may_see_personal_data(self) -> bool:
        return self.role in ("city", "district", "street")

    @property
    def may_export(self) -> bool:
        return self.role != KIOSK_ROLE

    @property
    def may_supervise(self) -> bool:
        return bool(self.supervision_levels)

    @property
    def supervision_levels(self) -> tuple[str, ...]:
        """The 督办 levels this person may issue: their own and below (none for admin and kiosk)."""
        return SUPERVISION_LEVELS_OF_ROLE.get(self.role, ())

    @property
    def supervisor_label(self) -> str:
        """How the person signs a supervision: "unit · display name", either alone, or the login name."""
        return supervisor_label(self.name, self.display_name, self.unit)


def supervisor_label(name: str, display_name: str | None, unit: str | None) -> str:
    """"unit · display name"; the one that is set when only one is; the login name when neither is."""
    parts = [p.strip() for p in (unit, display_name) if p and p.strip()]
    return PROFILE_SEPARATOR.join(parts) if parts else name


# ------------------------------------------------------------- helpers ---

def _settings(settings):
    if settings is not None:
        return settings
    from .config import load_settings

    return load_settings()


def _now(now: dt.datetime | None, engine: Engine) -> dt.datetime:
    """The time of a write: naive local time in the zone stored with the data, whole seconds."""
    if now is not None and now.tzinfo is None:
        return now.replace(microsecond=0)
    timezone = cityzone.zone_of(engine)
    return (local_now(timezone) if now is None else to_local_naive(now, timezone)).replace(microsecond=0)


def _digest(token: str) -> str:
    """The stored id of a session or kiosk token: SHA-256, hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _is_token(token) -> bool:
    return isinstance(token, str) and 0 < len(token) <= _MAX_TOKEN


def _detail(detail) -> str | None:
    if detail is None:
        return None
    if isinstance(detail, str):
        return detail
    return json.dumps(detail, ensure_ascii=False, default=str)


def _audit_row(*, at, actor, action, target=None, region_code=None, detail=None) -> dict:
    return dict(at=at, actor=str(actor)[:_MAX_ACTOR], action=str(action)[:_MAX_ACTION],
                target=None if target is None else str(target)[:_MAX_TARGET],
                region_code=None if region_code is None else str(region_code)[:_MAX_REGION],
                detail=_detail(detail))


def _clock(t: dt.datetime, now: dt.datetime) -> str:
    """A moment for a message: HH:MM rounded up to the minute (the date too when not today)."""
    if t.second or t.microsecond:
        t = t.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    return t.strftime("%H:%M") if t.date() == now.date() else t.strftime("%Y-%m-%d %H:%M")


def _throttled_message(until: dt.datetime, now: dt.datetime) -> str:
    return f"登录失败次数过多，请于 {_clock(until, now)} 后再试"


# ------------------------------------------------------------ passwords ---

def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` (salted: two hashes of one password differ)."""
    return PASSWORD_HASHER.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``stored_hash``; False for a malformed hash too."""
    if not stored_hash or not isinstance(password, str):
        return False
    try:
        return PASSWORD_HASHER.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


_dummy: tuple[PasswordHasher, str] | None = None


def _dummy_hash() -> str:
    """A hash made by the current hasher, to verify against when the name is unknown (same cost)."""
    global _dummy
    if _dummy is None or _dummy[0] is not PASSWORD_HASHER:
        _dummy = (PASSWORD_HASHER, PASSWORD_HASHER.hash(secrets.token_urlsafe(16)))
    return _dummy[1]


def _check_password(password) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise AuthError(f"密码至少需要 {MIN_PASSWORD_LENGTH} 个字符")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AuthError(f"密码过长（最多 {MAX_PASSWORD_LENGTH} 个字符）")
    if not password.strip():
        raise AuthError("密码不能全是空白字符")
    return password


def _check_profile(display_name, unit) -> tuple[str | None, str | None]:
    """The person's name and unit, trimmed (empty: None); refused when "unit · name" would not fit a supervision."""
    out = []
    for value, what in ((display_name, "姓名"), (unit, "单位")):
        text = None if value is None else str(value).strip() or None
        if text is not None and any(not ch.isprintable() for ch in text):
            raise AuthError(f"{what}不能包含控制字符")
        out.append(text)
    label = supervisor_label("", *out)
    if len(label) > _MAX_SUPERVISOR:
        raise AuthError(f"单位与姓名过长：“{label[:_MAX_SUPERVISOR]}…”合计 {len(label)} 个字，"
                        f"作为督办人最多 {_MAX_SUPERVISOR} 个字")
    return out[0], out[1]


def _check_name(name) -> str:
    text = "" if name is None else str(name).strip()
    if not text:
        raise AuthError("请填写用户名")
    if len(text) > _MAX_NAME:
        raise AuthError(f"用户名过长（最多 {_MAX_NAME} 个字符）")
    if any(not ch.isprintable() for ch in text):
        raise AuthError("用户名不能包含控制字符")
    if text.lower().startswith(KIOSK_PREFIX):
        raise AuthError(f"用户名不能以“{KIOSK_PREFIX}”开头（留给大屏令牌）")
    return text


# ------------------------------------------------------------- accounts ---

def _region_level(conn, code: str) -> str | None:
    return conn.execute(select(schema.regions.c.level).where(schema.regions.c.code == code)).scalar_one_or_none()


def _check_region(conn, role: str, region_code) -> str | None:
    code = None if region_code is None else str(region_code).strip() or None
    if role in ("district", "street") and code is None:
        raise AuthError(f"{ROLE_LABELS[role]}账号需要指定所属区域")
    if code is None:
        return None
    if len(code) > _MAX_REGION:
        raise AuthError(f"区域代码过长：{code[:_MAX_REGION]}…")
    level = _region_level(conn, code)
    if level is None:
        raise AuthError(f"区域代码不存在：{code}")
    allowed = _ROLE_LEVELS.get(role)
    if allowed is not None and level not in allowed:
        raise AuthError(f"{ROLE_LABELS[role]}账号的区域必须是{'或'.join(_LEVEL_NAMES.get(x, x) for x in allowed)}"
                        f"一级，{code} 是{_LEVEL_NAMES.get(level, level)}")
    return code


_LEVEL_NAMES = {"province": "省", "city": "市", "district": "区", "street": "街道", "community": "社区", "grid": "网格"}


# Databases whose ``users`` table has the profile columns, and when others were last seen without them.
_PROFILE_READY: set[str] = set()
_PROFILE_MISSING: dict[str, float] = {}
PROFILE_RECHECK_SECONDS = 60


def _user_columns(conn) -> list:
    """The columns of ``users`` to read: all of them, or all but the profile on a database whose
    ``users`` table predates it (``store.create_schema``, which every command line runs, adds them).
    The table is inspected once per process when it has them, at most once a minute while it does not."""
    key = conn.engine.url.render_as_string(hide_password=True)
    if key not in _PROFILE_READY:
        last = _PROFILE_MISSING.get(key)
        if last is None or time.monotonic() - last >= PROFILE_RECHECK_SECONDS:
            have = {c["name"] for c in inspect(conn).get_columns(_users.name)}
            if all(name in have for name in _PROFILE):
                _PROFILE_READY.add(key)
                _PROFILE_MISSING.pop(key, None)
            else:
                _PROFILE_MISSING[key] = time.monotonic()
    if key in _PROFILE_READY:
        return list(_users.c)
    return [c for c in _users.c if c.name not in _PROFILE]


def _user(conn, name: str):
    """The account named exactly ``name`` (some databases compare names ignoring case or trailing spaces)."""
    rows = conn.execute(select(*_user_columns(conn)).where(_users.c.name == name)).all()
    return next((r for r in rows if r.name == name), None)


def _require_user(conn, name):
    text = "" if name is None else str(name).strip()
    row = _user(conn, text) if 0 < len(text) <= _MAX_NAME else None
    if row is None:
        raise AuthError(f"用户不存在：{text[:_MAX_NAME]}")
    return row


def _end_sessions_of(conn, name: str, now: dt.datetime, reason: str) -> int:
    return conn.execute(update(_sessions)
                        .where(_sessions.c.user_name == name, _sessions.c.ended_at.is_(None))
                        .values(ended_at=now, ended_reason=reason)).rowcount


def add_user(engine: Engine, name: str, *, role: str, region_code: str | None, password: str | None,
             display_name: str | None = None, unit: str | None = None, actor: str = "cli",
             now: dt.datetime | None = None) -> None:
    """Create an account. ``password`` None: an account without a password (single sign-on only).

    District and street accounts need a region of that level; a city account may
    have the territory's root (a city or province) or None (everything).
    Names are unique ignoring case. ``display_name`` and ``unit`` (e.g. 张伟,
    铁东区综合指挥中心督办科) name the person on their supervisions.
    """
    now = _now(now, engine)
    name = _check_name(name)
    if role not in ROLES:
        raise AuthError(f"未知角色：{role}（可选 {', '.join(ROLES)}）")
    display_name, unit = _check_profile(display_name, unit)
    password_hash = None if password is None else hash_password(_check_password(password))
    profile = {k: v for k, v in (("display_name", display_name), ("unit", unit)) if v is not None}
    with engine.begin() as conn:
        region = _check_region(conn, role, region_code)
        taken = conn.execute(select(_users.c.name)
                             .where(func.lower(_users.c.name) == func.lower(bindparam("name", name)))).first()
        if taken is not None:
            raise AuthError(f"用户名已存在：{taken.name}")
        try:
            conn.execute(insert(_users).values(name=name, role=role, region_code=region, password_hash=password_hash,
                                               disabled=False, failed_logins=0, locked_until=None,
                                               created_at=now, updated_at=now, **profile))
        except IntegrityError:
            raise AuthError(f"用户名已存在：{name}") from None
        conn.execute(insert(schema.audit_log).values(
            _audit_row(at=now, actor=actor, action="user_add", target=name, region_code=region,
                       detail={"role": role, "password": password_hash is not None, **profile})))


KEEP = object()  # set_profile: leave this field as it is


def set_profile(engine: Engine, name: str, *, display_name=KEEP, unit=KEEP, actor: str = "cli",
                now: dt.datetime | None = None) -> dict[str, str | None]:
    """Set an account's display name and unit (``KEEP``: unchanged; None or empty: cleared).
    Returns both as they now are."""
    now = _now(now, engine)
    with engine.begin() as conn:
        row = _require_user(conn, name)
        current = (getattr(row, "display_name", None), getattr(row, "unit", None))
        wanted = _check_profile(current[0] if display_name is KEEP else display_name,
                                current[1] if unit is KEEP else unit)
        values = dict(zip(_PROFILE, wanted))
        conn.execute(update(_users).where(_users.c.id == row.id).values(**values, updated_at=now))
        conn.execute(insert(schema.audit_log).values(
            _audit_row(at=now, actor=actor, action="user_profile", target=row.name, region_code=row.region_code,
                       detail=values)))
    return values


def disable_user(engine: Engine, name: str, *, actor: str = "cli", now: dt.datetime | None = None) -> None:
    """Disable an account and end its open sessions (``ended_reason`` "disabled")."""
    now = _now(now, engine)
    with engine.begin() as conn:
        row = _require_user(conn, name)
        conn.execute(update(_users).where(_users.c.id == row.id).values(disabled=True, updated_at=now))
        ended = _end_sessions_of(conn, row.name, now, "disabled")
        conn.execute(insert(schema.audit_log).values(
            _audit_row(at=now, actor=actor, action="user_disable", target=row.name, region_code=row.region_code,
                       detail={"sessions_ended": ended})))


def reset_password(engine: Engine, name: str, password: str, *, actor: str = "cli",
                   now: dt.datetime | None = None) -> None:
    """Set a new password, lift every client's throttle on the name, and end the account's open sessions (``ended_reason`` "password_reset")."""
    now = _now(now, engine)
    password_hash = hash_password(_check_password(password))
    failures = _failures_table(engine)
    with engine.begin() as conn:
        row = _require_user(conn, name)
        conn.execute(update(_users).where(_users.c.id == row.id).values(
            password_hash=password_hash, failed_logins=0, locked_until=None, updated_at=now))
        if failures is not None:  # a new password: every client may try it
            conn.execute(failures.delete().where(failures.c.name == row.name))
        ended = _end_sessions_of(conn, row.name, now, "password_reset")
        conn.execute(insert(schema.audit_log).values(
            _audit_row(at=now, actor=actor, action="user_reset_password", target=row.name,
                       region_code=row.region_code, detail={"sessions_ended": ended})))


def list_users(engine: Engine, *, now: dt.datetime | None = None) -> list[dict]:
    """Every account, by name: name, role, region_code, display_name, unit, disabled, created_at,
    locked_until (never the hash)."""
    u = _users
    with engine.connect() as conn:
        rows = conn.execute(select(*_user_columns(conn)).order_by(u.c.name)).all()
    throttled = throttled_names(engine, now=now)  # locked_until: until when some client may not try the name
    return [{"name": r.name, "role": r.role, "region_code": r.region_code,
             "display_name": getattr(r, "display_name", None), "unit": getattr(r, "unit", None),
             "disabled": bool(r.disabled), "created_at": r.created_at, "locked_until": throttled.get(r.name)}
            for r in rows]


# -------------------------------------------------------------- sign-in ---

def _principal(row, session_id: str | None = None) -> Principal:
    return Principal(name=row.name, role=row.role, region_code=row.region_code or None, session_id=session_id,
                     display_name=getattr(row, "display_name", None) or None, unit=getattr(row, "unit", None) or None)


def authenticate(engine: Engine, name: str, password: str, *, now: dt.datetime | None = None,
                 ip: str | None = None, settings=None) -> Principal:
    """The principal of a name and password, or ``AuthError``: the same message whatever was wrong, and
    the same throttle for known and unknown names. Writes ``signin`` or ``signin_failed`` to the audit log."""
    settings = _settings(settings)
    now = _now(now, engine)
    typed = name if isinstance(name, str) else ""
    usable = isinstance(password, str) and len(password) <= MAX_PASSWORD_LENGTH
    client = ip[:64] if isinstance(ip, str) and ip else "-"  # no address known: one shared client

    row = None
    if 0 < len(typed) <= _MAX_NAME:
        with engine.connect() as conn:
            row = _user(conn, typed)

    def fail(reason: str, message: str = BAD_CREDENTIALS, **extra) -> AuthError:
        audit(engine, actor=typed, action="signin_failed", target=row.name if row is not None else None,
              region_code=row.region_code if row is not None else None,
              detail={"reason": reason, "ip": ip, **extra}, now=now)
        return AuthError(message)

    until = throttled_until(engine, client, typed, now=now, settings=settings)
    if until is not None:  # not even checked: a known and an unknown name are refused alike
        raise fail("throttled", _throttled_message(until, now), until=until)
    if row is None:
        verify_password(_dummy_hash(), password if usable else "")
        _count_failure(engine, client, typed, now, settings)
        raise fail("unknown_user")
    if row.disabled:
        verify_password(row.password_hash or _dummy_hash(), password if usable else "")
        _count_failure(engine, client, typed, now, settings)
        raise fail("disabled")
    ok = usable and verify_password(row.password_hash or _dummy_hash(), password) and row.password_hash is not None
    if not ok:
        _count_failure(engine, client, typed, now, settings)
        raise fail("bad_password")
    values = {}
    if PASSWORD_HASHER.check_needs_rehash(row.password_hash):
        values = {"password_hash": hash_password(password), "updated_at": now}
    f = _failures_table(engine)
    with engine.begin() as conn:
        if values:
            conn.execute(update(_users).where(_users.c.id == row.id).values(**values))
        if f is not None:
            conn.execute(f.delete().where(f.c.client == client, f.c.name == _failure_name(typed)))
        conn.execute(insert(schema.audit_log).values(
            _audit_row(at=now, actor=row.name, action="signin", region_code=row.region_code,
                       detail={"ip": ip, "role": row.role})))
    return _principal(row)


def _failure_name(typed: str) -> str:
    return typed[:_MAX_NAME]


_FAILURES_READY: set[str] = set()


def _failures_table(engine: Engine):
    """``signin_failures``, created on first use in a database that predates it (the command line's
    ``create_schema`` creates it too); None, with a warning, where the dashboard may not create it."""
    key = engine.url.render_as_string(hide_password=True)
    if key not in _FAILURES_READY:
        try:
            schema.signin_failures.create(engine, checkfirst=True)
        except Exception as exc:  # noqa: BLE001 - sign-in must go on: unthrottled, and said so in the log
            logging.getLogger("appeals").warning("sign-in throttling off: cannot create signin_failures: %s", exc)
            return None
        _FAILURES_READY.add(key)
    return schema.signin_failures


def _limits(settings) -> tuple[int, int, dt.timedelta]:
    per_name = max(1, int(settings.login_max_failures))
    per_client = max(per_name, int(getattr(settings, "login_max_failures_per_client", 6 * per_name)))
    return per_name, per_client, dt.timedelta(seconds=max(0, int(settings.login_lockout_seconds)))


def throttled_until(engine: Engine, client: str, typed: str, *, now: dt.datetime, settings=None) -> dt.datetime | None:
    """When ``client`` may try ``typed`` again, or None if it may now.

    Within the window (``login_lockout_seconds``) a client may fail
    ``login_max_failures`` times for one name and ``login_max_failures_per_client``
    times in all; the throttle lifts when enough of its failures have left the window.
    """
    per_name, per_client, window = _limits(_settings(settings))
    f = _failures_table(engine)
    if f is None:
        return None
    with engine.connect() as conn:
        rows = conn.execute(select(f.c.name, f.c.at).where(f.c.client == client, f.c.at > now - window)
                            .order_by(f.c.at)).all()
    ends = []
    for times, limit in (([r.at for r in rows if r.name == _failure_name(typed)], per_name),
                         ([r.at for r in rows], per_client)):
        if len(times) >= limit:  # it may try again once all but limit - 1 of them have left the window
            ends.append(times[len(times) - limit] + window)
    return max(ends) if ends else None


def _count_failure(engine: Engine, client: str, typed: str, now: dt.datetime, settings) -> None:
    """Record one failed sign-in; failures that have left the window are deleted on the way."""
    _, _, window = _limits(settings)
    f = _failures_table(engine)
    if f is None:
        return
    with engine.begin() as conn:
        conn.execute(f.delete().where(f.c.at <= now - window))
        conn.execute(insert(f).values(client=client, name=_failure_name(typed), at=now))


def throttled_names(engine: Engine, *, now: dt.datetime | None = None, settings=None) -> dict[str, dt.datetime]:
    """Names some client may not try now, with the latest moment one of them may again (for ``users list``)."""
    settings = _settings(settings)
    now = _now(now, engine)
    per_name, _, window = _limits(settings)
    f = _failures_table(engine)
    if f is None:
        return {}
    with engine.connect() as conn:
        pairs = conn.execute(select(f.c.client, f.c.name).where(f.c.at > now - window)
                             .group_by(f.c.client, f.c.name).having(func.count() >= per_name)).all()
    out: dict[str, dt.datetime] = {}
    for client, typed in pairs:
        until = throttled_until(engine, client, typed, now=now, settings=settings)
        if until is not None:
            out[typed] = max(until, out.get(typed, until))
    return out


# ------------------------------------------------------------- sessions ---

def start_session(engine: Engine, principal: Principal, *, now: dt.datetime | None = None, settings=None) -> str:
    """A new session for a signed-in person: the token to keep in the browser (only its SHA-256 is stored)."""
    if principal.is_kiosk:
        raise AuthError("大屏令牌不能开启登录会话")
    settings = _settings(settings)
    now = _now(now, engine)
    token = secrets.token_urlsafe(32)
    with engine.begin() as conn:
        conn.execute(insert(_sessions).values(
            id=_digest(token), user_name=principal.name, created_at=now, last_seen_at=now,
            expires_at=now + dt.timedelta(seconds=int(settings.session_max_seconds)),
            ended_at=None, ended_reason=None))
    return token


def _end(conn, session_id: str, now: dt.datetime, reason: str) -> int:
    return conn.execute(update(_sessions).where(_sessions.c.id == session_id, _sessions.c.ended_at.is_(None))
                        .values(ended_at=now, ended_reason=reason)).rowcount


def resume_session(engine: Engine, token: str, *, now: dt.datetime | None = None,
                   settings=None, touch: bool = True) -> Principal | None:
    """The principal of a session token, with the account's current role and region; None when the
    session is unknown, ended, expired, idle too long or the account is disabled (the session then ends).

    ``touch``: the check counts as activity (``last_seen_at`` moves on, at most every ``TOUCH_SECONDS``).
    A check nobody asked for (a big screen's automatic refresh) passes False, so a screen left alone
    still reaches its idle expiry."""
    if not _is_token(token):
        return None
    settings = _settings(settings)
    now = _now(now, engine)
    session_id = _digest(token)
    with engine.connect() as conn:
        session = conn.execute(select(_sessions).where(_sessions.c.id == session_id)).one_or_none()
        if session is None or session.ended_at is not None:
            return None
        user = _user(conn, session.user_name)
    reason = None
    if now >= session.expires_at:
        reason = "expired"
    elif (now - session.last_seen_at).total_seconds() > settings.session_idle_seconds:
        reason = "idle"
    elif user is None or user.disabled:
        reason = "disabled"
    if reason is not None:
        with engine.begin() as conn:
            _end(conn, session_id, now, reason)
        return None
    if touch and (now - session.last_seen_at).total_seconds() >= TOUCH_SECONDS:
        with engine.begin() as conn:
            conn.execute(update(_sessions).where(_sessions.c.id == session_id, _sessions.c.ended_at.is_(None))
                         .values(last_seen_at=now))
    return _principal(user, session_id)


def end_session(engine: Engine, token: str, *, now: dt.datetime | None = None, reason: str = "signout") -> None:
    """End a session (sign-out by default; an unknown or ended one is left alone). Audits ``signout``."""
    if not _is_token(token):
        return
    now = _now(now, engine)
    session_id = _digest(token)
    with engine.begin() as conn:
        session = conn.execute(select(_sessions.c.user_name).where(_sessions.c.id == session_id)).one_or_none()
        if session is None or not _end(conn, session_id, now, reason[:16]):
            return
        if reason == "signout":
            user = _user(conn, session.user_name)
            conn.execute(insert(schema.audit_log).values(
                _audit_row(at=now, actor=session.user_name, action="signout",
                           region_code=user.region_code if user is not None else None)))


# --------------------------------------------------------------- cookie ---

def _signature(token: str, secret: str) -> str:
    return hmac.new(secret.encode("utf-8"), token.encode("utf-8"), hashlib.sha256).hexdigest()


def sign_cookie(token: str, secret: str) -> str:
    """``token.signature``, the signature an HMAC-SHA256 of the token under ``secret`` (hex)."""
    if not secret:
        raise ValueError("cookie secret is empty")
    if not _is_token(token) or "." in token:
        raise ValueError("not a session token")
    return f"{token}.{_signature(token, secret)}"


def unsign_cookie(value: str, secret: str) -> str | None:
    """The token of a signed cookie value, or None when it is malformed or was not signed with ``secret``."""
    if not secret or not isinstance(value, str) or len(value) > _MAX_TOKEN + 65:
        return None
    token, dot, signature = value.rpartition(".")
    if not dot or not _is_token(token):
        return None
    if not hmac.compare_digest(signature.encode("utf-8"), _signature(token, secret).encode("ascii")):
        return None
    return token


COOKIE_SECRET_FILE = ".cookie_secret"


def cookie_secret(settings) -> str:
    """``settings.cookie_secret``, or else a random secret made once and kept, mode 0600, in
    ``.cookie_secret`` beside the analytics store (every process of the dashboard reads the same one)."""
    if settings.cookie_secret:
        return settings.cookie_secret
    folder = Path(settings.analytics_path).parent
    path = folder / COOKIE_SECRET_FILE
    existing = _read_secret(path)
    if existing:
        return existing
    folder.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    tmp = folder / f"{COOKIE_SECRET_FILE}.{secrets.token_hex(8)}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(secret + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)  # fails when another process was first: use theirs
        except FileExistsError:
            existing = _read_secret(path)
            if existing:
                return existing
            os.replace(tmp, path)  # an empty file left by a crash
        except OSError:  # no hard links on this file system
            os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return secret


def _read_secret(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return ""


# --------------------------------------------------------- kiosk tokens ---

def _kiosk_name(token_id: str) -> str:
    return KIOSK_PREFIX + token_id[:ID_PREFIX_LENGTH]


def _new_kiosk_token() -> str:
    """A URL-safe random token that never starts with "-", so a shell command line
    (``kiosk-token revoke TOKEN``) cannot mistake it for an option."""
    while True:
        token = secrets.token_urlsafe(24)
        if not token.startswith("-"):
            return token


def create_kiosk_token(engine: Engine, region_code: str, *, label: str | None = None, actor: str = "cli",
                       now: dt.datetime | None = None) -> str:
    """A new wall-screen token bound to ``region_code`` (which must exist). Only its SHA-256 is stored."""
    now = _now(now, engine)
    code = "" if region_code is None else str(region_code).strip()
    if not code:
        raise AuthError("请指定大屏令牌的区域")
    label = None if label is None else str(label).strip() or None
    if label is not None and len(label) > _MAX_LABEL:
        raise AuthError(f"备注过长（最多 {_MAX_LABEL} 个字符）")
    token = _new_kiosk_token()
    token_id = _digest(token)
    with engine.begin() as conn:
        if len(code) > _MAX_REGION or _region_level(conn, code) is None:
            raise AuthError(f"区域代码不存在：{code[:_MAX_REGION]}")
        conn.execute(insert(_kiosk).values(id=token_id, region_code=code, label=label, created_at=now,
                                           created_by=str(actor)[:_MAX_ACTOR], revoked_at=None, last_used_at=None))
        conn.execute(insert(schema.audit_log).values(
            _audit_row(at=now, actor=actor, action="kiosk_token_create", target=_kiosk_name(token_id),
                       region_code=code, detail={"label": label} if label else None)))
    return token


def _is_hex_id(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text)


def revoke_kiosk_token(engine: Engine, token: str, *, actor: str = "cli", now: dt.datetime | None = None) -> None:
    """Revoke a wall-screen token, given the token itself or its id (SHA-256 hex). Unknown: ``AuthError``.
    Revoking a revoked token changes nothing."""
    now = _now(now, engine)
    text = token.strip() if isinstance(token, str) else ""
    if not _is_token(text):
        raise AuthError("大屏令牌不存在")
    with engine.begin() as conn:
        row = conn.execute(select(_kiosk).where(_kiosk.c.id == _digest(text))).one_or_none()
        if row is None and _is_hex_id(text.lower()):
            row = conn.execute(select(_kiosk).where(_kiosk.c.id == text.lower())).one_or_none()
        if row is None:
            raise AuthError("大屏令牌不存在")
        if row.revoked_at is not None:
            return
        conn.execute(update(_kiosk).where(_kiosk.c.id == row.id, _kiosk.c.revoked_at.is_(None))
                     .values(revoked_at=now))
        conn.execute(insert(schema.audit_log).values(
            _audit_row(at=now, actor=actor, action="kiosk_token_revoke", target=_kiosk_name(row.id),
                       region_code=row.region_code, detail={"label": row.label} if row.label else None)))


def kiosk_principal(engine: Engine, token: str, *, now: dt.datetime | None = None) -> Principal | None:
    """The read-only principal of a wall-screen token, bound to its region; None if unknown or revoked."""
    if not _is_token(token):
        return None
    token_id = _digest(token)
    with engine.connect() as conn:
        row = conn.execute(select(_kiosk).where(_kiosk.c.id == token_id)).one_or_none()
    if row is None or row.revoked_at is not None:
        return None
    now = _now(now, engine)
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() >= TOUCH_SECONDS:
        with engine.begin() as conn:
            conn.execute(update(_kiosk).where(_kiosk.c.id == token_id).values(last_used_at=now))
    return Principal(name=_kiosk_name(token_id), role=KIOSK_ROLE, region_code=row.region_code)


# ---------------------------------------------------------------- audit ---

def audit(engine: Engine, *, actor: str, action: str, target: str | None = None, region_code: str | None = None,
          detail: dict | str | None = None, now: dt.datetime | None = None) -> None:
    """Append one row to ``audit_log`` (``detail``: a dict, stored as JSON). Long values are cut to fit."""
    row = _audit_row(at=_now(now, engine), actor=actor, action=action, target=target, region_code=region_code,
                     detail=detail)
    with engine.begin() as conn:
        conn.execute(insert(schema.audit_log).values(row))
