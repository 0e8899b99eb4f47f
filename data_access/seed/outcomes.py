"""Timeline and outcome of a chunk of demo appeals (vectorised).

Adds to the chunk (all times int64 seconds, -1 = NULL):
dispatched, closed, feedback, rated, status, satisfaction, supervision times,
and clears handling fields of appeals not dispatched by ``end``.

Outcome classes: cancelled; closed on time (a Beta share of the allowed
time, by handling level); closed a little late; stuck (closed weeks after the
deadline, so a stock of them is still open and overdue at ``end``); and, for
appeals without a deadline, a plain handling-time distribution. Anything whose
time would fall after ``end`` does not happen (yet).
"""

from __future__ import annotations

import numpy as np

from . import catalogue as cat
from .plan import DAY

H = 3600
STATUS_OPEN, STATUS_CLOSED, STATUS_CANCELLED = 0, 1, 2
SAT_NONE, SAT_SATISFIED, SAT_BASIC, SAT_UNSATISFIED = -1, 0, 1, 2


def lognormal(rng: np.random.Generator, median: float, sigma: float, n: int) -> np.ndarray:
    return rng.lognormal(np.log(median), sigma, n)


def daytime(rng: np.random.Generator, t: np.ndarray, first_hour: int = 8, last_hour: int = 21,
            spread_hours: float = 2.0) -> np.ndarray:
    """Move times outside [first_hour, last_hour) to the next morning (same or next day)."""
    tod = t % DAY
    early = tod < first_hour * H
    late = tod >= last_hour * H
    morning = t - tod + first_hour * H + (rng.random(len(t)) * spread_hours * H).astype(np.int64)
    return np.where(early, morning, np.where(late, morning + DAY, t))


