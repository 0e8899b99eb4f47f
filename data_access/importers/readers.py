"""Reading a city's appeal export: CSV, Excel, Open311 GeoReport v2 JSON, in batches of rows.

Every record keeps the source's own column names and values (text, or what
Excel holds), and its row number as a person would find it in the file: the
spreadsheet row for CSV and Excel (the header is row 1), the position (from 1)
in an Open311 list. A CSV row with the wrong number of fields is kept, marked
malformed, so that the importer can quarantine it rather than lose it; so is a
row with a field longer than ``MAX_FIELD`` characters (often an unclosed quote
that swallowed the lines after it), marked too long.

:func:`open_source` checks what can be checked before a row is imported (the
file decodes as text from its first byte to its last, it is not binary data,
its header is a header) and returns a :class:`Source`, whose
:meth:`Source.batches` reads the rows anew at each call, ``size`` at a time:
a CSV file and a workbook are streamed (memory holds one batch, whatever the
file's size); an Open311 list is one JSON document, read whole.

A file that is not what its format says (binary data given as CSV, a CSV given
as a workbook, text that is not JSON as Open311) is refused with a message
naming it: :class:`SourceFileError`.
"""

from __future__ import annotations

import codecs
import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path

MALFORMED = "__malformed__"
TOO_LONG = "__too_long__"
EXTRA = "__extra__"
MAX_FIELD = 128 * 1024  # characters in one CSV field: more is not a value but a broken line
_READ_LIMIT = 2**31 - 1  # the csv module's own limit while reading (a long field is quarantined, not fatal)
# control characters that text never holds (tab, newlines and form feed aside)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_SNIFF = 65536  # characters looked at for binary data
_BLOCK = 1 << 20  # bytes decoded at a time while checking the encoding


class SourceFileError(ValueError):
    """The file cannot be read at all; the message names it and says why."""


@dataclass
class RawTable:
    """Records held in memory (an Open311 list, or records a caller built)."""

    columns: list[str]
    records: list[dict] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)  # row number of each record in the file


@dataclass
class RawBatch:
    """Consecutive records of a source, by column.

    ``cells[column]`` holds the column's values (None where a record lacks it);
    ``malformed``, ``too_long`` and ``extra`` map a record's position in the
    batch to why it is malformed, why a field is too long, and the fields
    beyond the header's (joined by ``|``).
    """

    columns: list[str]
    cells: dict[str, list]
    rows: list[int]
    malformed: dict[int, str] = field(default_factory=dict)
    too_long: dict[int, str] = field(default_factory=dict)
    extra: dict[int, str] = field(default_factory=dict)
    records: list | None = None  # each record's cells in ``columns`` order, when only some columns are in ``cells``

    def __len__(self) -> int:
        return len(self.rows)

    def column(self, name: str | None) -> list | None:
        return None if name is None else self.cells.get(name)

    def record(self, i: int) -> dict:
        """The record at position ``i``, whole, as the quarantine file writes it."""
        if self.records is not None:
            record = dict(zip(self.columns, self.records[i]))
        else:
            record = {c: values[i] for c, values in self.cells.items()}
        if i in self.extra:
            record[EXTRA] = self.extra[i]
        return record

    def take(self, positions) -> "RawBatch":
        """The records at ``positions`` (ascending), as a batch of their own."""
        positions = [int(p) for p in positions]
        where = {p: j for j, p in enumerate(positions)}
        return RawBatch(self.columns, {c: [v[p] for p in positions] for c, v in self.cells.items()},
                        [self.rows[p] for p in positions],
                        *({where[p]: m for p, m in marks.items() if p in where}
                          for marks in (self.malformed, self.too_long, self.extra)),
                        records=None if self.records is None else [self.records[p] for p in positions])


class Source:
    """A readable export: its ``columns`` and, at each call of :meth:`batches`, its records in order."""

    columns: list[str]
    extra: list[str] = []  # keys some records hold beyond ``columns`` (written to the quarantine file)
    empty: bool = False  # known to hold no records (an empty Open311 list has no columns either)

    def batches(self, size: int, columns: list[str] | None = None) -> Iterator[RawBatch]:
        """The records, ``size`` at a time; with ``columns``, only those columns need be in ``cells``."""
        raise NotImplementedError


def open_source(path: str | Path, fmt: str) -> Source:
    path = Path(path)
    if not path.is_file():
        raise SourceFileError(f"{path}: no such file")
    try:
        if fmt == "csv":
            return CsvSource(path)
        if fmt == "xlsx":
            return XlsxSource(path)
        if fmt == "open311":
            return TableSource(_read_open311(path))
    except SourceFileError:
        raise
    except Exception as exc:  # a corrupt workbook, unreadable JSON…
        raise SourceFileError(f"{path}: cannot be read as {fmt}: {type(exc).__name__}: {exc}") from exc
    raise SourceFileError(f"{path}: unknown format {fmt!r}")


