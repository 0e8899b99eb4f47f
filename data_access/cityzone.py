"""The city's time zone, stored with the data.

Every stored time (``created_at``, ``updated_at``, audit rows, sessions…) is a
naive local time in one zone, so the zone belongs to the data, not to a
process. The system of record keeps it in ``city_settings`` (key
``timezone``):

* ``init-db``, the first import and the seeder record it (``record``): the
  zone of ``APPEALS_TZ``, or Asia/Shanghai;
* every process reads it from there (``zone_of``, ``bind``);
* a process whose ``APPEALS_TZ`` disagrees refuses: ``ZoneMismatch`` names
  both zones;
* a database that has none yet (an older database, a city's own views) gets
  one with ``python -m data_access timezone set ZONE``; until then the
  process uses ``APPEALS_TZ`` or Asia/Shanghai and says so
  (``Resolved.source``).
"""

from __future__ import annotations

import dataclasses
import time
import weakref
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Engine, inspect, select
from sqlalchemy.exc import SQLAlchemyError

from . import clock, schema
from .config import DEFAULT_TIMEZONE, Settings, load_settings, redact_url

KEY = "timezone"
# a process re-reads the stored zone this often (it changes only by `timezone set`)
MEMO_SECONDS = 60.0


class ZoneError(ValueError):
    """Not an IANA time zone name."""


class ZoneMismatch(RuntimeError):
    """The process's APPEALS_TZ disagrees with the zone stored with the data."""

    def __init__(self, stored: str, configured: str, where: str = "the appeal database"):
        self.stored, self.configured, self.where = stored, configured, where
        super().__init__(
            f"{where} records the city's time zone {stored}, but APPEALS_TZ is {configured}. Every stored time "
            f"is local time in {stored}; unset APPEALS_TZ or set it to {stored}.")


@dataclass(frozen=True)
class Resolved:
    zone: str
    source: str  # "stored" | "setting" (APPEALS_TZ, none stored) | "default" (neither)

    @property
    def stored(self) -> bool:
        return self.source == "stored"


def check_name(name: str) -> str:
    """``name`` if it is an IANA time zone (Asia/Shanghai, America/New_York), else ZoneError."""
    name = str(name).strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ZoneError(f"{name!r} is not an IANA time zone (e.g. Asia/Shanghai, America/New_York)") from None
    if not name:
        raise ZoneError("an empty time zone name")
    return name


def configured_zone(settings: Settings | None = None) -> str | None:
    """The zone ``APPEALS_TZ`` names, or None when it is not set."""
    settings = settings or load_settings()
    return settings.timezone if settings.timezone_set else None


def stored_zone(engine: Engine) -> str | None:
    """The zone recorded in the system of record; None when none is (or the table does not exist)."""
    t = schema.city_settings
    with engine.connect() as conn:
        if not inspect(conn).has_table(t.name):
            return None
        value = conn.execute(select(t.c.value).where(t.c.key == KEY)).scalar_one_or_none()
    return value or None


def resolve(stored: str | None, configured: str | None, where: str = "the appeal database") -> Resolved:
    """The zone a process works in, from what is stored and what it is configured with."""
    if stored is not None:
        if configured is not None and configured != stored:
            raise ZoneMismatch(stored, configured, where)
        return Resolved(stored, "stored")
    if configured is not None:
        return Resolved(configured, "setting")
    return Resolved(DEFAULT_TIMEZONE, "default")


# engine -> (stored zone or None, time.monotonic() when read, the error of a failed read or None)
_memo: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
# a failed read is not retried for this long (a database that does not answer must not slow every page run)
RETRY_SECONDS = 10.0


def _stored_memo(engine: Engine) -> str | None:
    hit = _memo.get(engine)
    age = None if hit is None else time.monotonic() - hit[1]
    if hit is not None and hit[2] is None and age < MEMO_SECONDS:
        return hit[0]
    if hit is not None and hit[2] is not None and age < RETRY_SECONDS:
        raise hit[2]
    try:
        value = stored_zone(engine)
    except SQLAlchemyError as exc:
        known = hit is not None and hit[2] is None
        if known:  # the database is away for now: keep the zone read last
            _memo[engine] = (hit[0], time.monotonic() - MEMO_SECONDS + RETRY_SECONDS, None)
            return hit[0]
        _memo[engine] = (None, time.monotonic(), exc)
        raise
    _memo[engine] = (value, time.monotonic(), None)
    return value


def forget(engine: Engine | None = None) -> None:
    """Drop the remembered zone of one engine (or all), so that the next read asks the database."""
    if engine is None:
        _memo.clear()
    else:
        _memo.pop(engine, None)


def resolved(engine: Engine, settings: Settings | None = None) -> Resolved:
    """The zone of the data behind ``engine`` (read at most every MEMO_SECONDS), checked against APPEALS_TZ."""
    return resolve(_stored_memo(engine), configured_zone(settings), redact_url(str(engine.url)))


def zone_of(engine: Engine, settings: Settings | None = None) -> str:
    return resolved(engine, settings).zone


def bind(settings: Settings, engine: Engine) -> Settings:
    """``settings`` with ``timezone`` set to the data's zone (ZoneMismatch when APPEALS_TZ disagrees)."""
    zone = zone_of(engine, settings)
    return settings if zone == settings.timezone else dataclasses.replace(settings, timezone=zone)


def record(engine: Engine, zone: str | None = None, *, settings: Settings | None = None,
           force: bool = False) -> Resolved:
    """Store the city's zone when none is stored yet (``zone``, else APPEALS_TZ, else Asia/Shanghai).

    A zone already stored is kept; asking for another one raises ZoneMismatch,
    unless ``force`` (the stored zone was wrong and the stored times are in
    ``zone``). Returns the zone now stored.
    """
    t = schema.city_settings
    wanted = check_name(zone) if zone is not None else configured_zone(settings)
    t.create(engine, checkfirst=True)
    with engine.begin() as conn:
        current = conn.execute(select(t.c.value).where(t.c.key == KEY)).scalar_one_or_none()
        if current and (wanted is None or wanted == current):
            result = Resolved(current, "stored")
        elif current and not force:
            raise ZoneMismatch(current, wanted, redact_url(str(engine.url)))
        else:
            value = wanted or DEFAULT_TIMEZONE
            stamp = clock.local_now(value).replace(microsecond=0)
            if current:
                conn.execute(t.update().where(t.c.key == KEY).values(value=value, updated_at=stamp))
            else:
                conn.execute(t.insert().values(key=KEY, value=value, updated_at=stamp))
            result = Resolved(value, "stored")
    _memo[engine] = (result.zone, time.monotonic(), None)
    return result
