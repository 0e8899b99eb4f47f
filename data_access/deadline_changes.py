"""The writes that move an appeal's stored deadlines: 挂起 (pause), 恢复办理
(resume), 延期 (extend), and ``recompute`` after the rules or thresholds change.

The definitions they apply (working time, the basis, warn_at, replaying
pauses) are the deadline engine's, in ``deadlines``; docs/deadlines.md
explains them. Writes go through SQLAlchemy Core with bound parameters, one
transaction per change, and stamp ``updated_at`` so the dashboard's sync picks
them up. Each change is recorded in the appeal's event log.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy import Engine, and_, bindparam, func, insert, or_, select, update
from sqlalchemy.engine import Connection

from . import cityzone, schema, workcal
from .clock import local_now
from .config import Settings, load_settings
from .deadlines import (CLOCK, DAY, HOUR, WORKING, Rules, deadline_array, limit_arrays, load_rules,
                        paused_seconds, replay_pauses, require_positive, require_whole, to_us, warn_at_array,
                        warn_at_for)


# --------------------------------------------------- pauses, extensions ---

@dataclass(frozen=True)
class Change:
    """What a pause, resume or extension wrote."""

    appeal_id: str
    event_type: str
    at: dt.datetime
    deadline_at: dt.datetime | None
    feedback_deadline_at: dt.datetime | None
    warn_at: dt.datetime | None
    paused_since: dt.datetime | None
    deadline_source: str | None
    moved_seconds: float = 0.0  # how far the deadline moved (in the basis; for an extension, clock seconds)
    note: str = ""


_MOVES = ("pause", "resume", "extend")


def _thresholds(settings: Settings | None) -> tuple[Settings, float, float]:
    settings = settings or load_settings()
    return settings, float(settings.due_soon_fraction), float(settings.due_soon_workdays)


def _load(conn: Connection, appeal_id: str) -> dict:
    a = schema.appeals
    row = conn.execute(select(a).where(a.c.appeal_id == appeal_id).with_for_update()).mappings().first()
    if row is None:
        raise ValueError(f"no appeal {appeal_id!r}")
    return dict(row)


def _check_time(conn: Connection, row: dict, at: dt.datetime, now: dt.datetime, what: str) -> None:
    if at < row["created_at"]:
        raise ValueError(f"cannot {what} appeal {row['appeal_id']} at {at}: "
                         f"before it was created ({row['created_at']})")
    if at > now:
        raise ValueError(f"cannot {what} appeal {row['appeal_id']} at {at}: that is in the future (now {now})")
    e = schema.appeal_events
    last = conn.execute(select(func.max(e.c.event_at)).where(e.c.appeal_id == row["appeal_id"],
                                                             e.c.event_type.in_(_MOVES))).scalar()
    if last is not None and at < last:
        raise ValueError(f"cannot {what} appeal {row['appeal_id']} at {at}: its last pause, resume or extension "
                         f"was later ({last})")


def _check_open(row: dict, what: str) -> None:
    if row["status"] != "open":
        raise ValueError(f"cannot {what} appeal {row['appeal_id']}: it is {row['status']}; only an open appeal can be")


def _write(conn: Connection, appeal_id: str, event_type: str, at: dt.datetime, actor: str, note: str,
           values: dict, now: dt.datetime) -> None:
    a, e = schema.appeals, schema.appeal_events
    conn.execute(update(a).where(a.c.appeal_id == appeal_id).values({**values, "updated_at": now}))
    conn.execute(insert(e).values(appeal_id=appeal_id, event_type=event_type, event_at=at, actor=actor, note=note))


def _actor(actor: str) -> str:
    if not actor or not str(actor).strip():
        raise ValueError("an actor (who paused, resumed or approved) is required")
    return str(actor).strip()


def duration_text(seconds: float, basis: str) -> str:
    if basis == CLOCK:
        return f"{seconds / HOUR:g}小时"
    days = seconds / DAY
    return f"{days:g}个工作日" if abs(days - round(days, 2)) < 1e-9 else f"{seconds / HOUR:.1f}个工作小时"


def pause(engine: Engine, appeal_id: str, at: dt.datetime, actor: str, note: str | None = None, *,
          now: dt.datetime | None = None, settings: Settings | None = None) -> Change:
    """挂起: stop the appeal's clock at ``at``. The deadline moves when it resumes."""
    settings, _, _ = _thresholds(settings)
    now = now or local_now(cityzone.zone_of(engine))
    actor = _actor(actor)
    with engine.begin() as conn:
        row = _load(conn, appeal_id)
        _check_open(row, "pause")
        if row["paused_since"] is not None:
            raise ValueError(f"appeal {appeal_id} is already paused since {row['paused_since']}")
        _check_time(conn, row, at, now, "pause")
        text = note or "挂起"
        _write(conn, appeal_id, "pause", at, actor, text, {"paused_since": at}, now)
    return Change(appeal_id, "pause", at, row["deadline_at"], row["feedback_deadline_at"], row["warn_at"], at,
                  row["deadline_source"], 0.0, text)


