"""The period and as-of pickers of the staff pages, and the line that states both.

The URL holds the view (``ui/params.py``): ``period`` (a preset, a calendar
period such as ``2026-10``, or ``custom`` with ``from`` and ``to``) and
``as_of``. Each widget is set from the URL on every run, and a change by staff
goes to the URL before the page runs again (as ``ui.alerts.filter_bar`` does),
so the view is always a link.

* 时间范围: the rolling presets 今日, 近7天, 近30天, 本月, 本年, 全部 (counted back
  from the as-of day);
* 日历周期: 日, 周, 月, 季, 年, then the day, ISO week, month, quarter or year,
  or 自定义 with two dates. A kind opens at its last period complete at the
  as-of time (October on 1 November), or the current one when the data begin
  after that;
* 截至: 最新 (the data's time, the default) or a chosen date and time.

Changing the period never changes the as-of time: a past month is judged at the
time of the data unless a moment is chosen, and the line says both.
"""

from __future__ import annotations

import datetime as dt
import html

import streamlit as st

from data_access.scope import Period, calendar_kind, calendar_label

from . import format as fmt
from . import params

PRESETS = params.PERIOD_LABELS
KINDS = {"day": "日", "week": "周", "month": "月", "quarter": "季", "year": "年", params.CUSTOM: "自定义"}
AS_OF_MODES = {"latest": "最新", "moment": "指定时点"}
# how many periods of a kind the value selector offers at most, newest first
MOST = {"week": 530, "month": 240, "quarter": 80, "year": 60}
# parameters that belong to one view of a list: a new period or moment starts the list again
RESET = ("page",)


# ------------------------------------------------------------ calendar texts ---

def kind_of(period: str) -> str | None:
    """day, week, month, quarter, year, custom: the kind of a URL's period; None for a preset."""
    if period == params.CUSTOM:
        return params.CUSTOM
    return calendar_kind(period) if params.is_calendar(period) else None


def text_of(kind: str, day: dt.date) -> str:
    """The calendar period of ``kind`` that holds ``day``, written as the URL writes it."""
    if kind == "day":
        return day.isoformat()
    if kind == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if kind == "month":
        return f"{day:%Y-%m}"
    if kind == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    if kind == "year":
        return f"{day.year}"
    raise ValueError(f"unknown calendar kind {kind!r}")


def before(text: str) -> str:
    """The calendar period just before ``text``, of the same kind (2026-09 for 2026-10)."""
    return text_of(calendar_kind(text), Period.calendar(text).start.date() - dt.timedelta(days=1))


def last_complete(kind: str, as_of: dt.datetime, first: dt.datetime | None) -> str:
    """The period of ``kind`` to open at: the last one complete at ``as_of``; the current one when the data
    begin after the last complete one's start (a new city has no complete month yet)."""
    current = text_of(kind, as_of.date())
    if Period.calendar(current).end <= as_of:
        return current
    previous = before(current)
    if first is not None and Period.calendar(previous).start < first.replace(hour=0, minute=0, second=0,
                                                                              microsecond=0):
        return current
    return previous


def choices(kind: str, first: dt.datetime | None, last: dt.datetime, current: str | None = None) -> list[str]:
    """The periods of ``kind`` from the one holding ``last`` back to the one holding ``first`` (at most
    ``MOST``), newest first; ``current`` is among them even when it lies outside."""
    out = [text_of(kind, last.date())]
    stop = (first or last).date()
    while Period.calendar(out[-1]).start.date() > stop and len(out) < MOST[kind]:
        out.append(before(out[-1]))
    if current is not None and current not in out:
        out = sorted([*out, current], key=lambda t: Period.calendar(t).start, reverse=True)
    return out


def url_form(period: Period) -> dict[str, str]:
    """The URL parameters of a bounded period: a calendar period's text when it is one (2026-09), else
    ``custom`` with whole days, or with two moments (both included, to the second)."""
    start, end = period.start, period.end
    if start is None or end is None:
        raise ValueError("an open-ended period has no URL form but 'all'")
    for kind in ("day", "week", "month", "quarter", "year"):
        text = text_of(kind, start.date())
        if Period.calendar(text) == period:
            return {"period": text}
    if start.time() == dt.time() and end.time() == dt.time():
        return {"period": params.CUSTOM, "from": start.date().isoformat(),
                "to": (end.date() - dt.timedelta(days=1)).isoformat()}
    return {"period": params.CUSTOM, "from": start.isoformat(timespec="seconds"),
            "to": (end - dt.timedelta(seconds=1)).isoformat(timespec="seconds")}


