"""The volume plan of a demo run: how many appeals per day and subcategory,
where (grid weights), through which channel, and the planted surges.

Times are handled as int64 seconds since 1970-01-01 of the naive local
wall-clock time (the city's time zone), like the database stores them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from .. import workcal
from . import catalogue as cat
from .hotspots import PlantedHotspot, plan_surges, stable_hotspots
from .places import Places, substream

DAY = 86_400
EPOCH = dt.datetime(1970, 1, 1)
MAX_SURGE_SHARE = 0.05  # surges are planted only while their extras stay under this share


def to_seconds(t: dt.datetime) -> int:
    return int((t - EPOCH).total_seconds())


def months_before(t: dt.datetime, months: int) -> dt.datetime:
    y, m = divmod(t.year * 12 + (t.month - 1) - months, 12)
    m += 1
    last = (dt.date(y + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1)).day
    return t.replace(year=y, month=m, day=min(t.day, last))


def hour_cdf(profile) -> np.ndarray:
    """CDF knots (25 values) of an hour-of-day profile, at 0, 1h, ..., 24h."""
    p = np.asarray(profile, dtype=float)
    return np.concatenate(([0.0], np.cumsum(p) / p.sum()))


HOUR_KNOTS = np.arange(25, dtype=float) * 3600.0
CHANNEL_CDFS = np.array([hour_cdf(cat.HOURS[c]) for c in cat.CHANNEL_CODES])


@dataclass
class Surge:
    spot: PlantedHotspot
    grid: int
    days: np.ndarray  # day index per extra appeal
    subs: np.ndarray  # subcategory index per extra appeal


@dataclass
class Plan:
    start: dt.datetime
    end: dt.datetime
    start_s: int
    end_s: int
    day0: int  # first day, days since 1970
    workday: np.ndarray  # (n_days,) bool
    counts: np.ndarray  # (n_days, n_sub) base appeals
    channel_cond: np.ndarray  # (2, n_cat, n_channel): P(channel | non-workday?, category)
    grid_cdf: np.ndarray  # (n_cat, n_grids) cumulative grid weights
    surges: list[Surge]
    chunks: list[tuple[int, int]]  # day index ranges [lo, hi), one per calendar month

    @property
    def n_days(self) -> int:
        return len(self.workday)


def make_plan(places: Places, tables: cat.Tables, *, appeals: int, months: int, seed: int,
              end: dt.datetime) -> Plan:
    if appeals < 1:
        raise ValueError("appeals must be at least 1")
    if months < 1:
        raise ValueError("months must be at least 1")
    start = months_before(end, months)
    start_s, end_s = to_seconds(start), to_seconds(end)
    day0 = start_s // DAY
    n_days = (end_s - 1) // DAY - day0 + 1
    days = [start.date() + dt.timedelta(days=i) for i in range(n_days)]
    workday = np.array([workcal.is_workday(d) for d in days], dtype=bool)
    month = np.array([d.month - 1 for d in days], dtype=np.int64)

    # share of each day inside [start, end), by the overall hour profile
    cover = np.ones(n_days)
    overall = hour_cdf(np.asarray(cat.CHANNEL_MIX) @ np.array([cat.HOURS[c] for c in cat.CHANNEL_CODES]))
    first_tod = start_s - day0 * DAY
    last_tod = end_s - (day0 + n_days - 1) * DAY
    cover[0] -= np.interp(first_tod, HOUR_KNOTS, overall)
    cover[-1] -= 1.0 - np.interp(last_tod, HOUR_KNOTS, overall)
    cover = np.clip(cover, 0, None)

    sub_cat = tables.sub_category
    off = np.where(workday[:, None], 1.0, tables.cat_non_workday[sub_cat][None, :])
    weights = tables.sub_weight[None, :] * tables.sub_season[:, month].T * off * cover[:, None]

    surges = _plan_surge_rows(places, tables, seed, end, appeals, day0, n_days, cover)
    n_extra = sum(len(s.days) for s in surges)

    rng = substream(seed, "volume")
    flat = weights.ravel() / weights.sum()
    counts = rng.multinomial(appeals - n_extra, flat).reshape(weights.shape)

    # expected volume per (day type, category) -> channel calibration
    n_cat = len(cat.CATEGORIES)
    vol = np.zeros((2, n_cat))
    for dtype_ in (0, 1):
        rows = workday if dtype_ == 0 else ~workday
        by_sub = weights[rows].sum(axis=0)
        np.add.at(vol[dtype_], sub_cat, by_sub)
    channel_cond = cat.channel_given_category(vol)

    grid_cdf = _grid_weights(places, seed)
    return Plan(start, end, start_s, end_s, day0, workday, counts, channel_cond, grid_cdf, surges,
                _month_chunks(days))


def _grid_weights(places: Places, seed: int) -> np.ndarray:
    rng = substream(seed, "grid-propensity")
    pop = places.grid_population
    floor = 0.05 * (pop.mean() if pop.size and pop.mean() > 0 else 1.0)
    base = (pop + floor) * rng.lognormal(0.0, 0.35, size=places.n_grids)
    w = np.repeat(base[None, :], len(cat.CATEGORIES), axis=0)
    stable = stable_hotspots(places, seed)
    w[stable.category, stable.grid] *= stable.factor
    return np.cumsum(w, axis=1)


def _plan_surge_rows(places, tables, seed, end, appeals, day0, n_days, cover) -> list[Surge]:
    rng = substream(seed, "surge-rows")
    out: list[Surge] = []
    total = 0
    for spot, grid, subs in plan_surges(places, seed, end):
        if total + spot.extra_appeals > MAX_SURGE_SHARE * appeals:
            break
        total += spot.extra_appeals
        first = max(to_seconds(spot.start) // DAY - day0, 0)
        idx = np.arange(first, n_days)
        ramp = (np.arange(len(idx)) + 1.0) ** 1.5 * cover[idx]
        days = np.repeat(idx, rng.multinomial(spot.extra_appeals, ramp / ramp.sum()))
        sub_idx = np.array([tables.sub_index[(spot.category, s)] for s in subs], dtype=np.int64)
        picks = sub_idx[rng.choice(len(sub_idx), size=spot.extra_appeals, p=_first_heavy(len(sub_idx)))]
        out.append(Surge(spot, grid, days.astype(np.int64), picks))
    return out


def _first_heavy(k: int) -> np.ndarray:
    w = 1.0 / (np.arange(k) + 1.0)
    return w / w.sum()


def _month_chunks(days: list[dt.date]) -> list[tuple[int, int]]:
    bounds = [0] + [i for i, d in enumerate(days) if d.day == 1 and i > 0] + [len(days)]
    return [(a, b) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]


def draw_times(rng: np.random.Generator, plan: Plan, day: np.ndarray, channel: np.ndarray) -> np.ndarray:
    """Creation times (seconds) on the given days, by each channel's hour profile,
    inside [start, end). ``channel`` may be changed in place (see below)."""
    n = len(day)
    day_s = (plan.day0 + day) * DAY
    lo_tod = np.zeros(n)
    hi_tod = np.full(n, float(DAY))
    lo_tod = np.maximum(lo_tod, plan.start_s - day_s)
    hi_tod = np.minimum(hi_tod, plan.end_s - day_s)
    # a channel without any volume in a row's window (a grid report before
    # 08:00 on the last day) becomes a hotline call, which runs round the clock
    for ch in range(1, len(cat.CHANNEL_CODES)):
        m = np.flatnonzero(channel == ch)
        if len(m):
            cdf = CHANNEL_CDFS[ch]
            empty = np.interp(hi_tod[m], HOUR_KNOTS, cdf) - np.interp(lo_tod[m], HOUR_KNOTS, cdf) <= 1e-9
            channel[m[empty]] = 0
    tod = np.empty(n)
    for ch in range(len(cat.CHANNEL_CODES)):
        m = channel == ch
        if not m.any():
            continue
        cdf = CHANNEL_CDFS[ch]
        f_lo = np.interp(lo_tod[m], HOUR_KNOTS, cdf)
        f_hi = np.interp(hi_tod[m], HOUR_KNOTS, cdf)
        tod[m] = np.interp(f_lo + rng.random(m.sum()) * (f_hi - f_lo), cdf, HOUR_KNOTS)
    created = day_s + np.floor(tod).astype(np.int64)
    return np.clip(created, plan.start_s, plan.end_s - 1)
