"""One slide model for the meeting, drawn three ways (``/present``, the PPTX and the PDF).

``deck(figures, outlines=None, theme="light")`` turns ``MeetingFigures`` (live or frozen: nothing is queried
here) into a ``Deck`` of ``Slide``: a cover; the 三率 and the volume with 环比 and 同比; the 红黑榜 of the
streets and of the departments; one slide per child unit (a district's streets, a city's districts) with
its map, trend and top categories; hotspots and repeat appeals; overdue and supervised appeals.

Every figure is a ``Figure``: its label, its text (written as the screens write numbers, ``numbers``), the
value it was written from, and a ``Link`` to the appeals behind it (the figure of /cases, the region, and the
filters), which the renderer turns into a URL at the figures' as-of time. Speaker notes carry the
definitions of the slide's figures (``indicators.INDICATORS``, docs/metrics.md).

``appendix(figures)`` adds the table appendix of the pack: every unit's figures (``appendix_tables``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import pandas as pd

from .. import meeting
from ..indicators import INDICATORS
from ..meeting import MeetingFigures
from ..scope import LEVEL_LABELS
from . import charts
from . import numbers as num

# the headline's figures, as /region's tiles: indicator, label, kind
HEADLINE = (
    ("received", "受理量", "count"),
    ("completion_rate", "办结率", "rate"),
    ("on_time_rate", "按时办结率", "rate"),
    ("satisfaction_rate", "满意率", "rate"),
    ("per_10k", "每万人诉求量", "per_10k"),
    ("overdue_open", "超期（本期受理）", "count"),
)
UNIT_FIGURES = (
    ("received", "受理量", "count"),
    ("completion_rate", "办结率", "rate"),
    ("on_time_rate", "按时办结率", "rate"),
    ("satisfaction_rate", "满意率", "rate"),
    ("overdue_open", "超期（本期受理）", "count"),
)
RANKING_DEPTH = 5  # the 红榜 and the 黑榜: at most five places each
LIST_ROWS = 8  # rows of a list on a slide
UNIT_NAMES = {"street": "街道", "department": "承办单位"}
KINDS = ("cover", "headline", "rankings", "unit", "hotspots", "overdue", "appendix")


@dataclass(frozen=True)
class Link:
    """Where a figure's appeals are listed: ``page`` "cases" (a figure of data_access/cases.py, a region, the
    URL's filters; ``period`` replaces the figures' period, e.g. {"period": "all"}) or "alerts"."""

    figure: str
    region: str | None
    period: tuple[tuple[str, str], ...] = ()
    filters: tuple[tuple[str, str], ...] = ()
    page: str = "cases"


@dataclass(frozen=True)
class Figure:
    label: str
    text: str
    value: object = None
    key: str | None = None
    notes: tuple[str, ...] = ()
    link: Link | None = None


@dataclass(frozen=True)
class Table:
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Figure, ...], ...]
    caption: str = ""


@dataclass(frozen=True)
class Image:
    title: str
    png: bytes
    alt: str


@dataclass(frozen=True)
class Slide:
    kind: str
    title: str
    subtitle: str = ""
    figures: tuple[Figure, ...] = ()
    tables: tuple[Table, ...] = ()
    images: tuple[Image, ...] = ()
    notes: tuple[str, ...] = ()
    caption: str = ""

    def texts(self) -> list[str]:
        """Every text on the slide (titles, figures, cells), for tests and search."""
        out = [self.title, self.subtitle, self.caption]
        for f in self.figures:
            out += [f.label, f.text, *f.notes]
        for t in self.tables:
            out += [t.title, *t.columns, *(c.text for row in t.rows for c in row), t.caption]
        return [t for t in out if t]


@dataclass(frozen=True)
class Deck:
    title: str
    scope_code: str | None
    scope_name: str
    period_label: str
    period_start: dt.datetime
    period_end: dt.datetime
    as_of: dt.datetime
    slides: tuple[Slide, ...] = field(default_factory=tuple)

    @property
    def stamp(self) -> str:
        return f"统计周期 {self.period_label} · 截至 {self.as_of:%Y-%m-%d %H:%M}"


# -------------------------------------------------------------- helpers ---

def definition(key: str) -> str:
    """An indicator's definition as the screens say it: 办结率：已办结 ÷ 受理 − 撤销."""
    ind = INDICATORS[key]
    text = f"{ind.label}：{ind.numerator_zh or ind.numerator}"
    if ind.denominator_zh or ind.denominator:
        text += f" ÷ （{ind.denominator_zh or ind.denominator}）"
    return text


