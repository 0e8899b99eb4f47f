"""Command line for review-meeting snapshots (``python -m data_access snapshot …``).

  snapshot freeze --scope CODE --period TEXT [--as-of DATETIME] [--name TEXT] [--by ACCOUNT]
                  [--analytics PATH] [--json]
  snapshot list [--scope CODE] [--json]
  snapshot show ID [--json]
  snapshot delete ID --by ACCOUNT

``--period`` is a calendar period (2026-10-15, 2026-W44, 2026-10, 2026-Q4, 2026) or two dates, both
included (2026-10-05..2026-11-03). ``freeze`` first brings the analytics store up to date (as ``sync``
does, with a full reconciliation) and judges the figures at ``--as-of`` (default: the moment that sync
started, which it holds every row up to); while the dashboard holds the store, it copies the system of
record into a temporary store instead, which takes longer. Refusals print one line to stderr and exit with
status 2 (``data_access.cli.main``).
"""

from __future__ import annotations

import contextlib
import json
import sys
import tempfile
from pathlib import Path

from .clock import local_now, to_local_naive

COMMANDS = ("snapshot",)


def add_parsers(sub, db_arg) -> None:
    """Add ``snapshot`` to the subparsers of ``python -m data_access``."""
    from .cli import _datetime

    s = sub.add_parser("snapshot", help="review-meeting snapshots (会议快照): freeze | list | show | delete")
    ssub = s.add_subparsers(dest="snapshot_command", required=True)
    f = ssub.add_parser("freeze", help="compute a meeting's figures once and store them")
    f.add_argument("--scope", required=True, metavar="CODE", help="region code")
    f.add_argument("--period", required=True, metavar="TEXT",
                   help="2026-10-15, 2026-W44, 2026-10, 2026-Q4, 2026, or FIRST..LAST (dates, both included)")
    f.add_argument("--as-of", dest="as_of", type=_datetime, metavar="DATETIME",
                   help="judge the figures at (default: now, the start of the sync)")
    f.add_argument("--name", metavar="TEXT", help='the snapshot\'s name (default e.g. "10月讲评 · 铁东区")')
    f.add_argument("--by", metavar="ACCOUNT", help="the account it is frozen for (default: cli)")
    f.add_argument("--analytics", metavar="PATH", help="DuckDB file (default: the configured one)")
    f.add_argument("--json", action="store_true", help="print the snapshot as one JSON object")
    db_arg(f)
    li = ssub.add_parser("list", help="the stored snapshots, the newest first")
    li.add_argument("--scope", metavar="CODE", help="only those within this region")
    li.add_argument("--json", action="store_true", help="print one JSON array")
    db_arg(li)
    sh = ssub.add_parser("show", help="a snapshot's figures as frozen")
    sh.add_argument("id", metavar="ID", type=int)
    sh.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    db_arg(sh)
    d = ssub.add_parser("delete", help="delete a snapshot (its creator or an administrator)")
    d.add_argument("id", metavar="ID", type=int)
    d.add_argument("--by", required=True, metavar="ACCOUNT", help="the account deleting it")
    db_arg(d)


def _error(message: str):
    from .cli import CliError

    return CliError(message)


def _engine(url: str):
    from .cli import _engine as open_engine
    from .store import create_schema

    engine = open_engine(url)
    create_schema(engine)
    return engine


def snapshot(args, url, settings) -> int:
    from . import snapshots

    engine = _engine(url)
    try:
        if args.snapshot_command == "freeze":
            return _freeze(args, engine, settings)
        if args.snapshot_command == "list":
            within = args.scope.strip() if args.scope and args.scope.strip() else None
            _print_list(snapshots.list_snapshots(engine, within=within), args.json)
            return 0
        if args.snapshot_command == "show":
            found = snapshots.load(engine, args.id)
            if args.json:
                print(found.figures.to_json())
            else:
                _print_figures(found)
            return 0
        role = snapshots.account_role(engine, args.by)
        if role is None:
            raise _error(f"no enabled account {args.by.strip()!r}")
        gone = snapshots.delete(engine, args.id, account=args.by.strip(), role=role[0],
                                now=local_now(settings.timezone))
        print(f"snapshot {gone.id} deleted: {gone.name}")
        return 0
    except snapshots.SnapshotError as exc:
        raise _error(str(exc)) from None


