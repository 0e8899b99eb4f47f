"""督办 (supervision): the writes, on the system of record.

Staff supervise an appeal (or a batch) from the warning page or an appeal's
detail. A supervision records who, when, why, at which level (街道 / 区 / 市)
and by when the handling department must answer. Each write is one
transaction on the system of record (SQLAlchemy Core, bound parameters) and
leaves three traces: the ``supervisions`` row, an event in ``appeal_events``
and a row in ``audit_log``. It stamps ``appeals.updated_at`` and
``supervisions.updated_at`` with the city's wall-clock time, so the
dashboard's next sync copies the change (see docs/architecture.md).

Rules (docs/supervision.md explains them):

* An appeal has at most one open supervision. Supervising it again at the
  same or a lower level is refused; at a higher level, the new supervision
  replaces the open one, which becomes ``escalated`` (``escalated_from``
  links them).
* Open appeals can be supervised; closed ones only when the callback rated
  them 不满意; cancelled ones never.
* ``escalate_overdue`` (run by ``python -m data_access escalate``, e.g. from
  cron) escalates every open supervision past its due time one level up:
  street → district → city. A city-level supervision cannot go higher: it
  stays open and shows as overdue (``supervision_queries.open_supervisions``).
* Closing the appeal does not answer its supervision; the department answers
  it (``answer``).

Every function takes ``now`` (the business time: created_at, answered_at,
event and audit times; default: the wall clock) so that tests can control the
clock; ``updated_at`` is always the wall clock, because the sync reads by it.
Messages of ``SupervisionError`` are in Chinese: pages show them as they are.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence

from sqlalchemy import Engine, bindparam, insert, select, update

from . import cityzone, schema
from .clock import local_now, to_local_naive
from .vocab import SUPERVISION_LEVELS
from .workcal import add_working_days

__all__ = [
    "DEFAULT_ALLOWANCE_WORKDAYS", "ESCALATION_PREFIX", "LEVEL_ORDER", "SYSTEM_ACTOR", "SupervisionError",
    "answer", "answer_note", "default_due_at", "escalate_note", "escalate_overdue", "event_note", "next_level",
    "replaced_note", "supervise", "unsatisfied_candidates",
]

# the levels, lowest first; escalation moves one step to the right
LEVEL_ORDER: tuple[str, ...] = ("street", "district", "city")
_RANK = {level: i for i, level in enumerate(LEVEL_ORDER)}
# the answer is due this many working days after the supervision, unless staff choose otherwise
DEFAULT_ALLOWANCE_WORKDAYS = 2
SYSTEM_ACTOR = "系统自动升级"
ESCALATION_PREFIX = "逾期未答复，自动升级："
# appeals still open, and closed ones the callback rated 不满意, can be supervised
SUPERVISABLE_CLOSED_SATISFACTION = "unsatisfied"

_CHUNK = 500  # ids per IN (…) list
_MAX_ACTOR = schema.audit_log.c.actor.type.length  # 64
_MAX_LISTED = 10  # problems named in one message

sv = schema.supervisions
ap = schema.appeals


class SupervisionError(ValueError):
    """A supervision request that was refused; nothing was written.

    ``str(error)`` is a message for the screen (Chinese). ``problems`` lists
    ``(appeal_id, reason)`` for each appeal of a batch that was refused.
    """

    def __init__(self, message: str, problems: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)


# ------------------------------------------------------------- helpers ---

def next_level(level: str) -> str | None:
    """The level above (street → district → city); None above the city."""
    i = _RANK[level] + 1
    return LEVEL_ORDER[i] if i < len(LEVEL_ORDER) else None


def default_due_at(now: dt.datetime, workdays: int = DEFAULT_ALLOWANCE_WORKDAYS) -> dt.datetime:
    """The default answer deadline: ``workdays`` working days after ``now`` (Chinese calendar)."""
    return add_working_days(now, workdays)


def level_label(level: str) -> str:
    return SUPERVISION_LEVELS.get(level, level)


def _minute(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M")


def event_note(level: str, reason: str, due_at: dt.datetime) -> str:
    """The note of a ``supervise`` event: level, reason and due time."""
    return f"{level_label(level)}级督办：{reason}（答复期限 {_minute(due_at)}）"


def replaced_note(replaced: Iterable[tuple[str, int]]) -> str:
    """What a ``supervise`` event adds when the new supervision replaces open ones (level, id)."""
    return "；" + "、".join(f"{level_label(level)}级督办 #{sid}" for level, sid in replaced) + " 随之升级"


def answer_note(level: str, supervision_id: int, text: str, late: bool) -> str:
    """The note of an ``answer`` event: which supervision, whether late, and the answer."""
    return f"答复{level_label(level)}级督办 #{supervision_id}{'（逾期答复）' if late else ''}：{text}"


def escalate_note(old_level: str, old_id: int, old_due: dt.datetime, level: str, new_id: int,
                  new_due: dt.datetime) -> str:
    """The note of an ``escalate`` event: the supervision left unanswered and the one replacing it."""
    return (f"{level_label(old_level)}级督办 #{old_id} 逾期未答复（答复期限 {_minute(old_due)}），"
            f"升级为{level_label(level)}级督办 #{new_id}（答复期限 {_minute(new_due)}）")


def level_refusal(level: str, allowed_levels: Sequence[str]) -> str:
    """Why an account may not issue a supervision at ``level``, naming the levels it may issue."""
    allowed = [lv for lv in LEVEL_ORDER if lv in allowed_levels]
    if not allowed:
        return "本账号不能督办。"
    return (f"本账号不能发起{level_label(level)}级督办：督办只能在本级及以下发起，"
            f"本账号可发起{'、'.join(level_label(lv) + '级' for lv in allowed)}督办。")


def _root_reason(reason: str) -> str:
    while reason.startswith(ESCALATION_PREFIX):
        reason = reason[len(ESCALATION_PREFIX):]
    return reason


def _chunks(values: Sequence, size: int = _CHUNK) -> Iterable[list]:
    for i in range(0, len(values), size):
        yield list(values[i:i + size])


def _naive(t: dt.datetime, timezone: str) -> dt.datetime:
    if not isinstance(t, dt.datetime):
        raise SupervisionError(f"时间格式不正确：{t!r}")
    return to_local_naive(t, timezone)


def _now(now: dt.datetime | None, timezone: str) -> dt.datetime:
    """The business time of a write: whole seconds, like the dashboard's as-of time, so that a
    supervision written just before a sync is judged as existing at that sync's as-of time."""
    return (local_now(timezone) if now is None else _naive(now, timezone)).replace(microsecond=0)


