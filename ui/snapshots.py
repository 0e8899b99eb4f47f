"""Building blocks of the meeting snapshots page (/snapshots): the freeze form, the list of snapshots, and
an opened snapshot's figures (read as frozen, never computed again).

Every figure of an opened snapshot that has a list links to it on /cases, judged at the snapshot's as-of
time (``cases.figure_url``): the list is today's reading of that moment, so after late updates to old
appeals it may differ from the frozen figure, which is the point of freezing it (docs/meetings.md).
"""

from __future__ import annotations

import datetime as dt
import html

import pandas as pd
import streamlit as st

from data_access import cached, meeting
from data_access.meeting import MeetingFigures
from data_access.scope import LEVEL_LABELS, Scope
from data_access.snapshots import MAX_NAME, SnapshotError

from . import charts, region, tables, theme, widgets
from . import format as fmt
from .cases import figure_url
from .params import ViewParams, link
from .region import metric_change
from .text import plain

FLASH_KEY = "snapshot_flash"
WRITE = {"count": fmt.count, "rate": fmt.rate, "per_10k": fmt.per_10k}

CSS = """
<style>
.data-banner.frozen { background: rgba(63,193,255,.14); border: 1px solid #3fc1ff; color: #dff4ff; }
.snap-meta { color: #8aa3c7; font-size: .92rem; }
.snap-meta a, .freeze-link a { color: #3fc1ff; text-decoration: none; }
.freeze-link { text-align: right; font-size: .92rem; }
</style>
"""


# ------------------------------------------------------------------ links ---

def freeze_url(scope: Scope, view: ViewParams) -> str:
    """/snapshots with this view's region, period and as-of prefilled."""
    return link("snapshots", region=scope.code, **{k: v for k, v in view.carried().items() if k != "kiosk"})


def freeze_link(scope: Scope, view: ViewParams) -> None:
    """The 冻结本页 link of a page (staff only): to /snapshots with the page's region, period and as-of."""
    if view.kiosk:
        return
    present = link("present", region=scope.code, **{k: v for k, v in view.carried().items() if k != "kiosk"})
    st.html(CSS + f'<div class="freeze-link"><a href="{html.escape(freeze_url(scope, view))}" target="_self" '
            'title="冻结当前区域与时段的讲评数据，会议时打开即为冻结时的数字">冻结本页 ›</a> · '
            f'<a href="{html.escape(present)}" target="_self" title="以幻灯片放映当前区域与时段的讲评数据">演示 ›</a></div>')


def snapshot_url(snapshot_id: int) -> str:
    return link("snapshots", id=str(int(snapshot_id)))


def frozen_view(figures: MeetingFigures) -> ViewParams:
    """The view a snapshot's links carry: its region, its period (whole days) and its as-of time."""
    last = (figures.period_end - dt.timedelta(microseconds=1)).date()
    return ViewParams(kiosk=False, period="custom", date_from=figures.period_start.date(), date_to=last,
                      region=figures.scope_code, as_of=figures.as_of, problems=())


def _single_root(key) -> str | None:
    if not cached.current_grant().is_whole:
        return None
    roots = cached.top_regions(key)
    return str(roots["code"].iloc[0]) if len(roots) == 1 else None


def flash() -> None:
    """The message the previous run left (a snapshot frozen or deleted)."""
    message = st.session_state.pop(FLASH_KEY, None)
    if message:
        st.success(plain(message))


# ------------------------------------------------------------ the form ---

