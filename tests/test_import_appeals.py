"""import-appeals on a small hand-written export, with a GCJ-02 boundary file.

The world: district 900100 (a 0.04° square near Anshan) holding two grids side by
side, 900100001 (west half) and 900100002 (east half). Only the district and grid
levels exist. Boundaries and appeal points are given in GCJ-02, as Chinese apps do;
in WGS84 they lie about 0.0055° west and 0.0019° south of their GCJ-02 values.
"""

from __future__ import annotations

import csv
import io
import json
from contextlib import redirect_stdout
from pathlib import Path

import pytest
import shapely
from sqlalchemy import select

from data_access import cli, schema
from geo.crs import wgs84_to_gcj02

W, S = 123.00, 41.10           # the district's south-west corner, WGS84
MID = W + 0.02                 # the grids' shared edge, WGS84


def _gcj_box(x0, y0, x1, y1):
    box = shapely.box(x0, y0, x1, y1).segmentize(0.001)
    return shapely.transform(box, lambda xy: __import__("numpy").column_stack(wgs84_to_gcj02(xy[:, 0], xy[:, 1])))


def _geojson(path: Path, features) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": props, "geometry": shapely.geometry.mapping(geom)}
        for props, geom in features]}, ensure_ascii=False), encoding="utf-8")
    return path


def _gcj_point(lon, lat):
    x, y = wgs84_to_gcj02(lon, lat)
    return f"{float(x):.7f}", f"{float(y):.7f}"


MAPPING = """
[source]
format = "csv"
crs = "gcj02"
timezone = "Asia/Shanghai"

[columns]
appeal_id = "工单编号"
created_at = "受理时间"
deadline_at = "办理时限"
closed_at = "办结时间"
status = "状态"
category = "诉求类别"
channel = "来源渠道"
lon = "经度"
lat = "纬度"
address = "地址"
satisfaction = "满意度"

[values.status]
"办理中" = "open"
"已办结" = "closed"
"已撤销" = "cancelled"

[values.channel]
"8890热线" = "hotline"
"随手拍" = "app"

[values.satisfaction]
"满意" = "satisfied"
"基本满意" = "basic"
"不满意" = "unsatisfied"
"""

# A point 0.001° (WGS84) west of the grids' shared edge: in the west grid. Read as
# if it were WGS84, its GCJ-02 value lies 0.0045° east of the edge, in the east grid.
NEAR_EDGE = _gcj_point(MID - 0.001, S + 0.01)
WEST = _gcj_point(W + 0.005, S + 0.02)
EAST = _gcj_point(W + 0.03, S + 0.02)
OUTSIDE = _gcj_point(W + 0.5, S + 0.5)

HEADER = ["工单编号", "受理时间", "办理时限", "办结时间", "状态", "诉求类别", "来源渠道", "经度", "纬度", "地址", "满意度"]
ROWS = [
    # id    created             deadline            closed              status   category  channel     lon/lat     sat
    ["A1", "2026/03/01 09:00", "2026/03/06 09:00", "2026/03/03 10:00", "已办结", "供暖", "8890热线", *NEAR_EDGE, "东街1号", "满意"],
    ["A2", "2026-03-02 10:00", "2026-03-04 10:00", "2026-03-05 10:00", "已办结", "供暖", "随手拍", *EAST, "东街2号", "不满意"],
    ["A3", "2026年3月3日 8:30", "2026年3月5日 8:30", "", "办理中", "城市管理", "8890热线", *WEST, "西街3号", ""],
    ["A4", "2026/03/04 09:00", "", "", "办理中", "城市管理", "信箱", "", "", "无坐标", ""],
    ["A5", "2026/03/05 09:00", "2026/03/09 09:00", "2026/03/05 10:00", "已撤销", "物业", "8890热线", *EAST, "", ""],
    ["A6", "2026/03/06 09:00", "2026/03/08 09:00", "2026/03/07 09:00", "已办结", "物业", "8890热线", *OUTSIDE, "", "基本满意"],
    ["A7", "2026/03/07 09:00", "2026/03/08 09:00", "2026/03/06 09:00", "已办结", "", "8890热线", *WEST, "", "很好"],
    ["", "2026/03/08 09:00", "", "", "办理中", "供暖", "8890热线", *WEST, "", ""],            # no id
    ["A9", "yesterday", "", "", "办理中", "供暖", "8890热线", *WEST, "", ""],                # bad date
    ["A10", "2026/03/08 09:00", "", "", "转办", "供暖", "8890热线", *WEST, "", ""],          # unmapped status
    ["A1", "2026/03/09 09:00", "", "", "办理中", "供暖", "8890热线", *WEST, "", ""],          # duplicate id
]
MALFORMED_LINE = "A12,2026/03/09 09:00,,,办理中,供暖,8890热线,1,2,x,y,EXTRA"


