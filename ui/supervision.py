"""督办 forms and tables, shared by the warning page and the case detail.

The forms write to the system of record through ``data_access.supervision``;
the page then forces a sync and runs again, so the new state shows at once.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from data_access import cached, supervision
from data_access.access import NoAccess
from data_access.clock import local_now
from data_access.vocab import SUPERVISION_LEVELS, SUPERVISION_STATUSES

from . import format as fmt
from . import widgets
from .text import plain

_DONE = "supervision_done"  # session key: the message to show after the page ran again


def _after_write(message: str) -> None:
    """Copy the write into the analytics store now, then run the page again with the message."""
    cached.refresh(force=True)
    st.session_state[_DONE] = message
    st.rerun()


def show_done() -> None:
    """The message of the last write, once."""
    message = st.session_state.pop(_DONE, None)
    if message:
        st.success(plain(message))


_SUPERVISOR = "supervisor"  # session key: (account, the 督办人 they last wrote)


def _default_supervisor() -> str:
    """Who supervises, as the form first says: what this account wrote last time, else its unit and
    name ("铁东区综合指挥中心督办科 · 张伟"), else its login name."""
    principal = st.session_state.get("principal")
    if principal is None:
        return ""
    remembered = st.session_state.get(_SUPERVISOR)
    if isinstance(remembered, tuple) and remembered[0] == principal.name and remembered[1]:
        return remembered[1]
    return principal.supervisor_label


def levels_offered(above: str | None = None) -> list[str]:
    """The levels this person may issue (their own and below), lowest first; with ``above``, only those
    higher than that level (raising an open supervision)."""
    allowed = cached.current_grant().supervise_levels
    levels = [lv for lv in supervision.LEVEL_ORDER if lv in allowed]
    if above is not None:
        levels = [lv for lv in levels if supervision.LEVEL_ORDER.index(lv) > supervision.LEVEL_ORDER.index(above)]
    return levels


def supervise_form(choices: dict[str, list[str] | None], cfg, *, key: str = "supervise",
                   levels: list[str] | None = None, pick: list[str] | None = None) -> None:
    """督办 a set of appeals: which set (when there is a choice), level, answer date, who and why.

    ``choices`` maps a label shown to staff to the appeal ids it stands for
    (None: the appeals picked in the form from ``pick``); the first is
    preselected (on the warning page: the picked appeals, never the whole list
    by default). ``levels``: the levels offered (default: those the person may
    issue, ``levels_offered``); the highest, their own, is preselected.
    """
    levels = levels_offered() if levels is None else levels
    if not levels:
        st.info("本账号不能发起督办。")
        return
    now = local_now(cfg.timezone)
    labels = list(choices)
    with st.form(key, clear_on_submit=False):
        picked: list[str] = []
        if pick is not None:
            picked = st.multiselect("选择工单", pick, key=f"{key}_pick", placeholder="输入或选择工单号（可多选）")
        which = 0
        if len(labels) > 1:  # the labels stay put (a choice is kept by its label); the counts are captions
            which = st.radio("督办范围", range(len(labels)), index=0, format_func=lambda i: plain(labels[i]),
                             captions=["在上方选择" if choices[x] is None else f"{len(choices[x]):,} 件"
                                       for x in labels], horizontal=True, key=f"{key}_which") or 0
        cols = st.columns([1, 1, 1])
        level = cols[0].selectbox("督办级别", levels, index=len(levels) - 1, format_func=SUPERVISION_LEVELS.get,
                                  key=f"{key}_level", help="只能在本级及以下发起督办")
        due = cols[1].date_input("要求答复日期", value=supervision.default_due_at(now).date(),
                                 min_value=now.date(), key=f"{key}_due")
        who = cols[2].text_input("督办人", value=_default_supervisor(), max_chars=64, key=f"{key}_who")
        reason = st.text_area("督办事由", placeholder="例如：超期未办结，请于期限内办结并答复群众", max_chars=500,
                              key=f"{key}_reason")
        sent = st.form_submit_button("督办", type="primary")
    if not sent:
        return
    ids = choices[labels[which]]
    if ids is None:
        ids = picked
    if not ids:
        st.error("没有选中要督办的工单：请先选择工单号，或选择“列表中尚未督办的工单”。")
        return
    principal = st.session_state.get("principal")
    st.session_state[_SUPERVISOR] = (principal.name if principal is not None else "", who)
    due_at = dt.datetime.combine(due, dt.time(18, 0))
    try:
        new = cached.supervise(ids, level=level, reason=reason, supervisor=who, due_at=due_at,
                               timezone=cfg.timezone)
    except (supervision.SupervisionError, NoAccess) as exc:
        st.error(plain(exc))
        return
    _after_write(f"已{SUPERVISION_LEVELS[level]}级督办 {len(new)} 件工单，要求 {fmt.stamp(due_at)} 前答复。")


def answer_form(open_row: pd.Series, cfg, *, key: str = "answer") -> None:
    """记录答复 to an open supervision of this appeal."""
    with st.form(key, clear_on_submit=False):
        st.caption(f"待答复：{SUPERVISION_LEVELS.get(open_row['level'], plain(open_row['level']))}级督办 "
                   f"#{plain(open_row['id'])}，"
                   f"答复期限 {open_row['due_at']:%Y-%m-%d %H:%M}")
        who = st.text_input("答复人（承办单位经办人）", max_chars=64, key=f"{key}_who")
        text = st.text_area("答复内容", max_chars=1000, key=f"{key}_text")
        sent = st.form_submit_button("记录答复")
    if not sent:
        return
    try:
        cached.answer(int(open_row["id"]), str(open_row["appeal_id"]), answer=text, actor=who,
                      timezone=cfg.timezone)
    except (supervision.SupervisionError, NoAccess) as exc:
        st.error(plain(exc))
        return
    _after_write(f"已记录对督办 #{open_row['id']} 的答复。")


def origins(rows: pd.DataFrame) -> list[str]:
    """How each supervision came about: escalated by the system, raised by staff over an open one, or new."""
    return ["自动升级" if pd.notna(up) and who == supervision.SYSTEM_ACTOR else "提级督办" if pd.notna(up) else ""
            for up, who in zip(rows["escalated_from"], rows["supervisor"])]


def history_table(rows: pd.DataFrame) -> None:
    """Every supervision of one appeal, oldest first."""
    def when(v):
        return "" if pd.isna(v) else fmt.stamp(pd.Timestamp(v).to_pydatetime())

    status = []
    for _, r in rows.iterrows():
        text = SUPERVISION_STATUSES.get(r["status"], r["status"])
        if r["status"] == "open" and bool(r["overdue"]):
            text = "逾期未答复"
        elif r["status"] == "answered" and r["on_time"] is not None and not pd.isna(r["on_time"]):
            text += "（按时）" if bool(r["on_time"]) else "（逾期）"
        status.append(text)
    widgets.table(pd.DataFrame({
        "编号": rows["id"].astype(str),
        "级别": [SUPERVISION_LEVELS.get(v, v) for v in rows["level"]],
        "来源": origins(rows),
        "督办单位": rows["region_name"].fillna("—"),
        "督办人": rows["supervisor"],
        "督办时间": [when(v) for v in rows["created_at"]],
        "答复期限": [when(v) for v in rows["due_at"]],
        "状态": status,
        "答复时间": [when(v) for v in rows["answered_at"]],
        "督办事由": rows["reason"],
    }), height=min(38 + 35 * len(rows), 320))
