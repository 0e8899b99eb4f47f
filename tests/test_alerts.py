"""The warning page's queries: the same red and yellow appeals the indicators count."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from data_access import alerts, queries
from data_access.scope import Period, Scope
from tests.conftest import insert_appeals, synced_store, ts
from tests.test_indicators import APPEALS, MARCH, T
from ui import tables


@pytest.fixture
def store(tiny_sor):
    insert_appeals(tiny_sor, APPEALS)
    return synced_store(tiny_sor)


@pytest.mark.parametrize("scope", [Scope.whole(), Scope("101", "district"), Scope("102", "district")])
@pytest.mark.parametrize("period", [MARCH, Period.all_time()])
def test_totals_and_list_equal_the_indicators(store, scope, period):
    figures = queries.kpis(store, scope, period, T)
    totals = alerts.warning_totals(store, scope, period, T)
    assert totals == {"red": figures["overdue_open"], "yellow": figures["due_soon_open"]}
    listed = alerts.warning_list(store, scope, period, T)
    assert (listed["state"] == "red").sum() == totals["red"] and (listed["state"] == "yellow").sum() == totals["yellow"]
    assert not {"appellant_name", "appellant_phone", "address", "summary"} & set(listed.columns)


def test_counts_by_street_and_department_add_up(store):
    by_street = alerts.warning_counts(store, Scope.whole(), Period.all_time(), T, "street")
    totals = alerts.warning_totals(store, Scope.whole(), Period.all_time(), T)
    assert by_street["red"].sum() == totals["red"] and by_street["yellow"].sum() == totals["yellow"]
    assert list(by_street["red"]) == sorted(by_street["red"], reverse=True)  # the worst first


def test_filters_narrow_the_list(store):
    west = alerts.warning_list(store, Scope.whole(), Period.all_time(), T, filters={"district": "102"})
    assert set(west["district_code"]) <= {"102"}
    with pytest.raises(ValueError):
        alerts.warning_list(store, Scope.whole(), Period.all_time(), T, filters={"phone": "x"})


def test_newly_red_lights_the_last_minute():
    now = dt.datetime(2026, 3, 10, 12, 0, 0)
    deadlines = pd.Series([now - dt.timedelta(seconds=30), now - dt.timedelta(minutes=5), now + dt.timedelta(hours=1)])
    assert alerts.newly_red(deadlines, now).tolist() == [True, False, False]
    df = pd.DataFrame({"工单号": ["a", "b", "c"]})
    html = tables.table_html(df, name="t", row_classes=["new-red", "", ""])
    assert html.count('class="new-red"') == 1 and '<tr class="new-red"><td>a</td>' in html


# ---------------------------------------------------- a hand-made set ---
# Judged at HAND_T (Tuesday 2026-03-10 12:00). Worked out by hand:
#   H1 east, D1, deadline 03-09 18:00           -> red
#   H2 east, D3, deadline 03-10 11:00           -> red
#   H3 west, D2, deadline 03-10 15:00, warned 09:00 -> yellow
#   H4 west, D2, deadline 03-20, warned 03-18   -> normal (not listed)
#   H5 east, D1, deadline 03-05, closed 03-04   -> closed (not listed)
#   H6 east, D1, deadline 03-09, cancelled      -> not listed
#   H7 west, D2, deadline 03-08, paused 03-07   -> paused before its deadline: not red
#   H8 west, D2, no deadline                    -> never red or yellow
HAND_T = ts("2026-03-10 12:00")
HAND_DEPARTMENTS = [("D1", "东区城管局", "district", "101"), ("D2", "西区住建局", "district", "102"),
                    ("D3", "东街道办事处", "street", "101001")]
EAST, WEST = "101001001001", "102001001001"


def _hand(**kw):
    base = dict(created_at=ts("2026-03-02 09:00"), status="open")
    return {**base, **kw}


HAND = [
    _hand(appeal_id="H1", grid_code=EAST, department_code="D1", deadline_at=ts("2026-03-09 18:00")),
    _hand(appeal_id="H2", grid_code=EAST, department_code="D3", deadline_at=ts("2026-03-10 11:00"),
          channel="app", category="环境保护"),
    _hand(appeal_id="H3", grid_code=WEST, department_code="D2", deadline_at=ts("2026-03-10 15:00"),
          warn_at=ts("2026-03-10 09:00")),
    _hand(appeal_id="H4", grid_code=WEST, department_code="D2", deadline_at=ts("2026-03-20 18:00"),
          warn_at=ts("2026-03-18 18:00")),
    _hand(appeal_id="H5", grid_code=EAST, department_code="D1", deadline_at=ts("2026-03-05 18:00"),
          status="closed", closed_at=ts("2026-03-04 10:00")),
    _hand(appeal_id="H6", grid_code=EAST, department_code="D1", deadline_at=ts("2026-03-09 18:00"),
          status="cancelled"),
    _hand(appeal_id="H7", grid_code=WEST, department_code="D2", deadline_at=ts("2026-03-08 18:00"),
          paused_since=ts("2026-03-07 10:00")),
    _hand(appeal_id="H8", grid_code=WEST, department_code="D2"),
]


@pytest.fixture
def hand(tiny_sor):
    from data_access import schema
    from data_access.store import bulk_insert

    bulk_insert(tiny_sor, schema.departments, ["code", "name", "level", "region_code", "updated_at"],
                [(*d, ts("2026-01-01 00:00")) for d in HAND_DEPARTMENTS])
    insert_appeals(tiny_sor, HAND)
    return synced_store(tiny_sor)


def test_hand_made_lights(hand):
    everything = Period.all_time()
    assert alerts.warning_totals(hand, Scope.whole(), everything, HAND_T) == {"red": 2, "yellow": 1}
    listed = alerts.warning_list(hand, Scope.whole(), everything, HAND_T)
    assert listed[["appeal_id", "state"]].values.tolist() == [["H1", "red"], ["H2", "red"], ["H3", "yellow"]]
    assert listed["street"].tolist() == ["东街道", "东街道", "西街道"]
    assert listed["department"].tolist() == ["东区城管局", "东街道办事处", "西区住建局"]
    assert alerts.warning_totals(hand, Scope("102", "district"), everything, HAND_T) == {"red": 0, "yellow": 1}
    # an hour earlier H2 was not yet late, and H3 not yet warned
    assert alerts.warning_totals(hand, Scope.whole(), everything, ts("2026-03-10 08:00")) == {"red": 1, "yellow": 1}


def test_hand_made_counts_worst_first_with_parents(hand):
    everything = Period.all_time()
    streets = alerts.warning_counts(hand, Scope.whole(), everything, HAND_T, "street")
    assert streets[["code", "name", "parent", "red", "yellow"]].values.tolist() == [
        ["101001", "东街道", "东区", 2, 0], ["102001", "西街道", "西区", 0, 1]]
    depts = alerts.warning_counts(hand, Scope.whole(), everything, HAND_T, "department")
    assert depts[["code", "name", "parent", "red", "yellow"]].values.tolist() == [
        ["D1", "东区城管局", "东区", 1, 0], ["D3", "东街道办事处", "东区", 1, 0], ["D2", "西区住建局", "西区", 0, 1]]
    with pytest.raises(ValueError):
        alerts.warning_counts(hand, Scope.whole(), everything, HAND_T, "grid")


@pytest.mark.parametrize("filters, expected", [
    ({"department": "D3"}, ["H2"]),
    ({"street": "102001"}, ["H3"]),
    ({"district": "101"}, ["H1", "H2"]),
    ({"channel": "app"}, ["H2"]),
    ({"category": "环境保护"}, ["H2"]),
    ({"category": "环境保护", "district": "102"}, []),
    ({"department": None}, ["H1", "H2", "H3"]),
])
def test_hand_made_filters(hand, filters, expected):
    listed = alerts.warning_list(hand, Scope.whole(), Period.all_time(), HAND_T, filters=filters)
    assert listed["appeal_id"].tolist() == expected
    totals = alerts.warning_totals(hand, Scope.whole(), Period.all_time(), HAND_T, filters=filters)
    assert totals["red"] + totals["yellow"] == len(expected)


def test_filter_options_are_the_open_appeals_values(hand):
    options = alerts.filter_options(hand, Scope.whole(), HAND_T)
    assert options["department"]["code"].tolist() == ["D1", "D2", "D3"]
    assert options["street"][["code", "name"]].values.tolist() == [["101001", "东街道"], ["102001", "西街道"]]
    assert set(options["channel"]["code"]) == {"hotline", "app"}