def _csv(rows) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return buf.getvalue()


def run_cli(*args) -> dict:
    out = io.StringIO()
    with redirect_stdout(out):
        assert cli.main(list(args)) == 0
    return json.loads(out.getvalue())


@pytest.fixture
def world(tmp_path, sor):
    url = str(sor.url)
    district = _geojson(tmp_path / "district.geojson", [({"code": "900100", "name": "测试区"},
                                                         _gcj_box(W, S, W + 0.04, S + 0.04))])
    grids = _geojson(tmp_path / "grids.geojson", [
        ({"code": "900100001", "name": "西网格", "pop": 1000}, _gcj_box(W, S, MID, S + 0.04)),
        ({"code": "900100002", "name": "东网格", "pop": 3000}, _gcj_box(MID, S, W + 0.04, S + 0.04)),
    ])
    run_cli("import-regions", str(district), "--level", "district", "--code-field", "code", "--name-field", "name",
            "--crs", "gcj02", "--json", "--db", url)
    run_cli("import-regions", str(grids), "--level", "grid", "--code-field", "code", "--name-field", "name",
            "--population-field", "pop", "--crs", "gcj02", "--json", "--db", url)
    export = tmp_path / "export.csv"
    export.write_text(_csv(ROWS) + MALFORMED_LINE + "\n", encoding="utf-8")
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(MAPPING, encoding="utf-8")
    return {"url": url, "engine": sor, "export": export, "mapping": mapping, "out": tmp_path / "reports"}


def _import(world) -> dict:
    return run_cli("import-appeals", str(world["export"]), "--mapping", str(world["mapping"]), "--json",
                   "--db", world["url"], "--out", str(world["out"]))


def test_report_counts(world):
    report = _import(world)
    assert report["read"] == 12
    assert (report["inserted"], report["updated"], report["unchanged"], report["quarantined"]) == (7, 0, 0, 5)
    assert report["quarantine_reasons"] == {"bad_created_at": 1, "duplicate_appeal_id": 1, "malformed_row": 1,
                                            "missing_appeal_id": 1, "unmapped_status": 1}
    assert report["warnings"] == {
        "missing_deadline": 1,        # A4
        "no_location": 1,             # A4
        "unmapped_channel": 1,        # A4: 信箱
        "outside_regions": 1,         # A6
        "closed_before_created": 1,   # A7
        "missing_category": 1,        # A7
        "unmapped_satisfaction": 1,   # A7: 很好
    }


def test_assigned_grids_use_the_converted_coordinates(world):
    _import(world)
    a = schema.appeals
    with world["engine"].connect() as conn:
        rows = dict(conn.execute(select(a.c.appeal_id, a.c.grid_code)).all())
        flags = dict(conn.execute(select(a.c.appeal_id, a.c.quality_flags)).all())
        a1 = conn.execute(select(a.c.lon, a.c.lat).where(a.c.appeal_id == "A1")).one()
    assert rows == {"A1": "900100001", "A2": "900100002", "A3": "900100001", "A4": None, "A5": "900100002",
                    "A6": None, "A7": "900100001"}
    assert a1.lon == pytest.approx(MID - 0.001, abs=1e-6) and a1.lat == pytest.approx(S + 0.01, abs=1e-6)
    assert flags["A1"] is None
    assert set(flags["A7"].split(",")) == {"closed_before_created", "missing_category", "unmapped_satisfaction"}


