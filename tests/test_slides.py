"""The slide model (data_access/report/slides.py) from a tiny hand-made ``MeetingFigures``: which slides, what
each writes (numbers as the screens write them, 无可比数据 where a change cannot be computed), where each figure
links, and the speaker notes; and the slide numbers agree with ui/format.py."""

from __future__ import annotations

import datetime as dt

import pytest
from shapely.geometry import box

from data_access import meeting
from data_access.meeting import MeetingFigures, Section
from data_access.report import numbers as num
from data_access.report import slides
from ui import format as fmt
from ui import region

START, END, AS_OF = dt.datetime(2026, 10, 1), dt.datetime(2026, 11, 1), dt.datetime(2026, 11, 1)


def _headline() -> Section:
    # value, previous (September), last year (none: the data begin later)
    rows = [("received", 1234, 1000, None), ("closed", 800, 700, None), ("cancelled", 34, 20, None),
            ("valid", 1200, 980, None), ("overdue_open", 12, 15, None), ("due_soon_open", 3, 3, None),
            ("completion_rate", 800 / 1200, 0.6, None), ("on_time_rate", 0.9, 0.9, None),
            ("satisfaction_rate", None, 0.5, None), ("per_10k", 1200 * 10000 / 30000, 980 * 10000 / 30000, None)]
    return Section(("indicator", "value", "previous", "last_year"), ("str", "number", "number", "number"), rows,
                   {"previous_label": "2026年9月", "previous_as_of": "2026-10-01T00:00:00", "previous_reason": None,
                    "last_year_label": "2025年10月", "last_year_reason": "该时段早于数据起始时间，无可比数据"})


def _children() -> Section:
    cols = dict(meeting.CHILD_COLUMNS)
    base = {k: 0 for k in cols}
    east = {**base, "code": "101001", "name": "东街道", "population": 20000, "received": 900, "closed": 600,
            "valid": 880, "overdue_open": 9, "completion_rate": 600 / 880, "on_time_rate": 0.85,
            "satisfaction_rate": 0.95, "per_10k": 440.0}
    west = {**base, "code": "101002", "name": "西街道", "population": 10000, "received": 334, "closed": 200,
            "valid": 320, "overdue_open": 3, "completion_rate": 200 / 320, "on_time_rate": None,
            "satisfaction_rate": None, "per_10k": 320.0}
    return Section(tuple(cols), tuple(cols.values()), [tuple(r[k] for k in cols) for r in (west, east)],
                   {"level": "street", "level_label": "街道"})


