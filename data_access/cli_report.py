"""``python -m data_access report``: the meeting pack of a region and period, as a PPTX or a PDF, with an Excel
of its table appendix written beside it (the same name, ``.xlsx``)::

    python -m data_access report --scope 210302 --period 2026-10 [--as-of 2026-11-01T00:00] \\
           [--snapshot "10月讲评 · 铁东区" | --snapshot 12] --format pptx|pdf --out FILE

Live, it first brings the analytics store up to date (as ``snapshot freeze`` does) and computes the figures
at ``--as-of`` (default: the start of that sync), the 红黑榜 under the weights in force. With ``--snapshot``
(an id, or a name that names one snapshot) the pack holds the snapshot's figures as frozen, nothing
recomputed; its region and period must be those of ``--scope`` and ``--period``. The maps are drawn from
the regions' outlines in the system of record. Refusals print one line and exit with status 2.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from .clock import local_now, to_local_naive

COMMANDS = ("report",)


def add_parsers(sub, db_arg) -> None:
    from .cli import _datetime

    r = sub.add_parser("report", help="the meeting pack (会议材料): slides as PPTX or PDF, and the tables as Excel")
    r.add_argument("--scope", required=True, metavar="CODE", help="region code")
    r.add_argument("--period", required=True, metavar="TEXT",
                   help="2026-10-15, 2026-W44, 2026-10, 2026-Q4, 2026, or FIRST..LAST (dates, both included)")
    r.add_argument("--as-of", dest="as_of", type=_datetime, metavar="DATETIME",
                   help="judge the figures at (default: now, the start of the sync; with --snapshot: its own)")
    r.add_argument("--snapshot", metavar="NAME_OR_ID", help="a frozen snapshot's id or name: its figures as frozen")
    r.add_argument("--format", required=True, choices=("pptx", "pdf"), help="the slides' file format")
    r.add_argument("--out", required=True, metavar="FILE", help="where to write it (the Excel goes beside it)")
    r.add_argument("--title", metavar="TEXT", help='the cover\'s title (default: the snapshot\'s name, or e.g. "10月讲评 · 铁东区")')
    r.add_argument("--link-base", dest="link_base", metavar="URL",
                   help="the dashboard's address (https://…): every figure then links to its appeals there")
    r.add_argument("--analytics", metavar="PATH", help="DuckDB file (default: the configured one)")
    r.add_argument("--json", action="store_true", help="print what was written as one JSON object")
    db_arg(r)


def _error(message: str):
    from .cli import CliError

    return CliError(message)


def report(args, url, settings) -> int:
    from . import meeting

    started = time.perf_counter()
    try:
        period, text = meeting.parse_period(args.period)
    except meeting.FiguresError as exc:
        raise _error(f"--period: {exc}") from None
    out = Path(args.out)
    if out.suffix.lower() != f".{args.format}":
        out = out.with_name(out.name + f".{args.format}") if out.suffix == "" else out
    if not out.parent.exists():
        raise _error(f"--out: no folder {str(out.parent)!r}")
    from .cli_snapshots import _engine

    engine = _engine(url)
    code = args.scope.strip()
    title = args.title
    if args.snapshot:
        figures, outlines, name = _from_snapshot(engine, args, settings, code, period)
        title = title or name
    else:
        figures, outlines = _live(engine, args, settings, code, period, text)
    from .report import pack

    base = (args.link_base or "").strip() or None
    if base is not None and not base.startswith(("https://", "http://")):
        raise _error(f"--link-base must start with https:// or http://, not {base[:40]!r}")
    made = pack.build(figures, outlines, title=title, kinds=(args.format, "xlsx"), base=base)
    excel = out.with_suffix(".xlsx")
    out.write_bytes(made[args.format])
    excel.write_bytes(made["xlsx"])
    seconds = time.perf_counter() - started
    summary = {"out": str(out), "excel": str(excel), "slides": len(made.deck.slides), "scope": figures.scope_code,
               "period": figures.period_text, "as_of": figures.as_of.isoformat(timespec="seconds"),
               "snapshot": args.snapshot, "seconds": round(seconds, 1)}
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    else:
        print(f"wrote {out} ({len(made.deck.slides)} slides) and {excel}: {figures.scope_name}, "
              f"{figures.period_label}, as of {figures.as_of.isoformat(sep=' ', timespec='seconds')} "
              f"in {seconds:.1f} s", file=sys.stderr)
    return 0


def _find_snapshot(engine, ident: str):
    from . import snapshots

    ident = ident.strip()
    if ident.isdigit():
        try:
            return snapshots.load(engine, int(ident))
        except snapshots.SnapshotNotFound:
            pass
    named = [s for s in snapshots.list_snapshots(engine) if s.name == " ".join(ident.split())]
    if not named:
        raise _error(f"no snapshot {ident!r} (see: python -m data_access snapshot list)")
    if len(named) > 1:
        raise _error(f"{len(named)} snapshots are named {ident!r}: give its id ("
                     + ", ".join(str(s.id) for s in named) + ")")
    return snapshots.load(engine, named[0].id)


def _from_snapshot(engine, args, settings, code: str, period):
    from . import snapshots

    try:
        found = _find_snapshot(engine, args.snapshot)
    except snapshots.SnapshotError as exc:
        raise _error(str(exc)) from None
    f = found.figures
    if (f.scope_code or "") != code:
        raise _error(f"snapshot {found.info.id} is of region {f.scope_code or '(all)'}, not {code!r}")
    if f.period != period:
        raise _error(f"snapshot {found.info.id} is of period {f.period_text}, not {args.period!r}")
    if args.as_of is not None and to_local_naive(args.as_of, settings.timezone) != f.as_of:
        raise _error(f"snapshot {found.info.id} is judged at {f.as_of.isoformat(timespec='seconds')}, "
                     f"not at --as-of {args.as_of.isoformat(timespec='seconds')}")
    return f, _sor_outlines(engine, f), found.info.name


def _sor_outlines(engine, figures) -> dict:
    """The child units' outlines, read from the system of record (through its views)."""
    from . import meeting
    from .report.outlines import outlines
    from .sor_views import ensure_views

    level = figures.section(meeting.CHILDREN).notes.get("level")
    ensure_views(engine)
    with engine.connect() as conn:
        return outlines(conn, figures.scope, level)


