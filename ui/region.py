"""Building blocks of the drill-down page: breadcrumbs, compared tiles, the children map and tables."""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from data_access import cached
from data_access.indicators import INDICATORS
from data_access.scope import LEVEL_LABELS, Period, Scope, levels_below
from geo import layers

from . import format as fmt
from . import tables, widgets
from .params import ViewParams, link
from .text import plain

# 超期 on this page counts the period's appeals (the cohort) that are open and overdue at the as-of time; the big
# screen's 超期 counts every open overdue appeal (docs/metrics.md): every label says which
COHORT_OVERDUE = "超期（本期受理）"

# what the children map can be coloured by; "good" measures colour low values hot
MAP_METRICS = {
    "per_10k": ("每万人诉求量", False),
    "completion_rate": ("办结率", True),
    "overdue_open": (COHORT_OVERDUE, False),
    "satisfaction_rate": ("满意率", True),
}
DEFAULT_METRIC = "per_10k"

TILES = (
    ("received", "受理量", "count"),
    ("per_10k", "每万人诉求量", "per_10k"),
    ("completion_rate", "办结率", "rate"),
    ("on_time_rate", "按时办结率", "rate"),
    ("satisfaction_rate", "满意率", "rate"),
    ("overdue_open", COHORT_OVERDUE, "count"),
    ("due_soon_open", "临期（本期受理）", "count"),
)
LOWER_IS_BETTER = {"received", "per_10k", "overdue_open", "due_soon_open"}
# how the tables' numbers are written (counts whole, rates with one decimal, separators throughout)
TABLE_FORMATS = {"受理": fmt.count, "办结": fmt.count, "每万人": fmt.per_10k, "办结率": fmt.rate, "按时率": fmt.rate,
                 "满意率": fmt.rate, COHORT_OVERDUE: fmt.count}


def write_figure(kind: str, value) -> str:
    """A figure of ``kind`` (count, rate, per_10k) as every screen writes it."""
    return {"count": fmt.count, "rate": fmt.rate, "per_10k": fmt.per_10k}[kind](value)


@dataclass(frozen=True)
class Change:
    """A change as shown: its text (sign, separators, the kind's precision) and the sign of the shown value,
    so that a change that rounds to nothing is 持平, never an arrow."""

    text: str
    sign: int  # -1, 0, +1, of the value as shown


def delta(kind: str, value, other) -> Change | None:
    """``value - other``: percentage points for rates, one decimal per 10,000 residents, whole counts; None if
    either is unknown."""
    if value is None or other is None or pd.isna(value) or pd.isna(other):
        return None
    diff = float(value) - float(other)
    if kind == "rate":
        shown, unit, places = round(diff * 100, 1), " 个百分点", 1
    elif kind == "per_10k":
        shown, unit, places = round(diff, 1), "", 1
    else:
        shown, unit, places = float(round(diff)), "", 0
    sign = (shown > 0) - (shown < 0)
    if sign == 0:
        return Change("持平", 0)
    return Change(f"{shown:+,.{places}f}{unit}", sign)


NO_DATA = "无可比数据"  # the earlier period lies before the data begin (or is open-ended): no change, never a 0


def better(ind: str, change: Change) -> bool | None:
    """Whether ``change`` is better for this indicator (fewer appeals, fewer overdue, higher rates); None for
    持平."""
    if change.sign == 0:
        return None
    return (change.sign < 0) == (ind in LOWER_IS_BETTER)


def metric_change(ind: str, change: Change | None, description: str, missing: bool = False) -> dict:
    """``st.metric`` arguments for a change: the arrow follows its sign (↓ for down), the colour whether it
    is better (green) or worse (red) for this indicator, and 持平 has neither. ``missing``: the earlier
    period cannot be compared, which the tile says (无可比数据), grey and without an arrow."""
    if change is None:
        if missing:
            return {"delta": NO_DATA, "delta_color": "off", "delta_arrow": "off", "delta_description": description}
        return {}
    good = better(ind, change)
    if good is None:
        return {"delta": change.text, "delta_color": "off", "delta_arrow": "off", "delta_description": description}
    return {"delta": change.text, "delta_color": "normal" if good == (change.sign > 0) else "inverse",
            "delta_arrow": "down" if change.sign < 0 else "up", "delta_description": description}