def _text(value) -> str:
    return "—" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


def _cell(text, link: Link | None = None, value=None) -> Figure:
    return Figure("", _text(text), value, link=link)


def _frame(figures: MeetingFigures, name: str) -> pd.DataFrame | None:
    section = figures.get(name)
    return None if section is None else section.frame()


def _month_day(value) -> str:
    return "—" if value is None or pd.isna(value) else pd.Timestamp(value).strftime("%m-%d")


# --------------------------------------------------------------- slides ---

def cover(figures: MeetingFigures, title: str | None) -> Slide:
    head = figures.section(meeting.HEADLINE)
    received = head.lookup("indicator", "received", "value")
    return Slide(
        "cover", title or meeting.default_name(figures.period_text, figures.scope_name),
        f"{figures.scope_name} · 统计周期 {figures.period_label} · 截至 {figures.as_of:%Y-%m-%d %H:%M}",
        figures=(Figure("受理量", num.count(received), received, "received", link=Link("received", figures.scope_code)),),
        notes=("本期受理的诉求按截至时点的状态统计：此后办结或撤销的，仍按截至时点的状态计。",
               "每个数字都链接到其背后的工单列表（按同一截至时点查询当前数据）。"),
    )


def _comparison_note(figures: MeetingFigures, kind: str, row: dict, what: str, word: str) -> str:
    text = num.change(kind, row["value"], row[what])
    return f"{word} {text}"


def headline(figures: MeetingFigures, theme: str = "light") -> Slide:
    notes = figures.section(meeting.HEADLINE).notes
    shown = []
    for key, label, kind in HEADLINE:
        row = figures.headline(key)
        shown.append(Figure(label, num.write(kind, row["value"]), row["value"], key,
                            (_comparison_note(figures, kind, row, "previous", "环比"),
                             _comparison_note(figures, kind, row, "last_year", "同比")),
                            Link(key, figures.scope_code)))
    trend = _frame(figures, meeting.TREND)
    images = ()
    if trend is not None and len(trend):
        images = (Image("每日受理与办结", charts.trend(trend["day"], trend["received"], trend["closed"], theme,
                                                                 size=(13.0, 4.0)),
                        "每日受理与办结折线图"),)
    explain = [definition(k) for k, _, _ in HEADLINE]
    explain.append(f"环比：与上一周期（{notes.get('previous_label') or '—'}，截至 {notes.get('previous_as_of') or '—'}）比较"
                   + (f"；{notes['previous_reason']}" if notes.get("previous_reason") else "") + "。")
    explain.append(f"同比：与去年同期（{notes.get('last_year_label') or '—'}）比较"
                   + (f"；{notes['last_year_reason']}" if notes.get("last_year_reason") else "") + "。")
    explain.append("比较无法计算时（上期没有数据）写作“无可比数据”，从不写作 0。")
    return Slide("headline", "三率与受理量", f"{figures.scope_name} · {figures.period_label}", tuple(shown),
                 images=images, notes=tuple(explain),
                 caption=f"环比：{notes.get('previous_label') or '无'} · 同比：{notes.get('last_year_label') or '无'}")


def _ranking_link(figures: MeetingFigures, unit: str, code: str) -> Link:
    if unit == "street":
        return Link("received", code)
    return Link("received", figures.scope_code, filters=(("department", code),))


