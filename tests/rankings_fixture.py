"""A tiny city for the 红黑榜, with figures computed by hand.

Territory: 测试市 (100) with 东区 (101) and 西区 (102); streets 东街道 (101001),
新华街道 (101002), 新华街道 (102001: the same name in the other district),
西街道 (102002). Appeals sit directly in their street (levels may be skipped).
Departments: 东区城市管理局 (101-CG, district), 西区城市管理局 (102-CG,
district), 测试市供暖办 (100-GN, city), 东街道办事处 (101001-BSC, street).

The period is October 2026 judged at 2026-11-01 00:00; the previous period
(环比) is September judged at 2026-10-01 00:00. The first appeal arrives at
2026-09-01 00:00, so the data cover September.

October, by street (weights 0.3 / 0.4 / 0.3):

* 东街道: a1 closed on time, 满意; a2 closed late, 不满意; a3 open past its
  deadline; a4 cancelled. valid 3, closed 2 → 办结率 2/3; due 3 (2 closed with
  a deadline + 1 overdue), on time 1 → 按时办结率 1/3; rated 2, satisfied 1 →
  满意率 1/2. Composite 0.3·2/3 + 0.4·1/3 + 0.3·1/2 = 0.48333 → 48.3.
* 新华街道 (东区): b1, b2 closed on time, rated 满意 and 基本满意 → 1, 1, 1 → 100.0.
* 新华街道 (西区): c1, c2 closed on time, never rated → 满意率 undefined; the
  composite weighs the other two: (0.3·1 + 0.4·1) / 0.7 = 1 → 100.0 (as if the
  missing rate were 0 it would be 70.0).
* 西街道: d1 closed on time: one valid appeal, too few with min_appeals 2.

Ranks (min_appeals 2): the two 新华街道 tie at 1, 东街道 is 3.

September, by street (judged at 2026-10-01 00:00):

* 东街道: s1, s2 closed on time, 满意 → 100.0, rank 1.
* 新华街道 (东区): t1 closed on time, 满意; t2 past its deadline (20 Sep) and
  still open on 1 October (closed on 3 October) → 办结率 1/2, 按时办结率 1/2,
  满意率 1 → 0.15 + 0.2 + 0.3 = 0.65 → 65.0, rank 2.
* 新华街道 (西区): u1 only → too few, not ranked: no movement in October.

Movement in October: 东街道 rank 3 ← 1: −2, score 48.3 ← 100.0; 新华街道 (东区)
rank 1 ← 2: +1, score 100.0 ← 65.0; 新华街道 (西区) and 西街道: none.

October, by department: 101001-BSC (a1, a2) 1, 1/2, 1/2 → 0.65 → 65.0; 101-CG
(a3, a4, b1, b2): valid 3, closed 2 → 2/3, due 3, on time 2 → 2/3, rated 2,
satisfied 2 → 1: 0.2 + 0.26667 + 0.3 = 0.76667 → 76.7; 102-CG (c1, c2) → 100.0;
100-GN (d1) too few. Ranks 102-CG 1, 101-CG 2, 101001-BSC 3. September:
101001-BSC (s1, s2) 100.0 rank 1, 101-CG (t1, t2) 65.0 rank 2, 102-CG (u1) too
few. Movement: 101001-BSC −2, 101-CG 0 (持平, score +11.7), 102-CG none.
"""

from __future__ import annotations

from data_access import schema
from data_access.scope import Period
from data_access.store import bulk_insert, create_schema, make_engine
from tests.conftest import insert_appeals, insert_regions, ts

