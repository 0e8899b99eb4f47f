"""Changes to a seeded database that the sync's incremental steps alone would miss (for the benchmark).

* ``copy_database`` copies the seeded regions, departments and appeals into
  another database (PostgreSQL, MySQL/MariaDB), to measure the sync there.
* ``spread_stamps`` gives every appeal the time of its last event as
  ``updated_at``. The seeder stamps each batch with the time it is written, so
  all rows share a few seconds; in a live system the stamps spread over the
  whole history, which is what the reconciliation's buckets see there.
  ``stamp_received`` moves them to the time each appeal was received, so that
  the next spread changes nearly every row again.
* ``backdated_changes`` updates, inserts and deletes appeals with stamps far
  below the copy's mark, as a writer with a slow clock or a late commit would,
  at random places in the history.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid

from sqlalchemy import Engine, bindparam, func, select, update

from ..schema import APPEAL_COLUMNS, appeals, departments, regions
from ..store import bulk_insert, create_schema


def copy_database(src: Engine, dst: Engine, batch: int = 20_000) -> int:
    """Replace the regions, departments and appeals of ``dst`` by those of ``src``; the appeals copied."""
    create_schema(dst)
    tables = (regions, departments, appeals)
    with dst.begin() as conn:
        for t in tables:
            conn.execute(t.delete())
    copied = 0
    with src.connect() as conn:
        for t in tables:
            columns = [c.name for c in t.columns]
            result = conn.execution_options(stream_results=True, yield_per=batch).execute(select(t))
            for part in result.partitions(batch):
                written = bulk_insert(dst, t, columns, [tuple(row) for row in part])
                copied += written if t is appeals else 0
    return copied


def _last_event():
    a = appeals
    return func.coalesce(a.c.rated_at, a.c.closed_at, a.c.first_feedback_at, a.c.dispatched_at, a.c.created_at)


def spread_stamps(engine: Engine) -> int:
    """Set ``updated_at`` to each appeal's last event; the rows changed (almost none the second time)."""
    a = appeals
    with engine.begin() as conn:
        return conn.execute(update(a).where(a.c.updated_at != _last_event()).values(updated_at=_last_event())).rowcount


def stamp_received(engine: Engine) -> int:
    """Set ``updated_at`` to each appeal's ``created_at``: nearly every stamp moves (until the next spread)."""
    a = appeals
    with engine.begin() as conn:
        return conn.execute(update(a).where(a.c.updated_at != a.c.created_at).values(updated_at=a.c.created_at)).rowcount


def backdated_changes(engine: Engine, each: int, *, seed: int | None = None) -> dict[str, int]:
    """``each`` backdated updates, backdated inserts (copies of rows under new ids) and deletes.

    Without a ``seed`` every call picks other rows (and other new ids).
    """
    a = appeals
    rng = random.Random(seed)
    with engine.connect() as conn:
        first, last, mark = conn.execute(select(func.min(a.c.created_at), func.max(a.c.created_at),
                                                func.max(a.c.updated_at))).one()
        span = (last - first).total_seconds()
        picked: dict[str, dict] = {}
        next_row = select(a).where(a.c.created_at >= bindparam("t")).order_by(a.c.created_at).limit(1)
        for _ in range(6 * each):  # a random instant's next appeal; some instants give the same one
            row = conn.execute(next_row, {"t": first + dt.timedelta(seconds=rng.uniform(0, span))}).first()
            if row is not None:
                picked[row.appeal_id] = dict(row._mapping)
            if len(picked) >= 3 * each:
                break
    rows = list(picked.values())
    to_update, templates, to_delete = rows[:each], rows[each:2 * each], rows[2 * each:3 * each]

    def backdated(row: dict) -> dt.datetime:  # a minute to a day after it was received, below the mark
        stamp = row["created_at"] + dt.timedelta(seconds=rng.randint(60, 86_400))
        return min(stamp, mark - dt.timedelta(hours=1))

    with engine.begin() as conn:
        if to_update:
            conn.execute(update(a).where(a.c.appeal_id == bindparam("k")).values(updated_at=bindparam("t")),
                         [{"k": r["appeal_id"], "t": backdated(r)} for r in to_update])
        if to_delete:
            conn.execute(a.delete().where(a.c.appeal_id.in_([r["appeal_id"] for r in to_delete])))
    columns = list(APPEAL_COLUMNS)
    copies = [{**r, "appeal_id": f"BK{uuid.UUID(int=rng.getrandbits(128)).hex[:16]}", "updated_at": backdated(r)}
              for r in templates]
    bulk_insert(engine, a, columns, [tuple(c[k] for k in columns) for c in copies])
    return {"updated": len(to_update), "inserted": len(copies), "deleted": len(to_delete)}