def resume(engine: Engine, appeal_id: str, at: dt.datetime, actor: str, note: str | None = None, *,
           now: dt.datetime | None = None, settings: Settings | None = None, rules: Rules | None = None) -> Change:
    """恢复办理: restart the clock. The deadline, the feedback deadline (when no feedback had been given
    before the pause) and warn_at move by the paused time in the appeal's basis."""
    settings, fraction, workdays = _thresholds(settings)
    now = now or local_now(cityzone.zone_of(engine))
    actor = _actor(actor)
    with engine.begin() as conn:
        row = _load(conn, appeal_id)
        _check_open(row, "resume")
        start = row["paused_since"]
        if start is None:
            raise ValueError(f"appeal {appeal_id} is not paused; there is nothing to resume")
        if at < start:
            raise ValueError(f"cannot resume appeal {appeal_id} at {at}: before its pause ({start})")
        _check_time(conn, row, at, now, "resume")
        rules = rules if rules is not None else load_rules(conn)
        basis = rules.basis_for(row["category"], row["subcategory"], row["urgency"])
        moved = paused_seconds(start, at, basis)
        deadline, fdl = replay_pauses(row["deadline_at"], row["feedback_deadline_at"], [(start, at)], basis,
                                      row["first_feedback_at"])
        warn = (warn_at_for(row["created_at"], deadline, basis=basis, fraction=fraction, workdays=workdays)
                if deadline is not None else None)
        text = f"恢复办理，挂起{duration_text(moved, basis)}"
        if deadline is not None and moved:
            text += f"，办理时限顺延至{deadline:%Y-%m-%d %H:%M}"
        text = f"{note}（{text}）" if note else text
        _write(conn, appeal_id, "resume", at, actor, text,
               {"paused_since": None, "deadline_at": deadline, "feedback_deadline_at": fdl, "warn_at": warn}, now)
    return Change(appeal_id, "resume", at, deadline, fdl, warn, None, row["deadline_source"], moved, text)


