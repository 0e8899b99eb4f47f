"""The deadline engine (data_access/deadlines.py), with every expected value worked out by hand.

Working time: a working day counts whole (00:00–24:00), a non-working day not
at all (docs/deadlines.md). Default yellow thresholds: 20 % of the allowed
time or 1 working day, whichever comes first, the day threshold only when it
is shorter than the allowed time.

Calendars used (checked against chinese_calendar in the first test):

    Spring Festival 2025           National Day 2025            March 2025: no holidays
    Fri 24 Jan  work               Fri 26 Sep  work             Mon 3 … Fri 7 work
    Sat 25 Jan  off                Sat 27 Sep  off              Sat 8, Sun 9 off
    Sun 26 Jan  work (调休)         Sun 28 Sep  work (调休)       Mon 10 … Fri 14 work
    Mon 27 Jan  work               Mon 29, Tue 30 Sep work      Sat 15, Sun 16 off
    28 Jan – 4 Feb  off (holiday)  1 – 8 Oct  off (holiday)     Mon 17 … work
    Wed 5 … Fri 7 Feb  work        Thu 9, Fri 10 Oct  work
    Sat 8 Feb  work (调休)          Sat 11 Oct  work (调休)
    Sun 9 Feb  off, Mon 10 work    Sun 12 off, Mon 13 work
"""

from __future__ import annotations

import datetime as dt
import io
import json
import warnings
from contextlib import redirect_stdout

import chinese_calendar
import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

from data_access import cases, cli, deadline_changes, deadlines, queries, schema, workcal
from data_access.config import Settings
from data_access.deadlines import Limit, Rule, Rules, deadline_for, feedback_deadline_for, warn_at_for
from data_access.scope import Period, Scope
from tests.conftest import insert_appeals, synced_store

T = dt.datetime
D = dt.date
H = 3600.0
NORMAL5 = Limit(workdays=5, feedback_workdays=1)


def test_the_calendar_is_the_packages():
    for day in [D(2025, 1, 28) + dt.timedelta(days=i) for i in range(8)]:      # 28 Jan – 4 Feb
        assert chinese_calendar.is_holiday(day) and not workcal.is_workday(day)
    for day in [D(2025, 10, 1) + dt.timedelta(days=i) for i in range(8)]:      # 1 – 8 Oct
        assert chinese_calendar.is_holiday(day) and not workcal.is_workday(day)
    for day in (D(2025, 1, 26), D(2025, 2, 8), D(2025, 9, 28), D(2025, 10, 11)):  # 调休 weekend days
        assert day.weekday() >= 5 and chinese_calendar.is_workday(day) and workcal.is_workday(day)
    assert not workcal.is_workday(D(2025, 1, 25)) and not workcal.is_workday(D(2025, 9, 27))
    assert all(workcal.is_workday(D(2025, 3, d)) == (D(2025, 3, d).weekday() < 5) for d in range(1, 32))


# ------------------------------------------------------ Spring Festival ---

def test_spring_festival_created_on_friday_before():
    # Fri 24 Jan 10:00 + 5 working days: Sun 26 (1), Mon 27 (2), the holiday, Wed 5 Feb (3), Thu 6 (4),
    # Fri 7 (5) → Fri 7 Feb 10:00. Feedback, 1 working day: the 调休 Sunday, 26 Jan 10:00.
    created = T(2025, 1, 24, 10, 0)
    deadline = deadline_for(created, NORMAL5)
    assert deadline == T(2025, 2, 7, 10, 0)
    assert feedback_deadline_for(created, NORMAL5) == T(2025, 1, 26, 10, 0)
    # allowed 5 × 24 = 120 working hours; 20 % = 24 h = 1 working day: yellow from Thu 6 Feb 10:00
    assert workcal.working_seconds_between(created, deadline) == 120 * H
    assert warn_at_for(created, deadline) == T(2025, 2, 6, 10, 0)
    # 3 working days before (workdays=3 → 72 h): 7 Feb 10 h, 6 Feb 24, 5 Feb 24 = 58 h, the holiday
    # nothing, the last 14 h of Mon 27 Jan → 27 Jan 10:00, before the holiday
    assert warn_at_for(created, deadline, workdays=3) == T(2025, 1, 27, 10, 0)


def test_spring_festival_created_on_the_make_up_sunday():
    # Sun 26 Jan 09:00 is a working day: Mon 27 (1), Wed 5 Feb (2), Thu 6 (3), Fri 7 (4), Sat 8 (5, 调休)
    created = T(2025, 1, 26, 9, 0)
    deadline = deadline_for(created, NORMAL5)
    assert deadline == T(2025, 2, 8, 9, 0)
    assert feedback_deadline_for(created, NORMAL5) == T(2025, 1, 27, 9, 0)
    assert warn_at_for(created, deadline) == T(2025, 2, 7, 9, 0)      # 24 h before, on Friday


def test_spring_festival_created_during_the_holiday():
    # Thu 30 Jan 15:00 (初二): the clock starts Wed 5 Feb 00:00; 5 working days on: 6, 7, Sat 8, Mon 10,
    # Tue 11 → Tue 11 Feb 00:00. Allowed working time: 5, 6, 7, 8, 10 Feb = 120 h.
    created = T(2025, 1, 30, 15, 0)
    deadline = deadline_for(created, NORMAL5)
    assert deadline == T(2025, 2, 11, 0, 0)
    assert feedback_deadline_for(created, NORMAL5) == T(2025, 2, 6, 0, 0)
    assert workcal.working_seconds_between(created, deadline) == 120 * H
    # 24 h before Tue 00:00: Mon 10 Feb is the last working day; 1 working day is left from the end
    # of Sat 8 Feb (Sunday 9 is off): yellow from Sun 9 Feb 00:00
    assert warn_at_for(created, deadline) == T(2025, 2, 9, 0, 0)


# ---------------------------------------------------------- National Day ---

