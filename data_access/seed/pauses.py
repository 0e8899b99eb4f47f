"""Pauses (挂起) and approved extensions (延期) of a chunk of demo appeals, by the deadline engine's rules.

``plant`` runs after ``outcomes.add_outcomes`` with its own random stream
(``substream(seed, "deadlines")``), so the rest of the demo is unchanged. It
picks a small share of dispatched, not cancelled, not supervised appeals
with a deadline (supervision requests were timed against the deadline):

* **pause** (~1 %; 6 % of the appeals still open at ``end``): paused between dispatch and the earliest of the
  deadline, the closing and ``end``; resumed a while later (working days for
  limits in working days, hours for limits in hours), before the closing. The
  deadline moves by the paused time in the appeal's basis
  (``deadlines.replay_pauses``: working time, or clock time for hour limits),
  and so does the feedback deadline when no feedback had been given before
  the pause. A pause still running at ``end`` leaves the appeal paused
  (``paused_since``) with its deadline not yet moved;
* **extension** (~0.5 %, and a quarter of the late ones that were not
  supervised): approved in the second half of the handling time, before the
  deadline and the closing: 3, 5 or 10 more working days (4, 12 or 24 hours
  for limits in hours). The deadline becomes ``manual``.

Then ``warn_at`` of every appeal with a deadline, from the final deadline
and the configured thresholds. ``events`` gives the pause, resume and extend
events, with the notes the engine writes (``deadline_changes.resume``/``extend``).
"""

from __future__ import annotations

import numpy as np

from .. import deadline_changes, deadlines, workcal
from .outcomes import STATUS_CANCELLED, STATUS_CLOSED, daytime, lognormal

H = 3600
DAY = 86_400
PAUSE_SHARE = 0.01
PAUSE_OPEN_SHARE = 0.06  # of the appeals still open at end: a pause list for the warning page
EXTEND_SHARE = 0.005
EXTEND_LATE_SHARE = 0.25
EXTEND_WORKDAYS = (3, 5, 10)
EXTEND_HOURS = (4, 12, 24)
EXTEND_P = (0.5, 0.35, 0.15)

PAUSE_REASONS = (
    "等待诉求人补充材料", "需第三方检测鉴定", "涉及规划、产权等前置审批，等待相关部门意见", "恶劣天气，室外施工暂停",
    "诉求人要求另约时间上门", "需召开业主大会表决",
)
EXTEND_REASONS = (
    "涉及多个部门协调，申请延期办理", "维修需采购材料，申请延期", "需走招标程序，申请延期", "工程量较大，申请延期办理",
)


def _clip_daytime(rng: np.random.Generator, t: np.ndarray, limit: np.ndarray, working: np.ndarray) -> np.ndarray:
    """Staff act in the daytime: move working-basis times to the morning when that stays before ``limit``."""
    moved = daytime(rng, t)
    return np.where(working & (moved < limit), moved, t)


