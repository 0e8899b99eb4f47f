"""Building blocks of the comparison page (/compare): period B, the key figures of A and B, and the lists
per category and per child region that make the difference. On screen A is 本期 and B 对比期.

Period A is the page's period (``period``, ``from``, ``to``, ``as_of``: ``ui/params.py``); period B is in
``period_b`` (with ``from_b`` and ``to_b`` for ``custom``):

* ``prev`` (the default): the period before A (环比, ``compare.previous_period``), judged as far from its end
  as A is from its own;
* ``yoy``: the same period a year earlier (同比), judged a year earlier;
* a calendar period (``2026-09``) or ``custom``: judged as far from its end as A is (``compare.judged_like``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html

import pandas as pd
import streamlit as st

from data_access import cached
from data_access.compare import covered, judged_like, previous_period, shift_period, year_earlier
from data_access.scope import LEVEL_LABELS, Period, Scope

from . import format as fmt
from . import params, periods, region, tables, widgets
from .cases import figure_url
from .region import NO_DATA, TILES, delta, metric_change
from .text import plain

B_NAMES = ("period_b", "from_b", "to_b")
PREVIOUS, YEAR_BEFORE = "prev", "yoy"
B_CHOICES = {PREVIOUS: "上期（环比）", YEAR_BEFORE: "去年同期（同比）", **periods.KINDS}
B_DEFAULT_LABEL = "上期（环比）"


@dataclasses.dataclass(frozen=True)
class Side:
    """One of the two periods: its name on screen, its period and the moment it is judged at, whether the
    data cover it (``compare.covered``), and its URL parameters (for the links to its appeals)."""

    title: str  # 本期, 对比期
    name: str  # 2026年10月
    period: Period
    as_of: dt.datetime
    covered: bool
    url: dict[str, str]

    def line(self, how: str = "") -> str:
        """本期 2026年10月 · 截至 2026-11-01 00:00"""
        return f"{self.title} {self.name} · 截至 {fmt.stamp(self.as_of)}{how}"


def read_b() -> tuple[params.ViewParams, list[str]]:
    """Period B from the URL, as a view's period fields (period, from, to), and the problems to show."""
    choice, date_from, date_to, problems = params.read_period(
        st.query_params, *B_NAMES, default=PREVIOUS, words=(PREVIOUS, YEAR_BEFORE), default_label=B_DEFAULT_LABEL)
    empty = params.ViewParams(kiosk=False, period=choice, date_from=date_from, date_to=date_to, region=None,
                              as_of=None, problems=())
    return empty, [f"对比期：{p}" for p in problems]


def side_a(view: params.ViewParams, period: Period, as_of: dt.datetime, first) -> Side:
    return Side("本期", view.period_label(), period, as_of, covered(first, period, as_of),
                {k: v for k, v in view.carried().items() if k in ("period", "from", "to")})


def side_b(b: params.ViewParams, a: Side, first) -> tuple[Side | None, str]:
    """Period B and how it was chosen ("上期（环比）"…); None when it cannot be set (A is open-ended)."""
    if a.period.start is None or a.period.end is None:
        return None, ""
    if b.period == PREVIOUS:
        period, moment = previous_period(a.period, a.as_of)
        how = "（上期，环比）"
    elif b.period == YEAR_BEFORE:
        period, moment = shift_period(a.period), year_earlier(a.as_of)
        how = "（去年同期，同比）"
    else:
        period = b.resolve_period(a.as_of.date())
        if period.start is None or period.end is None:
            return None, ""
        moment, how = judged_like(period, a.period, a.as_of), ""
    url = periods.url_form(period)
    name = params.label(*params.from_url(url))
    return Side("对比期", name, period, moment, covered(first, period, moment), url), how


def b_picker(b: params.ViewParams, a: Side, *, first, latest: dt.datetime) -> None:
    """对比期 (B): 上期 (the default), 去年同期, or a day, week, month, quarter, year or two dates of one's own."""
    kind = b.period if b.period in (PREVIOUS, YEAR_BEFORE) else periods.kind_of(b.period)
    row = st.container(horizontal=True, vertical_alignment="center", gap="small", key="b-picker")
    with row:
        st.html('<div class="period-label">对比期</div>', width="content")
        periods.set_widget("b_kind", kind)
        defaults = {}
        if a.period.start is not None:
            start = a.period.start
            defaults = {k: periods.last_complete(k, start, first) for k in periods.KINDS if k != params.CUSTOM}
            before = previous_period(a.period, a.as_of) if a.period.end is not None else None
            if before is not None:
                defaults[params.CUSTOM] = (before[0].start.date(), (before[0].end - dt.timedelta(days=1)).date())
        st.segmented_control("对比期", list(B_CHOICES), format_func=B_CHOICES.get, key="b_kind",
                             on_change=_write_b, args=(defaults,), label_visibility="collapsed")
        if kind in periods.KINDS:
            periods.kind_value(kind, b, key="b", first=first, latest=latest, names=B_NAMES)


