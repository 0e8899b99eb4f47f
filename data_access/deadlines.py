"""The deadline engine: 办理时限 from rules, working time, pauses (挂起),
extensions (延期), and the yellow (临期) and red (超期) lights.

docs/deadlines.md explains every definition here; in short:

* **Rules** (``time_limit_rules``, data an administrator changes with
  ``python -m data_access rules …``) give each (category, subcategory,
  urgency) a handling limit, in clock hours (紧急) or working days (一般,
  咨询), and a feedback limit. The most specific matching rule wins; without
  one, a built-in default by urgency applies (``BUILTIN``).
* **Working time** (``data_access.workcal``): a working day counts whole,
  00:00–24:00; a non-working day not at all. A limit in working days is
  measured in working time; a limit in hours in clock time (an emergency does
  not wait for Monday). That measure is the appeal's **basis**, and it follows
  the kind of limit its rule gives it, whatever the deadline's source.
* **Yellow** from ``warn_at``: the moment the remaining time (in the basis)
  falls to the threshold ``max(fraction × allowed, workdays days)``, where
  the day threshold counts only when it is shorter than the allowed time
  (else every 1-day consultation and every urgent appeal would be yellow from
  the moment it arrives). Allowed = creation to the current deadline.
* **Red**: open past the deadline.
* **Paused** appeals: the clock stops. While paused they are neither yellow
  nor red, unless the deadline had already passed when the pause began (a
  pause does not hide lateness). On resume the deadline, the feedback
  deadline (if no feedback had been given before the pause) and warn_at move
  by the paused time, in the basis.
* **Extensions** move the deadline to a later moment; the deadline is then a
  decision, not the rule's: ``deadline_source`` becomes ``manual``.

The writes that move stored deadlines (pause, resume, extend, recompute)
are in ``deadline_changes``; the rule table's writes are here.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import Engine, and_, delete, func, insert, select, update
from sqlalchemy.engine import Connection

from . import cityzone, schema, workcal
from .clock import local_now
from .indicators import DUE_SOON_FRACTION, DUE_SOON_HOURS

CLOCK, WORKING = "clock", "working"
STATES = ("normal", "yellow", "red", "paused", "closed")
SOURCES = ("rule", "import", "manual")
URGENCIES = ("urgent", "normal", "consult")
DAY = 86_400.0
HOUR = 3_600.0


# --------------------------------------------------------------- limits ---

def require_positive(name: str, value) -> None:
    if value is not None and not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a number > 0, got {value!r}")


def require_whole(name: str, value) -> None:
    if value is not None and (not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1):
        raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")


@dataclass(frozen=True)
class Limit:
    """A handling limit (exactly one of ``hours``, ``workdays``) and an optional feedback limit."""

    hours: float | None = None
    workdays: int | None = None
    feedback_hours: float | None = None
    feedback_workdays: int | None = None

    def __post_init__(self) -> None:
        if (self.hours is None) == (self.workdays is None):
            raise ValueError("a time limit needs exactly one of hours and workdays")
        if self.feedback_hours is not None and self.feedback_workdays is not None:
            raise ValueError("a feedback limit is in hours or in working days, not both")
        require_positive("hours", self.hours)
        require_positive("feedback_hours", self.feedback_hours)
        require_whole("workdays", self.workdays)
        require_whole("feedback_workdays", self.feedback_workdays)

    @property
    def basis(self) -> str:
        """How the appeal's time is measured: clock time for hours, working time for working days."""
        return CLOCK if self.hours is not None else WORKING

    def text(self) -> str:
        main = f"{self.hours:g} h" if self.hours is not None else f"{self.workdays} working days"
        if self.feedback_hours is not None:
            return f"{main}, feedback {self.feedback_hours:g} h"
        if self.feedback_workdays is not None:
            return f"{main}, feedback {self.feedback_workdays} working days"
        return main


# when no rule matches: by urgency (anything else counts as normal)
BUILTIN: dict[str, Limit] = {
    "urgent": Limit(hours=24, feedback_hours=2),
    "normal": Limit(workdays=5, feedback_workdays=1),
    "consult": Limit(workdays=1, feedback_workdays=1),
}


