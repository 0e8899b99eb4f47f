"""红黑榜 (/rankings): streets, or departments (承办单位), ranked for a period by the 三率 and a composite.

``/rankings?unit=street|department&n=5&region=…&period=…&as_of=…``: the top
and bottom ``n`` (红榜 and 黑榜), the whole ranking, and the units with too few
appeals listed apart, with the rule and the weights stated on the page. The
weights are data in the system of record (``python -m data_access weights``).
"""

from __future__ import annotations

import html

import streamlit as st

from data_access import cached
from data_access.queries import UnknownRegion
from ui import boot, params, theme, widgets
from ui import format as fmt
from ui import rankings as ui
from ui.text import plain

boot.ensure_routed()
view = params.read()
theme.apply(view.kiosk)
ui.style()


@widgets.guard
def page() -> None:
    fresh = widgets.current_data()
    if fresh is None:
        return
    key = cached.token(fresh)
    moment = widgets.moment(fresh, view)
    as_of = moment.as_of
    choice = ui.read_choice()
    for problem in (*view.problems, *choice.problems):
        st.warning(plain(problem))
    try:
        scope = cached.resolve_scope(key, view.region)
    except UnknownRegion:
        st.error(f"区域代码 {plain(view.region)} 不存在。")
        return
    name = cached.region(key, scope.code)["name"] if scope.code else "全域"
    period = view.resolve_period(as_of.date())

    head, pick_unit, pick_n = st.columns([5, 2, 1], vertical_alignment="bottom")
    head.html(f'<p class="screen-title">红黑榜<small> · {html.escape(name)} · {ui.UNIT_LABELS[choice.unit]} · '
              f'{view.period_label()} · 截至 {fmt.stamp(as_of)}</small></p>'
              f'<div class="times-line">{widgets.times_line(moment, fresh)}</div>')
    unit = pick_unit.segmented_control("排名对象", list(ui.UNIT_LABELS), default=choice.unit,
                                       format_func=ui.UNIT_LABELS.get, key="rank_unit")
    if unit and unit != choice.unit:
        st.query_params["unit"] = unit
        st.rerun()
    n = pick_n.number_input("红黑榜各列单位数", min_value=1, max_value=ui.MAX_N, value=choice.n, step=1, key="rank_n")
    if int(n) != choice.n:
        st.query_params["n"] = str(int(n))
        st.rerun()
    widgets.data_time(moment, fresh, kiosk=view.kiosk)

    weights = cached.ranking_weights(key)
    table = ui.labelled(key, scope, cached.league(key, scope, period, as_of, choice.unit, weights))
    st.html(ui.rule_html(weights, table))
    if table.empty:
        widgets.empty_state(ui.nothing_to_rank(choice.unit, name))
        return
    ui.boards(table, choice.unit, choice.n, scope, view, as_of)
    widgets.panel_title("全部排名", f"{ui.UNIT_LABELS[choice.unit]} · {view.period_label()} · 点击表头排序")
    ui.full_table(table, choice.unit, scope, view, as_of)
    widgets.panel_title("未参与排名", f"有效受理（不含撤销）少于 {weights.min_appeals:,} 件的单位不参与排名")
    ui.unranked_table(table, choice.unit, weights.min_appeals, scope, view, as_of)


page()