def read_source(path: str | Path, fmt: str) -> RawTable:
    """The whole file in memory (small files, tests); the importer reads :func:`open_source` in batches."""
    source = open_source(path, fmt)
    table = RawTable(list(source.columns))
    for batch in source.batches(50_000):
        for i in range(len(batch)):
            record = batch.record(i)
            if i in batch.malformed:
                record[MALFORMED] = batch.malformed[i]
            if i in batch.too_long:
                record[TOO_LONG] = batch.too_long[i]
            table.records.append(record)
        table.rows.extend(batch.rows)
    return table


# ------------------------------------------------------------------ in memory ---

class TableSource(Source):
    """Records already in memory, served in batches like a file."""

    def __init__(self, table: RawTable):
        self.table = table
        self.columns = list(table.columns)
        known = set(self.columns)
        self.extra = sorted({k for r in table.records for k in r if k not in known and not k.startswith("__")})
        self.empty = not table.records

    def batches(self, size: int, columns: list[str] | None = None) -> Iterator[RawBatch]:
        records = self.table.records
        rows = self.table.rows or list(range(1, len(records) + 1))
        names = [*self.columns, *self.extra]
        for start in range(0, len(records), size):
            part = records[start:start + size]
            batch = RawBatch(self.columns, {c: [r.get(c) for r in part] for c in names}, rows[start:start + size])
            for i, r in enumerate(part):
                for key, marks in ((MALFORMED, batch.malformed), (TOO_LONG, batch.too_long)):
                    if _given(r.get(key)):
                        marks[i] = str(r[key])
                if r.get(EXTRA) not in (None, ""):
                    batch.extra[i] = str(r[EXTRA])
            yield batch


def _given(value) -> bool:
    """A marker is set when it holds a message (not None, NaN or an empty string)."""
    return value is not None and value == value and value != ""


# ------------------------------------------------------------------------ CSV ---

class CsvSource(Source):
    """A CSV file: the encoding is settled by decoding the whole file once (in blocks), then rows stream."""

    def __init__(self, path: Path):
        self.path = path
        self.encoding = _encoding(path)
        with self._open() as fh:
            _refuse_binary(path, fh.read(_SNIFF))
        previous = csv.field_size_limit(_READ_LIMIT)
        try:
            with self._open() as fh:
                reader = csv.reader(fh)
                try:
                    header = next(reader)
                except StopIteration:
                    raise SourceFileError(f"{path}: empty file (no header row)") from None
        finally:
            csv.field_size_limit(previous)
        if any(len(h) > MAX_FIELD for h in header):
            raise SourceFileError(f"{path}: the header row holds a field longer than {MAX_FIELD:,} characters; "
                                  "it is not a CSV header (an unclosed quote?)")
        self.columns = [h.strip() for h in header]
        if len(set(self.columns)) != len(self.columns):
            dupes = sorted({c for c in self.columns if self.columns.count(c) > 1})
            raise SourceFileError(f"{path}: the header repeats column(s) {', '.join(dupes)}")

    def _open(self):
        return open(self.path, encoding=self.encoding, newline="")

    def batches(self, size: int, columns: list[str] | None = None) -> Iterator[RawBatch]:
        wanted = columns
        columns, width = self.columns, len(self.columns)
        previous = csv.field_size_limit(_READ_LIMIT)
        try:
            with self._open() as fh:
                reader = csv.reader(fh)
                next(reader)
                ended = reader.line_num
                records: list[list] = []
                rows: list[int] = []
                malformed: dict[int, str] = {}
                too_long: dict[int, str] = {}
                extra: dict[int, str] = {}
                for cells in reader:
                    first, row = ended + 1, reader.line_num  # the lines where this record starts and ends
                    ended = row
                    joined = "".join(cells)
                    if not joined.strip():
                        continue  # a blank line is not a record
                    i = len(rows)
                    if len(joined) > MAX_FIELD and max(map(len, cells)) > MAX_FIELD:
                        at, size_ = next((j, len(c)) for j, c in enumerate(cells) if len(c) > MAX_FIELD)
                        name = columns[at] if at < width else f"extra field {at + 1}"
                        too_long[i] = (f"field {name!r} holds {size_:,} characters (more than {MAX_FIELD:,}); "
                                       + (f"the record runs from line {first} to line {row}: an unclosed quote "
                                          "may have swallowed the lines after it" if row > first else "not a value"))
                    if len(cells) != width:
                        malformed[i] = f"{len(cells)} fields where the header has {width}"
                        if len(cells) > width:
                            extra[i] = "|".join(cells[width:])
                            cells = cells[:width]
                        else:
                            cells = cells + [None] * (width - len(cells))
                    records.append(cells)
                    rows.append(row)
                    if len(rows) >= size:
                        yield _batch(columns, records, rows, malformed, too_long, extra, wanted)
                        records, rows, malformed, too_long, extra = [], [], {}, {}, {}
                if rows:
                    yield _batch(columns, records, rows, malformed, too_long, extra, wanted)
        except UnicodeDecodeError as exc:  # the file changed since it was opened
            raise SourceFileError(f"{self.path}: no longer {self.encoding} text ({exc}); did it change during "
                                  "the import?") from None
        finally:
            csv.field_size_limit(previous)


