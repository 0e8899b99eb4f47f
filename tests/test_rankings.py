"""红黑榜: the league of streets and departments, its composite, ties, units listed apart, 环比, and the stored
weights, on the tiny city of ``tests/rankings_fixture.py`` (every expected figure computed by hand there)."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from sqlalchemy import select

from data_access import rankings, ranking_weights, schema
from data_access.ranking_weights import DEFAULTS, Weights, WeightsError
from data_access.scope import Period, Scope
from data_access.sor_views import ensure_views
from data_access.store import create_schema, make_engine
from tests import rankings_fixture as fx
from tests.conftest import synced_store, ts

W = Weights(completion=0.3, on_time=0.4, satisfaction=0.3, min_appeals=2)


@pytest.fixture(params=["analytics", "system_of_record"])
def conn(request, sor):
    """The analytics copy (the dashboard's), and the system of record through its views (the CLI's)."""
    fx.build(sor)
    if request.param == "analytics":
        con = synced_store(sor)
        yield con
        con.close()
    else:
        ensure_views(sor)
        with sor.connect() as c:
            yield c


def _by_code(table: pd.DataFrame) -> dict[str, dict]:
    return {row["code"]: row for row in table.to_dict("records")}


def _none(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def test_streets_of_october_as_computed_by_hand(conn):
    table = rankings.league(conn, Scope.whole(), fx.OCTOBER, fx.AS_OF, "street", W)
    rows = _by_code(table)
    east = rows["101001"]
    assert (east["received"], east["valid"], east["closed"], east["due"], east["rated"]) == (4, 3, 2, 3, 2)
    assert east["completion_rate"] == pytest.approx(2 / 3)
    assert east["on_time_rate"] == pytest.approx(1 / 3)
    assert east["satisfaction_rate"] == pytest.approx(1 / 2)
    assert east["composite"] == pytest.approx(0.3 * 2 / 3 + 0.4 * 1 / 3 + 0.3 * 1 / 2)
    assert rankings.score(east["composite"]) == 48.3
    # the two 新华街道 tie at 1 (100.0 each), so 东街道 is 3rd: competition ranking 1, 1, 3
    assert [rows[c]["rank"] for c in ("101002", "102001", "101001")] == [1, 1, 3]
    assert [rows[c]["name"] for c in ("101002", "102001")] == ["新华街道", "新华街道"]
    assert [rows[c]["district"] for c in ("101002", "102001", "101001", "102002")] == ["东区", "西区", "东区", "西区"]
    # the ranked first by rank, then those listed apart
    assert table["code"].tolist() == ["101002", "102001", "101001", "102002"]
    assert table["ranked"].tolist() == [True, True, True, False]


def test_an_undefined_satisfaction_leaves_the_mean_and_the_other_weights_scale_up(conn):
    rows = _by_code(rankings.league(conn, Scope.whole(), fx.OCTOBER, fx.AS_OF, "street", W))
    west = rows["102001"]  # two appeals closed on time, neither rated
    assert west["rated"] == 0 and _none(west["satisfaction_rate"])
    assert west["composite"] == pytest.approx((0.3 * 1 + 0.4 * 1) / 0.7)  # 1.0, not the 0.7 of a zero 满意率
    assert west["ranked"] and west["reason"] is None


def test_a_unit_with_too_few_appeals_is_listed_apart(conn):
    rows = _by_code(rankings.league(conn, Scope.whole(), fx.OCTOBER, fx.AS_OF, "street", W))
    west = rows["102002"]  # one valid appeal, min_appeals 2
    assert (west["valid"], west["ranked"], west["reason"], west["rank"]) == (1, False, "too_few", None)
    assert west["composite"] == pytest.approx(1.0)  # it has a score, shown apart, but no rank
    assert west["rank_change"] is None and _none(west["composite_change"])
    # with a minimum of 1 it joins the three-way tie at the top, and 东街道 is 4th
    rows = _by_code(rankings.league(conn, Scope.whole(), fx.OCTOBER, fx.AS_OF, "street",
                                    Weights(0.3, 0.4, 0.3, min_appeals=1)))
    assert [rows[c]["rank"] for c in ("101002", "102001", "102002", "101001")] == [1, 1, 1, 4]


def test_the_minimum_counts_valid_appeals_not_cancelled_ones(conn):
    # 东街道 received 4, of which 1 cancelled: 3 valid. A minimum of 4 leaves it out, 3 keeps it in.
    assert not _by_code(rankings.league(conn, Scope.whole(), fx.OCTOBER, fx.AS_OF, "street",
                                        Weights(0.3, 0.4, 0.3, 4)))["101001"]["ranked"]
    assert _by_code(rankings.league(conn, Scope.whole(), fx.OCTOBER, fx.AS_OF, "street",
                                    Weights(0.3, 0.4, 0.3, 3)))["101001"]["ranked"]


def test_no_weighted_rate_defined_means_no_composite_and_no_rank(conn):
    only_satisfaction = Weights(completion=0.0, on_time=0.0, satisfaction=1.0, min_appeals=2)
    rows = _by_code(rankings.league(conn, Scope.whole(), fx.OCTOBER, fx.AS_OF, "street", only_satisfaction))
    assert _none(rows["102001"]["composite"]) and rows["102001"]["reason"] == "no_rate"
    assert rows["102002"]["reason"] == "too_few"  # too few comes first
    assert rows["101002"]["composite"] == pytest.approx(1.0) and rows["101001"]["composite"] == pytest.approx(0.5)
    assert (rows["101002"]["rank"], rows["101001"]["rank"]) == (1, 2)


def test_movement_against_september(conn):
    table = rankings.league(conn, Scope.whole(), fx.OCTOBER, fx.AS_OF, "street", W)
    assert table.attrs["previous"] == (fx.SEPTEMBER, fx.SEPTEMBER_AS_OF)
    rows = _by_code(table)
    east, xinhua = rows["101001"], rows["101002"]
    assert (east["previous_rank"], east["rank"], east["rank_change"]) == (1, 3, -2)
    assert east["previous_composite"] == pytest.approx(1.0)
    assert east["composite_change"] == pytest.approx(0.3 * 2 / 3 + 0.4 / 3 + 0.15 - 1.0)
    # t2 was open past its deadline on 1 October (it closed on the 3rd): 1/2, 1/2, 1 → 0.65
    assert xinhua["previous_composite"] == pytest.approx(0.65)
    assert (xinhua["previous_rank"], xinhua["rank"], xinhua["rank_change"]) == (2, 1, 1)
    assert xinhua["composite_change"] == pytest.approx(0.35)
    # 新华街道 (西区) had one appeal in September: not ranked then, so no movement (never a fake 0)
    west = rows["102001"]
    assert west["previous_rank"] is None and west["rank_change"] is None and _none(west["composite_change"])
    assert west["previous_composite"] == pytest.approx(1.0)  # its September score is known, its rank is not


def test_departments_with_their_districts(conn):
    table = rankings.league(conn, Scope.whole(), fx.OCTOBER, fx.AS_OF, "department", W)
    rows = _by_code(table)
    assert set(rows) == {"101-CG", "102-CG", "100-GN", "101001-BSC"}
    assert {c: r["district"] for c, r in rows.items()} == {
        "101-CG": "东区", "102-CG": "西区", "101001-BSC": "东区", "100-GN": "测试市"}  # a city department: the city
    bureau = rows["101-CG"]  # a3 (open, overdue), a4 (cancelled), b1, b2
    assert (bureau["received"], bureau["valid"], bureau["closed"], bureau["due"], bureau["rated"]) == (4, 3, 2, 3, 2)
    assert bureau["composite"] == pytest.approx(0.3 * 2 / 3 + 0.4 * 2 / 3 + 0.3 * 1)
    assert [rows[c]["rank"] for c in ("102-CG", "101-CG", "101001-BSC")] == [1, 2, 3]
    assert rows["100-GN"]["reason"] == "too_few"
    # movement: the street office fell from 1st to 3rd, the bureau kept 2nd (持平, not None), 102-CG was unranked
    assert [rows[c]["rank_change"] for c in ("101001-BSC", "101-CG", "102-CG")] == [-2, 0, None]
    assert bureau["composite_change"] == pytest.approx(0.3 * 2 / 3 + 0.4 * 2 / 3 + 0.3 - 0.65)


def test_a_scope_ranks_its_own_units_only(conn):
    rows = _by_code(rankings.league(conn, Scope("101", "district"), fx.OCTOBER, fx.AS_OF, "street", W))
    assert set(rows) == {"101001", "101002"}
    assert (rows["101002"]["rank"], rows["101001"]["rank"]) == (1, 2)
    rows = _by_code(rankings.league(conn, Scope("102", "district"), fx.OCTOBER, fx.AS_OF, "department", W))
    assert set(rows) == {"102-CG", "100-GN"}  # the departments that handled 西区's appeals: the city's one too
    assert rows["102-CG"]["rank"] == 1 and rows["100-GN"]["rank"] is None


def test_no_movement_without_an_earlier_period_or_data_covering_it(conn):
    # all time: there is no previous period
    table = rankings.league(conn, Scope.whole(), Period.all_time(), fx.AS_OF, "street", W)
    assert table.attrs["previous"] is None
    assert table["rank_change"].map(lambda v: v is None).all()
    assert table["previous_rank"].map(lambda v: v is None).all() and table["previous_composite"].isna().all()
    assert table["ranked"].any()
    # September: the previous period is August, but the data begin on 1 September
    table = rankings.league(conn, Scope.whole(), fx.SEPTEMBER, fx.SEPTEMBER_AS_OF, "street", W)
    assert table.attrs["previous"] is None
    assert table["rank_change"].map(lambda v: v is None).all() and table["composite_change"].isna().all()
    assert _by_code(table)["101001"]["rank"] == 1


def test_an_unknown_unit_is_refused(conn):
    with pytest.raises(ValueError, match="unit"):
        rankings.league(conn, Scope.whole(), fx.OCTOBER, fx.AS_OF, "grid", W)


# ------------------------------------------------------- the pure rules ---

def _figures(**rates) -> pd.DataFrame:
    """Units named by the keys, each with (completion, on_time, satisfaction) and 10 valid appeals."""
    return pd.DataFrame([{"code": code, "valid": 10, "completion_rate": c, "on_time_rate": o, "satisfaction_rate": s}
                         for code, (c, o, s) in rates.items()])


def test_the_composite_weighs_the_defined_rates():
    table = _figures(a=(1.0, 0.5, 0.8), b=(1.0, 0.5, None), c=(None, None, None))
    got = rankings.composite(table, Weights(0.3, 0.4, 0.3, 1))
    assert got[0] == pytest.approx(0.3 + 0.2 + 0.24)
    assert got[1] == pytest.approx((0.3 + 0.2) / 0.7)
    assert math.isnan(got[2])


def test_ties_are_judged_on_the_score_as_shown():
    # 83.34 and 83.26 both show as 83.3: they share 2nd place, and the next is 4th
    table = _figures(a=(0.9, 0.9, 0.9), b=(0.8334, 0.8334, 0.8334), c=(0.8326, 0.8326, 0.8326), d=(0.5, 0.5, 0.5))
    ranked = rankings.ranked(table, Weights(0.3, 0.4, 0.3, 1))
    assert ranked["rank"].tolist() == [1, 2, 2, 4]


def test_red_and_black_boards():
    scores = {"a": 0.9, "b": 0.8, "c": 0.8, "d": 0.7, "e": 0.5, "f": 0.5}
    table = rankings.ranked(_figures(**{k: (v, v, v) for k, v in scores.items()}), Weights(0.3, 0.4, 0.3, 1))
    assert table["rank"].tolist() == [1, 2, 2, 4, 5, 5]
    red, black = rankings.red_black(table, 2)
    assert red["code"].tolist() == ["a", "b", "c"]  # a tie at 2nd place brings both
    assert black["code"].tolist() == ["e", "f"]
    red, black = rankings.red_black(table, 5)  # six units: at most three on each board, none on both
    assert red["code"].tolist() == ["a", "b", "c"] and black["code"].tolist() == ["e", "f", "d"]
    red, black = rankings.red_black(table.iloc[:1], 5)  # one ranked unit: no boards
    assert red.empty and black.empty
    same = rankings.ranked(_figures(**{k: (0.8, 0.8, 0.8) for k in "wxyz"}), Weights(0.3, 0.4, 0.3, 1))
    red, black = rankings.red_black(same, 2)  # all equal: all best, none worst
    assert red["code"].tolist() == list("wxyz") and black.empty
    unranked = table.assign(ranked=[True, True, False, False, False, True])
    red, black = rankings.red_black(unranked, 5)  # only the ranked count: three of them, one place each
    assert red["code"].tolist() == ["a"] and black["code"].tolist() == ["f"]


# ------------------------------------------------------ stored weights ---

def test_the_weights_are_the_defaults_until_stored_and_then_the_newest(any_sor):
    assert ranking_weights.load(any_sor) == DEFAULTS and not DEFAULTS.stored
    first = ranking_weights.save(any_sor, ranking_weights.checked(3, 4, 3, 8), actor="cli", now=ts("2026-11-01 08:00"))
    assert (first.completion, first.on_time, first.satisfaction) == pytest.approx((0.3, 0.4, 0.3))
    ranking_weights.save(any_sor, ranking_weights.checked(1, 1, 2, 5), actor="张伟", now=ts("2026-11-02 09:30"))
    now = ranking_weights.load(any_sor)
    assert (now.completion, now.on_time, now.satisfaction, now.min_appeals) == pytest.approx((0.25, 0.25, 0.5, 5))
    assert (now.changed_by, now.changed_at) == ("张伟", ts("2026-11-02 09:30"))
    with any_sor.connect() as c:
        assert len(c.execute(select(schema.ranking_weights)).all()) == 2  # the history is kept
        audit = c.execute(select(schema.audit_log).where(schema.audit_log.c.action == "ranking_weights_set")
                          .order_by(schema.audit_log.c.id)).all()
    assert [a.actor for a in audit] == ["cli", "张伟"]
    assert '"min_appeals": 5' in audit[1].detail and '"source": "stored"' in audit[1].detail


def test_a_database_without_the_table_gets_the_defaults(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'views.db'}")
    schema.appeals.create(engine)  # like a city's own views: no ranking_weights
    assert ranking_weights.load(engine) == DEFAULTS
    create_schema(engine)
    assert ranking_weights.load(engine) == DEFAULTS


@pytest.mark.parametrize("weights, message", [
    ((-0.1, 0.5, 0.6, 10), "--completion must be 0 or more"),
    ((0.3, float("nan"), 0.3, 10), "--on-time must be a number"),
    ((0.3, 0.4, float("inf"), 10), "--satisfaction must be a number"),
    ((0, 0, 0, 10), "add up to 0"),
    ((0.3, 0.4, 0.3, 0), "--min-appeals must be a whole number"),
    ((0.3, 0.4, 0.3, 2.5), "--min-appeals must be a whole number"),
])
def test_weights_that_cannot_be_stored(weights, message):
    with pytest.raises(WeightsError, match=message):
        ranking_weights.checked(*weights)


def test_stored_weights_rank_and_defaults_do_not(sor):
    """The same data: with the defaults (at least 10 valid appeals) nothing in the tiny city is ranked; with
    the weights stored in the system of record (at least 2) three streets are."""
    fx.build(sor)
    con = synced_store(sor)
    try:
        by_default = rankings.league(con, Scope.whole(), fx.OCTOBER, fx.AS_OF, "street", ranking_weights.load(sor))
        assert not by_default["ranked"].any() and set(by_default["reason"]) == {"too_few"}
        ranking_weights.save(sor, ranking_weights.checked(0.3, 0.4, 0.3, 2), actor="cli", now=ts("2026-11-01 08:00"))
        stored = rankings.league(con, Scope.whole(), fx.OCTOBER, fx.AS_OF, "street", ranking_weights.load(sor))
        assert stored["rank"].tolist() == [1, 1, 3, None]
        assert stored.attrs["weights"].stored
    finally:
        con.close()
