"""督办 (supervision): the reads for the pages, on the analytics store.

The store's ``supervisions`` table is a whole copy of the system of
record's (``sync._sync_small``); ``appeal_facts`` gives each supervision's
appeal, its place (scope, street) and its category. Aggregation happens in
SQL through ``runner.run``. No personal data: no name, phone, address or
summary.

**Chains.** A supervision that escalates (automatically past its due time,
or replaced by a supervision at a higher level) is continued by a new row
whose ``escalated_from`` names it. A *chain* is a supervision started by a
person (``escalated_from`` empty, the *root*) with the rows that continue it;
levels rise along a chain, so it has at most three rows. The statistics
count chains: a supervision that went street → district → city is one
supervised case, and an escalated one.

**As of T.** A row is judged as it stood at T: answered at T when
``answered_at <= T``; escalated at T when the row continuing it was created
by T; open at T when created by T and neither.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import and_, case, exists, func, literal, or_, select

from .alerts import filter_conditions
from .analytics import PATH_COLUMNS, departments, facts, regions, supervisions
from .queries import _in_scope, _where
from .runner import run
from .scope import Period, Scope
from .sqlfuncs import as_double, seconds_between
from .unit_names import with_names

BY = ("department", "street")
STATS_COLUMNS = ("code", "name", "supervised", "answered_on_time", "answered_late", "open", "escalated",
                 "on_time_rate", "parent")

sv = supervisions


def _chain_roots():
    """Every supervision row with the id of its chain's root (a recursive CTE)."""
    base = select(sv.c.id.label("id"), sv.c.id.label("root_id")).where(sv.c.escalated_from.is_(None))
    chain = base.cte("chain", recursive=True)
    link = sv.alias("link")
    return chain.union_all(
        select(link.c.id, chain.c.root_id).select_from(link.join(chain, link.c.escalated_from == chain.c.id)))


def _count(cond) -> object:
    return func.count(case((cond, 1)))


