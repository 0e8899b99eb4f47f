"""How numbers, durations and times are written on screen."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd

from data_access import deadlines
from data_access.vocab import CHANNELS, label

WEEKDAYS = "一二三四五六日"


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def count(value) -> str:
    """A count, whole, with separators; an average of counts (上级平均 1,793.5) is rounded, not cut."""
    return "—" if _missing(value) else f"{round(float(value)):,}"


def rate(value, digits: int = 1) -> str:
    """A fraction as a percentage; '—' when there is no denominator."""
    return "—" if _missing(value) else f"{100 * float(value):.{digits}f}%"


def per_10k(value) -> str:
    return "—" if _missing(value) else f"{float(value):,.1f}"


def hours(value) -> str:
    """A calendar duration in hours as 天/小时 (the time since an appeal was received; how late an appeal is
    is ``duration``, in its basis)."""
    if _missing(value):
        return "—"
    h = float(value)
    if h >= 48:
        return f"{h / 24:,.1f} 天"
    return f"{h:,.1f} 小时"


def decimal(value, digits: int = 1) -> str:
    """A measured number (an expected count, a ratio) with thousands separators and ``digits`` decimals."""
    return "—" if _missing(value) else f"{float(value):,.{digits}f}"


def styled(table: pd.DataFrame, formats: dict):
    """A table for ``st.dataframe`` whose cells read as everywhere else: each column named in ``formats``
    written by its formatter (``count``, ``rate``, ``per_10k``, ``decimal``), a missing value as "—" (never
    "None"). The cells stay numbers, so a click on a column header still sorts by value."""
    return table.style.format({c: f for c, f in formats.items() if c in table.columns}, na_rep="—")


def stamp(value: dt.datetime | None, seconds: bool = False) -> str:
    return "—" if value is None else value.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def stamp_on(value: dt.datetime | None, today: dt.date, seconds: bool = False) -> str:
    """A time of ``today`` as its clock time alone (the date is on screen already); another day's in full."""
    if value is None or value.date() != today:
        return stamp(value, seconds)
    return value.strftime("%H:%M:%S" if seconds else "%H:%M")


def date_cn(value: dt.date) -> str:
    return f"{value:%Y年%m月%d日} 星期{WEEKDAYS[value.weekday()]}"


def remaining(row) -> str:
    """Time left to the deadline, or past it, in the appeal's basis (a row of ``deadlines.annotate``):
    "剩余 2 个工作日 3 小时", "超期 5 小时 20 分钟" (``deadlines.remaining_text``, the rule of every screen and file)."""
    return deadlines.remaining_text(row)


def duration(hours, basis: str) -> str:
    """A length of time in an appeal's basis: "3 个工作日 4 小时", "26 小时" (``deadlines.duration_text``)."""
    return deadlines.duration_text(hours, basis)


def unique_labels(table: pd.DataFrame) -> dict[str, str]:
    """Code → name, with the code added to names that more than one code shares (two
    communities' 居委会 may have the same name). A select box reports the label chosen,
    so two equal labels would be one choice."""
    counts = table["name"].value_counts()
    return {code: f"{name}（{code}）" if counts.get(name, 0) > 1 else str(name)
            for code, name in zip(table["code"], table["name"])}


def channel_names(channels) -> list[str]:
    """How each channel is called on screen: our name for our codes, the source's own word for the
    rest (docs/import.md); a name two channels would share gets the channel added, as in
    ``unique_labels``."""
    channels = list(channels)
    names = [label(CHANNELS, c) for c in channels]
    shared = {n for n in names if names.count(n) > 1}
    return [f"{n}（{c}）" if n in shared else n for n, c in zip(names, channels)]


def distinct_names(names, contexts, keys=None) -> list[str]:
    """Names as a list spanning several parents must show them: a name that more than one entity shares
    gets its parents, coarsest first, as far down as it takes to tell the entities apart
    ("北城社区第6网格（铁东区）", "湖南街道办事处（铁西区·湖南街道）"). ``contexts``: for each entry, its
    ancestors' names coarsest first (None where unknown); ``keys``: entries with the same key are the same
    entity (a grid listed once per category), which need nothing to tell them apart."""
    names = ["" if n is None else str(n) for n in names]
    contexts = [tuple(c for c in ctx if c) for ctx in contexts]
    keys = list(range(len(names))) if keys is None else list(keys)
    out = list(names)
    groups: dict[str, dict] = {}
    for i, name in enumerate(names):
        groups.setdefault(name, {}).setdefault(keys[i], i)  # one representative entry per entity
    for entities in groups.values():
        if len(entities) < 2:
            continue
        rows = list(entities.values())
        depth = max((len(contexts[i]) for i in rows), default=0)
        labels: dict[int, tuple] = {}
        for d in range(1, depth + 1):
            labels = {i: contexts[i][:d] for i in rows}
            if len(set(labels.values())) == len(rows):
                break
        shown = {keys[i]: labels.get(i) for i in rows}
        for j, name in enumerate(names):
            if keys[j] in shown and name == names[rows[0]] and shown[keys[j]]:
                out[j] = f"{name}（{'·'.join(shown[keys[j]])}）"
    return out
