"""Reading the audit log (``audit_log`` in the system of record): the administrators' page."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import func, select

from . import schema
from .runner import run

ACTIONS = {
    "signin": "登录", "signin_failed": "登录失败", "signout": "退出", "case_view": "查看工单详情",
    "export": "导出", "supervise": "督办", "answer": "督办答复", "escalate": "督办自动升级",
    "user_add": "新增用户", "user_profile": "修改用户姓名单位", "user_disable": "停用用户",
    "user_reset_password": "重置密码",
    "kiosk_token_create": "生成大屏令牌", "kiosk_token_revoke": "吊销大屏令牌",
}


def audit_rows(conn, *, actions: list[str] | None = None, actor: str | None = None, region_code: str | None = None,
               since: dt.datetime | None = None, until: dt.datetime | None = None, limit: int = 500) -> pd.DataFrame:
    """The newest audit rows first, filtered by action, actor (substring), region and time ``[since, until)``."""
    a = schema.audit_log
    stmt = select(a.c.id, a.c.at, a.c.actor, a.c.action, a.c.target, a.c.region_code, a.c.detail)
    if actions:
        stmt = stmt.where(a.c.action.in_(actions))
    if actor:
        stmt = stmt.where(func.lower(a.c.actor).contains(actor.lower(), autoescape=True))
    if region_code:
        stmt = stmt.where(a.c.region_code == region_code)
    if since is not None:
        stmt = stmt.where(a.c.at >= since)
    if until is not None:
        stmt = stmt.where(a.c.at < until)
    return run(conn, stmt.order_by(a.c.at.desc(), a.c.id.desc()).limit(limit))


def audit_counts(conn, *, since: dt.datetime | None = None) -> pd.DataFrame:
    """Rows per action since ``since``."""
    a = schema.audit_log
    stmt = select(a.c.action, func.count().label("n")).group_by(a.c.action).order_by(func.count().desc())
    if since is not None:
        stmt = stmt.where(a.c.at >= since)
    return run(conn, stmt)