def test_national_day_week():
    # Tue 30 Sep 14:00 + 5: Thu 9 Oct (1), Fri 10 (2), Sat 11 (3, 调休), Mon 13 (4), Tue 14 (5)
    assert deadline_for(T(2025, 9, 30, 14, 0), NORMAL5) == T(2025, 10, 14, 14, 0)
    assert feedback_deadline_for(T(2025, 9, 30, 14, 0), NORMAL5) == T(2025, 10, 9, 14, 0)
    # 市场监管, 10 working days from Fri 26 Sep 16:00: 28 Sep (调休), 29, 30, 9 Oct, 10, 11 (调休), 13, 14,
    # 15, 16 → Thu 16 Oct 16:00; 20 % of 240 h = 48 h > 24 h: yellow 2 working days before, 14 Oct 16:00
    created = T(2025, 9, 26, 16, 0)
    ten = deadline_for(created, Limit(workdays=10))
    assert ten == T(2025, 10, 16, 16, 0)
    assert warn_at_for(created, ten) == T(2025, 10, 14, 16, 0)
    # created on the holiday, Wed 1 Oct 10:00, 3 working days: from Thu 9 Oct 00:00: 10, 11, 13
    assert deadline_for(T(2025, 10, 1, 10, 0), Limit(workdays=3)) == T(2025, 10, 13, 0, 0)


def test_a_consultation_over_national_day_is_not_yellow_all_holiday():
    # 咨询, 1 working day from Tue 30 Sep 17:00 → Thu 9 Oct 17:00. Allowed: 7 h + 17 h = 24 h. One
    # working day is not shorter than that, so only 20 % counts: 4.8 h before → 9 Oct 12:12.
    created, deadline = T(2025, 9, 30, 17, 0), T(2025, 10, 9, 17, 0)
    assert deadline_for(created, Limit(workdays=1)) == deadline
    assert warn_at_for(created, deadline) == T(2025, 10, 9, 12, 12)
    row = dict(created_at=created, deadline_at=deadline, warn_at=T(2025, 10, 9, 12, 12), urgency="consult")
    during = deadlines.state(row, T(2025, 10, 5, 12, 0))
    assert during.state == "normal" and during.remaining_working_hours == 17.0   # all of 9 Oct until 17:00
    assert deadlines.state(row, T(2025, 10, 9, 12, 12)).state == "yellow"


# --------------------------------------------------------- hours (紧急) ---

URGENT6 = Limit(hours=6, feedback_hours=2)


def test_urgent_six_hours_over_midnight_into_the_weekend():
    # Fri 14 Mar 2025 22:00 + 6 clock hours → Sat 15 Mar 04:00 (an emergency does not wait for Monday);
    # feedback within 2 h → Sat 00:00
    created = T(2025, 3, 14, 22, 0)
    assert deadline_for(created, URGENT6) == T(2025, 3, 15, 4, 0)
    assert feedback_deadline_for(created, URGENT6) == T(2025, 3, 15, 0, 0)
    # clock basis: 20 % of 6 h = 1.2 h; the 24 h day threshold is not shorter than 6 h and does not
    # apply (else every urgent appeal would be yellow at once) → yellow from Sat 02:48
    assert warn_at_for(created, T(2025, 3, 15, 4, 0), basis="clock") == T(2025, 3, 15, 2, 48)
    assert warn_at_for(created, T(2025, 3, 15, 4, 0), basis="clock", fraction=0.5) == T(2025, 3, 15, 1, 0)
    # an administrator's 72 h urgent limit: the day threshold is shorter, and larger than 14.4 h
    assert warn_at_for(created, T(2025, 3, 17, 22, 0), basis="clock") == T(2025, 3, 16, 22, 0)

    rules = Rules([Rule("城市管理", None, "urgent", limit_hours=6.0, feedback_hours=2.0)])
    row = dict(created_at=created, deadline_at=T(2025, 3, 15, 4, 0), warn_at=T(2025, 3, 15, 2, 48),
               category="城市管理", urgency="urgent", status="open")
    # Fri 23:00: 5 clock hours left; in working time only the last hour of Friday
    s = deadlines.state(row, T(2025, 3, 14, 23, 0), rules=rules)
    assert (s.state, s.basis, s.remaining_hours, s.remaining_working_hours) == ("normal", "clock", 5.0, 1.0)
    s = deadlines.state(row, T(2025, 3, 15, 3, 0), rules=rules)
    assert (s.state, s.remaining_hours, s.remaining_working_hours) == ("yellow", 1.0, 0.0)
    s = deadlines.state(row, T(2025, 3, 15, 5, 30), rules=rules)
    assert (s.state, s.remaining_hours, s.remaining_working_hours) == ("red", -1.5, 0.0)


# -------------------------------------------------- yellow thresholds ---

@pytest.mark.parametrize("created, deadline, fraction, workdays, warn", [
    # 3 working days from Mon 3 Mar 10:00 → Thu 6 Mar 10:00 (72 h): 20 % = 14.4 h < 24 h: the day first
    (T(2025, 3, 3, 10), T(2025, 3, 6, 10), 0.2, 1.0, T(2025, 3, 5, 10)),
    # fraction 0.3, half a day: max(21.6 h, 12 h) = 21.6 h: 10 h of Thu, 11.6 h of Wed → Wed 12:24
    (T(2025, 3, 3, 10), T(2025, 3, 6, 10), 0.3, 0.5, T(2025, 3, 5, 12, 24)),
    # 10 working days → Mon 17 Mar 10:00 (240 h): 20 % = 48 h > 24 h: the fraction first:
    # 10 h of Mon 17, 24 h of Fri 14, 14 h of Thu 13 → Thu 13 Mar 10:00 (the weekend counts nothing)
    (T(2025, 3, 3, 10), T(2025, 3, 17, 10), 0.2, 1.0, T(2025, 3, 13, 10)),
    # 0.3 → 72 h: 10 + 24 + 24 + 14 → Wed 12 Mar 10:00
    (T(2025, 3, 3, 10), T(2025, 3, 17, 10), 0.3, 1.0, T(2025, 3, 12, 10)),
    # 4 days (3.2 + 0.8 of the allowed 5): the day threshold 4 × 24 = 96 h > 20 % → Tue 4 Mar 10:00
    (T(2025, 3, 3, 10), T(2025, 3, 10, 10), 0.2, 4.0, T(2025, 3, 4, 10)),
    # 咨询 1 working day from Fri 7 Mar 16:00 → Mon 10 Mar 16:00 (8 + 16 = 24 h): 20 % only → Mon 11:12
    (T(2025, 3, 7, 16), T(2025, 3, 10, 16), 0.2, 1.0, T(2025, 3, 10, 11, 12)),
    # a threshold of the whole allowed time or more: yellow from the start
    (T(2025, 3, 3, 10), T(2025, 3, 6, 10), 1.0, 1.0, T(2025, 3, 3, 10)),
    # an imported deadline with no working time in it (created Sat 09:00, due Sat 18:00): at once
    (T(2025, 3, 8, 9), T(2025, 3, 8, 18), 0.2, 1.0, T(2025, 3, 8, 9)),
    # an imported deadline before creation: at creation (and red right after)
    (T(2025, 3, 8, 9), T(2025, 3, 7, 18), 0.2, 1.0, T(2025, 3, 8, 9)),
])
def test_yellow_threshold_whichever_first(created, deadline, fraction, workdays, warn):
    assert warn_at_for(created, deadline, fraction=fraction, workdays=workdays) == warn
    got = deadlines.warn_at_array(np.array([created], dtype="datetime64[us]"),
                                  np.array([deadline], dtype="datetime64[us]"), np.array([False]),
                                  fraction=fraction, workdays=workdays)
    assert got[0] == np.datetime64(warn, "us")


