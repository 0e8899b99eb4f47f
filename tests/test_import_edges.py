"""import-appeals on awkward input: dates beyond what can be stored, a column of
day/month dates that must be read one way, files that are not what their format says,
huge fields, bad mapping patterns. Every row is accounted for, by its row number."""

from __future__ import annotations

import csv
import io
import json
from contextlib import redirect_stdout

import pytest
from sqlalchemy import select

from data_access import cli, schema

pytestmark = pytest.mark.attack("imports")

MAPPING = """
[columns]
appeal_id = "id"
created_at = "created"
deadline_at = "deadline"
closed_at = "closed"
summary = "text"
"""


def _write(path, rows, header=("id", "created", "deadline", "closed", "text")):
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def _run(tmp_path, export, mapping_text=MAPPING, *extra) -> tuple[int, dict | None, str]:
    mapping = tmp_path / "m.toml"
    mapping.write_text(mapping_text, encoding="utf-8")
    out = io.StringIO()
    with redirect_stdout(out):
        code = cli.main(["import-appeals", str(export), "--mapping", str(mapping), "--json", *extra,
                         "--db", f"sqlite:///{tmp_path / 'sor.db'}", "--out", str(tmp_path / "out")])
    text = out.getvalue()
    return code, (json.loads(text) if code == 0 else None), text


def _quarantined(report) -> dict[str, dict]:
    previous = csv.field_size_limit(2**31 - 1)  # the quarantine file holds long fields whole
    try:
        with open(report["quarantine_file"], encoding="utf-8-sig", newline="") as fh:
            return {r["_row"]: r for r in csv.DictReader(fh)}
    finally:
        csv.field_size_limit(previous)


def _stored(tmp_path, *cols):
    from data_access.store import make_engine

    a = schema.appeals
    engine = make_engine(f"sqlite:///{tmp_path / 'sor.db'}")
    with engine.connect() as conn:
        return {r[0]: tuple(r[1:]) for r in conn.execute(select(a.c.appeal_id, *[a.c[c] for c in cols]))}


# ------------------------------------------------------------------ dates beyond range


def test_dates_beyond_range_are_flagged_or_quarantined_by_row(tmp_path):
    import datetime as dt

    export = _write(tmp_path / "e.csv", [
        ["A1", "2026-03-01 09:00", "9999-12-31", "", ""],              # row 2: "no deadline" marker
        ["A2", "2026-03-01 09:00", "2026-03-05 09:00", "9999-12-31 23:59:59", ""],   # row 3
        ["A3", "9999-12-31 10:00", "", "", ""],                         # row 4: quarantined
        ["A4", "0001-01-01", "", "", ""],                               # row 5: quarantined
        ["A5", "2026-03-02 09:00", "2026-03-06 09:00", "", ""],        # row 6: fine
    ])
    code, report, _ = _run(tmp_path, export)
    assert code == 0
    assert (report["read"], report["inserted"], report["quarantined"]) == (5, 3, 2)
    assert report["quarantine_reasons"] == {"created_at_out_of_range": 2}
    assert report["warnings"]["deadline_at_out_of_range"] == 1 and report["warning_rows"]["deadline_at_out_of_range"] == [2]
    assert report["warnings"]["closed_at_out_of_range"] == 1 and report["warning_rows"]["closed_at_out_of_range"] == [3]
    assert report["warnings"]["missing_deadline"] == 1  # A1: read as no deadline
    assert "bad_deadline_at" not in report["warnings"] and "bad_closed_at" not in report["warnings"]
    rows = _quarantined(report)
    assert set(rows) == {"4", "5"} and "9999-12-31" in rows["4"]["_detail"] and "0001-01-01" in rows["5"]["_detail"]
    stored = _stored(tmp_path, "deadline_at", "closed_at", "quality_flags")
    assert stored["A1"][0] is None and "deadline_at_out_of_range" in stored["A1"][2]
    assert stored["A2"][:2] == (dt.datetime(2026, 3, 5, 9, 0), None)
    assert stored["A5"][0] == dt.datetime(2026, 3, 6, 9, 0)


