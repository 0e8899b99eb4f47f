"""The weights of the 红黑榜's composite, stored in the system of record (``ranking_weights``).

The composite score of a unit weighs its 办结率, 按时办结率 and 满意率; a unit
with fewer than ``min_appeals`` valid appeals (received − cancelled) in the
period is listed apart, not ranked (docs/metrics.md, "红黑榜"). The weights are
data: ``python -m data_access weights --set …`` appends a row (who, when) and an
audit entry in one transaction; the newest row is in force. With no row (or no
table: a city's own views), ``DEFAULTS`` apply.

Weights given are normalised to add up to 1 before they are stored, so
``--completion 3 --on-time 4 --satisfaction 3`` and ``0.3 0.4 0.3`` store the same.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass

from sqlalchemy import Engine, inspect, insert, select

from . import schema

RATES = ("completion_rate", "on_time_rate", "satisfaction_rate")
AUDIT_ACTION = "ranking_weights_set"
MAX_MIN_APPEALS = 100_000


@dataclass(frozen=True)
class Weights:
    """The composite's weights (adding up to 1) and the fewest valid appeals a ranked unit has.

    ``changed_by`` and ``changed_at`` say who stored them and when; both None for the defaults.
    """

    completion: float
    on_time: float
    satisfaction: float
    min_appeals: int
    changed_by: str | None = None
    changed_at: dt.datetime | None = None

    @property
    def stored(self) -> bool:
        return self.changed_at is not None

    def of(self, rate: str) -> float:
        """The weight of one of ``RATES``."""
        return {"completion_rate": self.completion, "on_time_rate": self.on_time,
                "satisfaction_rate": self.satisfaction}[rate]

    def as_dict(self) -> dict:
        return {"completion": self.completion, "on_time": self.on_time, "satisfaction": self.satisfaction,
                "min_appeals": self.min_appeals, "source": "stored" if self.stored else "default",
                "changed_by": self.changed_by,
                "changed_at": None if self.changed_at is None else self.changed_at.isoformat(timespec="seconds")}


# The defaults (docs/metrics.md gives the reasons): timeliness weighs most, because 按时办结率 is the rate a
# department controls most directly and the one that open, overdue appeals pull down; 办结率 and 满意率 share the
# rest equally. Ten valid appeals: below that one appeal moves a rate by more than ten points.
DEFAULTS = Weights(completion=0.3, on_time=0.4, satisfaction=0.3, min_appeals=10)


class WeightsError(ValueError):
    """Weights that cannot be stored; the message says why."""


def checked(completion: float, on_time: float, satisfaction: float, min_appeals: int) -> Weights:
    """The weights normalised to add up to 1, or ``WeightsError``: each must be a finite number of 0 or more,
    their sum more than 0, and ``min_appeals`` a whole number from 1 to 100,000."""
    given = {"completion": completion, "on-time": on_time, "satisfaction": satisfaction}
    for name, value in given.items():
        if value is None or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise WeightsError(f"--{name} must be a number, not {value!r}")
        if value < 0:
            raise WeightsError(f"--{name} must be 0 or more, not {value:g}")
    total = completion + on_time + satisfaction
    if total <= 0:
        raise WeightsError("the three weights add up to 0: at least one must be more than 0")
    if isinstance(min_appeals, bool) or not isinstance(min_appeals, int) or not 1 <= min_appeals <= MAX_MIN_APPEALS:
        raise WeightsError(f"--min-appeals must be a whole number from 1 to {MAX_MIN_APPEALS:,}, not {min_appeals!r}")
    return Weights(completion=completion / total, on_time=on_time / total, satisfaction=satisfaction / total,
                   min_appeals=min_appeals)


def load(engine: Engine) -> Weights:
    """The weights in force: the newest stored row, or ``DEFAULTS`` when there is none (or no table)."""
    if not inspect(engine).has_table(schema.ranking_weights.name):
        return DEFAULTS
    t = schema.ranking_weights
    with engine.connect() as conn:
        row = conn.execute(select(t).order_by(t.c.changed_at.desc(), t.c.id.desc()).limit(1)).first()
    if row is None:
        return DEFAULTS
    return Weights(completion=float(row.completion_weight), on_time=float(row.on_time_weight),
                   satisfaction=float(row.satisfaction_weight), min_appeals=int(row.min_appeals),
                   changed_by=row.changed_by, changed_at=row.changed_at)


def save(engine: Engine, weights: Weights, *, actor: str, now: dt.datetime) -> Weights:
    """Store ``weights`` (from ``checked``) as the ones in force, with an audit entry, in one transaction."""
    before = load(engine)
    now = now.replace(microsecond=0)
    actor = str(actor).strip()[:schema.ranking_weights.c.changed_by.type.length] or "cli"
    stored = Weights(weights.completion, weights.on_time, weights.satisfaction, weights.min_appeals,
                     changed_by=actor, changed_at=now)
    with engine.begin() as conn:
        conn.execute(insert(schema.ranking_weights).values(
            completion_weight=stored.completion, on_time_weight=stored.on_time,
            satisfaction_weight=stored.satisfaction, min_appeals=stored.min_appeals,
            changed_by=actor, changed_at=now))
        detail = {"completion": round(stored.completion, 6), "on_time": round(stored.on_time, 6),
                  "satisfaction": round(stored.satisfaction, 6), "min_appeals": stored.min_appeals,
                  "before": {k: before.as_dict()[k] for k in ("completion", "on_time", "satisfaction", "min_appeals",
                                                               "source")}}
        conn.execute(insert(schema.audit_log).values(at=now, actor=actor, action=AUDIT_ACTION,
                                                     detail=json.dumps(detail, ensure_ascii=False)))
    return stored
