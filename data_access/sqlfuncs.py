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
    """``end - start`` in seconds, as a float, exact to the microsecond on every dialect.

    Each dialect takes the difference in whole microseconds (an exact integer)
    and divides it by 10^6 once, so every engine gives the same double, and
    boundaries such as "at most 24 hours left" fall the same way everywhere.
    """

    type = Double()
    inherit_cache = True
    name = "seconds_between"


def _pair(element, compiler, **kw):
    start, end = list(element.clauses)
    return compiler.process(start, **kw), compiler.process(end, **kw)


@compiles(seconds_between)
def _secs_default(element, compiler, **kw):  # DuckDB
    # epoch() is a double of seconds since 1970: its rounding would leave the
    # difference off by up to ~1e-7 s; epoch_us() is an exact BIGINT.
    start, end = _pair(element, compiler, **kw)
    return "((epoch_us(%s) - epoch_us(%s)) / 1000000.0)" % (end, start)


@compiles(seconds_between, "postgresql")
def _secs_pg(element, compiler, **kw):
    # EXTRACT(EPOCH FROM interval) is an exact numeric; as a double it is the same correctly rounded value
    start, end = _pair(element, compiler, **kw)
    return "CAST(EXTRACT(EPOCH FROM (%s - %s)) AS DOUBLE PRECISION)" % (end, start)


def _sqlite_epoch_us(value: str) -> str:
    """Microseconds since 1970 of a SQLite datetime text ('YYYY-MM-DD HH:MM:SS[.ffffff]'), exactly.

    julianday() keeps only milliseconds, and its double loses ~40 us more, so a
    one-second difference came out as 0.99999458 s. Whole seconds come from
    strftime('%s') on the first 19 characters, the fraction from the digits
    after the point (padded or cut to six).
    """
    return ("(CAST(strftime('%%s', substr(%(v)s, 1, 19)) AS INTEGER) * 1000000"
            " + CAST(substr(substr(%(v)s, 21) || '000000', 1, 6) AS INTEGER))" % {"v": value})


@compiles(seconds_between, "sqlite")
def _secs_sqlite(element, compiler, **kw):
    start, end = _pair(element, compiler, **kw)
    return "((%s - %s) / 1000000.0)" % (_sqlite_epoch_us(end), _sqlite_epoch_us(start))


@compiles(seconds_between, "mysql")
@compiles(seconds_between, "mariadb")
def _secs_mysql(element, compiler, **kw):
    # TIMESTAMPDIFF(SECOND, ...) truncates to whole seconds; 1e6 is a DOUBLE literal (1000000.0 would be DECIMAL)
    start, end = _pair(element, compiler, **kw)
    return "(TIMESTAMPDIFF(MICROSECOND, %s, %s) / 1e6)" % (start, end)


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



class as_double(FunctionElement):
    """A number as a double, for exact ratios (``CAST(x AS DOUBLE)``).

    MySQL before 8.0.17 and MariaDB before 10.4.5 have no CAST … AS DOUBLE and
    SQLAlchemy leaves the cast out there, which would make ratios DECIMAL and
    round them to four places; multiplying by the double literal 1e0 works on
    every version.
    """

    type = Double()
    inherit_cache = True
    name = "as_double"


@compiles(as_double)
def _double_default(element, compiler, **kw):
    from sqlalchemy import cast

    (value,) = list(element.clauses)
    return compiler.process(cast(value, Double()), **kw)


@compiles(as_double, "mysql")
@compiles(as_double, "mariadb")
def _double_mysql(element, compiler, **kw):
    (value,) = list(element.clauses)
    return "(%s * 1e0)" % compiler.process(value, **kw)
