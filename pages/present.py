"""演示模式 (/present): the meeting's slides, full screen, one per screen, and the meeting pack.

Live: ``/present?region=210302&period=custom&from=2026-10-01&to=2026-10-31&as_of=2026-11-01T00:00`` (the
previous month when the URL names no period). From a frozen snapshot: ``/present?snapshot=12``, the figures
as frozen. ``theme=light`` for a bright room (default dark). Keys: → PageDown space forward, ← PageUp back,
N notes, F full screen (docs/meetings.md).
"""

from __future__ import annotations

import datetime as dt
import html

import streamlit as st

from data_access import cached, meeting
from data_access.snapshots import SnapshotError
from ui import boot, params, present, theme, widgets
from ui.snapshots import snapshot_url
from ui.text import plain

boot.ensure_routed()
view = params.read()
theme.apply(view.kiosk)


def _period(as_of: dt.datetime):
    """The URL's period when a meeting can have it (bounded, whole days); else the month before ``as_of``."""
    if "period" in st.query_params:
        try:
            period = view.resolve_period(as_of.date())
            return period, meeting.period_text(period), None
        except meeting.FiguresError:
            note = f"链接中的时间范围（{view.period_label()}）没有起止日期，已改为上月"
        except ValueError:
            note = "链接中的时间范围无法用于讲评，已改为上月"
    else:
        note = None
    first = (as_of.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    text = f"{first:%Y-%m}"
    return meeting.parse_period(text)[0], text, note


@widgets.guard
def page() -> None:
    fresh = widgets.current_data()
    if fresh is None:
        return
    key = cached.token(fresh)
    for problem in view.problems:
        st.warning(plain(problem))
    look = st.query_params.get("theme", "dark")
    look = look if look in present.THEMES else "dark"
    ident = st.query_params.get("snapshot")
    title = None
    if ident:
        try:
            found = cached.snapshot(key, ident)
        except SnapshotError as exc:
            st.error(plain(exc))
            return
        figures, title = found.figures, found.info.name
        origin = (f'冻结快照 · {html.escape(found.info.name)} · 冻结于 {found.info.created_at:%Y-%m-%d %H:%M:%S} · '
                  f'<a href="{html.escape(snapshot_url(found.info.id))}" target="_self">打开快照</a>')
    else:
        from ui.snapshots import _single_root

        moment = widgets.moment(fresh, view)
        scope = cached.resolve_scope(key, view.region or _single_root(key))
        period, text, note = _period(moment.as_of)
        if note:
            st.caption(plain(note))
        figures = cached.meeting_figures(key, scope, period, moment.as_of, cached.ranking_weights(key))
        origin = "实时数据 · 按截至时点统计"
    deck = present_deck(key, figures, look, title, ident)
    other = "light" if look == "dark" else "dark"
    switch = params.link("present", **{k: v for k, v in st.query_params.to_dict().items() if k != "theme"},
                         theme=other)
    st.html(f'<p class="screen-title">演示模式<small> · {html.escape(figures.scope_name)} · 统计周期 '
            f'{html.escape(figures.period_label)} · 截至 {figures.as_of:%Y-%m-%d %H:%M}</small></p>'
            f'<p class="present-help">{origin} · 键盘：→ / PageDown / 空格 下一页，← / PageUp 上一页，N 讲稿备注，'
            f'F 全屏，Esc 退出全屏 · <a href="{html.escape(switch)}" target="_self">'
            f'{"浅色" if other == "light" else "深色"}主题</a></p>')
    st.html(present.document(deck, figures, look), unsafe_allow_javascript=True)
    meeting_pack(key, figures, title)


def present_deck(key, figures, look: str, title, ident):
    """The slides, made once per figures and theme in this session (drawing the charts takes seconds)."""
    from data_access.report import outlines as shapes
    from data_access.report import slides

    memo = st.session_state.setdefault("present_decks", {})
    name = (figures.to_json(), look, title)
    if name not in memo:
        level = figures.section(meeting.CHILDREN).notes.get("level")
        found = cached.shapes(key, figures.scope, level)[0] if level else []
        memo.clear()
        memo[name] = slides.deck(figures, shapes.from_features(found), theme=look, title=title)
    return memo[name]


def _origin() -> str | None:
    """The dashboard's address as the browser reached it (https://host:port), for the pack's links."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(st.context.url or "")
    except Exception:  # noqa: BLE001 - no address known (a test run): the pack has no links
        return None
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else None


def meeting_pack(key, figures, title) -> None:
    """制作会议材料: the PPTX, the PDF and the Excel of what is shown, made on the click, downloaded through the
    audited export path."""
    from data_access.report import outlines as shapes
    from data_access.report import pack

    widgets.panel_title("会议材料", "幻灯片（PPTX、PDF，含附表）与附表 Excel，数字与上方演示相同")
    memo_key = ("present_pack", figures.to_json(), title)
    made = st.session_state.get("present_pack")
    if made is not None and made[0] != memo_key:
        made = None
    if made is None:
        if st.button("制作会议材料", icon=":material/slideshow:", key="present_make_pack", type="primary"):
            with st.spinner("正在制作会议材料……"):
                level = figures.section(meeting.CHILDREN).notes.get("level")
                found = cached.shapes(key, figures.scope, level)[0] if level else []
                files = pack.build(figures, shapes.from_features(found), title=title, base=_origin()).files
            st.session_state["present_pack"] = (memo_key, files)
            made = st.session_state["present_pack"]
        else:
            return
    files = made[1]
    stem = f"{title or meeting.default_name(figures.period_text, figures.scope_name)}-截至{figures.as_of:%Y%m%d%H%M}"
    stem = stem.replace(" · ", "-").replace("/", "-")
    rows = len(figures.section(meeting.OVERDUE))
    columns = st.columns(3)
    for column, (kind, label, icon) in zip(columns, (("pptx", "下载 PPTX", ":material/slideshow:"),
                                                      ("pdf", "下载 PDF", ":material/picture_as_pdf:"),
                                                      ("xlsx", "下载附表 Excel", ":material/table_view:"))):
        data = files[kind]

        def build(data=data) -> cached.Export:
            return cached.Export(data, rows)

        column.download_button(plain(label), cached.export(build, target="会议材料", kind=kind, region_code=figures.scope_code,
                                                    detail={"file": stem, "period": figures.period_text,
                                                            "as_of": figures.as_of.isoformat(timespec="seconds")}),
                               file_name=f"{stem}.{kind}", mime=pack.MIME[kind], on_click="ignore",
                               key=f"present_{kind}", icon=icon)


page()
