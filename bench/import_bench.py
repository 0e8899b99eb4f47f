"""Benchmark of ``import-appeals`` on a large synthetic export: time and peak memory.

    python bench/import_bench.py                    # 1,000,000 rows
    python bench/import_bench.py --rows 3000000     # 3 million
    python bench/import_bench.py --rows 1000000 --again   # and import the same file a second time

A synthetic hotline export (24 columns with Chinese headers, the way a city's
system exports them: ids, times as ``2024-03-15 09:12:33``, status, category,
channel, department, GCJ-02 coordinates, address, a sentence of text, the
caller's name and phone and a dozen columns the mapping ignores) is written
once under ``bench/out/import/`` and reused. Its points fall in the grids of
the demo city (``geo.territory``, 3,000 grids); a few rows carry what real
exports carry: no coordinates, a deadline of ``9999-12-31``, an unreadable
creation time, an id given twice, the geocoder's fallback point.

Each run loads the demo city's regions into a new SQLite database and runs the
real command (``python -m data_access import-appeals … --json``) in a child
process, and prints one JSON line: rows, wall time, the child's CPU time (user
+ system: what the import cost, whatever else the machine is doing), rows per
second, the child's peak resident memory (its own ``VmHWM``, read as it
exits), the machine's load average, and the import report's counts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MAPPING = """\
[source]
format = "csv"
crs = "gcj02"
timezone = "Asia/Shanghai"

[columns]
appeal_id = "工单编号"
created_at = "受理时间"
deadline_at = "办理时限"
closed_at = "办结时间"
status = "办理状态"
category = "诉求类别"
subcategory = "诉求小类"
channel = "来源渠道"
department = "承办单位"
lon = "经度"
lat = "纬度"
address = "诉求地址"
satisfaction = "回访满意度"
summary = "诉求内容"

[values.status]
"办理中" = "open"
"已办结" = "closed"
"已撤销" = "cancelled"

[values.channel]
"8890热线" = "hotline"
"民心网" = "web"
"随手拍" = "app"
"网格员上报" = "grid"
"领导信箱" = "mailbox"

[values.satisfaction]
"满意" = "satisfied"
"基本满意" = "basic"
"不满意" = "unsatisfied"
"""

HEADER = ["工单编号", "受理时间", "办理时限", "办结时间", "办理状态", "诉求类别", "诉求小类", "来源渠道", "承办单位",
          "经度", "纬度", "诉求地址", "回访满意度", "诉求内容",
          # columns the mapping ignores, as real exports have them
          "诉求人", "联系电话", "紧急程度", "所属区县", "所属街道", "工单类型", "是否重复", "回访时间", "办理结果", "备注"]

CATEGORIES = {
    "供暖": ["室温不达标", "暖气不热", "供暖费争议", "管道漏水"],
    "物业管理": ["电梯故障", "环境卫生", "物业收费", "停车管理"],
    "城市管理": ["占道经营", "违章建筑", "噪音扰民", "垃圾清运"],
    "市政设施": ["路面破损", "路灯不亮", "井盖缺失", "排水不畅"],
    "供水": ["停水", "水压低", "水质问题"],
    "环境保护": ["油烟污染", "噪声污染", "扬尘"],
    "交通出行": ["公交线路", "信号灯", "停车难"],
    "劳动保障": ["拖欠工资", "社保缴纳"],
    "市场监管": ["食品安全", "价格欺诈", "消费纠纷"],
    "教育": ["入学咨询", "校外培训"],
}
CHANNELS = (["8890热线"] * 55 + ["民心网"] * 12 + ["随手拍"] * 14 + ["网格员上报"] * 16 + ["领导信箱"] * 2
            + ["政务微博"])
DEPARTMENTS = ["市住建局", "市城管局", "市供暖办", "市水务集团", "市生态环境局", "市交通局", "市人社局",
               "市市场监管局", "市教育局", "铁东区政府", "铁西区政府", "立山区政府", "千山区政府", "市公安局",
               "市自然资源局", "市卫健委"]
SATISFACTION = ["满意"] * 70 + ["基本满意"] * 18 + ["不满意"] * 9 + ["未回访"] * 3
SURNAMES = list("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗")
ROADS = ["胜利路", "建国路", "人民路", "解放路", "园林路", "和平路", "光明街", "青年街", "东风街", "钢都路"]
ESTATES = ["幸福小区", "钢城花园", "绿地家园", "阳光新城", "湖南小区", "站前小区", "铁东小区", "立山新村"]
CENTRE = (122.99, 41.11)  # WGS84
END = dt.datetime(2026, 6, 30, 23, 59, 59)
SPAN = 730 * 86400  # two years of history


def territory_regions():
    """The demo city's regions (WGS84): the rows of the ``regions`` table, and the grids for the points."""
    from data_access.seed.places import Places
    from geo.territory import build_territory

    territory = build_territory("city")
    rows = Places(territory, 7).region_rows(dt.datetime(2026, 1, 1))
    grids = territory[territory["level"] == "grid"]
    return rows, grids


