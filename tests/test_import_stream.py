"""import-appeals in batches: the same result whatever the batch size, memory that does not grow
with the file, and an interrupted import that a re-run completes (docs/import.md).

The export below has a few hundred rows, so a batch size of 40 spreads it over many
batches and puts every whole-file decision across batch boundaries: the day/month
reading of a column (only rows far down the file decide it), an id given twice in
different batches, a point shared by many rows in several batches (some of them
quarantined), row numbers shifted by blank lines and by a quoted field over three lines.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from data_access import schema
from data_access.importers import appeals as importer
from data_access.importers.appeals import import_appeals
from data_access.importers.mapping import parse_mapping
from data_access.importers.times import parse_times
from data_access.store import bulk_insert, create_schema, make_engine
from geo.crs import wgs84_to_gcj02

pytestmark = pytest.mark.attack("imports")

ROOT = Path(__file__).resolve().parent.parent
SMALL = 40  # records per batch in these tests
W, S = 123.00, 41.10  # the district's south-west corner (WGS84); two grids split it at W + 0.02
MAPPING = parse_mapping({
    "source": {"format": "csv", "crs": "gcj02", "timezone": "Asia/Shanghai"},
    "columns": {"appeal_id": "编号", "created_at": "受理时间", "deadline_at": "时限", "closed_at": "办结时间",
                "status": "状态", "category": "类别", "department": "承办单位", "lon": "经度", "lat": "纬度",
                "summary": "内容"},
    "values": {"status": {"办理中": "open", "已办结": "closed"}},
})
HEADER = ["编号", "受理时间", "时限", "办结时间", "状态", "类别", "承办单位", "经度", "纬度", "内容"]
CROWDED = (W + 0.011, S + 0.012)  # 30 rows on this point, 27 of them importable: a geocoder's fallback
NEARLY = (W + 0.031, S + 0.027)   # 26 rows on this point, only 24 importable: not flagged (the minimum is 25)
ON_CROWDED = list(range(2, 320, 10))[:30]
ON_NEARLY = list(range(7, 320, 12))[:26]
UNMAPPED = {108, *ON_CROWDED[:3]}  # status 转办: quarantined
MONTH_FIRST = set(ON_NEARLY[:2])  # created 11/22/2026: month first only, in a day-first column: quarantined
NO_POINT = {9, 50, 133, 214, 255, 296}
# and row 150 (R0005 again), R9999 (malformed)
QUARANTINED_IDS = {f"R{i:04d}" for i in UNMAPPED | MONTH_FIRST} | {"R0200"}
AS_OF = dt.datetime(2026, 7, 1, 12, 0)


def _gcj(lon, lat) -> tuple[str, str]:
    x, y = wgs84_to_gcj02(lon, lat)
    return f"{float(x):.7f}", f"{float(y):.7f}"


def _regions(engine) -> None:
    stamp = dt.datetime(2026, 1, 1)
    rows = [("900100", "测试区", "district", None, shapely.box(W, S, W + 0.04, S + 0.04)),
            ("900100001", "西网格", "grid", "900100", shapely.box(W, S, W + 0.02, S + 0.04)),
            ("900100002", "东网格", "grid", "900100", shapely.box(W + 0.02, S, W + 0.04, S + 0.04))]
    bulk_insert(engine, schema.regions, ["code", "name", "level", "parent_code", "geometry", "updated_at"],
                [(code, name, level, parent, shapely.to_wkb(geom), stamp) for code, name, level, parent, geom in rows])


def _export_rows() -> list[list[str]]:
    """Rows 2… of the export (the header is row 1), before blank lines and the long quoted field."""
    rng = np.random.default_rng(5)
    rows = []
    for i in range(320):
        day, month = 1 + i % 12, 1 + (i // 12) % 12
        # day/month: rows 0-279 read both ways (dd/mm with dd ≤ 12); rows from 280 on only day first
        created = f"{day:02d}/{month:02d}/2026 09:{i % 60:02d}" if i < 280 else f"{13 + i % 15}/05/2026 10:00"
        if i in MONTH_FIRST:
            created = "11/22/2026 09:00"
        deadline = "9999-12-31" if i % 50 == 7 else f"2026-{month:02d}-{min(day + 5, 28):02d} 18:00"
        closed = f"2026-{month:02d}-{min(day + 2, 28):02d} 17:30" if i % 3 and i not in UNMAPPED else ""
        status = "已办结" if closed else ("转办" if i in UNMAPPED else "办理中")
        lon, lat = W + 0.002 + 0.036 * rng.random(), S + 0.002 + 0.036 * rng.random()
        if i in ON_CROWDED:
            lon, lat = CROWDED
        elif i in ON_NEARLY:
            lon, lat = NEARLY
        x, y = ("", "") if i in NO_POINT else _gcj(lon, lat)
        rows.append([f"R{i:04d}", created, deadline, closed, status, ["供暖", "物业", ""][i % 3],
                     ["住建局", "城管局", "供暖办"][i % 3], x, y, f"第{i}件：楼道灯不亮"])
    rows[150][0] = "R0005"   # an id given twice, far apart: quarantined, naming the first row
    rows[200][1] = "待补录"   # an unreadable creation time
    rows[33][1] = "1700000000"  # an epoch, read as such in a column of day-first dates
    return rows


def _write_export(path: Path, rows, *, plain: bool = False) -> Path:
    """The export; unless ``plain``, with blank lines, a field over three lines and a malformed line."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(HEADER)
    if plain:
        writer.writerows(rows)
        path.write_text(buf.getvalue(), encoding="utf-8")
        return path
    for i, row in enumerate(rows):
        if i in (60, 61, 130):
            buf.write("\n")  # blank lines: not records, but they move the row numbers
        if i == 90:
            row = [*row[:-1], "第一行\n第二行\n第三行"]  # a quoted field over three lines
        writer.writerow(row)
        if i == 170:
            buf.write("R9999,2026-05-01 10:00,,,办理中,供暖\n")  # malformed: 6 fields
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def _stored(engine) -> dict[str, dict]:
    a = schema.appeals
    cols = [c for c in a.c if c.name != "updated_at"]
    with engine.connect() as conn:
        return {r["appeal_id"]: dict(r) for r in conn.execute(select(*cols)).mappings()}