def rankings_slide(figures: MeetingFigures, unit: str, theme: str = "light") -> Slide | None:
    section = figures.get(meeting.RANKINGS)
    if section is None:
        return None
    from .. import rankings

    df = section.frame()
    df = df[df["unit"] == unit].reset_index(drop=True)
    if df.empty:
        return None
    df["ranked"] = df["ranked"].astype(bool)
    for column in ("rank", "rank_change"):  # whole numbers, or None (never 1.0 and NaN)
        df[column] = pd.Series([None if pd.isna(r) else int(r) for r in df[column]], index=df.index, dtype=object)
    red, black = rankings.red_black(df, RANKING_DEPTH)
    notes = section.notes
    columns = ("名次", "名称", "综合得分", "办结率", "按时办结率", "满意率", "环比名次")
    # a list that spans districts names each unit's district
    spans = figures.scope_level in ("all", "city") and df["district"].nunique() > 1

    def rows(part: pd.DataFrame) -> tuple:
        out = []
        for r in part.to_dict("records"):
            link = _ranking_link(figures, unit, r["code"])
            name = r["name"] if not spans or not r.get("district") else f"{r['name']}（{r['district']}）"
            out.append((_cell(r["rank"]), _cell(name, link),
                        _cell(num.score(r["composite"]), link, r["composite"]),
                        _cell(num.rate(r["completion_rate"]), replace(link, figure="completion_rate"), r["completion_rate"]),
                        _cell(num.rate(r["on_time_rate"]), replace(link, figure="on_time_rate"), r["on_time_rate"]),
                        _cell(num.rate(r["satisfaction_rate"]), replace(link, figure="satisfaction_rate"),
                              r["satisfaction_rate"]),
                        _cell(num.rank_change(r["rank_change"]))))
        return tuple(out)

    ranked = df[df["ranked"]]
    apart = len(df) - len(ranked)
    rule = (f"综合得分 = 办结率×{notes['weight_completion']:.2f} + 按时办结率×{notes['weight_on_time']:.2f} + "
            f"满意率×{notes['weight_satisfaction']:.2f}（未定义的率不计，其余权重按比例放大）；"
            f"有效受理少于 {notes['min_appeals']} 件的单位不排名，另列 {apart} 个。")
    tables = []
    for name, part in (("红榜", red), ("黑榜", black)):
        if len(part):
            more = f"（并列共 {len(part)} 个，列出前 {RANKING_DEPTH} 个，全部见附表）" if len(part) > RANKING_DEPTH else ""
            tables.append(Table(name + more, columns, rows(part.head(RANKING_DEPTH))))
    images = ()
    if len(ranked):
        top = ranked.head(12)
        red_codes, black_codes = set(red["code"]), set(black["code"])
        palette = charts.THEMES.get(theme, charts.THEMES["light"])
        colors = [palette["red"] if c in red_codes else palette["black"] if c in black_codes else palette["muted"]
                  for c in top["code"]]
        images = (Image("综合得分", charts.bars(list(top["name"]), [100 * float(v) for v in top["composite"]],
                                             theme, colors=colors, size=(6.4, 6.4),
                                             texts=[num.score(v) for v in top["composite"]]),
                        f"{UNIT_NAMES[unit]}综合得分条形图"),)
    return Slide("rankings", f"红黑榜 · {UNIT_NAMES[unit]}",
                 f"{figures.period_label} · 已排名 {len(ranked)} 个 · 环比：{notes.get('previous_label') or '无'}",
                 tables=tuple(tables), images=images, caption=rule,
                 notes=(rule, definition("completion_rate"), definition("on_time_rate"),
                        definition("satisfaction_rate"),
                        "名次为并列名次（1、2、2、4），按显示的一位小数得分排名；环比名次为与上期名次之差（↑为上升）。",
                        f"权重{'为系统中保存的设置' if notes.get('weights_source') == 'stored' else '为默认值'}"
                        + (f"（{notes.get('weights_changed_by')} 于 {notes.get('weights_changed_at')} 设定）"
                           if notes.get("weights_changed_at") else "") + "。"))