def test_yellow_turns_on_at_warn_at_and_red_after_the_deadline():
    row = dict(created_at=T(2025, 3, 3, 10), deadline_at=T(2025, 3, 17, 10), warn_at=T(2025, 3, 13, 10))
    moments = {
        T(2025, 3, 13, 9, 59): ("normal", 48 + 1 / 60),
        T(2025, 3, 13, 10, 0): ("yellow", 48.0),         # 14 + 24 + 10
        T(2025, 3, 15, 12, 0): ("yellow", 10.0),         # Saturday: only Monday's 10 h are left
        T(2025, 3, 17, 10, 0): ("yellow", 0.0),          # due now: not yet red
        T(2025, 3, 18, 11, 0): ("red", -25.0),           # 14 h of Mon 17 + 11 h of Tue 18 overdue
    }
    for at, (light, hours) in moments.items():
        s = deadlines.state(row, at)
        assert s.state == light and s.remaining_working_hours == pytest.approx(hours), at
        assert s.remaining_working_days == pytest.approx(hours / 24)
    closed = {**row, "status": "closed", "closed_at": T(2025, 3, 12)}
    assert deadlines.state(closed, T(2025, 3, 13, 12)).state == "closed"
    assert deadlines.state({**row, "deadline_at": None, "warn_at": None}, T(2025, 3, 13, 12)).state == "normal"


def test_remaining_time_across_the_spring_festival():
    row = dict(created_at=T(2025, 1, 24, 10), deadline_at=T(2025, 2, 7, 10), warn_at=T(2025, 2, 6, 10))
    cases_ = [
        (T(2025, 1, 27, 18, 0), "normal", 64.0),    # 6 h of 27 Jan + 24 (5 Feb) + 24 (6 Feb) + 10
        (T(2025, 2, 1, 12, 0), "normal", 58.0),     # in the holiday: 24 + 24 + 10
        (T(2025, 2, 6, 11, 0), "yellow", 23.0),     # 13 + 10
        (T(2025, 2, 10, 9, 0), "red", -47.0),       # 14 h of 7 Feb + 24 of Sat 8 (调休) + 9 of Mon 10
    ]
    for at, light, hours in cases_:
        s = deadlines.state(row, at)
        assert (s.state, s.remaining_working_hours) == (light, hours), at
    frame = deadlines.annotate(pd.DataFrame([row] * len(cases_)), T(2025, 2, 6, 11, 0))
    assert list(frame["deadline_state"]) == ["yellow"] * 4 and list(frame["remaining_hours"]) == [23.0] * 4


def test_unknown_year_falls_back_to_weekdays_with_a_warning(monkeypatch):
    monkeypatch.setattr(workcal, "_warned_years", set())
    monkeypatch.setattr(workcal, "_table", workcal._DayTable())
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(D(2031, 1, 6))
    with pytest.warns(RuntimeWarning, match="2031"):
        # Fri 3 Jan 2031 09:00 + 5: Mon 6 … Fri 10 (Saturday and Sunday off, no holidays known)
        deadline = deadline_for(T(2031, 1, 3, 9), NORMAL5)
    assert deadline == T(2031, 1, 10, 9)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once per year only
        assert warn_at_for(T(2031, 1, 3, 9), deadline) == T(2031, 1, 9, 9)
        assert deadlines.deadline_array(np.array([T(2031, 1, 3, 9)], dtype="datetime64[us]"), np.nan, 5)[0] \
            == np.datetime64(T(2031, 1, 10, 9), "us")


# ------------------------------------------------------------------ rules ---

def test_the_most_specific_rule_wins():
    rules = Rules([
        Rule(urgency="urgent", limit_hours=24.0, feedback_hours=2.0, id=1),
        Rule("供暖", None, None, limit_workdays=3, id=2),
        Rule("供暖", None, "urgent", limit_hours=8.0, id=3),
        Rule("供暖", "管道漏水", None, feedback_hours=1.0, id=4),
        Rule("供暖", "管道漏水", "urgent", limit_hours=4.0, id=5),
    ])
    assert rules.limit_for("供暖", "管道漏水", "urgent") == Limit(hours=4.0, feedback_hours=1.0)
    assert rules.limit_for("供暖", "暖气不热", "urgent") == Limit(hours=8.0, feedback_hours=2.0)  # fb: urgency rule
    assert rules.limit_for("供暖", "暖气不热", "normal") == Limit(workdays=3, feedback_workdays=1)  # fb: built-in
    assert rules.limit_for("供暖", "管道漏水", "normal") == Limit(workdays=3, feedback_hours=1.0)
    assert rules.limit_for("城市管理", None, "urgent") == Limit(hours=24.0, feedback_hours=2.0)
    assert rules.limit_for("城市管理", None, "consult") == deadlines.BUILTIN["consult"]
    assert rules.limit_for("城市管理", None, None) == deadlines.BUILTIN["normal"]
    assert rules.basis_for("供暖", None, "urgent") == "clock" and rules.basis_for("供暖") == "working"
    with pytest.raises(ValueError, match="subcategory needs its category"):
        Rule(None, "管道漏水", None, limit_hours=1.0)
    with pytest.raises(ValueError, match="not both"):
        Rule("供暖", limit_hours=1.0, limit_workdays=1)
    with pytest.raises(ValueError):
        Limit(workdays=0)