def _import(engine, export, out, batch_size, **kw):
    return import_appeals(engine, export, MAPPING, timezone="Asia/Shanghai", out_dir=out, now=AS_OF,
                          batch_size=batch_size, **kw)


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> Path:
    return _write_export(tmp_path_factory.mktemp("export") / "export.csv", _export_rows())


def _database(folder: Path):
    engine = make_engine(f"sqlite:///{folder / 'appeals.db'}")
    create_schema(engine)
    _regions(engine)
    return engine


@pytest.fixture(scope="module")
def single(tmp_path_factory, export):
    """The export imported in one batch (the whole file at once)."""
    folder = tmp_path_factory.mktemp("single")
    engine = _database(folder)
    report = _import(engine, export, folder / "out", 10**6)
    yield engine, report
    engine.dispose()


@pytest.fixture(scope="module")
def batched(tmp_path_factory, export):
    folder = tmp_path_factory.mktemp("batched")
    engine = _database(folder)
    report = _import(engine, export, folder / "out", SMALL)
    yield engine, report
    engine.dispose()


def _quarantine_rows(report) -> list[dict]:
    with open(report.quarantine_file, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


# ------------------------------------------------------------ same result ---

def test_batches_give_the_same_report_as_one_batch(single, batched):
    one, many = single[1].as_dict(), batched[1].as_dict()
    assert one["read"] == 321 > 8 * SMALL  # the file spans nine batches
    assert {k: v for k, v in many.items() if k != "quarantine_file"} == \
        {k: v for k, v in one.items() if k != "quarantine_file"}
    assert many["read"] == many["inserted"] + many["updated"] + many["unchanged"] + many["quarantined"]


def test_batches_store_the_same_rows_as_one_batch(single, batched):
    one, many = _stored(single[0]), _stored(batched[0])
    assert set(one) == set(many) == {f"R{i:04d}" for i in range(320) if i != 150} - QUARANTINED_IDS
    for key, row in one.items():
        other = many[key]
        for column, value in row.items():
            if isinstance(value, float):
                assert other[column] == pytest.approx(value, abs=1e-9), (key, column)
            else:
                assert other[column] == value, (key, column)


def test_batches_on_every_database(any_sor, tmp_path, export, single):
    """In batches on SQLite, PostgreSQL and MariaDB: the rows of a one-batch import; again, nothing changes."""
    _regions(any_sor)
    report = _import(any_sor, export, tmp_path / "out", SMALL)
    assert {k: v for k, v in report.as_dict().items() if k != "quarantine_file"} == \
        {k: v for k, v in single[1].as_dict().items() if k != "quarantine_file"}
    one, here = _stored(single[0]), _stored(any_sor)
    assert set(here) == set(one)
    for key, row in one.items():
        for column, value in row.items():
            got = here[key][column]
            assert got == pytest.approx(value, abs=1e-9) if isinstance(value, float) else got == value, (key, column)
    again = _import(any_sor, export, tmp_path / "out", SMALL)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, report.inserted)