@dataclass(frozen=True)
class Rule:
    """One row of ``time_limit_rules``. NULL (None) in category, subcategory or urgency matches anything.

    A rule gives a handling limit, a feedback limit, or both; the two are
    resolved separately (``Rules.limit_for``).
    """

    category: str | None = None
    subcategory: str | None = None
    urgency: str | None = None
    limit_hours: float | None = None
    limit_workdays: int | None = None
    feedback_hours: float | None = None
    feedback_workdays: int | None = None
    id: int | None = None
    updated_at: dt.datetime | None = None

    def __post_init__(self) -> None:
        where = f"rule {self.id}" if self.id is not None else "a rule"
        if self.subcategory is not None and self.category is None:
            raise ValueError(f"{where}: a subcategory needs its category")
        if self.urgency is not None and self.urgency not in URGENCIES:
            raise ValueError(f"{where}: urgency must be one of {', '.join(URGENCIES)} or empty, got {self.urgency!r}")
        if self.limit_hours is not None and self.limit_workdays is not None:
            raise ValueError(f"{where}: a limit is in hours or in working days, not both")
        if self.feedback_hours is not None and self.feedback_workdays is not None:
            raise ValueError(f"{where}: a feedback limit is in hours or in working days, not both")
        if not (self.has_limit or self.has_feedback):
            raise ValueError(f"{where}: gives neither a limit nor a feedback limit")
        try:
            require_positive("hours", self.limit_hours)
            require_positive("feedback hours", self.feedback_hours)
            require_whole("workdays", self.limit_workdays)
            require_whole("feedback workdays", self.feedback_workdays)
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None

    @property
    def has_limit(self) -> bool:
        return self.limit_hours is not None or self.limit_workdays is not None

    @property
    def has_feedback(self) -> bool:
        return self.feedback_hours is not None or self.feedback_workdays is not None

    @property
    def key(self) -> tuple:
        return (self.category, self.subcategory, self.urgency)

    @property
    def specificity(self) -> tuple[bool, bool, bool]:
        """category+subcategory+urgency > category+subcategory > category+urgency > category > urgency > none."""
        return (self.subcategory is not None, self.category is not None, self.urgency is not None)

    def matches(self, category, subcategory, urgency) -> bool:
        return ((self.category is None or self.category == category)
                and (self.subcategory is None or self.subcategory == subcategory)
                and (self.urgency is None or self.urgency == urgency))


class Rules:
    """The rule table, ready to answer ``limit_for``."""

    def __init__(self, rules: Iterable[Rule] = ()) -> None:
        # most specific first; on a tie the newest row (highest id) first
        self.rules: tuple[Rule, ...] = tuple(sorted(rules, key=lambda r: (r.specificity, r.id or 0), reverse=True))
        self._cache: dict[tuple, Limit] = {}

    def __iter__(self):
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def limit_for(self, category: str | None, subcategory: str | None = None, urgency: str | None = None) -> Limit:
        """The handling limit from the most specific rule that gives one, and the feedback limit likewise;
        ``BUILTIN[urgency]`` for what no rule gives."""
        key = (category, subcategory, urgency)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        builtin = BUILTIN.get(urgency, BUILTIN["normal"])
        main = next((r for r in self.rules if r.has_limit and r.matches(*key)), None)
        fb = next((r for r in self.rules if r.has_feedback and r.matches(*key)), None)
        limit = Limit(
            hours=main.limit_hours if main else builtin.hours,
            workdays=main.limit_workdays if main else builtin.workdays,
            feedback_hours=fb.feedback_hours if fb else builtin.feedback_hours,
            feedback_workdays=fb.feedback_workdays if fb else builtin.feedback_workdays,
        )
        self._cache[key] = limit
        return limit

    def basis_for(self, category, subcategory=None, urgency=None) -> str:
        return self.limit_for(category, subcategory, urgency).basis


