"""工单列表 (/cases): the appeals behind a figure.

``/cases?figure=overdue_open&region=210302&period=30d&as_of=…`` lists exactly
the appeals the figure counts (same scope, period, as-of time and condition),
so its length is the figure. Paged (50 a page) and sortable, with the sort and
the page in the URL; CSV and Excel of the whole list; each row opens
``/case?id=…``. Personal data is always masked in lists and exports.
"""

from __future__ import annotations

import streamlit as st

from data_access import cached
from data_access.cases import CaseRequestError
from data_access.queries import UnknownRegion
from ui import boot, params, periods, tables, theme, widgets
from ui import cases as ui
from ui import format as fmt
from ui.text import plain

boot.ensure_routed()
view = params.read()
theme.apply(view.kiosk)
ui.style(view.kiosk)


@widgets.guard
def page() -> None:
    fresh = widgets.current_data()
    if fresh is None:
        return
    key = cached.token(fresh)
    moment = widgets.moment(fresh, view)  # a past moment from the URL: the figure as it was then
    as_of = moment.as_of
    home = params.link("big_screen", **({"region": view.region} if view.region else {}), **view.carried())
    try:
        req = ui.read_request()
    except ui.BadRequest as exc:
        st.error(plain(exc))
        st.html(f'<div class="case-back"><a href="{home}" target="_self">← 返回指挥大屏</a></div>')
        return
    for problem in (*view.problems, *req.problems):
        st.warning(plain(problem))
    widgets.data_time(moment, fresh, kiosk=view.kiosk)
    try:
        scope = cached.resolve_scope(key, view.region)
    except UnknownRegion:
        st.error(f"区域代码 “{plain(view.region)}” 不存在，无法列出工单。")
        st.html(f'<div class="case-back"><a href="{params.link("big_screen", **view.carried())}" '
                f'target="_self">← 返回指挥大屏</a></div>')
        return
    scope_name = str(cached.region(key, scope.code)["name"]) if scope.code else _territory(key)
    period = view.resolve_period(as_of.date())
    show_personal = False  # lists never show personal data; only a case's detail may

    try:
        n = cached.case_count(key, scope, period, as_of, req.figure, part=req.part, filters=req.filters)
    except CaseRequestError as exc:
        st.error(f"{plain(exc)}，无法列出工单。")
        return
    n_pages = ui.pages_of(n)
    page_no = req.page
    if page_no > n_pages:
        if req.page_given:
            st.warning(f"第 {page_no:d} 页超出范围（共 {n_pages:d} 页），已显示第 {n_pages:d} 页。")
        page_no = n_pages

    ui.title(req, scope_name, view, as_of, n)
    periods.picker(view, moment, fresh, key="cases", show_label=False)
    rows = cached.case_list(key, scope, period, as_of, req.figure, part=req.part, filters=req.filters,
                            sort=req.sort, descending=req.descending, offset=(page_no - 1) * ui.PAGE_SIZE,
                            limit=ui.PAGE_SIZE, show_personal=show_personal)
    meta = [ui.filter_note(key, req, rows)] if req.filters else []
    meta.append("个人信息已脱敏" if not show_personal else "<b>显示个人信息</b>")
    meta.append(f'<a href="{home}" target="_self">返回指挥大屏</a>')
    st.html(f'<div class="case-meta">{" · ".join(meta)}</div>')

    sort_key, sort_dir, _, csv, xlsx = st.columns([2.2, 1.3, 4.5, 1.1, 1.1], vertical_alignment="bottom")
    ui.sort_controls(req, sort_key, sort_dir)
    ui.downloads(key, scope, period, as_of, req, n, ui.file_stem(req, scope_name, view, as_of), show_personal,
                 csv, xlsx)

    if n == 0:
        widgets.empty_state("该指标下没有工单。", "换一个时间段或范围试试。")
        return
    back = ui.list_url(view, req, page_no)
    table = ui.screen_table(rows, back)
    first = (page_no - 1) * ui.PAGE_SIZE + 1
    tables.html_table(table, name="cases", right=["超期"], wide=["诉求内容", "地址"], height=38 + 32 * 18)
    left, right = st.columns([2, 3], vertical_alignment="center")
    left.caption(f"第 {page_no:d} / {n_pages:d} 页 · 第 {fmt.count(first)}–{fmt.count(first + len(table) - 1)} 件，"
                 f"共 {fmt.count(n)} 件")
    with right:
        ui.pager(req, n_pages, page_no)


def _territory(key) -> str:
    roots = cached.top_regions(key)
    return str(roots["name"].iloc[0]) if len(roots) == 1 else "全域"


page()