def test_default_rules_are_the_catalogue():
    from data_access.seed import catalogue as cat

    rules = deadlines.default_rules()
    for c in cat.CATEGORIES:
        assert rules.limit_for(c.name, c.subcategories[0].name, "normal") == Limit(
            workdays=c.limit_days, feedback_workdays=c.feedback_days)
        for s in c.subcategories:
            hours = s.urgent_hours or c.urgent_hours
            assert rules.limit_for(c.name, s.name, "urgent") == Limit(hours=hours, feedback_hours=min(hours, 2))
            assert rules.limit_for(c.name, s.name, "consult") == Limit(workdays=1, feedback_workdays=1)
    assert {c.limit_days for c in cat.CATEGORIES} == {3, 5, 10, 15}


def test_rule_table_and_cli(sor, capsys):
    url = str(sor.url)
    assert len(deadlines.load_rules(sor)) == 0

    def run(*args):
        out = io.StringIO()
        with redirect_stdout(out):
            code = cli.main([*args, "--db", url])
        return code, out.getvalue()

    assert run("rules", "defaults")[0] == 0
    assert run("rules", "defaults")[0] == 2                          # refuses to overwrite
    assert run("rules", "defaults", "--replace")[0] == 0
    code, out = run("rules", "list", "--json")
    listed = json.loads(out)
    assert code == 0 and len(listed) == len(deadlines.default_rules())
    # change the 城市管理 一般 limit; the feedback limit stays
    assert run("rules", "set", "--category", "城市管理", "--urgency", "normal", "--workdays", "7")[0] == 0
    rules = deadlines.load_rules(sor)
    assert rules.limit_for("城市管理", "路灯损坏", "normal") == Limit(workdays=7, feedback_workdays=1)
    assert len(rules) == len(listed)
    assert run("rules", "set", "--category", "城市管理", "--urgency", "normal", "--hours", "0")[0] == 2
    assert run("rules", "set", "--subcategory", "路灯损坏", "--workdays", "3")[0] == 2
    assert run("rules", "set", "--category", "新类别")[0] == 2         # no limit given
    assert run("rules", "set", "--category", "新类别", "--workdays", "2")[0] == 0
    assert deadlines.load_rules(sor).limit_for("新类别", None, "urgent").workdays == 2
    assert run("rules", "delete", "--category", "新类别")[0] == 0
    assert run("rules", "delete", "--category", "新类别")[0] == 2      # no such rule
    assert len(deadlines.load_rules(sor)) == len(listed)
    capsys.readouterr()


# ------------------------------------------------- pauses and extensions ---

STAMP = T(2025, 3, 1)
NOW = T(2025, 3, 20, 12)
SETTINGS = Settings()


def _appeal(**kw) -> dict:
    base = dict(category="城市管理", subcategory="路灯损坏", urgency="normal", deadline_source="rule",
                grid_code="101001001001")
    return {**base, **kw}


def _row(engine, appeal_id) -> dict:
    a = schema.appeals
    with engine.connect() as conn:
        return dict(conn.execute(select(a).where(a.c.appeal_id == appeal_id)).mappings().one())


def _events(engine, appeal_id) -> list[dict]:
    e = schema.appeal_events
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(e).where(e.c.appeal_id == appeal_id).order_by(e.c.id)).mappings()]


@pytest.fixture
def paused_world(tiny_sor):
    """P1: 城市管理 一般 (5 working days), created Mon 3 Mar 2025 10:00, feedback given Mon 15:00.

    deadline Mon 10 Mar 10:00; feedback deadline Tue 4 Mar 10:00; warn_at 24 h before: Fri 7 Mar 10:00.
    """
    deadlines.write_default_rules(tiny_sor, now=STAMP)
    created = T(2025, 3, 3, 10)
    p1 = _appeal(appeal_id="P1", created_at=created, deadline_at=T(2025, 3, 10, 10),
                 feedback_deadline_at=T(2025, 3, 4, 10), first_feedback_at=T(2025, 3, 3, 15),
                 warn_at=T(2025, 3, 7, 10))
    closed = _appeal(appeal_id="C1", created_at=created, deadline_at=T(2025, 3, 10, 10), status="closed",
                     closed_at=T(2025, 3, 5, 10), warn_at=T(2025, 3, 7, 10))
    none = _appeal(appeal_id="N1", created_at=created, deadline_source=None)
    insert_appeals(tiny_sor, [p1, closed, none], updated_at=STAMP)
    assert deadline_for(created, deadlines.load_rules(tiny_sor).limit_for("城市管理", "路灯损坏", "normal")) \
        == p1["deadline_at"]
    return tiny_sor