def add_outcomes(rng: np.random.Generator, b: dict, tables: cat.Tables, end_s: int) -> None:
    n = len(b["created"])
    created, dl, fdl = b["created"], b["deadline"], b["fb_deadline"]
    has_dl = dl >= 0
    urgent = b["urgency"] == 0
    level, category = b["level"], b["category"]
    grid_channel = b["channel"] == cat.CHANNEL_CODES.index("grid")

    # ---- dispatch (分流交办)
    delay = np.where(grid_channel, lognormal(rng, 300, 0.8, n),
                     np.where(urgent, lognormal(rng, 360, 0.6, n), lognormal(rng, 1500, 0.9, n)))
    disp = created + np.maximum(delay, 60).astype(np.int64)
    tod = created % DAY
    night = ((tod < 8 * H) | (tod >= 22 * H)) & ~urgent
    morning = created - tod + (tod >= 22 * H) * DAY + 8 * H + (rng.random(n) * 1.5 * H).astype(np.int64)
    disp = np.where(night, np.maximum(morning, created + 60), disp)
    cap = created + ((dl - created) * 0.3).astype(np.int64)
    disp = np.where(urgent & has_dl, np.maximum(np.minimum(disp, cap), created + 60), disp)

    # ---- outcome class
    late_p = np.array(cat.LATE_SHARE)[level] * tables.cat_late[category]
    stuck_p = np.array(cat.STUCK_SHARE)[level] * tables.cat_late[category] * np.where(urgent, 0.2, 1.0)
    u = rng.random(n)
    cancel = u < cat.CANCEL_SHARE
    late = ~cancel & has_dl & (u < cat.CANCEL_SHARE + late_p)
    stuck = ~cancel & has_dl & ~late & (u < cat.CANCEL_SHARE + late_p + stuck_p)
    ontime = ~cancel & has_dl & ~late & ~stuck
    free = ~cancel & ~has_dl

    beta = np.array(cat.ONTIME_BETA)
    frac = rng.beta(beta[level, 0], beta[level, 1])
    allowed = np.maximum(dl - disp, 600)
    close = np.empty(n, dtype=np.int64)
    close[:] = disp + (frac * allowed).astype(np.int64)
    shifted = daytime(rng, close)
    close = np.where(~urgent & (shifted <= dl), shifted, close)
    late_by = np.where(urgent, lognormal(rng, 2 * H, 0.8, n), lognormal(rng, 18 * H, 1.0, n))
    close = np.where(late, dl + late_by.astype(np.int64), close)
    stuck_by = np.maximum(lognormal(rng, 45 * DAY, 1.0, n), 3 * DAY).astype(np.int64)
    close = np.where(stuck, dl + stuck_by, close)
    close = np.where(free, disp + lognormal(rng, 40 * H, 1.0, n).astype(np.int64), close)
    close = np.where((late | stuck | free) & ~urgent, daytime(rng, close), close)
    cancel_at = created + np.clip(lognormal(rng, 4 * H, 1.2, n), 600, 3 * DAY).astype(np.int64)
    cancel_at = np.where(urgent, cancel_at, daytime(rng, cancel_at))
    close = np.where(cancel, cancel_at, np.maximum(close, disp + 300))

    done = close <= end_s
    status = np.full(n, STATUS_OPEN)
    status[done & cancel] = STATUS_CANCELLED
    status[done & ~cancel] = STATUS_CLOSED
    closed = status == STATUS_CLOSED
    is_open = status == STATUS_OPEN
    closed_at = np.where(done, close, -1)

    # not dispatched (yet, or cancelled before dispatch): no department or level
    undispatched = (disp > end_s) | ((status == STATUS_CANCELLED) & (disp >= close))
    disp = np.where(undispatched, -1, disp)
    b["dept"] = np.where(undispatched, -1, b["dept"])
    b["level"] = np.where(undispatched, -1, b["level"])

    # ---- first feedback (反馈), at or before closing
    fb_late = rng.random(n) < cat.FEEDBACK_LATE_SHARE * np.where(late | stuck, 2.0, 1.0)
    fb_allowed = np.maximum(fdl - disp, 600)
    fb_on = disp + (rng.beta(1.3, 2.5, n) * fb_allowed).astype(np.int64)
    shifted = daytime(rng, fb_on)
    fb_on = np.where(~urgent & (shifted <= fdl), shifted, fb_on)
    fb_lt = fdl + lognormal(rng, 5 * H, 0.8, n).astype(np.int64)
    fb_lt = np.where(urgent, fb_lt, daytime(rng, fb_lt))
    fb = np.where(fb_late, fb_lt, fb_on)
    fb = np.where(has_dl, fb, disp + lognormal(rng, 10 * H, 0.8, n).astype(np.int64))
    fb = np.maximum(fb, disp + 60)
    fb = np.where(closed, np.minimum(fb, close), fb)
    fb = np.where((disp >= 0) & (status != STATUS_CANCELLED) & (fb <= end_s), fb, -1)

    # ---- callback (回访评价)
    rated_at = close + DAY + (rng.random(n) * 2 * DAY).astype(np.int64)
    rtod = rated_at % DAY
    rated_at = np.where(rtod < 9 * H, rated_at - rtod + 9 * H + (rng.random(n) * 3 * H).astype(np.int64),
                        rated_at)
    rated_at = np.where(rtod >= 20 * H, rated_at - rtod + DAY + 9 * H + (rng.random(n) * 3 * H).astype(np.int64),
                        rated_at)
    rated = closed & (rng.random(n) < cat.RATED_SHARE) & (rated_at <= end_s)
    closed_late = closed & has_dl & (close > dl)
    p_on, p_late = np.array(cat.SATISFACTION_ONTIME), np.array(cat.SATISFACTION_LATE)
    p_unsat = np.where(closed_late, p_late[2], p_on[2]) * tables.cat_unsatisfied[category]
    p_unsat = p_unsat * np.where(b["is_repeat"], 1.5, 1.0)
    p_basic = np.where(closed_late, p_late[1], p_on[1])
    us = rng.random(n)
    sat = np.where(us < p_unsat, SAT_UNSATISFIED, np.where(us < p_unsat + p_basic, SAT_BASIC, SAT_SATISFIED))
    sat = np.where(rated, sat, SAT_NONE)
    rated_at = np.where(rated, rated_at, -1)

    # ---- supervision (督办): late, unsatisfied, and a few picked by leaders
    limit = np.where(closed, close, end_s)
    overdue = has_dl & (closed | is_open) & (dl < limit)
    sup_late = overdue & (rng.random(n) < cat.SUPERVISE_LATE)
    t1 = daytime(rng, dl + (H + rng.random(n) * 23 * H).astype(np.int64))
    t1 = np.where(t1 < limit, t1, dl + (rng.random(n) * (limit - dl)).astype(np.int64))
    sup_late &= (limit - dl) >= 1800
    t2 = daytime(rng, t1 + ((7 + rng.random(n) * 8) * DAY).astype(np.int64))
    sup_escalate = sup_late & (t2 < limit) & (rng.random(n) < 0.6)
    t3 = daytime(rng, rated_at + (2 * H + rng.random(n) * 46 * H).astype(np.int64))
    sup_unsat = (sat == SAT_UNSATISFIED) & (t3 <= end_s) & (rng.random(n) < cat.SUPERVISE_UNSATISFIED)
    t4 = daytime(rng, disp + (H + rng.random(n) * 47 * H).astype(np.int64))
    sup_random = ((closed | is_open) & (disp >= 0) & (t4 < limit) & (t4 <= end_s)
                  & (rng.random(n) < cat.SUPERVISE_RANDOM) & ~sup_late)

    b.update(
        dispatched=disp, closed_at=closed_at, feedback=fb, rated_at=rated_at, status=status,
        satisfaction=sat, sup_late=np.where(sup_late, t1, -1), sup_escalate=np.where(sup_escalate, t2, -1),
        sup_unsat=np.where(sup_unsat, t3, -1), sup_random=np.where(sup_random, t4, -1),
        is_supervised=sup_late | sup_unsat | sup_random,
    )
