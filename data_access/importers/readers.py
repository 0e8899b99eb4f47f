"""Reading a city's appeal export into raw records: CSV, Excel, Open311 GeoReport v2 JSON.

Every record keeps the source's own column names and values (text, or what
Excel holds), and its row number as a person would find it in the file: the
spreadsheet row for CSV and Excel (the header is row 1), the position (from 1)
in an Open311 list. A CSV row with the wrong number of fields is kept, marked
malformed, so that the importer can quarantine it rather than lose it.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

MALFORMED = "__malformed__"


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
    for encoding in ("utf-8-sig", "gb18030"):  # Chinese Excel exports are often GBK
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SourceFileError(f"{path}: neither UTF-8 nor GB18030 text")


def _read_csv(path: Path) -> RawTable:
    text = _decode(path)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise SourceFileError(f"{path}: empty file (no header row)") from None
    columns = [h.strip() for h in header]
    if len(set(columns)) != len(columns):
        dupes = sorted({c for c in columns if columns.count(c) > 1})
        raise SourceFileError(f"{path}: the header repeats column(s) {', '.join(dupes)}")
    table = RawTable(columns)
    for cells in reader:
        row = reader.line_num  # the line where this record ends (records may span lines)
        if not any(c.strip() for c in cells):
            continue  # a blank line is not a record
        record = dict(zip(columns, cells))
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
