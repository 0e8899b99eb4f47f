"""Each indicator on a tiny hand-computed fixture, with the edge cases of docs/metrics.md.

Period: March 2026. As-of time T = 2026-03-10 12:00. Population 10,000.

id   created      deadline      closed (status)        rating (at)        level      feedback (deadline)   notes
a1   03-01 09:00  03-06 09:00   03-05 10:00 closed     satisfied (03-06)  grid       03-01 15:00 (03-02 09:00)  on time
a2   03-02 09:00  03-04 09:00   03-05 10:00 closed     unsatisfied(03-06) street     03-03 10:00 (03-02 12:00)  late, feedback late
a3   03-03 09:00  03-05 09:00   open                   -                  -          none (03-04 09:00)    open and overdue
a4   03-09 12:00  03-10 20:00   open                   -                  -          none (03-11 09:00)    due soon (8 h left)
a5   03-09 12:00  03-20 12:00   open                   -                  -          -                     not due soon
a6   03-04 09:00  none          03-06 09:00 closed     basic (03-07)      community  -                     no deadline
a7   03-05 09:00  03-08 09:00   03-05 10:00 cancelled  -                  -          none (03-06 09:00)    cancelled
a8   03-06 09:00  03-10 09:00   03-07 09:00 closed     unrated            district   -                     repeat
a9   03-08 12:00  03-12 12:00   03-11 09:00 closed     satisfied (03-12)  grid       -                     closed after T
a10  03-11 09:00  -             open                                                                        after T
a11  02-20 09:00  02-25 09:00   open                                                                        before the period
a12  03-02 09:00  03-05 09:00   no time, closed        -                  unknown    -                     closed, no closing time

临期 (yellow) follows warn_at, the moment the remaining working time falls to
max(20 % of the allowed working time, 1 working day), the day threshold only
when shorter than the allowed time (docs/deadlines.md). March 2026 has no
holidays: 03-07/08 and 03-14/15 are weekends. By hand, for the appeals open at T:

a3   allowed 03-03 09:00 → 03-05 09:00 = 15 + 24 + 9 = 48 h; threshold max(9.6 h, 24 h) = 24 h
     → warn_at 03-04 09:00 (past its deadline at T: red, not yellow)
a4   allowed 03-09 12:00 → 03-10 20:00 = 12 + 20 = 32 h; threshold max(6.4 h, 24 h) = 24 h
     → warn_at 03-09 20:00 (≤ T: yellow, 8 working hours left)
a5   allowed 03-09 12:00 → 03-20 12:00 = 12 + 4×24 + 0 (weekend) + 4×24 + 12 = 216 h = 9 days;
     threshold max(43.2 h, 24 h) = 43.2 h: 03-20 gives 12 h, 03-19 24 h, 7.2 h more of 03-18
     → warn_at 03-18 16:48 (normal at T)
a9   created Sunday 03-08 12:00 (no working time until Monday): allowed 24 + 24 + 24 + 12 = 84 h;
     threshold max(16.8 h, 24 h) = 24 h → warn_at 03-11 12:00 (normal at T)
a11  created 02-20 09:00 in the 2026 Spring Festival holiday (02-15 … 02-23): allowed 02-24 (24 h)
     + 02-25 until 09:00 (9 h) = 33 h; threshold 24 h → warn_at 02-24 09:00 (red at T)
"""

from __future__ import annotations

import pytest

from data_access import queries
from data_access.scope import Period, Scope
from tests.conftest import insert_appeals, synced_store, ts

T = ts("2026-03-10 12:00")
MARCH = Period(ts("2026-03-01 00:00"), ts("2026-04-01 00:00"))
EAST, WEST = "101001001001", "102001001001"

