"""Header, tiles, panel titles, tables and messages."""

from __future__ import annotations

import datetime as dt
import functools
import html
import json
import logging
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from data_access.indicators import INDICATORS
from data_access.access import NoAccess
from data_access.runner import QueryError, QueryTimeout

from . import format as fmt
from . import theme
from .text import plain


def header(title: str, scope_label: str, fresh, timezone: str, moment: "Moment | None" = None) -> None:
    """Title, a live clock in the city's zone, the data's own time (newest appeal and sync, or the past moment
    shown) and a stale-data warning."""
    left, right = st.columns([3, 2], vertical_alignment="center")
    left.html(f'<p class="screen-title">{html.escape(title)}</p>')
    synced = fmt.stamp(fresh.synced_at, seconds=True)
    if moment is not None and moment.source == "url":
        shown = f'回看时点 <b>{fmt.stamp(moment.as_of, seconds=True)}</b>'
    elif moment is not None and moment.historical:
        shown = f'历史数据 · 截至 <b>{fmt.stamp(moment.as_of, seconds=True)}</b>'
    elif moment is not None:
        shown = times_line(moment, fresh)
    else:
        shown = f'数据截至 <b>{synced}</b>'
    warn = ""
    if fresh.error:
        warn = f'<br><span class="stale">⚠ 数据源连接失败，显示的是 {synced} 的数据</span>'
    elif fresh.stale:
        warn = f'<br><span class="stale">⚠ 数据同步滞后，最后同步于 {synced}</span>'
    right.html(
        f'<div class="screen-meta"><span id="live-clock" data-tz="{html.escape(timezone)}"></span>'
        f' · 范围 <b>{html.escape(scope_label)}</b> · {shown}{warn}</div>'
        + _CLOCK_JS % json.dumps(timezone),
        unsafe_allow_javascript=True,
    )


_CLOCK_JS = """
<script>
(function () {
  const tz = %s;
  const el = document.getElementById("live-clock");
  if (!el) return;
  const f = new Intl.DateTimeFormat("zh-CN", {timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit",
      weekday: "short", hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false});
  const tick = () => { el.textContent = f.format(new Date()); };
  tick();
  if (window.__liveClock) clearInterval(window.__liveClock);
  window.__liveClock = setInterval(() => {
    const cur = document.getElementById("live-clock"); if (cur) cur.textContent = f.format(new Date());
  }, 1000);
})();
</script>
"""


def tile(column, key: str, label: str, value: str, help_text: str, url: str | None = None,
         change: tuple | None = None) -> None:
    """A figure; with ``url``, a 明细 link to its list in the tile's corner (a plain link: one click, same tab);
    with ``change``, the arguments of ``region.metric_change`` (indicator, change, description, missing): the
    change under the figure, its arrow and its colour."""
    from .region import metric_change

    with column.container(key=f"tile-{key}"):
        st.metric(plain(label), plain(value), help=plain(help_text), **metric_change(*(change or ("", None, ""))))
        if url is not None:
            st.html(f'<div class="tile-link" data-label="{html.escape(label)}">'
                    f'<a href="{html.escape(url)}" target="_self" title="查看{html.escape(label)}的工单">明细 ›</a></div>')


def indicator_help(key: str, period_label: str, scope_label: str, as_of: dt.datetime) -> str:
    ind = INDICATORS[key]
    text = f"{ind.label}：{ind.numerator_zh}"
    if ind.denominator_zh:
        text += f" ÷ {ind.denominator_zh}"
    return f"{text}。范围：{scope_label}；时间：{period_label}；截至 {fmt.stamp(as_of)}。"


def panel_title(title: str, note: str = "") -> None:
    small = f"<small>{html.escape(note)}</small>" if note else ""
    st.html(f'<div class="panel-title">{html.escape(title)}{small}</div>')


def legend(classes, palette, caption: str, fmt_value=None) -> None:
    """The map's legend, saying how its colours were made (``geo.layers.classify``)."""
    from geo import layers

    show = fmt_value or fmt.per_10k
    if classes.method == "empty":
        return
    if classes.method == "none":
        sw = f'<span class="sw" style="background: rgb{tuple(layers.NEUTRAL)}"></span>'
        span = show(classes.low) if classes.low == classes.high else f"{show(classes.low)}–{show(classes.high)}"
        st.html(f'<div class="legend"><span class="lb">{html.escape(caption)}</span>{sw}'
                f'<span class="lb">{span} · 各区域差异很小，统一着色</span></div>')
        return
    cells = "".join(f'<span class="sw" style="background: rgb{tuple(c)}"></span>' for c in palette)
    how = "等距分级" if classes.method == "equal" else "分位数分级（每级区域数相近）"
    st.html(f'<div class="legend"><span class="lb">{html.escape(caption)}　低 {show(classes.low)}</span>{cells}'
            f'<span class="lb">{show(classes.high)} 高 · {how}</span></div>')


def empty_state(message: str, hint: str = "") -> None:
    st.info(plain(message) + (f"\n\n{plain(hint)}" if hint else ""), icon=":material/info:")


ROW_PX, HEAD_PX = 35, 38  # st.dataframe's row height, and its header row with the borders


def rows_height(rows: int, most: int) -> int:
    """The height of a table of ``rows`` rows: its rows and header exactly (no empty row below the last),
    at most ``most`` pixels (then it scrolls)."""
    return min(HEAD_PX + ROW_PX * max(rows, 1), most)


