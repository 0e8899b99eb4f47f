"""超期预警与督办 (/alerts): the red and yellow open appeals, and their supervision.

Filters (district, street, department, category, channel) and the period are
in the URL. Staff select rows and supervise them (督办); the supervision is
written to the system of record and shows after the next sync, which the page
forces at once. The list exports as a 督办单 (Excel).
"""

from __future__ import annotations

import html

import streamlit as st

from data_access import cached
from data_access.queries import UnknownRegion
from ui import alerts as ui
from ui import boot, params, periods, theme, widgets
from ui import supervision as supervise
from ui.text import plain

boot.ensure_routed()
if "period" not in st.query_params:  # the warning page looks at every open appeal unless told otherwise
    st.query_params["period"] = "all"
view = params.read()
theme.apply(view.kiosk)
ui.style()
cfg = cached.settings()


@widgets.guard
def page() -> None:
    fresh = widgets.current_data()
    if fresh is None:
        return
    key = cached.token(fresh)
    moment = widgets.moment(fresh, view)
    as_of = moment.as_of
    for problem in view.problems:
        st.warning(plain(problem))
    supervise.show_done()
    try:
        scope = cached.resolve_scope(key, view.region)
    except UnknownRegion:
        st.error(f"区域代码 {plain(view.region)} 不存在。")
        return
    name = cached.region(key, scope.code)["name"] if scope.code else "全域"
    period = view.resolve_period(as_of.date())

    st.html(f'<p class="screen-title">超期预警与督办<small> · {html.escape(name)} · '
            f'{html.escape(periods.label(view, period, as_of).replace("统计周期", "统计周期（按受理时间）", 1))}</small></p>'
            f'<div class="times-line">{widgets.times_line(moment, fresh)}</div>')
    periods.picker(view, moment, fresh, key="alerts", show_label=False)
    widgets.data_time(moment, fresh, kiosk=view.kiosk)
    filters = ui.filter_bar(key, scope, as_of)
    frozen = tuple(sorted(filters.items()))
    totals = cached.warning_totals(key, scope, period, as_of, frozen)
    ui.totals(totals, view, as_of, scope, filters)

    listing, by_unit, supervision = st.tabs(["预警工单", "按单位与街道", "督办情况"])
    with listing:
        rows = cached.warning_list(key, scope, period, as_of, frozen)
        if rows.empty:
            widgets.empty_state("该范围与条件下没有超期或临期的在办工单。")
        else:
            listed = ui.warning_table(rows, view)
            shown_all = totals["red"] + totals["yellow"]
            if shown_all > len(rows):
                st.caption(f"列表含截止时间最早的 {len(rows):,} 件（共 {shown_all:,} 件），请用筛选缩小范围。")
            grant = cached.current_grant()
            if grant.export and not view.kiosk:
                ui.export_button(rows, as_of, name, scope.code)
            if grant.supervise and not view.kiosk:
                widgets.panel_title("督办", "选择工单，或督办列表中尚未督办的全部工单")
                supervise.supervise_form(ui.supervise_choices(rows), cfg, pick=listed)
    with by_unit:
        left, right = st.columns(2)
        with left:
            widgets.panel_title("按承办单位", "超期多者在前")
            ui.counts_table(cached.warning_counts(key, scope, period, as_of, "department", frozen), "承办单位",
                            view, as_of, scope, "department", filters)
        with right:
            widgets.panel_title("按街道", "超期多者在前")
            ui.counts_table(cached.warning_counts(key, scope, period, as_of, "street", frozen), "街道",
                            view, as_of, scope, "street", filters)
    with supervision:
        ui.supervision_panels(key, scope, period, as_of, view, cfg, filters, name)


page()