def test_a_us_layout_column_with_a_placeholder_year_keeps_its_layout(tmp_path):
    export = _write(tmp_path / "e.csv", [
        ["A1", "03/01/2026 09:00:00 AM", "12/31/9999 11:59:59 PM", "", ""],
        ["A2", "03/01/2026 10:00:00 AM", "03/13/2026 10:00:00 AM", "", ""],
    ])
    code, report, _ = _run(tmp_path, export)
    assert code == 0 and report["inserted"] == 2
    assert report["warning_rows"]["deadline_at_out_of_range"] == [2]
    assert report["time_formats"]["deadline_at"] == ["%m/%d/%Y %I:%M:%S %p"]


# ------------------------------------------------------------------ one reading per column


def test_a_column_is_read_day_first_or_month_first_never_both(tmp_path):
    import datetime as dt

    export = _write(tmp_path / "e.csv", [
        ["A1", "13/04/2026", "", "", ""],   # day first only
        ["A2", "14/04/2026", "", "", ""],   # day first only
        ["A3", "03/04/2026", "", "", ""],   # either: the column says day first, 3 April
        ["A4", "11/22/2026", "", "", ""],   # month first only: does not fit the column
        ["A5", "2026-04-20", "", "", ""],   # ISO needs no order
    ])
    code, report, _ = _run(tmp_path, export)
    assert code == 0
    assert (report["read"], report["inserted"], report["quarantined"]) == (5, 4, 1)
    assert report["quarantine_reasons"] == {"bad_created_at": 1}
    rows = _quarantined(report)
    assert set(rows) == {"5"} and "11/22/2026" in rows["5"]["_detail"] and "day first" in rows["5"]["_detail"]
    assert report["time_formats"]["created_at"] == ["%d/%m/%Y", "ISO 8601"]
    assert report["time_order_undecided"] == []
    created = {k: v[0] for k, v in _stored(tmp_path, "created_at").items()}
    assert created["A3"] == dt.datetime(2026, 4, 3)