APPEALS = [
    dict(appeal_id="a1", created_at=ts("2026-03-01 09:00"), deadline_at=ts("2026-03-06 09:00"),
         closed_at=ts("2026-03-05 10:00"), status="closed", satisfaction="satisfied", rated_at=ts("2026-03-06 09:00"),
         handling_level="grid", first_feedback_at=ts("2026-03-01 15:00"), feedback_deadline_at=ts("2026-03-02 09:00")),
    dict(appeal_id="a2", created_at=ts("2026-03-02 09:00"), deadline_at=ts("2026-03-04 09:00"),
         closed_at=ts("2026-03-05 10:00"), status="closed", satisfaction="unsatisfied",
         rated_at=ts("2026-03-06 09:00"), handling_level="street", first_feedback_at=ts("2026-03-03 10:00"),
         feedback_deadline_at=ts("2026-03-02 12:00")),
    dict(appeal_id="a3", created_at=ts("2026-03-03 09:00"), deadline_at=ts("2026-03-05 09:00"),
         feedback_deadline_at=ts("2026-03-04 09:00"), warn_at=ts("2026-03-04 09:00")),
    dict(appeal_id="a4", created_at=ts("2026-03-09 12:00"), deadline_at=ts("2026-03-10 20:00"),
         feedback_deadline_at=ts("2026-03-11 09:00"), grid_code=WEST, warn_at=ts("2026-03-09 20:00")),
    dict(appeal_id="a5", created_at=ts("2026-03-09 12:00"), deadline_at=ts("2026-03-20 12:00"), grid_code=WEST,
         warn_at=ts("2026-03-18 16:48")),
    dict(appeal_id="a6", created_at=ts("2026-03-04 09:00"), closed_at=ts("2026-03-06 09:00"), status="closed",
         satisfaction="basic", rated_at=ts("2026-03-07 09:00"), handling_level="community"),
    dict(appeal_id="a7", created_at=ts("2026-03-05 09:00"), deadline_at=ts("2026-03-08 09:00"),
         closed_at=ts("2026-03-05 10:00"), status="cancelled", feedback_deadline_at=ts("2026-03-06 09:00"),
         grid_code=WEST),
    dict(appeal_id="a8", created_at=ts("2026-03-06 09:00"), deadline_at=ts("2026-03-10 09:00"),
         closed_at=ts("2026-03-07 09:00"), status="closed", handling_level="district", is_repeat=True,
         grid_code=WEST),
    dict(appeal_id="a9", created_at=ts("2026-03-08 12:00"), deadline_at=ts("2026-03-12 12:00"),
         closed_at=ts("2026-03-11 09:00"), status="closed", satisfaction="satisfied",
         rated_at=ts("2026-03-12 09:00"), handling_level="grid", grid_code=WEST, warn_at=ts("2026-03-11 12:00")),
    dict(appeal_id="a10", created_at=ts("2026-03-11 09:00")),
    dict(appeal_id="a11", created_at=ts("2026-02-20 09:00"), deadline_at=ts("2026-02-25 09:00"),
         warn_at=ts("2026-02-24 09:00")),
    dict(appeal_id="a12", created_at=ts("2026-03-02 09:00"), deadline_at=ts("2026-03-05 09:00"), status="closed"),
]


@pytest.fixture
def store(tiny_sor):
    insert_appeals(tiny_sor, APPEALS)
    return synced_store(tiny_sor)


def kpis(store, scope=Scope.whole(), period=MARCH, as_of=T):
    return queries.kpis(store, scope, period, as_of)


# received a1-a9, a12 (a10 is after T, a11 before March)
@pytest.mark.parametrize("key, expected", [
    ("received", 10),
    ("cancelled", 1),          # a7
    ("closed", 5),             # a1 a2 a6 a8 a12 (a9 closed after T)
    ("overdue_open", 1),       # a3 (a9's deadline is after T)
    ("due_soon_open", 1),      # a4 (warn_at 03-09 20:00); a5 yellow from 03-18 16:48, a9 from 03-11 12:00
    ("valid", 9),
])
def test_counts(store, key, expected):
    assert kpis(store)[key] == expected


@pytest.mark.parametrize("key, numerator, denominator", [
    ("completion_rate", 5, 9),        # closed / (received - cancelled)
    ("on_time_rate", 2, 4),           # a1 a8 on time / a1 a2 a8 judged + a3 overdue (a6 no deadline, a12 no time)
    ("feedback_on_time_rate", 1, 3),  # a1 / a1 a2 (given) + a3 (deadline passed); a4 not due; a7 cancelled
    ("satisfaction_rate", 2, 3),      # a1 a6 / a1 a2 a6 rated by T (a8 a12 unrated, a9 rated after T)
    ("callback_rate", 3, 5),          # rated / closed
    ("in_grid_rate", 2, 4),           # a1 grid, a6 community / a1 a2 a6 a8 (a12's level unknown)
    ("in_street_rate", 3, 4),         # + a2 street
    ("repeat_rate", 1, 9),            # a8 / received - cancelled
])
def test_rates(store, key, numerator, denominator):
    assert kpis(store)[key] == pytest.approx(numerator / denominator)