def figures(with_rankings: bool = True) -> MeetingFigures:
    days = [dt.date(2026, 10, d) for d in (1, 2, 3)]
    sections = {
        meeting.HEADLINE: _headline(),
        meeting.CHILDREN: _children(),
        meeting.TREND: Section(("day", "received", "closed"), ("date", "int", "int"),
                               [(days[0], 500, 300), (days[1], 400, 300), (days[2], 334, 200)]),
        meeting.CATEGORIES: Section(("category", "received"), ("str", "int"), [("供暖", 700), ("城市管理", 534)]),
        meeting.CHANNELS: Section(("channel", "received"), ("str", "int"), [("hotline", 1234)]),
        meeting.HOTSPOTS: Section(tuple(meeting.HOTSPOT_FIELDS), tuple(meeting.HOTSPOT_FIELDS.values()),
                                  [("101001001", "东一网格", "供暖", 30, 5.0, 6.0, 0.001, dt.datetime(2026, 10, 18),
                                    AS_OF, "自身基线")], {"window_days": 14}),
        meeting.REPEATS: Section(tuple(meeting.REPEAT_FIELDS), tuple(meeting.REPEAT_FIELDS.values()),
                                 [("c1", "101001001", "东一网格", "供暖", 4, dt.datetime(2026, 10, 2),
                                   dt.datetime(2026, 10, 20))]),
        meeting.OVERDUE: Section(tuple(meeting.OVERDUE_FIELDS), tuple(meeting.OVERDUE_FIELDS.values()),
                                 [("GD1", dt.datetime(2026, 10, 2), dt.datetime(2026, 10, 9), "供暖", "停暖", "normal",
                                   "东街道", "供暖办", "workday", 30.0, "超期 3 个工作日")],
                                 {"stock_overdue": 1500, "stock_due_soon": 2}),
        meeting.SUPERVISION_STREETS: Section(tuple(meeting.SUPERVISION_FIELDS),
                                             tuple(meeting.SUPERVISION_FIELDS.values()),
                                             [("101001", "东街道", "东区", 4, 2, 1, 1, 0, 2 / 3)],
                                             {"open_now": 5, "open_overdue": 2}),
        meeting.CHILD_TREND: Section(("code", "day", "received", "closed"), ("str", "date", "int", "int"),
                                     [("101001", days[0], 400, 200), ("101001", days[1], 500, 400)]),
        meeting.CHILD_CATEGORIES: Section(("code", "category", "received"), ("str", "str", "int"),
                                          [("101001", "供暖", 600), ("101001", "城市管理", 300),
                                           ("101002", "城市管理", 334)]),
    }
    if with_rankings:
        from data_access.meeting_sections import RANKING_FIELDS

        cols = tuple(RANKING_FIELDS)
        row = lambda **v: tuple(v.get(c) for c in cols)  # noqa: E731
        sections[meeting.RANKINGS] = Section(cols, tuple(RANKING_FIELDS.values()), [
            row(unit="street", code="101001", name="东街道", district="东区", received=900, valid=880,
                completion_rate=600 / 880, on_time_rate=0.85, satisfaction_rate=0.95, composite=0.829, ranked=True,
                rank=1, previous_rank=2, rank_change=1),
            row(unit="street", code="101002", name="西街道", district="东区", received=334, valid=320,
                completion_rate=0.625, on_time_rate=None, satisfaction_rate=None, composite=0.625, ranked=True,
                rank=2, previous_rank=1, rank_change=-1),
            row(unit="department", code="D1", name="供暖办", district="东区", received=5, valid=5, ranked=False,
                reason="too_few"),
        ], {"weight_completion": 0.3, "weight_on_time": 0.4, "weight_satisfaction": 0.3, "min_appeals": 10,
            "weights_source": "default", "previous_label": "2026年9月"})
    return MeetingFigures("101", "district", "东区", START, END, "2026-10", "2026年10月", AS_OF, sections)


def _by_label(slide) -> dict:
    return {f.label: f for f in slide.figures}


def test_the_slides_in_order():
    deck = slides.deck(figures(), {"101001": box(0, 0, 1, 1), "101002": box(1, 0, 2, 1)})
    assert [s.kind for s in deck.slides] == ["cover", "headline", "rankings", "rankings", "unit", "unit",
                                             "hotspots", "overdue"]
    assert deck.slides[0].title == "10月讲评 · 东区"
    assert deck.slides[0].subtitle == "东区 · 统计周期 2026年10月 · 截至 2026-11-01 00:00"
    # the units, the most appeals first, each with its map, its trend (when it has one) and its categories
    east, west = deck.slides[4], deck.slides[5]
    assert (east.title, west.title) == ("东街道", "西街道")
    assert [i.title for i in east.images] == ["位置", "每日受理与办结", "主要诉求类别"]
    assert [i.title for i in west.images] == ["位置", "主要诉求类别"]  # no trend rows for 西街道
    assert all(i.png.startswith(b"\x89PNG") for s in deck.slides for i in s.images)


def test_the_headline_writes_numbers_and_changes_as_the_screens_do():
    head = _by_label(slides.deck(figures()).slides[1])
    assert head["受理量"].text == "1,234" and head["受理量"].notes == ("环比 +234", "同比 无可比数据")
    assert head["办结率"].text == "66.7%"
    assert head["办结率"].notes[0] == "环比 +6.7 个百分点"  # 66.67% − 60%
    assert head["按时办结率"].notes[0] == "环比 持平"
    assert head["满意率"].text == "—" and head["满意率"].notes[0] == "环比 无可比数据"  # no rated appeal this month
    assert head["每万人诉求量"].text == "400.0" and head["每万人诉求量"].notes[0] == "环比 +73.3"
    assert head["超期（本期受理）"].notes[0] == "环比 -3"
    link = head["办结率"].link
    assert (link.figure, link.region, link.page) == ("completion_rate", "101", "cases")


