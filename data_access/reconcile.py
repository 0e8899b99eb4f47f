"""Finding where the analytics copy of appeals differs from the system of record.

The incremental sync (``sync.py``) reads rows after its high-water mark, so a
row written below the mark (a writer with a slow clock or in another zone, a
commit later than the lookback) and a deleted row would never reach the copy.
This module finds them with SELECTs alone, so it works on a city's read-only
views:

1. **Buckets.** Both sides group the rows stamped at or before the mark by
   ``time_bucket(updated_at, width)`` (``sqlfuncs``; the same integer on every
   dialect; an hour first) and give, per bucket, the row count and two
   checksums: the sum of the whole epoch seconds and the sum of the
   microseconds of ``updated_at``.
   Rows are first grouped by the stamp itself, which reads the
   ``(updated_at, appeal_id)`` index in order, so the date arithmetic runs
   once per distinct stamp, not once per row.
2. **Refinement.** A differing bucket holding more than ``KEY_LIMIT`` rows is
   compared again at the next finer width (hour, minute, second).
3. **Keys.** In a differing leaf bucket, the keys ``(appeal_id, updated_at)``
   of its time range are read from both sides (a range on ``updated_at``, so
   the index serves it) and compared: a source row missing or stamped
   differently in the copy is *stale*; a copy row absent from the source's
   range is an *orphan*, to be looked up by id (moved elsewhere, or deleted).
4. **Sweep.** Counts and sums cannot see a row deleted and another inserted
   with exactly the same stamp in the same bucket. So each reconciliation also
   compares the keys of the next ``SWEEP_ROWS`` rows in ``updated_at`` order,
   whatever the checksums say, and the whole table is compared key by key
   every ``rows / SWEEP_ROWS`` reconciliations.

Applying the differences (fetching rows, deleting) is ``sync.py``'s job.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import duckdb
import pyarrow as pa
from sqlalchemy import BigInteger, and_, bindparam, cast, column, exists, func, literal, or_, select, table, union_all
from sqlalchemy import DateTime as SaDateTime

from . import analytics as an
from . import schema
from .runner import run
from .sqlfuncs import epoch_seconds, int_floor_div, micro_of, time_bucket

# bucket widths in seconds, coarsest first: hour, minute, second. The first
# comparison is by hour: it reads the same index entries as one by day would,
# and a changed row then costs the keys of its hour rather than of its day.
WIDTHS = (3_600, 60, 1)
# a differing bucket with at most this many rows (on either side) is compared key by key
KEY_LIMIT = 5_000
# keys compared in turn at every reconciliation, whatever the checksums say
SWEEP_ROWS = 20_000
# the copy is compared with the keys of this many source rows at a time (several ranges at once)
KEY_BATCH = 100_000

EPOCH = dt.datetime(1970, 1, 1)
_ONE_MICROSECOND = dt.timedelta(microseconds=1)


@dataclass(frozen=True)
class Range:
    """Rows with ``lo <= updated_at < hi`` (either bound may be open) and ``updated_at <= cutoff``."""

    lo: dt.datetime | None
    hi: dt.datetime | None
    cutoff: dt.datetime
    # a bucket's range also knows its bucket, so that the copy finds its rows by an equality
    width: int | None = None
    bucket: int | None = None

    def where(self, stamp):
        # one upper bound only: given two, SQLite may take the looser one for its index range
        upper = stamp < self.hi if self.hi is not None and self.hi <= self.cutoff else stamp <= self.cutoff
        return upper if self.lo is None else and_(stamp >= self.lo, upper)


@dataclass
class Difference:
    stale: list[str]     # in the source but missing or stamped differently in the copy: fetch and upsert
    orphans: list[str]   # in the copy's range but not in the source's: look up by id, upsert or delete
    keys: int            # keys read from the source


def bucket_range(bucket: int, width: int, cutoff: dt.datetime) -> Range:
    start = EPOCH + dt.timedelta(seconds=bucket * width)
    return Range(start, start + dt.timedelta(seconds=width), cutoff, width, bucket)


def _bucket_sums(stamp, where, width: int):
    """Per bucket of ``width`` seconds: rows, sum of epoch seconds, sum of microseconds."""
    per_stamp = (select(epoch_seconds(stamp).label("s"), micro_of(stamp).label("u"), func.count().label("n"))
                 .where(where).group_by(stamp).subquery("per_stamp"))
    # grouped by a column of a subquery: the width is one bound value, not one per mention
    bucketed = select(int_floor_div(per_stamp.c.s, bindparam("width", width, BigInteger)).label("bucket"),
                      per_stamp.c.n, (per_stamp.c.n * per_stamp.c.s).label("ns"),
                      (per_stamp.c.n * per_stamp.c.u).label("nu")).subquery("bucketed")
    return (select(bucketed.c.bucket, func.sum(bucketed.c.n).label("n"), func.sum(bucketed.c.ns).label("s"),
                   func.sum(bucketed.c.nu).label("u"))
            .group_by(bucketed.c.bucket))


def _sums(rows) -> dict[int, tuple[int, int, int]]:
    return {int(b): (int(n), int(s), int(u)) for b, n, s, u in rows}


def source_sums(src, rng: Range, width: int) -> dict[int, tuple[int, int, int]]:
    stamp = schema.appeals.c.updated_at
    return _sums(src.execute(_bucket_sums(stamp, rng.where(stamp), width)).all())


def copy_sums(con: duckdb.DuckDBPyConnection, rng: Range, width: int) -> dict[int, tuple[int, int, int]]:
    stamp = an.facts.c.updated_at
    df = run(con, _bucket_sums(stamp, rng.where(stamp), width), max_rows=10_000_000, own_cursor=False)
    return _sums(df.itertuples(index=False))


def differing_ranges(src, con: duckdb.DuckDBPyConnection, cutoff: dt.datetime) -> Iterator[tuple[Range, int]]:
    """The leaf ranges whose rows differ (by count or checksum), each with its larger row count."""
    yield from _refine(src, con, Range(None, None, cutoff), 0)


def _refine(src, con, rng: Range, depth: int) -> Iterator[tuple[Range, int]]:
    width = WIDTHS[depth]
    theirs, ours = source_sums(src, rng, width), copy_sums(con, rng, width)
    for bucket in sorted(theirs.keys() | ours.keys()):
        a, b = theirs.get(bucket), ours.get(bucket)
        if a == b:
            continue
        rows = max(a[0] if a else 0, b[0] if b else 0)
        sub = bucket_range(bucket, width, rng.cutoff)
        if rows > KEY_LIMIT and depth + 1 < len(WIDTHS):
            yield from _refine(src, con, sub, depth + 1)
        else:
            yield sub, rows


def batches(ranges: list[tuple[Range, int]], keys: int) -> Iterator[list[Range]]:
    """Consecutive ranges in groups of about ``keys`` rows, so that the copy is queried once per group."""
    group, rows = [], 0
    for rng, n in ranges:
        if group and rows + n > keys:
            yield group
            group, rows = [], 0
        group.append(rng)
        rows += n
    if group:
        yield group


def compare_keys(src, con: duckdb.DuckDBPyConnection, stamp_column, ranges: list[Range]) -> Difference:
    """Compare the keys of some ranges; ``stamp_column`` is how the source's ``updated_at`` is read."""
    a, f = schema.appeals, an.facts
    ids, stamps = [], []
    for rng in ranges:
        rows = src.execute(select(a.c.appeal_id, stamp_column).where(rng.where(a.c.updated_at))).all()
        if rows:
            part_ids, part_stamps = zip(*rows)
            ids += part_ids
            stamps += part_stamps
    # Arrow columns for DuckDB (the sweep's range may overlap a bucket's: DISTINCT below)
    keys = pa.table({"appeal_id": pa.array(ids, pa.string()), "updated_at": pa.array(stamps)})
    # the buckets, to find the copy's rows in them by a hash join rather than a join on ranges
    buckets = pa.table({"width": pa.array([r.width for r in ranges if r.width], pa.int64()),
                        "bucket": pa.array([r.bucket for r in ranges if r.width], pa.int64())})
    con.register("_rc_keys", keys)
    con.register("_rc_buckets", buckets)
    try:
        k = table("_rc_keys", column("appeal_id"), column("updated_at"))
        b = table("_rc_buckets", column("width"), column("bucket"))
        stale = (select(k.c.appeal_id).distinct()
                 .select_from(k.outerjoin(f, f.c.appeal_id == k.c.appeal_id))
                 .where((f.c.appeal_id.is_(None)) | (f.c.updated_at != cast(k.c.updated_at, SaDateTime))))
        cutoff = f.c.updated_at <= ranges[0].cutoff
        in_copy = [select(f.c.appeal_id).where(cutoff, time_bucket(f.c.updated_at, width).in_(
                       select(b.c.bucket).where(b.c.width == width)))
                   for width in sorted({r.width for r in ranges if r.width})]
        others = [r.where(f.c.updated_at) for r in ranges if not r.width]
        if others:
            in_copy.append(select(f.c.appeal_id).where(or_(*others)))
        candidates = union_all(*in_copy).subquery("candidates")
        orphans = (select(candidates.c.appeal_id).distinct()
                   .where(~exists(select(literal(1)).where(k.c.appeal_id == candidates.c.appeal_id))))
        cap = len(ids) + 10_000_000
        return Difference(
            stale=run(con, stale, max_rows=cap, own_cursor=False)["appeal_id"].tolist(),
            orphans=run(con, orphans, max_rows=cap, own_cursor=False)["appeal_id"].tolist(),
            keys=len(ids),
        )
    finally:
        con.unregister("_rc_keys")
        con.unregister("_rc_buckets")


def sweep_range(src, start: dt.datetime | None, cutoff: dt.datetime) -> tuple[Range, dt.datetime | None]:
    """The next ``SWEEP_ROWS`` rows from ``start`` (whole stamps), and where the next sweep starts (None: over)."""
    stamp = schema.appeals.c.updated_at
    rng = Range(start, None, cutoff)
    query = select(stamp).where(rng.where(stamp)).order_by(stamp).limit(1).offset(SWEEP_ROWS)
    edge = src.execute(query).scalar()
    if edge is None:
        return rng, None
    first = src.execute(select(func.min(stamp)).where(rng.where(stamp))).scalar()
    if edge <= first:  # more than SWEEP_ROWS rows share the first stamp: take them all
        edge = first + _ONE_MICROSECOND
    return Range(start, edge, cutoff), edge
