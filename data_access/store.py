"""The system of record: engines, schema creation and bulk writes.

Any SQLAlchemy URL works. SQLite files are opened in WAL mode so that the
dashboard can read while a writer (seeder, importer) writes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path

from sqlalchemy import DateTime, Engine, Table, create_engine, event, func, insert, inspect, select
from sqlalchemy.schema import DDL, CreateColumn
from sqlalchemy.engine import make_url

from .files import private_creation, private_dir
from .schema import metadata

_SQLITE_PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA busy_timeout=30000")


def _sqlite_on_connect(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    for pragma in _SQLITE_PRAGMAS:
        cur.execute(pragma)
    cur.close()


def _private_sqlite_file(path: Path) -> None:
    """A new SQLite file (and its folder) readable by its owner only; SQLite gives its WAL the same mode."""
    if path.exists():
        return
    private_dir(path.parent)
    with private_creation():
        sqlite3.connect(path).close()


def make_engine(url: str, *, connect_timeout: int = 10) -> Engine:
    """An engine for the system of record. SQLite files get WAL mode and their folder."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    kwargs: dict = {"pool_pre_ping": True}
    if backend == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _private_sqlite_file(Path(parsed.database))
        kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
    elif backend == "postgresql":
        kwargs["connect_args"] = {"connect_timeout": connect_timeout}
    elif backend in ("mysql", "mariadb"):
        kwargs["connect_args"] = {"connect_timeout": connect_timeout, "charset": "utf8mb4"}
    engine = create_engine(url, **kwargs)
    if backend == "sqlite":
        event.listen(engine, "connect", _sqlite_on_connect)
    return engine


def create_schema(engine: Engine) -> None:
    """Create the tables that do not exist yet, and add columns a newer version introduced.

    Only additive changes: a missing table is created, a missing column that may
    be NULL is added. Nothing is dropped or altered.
    """
    metadata.create_all(engine)
    inspector = inspect(engine)
    for table in metadata.sorted_tables:
        have = {c["name"] for c in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name not in have and column.nullable:
                spec = CreateColumn(column).compile(dialect=engine.dialect)
                ddl = DDL("ALTER TABLE %s ADD COLUMN %s" % (engine.dialect.identifier_preparer.format_table(table),
                                                           str(spec).replace("%", "%%")))
                with engine.begin() as conn:
                    conn.execute(ddl)


def row_count(engine: Engine, table: Table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def bulk_insert(engine: Engine, table: Table, columns: Sequence[str], rows: Iterable[Sequence], *,
                batch_size: int = 20_000) -> int:
    """Insert tuples of ``columns`` fast, through the driver's executemany.

    The statement is built by SQLAlchemy Core and compiled once for the dialect;
    the values travel as bound parameters. Each batch commits on its own, so a
    reader sees progress and a writer never holds a lock for long.
    """
    stmt = insert(table).compile(dialect=engine.dialect, column_keys=list(columns))
    sql = str(stmt)
    positional = engine.dialect.positional
    order = list(stmt.positiontup) if positional else None
    index = {name: i for i, name in enumerate(columns)}
    # The dialect's own value conversions (e.g. SQLite stores datetimes as text
    # in one fixed format, which range comparisons rely on).
    procs = {name: _bind_processor(table.c[name].type, engine.dialect) for name in columns}
    procs = {name: p for name, p in procs.items() if p is not None}
    total = 0

    def _value(row, name):
        v = row[index[name]]
        p = procs.get(name)
        return p(v) if (p is not None and v is not None) else v

    def _params(batch):
        if positional:
            return [tuple(_value(r, k) for k in order) for r in batch]
        return [{k: _value(r, k) for k in columns} for r in batch]

    batch: list = []
    for row in rows:
        batch.append(row)
        if len(batch) >= batch_size:
            total += _flush(engine, sql, _params(batch))
            batch = []
    if batch:
        total += _flush(engine, sql, _params(batch))
    return total


def _sqlite_datetime(value) -> str:
    # SQLAlchemy's SQLite storage format, written fast (datetime and pandas.Timestamp)
    return value.isoformat(" ", "microseconds")


def _bind_processor(kind, dialect):
    if dialect.name == "sqlite" and isinstance(kind, DateTime):
        return _sqlite_datetime
    return kind._cached_bind_processor(dialect)


def _flush(engine: Engine, sql: str, params: list) -> int:
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.executemany(sql, params)
        raw.commit()
        cur.close()
    finally:
        raw.close()
    return len(params)