def extend(engine: Engine, appeal_id: str, at: dt.datetime, actor: str, note: str | None = None, *,
           workdays: int | None = None, hours: float | None = None, until: dt.datetime | None = None,
           now: dt.datetime | None = None, settings: Settings | None = None, rules: Rules | None = None) -> Change:
    """延期 (approved): move the deadline ``workdays`` working days or ``hours`` clock hours later, or to
    ``until``. The deadline becomes ``manual`` (a rule change no longer moves it); warn_at follows it; the
    feedback deadline stays."""
    settings, fraction, threshold_days = _thresholds(settings)
    now = now or local_now(cityzone.zone_of(engine))
    actor = _actor(actor)
    if sum(x is not None for x in (workdays, hours, until)) != 1:
        raise ValueError("an extension needs exactly one of workdays, hours and until")
    require_whole("workdays", workdays)
    require_positive("hours", hours)
    with engine.begin() as conn:
        row = _load(conn, appeal_id)
        _check_open(row, "extend")
        current = row["deadline_at"]
        if current is None:
            raise ValueError(f"appeal {appeal_id} has no deadline to extend")
        _check_time(conn, row, at, now, "extend")
        if workdays is not None:
            new, what = workcal.add_working_days(current, workdays), f"延期{workdays}个工作日"
        elif hours is not None:
            new, what = current + dt.timedelta(hours=hours), f"延期{hours:g}小时"
        else:
            new, what = until, "延期"
        if new <= current:
            raise ValueError(f"an extension must end after the current deadline {current}; {new} does not")
        rules = rules if rules is not None else load_rules(conn)
        basis = rules.basis_for(row["category"], row["subcategory"], row["urgency"])
        warn = warn_at_for(row["created_at"], new, basis=basis, fraction=fraction, workdays=threshold_days)
        text = f"{what}，办理时限延至{new:%Y-%m-%d %H:%M}"
        text = f"{note}（{text}）" if note else text
        _write(conn, appeal_id, "extend", at, actor, text,
               {"deadline_at": new, "warn_at": warn, "deadline_source": "manual"}, now)
    return Change(appeal_id, "extend", at, new, row["feedback_deadline_at"], warn, row["paused_since"], "manual",
                  (new - current).total_seconds(), text)


# -------------------------------------------------------------- recompute ---

@dataclass
class RecomputeReport:
    examined: int = 0  # appeals looked at
    deadlines: int = 0  # rule-based deadlines that changed
    feedback_deadlines: int = 0
    warn_at: int = 0
    updated: int = 0  # rows written (updated_at stamped)
    by_source: dict = field(default_factory=dict)  # examined per deadline_source

    def as_dict(self) -> dict:
        return {"examined": self.examined, "deadlines": self.deadlines, "feedback_deadlines": self.feedback_deadlines,
                "warn_at": self.warn_at, "updated": self.updated, "by_source": dict(self.by_source)}


def pause_pairs(conn: Connection, appeal_ids: Iterable[str] | None = None) -> dict[str, list[tuple]]:
    """Finished pauses per appeal from the event log: [(paused_at, resumed_at), …] in time order.

    Every pause is paired with the next resume; a pause without one is still running.
    """
    e = schema.appeal_events
    stmt = (select(e.c.appeal_id, e.c.event_type, e.c.event_at).where(e.c.event_type.in_(("pause", "resume")))
            .order_by(e.c.appeal_id, e.c.event_at, e.c.id))
    wanted = None if appeal_ids is None else set(appeal_ids)
    out: dict[str, list[tuple]] = {}
    open_since: dict[str, dt.datetime] = {}
    for appeal_id, kind, at in conn.execute(stmt):
        if wanted is not None and appeal_id not in wanted:
            continue
        if kind == "pause":
            open_since.setdefault(appeal_id, at)
        elif appeal_id in open_since:
            out.setdefault(appeal_id, []).append((open_since.pop(appeal_id), at))
    return out


