"""督办 in a real browser, as the demo's district (tiedong) and street (lianhua) accounts.

Headless Chromium signs in through the real form. A case's detail shows its
supervisions and their answer events alike, with years; the supervision form
offers the account's own level and below and is signed with its unit and
name; the 督办情况 tab on /alerts says which appeals it counts. Screenshots go
to tests/artifacts/.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from data_access import schema
from data_access.seed.accounts import DEMO_PASSWORD, ensure_demo_accounts
from data_access.store import make_engine
from tests import browser, demo

pytestmark = pytest.mark.browser

LIANHUA = "210302001"  # 莲花街道 of 铁东区


@pytest.fixture(scope="module")
def server(tmp_path_factory, artifacts_dir):
    browser.require_chromium()
    env = demo.build(tmp_path_factory.mktemp("browser_supervision"))
    engine = make_engine(env["APPEALS_DB_URL"])
    ensure_demo_accounts(engine)
    with browser.streamlit_server(env, artifacts_dir / "streamlit-server-supervision.log") as url:
        yield url, engine
    engine.dispose()



def _sign_in(chrome, url: str, path: str, account: str, height: int = 1000):
    page = chrome.new_page(viewport={"width": 1600, "height": height})
    page.goto(f"{url}{path}")
    browser.sign_in(page, account, DEMO_PASSWORD)
    _settle(page)
    return page


_settle = browser.settle


def _level_options(page, screenshot) -> list[str]:
    """Open the 督办级别 select box, read its options and take a screenshot (then close it)."""
    page.wait_for_timeout(800)  # the expander has opened
    page.locator('[data-testid="stSelectbox"]', has_text="督办级别").get_by_role("button", name="Open").click()
    options = page.locator('[role="option"]')
    options.first.wait_for(state="attached", timeout=10_000)
    texts = [t.strip() for t in options.all_inner_texts()]
    page.wait_for_timeout(300)
    page.screenshot(path=str(screenshot))
    page.keyboard.press("Escape")
    return texts


def _case_with_answers(engine) -> str:
    """An appeal of 莲花街道 whose supervisions went up a level and were answered, else any answered one there."""
    s, a = schema.supervisions, schema.appeals
    with engine.connect() as conn:
        rows = conn.execute(select(s.c.appeal_id, s.c.escalated_from, s.c.status)
                            .join(a, a.c.appeal_id == s.c.appeal_id)
                            .where(a.c.grid_code.like(f"{LIANHUA}%")).order_by(s.c.id)).all()
    chained = {r.appeal_id for r in rows if r.escalated_from is not None}
    answered = [r.appeal_id for r in rows if r.status == "answered"]
    both = [x for x in answered if x in chained]
    assert answered, "the demo's 莲花街道 should have answered supervisions"
    return (both or answered)[0]


def _open_unsupervised(engine) -> str:
    a = schema.appeals
    with engine.connect() as conn:
        return conn.execute(select(a.c.appeal_id).where(a.c.grid_code.like(f"{LIANHUA}%"), a.c.status == "open",
                                                        a.c.is_supervised.is_(False))
                            .order_by(a.c.created_at.desc()).limit(1)).scalar_one()


def test_a_district_account_sees_a_consistent_case_and_supervises_at_its_levels(server, chrome, artifacts_dir):
    url, engine = server
    appeal = _case_with_answers(engine)
    page = _sign_in(chrome, url, f"/case?id={appeal}", "tiedong", height=2000)  # tall: the timeline in view
    page.get_by_text("办理过程").wait_for(timeout=30_000)
    timeline = page.locator("ul.timeline").inner_text()
    sups = [r for r in _rows(engine, appeal) if r.status == "answered"]
    for r in sups:  # each answer is in the timeline, at its time, naming its supervision
        assert f"{r.answered_at:%Y-%m-%d %H:%M:%S}" in timeline and f"督办 #{r.id}" in timeline
    assert timeline.count("督办答复") == len(sups)
    page.locator('[data-testid="stDataFrame"] canvas').first.wait_for(timeout=30_000)
    page.wait_for_timeout(1500)  # the grid draws its cells
    page.screenshot(path=str(artifacts_dir / "supervision_case_tiedong.png"))

    page.goto(f"{url}/case?id={_open_unsupervised(engine)}")
    _settle(page)
    page.get_by_text("督办此工单").click()
    page.get_by_label("督办人").wait_for(timeout=10_000)
    assert page.get_by_label("督办人").input_value() == "铁东区综合指挥中心督办科 · 张伟"
    assert _level_options(page, artifacts_dir / "supervision_form_tiedong.png") == ["街道", "区"]

    page.goto(f"{url}/alerts?street={LIANHUA}")
    _settle(page)
    page.get_by_role("tab", name="督办情况").click()
    note = page.get_by_text("以下督办情况只统计符合筛选条件的工单")
    note.wait_for(timeout=30_000)
    assert "街道 莲花街道" in note.inner_text()
    page.wait_for_timeout(1500)
    page.screenshot(path=str(artifacts_dir / "supervision_tab_tiedong.png"))


def test_a_street_account_supervises_at_street_level_and_the_tab_follows_the_filters(server, chrome, artifacts_dir):
    url, engine = server
    page = _sign_in(chrome, url, f"/case?id={_open_unsupervised(engine)}", "lianhua")
    page.get_by_text("督办此工单").click()
    page.get_by_label("督办人").wait_for(timeout=10_000)
    assert page.get_by_label("督办人").input_value() == "莲花街道督办组 · 李娜"
    assert _level_options(page, artifacts_dir / "supervision_form_lianhua.png") == ["街道"]

    with engine.connect() as conn:
        category = conn.execute(select(schema.appeals.c.category)
                                .where(schema.appeals.c.grid_code.like(f"{LIANHUA}%"),
                                       schema.appeals.c.is_supervised.is_(True))
                                .group_by(schema.appeals.c.category)
                                .order_by(schema.appeals.c.category).limit(1)).scalar_one()
    page.goto(f"{url}/alerts?category={category}")
    _settle(page)
    page.get_by_role("tab", name="督办情况").click()
    note = page.get_by_text("以下督办情况只统计符合筛选条件的工单")
    note.wait_for(timeout=30_000)
    assert category in note.inner_text() and "莲花街道" in note.inner_text()
    page.wait_for_timeout(1500)
    page.screenshot(path=str(artifacts_dir / "supervision_tab_lianhua.png"))


def _rows(engine, appeal):
    s = schema.supervisions
    with engine.connect() as conn:
        return conn.execute(select(s).where(s.c.appeal_id == appeal).order_by(s.c.created_at, s.c.id)).all()