def test_quarantine_file_holds_the_rows_whole(world):
    report = _import(world)
    with open(report["quarantine_file"], encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    by_row = {r["_row"]: r for r in rows}
    assert set(by_row) == {"9", "10", "11", "12", "13"}  # spreadsheet rows: header is row 1
    assert by_row["9"]["_reason"] == "missing_appeal_id" and by_row["9"]["受理时间"] == "2026/03/08 09:00"
    assert by_row["10"]["_reason"] == "bad_created_at" and by_row["10"]["受理时间"] == "yesterday"
    assert by_row["11"]["_reason"] == "unmapped_status" and "转办" in by_row["11"]["_detail"]
    assert by_row["12"]["_reason"] == "duplicate_appeal_id" and "row 2" in by_row["12"]["_detail"]
    assert by_row["13"]["_reason"] == "malformed_row" and by_row["13"]["_extra_fields"] == "EXTRA"
    assert Path(report["quarantine_file"]).parent == world["out"]


def test_kpis_json_on_the_imported_data(world):
    _import(world)
    kpis = run_cli("kpis", "--json", "--db", world["url"], "--from", "2026-03-01", "--to", "2026-03-31",
                   "--as-of", "2026-03-10T12:00")
    # received A1-A7 (7); cancelled A5; closed A1 A2 A6 A7; open A3 (overdue since 03-05) and A4 (no deadline)
    assert kpis["received"] == 7 and kpis["cancelled"] == 1 and kpis["closed"] == 4
    assert kpis["overdue_open"] == 1 and kpis["due_soon_open"] == 0
    assert kpis["completion_rate"] == pytest.approx(4 / 6)
    # on time: A1 (03-03 ≤ 03-06), A6 (03-07 ≤ 03-08), A7 (closed before created, ≤ deadline) / A1 A2 A6 A7 + A3
    assert kpis["on_time_rate"] == pytest.approx(3 / 5)
    # rated: A1 满意, A2 不满意, A6 基本满意 (A7's answer is unmapped, so unrated)
    assert kpis["satisfaction_rate"] == pytest.approx(2 / 3)
    assert kpis["in_grid_rate"] is None  # an export without handling levels cannot tell
    district = run_cli("kpis", "--json", "--db", world["url"], "--scope", "900100001", "--as-of", "2026-03-10T12:00")
    assert district["received"] == 3  # A1 A3 A7 in the west grid


def test_reimporting_changes_nothing_and_a_correction_updates_one_row(world):
    first = _import(world)
    a = schema.appeals
    with world["engine"].connect() as conn:
        stamps = dict(conn.execute(select(a.c.appeal_id, a.c.updated_at)).all())
    again = _import(world)
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, first["inserted"])
    with world["engine"].connect() as conn:
        assert dict(conn.execute(select(a.c.appeal_id, a.c.updated_at)).all()) == stamps

    corrected = [list(r) for r in ROWS]
    corrected[2][3] = "2026/03/09 17:00"   # A3 now closed
    corrected[2][4] = "已办结"
    world["export"].write_text(_csv(corrected) + MALFORMED_LINE + "\n", encoding="utf-8")
    fixed = _import(world)
    assert (fixed["inserted"], fixed["updated"], fixed["unchanged"], fixed["quarantined"]) == (0, 1, 6, 5)
    with world["engine"].connect() as conn:
        assert conn.execute(select(a.c.status).where(a.c.appeal_id == "A3")).scalar_one() == "closed"


@pytest.mark.attack("imports")
@pytest.mark.parametrize("mapping_text, message", [
    ("[source]\nformat = 'pdf'\n[columns]\nappeal_id='a'\ncreated_at='b'\n", "format"),
    ("[columns]\nappeal_id='a'\n", "created_at"),
    ("[columns]\nappeal_id='a'\ncreated_at='b'\n[values.status]\n'x' = 'done'\n", "'done' is not one of"),
    ("[source]\ntimezone = 'Mars/Olympus'\n[columns]\nappeal_id='a'\ncreated_at='b'\n", "IANA"),
    ("[columns]\nappeal_id='a'\ncreated_at='b'\nphone='c'\n", "unknown key"),
    ("[columns\n", "not valid TOML"),
])
def test_a_bad_mapping_is_refused_by_name(tmp_path, capsys, mapping_text, message):
    mapping = tmp_path / "m.toml"
    mapping.write_text(mapping_text, encoding="utf-8")
    export = tmp_path / "e.csv"
    export.write_text("a,b\n1,2026-01-01\n", encoding="utf-8")
    assert cli.main(["import-appeals", str(export), "--mapping", str(mapping), "--db",
                     f"sqlite:///{tmp_path / 'x.db'}"]) == 2
    err = capsys.readouterr().err
    assert message in err and "m.toml" in err