def plant(rng: np.random.Generator, b: dict, end_s: int, *, fraction: float, workdays: float) -> None:
    """Adds to the chunk: ``deadline_at``, ``fb_deadline_at`` (final, seconds, -1 none), ``deadline_source``
    (0 none, 1 rule, 2 manual), ``warn_at``, ``paused_since``, ``pause_at``, ``resume_at``, ``extend_at``
    (seconds, -1 none), ``moved`` (seconds the deadline moved, in the basis), ``extend_n`` (working days or
    hours added)."""
    n = len(b["created"])
    dl, fdl, disp = b["deadline"], b["fb_deadline"], b["dispatched"]
    status, closed_at, fb = b["status"], b["closed_at"], b["feedback"]
    clock = b["clock"].astype(bool)
    working = ~clock
    closed = status == STATUS_CLOSED
    horizon = np.minimum(np.where(closed, closed_at, end_s), dl)
    eligible = ((dl >= 0) & (disp >= 0) & (status != STATUS_CANCELLED) & ~b["is_supervised"]
                & (horizon - disp >= 2 * H))
    u = rng.random(n)
    late = np.where(closed, closed_at, end_s) > dl

    # ---- pauses
    paused = eligible & (u < np.where(status == STATUS_CLOSED, PAUSE_SHARE, PAUSE_OPEN_SHARE))
    room = np.maximum(horizon - disp - 660, 1)
    p_at = disp + 600 + (rng.random(n) * room).astype(np.int64)
    p_at = _clip_daytime(rng, p_at, horizon, working)
    length = np.where(clock, lognormal(rng, 3 * H, 0.5, n), lognormal(rng, 2 * DAY, 0.6, n)).astype(np.int64)
    length = np.where(closed, np.minimum(length, ((closed_at - p_at) * 0.8).astype(np.int64)), length)
    paused &= length >= H
    r_at = p_at + np.maximum(length, H)
    r_at = np.where(closed, r_at, _clip_daytime(rng, r_at, np.full(n, end_s), working))
    running = paused & (r_at > end_s)  # still paused at end
    resumed = paused & ~running

    # ---- extensions (not on paused appeals)
    want = np.where(late, EXTEND_LATE_SHARE, EXTEND_SHARE)
    extended = eligible & ~paused & (rng.random(n) < want)
    half = disp + (horizon - disp) // 2
    x_at = half + (rng.random(n) * np.maximum(horizon - half - 60, 1)).astype(np.int64)
    x_at = _clip_daytime(rng, x_at, horizon, working)
    amount_pick = rng.choice(len(EXTEND_P), size=n, p=EXTEND_P)
    extend_n = np.where(clock, np.array(EXTEND_HOURS)[amount_pick], np.array(EXTEND_WORKDAYS)[amount_pick])

    # ---- the deadlines move
    new_dl, new_fdl = dl.copy(), fdl.copy()
    moved = np.zeros(n, dtype=np.int64)
    rows = np.flatnonzero(resumed)
    if len(rows):
        p = p_at[rows].astype("datetime64[s]")
        r = r_at[rows].astype("datetime64[s]")
        work = workcal.working_seconds_between_array(p, r)
        m = np.where(clock[rows], r_at[rows] - p_at[rows], np.rint(work).astype(np.int64))
        moved[rows] = m

        def shifted(values):
            by_work = workcal.add_working_seconds_array(values.astype("datetime64[s]"), m)
            by_work = by_work.astype("datetime64[s]").astype(np.int64)
            out = np.where(clock[rows], values + m, by_work)
            return np.where(m > 0, out, values)

        new_dl[rows] = shifted(dl[rows])
        no_feedback_yet = (fb[rows] < 0) | (fb[rows] > p_at[rows])
        new_fdl[rows] = np.where(no_feedback_yet, shifted(fdl[rows]), fdl[rows])
    rows = np.flatnonzero(extended)
    if len(rows):
        by_days = workcal.add_working_days_array(dl[rows].astype("datetime64[s]"), extend_n[rows]).astype(np.int64)
        new_dl[rows] = np.where(clock[rows], dl[rows] + extend_n[rows] * H, by_days)
        moved[rows] = new_dl[rows] - dl[rows]

    has_dl = new_dl >= 0
    created = b["created"].astype("datetime64[s]")
    deadline = np.where(has_dl, new_dl.astype("datetime64[s]"), np.datetime64("NaT"))
    warn = deadlines.warn_at_array(created, deadline, clock, fraction=fraction, workdays=workdays)
    warn = np.where(has_dl, warn.astype("datetime64[s]").astype(np.int64), -1)
    b.update(
        deadline_at=new_dl, fb_deadline_at=new_fdl,
        deadline_source=np.where(~has_dl, 0, np.where(extended, 2, 1)),
        warn_at=warn,
        paused_since=np.where(running, p_at, -1),
        pause_at=np.where(paused, p_at, -1), resume_at=np.where(resumed, r_at, -1),
        extend_at=np.where(extended, x_at, -1), moved=moved, extend_n=np.where(extended, extend_n, 0),
    )
    b["pause_reason"] = rng.integers(0, len(PAUSE_REASONS), n)
    b["extend_reason"] = rng.integers(0, len(EXTEND_REASONS), n)


def _minute(seconds: int) -> str:
    return str(np.datetime64(int(seconds), "s").astype("datetime64[m]")).replace("T", " ")


def events(b: dict, dept_name) -> list[tuple[np.ndarray, str, np.ndarray, list, list]]:
    """The pause, resume and extend events of a planted chunk, as ``build_events`` parts:
    (rows, type, times, actors, notes). The actor is the handling department."""
    clock = b["clock"].astype(bool)
    parts = []
    rows = np.flatnonzero(b["pause_at"] >= 0)
    parts.append((rows, "pause", b["pause_at"][rows], [dept_name[i] for i in rows.tolist()],
                  [f"挂起：{PAUSE_REASONS[b['pause_reason'][i]]}（已审批）" for i in rows.tolist()]))
    rows = np.flatnonzero(b["resume_at"] >= 0)
    notes = []
    for i in rows.tolist():
        basis = deadlines.CLOCK if clock[i] else deadlines.WORKING
        text = f"恢复办理，挂起{deadline_changes.duration_text(float(b['moved'][i]), basis)}"
        if b["moved"][i]:
            text += f"，办理时限顺延至{_minute(b['deadline_at'][i])}"
        notes.append(text)
    parts.append((rows, "resume", b["resume_at"][rows], [dept_name[i] for i in rows.tolist()], notes))
    rows = np.flatnonzero(b["extend_at"] >= 0)
    notes = []
    for i in rows.tolist():
        unit = "小时" if clock[i] else "个工作日"
        notes.append(f"{EXTEND_REASONS[b['extend_reason'][i]]}（延期{b['extend_n'][i]}{unit}，"
                     f"办理时限延至{_minute(b['deadline_at'][i])}）")
    parts.append((rows, "extend", b["extend_at"][rows], [dept_name[i] for i in rows.tolist()], notes))
    return parts