def change_html(ind: str, change: Change | None, description: str, missing: bool = False) -> str:
    """A change as a line of HTML, drawn like ``metric_change``'s: "同比 ↑ +3" green when better, red when
    worse, grey for 持平 and for 无可比数据; empty when either figure is unknown."""
    if change is None:
        return f'<span class="chg flat">{html.escape(description)} {NO_DATA}</span>' if missing else ""
    good = better(ind, change)
    tone = "flat" if good is None else "better" if good else "worse"
    arrow = "" if good is None else ("↓ " if change.sign < 0 else "↑ ")
    return f'<span class="chg {tone}">{html.escape(description)} {arrow}{html.escape(change.text)}</span>'


def default_region(key) -> str | None:
    """The region a page opens at without one in the URL: a territory with one top region (a city) starts at
    it rather than at a one-child "whole"; a person bound to a region starts at their own (None: the grant's
    region)."""
    if not cached.current_grant().is_whole:
        return None
    roots = cached.top_regions(key)
    return str(roots["code"].iloc[0]) if len(roots) == 1 else None


def breadcrumbs(key, scope: Scope, view: ViewParams) -> None:
    """The chain from the top down to the region; levels above a person's own region are
    named but not linked (they would only say 无权访问)."""
    carried = view.carried()
    grant = cached.current_grant()
    single_root = len(cached.top_regions(key)) == 1
    parts = [] if single_root else [f'<a href="{link("region", **carried)}" target="_self">全域</a>'
                                    if grant.is_whole else "全域"]
    if not scope.is_whole:
        chain = cached.ancestors(key, scope.code)
        reachable = grant.is_whole
        for _, row in chain.iterrows():
            label = html.escape(f"{row['name']}")
            reachable = reachable or row["code"] == grant.region_code
            if row["code"] == scope.code:
                parts.append(f"<b>{label}</b>")
            elif reachable:
                parts.append(f'<a href="{link("region", region=row["code"], **carried)}" target="_self">{label}</a>')
            else:
                parts.append(f'<span class="above">{label}</span>')
    st.html('<div class="crumbs">' + " › ".join(parts) + "</div>")


def compared_tiles(key, scope: Scope, period: Period, as_of: dt.datetime, view: ViewParams, name: str) -> None:
    """The region's indicators, each against the period before (环比, the tile's arrow), the same period last
    year (同比) and its parent's average."""
    table = cached.comparison(key, scope, period, as_of)
    earlier = cached.earlier_periods(key, period, as_of)
    # an account's own region: its parent is outside the account's territory, so there is no average to show
    parent_hidden = not scope.is_whole and cached.current_grant().region_code == scope.code
    about = comparison_note(earlier)
    for column, (ind, label, kind) in zip(st.columns(len(TILES)), TILES):
        row = table.loc[ind]
        previous = delta(kind, row["value"], row["previous"])
        yoy = delta(kind, row["value"], row["last_year"])
        parent = delta(kind, row["value"], row["parent"])
        with column.container(key=f"tile-{ind}"):
            st.metric(plain(label), plain(write_figure(kind, row["value"])),
                      help=plain(_help(ind, name, view.period_label(), as_of) + about),
                      **metric_change(ind, previous, "环比", earlier["previous"] is None))
            note = (f"上级平均 {write_figure(kind, row['parent'])}（{parent.text}）" if parent
                    else "" if parent_hidden else ("上级平均 —" if not scope.is_whole else "全域"))
            url = case_link(ind, scope, view, as_of)
            lead = f"{html.escape(note)} · " if note else ""
            last_year = change_html(ind, yoy, "同比", earlier["last_year"] is None)
            st.html(f'<div class="tile-note">{last_year + "<br>" if last_year else ""}'
                    f'{lead}<a href="{url}" target="_self">明细</a></div>')


def comparison_note(earlier: dict, names: tuple[str, ...] = ("previous", "last_year")) -> str:
    """Which periods 环比 and 同比 (``names``) compare with, and at which moments (a tile's help)."""
    words = []
    for name, what in (("previous", "环比：上期"), ("last_year", "同比：去年同期")):
        if name not in names:
            continue
        pair = earlier[name]
        words.append(f"{what} {pair[0].label()}，截至 {fmt.stamp(pair[1])}" if pair is not None
                     else f"{what}无可比数据（该时段早于数据起点或不是有界时段）")
    return "".join(f"{w}。" for w in words)


