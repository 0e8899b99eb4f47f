"""Case lists as files: CSV (UTF-8 with a BOM, so Excel reads the Chinese) and Excel (.xlsx).

One mapping (``HEADERS``) gives every column its Chinese header; ``present``
turns a case list (``cases.case_list`` / ``cases.case_export``) into the
table people read: Chinese headers, vocabulary codes as their labels, times
as ``YYYY-MM-DD HH:MM``, yes/no as 是/否, how late an overdue appeal is as on
screen (超期, ``deadlines.duration_text``) and as a number in its limit's
unit (超期（工作日） or 超期（小时））. Personal data is exported as the
list holds it: masked unless the list was made with ``show_personal=True``.
"""

from __future__ import annotations

import io
import math

import pandas as pd

from .vocab import CHANNELS, STATUSES, label

# column -> Chinese header, in the order of the file
HEADERS = {
    "appeal_id": "工单号",
    "created_at": "受理时间",
    "category": "类别",
    "subcategory": "子类",
    "channel": "渠道",
    "channel_label": "来源渠道（原文）",
    "status": "状态",
    "deadline_at": "办理时限",
    "closed_at": "办结时间",
    "overdue": "超期",
    "overdue_workdays": "超期（工作日）",
    "overdue_clock_hours": "超期（小时）",
    "district": "区县",
    "street": "街道",
    "community": "社区",
    "grid": "网格",
    "department": "承办单位",
    "appellant_name": "诉求人",
    "appellant_phone": "联系电话",
    "address": "地址",
    "summary": "诉求内容",
    "in_numerator": "计入分子",
}
TIME_COLUMNS = ("created_at", "deadline_at", "closed_at")
TIME_FORMAT = "%Y-%m-%d %H:%M"
LABELS = {"channel": CHANNELS, "status": STATUSES}
# how late an overdue appeal is (``deadlines.with_overdue``): 超期 the text the screens show, and the same time
# as a number in the unit of the appeal's limit, working days or clock hours (the other column left empty)
NUMBER_COLUMNS = {"overdue_workdays": 2, "overdue_clock_hours": 1}

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIME = "text/csv"


def present(df: pd.DataFrame) -> pd.DataFrame:
    """The list as people read it: Chinese headers (``HEADERS`` order), labels, formatted times.

    Columns that ``HEADERS`` does not name are left out.
    """
    out = {}
    for column, header in HEADERS.items():
        if column not in df:
            continue
        values = df[column]
        if column in TIME_COLUMNS:
            out[header] = pd.to_datetime(values).dt.strftime(TIME_FORMAT).astype(object).where(values.notna(), "")
        elif column in LABELS:
            out[header] = [label(LABELS[column], v, "") for v in values]
        elif column in NUMBER_COLUMNS:
            out[header] = pd.to_numeric(values).astype("float64").round(NUMBER_COLUMNS[column])
        elif column == "in_numerator":
            out[header] = ["是" if bool(v) else "否" for v in values]
        else:
            out[header] = values.astype(object).where(values.notna(), "")
    return pd.DataFrame({k: list(v) if not isinstance(v, list) else v for k, v in out.items()},
                        columns=[HEADERS[c] for c in HEADERS if c in df])


# A text cell starting with one of these is run as a formula by a spreadsheet (=cmd|' /C calc'!A0,
# =HYPERLINK(...), +…, -…, @…), or starts one after a tab or carriage return (the OWASP CSV-injection rule)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """A cell as a spreadsheet must read it: a text that would start a formula gets a leading apostrophe,
    so it shows as the text it is. Numbers, times and other values are left as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_table(table: pd.DataFrame) -> pd.DataFrame:
    """Every text cell of a table (headers too) neutralised (``neutralise``)."""
    out = table.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = [neutralise(v) for v in out[column]]
    out.columns = [neutralise(str(c)) for c in out.columns]
    return out


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """A case list as CSV (``present``, then ``table_csv_bytes``)."""
    return table_csv_bytes(present(df))


def to_xlsx_bytes(df: pd.DataFrame, sheet_name: str = "工单列表") -> bytes:
    """A case list as an Excel workbook (``present``, then ``table_xlsx_bytes``)."""
    return table_xlsx_bytes(present(df), sheet_name)


def table_csv_bytes(table: pd.DataFrame) -> bytes:
    """A table as people read it, as CSV: UTF-8 with a byte-order mark (Excel on Windows then reads the
    Chinese), formula-like cells neutralised."""
    return safe_table(table).to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def table_xlsx_bytes(table: pd.DataFrame, sheet_name: str = "工单列表") -> bytes:
    """A table as people read it (its own headers), as an Excel workbook with one sheet; times as text
    like the CSV, formula-like cells neutralised.

    Written in openpyxl's streaming mode, so memory stays flat; 100,000 rows
    take about 15 s (the page makes the file only when its button is clicked).
    """
    return tables_xlsx_bytes([(sheet_name, table)])


def tables_xlsx_bytes(sheets: list[tuple[str, pd.DataFrame]]) -> bytes:
    """Several tables as one Excel workbook, a sheet each (``table_xlsx_bytes``'s rules for every sheet;
    sheet names made unique)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    used: set[str] = set()
    bold = Font(bold=True)
    widths = {"工单号": 20, "受理时间": 17, "办理时限": 17, "办结时间": 17, "地址": 36, "诉求内容": 60, "名称": 24}
    for sheet_name, table in sheets:
        table = safe_table(table)
        title = _sheet_title(sheet_name)
        k = 2
        while title in used:
            suffix = f" {k}"
            title, k = _sheet_title(sheet_name)[:31 - len(suffix)] + suffix, k + 1
        used.add(title)
        sheet = book.create_sheet(title=title)
        sheet.freeze_panes = "A2"
        for i, header in enumerate(table.columns):
            sheet.column_dimensions[_column_letter(i)].width = widths.get(header, 12)
        head = []
        for header in table.columns:
            cell = WriteOnlyCell(sheet, value=header)
            cell.font = bold
            head.append(cell)
        sheet.append(head)
        for row in table.itertuples(index=False, name=None):
            sheet.append([None if v == "" or (isinstance(v, float) and math.isnan(v)) else v for v in row])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def _sheet_title(name: str) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\."""
    cleaned = "".join("_" if ch in '[]:*?/\\' else ch for ch in (name or "工单列表")).strip("'")
    return cleaned[:31] or "工单列表"


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)
