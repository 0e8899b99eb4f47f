"""Every export, opened as a spreadsheet opens it: its headers and rows match the list, and no cell is a formula."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest
from openpyxl import load_workbook

from data_access import alerts, deadlines, exports
from data_access.cases import case_export
from data_access.scope import Period, Scope
from tests.conftest import insert_appeals, synced_store
from tests.test_indicators import APPEALS, T
from ui import alerts as ui_alerts

pytestmark = pytest.mark.attack("exports")

SUPERVISION_HEADERS = ["序号", "预警", "工单号", "诉求类别", "诉求小类", "所在街道", "承办单位", "受理时间", "办理时限",
                       "剩余/超期", "已督办", "督办意见", "要求答复时间"]


def _sheet(data: bytes) -> list[list]:
    book = load_workbook(io.BytesIO(data))
    assert len(book.worksheets) == 1
    return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]


def _formulas(data: bytes) -> list[str]:
    book = load_workbook(io.BytesIO(data))
    return [c.coordinate for row in book.worksheets[0].iter_rows() for c in row if c.data_type == "f"]


@pytest.fixture
def store(tiny_sor):
    insert_appeals(tiny_sor, APPEALS)
    return synced_store(tiny_sor)


def test_the_supervision_sheet_holds_every_listed_appeal(store):
    listed = deadlines.annotate(alerts.warning_list(store, Scope.whole(), Period.all_time(), T), T)
    assert len(listed) >= 2, "the fixture must have warnings to export"
    rows = _sheet(ui_alerts.supervision_sheet(listed))
    assert rows[0] == SUPERVISION_HEADERS
    body = rows[1:]
    assert len(body) == len(listed)
    assert [r[2] for r in body] == list(listed["appeal_id"])
    assert [r[0] for r in body] == list(range(1, len(listed) + 1))
    assert {r[1] for r in body} <= {"超期", "临期"}
    assert all(r[9] and (r[9].startswith("超期") or r[9].startswith("剩余")) for r in body)


DANGEROUS = ["=cmd|' /C calc'!A0", '=HYPERLINK("http://example.invalid","点")', "+SUM(1,2)", "-2+3", "@SUM(1)",
             "\t=1+1", "=***"]


def _hostile_appeals() -> list[dict]:
    return [{"appeal_id": f"X{i}", "created_at": pd.Timestamp("2026-03-02 09:00") + pd.Timedelta(minutes=i),
             "summary": text, "appellant_name": text, "category": text, "subcategory": text}
            for i, text in enumerate(DANGEROUS)]


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_case_list_exports_neutralise_formulas(tiny_sor, kind):
    insert_appeals(tiny_sor, _hostile_appeals())
    con = synced_store(tiny_sor)
    rows = case_export(con, Scope.whole(), Period.all_time(), T, "received", show_personal=True)
    assert len(rows) == len(DANGEROUS)
    if kind == "csv":
        data = exports.to_csv_bytes(rows)
        cells = [c for row in csv.reader(io.StringIO(data.decode("utf-8-sig"))) for c in row]
    else:
        data = exports.to_xlsx_bytes(rows)
        assert _formulas(data) == []
        cells = [c for row in _sheet(data) for c in row if isinstance(c, str)]
    assert not [c for c in cells if c.startswith(exports.FORMULA_STARTS)], cells
    for text in DANGEROUS:  # kept, readable, as text
        assert "'" + text in cells


def test_the_supervision_sheet_neutralises_formulas(store):
    listed = deadlines.annotate(alerts.warning_list(store, Scope.whole(), Period.all_time(), T), T)
    listed = listed.assign(category="=HYPERLINK(\"http://x\")", department="@evil")
    data = ui_alerts.supervision_sheet(listed)
    assert _formulas(data) == []
    body = _sheet(data)[1:]
    assert {r[3] for r in body} == {"'=HYPERLINK(\"http://x\")"} and {r[6] for r in body} == {"'@evil"}


@pytest.mark.parametrize("value, shown", [
    ("=1+1", "'=1+1"), ("+86 138", "'+86 138"), ("-", "'-"), ("@a", "'@a"), ("\r=1", "'\r=1"),
    ("普通文本", "普通文本"), ("a=b", "a=b"), ("", ""), (-3.5, -3.5), (12, 12), (None, None),
])
def test_neutralise(value, shown):
    assert exports.neutralise(value) == shown
