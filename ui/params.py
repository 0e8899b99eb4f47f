"""Shareable view state in the URL (``st.query_params``), so that a link reproduces a view."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import streamlit as st

from data_access.scope import PERIOD_PRESETS

PERIOD_LABELS = {
    "today": "今日",
    "7d": "近7天",
    "30d": "近30天",
    "month": "本月",
    "year": "本年",
    "all": "全部",
}
assert set(PERIOD_LABELS) == set(PERIOD_PRESETS)

DEFAULT_PERIOD = "30d"


@dataclass(frozen=True)
class ViewParams:
    kiosk: bool
    period: str
    region: str | None
    as_of: dt.datetime | None  # a past moment to show the screen as of (review meetings, historical data)
    problems: tuple[str, ...]  # parameters that were ignored, for a visible note


def read() -> ViewParams:
    qp = st.query_params
    problems = []
    period = qp.get("period", DEFAULT_PERIOD)
    if period not in PERIOD_LABELS:
        problems.append(f"未知的时间范围 “{period[:40]}”，已改为{PERIOD_LABELS[DEFAULT_PERIOD]}")
        period = DEFAULT_PERIOD
    region = qp.get("region") or None
    if region is not None and (len(region) > 32 or not region.replace("-", "").replace("_", "").isalnum()):
        problems.append(f"区域代码 “{region[:40]}” 无效，已显示全域")
        region = None
    kiosk = qp.get("kiosk", "") not in ("", "0", "false")
    as_of = None
    if qp.get("as_of"):
        try:
            as_of = dt.datetime.fromisoformat(qp["as_of"][:32]).replace(tzinfo=None, microsecond=0)
        except ValueError:
            problems.append(f"时间点 “{qp['as_of'][:40]}” 无法识别（格式如 2017-12-31T23:59），已显示最新数据")
    return ViewParams(kiosk=kiosk, period=period, region=region, as_of=as_of, problems=tuple(problems))


def set_period(period: str) -> None:
    st.query_params["period"] = period
