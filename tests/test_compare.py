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


# ------------------------------------------------ 环比: the period before ---
# October 2026 judged on 1 November at midnight; its 环比 is September judged on 1 October at midnight. The data
# begin on 15 August, so August (and October 2025, the 同比) cannot be compared.
EAST_STREET = "101001"
OCT, SEP = Period(ts("2026-10-01"), ts("2026-11-01")), Period(ts("2026-09-01"), ts("2026-10-01"))
NOV_1 = ts("2026-11-01 00:00")


def months_rows() -> list[dict]:
    rows = [dict(appeal_id="first", created_at=ts("2026-08-15 09:00"), grid_code=WEST, category="城市管理")]
    for i in range(5):  # east, October: 3 城市管理 closed on 20 October, 2 供暖 open
        rows.append(dict(appeal_id=f"oct{i}", created_at=ts("2026-10-10 09:00"), grid_code=EAST,
                         category="城市管理" if i < 3 else "供暖", status="closed" if i < 3 else "open",
                         closed_at=ts("2026-10-20 09:00") if i < 3 else None))
    rows.append(dict(appeal_id="west-oct", created_at=ts("2026-10-25 09:00"), grid_code=WEST, category="供暖"))
    for i in range(2):  # east, September: 2 城市管理 closed in September
        rows.append(dict(appeal_id=f"sep{i}", created_at=ts("2026-09-05 09:00"), grid_code=EAST, category="城市管理",
                         status="closed", closed_at=ts("2026-09-08 09:00")))
    # east, 20 September: closed on 5 October, after September's moment: open when September is judged
    rows.append(dict(appeal_id="sep-late", created_at=ts("2026-09-20 09:00"), grid_code=EAST, category="供暖",
                     status="closed", closed_at=ts("2026-10-05 09:00")))
    return rows


@pytest.fixture
def months(tiny_sor):
    insert_appeals(tiny_sor, months_rows())
    return synced_store(tiny_sor)


def test_the_previous_period_is_judged_at_its_own_moment(months):
    table = compare.comparison(months, Scope("101", "district"), OCT, NOV_1)
    assert table.loc["received", "value"] == 5 and table.loc["received", "previous"] == 3
    assert table.loc["completion_rate", "value"] == pytest.approx(3 / 5)
    # on 1 October the late one was still open: 2 of 3, not 3 of 3
    assert table.loc["completion_rate", "previous"] == pytest.approx(2 / 3)
    assert table.loc["per_10k", "previous"] == pytest.approx(3 * 10000 / 6000)
    assert table["last_year"].isna().all()  # October 2025 lies before the data begin


def test_the_previous_period_before_the_data_is_not_a_zero(months):
    # September's 环比 is August, whose first two weeks lie before the first appeal: no comparison at all
    september = compare.comparison(months, Scope("101", "district"), SEP, ts("2026-10-01 00:00"))
    assert september.loc["received", "value"] == 3
    assert september["previous"].isna().all() and september["last_year"].isna().all()
    assert compare.previous_kpis(months, Scope("101", "district"), SEP, ts("2026-10-01 00:00")) is None
    # an open-ended period has no period before it
    assert compare.comparison(months, Scope.whole(), Period.all_time(), NOV_1)["previous"].isna().all()
    found = compare.earlier_periods(months, OCT, NOV_1)
    assert found == {"previous": (SEP, ts("2026-10-01 00:00")), "last_year": None}


def test_previous_kpis_are_the_kpis_of_the_period_before(months):
    before = compare.previous_kpis(months, Scope.whole(), OCT, NOV_1)
    assert before["received"] == 3 and before["closed"] == 2  # the west one of October is not September's
    # October judged on 20 October at midnight: September judged as far before its end (19 September)
    mid = compare.previous_kpis(months, Scope.whole(), OCT, ts("2026-10-20 00:00"))
    assert mid["received"] == 2 and mid["closed"] == 2  # the appeal of 20 September was not yet received