def _write_b(defaults: dict) -> None:
    chosen = st.session_state.get("b_kind")
    if not chosen:
        return
    names = dict(zip(("key", "from_key", "to_key"), B_NAMES))
    if chosen in (PREVIOUS, YEAR_BEFORE):
        params.set_period(chosen, **names)
    elif chosen in defaults:
        if chosen == params.CUSTOM:
            params.set_period(params.CUSTOM, *defaults[chosen], **names)
        else:
            params.set_period(defaults[chosen], **names)


def key_figures(key, scope: Scope, a: Side, b: Side) -> None:
    """The region's indicators in A, each with its change on B (the tile's arrow) and B's own figure."""
    now = cached.kpis(key, scope, a.period, a.as_of)
    then = cached.kpis(key, scope, b.period, b.as_of)
    comparable = a.covered and b.covered
    for column, (ind, label, kind) in zip(st.columns(len(TILES)), TILES):
        change = delta(kind, now[ind], then[ind]) if comparable else None
        with column.container(key=f"tile-{ind}"):
            st.metric(plain(label), plain(region.write_figure(kind, now[ind])),
                      help=plain(f"本期 {a.name}，对比期 {b.name}；变化 = 本期 − 对比期。"),
                      **metric_change(ind, change, "较对比期", not comparable))
            shown = region.write_figure(kind, then[ind]) if b.covered else "—"
            links = " · ".join(f'<a href="{html.escape(_list_url(ind, scope.code, side))}" target="_self">'
                               f"{side.title}明细</a>" for side in (a, b))
            st.html(f'<div class="tile-note">对比期 {html.escape(shown)}<br>{links}</div>')


def _list_url(figure: str, code: str | None, side: Side, **filters) -> str:
    """The appeals behind one side's figure on /cases: its period, judged at its moment."""
    return figure_url(figure, _view(side), side.as_of, region=code, period=side.url, **filters)


def _view(side: Side) -> params.ViewParams:
    """A view of one side, for the links to its appeals (``figure_url`` carries its period and moment)."""
    period, date_from, date_to = params.from_url(side.url)
    return params.ViewParams(kiosk=False, period=period, date_from=date_from, date_to=date_to, region=None,
                             as_of=side.as_of, problems=())


def difference_table(key, scope: Scope, a: Side, b: Side, by: str) -> None:
    """Appeals received in A and in B per category (``by="category"``) or per child region (a level), the
    largest change first, each with links to its appeals of A and of B on /cases."""
    df = cached.two_period_counts(key, scope, a.period, a.as_of, b.period, b.as_of, by)
    if df.empty:
        widgets.empty_state("两个时段都没有工单。")
        return
    comparable = a.covered and b.covered
    if not comparable:  # no change to order by: the most appeals in A first
        df = df.sort_values(["a", "key"], ascending=[False, True], kind="stable")
    if by == "category":
        first_column, names = "类别", df["name"]
        urls = {side.title: [_list_url("received", scope.code, side, category=k) for k in df["key"]]
                for side in (a, b)}
    else:
        first_column = LEVEL_LABELS[by]
        names = region.with_parents(key, scope, df["name"], df["key"])
        urls = {side.title: [_list_url("received", k, side) for k in df["key"]] for side in (a, b)}
    out = pd.DataFrame({
        first_column: names,
        "本期": df["a"],
        "对比期": df["b"] if b.covered else [None] * len(df),
        "变化": df["change"] if comparable else [None] * len(df),
        "本期工单": urls["本期"],
        "对比期工单": urls["对比期"],
    })
    tables.html_table(out, name=f"difference-{by}", links={"本期工单": "明细", "对比期工单": "明细"}, height=420,
                      formats={"本期": fmt.count, "对比期": fmt.count, "变化": change_text},
                      sort="cat_sort" if by == "category" else "child_sort")


def change_text(value) -> str:
    """A list's change: signed with separators (+12, −3, 持平), or 无可比数据."""
    if value is None or pd.isna(value):
        return NO_DATA
    return delta("count", value, 0).text
