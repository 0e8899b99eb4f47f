"""Tables of the big screen: the ranking of regions and the newest overdue appeals."""

from __future__ import annotations

import datetime as dt
import html
import math
import numbers
from dataclasses import dataclass
from urllib.parse import urlencode

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


# ------------------------------------------------------------ HTML tables ---
# Tables with links are plain HTML: a link opens in one click, in the same tab, so the browser's back button
# leads back (a data grid's link cell takes a click to select and opens a new tab). Every value is escaped.

@dataclass(frozen=True)
class Link:
    """A cell that links: its text and the URL (built by ``params.link`` or ``cases.figure_url``)."""

    text: str
    url: str


@dataclass(frozen=True)
class Marked:
    """A cell shown as ``text`` with a CSS class (``css``: e.g. ``better``, ``worse``), sorted by ``key``."""

    text: str
    css: str = ""
    key: float | None = None


def _missing(value) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def _cell(value, link_text: str | None, write=None) -> str:
    if write is not None and not isinstance(value, (Link, Marked)) and link_text is None:
        return html.escape(write(value))  # the column's formatter (ui/format.py): "96.7%", "1,234", "—"
    if isinstance(value, Link):
        return f'<a href="{html.escape(value.url)}" target="_self">{html.escape(value.text)}</a>'
    if isinstance(value, Marked):
        return f'<span class="{html.escape(value.css)}">{html.escape(value.text)}</span>'
    if link_text is not None:
        if _missing(value) or value == "":
            return ""
        return f'<a href="{html.escape(str(value))}" target="_self">{html.escape(link_text)}</a>'
    if _missing(value):
        return "—"
    if isinstance(value, bool):
        return "是" if value else ""
    if isinstance(value, numbers.Integral):
        return f"{int(value):,}"
    if isinstance(value, numbers.Real):
        return f"{float(value):,.1f}"
    return html.escape(str(value))


def _clipped(cell: str) -> str:
    return f'<span class="clip" title="{cell}">{cell}</span>' if "<" not in cell else cell


def _sort_key(value):
    if isinstance(value, Link):
        return value.text
    if isinstance(value, Marked):
        return float("nan") if value.key is None else value.key
    return value


def sorted_by_url(df: pd.DataFrame, param: str, query: dict) -> tuple[pd.DataFrame, str | None, bool]:
    """``df`` in the order the URL's ``query`` asks for (``<param>=<column>``, ``<param>_desc=0|1``); the
    column and direction, or (df, None, True) when the URL names no column of ``df``."""
    column = query.get(param)
    if column not in df.columns:
        return df, None, True
    descending = query.get(f"{param}_desc", "1") != "0"
    keys = df[column].map(_sort_key)
    order = keys.sort_values(ascending=not descending, na_position="last", kind="stable").index
    return df.loc[order], column, descending


def _header_link(param: str, column: str, current: str | None, descending: bool, query: dict) -> str:
    """A header that sorts by its column (again: the other way), keeping the rest of the URL."""
    query = {k: v for k, v in query.items() if k not in (param, f"{param}_desc")}
    flip = column == current and descending
    query.update({param: column, f"{param}_desc": "0" if flip else "1"})
    arrow = (" ↓" if descending else " ↑") if column == current else ""
    return (f'<a href="?{html.escape(urlencode(query))}" target="_self" title="点击排序">'
            f"{html.escape(column)}{arrow}</a>")


def html_table(df: pd.DataFrame, **options) -> None:
    """``df`` as an HTML table on the page (see ``table_html``), sortable by the current URL."""
    st.html(table_html(df, query=st.query_params.to_dict(), **options))


def table_html(df: pd.DataFrame, *, name: str, links: dict[str, str] | None = None, right=(),
               height: int | None = None, row_classes: list[str] | None = None, sort: str | None = None,
               wide=(), clip=(), formats: dict | None = None, query: dict | None = None) -> str:
    """``df`` as an HTML table (``data-table=name``). ``links``: columns that hold URLs, shown as the given
    text (a ``Link`` cell shows its own text); numbers and ``right`` columns are right-aligned; ``height``:
    at most this many pixels, then the table scrolls inside; ``row_classes``: a CSS class per row (e.g.
    ``red``); ``sort``: a URL parameter that sorts the table by a column (its headers link to it); ``wide``:
    columns of long text; ``clip``: columns cut short with "…" (the whole text on hover), so that a table
    fits its panel on a wall screen, which cannot scroll; ``formats``: a formatter of ``ui/format.py`` per
    column (the cells keep their values, so sorting is by value); ``query``: the page's URL parameters (for
    ``sort``)."""
    links, query, formats = links or {}, query or {}, formats or {}
    classes = list(row_classes) if row_classes is not None else [""] * len(df)
    current, descending = None, True
    if sort is not None:
        df = df.assign(_row_class=classes)
        df, current, descending = sorted_by_url(df, sort, query)
        classes = df.pop("_row_class").tolist()
    numeric = {c for c in df.columns if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])}
    align = {c: ' class="num"' if (c in numeric or c in right) else (' class="wide"' if c in wide else "")
             for c in df.columns}
    head = "".join(f"<th{align[c]}>{_header_link(sort, c, current, descending, query) if sort else html.escape(str(c))}</th>"
                   for c in df.columns)
    body = []
    for row_class, row in zip(classes, df.itertuples(index=False)):
        cells = "".join(f"<td{align[c]}>{_clipped(_cell(v, links.get(c), formats.get(c))) if c in clip else _cell(v, links.get(c), formats.get(c))}"
                        "</td>" for c, v in zip(df.columns, row))
        body.append(f'<tr class="{html.escape(row_class)}">{cells}</tr>' if row_class else f"<tr>{cells}</tr>")
    style = f' style="max-height: {int(height)}px"' if height else ""
    return (f'<div class="tbl-wrap"{style}><table class="tbl" data-table="{html.escape(name)}">'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>")
