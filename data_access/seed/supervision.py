"""Supervisions (督办) of a chunk of demo appeals, by the same rules as the live writes.

``outcomes.add_outcomes`` decides which appeals are supervised and when
supervision is asked for (times in seconds, -1 = not):

* ``sup_late``      the appeal is past its deadline;
* ``sup_escalate``  a late appeal still unresolved a week or two later: the
                    city's 8890 督查室 supervises it at city level;
* ``sup_unsat``     the callback rated it 不满意;
* ``sup_random``    a leader picked it (领导批示, 挂牌督办).

``plan_supervisions`` turns these requests into ``supervisions`` rows, one
appeal at a time, following ``data_access.supervision``:

* the level: ``sup_escalate`` at city level; the others one level above the
  handler: street for an appeal handled in a grid or community, district for
  one handled by a street office or a district bureau, city for a city
  department;
* the answer is due 2 working days later (``workcal.add_working_days``);
* one open supervision per appeal: a request at the same or a lower level
  than the open one is dropped (no row, no event); a higher one replaces it
  (``escalated``, ``escalated_from``);
* each row draws its fate (``substream(seed, "supervision")``, so the rest of
  the demo is unchanged): answered on time, answered late, or never; an
  appeal closed after the supervision is answered at the latest soon after
  its closing. A street or district row not answered by its due time
  escalates a few minutes after it (an escalation job every 10 minutes): a
  new row one level up by ``系统自动升级``, due after the same allowance.
  A city row cannot escalate: it is answered in the end, if late then days
  late;
* nothing happens after ``end``: a row whose answer or escalation would come
  later is still open.

``events.supervision_events`` logs them as the live writes do: a
``supervise`` event for each row a person started, an ``escalate`` event for
each automatic escalation, an ``answer`` event for each answer.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
from sqlalchemy import Engine, func, select

from ..schema import supervisions
from ..store import bulk_insert
from ..supervision import DEFAULT_ALLOWANCE_WORKDAYS, ESCALATION_PREFIX, LEVEL_ORDER, SYSTEM_ACTOR, next_level
from ..workcal import add_working_days_array
from . import catalogue as cat
from .places import Places

H = 3600
TRIGGERS = ("sup_late", "sup_escalate", "sup_unsat", "sup_random")
# the level that supervises an appeal handled at each handling level (cat.HANDLING_LEVELS order)
SUPERVISING_LEVEL = ("street", "street", "district", "district", "city")
UNKNOWN_HANDLER_LEVEL = "district"  # not dispatched: the district command centre
# the share of rows answered by their due time, by level; lower for appeals stuck for weeks
ON_TIME_SHARE = {"street": 0.82, "district": 0.88, "city": 0.92}
STUCK_PENALTY = 0.35
LATE_SHARE = 0.06  # answered after the due time; the rest are never answered (and escalate)…
CITY_LATE_MEDIAN_S = 3 * 86400  # …except at city level, where every late answer comes, days late
ESCALATION_DELAY_S = (60, 600)

ANSWERS = (
    "已安排专人现场核查，正在加紧办理，办理结果将及时反馈诉求人。",
    "已召集相关单位现场协调，制定整改方案并限期完成。",
    "已联系诉求人说明情况，问题已列入近期工作计划。",
    "已责成承办人员重新核实处理，明确办结时限。",
    "已督促承办人员落实整改，整改进展将及时报告。",
)
LATE_ANSWERS = (
    "因涉及多个部门，协调时间较长，现已明确牵头单位，正在办理。",
    "前期人手不足未能及时答复，现已安排专人跟进。",
)
CLOSING_ANSWER = "诉求已办结，办理结果已反馈诉求人。"

COLUMNS = ("id", "appeal_id", "level", "region_code", "department_code", "reason", "supervisor", "created_at",
           "due_at", "status", "answered_at", "answer", "escalated_from", "updated_at")


def _supervisors(places: Places, grid: int) -> dict[str, str]:
    names = places.level_names
    anc = places.grid_ancestor
    return {
        "street": f"{names['street'][anc['street'][grid]]}督办组",
        "district": f"{names['district'][anc['district'][grid]]}综合指挥中心督办科",
        "city": f"{names['city'][anc['city'][grid]]}8890督查室",
    }


def _regions(places: Places, grid: int) -> dict[str, str]:
    codes = places.level_codes
    anc = places.grid_ancestor
    return {lv: codes[lv][anc[lv][grid]] for lv in LEVEL_ORDER}


def _daytime(t: int, rng: np.random.Generator) -> int:
    """Move a time outside 08:00–20:00 to the next morning."""
    tod = t % 86400
    if 8 * H <= tod < 20 * H:
        return t
    morning = t - tod + 8 * H + int(rng.random() * 2 * H)
    return morning if tod < 8 * H else morning + 86400


def plan_supervisions(rng: np.random.Generator, b: dict, places: Places, reasons: dict[str, list[str]],
                      end_s: int) -> dict[str, list]:
    """The supervision rows of a chunk, as parallel lists (times in seconds, -1 = none).

    ``row``: the appeal's row in the chunk; ``parent``: the index (in these
    lists) of the row it replaces, or -1. ``reasons[trigger][row]`` is the
    reason of each request.
    """
    out: dict[str, list] = {k: [] for k in ("row", "parent", "level", "region_code", "department_code", "reason",
                                            "supervisor", "created", "due", "status", "answered", "answer")}
    requested = np.zeros(len(b["created"]), dtype=bool)
    for key in TRIGGERS:
        requested |= b[key] >= 0
    rows = np.flatnonzero(requested)
    if not len(rows):
        return out
    # the due time of every request: 2 working days later
    due_of = {}
    for key in TRIGGERS:
        t = b[key][rows]
        starts = np.where(t >= 0, t, np.iinfo(np.int64).min).astype("datetime64[s]")  # NaT where none
        due = add_working_days_array(starts, DEFAULT_ALLOWANCE_WORKDAYS)
        due_of[key] = np.where(t >= 0, due.astype(np.int64), -1)

    dept = b["dept"]
    handler = b["level"]
    closed = np.where(b["status"] == 1, b["closed_at"], -1)  # outcomes.STATUS_CLOSED
    grid = b["grid"]
    dept_codes = places.dept_codes

    def fate(i: int, level: str, created: int, due: int, stuck: bool) -> tuple[float, str, float]:
        """When the row would be answered (math.inf: never), the answer, and when it would escalate."""
        escalate_at = (due + int(rng.integers(*ESCALATION_DELAY_S))) if next_level(level) else math.inf
        u = rng.random()
        p_on = ON_TIME_SHARE[level] - (STUCK_PENALTY if stuck else 0.0)
        if u < p_on:
            at = created + int(rng.beta(1.6, 2.4) * (due - created))
            shifted = _daytime(at, rng)
            at, text = (shifted if shifted <= due else at), ANSWERS[int(rng.integers(len(ANSWERS)))]
        elif u < p_on + LATE_SHARE or level == "city":  # the city is answered in the end
            at = due + int(rng.lognormal(math.log(CITY_LATE_MEDIAN_S if level == "city" else 20 * H), 0.8))
            at, text = _daytime(at, rng), LATE_ANSWERS[int(rng.integers(len(LATE_ANSWERS)))]
        else:
            at, text = math.inf, ""
        if created < closed[i] < at:  # answered, at the latest, soon after the appeal is closed
            at, text = closed[i] + int(600 + rng.random() * 2 * H), CLOSING_ANSWER
        return at, text, escalate_at

    for k, i in enumerate(rows.tolist()):
        g = int(grid[i])
        region = _regions(places, g)
        who = _supervisors(places, g)
        dept_code = dept_codes[dept[i]] if dept[i] >= 0 else None
        base = SUPERVISING_LEVEL[handler[i]] if handler[i] >= 0 else UNKNOWN_HANDLER_LEVEL
        stuck = bool(b["sup_escalate"][i] >= 0)
        requests = sorted((int(b[key][i]), n, key) for n, key in enumerate(TRIGGERS) if b[key][i] >= 0)
        pending: dict[int, tuple[float, str, float]] = {}  # open row -> its fate
        cur = -1  # the open row of this appeal

        def add(level: str, created: int, due: int, reason: str, supervisor: str, parent: int) -> int:
            out["row"].append(i)
            out["parent"].append(parent)
            out["level"].append(level)
            out["region_code"].append(region[level])
            out["department_code"].append(dept_code)
            out["reason"].append(reason)
            out["supervisor"].append(supervisor)
            out["created"].append(created)
            out["due"].append(due)
            out["status"].append("open")
            out["answered"].append(-1)
            out["answer"].append(None)
            idx = len(out["row"]) - 1
            pending[idx] = fate(i, level, created, due, stuck)
            return idx

        def advance(cur: int, until: int) -> int:
            """Answers and escalations of the open row up to ``until``; the open row after them."""
            while cur >= 0:
                answer_at, text, escalate_at = pending[cur]
                if answer_at <= until and answer_at < escalate_at:
                    out["status"][cur], out["answered"][cur], out["answer"][cur] = "answered", int(answer_at), text
                    return -1
                if escalate_at > until:
                    return cur
                out["status"][cur] = "escalated"
                allowance = out["due"][cur] - out["created"][cur]
                reason = out["reason"][cur]
                root = reason[len(ESCALATION_PREFIX):] if reason.startswith(ESCALATION_PREFIX) else reason
                at = int(escalate_at)
                cur = add(next_level(out["level"][cur]), at, at + allowance, ESCALATION_PREFIX + root, SYSTEM_ACTOR,
                          cur)
            return cur

        for t, _, key in requests:
            cur = advance(cur, t)
            level = "city" if key == "sup_escalate" else base
            if cur >= 0 and LEVEL_ORDER.index(out["level"][cur]) >= LEVEL_ORDER.index(level):
                continue  # already under an open supervision at this level or above
            if cur >= 0:
                out["status"][cur] = "escalated"
            cur = add(level, t, int(due_of[key][k]), reasons[key][i], who[level], cur)
        advance(cur, end_s)
    return out


def write_supervisions(engine: Engine, appeal_ids: list[str], plan: dict[str, list], first_id: int,
                       stamp: dt.datetime) -> int:
    """Insert a chunk's rows with ids ``first_id``, ``first_id + 1``, …; returns the count."""
    n = len(plan["row"])
    if not n:
        return 0

    def when(s: int):
        return None if s < 0 else dt.datetime(1970, 1, 1) + dt.timedelta(seconds=int(s))

    rows = (
        (first_id + k, appeal_ids[plan["row"][k]], plan["level"][k], plan["region_code"][k],
         plan["department_code"][k], plan["reason"][k], plan["supervisor"][k], when(plan["created"][k]),
         when(plan["due"][k]), plan["status"][k], when(plan["answered"][k]), plan["answer"][k],
         first_id + plan["parent"][k] if plan["parent"][k] >= 0 else None, stamp)
        for k in range(n)
    )
    return bulk_insert(engine, supervisions, COLUMNS, rows)


def finish_ids(engine: Engine) -> None:
    """After inserting explicit ids: move PostgreSQL's id sequence past them (other databases do it themselves)."""
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as conn:
        top = conn.execute(select(func.max(supervisions.c.id))).scalar()
        if top is not None:
            conn.execute(select(func.setval(func.pg_get_serial_sequence("supervisions", "id"), top)))


# the handling levels' order must match the mapping above
assert tuple(cat.HANDLING_LEVELS) == ("grid", "community", "street", "district", "city")