REGIONS = [
    ("100", "测试市", "city", None, 100000),
    ("101", "东区", "district", "100", 60000),
    ("102", "西区", "district", "100", 40000),
    ("101001", "东街道", "street", "101", 30000),
    ("101002", "新华街道", "street", "101", 30000),
    ("102001", "新华街道", "street", "102", 20000),
    ("102002", "西街道", "street", "102", 20000),
]
DEPARTMENTS = [
    ("101-CG", "东区城市管理局", "district", "101"),
    ("102-CG", "西区城市管理局", "district", "102"),
    ("100-GN", "测试市供暖办", "city", "100"),
    ("101001-BSC", "东街道办事处", "street", "101001"),
]
OCTOBER = Period(ts("2026-10-01"), ts("2026-11-01"))
AS_OF = ts("2026-11-01 00:00")
SEPTEMBER = Period(ts("2026-09-01"), ts("2026-10-01"))
SEPTEMBER_AS_OF = ts("2026-10-01 00:00")


def _closed(appeal_id, street, dept, created, deadline, closed, satisfaction=None, rated=None) -> dict:
    return dict(appeal_id=appeal_id, grid_code=street, department_code=dept, created_at=ts(created),
                deadline_at=ts(deadline), closed_at=ts(closed), status="closed", satisfaction=satisfaction,
                rated_at=None if rated is None else ts(rated))


APPEALS = [
    # September
    _closed("s1", "101001", "101001-BSC", "2026-09-01 00:00", "2026-09-10", "2026-09-05", "satisfied", "2026-09-06"),
    _closed("s2", "101001", "101001-BSC", "2026-09-02 10:00", "2026-09-10", "2026-09-06", "satisfied", "2026-09-07"),
    _closed("t1", "101002", "101-CG", "2026-09-03 10:00", "2026-09-12", "2026-09-08", "satisfied", "2026-09-09"),
    _closed("t2", "101002", "101-CG", "2026-09-10 10:00", "2026-09-20", "2026-10-03", "satisfied", "2026-10-04"),
    _closed("u1", "102001", "102-CG", "2026-09-11 10:00", "2026-09-20", "2026-09-15"),
    # October
    _closed("a1", "101001", "101001-BSC", "2026-10-02 09:00", "2026-10-10", "2026-10-05", "satisfied", "2026-10-06"),
    _closed("a2", "101001", "101001-BSC", "2026-10-03 09:00", "2026-10-10", "2026-10-12", "unsatisfied",
            "2026-10-13"),
    dict(appeal_id="a3", grid_code="101001", department_code="101-CG", created_at=ts("2026-10-04 09:00"),
         deadline_at=ts("2026-10-20")),
    dict(appeal_id="a4", grid_code="101001", department_code="101-CG", created_at=ts("2026-10-05 09:00"),
         status="cancelled", closed_at=ts("2026-10-06")),
    _closed("b1", "101002", "101-CG", "2026-10-06 09:00", "2026-10-15", "2026-10-08", "satisfied", "2026-10-09"),
    _closed("b2", "101002", "101-CG", "2026-10-07 09:00", "2026-10-15", "2026-10-09", "basic", "2026-10-10"),
    _closed("c1", "102001", "102-CG", "2026-10-08 09:00", "2026-10-16", "2026-10-10"),
    _closed("c2", "102001", "102-CG", "2026-10-09 09:00", "2026-10-16", "2026-10-11"),
    _closed("d1", "102002", "100-GN", "2026-10-10 09:00", "2026-10-18", "2026-10-12"),
]


def build(engine) -> None:
    """Fill an empty system of record (schema created) with the tiny city."""
    stamp = ts("2026-11-01 00:00")
    insert_regions(engine, REGIONS, updated_at=stamp)
    bulk_insert(engine, schema.departments, ["code", "name", "level", "region_code", "updated_at"],
                [(*d, stamp) for d in DEPARTMENTS])
    insert_appeals(engine, APPEALS, updated_at=stamp)


def database(folder) -> dict[str, str]:
    """A SQLite system of record in ``folder`` holding the tiny city; the environment that points the
    dashboard at it."""
    url = f"sqlite:///{folder / 'appeals.db'}"
    engine = make_engine(url)
    create_schema(engine)
    build(engine)
    engine.dispose()
    return {"APPEALS_DB_URL": url, "APPEALS_ANALYTICS_PATH": str(folder / "analytics.duckdb")}