def _freeze(args, engine, settings) -> int:
    from . import deadlines, meeting, queries, snapshots, sync

    by = (args.by or "cli").strip() or "cli"
    try:
        period, text = meeting.parse_period(args.period)
    except meeting.FiguresError as exc:
        raise _error(str(exc)) from None
    if args.by:
        found = snapshots.account_role(engine, by)
        if found is None:
            raise _error(f"no enabled account {by!r}")
        role, region = found
        if region is not None and not snapshots.region_contains(engine)(region, args.scope.strip()):
            raise _error(f"account {by!r} may not see region {args.scope!r}")
    data_time = local_now(settings.timezone).replace(microsecond=0)  # the copy holds every row committed by then
    as_of = to_local_naive(args.as_of, settings.timezone).replace(microsecond=0) if args.as_of else data_time
    if as_of > data_time:
        raise _error(f"--as-of {as_of.isoformat(timespec='seconds')} is in the future: appeals still to arrive "
                     "would change the figures")
    with _store(args.analytics or settings.analytics_path) as con:
        try:
            sync.sync(engine, con, timezone=settings.timezone, lookback_seconds=settings.sync_lookback_seconds,
                      reconcile_seconds=0)
        except sync.SyncError as exc:
            raise _error(str(exc)) from None
        try:
            scope = queries.resolve_scope(con, args.scope.strip())
        except queries.UnknownRegion:
            raise _error(f"unknown region code {args.scope!r}") from None
        try:
            rules = deadlines.load_rules(engine)
        except Exception:  # noqa: BLE001 - a source without the rule table: the built-in limits, as the dashboard
            rules = deadlines.Rules()
        name = args.name if args.name is not None else meeting.default_name(
            text, "全域" if scope.is_whole else str(queries.region(con, scope.code)["name"]))
        made = snapshots.freeze(engine, con, scope, period, as_of, name=name, created_by=by, text=text, rules=rules,
                                data_time=data_time, now=local_now(settings.timezone))
    if args.json:
        print(json.dumps(made.info.as_dict(), ensure_ascii=False))
    else:
        i = made.info
        print(f"snapshot {i.id} frozen: {i.name} ({made.figures.scope_name}, {i.period_label}, as of "
              f"{i.as_of.isoformat(sep=' ', timespec='seconds')}); open it at /snapshots?id={i.id}")
    return 0


@contextlib.contextmanager
def _store(path):
    """The analytics store at ``path``; a temporary one while another process (the dashboard) holds it."""
    import duckdb

    from . import analytics

    try:
        con = analytics.open_store(path)
    except duckdb.IOException:
        print(f"the analytics store {path} is in use (is the dashboard running?): copying the system of record "
              "into a temporary store, which takes a while", file=sys.stderr, flush=True)
        with tempfile.TemporaryDirectory(prefix="snapshot-") as folder:
            con = analytics.open_store(str(Path(folder) / "analytics.duckdb"))
            try:
                yield con
            finally:
                con.close()
        return
    try:
        yield con
    finally:
        con.close()


def _print_list(rows, as_json: bool) -> None:
    if as_json:
        print(json.dumps([r.as_dict() for r in rows], ensure_ascii=False))
        return
    if not rows:
        print("no snapshots; freeze one with: python -m data_access snapshot freeze --scope CODE --period 2026-10")
        return
    print(f"{'id':>5}  {'frozen at':<19}  {'by':<12} {'scope':<12} {'period':<22} {'as of':<19}  name")
    for r in rows:
        print(f"{r.id:>5}  {r.created_at.isoformat(sep=' ', timespec='seconds'):<19}  {r.created_by:<12} "
              f"{r.scope_code or '(all)':<12} {r.period_label:<22} {r.as_of.isoformat(sep=' ', timespec='seconds'):<19}"
              f"  {r.name}")


def _print_figures(found) -> None:
    from .indicators import INDICATORS

    i, f = found.info, found.figures
    print(f"snapshot {i.id}: {i.name} · {f.scope_name} · {f.period_label} · as of "
          f"{f.as_of.isoformat(sep=' ', timespec='seconds')} · frozen {i.created_at.isoformat(sep=' ')} by {i.created_by}")

    def shown(key, value):
        if value is None:
            return "—"
        return f"{value:.1%}" if key.endswith("_rate") else (f"{value:,.1f}" if key == "per_10k" else f"{value:,}")

    print(f"  {'':<10} {'':<22} {'value':>10} {'环比 prev':>10} {'同比 last yr':>12}")
    for row in f.section("headline").records():
        key = row["indicator"]
        label = INDICATORS[key].label if key in INDICATORS else key
        print(f"  {label:<10} {key:<22} {shown(key, row['value']):>10} {shown(key, row['previous']):>10} "
              f"{shown(key, row['last_year']):>12}")
