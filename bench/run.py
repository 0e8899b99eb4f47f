"""Benchmark: prints one JSON line per measurement (name, seconds, rows, bytes).

    python bench/run.py --scale city        # 500,000 appeals, 3,000 grids
    python bench/run.py --scale province    # 3.6 million appeals, 150,000 grids
    python bench/run.py --scale city --only reconcile [--source-url postgresql+psycopg://…]

The demo data is built once under bench/out/<scale>/ and reused. Measured:

* seed and initial sync of the analytics store, and an incremental sync with nothing new;
* the sync's reconciliation (docs/architecture.md) with nothing to do; with ``--only
  reconcile`` also: after spreading the seeded stamps over the history (every row
  differs), with nothing to do then, and after backdated updates, inserts and deletes
  (this changes the demo database under bench/out/ for good); ``--every-row`` moves
  nearly every stamp instead of spreading them; ``--source-url`` copies the demo into
  a PostgreSQL or MariaDB database first and reconciles from there;
* the big screen's server time through AppTest, cold (empty caches, store
  reopened) and warm (second run);
* the floor: the raw queries the big screen needs, run directly on DuckDB;
* the naive baseline: the same queries on the SQLite system of record;
* the bytes of the map sent to the browser;
* the drill-down steps, the case lists and the warning page (/alerts), cold and warm;
* the process's peak memory.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SCALES = {"city": 500_000, "province": 3_600_000}
# the drill-down steps measured: top to a grid of 铁东区
DRILL = {
    "city": ("210300", "210302", "210302001", "210302001001001"),
    "province": ("210000", "210300", "210302", "210302001", "210302001001001"),
}


def emit(name: str, seconds: float | None = None, rows: int | None = None, bytes_: int | None = None, **extra):
    record = {"name": name, "seconds": None if seconds is None else round(seconds, 4), "rows": rows,
              "bytes": bytes_, **extra}
    print(json.dumps(record, ensure_ascii=False), flush=True)


def build(scale: str, folder: Path, appeals: int) -> tuple[str, Path]:
    """Seed the demo once, in a child process (so this process's peak memory is the dashboard's)."""
    import subprocess

    db = folder / "appeals.db"
    url = f"sqlite:///{db}"
    if not db.exists():
        folder.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "data_access", "seed", "--scale", scale, "--appeals", str(appeals),
                        "--db", url], cwd=ROOT, check=True, stderr=subprocess.DEVNULL)
        emit("seed_with_territory", time.perf_counter() - started, rows=appeals, bytes_=db.stat().st_size)
    return url, folder / "analytics.duckdb"


def big_screen_queries(con, now: dt.datetime) -> int:
    """Every query the big screen runs (as in pages/big_screen.py and ui/), returning the rows fetched."""
    from data_access import queries
    from data_access.scope import Period, Scope, levels_below
    from geo import layers

    scope, today = Scope.whole(), now.date()
    rows = 0
    for name in ("today", "month", "30d", "all"):
        rows += 1 if queries.kpis(con, scope, Period.preset(name, today), now) is not None else 0
    p30 = Period.preset("30d", today)
    rows += len(queries.daily_trend(con, scope, p30, now))
    rows += len(queries.category_counts(con, scope, p30, now))
    rows += len(queries.channel_counts(con, scope, p30, now))
    rows += len(queries.newest_overdue(con, scope, now, 20))
    counts = queries.level_counts(con, scope)
    below = levels_below(counts, scope)
    level = layers.map_level(counts, below)
    rows += len(queries.children(con, scope, p30, now, level))
    rank_level = "street" if "street" in below else below[0]
    if rank_level != level:
        rows += len(queries.children(con, scope, p30, now, rank_level))
    shapes = queries.region_shapes(con, scope, level)
    bounds = layers.bounds_of(shapes)
    rows += len(shapes)
    rows += len(queries.heat_bins(con, scope, Period.preset("7d", today), now, layers.heat_cell_deg(bounds)))
    rows += len(queries.top_regions(con))
    return rows


def timed(fn, *args, repeat: int = 1, **kwargs):
    best, result = None, None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn(*args, **kwargs)
        elapsed = time.perf_counter() - started
        best = elapsed if best is None else min(best, elapsed)
    return best, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=SCALES, default="city")
    parser.add_argument("--appeals", type=int, help="override the number of appeals (a new folder is used)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--only", choices=("alerts", "reconcile"),
                        help="measure only this page, or only the sync's reconciliation (after the sync)")
    parser.add_argument("--changes", type=int, default=100,
                        help="with --only reconcile: backdated updates, inserts and deletes, this many each")
    parser.add_argument("--every-row", action="store_true",
                        help="with --only reconcile: move nearly every stamp (to the time received) and measure "
                             "that reconciliation; the next run without it moves them back")
    parser.add_argument("--source-url", metavar="URL",
                        help="with --only reconcile: copy the demo into this database (PostgreSQL, MariaDB) "
                             "and sync from there")
    args = parser.parse_args()
    if args.source_url and args.only != "reconcile":
        parser.error("--source-url goes with --only reconcile")
    from streamlit import logger as st_logger

    st_logger.set_log_level("error")  # bare-mode caching warnings are expected here
    appeals = args.appeals or SCALES[args.scale]
    folder = args.out / (args.scale if not args.appeals else f"{args.scale}-{appeals}")
    url, analytics_path = build(args.scale, folder, appeals)
    if args.source_url:
        url, analytics_path = server_copy(url, args.source_url, folder)
    os.environ["APPEALS_DB_URL"] = url
    os.environ["APPEALS_ANALYTICS_PATH"] = str(analytics_path)

    from data_access import analytics, sync
    from data_access.sor_views import ensure_views
    from data_access.store import make_engine

    engine = make_engine(url)
    con = analytics.open_store(analytics_path)
    # the incremental steps alone; the reconciliation is measured on its own below
    seconds, result = timed(lambda: sync.sync(engine, con, reconcile_seconds=None))
    emit("sync_initial" if result.appeals_copied else "sync_catch_up", seconds, rows=result.appeals_copied,
         bytes_=analytics_path.stat().st_size)
    seconds, result = timed(lambda: sync.sync(engine, con, reconcile_seconds=None), repeat=3)
    emit("sync_incremental_nothing_new", seconds, rows=result.appeals_copied)
    reconcile_once(engine, con, "reconcile_nothing_to_do", repeat=3)
    if args.only == "reconcile":
        reconcile_figures(engine, con, args.changes, args.every_row)
        emit("peak_memory", None, bytes_=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
        return 0
    now = sync.status(con).last_success_at.replace(microsecond=0)

    seconds, rows = timed(big_screen_queries, con, now, repeat=3)
    emit("big_screen_query_floor_duckdb", seconds, rows=rows)
    floor = seconds

    ensure_views(engine)
    with engine.connect() as sqlite_conn:
        seconds, rows = timed(big_screen_queries, sqlite_conn, now)
    emit("big_screen_naive_sqlite", seconds, rows=rows, speedup_of_floor=round(seconds / floor, 1))
    naive = seconds
    con.close()  # the dashboard's wrapper opens the store itself

    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from tests.conftest import sign_in

    def run_page(page: str | None = None, **params) -> AppTest:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
        sign_in(at)  # a city-level account: the whole territory
        if page:
            at.switch_page(page)
        for k, v in params.items():
            at.query_params[k] = v
        at.run()
        if at.exception:
            raise RuntimeError(at.exception[0].value)
        return at

    st.cache_data.clear()
    st.cache_resource.clear()
    if args.only != "alerts":
        pages_but_alerts(run_page, args, floor, naive)
    # the warning page (/alerts): every open red and yellow appeal of the territory, then of one district
    for name, params in (("alerts_all", {}), (f"alerts_{DRILL[args.scale][-3]}", {"region": DRILL[args.scale][-3]})):
        seconds, at = timed(run_page, "pages/alerts.py", **params)
        emit(f"{name}_cold", seconds)
        seconds, at = timed(run_page, "pages/alerts.py", repeat=3, **params)
        emit(f"{name}_warm", seconds, target_seconds=0.5, rows=len(at.dataframe[0].value) if at.dataframe else 0)
    emit("peak_memory", None, bytes_=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
    return 0


def server_copy(url: str, server_url: str, folder: Path) -> tuple[str, Path]:
    """The demo copied into a server database (once: again only when its appeal count differs)."""
    from sqlalchemy import inspect

    from data_access import schema
    from data_access.seed import churn
    from data_access.store import make_engine, row_count

    seeded, server = make_engine(url), make_engine(server_url)
    if ("appeals" not in inspect(server).get_table_names()
            or row_count(server, schema.appeals) != row_count(seeded, schema.appeals)):
        started = time.perf_counter()
        copied = churn.copy_database(seeded, server)
        emit("copy_to_server", time.perf_counter() - started, rows=copied)
    return server_url, folder / f"analytics-{server.dialect.name}.duckdb"


def reconcile_once(engine, con, name: str, repeat: int = 1):
    """One sync that reconciles, with its figures: rows copied and deleted, keys read from the source."""
    from data_access import sync

    cpu = time.process_time()
    seconds, result = timed(lambda: sync.sync(engine, con, reconcile_seconds=0), repeat=repeat)
    # CPU time of this process (SQLite runs in it), per run: less sensitive than seconds to a busy machine
    emit(name, seconds, rows=result.appeals_reconciled, deleted=result.appeals_deleted,
         keys=result.keys_compared, copied_after_mark=result.appeals_copied,
         cpu_seconds=round((time.process_time() - cpu) / repeat, 4))
    return result


def reconcile_figures(engine, con, changes: int, every_row: bool) -> None:
    """The reconciliation on stamps spread like a live system's, and after backdated changes."""
    from data_access.seed import churn

    started = time.perf_counter()
    if every_row:  # every stamp moves to the time received (spread over the history too)
        moved = churn.stamp_received(engine)
        emit("stamp_received", time.perf_counter() - started, rows=moved)
        reconcile_once(engine, con, "reconcile_every_row_differs")
    else:
        spread = churn.spread_stamps(engine)
        emit("spread_stamps", time.perf_counter() - started, rows=spread)
        if spread:  # the first time nearly every row: its stamp moved below the mark
            reconcile_once(engine, con, "reconcile_after_spreading_stamps")
    reconcile_once(engine, con, "reconcile_nothing_to_do_spread_stamps", repeat=3)
    started = time.perf_counter()
    made = churn.backdated_changes(engine, changes)
    emit("backdated_changes", time.perf_counter() - started, **made)
    reconcile_once(engine, con, "reconcile_after_backdated_changes")
    reconcile_once(engine, con, "reconcile_nothing_to_do_after_changes")