def test_pause_and_extension_by_hand(paused_world):
    engine = paused_world
    kw = dict(now=NOW, settings=SETTINGS)
    # 挂起 Fri 7 Mar 09:00, one hour before it would turn yellow
    change = deadline_changes.pause(engine, "P1", T(2025, 3, 7, 9), "铁东区城市管理局", "等待诉求人补充材料", **kw)
    assert change.paused_since == T(2025, 3, 7, 9)
    row = _row(engine, "P1")
    assert row["paused_since"] == T(2025, 3, 7, 9) and row["deadline_at"] == T(2025, 3, 10, 10)
    assert row["updated_at"] == NOW
    # while paused: not yellow, and not red even after the old deadline; the remaining time is frozen
    # at the pause: 15 h of Fri 7 + 10 h of Mon 10 = 25 h
    s = deadlines.state(row, T(2025, 3, 10, 12))
    assert (s.state, s.remaining_working_hours) == ("paused", 25.0)

    # 恢复 Tue 11 Mar 09:00. Paused working time: 15 h (Fri 7) + 0 (weekend) + 24 h (Mon 10) + 9 h (Tue 11)
    # = 48 h = 2 working days. Deadline Mon 10 Mar 10:00 + 48 h: 14 h of Mon 10, 24 h of Tue 11, 10 h of
    # Wed 12 → Wed 12 Mar 10:00. Feedback was given before the pause: its deadline stays Tue 4 Mar 10:00.
    # warn_at: allowed Mon 3 10:00 → Wed 12 10:00 = 14 + 4 × 24 + 2 × 24 + 10 = 168 h; 20 % = 33.6 h >
    # 24 h: 10 h of Wed 12, 23.6 h of Tue 11 → Tue 11 Mar 00:24
    change = deadline_changes.resume(engine, "P1", T(2025, 3, 11, 9), "铁东区城市管理局", **kw)
    assert change.moved_seconds == 48 * H
    row = _row(engine, "P1")
    assert row["paused_since"] is None
    assert row["deadline_at"] == T(2025, 3, 12, 10)
    assert row["feedback_deadline_at"] == T(2025, 3, 4, 10)
    assert row["warn_at"] == T(2025, 3, 11, 0, 24)
    s = deadlines.state(row, T(2025, 3, 11, 9))
    assert (s.state, s.remaining_working_hours) == ("yellow", 25.0)   # the same 25 h as at the pause

    # 延期 3 working days, approved Wed 12 Mar 09:00: Thu 13, Fri 14, Mon 17 → Mon 17 Mar 10:00.
    # warn_at: allowed 168 + 14 + 24 + 24 + 10 = 240 h; 20 % = 48 h: 10 h of Mon 17, 24 of Fri 14,
    # 14 of Thu 13 → Thu 13 Mar 10:00
    change = deadline_changes.extend(engine, "P1", T(2025, 3, 12, 9), "铁东区城市管理局", "维修需采购材料", workdays=3, **kw)
    row = _row(engine, "P1")
    assert row["deadline_at"] == T(2025, 3, 17, 10) == change.deadline_at
    assert row["warn_at"] == T(2025, 3, 13, 10)
    assert row["deadline_source"] == "manual" and row["feedback_deadline_at"] == T(2025, 3, 4, 10)
    s = deadlines.state(row, T(2025, 3, 12, 12))
    assert s.state == "normal" and s.remaining_working_hours == 70.0   # 12 + 24 + 24 + 10
    s = deadlines.state(row, T(2025, 3, 18, 11))
    assert s.state == "red" and s.remaining_working_hours == -25.0     # 14 h of Mon 17 + 11 h of Tue 18

    events = _events(engine, "P1")
    assert [(e["event_type"], e["event_at"], e["actor"]) for e in events] == [
        ("pause", T(2025, 3, 7, 9), "铁东区城市管理局"),
        ("resume", T(2025, 3, 11, 9), "铁东区城市管理局"),
        ("extend", T(2025, 3, 12, 9), "铁东区城市管理局"),
    ]
    assert events[0]["note"] == "等待诉求人补充材料"
    assert events[1]["note"] == "恢复办理，挂起2个工作日，办理时限顺延至2025-03-12 10:00"
    assert events[2]["note"] == "维修需采购材料（延期3个工作日，办理时限延至2025-03-17 10:00）"
    # an extended deadline is a decision: a recompute leaves it alone
    assert deadline_changes.recompute(engine, now=NOW, settings=SETTINGS).updated == 0


def test_nonsense_is_refused(paused_world):
    engine = paused_world
    kw = dict(now=NOW, settings=SETTINGS)
    with pytest.raises(ValueError, match="not paused"):
        deadline_changes.resume(engine, "P1", T(2025, 3, 5), "x", **kw)
    with pytest.raises(ValueError, match="closed"):
        deadline_changes.pause(engine, "C1", T(2025, 3, 6), "x", **kw)
    with pytest.raises(ValueError, match="after the current deadline"):
        deadline_changes.extend(engine, "P1", T(2025, 3, 5), "x", until=T(2025, 3, 9), **kw)
    with pytest.raises(ValueError, match="exactly one"):
        deadline_changes.extend(engine, "P1", T(2025, 3, 5), "x", workdays=1, hours=2, **kw)
    with pytest.raises(ValueError, match="no deadline"):
        deadline_changes.extend(engine, "N1", T(2025, 3, 5), "x", workdays=1, **kw)
    with pytest.raises(ValueError, match="future"):
        deadline_changes.pause(engine, "P1", T(2025, 3, 21), "x", **kw)
    with pytest.raises(ValueError, match="before it was created"):
        deadline_changes.pause(engine, "P1", T(2025, 3, 1), "x", **kw)
    with pytest.raises(ValueError, match="actor"):
        deadline_changes.pause(engine, "P1", T(2025, 3, 5), " ", **kw)
    with pytest.raises(ValueError, match="no appeal"):
        deadline_changes.pause(engine, "nope", T(2025, 3, 5), "x", **kw)
    deadline_changes.pause(engine, "P1", T(2025, 3, 5, 9), "x", **kw)
    with pytest.raises(ValueError, match="already paused"):
        deadline_changes.pause(engine, "P1", T(2025, 3, 5, 10), "x", **kw)
    with pytest.raises(ValueError, match="before its pause"):
        deadline_changes.resume(engine, "P1", T(2025, 3, 5, 8), "x", **kw)
    deadline_changes.resume(engine, "P1", T(2025, 3, 6, 9), "x", **kw)
    with pytest.raises(ValueError, match="was later"):   # the event log stays in time order
        deadline_changes.extend(engine, "P1", T(2025, 3, 6, 8), "x", hours=4, **kw)
    # nothing refused was written
    assert [e["event_type"] for e in _events(engine, "P1")] == ["pause", "resume"]
    assert _events(engine, "C1") == [] and _events(engine, "N1") == []


def test_pause_of_an_urgent_appeal_moves_clock_time(tiny_sor):
    deadlines.write_default_rules(tiny_sor, now=STAMP)
    # 城市管理 紧急: 6 h, feedback 2 h. Fri 14 Mar 22:00 → deadline Sat 04:00, feedback Sat 00:00.
    insert_appeals(tiny_sor, [_appeal(appeal_id="U1", urgency="urgent", created_at=T(2025, 3, 14, 22),
                                      deadline_at=T(2025, 3, 15, 4), feedback_deadline_at=T(2025, 3, 15, 0),
                                      warn_at=T(2025, 3, 15, 2, 48))], updated_at=STAMP)
    kw = dict(now=NOW, settings=SETTINGS)
    deadline_changes.pause(tiny_sor, "U1", T(2025, 3, 14, 23), "市燃气公司", "等待燃气公司抢修", **kw)
    change = deadline_changes.resume(tiny_sor, "U1", T(2025, 3, 15, 1, 30), "市燃气公司", **kw)
    # 2.5 clock hours paused (the weekend does not matter for hours); no feedback before the pause: both
    # deadlines move. warn_at: allowed 8.5 h, 20 % = 1.7 h → Sat 06:30 − 1 h 42 min = 04:48
    assert change.moved_seconds == 2.5 * H
    row = _row(tiny_sor, "U1")
    assert (row["deadline_at"], row["feedback_deadline_at"], row["warn_at"]) == (
        T(2025, 3, 15, 6, 30), T(2025, 3, 15, 2, 30), T(2025, 3, 15, 4, 48))
    assert _events(tiny_sor, "U1")[1]["note"] == "恢复办理，挂起2.5小时，办理时限顺延至2025-03-15 06:30"


