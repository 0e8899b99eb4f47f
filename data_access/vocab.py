"""Controlled vocabularies of the appeal database and their Chinese labels.

The database stores the short English codes; the UI shows the labels.
Importers map a city's own words onto these codes.
"""

from __future__ import annotations

STATUSES = {
    "open": "在办",
    "closed": "已办结",
    "cancelled": "已撤销",
}

CHANNELS = {
    "hotline": "8890热线",
    "web": "民心网",
    "app": "随手拍",
    "grid": "网格员上报",
    "enterprise": "企业诉求",
    "police110": "110联动",
    "mailbox": "领导信箱",
    "other": "其他渠道",
}

SATISFACTION = {
    "satisfied": "满意",
    "basic": "基本满意",
    "unsatisfied": "不满意",
}
# the answers that count as satisfied in 满意率
SATISFIED_CODES = ("satisfied", "basic")

URGENCY = {
    "urgent": "紧急",
    "normal": "一般",
    "consult": "咨询",
}

# the level at which an appeal was handled and closed
HANDLING_LEVELS = {
    "grid": "网格",
    "community": "社区",
    "street": "街道",
    "district": "区县",
    "city": "市级",
}
IN_GRID_LEVELS = ("grid", "community")  # 小事不出格
IN_STREET_LEVELS = ("grid", "community", "street")  # 难事不出街

EVENT_TYPES = {
    "accept": "受理",
    "dispatch": "分流交办",
    "handle": "处置",
    "feedback": "反馈",
    "rate": "评价",
    "supervise": "督办",
    "pause": "挂起",
    "resume": "恢复办理",
    "extend": "延期",
    "answer": "督办答复",
    "escalate": "督办升级",
}

SUPERVISION_LEVELS = {"street": "街道", "district": "区", "city": "市"}
SUPERVISION_STATUSES = {"open": "待答复", "answered": "已答复", "escalated": "已升级"}


def label(vocab: dict, code: str | None, default: str = "未知") -> str:
    if code is None:
        return default
    return vocab.get(code, code)
