"""From raw records to our appeal fields: parse, translate, check.

Each record comes out either *quarantined*, with a reason (it cannot be an
appeal: no id, no readable creation time, a status the mapping does not know,
a duplicate id in the same file, a malformed line), or *importable*, possibly
with data-quality *warnings* (kinds listed in ``WARNING_KINDS``) that are
kept on the row in ``quality_flags``. Nothing is dropped silently.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..vocab import CHANNELS, SATISFACTION, STATUSES
from .mapping import Mapping
from .readers import MALFORMED, MAX_FIELD, TOO_LONG, RawTable
from .times import EARLIEST, parse_times

QUARANTINE_REASONS = {
    "field_too_long": f"a field longer than {MAX_FIELD:,} characters (often an unclosed quote)",
    "malformed_row": "the line has the wrong number of fields",
    "missing_appeal_id": "no appeal id",
    "appeal_id_too_long": "the appeal id is longer than 64 characters",
    "duplicate_appeal_id": "the appeal id occurs earlier in the same file",
    "missing_created_at": "no creation time",
    "bad_created_at": "the creation time cannot be read, or is before 1990",
    "created_at_out_of_range": "the creation time is before 1900 or after 2199 (a placeholder such as 9999-12-31)",
    "unmapped_status": "a status the mapping does not translate",
}

WARNING_KINDS = {
    "no_location": "no coordinates",
    "bad_coordinates": "coordinates unreadable, out of range or 0,0",
    "outside_regions": "the point lies outside every loaded region",
    "no_regions_loaded": "no boundaries are loaded, so the point could not be placed",
    "default_point": "many appeals on one identical point (a geocoder's fallback)",
    "missing_deadline": "no deadline",
    "bad_deadline_at": "the deadline cannot be read",
    "bad_closed_at": "the closing time cannot be read",
    "deadline_at_out_of_range": "a deadline before 1900 or after 2199 (9999-12-31: 'no deadline'); stored as none",
    "closed_at_out_of_range": "a closing time before 1900 or after 2199; stored empty",
    "closed_before_created": "closed before it was created",
    "closed_without_time": "closed or cancelled, but no closing time",
    "open_with_closed_time": "open, yet it has a closing time",
    "created_in_future": "created more than a day after the import",
    "ambiguous_local_time": "a local time the clocks passed twice (daylight saving ended); read as the earlier",
    "nonexistent_local_time": "a local time the clocks skipped (daylight saving began); moved forward by the gap",
    "missing_category": "no category (stored as 未分类)",
    "unmapped_channel": "a channel word the mapping does not group (kept as the source's own word)",
    "unmapped_satisfaction": "a satisfaction answer the mapping does not translate (stored as unrated)",
}

UNCATEGORISED = "未分类"
# a source's channel word is kept whole up to this many characters as its label, and as
# the channel itself (when no mapping groups it) up to the channel column's width
CHANNEL_LABEL_CHARS = 64
CHANNEL_CHARS = 32


@dataclass
class Normalized:
    frame: pd.DataFrame  # our fields, one row per record, same order as the file
    reason: pd.Series  # quarantine reason key, or None
    detail: pd.Series  # a sentence about the reason
    warnings: dict[str, pd.Series]  # kind -> boolean Series
    layouts: dict[str, list[str]] = field(default_factory=dict)  # time field -> the layouts it was read with
    undecided: list[str] = field(default_factory=list)  # time fields read month first for want of a clue


def normalize(table: RawTable, mapping: Mapping, *, city_tz: str, now: dt.datetime) -> Normalized:
    n = len(table.records)
    markers = [MALFORMED, TOO_LONG]
    raw = pd.DataFrame.from_records(table.records, columns=[*table.columns, *markers]) if n else pd.DataFrame(
        columns=[*table.columns, *markers])
    raw.index = range(n)
    reason = pd.Series([None] * n, index=raw.index, dtype=object)
    detail = pd.Series([None] * n, index=raw.index, dtype=object)
    warns: dict[str, pd.Series] = {}
    out = pd.DataFrame(index=raw.index)

    def text(field: str) -> pd.Series | None:
        column = mapping.column(field)
        if column is None:
            return None
        values = raw[column] if column in raw else pd.Series([""] * n, index=raw.index)
        return values.map(lambda v: "" if _blank(v) else str(v).strip()).astype(object)

    def quarantine(mask: pd.Series, key: str, why) -> None:
        mask = mask & reason.isna()
        reason[mask] = key
        detail[mask] = why[mask] if isinstance(why, pd.Series) else why

    def warn(mask: pd.Series, kind: str) -> None:
        warns[kind] = warns.get(kind, pd.Series(False, index=raw.index)) | mask.fillna(False).astype(bool)

    too_long = raw[TOO_LONG].notna() & (raw[TOO_LONG] != "")
    quarantine(too_long, "field_too_long", raw[TOO_LONG].astype(str))
    malformed = raw[MALFORMED].notna() & (raw[MALFORMED] != "")
    quarantine(malformed, "malformed_row", raw[MALFORMED].astype(str))

    ids = text("appeal_id")
    quarantine(ids == "", "missing_appeal_id", "no appeal id")
    quarantine(ids.str.len() > 64, "appeal_id_too_long", "the appeal id is longer than 64 characters")
    dup = ids.duplicated(keep="first") & (ids != "") & reason.isna()
    first_row = {}
    for i, v in ids.items():
        first_row.setdefault(v, table.rows[i] if table.rows else i)
    quarantine(dup, "duplicate_appeal_id", ids.map(lambda v: f"appeal id {v} already at row {first_row[v]}"))
    out["appeal_id"] = ids

    created_raw = _raw(raw, mapping.column("created_at"), n)
    read = parse_times(created_raw, fmt=mapping.datetime_format, source_tz=mapping.timezone, city_tz=city_tz)
    created = read.values
    layouts, undecided = {}, []
    _note_layouts("created_at", read, layouts, undecided)
    warn(read.ambiguous, "ambiguous_local_time")
    warn(read.nonexistent, "nonexistent_local_time")
    empty_created = created_raw.map(_blank)
    quarantine(empty_created, "missing_created_at", "no creation time")
    quarantine(read.beyond, "created_at_out_of_range", created_raw.map(
        lambda v: f"creation time {str(v)[:40]!r} is before 1900 or after 2199: a placeholder, not a time"))
    bad = created.isna() | (created < EARLIEST)
    quarantine(bad, "bad_created_at", created_raw.map(lambda v: _unreadable("creation time", v, read)))
    out["created_at"] = created
    warn(created > pd.Timestamp(now) + pd.Timedelta(days=1), "created_in_future")

    for field in ("deadline_at", "closed_at"):
        values = _raw(raw, mapping.column(field), n)
        read = parse_times(values, fmt=mapping.datetime_format, source_tz=mapping.timezone, city_tz=city_tz)
        parsed = read.values
        _note_layouts(field, read, layouts, undecided)
        warn(read.ambiguous, "ambiguous_local_time")
        warn(read.nonexistent, "nonexistent_local_time")
        given = ~values.map(_blank).astype(bool)
        warn(read.beyond, f"{field}_out_of_range")
        warn(given & parsed.isna() & ~read.beyond, f"bad_{field}")
        out[field] = parsed
    warn(out["deadline_at"].isna(), "missing_deadline")

    statuses = text("status")
    if statuses is None:
        out["status"] = np.where(out["closed_at"].notna(), "closed", "open")
    else:
        translated = statuses.map(lambda v: _translate(v, mapping.values.get("status", {}), STATUSES))
        quarantine(translated.isna(), "unmapped_status",
                   statuses.map(lambda v: f"status {v!r} is not in [values.status]" if v else "no status"))
        out["status"] = translated
    finished = out["status"].isin(["closed", "cancelled"])
    warn(finished & out["closed_at"].isna(), "closed_without_time")
    warn((out["status"] == "open") & out["closed_at"].notna(), "open_with_closed_time")
    warn(out["closed_at"] < out["created_at"], "closed_before_created")

    channels = text("channel")
    if channels is None:
        out["channel"] = "other"
        out["channel_label"] = None
    else:
        grouped = channels.map(lambda v: _translate(v, mapping.values.get("channel", {}), CHANNELS, names=True))
        unmapped = grouped.isna() & (channels != "")
        warn(unmapped, "unmapped_channel")
        out["channel"] = grouped.where(~unmapped, channels.map(lambda v: _cut(v, CHANNEL_CHARS))).fillna("other")
        out["channel_label"] = channels.map(lambda v: _cut(v, CHANNEL_LABEL_CHARS) or None)

    answers = text("satisfaction")
    if answers is None:
        out["satisfaction"] = None
    else:
        translated = answers.map(lambda v: _translate(v, mapping.values.get("satisfaction", {}), SATISFACTION))
        warn(translated.isna() & (answers != ""), "unmapped_satisfaction")
        out["satisfaction"] = translated

    category = text("category")
    category = category if category is not None else pd.Series([""] * n, index=raw.index)
    warn(category == "", "missing_category")
    out["category"] = category.where(category != "", UNCATEGORISED).str.slice(0, 64)
    sub = text("subcategory")
    out["subcategory"] = _nullable(sub, 100, raw.index)
    out["address"] = _nullable(text("address"), 255, raw.index)
    out["summary"] = _nullable(text("summary"), None, raw.index)
    departments = text("department")
    out["department"] = _nullable(departments, 100, raw.index)
    out["department_code"] = out["department"].map(department_code)

    lon = _numbers(_raw(raw, mapping.column("lon"), n))
    lat = _numbers(_raw(raw, mapping.column("lat"), n))
    lon_given = ~_raw(raw, mapping.column("lon"), n).map(_blank).astype(bool)
    lat_given = ~_raw(raw, mapping.column("lat"), n).map(_blank).astype(bool)
    unreadable = (lon_given | lat_given) & (lon.isna() | lat.isna())
    null_island = (lon == 0) & (lat == 0)
    off_range = pd.Series(False, index=raw.index)
    if mapping.crs in ("wgs84", "gcj02", "bd09"):
        off_range = (lon.abs() > 180) | (lat.abs() > 90)
    bad_point = unreadable | null_island | off_range
    warn(bad_point, "bad_coordinates")
    warn(~lon_given & ~lat_given, "no_location")
    keep = ~bad_point & lon.notna() & lat.notna()
    out["lon"] = lon.where(keep)
    out["lat"] = lat.where(keep)
    return Normalized(out, reason, detail, warns, layouts, undecided)


def _note_layouts(name: str, read, layouts: dict, undecided: list) -> None:
    if read.layouts:
        layouts[name] = list(read.layouts)
    if read.undecided:
        undecided.append(name)


def _unreadable(what: str, value, read) -> str:
    """Why a time cannot be read; names the column's day/month order when the value reads only the other way."""
    text = f"{what} {str(value)[:40]!r} cannot be read"
    order = next((f for f in read.layouts if f.startswith(("%m/%d", "%d/%m", "%d.%m"))), None)
    if order is not None:
        first = "month" if order.startswith("%m") else "day"
        text += f" as the column is read ({order}, {first} first)"
    return text


