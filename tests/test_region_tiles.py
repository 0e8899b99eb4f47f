"""The changes on /region's tiles (环比 as the tile's arrow, 同比 in its note): the arrow follows the sign, the
colour says better or worse, 持平 and 无可比数据 say neither."""

from __future__ import annotations

import pytest
from streamlit.proto.Metric_pb2 import Metric as MetricProto
from streamlit.testing.v1 import AppTest

from ui.region import LOWER_IS_BETTER, NO_DATA, TILES, change_html, delta, metric_change

UP, DOWN, FLAT = MetricProto.MetricDirection.UP, MetricProto.MetricDirection.DOWN, MetricProto.MetricDirection.NONE
GREEN, RED, GRAY = MetricProto.MetricColor.GREEN, MetricProto.MetricColor.RED, MetricProto.MetricColor.GRAY
KINDS = {ind: kind for ind, _, kind in TILES}

# value, last year, the text shown
CASES = {
    "rate": [(0.955, 0.956, "-0.1 个百分点"), (0.96, 0.95, "+1.0 个百分点"), (0.9550, 0.95504, "持平")],
    "count": [(120, 121, "-1"), (3000, 1207, "+1,793"), (5, 5, "持平")],
    "per_10k": [(12.34, 14.0, "-1.7"), (1500.0, 144.96, "+1,355.0"), (3.01, 3.04, "持平")],
}


def _render(kwargs: dict):
    def script(kwargs):
        import streamlit as st

        st.metric("指标", "1", **kwargs)

    at = AppTest.from_function(script, args=(kwargs,))
    at.run()
    assert not at.exception
    return at.metric[0].proto


@pytest.mark.parametrize("ind", [ind for ind, _, _ in TILES])
@pytest.mark.parametrize("case", [0, 1, 2])
def test_arrow_and_colour_of_every_indicator_in_every_direction(ind, case):
    value, before, text = CASES[KINDS[ind]][case]
    change = delta(KINDS[ind], value, before)
    assert change.text == text
    proto = _render(metric_change(ind, change, "同比"))
    assert proto.delta == text and proto.delta_description == "同比"
    if change.sign == 0:
        assert (proto.direction, proto.color) == (FLAT, GRAY)
        return
    went_down = value < before
    assert proto.direction == (DOWN if went_down else UP)
    better = went_down if ind in LOWER_IS_BETTER else not went_down
    assert proto.color == (GREEN if better else RED)


def test_unknown_change_shows_no_delta():
    assert delta("rate", None, 0.5) is None and metric_change("completion_rate", None, "同比") == {}
    assert not _render({}).delta


@pytest.mark.parametrize("ind", [ind for ind, _, _ in TILES])
@pytest.mark.parametrize("case", [0, 1, 2])
def test_the_notes_change_reads_like_the_tiles_arrow(ind, case):
    """同比 in the note: the same arrow by the sign and the same colour by better or worse as the metric's."""
    value, before, text = CASES[KINDS[ind]][case]
    change = delta(KINDS[ind], value, before)
    shown = change_html(ind, change, "同比")
    proto = _render(metric_change(ind, change, "同比"))
    tone = {GREEN: "better", RED: "worse", GRAY: "flat"}[proto.color]
    assert f'class="chg {tone}"' in shown and text in shown
    arrow = {UP: "↑", DOWN: "↓", FLAT: ""}[proto.direction]
    assert f"同比 {arrow} {text}" in shown if arrow else f"同比 {text}" in shown


def test_an_earlier_period_without_data_says_so_and_is_never_a_zero():
    proto = _render(metric_change("received", None, "环比", missing=True))
    assert (proto.delta, proto.delta_description) == (NO_DATA, "环比")
    assert (proto.color, proto.direction) == (GRAY, FLAT)  # grey, and no arrow
    assert change_html("received", None, "同比", missing=True) == f'<span class="chg flat">同比 {NO_DATA}</span>'
    assert change_html("received", None, "同比") == ""  # a figure without a value: nothing to say
