"""Shareable view state in the URL (``st.query_params``), so that a link reproduces a view.

Every page reads the same parameters:

* ``region``: a region code (default: the whole territory);
* ``period``: a preset (today, 7d, 30d, month, year, all), a calendar period
  as a meeting names it (``2026-10-15`` a day, ``2026-W44`` an ISO week,
  ``2026-10`` a month, ``2026-Q4`` a quarter, ``2026`` a year), or ``custom``
  with ``from`` and ``to`` (dates, both included);
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
from data_access.scope import PERIOD_PRESETS, Period, calendar_kind, calendar_label

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

# how a calendar period is written in the URL, for the messages about a bad one
CALENDAR_EXAMPLES = "2026-10-15（日）、2026-W44（周）、2026-10（月）、2026-Q4（季）、2026（年）"

# the URL path of each page (see app.py)
PAGES = {"big_screen": "", "region": "region", "alerts": "alerts", "cases": "cases", "case": "case",
         "compare": "compare", "rankings": "rankings", "snapshots": "snapshots",
         "present": "present"}


def is_calendar(period: str) -> bool:
    """True for a calendar period's text (2026-10, 2026-W44, …), False for a preset or ``custom``."""
    if period in PERIOD_LABELS or period == CUSTOM:
        return False
    try:
        calendar_kind(period)
    except ValueError:
        return False
    return True


def resolve(period: str, date_from, date_to, today: dt.date) -> Period:
    """The Period of a URL's period parameter (with ``from`` and ``to`` for ``custom``)."""
    if period == CUSTOM:
        if isinstance(date_from, dt.datetime):  # an exact window, both ends included (to the second)
            return Period(date_from, date_to + dt.timedelta(seconds=1))
        return Period.days(date_from, date_to)
    if period in PERIOD_LABELS:
        return Period.preset(period, today)
    return Period.calendar(period)


def label(period: str, date_from, date_to) -> str:
    """The Chinese name of a URL's period: 近30天, 2026年10月, 2026-10-01 至 2026-10-20."""
    if period == CUSTOM:
        shape = "%Y-%m-%d %H:%M" if isinstance(date_from, dt.datetime) else "%Y-%m-%d"
        return f"{date_from:{shape}} 至 {date_to:{shape}}"
    if period in PERIOD_LABELS:
        return PERIOD_LABELS[period]
    return calendar_label(period)


def from_url(form: dict) -> tuple[str, dt.date | None, dt.date | None]:
    """(period, from, to) of a period's URL parameters (``url_params``' inverse)."""
    return form["period"], _date(form.get("from")), _date(form.get("to"))


def url_params(period: str, date_from, date_to) -> dict[str, str]:
    """A URL's period parameters: ``period``, and ``from`` and ``to`` for ``custom``."""
    out = {"period": period}
    if period == CUSTOM:
        out.update({"from": date_from.isoformat(), "to": date_to.isoformat()})
    return out


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
        """The period: a preset counted back from ``today``, a calendar period, or the custom dates."""
        return resolve(self.period, self.date_from, self.date_to, today)

    def period_label(self) -> str:
        return label(self.period, self.date_from, self.date_to)

    def carried(self) -> dict[str, str]:
        """The parameters a link to another view keeps: period, as-of, kiosk."""
        out = url_params(self.period, self.date_from, self.date_to)
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


def read_period(qp, key: str = "period", from_key: str = "from", to_key: str = "to",
                default: str = DEFAULT_PERIOD, words: tuple[str, ...] = (), default_label: str | None = None
                ) -> tuple[str, dt.date | None, dt.date | None, list[str]]:
    """A period from the URL: (period, from, to, problems). A value that makes no sense is named in
    ``problems`` (a sentence for the screen) and ``default`` is used instead. ``words``: other values the
    caller accepts as they are (the comparison page's ``prev`` and ``yoy``); ``default_label``: the default's name
    in those sentences (a preset's own by default)."""
    problems = []
    period = str(qp.get(key, default)).strip()
    date_from = date_to = None
    fallback = default_label or PERIOD_LABELS.get(default, default)
    if period == CUSTOM:
        date_from, date_to = _date(qp.get(from_key)), _date(qp.get(to_key))
        if (date_from is None or date_to is None
                or isinstance(date_from, dt.datetime) != isinstance(date_to, dt.datetime)):
            problems.append(f"自定义时间段需要有效的起止日期（{from_key}={qp.get(from_key, '')[:20]}，"
                            f"{to_key}={qp.get(to_key, '')[:20]}，格式如 2026-01-31），已改为{fallback}")
            period, date_from, date_to = default, None, None
        elif not (_within(date_from) and _within(date_to)):
            problems.append(f"时间段 {qp.get(from_key, '')[:20]} 至 {qp.get(to_key, '')[:20]} 超出可显示的日期范围"
                            f"（{SPAN}），已改为{fallback}")
            period, date_from, date_to = default, None, None
        elif date_to < date_from:
            problems.append(f"时间段的结束日期 {date_to} 早于开始日期 {date_from}，已改为{fallback}")
            period, date_from, date_to = default, None, None
    elif period not in PERIOD_LABELS and period != default and period not in words:
        try:
            bounds = Period.calendar(period)
        except ValueError:
            problems.append(f"未知的时间范围 “{period[:40]}”（日历周期的写法如 {CALENDAR_EXAMPLES}），已改为{fallback}")
            period = default
        else:
            if not (_within(bounds.start) and _within(bounds.end - dt.timedelta(days=1))):
                problems.append(f"时间范围 “{period[:40]}” 超出可显示的日期范围（{SPAN}），已改为{fallback}")
                period = default
    return period, date_from, date_to, problems


def read() -> ViewParams:
    qp = st.query_params
    period, date_from, date_to, problems = read_period(qp)
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


def set_period(period: str, date_from: dt.date | None = None, date_to: dt.date | None = None, *,
               key: str = "period", from_key: str = "from", to_key: str = "to") -> None:
    """Write a period to the URL: a preset or a calendar period, or ``custom`` with its two dates."""
    st.query_params[key] = period
    if period == CUSTOM:
        st.query_params[from_key] = date_from.isoformat()
        st.query_params[to_key] = date_to.isoformat()
        return
    for name in (from_key, to_key):
        if name in st.query_params:
            del st.query_params[name]


def link(page: str, **params) -> str:
    """The URL of a page with parameters (None values are left out)."""
    query = urlencode({k: v for k, v in params.items() if v is not None})
    path = "/" + PAGES[page]
    return f"{path}?{query}" if query else path
