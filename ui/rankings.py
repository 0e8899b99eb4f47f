"""Building blocks of the 红黑榜 page (/rankings): its URL choices, the rule it states, the boards and tables.

The figures come from ``cached.league`` (``data_access.rankings``); this
module writes them: rates one decimal, the composite as a score out of 100
with one decimal, the movement as an arrow (↑ moved up, green; ↓ moved down,
red; 持平; — when there is nothing to compare with).
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from data_access.rankings import red_black, score
from data_access.ranking_weights import Weights
from data_access.scope import Scope

from . import format as fmt
from . import tables, widgets
from .cases import figure_url
from .params import ViewParams

UNIT_LABELS = {"street": "街道", "department": "承办单位"}
DEFAULT_UNIT = "street"
DEFAULT_N = 5
MAX_N = 50
REASONS = {"too_few": "有效受理少于 {n} 件", "no_rate": "三率均无法计算"}
# the colours of the product's changes (st.metric's deltas on /region): green better, red worse
BETTER, WORSE = "#3dd56d", "#ff6c6c"

CSS = f"""
<style>
.board {{ border-radius: 6px 6px 0 0; padding: 6px 14px; font-size: 1.25rem; font-weight: 700; letter-spacing: 6px;
  margin-bottom: -2px; }}
.board small {{ font-size: .85rem; font-weight: 400; letter-spacing: 0; margin-left: 10px; opacity: .9; }}
.board.red {{ background: #c8161d; color: #ffe8a3; border: 1px solid #e83a3f; }}
.board.black {{ background: #141414; color: #f0f0f0; border: 1px solid #595959; }}
.rule {{ font-size: .92rem; color: #c5d5f0; line-height: 1.55; border: 1px solid #1d3b66; border-radius: 6px;
  padding: 6px 12px; background: rgba(13,31,61,.6); }}
.rule b {{ color: #ffffff; }}
table.tbl span.better {{ color: {BETTER}; font-weight: 600; }}
table.tbl span.worse {{ color: {WORSE}; font-weight: 600; }}
table.tbl span.same, table.tbl span.none {{ color: #8aa3c7; }}
</style>
"""


def style() -> None:
    st.html(CSS)


@dataclass(frozen=True)
class Choice:
    """What the URL asks for besides the shared view: ``unit`` (street | department) and ``n`` (places per board)."""

    unit: str
    n: int
    problems: tuple[str, ...]


def read_choice(qp=None) -> Choice:
    qp = st.query_params if qp is None else qp
    problems = []
    unit = qp.get("unit", DEFAULT_UNIT)
    if unit not in UNIT_LABELS:
        problems.append(f"未知的排名对象 “{str(unit)[:40]}”，已改为{UNIT_LABELS[DEFAULT_UNIT]}")
        unit = DEFAULT_UNIT
    text = qp.get("n")
    n = DEFAULT_N
    if text is not None:
        if str(text).isascii() and str(text).isdigit() and 1 <= int(text) <= MAX_N:
            n = int(text)
        else:
            problems.append(f"红黑榜名额 “{str(text)[:40]}” 无效（应为 1 至 {MAX_N} 的整数），已改为 {DEFAULT_N}")
    return Choice(unit=unit, n=n, problems=tuple(problems))


def _percent(weight: float) -> str:
    return f"{100 * weight:.1f}%"


def rule_html(weights: Weights, table: pd.DataFrame) -> str:
    """The rule of the page in words: the weights and where they come from, the minimum, ties, and 环比."""
    if weights.stored:
        who = "命令行" if weights.changed_by == "cli" else str(weights.changed_by)
        source = f"系统设置（{fmt.stamp(weights.changed_at)} 由{who}修改）"
    else:
        source = "默认权重（系统中尚未设置）"
    previous = table.attrs.get("previous")
    if previous is None:
        compared = "所选时间段没有可比的上期（全部时间，或数据不覆盖上期），不显示环比。"
    else:
        period, moment = previous
        compared = (f"环比：与上期 {period.label()}（截至 {fmt.stamp(moment)}）的名次相比，↑ 上升、↓ 下降；"
                    "上期无数据或未参与排名的单位显示“—”。")
    return (
        '<div class="rule">'
        f"<b>综合得分</b> = 办结率 × {_percent(weights.completion)} + 按时办结率 × {_percent(weights.on_time)} + "
        f"满意率 × {_percent(weights.satisfaction)}，满分 100；权重来源：{html.escape(source)}。"
        "某项比率无法计算时（如没有已评价的工单，满意率为“—”），按其余比率的权重折算。<br>"
        f"<b>有效受理（不含撤销）少于 {weights.min_appeals:,} 件的单位不参与排名</b>，列于最后。"
        "综合得分（保留一位小数）相同者名次并列（1、2、2、4）。" + html.escape(compared) + "</div>"
    )


def nothing_to_rank(unit: str, scope_name: str) -> str:
    if unit == "street":
        return f"{scope_name}范围内没有街道，无街道排名。"
    return f"该时段{scope_name}范围内没有承办单位办理的诉求。"


def movement(rank_change) -> tables.Marked:
    """The movement of a rank against the previous period: ↑n better (green), ↓n worse (red), 持平, or —."""
    if rank_change is None or pd.isna(rank_change):
        return tables.Marked("—", "none", None)
    change = int(rank_change)
    if change > 0:
        return tables.Marked(f"↑{change:,}", "better", change)
    if change < 0:
        return tables.Marked(f"↓{-change:,}", "worse", change)
    return tables.Marked("持平", "same", 0)


def score_change(now, before) -> tables.Marked:
    """The change of the score as shown (points, one decimal, signed); 持平 when it rounds to nothing."""
    a, b = score(now), score(before)
    if a is None or b is None:
        return tables.Marked("—", "none", None)
    diff = round(a - b, 1)
    if diff == 0:
        return tables.Marked("持平", "same", 0.0)
    return tables.Marked(f"{diff:+,.1f}", "better" if diff > 0 else "worse", diff)


def _unit_link(unit: str, code: str, scope: Scope, view: ViewParams, as_of: dt.datetime) -> str:
    """The appeals behind a unit's row: the period's appeals of the street, or of the department in the scope."""
    if unit == "street":
        return figure_url("received", view, as_of, region=code)
    return figure_url("received", view, as_of, region=scope.code, department=code)


def labelled(key, scope: Scope, table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with ``label``: each unit's name as shown. A name two units share gets their district, street…
    as far as it takes to tell them apart (``fmt.distinct_names``); where the rows name their district (a list
    that spans districts), the district is in its own column, so only units of one district that share a name
    get their street… added."""
    from data_access import cached

    out = table.copy()
    out["label"] = out["name"].astype(str)
    districts = spans_districts(out)
    shared = out.duplicated(["name", "district"] if districts else ["name"], keep=False)
    if not shared.any():
        return out
    codes = ["" if pd.isna(c) else str(c) for c in out["region_code"]]
    context = cached.region_context(key, scope, tuple(sorted({c for c in codes if c})))
    above = {row.code: (row.district, row.street, row.community) for row in context.itertuples(index=False)}
    rows = out.index[shared]
    groups = out.loc[rows].groupby("district", dropna=False).groups if districts else {None: rows}
    for members in groups.values():
        where = [out.index.get_loc(i) for i in members]
        contexts = [above.get(codes[i], ())[1 if districts else 0:] for i in where]
        out.loc[members, "label"] = fmt.distinct_names(out.loc[members, "name"].tolist(), contexts,
                                                      keys=[codes[i] for i in where])
    return out


def _rows(table: pd.DataFrame, unit: str, scope: Scope, view: ViewParams, as_of: dt.datetime, *,
          districts: bool, full: bool = False) -> pd.DataFrame:
    out = {"名次": table["rank"].tolist(), UNIT_LABELS[unit]: table["label"].tolist()}
    if districts:
        out["所属区县"] = table["district"].fillna("—").tolist()
    out.update({
        "受理": table["received"].tolist(),
        "办结率": table["completion_rate"].tolist(),
        "按时办结率": table["on_time_rate"].tolist(),
        "满意率": table["satisfaction_rate"].tolist(),
        "综合得分": [score(c) for c in table["composite"]],
        "环比": [movement(c) for c in table["rank_change"]],
    })
    if full:
        out["上期名次"] = table["previous_rank"].tolist()
        out["得分变化"] = [score_change(a, b) if ok else tables.Marked("—", "none", None)
                       for a, b, ok in zip(table["composite"], table["previous_composite"],
                                           table["rank_change"].notna())]
    out["工单"] = [_unit_link(unit, c, scope, view, as_of) for c in table["code"]]
    return pd.DataFrame(out)


FORMATS = {"名次": fmt.count, "上期名次": fmt.count, "受理": fmt.count, "有效受理": fmt.count, "办结率": fmt.rate,
           "按时办结率": fmt.rate, "满意率": fmt.rate, "综合得分": fmt.decimal}


def spans_districts(table: pd.DataFrame) -> bool:
    """Whether the list names units of more than one district (then each row names its district)."""
    return table["district"].nunique(dropna=False) > 1


def boards(table: pd.DataFrame, unit: str, n: int, scope: Scope, view: ViewParams, as_of: dt.datetime) -> None:
    """红榜 (the best, in red) beside 黑榜 (the worst, in black)."""
    red, black = red_black(table, n)
    places = len(table[table["ranked"]])
    left, right = st.columns(2)
    districts = spans_districts(table)
    for column, board, rows, title, note in (
            (left, "red", red, "红榜", "综合得分最高"), (right, "black", black, "黑榜", "综合得分最低，由低到高")):
        with column:
            st.html(f'<div class="board {board}">{title}<small>{note} · 共 {places:,} 个单位参与排名</small></div>')
            if rows.empty:
                widgets.empty_state("参与排名的单位不足两个，不列红黑榜。" if places < 2
                                    else "所有参与排名的单位得分相同，均列入红榜。")
                continue
            tables.html_table(_rows(rows, unit, scope, view, as_of, districts=districts),
                              name=f"{board}-board", links={"工单": "明细"}, formats=FORMATS)


def full_table(table: pd.DataFrame, unit: str, scope: Scope, view: ViewParams, as_of: dt.datetime) -> None:
    """Every ranked unit, by rank (sortable through the URL)."""
    ranked = table[table["ranked"]]
    if ranked.empty:
        widgets.empty_state("没有参与排名的单位。")
        return
    tables.html_table(_rows(ranked, unit, scope, view, as_of, districts=spans_districts(table), full=True),
                      name="league", links={"工单": "明细"}, formats=FORMATS, sort="league_sort", height=560)


def unranked_table(table: pd.DataFrame, unit: str, min_appeals: int, scope: Scope, view: ViewParams,
                   as_of: dt.datetime) -> None:
    """The units listed apart: too few valid appeals (or no rate to score), with the reason."""
    apart = table[~table["ranked"]]
    if apart.empty:
        widgets.empty_state("所有单位均参与排名。")
        return
    out = {UNIT_LABELS[unit]: apart["label"].tolist()}
    if spans_districts(table):
        out["所属区县"] = apart["district"].fillna("—").tolist()
    out.update({
        "受理": apart["received"].tolist(),
        "有效受理": apart["valid"].tolist(),
        "办结率": apart["completion_rate"].tolist(),
        "按时办结率": apart["on_time_rate"].tolist(),
        "满意率": apart["satisfaction_rate"].tolist(),
        "综合得分": [score(c) for c in apart["composite"]],
        "原因": [REASONS[r].format(n=f"{min_appeals:,}") for r in apart["reason"]],
        "工单": [_unit_link(unit, c, scope, view, as_of) for c in apart["code"]],
    })
    tables.html_table(pd.DataFrame(out), name="unranked", links={"工单": "明细"}, formats=FORMATS, height=420)