def label(view: params.ViewParams, period: Period, as_of: dt.datetime) -> str:
    """统计周期 2026年10月 · 截至 2026-11-01 00:00. A calendar period that has not ended at the as-of time
    says so (未结束), and one that has not begun (截至时尚未开始)."""
    text = view.period_label()
    if params.is_calendar(view.period):
        if as_of < period.start:
            text += "（截至时尚未开始）"
        elif as_of < period.end:
            text += "（未结束）"
    return f"统计周期 {text} · 截至 {fmt.stamp(as_of)}"


# ------------------------------------------------------------------ widgets ---

def picker(view: params.ViewParams, moment, fresh, *, key: str = "view", show_label: bool = True) -> None:
    """The period and as-of pickers in one row, after the line that states both (``label``), for a page
    judged at ``moment`` (``widgets.moment``) on the data ``fresh``.

    The selectors offer the span of the data: from the first appeal to the data's time (the last sync, or the
    newest appeal of historical data). A change writes the URL in the widget's callback, before the run;
    inside a fragment (the big screen), whose page read the URL before, the whole page then runs again at once,
    before the old choice is drawn.
    """
    from data_access import cached

    if _changed(view):  # a choice went to the URL in this fragment's run: the page runs again with it
        st.rerun()
    first, _ = cached.data_span(cached.token(fresh))
    latest = moment.as_of if moment.historical else cached.as_of(fresh)
    as_of = moment.as_of
    period = view.resolve_period(as_of.date())
    kind = kind_of(view.period)
    row = st.container(horizontal=True, vertical_alignment="center", gap="small", key=f"{key}-picker")
    with row:
        if show_label:
            st.html(f'<div class="period-label">{html.escape(label(view, period, as_of))}</div>', width="content")
        set_widget(f"{key}_preset", view.period if view.period in PRESETS else None)
        st.segmented_control("时间范围", list(PRESETS), format_func=PRESETS.get, key=f"{key}_preset",
                             on_change=_write_preset, args=(key,), label_visibility="collapsed")
        defaults = {k: last_complete(k, as_of, first) for k in KINDS if k != params.CUSTOM}
        bounded = period if period.start is not None and period.end is not None else \
            Period.preset(params.DEFAULT_PERIOD, as_of.date())
        defaults[params.CUSTOM] = (bounded.start.date(), (bounded.end - dt.timedelta(days=1)).date())
        set_widget(f"{key}_kind", kind)
        st.segmented_control("日历周期", list(KINDS), format_func=KINDS.get, key=f"{key}_kind",
                             on_change=_write_kind, args=(key, defaults), label_visibility="collapsed")
        if kind is not None:
            kind_value(kind, view, key=key, first=first, latest=latest)
        as_of_picker(view, as_of, key=key, first=first, latest=latest)


def kind_value(kind: str, view: params.ViewParams, *, key: str, first: dt.datetime | None, latest: dt.datetime,
               names: tuple[str, str, str] = ("period", "from", "to")) -> None:
    """The value of a calendar kind or of 自定义: a day, a week, month, quarter or year from a list, or two
    dates. ``names``: the URL parameters it writes (period, from, to)."""
    widget = f"{key}_{kind}"
    low, high = (first or latest).date(), latest.date()  # the span of the data
    if kind == params.CUSTOM:
        value = (_day(view.date_from), _day(view.date_to))
        set_widget(widget, value)
        st.date_input("自定义时间段", min_value=min(low, value[0]), max_value=max(high, value[1]), key=widget,
                      on_change=_write_value, args=(widget, kind, names), label_visibility="collapsed",
                      format="YYYY-MM-DD", width=230)
    elif kind == "day":
        value = Period.calendar(view.period).start.date()
        set_widget(widget, value)
        st.date_input("日期", min_value=min(low, value), max_value=max(high, value), key=widget,
                      on_change=_write_value, args=(widget, kind, names), label_visibility="collapsed",
                      format="YYYY-MM-DD", width=140)
    else:
        options = choices(kind, first, latest, view.period)
        set_widget(widget, view.period)
        st.selectbox(KINDS[kind], options, format_func=calendar_label, key=widget, on_change=_write_value,
                     args=(widget, kind, names), label_visibility="collapsed",
                     width=250 if kind == "week" else 150)


