"""Building blocks of the case list (/cases) and the case detail (/case).

The list's request lives in the URL, so a figure's link reproduces its list:

    /cases?figure=overdue_open&region=210302&period=30d&as_of=…&part=numerator
          &category=供暖&channel=hotline&department=…&status=open&child=210302001
          &sort=deadline_at&desc=1&page=2

``figure`` names a figure (``data_access.cases.FIGURES``); ``region``,
``period``, ``from``/``to`` and ``as_of`` are the shared view parameters
(``ui.params``); the others narrow the list (``child``: a region inside the
scope, e.g. a ranking row; ``department``: a department code; ``channel``: one
of our channel codes or a source's own word, URL-encoded like every value).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import math
import re
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit

import pandas as pd
import streamlit as st

from data_access import cached
from data_access import cases as case_data
from data_access import exports
from data_access.scope import Period, Scope
from data_access.vocab import CHANNELS, HANDLING_LEVELS, SATISFACTION, STATUSES, URGENCY, label

from . import format as fmt
from .params import ViewParams, link
from .text import plain

PAGE_SIZE = case_data.PAGE_SIZE

# URL parameter -> the filter of data_access.cases
URL_FILTERS = {
    "category": "category",
    "subcategory": "subcategory",
    "channel": "channel",
    "department": "department_code",
    "status": "status",
    "child": "region",
    "cluster": "cluster",
}
# a figure's natural order when the URL names none
DEFAULT_SORTS = {"overdue_open": ("overdue", True), "due_soon_open": ("deadline_at", False)}

CSS = """
<style>
.case-title { font-size: 1.45rem; font-weight: 700; color: #ffffff; margin: 0; line-height: 1.35;
  text-shadow: 0 0 10px rgba(63,193,255,.45); }
