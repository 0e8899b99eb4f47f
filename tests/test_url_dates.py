"""Extreme dates in the URL (from=0001-01-01&to=9999-12-31, as_of=0001-01-01): every page in
pages/ shows a clear message and the default view instead of failing."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from data_access import schema
from data_access.store import make_engine
from tests import demo
from tests.conftest import ROOT, sign_in

pytestmark = pytest.mark.attack("injection")

SPAN = "1900-01-01 至 2199-12-31"
URLS = {
    "dates": ({"period": "custom", "from": "0001-01-01", "to": "9999-12-31"},
              f"时间段 0001-01-01 至 9999-12-31 超出可显示的日期范围（{SPAN}），已改为近30天"),
    "moments": ({"period": "custom", "from": "0001-01-01T00:00:00", "to": "9999-12-31T23:59:59"},
                "超出可显示的日期范围"),
    "as_of_first": ({"as_of": "0001-01-01"}, f"时间点 “0001-01-01” 超出可显示的日期范围（{SPAN}），已显示最新数据"),
    "as_of_last": ({"as_of": "9999-12-31T23:59:59"}, "时间点 “9999-12-31T23:59:59” 超出可显示的日期范围"),
}
# the pages that list the URL's problems on screen, and what each needs besides
SHOWN = {"big_screen": {}, "region": {}, "alerts": {}, "cases": {"figure": "received"}, "rankings": {}, "snapshots": {},
         "compare": {}, "present": {}}


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    env = demo.build(tmp_path_factory.mktemp("url_dates"), appeals=2_000, months=2)
    engine = make_engine(env["APPEALS_DB_URL"])
    with engine.connect() as conn:
        appeal = conn.execute(select(schema.appeals.c.appeal_id).limit(1)).scalar_one()
    engine.dispose()
    return env, appeal


def _run(city, monkeypatch, page: str, params: dict, role: str = "city") -> AppTest:
    env, _ = city
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    at = sign_in(AppTest.from_file(str(ROOT / "app.py"), default_timeout=120), role=role)
    at.switch_page(f"pages/{page}.py")
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not [e.value for e in at.error if "页面出错" in e.value]
    return at


def test_every_page_is_covered():
    assert {p.stem for p in (ROOT / "pages").glob("*.py")} == {*SHOWN, "case", "audit"}


@pytest.mark.parametrize("url", list(URLS))
@pytest.mark.parametrize("page", list(SHOWN))
def test_a_page_says_the_dates_are_out_of_range_and_shows_the_default(city, monkeypatch, page, url):
    params, message = URLS[url]
    at = _run(city, monkeypatch, page, {**params, **SHOWN[page]})
    warnings = [w.value for w in at.warning]
    assert any(message in w for w in warnings), warnings


@pytest.mark.parametrize("url", list(URLS))
def test_the_case_and_audit_pages_open_with_such_a_url(city, monkeypatch, url):
    params, _ = URLS[url]
    at = _run(city, monkeypatch, "case", {**params, "id": city[1]})
    shown = [h.value for h in at.get("html")] + [m.value for m in at.markdown]
    assert any(city[1] in text for text in shown)
    # its links back do not carry the dates on: they open the default view
    assert not [text for text in shown if "0001-01-01" in text or "9999-12-31" in text]
    _run(city, monkeypatch, "audit", params, role="admin")
