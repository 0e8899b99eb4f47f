"""区域下钻 (/region): one page for every level, from the whole territory down to one grid.

The region and the period are in the URL (``/region?region=210302&period=30d``),
so a link reproduces the view. A click on a child on the map, or a pick from
the list, goes down a level; the breadcrumbs lead back up.
"""

from __future__ import annotations

import datetime as dt
import html

import streamlit as st

from data_access import cached
from ui import boot
from data_access.queries import UnknownRegion
from data_access.scope import LEVEL_LABELS, Period, Scope
from ui import charts, params, periods, region, snapshots, theme, widgets
from ui import format as fmt
from ui.text import plain

boot.ensure_routed()
view = params.read()
theme.apply(view.kiosk)
cfg = cached.settings()


@widgets.guard
def page() -> None:
    fresh = widgets.current_data()
    if fresh is None:
        return
    key = cached.token(fresh)
    moment = widgets.moment(fresh, view)
    as_of = moment.as_of
    for problem in view.problems:
        st.warning(plain(problem))
    try:
        scope = cached.resolve_scope(key, view.region or region.default_region(key))
    except UnknownRegion:
        st.error(f"区域代码 {plain(view.region)} 不存在。")
        st.page_link(params.link("region", **view.carried()), label="返回全域", icon=":material/arrow_back:")
        return
    name = cached.region(key, scope.code)["name"] if scope.code else "全域"
    period = view.resolve_period(as_of.date())
    metric = st.query_params.get("metric", region.DEFAULT_METRIC)
    if metric not in region.MAP_METRICS:
        st.warning(f"未知的地图指标 “{plain(metric[:30])}”，已改为{region.MAP_METRICS[region.DEFAULT_METRIC][0]}")
        metric = region.DEFAULT_METRIC

    region.breadcrumbs(key, scope, view)
    head, pick_metric = st.columns([6, 2], vertical_alignment="bottom")
    level_label = LEVEL_LABELS[scope.level]
    head.html(f'<p class="screen-title">{html.escape(name)}<small> · {level_label} · '
              f'{html.escape(periods.label(view, period, as_of))}</small></p>'
              f'<div class="times-line">{widgets.times_line(moment, fresh)} · '
              f'<a href="{html.escape(compare_link(scope))}" target="_self">两期对比 ›</a></div>')
    periods.picker(view, moment, fresh, key="region", show_label=False)
    level = region.child_level(key, scope)
    picked_metric = metric if level is None else pick_metric.selectbox("地图指标", list(region.MAP_METRICS), index=list(region.MAP_METRICS)
                                          .index(metric), format_func=lambda m: region.MAP_METRICS[m][0])
    if picked_metric != metric:
        st.query_params["metric"] = picked_metric
        st.rerun()

    widgets.data_time(moment, fresh, kiosk=view.kiosk)
    snapshots.freeze_link(scope, view)
    region.compared_tiles(key, scope, period, as_of, view, name)

    if level is None:
        region.grid_section(key, scope, period, as_of, view, tile_url=cfg.tile_url)
    else:
        left, right = st.columns([3, 2])
        with left:
            widgets.panel_title(f"下辖{LEVEL_LABELS[level]}", f"{view.period_label()} · 按{region.MAP_METRICS[metric][0]}着色 · 点击进入")
            hexagons = st.toggle("近7天热力六边形", value=st.query_params.get("layer") == "hex", key="hex_toggle")
            if hexagons != (st.query_params.get("layer") == "hex"):
                st.query_params["layer"] = "hex" if hexagons else "metric"
            clicked = region.children_map(key, scope, level, period, as_of, metric, height=560,
                                          tile_url=cfg.tile_url, hexagons=hexagons)
            if clicked and clicked != scope.code:
                go_to(clicked)
        with right:
            widgets.panel_title(f"{LEVEL_LABELS[level]}排名", "点击表头排序")
            region.ranking_table(key, scope, level, period, as_of, view)
            kids = cached.children(key, scope, period, as_of, level)
            names = fmt.unique_labels(kids)
            target = st.selectbox(f"进入{LEVEL_LABELS[level]}", [None, *kids["code"]], key="child_pick",
                                  format_func=lambda c: "选择…" if c is None else names[c])
            if target:
                go_to(target)

    charts_row(key, scope, period, as_of)
    region.hotspot_section(key, scope, period, as_of, view)
    widgets.panel_title("承办单位", view.period_label())
    region.department_table(key, scope, period, as_of, view)


def compare_link(scope: Scope) -> str:
    """This region's two periods side by side (/compare), starting from the period shown here."""
    return params.link("compare", **({"region": scope.code} if scope.code else {}), **view.carried())


def go_to(code: str) -> None:
    st.query_params["region"] = code
    st.rerun()


def charts_row(key, scope: Scope, period: Period, as_of) -> None:
    # the trend needs bounds: an open period shows its last two years
    bounded = period if period.start is not None and period.end is not None else Period.days(
        (as_of - dt.timedelta(days=730)).date(), as_of.date())
    trend_col, cat_col, chan_col = st.columns([2, 1.4, 1.2])
    with trend_col:
        widgets.panel_title("每日受理与办结", "点击数据点查看工单")
        trend = cached.daily_trend(key, scope, bounded, as_of)
        event = st.plotly_chart(charts.trend(trend, 300, as_of.date()), config=theme.PLOTLY_CONFIG,
                                key="region_trend", on_select="rerun", selection_mode="points")
        region.open_selected_day(event, scope, view, as_of)
    with cat_col:
        widgets.panel_title("诉求类别", "点击查看工单")
        cats = cached.category_counts(key, scope, period, as_of, 12)
        event = st.plotly_chart(charts.categories(cats, 300), config=theme.PLOTLY_CONFIG, key="region_categories",
                                on_select="rerun", selection_mode="points")
        region.open_selected_bar(event, scope, view, "category", as_of)
    with chan_col:
        widgets.panel_title("受理渠道", "点击查看工单")
        chans = cached.channel_counts(key, scope, period, as_of)
        event = st.plotly_chart(charts.channel_bars(chans, 300), config=theme.PLOTLY_CONFIG, key="region_channels",
                                on_select="rerun", selection_mode="points")
        region.open_selected_bar(event, scope, view, "channel", as_of)


page()
