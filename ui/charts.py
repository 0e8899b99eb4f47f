"""Plotly figures for the panels. Each takes a small DataFrame from the query layer."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from . import format as fmt
from . import theme
from .text import markup


def labels(values) -> list[str]:
    """Names from the data (categories, channels, regions) as plotly is to show them: plotly renders a subset of
    HTML in tick labels, legends, bar texts and hover texts, so ``<a href=…>链</a>`` would be a live link.
    Escaped, it reads as those characters. Every name reaches a figure through this."""
    return [markup(v) for v in values]


def trend(df: pd.DataFrame, height: int, today=None) -> go.Figure:
    """Daily received and closed; today's unfinished day is drawn apart, so it does not read as a drop."""
    done = df[df["day"].dt.date != today] if today is not None else df
    part = df[df["day"].dt.date == today] if today is not None else df.iloc[0:0]
    fig = go.Figure()
    # every day is a point that can be clicked (a click opens that day's list); "closest" hovering, because
    # plotly selects nothing on a click under a unified hover
    fig.add_scatter(x=done["day"], y=done["received"], name="受理", mode="lines+markers",
                    line=dict(color=theme.ACCENT, width=2), marker=dict(size=5),
                    hovertemplate="%{x|%m-%d} 受理 %{y:,} 件<extra>点击查看工单</extra>")
    fig.add_scatter(x=done["day"], y=done["closed"], name="办结", mode="lines+markers",
                    line=dict(color=theme.GREEN, width=2, dash="dot"), marker=dict(size=4),
                    hovertemplate="%{x|%m-%d} 办结 %{y:,} 件<extra>点击查看工单</extra>")
    if not part.empty:
        fig.add_scatter(x=part["day"], y=part["received"], name="今日（进行中）", mode="markers",
                        marker=dict(size=8, color="rgba(0,0,0,0)", line=dict(color=theme.ACCENT, width=2)),
                        hovertemplate="%{x|%m-%d} 受理 %{y:,} 件（进行中）<extra>点击查看工单</extra>")
    # the legend in a band of its own above the plot (anchored by its bottom), never over the lines
    fig.update_layout(**theme.plotly_layout(height, showlegend=True, hovermode="closest",
                                            margin=dict(l=8, r=8, t=26, b=6),
                                            legend=dict(orientation="h", x=0, y=1.0, yanchor="bottom",
                                                        font=dict(size=11))))
    fig.update_xaxes(tickformat="%m-%d", gridcolor="rgba(255,255,255,.06)", nticks=8)
    fig.update_yaxes(gridcolor="rgba(255,255,255,.08)", rangemode="tozero")
    return fig


def categories(df: pd.DataFrame, height: int) -> go.Figure:
    """Categories as bars (clickable: each bar carries its category as written in the data)."""
    d = df.sort_values("received")
    fig = go.Figure(go.Bar(x=d["received"], y=labels(d["category"]), orientation="h",
                           customdata=d[["category"]].to_numpy(),
                           marker=dict(color=theme.ACCENT, opacity=0.85),
                           text=[f"{v:,}" for v in d["received"]], textposition="outside", cliponaxis=False,
                           hovertemplate="%{y}: %{x:,}<extra></extra>"))
    fig.update_layout(**theme.plotly_layout(height, margin=dict(l=8, r=44, t=4, b=4)))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(tickfont=dict(size=12), type="category")  # a category named "12345" is still a name
    return fig


def channel_bars(df: pd.DataFrame, height: int) -> go.Figure:
    """Channels as bars (clickable: each bar carries its channel, our code or the source's word)."""
    d = df.sort_values("received")
    total = max(int(d["received"].sum()), 1)
    names = labels(fmt.channel_names(d["channel"].tolist()))
    fig = go.Figure(go.Bar(x=d["received"], y=names, orientation="h", customdata=d[["channel"]].to_numpy(),
                           marker=dict(color=theme.GREEN, opacity=0.85),
                           text=[f"{v:,} · {v / total:.0%}" for v in d["received"]], textposition="outside",
                           cliponaxis=False, hovertemplate="%{y}: %{x:,}<extra></extra>"))
    fig.update_layout(**theme.plotly_layout(height, margin=dict(l=8, r=70, t=4, b=4)))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(type="category")  # a source's word may be a number ("12345"): still a name, not a value
    return fig