def test_recompute_after_a_rule_change(tiny_sor):
    """Rule-based open deadlines follow the rules, with their finished pauses replayed; others keep theirs."""
    deadlines.write_default_rules(tiny_sor, now=STAMP)
    created = T(2025, 3, 3, 10)
    insert_appeals(tiny_sor, [
        # P2: rule-based, no feedback yet: deadline Mon 10 Mar 10:00, feedback Tue 4 Mar 10:00
        _appeal(appeal_id="P2", created_at=created, deadline_at=T(2025, 3, 10, 10),
                feedback_deadline_at=T(2025, 3, 4, 10), warn_at=T(2025, 3, 7, 10)),
        # I1: imported deadline, Fri 14 Mar 18:00
        _appeal(appeal_id="I1", created_at=T(2025, 3, 10, 9), deadline_at=T(2025, 3, 14, 18),
                deadline_source="import", warn_at=T(2025, 3, 13, 18)),
        # C2: closed rule-based
        _appeal(appeal_id="C2", created_at=created, deadline_at=T(2025, 3, 10, 10), status="closed",
                closed_at=T(2025, 3, 6, 10), feedback_deadline_at=T(2025, 3, 4, 10), warn_at=T(2025, 3, 7, 10)),
    ], updated_at=STAMP)
    kw = dict(now=NOW, settings=SETTINGS)
    deadline_changes.pause(tiny_sor, "P2", T(2025, 3, 7, 9), "x", **kw)
    deadline_changes.resume(tiny_sor, "P2", T(2025, 3, 11, 9), "x", **kw)
    row = _row(tiny_sor, "P2")
    # 48 working hours paused: deadline → Wed 12 Mar 10:00; no feedback before the pause: feedback
    # Tue 4 Mar 10:00 + 48 h = Thu 6 Mar 10:00
    assert (row["deadline_at"], row["feedback_deadline_at"]) == (T(2025, 3, 12, 10), T(2025, 3, 6, 10))

    # nothing to do while the rules and thresholds are unchanged
    report = deadline_changes.recompute(tiny_sor, now=T(2025, 3, 20, 13), settings=SETTINGS)
    assert (report.examined, report.updated) == (2, 0)

    # 城市管理 一般 becomes 7 working days: P2's rule deadline Mon 3 Mar 10:00 + 7 = 4, 5, 6, 7, 10, 11,
    # 12 → Wed 12 Mar 10:00; the pause replayed (+48 h): 14 h of Wed 12, Thu 13, 10 h of Fri 14 →
    # Fri 14 Mar 10:00. Feedback (1 working day) unchanged: Thu 6 Mar 10:00. warn_at: allowed 14 + 4 × 24
    # + 4 × 24 + 10 = 216 h, 20 % = 43.2 h: 10 h of Fri 14, 24 of Thu 13, 9.2 h of Wed 12 → Wed 14:48.
    deadlines.set_rule(tiny_sor, category="城市管理", urgency="normal", workdays=7, now=NOW)
    later = T(2025, 3, 20, 14)
    report = deadline_changes.recompute(tiny_sor, now=later, settings=SETTINGS)
    assert (report.examined, report.deadlines, report.feedback_deadlines, report.warn_at, report.updated) == (
        2, 1, 0, 1, 1)
    row = _row(tiny_sor, "P2")
    assert (row["deadline_at"], row["feedback_deadline_at"], row["warn_at"], row["updated_at"]) == (
        T(2025, 3, 14, 10), T(2025, 3, 6, 10), T(2025, 3, 12, 14, 48), later)
    # the imported and the closed appeal are untouched (closed: only with all=True)
    assert _row(tiny_sor, "I1")["updated_at"] == STAMP and _row(tiny_sor, "C2")["updated_at"] == STAMP

    # thresholds change (fraction 0.5): warn_at of open appeals only. I1: allowed Mon 10 09:00 → Fri 14
    # 18:00 = 15 + 3 × 24 + 18 = 105 h, half = 52.5 h: 18 h of Fri 14, 24 of Thu 13, 10.5 h of Wed 12 →
    # Wed 12 Mar 13:30. P2: 108 h: 10 (Fri 14) + 24 (Thu 13) + 24 (Wed 12) + 24 (Tue 11) + 24 (Mon 10)
    # = 106, then 2 h of Fri 7
    # → Fri 7 Mar 22:00
    half = Settings(due_soon_fraction=0.5)
    report = deadline_changes.recompute(tiny_sor, now=T(2025, 3, 20, 15), settings=half)
    assert (report.deadlines, report.warn_at, report.updated) == (0, 2, 2)
    assert _row(tiny_sor, "I1")["warn_at"] == T(2025, 3, 12, 13, 30)
    assert _row(tiny_sor, "P2")["warn_at"] == T(2025, 3, 7, 22)
    assert _row(tiny_sor, "I1")["deadline_at"] == T(2025, 3, 14, 18)
    # all=True restates the closed one too: 7 working days → Wed 12 Mar 10:00
    report = deadline_changes.recompute(tiny_sor, now=T(2025, 3, 20, 16), all=True, settings=half)
    assert report.examined == 3 and _row(tiny_sor, "C2")["deadline_at"] == T(2025, 3, 12, 10)


def test_recompute_command(paused_world, monkeypatch):
    monkeypatch.setenv("APPEALS_DUE_SOON_FRACTION", "0.5")
    out = io.StringIO()
    with redirect_stdout(out):
        assert cli.main(["deadlines", "recompute", "--json", "--db", str(paused_world.url)]) == 0
    got = json.loads(out.getvalue())
    # P1 (open, 120 h allowed): half = 60 h → 10 h of Mon 10, 24 of Fri 7, 24 of Thu 6, 2 h of Wed 5 →
    # Wed 5 Mar 22:00; C1 is closed, N1 has no deadline
    assert got["examined"] == 1 and got["warn_at"] == 1 and got["deadlines"] == 0
    assert _row(paused_world, "P1")["warn_at"] == T(2025, 3, 5, 22)
    assert _row(paused_world, "C1")["updated_at"] == STAMP


# ------------------------------------------------------------ indicators ---

