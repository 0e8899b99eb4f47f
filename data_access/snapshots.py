"""会议快照: a review meeting's figures frozen in the system of record.

``freeze`` computes the figures of a scope and period at one as-of time
(``meeting.figures``) and stores them, as JSON, in ``snapshots`` with a name,
the scope, the period and who froze it. ``load`` returns them exactly as they
were computed: nothing is queried again, so neither new appeals nor late
changes to old ones (a status corrected, a closing time filled in, an appeal
deleted) can move them. Judging at a past as-of time alone would not be
enough: a late update rewrites the very rows the figures were counted from.
See docs/meetings.md.

``list_snapshots`` lists those whose scope lies within a region;
``delete`` removes one for its creator or an administrator and refuses
everyone else. Every freeze and delete writes an ``audit_log`` row in the same
transaction.

The table lives in the system of record only (the sync copies appeals,
regions, departments, grid workers and supervisions, nothing else). A
database that predates it gets it on first use (``table``), or from any
command line (``store.create_schema``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine, delete as sql_delete, insert, select
from sqlalchemy.exc import SQLAlchemyError

from . import meeting, ranking_weights, schema
from .auth import _audit_row, _now
from .meeting import MeetingFigures
from .scope import Period, Scope

FREEZE, DELETE = "snapshot_freeze", "snapshot_delete"
MAX_NAME = schema.snapshots.c.name.type.length  # 100
_t = schema.snapshots
_READY: set[str] = set()


class SnapshotError(ValueError):
    """A snapshot that cannot be made, found or deleted. ``str()`` is a Chinese message for the screen."""


class SnapshotNotFound(SnapshotError, LookupError):
    """No snapshot with that id."""


class SnapshotRefused(SnapshotError, PermissionError):
    """The account may not do that to this snapshot."""


@dataclass(frozen=True)
class SnapshotInfo:
    """A stored snapshot's row, without its figures. ``scope_name``: the region's name now (None when the
    region is gone; the name frozen with the figures is ``MeetingFigures.scope_name``)."""

    id: int
    name: str
    scope_code: str | None
    scope_level: str
    scope_name: str | None
    period_start: dt.datetime
    period_end: dt.datetime
    period_text: str
    period_label: str
    as_of: dt.datetime
    created_by: str
    created_at: dt.datetime
    format_version: int

    @property
    def scope(self) -> Scope:
        return Scope(self.scope_code, self.scope_level)

    def as_dict(self) -> dict:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        return {k: (v.isoformat(timespec="seconds") if isinstance(v, dt.datetime) else v) for k, v in out.items()}


@dataclass(frozen=True)
class Snapshot:
    info: SnapshotInfo
    figures: MeetingFigures


def table(engine: Engine):
    """``snapshots``, created on first use in a database that predates it."""
    key = engine.url.render_as_string(hide_password=True)
    if key not in _READY:
        try:
            _t.create(engine, checkfirst=True)
        except SQLAlchemyError as exc:  # a read-only source (a city's views): no place for snapshots
            raise SnapshotError(f"诉求数据库中没有快照表，且无法创建（数据库账号可能只读）：{type(exc).__name__}") from exc
        _READY.add(key)
    return _t


def _name(name) -> str:
    text = " ".join(str(name or "").split())
    if not text:
        raise SnapshotError("请填写快照名称")
    if len(text) > MAX_NAME:
        raise SnapshotError(f"快照名称过长（最多 {MAX_NAME} 个字符）")
    return text


def freeze(engine: Engine, conn, scope: Scope, period: Period, as_of: dt.datetime, *, name: str, created_by: str,
           text: str | None = None, rules=None, data_time: dt.datetime | None = None,
           now: dt.datetime | None = None) -> Snapshot:
    """Compute the figures (``meeting.figures`` on ``conn``, the analytics store) and store them.

    ``data_time``: the time up to which ``conn`` holds every row (the start of its last sync); an ``as_of``
    after it is refused, since appeals still to arrive would belong to the figures.
    """
    name = _name(name)
    if data_time is not None and as_of > data_time:
        raise SnapshotError(f"截至时间 {as_of:%Y-%m-%d %H:%M:%S} 晚于数据时间 {data_time:%Y-%m-%d %H:%M:%S}，"
                            "此后到达的工单还会改变这些数字，不能冻结")
    try:
        figures = meeting.figures(conn, scope, period, as_of, rules=rules, text=text,
                                  weights=ranking_weights.load(engine))
    except meeting.FiguresError as exc:
        raise SnapshotError(str(exc)) from None
    return store(engine, figures, name=name, created_by=created_by, now=now)


def store(engine: Engine, figures: MeetingFigures, *, name: str, created_by: str,
          now: dt.datetime | None = None) -> Snapshot:
    """Store computed figures as a snapshot, with its audit row, in one transaction."""
    name = _name(name)
    actor = str(created_by or "").strip()[:schema.snapshots.c.created_by.type.length]
    if not actor:
        raise SnapshotError("快照须记录冻结人（账号）")
    now = _now(now, engine)
    payload = figures.to_json()
    row = dict(name=name, scope_code=figures.scope_code, scope_level=figures.scope_level,
               period_start=figures.period_start, period_end=figures.period_end, period_text=figures.period_text,
               period_label=figures.period_label, as_of=figures.as_of, created_by=actor, created_at=now,
               format_version=figures.version, payload=payload)
    t = table(engine)
    with engine.begin() as conn:
        new_id = int(conn.execute(insert(t).values(row)).inserted_primary_key[0])
        conn.execute(insert(schema.audit_log).values(_audit_row(
            at=now, actor=actor, action=FREEZE, target=str(new_id), region_code=figures.scope_code,
            detail={"name": name, "period": figures.period_text, "period_label": figures.period_label,
                    "as_of": figures.as_of.isoformat(timespec="seconds"), "scope_name": figures.scope_name})))
    info = SnapshotInfo(id=new_id, scope_name=figures.scope_name,
                        **{k: v for k, v in row.items() if k != "payload"})
    return Snapshot(info, figures)


def _columns():
    r = schema.regions
    return [_t.c.id, _t.c.name, _t.c.scope_code, _t.c.scope_level, r.c.name.label("scope_name"), _t.c.period_start,
            _t.c.period_end, _t.c.period_text, _t.c.period_label, _t.c.as_of, _t.c.created_by, _t.c.created_at,
            _t.c.format_version]


def _info(row) -> SnapshotInfo:
    values = dict(row._mapping)
    values.pop("payload", None)
    values["id"] = int(values["id"])
    values["format_version"] = int(values["format_version"])
    return SnapshotInfo(**values)


def _select(*extra):
    r = schema.regions
    return select(*_columns(), *extra).select_from(_t.outerjoin(r, r.c.code == _t.c.scope_code))


def list_snapshots(engine: Engine, *, within: str | None = None,
                   contains: Callable[[str, str], bool] | None = None) -> list[SnapshotInfo]:
    """The snapshots whose scope lies within region ``within`` (None: all of them), the newest first.

    ``contains(outer, inner)`` says whether region ``inner`` is ``outer`` or lies below it (the dashboard
    passes its access check); by default the system of record's regions are walked up from ``inner``. A
    snapshot of the whole territory lies within no region.
    """
    t = table(engine)
    with engine.connect() as conn:
        rows = conn.execute(_select().order_by(t.c.created_at.desc(), t.c.id.desc())).all()
    infos = [_info(r) for r in rows]
    if within is None:
        return infos
    contains = contains or region_contains(engine)
    return [s for s in infos if s.scope_code is not None and contains(within, s.scope_code)]


def load(engine: Engine, snapshot_id) -> Snapshot:
    """A snapshot and its figures, as frozen. ``SnapshotNotFound`` when there is none with that id."""
    ident = _id(snapshot_id)
    t = table(engine)
    with engine.connect() as conn:
        row = conn.execute(_select(t.c.payload).where(t.c.id == ident)).one_or_none()
    if row is None:
        raise SnapshotNotFound(f"快照 {ident} 不存在（可能已被删除）")
    try:
        figures = MeetingFigures.from_json(row.payload)
    except meeting.FiguresError as exc:
        raise SnapshotError(str(exc)) from None
    return Snapshot(_info(row), figures)


def info(engine: Engine, snapshot_id) -> SnapshotInfo:
    """A snapshot's row without its figures."""
    ident = _id(snapshot_id)
    t = table(engine)
    with engine.connect() as conn:
        row = conn.execute(_select().where(t.c.id == ident)).one_or_none()
    if row is None:
        raise SnapshotNotFound(f"快照 {ident} 不存在（可能已被删除）")
    return _info(row)


