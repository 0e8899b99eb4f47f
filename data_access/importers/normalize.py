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
from .readers import MAX_FIELD, RawBatch
from .times import EARLIEST, TimeReading, parse_times

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
    frame: pd.DataFrame  # our fields, one row per record, same order as the batch
    reason: pd.Series  # quarantine reason key, or None
    detail: pd.Series  # a sentence about the reason
    warnings: dict[str, pd.Series]  # kind -> boolean Series
    layouts: dict[str, list[str]] = field(default_factory=dict)  # time field -> the layouts it was read with
    undecided: list[str] = field(default_factory=list)  # time fields read month first for want of a clue
    layout_counts: dict[str, dict[str, int]] = field(default_factory=dict)  # time field -> layout -> values read


TIME_FIELDS = ("created_at", "deadline_at", "closed_at")


class IdTracker:
    """Which records repeat an appeal id met at an earlier record, batch after batch, in file order.

    ``repeated`` (sorted 64-bit hashes of the ids that occur more than once in
    the file, from a first pass) limits the memory to those ids: only they are
    remembered with the row they first appeared at. Without it every id is.
    A hash collision only makes an id remembered; the ids themselves decide.
    """

    def __init__(self, repeated: np.ndarray | None = None):
        self.repeated = repeated
        self.first: dict[str, int] = {}

    def earlier(self, ids: list[str], rows: list[int]) -> pd.Series:
        """For each record, the row where its id first appeared, if earlier; else None."""
        out = [None] * len(ids)
        if self.repeated is None:
            positions = range(len(ids))
        elif len(self.repeated) == 0 or not ids:
            positions = ()
        else:
            positions = np.flatnonzero(np.isin(hash_ids(ids), self.repeated)).tolist()
        first = self.first
        for i in positions:
            v = ids[i]
            if v in first:
                out[i] = first[v]
            else:
                first[v] = rows[i]
        return pd.Series(out, dtype=object)


def hash_ids(ids: list[str]) -> np.ndarray:
    return pd.util.hash_array(np.asarray(ids, dtype=object))


def appeal_ids(batch: RawBatch, mapping: Mapping) -> list[str]:
    """The appeal id of each record, as text ("" when blank)."""
    return _texts(batch.column(mapping.column("appeal_id")), len(batch))


def surely_quarantined(batch: RawBatch, mapping: Mapping, ids: list[str],
                       created: np.ndarray | None = None) -> np.ndarray:
    """The records quarantined whatever the rest of the file says: a field too long, a malformed line,
    no id or one too long, no creation time, a status the mapping does not translate."""
    n = len(batch)
    out = np.zeros(n, dtype=bool)
    out[[i for marks in (batch.too_long, batch.malformed) for i, m in marks.items() if m]] = True
    out |= np.fromiter((v == "" or len(v) > 64 for v in ids), dtype=bool, count=n)
    out |= ~(_given(raw_times(batch, mapping, "created_at")) if created is None else created)
    if mapping.column("status") is not None:
        statuses = pd.Series(_texts(batch.column(mapping.column("status")), n), dtype=object)
        out |= _each(statuses, _Translator(mapping.values.get("status", {}), STATUSES)).isna().to_numpy()
    return out


def raw_times(batch: RawBatch, mapping: Mapping, name: str) -> pd.Series:
    """A time column's values as the source gives them (None where the column is absent)."""
    values = batch.column(mapping.column(name))
    return pd.Series([None] * len(batch) if values is None else values, dtype=object)


def _given(values: pd.Series) -> np.ndarray:
    return np.fromiter((not _blank(v) for v in values.tolist()), dtype=bool, count=len(values))


