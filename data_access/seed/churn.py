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
* ``live_changes`` is what a live feed writes between two syncs: appeals
  received now and open appeals closed now (the load test, bench/load.py).
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


_RESET_ON_ARRIVAL = ("dispatched_at", "first_feedback_at", "closed_at", "rated_at", "satisfaction", "paused_since")
_LIMITS = ("deadline_at", "feedback_deadline_at", "warn_at")


def live_changes(engine: Engine, *, arrivals: int, closures: int, now: dt.datetime,
                 seed: int | None = None) -> dict[str, int]:
    """``arrivals`` appeals received at ``now`` (copies of random appeals under new ids, open, with their
    template's time limits counted from now) and ``closures`` open appeals closed at ``now``, all stamped
    ``now`` (naive, the city's time). Without a ``seed`` every call picks other rows."""
    a = appeals
    rng = random.Random(seed)
    with engine.connect() as conn:
        first, last = conn.execute(select(func.min(a.c.created_at), func.max(a.c.created_at))).one()
        if first is None:
            return {"arrived": 0, "closed": 0}
        span = (last - first).total_seconds()
        next_row = select(a).where(a.c.created_at >= bindparam("t")).order_by(a.c.created_at).limit(1)
        next_open = (select(a.c.appeal_id).where(a.c.created_at >= bindparam("t"), a.c.status == "open")
                     .order_by(a.c.created_at).limit(1))
        templates: list[dict] = []
        for _ in range(arrivals):
            row = conn.execute(next_row, {"t": first + dt.timedelta(seconds=rng.uniform(0, span))}).first()
            if row is not None:
                templates.append(dict(row._mapping))
        to_close: set[str] = set()
        for _ in range(4 * closures):  # open appeals are mostly recent: look in the last 60 days
            if len(to_close) >= closures:
                break
            t = last - dt.timedelta(seconds=rng.uniform(0, min(span, 60 * 86_400)))
            found = conn.execute(next_open, {"t": t}).scalar()
            if found is not None:
                to_close.add(found)
    copies = []
    for row in templates:
        received = row["created_at"]
        copy = {**row, "appeal_id": f"LV{uuid.UUID(int=rng.getrandbits(128)).hex[:16]}", "created_at": now,
                "updated_at": now, "status": "open", "is_supervised": False,
                **{k: None for k in _RESET_ON_ARRIVAL}}
        for k in _LIMITS:
            copy[k] = None if row[k] is None else now + max(row[k] - received, dt.timedelta(hours=1))
        copies.append(copy)
    columns = list(APPEAL_COLUMNS)
    if copies:
        bulk_insert(engine, a, columns, [tuple(c[k] for k in columns) for c in copies])
    closed = 0
    if to_close:
        with engine.begin() as conn:
            closed = conn.execute(
                update(a).where(a.c.appeal_id.in_(sorted(to_close)), a.c.status == "open")
                .values(status="closed", closed_at=now, updated_at=now,
                        first_feedback_at=func.coalesce(a.c.first_feedback_at, now))).rowcount
    return {"arrived": len(copies), "closed": closed}