def unit_slides(figures: MeetingFigures, outlines: Mapping[str, object] | None, theme: str = "light") -> list[Slide]:
    kids = figures.get(meeting.CHILDREN)
    if kids is None or not len(kids):
        return []
    level = kids.notes.get("level")
    level_label = LEVEL_LABELS.get(level, "")
    df = kids.frame().sort_values(["received", "code"], ascending=[False, True], kind="stable")
    trends = _frame(figures, meeting.CHILD_TREND)
    cats = _frame(figures, meeting.CHILD_CATEGORIES)
    names = dict(zip(df["code"], df["name"]))
    out = []
    for position, r in enumerate(df.to_dict("records"), start=1):
        code = r["code"]
        shown = tuple(Figure(label, num.write(kind, r[key]), r[key], key, link=Link(key, code))
                      for key, label, kind in UNIT_FIGURES)
        images = []
        if outlines and code in outlines:
            images.append(Image("位置", charts.region_map(outlines, code, theme, names), f"{r['name']}位置图"))
        if trends is not None:
            t = trends[trends["code"] == code]
            if len(t):
                images.append(Image("每日受理与办结", charts.trend(t["day"], t["received"], t["closed"], theme,
                                                           size=(7.2, 4.2)), f"{r['name']}每日受理与办结"))
        if cats is not None:
            c = cats[cats["code"] == code]
            if len(c):
                images.append(Image("主要诉求类别", charts.bars(list(c["category"]), list(c["received"]), theme,
                                                          size=(6.4, 4.2)), f"{r['name']}主要诉求类别"))
        top = ()
        if cats is not None:
            c = cats[cats["code"] == code]
            top = (Table("主要诉求类别", ("类别", "受理"), tuple(
                (_cell(cat, Link("received", code, filters=(("category", cat),))),
                 _cell(num.count(n), Link("received", code, filters=(("category", cat),)), int(n)))
                for cat, n in zip(c["category"], c["received"]))),) if len(c) else ()
        out.append(Slide("unit", f"{r['name']}", f"{level_label} {position} / {len(df)} · {figures.period_label}",
                         shown, top, tuple(images),
                         notes=(f"每万人诉求量 {num.per_10k(r['per_10k'])}（常住人口 {num.count(r['population'])}）。",
                                *(definition(k) for k, _, _ in UNIT_FIGURES))))
    return out


def hotspots_slide(figures: MeetingFigures) -> Slide:
    hot, rep = figures.section(meeting.HOTSPOTS), figures.section(meeting.REPEATS)
    days = hot.notes.get("window_days")
    hdf, rdf = hot.frame(), rep.frame()
    hot_rows = []
    for r in hdf.head(LIST_ROWS).to_dict("records"):
        link = Link("valid", r["region_code"], period=(("period", "custom"),
                                                       ("from", r["window_start"].isoformat(timespec="seconds")),
                                                       ("to", figures.as_of.isoformat(timespec="seconds"))),
                    filters=(("category", r["category"]),))
        hot_rows.append((_cell(r["name"], link), _cell(r["category"]), _cell(num.count(r["observed"]), link, r["observed"]),
                         _cell(f"{r['ratio']:,.1f} 倍" if r["ratio"] is not None and not pd.isna(r["ratio"]) else "—")))
    rep_rows = []
    for r in rdf.head(LIST_ROWS).to_dict("records"):
        link = Link("received", figures.scope_code, filters=(("cluster", r["cluster_id"]),))
        rep_rows.append((_cell(r["grid_name"]), _cell(r["category"]), _cell(num.count(r["count"]), link, r["count"]),
                         _cell(f"{_month_day(r['first_at'])} 至 {_month_day(r['last_at'])}")))
    return Slide(
        "hotspots", "热点与重复诉求", f"新发热点：截至时点前 {days} 天 · 重复诉求：{figures.period_label}",
        figures=(Figure("新发热点", num.count(len(hdf)), len(hdf)), Figure("重复诉求簇", num.count(len(rdf)), len(rdf))),
        tables=(Table("新发热点（网格 × 类别）", ("网格", "类别", "近期件数", "高于基线"), tuple(hot_rows),
                      "" if hot_rows else "没有显著上升的网格与类别"),
                Table("重复诉求（同一地点同类诉求反复出现）", ("网格", "类别", "件数", "时间"), tuple(rep_rows),
                      "" if rep_rows else "该时段没有重复诉求簇")),
        notes=(f"新发热点：截至时点前 {days} 天内，网格 × 类别的件数显著高于其自身基线（多重检验校正后）。",
               "重复诉求：同一地点、同一类别的诉求在 30 天内反复出现（至少 3 件），按网格列出，不含地址与诉求人。"),
    )


