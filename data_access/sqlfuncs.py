"""Small SQL constructs that each dialect spells differently.

The query layer runs on the analytics store (DuckDB) and, for cross-checks
and the benchmark's naive baseline, on the system of record itself (SQLite,
PostgreSQL, MySQL/MariaDB). These constructs compile to each dialect.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Date, Double, Integer
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


# ------------------------------------------------- time buckets (the sync) ---
# The reconciliation of the sync (data_access/reconcile.py) compares the system
# of record with its DuckDB copy bucket by bucket, so both sides must compute
# the same integers from a naive timestamp. These are wall-clock arithmetic:
# no dialect converts through a time zone, so neither the server's TZ nor the
# connection's time zone changes them.

class epoch_seconds(FunctionElement):
    """Whole seconds from 1970-01-01 00:00:00 to a naive timestamp, rounded down, as an integer."""

    type = BigInteger()
    inherit_cache = True
    name = "epoch_seconds"


@compiles(epoch_seconds)
def _epoch_default(element, compiler, **kw):  # DuckDB
    # epoch_us() is an exact BIGINT of the naive value; // truncates, so correct below 1970
    (value,) = [compiler.process(c, **kw) for c in element.clauses]
    us = "epoch_us(%s)" % value
    return "(%s // 1000000 - CASE WHEN %s %% 1000000 < 0 THEN 1 ELSE 0 END)" % (us, us)


@compiles(epoch_seconds, "postgresql")
def _epoch_pg(element, compiler, **kw):
    # of a timestamp without time zone, EXTRACT(EPOCH) is "nominal" seconds, whatever the connection's TimeZone
    (value,) = [compiler.process(c, **kw) for c in element.clauses]
    return "CAST(floor(EXTRACT(EPOCH FROM %s)) AS BIGINT)" % value


@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element, compiler, **kw):
    # strftime('%s') without the 'localtime' modifier reads the text as UTC: no time zone applies
    (value,) = [compiler.process(c, **kw) for c in element.clauses]
    return "CAST(strftime('%%s', substr(%s, 1, 19)) AS INTEGER)" % value


@compiles(epoch_seconds, "mysql")
@compiles(epoch_seconds, "mariadb")
def _epoch_mysql(element, compiler, **kw):
    # UNIX_TIMESTAMP() would convert from the connection's time_zone; TIMESTAMPDIFF on a DATETIME does not.
    # It truncates toward zero: a fractional second before 1970 is one more second down.
    (value,) = [compiler.process(c, **kw) for c in element.clauses]
    return ("(TIMESTAMPDIFF(SECOND, '1970-01-01 00:00:00', %(v)s)"
            " - CASE WHEN %(v)s < '1970-01-01 00:00:00' AND MICROSECOND(%(v)s) > 0 THEN 1 ELSE 0 END)"
            % {"v": value})


class micro_of(FunctionElement):
    """The microseconds within the second of a timestamp (0 to 999,999), as an integer."""

    type = BigInteger()
    inherit_cache = True
    name = "micro_of"


@compiles(micro_of)
def _micro_default(element, compiler, **kw):  # DuckDB: microsecond() includes the seconds
    (value,) = [compiler.process(c, **kw) for c in element.clauses]
    return "(microsecond(%s) %% 1000000)" % value


@compiles(micro_of, "postgresql")
def _micro_pg(element, compiler, **kw):  # EXTRACT(MICROSECONDS) includes the seconds
    (value,) = [compiler.process(c, **kw) for c in element.clauses]
    return "MOD(CAST(EXTRACT(MICROSECONDS FROM %s) AS BIGINT), 1000000)" % value


@compiles(micro_of, "sqlite")
def _micro_sqlite(element, compiler, **kw):  # the digits after the point, padded or cut to six
    (value,) = [compiler.process(c, **kw) for c in element.clauses]
    return "CAST(substr(substr(%(v)s, 21) || '000000', 1, 6) AS INTEGER)" % {"v": value}


@compiles(micro_of, "mysql")
@compiles(micro_of, "mariadb")
def _micro_mysql(element, compiler, **kw):
    (value,) = [compiler.process(c, **kw) for c in element.clauses]
    return "MICROSECOND(%s)" % value


class int_floor_div(FunctionElement):
    """``floor(a / b)`` of two integers, computed in integers (``b`` > 0).

    Unlike ``floor_div`` it never goes through a fraction: MariaDB would round
    86399 / 86400 to 1.0000 (four decimals), and DuckDB's ``/`` is a double.
    Every engine's integer division truncates toward zero; a negative
    remainder means one less.
    """

    type = BigInteger()
    inherit_cache = True
    name = "int_floor_div"


def _int_div(element, compiler, div: str, mod: str, **kw) -> str:
    a, b = _pair(element, compiler, **kw)
    return ("(%(div)s - CASE WHEN %(mod)s < 0 THEN 1 ELSE 0 END)"
            % {"div": div % {"a": a, "b": b}, "mod": mod % {"a": a, "b": b}})


# a literal % would clash with the "format" and "pyformat" placeholders of psycopg and PyMySQL: MOD() there
@compiles(int_floor_div)
def _ifd_default(element, compiler, **kw):  # DuckDB
    return _int_div(element, compiler, "%(a)s // %(b)s", "%(a)s %% %(b)s", **kw)


@compiles(int_floor_div, "sqlite")
def _ifd_sqlite(element, compiler, **kw):  # integer / integer truncates
    return _int_div(element, compiler, "%(a)s / %(b)s", "%(a)s %% %(b)s", **kw)


@compiles(int_floor_div, "postgresql")
def _ifd_pg(element, compiler, **kw):  # bigint / integer truncates
    return _int_div(element, compiler, "%(a)s / %(b)s", "MOD(%(a)s, %(b)s)", **kw)


@compiles(int_floor_div, "mysql")
@compiles(int_floor_div, "mariadb")
def _ifd_mysql(element, compiler, **kw):
    return _int_div(element, compiler, "%(a)s DIV %(b)s", "MOD(%(a)s, %(b)s)", **kw)


def time_bucket(value, width):
    """The bucket of a naive timestamp: ``floor(epoch seconds / width)``, the same integer on every dialect."""
    return int_floor_div(epoch_seconds(value), width)
