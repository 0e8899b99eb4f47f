"""指挥大屏: the command hall's big screen, the app's default page.

Layout for 1920×1080 with no scrolling: header, eight KPI tiles, then the map
in the centre with the trend, categories and channels on the left and the
street ranking and the newest overdue appeals on the right. The body is a
fragment that re-runs every ``APPEALS_REFRESH_SECONDS``; the period lives in
the URL, so a refresh never resets it.
"""

from __future__ import annotations

import html

import streamlit as st

from data_access import alerts, cached
from ui import boot
from data_access.queries import UnknownRegion
from data_access.scope import Period
from ui import auth, charts, maps, params, periods, region, tables, theme, widgets
from ui.cases import figure_url
from ui import format as fmt
from ui.text import plain

boot.ensure_routed()
view = params.read()
theme.apply(view.kiosk, big_screen=True)
cfg = cached.settings()


@st.fragment(run_every=cfg.refresh_seconds)
@widgets.guard
@auth.live  # each refresh checks who is looking again: revoked, disabled or expired shows nothing
def screen() -> None:
    fresh = widgets.current_data(
        before_message=lambda f: widgets.header("党群一张网 · 诉求指挥中心", "全域", f, cfg.timezone),
        hint="生成演示数据：python -m data_access seed；导入本市数据见 docs/import.md。")
    if fresh is None:
        return

    key = cached.token(fresh)
    moment = widgets.moment(fresh, view)  # the data's time, a past moment from the URL, or historical data's end
    as_of = moment.as_of
    today = as_of.date()
    for problem in view.problems:
        st.warning(plain(problem))
    try:
        scope = cached.resolve_scope(key, view.region)
    except UnknownRegion:
        scope = cached.resolve_scope(key, None)
        st.warning(f"区域代码 {plain(view.region)} 不存在，已显示{'全域' if scope.is_whole else '本辖区'}。")
    scope_name = cached.region(key, scope.code)["name"] if scope.code else maps.territory_name(key)
    period = view.resolve_period(today)
    period_label = view.period_label()

    wall = view.kiosk or cached.current_grant().screen_only
    if wall:  # a wall: the rolling periods only, beside the title
        head, pick = st.container(key="screen-head").columns([5, 2], vertical_alignment="center")
        with head:
            widgets.header(f"{scope_name} · 党群一张网诉求指挥中心", scope_name, fresh, cfg.timezone, moment=moment)
        chosen = pick.segmented_control("时间范围", list(params.PERIOD_LABELS),
                                        default=view.period if view.period in params.PERIOD_LABELS else None,
                                        format_func=params.PERIOD_LABELS.get, key="period_pick",
                                        label_visibility="collapsed")
        if chosen and chosen != view.period:
            params.set_period(chosen)
            st.rerun()
    else:  # staff: any period and any moment, stated in one line
        with st.container(key="screen-head"):
            widgets.header(f"{scope_name} · 党群一张网诉求指挥中心", scope_name, fresh, cfg.timezone, moment=moment)
        periods.picker(view, moment, fresh, key="screen")

    widgets.data_time(moment, fresh, kiosk=view.kiosk)
    banner = 46 if (moment.historical or moment.silent_for is not None) else 0  # the screen still fits 1080 px

    # -- tiles ------------------------------------------------------------
    day = cached.kpis(key, scope, Period.preset("today", today), as_of)
    month = cached.kpis(key, scope, Period.preset("month", today), as_of)
    chosen_kpis = cached.kpis(key, scope, period, as_of)
    stock = cached.kpis(key, scope, Period.all_time(), as_of)
    # each tile's list: (figure, period of the list)
    lists = {"today": ("received", "today"), "month": ("received", "month"), "overdue": ("overdue_open", "all"),
             "duesoon": ("due_soon_open", "all")}
    tiles = [
        ("today", "今日受理", fmt.count(day["received"]), "received", "今日"),
        ("month", "本月受理", fmt.count(month["received"]), "received", "本月"),
        ("completion", f"办结率 · {period_label}", fmt.rate(chosen_kpis["completion_rate"]), "completion_rate",
         period_label),
        ("ontime", f"按时办结率 · {period_label}", fmt.rate(chosen_kpis["on_time_rate"]), "on_time_rate",
         period_label),
        ("satisfaction", f"满意率 · {period_label}", fmt.rate(chosen_kpis["satisfaction_rate"]),
         "satisfaction_rate", period_label),
        ("ingrid", f"网格内解决率 · {period_label}", fmt.rate(chosen_kpis["in_grid_rate"]), "in_grid_rate",
         period_label),
        ("overdue", tables.STOCK_OVERDUE_TILE, fmt.count(stock["overdue_open"]), "overdue_open", "全部在办"),
        ("duesoon", "临期 · 全部在办", fmt.count(stock["due_soon_open"]), "due_soon_open", "全部在办"),
    ]
    # staff see each period's tile against the period before (环比): yesterday, the same days before this
    # month's, the period before the chosen one (compare.previous_period); a stock of open appeals has none
    earlier = {} if wall else {
        "today": (Period.preset("today", today), day), "month": (Period.preset("month", today), month),
        **{t: (period, chosen_kpis) for t in ("completion", "ontime", "satisfaction", "ingrid")}}
    for column, (tkey, label, value, ind, plabel) in zip(st.columns(len(tiles)), tiles):
        url, change, help_text = None, None, widgets.indicator_help(ind, plabel, scope_name, as_of)
        if not view.kiosk:  # staff can open the appeals behind every tile
            figure, list_period = lists.get(tkey, (ind, None))
            url = figure_url(figure, view, as_of, region=scope.code,
                             period={"period": list_period} if list_period else None)
        if tkey in earlier:
            tile_period, now = earlier[tkey]
            before = cached.previous_kpis(key, scope, tile_period, as_of)
            kind = "rate" if ind.endswith("_rate") else "count"
            change = (ind, region.delta(kind, now[ind], None if before is None else before[ind]), "环比",
                      before is None)
            help_text += region.comparison_note(cached.earlier_periods(key, tile_period, as_of), ("previous",))
        widgets.tile(column, tkey, label, value, help_text, url, change)

    # -- panels around the map ---------------------------------------------
    left, centre, right = st.container(key="screen-panels").columns([1.05, 2.5, 1.25])
    with left:
        last30 = Period.preset("30d", today)
        widgets.panel_title("近30天受理与办结", "按日")
        clicks = {} if view.kiosk else {"on_select": "rerun", "selection_mode": "points"}  # staff open lists
        event = st.plotly_chart(charts.trend(cached.daily_trend(key, scope, last30, as_of), 262 - banner // 3, today),
                                config=theme.PLOTLY_CONFIG, key="trend", **clicks)
        region.open_selected_day(event if clicks else None, scope, view, as_of)
        widgets.panel_title("诉求类别前10位", period_label)
        event = st.plotly_chart(charts.categories(cached.category_counts(key, scope, period, as_of), 282 - banner // 3),
                                config=theme.PLOTLY_CONFIG, key="categories", **clicks)
        region.open_selected_bar(event if clicks else None, scope, view, "category", as_of)
        widgets.panel_title("受理渠道", period_label)
        event = st.plotly_chart(charts.channel_bars(cached.channel_counts(key, scope, period, as_of), 262 - banner // 3),
                                config=theme.PLOTLY_CONFIG, key="channels", **clicks)
        region.open_selected_bar(event if clicks else None, scope, view, "channel", as_of)
    with centre:
        maps.render(key, scope, period, period_label, as_of, height=862 - banner, tile_url=cfg.tile_url)
    with right:
        level, order, ranking = tables.ranking(key, scope, period, as_of)
        widgets.panel_title(f"{level}排名", f"{period_label} · {order}")
        shown = tables.shown(ranking)
        links = {}
        if not view.kiosk:
            shown["工单"] = [figure_url("received", view, as_of, region=c) for c in ranking["code"]]
            links["工单"] = "明细"
        tables.html_table(shown, name="ranking", links=links, right=list(tables.RANKING_FORMATS),
                          height=420 - banner // 2)
        widgets.panel_title("最新超期工单", "在办 · 不含个人信息")
        if not view.kiosk:
            carried = {**view.carried(), "period": "all", "region": scope.code}
            st.html(f'<a class="more-link" href="{html.escape(params.link("alerts", **carried))}" '
                    'target="_self">超期与临期预警 · 督办 →</a>')
        overdue = cached.newest_overdue(key, scope, as_of, 20)
        if overdue.empty:
            widgets.empty_state("目前没有超期在办的工单。")
        else:
            rows = tables.overdue_rows(overdue)
            if not view.kiosk:  # the appeal number opens it: no extra column, so the list fits its panel
                rows["工单号"] = [tables.Link(a, params.link("case", id=a)) for a in overdue["appeal_id"]]
            fresh_red = alerts.newly_red(overdue["deadline_at"], as_of, 60).tolist()
            tables.html_table(rows, name="newest-overdue", right=["超期"], height=420 - banner // 2,
                              row_classes=["new-red" if red else "" for red in fresh_red],
                              clip=["类别", "街道", "承办单位"])

screen()
