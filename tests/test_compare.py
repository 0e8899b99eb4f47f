"""Comparisons on the drill-down page: the parent's average and the same period a year earlier."""

from __future__ import annotations

import pytest

from data_access import compare
from data_access.scope import Period, Scope
from tests.conftest import insert_appeals, synced_store, ts

EAST, WEST = "101001001001", "102001001001"
T = ts("2026-03-31 12:00")
MARCH = Period(ts("2026-03-01"), ts("2026-04-01"))


@pytest.fixture
def store(tiny_sor):
    rows = []
    for i in range(6):   # east, March 2026: 6 appeals, 3 closed
        rows.append(dict(appeal_id=f"e{i}", created_at=ts("2026-03-02 09:00"), grid_code=EAST,
                         status="closed" if i < 3 else "open", closed_at=ts("2026-03-03 09:00") if i < 3 else None))
    for i in range(2):   # west, March 2026: 2 appeals, both closed
        rows.append(dict(appeal_id=f"w{i}", created_at=ts("2026-03-05 09:00"), grid_code=WEST, status="closed",
                         closed_at=ts("2026-03-06 09:00")))
    for i in range(4):   # east, March 2025: 4 appeals
        rows.append(dict(appeal_id=f"old{i}", created_at=ts("2025-03-10 09:00"), grid_code=EAST))
    rows.append(dict(appeal_id="first", created_at=ts("2025-01-02 09:00"), grid_code=WEST))  # the data begin
    insert_appeals(tiny_sor, rows)
    return synced_store(tiny_sor)


def test_parent_average_and_last_year(store):
    table = compare.comparison(store, Scope("101", "district"), MARCH, T)
    assert table.loc["received", "value"] == 6
    assert table.loc["received", "parent"] == pytest.approx(8 / 2)        # the city's 8, over its 2 districts
    assert table.loc["received", "last_year"] == 4
    assert table.loc["completion_rate", "value"] == pytest.approx(3 / 6)
    assert table.loc["completion_rate", "parent"] == pytest.approx(5 / 8)  # the city's own rate
    assert table.loc["completion_rate", "last_year"] == pytest.approx(0.0)  # four open a year ago


def test_no_comparison_without_a_parent_or_before_the_data(store):
    whole = compare.comparison(store, Scope.whole(), MARCH, T)
    assert whole["parent"].isna().all()
    early = Period(ts("2025-03-01"), ts("2025-04-01"))  # a year before that, there are no data at all
    assert compare.comparison(store, Scope("101", "district"), early, ts("2025-03-31 12:00"))["last_year"].isna().all()
    before_start = Period(ts("2025-12-20"), ts("2026-01-20"))  # last year's span starts before the data
    assert compare.comparison(store, Scope("101", "district"), before_start, T)["last_year"].isna().all()
    assert compare.comparison(store, Scope("101", "district"), Period.all_time(), T)["last_year"].isna().all()


@pytest.mark.parametrize("moment, expected", [
    ("2026-03-31 12:00", "2025-03-31 12:00"),
    ("2024-02-29 08:00", "2023-02-28 08:00"),
])
def test_year_earlier(moment, expected):
    assert compare.year_earlier(ts(moment)) == ts(expected)


@pytest.mark.parametrize("start, end, as_of, expected_start, expected_end, expected_as_of", [
    # a calendar month: the previous calendar month, whatever its length; as-of as far from its end
    ("2026-10-01", "2026-11-01", "2026-11-01", "2026-09-01", "2026-10-01", "2026-10-01"),
    ("2026-03-01", "2026-04-01", "2026-04-01", "2026-02-01", "2026-03-01", "2026-03-01"),
    ("2026-01-01", "2026-02-01", "2026-02-03", "2025-12-01", "2026-01-01", "2026-01-03"),
    # a quarter and a year
    ("2026-07-01", "2026-10-01", "2026-10-01", "2026-04-01", "2026-07-01", "2026-07-01"),
    ("2026-01-01", "2027-01-01", "2027-01-01", "2025-01-01", "2026-01-01", "2026-01-01"),
    # seven days: the seven days before; two months that are not a quarter: the same length before
    ("2026-11-01", "2026-11-08", "2026-11-08", "2026-10-25", "2026-11-01", "2026-11-01"),
    ("2026-02-01", "2026-04-01", "2026-04-01", "2025-12-04", "2026-02-01", "2026-02-01"),
    # a month to date (not a whole month): the same number of days before
    ("2026-12-01", "2026-12-08", "2026-12-07 15:00", "2026-11-24", "2026-12-01", "2026-11-30 15:00"),
])
def test_previous_period(start, end, as_of, expected_start, expected_end, expected_as_of):
    found = compare.previous_period(Period(ts(start), ts(end)), ts(as_of))
    assert found == (Period(ts(expected_start), ts(expected_end)), ts(expected_as_of))


def test_previous_period_of_an_open_period_is_none():
    assert compare.previous_period(Period.all_time(), ts("2026-11-01")) is None
    assert compare.previous_period(Period(ts("2026-10-01"), None), ts("2026-11-01")) is None