def test_per_10k_uses_valid_appeals_and_the_scope_population(store):
    whole = kpis(store)
    assert whole["population"] == 10000
    assert whole["per_10k"] == pytest.approx(9 * 10000 / 10000)
    west = kpis(store, Scope("102", "district"))
    # a4 a5 a8 a9 valid (a7 cancelled), population 4,000
    assert west["per_10k"] == pytest.approx(4 * 10000 / 4000)


def test_later_as_of_sees_later_closing_and_rating(store):
    later = kpis(store, as_of=ts("2026-03-12 10:00"))
    assert later["received"] == 11           # a10 now received too
    assert later["closed"] == 6              # + a9
    assert later["satisfaction_rate"] == pytest.approx(3 / 4)  # + a9 rated 03-12 09:00
    assert later["overdue_open"] == 2        # a3 (due 03-05) and a4 (due 03-10 20:00); a5 is due 03-20


def test_scope_splits_add_up(store):
    whole = kpis(store)
    east, west = kpis(store, Scope("101", "district")), kpis(store, Scope("102", "district"))
    for key in ("received", "closed", "cancelled", "overdue_open", "due_soon_open"):
        assert east[key] + west[key] == whole[key]
    assert east["received"] == 5 and west["received"] == 5  # a1 a2 a3 a6 a12 | a4 a5 a7 a8 a9


def test_empty_scope_gives_zero_counts_and_null_rates(store):
    empty = kpis(store, period=Period(ts("2025-01-01"), ts("2025-02-01")))
    assert empty["received"] == 0
    for key in ("completion_rate", "on_time_rate", "satisfaction_rate", "in_grid_rate", "repeat_rate"):
        assert empty[key] is None


def test_children_match_the_scope_figures(store):
    kids = queries.children(store, Scope.whole(), MARCH, T, "district").set_index("code")
    assert list(kids.index) == ["101", "102"]
    for code in kids.index:
        scoped = kpis(store, Scope(code, "district"))
        for key in ("received", "closed", "overdue_open", "completion_rate", "on_time_rate", "per_10k"):
            assert kids.loc[code, key] == pytest.approx(scoped[key], nan_ok=True)


def test_children_include_regions_without_appeals(store):
    kids = queries.children(store, Scope.whole(), Period(ts("2026-03-09"), ts("2026-03-10")), T, "district")
    assert dict(zip(kids["code"], kids["received"])) == {"101": 0, "102": 2}  # a4 a5


def test_daily_trend_counts_received_and_closed_per_day(store):
    trend = queries.daily_trend(store, Scope.whole(), Period(ts("2026-03-04"), ts("2026-03-08")), T)
    assert list(trend["day"].dt.strftime("%m-%d")) == ["03-04", "03-05", "03-06", "03-07"]
    assert list(trend["received"]) == [1, 1, 1, 0]   # a6 | a7 | a8 | -
    assert list(trend["closed"]) == [0, 2, 1, 1]     # - | a1 a2 | a6 | a8  (a7 cancelled is not closed)


def test_newest_overdue_lists_no_personal_data(store):
    rows = queries.newest_overdue(store, Scope.whole(), T)
    # every open appeal past its deadline, whenever received; the latest deadline first
    assert list(rows["appeal_id"]) == ["a3", "a11"]
    # a3's limit is in working days: Thu 03-05 09:00 to Tue 03-10 12:00 is 15 + 24 + 24 + 12 = 75 working hours
    assert rows["overdue_hours"].iloc[0] == pytest.approx(75.0) and rows["overdue"].iloc[0] == "3 个工作日 3 小时"
    assert not {"appellant_name", "appellant_phone", "address", "summary"} & set(rows.columns)


def test_same_figures_on_the_system_of_record(tiny_sor, store):
    """The query layer gives the same answer on the SQLite system of record, through its views."""
    from data_access.sor_views import ensure_views

    ensure_views(tiny_sor)
    with tiny_sor.connect() as conn:
        direct = queries.kpis(conn, Scope("101", "district"), MARCH, T)
        kids = queries.children(conn, Scope.whole(), MARCH, T, "district")
    copied = kpis(store, Scope("101", "district"))
    for key in direct.index:
        assert direct[key] == pytest.approx(copied[key]), key
    assert list(kids["received"]) == [5, 5]


# ------------------------------------------------------- 临期 and pauses ---

def test_warn_at_of_the_fixture_is_the_engines():
    """The hand-worked warn_at values above are what the deadline engine computes."""
    from data_access.deadlines import warn_at_for

    for a in APPEALS:
        if a.get("warn_at") is not None:
            assert warn_at_for(a["created_at"], a["deadline_at"]) == a["warn_at"], a["appeal_id"]


