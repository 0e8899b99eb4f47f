"""Names that exist more than once are told apart wherever a list spans several parents."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from data_access import queries, schema
from data_access.scope import Scope
from tests.conftest import insert_regions, synced_store
from tests.html_tables import all_tables
from ui import format as fmt


@pytest.mark.parametrize("names, contexts, shown", [
    (["甲", "乙"], [("东区",), ("西区",)], ["甲", "乙"]),  # no shared name: nothing added
    (["北城社区第6网格"] * 3, [("铁东区", "甲街道"), ("铁西区", "乙街道"), ("立山区", "丙街道")],
     ["北城社区第6网格（铁东区）", "北城社区第6网格（铁西区）", "北城社区第6网格（立山区）"]),
    (["办事处", "办事处"], [("铁东区", "湖南街道"), ("铁东区", "湖北街道")],  # same district: go one level down
     ["办事处（铁东区·湖南街道）", "办事处（铁东区·湖北街道）"]),
    (["办事处", "办事处", "独有"], [("铁西区", None), (), ("铁西区",)], ["办事处（铁西区）", "办事处", "独有"]),
])
def test_distinct_names(names, contexts, shown):
    assert fmt.distinct_names(names, contexts) == shown


def test_one_entity_listed_twice_needs_no_parents():
    names = ["甲网格", "甲网格", "甲网格"]
    contexts = [("东区",), ("东区",), ("西区",)]
    assert fmt.distinct_names(names, contexts, keys=["g1", "g1", "g2"]) == ["甲网格（东区）", "甲网格（东区）",
                                                                            "甲网格（西区）"]
    assert fmt.distinct_names(names[:2], contexts[:2], keys=["g1", "g1"]) == ["甲网格", "甲网格"]


REGIONS = [
    ("1", "市", "city", None, 100),
    ("11", "东区", "district", "1", 50), ("12", "西区", "district", "1", 50),
    ("111", "城关街道", "street", "11", 50), ("121", "城关街道", "street", "12", 50),
    ("1111", "北城社区", "community", "111", 50), ("1211", "北城社区", "community", "121", 50),
    ("11111", "北城社区第6网格", "grid", "1111", 50), ("12111", "北城社区第6网格", "grid", "1211", 50),
]


def test_region_context_names_the_parents_inside_the_scope(sor):
    insert_regions(sor, REGIONS)
    con = synced_store(sor)
    ctx = queries.region_context(con, Scope.whole(), ["11111", "12111", "nope"]).set_index("code")
    assert ctx.loc["11111"].tolist() == ["东区", "城关街道", "北城社区"]
    assert ctx.loc["12111"].tolist() == ["西区", "城关街道", "北城社区"]
    names = fmt.distinct_names(["北城社区第6网格"] * 2, [tuple(ctx.loc[c]) for c in ("11111", "12111")])
    assert names == ["北城社区第6网格（东区）", "北城社区第6网格（西区）"]
    # a district's view knows nothing of the other district
    assert list(queries.region_context(con, Scope("11", "district"), ["11111", "12111"])["code"]) == ["11111"]


def test_the_demo_city_has_shared_names_and_the_city_page_tells_them_apart(tmp_path, monkeypatch):
    """The city-level drill-down's tables of grids and departments hold no two equal names."""
    from streamlit.testing.v1 import AppTest

    from data_access.store import make_engine
    from tests import demo
    from tests.conftest import ROOT, sign_in

    env = demo.build(tmp_path, appeals=6000, months=2)
    engine = make_engine(env["APPEALS_DB_URL"])
    with engine.connect() as conn:
        r = schema.regions
        shared = conn.execute(select(func.count()).select_from(
            select(r.c.name).where(r.c.level == "grid").group_by(r.c.name).having(func.count() > 1).subquery()
        )).scalar_one()
    assert shared > 0, "the demo must have grid names shared across districts for this test to mean anything"
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    at = sign_in(AppTest.from_file(str(ROOT / "app.py"), default_timeout=120))
    at.switch_page(str(ROOT / "pages" / "region.py"))
    at.query_params["period"] = "all"
    at.run()
    assert not at.exception
    checked = 0
    for frame in all_tables(at):
        df = frame.value
        for column in ("网格", "承办单位"):
            if column in df.columns and len(df) > 1:
                codes = _codes_of(df)
                if codes is None:
                    continue
                checked += 1
                by_name: dict[str, set] = {}
                for name, code in zip(df[column], codes):
                    by_name.setdefault(name, set()).add(code)
                assert all(len(c) == 1 for c in by_name.values()), by_name  # one name, one unit
    assert checked >= 2

    # two grids of the demo that share a name, as the page's helper shows them
    with engine.connect() as conn:
        r = schema.regions
        name = conn.execute(select(r.c.name).where(r.c.level == "grid").group_by(r.c.name)
                            .having(func.count() > 1).order_by(r.c.name).limit(1)).scalar_one()
        codes = list(conn.execute(select(r.c.code).where(r.c.name == name).order_by(r.c.code)).scalars())
    from data_access import access, cached
    from ui.region import with_parents

    fresh = cached.refresh()
    acting = cached._ACTING.set(cached._Acting(None, access.Grant(region_code=None), None))
    try:
        shown = with_parents(cached.token(fresh), Scope.whole(), [name] * len(codes), codes)
    finally:
        cached._ACTING.reset(acting)
    assert len(set(shown)) == len(codes) and all(s.startswith(name + "（") for s in shown), shown


def _codes_of(df):
    """The unit's code behind each row, read from its 工单 link (region=… or department=…)."""
    from urllib.parse import parse_qs, urlparse

    if "工单" not in df.columns:
        return None
    codes = []
    for link in df["工单"]:
        query = parse_qs(urlparse(str(link)).query)
        code = (query.get("department") or query.get("region") or [None])[0]
        if code is None:
            return None
        codes.append(code)
    return codes