def overdue_slide(figures: MeetingFigures) -> Slide:
    over = figures.section(meeting.OVERDUE)
    sup = figures.section(meeting.SUPERVISION_STREETS)
    stock = over.notes.get("stock_overdue")
    cohort = figures.headline("overdue_open")["value"]
    all_time = (("period", "all"),)
    shown = (
        Figure("超期 · 全部在办", num.count(stock), stock, "overdue_open", link=Link("overdue_open", figures.scope_code, all_time)),
        Figure("超期（本期受理）", num.count(cohort), cohort, "overdue_open", link=Link("overdue_open", figures.scope_code)),
        Figure("在办督办", num.count(sup.notes.get("open_now")), sup.notes.get("open_now"),
               link=Link("supervision", figures.scope_code, page="alerts")),
        Figure("其中逾期未答复", num.count(sup.notes.get("open_overdue")), sup.notes.get("open_overdue"),
               link=Link("supervision", figures.scope_code, page="alerts")),
    )
    odf = over.frame()
    over_rows = tuple((_cell(r["appeal_id"], Link("case", r["appeal_id"], page="case")), _cell(r["category"]),
                       _cell(r["street"]), _cell(r["department"]), _cell(r["overdue"]))
                      for r in odf.head(LIST_ROWS).to_dict("records"))
    sdf = sup.frame()
    sup_rows = tuple((_cell(r["name"] or r["code"]), _cell(num.count(r["supervised"]), None, r["supervised"]),
                      _cell(num.count(r["open"]), None, r["open"]), _cell(num.rate(r["on_time_rate"]), None, r["on_time_rate"]))
                     for r in sdf.head(LIST_ROWS).to_dict("records"))
    return Slide(
        "overdue", "超期与督办", f"截至 {figures.as_of:%Y-%m-%d %H:%M}", shown,
        (Table("最近超期的在办工单", ("工单号", "类别", "街道", "承办单位", "超期"), over_rows,
               "" if over_rows else "截至时点没有超期工单"),
         Table(f"{figures.period_label}发起的督办（按街道）", ("街道", "督办", "未答复", "按时答复率"), sup_rows,
               "" if sup_rows else "该时段没有发起督办")),
        notes=("超期 · 全部在办：截至时点仍在办且已过办理时限的诉求，不限受理时间。",
               definition("overdue_open"),
               "在办督办：截至时点尚未答复的督办，不限发起时间；逾期未答复：已过答复期限仍未答复。",
               "按时答复率：按时答复的督办 ÷ 应答复的督办。"),
    )


# -------------------------------------------------------------- appendix ---

APPENDIX_CHILD_COLUMNS = (("name", "名称", None), ("received", "受理", "count"), ("valid", "有效受理", "count"),
                          ("closed", "办结", "count"), ("completion_rate", "办结率", "rate"),
                          ("on_time_rate", "按时办结率", "rate"), ("satisfaction_rate", "满意率", "rate"),
                          ("overdue_open", "超期（本期受理）", "count"), ("per_10k", "每万人", "per_10k"))
APPENDIX_RANK_COLUMNS = (("rank", "名次", None), ("name", "名称", None), ("district", "所属区县", None),
                         ("valid", "有效受理", "count"), ("composite", "综合得分", "score"),
                         ("completion_rate", "办结率", "rate"), ("on_time_rate", "按时办结率", "rate"),
                         ("satisfaction_rate", "满意率", "rate"), ("rank_change", "环比名次", "move"))
APPENDIX_ROWS = 14


def _write_cell(kind, value) -> str:
    if kind is None:
        return _text(value)
    if kind == "score":
        return num.score(value)
    if kind == "move":
        return num.rank_change(value)
    return num.write(kind, value)