def test_a_column_no_value_decides_is_read_month_first_and_reported(tmp_path, capsys):
    import datetime as dt

    export = _write(tmp_path / "e.csv", [["A1", "03/04/2026", "05/06/2026", "", ""],
                                         ["A2", "04/03/2026", "13/06/2026", "", ""]])
    code, report, _ = _run(tmp_path, export)
    assert code == 0 and report["inserted"] == 2
    assert report["time_order_undecided"] == ["created_at"]  # the deadlines say day first (13/06)
    assert report["time_formats"] == {"created_at": ["%m/%d/%Y"], "deadline_at": ["%d/%m/%Y"]}
    stored = _stored(tmp_path, "created_at", "deadline_at")
    assert stored["A1"] == (dt.datetime(2026, 3, 4), dt.datetime(2026, 6, 5))
    # the text report says how each column was read
    mapping = tmp_path / "m.toml"
    assert cli.main(["import-appeals", str(export), "--mapping", str(mapping), "--db",
                     f"sqlite:///{tmp_path / 'sor.db'}", "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "created_at" in out and "%m/%d/%Y" in out and "month first taken" in out


# ------------------------------------------------------------------ the report's contract


def test_the_report_keeps_its_keys_and_only_adds(tmp_path):
    export = _write(tmp_path / "e.csv", [["A1", "2026-03-01 09:00", "", "", ""]])
    code, report, _ = _run(tmp_path, export)
    assert code == 0
    assert list(report)[:8] == ["read", "inserted", "updated", "unchanged", "quarantined", "quarantine_reasons",
                                "warnings", "quarantine_file"]
    assert set(report) - set(list(report)[:8]) == {"warning_rows", "time_formats", "time_order_undecided"}


# ------------------------------------------------------------------ files that are not what they say


@pytest.mark.parametrize("content, says", [
    (b"PK\x03\x04\x14\x00\x00\x00\x08\x00binary\x01\x02", "zip archive"),       # a workbook given as CSV
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10", "binary data"),     # an image
    (b"id,c\x00reated\n1,2026-01-01\n", "binary data"),                          # NUL bytes inside "text"
])
def test_binary_data_given_as_csv_is_refused_by_name(tmp_path, capsys, content, says):
    export = tmp_path / "export.csv"
    export.write_bytes(content)
    code, report, _ = _run(tmp_path, export, "[columns]\nappeal_id = 'id'\ncreated_at = 'created'\n")
    assert code == 2 and report is None
    err = capsys.readouterr().err
    assert "export.csv" in err and says in err and "Traceback" not in err


def test_a_file_whose_header_lacks_the_mapped_columns_is_refused_even_with_no_rows(tmp_path, capsys):
    export = tmp_path / "page.csv"
    export.write_text("<!DOCTYPE html><html><body>登录已过期</body></html>", encoding="utf-8")
    code, _, _ = _run(tmp_path, export)
    assert code == 2
    err = capsys.readouterr().err
    assert "page.csv" in err and "does not have" in err


def test_a_utf16_export_is_read(tmp_path):
    export = tmp_path / "e.csv"
    export.write_bytes("id,created\nU1,2026-03-01 09:00\n".encode("utf-16"))
    code, report, _ = _run(tmp_path, export, "[columns]\nappeal_id = 'id'\ncreated_at = 'created'\n")
    assert code == 0 and report["inserted"] == 1


# ------------------------------------------------------------------ a huge field


def test_a_field_over_128_kib_quarantines_its_row_not_the_file(tmp_path):
    huge = "很长" * 70_000  # 140,000 characters
    export = _write(tmp_path / "e.csv", [
        ["L1", "2026-03-01 09:00", "", "", "fine"],
        ["L2", "2026-03-01 09:00", "", "", huge],          # row 3
        ["L3", "2026-03-01 09:00", "", "", "fine too"],
    ])
    code, report, _ = _run(tmp_path, export)
    assert code == 0
    assert (report["read"], report["inserted"], report["quarantined"]) == (3, 2, 1)
    assert report["quarantine_reasons"] == {"field_too_long": 1}
    rows = _quarantined(report)
    assert set(rows) == {"3"} and "'text'" in rows["3"]["_detail"] and "140,000" in rows["3"]["_detail"]
    assert rows["3"]["text"] == huge  # written whole
    assert set(_stored(tmp_path, "summary")) == {"L1", "L3"}


def test_an_unclosed_quote_is_quarantined_with_the_lines_it_swallowed(tmp_path):
    lines = ["id,created,deadline,closed,text", 'Q1,2026-03-01 09:00,,,"never closed']
    lines += [f"Q{i},2026-03-01 09:00,,,line {i} " + "x" * 200 for i in range(2, 1000)]
    export = tmp_path / "e.csv"
    export.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, report, _ = _run(tmp_path, export)
    assert code == 0 and report["read"] == report["quarantined"] == 1
    assert report["quarantine_reasons"] == {"field_too_long": 1}
    (detail,) = [r["_detail"] for r in _quarantined(report).values()]
    assert "line 2 to line 1000" in detail and "unclosed quote" in detail


# ------------------------------------------------------------------ a bad datetime_format


@pytest.mark.parametrize("pattern, says", [
    ("%Y-%m-%d %Q", "not a strptime pattern"),
    ("%Y-%m-%d %H:%M%", "not a strptime pattern"),
    ("%H:%M", "does not name a year, a month and a day"),
])
def test_a_bad_datetime_format_is_refused_by_name(tmp_path, capsys, pattern, says):
    export = _write(tmp_path / "e.csv", [["A1", "2026-03-01 09:00", "", "", ""]])
    code, _, _ = _run(tmp_path, export, f"[source]\ndatetime_format = '{pattern}'\n" + MAPPING)
    assert code == 2
    err = capsys.readouterr().err
    assert "m.toml" in err and "datetime_format" in err and says in err and "Traceback" not in err


def test_the_import_commands_keep_their_flags():
    sub = next(a for a in cli._parser()._actions if a.dest == "command")
    flags = {name: sorted(o for a in sub.choices[name]._actions for o in a.option_strings)
             for name in ("import-appeals", "import-regions")}
    assert flags == {
        "import-appeals": sorted(["--mapping", "--json", "--out", "--db", "-h", "--help"]),
        "import-regions": sorted(["--level", "--code-field", "--name-field", "--parent-field", "--population-field",
                                  "--crs", "--json", "--db", "-h", "--help"]),
    }