def test_the_quarantine_file_is_the_same_and_numbers_the_real_rows(single, batched):
    one, many = _quarantine_rows(single[1]), _quarantine_rows(batched[1])
    assert many == one
    by_row = {int(r["_row"]): r for r in many}
    # the export's row i sits on line i + 2, plus 2 blank lines before row 60, 1 before 130,
    # 2 extra lines from row 90's three-line field, and the malformed line after row 170
    def line(i):
        return i + 2 + 2 * (i >= 60) + 2 * (i >= 90) + (i >= 130) + (i >= 171)
    assert by_row[line(150)]["_reason"] == "duplicate_appeal_id"
    assert by_row[line(150)]["_detail"] == f"appeal id R0005 already at row {line(5)}"
    assert by_row[line(200)]["_reason"] == "bad_created_at" and by_row[line(200)]["受理时间"] == "待补录"
    for i in MONTH_FIRST:
        assert by_row[line(i)]["_reason"] == "bad_created_at" and "day first" in by_row[line(i)]["_detail"]
    assert by_row[line(170) + 1]["_reason"] == "malformed_row" and by_row[line(170) + 1]["编号"] == "R9999"
    assert {r for r, q in by_row.items() if q["_reason"] == "unmapped_status"} == {line(i) for i in UNMAPPED}
    assert len(many) == 9


def test_the_day_month_reading_is_decided_by_the_whole_column(batched):
    engine, report = batched
    # rows 0-279 read both ways; rows 280 on (the last batches) only day first: the whole column is day first
    # (one epoch and one ISO time, the malformed row's: a tie, in the order the layouts are tried)
    assert report.time_formats["created_at"] == ["%d/%m/%Y %H:%M", "Unix seconds/milliseconds", "ISO 8601"]
    assert report.time_order_undecided == []
    stored = _stored(engine)
    assert stored["R0001"]["created_at"] == dt.datetime(2026, 1, 2, 9, 1)     # 02/01/2026: 2 January
    assert stored["R0013"]["created_at"] == dt.datetime(2026, 2, 2, 9, 13)    # 02/02/2026
    assert stored["R0027"]["created_at"] == dt.datetime(2026, 3, 4, 9, 27)    # 04/03/2026: 4 March


def test_a_column_no_row_decides_is_undecided_in_every_batch(tmp_path):
    rows = [[f"U{i}", f"{1 + i % 12:02d}/{1 + i // 12 % 12:02d}/2026 08:00", "", "", "办理中", "", "", "", "", ""]
            for i in range(100)]
    export = _write_export(tmp_path / "e.csv", rows)
    engine = _database(tmp_path)
    report = _import(engine, export, tmp_path / "out", 30)
    assert report.time_order_undecided == ["created_at"] and report.time_formats["created_at"] == ["%m/%d/%Y %H:%M"]
    assert _stored(engine)["U1"]["created_at"] == dt.datetime(2026, 2, 1, 8, 0)  # "02/01/2026" read month first


