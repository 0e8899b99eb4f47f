"""Building blocks of the warning page (/alerts): filters, the red/yellow list, supervision."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from data_access import cached
from data_access.exports import table_xlsx_bytes
from data_access.scope import LEVEL_LABELS, LEVELS, Scope
from data_access.vocab import SUPERVISION_LEVELS

from . import format as fmt
from . import supervision as supervise
from . import tables, widgets
from .cases import figure_url
from .params import ViewParams, link
from .text import plain

FILTER_LABELS = {"district": "区县", "street": "街道", "department": "承办单位", "category": "类别", "channel": "渠道"}
RED, YELLOW = "rgba(255, 77, 79, 0.28)", "rgba(250, 219, 20, 0.30)"

_CSS = """
<style>
.alert-totals { display: flex; gap: 18px; margin: 4px 0 8px 0; font-size: 1.05rem; }
.alert-totals .red { color: #ff4d4f; font-weight: 700; }
.alert-totals .yellow { color: #fadb14; font-weight: 700; }
.alert-totals a { color: #3fc1ff; font-size: .85rem; }
</style>
"""


def style() -> None:
    st.html(_CSS)


ALL = ""  # the option "全部" (a select box set to None would show no choice at all)


def filter_bar(key, scope: Scope, as_of: dt.datetime) -> dict[str, str]:
    """The five filters. The URL holds them: each widget is set from it on every run (the
    options change as appeals open and close, so a widget's own memory could point at another
    value), and a change by staff goes to the URL before the page runs again."""
    options = cached.warning_filter_options(key, scope, as_of)
    chosen: dict[str, str] = {}
    shown = [name for name in FILTER_LABELS if not _above(name, scope)]
    for name in FILTER_LABELS:  # a district inside a district, a street inside a street: nothing to choose
        if name not in shown and st.query_params.get(name):
            st.warning(plain(f"{FILTER_LABELS[name]}筛选对{LEVEL_LABELS.get(scope.level, scope.level)}范围不适用，已忽略。"))
    for column, name in zip(st.columns(len(shown)), shown):
        table = options[name]
        codes = [ALL, *table["code"].tolist()]
        names = _option_names(options, name)
        current = st.query_params.get(name) or ALL
        if current not in codes:
            st.warning(f"{FILTER_LABELS[name]} “{plain(current[:40])}” 不在可选范围内，已忽略。")
            current = ALL
        show = lambda c, names=names: "全部" if c == ALL else names.get(c, c)  # noqa: E731
        widget = f"alert_{name}"
        if st.session_state.get(widget) != current:
            st.session_state[widget] = current
        column.selectbox(FILTER_LABELS[name], codes, format_func=show, key=widget,
                         on_change=_write_filter, args=(name, widget))
        if current != ALL:
            chosen[name] = current
    return chosen


def _above(name: str, scope: Scope) -> bool:
    """A district or street filter at or above the page's own level (it would offer one value: the scope)."""
    deepest = {"district": "district", "street": "street"}.get(name)
    return deepest is not None and not scope.is_whole and LEVELS.index(scope.level) >= LEVELS.index(deepest)


def _option_names(options: dict, name: str) -> dict[str, str]:
    """How a filter's values read on screen: names (with the code when two share one); channels by our
    name for our codes and a source's own word as it is."""
    table = options[name]
    if name == "channel":
        return dict(zip(table["code"], fmt.channel_names(table["code"])))
    return fmt.unique_labels(table) if "name" in table else {}


def filter_text(key, scope: Scope, as_of: dt.datetime, filters: dict) -> str:
    """The chosen filters in words: "街道 莲花街道、类别 城市管理" (empty without filters)."""
    if not filters:
        return ""
    options = cached.warning_filter_options(key, scope, as_of)
    return "、".join(f"{FILTER_LABELS[name]} {_option_names(options, name).get(code, code)}"
                    for name, code in filters.items() if name in FILTER_LABELS)


def _write_filter(name: str, widget: str) -> None:
    value = st.session_state.get(widget)
    if value in (None, ALL):
        st.query_params.pop(name, None)
    else:
        st.query_params[name] = value


def _case_filters(filters: dict) -> dict:
    """The warning page's filters in the case list's URL terms."""
    out = {k: v for k, v in filters.items() if k in ("category", "channel", "department")}
    child = filters.get("street") or filters.get("district")
    if child:
        out["child"] = child
    return out


def totals(counts: dict, view: ViewParams, as_of: dt.datetime, scope: Scope, filters: dict) -> None:
    extra = _case_filters(filters)
    red = figure_url("overdue_open", view, as_of, region=scope.code, **extra)
    yellow = figure_url("due_soon_open", view, as_of, region=scope.code, **extra)
    st.html(f'<div class="alert-totals"><span>超期（红灯） <span class="red">{counts["red"]:,}</span> 件 '
            f'<a href="{red}" target="_self">明细</a></span><span>临期（黄灯） <span class="yellow">'
            f'{counts["yellow"]:,}</span> 件 <a href="{yellow}" target="_self">明细</a></span></div>')


PAGE_SIZE = 200  # rows of the list on one page


def warning_table(data: pd.DataFrame, view: ViewParams) -> list[str]:
    """One page of the red and yellow list (red rows red, yellow rows yellow); returns the appeal ids shown."""
    pages = max(1, -(-len(data) // PAGE_SIZE))
    page = 1
    if pages > 1:
        page = st.pagination(pages, key="warning_page", max_visible_pages=9)
    data = data.iloc[(page - 1) * PAGE_SIZE:page * PAGE_SIZE].reset_index(drop=True)
    shown = pd.DataFrame({
        "灯": ["红" if s == "red" else "黄" for s in data["state"]],
        "工单号": data["appeal_id"],
        "类别": [f"{c}/{s}" if isinstance(s, str) and s else c for c, s in zip(data["category"], data["subcategory"])],
        "街道": data["street"].fillna("—"),
        "承办单位": data["department"].fillna("—"),
        "办理时限": data["deadline_at"].dt.strftime("%Y-%m-%d %H:%M"),
        "剩余/超期": [fmt.remaining(r) for r in data.to_dict("records")],
        "已督办": ["是" if s else "" for s in data["is_supervised"]],
        "详情": [link("case", id=a, **view.carried()) for a in data["appeal_id"]],
    })
    tables.html_table(shown, name="warnings", links={"详情": "查看"}, right=["剩余/超期"], height=560,
                      row_classes=["red" if s == "red" else "yellow" for s in data["state"]])
    return data["appeal_id"].tolist()


def supervision_sheet(data: pd.DataFrame) -> bytes:
    """The list as a 督办单 (Excel, Chinese headers), with blank columns for the opinion and the answer date."""
    sheet = pd.DataFrame({
        "序号": range(1, len(data) + 1),
        "预警": ["超期" if s == "red" else "临期" for s in data["state"]],
        "工单号": data["appeal_id"],
        "诉求类别": data["category"],
        "诉求小类": data["subcategory"],
        "所在街道": data["street"],
        "承办单位": data["department"],
        "受理时间": data["created_at"].dt.strftime("%Y-%m-%d %H:%M"),
        "办理时限": data["deadline_at"].dt.strftime("%Y-%m-%d %H:%M"),
        "剩余/超期": [fmt.remaining(r) for r in data.to_dict("records")],
        "已督办": ["是" if s else "否" for s in data["is_supervised"]],
        "督办意见": "",
        "要求答复时间": "",
    })
    return table_xlsx_bytes(sheet, "督办单")


def export_button(data: pd.DataFrame, as_of: dt.datetime, scope_name: str, region_code: str | None) -> None:
    """The 督办单 download; the file is made (and the export audited, once made) only when clicked."""
    def build() -> cached.Export:
        return cached.Export(supervision_sheet(data), len(data))

    made = cached.export(build, target="督办单", kind="xlsx", region_code=region_code, detail={"file": "督办单"})
    st.download_button("导出督办单（Excel）", made,
                       file_name=f"督办单-{scope_name}-{as_of:%Y%m%d%H%M}.xlsx", mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                       key="export_supervision_sheet", on_click="ignore")


def supervise_choices(rows: pd.DataFrame) -> dict[str, list[str] | None]:
    """The sets staff can supervise from the list: the appeals they pick (None: chosen in the form), or every
    listed row not yet supervised."""
    pending = rows.loc[~rows["is_supervised"].fillna(False).astype(bool), "appeal_id"].tolist()
    return {"选定的工单": None, "列表中尚未督办的工单": pending}


def counts_table(df: pd.DataFrame, title: str, view: ViewParams, as_of: dt.datetime, scope: Scope, by: str,
                 filters: dict) -> None:
    if df.empty:
        widgets.empty_state("没有超期或临期的工单。")
        return
    extra = _case_filters({k: v for k, v in filters.items() if k != by})
    key = "department" if by == "department" else "child"
    shown = pd.DataFrame({
        title: df["name"],
        "所属": df["parent"].fillna("—"),
        "超期": df["red"],
        "临期": df["yellow"],
        "超期工单": [figure_url("overdue_open", view, as_of, region=scope.code, **{**extra, key: c}) for c in df["code"]],
    })
    tables.html_table(shown, name=f"counts-{by}", links={"超期工单": "明细"}, height=460, sort=f"{by}_sort",
                      formats={"超期": fmt.count, "临期": fmt.count})


def supervision_panels(key, scope: Scope, period, as_of: dt.datetime, view: ViewParams, cfg, filters: dict,
                       scope_name: str) -> None:
    """Open supervisions (escalated ones marked), statistics by department and street, unsatisfied candidates;
    each counts only the appeals that pass the page's filters, and the tab says which those are."""
    frozen = tuple(sorted(filters.items()))
    chosen = filter_text(key, scope, as_of, filters)
    if chosen:
        st.info(f"以下督办情况只统计符合筛选条件的工单（{plain(scope_name)} · {plain(chosen)}）。")
    else:
        st.caption(f"以下督办情况统计{plain(scope_name)}的全部工单（未筛选）。")
    widgets.panel_title("在办督办", "不限受理时间 · 逾期未答复的将自动升级一级（街道→区→市）")
    open_ = cached.open_supervisions(key, scope, as_of, frozen)
    if open_.empty:
        widgets.empty_state("没有待答复的督办。")
    else:
        tables.html_table(pd.DataFrame({
            "工单号": open_["appeal_id"],
            "级别": [SUPERVISION_LEVELS.get(v, v) for v in open_["level"]],
            "来源": supervise.origins(open_),
            "督办人": open_["supervisor"],
            "要求答复": open_["due_at"].dt.strftime("%Y-%m-%d %H:%M"),
            "状态": ["逾期未答复" if o else "待答复" for o in open_["overdue"]],
            "详情": [link("case", id=a, **view.carried()) for a in open_["appeal_id"]],
        }), name="open-supervisions", links={"详情": "查看"}, height=380)
        if len(open_) >= cached.OPEN_SUPERVISIONS_SHOWN:
            st.caption(f"仅列出最早到期的 {len(open_):,} 件，请用筛选缩小范围。")
    left, right = st.columns(2)
    for column, by, title in ((left, "department", "按承办单位"), (right, "street", "按街道")):
        with column:
            widgets.panel_title(f"督办统计 · {title}", f"督办发起时间：{view.period_label()}")
            stats = cached.supervision_stats(key, scope, period, as_of, by, frozen)
            if stats.empty:
                widgets.empty_state("该时段没有督办。")
                continue
            st.dataframe(fmt.styled(pd.DataFrame({
                "名称": stats["name"],
                "所属": stats["parent"].fillna("—"),
                "督办": stats["supervised"],
                "按时答复": stats["answered_on_time"],
                "逾期答复": stats["answered_late"],
                "待答复": stats["open"],
                "已升级": stats["escalated"],
                "按时答复率": stats["on_time_rate"],
            }), {**{c: fmt.count for c in ("督办", "按时答复", "逾期答复", "待答复", "已升级")}, "按时答复率": fmt.rate}),
                hide_index=True, width="stretch", height=widgets.rows_height(len(stats), 380))
    widgets.panel_title("不满意工单 · 建议督办", f"受理时间：{view.period_label()} · 回访不满意且其后未督办")
    candidates = cached.unsatisfied_candidates(key, scope, period, as_of, frozen)
    if candidates.empty:
        widgets.empty_state("没有待督办的不满意工单。")
    else:
        tables.html_table(pd.DataFrame({
            "工单号": candidates["appeal_id"],
            "类别": candidates["category"],
            "回访时间": pd.to_datetime(candidates["rated_at"]).dt.strftime("%Y-%m-%d %H:%M"),
            "曾督办": ["是" if s else "" for s in candidates.get("supervised_before", [False] * len(candidates))],
            "详情": [link("case", id=a, **view.carried()) for a in candidates["appeal_id"]],
        }), name="unsatisfied", links={"详情": "查看"}, height=320)
    st.caption("在工单详情页可对单件工单督办或记录承办单位的答复；逾期未答复的督办在每次数据刷新时自动升级。")
