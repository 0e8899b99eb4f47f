"""Every indicator, defined once, as SQL over the appeal facts.

docs/metrics.md explains each one with its numerator and denominator; the
``INDICATORS`` catalogue below carries the same text for the UI's tooltips.

The cohort of an indicator is the appeals *received* in the period (created in
``[start, end)`` and no later than the as-of time). Their state is judged as
of the as-of time ``T``:

* closed at T     status 'closed' and closed_at <= T (a closed appeal with no
                  closing time counts as closed but cannot be judged on time);
* cancelled at T  status 'cancelled' and closed_at <= T (or no time);
* open at T       neither of the above (an appeal closed after T was open at T).

Cancelled appeals are counted separately and excluded from every rate.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Table, and_, case, func, literal, or_, true
from sqlalchemy.sql.expression import ColumnElement

from .sqlfuncs import as_double, seconds_between
from .vocab import IN_GRID_LEVELS, IN_STREET_LEVELS, SATISFIED_CODES

# 临期 (yellow) and 超期 (red): see ``due_soon_at_t`` and ``overdue_at_t``, and
# docs/deadlines.md. The yellow moment of each appeal is precomputed by the
# deadline engine (``appeals.warn_at``, from the working-time thresholds
# APPEALS_DUE_SOON_FRACTION and APPEALS_DUE_SOON_WORKDAYS). A row without
# warn_at (a city database served through views) falls back to this calendar
# rule: the remaining clock time is at most DUE_SOON_FRACTION of the allowed
# time (deadline - created) or at most DUE_SOON_HOURS, whichever comes first.
DUE_SOON_FRACTION = 0.2
DUE_SOON_HOURS = 24.0


@dataclass(frozen=True)
class Indicator:
    key: str
    label: str
    kind: str  # count | rate | per_10k
    numerator: str
    denominator: str = ""
    # the same, as the screens say it (tooltips)
    numerator_zh: str = ""
    denominator_zh: str = ""


INDICATORS: dict[str, Indicator] = {i.key: i for i in (
    Indicator("received", "受理量", "count", "appeals received in the period (cancelled ones included)",
              numerator_zh="本期受理的诉求（含已撤销）"),
    Indicator("closed", "办结量", "count", "received in the period and closed by the as-of time",
              numerator_zh="本期受理、截至统计时点已办结的诉求"),
    Indicator("cancelled", "撤销量", "count", "received in the period and cancelled by the as-of time",
              numerator_zh="本期受理、截至统计时点已撤销的诉求"),
    Indicator("overdue_open", "超期", "count",
              "received in the period, open at the as-of time and past their deadline (a paused appeal only "
              "if its deadline had passed before the pause)",
              numerator_zh="本期受理、统计时点仍在办且已过办理时限的诉求（挂起的诉求仅当挂起前已超期时计入）"),
    Indicator("due_soon_open", "临期", "count",
              "received in the period, open and not paused at the as-of time, not yet due, and past its yellow "
              "moment: remaining working time at most 20% of the allowed time or 1 working day (the default "
              "thresholds), whichever comes first",
              numerator_zh="本期受理、统计时点在办且未挂起、尚未到期但已进入临期的诉求：剩余工作时间不超过"
                           "允许时间的 20% 或 1 个工作日（默认阈值），以先到者为准"),
    Indicator("completion_rate", "办结率", "rate", "closed", "received − cancelled",
              numerator_zh="已办结", denominator_zh="受理 − 撤销"),
    Indicator("on_time_rate", "按时办结率", "rate", "closed on or before the deadline",
              "appeals that are due: closed (with a deadline and a closing time) + open past the deadline",
              numerator_zh="在办理时限内办结",
              denominator_zh="应办结的诉求：已办结（有办理时限和办结时间）+ 在办已超期"),
    Indicator("feedback_on_time_rate", "按时反馈率", "rate",
              "first feedback given on or before the feedback deadline",
              "appeals due for feedback: feedback given, or the feedback deadline passed without it",
              numerator_zh="在反馈时限内首次反馈", denominator_zh="应反馈的诉求：已反馈，或反馈时限已过仍未反馈"),
    Indicator("satisfaction_rate", "满意率", "rate", "rated 满意 or 基本满意", "closed appeals rated in the callback",
              numerator_zh="评价为满意或基本满意", denominator_zh="已办结且回访有评价"),
    Indicator("callback_rate", "回访率", "rate", "closed appeals rated in the callback", "closed",
              numerator_zh="已办结且回访有评价", denominator_zh="已办结"),
    Indicator("in_grid_rate", "网格内解决率", "rate", "closed at grid or community level",
              "closed (with a known handling level)",
              numerator_zh="在网格或社区层级办结", denominator_zh="已办结（办理层级明确）"),
    Indicator("in_street_rate", "街道内解决率", "rate", "closed at grid, community or street level",
              "closed (with a known handling level)",
              numerator_zh="在网格、社区或街道层级办结", denominator_zh="已办结（办理层级明确）"),
    Indicator("repeat_rate", "重复诉求率", "rate", "appeals flagged as repeating an earlier one",
              "received − cancelled", numerator_zh="标记为重复诉求", denominator_zh="受理 − 撤销"),
    Indicator("per_10k", "每万人诉求量", "per_10k", "(received − cancelled) × 10,000", "residents of the region",
              numerator_zh="（受理 − 撤销）× 10,000", denominator_zh="辖区常住人口"),
)}

COUNT_KEYS = ("received", "closed", "cancelled", "overdue_open", "due_soon_open")
RATE_KEYS = ("completion_rate", "on_time_rate", "feedback_on_time_rate", "satisfaction_rate", "callback_rate",
             "in_grid_rate", "in_street_rate", "repeat_rate")


# ------------------------------------------------------------- states ---

def cohort(f: Table, start: dt.datetime | None, end: dt.datetime | None, as_of: dt.datetime) -> ColumnElement:
    """Appeals received in ``[start, end)`` and no later than ``as_of``."""
    parts = [f.c.created_at <= as_of]
    if start is not None:
        parts.append(f.c.created_at >= start)
    if end is not None:
        parts.append(f.c.created_at < end)
    return and_(*parts)


def closed_at_t(f: Table, t) -> ColumnElement:
    return and_(f.c.status == "closed", or_(f.c.closed_at.is_(None), f.c.closed_at <= t))


def cancelled_at_t(f: Table, t) -> ColumnElement:
    return and_(f.c.status == "cancelled", or_(f.c.closed_at.is_(None), f.c.closed_at <= t))


def open_at_t(f: Table, t) -> ColumnElement:
    return or_(f.c.status == "open", and_(f.c.closed_at.is_not(None), f.c.closed_at > t))


def overdue_at_t(f: Table, t) -> ColumnElement:
    """超期 (red): open at t and past the deadline.

    A paused appeal's clock is stopped, so it is not red while paused, unless
    its deadline had already passed when the pause began: a pause does not
    hide lateness (docs/deadlines.md).
    """
    return and_(
        open_at_t(f, t),
        f.c.deadline_at < t,
        or_(f.c.paused_since.is_(None), f.c.paused_since > t, f.c.deadline_at < f.c.paused_since),
    )


def due_soon_at_t(f: Table, t) -> ColumnElement:
    """临期 (yellow): open at t, not paused at t, not yet past the deadline, and ``warn_at <= t``.

    ``warn_at`` is the moment the remaining time falls to the threshold
    (``deadlines.warn_at_for``: working time for limits in working days, clock
    time for limits in hours). A row without warn_at falls back to the
    calendar rule of ``DUE_SOON_FRACTION`` / ``DUE_SOON_HOURS``.
    """
    remaining = seconds_between(t, f.c.deadline_at)
    allowed = seconds_between(f.c.created_at, f.c.deadline_at)
    calendar_rule = or_(remaining <= DUE_SOON_HOURS * 3600.0, remaining <= DUE_SOON_FRACTION * allowed)
    return and_(
        open_at_t(f, t),
        or_(f.c.paused_since.is_(None), f.c.paused_since > t),
        f.c.deadline_at >= t,
        or_(f.c.warn_at <= t, and_(f.c.warn_at.is_(None), calendar_rule)),
    )


def closed_within(f: Table, start: dt.datetime | None, end: dt.datetime | None, as_of: dt.datetime) -> ColumnElement:
    """Appeals closed in ``[start, end)`` and by ``as_of``, whenever received (the trend's 办结 line)."""
    parts = [f.c.status == "closed", f.c.closed_at <= as_of]
    if start is not None:
        parts.append(f.c.closed_at >= start)
    if end is not None:
        parts.append(f.c.closed_at < end)
    return and_(*parts)


def _count(cond: ColumnElement) -> ColumnElement:
    return func.count(case((cond, 1)))


def _ratio(num: ColumnElement, den: ColumnElement) -> ColumnElement:
    return as_double(num) / func.nullif(den, 0)


# --------------------------------------------------------------- sets ---
# Every count on screen is the size of one of these sets of appeals (within
# the scope and the cohort), and every rate is |numerator| / |denominator| of
# two of them. The case list behind a figure filters by the same condition,
# so its length is the figure.

SETS: dict[str, str] = {
    "received": "受理",
    "valid": "有效受理（不含撤销）",
    "closed": "已办结",
    "cancelled": "已撤销",
    "open": "在办",
    "overdue_open": "超期在办",
    "due_soon_open": "临期在办",
    "on_time": "按时办结",
    "due": "应办结（已办结且有时限，或已超期）",
    "feedback_on_time": "按时反馈",
    "feedback_due": "应反馈",
    "rated": "已评价",
    "satisfied": "满意或基本满意",
    "level_known": "已办结且办理层级明确",
    "in_grid": "在网格或社区办结",
    "in_street": "在街道及以下办结",
    "repeat": "重复诉求",
}

RATES: dict[str, tuple[str, str]] = {  # rate -> (numerator set, denominator set)
    "completion_rate": ("closed", "valid"),
    "on_time_rate": ("on_time", "due"),
    "feedback_on_time_rate": ("feedback_on_time", "feedback_due"),
    "satisfaction_rate": ("satisfied", "rated"),
    "callback_rate": ("rated", "closed"),
    "in_grid_rate": ("in_grid", "level_known"),
    "in_street_rate": ("in_street", "level_known"),
    "repeat_rate": ("repeat", "valid"),
}


def conditions(f: Table, as_of: dt.datetime) -> dict[str, ColumnElement]:
    """The condition of every set in ``SETS``, judged at ``as_of``, for rows of the cohort."""
    t = literal(as_of)
    closed = closed_at_t(f, t)
    cancelled = cancelled_at_t(f, t)
    overdue = overdue_at_t(f, t)
    feedback_given = and_(f.c.first_feedback_at.is_not(None), f.c.first_feedback_at <= t)
    rated = and_(closed, f.c.satisfaction.is_not(None), or_(f.c.rated_at.is_(None), f.c.rated_at <= t))
    level_known = and_(closed, f.c.handling_level.is_not(None))
    return {
        "received": true(),
        "valid": ~cancelled,
        "closed": closed,
        "cancelled": cancelled,
        "open": open_at_t(f, t),
        "overdue_open": overdue,
        "due_soon_open": due_soon_at_t(f, t),
        "on_time": and_(closed, f.c.closed_at <= f.c.deadline_at),
        "due": or_(and_(closed, f.c.closed_at.is_not(None), f.c.deadline_at.is_not(None)), overdue),
        "feedback_on_time": and_(~cancelled, feedback_given, f.c.first_feedback_at <= f.c.feedback_deadline_at),
        "feedback_due": and_(f.c.feedback_deadline_at.is_not(None), ~cancelled,
                             or_(feedback_given, f.c.feedback_deadline_at < t)),
        "rated": rated,
        "satisfied": and_(rated, f.c.satisfaction.in_(SATISFIED_CODES)),
        "level_known": level_known,
        "in_grid": and_(level_known, f.c.handling_level.in_(IN_GRID_LEVELS)),
        "in_street": and_(level_known, f.c.handling_level.in_(IN_STREET_LEVELS)),
        "repeat": and_(~cancelled, f.c.is_repeat == True),  # noqa: E712
    }


def figure_set(key: str) -> tuple[str, str | None]:
    """The set a figure counts, and for a rate its numerator set: ``(set, numerator or None)``."""
    if key in RATES:
        numerator, denominator = RATES[key]
        return denominator, numerator
    if key == "per_10k":
        return "valid", None
    if key in SETS:
        return key, None
    raise KeyError(f"unknown figure {key!r}")


# ----------------------------------------------------------- measures ---

def measures(f: Table, as_of: dt.datetime, keys: tuple[str, ...] | None = None) -> list[ColumnElement]:
    """Aggregate columns for the indicators ``keys`` (all counts and rates by default).

    Use them in a SELECT over ``f`` whose WHERE holds the scope and the cohort.
    """
    cond = conditions(f, as_of)
    size = {name: func.count() if name == "received" else _count(c) for name, c in cond.items()}
    columns = {name: size[name] for name in (*COUNT_KEYS, "valid")}
    for rate, (numerator, denominator) in RATES.items():
        columns[rate] = _ratio(size[numerator], size[denominator])
    wanted = keys if keys is not None else (*COUNT_KEYS, "valid", *RATE_KEYS)
    return [columns[k].label(k) for k in wanted]


def per_10k(valid: ColumnElement, population: ColumnElement) -> ColumnElement:
    """每万人诉求量: (received − cancelled) per 10,000 residents; NULL without a population."""
    return as_double(valid) * 10000.0 / func.nullif(population, 0)

