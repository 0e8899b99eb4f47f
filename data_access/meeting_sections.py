"""The meeting's sections beyond the region's own figures: the 红黑榜 and each child unit's trend and categories.

Each is a builder ``(conn, scope, period, as_of, ctx) -> Section`` added to ``meeting.BUILDERS`` (the module
is imported at the end of ``meeting``, so that ``meeting.figures`` always makes them):

``rankings``          the 红黑榜 (``rankings.league``) of the scope's streets and, separately, of the
                      departments that handled its appeals, one row per unit with ``unit`` "street" or
                      "department", under the weights in force (``ctx.weights``). The notes keep the weights
                      used (``weight_completion``, ``weight_on_time``, ``weight_satisfaction``,
                      ``min_appeals``, ``weights_source``, ``weights_changed_at``): a snapshot shows the
                      ranking it was frozen with even after the weights change.
``child_trend``       received and closed per day for every child unit (``code``, ``day``, …).
``child_categories``  the top ``CHILD_TOP_CATEGORIES`` categories of every child unit.
"""

from __future__ import annotations

import datetime as dt

from . import queries, rankings
from . import ranking_weights as rw
from .meeting import BUILDERS, CHILD_CATEGORIES, CHILD_TREND, RANKINGS, Context, Section, _label_of
from .scope import Period, Scope

CHILD_TOP_CATEGORIES = 5

RANKING_FIELDS = {"unit": "str", "code": "str", "name": "str", "district": "str", "received": "int", "valid": "int",
                  "completion_rate": "float", "on_time_rate": "float", "satisfaction_rate": "float",
                  "composite": "float", "ranked": "bool", "reason": "str", "rank": "int", "previous_rank": "int",
                  "composite_change": "float", "rank_change": "int"}


def weights_notes(weights: rw.Weights) -> dict:
    """The weights a ranking was made with, as a section's notes."""
    return {"weight_completion": weights.completion, "weight_on_time": weights.on_time,
            "weight_satisfaction": weights.satisfaction, "min_appeals": weights.min_appeals,
            "weights_source": "stored" if weights.stored else "default", "weights_changed_by": weights.changed_by,
            "weights_changed_at": weights.changed_at}


def weights_of(notes) -> rw.Weights:
    """The weights a ``rankings`` section was made with (from its notes)."""
    changed = notes.get("weights_changed_at")
    return rw.Weights(completion=float(notes["weight_completion"]), on_time=float(notes["weight_on_time"]),
                      satisfaction=float(notes["weight_satisfaction"]), min_appeals=int(notes["min_appeals"]),
                      changed_by=notes.get("weights_changed_by"),
                      changed_at=None if changed is None else dt.datetime.fromisoformat(changed))


def ranking_section(conn, scope: Scope, period: Period, as_of: dt.datetime, ctx: Context) -> Section:
    """The 红黑榜 of the scope's streets and departments under ``ctx.weights`` (the defaults when None)."""
    weights = ctx.weights if ctx.weights is not None else rw.DEFAULTS
    frames, previous = [], None
    for unit in rankings.UNITS:
        table = rankings.league(conn, scope, period, as_of, unit, weights)
        previous = table.attrs.get("previous") or previous
        frames.append(table.assign(unit=unit))
    rows = []
    for table in frames:
        rows.extend(zip(*(table[c].tolist() for c in RANKING_FIELDS)))
    notes = {**weights_notes(weights), "previous_label": None if previous is None else _label_of(previous[0]),
             "previous_as_of": None if previous is None else previous[1]}
    return Section(tuple(RANKING_FIELDS), tuple(RANKING_FIELDS.values()), tuple(rows), notes)


def _children(conn, scope: Scope, period: Period, as_of: dt.datetime, ctx: Context) -> list[str]:
    if ctx.child_level is None:
        return []
    return [str(c) for c in queries.children(conn, scope, period, as_of, ctx.child_level)["code"]]


def child_trend(conn, scope: Scope, period: Period, as_of: dt.datetime, ctx: Context) -> Section:
    """Received and closed per day, for every unit one level below the scope."""
    rows = []
    for code in _children(conn, scope, period, as_of, ctx):
        df = queries.daily_trend(conn, Scope(code, ctx.child_level), period, as_of)
        rows.extend((code, day, r, c) for day, r, c in zip(df["day"], df["received"], df["closed"]))
    return Section(("code", "day", "received", "closed"), ("str", "date", "int", "int"), tuple(rows))


def child_categories(conn, scope: Scope, period: Period, as_of: dt.datetime, ctx: Context) -> Section:
    """The top categories of every unit one level below the scope."""
    rows = []
    for code in _children(conn, scope, period, as_of, ctx):
        df = queries.category_counts(conn, Scope(code, ctx.child_level), period, as_of, CHILD_TOP_CATEGORIES)
        rows.extend((code, cat, n) for cat, n in zip(df["category"], df["received"]))
    return Section(("code", "category", "received"), ("str", "str", "int"), tuple(rows),
                   {"limit": CHILD_TOP_CATEGORIES})


BUILDERS[RANKINGS] = ranking_section
BUILDERS[CHILD_TREND] = child_trend
BUILDERS[CHILD_CATEGORIES] = child_categories