def default_rules() -> Rules:
    """The demo catalogue's limits as rules (``data_access.seed.catalogue``).

    紧急: the category's clock hours (some subcategories their own), first
    feedback within min(limit, 2 h); 一般: the category's working days (5; 供暖
    3; 市场监管, 教育, 民政救助 10; 劳动保障 15), feedback within the category's
    feedback days; 咨询: 1 working day, feedback within it.
    """
    from .seed import catalogue as cat

    fb_urgent = cat.FEEDBACK_URGENT_HOURS
    rules = [Rule(urgency="consult", limit_workdays=cat.CONSULT_DAYS, feedback_workdays=cat.CONSULT_DAYS)]
    for c in cat.CATEGORIES:
        rules.append(Rule(c.name, None, "normal", limit_workdays=c.limit_days, feedback_workdays=c.feedback_days))
        rules.append(Rule(c.name, None, "urgent", limit_hours=float(c.urgent_hours),
                          feedback_hours=float(min(c.urgent_hours, fb_urgent))))
        for s in c.subcategories:
            if s.urgent_hours is not None and s.urgent_hours != c.urgent_hours:
                rules.append(Rule(c.name, s.name, "urgent", limit_hours=float(s.urgent_hours),
                                  feedback_hours=float(min(s.urgent_hours, fb_urgent))))
    return Rules(rules)


# ----------------------------------------------------------- rule table ---

_RULE_FIELDS = ("category", "subcategory", "urgency", "limit_hours", "limit_workdays", "feedback_hours",
                "feedback_workdays")


def _rule_from_row(row: Mapping) -> Rule:
    def num(v, kind):
        return None if v is None else kind(v)

    return Rule(row["category"], row["subcategory"], row["urgency"], num(row["limit_hours"], float),
                num(row["limit_workdays"], int), num(row["feedback_hours"], float),
                num(row["feedback_workdays"], int), id=row["id"], updated_at=row["updated_at"])


def load_rules(conn: Engine | Connection) -> Rules:
    """The rules stored in ``time_limit_rules`` (none stored: every appeal gets ``BUILTIN``)."""
    t = schema.time_limit_rules
    stmt = select(t).order_by(t.c.id)
    if isinstance(conn, Engine):
        with conn.connect() as c:
            rows = c.execute(stmt).mappings().all()
    else:
        rows = conn.execute(stmt).mappings().all()
    return Rules(_rule_from_row(r) for r in rows)


def write_default_rules(engine: Engine, *, now: dt.datetime | None = None, replace: bool = False) -> int:
    """Write ``default_rules()`` into an empty rule table (``replace``: delete the stored rules first)."""
    t = schema.time_limit_rules
    now = now or local_now(cityzone.zone_of(engine))
    with engine.begin() as conn:
        count = conn.execute(select(func.count()).select_from(t)).scalar_one()
        if count and not replace:
            raise ValueError(f"time_limit_rules already holds {count} rules; replace them explicitly")
        if count:
            conn.execute(delete(t))
        rows = [{**{f: getattr(r, f) for f in _RULE_FIELDS}, "updated_at": now} for r in default_rules()]
        conn.execute(insert(t), rows)
    return len(rows)


def _key_filter(t, category, subcategory, urgency):
    return and_(*[(t.c[name] == value) if value is not None else t.c[name].is_(None)
                  for name, value in (("category", category), ("subcategory", subcategory), ("urgency", urgency))])


def set_rule(engine: Engine, *, category: str | None = None, subcategory: str | None = None,
             urgency: str | None = None, hours: float | None = None, workdays: int | None = None,
             feedback_hours: float | None = None, feedback_workdays: int | None = None,
             now: dt.datetime | None = None) -> Rule:
    """Add the rule for exactly (category, subcategory, urgency), or change the stored one.

    A change sets the limits given and keeps the others: ``hours`` or
    ``workdays`` replaces the handling limit, ``feedback_hours`` or
    ``feedback_workdays`` the feedback limit.
    """
    t = schema.time_limit_rules
    stamp = now or local_now(cityzone.zone_of(engine))
    with engine.begin() as conn:
        stored = conn.execute(select(t).where(_key_filter(t, category, subcategory, urgency))
                              .order_by(t.c.id)).mappings().all()
        old = dict(stored[-1]) if stored else {}
        main = ((hours, workdays) if hours is not None or workdays is not None
                else (old.get("limit_hours"), old.get("limit_workdays")))
        fb = ((feedback_hours, feedback_workdays) if feedback_hours is not None or feedback_workdays is not None
              else (old.get("feedback_hours"), old.get("feedback_workdays")))
        rule = Rule(category, subcategory, urgency, main[0], main[1], fb[0], fb[1])  # validates
        values = {**{f: getattr(rule, f) for f in _RULE_FIELDS}, "updated_at": stamp}
        if stored:
            rule_id = old["id"]
            conn.execute(update(t).where(t.c.id == rule_id).values(values))
            if len(stored) > 1:
                conn.execute(delete(t).where(t.c.id.in_([r["id"] for r in stored[:-1]])))
        else:
            rule_id = conn.execute(insert(t).values(values)).inserted_primary_key[0]
        row = conn.execute(select(t).where(t.c.id == rule_id)).mappings().one()
    return _rule_from_row(row)