def _text(value, what: str, max_len: int | None = None) -> str:
    text = "" if value is None else str(value).strip()
    if not text:
        raise SupervisionError(f"请填写{what}")
    if max_len is not None and len(text) > max_len:
        raise SupervisionError(f"{what}过长（最多 {max_len} 个字）")
    return text


def _detail(**values) -> str:
    return json.dumps({k: (v.isoformat(sep=" ") if isinstance(v, dt.datetime) else v) for k, v in values.items()},
                      ensure_ascii=False)


def _listed(problems: list[tuple[str, str]]) -> str:
    shown = "；".join(f"{aid}{why}" for aid, why in problems[:_MAX_LISTED])
    more = f"；另有 {len(problems) - _MAX_LISTED} 件" if len(problems) > _MAX_LISTED else ""
    return shown + more


def _touch_appeals(conn, appeal_ids: Sequence[str], stamp: dt.datetime, *, supervised: bool = False) -> None:
    """Stamp the appeals (and mark them supervised). Run first in a transaction: it takes
    the appeals' row locks, so concurrent writers on the same appeals queue up."""
    values = {"updated_at": stamp}
    if supervised:
        values["is_supervised"] = True
    for chunk in _chunks(sorted(appeal_ids)):
        conn.execute(update(ap).where(ap.c.appeal_id.in_(bindparam("ids", expanding=True))).values(**values),
                     {"ids": chunk})


def _region_paths(conn, codes: Iterable[str | None]) -> dict[str, dict[str, str]]:
    """For each region code, its ancestors by level (itself included) and its ``root``.

    Walks ``regions.parent_code`` one level per query (a handful of queries
    whatever the batch size).
    """
    r = schema.regions
    wanted = {c for c in codes if c}
    known: dict[str, tuple[str, str | None]] = {}
    todo = set(wanted)
    for _ in range(12):  # deeper than any territory; stops a parent cycle
        if not todo:
            break
        for chunk in _chunks(sorted(todo)):
            rows = conn.execute(select(r.c.code, r.c.level, r.c.parent_code)
                                .where(r.c.code.in_(bindparam("codes", expanding=True))), {"codes": chunk})
            for code, level, parent in rows:
                known[code] = (level, parent)
        todo = {known[c][1] for c in todo if c in known and known[c][1]} - set(known)
    paths = {}
    for code in wanted:
        path: dict[str, str] = {}
        c, seen = code, 0
        while c in known and seen < 12:
            level, parent = known[c]
            path.setdefault(level, c)
            path["root"] = c
            c, seen = parent, seen + 1
        paths[code] = path
    return paths