def _help(ind: str, name: str, period_label: str, as_of: dt.datetime) -> str:
    spec = INDICATORS[ind]
    text = f"{spec.label}：{spec.numerator_zh}" + (f" ÷ {spec.denominator_zh}" if spec.denominator_zh else "")
    return (f"{text}。范围：{name}；时间：{period_label}；截至 {fmt.stamp(as_of)}。"
            "上级平均：计数为上级区域的各同级区域平均，比率为上级区域整体。")


def case_link(figure: str, scope: Scope, view: ViewParams, as_of: dt.datetime, **filters) -> str:
    """The list behind a figure, judged at the same as-of time as the figure."""
    from .cases import figure_url

    return figure_url(figure, view, as_of, region=scope.code, **filters)


def child_level(key, scope: Scope) -> str | None:
    below = levels_below(cached.level_counts(key, scope), scope)
    return below[0] if below else None


def hexagon_layer(key, scope: Scope, bounds, as_of: dt.datetime):
    """The last 7 days' appeals in hexagons sized to the view (at most ~3,000 of them)."""
    from geo import hexbins

    cell = hexbins.cell_for(bounds)
    bins, mid_lat = cached.hex_bins(key, scope, Period.preset("7d", as_of.date()), as_of, cell)
    return None if bins.empty else hexbins.hexagon_layer(bins, cell, mid_lat)


def children_map(key, scope: Scope, level: str, period: Period, as_of: dt.datetime, metric: str, *,
                 height: int, tile_url: str = "", hexagons: bool = False) -> str | None:
    """The children coloured by ``metric`` inside the region's outline; returns the code of a clicked child."""
    feats, bounds = cached.shapes(key, scope, level)
    if bounds is None:
        widgets.empty_state(f"没有{LEVEL_LABELS[level]}的边界数据，无法绘制地图。")
        return None
    values = cached.children(key, scope, period, as_of, level)
    label, good = MAP_METRICS[metric]
    if not values[metric].notna().any() and metric == "per_10k":  # regions without populations
        metric, label = "received", "受理量（无人口数据）"
    palette = list(reversed(layers.PALETTE)) if good else layers.PALETTE
    classes = layers.classify(values[metric], palette)
    colors = classes.colors
    by_code = {}
    for (_, row), color in zip(values.iterrows(), colors):
        by_code[row["code"]] = {
            "fill": color,
            "received_s": fmt.count(row["received"]),
            "per_10k_s": fmt.per_10k(row["per_10k"]),
            "completion_s": fmt.rate(row["completion_rate"]),
            "satisfaction_s": fmt.rate(row["satisfaction_rate"]),
            "overdue_s": fmt.count(row["overdue_open"]),
        }
    from .maps import TOOLTIP, for_tooltip

    shown = for_tooltip([{**f, "properties": {**f["properties"], **by_code.get(f["properties"]["code"], {})}}
                         for f in feats])
    deck_layers = [layers.choropleth_layer(shown)]
    if hexagons:  # the recent appeals over a dimmed choropleth
        deck_layers[0] = layers.outline_layer(shown, color=(160, 190, 230, 120), width_px=0.8, layer_id="children")
        deck_layers.append(layers.pickable_outline(shown))
        hexes = hexagon_layer(key, scope, bounds, as_of)
        if hexes is not None:
            deck_layers.append(hexes)
    hot = hotspot_outline_layer(key, scope, as_of)
    if hot is not None:
        deck_layers.append(hot)
    if not scope.is_whole:
        outline, _ = cached.shapes(key, scope, scope.level)
        deck_layers.append(layers.outline_layer(outline, color=(120, 220, 255, 230), width_px=2.5,
                                                layer_id="outline-self"))
    deck = layers.make_deck(deck_layers, layers.fit_view(bounds, 900, height), tooltip=TOOLTIP, tile_url=tile_url)
    event = st.pydeck_chart(deck, height=height, key=f"drill-{scope.code}-{level}", on_select="rerun",
                            selection_mode="single-object")
    if hexagons:
        st.caption("六边形：近7天诉求件数（颜色越暖越多）；红框：新发热点；点击区域进入下一级")
    else:
        widgets.legend(classes, palette, label, fmt.rate if metric.endswith("_rate") else fmt.per_10k)
    objects = (event.selection.get("objects") or {}) if event else {}
    picked = objects.get("choropleth") or objects.get("children-pick")
    if picked:
        props = picked[0].get("properties", picked[0])
        return props.get("code")
    return None