def delete_rule(engine: Engine, *, rule_id: int | None = None, category: str | None = None,
                subcategory: str | None = None, urgency: str | None = None) -> int:
    """Delete one rule by id, or the rule(s) of exactly (category, subcategory, urgency). Returns the count."""
    t = schema.time_limit_rules
    where = t.c.id == rule_id if rule_id is not None else _key_filter(t, category, subcategory, urgency)
    with engine.begin() as conn:
        return conn.execute(delete(t).where(where)).rowcount


# ---------------------------------------------------------- computation ---

def deadline_for(created: dt.datetime, limit: Limit) -> dt.datetime:
    """Hours: ``created`` plus clock hours. Working days: ``workcal.add_working_days``."""
    if limit.hours is not None:
        return created + dt.timedelta(hours=limit.hours)
    return workcal.add_working_days(created, limit.workdays)


def feedback_deadline_for(created: dt.datetime, limit: Limit,
                          deadline: dt.datetime | None = None) -> dt.datetime | None:
    """The first-feedback deadline, never later than the handling deadline; None without a feedback limit."""
    if limit.feedback_hours is not None:
        fb = created + dt.timedelta(hours=limit.feedback_hours)
    elif limit.feedback_workdays is not None:
        fb = workcal.add_working_days(created, limit.feedback_workdays)
    else:
        return None
    return min(fb, deadline if deadline is not None else deadline_for(created, limit))


def to_us(values) -> np.ndarray:
    """datetime-likes (list, Series, array; None/NaT allowed) as datetime64[us]."""
    if isinstance(values, (pd.Series, pd.Index)):
        return pd.to_datetime(values).to_numpy(dtype="datetime64[us]")
    a = np.asarray(values)
    if a.dtype.kind == "M":
        return a.astype("datetime64[us]")
    return np.array([np.datetime64("NaT") if v is None or v is pd.NaT or (isinstance(v, float) and math.isnan(v))
                     else np.datetime64(pd.Timestamp(v).to_pydatetime(), "us") for v in a.ravel().tolist()],
                    dtype="datetime64[us]").reshape(a.shape)


def _clock_seconds(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """b - a in seconds (float, NaN for NaT)."""
    out = (b - a).astype("timedelta64[us]").astype(np.int64) / 1e6
    return np.where(np.isnat(a) | np.isnat(b), np.nan, out)


def limit_arrays(rules: Rules, categories, subcategories, urgencies) -> dict[str, np.ndarray]:
    """Per row: ``hours`` (NaN unless hour-based), ``workdays`` (0 unless day-based), ``feedback_hours``
    (NaN), ``feedback_workdays`` (0) and ``clock`` (bool: hour-based), from ``rules.limit_for``."""
    def norm(v):
        return None if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v)) else v

    index: dict[tuple, int] = {}
    keys = zip(map(norm, categories), map(norm, subcategories), map(norm, urgencies))
    codes = np.fromiter((index.setdefault(k, len(index)) for k in keys), dtype=np.int64)
    limits = [rules.limit_for(*k) for k in index]

    def column(get, fill, dtype):
        table = np.array([fill if get(lim) is None else get(lim) for lim in limits] or [fill], dtype=dtype)
        return table[codes]

    return {
        "hours": column(lambda lim: lim.hours, np.nan, float),
        "workdays": column(lambda lim: lim.workdays, 0, np.int64),
        "feedback_hours": column(lambda lim: lim.feedback_hours, np.nan, float),
        "feedback_workdays": column(lambda lim: lim.feedback_workdays, 0, np.int64),
        "clock": column(lambda lim: lim.hours is not None, False, bool),
    }