def _prefilled_period(view: ViewParams, as_of: dt.datetime) -> tuple[str, str | None]:
    """The period text the form offers: the URL's period when it can be written (whole days, bounded), else
    the month before ``as_of`` (a monthly review), with a note saying so."""
    try:
        return meeting.period_text(view.resolve_period(as_of.date())), None
    except meeting.FiguresError:
        first = (as_of.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
        return f"{first:%Y-%m}", f"链接中的时间范围（{view.period_label()}）没有起止日期，已改为上月"


def freeze_form(key, view: ViewParams, moment) -> None:
    """The form that freezes the figures of the URL's region and period at the URL's as-of (or the data's)."""
    from data_access.queries import UnknownRegion

    as_of = moment.as_of
    try:
        scope = cached.resolve_scope(key, view.region or _single_root(key))
    except UnknownRegion:
        st.error(f"区域代码 {plain(view.region)} 不存在。")
        return
    name = "全域" if scope.is_whole else str(cached.region(key, scope.code)["name"])
    text, note = _prefilled_period(view, as_of)
    widgets.panel_title("冻结讲评数据", f"范围 {name}（{LEVEL_LABELS[scope.level]}） · 可在区域下钻页选择区域后点击“冻结本页”")
    if note:
        st.caption(plain(note))
    with st.form("freeze_form", border=True):
        left, middle, right = st.columns([3, 2, 2])
        title = left.text_input("快照名称", value=meeting.default_name(text, name), max_chars=MAX_NAME)
        period_text = middle.text_input("统计周期", value=text, max_chars=32,
                                        help=f"可写作 {meeting.PERIOD_FORMS}")
        moment_text = right.text_input("截至（时点）", value=as_of.strftime("%Y-%m-%d %H:%M:%S"), max_chars=32,
                                       help="按此时点的状态统计；不能晚于数据时间")
        submitted = st.form_submit_button("冻结", type="primary", icon=":material/ac_unit:")
    if not submitted:
        return
    try:
        period, _ = meeting.parse_period(period_text)
    except meeting.FiguresError as exc:
        st.error(plain(exc))
        return
    try:
        at = dt.datetime.fromisoformat(moment_text.strip()).replace(microsecond=0)
    except ValueError:
        st.error(f"截至时点 “{plain(moment_text[:32])}” 无法识别（格式如 2026-11-01 00:00:00）")
        return
    if at.tzinfo is not None:
        st.error("截至时点请填写本市当地时间，不带时区")
        return
    try:
        made = cached.freeze_snapshot(key, scope, period, at, title)
    except SnapshotError as exc:
        st.error(plain(exc))
        return
    st.session_state[FLASH_KEY] = (f"已冻结快照“{made.info.name}”。此页链接（/snapshots?id={made.info.id}）"
                                   "随时重现这些数字。")
    st.query_params.clear()
    st.query_params["id"] = str(made.info.id)
    st.rerun()


# ------------------------------------------------------------ the list ---

def listing(key) -> None:
    """The snapshots the person may see (their region's and below), with delete for creator and admins."""
    widgets.panel_title("已冻结的快照", "本辖区内，最新在前")
    try:
        rows = cached.snapshot_list(key)
    except SnapshotError as exc:
        st.warning(plain(exc))
        return
    if not rows:
        widgets.empty_state("还没有冻结的快照。", "填写上方表单并点击“冻结”。")
        return
    tables.html_table(pd.DataFrame({
        "名称": [r.name for r in rows],
        "范围": [r.scope_name or r.scope_code or "全域" for r in rows],
        "统计周期": [r.period_label for r in rows],
        "截至": [fmt.stamp(r.as_of) for r in rows],
        "冻结人": [r.created_by for r in rows],
        "冻结时间": [fmt.stamp(r.created_at) for r in rows],
        "打开": [snapshot_url(r.id) for r in rows],
    }), name="snapshots", links={"打开": "打开 ›"}, height=420)
    deletable = [r for r in rows if cached.may_delete_snapshot(r)]
    if not deletable:
        st.caption("只有快照的创建人或管理员可以删除快照。")
        return
    names = {r.id: f"{r.name} · {r.period_label} · {fmt.stamp(r.created_at)}" for r in deletable}
    left, right = st.columns([4, 1], vertical_alignment="bottom")
    chosen = left.selectbox("删除快照（本人创建的，或管理员）", [None, *names], key="snapshot_delete_pick",
                            format_func=lambda i: "选择…" if i is None else plain(names[i]))
    if right.button("删除", disabled=chosen is None, icon=":material/delete:", key="snapshot_delete"):
        try:
            gone = cached.delete_snapshot(key, chosen)
        except SnapshotError as exc:
            st.error(plain(exc))
            return
        st.session_state[FLASH_KEY] = f"已删除快照“{gone.name}”。"
        st.session_state.pop("snapshot_delete_pick", None)
        st.rerun()


# ---------------------------------------------------------- a snapshot ---

def opened(key, ident: str) -> None:
    """A frozen snapshot: its banner, tiles with 环比 and 同比, the units below, the charts and lists."""
    try:
        found = cached.snapshot(key, ident)
    except SnapshotError as exc:
        st.error(plain(exc))
        st.html(f'<div class="snap-meta"><a href="{link("snapshots")}" target="_self">‹ 返回快照列表</a></div>')
        return
    info, figures = found.info, found.figures
    st.html(CSS)
    st.html(f'<div class="data-banner frozen">冻结快照 · {html.escape(info.name)} · 截至 '
            f'{fmt.stamp(figures.as_of, seconds=True)} · 冻结于 {fmt.stamp(info.created_at, seconds=True)}</div>')
    st.html(f'<div class="snap-meta">范围 <b>{html.escape(figures.scope_name)}</b> · 统计周期 '
            f'<b>{html.escape(figures.period_label)}</b>（{html.escape(figures.period.label())}） · 冻结人 {html.escape(info.created_by)} · '
            f'数字为冻结时的计算结果，不随新数据或对旧工单的补录、更正而变化；“明细”按截至时点查询当前数据库 · '
            f'<a href="{html.escape(snapshot_url(info.id))}" target="_self">本快照链接</a> · '
            f'<a href="{html.escape(link("present", snapshot=str(info.id)))}" target="_self">演示（幻灯片）›</a> · '
            f'<a href="{link("snapshots")}" target="_self">全部快照</a></div>')
    flash()
    view = frozen_view(figures)
    tiles(figures, view)
    children_table(figures, view)
    charts_row(figures, view)
    overdue_section(figures, view)
    hotspot_section(figures, view)
    supervision_section(figures)


def _change_note(label: str, change, figures: MeetingFigures, what: str) -> str:
    if change is not None:
        return f"{label} {change.text}"
    reason = figures.section(meeting.HEADLINE).notes.get(f"{what}_reason")
    return f"{label} —" + (f"（{reason}）" if reason else "")


def tiles(figures: MeetingFigures, view: ViewParams) -> None:
    """The indicators of /region's tiles, as frozen: each with its 环比 (the arrow) and 同比 (the note)."""
    notes = figures.section(meeting.HEADLINE).notes
    for column, (ind, label, kind) in zip(st.columns(len(region.TILES)), region.TILES):
        row = figures.headline(ind)
        mom = region.delta(kind, row["value"], row["previous"])
        yoy = region.delta(kind, row["value"], row["last_year"])
        helper = (f"{label}，{figures.scope_name}，{figures.period_label}，截至 {fmt.stamp(figures.as_of)}。"
                  f"环比：{notes.get('previous_label') or '上期'}（{WRITE[kind](row['previous'])}）；"
                  f"同比：{notes.get('last_year_label') or '去年同期'}（{WRITE[kind](row['last_year'])}）。")
        with column.container(key=f"tile-{ind}"):
            st.metric(plain(label), plain(WRITE[kind](row["value"])), help=plain(helper),
                      **metric_change(ind, mom, "环比"))
            shown = [_change_note("同比", yoy, figures, "last_year")]
            if mom is None:
                shown.insert(0, _change_note("环比", mom, figures, "previous"))
            url = figure_url(ind, view, figures.as_of, region=figures.scope_code)
            st.html(f'<div class="tile-note">{html.escape(" · ".join(shown))} · '
                    f'<a href="{html.escape(url)}" target="_self">明细</a></div>')


def children_table(figures: MeetingFigures, view: ViewParams) -> None:
    kids = figures.section(meeting.CHILDREN)
    level = kids.notes.get("level")
    if level is None or not len(kids):
        return
    df = kids.frame()
    widgets.panel_title(f"下辖{LEVEL_LABELS.get(level, '')}", f"{figures.period_label} · 点击表头排序")
    out = pd.DataFrame({
        "名称": df["name"],
        "受理": df["received"],
        "每万人": df["per_10k"],
        "办结率": df["completion_rate"],
        "按时率": df["on_time_rate"],
        "满意率": df["satisfaction_rate"],
        region.COHORT_OVERDUE: df["overdue_open"],
        "工单": [figure_url("received", view, figures.as_of, region=c) for c in df["code"]],
    }).sort_values("受理", ascending=False, kind="stable")
    tables.html_table(out, name="snapshot-children", links={"工单": "明细"}, height=420,
                      formats=region.TABLE_FORMATS, sort="snap_sort")


def charts_row(figures: MeetingFigures, view: ViewParams) -> None:
    scope, as_of = figures.scope, figures.as_of
    trend_col, cat_col, chan_col = st.columns([2, 1.4, 1.2])
    with trend_col:
        widgets.panel_title("每日受理与办结", "点击数据点查看工单")
        trend = figures.section(meeting.TREND).frame()
        if trend.empty:
            widgets.empty_state("该时段没有数据。")
        else:
            event = st.plotly_chart(charts.trend(trend, 300, as_of.date()), config=theme.PLOTLY_CONFIG,
                                    key="snap_trend", on_select="rerun", selection_mode="points")
            region.open_selected_day(event, scope, view, as_of)
    with cat_col:
        widgets.panel_title("诉求类别", "前10位 · 点击查看工单")
        cats = figures.section(meeting.CATEGORIES).frame()
        if cats.empty:
            widgets.empty_state("该时段没有诉求。")
        else:
            event = st.plotly_chart(charts.categories(cats, 300), config=theme.PLOTLY_CONFIG, key="snap_categories",
                                    on_select="rerun", selection_mode="points")
            region.open_selected_bar(event, scope, view, "category", as_of)
    with chan_col:
        widgets.panel_title("受理渠道", "点击查看工单")
        chans = figures.section(meeting.CHANNELS).frame()
        if chans.empty:
            widgets.empty_state("该时段没有诉求。")
        else:
            event = st.plotly_chart(charts.channel_bars(chans, 300), config=theme.PLOTLY_CONFIG, key="snap_channels",
                                    on_select="rerun", selection_mode="points")
            region.open_selected_bar(event, scope, view, "channel", as_of)


def overdue_section(figures: MeetingFigures, view: ViewParams) -> None:
    section = figures.section(meeting.OVERDUE)
    stock = section.notes.get("stock_overdue")
    url = figure_url("overdue_open", view, figures.as_of, region=figures.scope_code, period={"period": "all"})
    widgets.panel_title(f"超期 · 全部在办 {fmt.count(stock)} 件",
                        f"截至 {fmt.stamp(figures.as_of)} 仍在办且已过时限，不限受理时间 · 最近超期的前 {len(section)} 件")
    st.html(f'<div class="tile-note"><a href="{html.escape(url)}" target="_self">全部超期工单 ›</a></div>')
    if not len(section):
        widgets.empty_state("冻结时没有超期工单。")
        return
    df = section.frame()
    tables.html_table(pd.DataFrame({
        "工单号": df["appeal_id"],
        "类别": [f"{c}/{s}" if isinstance(s, str) and s else c for c, s in zip(df["category"], df["subcategory"])],
        "街道": df["street"].fillna("—"),
        "承办单位": df["department"].fillna("—"),
        "超期": df["overdue"],
        "详情": [link("case", id=a) for a in df["appeal_id"]],
    }), name="snapshot-overdue", links={"详情": "查看"}, height=360)


def hotspot_section(figures: MeetingFigures, view: ViewParams) -> None:
    left, right = st.columns(2)
    with left:
        hot = figures.section(meeting.HOTSPOTS)
        days = hot.notes.get("window_days")
        widgets.panel_title("新发热点", f"截至时点前{days}天显著高于本网格基线")
        if not len(hot):
            widgets.empty_state("冻结时没有显著上升的网格与类别。")
        else:
            df = hot.frame()
            tables.html_table(pd.DataFrame({
                "网格": df["name"],
                "类别": df["category"],
                "近期件数": df["observed"],
                "期望": df["expected"],
                "倍数": df["ratio"],
                "基线": df["baseline"],
                "工单": [figure_url("valid", view, figures.as_of, region=c, category=cat,
                                  period={"period": "custom", "from": start.isoformat(timespec="seconds"),
                                          "to": figures.as_of.isoformat(timespec="seconds")})
                       for c, cat, start in zip(df["region_code"], df["category"], df["window_start"])],
            }), name="snapshot-hotspots", links={"工单": "明细"}, height=320, wide=["基线"],
                formats={"近期件数": fmt.count, "期望": fmt.decimal, "倍数": fmt.decimal})
    with right:
        rep = figures.section(meeting.REPEATS)
        widgets.panel_title("重复诉求", f"{figures.period_label} · 同一地点同类诉求30天内反复出现（≥3件）")
        if not len(rep):
            widgets.empty_state("该时段没有重复诉求簇。")
        else:
            df = rep.frame()
            tables.html_table(pd.DataFrame({
                "网格": df["grid_name"].fillna("—"),
                "类别": df["category"],
                "件数": df["count"],
                "首次": df["first_at"].dt.strftime("%Y-%m-%d"),
                "最近": df["last_at"].dt.strftime("%Y-%m-%d"),
                "工单": [figure_url("received", view, figures.as_of, region=figures.scope_code, cluster=c)
                       for c in df["cluster_id"]],
            }), name="snapshot-repeats", links={"工单": "明细"}, height=320, formats={"件数": fmt.count})


def supervision_section(figures: MeetingFigures) -> None:
    streets = figures.section(meeting.SUPERVISION_STREETS)
    notes = streets.notes
    widgets.panel_title("督办情况", f"{figures.period_label}发起的督办，按街道 · 截至时点在办督办 "
                                f"{fmt.count(notes.get('open_now'))} 件，其中逾期未答复 {fmt.count(notes.get('open_overdue'))} 件")
    if not len(streets):
        widgets.empty_state("该时段没有发起督办。")
        return
    df = streets.frame()
    tables.html_table(pd.DataFrame({
        "街道": df["name"].fillna(df["code"]),
        "督办": df["supervised"],
        "按时答复": df["answered_on_time"],
        "逾期答复": df["answered_late"],
        "未答复": df["open"],
        "升级": df["escalated"],
        "按时答复率": df["on_time_rate"],
    }), name="snapshot-supervision", height=320,
        formats={"督办": fmt.count, "按时答复": fmt.count, "逾期答复": fmt.count, "未答复": fmt.count,
                 "升级": fmt.count, "按时答复率": fmt.rate})