def normalize(batch: RawBatch, mapping: Mapping, *, city_tz: str, now: dt.datetime,
              readings: dict[str, TimeReading] | None = None, earlier: pd.Series | None = None) -> Normalized:
    """Our fields for a batch of records, with the quarantine reasons and warnings.

    ``readings`` (how each time column is read) and ``earlier`` (for each
    record, the row of an earlier record with its id) carry what the whole
    file decides; without them the batch is taken as the whole file.
    """
    n = len(batch)
    index = pd.RangeIndex(n)
    reason = pd.Series([None] * n, index=index, dtype=object)
    detail = pd.Series([None] * n, index=index, dtype=object)
    warns: dict[str, pd.Series] = {}
    out = pd.DataFrame(index=index)

    def text(field: str) -> pd.Series | None:
        column = mapping.column(field)
        if column is None:
            return None
        return pd.Series(_texts(batch.column(column), n), index=index, dtype=object)

    def quarantine(mask: pd.Series, key: str, why) -> None:
        mask = mask & reason.isna()
        if not mask.any():
            return
        where = mask.to_numpy().nonzero()[0]
        reason.iloc[where] = key
        detail.iloc[where] = [why(i) for i in where] if callable(why) else why

    def warn(mask: pd.Series, kind: str) -> None:
        mask = mask.fillna(False).astype(bool)
        warns[kind] = warns[kind] | mask if kind in warns else mask

    def marked(marks: dict[int, str]) -> pd.Series:
        mask = np.zeros(n, dtype=bool)
        mask[[i for i, m in marks.items() if m]] = True
        return pd.Series(mask, index=index)

    quarantine(marked(batch.too_long), "field_too_long", lambda i: batch.too_long[i])
    quarantine(marked(batch.malformed), "malformed_row", lambda i: batch.malformed[i])

    ids = text("appeal_id")
    quarantine(ids == "", "missing_appeal_id", "no appeal id")
    quarantine(pd.Series([len(v) > 64 for v in ids], index=index), "appeal_id_too_long",
               "the appeal id is longer than 64 characters")
    if earlier is None:
        earlier = IdTracker().earlier(ids.tolist(), batch.rows)
    earlier.index = index
    dup = earlier.notna() & (ids != "") & reason.isna()
    quarantine(dup, "duplicate_appeal_id", lambda i: f"appeal id {ids.iat[i]} already at row {earlier.iat[i]}")
    out["appeal_id"] = ids

    readings = readings or {}
    layouts, counts, undecided = {}, {}, []
    created_raw = raw_times(batch, mapping, "created_at")
    read = parse_times(created_raw, fmt=mapping.datetime_format, source_tz=mapping.timezone, city_tz=city_tz,
                       reading=readings.get("created_at"))
    created = read.values
    _note_layouts("created_at", read, layouts, counts, undecided)
    warn(read.ambiguous, "ambiguous_local_time")
    warn(read.nonexistent, "nonexistent_local_time")
    quarantine(~read.given, "missing_created_at", "no creation time")
    quarantine(read.beyond, "created_at_out_of_range", lambda i: (
        f"creation time {str(created_raw.iat[i])[:40]!r} is before 1900 or after 2199: a placeholder, not a time"))
    bad = created.isna() | (created < EARLIEST)
    quarantine(bad, "bad_created_at", lambda i: _unreadable("creation time", created_raw.iat[i], read))
    out["created_at"] = created
    warn(created > pd.Timestamp(now) + pd.Timedelta(days=1), "created_in_future")

    for field in ("deadline_at", "closed_at"):
        values = raw_times(batch, mapping, field)
        read = parse_times(values, fmt=mapping.datetime_format, source_tz=mapping.timezone, city_tz=city_tz,
                           reading=readings.get(field))
        parsed = read.values
        _note_layouts(field, read, layouts, counts, undecided)
        warn(read.ambiguous, "ambiguous_local_time")
        warn(read.nonexistent, "nonexistent_local_time")
        given = read.given
        warn(read.beyond, f"{field}_out_of_range")
        warn(given & parsed.isna() & ~read.beyond, f"bad_{field}")
        out[field] = parsed
    warn(out["deadline_at"].isna(), "missing_deadline")

    statuses = text("status")
    if statuses is None:
        out["status"] = np.where(out["closed_at"].notna(), "closed", "open")
    else:
        translated = _each(statuses, _Translator(mapping.values.get("status", {}), STATUSES))
        quarantine(translated.isna(), "unmapped_status", lambda i: (
            f"status {statuses.iat[i]!r} is not in [values.status]" if statuses.iat[i] else "no status"))
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
        grouped = _each(channels, _Translator(mapping.values.get("channel", {}), CHANNELS, names=True))
        unmapped = grouped.isna() & (channels != "")
        warn(unmapped, "unmapped_channel")
        own = _each(channels, lambda v: _cut(v, CHANNEL_CHARS))
        out["channel"] = grouped.where(~unmapped, own).fillna("other")
        out["channel_label"] = _each(channels, lambda v: _cut(v, CHANNEL_LABEL_CHARS) or None)

    answers = text("satisfaction")
    if answers is None:
        out["satisfaction"] = None
    else:
        translated = _each(answers, _Translator(mapping.values.get("satisfaction", {}), SATISFACTION))
        warn(translated.isna() & (answers != ""), "unmapped_satisfaction")
        out["satisfaction"] = translated

    category = text("category")
    category = category if category is not None else pd.Series([""] * n, index=index, dtype=object)
    warn(category == "", "missing_category")
    out["category"] = _each(category, lambda v: (v or UNCATEGORISED)[:64])
    out["subcategory"] = _nullable(batch, mapping.column("subcategory"), 100)
    out["address"] = _nullable(batch, mapping.column("address"), 255)
    out["summary"] = _nullable(batch, mapping.column("summary"), None)
    out["department"] = _nullable(batch, mapping.column("department"), 100)
    out["department_code"] = _each(out["department"], department_code)

    lon, lat, bad_point, no_location = coordinates(batch, mapping)
    warn(bad_point, "bad_coordinates")
    warn(no_location, "no_location")
    out["lon"] = lon
    out["lat"] = lat
    return Normalized(out, reason, detail, warns, layouts, undecided, counts)