.case-title .n { color: #3fc1ff; }
.case-meta { color: #8aa3c7; font-size: .92rem; }
.case-meta b { color: #dbe7ff; font-weight: 600; }
.case-meta a, .case-back a { color: #3fc1ff; text-decoration: none; }
.case-fields { display: grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); gap: 6px 18px;
  background: rgba(13,31,61,.85); border: 1px solid #1d3b66; border-radius: 6px; padding: 10px 14px; }
.case-fields div { font-size: .95rem; color: #dbe7ff; }
.case-fields span.k { color: #8aa3c7; margin-right: 6px; }
.case-fields .wide { grid-column: 1 / -1; }
.timeline { list-style: none; margin: 4px 0 0 6px; padding: 0 0 0 18px; border-left: 2px solid #1d3b66; }
.timeline li { position: relative; margin: 0 0 12px 0; color: #dbe7ff; }
.timeline li::before { content: ""; position: absolute; left: -25px; top: 5px; width: 10px; height: 10px;
  border-radius: 50%; background: #3fc1ff; }
.timeline li.supervise::before { background: #fadb14; }
.timeline li.late::before { background: #ff4d4f; }
.timeline .ev { font-weight: 600; margin-right: 8px; }
.timeline .when { color: #8aa3c7; font-variant-numeric: tabular-nums; }
.timeline .who { color: #dbe7ff; margin-left: 8px; }
.timeline .note { color: #c5d5f0; margin: 2px 0; }
.timeline .clock { font-size: .85rem; color: #8aa3c7; }
.timeline .over { color: #ff4d4f; font-weight: 600; }
.timeline .left { color: #36cfc9; }
</style>
"""


def style(kiosk: bool) -> None:
    """The CSS of the case pages (once per page run)."""
    st.html(CSS)


class BadRequest(ValueError):
    """The URL asks for a list that cannot be shown; the message is for the screen."""


@dataclass(frozen=True)
class ListRequest:
    figure: str
    part: str | None
    filters: dict = field(default_factory=dict)  # data_access.cases filter name -> value
    sort: str = "created_at"
    descending: bool = True
    page: int = 1
    page_given: bool = False  # the URL named a page (a page past the end is then reported)
    problems: tuple[str, ...] = ()  # parameters that were ignored, each a sentence for the screen

    def url_params(self) -> dict[str, str]:
        """The list's own parameters, as in the URL (without the shared view parameters)."""
        out = {"figure": self.figure}
        if self.part:
            out["part"] = self.part
        back = {v: k for k, v in URL_FILTERS.items()}
        out.update({back[k]: v for k, v in self.filters.items()})
        out.update({"sort": self.sort, "desc": "1" if self.descending else "0"})
        return out


def _code_of(vocab: dict, value: str) -> str:
    """A vocabulary code, given the code or its Chinese label (a chart may hand over either); any other
    value is returned as it is (a channel may be a source's own word, docs/import.md)."""
    if value in vocab:
        return value
    for code, text in vocab.items():
        if text == value:
            return code
    return value


def read_request(qp=None) -> ListRequest:
    """The list request in the URL; BadRequest when it names no figure or an unknown one."""
    qp = st.query_params if qp is None else qp
    problems = []
    key = qp.get("figure")
    if not key:
        raise BadRequest("链接缺少指标参数 figure，无法确定要列出哪些工单。")
    fig = case_data.FIGURES.get(key)
    if fig is None:
        raise BadRequest(f"未知的指标 “{key[:40]}”。请从大屏或区域页面上的数字进入工单列表。")
    part = qp.get("part") or None
    if part is not None and (part not in case_data.PARTS or fig.kind != "rate"):
        problems.append(f"参数 part=“{part[:20]}” 对“{fig.label}”无效，已显示全部")
        part = None
    filters = {}
    for param, name in URL_FILTERS.items():
        value = (qp.get(param) or "").strip()
        if not value:
            continue
        if name == "channel":
            value = _code_of(CHANNELS, value)
        elif name == "status":
            value = _code_of(STATUSES, value)
        filters[name] = value[:100]
    default_sort, default_desc = DEFAULT_SORTS.get(key, ("created_at", True))
    sort = qp.get("sort") or default_sort
    if sort not in case_data.SORTS:
        problems.append(f"未知的排序 “{sort[:20]}”，已按{case_data.SORTS[default_sort]}排序")
        sort = default_sort
    desc_text = qp.get("desc")
    descending = default_desc if desc_text in (None, "") else desc_text not in ("0", "false", "no")
    page_text = qp.get("page")
    page, page_given = 1, False
    if page_text not in (None, ""):
        try:
            page, page_given = int(page_text), True
        except ValueError:
            problems.append(f"页码 “{page_text[:20]}” 无效，已显示第 1 页")
        if page_given and page < 1:
            problems.append(f"页码 {page} 无效，已显示第 1 页")
            page = 1
    return ListRequest(key, part, filters, sort, descending, page, page_given, tuple(problems))


def period_label(view: ViewParams) -> str:
    if view.period == "custom" and view.date_from == view.date_to:
        return f"{view.date_from:%Y-%m-%d}"
    return view.period_label()


def title(req: ListRequest, scope_name: str, view: ViewParams, as_of: dt.datetime, n: int) -> None:
    """超期在办 · 铁东区 · 近30天 · 截至 2026-11-22 10:00 · 共 123 件"""
    fig = case_data.FIGURES[req.figure]
    text = " · ".join((fig.list_label(req.part), scope_name, period_label(view), f"截至 {fmt.stamp(as_of)}"))
    st.html(f'<p class="case-title">{html.escape(text)} · 共 <span class="n">{n:,}</span> 件</p>')


def filter_note(key, req: ListRequest, rows: pd.DataFrame) -> str:
    """The filters in words, escaped for HTML: "类别：供暖 · 渠道：8890热线"."""
    words = []
    for name, value in req.filters.items():
        shown = value
        if name == "channel":
            shown = label(CHANNELS, value)
        elif name == "status":
            shown = label(STATUSES, value)
        elif name == "region":
            try:
                shown = str(cached.region(key, value)["name"])
            except Exception:  # noqa: BLE001 - an unknown code is reported by the count
                shown = value
        elif name == "department_code" and not rows.empty and rows["department"].notna().any():
            shown = str(rows["department"].dropna().iloc[0])
        words.append(f"{case_data.FILTERS[name]}：{shown}")
    return html.escape(" · ".join(words))


def sort_controls(req: ListRequest, left, right) -> None:
    """Sort key and direction (in the containers ``left`` and ``right``); a change goes to the URL, and to page 1."""
    keys = list(case_data.SORTS)
    left.selectbox("排序", keys, index=keys.index(req.sort), format_func=case_data.SORTS.get, key="case_sort",
                   on_change=_write_sort)
    right.segmented_control("方向", ["desc", "asc"], default="desc" if req.descending else "asc", required=True,
                            format_func={"desc": "降序", "asc": "升序"}.get, key="case_dir",
                            on_change=_write_sort)


def _write_sort() -> None:
    st.query_params["sort"] = st.session_state["case_sort"]
    direction = st.session_state.get("case_dir") or "desc"
    st.query_params["desc"] = "1" if direction == "desc" else "0"
    if "page" in st.query_params:
        del st.query_params["page"]


def pages_of(n: int) -> int:
    return max(1, math.ceil(n / PAGE_SIZE))


def pager(req: ListRequest, n_pages: int, page: int) -> None:
    """Page buttons; the chosen page goes to the URL."""
    if n_pages <= 1:
        return
    signature = repr((req.figure, req.part, sorted(req.filters.items()), req.sort, req.descending))
    key = "case_pager_" + hashlib.sha1(signature.encode()).hexdigest()[:12]
    st.pagination(n_pages, default=page, key=key, on_change=_write_page, args=(key,), max_visible_pages=9)


def _write_page(key: str) -> None:
    st.query_params["page"] = str(st.session_state[key])


def figure_url(figure: str, view: ViewParams, as_of: dt.datetime, *, region: str | None = None,
               part: str | None = None, period: dict | None = None, **filters) -> str:
    """The link from a figure on screen to its list: ``/cases?figure=…&region=…&period=…&as_of=…``.

    ``as_of`` is the time the figure was judged at: the list is judged then
    too, so it still equals the figure after the next sync. ``period``
    replaces the view's period (e.g. ``{"period": "all"}`` for the stock of
    overdue appeals, or one day of the trend: ``{"period": "custom", "from":
    day, "to": day}``). ``filters`` use the URL names: category, subcategory,
    channel, department, status, child (a region inside ``region``).
    """
    if figure not in case_data.FIGURES:
        raise ValueError(f"unknown figure {figure!r}")
    unknown = set(filters) - set(URL_FILTERS)
    if unknown:
        raise ValueError(f"unknown filters {sorted(unknown)}; expected some of {sorted(URL_FILTERS)}")
    carried = {k: v for k, v in view.carried().items() if k not in ("period", "from", "to", "as_of")}
    params = {"figure": figure, "part": part, "region": region, **(period or {k: v for k, v in view.carried().items()
                                                                         if k in ("period", "from", "to")}),
              "as_of": as_of.replace(microsecond=0).isoformat(), **carried,
              **{k: v for k, v in filters.items() if v not in (None, "")}}
    return _url("cases", params)


def list_url(view: ViewParams, req: ListRequest, page: int) -> str:
    """This list's URL (the detail page links back to it)."""
    params = {**req.url_params(), **({"region": view.region} if view.region else {}), **view.carried()}
    if page > 1:
        params["page"] = str(page)
    return _url("cases", params)


def _url(page: str, params: dict) -> str:
    """A page's URL with parameters (``params.link`` cannot take one named "page")."""
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return link(page) + (f"?{query}" if query else "")


def case_url(appeal_id: str, back: str | None) -> str:
    return link("case", id=appeal_id, **({"from": back} if back else {}))


# what the screen's table shows; the rest of the columns are in the downloads
SCREEN_COLUMNS = ("工单号", "受理时间", "类别", "子类", "渠道", "状态", "办理时限", "办结时间", "超期", "街道",
                  "社区", "网格", "承办单位", "诉求人", "联系电话", "地址", "诉求内容", "计入分子")


def screen_table(rows: pd.DataFrame, back: str) -> pd.DataFrame:
    """The page's rows as shown (工单号 links to the detail: ``tables.Link``)."""
    from .tables import Link

    shown = exports.present(rows)
    shown["工单号"] = [Link(str(a), case_url(a, back)) for a in rows["appeal_id"]]
    return shown[[c for c in SCREEN_COLUMNS if c in shown]]


_FILE_UNSAFE = re.compile(r'[\\/:*?"<>|\s：·（）()]+')


def file_stem(req: ListRequest, scope_name: str, view: ViewParams, as_of: dt.datetime) -> str:
    fig = case_data.FIGURES[req.figure]
    stem = "_".join((fig.list_label(req.part), scope_name, period_label(view), f"{as_of:%Y%m%d%H%M}"))
    return _FILE_UNSAFE.sub("_", stem).strip("_")


def downloads(key, scope: Scope, period: Period, as_of: dt.datetime, req: ListRequest, n: int, stem: str,
              show_personal: bool, left, right) -> None:
    """CSV and Excel of the whole list (in the containers ``left`` and ``right``), made when clicked."""
    too_many = n > case_data.EXPORT_CAP
    note = (f"共 {n:,} 件，超过导出上限 {case_data.EXPORT_CAP:,} 件，请缩小范围或时间段" if too_many
            else "导出整个列表（不只是本页）" + ("" if show_personal else "，个人信息已脱敏"))
    args = dict(part=req.part, filters=req.filters, sort=req.sort, descending=req.descending,
                show_personal=show_personal)

    def make(kind: str):
        def build() -> cached.Export:  # runs when the button is clicked; audited once the file is made
            return cached.case_file(key, scope, period, as_of, req.figure, kind, sheet_name="工单列表", **args)
        return cached.export(build, target=req.figure, kind=kind, region_code=scope.code,
                             detail={"file": stem, "filters": dict(req.filters)})

    left.download_button("导出 CSV", make("csv"), file_name=f"{stem}.csv", mime=exports.CSV_MIME,
                         on_click="ignore", disabled=too_many or n == 0, help=plain(note), key="case_csv",
                         icon=":material/download:")
    right.download_button("导出 Excel", make("xlsx"), file_name=f"{stem}.xlsx", mime=exports.XLSX_MIME,
                          on_click="ignore", disabled=too_many or n == 0, help=plain(note), key="case_xlsx",
                          icon=":material/table_view:")


# --------------------------------------------------------------- detail ---

_AUDIT_AGAIN_SECONDS = 300  # a case re-run within this time (a click on the page) is the same look


def audit_view(row: dict, show_personal: bool) -> None:
    """Record that the signed-in person opened this case (once per look, not on every rerun)."""
    seen = st.session_state.setdefault("viewed_cases", {})
    now = time.monotonic()
    if now - seen.get(row["appeal_id"], -1e9) < _AUDIT_AGAIN_SECONDS:
        return
    seen[row["appeal_id"]] = now
    cached.audit("case_view", target=row["appeal_id"], region_code=row.get("street_code") or row.get("district_code"),
                 detail={"personal_data": bool(show_personal)})


def safe_back(value: str | None) -> str | None:
    """A back link from the URL, if it points at this app's case list (never elsewhere)."""
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or parts.path != "/" + "cases":
        return None
    return _url("cases", dict(parse_qsl(parts.query)))


def _time(value) -> str:
    return "—" if value is None else fmt.stamp(value)


def channel_text(channel: str, source_word: str | None) -> str:
    """The channel as shown, with the source's own word beside it when that differs: 8890热线（来源：Call）."""
    shown = label(CHANNELS, channel)
    if source_word and source_word not in (channel, shown):
        return f"{shown}（来源：{source_word}）"
    return shown


def detail_fields(row: dict, show_personal: bool) -> None:
    """The appeal's fields, its place and department, as a grid of labelled values."""
    place = " › ".join(name for _, _, name in row["place"]) or "—"
    category = row["category"] + (f" / {row['subcategory']}" if row.get("subcategory") else "")
    flags = [w for w, on in (("重复诉求", row.get("is_repeat")), ("已督办", row.get("is_supervised"))) if on]
    fields = [
        ("工单号", row["appeal_id"]),
        ("状态", label(STATUSES, row["status"])),
        ("受理渠道", channel_text(row["channel"], row.get("channel_label"))),
        ("类别", category),
        ("紧急程度", label(URGENCY, row.get("urgency"), "—")),
        ("受理时间", _time(row["created_at"])),
        ("交办时间", _time(row.get("dispatched_at"))),
        ("办理时限", _time(row.get("deadline_at"))),
        ("反馈时限", _time(row.get("feedback_deadline_at"))),
        ("首次反馈", _time(row.get("first_feedback_at"))),
        ("办结时间", _time(row.get("closed_at"))),
        ("办理层级", label(HANDLING_LEVELS, row.get("handling_level"), "—")),
        ("承办单位", row.get("department_name") or row.get("department_code") or "—"),
        ("回访评价", label(SATISFACTION, row.get("satisfaction"), "未评价")
         + (f"（{_time(row['rated_at'])}）" if row.get("rated_at") else "")),
        ("标记", "、".join(flags) or "—"),
        ("诉求人", row.get("appellant_name") or "—"),
        ("联系电话", row.get("appellant_phone") or "—"),
    ]
    wide = [
        ("所在区域", place),
        ("地址", (row.get("address") or "—") + ("" if show_personal else "（已脱敏）")),
        ("诉求内容", row.get("summary") or "—"),
    ]
    cells = [f'<div><span class="k">{html.escape(k)}</span>{html.escape(str(v))}</div>' for k, v in fields]
    cells += [f'<div class="wide"><span class="k">{html.escape(k)}</span>{html.escape(str(v))}</div>'
              for k, v in wide]
    st.html('<div class="case-fields">' + "".join(cells) + "</div>")


LIGHTS = {"normal": "正常", "yellow": "黄灯·临期", "red": "红灯·超期", "paused": "挂起中"}


def state_note(row: dict, now: dt.datetime, rules=None) -> str:
    """Where the appeal stands now: "在办 · 红灯·超期 · 超期 1 个工作日 12 小时", "已办结 · 按时办结", …
    (times in the appeal's basis, ``deadlines.duration_text``)"""
    from data_access import deadlines

    status = label(STATUSES, row["status"])
    deadline, closed = row.get("deadline_at"), row.get("closed_at")
    if row["status"] == "open":
        if deadline is None:
            return f"{status} · 无办理时限"
        light = deadlines.annotate(pd.DataFrame([row]), now, rules=rules).iloc[0]
        return f"{status} · {LIGHTS.get(light['deadline_state'], light['deadline_state'])} · {fmt.remaining(light)}"
    if row["status"] == "closed" and deadline is not None and closed is not None:
        if closed <= deadline:
            return f"{status} · 按时办结"
        basis = deadlines.basis_of(row, rules)
        return f"{status} · 超期 {fmt.duration(deadlines.late_hours(deadline, closed, basis), basis)} 办结"
    return status


def _clock(elapsed, to_deadline, basis) -> str:
    parts = [f"距受理 {fmt.hours(elapsed)}"]
    if to_deadline is not None and not pd.isna(to_deadline):
        if to_deadline < 0:
            parts.append(f'<span class="over">超过时限 {fmt.duration(-to_deadline, basis)}</span>')
        else:
            parts.append(f'<span class="left">距时限 {fmt.duration(to_deadline, basis)}</span>')
    else:
        parts.append("无办理时限")
    return " · ".join(parts)


def timeline(events: pd.DataFrame) -> None:
    """The events, oldest first: label, time, actor, note, elapsed time and time to the deadline."""
    items = []
    for ev in events.itertuples(index=False):
        late = ev.to_deadline_hours is not None and not pd.isna(ev.to_deadline_hours) and ev.to_deadline_hours < 0
        css = " ".join(c for c in (ev.event_type, "late" if late else "") if c)
        items.append(
            f'<li class="{html.escape(css)}"><span class="ev">{html.escape(ev.label)}</span>'
            f'<span class="when">{fmt.stamp(pd.Timestamp(ev.event_at).to_pydatetime(), seconds=True)}</span>'
            f'<span class="who">{html.escape(ev.actor or "—")}</span>'
            f'<div class="note">{html.escape(ev.note or "")}</div>'
            f'<div class="clock">{_clock(ev.elapsed_hours, ev.to_deadline_hours, ev.time_basis)}</div></li>')
    st.html('<ul class="timeline">' + "".join(items) + "</ul>")


def timeline_table(events: pd.DataFrame) -> pd.DataFrame:
    """The timeline as a plain table (the same facts as ``timeline``)."""
    return pd.DataFrame({
        "环节": events["label"],
        "时间": [fmt.stamp(pd.Timestamp(t).to_pydatetime()) for t in events["event_at"]],
        "办理人": events["actor"].fillna("—"),
        "说明": events["note"].fillna(""),
        "距受理": [fmt.hours(h) for h in events["elapsed_hours"]],
        "距时限": ["—" if pd.isna(h) else (f"超 {fmt.duration(-h, b)}" if h < 0 else fmt.duration(h, b))
                 for h, b in zip(events["to_deadline_hours"], events["time_basis"])],
    })