def test_lights_equal_the_indicator_sets(tiny_sor):
    """annotate() and the SQL sets of indicators.py agree, paused appeals included."""
    from tests.test_indicators import APPEALS, T as AS_OF

    extra = [
        # paused before its deadline passed: neither; paused after: red
        dict(appeal_id="q1", created_at=T(2026, 3, 2, 9), deadline_at=T(2026, 3, 9, 9), warn_at=T(2026, 3, 6, 9),
             paused_since=T(2026, 3, 6, 12)),
        dict(appeal_id="q2", created_at=T(2026, 3, 2, 9), deadline_at=T(2026, 3, 9, 9), warn_at=T(2026, 3, 6, 9),
             paused_since=T(2026, 3, 9, 12)),
        # paused while yellow: not yellow
        dict(appeal_id="q3", created_at=T(2026, 3, 4, 9), deadline_at=T(2026, 3, 11, 9),
             warn_at=T(2026, 3, 10, 9), paused_since=T(2026, 3, 10, 10)),
    ]
    insert_appeals(tiny_sor, APPEALS + extra)
    con = synced_store(tiny_sor)
    try:
        red = set(cases.case_list(con, Scope.whole(), Period.all_time(), AS_OF, "overdue_open")["appeal_id"])
        yellow = set(cases.case_list(con, Scope.whole(), Period.all_time(), AS_OF, "due_soon_open")["appeal_id"])
        k = queries.kpis(con, Scope.whole(), Period.all_time(), AS_OF)
    finally:
        con.close()
    assert red == {"a3", "a11", "q2"} and yellow == {"a4"}
    assert (k["overdue_open"], k["due_soon_open"]) == (3, 1)
    with tiny_sor.connect() as conn:
        frame = pd.read_sql(select(schema.appeals).where(schema.appeals.c.created_at <= AS_OF), conn)
    lights = deadlines.annotate(frame, AS_OF).set_index("appeal_id")["deadline_state"]
    assert set(lights[lights == "red"].index) == red
    assert set(lights[lights == "yellow"].index) == yellow
    assert set(lights[lights == "paused"].index) == {"q1", "q3"}


# ------------------------------------------------------------------- demo ---

@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from data_access.seed import seed_demo
    from data_access.store import make_engine
    from tests.test_seed import small_territory

    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('dl') / 'demo.db'}")
    end = T(2026, 1, 15, 10, 30)
    seed_demo(engine, territory=small_territory(), appeals=5000, months=8, seed=5, end=end)
    with engine.connect() as conn:
        appeals = {r["appeal_id"]: dict(r) for r in conn.execute(select(schema.appeals)).mappings()}
        events = [dict(r) for r in conn.execute(select(schema.appeal_events).order_by(schema.appeal_events.c.id))
                  .mappings()]
    yield engine, end, appeals, events
    engine.dispose()


def test_demo_writes_the_default_rules_and_rule_deadlines(demo):
    engine, end, appeals, _ = demo
    stored = deadlines.load_rules(engine)
    assert {(r.key, r.limit_hours, r.limit_workdays, r.feedback_hours, r.feedback_workdays) for r in stored} == {
        (r.key, r.limit_hours, r.limit_workdays, r.feedback_hours, r.feedback_workdays)
        for r in deadlines.default_rules()}
    sources = pd.Series([a["deadline_source"] for a in appeals.values()]).value_counts(dropna=False)
    assert sources["rule"] > 0.95 * len(appeals) and sources["manual"] > 0
    for a in appeals.values():
        assert (a["deadline_source"] is None) == (a["deadline_at"] is None) == (a["warn_at"] is None)
        if a["deadline_at"] is not None:
            basis = stored.basis_for(a["category"], a["subcategory"], a["urgency"])
            assert a["warn_at"] == warn_at_for(a["created_at"], a["deadline_at"], basis=basis), a["appeal_id"]


def test_demo_pauses_and_extensions_are_consistent(demo):
    engine, end, appeals, events = demo
    rules = deadlines.default_rules()
    by: dict[str, list] = {}
    for e in events:
        by.setdefault(e["appeal_id"], []).append(e)
    moved = {k: [e for e in v if e["event_type"] in ("pause", "resume", "extend")] for k, v in by.items()}
    moved = {k: v for k, v in moved.items() if v}
    share = len(moved) / len(appeals)
    assert 0.01 <= share <= 0.03, share
    kinds = pd.Series([e["event_type"] for v in moved.values() for e in v]).value_counts()
    assert kinds["pause"] >= 20 and kinds["extend"] >= 10
    paused_at_end = [a for a in appeals.values() if a["paused_since"] is not None]
    assert paused_at_end
    for appeal_id, evs in moved.items():
        a = appeals[appeal_id]
        times = [e["event_at"] for e in by[appeal_id]]
        assert times == sorted(times) and max(times) <= end
        assert a["status"] != "cancelled" and a["dispatched_at"] <= evs[0]["event_at"]
        if a["closed_at"] is not None:
            assert evs[-1]["event_at"] <= a["closed_at"]
        limit = rules.limit_for(a["category"], a["subcategory"], a["urgency"])
        basis = limit.basis
        base = deadline_for(a["created_at"], limit)
        base_fb = feedback_deadline_for(a["created_at"], limit, base)
        kinds_here = [e["event_type"] for e in evs]
        if "extend" in kinds_here:
            # an extension: before the rule deadline, the note says the new one, the source is manual
            assert kinds_here == ["extend"] and a["deadline_source"] == "manual"
            assert evs[0]["event_at"] < base and a["deadline_at"] > base
            assert evs[0]["note"].endswith(f"办理时限延至{a['deadline_at']:%Y-%m-%d %H:%M}）")
            amount = evs[0]["note"].split("（延期")[1]
            if basis == "clock":
                assert a["deadline_at"] == base + dt.timedelta(hours=int(amount.split("小时")[0]))
            else:
                assert a["deadline_at"] == workcal.add_working_days(base, int(amount.split("个工作日")[0]))
            assert a["feedback_deadline_at"] == base_fb
            continue
        # a pause, resumed or still running at end
        assert kinds_here in (["pause", "resume"], ["pause"]) and a["deadline_source"] == "rule"
        start = evs[0]["event_at"]
        assert start < base
        if kinds_here == ["pause"]:
            assert a["paused_since"] == start and a["status"] == "open"
            assert (a["deadline_at"], a["feedback_deadline_at"]) == (base, base_fb)
            continue
        assert a["paused_since"] is None
        want = deadlines.replay_pauses(base, base_fb, [(start, evs[1]["event_at"])], basis, a["first_feedback_at"])
        assert (a["deadline_at"], a["feedback_deadline_at"]) == want, appeal_id
        if a["deadline_at"] > base:
            assert evs[1]["note"].endswith(f"办理时限顺延至{a['deadline_at']:%Y-%m-%d %H:%M}")
        else:  # paused on non-working time only (working-day limits): nothing to move
            assert basis == "working" and "顺延" not in evs[1]["note"]
    # every other appeal with a deadline has the rule's
    for appeal_id, a in appeals.items():
        if appeal_id in moved or a["deadline_at"] is None:
            continue
        limit = rules.limit_for(a["category"], a["subcategory"], a["urgency"])
        assert a["deadline_at"] == deadline_for(a["created_at"], limit)