def _blank(value) -> bool:
    """Empty in any of the ways a source can say so: None, NaN, NA, NaT, or only spaces."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float):
        return np.isnan(value)
    return isinstance(value, str) and not value.strip()


def _raw(raw: pd.DataFrame, column: str | None, n: int) -> pd.Series:
    """The source column as Python objects, None where blank."""
    if column is None or column not in raw:
        return pd.Series([None] * n, index=raw.index, dtype=object)
    return pd.Series([None if _blank(v) else v for v in raw[column]], index=raw.index, dtype=object)


def _numbers(values: pd.Series) -> pd.Series:
    cleaned = [None if v is None else str(v).strip().replace(",", "") for v in values]
    return pd.to_numeric(pd.Series(cleaned, index=values.index, dtype=object), errors="coerce").astype(float)


def _nullable(values: pd.Series | None, limit: int | None, index=None) -> pd.Series:
    if values is None:
        return pd.Series([None] * len(index), index=index, dtype=object)
    cut = values.str.slice(0, limit) if limit else values
    return cut.where(cut != "", None)


def _translate(value: str, table: dict[str, str], ours: dict, *, names: bool = False) -> str | None:
    """Their word to our code: the mapping first (exact, then ignoring case), then our own codes
    (and, with ``names``, our own Chinese names: "8890热线" is hotline)."""
    if value == "":
        return None
    if value in table:
        return table[value]
    folded = {k.casefold(): v for k, v in table.items()}
    if value.casefold() in folded:
        return folded[value.casefold()]
    if value.lower() in ours:
        return value.lower()
    if names:
        return next((code for code, name in ours.items() if name == value), None)
    return None


def _cut(value: str, limit: int) -> str:
    """At most ``limit`` characters (code points, as the databases count them), no trailing space."""
    return value[:limit].rstrip()


def department_code(name: str | None) -> str | None:
    """A department's code from its name in the source: the name itself, or a stable short hash."""
    if name is None:
        return None
    if len(name) <= 32:
        return name
    return name[:20] + "~" + hashlib.sha1(name.encode()).hexdigest()[:11]
