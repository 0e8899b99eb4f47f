"""Vectorised generation of one chunk (a calendar month) of demo appeals.

A chunk is a dict of numpy arrays, one row per appeal, sorted by creation
time: what, where, who, urgency, limits and handling (this module), then the
timeline and outcome (``outcomes``). Repeats copy the place, the subject and
often the person of an earlier appeal 1–30 days before, possibly from the
previous chunk (the ``tail`` carried from chunk to chunk).
"""

from __future__ import annotations

import numpy as np

from .. import deadlines
from . import catalogue as cat
from .people import draw_people
from .places import Places
from .plan import DAY, Plan, draw_times

# attributes a repeat copies from the appeal it repeats
PLACE_KEYS = ("grid", "sub", "lon", "lat", "road", "num", "estate", "bld", "unit", "floor", "door")
PERSON_KEYS = ("surname", "female", "two_chars", "g1", "g2", "prefix", "number")
TAIL_KEYS = PLACE_KEYS + PERSON_KEYS + ("created", "has_person")
REPEAT_WINDOW_DAYS = 30
GRID = cat.CHANNEL_CODES.index("grid")
URGENCY_CODES = ("urgent", "normal", "consult")


def generate_chunk(rng: np.random.Generator, plan: Plan, places: Places, tables: cat.Tables,
                   lo: int, hi: int, tail: dict | None) -> tuple[dict, dict]:
    """The appeals created on days [lo, hi) of the plan, and the tail for the next chunk."""
    n_sub = len(tables.sub_names)
    flat = plan.counts[lo:hi].ravel()
    cells = np.repeat(np.flatnonzero(flat), flat[flat > 0])
    day = lo + cells // n_sub
    sub = cells % n_sub
    grid = np.full(len(day), -1, dtype=np.int64)
    extra = np.zeros(len(day), dtype=bool)
    for s in plan.surges:
        m = (s.days >= lo) & (s.days < hi)
        if m.any():
            day = np.concatenate((day, s.days[m]))
            sub = np.concatenate((sub, s.subs[m]))
            grid = np.concatenate((grid, np.full(m.sum(), s.grid, dtype=np.int64)))
            extra = np.concatenate((extra, np.ones(m.sum(), dtype=bool)))
    n = len(day)
    category = tables.sub_category[sub]

    # channel given (day type, category); then the time of day by channel
    off = (~plan.workday[day]).astype(np.int64)
    cdf = np.cumsum(plan.channel_cond[off, category], axis=1)
    channel = (rng.random(n)[:, None] > cdf).sum(axis=1).clip(0, len(cat.CHANNEL_CODES) - 1)
    created = draw_times(rng, plan, day, channel)

    # grid by category: population × propensity × stable hotspot factors
    todo = grid < 0
    u = rng.random(n)
    for c in range(len(cat.CATEGORIES)):
        m = todo & (category == c)
        if m.any():
            w = plan.grid_cdf[c]
            grid[m] = np.searchsorted(w, u[m] * w[-1], side="right").clip(0, places.n_grids - 1)

    order = np.argsort(created, kind="stable")
    b = {"created": created[order], "sub": sub[order], "channel": channel[order], "grid": grid[order],
         "extra": extra[order]}
    n = len(order)

    # where: a point in the grid, an address around it
    b["lon"], b["lat"] = places.sample_points(rng, b["grid"])
    no_loc = np.array([cat.NO_LOCATION[c] for c in cat.CHANNEL_CODES])[b["channel"]]
    b["has_location"] = rng.random(n) >= no_loc
    b["road"] = rng.integers(0, 6, n)
    b["num"] = rng.integers(1, 400, n)
    b["estate"] = rng.integers(0, 5, n)
    b["bld"] = rng.integers(1, 41, n)
    b["unit"] = rng.integers(1, 7, n)
    b["floor"] = rng.integers(1, 19, n)
    b["door"] = rng.integers(1, 5, n)
    # who: grid patrol reports have no appellant
    b.update(draw_people(rng, n))
    b["has_person"] = b["channel"] != GRID

    _repeats(rng, b, tail, places)
    b["category"] = tables.sub_category[b["sub"]]
    _limits(rng, b, tables)
    level_cdf = np.cumsum(tables.cat_levels[b["category"]], axis=1)
    level_cdf /= level_cdf[:, -1:]
    b["level"] = (rng.random(n)[:, None] > level_cdf).sum(axis=1).clip(0, 4)
    b["dept"] = places.department_for(b["grid"], b["level"], b["sub"], tables)

    # the tail: the last 30+ days, for repeats in the next chunk
    keep_from = (plan.day0 + hi) * DAY - (REPEAT_WINDOW_DAYS + 1) * DAY
    merged = {k: b[k] if tail is None else np.concatenate((tail[k], b[k])) for k in TAIL_KEYS}
    m = merged["created"] >= keep_from
    new_tail = {k: v[m] for k, v in merged.items()}
    return b, new_tail


