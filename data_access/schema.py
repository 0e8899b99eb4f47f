"""Schema of the system of record (the unified appeal database).

One module, SQLAlchemy Core. The same tables are created on SQLite, PostgreSQL
and MySQL/MariaDB. All timestamps are naive wall-clock times in the city's
time zone, which is stored with the data (``city_settings``, see
``data_access/cityzone.py`` and docs/architecture.md).

Coordinates and areas are DOUBLE everywhere (MySQL's FLOAT is 32-bit: metres
of error at longitude 120). Vocabularies (status, channel, satisfaction, urgency, handling level, event
type) are short English codes; the UI translates them (``data_access.vocab``). A channel the
source names with a word no mapping groups is kept as that word (free text, like categories).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Double,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    false,
)
from sqlalchemy.dialects import mysql

metadata = MetaData()

# MySQL's plain BLOB stops at 64 KB; a district outline can be larger.
_Geometry = LargeBinary().with_variant(mysql.LONGBLOB(), "mysql", "mariadb")
_LongText = Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")
# MySQL's plain DATETIME drops fractions of a second (MariaDB cuts, MySQL rounds)
_Time = DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")

regions = Table(
    "regions",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("name", String(100), nullable=False),
    # province | city | district | street | community | grid (data_access.scope.LEVELS)
    Column("level", String(16), nullable=False),
    Column("parent_code", String(32), index=True),
    Column("population", Integer),
    Column("area_km2", Double),
    Column("centroid_lon", Double),
    Column("centroid_lat", Double),
    # WKB, WGS84 longitude/latitude
    Column("geometry", _Geometry),
    Column("updated_at", _Time, nullable=False),
)

departments = Table(
    "departments",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("name", String(100), nullable=False),
    # the level the department works at: grid | community | street | district | city
    Column("level", String(16), nullable=False),
    Column("region_code", String(32)),
    Column("updated_at", _Time, nullable=False),
)

# the full-time grid worker (网格员) of each grid, who patrols it and reports from a handheld app
grid_workers = Table(
    "grid_workers",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("phone", String(32)),
    Column("grid_code", String(32), nullable=False, index=True),
    Column("updated_at", _Time, nullable=False),
)

appeals = Table(
    "appeals",
    metadata,
    Column("appeal_id", String(64), primary_key=True),
    # who and what
    # how it arrived: one of vocab.CHANNELS, or the source's own word when no mapping
    # groups it into one (cut to 32 characters)
    Column("channel", String(32), nullable=False),
    # the source's own word for the channel (up to 64 characters); NULL when the source gave none
    Column("channel_label", String(64)),
    Column("category", String(64), nullable=False),
    Column("subcategory", String(100)),
    Column("urgency", String(16)),  # urgent | normal | consult
    Column("summary", _LongText),
    Column("appellant_name", String(64)),
    Column("appellant_phone", String(32)),
    # where
    Column("address", String(255)),
    Column("lon", Double),
    Column("lat", Double),
    # the finest loaded region containing the point: a grid when grids exist
    Column("grid_code", String(32), index=True),
    # handling
    Column("department_code", String(32)),
    Column("handling_level", String(16)),  # grid | community | street | district | city
    # times
    Column("created_at", _Time, nullable=False, index=True),
    Column("dispatched_at", _Time),
    Column("first_feedback_at", _Time),
    Column("deadline_at", _Time),
    Column("feedback_deadline_at", _Time),
    # when the appeal was closed or cancelled (status tells which)
    Column("closed_at", _Time),
    Column("rated_at", _Time),
    Column("updated_at", _Time, nullable=False),
    # outcome
    Column("status", String(16), nullable=False),  # open | closed | cancelled
    Column("satisfaction", String(16)),  # satisfied | basic | unsatisfied | NULL (unrated)
    Column("is_repeat", Boolean, nullable=False, default=False),
    Column("is_supervised", Boolean, nullable=False, default=False),
    # data-quality warnings an importer raised for this row, comma-separated kinds
    # (e.g. "no_location,missing_deadline"); NULL when clean
    Column("quality_flags", String(255)),
    # the deadline engine (data_access/deadlines.py): where the deadline came from
    # (rule | import | manual), when the open appeal turns yellow (临期), and since
    # when it is paused (挂起; the clock stops, the deadline moves on resume)
    Column("deadline_source", String(16)),
    Column("warn_at", _Time),
    Column("paused_since", _Time),
)
# The incremental sync reads by (updated_at, appeal_id).
Index("ix_appeals_updated_at", appeals.c.updated_at, appeals.c.appeal_id)

appeal_events = Table(
    "appeal_events",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("appeal_id", String(64), nullable=False, index=True),
    # accept | dispatch | handle | feedback | rate | supervise
    Column("event_type", String(16), nullable=False),
    Column("event_at", _Time, nullable=False),
    Column("actor", String(100)),
    Column("note", Text),
)

# 办理时限 by category and urgency: data an administrator can change
# (python -m data_access rules …). The most specific rule wins: category +
# subcategory + urgency, then category + urgency, then urgency alone.
time_limit_rules = Table(
    "time_limit_rules",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("category", String(64)),  # NULL: any category
    Column("subcategory", String(100)),  # NULL: any subcategory
    Column("urgency", String(16)),  # urgent | normal | consult | NULL (any)
    Column("limit_hours", Double),  # clock hours (紧急), or
    Column("limit_workdays", Integer),  # working days (一般, 咨询)
    Column("feedback_hours", Double),
    Column("feedback_workdays", Integer),
    Column("updated_at", _Time, nullable=False),
)

# 督办: one row per supervision; an unanswered one past its due time escalates
# one level (street → district → city) into a new row
supervisions = Table(
    "supervisions",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("appeal_id", String(64), nullable=False, index=True),
    Column("level", String(16), nullable=False),  # street | district | city
    Column("region_code", String(32)),  # the supervising region (the appeal's street or district, or the city)
    Column("department_code", String(32)),  # the department supervised
    Column("reason", Text, nullable=False),
    Column("supervisor", String(64), nullable=False),
    Column("created_at", _Time, nullable=False),
    Column("due_at", _Time, nullable=False),  # the response is due by then
    Column("status", String(16), nullable=False),  # open | answered | escalated
    Column("answered_at", _Time),
    Column("answer", Text),
    Column("escalated_from", BigInteger().with_variant(Integer(), "sqlite")),  # the supervision it replaces
    Column("updated_at", _Time, nullable=False, index=True),
)

# append-only record of who did what (supervisions now; sign-ins, views and exports later)
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("at", _Time, nullable=False, index=True),
    Column("actor", String(64), nullable=False),
    Column("action", String(32), nullable=False),
    Column("target", String(64)),
    Column("region_code", String(32)),
    Column("detail", Text),
)

# Facts about the data as a whole, one row per key. ``timezone``: the city's
# IANA time zone, in which every stored time is a naive local time
# (data_access/cityzone.py). init-db, the first import and the seeder record it.
city_settings = Table(
    "city_settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", String(255), nullable=False),
    Column("updated_at", _Time, nullable=False),
)

# ----------------------------------------------------------- access ---
# Accounts, sign-in sessions and wall-screen (kiosk) tokens (data_access/auth.py).
# They stay in the system of record: the sync never copies them to the analytics store.

# local accounts; passwords are argon2id hashes, never the password
users = Table(
    "users",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),  # city | district | street | admin
    # district / street: that region; city: the territory's root or NULL (everything); admin: usually NULL
    Column("region_code", String(32)),
    Column("password_hash", String(255)),  # NULL: single sign-on only
    # how the person is named on what they write (督办人: "unit · display name"); NULL: the login name
    Column("display_name", String(64)),
    Column("unit", String(64)),
    Column("disabled", Boolean, nullable=False, default=False, server_default=false()),
    Column("failed_logins", Integer, nullable=False, default=0, server_default="0"),
    Column("locked_until", _Time),
    Column("created_at", _Time, nullable=False),
    Column("updated_at", _Time, nullable=False),
)

# failed sign-ins, by client (IP address) and the name typed, for throttling (data_access/auth.py); rows
# older than the lockout window are deleted as new ones arrive. Unknown names are counted like known ones.
signin_failures = Table(
    "signin_failures",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("client", String(64), nullable=False),
    Column("name", String(64), nullable=False),
    Column("at", _Time, nullable=False, index=True),
    Index("ix_signin_failures_client_name", "client", "name"),
)

# one row per sign-in; the id is the SHA-256 (hex) of the session token, never the token
user_sessions = Table(
    "user_sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("user_name", String(64), nullable=False, index=True),
    Column("created_at", _Time, nullable=False),
    Column("last_seen_at", _Time, nullable=False),
    Column("expires_at", _Time, nullable=False),  # the absolute cap, whatever the activity
    Column("ended_at", _Time),
    Column("ended_reason", String(16)),  # signout | idle | expired | disabled | password_reset
)

# read-only wall screens (/?kiosk=<token>); the id is the SHA-256 (hex) of the token
kiosk_tokens = Table(
    "kiosk_tokens",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("region_code", String(32), nullable=False),
    Column("label", String(100)),
    Column("created_at", _Time, nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("revoked_at", _Time),
    Column("last_used_at", _Time),
)

# Frozen figures of a review meeting (会议快照, data_access/snapshots.py): the figures of a scope and period
# judged at ``as_of``, computed once and stored as JSON (data_access.meeting.MeetingFigures), so that opening
# one later shows exactly what was frozen. Never copied to the analytics store.
snapshots = Table(
    "snapshots",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False),  # e.g. "10月讲评 · 铁东区"
    Column("scope_code", String(32)),  # NULL: the whole territory
    Column("scope_level", String(16), nullable=False),
    Column("period_start", _Time, nullable=False),
    Column("period_end", _Time, nullable=False),  # exclusive
    Column("period_text", String(32), nullable=False),  # 2026-10, 2026-Q4, 2026-W44, 2026-10-05..2026-11-03
    Column("period_label", String(64), nullable=False),  # 2026年10月
    Column("as_of", _Time, nullable=False),
    Column("created_by", String(64), nullable=False),  # the account that froze it
    Column("created_at", _Time, nullable=False, index=True),
    Column("format_version", Integer, nullable=False),  # data_access.meeting.FORMAT_VERSION
    Column("payload", _LongText, nullable=False),  # MeetingFigures.to_json()
)

# Columns of ``appeals`` copied into the analytics store (everything but free text
# that no aggregate needs is still copied: case lists read it from there).
APPEAL_COLUMNS = tuple(c.name for c in appeals.columns)

# The 红黑榜's composite: the weights of 办结率, 按时办结率 and 满意率, and the fewest appeals a unit needs to be
# ranked (data_access/ranking_weights.py; python -m data_access weights). One row per change, never updated:
# the newest row holds the weights in force, the others their history. No row: the defaults of docs/metrics.md.
ranking_weights = Table(
    "ranking_weights",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("completion_weight", Double, nullable=False),
    Column("on_time_weight", Double, nullable=False),
    Column("satisfaction_weight", Double, nullable=False),
    Column("min_appeals", Integer, nullable=False),
    Column("changed_by", String(64), nullable=False),
    Column("changed_at", _Time, nullable=False),
)