def supervising_region(path: dict[str, str], level: str) -> str | None:
    """The region that supervises at ``level``: the appeal's street, district or city.

    When the territory lacks that level, the nearest region above it; for the
    city level without a city region, the top region.
    """
    for lv in LEVEL_ORDER[_RANK[level]:]:
        if path.get(lv):
            return path[lv]
    return path.get("root")


def _open_by_appeal(conn, appeal_ids: Sequence[str]) -> dict[str, list]:
    out: dict[str, list] = {}
    for chunk in _chunks(list(appeal_ids)):
        rows = conn.execute(select(sv.c.id, sv.c.appeal_id, sv.c.level, sv.c.due_at)
                            .where(sv.c.appeal_id.in_(bindparam("ids", expanding=True)), sv.c.status == "open")
                            .order_by(sv.c.id), {"ids": chunk})
        for row in rows:
            out.setdefault(row.appeal_id, []).append(row)
    return out


# -------------------------------------------------------------- writes ---

def supervise(engine: Engine, appeal_ids: Sequence[str], *, level: str, reason: str, supervisor: str,
              due_at: dt.datetime, now: dt.datetime | None = None,
              timezone: str | None = None, account: str | None = None,
              allowed_levels: Sequence[str] | None = None) -> list[int]:
    """Supervise one appeal or a batch; returns the new supervision ids, in the order given.

    For each appeal: a ``supervisions`` row (``region_code``: the appeal's
    street, district or city per ``level``; ``department_code``: the appeal's
    department), a ``supervise`` event (actor: the supervisor; note: level,
    reason and due time), ``is_supervised`` set, and an ``audit_log`` row
    (action ``supervise``). An open supervision at a lower level is replaced:
    it becomes ``escalated`` and the new row's ``escalated_from`` names it.

    ``account``: the signed-in account that made the request, written to the
    audit row (default: ``supervisor``, the name shown on the supervision).
    ``allowed_levels``: the levels that account may issue (its own and below,
    ``access.Grant.supervise_levels``); a level outside them is refused. None:
    any level (the command line, the system itself).

    All or nothing: when any appeal of the batch is refused (unknown, cancelled,
    closed without a 不满意 rating, or already under an open supervision at the
    same or a higher level), nothing is written and ``SupervisionError`` names
    every refused appeal.
    """
    if level not in SUPERVISION_LEVELS:
        raise SupervisionError(f"督办级别应为 街道、区 或 市（street、district、city），收到的是 {level!r}")
    if allowed_levels is not None and level not in allowed_levels:
        raise SupervisionError(level_refusal(level, allowed_levels))
    reason = _text(reason, "督办原因")
    supervisor = _text(supervisor, "督办人", _MAX_ACTOR)
    ids = list(dict.fromkeys(str(a).strip() for a in appeal_ids if a is not None and str(a).strip()))
    if not ids:
        raise SupervisionError("请选择要督办的诉求")
    timezone = timezone or cityzone.zone_of(engine)
    now = _now(now, timezone)
    due_at = _naive(due_at, timezone)
    if due_at <= now:
        raise SupervisionError(f"答复期限（{_minute(due_at)}）应晚于当前时间（{_minute(now)}）")
    stamp = local_now(timezone)

    with engine.begin() as conn:
        _touch_appeals(conn, ids, stamp, supervised=True)
        found = {}
        for chunk in _chunks(ids):
            rows = conn.execute(select(ap.c.appeal_id, ap.c.status, ap.c.satisfaction, ap.c.grid_code,
                                       ap.c.department_code)
                                .where(ap.c.appeal_id.in_(bindparam("ids", expanding=True))), {"ids": chunk})
            found.update({r.appeal_id: r for r in rows})
        current = _open_by_appeal(conn, ids)
        problems = []
        for aid in ids:
            a = found.get(aid)
            if a is None:
                problems.append((aid, "不存在"))
            elif a.status == "cancelled":
                problems.append((aid, "已撤销"))
            elif a.status == "closed" and a.satisfaction != SUPERVISABLE_CLOSED_SATISFACTION:
                problems.append((aid, "已办结且回访未评价为不满意"))
            else:
                held = [o for o in current.get(aid, []) if _RANK.get(o.level, 99) >= _RANK[level]]
                if held:
                    o = held[0]
                    problems.append((aid, f"已有待答复的{level_label(o.level)}级督办 #{o.id}"
                                          f"（答复期限 {_minute(o.due_at)}）"))
        if problems:
            raise SupervisionError(f"未督办，以下诉求不能{level_label(level)}级督办：{_listed(problems)}", problems)

        paths = _region_paths(conn, {a.grid_code for a in found.values()})
        new_ids, events, audits = [], [], []
        for aid in ids:
            a = found[aid]
            region = supervising_region(paths.get(a.grid_code, {}), level) if a.grid_code else None
            replaced = current.get(aid, [])
            for old in replaced:
                done = conn.execute(update(sv).where(sv.c.id == old.id, sv.c.status == "open")
                                    .values(status="escalated", updated_at=stamp))
                if done.rowcount != 1:
                    raise SupervisionError(f"诉求 {aid} 的督办 #{old.id} 刚刚发生变化，请刷新后重试")
            new_id = conn.execute(insert(sv).values(
                appeal_id=aid, level=level, region_code=region, department_code=a.department_code,
                reason=reason, supervisor=supervisor, created_at=now, due_at=due_at, status="open",
                escalated_from=replaced[-1].id if replaced else None, updated_at=stamp,
            )).inserted_primary_key[0]
            new_id = int(new_id)
            new_ids.append(new_id)
            note = event_note(level, reason, due_at)
            if replaced:
                note += replaced_note((o.level, o.id) for o in replaced)
            events.append(dict(appeal_id=aid, event_type="supervise", event_at=now, actor=supervisor, note=note))
            audits.append(dict(at=now, actor=(account or supervisor)[:_MAX_ACTOR], action="supervise", target=aid,
                               region_code=region,
                               detail=_detail(supervision_id=new_id, level=level, reason=reason, due_at=due_at,
                                              department_code=a.department_code,
                                              replaces=[o.id for o in replaced] or None)))
        conn.execute(insert(schema.appeal_events), events)
        conn.execute(insert(schema.audit_log), audits)
    return new_ids