def test_the_ranking_slides_name_the_weights_and_the_rule():
    deck = slides.deck(figures())
    streets, departments = deck.slides[2], deck.slides[3]
    assert streets.title == "红黑榜 · 街道" and departments.title == "红黑榜 · 承办单位"
    red = streets.tables[0]
    assert red.title == "红榜" and [c.text for c in red.rows[0]] == ["1", "东街道", "82.9", "68.2%", "85.0%", "95.0%",
                                                                   "↑1"]
    black = streets.tables[1]
    assert [c.text for c in black.rows[0]] == ["2", "西街道", "62.5", "62.5%", "—", "—", "↓1"]
    assert "有效受理少于 10 件的单位不排名" in streets.caption
    assert departments.tables == ()  # its only unit has too few appeals: listed apart
    assert "另列 1 个" in departments.caption
    # without a 红黑榜 section (a snapshot frozen before it) there are no ranking slides
    assert "rankings" not in [s.kind for s in slides.deck(figures(with_rankings=False)).slides]


def test_unit_slides_hotspots_and_overdue():
    deck = slides.deck(figures())
    east = _by_label(deck.slides[4])
    assert (east["受理量"].text, east["办结率"].text, east["超期（本期受理）"].text) == ("900", "68.2%", "9")
    assert east["受理量"].link.region == "101001"
    west = _by_label(deck.slides[5])
    assert west["按时办结率"].text == "—"
    hot = deck.slides[6]
    assert [c.text for c in hot.tables[0].rows[0]] == ["东一网格", "供暖", "30", "6.0 倍"]
    assert dict(hot.tables[0].rows[0][0].link.filters) == {"category": "供暖"}
    assert [c.text for c in hot.tables[1].rows[0]] == ["东一网格", "供暖", "4", "10-02 至 10-20"]
    over = _by_label(deck.slides[7])
    assert over["超期 · 全部在办"].text == "1,500" and dict(over["超期 · 全部在办"].link.period) == {"period": "all"}
    assert (over["在办督办"].text, over["其中逾期未答复"].text) == ("5", "2")


def test_speaker_notes_carry_the_definitions():
    head = slides.deck(figures()).slides[1]
    assert "办结率：已办结 ÷ （受理 − 撤销）" in head.notes
    assert any("环比：与上一周期（2026年9月" in n for n in head.notes)
    assert any("该时段早于数据起始时间" in n for n in head.notes)


def test_the_appendix_lists_every_unit():
    tables = {title: written for title, written, _ in slides.appendix_tables(figures())}
    units = tables["各街道指标"]
    assert list(units["名称"]) == ["东街道", "西街道"]  # by code
    assert list(units["受理"]) == ["900", "334"] and list(units["办结率"]) == ["68.2%", "62.5%"]
    head = tables["总体指标 · 东区"]
    assert list(head.loc[head["指标"] == "受理量", "环比"]) == ["+234"]
    assert list(head.loc[head["指标"] == "受理量", "同比"]) == ["无可比数据"]
    pages = slides.appendix(figures())
    assert {p.tables[0].title for p in pages} == set(tables)


@pytest.mark.parametrize("value", [None, 0, 0.5, 1234.5, 1_000_000, 0.12345, float("nan")])
def test_the_numbers_are_the_screens(value):
    assert num.count(value) == fmt.count(value)
    assert num.rate(value) == fmt.rate(value)
    assert num.per_10k(value) == fmt.per_10k(value)
    for kind in ("count", "rate", "per_10k"):
        change = region.delta(kind, value, 0.25)
        assert num.change(kind, value, 0.25) == (change.text if change else "无可比数据")


def test_the_files_link_each_figure_where_the_screens_do():
    """The pure link builder of the files (report/links.py) writes the very address /present's links use."""
    import io

    from pptx import Presentation

    from data_access.report import links, pptx_file
    from ui import present

    f = figures()
    deck = slides.deck(f)
    targets = [x.link for s in deck.slides for x in (*s.figures, *(c for t in s.tables for r in t.rows for c in r))
               if x.link is not None]
    assert len(targets) > 20 and {t.page for t in targets} == {"cases", "case", "alerts"}
    for target in targets:
        assert links.href(target, f) == links.href(target, deck) == present.url_of(target, f)
    made = Presentation(io.BytesIO(pptx_file.write(deck, "https://dash.example/")))
    head = [s for s in made.slides[1].shapes if s.shape_type == 1]
    addresses = [s.text_frame.paragraphs[1].runs[0].hyperlink.address for s in head]
    assert addresses[0] == "https://dash.example/cases?figure=received&region=101&period=custom&from=2026-10-01" \
                           "&to=2026-10-31&as_of=2026-11-01T00%3A00%3A00"
    assert Presentation(io.BytesIO(pptx_file.write(deck))).slides[1].shapes[2].text_frame.paragraphs[1].runs[0] \
        .hyperlink.address is None  # without the product's address, no link
