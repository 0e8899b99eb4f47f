"""Reading a city's appeal export into raw records: CSV, Excel, Open311 GeoReport v2 JSON.

Every record keeps the source's own column names and values (text, or what
Excel holds), and its row number as a person would find it in the file: the
spreadsheet row for CSV and Excel (the header is row 1), the position (from 1)
in an Open311 list. A CSV row with the wrong number of fields is kept, marked
malformed, so that the importer can quarantine it rather than lose it; so is a
row with a field longer than ``MAX_FIELD`` characters (often an unclosed quote
that swallowed the lines after it), marked ``TOO_LONG``.

A file that is not what its format says (binary data given as CSV, a CSV given
as a workbook, text that is not JSON as Open311) is refused with a message
naming it: :class:`SourceFileError`.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

MALFORMED = "__malformed__"
TOO_LONG = "__too_long__"
MAX_FIELD = 128 * 1024  # characters in one CSV field: more is not a value but a broken line
_READ_LIMIT = 2**31 - 1  # the csv module's own limit while reading (a long field is quarantined, not fatal)
# control characters that text never holds (tab, newlines and form feed aside)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


class SourceFileError(ValueError):
    """The file cannot be read at all; the message names it and says why."""


@dataclass
class RawTable:
    columns: list[str]
    records: list[dict] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)  # row number of each record in the file


def read_source(path: str | Path, fmt: str) -> RawTable:
    path = Path(path)
    if not path.is_file():
        raise SourceFileError(f"{path}: no such file")
    try:
        if fmt == "csv":
            return _read_csv(path)
        if fmt == "xlsx":
            return _read_xlsx(path)
        if fmt == "open311":
            return _read_open311(path)
    except SourceFileError:
        raise
    except Exception as exc:  # a corrupt workbook, unreadable JSON…
        raise SourceFileError(f"{path}: cannot be read as {fmt}: {type(exc).__name__}: {exc}") from exc
    raise SourceFileError(f"{path}: unknown format {fmt!r}")


def _decode(path: Path) -> str:
    raw = path.read_bytes()
    encodings = ("utf-8-sig", "gb18030")  # Chinese Excel exports are often GBK
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings = ("utf-16",)  # Excel's "Unicode text" (the byte-order mark says which)
    for encoding in encodings:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        _refuse_binary(path, text)
        return text
    raise SourceFileError(f"{path}: neither UTF-8 nor GB18030 text")


def _refuse_binary(path: Path, text: str) -> None:
    """Binary data that happens to decode (a zip, an image) is not text: refuse it by name."""
    sample = text[:65536]
    controls = len(_CONTROL.findall(sample))
    if "\x00" in sample or controls > max(2, len(sample) // 100):
        kind = " (it looks like a zip archive, such as an .xlsx workbook)" if text.startswith("PK\x03\x04") else ""
        raise SourceFileError(f"{path}: holds binary data, not text{kind}; check the file and [source] format "
                              "in the mapping")


def _read_csv(path: Path) -> RawTable:
    text = _decode(path)
    previous = csv.field_size_limit(_READ_LIMIT)
    try:
        return _csv_records(path, text)
    finally:
        csv.field_size_limit(previous)


def _csv_records(path: Path, text: str) -> RawTable:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise SourceFileError(f"{path}: empty file (no header row)") from None
    if any(len(h) > MAX_FIELD for h in header):
        raise SourceFileError(f"{path}: the header row holds a field longer than {MAX_FIELD:,} characters; "
                              "it is not a CSV header (an unclosed quote?)")
    columns = [h.strip() for h in header]
    if len(set(columns)) != len(columns):
        dupes = sorted({c for c in columns if columns.count(c) > 1})
        raise SourceFileError(f"{path}: the header repeats column(s) {', '.join(dupes)}")
    table = RawTable(columns)
    ended = reader.line_num
    for cells in reader:
        first, row = ended + 1, reader.line_num  # the lines where this record starts and ends
        ended = row
        if not any(c.strip() for c in cells):
            continue  # a blank line is not a record
        record = dict(zip(columns, cells))
        long = [(i, len(c)) for i, c in enumerate(cells) if len(c) > MAX_FIELD]
        if long:
            i, size = long[0]
            name = columns[i] if i < len(columns) else f"extra field {i + 1}"
            record[TOO_LONG] = (f"field {name!r} holds {size:,} characters (more than {MAX_FIELD:,}); "
                                + (f"the record runs from line {first} to line {row}: an unclosed quote may have "
                                   "swallowed the lines after it" if row > first else "not a value"))
        if len(cells) != len(columns):
            record[MALFORMED] = f"{len(cells)} fields where the header has {len(columns)}"
            if len(cells) > len(columns):
                record["__extra__"] = "|".join(cells[len(columns):])
        table.records.append(record)
        table.rows.append(row)
    return table


def _read_xlsx(path: Path) -> RawTable:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    sheet = book.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    try:
        header = next(rows)
    except StopIteration:
        raise SourceFileError(f"{path}: the first sheet is empty") from None
    columns = ["" if h is None else str(h).strip() for h in header]
    table = RawTable(columns)
    for number, cells in enumerate(rows, start=2):
        if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
            continue
        table.records.append({col: ("" if v is None else v) for col, v in zip(columns, cells)})
        table.rows.append(number)
    book.close()
    return table


def _read_open311(path: Path) -> RawTable:
    data = json.loads(_decode(path))
    if isinstance(data, dict):  # some servers wrap the list
        data = data.get("service_requests", data.get("requests"))
    if not isinstance(data, list):
        raise SourceFileError(f"{path}: an Open311 GeoReport v2 file is a JSON list of service requests")
    columns: list[str] = []
    table = RawTable(columns)
    for number, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            item = {MALFORMED: "not a JSON object", "__extra__": json.dumps(item, ensure_ascii=False)[:500]}
        for key in item:
            if key not in columns and not key.startswith("__"):
                columns.append(key)
        record = {k: ("" if v is None else v) for k, v in item.items()}
        table.records.append(record)
        table.rows.append(number)
    return table
