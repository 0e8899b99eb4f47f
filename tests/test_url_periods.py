"""Periods in the URL (ui/params.py) and in the picker (ui/periods.py): the calendar forms beside the presets
and custom dates, their labels, a bad value named with the accepted forms, and the texts the picker writes."""

from __future__ import annotations

import datetime as dt

import pytest

from data_access.scope import Period
from ui import params, periods


def ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def view_of(query: dict, as_of: dt.datetime | None = None) -> params.ViewParams:
    period, date_from, date_to, problems = params.read_period(query)
    return params.ViewParams(kiosk=False, period=period, date_from=date_from, date_to=date_to, region=None,
                             as_of=as_of, problems=tuple(problems))


@pytest.mark.parametrize("text, kind, start, end, label", [
    ("2026-10-15", "day", "2026-10-15", "2026-10-16", "2026年10月15日"),
    ("2026-W44", "week", "2026-10-26", "2026-11-02", "2026年第44周（10-26至11-01）"),
    ("2026-10", "month", "2026-10-01", "2026-11-01", "2026年10月"),
    ("2026-Q4", "quarter", "2026-10-01", "2027-01-01", "2026年第4季度"),
    ("2026", "year", "2026-01-01", "2027-01-01", "2026年"),
])
def test_a_calendar_period_in_the_url(text, kind, start, end, label):
    view = view_of({"period": text})
    assert view.problems == () and view.period == text
    # a calendar period does not move with the day it is looked at from
    for today in (dt.date(2026, 11, 20), dt.date(2031, 1, 1)):
        assert view.resolve_period(today) == Period(ts(start), ts(end))
    assert view.period_label() == label
    assert view.carried() == {"period": text}  # a link keeps it, and no from/to
    assert params.is_calendar(text) and periods.kind_of(text) == kind


@pytest.mark.parametrize("preset, start, end, label", [
    ("today", "2026-11-20", "2026-11-21", "今日"),
    ("7d", "2026-11-14", "2026-11-21", "近7天"),
    ("30d", "2026-10-22", "2026-11-21", "近30天"),
    ("month", "2026-11-01", "2026-11-21", "本月"),
    ("year", "2026-01-01", "2026-11-21", "本年"),
])
def test_the_presets_keep_their_meaning(preset, start, end, label):
    view = view_of({"period": preset})
    assert view.problems == () and not params.is_calendar(preset) and periods.kind_of(preset) is None
    assert view.resolve_period(dt.date(2026, 11, 20)) == Period(ts(start), ts(end))
    assert view.period_label() == label and view.carried() == {"period": preset}


def test_all_custom_and_the_default_keep_their_meaning():
    assert view_of({"period": "all"}).resolve_period(dt.date(2026, 11, 20)) == Period.all_time()
    assert view_of({}).period == "30d" and view_of({}).problems == ()
    custom = view_of({"period": "custom", "from": "2026-10-03", "to": "2026-10-05"})
    assert custom.resolve_period(dt.date(2026, 11, 20)) == Period(ts("2026-10-03"), ts("2026-10-06"))
    assert custom.period_label() == "2026-10-03 至 2026-10-05"
    assert custom.carried() == {"period": "custom", "from": "2026-10-03", "to": "2026-10-05"}
    assert periods.kind_of("custom") == "custom"
    window = view_of({"period": "custom", "from": "2026-10-03T08:00:00", "to": "2026-10-03T09:30:00"})
    assert window.resolve_period(dt.date(2026, 11, 20)) == Period(ts("2026-10-03 08:00"), ts("2026-10-03 09:30:01"))


@pytest.mark.parametrize("text, words", [
    ("2026-13", "未知的时间范围 “2026-13”"),
    ("2026-02-30", "未知的时间范围"),
    ("2026-W54", "未知的时间范围"),
    ("2026-Q5", "未知的时间范围"),
    ("2026/10", "未知的时间范围"),
    ("2026-10-01T00:00", "未知的时间范围"),
    ("forever", "未知的时间范围 “forever”"),
    ("<b>2026</b>", "未知的时间范围"),
    ("1899", "时间范围 “1899” 超出可显示的日期范围（1900-01-01 至 2199-12-31）"),
    ("1899-12", "超出可显示的日期范围"),
])
def test_a_bad_period_is_named_with_the_accepted_forms_and_the_default_is_used(text, words):
    view = view_of({"period": text})
    assert view.period == "30d" and view.resolve_period(dt.date(2026, 11, 20)) == Period.preset("30d",
                                                                                               dt.date(2026, 11, 20))
    assert len(view.problems) == 1 and words in view.problems[0], view.problems
    assert view.problems[0].endswith("已改为近30天")
    if "未知" in words:
        assert "2026-W44（周）" in view.problems[0] and "2026-Q4（季）" in view.problems[0]


def test_the_comparison_pages_words_and_default():
    """Period B of /compare: prev and yoy are its own words, the default is named in Chinese."""
    for word in ("prev", "yoy", "2026-09"):
        assert params.read_period({"period_b": word}, "period_b", "from_b", "to_b", default="prev",
                                  words=("prev", "yoy"))[0] == word
    period, _, _, problems = params.read_period({"period_b": "later"}, "period_b", "from_b", "to_b", default="prev",
                                                words=("prev", "yoy"), default_label="上期（环比）")
    assert period == "prev" and problems[0].endswith("已改为上期（环比）")


