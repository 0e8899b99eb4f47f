"""Tables of the big screen: the ranking of regions and the newest overdue appeals."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from data_access import cached
from data_access.scope import LEVEL_LABELS, Period, Scope, levels_below

from . import format as fmt

RANKING_COLUMNS = {
    "名称": st.column_config.TextColumn(width="medium"),
    "受理": st.column_config.NumberColumn(format="localized"),
    "每万人": st.column_config.NumberColumn(format="%.1f"),
    "办结率": st.column_config.NumberColumn(format="%.1f%%"),
    "满意率": st.column_config.NumberColumn(format="%.1f%%"),
    "超期": st.column_config.NumberColumn(format="localized"),
}


def ranking(key, scope: Scope, period: Period, as_of: dt.datetime) -> tuple[str, pd.DataFrame]:
    """Streets (or the first level below the scope) ranked by 每万人诉求量, highest first."""
    below = levels_below(cached.level_counts(key, scope), scope)
    if not below:
        return "区域", pd.DataFrame(columns=list(RANKING_COLUMNS))
    level = "street" if "street" in below else below[0]
    df = cached.children(key, scope, period, as_of, level)
    df = df.sort_values(["per_10k", "received"], ascending=False, na_position="last")
    # the same street name can occur in two districts: name the district then
    twice = df["name"].duplicated(keep=False)
    names = df["name"].where(~twice, df["name"] + "（" + df["parent_name"].fillna("") + "）")
    out = pd.DataFrame({
        "名称": names,
        "受理": df["received"],
        "每万人": df["per_10k"],
        "办结率": df["completion_rate"] * 100,
        "满意率": df["satisfaction_rate"] * 100,
        "超期": df["overdue_open"],
    })
    return LEVEL_LABELS[level], out.reset_index(drop=True)


def overdue_rows(df: pd.DataFrame) -> pd.DataFrame:
    """The overdue list as shown: no name, phone, address or summary."""
    return pd.DataFrame({
        "工单号": df["appeal_id"],
        "类别": [f"{c}/{s}" if s else c for c, s in zip(df["category"], df["subcategory"].fillna(""))],
        "街道": df["street"].fillna("—"),
        "承办单位": df["department"].fillna("—"),
        "超期": [fmt.hours(h) for h in df["overdue_hours"]],
    })
