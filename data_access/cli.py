"""Command line: ``python -m data_access <command>``.

Commands
  kpis            headline indicators of a scope and period (``--json`` for tools)
  import-regions  load a layer of boundaries (GeoJSON, GeoPackage, Shapefile, CSV with WKT)
  import-appeals  load a city's appeal export (CSV, Excel, Open311) through a TOML mapping
  seed            build the demo city (territory and appeals) in the system of record
  sync            bring the dashboard's analytics store up to date
  escalate        escalate overdue supervisions (督办) one level, once (for cron)
  init-db         create the schema in the system of record
  rules           time-limit rules (办理时限): list | set | delete | defaults
  deadlines       recompute deadlines and yellow moments after the rules or thresholds change
  users           sign-in accounts: add | disable | reset-password | list
  kiosk-token     read-only wall-screen tokens: create | revoke
  timezone        the city's time zone stored with the data: show | set ZONE
  weights         the 红黑榜's composite weights and minimum appeals: show, or --set them
  snapshot        review-meeting snapshots (会议快照): freeze | list | show | delete
  report          the meeting pack (会议材料): slides as PPTX or PDF, tables as Excel

Every command takes ``--db URL``; the default is the configured system of
record (``APPEALS_DB_URL`` or ``.streamlit/secrets.toml``, else the SQLite
file under data/).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time

from sqlalchemy.exc import SQLAlchemyError

from . import cityzone, cli_auth, cli_report, cli_snapshots
from .clock import local_now, to_local_naive
from .config import load_settings, redact_url
from .files import keep_private
from .scope import LEVELS, Period

KPI_KEYS = ("received", "closed", "cancelled", "overdue_open", "due_soon_open",
            "completion_rate", "on_time_rate", "satisfaction_rate", "in_grid_rate")


class CliError(Exception):
    """A problem the user can fix; printed without a traceback."""


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _datetime(text: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date-time (YYYY-MM-DDTHH:MM[:SS][±HH:MM]): {text!r}") from None


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m data_access", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)

    def db_arg(sp):
        sp.add_argument("--db", metavar="URL", help="SQLAlchemy URL of the system of record")

    k = sub.add_parser("kpis", help="headline indicators")
    k.add_argument("--scope", metavar="CODE", help="region code (default: the whole territory)")
    k.add_argument("--from", dest="date_from", type=_date, metavar="DATE", help="first day (default: all time)")
    k.add_argument("--to", dest="date_to", type=_date, metavar="DATE", help="last day, included")
    k.add_argument("--as-of", dest="as_of", type=_datetime, metavar="DATETIME", help="judge states at (default: now)")
    k.add_argument("--json", action="store_true", help="print one JSON object")
    db_arg(k)

    r = sub.add_parser("import-regions", help="load boundaries at one level")
    r.add_argument("file", metavar="FILE")
    r.add_argument("--level", required=True, choices=LEVELS)
    r.add_argument("--code-field", required=True, metavar="F")
    r.add_argument("--name-field", required=True, metavar="F")
    r.add_argument("--parent-field", metavar="F", help="default: the containing region of the level above")
    r.add_argument("--population-field", metavar="F")
    r.add_argument("--crs", metavar="CRS", help="wgs84 | gcj02 | bd09 | EPSG:NNNN (default: as the file says)")
    r.add_argument("--json", action="store_true", help="print the report as one JSON object")
    db_arg(r)

    m = sub.add_parser("import-appeals", help="load appeals through a mapping file")
    m.add_argument("file", metavar="FILE")
    m.add_argument("--mapping", required=True, metavar="MAPPING.toml")
    m.add_argument("--json", action="store_true", help="print the report as one JSON object")
    m.add_argument("--out", metavar="DIR", help="where the report and the quarantine file go (default data/imports)")
    db_arg(m)

    s = sub.add_parser("seed", help="build the demo city")
    s.add_argument("--appeals", type=int, help="number of appeals (default 500000; province 3600000)")
    s.add_argument("--months", type=int, default=24, help="months of history up to --end (default 24)")
    s.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    s.add_argument("--scale", choices=("city", "province"), default="city")
    s.add_argument("--end", type=_datetime, help="last moment of the data (default: now)")
    s.add_argument("--replace", action="store_true",
                   help="delete existing appeals, events, supervisions, regions, departments")
    s.add_argument("--if-absent", action="store_true",
                   help="only when the database is the default demo file and holds no appeals (for make run)")
    db_arg(s)

    y = sub.add_parser("sync", help="update the analytics store from the system of record")
    y.add_argument("--analytics", metavar="PATH", help="DuckDB file (default: the configured one)")
    y.add_argument("--rebuild", action="store_true", help="empty the store and copy everything again")
    db_arg(y)

    e = sub.add_parser("escalate", help="escalate every supervision past its due time one level up (for cron)")
    e.add_argument("--now", type=_datetime, metavar="DATETIME", help="the time to judge at (default: now)")
    db_arg(e)

    i = sub.add_parser("init-db", help="create the schema")
    db_arg(i)

    ru = sub.add_parser("rules", help="time-limit rules (办理时限) by category and urgency")
    rsub = ru.add_subparsers(dest="rules_command", required=True)
    rl = rsub.add_parser("list", help="the stored rules, most specific first")
    rl.add_argument("--json", action="store_true", help="print one JSON array")
    db_arg(rl)

    def rule_key(sp, what):
        sp.add_argument("--category", metavar="NAME", help=f"诉求类别 {what} (default: any)")
        sp.add_argument("--subcategory", metavar="NAME", help=f"subcategory {what}, needs --category (default: any)")
        sp.add_argument("--urgency", choices=("urgent", "normal", "consult"), help=f"urgency {what} (default: any)")

    rs = rsub.add_parser("set", help="add a rule, or replace the one for exactly this category/subcategory/urgency")
    rule_key(rs, "the rule is for")
    limit = rs.add_mutually_exclusive_group()
    limit.add_argument("--hours", type=float, metavar="H", help="handling limit in clock hours (紧急)")
    limit.add_argument("--workdays", type=int, metavar="N", help="handling limit in working days (一般, 咨询)")
    fb = rs.add_mutually_exclusive_group()
    fb.add_argument("--feedback-hours", type=float, metavar="H", help="first-feedback limit in clock hours")
    fb.add_argument("--feedback-workdays", type=int, metavar="N", help="first-feedback limit in working days")
    db_arg(rs)
    rd = rsub.add_parser("delete", help="delete a rule by --id, or the rule for exactly the given key")
    rd.add_argument("--id", type=int, metavar="N", help="the rule's id (see rules list)")
    rule_key(rd, "of the rule")
    db_arg(rd)
    rf = rsub.add_parser("defaults", help="write the default rules (the demo catalogue's limits)")
    rf.add_argument("--replace", action="store_true", help="delete the stored rules first")
    db_arg(rf)

    dl = sub.add_parser("deadlines", help="deadline maintenance")
    dsub = dl.add_subparsers(dest="deadlines_command", required=True)
    dr = dsub.add_parser("recompute", help="apply changed rules and yellow thresholds to open appeals")
    dr.add_argument("--all", action="store_true",
                    help="closed and cancelled appeals too (restates history: 按时办结率 may change)")
    dr.add_argument("--json", action="store_true", help="print the counts as one JSON object")
    db_arg(dr)

    tz = sub.add_parser("timezone", help="the city's time zone, stored with the data")
    tzsub = tz.add_subparsers(dest="timezone_command", required=True)
    db_arg(tzsub.add_parser("show", help="print the stored zone"))
    ts = tzsub.add_parser("set", help="record the zone of a database that has none yet")
    ts.add_argument("zone", metavar="ZONE", help="IANA name, e.g. Asia/Shanghai")
    ts.add_argument("--force", action="store_true",
                    help="replace a different stored zone (only when it was wrong: stored times are not converted)")
    db_arg(ts)

    w = sub.add_parser("weights", help="the 红黑榜's composite weights and minimum appeals: show, or --set them")
    w.add_argument("--set", action="store_true", help="store new weights (they are normalised to add up to 1)")
    w.add_argument("--completion", type=float, metavar="W", help="weight of 办结率 (with --set)")
    w.add_argument("--on-time", dest="on_time", type=float, metavar="W", help="weight of 按时办结率 (with --set)")
    w.add_argument("--satisfaction", type=float, metavar="W", help="weight of 满意率 (with --set)")
    w.add_argument("--min-appeals", dest="min_appeals", type=int, metavar="N",
                   help="fewest valid appeals a ranked unit has in the period (with --set)")
    w.add_argument("--json", action="store_true", help="print the weights in force as one JSON object")
    db_arg(w)

    cli_auth.add_parsers(sub, db_arg)
    cli_snapshots.add_parsers(sub, db_arg)
    cli_report.add_parsers(sub, db_arg)
    return p


# commands that write a city's data and record its zone when none is stored yet
# (seed records it itself, only when it seeds)
_RECORDS_ZONE = ("init-db", "import-regions", "import-appeals")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    keep_private()  # databases, stores and import reports hold personal data: created 0600 / 0700
    try:
        settings = load_settings()
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    url = args.db or settings.db_url
    try:
        if args.command not in ("timezone", "seed"):
            settings = _city_settings(args.command, url, settings)
        handler = {"kpis": _kpis, "seed": _seed, "sync": _sync, "init-db": _init_db, "escalate": _escalate,
                   "rules": _rules, "deadlines": _deadlines,
                   "import-regions": _import_regions, "import-appeals": _import_appeals,
                   "users": cli_auth.users, "kiosk-token": cli_auth.kiosk_token,
                   "timezone": _timezone, "weights": _weights,
                   "snapshot": cli_snapshots.snapshot, "report": cli_report.report}[args.command]
        return handler(args, url, settings)
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except SQLAlchemyError as exc:
        reason = getattr(exc, "orig", None) or exc
        print(f"error: database {redact_url(url)}: {reason}", file=sys.stderr)
        return 1


def _city_settings(command: str, url: str, settings):
    """The settings with the city's zone from the data; a writer records it when none is stored yet."""
    engine = _engine(url)
    try:
        if command in _RECORDS_ZONE:
            cityzone.record(engine, settings=settings)
        return cityzone.bind(settings, engine)
    except (cityzone.ZoneMismatch, cityzone.ZoneError) as exc:
        raise CliError(str(exc)) from None