def _same_times(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (np.isnat(a) & np.isnat(b)) | (a == b)


def recompute(engine: Engine, *, now: dt.datetime | None = None, all: bool = False,  # noqa: A002
              settings: Settings | None = None, rules: Rules | None = None) -> RecomputeReport:
    """Bring stored deadlines and warn_at in line with the rules and the thresholds.

    For open appeals (``all``: every appeal, which restates history):
    rule-based deadlines (``deadline_source = 'rule'``) are computed again from
    the rules, with their finished pauses replayed from the event log; their
    feedback deadline too, unless feedback was given (``all``: always); and
    warn_at of every appeal with a deadline from the thresholds. Only rows that
    change are written, with ``updated_at = now``, in one transaction.
    """
    settings, fraction, workdays = _thresholds(settings)
    now = now or local_now(cityzone.zone_of(engine))
    a = schema.appeals
    cols = [a.c.appeal_id, a.c.category, a.c.subcategory, a.c.urgency, a.c.created_at, a.c.deadline_at,
            a.c.feedback_deadline_at, a.c.first_feedback_at, a.c.warn_at, a.c.deadline_source]
    where = or_(a.c.deadline_at.is_not(None), a.c.deadline_source == "rule")
    if not all:
        where = and_(where, a.c.status == "open")
    report = RecomputeReport()
    with engine.connect() as conn:
        rules = rules if rules is not None else load_rules(conn)
        rows = conn.execute(select(*cols).where(where).order_by(a.c.appeal_id)).all()
        df = pd.DataFrame(rows, columns=[c.name for c in cols])
        report.examined = len(df)
        if df.empty:
            return report
        report.by_source = {str(k): int(v) for k, v in df["deadline_source"].fillna("none").value_counts().items()}
        rule_rows = (df["deadline_source"] == "rule").to_numpy()
        pairs = pause_pairs(conn, df.loc[rule_rows, "appeal_id"]) if rule_rows.any() else {}

    created, stored_dl, stored_fdl, stored_warn = (to_us(df[c]) for c in ("created_at", "deadline_at",
                                                                         "feedback_deadline_at", "warn_at"))
    ffa = to_us(df["first_feedback_at"])
    lim = limit_arrays(rules, df["category"], df["subcategory"], df["urgency"])
    clock = lim["clock"]
    base_dl = deadline_array(created, lim["hours"], lim["workdays"])
    fb = deadline_array(created, lim["feedback_hours"], lim["feedback_workdays"])
    base_fdl = np.where(np.isnat(fb), fb, np.minimum(fb, base_dl))
    new_dl = np.where(rule_rows, base_dl, stored_dl)
    refresh_fb = rule_rows & (np.isnat(ffa) if not all else True)
    new_fdl = np.where(refresh_fb, base_fdl, stored_fdl)
    ids = df["appeal_id"].tolist()
    for i in np.flatnonzero(rule_rows).tolist():
        done = pairs.get(ids[i])
        if not done:
            continue
        basis = CLOCK if clock[i] else WORKING
        d, f = replay_pauses(new_dl[i].item(), new_fdl[i].item() if not np.isnat(new_fdl[i]) else None, done,
                             basis, None if np.isnat(ffa[i]) else ffa[i].item())
        new_dl[i] = np.datetime64(d, "us")
        if refresh_fb[i] and f is not None:
            new_fdl[i] = np.datetime64(f, "us")
    new_warn = warn_at_array(created, new_dl, clock, fraction=fraction, workdays=workdays)

    dl_changed = ~_same_times(new_dl, stored_dl)
    fdl_changed = ~_same_times(new_fdl, stored_fdl)
    warn_changed = ~_same_times(new_warn, stored_warn)
    changed = dl_changed | fdl_changed | warn_changed
    report.deadlines, report.feedback_deadlines = int(dl_changed.sum()), int(fdl_changed.sum())
    report.warn_at, report.updated = int(warn_changed.sum()), int(changed.sum())
    if not changed.any():
        return report
    idx = np.flatnonzero(changed)
    params = [{"key": ids[i], "v_deadline": new_dl[i].item(), "v_fdl": new_fdl[i].item(),
               "v_warn": new_warn[i].item(), "v_now": now} for i in idx.tolist()]
    stmt = (update(a).where(a.c.appeal_id == bindparam("key"))
            .values(deadline_at=bindparam("v_deadline"), feedback_deadline_at=bindparam("v_fdl"),
                    warn_at=bindparam("v_warn"), updated_at=bindparam("v_now")))
    with engine.begin() as conn:
        for start in range(0, len(params), 5000):
            conn.execute(stmt, params[start:start + 5000])
    return report
