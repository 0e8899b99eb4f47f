"""The data's own time: the newest appeal, feed silence, and historical data opening at its own end."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from streamlit.testing.v1 import AppTest

from data_access import feed
from data_access.clock import local_now
from data_access.scope import Scope
from tests.conftest import CITY_TZ, ROOT, insert_appeals, insert_regions, sign_in, synced_store

T0 = dt.datetime(2026, 3, 2, 10, 30)


# --------------------------------------------------------------- pure ---

def test_expected_arrivals_weigh_each_hour_at_its_own_rate():
    per_hour = [0.0] * 24
    per_hour[10], per_hour[11], per_hour[12] = 2.0, 4.0, 8.0
    # 10:30–11:00 at 2/h, 11:00–12:00 at 4/h, 12:00–12:15 at 8/h: 1 + 4 + 2
    assert feed.expected_arrivals(tuple(per_hour), T0, dt.datetime(2026, 3, 2, 12, 15)) == pytest.approx(7.0)


def test_expected_arrivals_cross_midnight():
    per_hour = tuple(1.0 if h in (23, 0) else 0.0 for h in range(24))
    assert feed.expected_arrivals(per_hour, dt.datetime(2026, 3, 2, 23, 0),
                                  dt.datetime(2026, 3, 3, 1, 0)) == pytest.approx(2.0)


def _status(per_hour: float, silent_minutes: float) -> feed.FeedStatus:
    return feed.FeedStatus(newest=T0, per_hour=(per_hour,) * 24, now=T0 + dt.timedelta(minutes=silent_minutes))


@pytest.mark.parametrize("per_hour, minutes, floor, silent", [
    (6.0, 120, 30, True),     # 12 expected, none came
    (6.0, 40, 30, False),     # 4 expected: a quiet spell, not an outage
    (6.0, 60, 30, True),      # 6 expected
    (60.0, 20, 30, False),    # 20 expected, but below the floor
    (60.0, 20, 10, True),     # the floor is configurable
    (1.0, 240, 30, False),    # a quiet night: 4 expected in four hours
    (0.0, 60 * 24 * 30, 30, False),  # a feed that never had arrivals at that hour is not "silent"
])
def test_silence_is_judged_by_the_usual_arrivals_and_the_floor(per_hour, minutes, floor, silent):
    assert _status(per_hour, minutes).silent(floor) is silent


def test_no_data_is_never_silent():
    assert not feed.FeedStatus(newest=None, per_hour=(5.0,) * 24, now=T0).silent(0)


@pytest.mark.parametrize("newest, horizon, opened", [
    (dt.datetime(2017, 12, 31, 23, 59, 58), dt.datetime(2026, 10, 31), dt.datetime(2017, 12, 31, 23, 59, 58)),
    (dt.datetime(2017, 12, 31, 23, 59, 58, 500), dt.datetime(2026, 10, 31), dt.datetime(2017, 12, 31, 23, 59, 59)),
    (dt.datetime(2026, 11, 1), dt.datetime(2026, 10, 31), None),   # inside the period: the present
    (dt.datetime(2026, 10, 31), dt.datetime(2026, 10, 31), None),   # on its first moment: still inside
    (None, dt.datetime(2026, 10, 31), None),
])
def test_historical_data_opens_at_its_newest_appeal(newest, horizon, opened):
    assert feed.opening_as_of(newest, horizon) == opened


@pytest.mark.parametrize("minutes, text", [(45, "45 分钟"), (119, "119 分钟"), (121, "2 小时"),
                                           (47 * 60 + 59, "47 小时"), (3 * 24 * 60 + 5, "3 天")])
def test_silence_text(minutes, text):
    assert feed.silence_text(dt.timedelta(minutes=minutes)) == text


# ------------------------------------------------------------ queries ---

def test_newest_arrival_and_the_hourly_profile(tiny_sor):
    appeals = [{"appeal_id": f"A{i}", "created_at": T0 - dt.timedelta(days=d, hours=h)}
               for i, (d, h) in enumerate([(0, 0), (1, 0), (2, 0), (1, 3), (40, 0)])]
    appeals.append({"appeal_id": "FUTURE", "created_at": T0 + dt.timedelta(days=3)})  # a clock gone wrong
    insert_appeals(tiny_sor, appeals)
    con = synced_store(tiny_sor)
    assert feed.newest_arrival(con, Scope.whole(), T0 + dt.timedelta(hours=1)) == T0
    per_hour = feed.arrivals_by_hour(con, Scope.whole(), T0, days=28)
    # within 28 days up to T0: three at 10:xx and one at 07:xx (the one 40 days back is outside)
    assert per_hour[10] == pytest.approx(3 / 28) and per_hour[7] == pytest.approx(1 / 28)
    assert sum(per_hour) == pytest.approx(4 / 28)
    assert feed.newest_arrival(con, Scope("102", "district"), T0) is None


# --------------------------------------------------------------- pages ---

def _steady_feed(engine, end: dt.datetime, days: int = 28, every_minutes: int = 10) -> None:
    """Appeals every ten minutes, day and night, for four weeks up to ``end``: six an hour at every hour."""
    n = days * 24 * 60 // every_minutes
    insert_appeals(engine, [{"appeal_id": f"S{i:05d}", "created_at": end - dt.timedelta(minutes=every_minutes * i),
                             "grid_code": "101001001001" if i % 2 else "102001001001"} for i in range(n)])


@pytest.fixture
def page(tiny_sor, tmp_path, monkeypatch):
    monkeypatch.setenv("APPEALS_DB_URL", str(tiny_sor.url))
    monkeypatch.setenv("APPEALS_ANALYTICS_PATH", str(tmp_path / "analytics.duckdb"))

    def run(path: str, **params) -> AppTest:
        at = sign_in(AppTest.from_file(str(ROOT / "app.py"), default_timeout=120))
        at.switch_page(str(ROOT / "pages" / path)) if path != "big_screen.py" else None
        for k, v in params.items():
            at.query_params[k] = v
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    return run


def _html(at) -> str:
    return " ".join(h.value for h in at.get("html"))


@pytest.mark.parametrize("path", ["big_screen.py", "region.py", "alerts.py"])
def test_a_feed_silent_for_two_hours_shows_a_banner(tiny_sor, page, path):
    newest = local_now(CITY_TZ).replace(microsecond=0) - dt.timedelta(hours=2)
    _steady_feed(tiny_sor, newest)
    at = page(path)
    text = _html(at)
    assert "数据源可能中断" in text
    assert re.search(r"最近一条工单 <b>(119 分钟|2 小时)前</b>", text), text  # two hours, to the minute
    assert f'最新工单 <b title="{newest:%Y-%m-%d %H:%M:%S}">' in text
    assert "历史数据" not in text


@pytest.mark.parametrize("path", ["big_screen.py", "region.py", "alerts.py"])
def test_a_live_feed_shows_its_newest_appeal_and_no_banner(tiny_sor, page, path):
    newest = local_now(CITY_TZ).replace(microsecond=0) - dt.timedelta(minutes=5)
    _steady_feed(tiny_sor, newest)
    text = _html(page(path))
    assert f'最新工单 <b title="{newest:%Y-%m-%d %H:%M:%S}">' in text
    assert "数据源可能中断" not in text and "历史数据" not in text


def _historical(engine) -> dt.datetime:
    newest = dt.datetime(2017, 12, 31, 23, 59, 58)
    insert_appeals(engine, [
        {"appeal_id": "H1", "created_at": newest - dt.timedelta(days=3), "status": "closed",
         "closed_at": newest - dt.timedelta(days=2), "handling_level": "grid"},
        {"appeal_id": "H2", "created_at": newest - dt.timedelta(days=1)},
        {"appeal_id": "H3", "created_at": newest, "grid_code": "102001001001"},
        {"appeal_id": "OLD", "created_at": newest - dt.timedelta(days=200)},
    ])
    return newest


@pytest.mark.parametrize("path", ["big_screen.py", "region.py"])
def test_historical_data_opens_at_its_own_time(tiny_sor, page, path):
    newest = _historical(tiny_sor)
    at = page(path)
    text = _html(at)
    assert "历史数据" in text and f"{newest:%Y-%m-%d %H:%M:%S}" in text
    assert "数据源可能中断" not in text  # an archive is not an outage
    values = {m.label.split("](")[0].strip("["): m.value for m in at.metric}
    received = values.get("本月受理") or values.get("受理量")
    assert received == "3"  # the three appeals of December 2017, not an empty present


def test_a_url_as_of_still_wins_over_historical_data(tiny_sor, page):
    _historical(tiny_sor)
    at = page("region.py", as_of="2017-12-30T12:00:00")
    text = _html(at)
    assert "历史数据 · 截至" not in text and "数据源可能中断" not in text
    assert "截至 2017-12-30 12:00" in text


def test_the_historical_alerts_page_judges_open_appeals_at_the_data_time(tiny_sor, page):
    _historical(tiny_sor)
    text = _html(page("alerts.py"))
    # every open appeal is judged in 2017: the page does not open on an empty present
    assert "截至 2017-12-31 23:59" in text and "历史数据" in text


def test_a_url_as_of_with_an_offset_is_read_in_the_city_zone(tiny_sor, page):
    _historical(tiny_sor)
    text = _html(page("region.py", as_of="2017-12-30T04:00:00Z"))
    assert "截至 2017-12-30 12:00" in text  # 04:00 UTC is noon in Shanghai, not 04:00