def pages_but_alerts(run_page, args, floor: float, naive: float) -> None:
    """The big screen, the drill-down steps and two case lists, cold and warm."""
    seconds, at = timed(lambda: run_page())
    emit("big_screen_server_cold", seconds)
    seconds, at = timed(lambda: run_page(), repeat=3)
    map_json = at.get("deck_gl_json_chart")[0].proto.json
    page_bytes = sum(len(el.proto.SerializeToString()) for el in at.get("deck_gl_json_chart")) + sum(
        len(el.proto.SerializeToString()) for el in at.get("plotly_chart"))
    emit("big_screen_server_warm", seconds, target_seconds=round(2 * floor + 0.3, 3),
         speedup_vs_naive=round(naive / seconds, 1))
    emit("map_payload", None, bytes_=len(map_json.encode()), features=map_json.count('"Feature"'))
    emit("charts_and_map_payload", None, bytes_=page_bytes)

    # drill-down: each step cold (first visit of that region) and warm (a second look)
    for step, code in enumerate(DRILL[args.scale]):
        seconds, at = timed(run_page, "pages/region.py", region=code)
        emit(f"drill_{step}_{code}_cold", seconds)
        seconds, at = timed(run_page, "pages/region.py", repeat=3, region=code)
        maps = at.get("deck_gl_json_chart")
        emit(f"drill_{step}_{code}_warm", seconds, target_seconds=0.5,
             bytes_=sum(len(m.proto.json.encode()) for m in maps))
    for figure, code in (("overdue_open", DRILL[args.scale][-3]), ("received", DRILL[args.scale][-2])):
        seconds, at = timed(run_page, "pages/cases.py", figure=figure, region=code, period="year")
        emit(f"case_list_{figure}_{code}_cold", seconds)
        seconds, at = timed(run_page, "pages/cases.py", repeat=3, figure=figure, region=code, period="year")
        emit(f"case_list_{figure}_{code}_warm", seconds)


if __name__ == "__main__":
    sys.exit(main())