def test_a_recompute_of_the_demo_changes_nothing(demo):
    engine, end, appeals, _ = demo
    for everything in (False, True):
        report = deadline_changes.recompute(engine, now=end, all=everything, settings=SETTINGS)
        assert report.examined > 0 and report.updated == 0, report.as_dict()


# --------------------------------------------------------------- import ---

IMPORT_MAPPING = """
[source]
format = "csv"
timezone = "Asia/Shanghai"

[columns]
appeal_id = "id"
created_at = "created"
deadline_at = "deadline"
status = "status"
category = "category"
channel = "channel"

[values.status]
"open" = "open"
"closed" = "closed"
"""


def test_imported_appeals_keep_their_deadline(sor, tmp_path):
    from data_access.importers.appeals import import_appeals
    from data_access.importers.mapping import load_mapping

    export = tmp_path / "export.csv"
    # X1: due Fri 14 Mar 18:00 (not a rule's deadline); X2: exported without one
    export.write_text("id,created,deadline,status,category,channel\n"
                      "X1,2025-03-10 09:00,2025-03-14 18:00,open,城市管理,hotline\n"
                      "X2,2025-03-10 09:00,,open,城市管理,hotline\n", encoding="utf-8")
    mapping_file = tmp_path / "m.toml"
    mapping_file.write_text(IMPORT_MAPPING, encoding="utf-8")
    mapping = load_mapping(mapping_file)
    report = import_appeals(sor, export, mapping, out_dir=None, settings=SETTINGS)
    assert report.inserted == 2
    x1, x2 = _row(sor, "X1"), _row(sor, "X2")
    # allowed Mon 10 09:00 → Fri 14 18:00 = 15 + 3 × 24 + 18 = 105 h; 20 % = 21 h < 24 h → 24 h:
    # 18 h of Fri 14, 6 h of Thu 13 → Thu 13 Mar 18:00
    assert (x1["deadline_at"], x1["deadline_source"], x1["warn_at"]) == (
        T(2025, 3, 14, 18), "import", T(2025, 3, 13, 18))
    assert (x2["deadline_at"], x2["deadline_source"], x2["warn_at"]) == (None, None, None)
    again = import_appeals(sor, export, mapping, out_dir=None, settings=SETTINGS)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)


# ------------------------------------------------------ how late, in words ---

@pytest.mark.parametrize("hours, basis, text", [
    (76.0, "working", "3 个工作日 4 小时"),
    (72.0, "working", "3 个工作日"),
    (24.5, "working", "1 个工作日"),                 # half an hour past a whole working day: cut to the hour
    (5 + 20 / 60, "working", "5 小时 20 分钟"),
    (0.75, "working", "45 分钟"),
    (0.01, "working", "不足 1 分钟"),
    (24 * 1234 + 5, "working", "1,234 个工作日 5 小时"),
    (15294.6, "clock", "15,294 小时"),               # a limit in hours stays in hours, with separators
    (26.9, "clock", "26 小时"),
    (5.5, "clock", "5 小时 30 分钟"),
    (-3.25, "clock", "3 小时 15 分钟"),                # the sign is the caller's word (剩余 / 超期)
    (float("nan"), "working", "—"),
    (None, "clock", "—"),
])
def test_duration_text(hours, basis, text):
    assert deadlines.duration_text(hours, basis) == text


def test_remaining_text_says_which_side_of_the_deadline():
    assert deadlines.remaining_text({"remaining_hours": -50.0, "time_basis": "working"}) == "超期 2 个工作日 2 小时"
    assert deadlines.remaining_text({"remaining_hours": 3.5, "time_basis": "clock"}) == "剩余 3 小时 30 分钟"
    assert deadlines.remaining_text({"remaining_hours": float("nan"), "time_basis": "clock"}) == "—"


def test_with_overdue_measures_each_red_appeal_in_its_basis():
    # Thu 03-05 15:00 deadline, judged Mon 03-09 10:30: 91.5 clock hours, 9 + 24 + 10.5 = 43.5 working hours
    at = dt.datetime(2026, 3, 9, 10, 30)
    received, due = dt.datetime(2026, 3, 5, 9), dt.datetime(2026, 3, 5, 15)
    df = pd.DataFrame([
        dict(appeal_id="u", urgency="urgent", created_at=received, deadline_at=due),
        dict(appeal_id="n", urgency="normal", created_at=received, deadline_at=due),
        dict(appeal_id="p", urgency="normal", created_at=received, deadline_at=due,
             paused_since=dt.datetime(2026, 3, 6, 12)),   # paused after its deadline: late until the pause
        dict(appeal_id="f", urgency="normal", created_at=received, deadline_at=dt.datetime(2026, 3, 20)),
    ])
    out = deadlines.with_overdue(df, at).set_index("appeal_id")
    assert list(out["time_basis"]) == ["clock", "working", "working", "working"]
    assert out.loc["u", "overdue_hours"] == pytest.approx(91.5) and out.loc["u", "overdue"] == "91 小时"
    assert out.loc["n", "overdue_hours"] == pytest.approx(43.5) and out.loc["n", "overdue"] == "1 个工作日 19 小时"
    assert out.loc["p", "overdue_hours"] == pytest.approx(21.0) and out.loc["p", "overdue"] == "21 小时"
    assert pd.isna(out.loc["f", "overdue_hours"]) and out.loc["f", "overdue"] == ""
    assert out.loc["u", "overdue_clock_hours"] == 91.5 and pd.isna(out.loc["u", "overdue_workdays"])
    assert out.loc["n", "overdue_workdays"] == pytest.approx(1.81) and pd.isna(out.loc["n", "overdue_clock_hours"])
