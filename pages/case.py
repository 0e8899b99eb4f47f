"""工单详情 (/case?id=…): one appeal's fields, place, department and timeline.

The timeline is the appeal's event log in the system of record: 受理, 分流交办,
处置, 反馈, 评价, 督办, each with its time, actor and note, the time since the
appeal was received (calendar time) and the time left to its deadline (in the
appeal's basis, as on every screen: working time for limits in working days;
past the deadline in red). Personal data is shown only to roles that may see it,
inside their region (``privacy.may_show_personal_data``); every view is audited.
``from`` links back to the list.
"""

from __future__ import annotations

import html

import streamlit as st

from data_access import cached, privacy
from data_access.vocab import SUPERVISION_LEVELS
from ui import boot, params, theme, widgets
from ui import cases as ui
from ui import supervision as supervise
from ui.text import plain

boot.ensure_routed()
view = params.read()
theme.apply(view.kiosk)
ui.style(view.kiosk)


@widgets.guard
def page() -> None:
    try:
        fresh = cached.refresh()
    except cached.StoreUnavailable as exc:
        st.error(plain(exc))
        return
    back = ui.safe_back(st.query_params.get("from"))
    home = params.link("big_screen", **({"region": view.region} if view.region else {}), **view.carried())
    back_link = (f'<a href="{back}" target="_self">← 返回工单列表</a>' if back
                 else f'<a href="{home}" target="_self">← 返回指挥大屏</a>')
    st.html(f'<div class="case-back">{back_link}</div>')

    appeal_id = (st.query_params.get("id") or "").strip()
    if not appeal_id:
        st.error("链接缺少工单号参数 id。")
        return
    if len(appeal_id) > 64:
        st.error("工单号过长，无法识别。")
        return
    key = cached.token(fresh)
    as_of = cached.as_of(fresh)
    show_personal = privacy.may_show_personal_data(cached.current_grant())
    row = cached.case_detail(key, appeal_id, show_personal)
    if row is None:
        st.error(f"工单 “{plain(appeal_id)}” 不存在（或尚未同步到分析库）。")
        return
    ui.audit_view(row, show_personal)
    what = row["category"] + (f" / {row['subcategory']}" if row.get("subcategory") else "")
    st.html(f'<p class="case-title">工单 {html.escape(row["appeal_id"])} · {html.escape(what)}</p>'
            f'<div class="case-meta">{html.escape(ui.state_note(row, as_of, cached.time_limit_rules(key)))} · '
            f'{"个人信息已脱敏" if not show_personal else "<b>显示个人信息</b>"}</div>')
    ui.detail_fields(row, show_personal)
    supervision_section(key, row, as_of)

    widgets.panel_title("办理过程", "距受理按自然日历计算；距时限按办理时限的口径（工作日时限计工作时间）")
    events = cached.case_events(key, appeal_id, show_personal)
    if events.empty:
        widgets.empty_state("该工单没有办理记录。")
        return
    ui.timeline(events)
    with st.expander("以表格查看"):
        widgets.table(ui.timeline_table(events), height=min(38 + 35 * len(events), 600))


def supervision_section(key, row: dict, as_of) -> None:
    """The appeal's supervisions, and the forms to supervise it or record an answer (not on a kiosk)."""
    history = cached.supervisions_of(key, row["appeal_id"], as_of)
    supervise.show_done()
    widgets.panel_title("督办", "逾期未答复的督办自动升级一级（街道→区→市）")
    if history.empty:
        widgets.empty_state("该工单尚未督办。")
    else:
        supervise.history_table(history)
    if view.kiosk or not cached.current_grant().supervise:
        return
    cfg = cached.settings()
    pending = history[history["status"] == "open"]
    if not pending.empty:
        supervise.answer_form(pending.iloc[-1], cfg)
    if row["status"] == "open" or (row["status"] == "closed" and row.get("satisfaction") == "unsatisfied"):
        held = None if pending.empty else str(pending.iloc[-1]["level"])
        levels = supervise.levels_offered(above=held)
        if not levels:  # the open supervision is at this account's own level or above
            st.caption(f"已有待答复的{SUPERVISION_LEVELS.get(held, plain(held))}级督办；督办只能在本级及以下发起，"
                       "本账号不能再提级。")
            return
        with st.expander("督办此工单" if pending.empty else "提级督办此工单", expanded=False):
            supervise.supervise_form({"本工单": [row["appeal_id"]]}, cfg, key="supervise_case", levels=levels)


page()
