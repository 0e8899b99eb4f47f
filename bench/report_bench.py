"""Benchmark of the meeting pack: ``python -m data_access report`` for a district and a month on the demo city.

    python bench/report_bench.py                          # seeds the demo city (500,000 appeals) under bench/out/
    python bench/report_bench.py --db sqlite:///data/appeals.db --analytics data/analytics.duckdb
    python bench/report_bench.py --scope 210302 --period 2026-10 --format pdf

The demo city is seeded once under ``bench/out/report/`` (``python -m data_access seed``, 24 months ending
now) and reused. Each run times, in a child process, the real command twice: the first run brings the
analytics store up to date (the initial copy when the store is new: reported apart), the second is the
pack itself on a synced store: figures, slides with their charts and maps, the PPTX or PDF, and the Excel.
Prints one JSON line per format: wall time, slides, file sizes, the machine's load average. Target: a
district pack for a month in under 60 s (docs/performance.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out" / "report"


def _run(args: list[str], env: dict) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "data_access", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args[:3])} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    return seconds, done.stdout


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", help="system of record (default: a demo city seeded under bench/out/report/)")
    p.add_argument("--analytics", help="DuckDB file (default: beside the demo database)")
    p.add_argument("--appeals", type=int, default=500_000, help="appeals of the seeded demo (default 500,000)")
    p.add_argument("--scope", default="210302", help="region code (default 210302, 铁东区)")
    p.add_argument("--period", help="the month (default: last month)")
    p.add_argument("--format", choices=("pptx", "pdf", "both"), default="both")
    args = p.parse_args()

    OUT.mkdir(parents=True, exist_ok=True)
    env = {**os.environ}
    if args.db is None:
        db = OUT / "appeals.db"
        args.db = f"sqlite:///{db}"
        if not db.exists():
            print(f"seeding the demo city ({args.appeals:,} appeals) into {db}…", file=sys.stderr, flush=True)
            seconds, _ = _run(["seed", "--appeals", str(args.appeals), "--db", args.db], env)
            print(f"  seeded in {seconds:.0f} s", file=sys.stderr)
    env["APPEALS_DB_URL"] = args.db
    env["APPEALS_ANALYTICS_PATH"] = args.analytics or str(OUT / "analytics.duckdb")
    from data_access.clock import local_now

    today = local_now("Asia/Shanghai").date()  # the demo city's today
    period = args.period or f"{(today.replace(day=1) - dt.timedelta(days=1)):%Y-%m}"
    sync_seconds, _ = _run(["sync", "--db", args.db], env)
    kinds = ("pptx", "pdf") if args.format == "both" else (args.format,)
    for kind in kinds:
        out = OUT / f"pack-{args.scope}-{period}.{kind}"
        seconds, printed = _run(["report", "--scope", args.scope, "--period", period, "--format", kind, "--out",
                                 str(out), "--db", args.db, "--json"], env)
        summary = json.loads(printed)
        print(json.dumps({
            "format": kind, "scope": args.scope, "period": period, "seconds": round(seconds, 2),
            "seconds_in_command": summary["seconds"], "slides": summary["slides"],
            "file_mb": round(out.stat().st_size / 1e6, 2),
            "excel_kb": round(out.with_suffix(".xlsx").stat().st_size / 1e3, 1),
            "sync_before_s": round(sync_seconds, 2), "load_average": [round(v, 2) for v in os.getloadavg()],
        }, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