def _times(seconds: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """Seconds since END - SPAN as '%Y-%m-%d %H:%M:%S' text, '' where not valid."""
    stamps = (np.datetime64(END - dt.timedelta(seconds=SPAN), "s") + seconds.astype("timedelta64[s]"))
    text = np.datetime_as_string(stamps, unit="s").astype(object)
    text = np.array([t.replace("T", " ") for t in text], dtype=object)
    if valid is not None:
        text[~valid] = ""
    return text


def generate(path: Path, rows: int, grids, seed: int = 11, chunk: int = 250_000) -> None:
    """Write the synthetic export, ``chunk`` rows at a time (memory stays small whatever ``rows``)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import shapely

    from geo.crs import wgs84_to_gcj02

    rng = np.random.default_rng(seed)
    bounds = shapely.bounds(np.asarray(grids.geometry.values, dtype=object))
    weight = grids["population"].to_numpy(dtype=float)
    weight = weight / weight.sum()
    grid_district = grids["code"].str.slice(0, 6).to_numpy(dtype=object)
    grid_street = grids["code"].str.slice(0, 9).to_numpy(dtype=object)
    cats = list(CATEGORIES)
    subs = [np.array(CATEGORIES[c], dtype=object) for c in cats]
    tmp = path.with_suffix(".partial")
    writer = None
    with open(tmp, "wb") as sink:
        for lo in range(0, rows, chunk):
            n = min(chunk, rows - lo)
            number = np.arange(lo, lo + n)
            ids = np.char.add("AS", (number + 202400000000).astype(str)).astype(object)
            # 0.05 %: an id given twice (an earlier row's id again)
            again = rng.random(n) < 0.0005
            ids[again] = np.char.add("AS", (rng.integers(0, max(lo, 1), again.sum()) + 202400000000).astype(str))
            created = rng.integers(0, SPAN - 86400, n)
            deadline = created + rng.choice([3, 5, 7, 10, 15], n) * 86400
            handled = rng.lognormal(np.log(3 * 86400), 0.9, n).astype(np.int64)
            status = rng.choice(np.array(["已办结", "办理中", "已撤销"], dtype=object), n, p=[0.86, 0.11, 0.03])
            closed_ok = (status != "办理中") & (created + handled < SPAN)
            status[(status != "办理中") & ~closed_ok] = "办理中"
            created_text = _times(created)
            created_text[rng.random(n) < 0.0005] = "待补录"  # unreadable: quarantined
            deadline_text = _times(deadline)
            deadline_text[rng.random(n) < 0.002] = "9999-12-31"  # "no deadline"
            closed_text = _times(created + handled, closed_ok)
            c = rng.integers(0, len(cats), n)
            category = np.array(cats, dtype=object)[c]
            sub = np.array([s[i % len(s)] for s, i in zip((subs[k] for k in c), rng.integers(0, 4, n))],
                           dtype=object)
            g = rng.choice(len(grids), n, p=weight)
            x0, y0, x1, y1 = bounds[g].T
            lon, lat = x0 + rng.random(n) * (x1 - x0), y0 + rng.random(n) * (y1 - y0)
            # 0.3 %: the geocoder's fallback, the city centre (flagged default_point)
            fallback = rng.random(n) < 0.003
            lon[fallback], lat[fallback] = CENTRE
            glon, glat = wgs84_to_gcj02(lon, lat)
            lon_text = np.char.mod("%.6f", glon).astype(object)
            lat_text = np.char.mod("%.6f", glat).astype(object)
            missing = rng.random(n) < 0.03
            lon_text[missing] = ""
            lat_text[missing] = ""
            road = np.array(ROADS, dtype=object)[rng.integers(0, len(ROADS), n)]
            estate = np.array(ESTATES, dtype=object)[rng.integers(0, len(ESTATES), n)]
            building = rng.integers(1, 40, n).astype(str).astype(object)
            address = road + rng.integers(1, 300, n).astype(str).astype(object) + "号" + estate + building + "号楼"
            summary = (estate + building + "号楼居民反映" + sub + "，已持续" + rng.integers(2, 30, n).astype(str)
                       .astype(object) + "天，影响正常生活，请相关部门尽快核实处理并回复。")
            satisfaction = np.array(SATISFACTION, dtype=object)[rng.integers(0, len(SATISFACTION), n)]
            satisfaction[status != "已办结"] = ""
            name = (np.array(SURNAMES, dtype=object)[rng.integers(0, len(SURNAMES), n)]
                    + np.where(rng.random(n) < 0.5, "先生", "女士").astype(object))
            phone = np.char.add("13", np.char.zfill(rng.integers(0, 10**9, n).astype(str), 9)).astype(object)
            columns = [
                ids, created_text, deadline_text, closed_text, status, category, sub,
                np.array(CHANNELS, dtype=object)[rng.integers(0, len(CHANNELS), n)],
                np.array(DEPARTMENTS, dtype=object)[rng.integers(0, len(DEPARTMENTS), n)],
                lon_text, lat_text, address, satisfaction, summary,
                name, phone,
                rng.choice(np.array(["一般", "紧急", "咨询"], dtype=object), n, p=[0.85, 0.05, 0.10]),
                grid_district[g], grid_street[g],
                rng.choice(np.array(["投诉", "求助", "咨询", "建议"], dtype=object), n),
                np.where(rng.random(n) < 0.08, "是", "否").astype(object),
                _times(np.minimum(created + handled + 86400, SPAN - 1), satisfaction != ""),
                np.where(closed_ok, "已按期办结，群众认可。", "").astype(object),
                np.full(n, "", dtype=object),
            ]
            table = pa.table({h: pa.array(col, type=pa.string()) for h, col in zip(HEADER, columns)})
            if writer is None:
                writer = pacsv.CSVWriter(sink, table.schema, write_options=pacsv.WriteOptions(
                    quoting_style="needed"))
            writer.write_table(table)
        if writer is not None:
            writer.close()
    tmp.rename(path)


def load_regions(url: str, region_rows) -> None:
    from data_access import cityzone, schema
    from data_access.seed.places import REGION_COLUMNS
    from data_access.store import bulk_insert, create_schema, make_engine

    engine = make_engine(url)
    create_schema(engine)
    cityzone.record(engine, "Asia/Shanghai")
    bulk_insert(engine, schema.regions, REGION_COLUMNS, region_rows, batch_size=5_000)
    engine.dispose()


# The command line run in a child interpreter that prints, as it exits, its own peak resident memory
# (VmHWM). ru_maxrss from wait4 would not do: a child started by fork or vfork inherits the
# parent's high-water mark, and this parent holds the territory.
_MEASURED = ("import atexit, runpy, sys\n"
             "atexit.register(lambda: print('VmHWM', open('/proc/self/status').read().split('VmHWM:')[1].split()[0],"
             " file=sys.stderr))\n"
             "sys.argv = ['data_access', *sys.argv[1:]]\n"
             "runpy.run_module('data_access', run_name='__main__')\n")


def run_import(export: Path, mapping: Path, url: str, out: Path, batch: int | None) -> dict:
    """The real command in a child process: its report, wall time, CPU time and peak RSS (bytes)."""
    env = {**os.environ, "APPEALS_TZ": "Asia/Shanghai", "PYTHONPATH": str(ROOT)}
    if batch:
        env["APPEALS_IMPORT_BATCH_ROWS"] = str(batch)
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", _MEASURED, "import-appeals", str(export), "--mapping",
                              str(mapping), "--json", "--db", url, "--out", str(out)],
                             cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    stdout, stderr = child.communicate()
    elapsed = time.perf_counter() - started
    if child.returncode != 0:
        raise SystemExit(f"import failed ({child.returncode}):\n{stderr.decode(errors='replace')[-4000:]}")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak = int(stderr.decode().split("VmHWM")[-1].split()[0]) * 1024  # kB
    return {"report": json.loads(stdout), "seconds": elapsed, "peak": peak,
            "cpu": usage.ru_utime + usage.ru_stime}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in the export (default 1,000,000)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "import",
                        help="where the export is kept (default bench/out/import)")
    parser.add_argument("--again", action="store_true", help="import the same file a second time (all unchanged)")
    parser.add_argument("--batch", type=int, help="records per batch (default: the importer's own)")
    args = parser.parse_args()

    args.out.mkdir(parents=True, exist_ok=True)
    region_rows, grids = territory_regions()
    export = args.out / f"appeals-{args.rows}.csv"
    if not export.exists():
        started = time.perf_counter()
        generate(export, args.rows, grids)
        print(json.dumps({"name": "generate", "rows": args.rows, "seconds": round(time.perf_counter() - started, 1),
                          "bytes": export.stat().st_size}), flush=True)
    mapping = args.out / "mapping.toml"
    mapping.write_text(MAPPING, encoding="utf-8")
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(dir=args.out) as folder:
        url = f"sqlite:///{Path(folder) / 'appeals.db'}"
        load_regions(url, region_rows)
        cpu_before = 0.0
        for run in ("first", "again") if args.again else ("first",):
            measured = run_import(export, mapping, url, Path(folder) / "reports", args.batch)
            report, seconds, peak = measured["report"], measured["seconds"], measured["peak"]
            cpu, cpu_before = measured["cpu"] - cpu_before, measured["cpu"]
            print(json.dumps({
                "name": f"import_{run}", "rows": report["read"], "seconds": round(seconds, 1),
                "cpu_seconds": round(cpu, 1), "rows_per_second": round(report["read"] / seconds),
                "peak_rss_gb": round(peak / 1e9, 3),
                "file_gb": round(export.stat().st_size / 1e9, 2), "grids": len(grids),
                **{k: report[k] for k in ("inserted", "updated", "unchanged", "quarantined")},
                "outside_regions": report["warnings"].get("outside_regions", 0),
                "load_average_before": [round(x, 2) for x in load],
                "load_average_after": [round(x, 2) for x in os.getloadavg()], "cores": os.cpu_count(),
            }, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