def supervision_stats(conn, scope: Scope, period: Period, as_of: dt.datetime, by: str = "department",
                      limit: int | None = None, *, filters: dict | None = None) -> pd.DataFrame:
    """Supervision statistics per department or per street, worst first.

    The cohort: the supervision chains (see the module docstring) whose root
    was created in the period (``[start, end)``) and by ``as_of``, on appeals
    in the scope that pass the warning page's ``filters`` (district, street,
    department, category, channel of the appeal: ``alerts.filter_conditions``).
    ``by="department"`` groups by the department supervised
    (the root's ``department_code``, the appeal's department when it was
    supervised); ``by="street"`` by the street of the appeal. Chains without
    a department (or a street) are left out. Judged at ``as_of``:

    * ``supervised``        chains in the cohort;
    * ``answered_on_time``  the root itself was answered by its due time (and by ``as_of``);
    * ``answered_late``     answered by ``as_of``, but not the root by its due time: answered after
                            the due time, or only after escalating;
    * ``open``              not answered by ``as_of`` (at whatever level the chain stands);
    * ``escalated``         went up at least one level by ``as_of`` (automatically, or replaced
                            by a higher-level supervision); overlaps ``answered_late`` and ``open``;
    * ``on_time_rate``      ``answered_on_time`` ÷ chains that are due: answered, or open past the
                            root's due time (an open chain not yet due is not judged); None when
                            none is due.

    ``supervised = answered_on_time + answered_late + open``. Worst first:
    lowest ``on_time_rate`` (None last), then most escalated, most open, most
    supervised, then code.
    """
    if by not in BY:
        raise ValueError(f"by must be one of {', '.join(BY)}, not {by!r}")
    chain = _chain_roots()
    link = sv.alias("l")
    t = literal(as_of)
    per_chain = (
        select(
            chain.c.root_id,
            func.max(case((and_(link.c.answered_at.is_not(None), link.c.answered_at <= t), 1), else_=0))
            .label("answered"),
            func.max(case((and_(link.c.escalated_from.is_not(None), link.c.created_at <= t), 1), else_=0))
            .label("escalated"),
        )
        .select_from(chain.join(link, link.c.id == chain.c.id))
        .group_by(chain.c.root_id)
        .subquery("per_chain")
    )
    root = sv.alias("root")
    key = root.c.department_code if by == "department" else facts.c[PATH_COLUMNS["street"]]
    answered = per_chain.c.answered == 1
    on_time = and_(root.c.answered_at.is_not(None), root.c.answered_at <= root.c.due_at, root.c.answered_at <= t)
    due = or_(answered, root.c.due_at < t)
    cohort = [root.c.created_at <= t, _in_scope(scope), key.is_not(None), *filter_conditions(filters)]
    if period.start is not None:
        cohort.append(root.c.created_at >= period.start)
    if period.end is not None:
        cohort.append(root.c.created_at < period.end)
    agg = (
        select(
            key.label("code"),
            func.count().label("supervised"),
            _count(on_time).label("answered_on_time"),
            _count(and_(answered, ~on_time)).label("answered_late"),
            _count(~answered).label("open"),
            _count(per_chain.c.escalated == 1).label("escalated"),
            _count(due).label("due"),
        )
        .select_from(root.join(per_chain, per_chain.c.root_id == root.c.id)
                     .join(facts, facts.c.appeal_id == root.c.appeal_id))
        .where(*cohort)
        .group_by(key)
        .subquery("agg")
    )
    rate = (as_double(agg.c.answered_on_time) / func.nullif(agg.c.due, 0)).label("on_time_rate")
    source, name, parent = with_names(agg, agg.c.code, by)
    stmt = (
        select(agg.c.code, name, agg.c.supervised, agg.c.answered_on_time, agg.c.answered_late, agg.c.open,
               agg.c.escalated, rate, parent)
        .select_from(source)
        .order_by(case((agg.c.due == 0, 1), else_=0), rate, agg.c.escalated.desc(), agg.c.open.desc(),
                  agg.c.supervised.desc(), agg.c.code)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    df = run(conn, stmt)
    for col in STATS_COLUMNS[2:-2]:
        df[col] = df[col].astype("int64")
    df["on_time_rate"] = df["on_time_rate"].astype("float64")
    return df


def _open_at(s, t):
    """Rows of ``s`` open at ``t``: created by t, not answered by t, not continued by t."""
    later = sv.alias("later")
    continued = exists(select(later.c.id).where(later.c.escalated_from == s.c.id, later.c.created_at <= t))
    return and_(s.c.created_at <= t, or_(s.c.answered_at.is_(None), s.c.answered_at > t), ~continued)


def open_supervisions(conn, scope: Scope, as_of: dt.datetime, limit: int = 50, *,
                      filters: dict | None = None) -> pd.DataFrame:
    """Supervisions open at ``as_of`` on appeals in the scope that pass ``filters`` (as on the warning
    page), overdue first (longest overdue first), then by due time.

    ``overdue``: past the due time at ``as_of`` (for a street or district
    supervision, escalation is pending; a city-level one cannot escalate and
    stays overdue until answered). ``hours_to_due``: hours from ``as_of`` to
    the due time (negative when overdue).
    """
    s = sv
    t = literal(as_of)
    region = regions.alias("region")
    street = regions.alias("street")
    dept = departments.alias("dept")
    overdue = s.c.due_at < t
    stmt = (
        select(
            s.c.id, s.c.appeal_id, s.c.level, s.c.region_code, region.c.name.label("region_name"),
            s.c.department_code, dept.c.name.label("department_name"), s.c.reason, s.c.supervisor,
            s.c.created_at, s.c.due_at, s.c.escalated_from, overdue.label("overdue"),
            (seconds_between(t, s.c.due_at) / 3600.0).label("hours_to_due"),
            facts.c.category, facts.c.subcategory, facts.c.status.label("appeal_status"),
            facts.c[PATH_COLUMNS["street"]].label("street_code"), street.c.name.label("street_name"),
        )
        .select_from(
            s.join(facts, facts.c.appeal_id == s.c.appeal_id)
            .outerjoin(region, region.c.code == s.c.region_code)
            .outerjoin(street, street.c.code == facts.c[PATH_COLUMNS["street"]])
            .outerjoin(dept, dept.c.code == s.c.department_code)
        )
        .where(_in_scope(scope), _open_at(s, t), *filter_conditions(filters))
        .order_by(case((overdue, 0), else_=1), s.c.due_at, s.c.id)
        .limit(limit)
    )
    df = run(conn, stmt)
    df["overdue"] = df["overdue"].astype(bool)
    return df


def supervisions_of(conn, appeal_id: str, as_of: dt.datetime | None = None) -> pd.DataFrame:
    """Every supervision of one appeal, oldest first, with the row that continued it.

    ``escalated_to``: the id of the supervision that replaced it. ``on_time``:
    answered by the due time (empty while unanswered). Without ``as_of``, the
    rows as stored, and ``overdue`` is False. With ``as_of``, the rows as they
    stood then: rows created later are left out, an answer or a replacement
    after ``as_of`` is not shown, ``status`` is the status at ``as_of`` and
    ``overdue`` says whether an open row was past its due time.
    """
    s = sv
    later = sv.alias("later")
    region = regions.alias("region")
    dept = departments.alias("dept")
    continued = later.c.escalated_from == s.c.id
    if as_of is None:
        answered_by = s.c.answered_at
        status = s.c.status
        overdue = literal(False)
    else:
        t = literal(as_of)
        continued = and_(continued, later.c.created_at <= t)
        answered_by = case((s.c.answered_at <= t, s.c.answered_at), else_=None)
        status = case((s.c.answered_at <= t, "answered"), (later.c.id.is_not(None), "escalated"), else_="open")
        overdue = and_(s.c.answered_at.is_(None) | (s.c.answered_at > t), later.c.id.is_(None), s.c.due_at < t)
    on_time = case((answered_by.is_(None), None), else_=answered_by <= s.c.due_at)
    answer = s.c.answer if as_of is None else case((answered_by.is_not(None), s.c.answer), else_=None)
    stmt = (
        select(
            s.c.id, s.c.appeal_id, s.c.level, s.c.region_code, region.c.name.label("region_name"),
            s.c.department_code, dept.c.name.label("department_name"), s.c.reason, s.c.supervisor,
            s.c.created_at, s.c.due_at, status.label("status"), answered_by.label("answered_at"),
            answer.label("answer"), s.c.escalated_from, later.c.id.label("escalated_to"), on_time.label("on_time"),
            overdue.label("overdue"),
        )
        .select_from(
            s.outerjoin(later, continued)
            .outerjoin(region, region.c.code == s.c.region_code)
            .outerjoin(dept, dept.c.code == s.c.department_code)
        )
        .where(s.c.appeal_id == str(appeal_id))
        .order_by(s.c.created_at, s.c.id)
    )
    if as_of is not None:
        stmt = stmt.where(s.c.created_at <= as_of)
    df = run(conn, stmt)
    df["overdue"] = df["overdue"].astype(bool)
    return df


def unsatisfied_candidates(conn, scope: Scope, period: Period, as_of: dt.datetime, *,
                           limit: int = 200, filters: dict | None = None) -> pd.DataFrame:
    """Appeals rated 不满意 that nobody has supervised since the rating: put forward for supervision.

    Received in the period (the cohort of every indicator, so these are part
    of the 不满意 answers behind 满意率), in the scope and passing ``filters`` (as
    on the warning page), rated ``unsatisfied``
    by ``as_of``, with no supervision created at or after the rating (and by
    ``as_of``). ``supervised_before``: the appeal was supervised earlier
    (e.g. while it was late). Newest rating first.
    """
    s = sv
    since = exists(select(s.c.id).where(s.c.appeal_id == facts.c.appeal_id, s.c.created_at >= facts.c.rated_at,
                                        s.c.created_at <= as_of))
    street = regions.alias("street")
    dept = departments.alias("dept")
    stmt = (
        select(
            facts.c.appeal_id, facts.c.created_at, facts.c.closed_at, facts.c.rated_at, facts.c.category,
            facts.c.subcategory, facts.c[PATH_COLUMNS["street"]].label("street_code"),
            street.c.name.label("street_name"), facts.c.department_code, dept.c.name.label("department_name"),
            facts.c.handling_level, facts.c.is_supervised.label("supervised_before"),
        )
        .select_from(
            facts.outerjoin(street, street.c.code == facts.c[PATH_COLUMNS["street"]])
            .outerjoin(dept, dept.c.code == facts.c.department_code)
        )
        .where(_where(scope, period, as_of), facts.c.satisfaction == "unsatisfied", facts.c.rated_at <= as_of,
               ~since, *filter_conditions(filters))
        .order_by(facts.c.rated_at.desc(), facts.c.appeal_id)
        .limit(limit)
    )
    return run(conn, stmt)