def _repeats(rng: np.random.Generator, b: dict, tail: dict | None, places: Places) -> None:
    """Turn ~REPEAT_SHARE of the rows into repeats of an appeal 1–30 days earlier."""
    n = len(b["created"])
    n_tail = 0 if tail is None else len(tail["created"])
    both = {k: b[k] if tail is None else np.concatenate((tail[k], b[k])) for k in TAIL_KEYS}
    times = both["created"]
    want = (~b["extra"]) & (rng.random(n) < cat.REPEAT_SHARE)
    back = rng.uniform(1.0, REPEAT_WINDOW_DAYS, n) * DAY
    rows = np.flatnonzero(want)
    target = b["created"][rows] - back[rows].astype(np.int64)
    parent = np.searchsorted(times, target, side="left")
    # the look-back must fall inside the data: before its start every target would land on the first appeal
    ok = ((target >= times[0]) & (parent < n_tail + rows)
          & (times[np.minimum(parent, len(times) - 1)] <= b["created"][rows] - DAY))
    rows, parent = rows[ok], parent[ok]
    is_repeat = np.zeros(n, dtype=bool)
    is_repeat[rows] = True
    link = np.full(n, -1, dtype=np.int64)
    link[rows] = parent
    # follow chains to an original (an earlier chunk's row is final already)
    root = parent.copy()
    while True:
        inside = root >= n_tail
        chained = np.zeros(len(root), dtype=bool)
        chained[inside] = is_repeat[root[inside] - n_tail]
        if not chained.any():
            break
        root[chained] = link[root[chained] - n_tail]
    for k in PLACE_KEYS:
        b[k][rows] = both[k][root]
    b["lon"][rows], b["lat"][rows] = places.jitter_inside(rng, b["grid"][rows], b["lon"][rows],
                                                         b["lat"][rows])
    same = (rng.random(len(rows)) < cat.REPEAT_SAME_PERSON) & both["has_person"][root] & b["has_person"][rows]
    for k in PERSON_KEYS:
        b[k][rows[same]] = both[k][root[same]]
    b["is_repeat"] = is_repeat


def limit_table(tables: cat.Tables, rules: deadlines.Rules | None = None) -> dict[str, np.ndarray]:
    """The rules' limits per (subcategory, urgency code): arrays of shape (n_sub, 3), as ``limit_arrays``."""
    rules = rules if rules is not None else deadlines.default_rules()
    n_sub = len(tables.sub_names)
    sub = np.repeat(np.arange(n_sub), 3)
    urg = np.tile(np.arange(3), n_sub)
    names = cat.CATEGORY_NAMES
    got = deadlines.limit_arrays(rules, [names[c] for c in tables.sub_category[sub].tolist()],
                                 [tables.sub_names[i] for i in sub.tolist()],
                                 [URGENCY_CODES[u] for u in urg.tolist()])
    return {k: v.reshape(n_sub, 3) for k, v in got.items()}


def _limits(rng: np.random.Generator, b: dict, tables: cat.Tables) -> None:
    """Urgency, deadline and feedback deadline (seconds; -1 = none), by the engine's default rules
    (``deadlines.default_rules``: the catalogue's limits as rules); ``clock`` marks hour-based limits."""
    n = len(b["created"])
    sub = b["sub"]
    u = rng.random(n)
    urgent = u < tables.sub_urgent[sub]
    consult = ~urgent & (u < tables.sub_urgent[sub] + tables.sub_consult[sub]) & (b["channel"] != GRID)
    urgency = np.where(urgent, 0, np.where(consult, 2, 1))  # 0 urgent, 1 normal, 2 consult
    created_dt = b["created"].astype("datetime64[s]")
    lim = limit_table(tables)
    pick = {k: v[sub, urgency] for k, v in lim.items()}
    deadline = deadlines.deadline_array(created_dt, pick["hours"], pick["workdays"])
    fb_deadline = deadlines.deadline_array(created_dt, pick["feedback_hours"], pick["feedback_workdays"])
    deadline = deadline.astype("datetime64[s]").astype(np.int64)
    fb_deadline = np.where(np.isnat(fb_deadline), deadline, fb_deadline.astype("datetime64[s]").astype(np.int64))
    none = rng.random(n) < cat.NO_DEADLINE_SHARE
    b["urgency"] = urgency
    b["clock"] = pick["clock"]
    b["deadline"] = np.where(none, -1, deadline)
    b["fb_deadline"] = np.where(none, -1, np.minimum(fb_deadline, deadline))