def test_an_id_given_twice_in_different_batches_imports_the_first(batched):
    engine, report = batched
    assert report.quarantine_reasons["duplicate_appeal_id"] == 1
    assert _stored(engine)["R0005"]["summary"] == "第5件：楼道灯不亮"  # the first, not row 150's


def test_a_point_shared_across_batches_is_judged_on_the_whole_file(batched):
    engine, report = batched
    stored = _stored(engine)
    flagged = {k for k, r in stored.items() if r["quality_flags"] and "default_point" in r["quality_flags"]}
    assert flagged == {f"R{i:04d}" for i in ON_CROWDED} - QUARANTINED_IDS and len(flagged) == 27
    assert report.warnings["default_point"] == 27
    nearly = {f"R{i:04d}" for i in ON_NEARLY} - QUARANTINED_IDS
    assert len(nearly) == 24 and nearly <= set(stored) and not flagged & nearly  # 26 rows, 2 quarantined: < 25


def test_a_point_near_the_minimum_is_counted_exactly(tmp_path, monkeypatch):
    """ISO times, and ids given twice: the first pass cannot be sure, so the rows on the point are read again."""
    p, q = _gcj(W + 0.005, S + 0.005), _gcj(W + 0.025, S + 0.025)
    rows = [[f"P{i:03d}", "2026-03-01 09:00", "", "", "办理中", "", "", *p, ""] for i in range(24)]
    rows += [[f"Q{i:03d}", "2026-03-01 09:00", "", "", "办理中", "", "", *q, ""] for i in range(26)]
    rows += [[f"X{i:03d}", "2026-03-01 09:00", "", "", "办理中", "", "", "", "", ""] for i in range(60)]
    rows[70][0] = "P003"  # an id on p, again, on p: 25 rows on p, 24 imported
    rows[70][7:9] = p
    rows[40][0] = "P001"  # an id on p, again, on q (Q016's row): 26 rows on q, 25 imported
    export = _write_export(tmp_path / "e.csv", rows, plain=True)
    rereads = []
    real = importer._crowded
    monkeypatch.setattr(importer, "_crowded", lambda *a, **k: rereads.append(1) or real(*a, **k))
    engine = _database(tmp_path)
    report = _import(engine, export, tmp_path / "out", 7)
    assert rereads and report.quarantine_reasons == {"duplicate_appeal_id": 2}
    flagged = {k for k, r in _stored(engine).items() if r["quality_flags"] and "default_point" in r["quality_flags"]}
    assert flagged == {f"Q{i:03d}" for i in range(26)} - {"Q016"}


def test_no_second_read_when_the_first_pass_is_sure(tmp_path, monkeypatch):
    p = _gcj(W + 0.005, S + 0.005)
    rows = [[f"P{i:03d}", "2026-03-01 09:00", "", "", "办理中", "", "", *p, ""] for i in range(30)]
    rows += [[f"N{i:03d}", "2026-03-01 09:00", "", "", "转办", "", "", *p, ""] for i in range(10)]
    export = _write_export(tmp_path / "e.csv", rows, plain=True)
    monkeypatch.setattr(importer, "_crowded", lambda *a, **k: pytest.fail("read again"))
    engine = _database(tmp_path)
    report = _import(engine, export, tmp_path / "out", 7)
    assert report.warnings["default_point"] == 30 and report.quarantined == 10


# ------------------------------------------------------------ interrupted ---

