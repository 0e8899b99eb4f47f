"""Tables of the big screen: the ranking of regions and the newest overdue appeals."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from data_access import cached
from data_access.scope import LEVEL_LABELS, Period, Scope, levels_below

from . import format as fmt

# 超期 on the big screen means what its tile means: every appeal open and overdue at the as-of time, whenever it
# was received (not only the period's); the label says so (docs/metrics.md)
STOCK_OVERDUE_TILE = "超期 · 全部在办"
STOCK_OVERDUE = "超期（全部在办）"
STOCK_OVERDUE_HELP = ("统计时点仍在办且已过办理时限的全部诉求，不限受理时间（与上方“超期 · 全部在办”相同）；"
                     "受理、每万人、办结率、满意率为所选时间段内受理的诉求")
# how each figure is written; a missing one shows as "—" (the order is the ranking's, not a sort)
RANKING_FORMATS = {"受理": fmt.count, "每万人": fmt.per_10k, "办结率": fmt.rate, "满意率": fmt.rate,
                   STOCK_OVERDUE: fmt.count}
RANKING_COLUMNS = {
    "名称": st.column_config.TextColumn(width="medium"),
    **{k: st.column_config.TextColumn(alignment="right") for k in RANKING_FORMATS},
    STOCK_OVERDUE: st.column_config.TextColumn(alignment="right", help=STOCK_OVERDUE_HELP),
}


def ranking(key, scope: Scope, period: Period, as_of: dt.datetime) -> tuple[str, str, pd.DataFrame]:
    """Streets (or the first level below the scope) ranked by 每万人诉求量 (受理量 without populations).

    The figures are of the period's appeals, but for 超期: every appeal open and overdue at ``as_of``
    (``STOCK_OVERDUE``), as the big screen's tile counts it."""
    below = levels_below(cached.level_counts(key, scope), scope)
    if not below:
        return "区域", "", pd.DataFrame(columns=["code", "名称", *RANKING_FORMATS])  # a grid: nothing below
    level = "street" if "street" in below else below[0]
    df = cached.children(key, scope, period, as_of, level)
    by_population = df["per_10k"].notna().any()
    order = ["per_10k", "received"] if by_population else ["received"]
    stock = cached.children(key, scope, Period.all_time(), as_of, level).set_index("code")["overdue_open"]
    df = df.assign(stock_overdue=df["code"].map(stock).fillna(0).astype(int))
    df = df.sort_values(order, ascending=False, na_position="last")
    # the same street name can occur in two districts: name the district then
    twice = df["name"].duplicated(keep=False)
    names = df["name"].where(~twice, df["name"] + "（" + df["parent_name"].fillna("") + "）")
    out = pd.DataFrame({
        "code": df["code"],
        "名称": names,
        "受理": df["received"],
        "每万人": df["per_10k"],
        "办结率": df["completion_rate"],
        "满意率": df["satisfaction_rate"],
        STOCK_OVERDUE: df["stock_overdue"],
    })
    return LEVEL_LABELS[level], "按每万人诉求量" if by_population else "按受理量", out.reset_index(drop=True)


def shown(df: pd.DataFrame) -> pd.DataFrame:
    """The ranking as written on screen; a column with no figure at all is left out."""
    out = pd.DataFrame({"名称": df["名称"]})  # the code stays out of sight
    for column, write in RANKING_FORMATS.items():
        if column in df and df[column].notna().any():
            out[column] = [write(v) for v in df[column]]
    return out


def overdue_rows(df: pd.DataFrame) -> pd.DataFrame:
    """The overdue list as shown: no name, phone, address or summary."""
    return pd.DataFrame({
        "工单号": df["appeal_id"],
        "类别": [f"{c}/{s}" if s else c for c, s in zip(df["category"], df["subcategory"].fillna(""))],
        "街道": df["street"].fillna("—"),
        "承办单位": df["department"].fillna("—"),
        "超期": df["overdue"],  # deadlines.with_overdue: the text of every screen and file
    })


NEW_RED_STYLE = "background-color: rgba(255, 77, 79, 0.38); color: #ffffff; font-weight: 600"


def highlight(df: pd.DataFrame, rows: list[bool]):
    """The table with the given rows lit red (an appeal that turned red within the last minute)."""
    if not any(rows):
        return df
    flags = pd.Series(rows, index=df.index)
    return df.style.apply(lambda row: [NEW_RED_STYLE if flags[row.name] else ""] * len(row), axis=1)