def answer(engine: Engine, supervision_id: int, *, answer: str, actor: str, now: dt.datetime | None = None,
           timezone: str | None = None, account: str | None = None) -> None:
    """The department answers an open supervision (on time or late): ``answered``,
    ``answered_at`` and ``answer`` set, an ``answer`` event and an audit row.

    An answered supervision cannot be answered again; an escalated one is
    answered through the supervision that replaced it (the message names it).
    """
    text = _text(answer, "答复内容")
    actor = _text(actor, "答复人", _MAX_ACTOR)
    timezone = timezone or cityzone.zone_of(engine)
    now = _now(now, timezone)
    stamp = local_now(timezone)
    sid = int(supervision_id)
    with engine.begin() as conn:
        row = conn.execute(select(sv).where(sv.c.id == sid)).first()
        if row is None:
            raise SupervisionError(f"督办 #{sid} 不存在")
        if row.status == "answered":
            raise SupervisionError(f"督办 #{sid} 已于 {_minute(row.answered_at)} 答复")
        if row.status == "escalated":
            child = conn.execute(select(sv.c.id, sv.c.level).where(sv.c.escalated_from == sid)).first()
            where = f"{level_label(child.level)}级督办 #{child.id}" if child else "更高一级的督办"
            raise SupervisionError(f"督办 #{sid} 已升级为{where}，请答复升级后的督办")
        if now < row.created_at:
            raise SupervisionError(f"答复时间（{_minute(now)}）早于督办时间（{_minute(row.created_at)}）")
        _touch_appeals(conn, [row.appeal_id], stamp)
        done = conn.execute(update(sv).where(sv.c.id == sid, sv.c.status == "open")
                            .values(status="answered", answered_at=now, answer=text, updated_at=stamp))
        if done.rowcount != 1:
            raise SupervisionError(f"督办 #{sid} 刚刚发生变化，请刷新后重试")
        late = now > row.due_at
        note = answer_note(row.level, sid, text, late)
        conn.execute(insert(schema.appeal_events).values(appeal_id=row.appeal_id, event_type="answer", event_at=now,
                                                          actor=actor, note=note))
        conn.execute(insert(schema.audit_log).values(
            at=now, actor=(account or actor)[:_MAX_ACTOR], action="answer", target=row.appeal_id,
            region_code=row.region_code,
            detail=_detail(supervision_id=sid, level=row.level, due_at=row.due_at, on_time=not late, answer=text)))