def table(df, height: int, column_config: dict | None = None) -> None:
    """A table at most ``height`` pixels high, and no higher than its rows (``rows_height``); ``df`` may be a
    pandas Styler (``fmt.styled``)."""
    rows = len(df.data) if hasattr(df, "data") else len(df)
    st.dataframe(df, height=rows_height(rows, height), hide_index=True, width="stretch",
                 column_config=column_config)


def guard(render):
    """Run a page body; an unexpected error becomes a clear message on screen, its details go to the log."""

    @functools.wraps(render)
    def wrapper(*args, **kwargs):
        try:
            return render(*args, **kwargs)
        except NoAccess as exc:
            st.error(f"无权访问：{plain(exc)}")
        except QueryTimeout as exc:
            st.error(f"查询超时：{plain(exc)}。请缩小范围或时间段后重试。")
        except QueryError as exc:
            st.error(f"查询失败：{plain(exc)}")
        except Exception as exc:  # noqa: BLE001 - the last line of defence before a traceback
            logging.getLogger("appeals").exception("page failed")
            st.error(f"页面出错（{type(exc).__name__}），详细信息已记录在服务器日志中。")

    return wrapper


def current_data(*, before_message=None, hint: str = ""):
    """Sync if due and return the store's freshness; or say on screen why there is nothing to show.

    ``before_message`` draws something (the big screen's header) before such a
    message. Returns None when the page should stop.
    """
    from data_access import cached

    try:
        fresh = cached.refresh()
    except cached.StoreUnavailable as exc:
        st.error(plain(exc))
        return None
    if fresh.empty:
        if before_message is not None:
            before_message(fresh)
        if fresh.error:
            st.error(f"无法连接诉求数据库 {plain(fresh.source)}。\n\n{plain(fresh.error)}")
        else:
            empty_state("诉求数据库中暂无数据。", hint)
        return None
    return fresh


@dataclass(frozen=True)
class Moment:
    """The moment a page's figures are judged at, and what the data's own time says about it."""

    as_of: dt.datetime
    source: str  # "sync" (the data's present) | "url" (a past moment asked for) | "historical" (the newest appeal)
    newest: dt.datetime | None  # the newest appeal of the feed
    silent_for: dt.timedelta | None  # set when the feed is silent for longer than is plausible at this hour
    usual_per_hour: float = 0.0  # the usual arrivals in the current hour of the day

    @property
    def historical(self) -> bool:
        return self.source == "historical"


def moment(fresh, view) -> Moment:
    """The data's time, a past ``as_of`` from the URL, or, for historical data, the newest appeal.

    Historical: the newest appeal is older than the start of the period the
    view asks for (an open period counts as the default one), so the present
    would be empty; the page opens at the newest appeal instead
    (``feed.opening_as_of``). An ``as_of`` in the URL always wins.
    """
    from data_access import cached, feed
    from data_access.scope import Period

    from .params import DEFAULT_PERIOD

    synced = cached.as_of(fresh)
    status = cached.feed(cached.token(fresh))
    if view.as_of is not None and view.as_of < synced:
        return Moment(view.as_of, "url", status.newest, None)
    today = cached.city_now().date()
    period = view.resolve_period(today)
    horizon = period.start if period.start is not None else Period.preset(DEFAULT_PERIOD, today).start
    opened = feed.opening_as_of(status.newest, horizon)
    if opened is not None:
        return Moment(opened, "historical", status.newest, None)
    silent = status.silent(cached.settings().feed_silence_minutes) and not fresh.error
    usual = status.per_hour[status.now.hour] if status.newest is not None else 0.0
    return Moment(synced, "sync", status.newest, status.silence if silent else None, usual)


def data_time(m: Moment, fresh, *, kiosk: bool = False) -> None:
    """The banners of the data's own time: historical data, or a feed gone silent."""
    from data_access import feed

    if m.historical:
        st.html(f'<div class="data-banner historical">历史数据 · 截至 <b>{fmt.stamp(m.as_of, seconds=True)}</b>'
                '<small>（最新一条工单的受理时间；数据库中没有更新的工单）</small></div>')
    elif m.silent_for is not None:
        usual = f"，此时段通常每小时约 {m.usual_per_hour:.0f} 件" if m.usual_per_hour >= 1 else ""
        st.html(f'<div class="data-banner silent">⚠ 数据源可能中断：最近一条工单 '
                f'<b>{feed.silence_text(m.silent_for)}前</b>（{fmt.stamp(m.newest)}）{usual}。'
                f'{"" if kiosk else "<small>请检查与热线平台的数据对接。</small>"}</div>')


def times_line(m: Moment, fresh) -> str:
    """"数据截至 <the sync> · 最新工单 <the newest appeal>" (HTML), for a page's header.

    The sync time says how current the copy is; the newest appeal says how
    current the data is. A feed that stopped shows an old newest appeal
    beside a recent sync.
    """
    from data_access import cached

    today = cached.city_now().date()

    def shown(value, seconds=False):  # today's times as clock times, in full on hover
        return (f'<b title="{fmt.stamp(value, seconds=True)}">{fmt.stamp_on(value, today, seconds)}</b>')

    return f'数据截至 {shown(fresh.synced_at, True)} · 最新工单 {shown(m.newest)}'