def _live(engine, args, settings, code: str, period, text: str):
    from . import deadlines, meeting, queries, ranking_weights, sync
    from .cli_snapshots import _store
    from .report.outlines import outlines

    data_time = local_now(settings.timezone).replace(microsecond=0)
    as_of = to_local_naive(args.as_of, settings.timezone).replace(microsecond=0) if args.as_of else data_time
    if as_of > data_time:
        raise _error(f"--as-of {as_of.isoformat(timespec='seconds')} is in the future")
    with _store(args.analytics or settings.analytics_path) as con:
        try:
            sync.sync(engine, con, timezone=settings.timezone, lookback_seconds=settings.sync_lookback_seconds,
                      reconcile_seconds=0)
        except sync.SyncError as exc:
            raise _error(str(exc)) from None
        try:
            scope = queries.resolve_scope(con, code)
        except queries.UnknownRegion:
            raise _error(f"unknown region code {args.scope!r}") from None
        try:
            rules = deadlines.load_rules(engine)
        except Exception:  # noqa: BLE001 - a source without the rule table: the built-in limits
            rules = deadlines.Rules()
        try:
            figures = meeting.figures(con, scope, period, as_of, rules=rules, text=text,
                                      weights=ranking_weights.load(engine))
        except meeting.FiguresError as exc:
            raise _error(str(exc)) from None
        shapes = outlines(con, scope, figures.section(meeting.CHILDREN).notes.get("level"))
    return figures, shapes