def test_an_interrupted_import_keeps_whole_batches_and_a_rerun_completes_it(tmp_path, monkeypatch, export, single):
    engine = _database(tmp_path)
    real, calls = importer._import_batch, []

    def stops_after_two(*args, **kwargs):
        if len(calls) == 2:
            raise KeyboardInterrupt("the operator pressed Ctrl-C")
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(importer, "_import_batch", stops_after_two)
    with pytest.raises(KeyboardInterrupt):
        _import(engine, export, tmp_path / "out", SMALL)
    monkeypatch.undo()

    # readers see the two committed batches, whole, and the mark of the import under way
    seen = _stored(engine)
    assert set(seen) == {f"R{i:04d}" for i in range(2 * SMALL)} - QUARANTINED_IDS
    a = schema.city_settings
    with engine.connect() as conn:
        mark = json.loads(conn.execute(select(a.c.value).where(a.c.key == "import_in_progress")).scalar_one())
    assert mark["file"] == "export.csv" and mark["rows_done"] == 2 * SMALL

    again = _import(engine, export, tmp_path / "out", SMALL)
    assert again.resumed["file"] == "export.csv" and again.resumed["rows_done"] == 2 * SMALL
    assert again.as_dict()["resumed"] == again.resumed
    whole = single[1]
    assert (again.unchanged, again.inserted, again.updated) == (len(seen), whole.inserted - len(seen), 0)
    assert again.read == whole.read and again.quarantined == whole.quarantined
    assert _stored(engine).keys() == _stored(single[0]).keys()
    with engine.connect() as conn:
        assert conn.execute(select(a.c.value).where(a.c.key == "import_in_progress")).first() is None
    assert "resumed" not in _import(engine, export, tmp_path / "out", SMALL).as_dict()  # a finished import leaves no mark


def test_kill_9_mid_import_leaves_whole_batches_and_the_mark(tmp_path):
    """The real command, killed with SIGKILL after its first commits."""
    rows = [[f"K{i:05d}", "2026-03-01 09:00", "", "", "办理中", "供暖", "", "", "", "x" * 200]
            for i in range(12_000)]
    export = _write_export(tmp_path / "big.csv", rows, plain=True)
    mapping = tmp_path / "m.toml"
    mapping.write_text("[columns]\nappeal_id = '编号'\ncreated_at = '受理时间'\nsummary = '内容'\n", encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'appeals.db'}"
    engine = make_engine(url)
    create_schema(engine)
    env = {**os.environ, "APPEALS_IMPORT_BATCH_ROWS": "150", "APPEALS_TZ": "Asia/Shanghai", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "data_access", "import-appeals", str(export), "--mapping", str(mapping),
               "--json", "--db", url, "--out", str(tmp_path / "out")]
    child = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    a, mark = schema.appeals, schema.city_settings
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and child.poll() is None:
            with engine.connect() as conn:
                if conn.execute(select(a.c.appeal_id).limit(1)).first() is not None:
                    break
            time.sleep(0.02)
        child.kill()
    finally:
        child.wait()
    assert child.returncode == -9, "the import finished before it could be killed"
    with engine.connect() as conn:
        stored = conn.execute(select(a.c.appeal_id).order_by(a.c.appeal_id)).scalars().all()
        done = json.loads(conn.execute(select(mark.c.value).where(mark.c.key == "import_in_progress")).scalar_one())
    assert 0 < len(stored) < len(rows)
    assert len(stored) % 150 == 0 and stored == [f"K{i:05d}" for i in range(len(stored))]  # whole batches, in order
    assert done["rows_done"] == len(stored)

    # the re-run says so, and completes the import
    text = subprocess.run([c for c in command if c != "--json"], cwd=ROOT, env=env, capture_output=True, text=True,
                          check=True).stdout
    counts = {k: int(v.replace(",", "")) for k, v in re.findall(r"^  (\w+) +([\d,]+)$", text, re.M)}
    assert "an import of big.csv started" in text and f"did not finish ({len(stored):,} rows written)" in text
    assert (counts["unchanged"], counts["inserted"]) == (len(stored), len(rows) - len(stored))


# ---------------------------------------------------------------- memory ---