def _timezone(args, url, settings) -> int:
    engine = _engine(url)
    if args.timezone_command == "show":
        stored = cityzone.stored_zone(engine)
        if stored is None:
            print(f"no time zone is recorded in {redact_url(url)}; processes use APPEALS_TZ or "
                  f"{cityzone.DEFAULT_TIMEZONE}. Record it with: python -m data_access timezone set ZONE",
                  file=sys.stderr)
            return 1
        print(stored)
        return 0
    try:
        zone = cityzone.check_name(args.zone)
        before = cityzone.stored_zone(engine)
        cityzone.record(engine, zone, force=args.force)
    except (cityzone.ZoneMismatch, cityzone.ZoneError) as exc:
        raise CliError(f"{exc} (use --force only if the stored zone was wrong)"
                       if isinstance(exc, cityzone.ZoneMismatch) else str(exc)) from None
    if before == zone:
        print(f"{redact_url(url)} already records the time zone {zone}", file=sys.stderr)
    else:
        print(f"recorded the time zone {zone} in {redact_url(url)}"
              + (f" (was {before}; stored times were not converted)" if before else ""), file=sys.stderr)
    return 0


def _engine(url: str):
    from .store import make_engine

    try:
        return make_engine(url)
    except Exception as exc:  # a malformed URL, an unknown driver
        raise CliError(f"cannot open database {redact_url(url)}: {exc}") from exc