def escalate_overdue(engine: Engine, *, now: dt.datetime | None = None,
                     timezone: str | None = None) -> list[tuple[int, int]]:
    """Escalate every open supervision whose due time has passed (``due_at < now``).

    Each becomes ``escalated`` and a new open supervision one level up
    replaces it: ``escalated_from`` the old id, created ``now``, due ``now`` +
    the old allowance (``due_at − created_at``), supervisor ``系统自动升级``,
    reason ``逾期未答复，自动升级：`` + the reason of the supervision that
    started the chain, the region of the new level; with an ``escalate`` event
    and an audit row. City-level supervisions cannot go higher: they stay open
    (overdue). Idempotent: a second run at the same ``now`` finds nothing,
    since the new ones are due later. Returns ``(old id, new id)`` pairs.
    """
    timezone = timezone or cityzone.zone_of(engine)
    now = _now(now, timezone)
    stamp = local_now(timezone)
    pairs: list[tuple[int, int]] = []
    with engine.begin() as conn:
        due = conn.execute(select(sv).where(sv.c.status == "open", sv.c.due_at < now, sv.c.level != "city")
                           .order_by(sv.c.due_at, sv.c.id)).all()
        due = [r for r in due if r.level in _RANK]
        if not due:
            return pairs
        appeal_ids = sorted({r.appeal_id for r in due})
        _touch_appeals(conn, appeal_ids, stamp)
        grids = {}
        for chunk in _chunks(appeal_ids):
            rows = conn.execute(select(ap.c.appeal_id, ap.c.grid_code)
                                .where(ap.c.appeal_id.in_(bindparam("ids", expanding=True))), {"ids": chunk})
            grids.update({r.appeal_id: r.grid_code for r in rows})
        paths = _region_paths(conn, set(grids.values()))
        events, audits = [], []
        for old in due:
            done = conn.execute(update(sv).where(sv.c.id == old.id, sv.c.status == "open")
                                .values(status="escalated", updated_at=stamp))
            if done.rowcount != 1:  # answered or escalated by another writer meanwhile
                continue
            level = next_level(old.level)
            grid = grids.get(old.appeal_id)
            region = supervising_region(paths.get(grid, {}), level) if grid else None
            allowance = old.due_at - old.created_at
            new_due = now + allowance
            reason = ESCALATION_PREFIX + _root_reason(old.reason)
            new_id = int(conn.execute(insert(sv).values(
                appeal_id=old.appeal_id, level=level, region_code=region, department_code=old.department_code,
                reason=reason, supervisor=SYSTEM_ACTOR, created_at=now, due_at=new_due, status="open",
                escalated_from=old.id, updated_at=stamp,
            )).inserted_primary_key[0])
            pairs.append((int(old.id), new_id))
            events.append(dict(
                appeal_id=old.appeal_id, event_type="escalate", event_at=now, actor=SYSTEM_ACTOR,
                note=escalate_note(old.level, old.id, old.due_at, level, new_id, new_due)))
            audits.append(dict(at=now, actor=SYSTEM_ACTOR, action="escalate", target=old.appeal_id,
                               region_code=region,
                               detail=_detail(supervision_id=new_id, escalated_from=int(old.id), level=level,
                                              from_level=old.level, due_at=new_due, overdue_since=old.due_at)))
        if events:
            conn.execute(insert(schema.appeal_events), events)
            conn.execute(insert(schema.audit_log), audits)
    return pairs


def unsatisfied_candidates(conn, scope, period, as_of, limit: int = 200, *, filters: dict | None = None):
    """Appeals rated 不满意 and not supervised since: put forward for supervision.

    A read on the analytics store; see ``supervision_queries.unsatisfied_candidates``.
    """
    from .supervision_queries import unsatisfied_candidates as _read

    return _read(conn, scope, period, as_of, limit=limit, filters=filters)