def _variant(changes: dict[str, dict]) -> list[dict]:
    return [{**a, **changes.get(a["appeal_id"], {})} for a in APPEALS]


def _kpis_of(engine, appeals, as_of=T):
    insert_appeals(engine, appeals)
    con = synced_store(engine)
    try:
        return queries.kpis(con, Scope.whole(), MARCH, as_of)
    finally:
        con.close()


# Other thresholds, by hand (the allowed times are those of the docstring):
#   fraction 0.5, 1 day: a4 max(16 h, 24 h) = 24 h → 03-09 20:00 (yellow at T);
#     a5 max(108 h, 24 h) = 108 h: 03-20 12 h, 03-19 … 03-16 4 × 24 h ends at 03-16 00:00, which is
#     24:00 of Friday 03-13 → 03-14 00:00; a9 42 h: 03-12 12 h, 03-11 24 h, 6 h of 03-10 → 03-10 18:00
#   fraction 0.2, 2 days: a4's 48 h is not shorter than its 32 h, so only 20 % counts: 6.4 h
#     → 03-10 13:36 (not yet yellow at T); a9 max(16.8 h, 48 h) = 48 h: 03-12 12 h, 03-11 24 h,
#     12 h of 03-10 → 03-10 12:00 = T (yellow: warn_at ≤ T); a5 48 h → 03-18 12:00
@pytest.mark.parametrize("fraction, workdays, warn, yellow", [
    (0.5, 1.0, {"a4": "2026-03-09 20:00", "a5": "2026-03-14 00:00", "a9": "2026-03-10 18:00"}, {"a4"}),
    (0.2, 2.0, {"a4": "2026-03-10 13:36", "a5": "2026-03-18 12:00", "a9": "2026-03-10 12:00"}, {"a9"}),
])
def test_due_soon_follows_warn_at_under_other_thresholds(tiny_sor, fraction, workdays, warn, yellow):
    from data_access import cases
    from data_access.deadlines import warn_at_for

    by_id = {a["appeal_id"]: a for a in APPEALS}
    for key, when in warn.items():
        a = by_id[key]
        assert warn_at_for(a["created_at"], a["deadline_at"], fraction=fraction, workdays=workdays) == ts(when)
    insert_appeals(tiny_sor, _variant({k: {"warn_at": ts(v)} for k, v in warn.items()}))
    con = synced_store(tiny_sor)
    try:
        got = queries.kpis(con, Scope.whole(), MARCH, T)
        listed = set(cases.case_list(con, Scope.whole(), MARCH, T, "due_soon_open")["appeal_id"])
    finally:
        con.close()
    assert (got["due_soon_open"], got["overdue_open"]) == (len(yellow), 1)
    assert listed == yellow


def test_rows_without_warn_at_use_the_calendar_rule(tiny_sor):
    # a city database served through views has no warn_at: 24 clock hours or 20 % of created → deadline.
    # a4: 8 h left → yellow; a5: 216 h left of 264 h; a9: 48 h left of 96 h → not
    got = _kpis_of(tiny_sor, _variant({k: {"warn_at": None} for k in ("a3", "a4", "a5", "a9", "a11")}))
    assert (got["due_soon_open"], got["overdue_open"]) == (1, 1)


@pytest.mark.parametrize("changes, overdue, due_soon, on_time", [
    # a3 paused on 03-04 12:00, before its deadline 03-05 09:00: its clock stopped, not red;
    # a4 paused at 03-10 08:00, before T: not yellow. 按时办结率 loses a3 from its denominator: 2 / 3
    ({"a3": {"paused_since": ts("2026-03-04 12:00")}, "a4": {"paused_since": ts("2026-03-10 08:00")}}, 0, 0, 2 / 3),
    # a3 paused on 03-06 10:00, after its deadline: a pause does not hide lateness, still red
    ({"a3": {"paused_since": ts("2026-03-06 10:00")}}, 1, 1, 2 / 4),
    # paused after T: at T neither pause had begun
    ({"a3": {"paused_since": ts("2026-03-10 13:00")}, "a4": {"paused_since": ts("2026-03-10 13:00")}}, 1, 1, 2 / 4),
])
def test_paused_appeals_are_neither_red_nor_yellow(tiny_sor, changes, overdue, due_soon, on_time):
    got = _kpis_of(tiny_sor, _variant(changes))
    assert (got["overdue_open"], got["due_soon_open"]) == (overdue, due_soon)
    assert got["on_time_rate"] == pytest.approx(on_time)