def deadline_array(created, hours, workdays) -> np.ndarray:
    """Vectorised ``deadline_for``: clock hours where ``hours`` is a number, else ``workdays`` working days.

    Working days are added as ``workdays × 86 400`` working seconds, which is
    ``add_working_days`` to the microsecond (docs/deadlines.md). Rows with
    neither give NaT.
    """
    c = to_us(created)
    hours = np.broadcast_to(np.asarray(hours, dtype=float), c.shape)
    workdays = np.broadcast_to(np.asarray(workdays, dtype=np.int64), c.shape)
    by_hours = ~np.isnan(hours)
    by_days = ~by_hours & (workdays > 0)
    clock = c + np.where(by_hours, np.rint(np.nan_to_num(hours) * 3.6e9), 0).astype("timedelta64[us]")
    working = workcal.add_working_seconds_array(c, np.where(by_days, workdays, 0) * DAY)
    out = np.where(by_hours, clock, working)
    return np.where(by_hours | by_days, out, np.datetime64("NaT"))


def threshold_seconds(allowed, fraction: float, workdays: float) -> np.ndarray:
    """The yellow threshold for an allowed time (seconds, in the appeal's basis), in whole seconds.

    ``max(fraction × allowed, workdays × 86 400)``, where the day threshold
    counts only when it is shorter than the allowed time.
    """
    allowed = np.asarray(allowed, dtype=float)
    thr = fraction * allowed
    day = workdays * DAY
    thr = np.where(day < allowed, np.maximum(thr, day), thr)
    return np.round(np.maximum(thr, 0.0))


def warn_at_array(created, deadline, clock, *, fraction: float, workdays: float) -> np.ndarray:
    """Vectorised ``warn_at_for``; ``clock`` (bool per row) says the basis is clock time."""
    c, d = to_us(created), to_us(deadline)
    clock = np.broadcast_to(np.asarray(clock, dtype=bool), c.shape)
    valid = ~np.isnat(c) & ~np.isnat(d)
    allowed = np.where(clock, _clock_seconds(c, d), workcal.working_seconds_between_array(c, d))
    allowed = np.where(valid, allowed, 0.0)
    thr = threshold_seconds(allowed, fraction, workdays)
    back_clock = d - np.where(valid, thr * 1e6, 0).astype(np.int64).astype("timedelta64[us]")
    back_working = workcal.subtract_working_seconds_array(np.where(valid, d, c), np.where(valid, thr, 0.0))
    warn = np.where(clock, back_clock, back_working)
    warn = np.where((thr >= allowed) | (warn < c), c, warn)
    return np.where(valid, warn, np.datetime64("NaT"))


def warn_at_for(created: dt.datetime, deadline: dt.datetime, *, basis: str = WORKING, fraction: float = 0.2,
                workdays: float = 1.0) -> dt.datetime:
    """When an open appeal turns yellow: the first moment its remaining time (in ``basis``) is at most
    the threshold (``threshold_seconds``); ``created`` when the threshold is the whole allowed time or more."""
    out = warn_at_array(np.array([created], dtype="datetime64[us]"), np.array([deadline], dtype="datetime64[us]"),
                        np.array([basis == CLOCK]), fraction=fraction, workdays=workdays)
    return out[0].item()


def shift(when: dt.datetime, seconds: float, basis: str) -> dt.datetime:
    """Move a deadline later by ``seconds`` of time in ``basis`` (a pause's length)."""
    if not seconds:
        return when
    if basis == CLOCK:
        return when + dt.timedelta(seconds=seconds)
    return workcal.add_working_seconds(when, seconds)


def paused_seconds(start: dt.datetime, end: dt.datetime, basis: str) -> float:
    """The length of a pause in ``basis``: working seconds, or clock seconds."""
    if basis == CLOCK:
        return (end - start).total_seconds()
    return workcal.working_seconds_between(start, end)


def replay_pauses(deadline: dt.datetime | None, feedback_deadline: dt.datetime | None,
                  pauses: Iterable[tuple[dt.datetime, dt.datetime]], basis: str,
                  first_feedback_at: dt.datetime | None) -> tuple[dt.datetime | None, dt.datetime | None]:
    """Apply finished pauses ``(paused_at, resumed_at)`` in order, as ``resume`` does."""
    for start, end in pauses:
        moved = paused_seconds(start, end, basis)
        if deadline is not None:
            deadline = shift(deadline, moved, basis)
        if feedback_deadline is not None and (first_feedback_at is None or first_feedback_at > start):
            feedback_deadline = shift(feedback_deadline, moved, basis)
    return deadline, feedback_deadline


