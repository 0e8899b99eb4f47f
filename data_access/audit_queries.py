"""Reading the audit log (``audit_log`` in the system of record): the administrators' page."""

from __future__ import annotations

import datetime as dt
import json

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
    "ranking_weights_set": "修改红黑榜权重",
    "snapshot_freeze": "冻结会议快照", "snapshot_delete": "删除会议快照",
}


def audit_rows(conn, *, actions: list[str] | None = None, actor: str | None = None, region_code: str | None = None,
               since: dt.datetime | None = None, until: dt.datetime | None = None, limit: int = 500) -> pd.DataFrame:
    """The newest audit rows first, filtered by action, actor (substring), region and time ``[since, until)``;
    ``region_name`` is the region's name (empty for a code the region table does not hold)."""
    a, r = schema.audit_log, schema.regions
    stmt = (select(a.c.id, a.c.at, a.c.actor, a.c.action, a.c.target, a.c.region_code, r.c.name.label("region_name"),
                   a.c.detail)
            .select_from(a.outerjoin(r, r.c.code == a.c.region_code)))
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


# ------------------------------------------------------------ in words ---
# The detail of an audit row is JSON for machines; the page shows it as a sentence (``describe``).

KINDS = {"csv": "CSV", "xlsx": "Excel"}
SIGNIN_FAILURES = {"unknown_user": "账号不存在", "disabled": "账号已停用", "locked": "账号已锁定",
                   "bad_password": "密码错误"}
FILTER_NAMES = {"category": "类别", "subcategory": "子类", "channel": "渠道", "department_code": "承办单位",
                "status": "状态", "region": "区域", "cluster": "重复诉求簇"}
PROFILE_FIELDS = {"display_name": "姓名", "unit": "单位", "role": "角色", "region_code": "区域"}
KNOWN_KEYS = {"kind", "rows", "file", "filters", "personal_data", "ip", "role", "via", "reason", "supervision_id",
              "level", "due_at", "department_code", "replaces", "on_time", "answer", "escalated_from",
              "from_level", "overdue_since", "sessions_ended", "label", "password", "locked_until",
              "display_name", "unit", "completion", "on_time", "satisfaction", "min_appeals", "before",
              "name", "period", "period_label", "as_of", "scope_name", "created_by"}


def target_text(action: str, target: str | None) -> str:
    """The object of an audit row as people read it: an export's figure by its name, the rest as stored."""
    from .cases import FIGURES

    if action == "export" and target in FIGURES:
        return FIGURES[target].label
    return target or ""


def describe(action: str, target: str | None, region_name: str | None, detail: str | None) -> str:
    """An audit row in one Chinese sentence, with names rather than codes: "导出 超期在办 CSV · 铁东区 · 232 行",
    "查看工单 2026…0001 · 莲花街道 · 个人信息已脱敏", "登录失败 · 密码错误 · IP 10.0.0.8"."""
    from .auth import ROLE_LABELS
    from .vocab import SUPERVISION_LEVELS

    try:
        values = json.loads(detail) if detail else {}
    except ValueError:
        values = {"": detail}
    if not isinstance(values, dict):
        values = {"": values}
    level = lambda code: SUPERVISION_LEVELS.get(code, code)  # noqa: E731
    parts: list[str] = []
    if action == "export":
        figure = target_text(action, target)
        parts.append(f"导出 {figure} {KINDS.get(values.get('kind'), values.get('kind') or '')}".strip())
        parts.append(region_name or "全域")
        if values.get("rows") is not None:
            parts.append(f"{int(values['rows']):,} 行")
        filters = values.get("filters") or {}
        if filters:
            parts.append("筛选：" + "、".join(f"{FILTER_NAMES.get(k, k)} {v}" for k, v in filters.items()))
    elif action == "case_view":
        parts += [f"查看工单 {target or ''}".strip(), region_name or "全域",
                  "显示个人信息" if values.get("personal_data") else "个人信息已脱敏"]
    elif action in ("signin", "signin_failed"):
        parts.append(ACTIONS[action])
        if values.get("reason"):
            parts.append(SIGNIN_FAILURES.get(values["reason"], str(values["reason"])))
        if values.get("via") == "oidc":
            parts.append("统一身份认证")
        if values.get("role"):
            parts.append(ROLE_LABELS.get(values["role"], values["role"]))
        if region_name:
            parts.append(region_name)
        if values.get("ip"):
            parts.append(f"IP {values['ip']}")
    elif action == "supervise":
        parts += [f"督办工单 {target or ''}".strip(), f"{level(values.get('level'))}级督办"]
        if region_name:
            parts.append(region_name)
        if values.get("due_at"):
            parts.append(f"要求 {str(values['due_at'])[:16]} 前答复")
        if values.get("reason"):
            parts.append(f"理由：{values['reason']}")
    elif action == "answer":
        parts += [f"答复工单 {target or ''} 的{level(values.get('level'))}级督办".replace("  ", " "),
                  "按时答复" if values.get("on_time") else "逾期答复"]
        if values.get("answer"):
            parts.append(f"答复：{values['answer']}")
    elif action == "escalate":
        parts.append(f"工单 {target or ''} 的督办逾期未答复，由{level(values.get('from_level'))}级升级为"
                     f"{level(values.get('level'))}级")
        if values.get("due_at"):
            parts.append(f"要求 {str(values['due_at'])[:16]} 前答复")
    elif action == "ranking_weights_set":
        parts.append(ACTIONS[action])
        parts.append(_weights_text(values))
        before = values.get("before")
        if isinstance(before, dict):
            parts.append(("原为默认值 " if before.get("source") == "default" else "原为 ") + _weights_text(before))
    elif action in ("snapshot_freeze", "snapshot_delete"):
        parts.append(f"{ACTIONS[action]} #{target or ''} “{values.get('name') or ''}”")
        parts.append(region_name or values.get("scope_name") or "全域")
        if values.get("period_label") or values.get("period"):
            parts.append(str(values.get("period_label") or values.get("period")))
        if values.get("as_of"):
            parts.append(f"截至 {str(values['as_of'])[:16].replace('T', ' ')}")
        if action == "snapshot_delete" and values.get("created_by"):
            parts.append(f"创建人 {values['created_by']}")
    else:
        parts.append(f"{ACTIONS.get(action, action)} {target or ''}".strip())
        if values.get("role"):
            parts.append(ROLE_LABELS.get(values["role"], values["role"]))
        for key, name in PROFILE_FIELDS.items():
            if key != "role" and values.get(key):
                parts.append(f"{name} {values[key]}")
        if region_name:
            parts.append(region_name)
        if values.get("sessions_ended") is not None:
            parts.append(f"结束 {int(values['sessions_ended']):,} 个登录会话")
        if values.get("label"):
            parts.append(f"备注 {values['label']}")
    rest = {k: v for k, v in values.items() if k not in KNOWN_KEYS and v not in (None, "", [], {})}
    parts += [f"{k} {v}" if k else str(v) for k, v in rest.items()]
    return " · ".join(p for p in parts if p)


def _weights_text(values: dict) -> str:
    """The 红黑榜's weights of an audit row: "办结率 30% · 按时办结率 40% · 满意率 30% · 少于 10 件不排名"."""
    def share(key):
        value = values.get(key)
        return "—" if not isinstance(value, (int, float)) else f"{100 * value:.1f}%"

    fewest = values.get("min_appeals")
    return (f"办结率 {share('completion')}、按时办结率 {share('on_time')}、满意率 {share('satisfaction')}，"
            f"有效受理少于 {fewest} 件不参与排名")
