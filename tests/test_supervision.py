"""督办 (supervision): writes on the system of record, escalation with a controlled clock,
the reads on the analytics copy, and the seeded demo's supervisions.

The writes run on SQLite, PostgreSQL and MariaDB (``any_sor``; the servers
skip when unreachable). The clock is the ``now`` argument; ``updated_at`` is
the wall clock, so the sync picks the writes up.
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
from sqlalchemy import func, select

from data_access import analytics, schema, sync
from data_access.clock import local_now
from data_access.runner import run
from data_access.scope import Period, Scope
from data_access.store import bulk_insert, make_engine
from data_access.supervision import (ESCALATION_PREFIX, SYSTEM_ACTOR, SupervisionError, answer, default_due_at,
                                     escalate_overdue, supervise)
from data_access.supervision_queries import (STATS_COLUMNS, open_supervisions, supervision_stats, supervisions_of,
                                             unsatisfied_candidates)
from tests.conftest import CITY_TZ, insert_appeals, insert_regions, synced_store, ts

EAST, WEST = "101001001001", "102001001001"  # grids of 东街道 (东区) and 西街道 (西区)
OLD = ts("2026-01-01 00:00")  # the appeals' updated_at before any supervision
T = ts("2026-03-03 09:00")  # a Tuesday
DEPARTMENTS = [("D1", "东区城管局", "district", "101"), ("D2", "西区住建局", "district", "102"),
               ("D3", "东街道办事处", "street", "101001")]


LEVEL_NAMES = {"street": "街道", "district": "区", "city": "市"}


def _departments(engine) -> None:
    bulk_insert(engine, schema.departments, ["code", "name", "level", "region_code", "updated_at"],
                [(*d, OLD) for d in DEPARTMENTS])


def _appeals() -> list[dict]:
    return [
        dict(appeal_id="A1", created_at=ts("2026-03-01 10:00"), grid_code=EAST, department_code="D1"),
        dict(appeal_id="A2", created_at=ts("2026-03-01 11:00"), grid_code=WEST, department_code="D2"),
        dict(appeal_id="A3", created_at=ts("2026-02-20 10:00"), status="closed", closed_at=ts("2026-02-25 10:00"),
             satisfaction="satisfied", rated_at=ts("2026-02-26 10:00"), department_code="D1"),
        dict(appeal_id="A4", created_at=ts("2026-02-20 11:00"), status="closed", closed_at=ts("2026-02-25 10:00"),
             satisfaction="unsatisfied", rated_at=ts("2026-02-26 10:00"), department_code="D3"),
        dict(appeal_id="A5", created_at=ts("2026-03-01 12:00"), status="cancelled", closed_at=ts("2026-03-01 13:00")),
        dict(appeal_id="A6", created_at=ts("2026-03-02 09:00"), grid_code=WEST, department_code="D2"),
    ]


@pytest.fixture
def db(any_sor):
    insert_regions(any_sor, updated_at=OLD)
    _departments(any_sor)
    insert_appeals(any_sor, _appeals(), updated_at=OLD)
    return any_sor


def _rows(engine, table, order=None):
    with engine.connect() as conn:
        stmt = select(table).order_by(order if order is not None else list(table.primary_key.columns)[0])
        return [r._asdict() for r in conn.execute(stmt)]


def _supervisions(engine):
    return {r["id"]: r for r in _rows(engine, schema.supervisions)}


def _events(engine, appeal_id, kind=None):
    return [e for e in _rows(engine, schema.appeal_events) if e["appeal_id"] == appeal_id
            and (kind is None or e["event_type"] == kind)]


def _appeal(engine, appeal_id):
    return next(r for r in _rows(engine, schema.appeals) if r["appeal_id"] == appeal_id)


def _snapshot(engine):
    return (_rows(engine, schema.supervisions), _rows(engine, schema.appeal_events), _rows(engine, schema.audit_log),
            [(r["appeal_id"], r["is_supervised"], r["updated_at"]) for r in _rows(engine, schema.appeals)])


def _supervise(engine, ids, level="street", now=T, due=None, **kw):
    kw.setdefault("reason", "超期未办结，督促加快办理")
    kw.setdefault("supervisor", "东区指挥中心王科长")
    return supervise(engine, ids, level=level, due_at=due or default_due_at(now), now=now, **kw)


# ------------------------------------------------------------------ writes ---

def test_supervise_one_writes_row_event_audit_and_stamps(db):
    before = local_now(CITY_TZ).replace(microsecond=0)
    due = ts("2026-03-05 09:00")
    assert default_due_at(T) == due  # two working days
    [sid] = _supervise(db, ["A1"], due=due)
    s = _supervisions(db)[sid]
    assert (s["appeal_id"], s["level"], s["region_code"], s["department_code"]) == ("A1", "street", "101001", "D1")
    assert (s["created_at"], s["due_at"], s["status"], s["escalated_from"]) == (T, due, "open", None)
    assert s["reason"] == "超期未办结，督促加快办理" and s["supervisor"] == "东区指挥中心王科长"
    assert s["answered_at"] is None and s["updated_at"] >= before
    [e] = _events(db, "A1", "supervise")
    assert e["event_at"] == T and e["actor"] == "东区指挥中心王科长"
    assert "街道" in e["note"] and "超期未办结" in e["note"] and "2026-03-05 09:00" in e["note"]
    [audit] = _rows(db, schema.audit_log)
    assert (audit["action"], audit["target"], audit["actor"], audit["region_code"], audit["at"]) == (
        "supervise", "A1", "东区指挥中心王科长", "101001", T)
    assert json.loads(audit["detail"])["supervision_id"] == sid
    a1 = _appeal(db, "A1")
    assert a1["is_supervised"] and a1["updated_at"] >= before
    assert not _appeal(db, "A2")["is_supervised"] and _appeal(db, "A2")["updated_at"] == OLD


def test_supervise_a_batch_at_each_level(db):
    ids = _supervise(db, ["A2", "A4", "A2"], level="district", supervisor="区督查室")  # A2 twice: once
    assert len(ids) == 2 and ids[0] < ids[1]
    rows = _supervisions(db)
    assert [(rows[i]["appeal_id"], rows[i]["region_code"], rows[i]["department_code"]) for i in ids] == [
        ("A2", "102", "D2"), ("A4", "101", "D3")]  # A4: closed, rated 不满意, on the default (东) grid
    [city] = _supervise(db, ["A6"], level="city", supervisor="市8890督查室")
    assert _supervisions(db)[city]["region_code"] == "100"
    assert {a["target"] for a in _rows(db, schema.audit_log)} == {"A2", "A4", "A6"}
    assert all(_appeal(db, a)["is_supervised"] for a in ("A2", "A4", "A6"))
    assert len(_events(db, "A2", "supervise")) == 1


def test_writes_reach_the_analytics_copy_at_the_next_sync(db):
    con = analytics.open_store(None)
    first = sync.sync(db, con)
    [sid] = _supervise(db, ["A1"])
    result = sync.sync(db, con)
    assert result.supervisions_copied == 1 and result.appeals_copied == 1 and result.version == first.version + 1
    f = analytics.facts
    flag = run(con, select(f.c.is_supervised).where(f.c.appeal_id == "A1"))["is_supervised"].iloc[0]
    assert bool(flag)
    shown = supervisions_of(con, "A1")
    assert shown["id"].tolist() == [sid] and shown["status"].tolist() == ["open"]
    assert shown["department_name"].tolist() == ["东区城管局"] and shown["region_name"].tolist() == ["东街道"]
    answer(db, sid, answer="已派人现场处理", actor="东区城管局张三", now=T + dt.timedelta(hours=3))
    assert sync.sync(db, con).supervisions_copied == 1
    assert supervisions_of(con, "A1")["status"].tolist() == ["answered"]
    assert sync.sync(db, con).supervisions_copied == 0  # unchanged: not copied again


@pytest.mark.parametrize("ids, level, due, kw, message", [
    (["A1", "A3"], "street", None, {}, "A3已办结"),           # closed, rated 满意
    (["A5"], "street", None, {}, "A5已撤销"),
    (["A1", "NOPE"], "street", None, {}, "NOPE不存在"),
    (["A1"], "province", None, {}, "督办级别"),
    (["A1"], "street", T - dt.timedelta(minutes=1), {}, "答复期限"),
    (["A1"], "street", T, {}, "答复期限"),
    (["A1"], "street", None, {"reason": "  "}, "督办原因"),
    (["A1"], "street", None, {"supervisor": ""}, "督办人"),
    ([], "street", None, {}, "请选择"),
])
def test_refusals_change_nothing(db, ids, level, due, kw, message):
    before = _snapshot(db)
    with pytest.raises(SupervisionError, match=message):
        _supervise(db, ids, level=level, due=due, **kw)
    assert _snapshot(db) == before


@pytest.mark.attack("jurisdiction")
@pytest.mark.parametrize("allowed, level, words", [
    (("street",), "district", "不能发起区级督办：督办只能在本级及以下发起，本账号可发起街道级督办"),
    (("street",), "city", "不能发起市级督办：督办只能在本级及以下发起，本账号可发起街道级督办"),
    (("street", "district"), "city", "不能发起市级督办：督办只能在本级及以下发起，本账号可发起街道级、区级督办"),
    ((), "street", "本账号不能督办"),
])
def test_a_level_above_the_accounts_own_is_refused_and_nothing_is_written(db, allowed, level, words):
    before = _snapshot(db)
    with pytest.raises(SupervisionError, match=words):
        _supervise(db, ["A1", "A2"], level=level, allowed_levels=allowed)
    assert _snapshot(db) == before


def test_an_account_supervises_at_its_own_level_or_below(db):
    district = ("street", "district")
    (a1,) = _supervise(db, ["A1"], level="district", allowed_levels=district)
    (a2,) = _supervise(db, ["A2"], level="street", allowed_levels=district)
    assert {k: v["level"] for k, v in _supervisions(db).items()} == {a1: "district", a2: "street"}


def test_an_open_supervision_at_the_same_or_a_higher_level_is_refused(db):
    [sid] = _supervise(db, ["A1"], level="district")
    before = _snapshot(db)
    for level in ("street", "district"):
        with pytest.raises(SupervisionError) as err:
            _supervise(db, ["A6", "A1"], level=level)  # A6 alone would be fine: all or nothing
        assert f"A1已有待答复的区级督办 #{sid}" in str(err.value)
        assert [p[0] for p in err.value.problems] == ["A1"]
        assert _snapshot(db) == before
    # a higher level replaces the open one
    [city] = _supervise(db, ["A1"], level="city", now=T + dt.timedelta(hours=1))
    rows = _supervisions(db)
    assert rows[sid]["status"] == "escalated" and rows[city]["escalated_from"] == sid
    assert rows[city]["status"] == "open"
    # answered: a new supervision is allowed again
    answer(db, city, answer="已督促办理", actor="市城管局", now=T + dt.timedelta(hours=2))
    assert _supervise(db, ["A1"], level="street", now=T + dt.timedelta(hours=3))


def test_answer(db):
    [sid] = _supervise(db, ["A2"])
    with pytest.raises(SupervisionError, match="答复内容"):
        answer(db, sid, answer=" ", actor="西区住建局", now=T + dt.timedelta(hours=1))
    with pytest.raises(SupervisionError, match="早于督办时间"):
        answer(db, sid, answer="已处理", actor="西区住建局", now=T - dt.timedelta(hours=1))
    answer(db, sid, answer="已处理完毕", actor="西区住建局李四", now=T + dt.timedelta(hours=5))
    s = _supervisions(db)[sid]
    assert (s["status"], s["answered_at"], s["answer"]) == ("answered", T + dt.timedelta(hours=5), "已处理完毕")
    [e] = _events(db, "A2", "answer")
    assert e["actor"] == "西区住建局李四" and "已处理完毕" in e["note"] and "逾期" not in e["note"]
    assert [a["action"] for a in _rows(db, schema.audit_log)] == ["supervise", "answer"]
    before = _snapshot(db)
    with pytest.raises(SupervisionError, match="已于"):
        answer(db, sid, answer="再答复", actor="西区住建局", now=T + dt.timedelta(hours=6))
    with pytest.raises(SupervisionError, match="不存在"):
        answer(db, 999_999, answer="x", actor="y", now=T)
    assert _snapshot(db) == before


# -------------------------------------------------------------- escalation ---

def test_escalation_with_a_controlled_clock(db):
    due = ts("2026-03-05 09:00")
    [street] = _supervise(db, ["A1"], due=due, reason="超期未办结")
    [answered] = _supervise(db, ["A2"], due=due)
    [late] = _supervise(db, ["A6"], due=due)
    answer(db, answered, answer="已办理", actor="西区住建局", now=ts("2026-03-04 10:00"))

    assert escalate_overdue(db, now=ts("2026-03-05 08:59")) == []
    assert escalate_overdue(db, now=due) == []  # due by then: not yet overdue
    answer(db, late, answer="已办理（逾期）", actor="西区住建局", now=ts("2026-03-05 09:00:30"))  # before the job ran
    before = _snapshot(db)

    [(old, district)] = escalate_overdue(db, now=ts("2026-03-05 09:01"))
    assert old == street
    rows = _supervisions(db)
    assert rows[street]["status"] == "escalated"
    d = rows[district]
    assert (d["appeal_id"], d["level"], d["region_code"], d["department_code"], d["escalated_from"]) == (
        "A1", "district", "101", "D1", street)
    assert (d["created_at"], d["due_at"], d["status"]) == (ts("2026-03-05 09:01"), ts("2026-03-07 09:01"), "open")
    assert d["supervisor"] == SYSTEM_ACTOR and d["reason"] == ESCALATION_PREFIX + "超期未办结"
    [e] = _events(db, "A1", "escalate")
    assert e["event_at"] == ts("2026-03-05 09:01") and e["actor"] == SYSTEM_ACTOR
    assert f"#{street}" in e["note"] and f"#{district}" in e["note"]
    audit = [a for a in _rows(db, schema.audit_log) if a["action"] == "escalate"]
    assert [(a["target"], a["region_code"], json.loads(a["detail"])["escalated_from"]) for a in audit] == [
        ("A1", "101", street)]
    assert len(_snapshot(db)[1]) == len(before[1]) + 1  # one event, nothing for the answered ones

    # not twice, at the same time or a little later
    after = _snapshot(db)
    assert escalate_overdue(db, now=ts("2026-03-05 09:01")) == []
    assert escalate_overdue(db, now=ts("2026-03-05 09:30")) == []
    assert _snapshot(db)[:3] == after[:3]

    # the district one escalates after its own allowance (2 days), to the city
    assert escalate_overdue(db, now=ts("2026-03-07 09:01")) == []
    [(old2, city)] = escalate_overdue(db, now=ts("2026-03-07 09:02"))
    assert old2 == district
    c = _supervisions(db)[city]
    assert (c["level"], c["region_code"], c["escalated_from"], c["due_at"]) == (
        "city", "100", district, ts("2026-03-09 09:02"))
    assert c["reason"] == ESCALATION_PREFIX + "超期未办结"  # the prefix is not repeated
    # a city-level supervision cannot go higher: it stays open, and shows as overdue
    assert escalate_overdue(db, now=ts("2026-03-20 09:00")) == []
    rows = _supervisions(db)
    assert rows[city]["status"] == "open"
    assert rows[answered]["status"] == "answered" and rows[late]["status"] == "answered"
    con = synced_store(db)
    shown = open_supervisions(con, Scope.whole(), ts("2026-03-20 09:00"))
    assert shown["id"].tolist() == [city] and shown["overdue"].tolist() == [True]
    assert shown["hours_to_due"].iloc[0] == pytest.approx(-(11 * 24 - 2 / 60))
    chain = supervisions_of(con, "A1", as_of=ts("2026-03-06 12:00"))
    assert chain["id"].tolist() == [street, district]
    assert chain["status"].tolist() == ["escalated", "open"] and chain["escalated_to"].tolist()[0] == district
    # an escalated supervision is answered through the one that replaced it
    with pytest.raises(SupervisionError, match=f"#{city}"):
        answer(db, district, answer="x", actor="东区城管局", now=ts("2026-03-20 10:00"))


def test_escalate_command(db):
    from data_access.cli import main

    [sid] = _supervise(db, ["A1"])
    url = db.url.render_as_string(hide_password=False)
    assert main(["escalate", "--db", url, "--now", "2026-03-05T08:00"]) == 0
    assert _supervisions(db)[sid]["status"] == "open"
    assert main(["escalate", "--db", url, "--now", "2026-03-05T10:00"]) == 0
    assert _supervisions(db)[sid]["status"] == "escalated"


# -------------------------------------------------------------- statistics ---
# As of 2026-03-20 12:00, period March 2026. Chains (root → continuation):
#
#  appeal street  dept  root created  root due     what happens                           counts as
#  S1     东      D1    03-02 09:00   03-04 09:00  answered 03-03 10:00                   on time
#  S2     东      D1    03-02 09:00   03-04 09:00  answered 03-04 15:00                   late
#  S3     东      D2    03-05 09:00   03-09 09:00  → district 03-09 09:05, answered 03-10  late, escalated
#  S4     西      D2    03-10 09:00   03-12 09:00  → city 03-12 09:05 (open, overdue)      open (due), escalated
#  S5     西      D1    03-19 09:00   03-21 09:00  open                                   open (not due)
#  S6     西      D2    02-20 09:00   02-24 09:00  before the period                      -
#  S7     东      D1    03-18 09:00   03-20 09:00  answered 03-21 (after as-of)           open (due)
#  S8     东      D2    03-25 09:00   03-27 09:00  after as-of                            -
#  S9     西      D2    03-18 09:00   03-20 09:00  → district 03-20 13:00 (after as-of)   open (due), not escalated
#  U2     东      D1    03-11 09:00   03-13 09:00  city, open                             open (due)
#  U3     西      D2    03-04 09:00   03-06 09:00  answered 03-05 09:00                   on time
#
#                 supervised  on time  late  open  escalated  due  on_time_rate
# whole, by department
#   D1            5           1        1     3     0          4    1/4   (S1 S2 S5 S7 U2)
#   D2            4           1        1     2     2          4    1/4   (S3 S4 S9 U3)  first: more escalated
# 东街道 (101001) only, by department
#   D1            4           1        1     2     0          4    1/4   (S1 S2 S7 U2)
#   D2            1           0        1     0     1          1    0     (S3)           first
# whole, by street
#   东 101001     5           1        2     2     1          5    1/5   (S1 S2 S3 S7 U2) first
#   西 102001     4           1        0     3     1          3    1/3   (S4 S5 S9 U3)

AS_OF = ts("2026-03-20 12:00")
MARCH = Period(ts("2026-03-01 00:00"), ts("2026-04-01 00:00"))
SUP_COLUMNS = ("id", "appeal_id", "level", "region_code", "department_code", "reason", "supervisor", "created_at",
               "due_at", "status", "answered_at", "answer", "escalated_from", "updated_at")


def _sup(id_, appeal, level, dept, created, due, status, answered=None, parent=None):
    region = {"street": "101001" if appeal in ("S1", "S2", "S3", "S7", "S8") else "102001",
              "district": "101" if appeal in ("S1", "S2", "S3", "S7", "S8") else "102", "city": "100"}[level]
    return (id_, appeal, level, region, dept, "督办", "督办员", ts(created), ts(due), status,
            ts(answered) if answered else None, "已答复" if answered else None, parent, OLD)


HAND_SUPERVISIONS = [
    _sup(1, "S1", "street", "D1", "2026-03-02 09:00", "2026-03-04 09:00", "answered", "2026-03-03 10:00"),
    _sup(2, "S2", "street", "D1", "2026-03-02 09:00", "2026-03-04 09:00", "answered", "2026-03-04 15:00"),
    _sup(3, "S3", "street", "D2", "2026-03-05 09:00", "2026-03-09 09:00", "escalated"),
    _sup(4, "S3", "district", "D2", "2026-03-09 09:05", "2026-03-13 09:05", "answered", "2026-03-10 10:00", 3),
    _sup(5, "S4", "district", "D2", "2026-03-10 09:00", "2026-03-12 09:00", "escalated"),
    _sup(6, "S4", "city", "D2", "2026-03-12 09:05", "2026-03-14 09:05", "open", None, 5),
    _sup(7, "S5", "street", "D1", "2026-03-19 09:00", "2026-03-21 09:00", "open"),
    _sup(8, "S6", "street", "D2", "2026-02-20 09:00", "2026-02-24 09:00", "answered", "2026-02-21 09:00"),
    _sup(9, "S7", "street", "D1", "2026-03-18 09:00", "2026-03-20 09:00", "answered", "2026-03-21 09:00"),
    _sup(10, "S8", "street", "D2", "2026-03-25 09:00", "2026-03-27 09:00", "open"),
    _sup(11, "S9", "street", "D2", "2026-03-18 09:00", "2026-03-20 09:00", "escalated"),
    _sup(12, "S9", "district", "D2", "2026-03-20 13:00", "2026-03-22 13:00", "open", None, 11),
]

UNSATISFIED = [  # unsatisfied_candidates: U1 and U3 are candidates
    dict(appeal_id="U1", created_at=ts("2026-03-02 09:00"), status="closed", closed_at=ts("2026-03-05 09:00"),
         satisfaction="unsatisfied", rated_at=ts("2026-03-10 09:00"), department_code="D1"),
    dict(appeal_id="U2", created_at=ts("2026-03-02 10:00"), status="closed", closed_at=ts("2026-03-05 09:00"),
         satisfaction="unsatisfied", rated_at=ts("2026-03-10 10:00"), department_code="D1", is_supervised=True),
    dict(appeal_id="U3", created_at=ts("2026-03-02 11:00"), status="closed", closed_at=ts("2026-03-09 09:00"),
         satisfaction="unsatisfied", rated_at=ts("2026-03-11 09:00"), department_code="D2", is_supervised=True,
         grid_code=WEST),
    dict(appeal_id="U4", created_at=ts("2026-03-02 12:00"), status="closed", closed_at=ts("2026-03-05 09:00"),
         satisfaction="satisfied", rated_at=ts("2026-03-10 09:00")),
    dict(appeal_id="U5", created_at=ts("2026-03-02 13:00"), status="closed", closed_at=ts("2026-03-18 09:00"),
         satisfaction="unsatisfied", rated_at=ts("2026-03-20 13:00")),
    dict(appeal_id="U6", created_at=ts("2026-02-20 13:00"), status="closed", closed_at=ts("2026-02-22 09:00"),
         satisfaction="unsatisfied", rated_at=ts("2026-02-23 13:00")),
]
UNSATISFIED_SUPERVISIONS = [
    (20, "U2", "city", "100", "D1", "回访不满意", "督查室", ts("2026-03-11 09:00"), ts("2026-03-13 09:00"), "open",
     None, None, None, OLD),
    (21, "U3", "street", "102001", "D2", "超期", "督办组", ts("2026-03-04 09:00"), ts("2026-03-06 09:00"), "answered",
     ts("2026-03-05 09:00"), "已答复", None, OLD),
]


# the appeals' own fields, for the warning page's filters: each appeal's department is its root's
HAND_DEPARTMENTS = {"S1": "D1", "S2": "D1", "S3": "D2", "S4": "D2", "S5": "D1", "S6": "D2", "S7": "D1", "S8": "D2",
                    "S9": "D2"}
HEATING = "供暖"
HEATING_APPEALS = {"S3", "S4", "S5", "S7"}
WEB_APPEALS = {"S1", "S4", "S9"}


@pytest.fixture
def hand(any_sor):
    insert_regions(any_sor, updated_at=OLD)
    _departments(any_sor)
    east = {"S1", "S2", "S3", "S7", "S8"}
    insert_appeals(any_sor, [dict(appeal_id=f"S{i}", created_at=ts("2026-02-15 09:00"),
                                  grid_code=EAST if f"S{i}" in east else WEST,
                                  department_code=HAND_DEPARTMENTS[f"S{i}"],
                                  category=HEATING if f"S{i}" in HEATING_APPEALS else "城市管理",
                                  channel="web" if f"S{i}" in WEB_APPEALS else "hotline") for i in range(1, 10)]
                   + UNSATISFIED, updated_at=OLD)
    bulk_insert(any_sor, schema.supervisions, SUP_COLUMNS, HAND_SUPERVISIONS + UNSATISFIED_SUPERVISIONS)
    return any_sor


def _table(df):
    return {r["code"]: tuple(r[c] for c in STATS_COLUMNS[1:-2]) + (round(r["on_time_rate"], 6),)
            for r in df.to_dict("records")}


def test_statistics_on_a_hand_made_set(hand):
    con = synced_store(hand)
    whole = supervision_stats(con, Scope.whole(), MARCH, AS_OF, by="department")
    assert list(whole.columns) == list(STATS_COLUMNS)
    assert _table(whole) == {"D1": ("东区城管局", 5, 1, 1, 3, 0, 0.25),
                             "D2": ("西区住建局", 4, 1, 1, 2, 2, 0.25)}
    assert whole["code"].tolist() == ["D2", "D1"]  # the same rate: more escalated first
    east = supervision_stats(con, Scope("101001", "street"), MARCH, AS_OF, by="department")
    assert _table(east) == {"D1": ("东区城管局", 4, 1, 1, 2, 0, 0.25),
                            "D2": ("西区住建局", 1, 0, 1, 0, 1, 0.0)}
    assert east["code"].tolist() == ["D2", "D1"]  # worst first
    by_street = supervision_stats(con, Scope.whole(), MARCH, AS_OF, by="street")
    assert _table(by_street) == {"101001": ("东街道", 5, 1, 2, 2, 1, 0.2),
                                 "102001": ("西街道", 4, 1, 0, 3, 1, round(1 / 3, 6))}
    assert by_street["code"].tolist() == ["101001", "102001"]
    assert by_street["parent"].tolist() == ["东区", "西区"]  # a street's district tells same-named streets apart
    # judged earlier: on 03-10 12:00 S4's root is not due yet, S3 has escalated, nothing after is known
    early = supervision_stats(con, Scope.whole(), MARCH, ts("2026-03-10 12:00"), by="street")
    assert _table(early) == {"101001": ("东街道", 3, 1, 2, 0, 1, round(1 / 3, 6)),
                             "102001": ("西街道", 2, 1, 0, 1, 0, 1.0)}
    assert supervision_stats(con, Scope("999", "district"), MARCH, AS_OF, by="street").empty
    with pytest.raises(ValueError):
        supervision_stats(con, Scope.whole(), MARCH, AS_OF, by="grid")

    # the same figures straight from the system of record, through its views
    from data_access.sor_views import ensure_views
    ensure_views(hand)
    with hand.connect() as conn:
        direct = supervision_stats(conn, Scope.whole(), MARCH, AS_OF, by="street")
    pd.testing.assert_frame_equal(direct, by_street, check_dtype=False)


def test_open_supervisions_and_history(hand):
    con = synced_store(hand)
    shown = open_supervisions(con, Scope.whole(), AS_OF)
    # open at as-of, overdue first by due time: 20 (U2, city, 03-13), 6 (S4, city, 03-14), 9 (S7, answered only
    # after as-of) and 11 (S9, escalated only after as-of), both due 03-20 09:00; then 7 (S5, due 03-21)
    assert shown["id"].tolist() == [20, 6, 9, 11, 7]
    assert shown["overdue"].tolist() == [True, True, True, True, False]
    assert shown.set_index("id").loc[6, "region_name"] == "测试市"
    assert shown.set_index("id").loc[9, "street_name"] == "东街道"
    assert shown.set_index("id").loc[7, "hours_to_due"] == pytest.approx(21.0)
    assert not {"appellant_name", "appellant_phone", "address", "summary"} & set(shown.columns)
    assert open_supervisions(con, Scope("101", "district"), AS_OF)["id"].tolist() == [20, 9]
    assert open_supervisions(con, Scope.whole(), AS_OF, limit=2)["id"].tolist() == [20, 6]

    s3 = supervisions_of(con, "S3")
    assert s3["id"].tolist() == [3, 4] and s3["status"].tolist() == ["escalated", "answered"]
    assert s3["escalated_to"].tolist()[0] == 4 and s3["on_time"].tolist()[1] == True  # noqa: E712
    s7 = supervisions_of(con, "S7", as_of=AS_OF)
    assert s7["status"].tolist() == ["open"] and s7["overdue"].tolist() == [True]
    assert pd.isna(s7["answered_at"].iloc[0]) and pd.isna(s7["answer"].iloc[0])
    assert supervisions_of(con, "S7")["status"].tolist() == ["answered"]
    s9 = supervisions_of(con, "S9", as_of=AS_OF)
    assert s9["id"].tolist() == [11] and s9["status"].tolist() == ["open"] and pd.isna(s9["escalated_to"].iloc[0])
    assert supervisions_of(con, "nothing").empty


# -------------------------------------------------------- the page's filters ---
# The same chains, kept when their appeal passes the filters (as of 03-20 12:00, March):
#
#  category 供暖 (S3 S4 S5 S7)     supervised  on time  late  open  escalated  due  rate
#    by department  D2 (S3 S4)     2           0        1     1     2          2    0     first: more escalated
#                   D1 (S5 S7)     2           0        0     2     0          1    0     (S5 not due)
#    by street      西 (S4 S5)     2           0        0     2     1          1    0     first: more open
#                   东 (S3 S7)     2           0        1     1     1          2    0
#    open at as-of: 6 (S4, overdue 03-14), 9 (S7, overdue 03-20), 7 (S5, due 03-21); not 20 (U2), 11 (S9)
#  channel web (S1 S4 S9)
#    by street      西 (S4 S9)     2           0        0     2     1          2    0     first
#                   东 (S1)        1           1        0     0     0          1    1
#    open at as-of: 6 (S4), 11 (S9)
#  street 东 and category 供暖 (S3 S7)
#    by department  D2 (S3)        1           0        1     0     1          1    0     first
#                   D1 (S7)        1           0        0     1     0          1    0
#    open at as-of: 9
#  department D2 (the appeal's: S3 S4 S9, and U3)
#    by street      东 (S3)        1           0        1     0     1          1    0     first
#                   西 (S4 S9 U3)  3           1        0     2     1          3    1/3
#    unsatisfied candidates: U3 (U1's department is D1)

def test_the_warning_pages_filters_bound_every_supervision_figure(hand):
    con = synced_store(hand)
    heating = {"category": HEATING}
    by_dept = supervision_stats(con, Scope.whole(), MARCH, AS_OF, by="department", filters=heating)
    assert _table(by_dept) == {"D2": ("西区住建局", 2, 0, 1, 1, 2, 0.0), "D1": ("东区城管局", 2, 0, 0, 2, 0, 0.0)}
    assert by_dept["code"].tolist() == ["D2", "D1"]
    by_street = supervision_stats(con, Scope.whole(), MARCH, AS_OF, by="street", filters=heating)
    assert _table(by_street) == {"102001": ("西街道", 2, 0, 0, 2, 1, 0.0), "101001": ("东街道", 2, 0, 1, 1, 1, 0.0)}
    assert by_street["code"].tolist() == ["102001", "101001"]
    assert open_supervisions(con, Scope.whole(), AS_OF, filters=heating)["id"].tolist() == [6, 9, 7]
    assert unsatisfied_candidates(con, Scope.whole(), MARCH, AS_OF, filters=heating).empty

    web = {"channel": "web"}
    assert _table(supervision_stats(con, Scope.whole(), MARCH, AS_OF, by="street", filters=web)) == {
        "102001": ("西街道", 2, 0, 0, 2, 1, 0.0), "101001": ("东街道", 1, 1, 0, 0, 0, 1.0)}
    assert open_supervisions(con, Scope.whole(), AS_OF, filters=web)["id"].tolist() == [6, 11]

    east_heating = {"street": "101001", "category": HEATING}
    both = supervision_stats(con, Scope.whole(), MARCH, AS_OF, by="department", filters=east_heating)
    assert _table(both) == {"D2": ("西区住建局", 1, 0, 1, 0, 1, 0.0), "D1": ("东区城管局", 1, 0, 0, 1, 0, 0.0)}
    assert both["code"].tolist() == ["D2", "D1"]
    assert open_supervisions(con, Scope.whole(), AS_OF, filters=east_heating)["id"].tolist() == [9]

    d2 = {"department": "D2"}
    assert _table(supervision_stats(con, Scope.whole(), MARCH, AS_OF, by="street", filters=d2)) == {
        "101001": ("东街道", 1, 0, 1, 0, 1, 0.0), "102001": ("西街道", 3, 1, 0, 2, 1, round(1 / 3, 6))}
    assert unsatisfied_candidates(con, Scope.whole(), MARCH, AS_OF, filters=d2)["appeal_id"].tolist() == ["U3"]

    # a district filter is the district's scope; an empty value is no filter; an unknown name is refused
    assert (open_supervisions(con, Scope.whole(), AS_OF, filters={"district": "101"})["id"].tolist()
            == open_supervisions(con, Scope("101", "district"), AS_OF)["id"].tolist() == [20, 9])
    assert open_supervisions(con, Scope.whole(), AS_OF, filters={"category": ""})["id"].tolist() == [20, 6, 9, 11, 7]
    with pytest.raises(ValueError):
        open_supervisions(con, Scope.whole(), AS_OF, filters={"appellant_phone": "138"})

    # the same figures straight from the system of record, through its views
    from data_access.sor_views import ensure_views
    ensure_views(hand)
    with hand.connect() as conn:
        direct = supervision_stats(conn, Scope.whole(), MARCH, AS_OF, by="street", filters=heating)
    pd.testing.assert_frame_equal(direct, by_street, check_dtype=False)


def test_unsatisfied_candidates(hand):
    con = synced_store(hand)
    got = unsatisfied_candidates(con, Scope.whole(), MARCH, AS_OF)
    # U2 was supervised after its rating; U4 satisfied; U5 rated after as-of; U6 received before the period
    assert got["appeal_id"].tolist() == ["U3", "U1"]
    assert got["supervised_before"].tolist() == [True, False]
    assert got.set_index("appeal_id").loc["U3", "street_name"] == "西街道"
    assert unsatisfied_candidates(con, Scope("102", "district"), MARCH, AS_OF)["appeal_id"].tolist() == ["U3"]
    assert unsatisfied_candidates(con, Scope.whole(), MARCH, ts("2026-03-10 09:30"))["appeal_id"].tolist() == ["U1"]


# -------------------------------------------------------------- the demo ---

@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    from data_access.seed import seed_demo
    from tests.test_seed import END, small_territory

    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('sup') / 'demo.db'}")
    report = seed_demo(engine, territory=small_territory(), appeals=6000, months=12, seed=5, end=END)
    yield engine, report, END
    engine.dispose()


def test_seeded_supervisions_are_consistent(seeded):
    engine, report, end = seeded
    sups = pd.DataFrame(_rows(engine, schema.supervisions))
    apps = pd.DataFrame(_rows(engine, schema.appeals)).set_index("appeal_id")
    events = pd.DataFrame(_rows(engine, schema.appeal_events))
    assert report.supervisions == len(sups) > 100
    # every supervised appeal has a supervision, and only those
    assert set(sups["appeal_id"]) == set(apps.index[apps["is_supervised"]])
    assert set(sups["status"]) == {"open", "answered", "escalated"}
    assert set(sups["level"]) == {"street", "district", "city"}
    # chains: an escalated row is continued by exactly one row of the same appeal, one level up or more
    rank = {"street": 0, "district": 1, "city": 2}
    by_id = sups.set_index("id")
    children = sups.dropna(subset=["escalated_from"])
    assert children["escalated_from"].is_unique
    assert set(children["escalated_from"].astype(int)) == set(sups.loc[sups["status"] == "escalated", "id"])
    for r in children.itertuples():
        parent = by_id.loc[int(r.escalated_from)]
        assert parent["appeal_id"] == r.appeal_id and rank[r.level] > rank[parent["level"]]
        assert r.created_at >= parent["created_at"]
        if r.supervisor == SYSTEM_ACTOR:  # automatic: after the due time, one level, the same allowance
            assert r.created_at > parent["due_at"] and rank[r.level] == rank[parent["level"]] + 1
            assert r.due_at - r.created_at == parent["due_at"] - parent["created_at"]
            assert r.reason.startswith(ESCALATION_PREFIX) and not r.reason[len(ESCALATION_PREFIX):].startswith(
                ESCALATION_PREFIX)
    assert (sups["supervisor"] == SYSTEM_ACTOR).sum() >= 5
    # at most one open supervision per appeal
    assert sups[sups["status"] == "open"]["appeal_id"].is_unique
    # nothing after the end; answers after the supervision, with a text
    assert sups["created_at"].max() <= end and sups["answered_at"].max() <= end
    answered = sups[sups["status"] == "answered"]
    assert (answered["answered_at"] >= answered["created_at"]).all() and answered["answer"].str.len().gt(0).all()
    assert sups.loc[sups["status"] != "answered", "answered_at"].isna().all()
    assert (sups["due_at"] > sups["created_at"]).all()
    # the escalation job would not have anything to do at the end (it runs every 10 minutes)
    waiting = sups[(sups["status"] == "open") & (sups["level"] != "city")]
    assert (waiting["due_at"] >= end - dt.timedelta(minutes=10)).all()
    # the event log holds what the live writes log: a supervise event for each row a person started, by its
    # supervisor, naming the row it replaces; an escalate event for each automatic escalation, naming both rows
    auto = sups["supervisor"] == SYSTEM_ACTOR
    sup_events = events[events["event_type"] == "supervise"]
    assert len(sup_events) == (~auto).sum()
    keyed = {(e.appeal_id, e.event_at, e.actor): e.note for e in sup_events.itertuples()}
    for r in sups[~auto].itertuples():
        note = keyed[(r.appeal_id, r.created_at, r.supervisor)]
        if pd.notna(r.escalated_from):
            assert note.endswith(f"级督办 #{int(r.escalated_from)} 随之升级")
    esc_events = events[events["event_type"] == "escalate"]
    assert len(esc_events) == auto.sum()
    keyed = {(e.appeal_id, e.event_at): e for e in esc_events.itertuples()}
    for r in sups[auto].itertuples():
        e = keyed[(r.appeal_id, r.created_at)]
        assert e.actor == SYSTEM_ACTOR and f"#{int(r.escalated_from)} 逾期未答复" in e.note and f"#{r.id}" in e.note
    # every answered supervision has its answer event, at its answer time, naming it, with its answer
    answers = events[events["event_type"] == "answer"]
    assert len(answers) == len(answered) > 50
    keyed = {(e.appeal_id, e.event_at): e for e in answers.itertuples()}
    for r in answered.itertuples():
        e = keyed[(r.appeal_id, r.answered_at)]
        late = "（逾期答复）" if r.answered_at > r.due_at else ""
        assert e.note == f"答复{LEVEL_NAMES[r.level]}级督办 #{r.id}{late}：{r.answer}"
        assert e.actor
    # region: the appeal's street, district or city; department: the appeal's
    grid = apps.loc[sups["appeal_id"], "grid_code"].to_numpy()
    expected = [g[:9] if lv == "street" else g[:6] if lv == "district" else "210300"
                for g, lv in zip(grid, sups["level"])]
    assert sups["region_code"].tolist() == expected
    dept = apps.loc[sups["appeal_id"], "department_code"].tolist()
    assert [a == b or (a is None and b is None) for a, b in zip(sups["department_code"], dept)] == [True] * len(sups)
    # open or closed appeals only: a closed one only when rated 不满意 before the supervision
    roots = sups[sups["escalated_from"].isna()]
    for r in roots.itertuples():
        a = apps.loc[r.appeal_id]
        if a["status"] != "open" and a["closed_at"] <= r.created_at:
            assert a["satisfaction"] == "unsatisfied" and a["rated_at"] <= r.created_at


def test_seeded_supervisions_are_deterministic(seeded, tmp_path):
    from data_access.seed import seed_demo
    from tests.test_seed import small_territory

    engine, _, end = seeded
    other = make_engine(f"sqlite:///{tmp_path / 'again.db'}")
    seed_demo(other, territory=small_territory(), appeals=6000, months=12, seed=5, end=end)
    cols = [c for c in schema.supervisions.columns if c.name != "updated_at"]

    def dump(eng):
        with eng.connect() as conn:
            return conn.execute(select(*cols).order_by(schema.supervisions.c.id)).all()

    assert dump(engine) == dump(other)
    other.dispose()


def test_seeded_statistics_add_up(seeded):
    engine, _, end = seeded
    con = synced_store(engine)
    whole = Period(end - dt.timedelta(days=400), end)
    roots = run(con, select(func.count().label("n")).where(analytics.supervisions.c.escalated_from.is_(None)))
    for by in ("department", "street"):
        stats = supervision_stats(con, Scope.whole(), whole, end, by=by)
        assert (stats["supervised"] == stats["answered_on_time"] + stats["answered_late"] + stats["open"]).all()
        assert stats["escalated"].sum() > 0 and stats["answered_on_time"].sum() > stats["answered_late"].sum()
        rates = stats["on_time_rate"].dropna().tolist()
        assert rates == sorted(rates) and 0.5 < stats["answered_on_time"].sum() / stats["supervised"].sum() < 0.95
        if by == "street":  # every appeal has a street (not every one a department)
            assert stats["supervised"].sum() == roots["n"].iloc[0]
    opened = run(con, select(func.count().label("n")).where(analytics.supervisions.c.status == "open"))["n"].iloc[0]
    assert len(open_supervisions(con, Scope.whole(), end, limit=1000)) == opened
    # the escalation job, run at the end, has at most the last 10 minutes' dues to catch up with
    due = {r["id"]: r["due_at"] for r in _rows(engine, schema.supervisions)}
    assert all(due[old] >= end - dt.timedelta(minutes=10) for old, _ in escalate_overdue(engine, now=end))


def test_live_supervisions_follow_the_seeded_ids(any_sor):
    """The seeder writes explicit ids; a live write afterwards gets the next one on every database."""
    from data_access.seed import seed_demo
    from tests.test_seed import END, small_territory

    report = seed_demo(any_sor, territory=small_territory(), appeals=1500, months=3, seed=2, end=END)
    assert report.supervisions > 0
    with any_sor.connect() as conn:
        top = conn.execute(select(func.max(schema.supervisions.c.id))).scalar_one()
        held = select(schema.supervisions.c.appeal_id).where(schema.supervisions.c.status == "open")
        free = conn.execute(select(schema.appeals.c.appeal_id)
                            .where(schema.appeals.c.status == "open", schema.appeals.c.appeal_id.not_in(held))
                            .order_by(schema.appeals.c.appeal_id).limit(1)).scalar_one()
    [sid] = _supervise(any_sor, [free], now=END, due=END + dt.timedelta(days=2))
    assert sid == top + 1
