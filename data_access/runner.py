"""The one path through which every query runs.

Statements are SQLAlchemy Core objects; values travel as bound parameters.
A query on the analytics store (DuckDB) runs under a time limit and a row
cap; a query on a system-of-record connection (SQLAlchemy) under the row cap.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import duckdb
import pandas as pd
import pyarrow as pa
from duckdb_engine import Dialect as _DuckDBDialect
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ClauseElement

DUCKDB_DIALECT = _DuckDBDialect(paramstyle="numeric_dollar")


class QueryError(RuntimeError):
    """A query could not give its answer."""


class QueryTimeout(QueryError):
    pass


class RowCapExceeded(QueryError):
    pass


@dataclass
class Limits:
    timeout_seconds: float = 30.0
    max_rows: int = 100_000


LIMITS = Limits()


def set_limits(*, timeout_seconds: float | None = None, max_rows: int | None = None) -> None:
    if timeout_seconds is not None:
        LIMITS.timeout_seconds = float(timeout_seconds)
    if max_rows is not None:
        LIMITS.max_rows = int(max_rows)


def compile_duckdb(stmt: ClauseElement) -> tuple[str, list]:
    """SQL text with ``$n`` placeholders, and the values in order."""
    compiled = stmt.compile(dialect=DUCKDB_DIALECT, compile_kwargs={"render_postcompile": True})
    names = getattr(compiled, "positiontup", None) or []
    if not names:
        return str(compiled), []
    params = compiled.construct_params()
    return str(compiled), [params[name] for name in names]


def execute(con: duckdb.DuckDBPyConnection, stmt: ClauseElement) -> None:
    """Run a statement with no result (DDL, DML) on the analytics store."""
    sql, params = compile_duckdb(stmt)
    con.execute(sql, params)


def run(conn, stmt: ClauseElement, *, max_rows: int | None = None,
        timeout_seconds: float | None = None, own_cursor: bool = True) -> pd.DataFrame:
    """Run a SELECT and return its rows as a DataFrame.

    ``conn`` is a DuckDB connection (the analytics store) or a SQLAlchemy
    connection (a system of record, e.g. for the naive baseline of the
    benchmark or for cross-checks against PostgreSQL and MySQL).
    On DuckDB the query runs on a cursor of its own (one per thread), unless
    ``own_cursor`` is false: then on ``conn`` itself, which sees the views
    registered on it.
    """
    cap = LIMITS.max_rows if max_rows is None else max_rows
    if isinstance(conn, duckdb.DuckDBPyConnection):
        timeout = LIMITS.timeout_seconds if timeout_seconds is None else timeout_seconds
        return _run_duckdb(conn, stmt, cap, timeout, own_cursor)
    if isinstance(conn, Connection):
        return _run_sqlalchemy(conn, stmt, cap)
    raise TypeError(f"cannot run a query on {type(conn).__name__}")


def _run_duckdb(con: duckdb.DuckDBPyConnection, stmt: ClauseElement, cap: int, timeout: float,
                own_cursor: bool) -> pd.DataFrame:
    sql, params = compile_duckdb(stmt)
    cur = con.cursor() if own_cursor else con
    timed_out = threading.Event()

    def _interrupt() -> None:
        timed_out.set()
        cur.interrupt()

    timer = threading.Timer(timeout, _interrupt)
    timer.start()
    try:
        cur.execute(sql, params)
        reader = cur.to_arrow_reader(min(cap + 1, 1_000_000))
        batches, count = [], 0
        for batch in reader:
            batches.append(batch)
            count += batch.num_rows
            if count > cap:
                raise RowCapExceeded(f"query returned more than {cap} rows")
        table = pa.Table.from_batches(batches, schema=reader.schema)
    except duckdb.InterruptException as exc:
        if timed_out.is_set():
            raise QueryTimeout(f"query took longer than {timeout:g} s") from exc
        raise
    finally:
        timer.cancel()
        if own_cursor:
            cur.close()
    return table.to_pandas()


def _run_sqlalchemy(conn: Connection, stmt: ClauseElement, cap: int) -> pd.DataFrame:
    result = conn.execute(stmt)
    rows = result.fetchmany(cap + 1)
    if len(rows) > cap:
        raise RowCapExceeded(f"query returned more than {cap} rows")
    return pd.DataFrame(rows, columns=list(result.keys()))
