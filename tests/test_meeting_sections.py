"""The meeting's 红黑榜 section and its child units' trends and categories (data_access/meeting_sections.py), on
the tiny city of ``tests/rankings_fixture.py`` (every figure computed by hand there): the section keeps the
weights it was ranked with, and a frozen snapshot keeps its ranking after the weights change."""

from __future__ import annotations

import datetime as dt

import pytest

from data_access import meeting, meeting_sections, ranking_weights, snapshots
from data_access.ranking_weights import Weights
from data_access.scope import Scope
from tests import rankings_fixture as fx
from tests.conftest import synced_store, ts

CITY = Scope("100", "city")
EAST = Scope("101", "district")
W = Weights(completion=0.3, on_time=0.4, satisfaction=0.3, min_appeals=2)


@pytest.fixture
def city(sor):
    fx.build(sor)
    con = synced_store(sor)
    yield sor, con
    con.close()


def _units(section, unit: str) -> dict[str, dict]:
    return {r["code"]: r for r in section.records() if r["unit"] == unit}


def test_the_rankings_section_holds_both_leagues_and_the_weights_used(city):
    _, con = city
    f = meeting.figures(con, CITY, fx.OCTOBER, fx.AS_OF, weights=W)
    section = f.section(meeting.RANKINGS)
    streets, departments = _units(section, "street"), _units(section, "department")
    assert set(streets) == {"101001", "101002", "102001", "102002"}
    # the two 新华街道 tie at 1 (100.0), 东街道 is 3 (48.3), 西街道 has one valid appeal: too few
    assert {c: r["rank"] for c, r in streets.items()} == {"101002": 1, "102001": 1, "101001": 3, "102002": None}
    assert streets["101001"]["composite"] == pytest.approx(0.3 * 2 / 3 + 0.4 / 3 + 0.3 / 2)
    assert streets["102002"]["reason"] == "too_few" and streets["102002"]["ranked"] is False
    # movement against September: 东街道 1 → 3, 新华街道 (东区) 2 → 1
    assert (streets["101001"]["rank_change"], streets["101002"]["rank_change"]) == (-2, 1)
    assert {c: r["rank"] for c, r in departments.items()} == {"102-CG": 1, "101-CG": 2, "101001-BSC": 3,
                                                            "100-GN": None}
    assert departments["101-CG"]["district"] == "东区"
    notes = section.notes
    assert (notes["weight_completion"], notes["weight_on_time"], notes["weight_satisfaction"],
            notes["min_appeals"], notes["weights_source"]) == (0.3, 0.4, 0.3, 2, "default")
    assert notes["previous_label"] == "2026年9月"
    assert meeting_sections.weights_of(notes) == W


def test_without_weights_the_defaults_rank(city):
    _, con = city
    section = meeting.figures(con, EAST, fx.OCTOBER, fx.AS_OF).section(meeting.RANKINGS)
    assert section.notes["min_appeals"] == ranking_weights.DEFAULTS.min_appeals == 10
    # no street of 东区 has ten valid appeals: none is ranked
    assert [r["rank"] for r in section.records()] == [None] * len(section)


def test_each_child_unit_has_its_trend_and_top_categories(city):
    _, con = city
    f = meeting.figures(con, EAST, fx.OCTOBER, fx.AS_OF, weights=W)
    trend = f.section(meeting.CHILD_TREND)
    by_street = {}
    for r in trend.records():
        by_street.setdefault(r["code"], []).append(r)
    assert set(by_street) == {"101001", "101002"} and all(len(v) == 31 for v in by_street.values())
    # 东街道: a1..a4 received on 2, 3, 4, 5 October; a1 closed on the 5th, a2 on the 12th
    east = {r["day"]: (r["received"], r["closed"]) for r in by_street["101001"] if (r["received"], r["closed"]) != (0, 0)}
    assert east == {dt.date(2026, 10, 2): (1, 0), dt.date(2026, 10, 3): (1, 0), dt.date(2026, 10, 4): (1, 0),
                    dt.date(2026, 10, 5): (1, 1), dt.date(2026, 10, 12): (0, 1)}
    cats = f.section(meeting.CHILD_CATEGORIES)
    assert sum(n for c, n in zip(cats.column("code"), cats.column("received")) if c == "101002") == 2


def test_a_snapshot_keeps_its_ranking_after_the_weights_change(city):
    sor, con = city
    ranking_weights.save(sor, W, actor="admin", now=ts("2026-11-02 08:00"))
    made = snapshots.freeze(sor, con, CITY, fx.OCTOBER, fx.AS_OF, name="10月讲评", created_by="admin")
    frozen = made.figures.section(meeting.RANKINGS)
    assert frozen.notes["min_appeals"] == 2 and frozen.notes["weights_source"] == "stored"
    # satisfaction alone, and one valid appeal is enough: 西街道 is ranked, 东街道 (1/2 satisfied) falls
    ranking_weights.save(sor, Weights(completion=0, on_time=0, satisfaction=1, min_appeals=1), actor="admin",
                         now=ts("2026-11-03 08:00"))
    live = snapshots.freeze(sor, con, CITY, fx.OCTOBER, fx.AS_OF, name="again", created_by="admin")
    assert live.figures.section(meeting.RANKINGS).notes["min_appeals"] == 1
    assert _units(live.figures.section(meeting.RANKINGS), "street")["101001"]["composite"] == pytest.approx(0.5)
    back = snapshots.load(sor, made.info.id).figures.section(meeting.RANKINGS)
    assert back == frozen
    assert _units(back, "street")["102002"]["rank"] is None
    assert _units(back, "street")["101001"]["composite"] == pytest.approx(0.3 * 2 / 3 + 0.4 / 3 + 0.3 / 2)