# Runs the command line in this interpreter and prints the process's own peak memory (VmHWM) as it
# exits. (ru_maxrss of a child is no good here: it counts the parent's pages the child started with.)
# SQLite's page cache is left at its default 2 MiB, so that the importer's own memory is measured
# (the import gives its connection 256 MiB, a cache that fills with the pages it writes).
_MEASURED = ("import atexit, runpy, sys\n"
             "atexit.register(lambda: print(open('/proc/self/status').read().split('VmHWM:')[1].split()[0],"
             " file=sys.stderr))\n"
             "import data_access.importers.appeals as importer\n"
             "importer.SQLITE_CACHE_KIB = 2000\n"
             "sys.argv = ['data_access', *sys.argv[1:]]\n"
             "runpy.run_module('data_access', run_name='__main__')\n")


def _peak_rss(args, env) -> int:
    done = subprocess.run([sys.executable, "-c", _MEASURED, *args], cwd=ROOT, env=env, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    return int(done.stderr.split()[-1]) * 1024


def test_memory_does_not_grow_with_the_file(tmp_path):
    """A 60 MB export takes no more memory than a 60 kB one, give or take a batch."""
    text = "居民反映小区供暖不热，" * 300  # 3,300 characters, 9.9 kB of UTF-8
    mapping = tmp_path / "m.toml"
    mapping.write_text("[columns]\nappeal_id = '编号'\ncreated_at = '受理时间'\nsummary = '内容'\n", encoding="utf-8")
    env = {**os.environ, "APPEALS_IMPORT_BATCH_ROWS": "200", "APPEALS_TZ": "Asia/Shanghai", "PYTHONPATH": str(ROOT)}
    peaks = {}
    for rows in (10, 6_000):
        export = _write_export(tmp_path / f"e{rows}.csv", [
            [f"M{i:05d}", "2026-03-01 09:00", "", "", "办理中", "", "", "", "", text] for i in range(rows)])
        peaks[rows] = _peak_rss(["import-appeals", str(export), "--mapping", str(mapping), "--json",
                                 "--db", f"sqlite:///{tmp_path / f'{rows}.db'}", "--out", str(tmp_path / "out")], env)
    size = (tmp_path / "e6000.csv").stat().st_size
    assert size > 55e6
    assert peaks[6_000] - peaks[10] < 0.25 * size, {k: round(v / 1e6) for k, v in peaks.items()}


# ----------------------------------------------------- the reading itself ---

VALUES = st.sampled_from([
    "03/04/2026", "04/03/2026", "13/04/2026", "11/22/2026", "2026-04-20", "2026-04-20 09:30", "20260420",
    "2026/04/20 09:30", "2026年4月20日 9:30", "1700000000", "2026-04-20T09:30:00+08:00", "04.03.2026 10:00",
    "03/04/2026 09:30", "13/04/2026 09:30", "11/22/2026 10:00", "12/31/9999 11:59:59 PM", "", "yesterday",
    "03/04/2026 09:30:00 PM", "20260420093000",
])


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(VALUES, min_size=1, max_size=60), st.integers(min_value=1, max_value=13))
def test_a_column_read_batch_by_batch_reads_as_the_whole_column(values, size):
    from data_access.importers.times import LayoutScan

    column = pd.Series(values, dtype=object)
    whole = parse_times(column, fmt=None, source_tz="Asia/Shanghai", city_tz="Asia/Shanghai")
    scan = LayoutScan()
    for start in range(0, len(column), size):
        scan.add(column.iloc[start:start + size])
    reading = scan.reading()
    parts = [parse_times(column.iloc[start:start + size], fmt=None, source_tz="Asia/Shanghai",
                         city_tz="Asia/Shanghai", reading=reading) for start in range(0, len(column), size)]
    assert reading.undecided == whole.undecided
    assert pd.concat([p.values for p in parts]).tolist() == whole.values.tolist()
    assert pd.concat([p.beyond for p in parts]).tolist() == whole.beyond.tolist()
    counts = {}
    for p in parts:
        for layout, n in p.counts.items():
            counts[layout] = counts.get(layout, 0) + n
    assert reading.ordered(counts) == list(whole.layouts)
