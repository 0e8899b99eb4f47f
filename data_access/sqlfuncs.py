"""Small SQL constructs that each dialect spells differently.

The query layer runs on the analytics store (DuckDB) and, for cross-checks
and the benchmark's naive baseline, on the system of record itself (SQLite,
PostgreSQL, MySQL/MariaDB). These constructs compile to each dialect.
"""

from __future__ import annotations

from sqlalchemy import Date, Double, Integer
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement


class day_of(FunctionElement):
    """The calendar day of a timestamp."""

    type = Date()
    inherit_cache = True
    name = "day_of"


@compiles(day_of)
def _day_of_default(element, compiler, **kw):
    return "CAST(%s AS DATE)" % compiler.process(element.clauses, **kw)


@compiles(day_of, "sqlite")
def _day_of_sqlite(element, compiler, **kw):
    return "date(%s)" % compiler.process(element.clauses, **kw)


class seconds_between(FunctionElement):
    """``end - start`` in seconds, as a float."""

    type = Double()
    inherit_cache = True
    name = "seconds_between"


def _pair(element, compiler, **kw):
    start, end = list(element.clauses)
    return compiler.process(start, **kw), compiler.process(end, **kw)


@compiles(seconds_between)
def _secs_default(element, compiler, **kw):  # DuckDB
    start, end = _pair(element, compiler, **kw)
    return "(epoch(%s) - epoch(%s))" % (end, start)


@compiles(seconds_between, "postgresql")
def _secs_pg(element, compiler, **kw):
    start, end = _pair(element, compiler, **kw)
    return "EXTRACT(EPOCH FROM (%s - %s))" % (end, start)


@compiles(seconds_between, "sqlite")
def _secs_sqlite(element, compiler, **kw):
    start, end = _pair(element, compiler, **kw)
    return "((julianday(%s) - julianday(%s)) * 86400.0)" % (end, start)


@compiles(seconds_between, "mysql")
@compiles(seconds_between, "mariadb")
def _secs_mysql(element, compiler, **kw):
    start, end = _pair(element, compiler, **kw)
    return "TIMESTAMPDIFF(SECOND, %s, %s)" % (start, end)


class floor_div(FunctionElement):
    """``floor(value / step)`` as an integer (binning coordinates)."""

    type = Integer()
    inherit_cache = True
    name = "floor_div"


@compiles(floor_div)
def _floor_default(element, compiler, **kw):
    value, step = _pair(element, compiler, **kw)
    return "CAST(floor(%s / %s) AS BIGINT)" % (value, step)


@compiles(floor_div, "sqlite")
def _floor_sqlite(element, compiler, **kw):
    # SQLite may lack floor(); CAST truncates toward zero, so correct negatives.
    value, step = _pair(element, compiler, **kw)
    q = "(%s / %s)" % (value, step)
    return "(CAST(%s AS INTEGER) - (%s < CAST(%s AS INTEGER)))" % (q, q, q)


@compiles(floor_div, "mysql")
@compiles(floor_div, "mariadb")
def _floor_mysql(element, compiler, **kw):
    value, step = _pair(element, compiler, **kw)
    return "CAST(floor(%s / %s) AS SIGNED)" % (value, step)