def may_delete(snapshot: SnapshotInfo, account: str | None, role: str | None) -> bool:
    """Its creator and administrators may delete a snapshot."""
    return role == "admin" or (account is not None and account == snapshot.created_by)


def delete(engine: Engine, snapshot_id, *, account: str, role: str | None,
           now: dt.datetime | None = None) -> SnapshotInfo:
    """Delete a snapshot: only its creator or an administrator (``role`` "admin"); anyone else gets
    ``SnapshotRefused`` and nothing changes. Audited in the same transaction."""
    ident = _id(snapshot_id)
    now = _now(now, engine)
    t = table(engine)
    with engine.begin() as conn:
        row = conn.execute(_select().where(t.c.id == ident)).one_or_none()
        if row is None:
            raise SnapshotNotFound(f"快照 {ident} 不存在（可能已被删除）")
        found = _info(row)
        if not may_delete(found, account, role):
            raise SnapshotRefused(f"无权删除快照“{found.name}”：只有创建人（{found.created_by}）或管理员可以删除。")
        conn.execute(sql_delete(t).where(t.c.id == ident))
        conn.execute(insert(schema.audit_log).values(_audit_row(
            at=now, actor=account, action=DELETE, target=str(ident), region_code=found.scope_code,
            detail={"name": found.name, "period": found.period_text, "period_label": found.period_label,
                    "as_of": found.as_of.isoformat(timespec="seconds"), "created_by": found.created_by})))
    return found


def _id(snapshot_id) -> int:
    try:
        ident = int(str(snapshot_id).strip())
    except (TypeError, ValueError):
        raise SnapshotNotFound(f"快照编号 “{str(snapshot_id)[:20]}” 无效") from None
    if ident <= 0 or ident >= 2 ** 63:
        raise SnapshotNotFound(f"快照编号 “{str(snapshot_id)[:20]}” 无效")
    return ident


def region_contains(engine: Engine) -> Callable[[str, str], bool]:
    """``contains(outer, inner)`` read from the system of record's regions (walking up the parents)."""
    r = schema.regions
    with engine.connect() as conn:
        parents = {code: parent for code, parent in conn.execute(select(r.c.code, r.c.parent_code))}

    def contains(outer: str, inner: str) -> bool:
        seen, code = 0, inner
        while code is not None and seen <= len(parents):
            if code == outer:
                return True
            code, seen = parents.get(code), seen + 1
        return False

    return contains


def account_role(engine: Engine, name: str) -> tuple[str, str | None] | None:
    """(role, region) of an enabled account, or None when there is no such account or it is disabled."""
    u = schema.users
    with engine.connect() as conn:
        row = conn.execute(select(u.c.role, u.c.region_code, u.c.disabled).where(u.c.name == str(name).strip())) \
            .one_or_none()
    if row is None or row.disabled:
        return None
    return row.role, row.region_code