def as_of_picker(view: params.ViewParams, as_of: dt.datetime, *, key: str, first: dt.datetime | None,
                 latest: dt.datetime) -> None:
    """截至: 最新 (no ``as_of`` in the URL: the data's time) or a chosen date and time."""
    mode = "moment" if view.as_of is not None else "latest"
    set_widget(f"{key}_as_of_mode", mode)
    st.segmented_control("截至", list(AS_OF_MODES), format_func=AS_OF_MODES.get, key=f"{key}_as_of_mode",
                         on_change=_write_as_of_mode, args=(key, as_of.replace(second=0)),
                         label_visibility="collapsed")
    if mode == "moment":
        widget = f"{key}_as_of"
        set_widget(widget, view.as_of)
        low = dt.datetime.combine((first or latest).date(), dt.time())
        st.datetime_input("截至时点", min_value=min(low, view.as_of), max_value=max(latest, view.as_of),
                          key=widget, on_change=_write_as_of, args=(widget,), label_visibility="collapsed",
                          format="YYYY-MM-DD", step=dt.timedelta(minutes=1), width=200)


def _day(value) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def set_widget(widget: str, value) -> None:
    """Set a widget from the URL before it is drawn (its own memory may hold an older choice)."""
    if st.session_state.get(widget) != value:
        st.session_state[widget] = value


def _changed(view: params.ViewParams) -> bool:
    """True when the URL no longer says what ``view`` read (a change made inside a fragment's run)."""
    now = params.read()
    return (now.period, now.date_from, now.date_to, now.as_of) != (view.period, view.date_from, view.date_to,
                                                                   view.as_of)


def _reset() -> None:
    for name in RESET:
        if name in st.query_params:
            del st.query_params[name]


def _write_preset(key: str) -> None:
    chosen = st.session_state.get(f"{key}_preset")
    if chosen:  # a click on the chosen option clears it: the URL keeps its period
        params.set_period(chosen)
        _reset()


def _write_kind(key: str, defaults: dict) -> None:
    chosen = st.session_state.get(f"{key}_kind")
    if not chosen:
        return
    if chosen == params.CUSTOM:
        params.set_period(params.CUSTOM, *defaults[chosen])
    else:
        params.set_period(defaults[chosen])
    _reset()


def _write_value(widget: str, kind: str, names: tuple[str, str, str]) -> None:
    value = st.session_state.get(widget)
    if kind == params.CUSTOM:
        if not isinstance(value, (tuple, list)) or len(value) != 2 or None in value:
            return  # the second date is not picked yet
        params.set_period(params.CUSTOM, value[0], value[1], key=names[0], from_key=names[1], to_key=names[2])
    elif kind == "day":
        if value is None:
            return
        params.set_period(value.isoformat(), key=names[0], from_key=names[1], to_key=names[2])
    elif value:
        params.set_period(value, key=names[0], from_key=names[1], to_key=names[2])
    _reset()


def _write_as_of_mode(key: str, moment: dt.datetime) -> None:
    chosen = st.session_state.get(f"{key}_as_of_mode")
    if chosen == "latest":
        if "as_of" in st.query_params:
            del st.query_params["as_of"]
    elif chosen == "moment":
        st.query_params["as_of"] = moment.isoformat()
    else:
        return
    _reset()


def _write_as_of(widget: str) -> None:
    value = st.session_state.get(widget)
    if value is None:
        if "as_of" in st.query_params:
            del st.query_params["as_of"]
    else:
        st.query_params["as_of"] = value.replace(second=0, microsecond=0).isoformat()
    _reset()