@pytest.mark.attack("imports")
def test_a_mapping_naming_a_missing_column_is_refused(tmp_path, capsys):
    mapping = tmp_path / "m.toml"
    mapping.write_text("[columns]\nappeal_id='id'\ncreated_at='when'\n", encoding="utf-8")
    export = tmp_path / "e.csv"
    export.write_text("id,created\n1,2026-01-01\n", encoding="utf-8")
    assert cli.main(["import-appeals", str(export), "--mapping", str(mapping), "--db",
                     f"sqlite:///{tmp_path / 'x.db'}"]) == 2
    err = capsys.readouterr().err
    assert "when" in err and "e.csv" in err and "created" in err


def test_excel_and_open311_exports(tmp_path, sor):
    import datetime as dt

    from openpyxl import Workbook

    url = str(sor.url)
    book = Workbook()
    sheet = book.active
    sheet.append(["编号", "时间", "状态", "类别"])
    sheet.append(["X1", dt.datetime(2026, 3, 1, 9, 30), "已办结", "供暖"])   # Excel holds a real date-time
    sheet.append(["X2", "2026-03-02 10:00", "办理中", "城市管理"])
    sheet.append([None, None, None, None])                                   # a blank row is not a record
    sheet.append(["X3", 46083.5, "办理中", "供暖"])                           # a number is not a time: quarantined
    workbook = tmp_path / "export.xlsx"
    book.save(workbook)
    mapping = tmp_path / "xlsx.toml"
    mapping.write_text('[source]\nformat = "xlsx"\n[columns]\nappeal_id = "编号"\ncreated_at = "时间"\n'
                       'status = "状态"\ncategory = "类别"\n[values.status]\n"已办结" = "closed"\n"办理中" = "open"\n',
                       encoding="utf-8")
    report = run_cli("import-appeals", str(workbook), "--mapping", str(mapping), "--json", "--db", url,
                     "--out", str(tmp_path))
    assert (report["read"], report["inserted"], report["quarantined"]) == (3, 2, 1)
    assert report["quarantine_reasons"] == {"bad_created_at": 1}

    requests = [
        {"service_request_id": "311-1", "status": "closed", "service_name": "Pothole", "requested_datetime":
         "2026-03-01T09:00:00-08:00", "updated_datetime": "2026-03-02T10:00:00-08:00", "lat": 34.05, "long": -118.25,
         "agency_responsible": "Streets", "description": "deep hole"},
        {"service_request_id": "311-2", "status": "open", "service_name": "Graffiti",
         "requested_datetime": "2026-03-03T12:00:00Z", "lat": None, "long": None},
        "not an object",
    ]
    feed = tmp_path / "requests.json"
    feed.write_text(json.dumps(requests), encoding="utf-8")
    mapping = tmp_path / "open311.toml"
    mapping.write_text('[source]\nformat = "open311"\ntimezone = "America/Los_Angeles"\n[columns]\n'
                       'appeal_id = "service_request_id"\ncreated_at = "requested_datetime"\n'
                       'closed_at = "updated_datetime"\nstatus = "status"\ncategory = "service_name"\n'
                       'department = "agency_responsible"\nlat = "lat"\nlon = "long"\nsummary = "description"\n',
                       encoding="utf-8")
    report = run_cli("import-appeals", str(feed), "--mapping", str(mapping), "--json", "--db", url,
                     "--out", str(tmp_path))
    assert (report["read"], report["inserted"], report["quarantined"]) == (3, 2, 1)
    assert report["quarantine_reasons"] == {"malformed_row": 1}
    a = schema.appeals
    with sor.connect() as conn:
        created = conn.execute(select(a.c.created_at).where(a.c.appeal_id == "311-1")).scalar_one()
        dept = conn.execute(select(a.c.department_code).where(a.c.appeal_id == "311-1")).scalar_one()
    # 09:00 at -08:00 is 17:00 UTC, 01:00 the next day in Shanghai (the city's default zone)
    assert created == dt.datetime(2026, 3, 2, 1, 0)
    assert dept == "Streets"