def ranking_table(key, scope: Scope, level: str, period: Period, as_of: dt.datetime, view: ViewParams) -> None:
    df = cached.children(key, scope, period, as_of, level)
    carried = view.carried()
    out = pd.DataFrame({
        "名称": df["name"],
        "受理": df["received"],
        "每万人": df["per_10k"],
        "办结率": df["completion_rate"],
        "按时率": df["on_time_rate"],
        "满意率": df["satisfaction_rate"],
        COHORT_OVERDUE: df["overdue_open"],
        "下钻": [link("region", region=c, **carried) for c in df["code"]],
        "工单": [case_link("received", Scope(c, level), view, as_of) for c in df["code"]],
    }).sort_values("受理", ascending=False)
    tables.html_table(out, name="children-ranking", links={"下钻": "进入 ›", "工单": "明细"}, height=420,
                      formats=TABLE_FORMATS,
                      sort="rank_sort")


def with_parents(key, scope: Scope, names, codes) -> list[str]:
    """``names`` of regions (or of units placed in them, by ``codes``), a shared name with its district,
    street… as far as it takes to tell them apart (``fmt.distinct_names``)."""
    codes = ["" if c is None else str(c) for c in codes]
    context = cached.region_context(key, scope, tuple(sorted({c for c in codes if c})))
    by_code = {row.code: (row.district, row.street, row.community) for row in context.itertuples(index=False)}
    return fmt.distinct_names(list(names), [by_code.get(c, ()) for c in codes], keys=codes)


def department_table(key, scope: Scope, period: Period, as_of: dt.datetime, view: ViewParams) -> None:
    df = cached.department_stats(key, scope, period, as_of)
    if df.empty:
        widgets.empty_state("该时段没有承办单位数据。")
        return
    out = pd.DataFrame({
        "承办单位": with_parents(key, scope, df["name"], df["region_code"]),
        "受理": df["received"],
        "办结": df["closed"],
        "办结率": df["completion_rate"],
        "按时率": df["on_time_rate"],
        "满意率": df["satisfaction_rate"],
        COHORT_OVERDUE: df["overdue_open"],
        "工单": [case_link("received", scope, view, as_of, department=c) for c in df["code"]],
    })
    tables.html_table(out, name="departments", links={"工单": "明细"}, height=380, sort="dept_sort",
                      formats=TABLE_FORMATS)


# a grid's points by their state (queries.appeal_points): red 超期 and yellow 临期 as on every page (/alerts),
# and the legend names every colour drawn, from this one table
POINT_STYLES = {  # state -> (label, colour name, RGB)
    "overdue": ("超期", "红", [255, 77, 79]),
    "due_soon": ("临期", "黄", [250, 219, 20]),
    "open": ("在办", "紫", [179, 127, 235]),
    "closed": ("已办结", "青", [54, 207, 201]),
    "cancelled": ("已撤销", "灰", [140, 140, 140]),
}
STATE_COLORS = {state: rgb for state, (_, _, rgb) in POINT_STYLES.items()}
STATE_LABELS = {state: label for state, (label, _, _) in POINT_STYLES.items()}
POINT_TOOLTIP = {"html": "<b>{appeal_id}</b><br/>{category} · {state_s}<br/>{created_s}",
                 "style": {"backgroundColor": "#0d1f3d", "color": "#dbe7ff"}}
POINT_LEGEND = " ".join(f"{colour}：{label}" for label, colour, _ in POINT_STYLES.values())