def appendix_tables(figures: MeetingFigures) -> list[tuple[str, pd.DataFrame, pd.DataFrame]]:
    """The appendix: (title, the table as written, the table's values) for every unit below the scope, the
    headline with 环比 and 同比, and each league of the 红黑榜 in full."""
    out = []
    head_rows = []
    for key, label, kind in HEADLINE:
        row = figures.headline(key)
        head_rows.append({"指标": label, "本期": num.write(kind, row["value"]), "上期": num.write(kind, row["previous"]),
                          "环比": num.change(kind, row["value"], row["previous"]),
                          "去年同期": num.write(kind, row["last_year"]),
                          "同比": num.change(kind, row["value"], row["last_year"])})
    values = pd.DataFrame([{"指标": label, **{k: figures.headline(key)[k] for k in ("value", "previous", "last_year")}}
                           for key, label, _ in HEADLINE]).rename(columns={"value": "本期", "previous": "上期",
                                                                           "last_year": "去年同期"})
    out.append((f"总体指标 · {figures.scope_name}", pd.DataFrame(head_rows), values))
    kids = figures.get(meeting.CHILDREN)
    if kids is not None and len(kids):
        df = kids.frame().sort_values("code", kind="stable")
        level = LEVEL_LABELS.get(kids.notes.get("level"), "下级单位")
        written = pd.DataFrame({label: [_write_cell(kind, v) for v in df[key]] for key, label, kind in APPENDIX_CHILD_COLUMNS})
        raw = pd.DataFrame({label: df[key].tolist() for key, label, _ in APPENDIX_CHILD_COLUMNS})
        out.append((f"各{level}指标", written, raw))
    ranks = figures.get(meeting.RANKINGS)
    if ranks is not None:
        df = ranks.frame()
        for unit in ("street", "department"):
            part = df[df["unit"] == unit]
            if part.empty:
                continue
            written = pd.DataFrame({label: [_write_cell(kind, v) for v in part[key]]
                                    for key, label, kind in APPENDIX_RANK_COLUMNS})
            raw = pd.DataFrame({label: part[key].tolist() for key, label, _ in APPENDIX_RANK_COLUMNS})
            out.append((f"红黑榜 · {UNIT_NAMES[unit]}（全部）", written, raw))
    return out


def appendix(figures: MeetingFigures) -> list[Slide]:
    """The appendix as slides, ``APPENDIX_ROWS`` rows each."""
    out = []
    for title, written, _ in appendix_tables(figures):
        pages = max(1, -(-len(written) // APPENDIX_ROWS))
        for page in range(pages):
            chunk = written.iloc[page * APPENDIX_ROWS:(page + 1) * APPENDIX_ROWS]
            rows = tuple(tuple(_cell(v) for v in row) for row in chunk.itertuples(index=False))
            out.append(Slide("appendix", f"附表 · {title}", f"{page + 1} / {pages}" if pages > 1 else figures.period_label,
                             tables=(Table(title, tuple(written.columns), rows),),
                             notes=("附表列出每个单位的全部数字，与 Excel 附表相同。",)))
    return out


# ----------------------------------------------------------------- deck ---

def deck(figures: MeetingFigures, outlines: Mapping[str, object] | None = None, *, theme: str = "light",
         title: str | None = None, with_appendix: bool = False) -> Deck:
    """The slides of the meeting (see the module docstring). ``outlines``: code → shapely geometry of the
    units below the scope, for their maps (None: no maps). ``title``: the cover's (default: the snapshot's
    name as offered, "10月讲评 · 铁东区")."""
    theme = theme if theme in charts.THEMES else "light"
    slides = [cover(figures, title), headline(figures, theme)]
    slides += [s for s in (rankings_slide(figures, "street", theme), rankings_slide(figures, "department", theme)) if s]
    slides += unit_slides(figures, outlines, theme)
    slides += [hotspots_slide(figures), overdue_slide(figures)]
    if with_appendix:
        slides += appendix(figures)
    return Deck(title=slides[0].title, scope_code=figures.scope_code, scope_name=figures.scope_name,
                period_label=figures.period_label, period_start=figures.period_start, period_end=figures.period_end,
                as_of=figures.as_of, slides=tuple(slides))
