"""两期对比 (/compare): one region in two periods side by side, for a review meeting.

``/compare?region=210302&period=2026-10&as_of=…&period_b=prev`` puts period A
(the page's period and as-of time) beside period B (by default the period
before A, judged as far from its end as A is from its own): the key figures
of each with the change, and the categories and child regions that make the
difference, the largest change first, each with links to its appeals of A
and of B. A change the data cannot support (a period before the first
appeal) says so.
"""

from __future__ import annotations

import html

import streamlit as st

from data_access import cached
from data_access.queries import UnknownRegion
from data_access.scope import LEVEL_LABELS
from ui import boot, params, periods, region, theme, widgets
from ui import compare as ui
from ui.text import plain

boot.ensure_routed()
view = params.read()
theme.apply(view.kiosk)


@widgets.guard
def page() -> None:
    fresh = widgets.current_data()
    if fresh is None:
        return
    key = cached.token(fresh)
    moment = widgets.moment(fresh, view)
    as_of = moment.as_of
    b_view, b_problems = ui.read_b()
    for problem in (*view.problems, *b_problems):
        st.warning(plain(problem))
    try:
        scope = cached.resolve_scope(key, view.region or region.default_region(key))
    except UnknownRegion:
        st.error(f"区域代码 {plain(view.region)} 不存在。")
        return
    name = cached.region(key, scope.code)["name"] if scope.code else "全域"
    first, _ = cached.data_span(key)
    a = ui.side_a(view, view.resolve_period(as_of.date()), as_of, first)
    b, how = ui.side_b(b_view, a, first)

    back = params.link("region", **({"region": scope.code} if scope.code else {}), **view.carried())
    lines = [a.line()] + ([b.line(how)] if b is not None else [])
    st.html(f'<p class="screen-title">两期对比<small> · {html.escape(name)} · {LEVEL_LABELS[scope.level]}</small></p>'
            f'<div class="times-line">{" · ".join(html.escape(line) for line in lines)}</div>'
            f'<div class="times-line">{widgets.times_line(moment, fresh)} · '
            f'<a href="{html.escape(back)}" target="_self">‹ 返回区域下钻</a></div>')
    widgets.data_time(moment, fresh, kiosk=view.kiosk)
    periods.picker(view, moment, fresh, key="compare", show_label=False)
    latest = moment.as_of if moment.historical else cached.as_of(fresh)
    ui.b_picker(b_view, a, first=first, latest=latest)
    if b is None:
        widgets.empty_state("本期没有起止（全部时间），无法与另一时段对比。", "请在上方选择一个有起止的时段，如某月。")
        return
    for side in (a, b):
        if not side.covered:
            st.info(plain(f"{side.title} {side.name} 早于数据起点（首条工单 {first:%Y-%m-%d %H:%M}）或截至时尚未开始："
                          "该期的数字不完整，变化无法计算（无可比数据）。") if first is not None
                    else "没有工单数据，变化无法计算。")

    widgets.panel_title("关键指标", f"本期 {a.name} · 箭头为较对比期 {b.name} 的变化")
    ui.key_figures(key, scope, a, b)
    level = region.child_level(key, scope)
    left, right = st.columns(2) if level is not None else (st.container(), None)
    with left:
        widgets.panel_title("按类别", "受理量 · 变化大者在前 · 点击明细查看工单")
        ui.difference_table(key, scope, a, b, "category")
    if right is not None:
        with right:
            widgets.panel_title(f"按{LEVEL_LABELS[level]}", "受理量 · 变化大者在前 · 点击明细查看工单")
            ui.difference_table(key, scope, a, b, level)


page()