@pytest.mark.parametrize("kind, day, text", [
    ("day", "2026-11-01", "2026-11-01"),
    ("week", "2026-11-01", "2026-W44"),   # a Sunday: the last day of ISO week 44
    ("week", "2027-01-01", "2026-W53"),   # 2026 has 53 ISO weeks; 1 January 2027 is in its last
    ("month", "2026-11-01", "2026-11"),
    ("quarter", "2026-11-01", "2026-Q4"),
    ("year", "2026-11-01", "2026"),
])
def test_the_period_of_a_kind_that_holds_a_day(kind, day, text):
    assert periods.text_of(kind, dt.date.fromisoformat(day)) == text
    assert Period.calendar(text).start <= ts(day) < Period.calendar(text).end


@pytest.mark.parametrize("text, earlier", [
    ("2026-11-01", "2026-10-31"), ("2026-W01", "2025-W52"), ("2026-01", "2025-12"), ("2026-Q1", "2025-Q4"),
    ("2026", "2025"), ("2027-W01", "2026-W53"),
])
def test_the_period_before(text, earlier):
    assert periods.before(text) == earlier


@pytest.mark.parametrize("kind, as_of, first, expected", [
    # on 1 November at midnight October is complete, and so are 31 October, week 44, Q3 and 2025
    ("month", "2026-11-01 00:00", "2024-01-01", "2026-10"),
    ("day", "2026-11-01 00:00", "2024-01-01", "2026-10-31"),
    ("week", "2026-11-02 00:00", "2024-01-01", "2026-W44"),
    ("quarter", "2026-11-20 10:00", "2024-01-01", "2026-Q3"),
    ("year", "2026-11-20 10:00", "2024-01-01", "2025"),
    # a month is complete at its very end
    ("month", "2026-10-31 23:59", "2024-01-01", "2026-09"),
    # the data begin inside last month: there is no complete month before the current one to open at
    ("month", "2026-11-20 10:00", "2026-10-15 09:00", "2026-11"),
    # …but at its first minute they cover it
    ("month", "2026-11-20 10:00", "2026-10-01 00:00", "2026-10"),
])
def test_a_kind_opens_at_its_last_complete_period(kind, as_of, first, expected):
    assert periods.last_complete(kind, ts(as_of), ts(first)) == expected


def test_the_choices_run_from_the_data_time_back_to_the_first_appeal():
    assert periods.choices("month", ts("2026-08-15 09:00"), ts("2026-11-20 10:00")) == [
        "2026-11", "2026-10", "2026-09", "2026-08"]
    assert periods.choices("quarter", ts("2026-08-15 09:00"), ts("2026-11-20 10:00")) == ["2026-Q4", "2026-Q3"]
    assert periods.choices("year", None, ts("2026-11-20 10:00")) == ["2026"]
    # the URL's own period stays among them, in its place
    assert periods.choices("month", ts("2026-10-15"), ts("2026-11-20"), "2025-03") == ["2026-11", "2026-10",
                                                                                       "2025-03"]
    assert len(periods.choices("week", ts("1900-01-01"), ts("2026-11-20"))) == periods.MOST["week"]


@pytest.mark.parametrize("start, end, form", [
    ("2026-09-01", "2026-10-01", {"period": "2026-09"}),
    ("2026-10-26", "2026-11-02", {"period": "2026-W44"}),
    ("2026-07-01", "2026-10-01", {"period": "2026-Q3"}),
    ("2025-01-01", "2026-01-01", {"period": "2025"}),
    ("2026-10-31", "2026-11-01", {"period": "2026-10-31"}),
    # the previous 7 days of a 近7天: whole days that are no calendar period
    ("2026-11-07", "2026-11-14", {"period": "custom", "from": "2026-11-07", "to": "2026-11-13"}),
    ("2026-11-07 08:00", "2026-11-07 09:30", {"period": "custom", "from": "2026-11-07T08:00:00",
                                              "to": "2026-11-07T09:29:59"}),
])
def test_the_url_form_of_a_period_gives_it_back(start, end, form):
    period = Period(ts(start), ts(end))
    assert periods.url_form(period) == form
    assert params.resolve(*params.from_url(form), dt.date(2030, 1, 1)) == period


@pytest.mark.parametrize("period, as_of, expected", [
    ("2026-10", "2026-11-01 00:00", "统计周期 2026年10月 · 截至 2026-11-01 00:00"),
    ("2026-10", "2026-11-20 09:30", "统计周期 2026年10月 · 截至 2026-11-20 09:30"),
    ("2026-11", "2026-11-20 09:30", "统计周期 2026年11月（未结束） · 截至 2026-11-20 09:30"),
    ("2026-12", "2026-11-20 09:30", "统计周期 2026年12月（截至时尚未开始） · 截至 2026-11-20 09:30"),
    ("30d", "2026-11-20 09:30", "统计周期 近30天 · 截至 2026-11-20 09:30"),
])
def test_the_label_states_the_period_and_the_moment(period, as_of, expected):
    view = view_of({"period": period})
    assert periods.label(view, view.resolve_period(ts(as_of).date()), ts(as_of)) == expected