# ---------------------------------------------------------------- lights ---

@dataclass(frozen=True)
class State:
    """One appeal's light at a moment. Remaining times are negative when overdue (the overdue time);
    for a paused appeal they are frozen at the pause; None without a deadline or when closed."""

    state: str  # normal | yellow | red | paused | closed
    basis: str  # clock | working
    remaining_hours: float | None  # in the basis
    remaining_working_hours: float | None
    remaining_working_days: float | None


ANNOTATIONS = ("deadline_state", "time_basis", "remaining_hours", "remaining_working_hours",
               "remaining_working_days")


def _column(df: pd.DataFrame, name: str):
    return df[name] if name in df.columns else pd.Series([None] * len(df), index=df.index, dtype=object)


def annotate(df: pd.DataFrame, at: dt.datetime, *, rules: Rules | None = None) -> pd.DataFrame:
    """A copy of ``df`` (one row per appeal) with the light of each row at ``at``:

    ``deadline_state`` (normal | yellow | red | paused | closed),
    ``time_basis`` (clock | working), ``remaining_hours`` (in the basis),
    ``remaining_working_hours`` and ``remaining_working_days`` (negative:
    overdue). Needs ``created_at`` and ``deadline_at``; uses ``status``,
    ``closed_at``, ``warn_at``, ``paused_since``, ``category``,
    ``subcategory`` and ``urgency`` when present (a missing ``status`` means
    open). The same definitions as ``indicators.overdue_at_t`` and
    ``due_soon_at_t``, in numpy.
    """
    rules = rules if rules is not None else default_rules()
    out = df.copy()
    n = len(df)
    if n == 0:
        for name in ANNOTATIONS:
            out[name] = pd.Series(dtype=object if name in ("deadline_state", "time_basis") else float)
        return out
    t = np.datetime64(at, "us")
    created, deadline = to_us(df["created_at"]), to_us(df["deadline_at"])
    warn, paused_since, closed_at = (to_us(_column(df, c)) for c in ("warn_at", "paused_since", "closed_at"))
    status = _column(df, "status").astype(object).where(lambda s: s.notna(), "open").to_numpy()
    clock = limit_arrays(rules, _column(df, "category"), _column(df, "subcategory"), _column(df, "urgency"))["clock"]

    open_ = (status == "open") | (~np.isnat(closed_at) & (closed_at > t))
    has_dl = ~np.isnat(deadline)
    paused = open_ & ~np.isnat(paused_since) & (paused_since <= t)
    ref = np.where(paused, paused_since, t)  # the clock stops at the pause
    rem_working = workcal.working_seconds_between_array(ref, np.where(has_dl, deadline, ref))
    rem_clock = _clock_seconds(ref, np.where(has_dl, deadline, ref))
    red = open_ & has_dl & (deadline < t) & (~paused | (deadline < paused_since))
    fallback = (_clock_seconds(np.full(n, t), deadline) <= DUE_SOON_HOURS * HOUR) | (
        _clock_seconds(np.full(n, t), deadline) <= DUE_SOON_FRACTION * _clock_seconds(created, deadline))
    warned = np.where(np.isnat(warn), fallback, ~np.isnat(warn) & (warn <= t))
    yellow = open_ & has_dl & ~red & ~paused & (deadline >= t) & warned
    state = np.select([~open_, red, paused, yellow], ["closed", "red", "paused", "yellow"], default="normal")
    shown = open_ & has_dl
    out["deadline_state"] = state.astype(object)
    out["time_basis"] = np.where(clock, CLOCK, WORKING).astype(object)
    out["remaining_hours"] = np.where(shown, np.where(clock, rem_clock, rem_working) / HOUR, np.nan)
    out["remaining_working_hours"] = np.where(shown, rem_working / HOUR, np.nan)
    out["remaining_working_days"] = np.where(shown, rem_working / DAY, np.nan)
    return out


def state(row: Mapping, at: dt.datetime, *, rules: Rules | None = None) -> State:
    """The light of one appeal (a mapping with the columns ``annotate`` reads) at ``at``."""
    r = annotate(pd.DataFrame([dict(row)]), at, rules=rules).iloc[0]

    def num(v):
        return None if pd.isna(v) else float(v)

    return State(r["deadline_state"], r["time_basis"], num(r["remaining_hours"]),
                 num(r["remaining_working_hours"]), num(r["remaining_working_days"]))