def grid_section(key, scope: Scope, period: Period, as_of: dt.datetime, view: ViewParams, *, tile_url: str = "",
                 show_personal: bool = False) -> None:
    """A grid: its worker and patrol reports, its appeals as points, its residents-normalised figures."""
    from data_access.privacy import mask_name, mask_phone

    info = cached.region(key, scope.code)
    kpis = cached.kpis(key, scope, period, as_of)
    left, right = st.columns([1, 2])
    with left:
        widgets.panel_title("网格员", "专职网格员")
        workers = cached.grid_worker(key, scope.code)
        if workers.empty:
            widgets.empty_state("该网格未登记网格员。")
        for _, w in workers.iterrows():
            name = w["name"] if show_personal else mask_name(w["name"])
            phone = w["phone"] if show_personal else mask_phone(w["phone"])
            st.html(f'<div class="worker"><b>{html.escape(str(name))}</b> · {html.escape(str(phone or "—"))}</div>')
        population = info.get("population")
        widgets.panel_title("按常住人口", f"常住人口 {fmt.count(population)} 人")
        per_1k = lambda v: "—" if not population else f"{v * 1000 / population:,.1f}"  # noqa: E731
        st.html(
            '<table class="norm">'
            f"<tr><td>每千人诉求量</td><td>{per_1k(kpis['valid'])}</td></tr>"
            f"<tr><td>每万人诉求量</td><td>{fmt.per_10k(kpis['per_10k'])}</td></tr>"
            f"<tr><td>每千人{COHORT_OVERDUE}</td><td>{per_1k(kpis['overdue_open'])}</td></tr>"
            "</table>")
        reports = cached.recent_appeals(key, scope, period, as_of, channel="grid", limit=8)
        count_url = case_link("received", scope, view, as_of, channel="grid")
        widgets.panel_title("巡查上报", f"{view.period_label()}")
        st.html(f'<div class="tile-note"><a href="{count_url}" target="_self">全部巡查上报工单 ›</a></div>')
        if reports.empty:
            widgets.empty_state("该时段没有网格员巡查上报。")
        else:
            tables.html_table(pd.DataFrame({
                "时间": reports["created_at"].dt.strftime("%m-%d %H:%M"),
                "类别": reports["category"] + "/" + reports["subcategory"].fillna(""),
                "状态": ["已办结" if s == "closed" else ("已撤销" if s == "cancelled" else "在办")
                       for s in reports["status"]],
                "详情": [link("case", id=a) for a in reports["appeal_id"]],
            }), name="patrol-reports", links={"详情": "查看"})
    with right:
        widgets.panel_title("网格内诉求点位", f"{view.period_label()} · {POINT_LEGEND}")
        points = cached.appeal_points(key, scope, period, as_of)
        outline, bounds = cached.shapes(key, scope, scope.level)
        if bounds is None:
            widgets.empty_state("该网格没有边界数据。")
            return
        # a state the table does not know (a source's own status) is drawn as 在办 is, never in a colour
        # the legend does not name
        data = points.assign(color=[STATE_COLORS.get(s, STATE_COLORS["open"]) + [220] for s in points["state"]],
                             state_s=[STATE_LABELS.get(s, s) for s in points["state"]],
                             created_s=points["created_at"].dt.strftime("%Y-%m-%d %H:%M"))
        from .maps import points_for_tooltip

        data = points_for_tooltip(data[["appeal_id", "lon", "lat", "color", "state_s", "category", "created_s"]],
                                  POINT_TOOLTIP)
        deck = layers.make_deck(
            [layers.outline_layer(outline, color=(120, 220, 255, 230), width_px=2.5, layer_id="grid-outline"),
             layers.points_layer(data)],
            layers.fit_view(bounds, 900, 520), tooltip=POINT_TOOLTIP, tile_url=tile_url)
        st.pydeck_chart(deck, height=520, key=f"points-{scope.code}")


EMERGING_DAYS = 14


