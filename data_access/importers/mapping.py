"""The mapping file (TOML) that tells the appeal importer how to read a city's export.

```toml
[source]
format = "csv"                 # csv | xlsx | open311
crs = "wgs84"                  # wgs84 | gcj02 | bd09 | EPSG:NNNN
timezone = "Asia/Shanghai"     # IANA name of the source's clock
datetime_format = "%m/%d/%Y %I:%M:%S %p"   # optional; default ISO 8601 or automatic
default_point_min = 25         # optional; appeals on one identical point that make it a geocoder's fallback

[columns]                      # our field = "their column"
appeal_id = "SRNumber"
created_at = "CreatedDate"

[values.status]                # their word = our code
"已办结" = "closed"
```
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..vocab import CHANNELS, SATISFACTION, STATUSES

FORMATS = ("csv", "xlsx", "open311")
FIELDS = (
    "appeal_id", "created_at", "deadline_at", "closed_at", "status", "category", "subcategory", "channel",
    "department", "lat", "lon", "address", "satisfaction", "summary",
)
REQUIRED_FIELDS = ("appeal_id", "created_at")
VALUE_TABLES = {"status": STATUSES, "channel": CHANNELS, "satisfaction": SATISFACTION}
_CRS_NAMES = ("wgs84", "gcj02", "bd09")


class MappingError(ValueError):
    """The mapping file is unusable; the message names the file and the key."""


@dataclass(frozen=True)
class Mapping:
    format: str = "csv"
    crs: str = "wgs84"
    timezone: str = "Asia/Shanghai"
    datetime_format: str | None = None
    default_point_min: int = 25
    columns: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    path: str = "<mapping>"

    def column(self, name: str) -> str | None:
        return self.columns.get(name)


def load_mapping(path: str | Path) -> Mapping:
    path = Path(path)
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise MappingError(f"mapping file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(f"mapping file {path} is not valid TOML: {exc}") from None
    return parse_mapping(data, str(path))


def parse_mapping(data: dict, where: str = "<mapping>") -> Mapping:
    unknown = set(data) - {"source", "columns", "values"}
    if unknown:
        raise MappingError(f"{where}: unknown table(s) {', '.join(sorted(unknown))}; expected [source], "
                           "[columns] and [values.*]")
    source = data.get("source", {})
    _known_keys(source, ("format", "crs", "timezone", "datetime_format", "default_point_min"), f"{where} [source]")
    fmt = str(source.get("format", "csv")).lower()
    if fmt not in FORMATS:
        raise MappingError(f"{where}: [source] format = {fmt!r}; expected one of {', '.join(FORMATS)}")
    crs = _crs(str(source.get("crs", "wgs84")), where)
    tz = str(source.get("timezone", "Asia/Shanghai"))
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise MappingError(f"{where}: [source] timezone = {tz!r} is not an IANA time zone "
                           "(e.g. Asia/Shanghai, America/Los_Angeles)") from None
    dt_format = source.get("datetime_format") or None
    if dt_format is not None:
        _check_datetime_format(dt_format, where)
    point_min = source.get("default_point_min", 25)
    if not isinstance(point_min, int) or point_min < 2:
        raise MappingError(f"{where}: [source] default_point_min must be an integer ≥ 2")

    columns = data.get("columns", {})
    _known_keys(columns, FIELDS, f"{where} [columns]")
    for name in REQUIRED_FIELDS:
        if not columns.get(name):
            raise MappingError(f"{where}: [columns] must map {name} (e.g. {name} = \"their column\")")
    for name, column in columns.items():
        if not isinstance(column, str) or not column:
            raise MappingError(f"{where}: [columns] {name} must be a column name (a string)")

    values = data.get("values", {})
    _known_keys(values, tuple(VALUE_TABLES), f"{where} [values]")
    clean: dict[str, dict[str, str]] = {}
    for table, pairs in values.items():
        allowed = VALUE_TABLES[table]
        if not isinstance(pairs, dict):
            raise MappingError(f"{where}: [values.{table}] must be a table of \"their word\" = \"our code\"")
        for theirs, ours in pairs.items():
            if ours not in allowed:
                raise MappingError(f"{where}: [values.{table}] {theirs!r} = {ours!r}: {ours!r} is not one of "
                                   f"{', '.join(allowed)}")
        clean[table] = {str(k).strip(): v for k, v in pairs.items()}
    return Mapping(format=fmt, crs=crs, timezone=tz, datetime_format=dt_format, default_point_min=point_min,
                   columns=dict(columns), values=clean, path=where)


def _check_datetime_format(fmt, where: str) -> None:
    """A strptime pattern that names at least a year, a month and a day."""
    if not isinstance(fmt, str):
        raise MappingError(f"{where}: [source] datetime_format must be a string such as \"%Y/%m/%d %H:%M\"")
    import pandas as pd

    try:
        pd.to_datetime(pd.Series(["2024-03-01"]), format=fmt, errors="coerce")
    except (ValueError, TypeError) as exc:
        raise MappingError(f"{where}: [source] datetime_format = {fmt!r} is not a strptime pattern ({exc}); "
                           "e.g. \"%Y/%m/%d %H:%M\" or \"%m/%d/%Y %I:%M:%S %p\"") from None
    has = lambda *codes: any(c in fmt for c in codes)  # noqa: E731
    if not (has("%Y", "%y") and has("%m", "%b", "%B") and has("%d")):
        raise MappingError(f"{where}: [source] datetime_format = {fmt!r} does not name a year, a month and a day "
                           "(%Y, %m, %d); e.g. \"%Y/%m/%d %H:%M\"")


def _crs(value: str, where: str) -> str:
    low = value.strip().lower()
    if low in _CRS_NAMES:
        return low
    if low.startswith("epsg:") and low[5:].isdigit():
        return "EPSG:" + low[5:]
    raise MappingError(f"{where}: [source] crs = {value!r}; expected wgs84, gcj02, bd09 or EPSG:NNNN")


def _known_keys(table: dict, allowed: tuple[str, ...], where: str) -> None:
    unknown = set(table) - set(allowed)
    if unknown:
        raise MappingError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; known: {', '.join(allowed)}")