def test_a_moment_judged_like_the_other_period():
    assert compare.judged_like(SEP, OCT, NOV_1) == ts("2026-10-01 00:00")
    assert compare.judged_like(SEP, OCT, ts("2026-11-20 10:00")) == ts("2026-10-20 10:00")
    # a later period is never judged after the moment of the first
    assert compare.judged_like(OCT, SEP, ts("2026-10-01 00:00")) == ts("2026-10-01 00:00")


def test_coverage():
    first = ts("2026-08-15 09:00")
    assert compare.covered(first, SEP, ts("2026-10-01"))
    assert not compare.covered(first, Period(ts("2026-08-01"), ts("2026-09-01")), ts("2026-09-01"))
    assert not compare.covered(None, SEP, ts("2026-10-01"))  # no data at all
    assert not compare.covered(first, SEP, ts("2026-09-01 00:00"))  # not begun at its moment
    assert not compare.covered(first, Period.all_time(), ts("2026-10-01"))


# ------------------------------------------------------ two periods ---

def _rows(df) -> list[tuple]:
    return [(r.key, r.a, r.b, r.change) for r in df.itertuples(index=False)]


def test_two_periods_per_category_and_per_region(months):
    from data_access import two_periods

    city = Scope("100", "city")
    by_category = two_periods.counts_by(months, city, OCT, NOV_1, SEP, ts("2026-10-01"), "category")
    # 供暖: October 2 east + 1 west, September 1; 城市管理: October 3, September 2 (the first appeal is August's)
    assert _rows(by_category) == [("供暖", 3, 1, 2), ("城市管理", 3, 2, 1)]
    by_district = two_periods.counts_by(months, city, OCT, NOV_1, SEP, ts("2026-10-01"), "district")
    assert _rows(by_district) == [("101", 5, 3, 2), ("102", 1, 0, 1)]
    assert list(by_district["name"]) == ["东区", "西区"] and list(by_district["parent_name"]) == ["测试市"] * 2
    # the lists add up to the periods' 受理量
    assert by_category["a"].sum() == compare.comparison(months, city, OCT, NOV_1).loc["received", "value"]


def test_two_periods_judge_each_period_at_its_own_moment_and_list_every_region(months):
    from data_access import two_periods

    # October at 20 October (the west appeal of the 25th is not yet received), September at 19 September
    df = two_periods.counts_by(months, Scope("100", "city"), OCT, ts("2026-10-20"), SEP, ts("2026-09-19"), "district")
    assert _rows(df) == [("101", 5, 2, 3), ("102", 0, 0, 0)]  # the west district is listed with its zeros
    street = two_periods.counts_by(months, Scope("101", "district"), OCT, NOV_1, SEP, ts("2026-10-01"), "street")
    assert _rows(street) == [(EAST_STREET, 5, 3, 2)]


def test_two_periods_refuse_a_grouping_that_is_not_below_the_scope(months):
    from data_access import two_periods

    with pytest.raises(ValueError, match="not below"):
        two_periods.counts_by(months, Scope("101", "district"), OCT, NOV_1, SEP, NOV_1, "district")
    with pytest.raises(ValueError, match="unknown grouping"):
        two_periods.counts_by(months, Scope.whole(), OCT, NOV_1, SEP, NOV_1, "channel")


def test_the_comparisons_agree_on_every_database(any_sor):
    """The same queries through the system of record's views (SQLite, PostgreSQL, MariaDB) and on the copy."""
    from data_access import two_periods
    from data_access.sor_views import ensure_views
    from tests.conftest import insert_regions

    insert_regions(any_sor)
    insert_appeals(any_sor, months_rows())
    ensure_views(any_sor)
    copy = synced_store(any_sor)
    with any_sor.connect() as conn:
        for source in (conn, copy):
            table = compare.comparison(source, Scope("101", "district"), OCT, NOV_1)
            assert (table.loc["received", "previous"], table.loc["completion_rate", "previous"]) == (3,
                                                                                                pytest.approx(2 / 3))
            df = two_periods.counts_by(source, Scope("100", "city"), OCT, NOV_1, SEP, ts("2026-10-01"), "category")
            assert _rows(df) == [("供暖", 3, 1, 2), ("城市管理", 3, 2, 1)]
