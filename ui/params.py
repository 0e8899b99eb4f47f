"""Shareable view state in the URL (``st.query_params``), so that a link reproduces a view.

Every page reads the same parameters:

* ``region``: a region code (default: the whole territory);
* ``period``: a preset (today, 7d, 30d, month, year, all) or ``custom`` with
  ``from`` and ``to`` (dates, both included);
* ``as_of``: a past moment to judge the figures at (default: the data's time);
* ``kiosk``: hide menus (big screens).

``link(page, **params)`` builds the URL of another view.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

import streamlit as st

from data_access.clock import END_OF_TIME, FIRST_TIME
from data_access.scope import PERIOD_PRESETS, Period

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
CUSTOM = "custom"

# the URL path of each page (see app.py)
PAGES = {"big_screen": "", "region": "region", "alerts": "alerts", "cases": "cases", "case": "case"}
PAGES["rankings"] = "rankings"
PAGES["snapshots"] = "snapshots"
PAGES["present"] = "present"


@dataclass(frozen=True)
class ViewParams:
    kiosk: bool
    period: str  # a preset key, or "custom"
    date_from: dt.date | None  # with period "custom"
    date_to: dt.date | None
    region: str | None
    as_of: dt.datetime | None  # a past moment to show the view as of (review meetings, historical data)
    problems: tuple[str, ...]  # parameters that were ignored, each a sentence for the screen
    kiosk_value: str = "1"  # the URL's kiosk value as given: a wall screen's token is carried on its links

    def resolve_period(self, today: dt.date) -> Period:
        if self.period == CUSTOM:
            if isinstance(self.date_from, dt.datetime):  # an exact window, both ends included (to the second)
                return Period(self.date_from, self.date_to + dt.timedelta(seconds=1))
            return Period.days(self.date_from, self.date_to)
        return Period.preset(self.period, today)

    def period_label(self) -> str:
        if self.period == CUSTOM:
            shape = "%Y-%m-%d %H:%M" if isinstance(self.date_from, dt.datetime) else "%Y-%m-%d"
            return f"{self.date_from:{shape}} 至 {self.date_to:{shape}}"
        return PERIOD_LABELS[self.period]

    def carried(self) -> dict[str, str]:
        """The parameters a link to another view keeps: period, as-of, kiosk."""
        out = {"period": self.period}
        if self.period == CUSTOM:
            out.update({"from": self.date_from.isoformat(), "to": self.date_to.isoformat()})
        if self.as_of is not None:
            out["as_of"] = self.as_of.isoformat()
        if self.kiosk:
            out["kiosk"] = self.kiosk_value
        return out


def _date(text: str | None) -> dt.date | dt.datetime | None:
    """A date, or (with a time: 2026-11-08T10:00:00) an exact moment."""
    try:
        if text and "T" in text:
            return dt.datetime.fromisoformat(text[:19])
        return dt.date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None


def _within(value: dt.date | dt.datetime) -> bool:
    """True for a date or moment inside the span of times the dashboard shows (1900 to 2199)."""
    moment = value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())
    return FIRST_TIME <= moment.replace(tzinfo=None) < END_OF_TIME


SPAN = f"{FIRST_TIME:%Y-%m-%d} 至 {END_OF_TIME - dt.timedelta(days=1):%Y-%m-%d}"


def read() -> ViewParams:
    qp = st.query_params
    problems = []
    period = qp.get("period", DEFAULT_PERIOD)
    date_from = date_to = None
    if period == CUSTOM:
        date_from, date_to = _date(qp.get("from")), _date(qp.get("to"))
        if (date_from is None or date_to is None
                or isinstance(date_from, dt.datetime) != isinstance(date_to, dt.datetime)):
            problems.append(f"自定义时间段需要有效的起止日期（from={qp.get('from', '')[:20]}，"
                            f"to={qp.get('to', '')[:20]}，格式如 2026-01-31），已改为{PERIOD_LABELS[DEFAULT_PERIOD]}")
            period = DEFAULT_PERIOD
        elif not (_within(date_from) and _within(date_to)):
            problems.append(f"时间段 {qp.get('from', '')[:20]} 至 {qp.get('to', '')[:20]} 超出可显示的日期范围"
                            f"（{SPAN}），已改为{PERIOD_LABELS[DEFAULT_PERIOD]}")
            period, date_from, date_to = DEFAULT_PERIOD, None, None
        elif date_to < date_from:
            problems.append(f"时间段的结束日期 {date_to} 早于开始日期 {date_from}，已改为{PERIOD_LABELS[DEFAULT_PERIOD]}")
            period, date_from, date_to = DEFAULT_PERIOD, None, None
    elif period not in PERIOD_LABELS:
        problems.append(f"未知的时间范围 “{period[:40]}”，已改为{PERIOD_LABELS[DEFAULT_PERIOD]}")
        period = DEFAULT_PERIOD
    region = qp.get("region") or None
    if region is not None and (len(region) > 32 or not region.replace("-", "").replace("_", "").isalnum()):
        problems.append(f"区域代码 “{region[:40]}” 无效，已显示默认范围")
        region = None
    kiosk = qp.get("kiosk", "") not in ("", "0", "false")
    as_of = None
    if qp.get("as_of"):
        try:
            as_of = dt.datetime.fromisoformat(qp["as_of"][:32])
            if not _within(as_of):
                problems.append(f"时间点 “{qp['as_of'][:40]}” 超出可显示的日期范围（{SPAN}），已显示最新数据")
                as_of = None
            else:
                as_of = _city_time(as_of).replace(microsecond=0)
        except (ValueError, OverflowError):
            problems.append(f"时间点 “{qp['as_of'][:40]}” 无法识别（格式如 2017-12-31T23:59），已显示最新数据")
    return ViewParams(kiosk=kiosk, period=period, date_from=date_from, date_to=date_to, region=region,
                      as_of=as_of, problems=tuple(problems), kiosk_value=str(qp.get("kiosk", ""))[:200] or "1")


def _city_time(value: dt.datetime) -> dt.datetime:
    """A moment from the URL in the city's zone: one with an offset (…+08:00, …Z) is converted, a naive one is
    the city's already."""
    if value.tzinfo is None:
        return value
    from data_access import cached
    from data_access.clock import to_local_naive

    return to_local_naive(value, cached.settings().timezone)


def set_period(period: str) -> None:
    st.query_params["period"] = period
    for key in ("from", "to"):
        if key in st.query_params and period != CUSTOM:
            del st.query_params[key]


def link(page: str, **params) -> str:
    """The URL of a page with parameters (None values are left out)."""
    query = urlencode({k: v for k, v in params.items() if v is not None})
    path = "/" + PAGES[page]
    return f"{path}?{query}" if query else path