def hotspot_section(key, scope: Scope, period: Period, as_of: dt.datetime, view: ViewParams) -> None:
    """新发热点 (grids rising above their own seasonal baseline) and 重复诉求 (repeat clusters)."""
    from .cases import figure_url

    left, right = st.columns(2)
    with left:
        found = cached.emerging_hotspots(key, scope, as_of, EMERGING_DAYS, "grid")
        widgets.panel_title("新发热点", f"近{EMERGING_DAYS}天显著高于本网格同期基线（泊松检验，已做多重比较校正）")
        if found.empty:
            widgets.empty_state("近期没有显著上升的网格与类别。")
        else:
            window = {"period": "custom", "from": found["window_start"].iloc[0].isoformat(timespec="seconds"),
                      "to": as_of.isoformat(timespec="seconds")}
            tables.html_table(pd.DataFrame({
                "网格": with_parents(key, scope, found["name"], found["region_code"]),
                "类别": found["category"],
                "近期件数": found["observed"],
                "期望": found["expected"],
                "倍数": found["ratio"],
                "基线": found["baseline"],
                "工单": [figure_url("valid", view, as_of, region=c, period=window, category=cat)
                       for c, cat in zip(found["region_code"], found["category"])],
            }), name="emerging-hotspots", links={"工单": "明细"}, height=320, wide=["基线"],
                formats={"近期件数": fmt.count, "期望": fmt.decimal, "倍数": fmt.decimal})
    with right:
        clusters = cached.repeat_clusters(key, scope, period, as_of, 50)
        widgets.panel_title("重复诉求", f"{view.period_label()} · 同一地点同类诉求30天内反复出现（≥3件）")
        if clusters.empty:
            widgets.empty_state("该时段没有重复诉求簇。")
        else:
            tables.html_table(pd.DataFrame({
                "网格": with_parents(key, scope, clusters["grid_name"], clusters["region_code"]),
                "类别": clusters["category"],
                "件数": clusters["count"],
                "首次": clusters["first_at"].dt.strftime("%Y-%m-%d"),
                "最近": clusters["last_at"].dt.strftime("%Y-%m-%d"),
                "工单": [figure_url("received", view, as_of, region=scope.code, cluster=c)
                       for c in clusters["cluster_id"]],
            }), name="repeat-clusters", links={"工单": "明细"}, height=320, formats={"件数": fmt.count})


def hotspot_outline_layer(key, scope: Scope, as_of: dt.datetime):
    """Red outlines round the grids that are emerging hotspots now (None when there are none)."""
    found = cached.emerging_hotspots(key, scope, as_of, EMERGING_DAYS, "grid")
    if found.empty:
        return None
    codes = set(found["region_code"])
    feats, _ = cached.shapes(key, scope, "grid") if cached.level_counts(key, scope).get("grid", 0) <= \
        layers.MAX_FEATURES else ([], None)
    hot = [f for f in feats if f["properties"]["code"] in codes]
    if not hot:
        return None
    return layers.outline_layer(hot, color=(255, 60, 60, 255), width_px=3.5, layer_id="hotspots")


# ------------------------------------------------------------ chart clicks ---
# A click on a point of the trend or a bar of a chart opens the appeals it counts.

def _selected(event) -> list[dict]:
    if not event:
        return []
    return list((event.get("selection") or {}).get("points") or [])


def _open_list(url: str) -> None:
    """Go to ``url`` as a link does: a new entry in the browser's history, so back returns to this view as it
    was. (``st.switch_page`` with query parameters writes them into this page's own history entry first: back
    would land here with the list's parameters.)"""
    import json

    target = json.dumps(url).replace("<", "\\u003c")  # a value in a script cannot close it
    st.html(f"<script>window.location.assign({target});</script>", unsafe_allow_javascript=True)
    st.stop()


def open_selected_bar(event, scope: Scope, view: ViewParams, field: str, as_of: dt.datetime) -> None:
    """A bar of the category or channel chart: its appeals received in the period."""
    from .cases import figure_url

    points = _selected(event)
    if points:
        value = points[0].get("customdata", [None])[0] if points[0].get("customdata") else points[0].get("y")
        _open_list(figure_url("received", view, as_of, region=scope.code, **{field: value}))


def open_selected_day(event, scope: Scope, view: ViewParams, as_of: dt.datetime) -> None:
    """A point of the trend: that day's received (trace 0 and today's marker) or closed (trace 1) appeals."""
    from .cases import figure_url

    points = _selected(event)
    if points:
        day = str(points[0].get("x"))[:10]
        figure = "closed_in_period" if points[0].get("curve_number") == 1 else "received"
        _open_list(figure_url(figure, view, as_of, region=scope.code,
                              period={"period": "custom", "from": day, "to": day}))