def _kpis(args, url, settings) -> int:
    from . import queries
    from .sor_views import ensure_views

    as_of = to_local_naive(args.as_of, settings.timezone) if args.as_of else local_now(settings.timezone)
    try:
        period = Period.days(args.date_from, args.date_to)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    engine = _engine(url)
    ensure_views(engine)
    with engine.connect() as conn:
        try:
            scope = queries.resolve_scope(conn, args.scope)
        except queries.UnknownRegion:
            raise CliError(f"unknown region code {args.scope!r}") from None
        row = queries.kpis(conn, scope, period, as_of)
    out = {key: row[key] for key in KPI_KEYS}
    out["as_of"] = as_of.isoformat(timespec="seconds")
    out["scope"] = scope.code
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
    else:
        from .indicators import INDICATORS

        print(f"scope {scope.code or 'whole territory'} ({scope.level}), period {period.label()}, as of {out['as_of']}")
        for key in KPI_KEYS:
            value = out[key]
            shown = "—" if value is None else (f"{value:.1%}" if key.endswith("_rate") else f"{value:,}")
            print(f"  {INDICATORS[key].label:<8} {key:<18} {shown}")
    return 0


class _Progress:
    """One status line for all stages: "appeals 12,000/500,000 · events 58,000/2,400,000"."""

    def __init__(self) -> None:
        self.stages: dict[str, tuple[int, int]] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        self.stages[stage] = (done, total)
        line = " · ".join(f"{name} {d:,}/{t:,}" for name, (d, t) in self.stages.items())
        print(f"\r  {line}", end="", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.stages:
            print(file=sys.stderr)


def _seed(args, url, settings) -> int:
    from .seed import seed_demo
    from .store import create_schema
    from geo.territory import build_territory

    count = args.appeals or (3_600_000 if args.scale == "province" else 500_000)
    engine = _engine(url)
    if args.if_absent and not _demo_absent(engine, url):
        print(f"demo data: not needed ({redact_url(url)} is configured or already holds appeals)", file=sys.stderr)
        from .config import DEFAULT_DB_URL

        if url == DEFAULT_DB_URL:  # the demo database of an earlier version: give it its accounts and zone
            create_schema(engine)
            _record_zone(engine, settings)
            _demo_accounts(engine)
        return 0
    create_schema(engine)
    settings = _record_zone(engine, settings)
    end = (to_local_naive(args.end, settings.timezone) if args.end
           else local_now(settings.timezone).replace(second=0, microsecond=0))
    if args.replace:
        _clear_demo(engine)
    started = time.perf_counter()
    print(f"building the {args.scale} territory…", file=sys.stderr, flush=True)
    territory = build_territory(args.scale, seed=args.seed)
    progress = _Progress()
    try:
        report = seed_demo(engine, territory=territory, appeals=count, months=args.months, seed=args.seed,
                           end=end, progress=progress, timezone=settings.timezone)
    except ValueError as exc:
        raise CliError(f"{exc} (use --replace to start over)") from None
    finally:
        progress.close()
    print(f"seeded {redact_url(url)}: {report.regions:,} regions, {report.departments:,} departments, "
          f"{report.appeals:,} appeals, {report.events:,} events in {time.perf_counter() - started:.0f} s",
          file=sys.stderr)
    _demo_accounts(engine)
    return 0


def _record_zone(engine, settings):
    try:
        cityzone.record(engine, settings=settings)
        return cityzone.bind(settings, engine)
    except cityzone.ZoneMismatch as exc:
        raise CliError(str(exc)) from None


def _demo_accounts(engine) -> None:
    from .seed.accounts import DEMO_PASSWORD, ensure_demo_accounts

    created = ensure_demo_accounts(engine)
    if created:
        print("demo accounts (password " + DEMO_PASSWORD + "): "
              + ", ".join(f"{name} ({role}{' ' + region if region else ''})" for name, role, region in created),
              file=sys.stderr)


def _demo_absent(engine, url: str) -> bool:
    from sqlalchemy import inspect

    from . import schema
    from .config import DEFAULT_DB_URL
    from .store import row_count

    if url != DEFAULT_DB_URL:
        return False
    if "appeals" not in inspect(engine).get_table_names():
        return True
    return row_count(engine, schema.appeals) == 0


def _clear_demo(engine) -> None:
    from . import schema

    with engine.begin() as conn:
        for table in (schema.appeal_events, schema.supervisions, schema.appeals, schema.grid_workers,
                      schema.departments, schema.regions, schema.time_limit_rules):
            conn.execute(table.delete())


def _sync(args, url, settings) -> int:
    import duckdb

    from . import analytics, sync

    path = args.analytics or settings.analytics_path
    try:
        con = analytics.open_store(path)
    except duckdb.IOException as exc:
        raise CliError(f"cannot open the analytics store {path} (is the dashboard running?): {exc}") from None
    engine = _engine(url)
    run = sync.rebuild if args.rebuild else sync.sync
    progress = _Progress()
    try:
        # the command line always reconciles: it is the way to check a copy after a change in the source
        result = run(engine, con, timezone=settings.timezone, lookback_seconds=settings.sync_lookback_seconds,
                     reconcile_seconds=0, progress=progress)
    except sync.SyncError as exc:
        raise CliError(str(exc)) from None
    finally:
        progress.close()
        con.close()
    print(f"synced {path}: {result.appeals_copied:,} appeals, {result.regions_copied:,} regions, "
          f"{result.departments_copied:,} departments copied; reconciled {result.keys_compared:,} keys: "
          f"{result.appeals_reconciled:,} appeals copied, {result.appeals_deleted:,} deleted; "
          f"in {result.seconds:.1f} s", file=sys.stderr)
    return 0


def _import_regions(args, url, settings) -> int:
    from .importers.regions import RegionImportError, import_regions
    from .store import create_schema

    engine = _engine(url)
    create_schema(engine)
    try:
        report = import_regions(engine, args.file, level=args.level, code_field=args.code_field,
                                name_field=args.name_field, parent_field=args.parent_field,
                                population_field=args.population_field, crs=args.crs, timezone=settings.timezone)
    except RegionImportError as exc:
        raise CliError(str(exc)) from None
    summary = report.as_dict()
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    else:
        for key, value in summary.items():
            print(f"  {key:<24} {value}")
    return 0


def _import_appeals(args, url, settings) -> int:
    from pathlib import Path

    from .importers.appeals import import_appeals
    from .importers.mapping import MappingError, load_mapping
    from .importers.readers import SourceFileError

    try:
        mapping = load_mapping(args.mapping)
        report = import_appeals(_engine(url), args.file, mapping, timezone=settings.timezone,
                                out_dir=Path(args.out) if args.out else None)
    except (MappingError, SourceFileError) as exc:
        raise CliError(str(exc)) from None
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        print(f"{args.file} → {redact_url(url)}")
        if report.resumed is not None:
            done = report.resumed.get("rows_done")
            print(f"  an import of {report.resumed.get('file', '?')} started {report.resumed.get('started_at', '?')} "
                  f"did not finish ({'?' if done is None else f'{done:,}'} rows written); the rows it wrote count "
                  "as unchanged when the same file is imported again")
        for key in ("read", "inserted", "updated", "unchanged", "quarantined"):
            print(f"  {key:<12} {getattr(report, key):>10,}")
        for title, counts in (("quarantined because", report.quarantine_reasons), ("warnings", report.warnings)):
            if counts:
                print(f"  {title}:")
                for kind, n in sorted(counts.items(), key=lambda kv: -kv[1]):
                    rows = report.warning_rows.get(kind) if title == "warnings" else None
                    shown = "" if not rows else "  rows " + ", ".join(map(str, rows[:5])) + (
                        ", …" if n > len(rows[:5]) else "")
                    print(f"    {kind:<26} {n:>8,}{shown}")
        if report.time_formats:
            print("  times read as:")
            for name, layouts in report.time_formats.items():
                undecided = "  (every value reads day or month first: month first taken)" \
                    if name in report.time_order_undecided else ""
                print(f"    {name:<26} {' + '.join(layouts)}{undecided}")
        if report.quarantine_file:
            print(f"  quarantined rows: {report.quarantine_file}")
        print(f"  report: {report.report_file}")
    return 0


def _escalate(args, url, settings) -> int:
    from .store import create_schema
    from .supervision import escalate_overdue

    now = to_local_naive(args.now, settings.timezone) if args.now else local_now(settings.timezone)
    engine = _engine(url)
    create_schema(engine)
    pairs = escalate_overdue(engine, now=now, timezone=settings.timezone)
    shown = ", ".join(f"#{old}→#{new}" for old, new in pairs[:20]) + (" …" if len(pairs) > 20 else "")
    print(f"escalated {len(pairs):,} supervision(s) at {now.isoformat(timespec='seconds')}"
          + (f": {shown}" if pairs else ""), file=sys.stderr)
    return 0


def _init_db(args, url, settings) -> int:
    from .sor_views import ensure_views
    from .store import create_schema

    engine = _engine(url)
    create_schema(engine)
    ensure_views(engine)
    print(f"schema ready in {redact_url(url)}", file=sys.stderr)
    return 0


def _rule_dict(rule) -> dict:
    return {"id": rule.id, "category": rule.category, "subcategory": rule.subcategory, "urgency": rule.urgency,
            "limit_hours": rule.limit_hours, "limit_workdays": rule.limit_workdays,
            "feedback_hours": rule.feedback_hours, "feedback_workdays": rule.feedback_workdays,
            "updated_at": rule.updated_at.isoformat(timespec="seconds") if rule.updated_at else None}


def _rule_line(rule) -> str:
    def amount(hours, days):
        return f"{hours:g} h" if hours is not None else f"{days} wd" if days is not None else "—"

    return (f"  {rule.id if rule.id is not None else '':>4}  {rule.category or '*':<8} {rule.subcategory or '*':<10} "
            f"{rule.urgency or '*':<8} limit {amount(rule.limit_hours, rule.limit_workdays):<8} "
            f"feedback {amount(rule.feedback_hours, rule.feedback_workdays)}")


def _rules(args, url, settings) -> int:
    from . import deadlines
    from .store import create_schema

    engine = _engine(url)
    create_schema(engine)
    command = args.rules_command
    if command == "list":
        rules = deadlines.load_rules(engine)
        if args.json:
            print(json.dumps([_rule_dict(r) for r in rules], ensure_ascii=False))
        elif not len(rules):
            print("no rules stored: every appeal gets the built-in limits "
                  "(紧急 24 h, 一般 5 working days, 咨询 1 working day); see `rules defaults`")
        else:
            print(f"{len(rules)} rules, most specific first (* = any; wd = working days)")
            for rule in rules:
                print(_rule_line(rule))
        return 0
    if command == "defaults":
        try:
            n = deadlines.write_default_rules(engine, now=local_now(settings.timezone), replace=args.replace)
        except ValueError as exc:
            raise CliError(f"{exc} (use --replace)") from None
        print(f"wrote {n} default rules; run `python -m data_access deadlines recompute` to apply them",
              file=sys.stderr)
        return 0
    if command == "set":
        if all(v is None for v in (args.hours, args.workdays, args.feedback_hours, args.feedback_workdays)):
            raise CliError("give a limit: --hours or --workdays, and/or --feedback-hours or --feedback-workdays")
        try:
            rule = deadlines.set_rule(engine, category=args.category, subcategory=args.subcategory,
                                      urgency=args.urgency, hours=args.hours, workdays=args.workdays,
                                      feedback_hours=args.feedback_hours, feedback_workdays=args.feedback_workdays,
                                      now=local_now(settings.timezone))
        except ValueError as exc:
            raise CliError(str(exc)) from None
        print(_rule_line(rule))
        print("run `python -m data_access deadlines recompute` to apply it to open appeals", file=sys.stderr)
        return 0
    # delete
    if args.id is None and all(v is None for v in (args.category, args.subcategory, args.urgency)):
        raise CliError("say which rule: --id N, or its --category/--subcategory/--urgency")
    n = deadlines.delete_rule(engine, rule_id=args.id, category=args.category, subcategory=args.subcategory,
                              urgency=args.urgency)
    if not n:
        raise CliError("no such rule")
    print(f"deleted {n} rule(s); run `python -m data_access deadlines recompute` to apply the change",
          file=sys.stderr)
    return 0


def _deadlines(args, url, settings) -> int:
    from . import deadline_changes
    from .store import create_schema

    engine = _engine(url)
    create_schema(engine)
    report = deadline_changes.recompute(engine, now=local_now(settings.timezone), all=args.all, settings=settings)
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        scope = "all appeals" if args.all else "open appeals"
        print(f"{scope} with a deadline or a rule-based one: {report.examined:,} examined "
              f"({', '.join(f'{k} {v:,}' for k, v in sorted(report.by_source.items())) or 'none'})")
        print(f"  deadlines changed           {report.deadlines:>10,}")
        print(f"  feedback deadlines changed  {report.feedback_deadlines:>10,}")
        print(f"  yellow moments changed      {report.warn_at:>10,}")
        print(f"  rows updated                {report.updated:>10,}")
    return 0


def _weights_lines(weights) -> list[str]:
    source = (f"stored {weights.changed_at.isoformat(sep=' ', timespec='seconds')} by {weights.changed_by}"
              if weights.stored else "defaults: none stored")
    return [f"红黑榜 composite weights ({source})",
            f"  办结率      completion    {weights.completion:7.1%}",
            f"  按时办结率  on_time       {weights.on_time:7.1%}",
            f"  满意率      satisfaction  {weights.satisfaction:7.1%}",
            f"  ranked from {weights.min_appeals:,} valid appeals in the period (fewer: listed apart)"]


def _weights(args, url, settings) -> int:
    from . import ranking_weights
    from .store import create_schema

    engine = _engine(url)
    given = {"--completion": args.completion, "--on-time": args.on_time, "--satisfaction": args.satisfaction}
    if not args.set:
        if any(v is not None for v in given.values()) or args.min_appeals is not None:
            raise CliError("to change the weights, add --set")
        weights = ranking_weights.load(engine)
        print(json.dumps(weights.as_dict(), ensure_ascii=False) if args.json else "\n".join(_weights_lines(weights)))
        return 0
    missing = [name for name, value in given.items() if value is None]
    if len(missing) == len(given) and args.min_appeals is None:
        raise CliError("give the three weights (--completion W --on-time W --satisfaction W) and/or --min-appeals N")
    if missing and len(missing) < len(given):
        raise CliError(f"give all three weights together (missing {', '.join(missing)})")
    current = ranking_weights.load(engine)
    weights = (current.completion, current.on_time, current.satisfaction) if missing else tuple(given.values())
    try:
        checked = ranking_weights.checked(*weights, args.min_appeals if args.min_appeals is not None
                                          else current.min_appeals)
    except ranking_weights.WeightsError as exc:
        raise CliError(str(exc)) from None
    create_schema(engine)
    stored = ranking_weights.save(engine, checked, actor="cli", now=local_now(settings.timezone))
    total = sum(weights)
    if not missing and abs(total - 1.0) > 1e-9:
        print(f"the weights added up to {total:g}: normalised to add up to 1", file=sys.stderr)
    print(json.dumps(stored.as_dict(), ensure_ascii=False) if args.json else "\n".join(_weights_lines(stored)))
    return 0