def _batch(columns, records, rows, malformed, too_long, extra, wanted=None) -> RawBatch:
    """A batch from records (lists of cells in ``columns`` order): the ``wanted`` columns (all by default)."""
    position = {c: j for j, c in enumerate(columns)}
    names = [c for c in (columns if wanted is None else wanted) if c in position]
    cells = {c: list(map(itemgetter(position[c]), records)) for c in names}
    return RawBatch(columns, cells, rows, malformed, too_long, extra, records=records)


def _encoding(path: Path) -> str:
    """The file's encoding: UTF-16 by its byte-order mark, else UTF-8, else GB18030 (whole file checked)."""
    with path.open("rb") as fh:
        head = fh.read(4)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = ("utf-16",)  # Excel's "Unicode text" (the byte-order mark says which)
    else:
        candidates = ("utf-8-sig", "gb18030")  # Chinese Excel exports are often GBK
    for encoding in candidates:
        if _decodes(path, encoding):
            return encoding
    raise SourceFileError(f"{path}: neither UTF-8 nor GB18030 text")


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        with path.open("rb") as fh:
            while block := fh.read(_BLOCK):
                decoder.decode(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _refuse_binary(path: Path, sample: str) -> None:
    """Binary data that happens to decode (a zip, an image) is not text: refuse it by name."""
    controls = len(_CONTROL.findall(sample))
    if "\x00" in sample or controls > max(2, len(sample) // 100):
        kind = " (it looks like a zip archive, such as an .xlsx workbook)" if sample.startswith("PK\x03\x04") else ""
        raise SourceFileError(f"{path}: holds binary data, not text{kind}; check the file and [source] format "
                              "in the mapping")


# ---------------------------------------------------------------------- Excel ---

class XlsxSource(Source):
    """The first sheet of a workbook, read row by row (openpyxl's read-only mode)."""

    def __init__(self, path: Path):
        self.path = path
        with self._sheet() as rows:
            try:
                header = next(rows)
            except StopIteration:
                raise SourceFileError(f"{path}: the first sheet is empty") from None
        self.columns = ["" if h is None else str(h).strip() for h in header]

    def _sheet(self):
        from contextlib import contextmanager

        from openpyxl import load_workbook

        @contextmanager
        def rows():
            book = load_workbook(self.path, read_only=True, data_only=True)
            try:
                yield book.worksheets[0].iter_rows(values_only=True)
            finally:
                book.close()

        return rows()

    def batches(self, size: int, columns: list[str] | None = None) -> Iterator[RawBatch]:
        wanted = columns
        columns, width = self.columns, len(self.columns)
        with self._sheet() as sheet:
            next(sheet)
            records: list[list] = []
            rows: list[int] = []
            for number, cells in enumerate(sheet, start=2):
                if _blank_row(cells):
                    continue
                cells = ["" if v is None else v for v in cells[:width]]
                records.append(cells + [None] * (width - len(cells)))
                rows.append(number)
                if len(rows) >= size:
                    yield _batch(columns, records, rows, {}, {}, {}, wanted)
                    records, rows = [], []
            if rows:
                yield _batch(columns, records, rows, {}, {}, {}, wanted)


def _blank_row(cells) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


# -------------------------------------------------------------------- Open311 ---

def _read_open311(path: Path) -> RawTable:
    """An Open311 list is one JSON document: it is read whole (such exports are an API's pages, not millions)."""
    encoding = _encoding(path)
    text = path.read_text(encoding=encoding)
    _refuse_binary(path, text[:_SNIFF])
    data = json.loads(text)
    if isinstance(data, dict):  # some servers wrap the list
        data = data.get("service_requests", data.get("requests"))
    if not isinstance(data, list):
        raise SourceFileError(f"{path}: an Open311 GeoReport v2 file is a JSON list of service requests")
    columns: list[str] = []
    seen: set[str] = set()
    table = RawTable(columns)
    for number, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            item = {MALFORMED: "not a JSON object", EXTRA: json.dumps(item, ensure_ascii=False)[:500]}
        for key in item:
            if key not in seen and not key.startswith("__"):
                seen.add(key)
                columns.append(key)
        table.records.append({k: ("" if v is None else v) for k, v in item.items()})
        table.rows.append(number)
    return table
