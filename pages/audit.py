"""审计日志 (/audit): who signed in, opened which case, exported, supervised, changed accounts. Administrators only."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from data_access import audit_queries, cached
from ui import auth, boot, theme, widgets

boot.ensure_routed()
theme.apply(False)


@widgets.guard
def page() -> None:
    principal = st.session_state.get(auth.PRINCIPAL_KEY)
    if principal is None or principal.role != "admin":
        st.error("无权访问：审计日志仅对管理员开放。")
        return
    st.html('<p class="screen-title">审计日志</p>')
    left, middle, right, far = st.columns([2, 1, 1, 1])
    actions = left.multiselect("事件", list(audit_queries.ACTIONS), format_func=audit_queries.ACTIONS.get,
                               placeholder="全部事件")
    actor = middle.text_input("操作人（包含）", max_chars=64)
    today = cached.city_now().date()  # the city's day, whatever the server's zone
    since = right.date_input("起始日期", value=today - dt.timedelta(days=30))
    until = far.date_input("截止日期", value=today)
    rows = cached.audit_rows(tuple(actions), actor.strip() or None, since, until)
    if rows.empty:
        widgets.empty_state("该条件下没有审计记录。")
        return
    st.caption(f"最新在前，最多显示 {len(rows):,} 条。")
    names = [n if isinstance(n, str) and n else (c if isinstance(c, str) else "")
             for n, c in zip(rows["region_name"], rows["region_code"])]
    widgets.table(pd.DataFrame({
        "时间": pd.to_datetime(rows["at"]).dt.strftime("%Y-%m-%d %H:%M:%S"),
        "操作人": rows["actor"],
        "事件": [audit_queries.ACTIONS.get(a, a) for a in rows["action"]],
        "对象": [audit_queries.target_text(a, t if isinstance(t, str) else None)
               for a, t in zip(rows["action"], rows["target"])],
        "区域": names,
        "详情": [audit_queries.describe(a, t if isinstance(t, str) else None, n or None,
                                      d if isinstance(d, str) else None)
               for a, t, n, d in zip(rows["action"], rows["target"], names, rows["detail"])],
    }), height=700)


page()