def coordinates(batch: RawBatch, mapping: Mapping) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series]:
    """Each record's point as given (NaN where unusable), which are bad, and which have none.

    Bad: unreadable, 0,0, or (in a longitude/latitude CRS) out of range.
    """
    index = pd.RangeIndex(len(batch))
    lon_raw, lat_raw = _raw(batch, mapping.column("lon")), _raw(batch, mapping.column("lat"))
    lon, lat = _numbers(lon_raw), _numbers(lat_raw)
    lon_given, lat_given = lon_raw.notna(), lat_raw.notna()
    unreadable = (lon_given | lat_given) & (lon.isna() | lat.isna())
    null_island = (lon == 0) & (lat == 0)
    off_range = pd.Series(False, index=index)
    if mapping.crs in ("wgs84", "gcj02", "bd09"):
        off_range = (lon.abs() > 180) | (lat.abs() > 90)
    bad_point = unreadable | null_island | off_range
    keep = ~bad_point & lon.notna() & lat.notna()
    return lon.where(keep), lat.where(keep), bad_point, ~lon_given & ~lat_given


def _note_layouts(name: str, read, layouts: dict, counts: dict, undecided: list) -> None:
    if read.layouts:
        layouts[name] = list(read.layouts)
    counts[name] = dict(read.counts or {})
    if read.undecided:
        undecided.append(name)


def _unreadable(what: str, value, read) -> str:
    """Why a time cannot be read; names the column's day/month order when the value reads only the other way."""
    text = f"{what} {str(value)[:40]!r} cannot be read"
    order = read.reading.order if read.reading is not None else None
    if order is not None:
        first = "month" if order.startswith("%m") else "day"
        text += f" as the column is read ({order}, {first} first)"
    return text


def _blank(value) -> bool:
    """Empty in any of the ways a source can say so: None, NaN, NA, NaT, or only spaces."""
    if type(value) is str:
        return not value.strip()
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float):
        return np.isnan(value)
    return isinstance(value, str) and not value.strip()


def _texts(values: list | None, n: int) -> list[str]:
    """Values as stripped text, "" where blank (all "" when the column is absent)."""
    if values is None:
        return [""] * n
    return [v.strip() if type(v) is str else ("" if _blank(v) else str(v).strip()) for v in values]


def _raw(batch: RawBatch, column: str | None) -> pd.Series:
    """The source column as Python objects, None where blank."""
    values = batch.column(column)
    if values is None:
        return pd.Series([None] * len(batch), dtype=object)
    return pd.Series([(v if v.strip() else None) if type(v) is str else (None if _blank(v) else v)
                      for v in values], dtype=object)


def _numbers(values: pd.Series) -> pd.Series:
    cleaned = [v.strip().replace(",", "") if type(v) is str else None if v is None else str(v).strip().replace(",", "")
               for v in values.tolist()]
    return pd.to_numeric(pd.Series(cleaned, index=values.index, dtype=object), errors="coerce").astype(float)


def _nullable(batch: RawBatch, column: str | None, limit: int | None) -> pd.Series:
    """A free-text column: stripped, cut to ``limit`` characters, None where blank (or not mapped)."""
    n = len(batch)
    if column is None:
        return pd.Series([None] * n, dtype=object)
    texts = _texts(batch.column(column), n)
    if limit:
        return pd.Series([v[:limit] or None for v in texts], dtype=object)
    return pd.Series([v or None for v in texts], dtype=object)


def _each(values: pd.Series, fn) -> pd.Series:
    """``fn`` of each value (text or None), computed once per distinct value."""
    codes, distinct = pd.factorize(values.to_numpy(dtype=object), use_na_sentinel=False)
    results = np.empty(len(distinct), dtype=object)
    results[:] = [fn(None if isinstance(v, float) and v != v else v) for v in distinct.tolist()]
    return pd.Series(results[codes], index=values.index, dtype=object)


class _Translator:
    """Their word to our code (see :func:`_translate`), with the case-folded table built once."""

    def __init__(self, table: dict[str, str], ours: dict, *, names: bool = False):
        self.table, self.ours, self.names = table, ours, names
        self.folded = {k.casefold(): v for k, v in table.items()}

    def __call__(self, value: str) -> str | None:
        return _translate(value, self.table, self.ours, names=self.names, folded=self.folded)


def _translate(value: str, table: dict[str, str], ours: dict, *, names: bool = False,
               folded: dict[str, str] | None = None) -> str | None:
    """Their word to our code: the mapping first (exact, then ignoring case), then our own codes
    (and, with ``names``, our own Chinese names: "8890热线" is hotline)."""
    if value == "":
        return None
    if value in table:
        return table[value]
    if folded is None:
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