# ------------------------------------------------------ overdue and text ---
# One rule for how late (or how early) an appeal is, for every screen and file:
# the time is measured in the appeal's basis (working time for limits in working
# days, clock time for limits in hours) and written by ``duration_text``.

def duration_text(hours, basis: str) -> str:
    """A length of time in an appeal's basis, as people read it; "—" when unknown.

    Working basis (limits in working days): whole working days and hours,
    "3 个工作日 4 小时", "1 个工作日"; under one working day hours and minutes,
    "5 小时 20 分钟", "45 分钟". Clock basis (limits in hours): hours,
    "1,230 小时", "5 小时 20 分钟". Cut, not rounded, to the minute (under one
    minute is "不足 1 分钟"); thousands separators throughout.
    """
    if hours is None or hours is pd.NA or (isinstance(hours, float) and math.isnan(hours)):
        return "—"
    minutes = int(math.floor(abs(float(hours)) * 60 + 1e-6))
    hh, mm = divmod(minutes, 60)
    if basis == WORKING and hh >= 24:
        days, hh = divmod(hh, 24)
        return f"{days:,} 个工作日" + (f" {hh} 小时" if hh else "")
    if hh >= 24:
        return f"{hh:,} 小时"
    if hh:
        return f"{hh} 小时" + (f" {mm} 分钟" if mm else "")
    return f"{mm} 分钟" if mm else "不足 1 分钟"


def remaining_text(row: Mapping) -> str:
    """The time left to the deadline, or past it, of a row of ``annotate``: "剩余 2 个工作日 3 小时",
    "超期 5 小时 20 分钟"; "—" without a deadline or when closed."""
    left = row["remaining_hours"]
    if left is None or pd.isna(left):
        return "—"
    return ("超期 " if left < 0 else "剩余 ") + duration_text(left, row["time_basis"])


OVERDUE_COLUMNS = ("time_basis", "overdue_hours", "overdue", "overdue_workdays", "overdue_clock_hours")


def with_overdue(df: pd.DataFrame, at: dt.datetime, *, rules: Rules | None = None) -> pd.DataFrame:
    """A copy of ``df`` (rows as ``annotate`` reads them) with how late each red (超期) row is at ``at``:

    ``time_basis`` (clock | working), ``overdue_hours`` (in the basis: working
    hours for limits in working days, clock hours for limits in hours; frozen at
    the pause for a paused appeal), ``overdue`` (``duration_text``),
    ``overdue_workdays`` (working days, rows in the working basis) and
    ``overdue_clock_hours`` (clock hours, rows in the clock basis). Empty for
    rows that are not red. The annotation columns of ``annotate`` are left out.
    """
    lit = annotate(df, at, rules=rules)
    red = (lit["deadline_state"] == "red").to_numpy()
    late = np.where(red, -lit["remaining_hours"].to_numpy(dtype=float), np.nan)
    clock = (lit["time_basis"] == CLOCK).to_numpy()
    out = df.copy()
    out["time_basis"] = lit["time_basis"].to_numpy()
    out["overdue_hours"] = late
    out["overdue"] = [duration_text(h, b) if r else "" for h, b, r in zip(late, out["time_basis"], red)]
    out["overdue_workdays"] = np.where(red & ~clock, np.round(late / 24.0, 2), np.nan)
    out["overdue_clock_hours"] = np.where(red & clock, np.round(late, 1), np.nan)
    return out


def late_hours(deadline: dt.datetime, closed: dt.datetime, basis: str) -> float:
    """How late an appeal closed after its deadline was closed, in hours of its basis."""
    if basis == CLOCK:
        return (closed - deadline).total_seconds() / HOUR
    return workcal.working_seconds_between(deadline, closed) / HOUR


def basis_of(row: Mapping, rules: Rules | None = None) -> str:
    """The basis of one appeal (a mapping with category, subcategory, urgency): clock or working."""
    rules = rules if rules is not None else default_rules()
    clock = limit_arrays(rules, [row.get("category")], [row.get("subcategory")], [row.get("urgency")])["clock"][0]
    return CLOCK if clock else WORKING
