"""Emerging hotspots (新发热点): units × category far above their own seasonal baseline.

Part of ``data_access.hotspots`` (import from there); docs/hotspots.md has the
baseline, the quasi-Poisson test, the multiple-testing correction and the
measured results. Counts are computed in one grouped SQL query; the test runs
in numpy (``poisson_sf``: no scipy needed).
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
from sqlalchemy import String, and_, case, func, literal, or_, select

from .analytics import PATH_COLUMNS, facts, regions
from .hotspots_repeats import _not_cancelled
from .queries import _in_scope, data_range
from .runner import run
from .scope import LEVELS, Scope

# the seasonal baseline: windows 52 weeks (364 days: same weekdays) back, shifted by these weeks
SEASONAL_SHIFTS_WEEKS = (-2, -1, 0, 1, 2)
# at most this many earlier years are used
MAX_YEARS = 3
# the fallback baseline (less than a year of history): this many windows just before the current one
RECENT_WINDOWS = 8
# Jeffreys' prior for a Poisson mean: half an appeal is added to the baseline sum, so that λ is never 0
PRIOR_COUNT = 0.5

HOTSPOT_COLUMNS = ["region_code", "name", "level", "category", "observed", "expected", "ratio", "z", "p_value",
                   "p_adjusted", "baseline_mean", "trend", "dispersion", "window_start", "window_end", "baseline"]


def poisson_sf(k, lam) -> np.ndarray:
    """P(X ≥ k) for X ~ Poisson(λ), elementwise (k ≥ 0, λ ≥ 0).

    For k > 0 this is the regularized lower incomplete gamma function P(k, λ),
    which also extends the tail to real thresholds k (the quasi-Poisson test):
    its power series where λ < k + 1 (the upper tail, computed directly so tiny
    probabilities keep their precision), else 1 − Q(k, λ) by the continued
    fraction (Numerical Recipes, 6.2). Relative error about 1e-14.
    """
    k = np.asarray(k, dtype=float)
    lam = np.asarray(lam, dtype=float)
    k, lam = np.broadcast_arrays(k, lam)
    out = np.ones(k.shape, dtype=float)
    pos = k > 0
    if not pos.any():
        return out
    a, x = k[pos], lam[pos]
    lgam = np.array([math.lgamma(v) for v in a.tolist()])
    with np.errstate(divide="ignore", over="ignore", under="ignore"):
        log_front = -x + a * np.log(x) - lgam
    res = np.empty(a.shape)
    series = x < a + 1.0
    if series.any():
        aa, xx = a[series], x[series]
        term = 1.0 / aa
        total = term.copy()
        ap = aa.copy()
        active = np.ones(aa.shape, dtype=bool)
        for _ in range(100_000):
            ap = ap + 1.0
            term = np.where(active, term * xx / ap, 0.0)
            total = total + term
            active = active & (np.abs(term) > np.abs(total) * 1e-16)
            if not active.any():
                break
        with np.errstate(under="ignore"):
            res[series] = total * np.exp(log_front[series])
    frac = ~series
    if frac.any():
        aa, xx = a[frac], x[frac]
        tiny = 1e-300
        b = xx + 1.0 - aa
        c = np.full(aa.shape, 1.0 / tiny)
        d = 1.0 / b
        h = d.copy()
        active = np.ones(aa.shape, dtype=bool)
        for i in range(1, 100_000):
            an = -i * (i - aa)
            b = b + 2.0
            d = an * d + b
            d = np.where(np.abs(d) < tiny, tiny, d)
            c = b + an / c
            c = np.where(np.abs(c) < tiny, tiny, c)
            d = 1.0 / d
            delta = np.where(active, d * c, 1.0)
            h = h * delta
            active = active & (np.abs(delta - 1.0) > 1e-16)
            if not active.any():
                break
        res[frac] = 1.0 - np.exp(log_front[frac]) * h
    out[pos] = np.clip(res, 0.0, 1.0)
    return out


def _windows(as_of: dt.datetime, window_days: int, earliest: dt.datetime) -> tuple[str, int, list]:
    """The baseline: its mode ('seasonal' or 'recent'), years used, and windows [(start, end), …]."""
    span = dt.timedelta(days=window_days)
    seasonal = []
    years = 0
    for year in range(1, MAX_YEARS + 1):
        wins = []
        for shift in SEASONAL_SHIFTS_WEEKS:
            end = as_of - dt.timedelta(days=364 * year + 7 * shift)
            wins.append((end - span, end))
        if min(s for s, _ in wins) < earliest:
            break
        seasonal += wins
        years = year
    if seasonal:
        return "seasonal", years, seasonal
    recent = [(as_of - (j + 1) * span, as_of - j * span) for j in range(1, RECENT_WINDOWS + 1)]
    recent = [w for w in recent if w[0] >= earliest]
    return "recent", 0, recent


def _overlap_factor(wins: list[tuple[dt.datetime, dt.datetime]]) -> float:
    """E[sample variance] / variance of Poisson window counts when windows overlap.

    Overlapping windows share appeals: for independent Poisson appeals the
    covariance of two windows' counts is λ × their overlap (as a share of the
    window), so the sample variance around the windows' mean shrinks by
    1 − mean pairwise overlap. Disjoint windows give 1.
    """
    n = len(wins)
    if n < 2:
        return 1.0
    total = 0.0
    for i in range(n):
        for j in range(i + 1, n):
            (s1, e1), (s2, e2) = wins[i], wins[j]
            inter = (min(e1, e2) - max(s1, s2)).total_seconds()
            total += max(inter, 0.0) / (e1 - s1).total_seconds()
    return 1.0 - 2.0 * total / (n * (n - 1))


def _merged(ranges: list[tuple[dt.datetime, dt.datetime]]) -> list[tuple[dt.datetime, dt.datetime]]:
    out: list[list] = []
    for s, e in sorted(ranges):
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


def _empty_hotspots() -> pd.DataFrame:
    return pd.DataFrame({col: pd.Series(dtype=object) for col in HOTSPOT_COLUMNS})


def _baseline_text(mode: str, years: int, n: int, window_days: int, mean: float, trend: float,
                   expected: float) -> str:
    if mode == "seasonal":
        when = "去年同期" if years == 1 else f"前{years}年同期"
        text = f"{when}前后2周（{n}个{window_days}天窗口）均值 {mean:.1f} 件"
    else:
        text = f"此前{n}个{window_days}天窗口均值 {mean:.1f} 件"
    if abs(trend - 1.0) >= 0.05:
        text += f"，按全域同类诉求变化×{trend:.2f}，期望 {expected:.1f} 件"
    return text


def emerging_hotspots(conn, scope: Scope, as_of: dt.datetime, *, window_days: int = 7, level: str = "grid",
                      min_count: int = 8, alpha: float = 0.001, limit: int | None = 50,
                      correction: str = "bonferroni") -> pd.DataFrame:
    """Emerging hotspots (新发热点): units × category significantly above their own baseline.

    A *unit* is a region at ``level`` inside the scope (a grid, a street, …).
    For every unit × category, ``observed`` is its appeals created in the
    window ``[as_of − window_days, as_of]`` (cancelled ones excluded), and the
    test is one-sided (quasi-)Poisson against ``expected`` (λ).

    The baseline (docs/hotspots.md):

    * **seasonal**, when the scope's data go back far enough: the windows of the
      same length 52 weeks earlier, shifted by −2…+2 weeks (5 windows per
      year, up to ``MAX_YEARS`` years, each year used only when all its
      windows lie after the first appeal);
    * **recent** otherwise: the ``RECENT_WINDOWS`` (8) windows just before the
      current one (those after the first appeal).

    ``baseline_mean = (sum of the unit's baseline counts + 0.5) / windows``
    (the posterior mean under Jeffreys' prior: never 0, unbiased for large
    counts). ``trend`` is the rest of the scope's change in the category:
    (its current count + 1) / (its mean baseline count + 1), leaving the unit
    itself out (so a surge does not raise its own expectation); it absorbs
    growth, city-wide seasons (the first weeks of heating) and cold snaps.
    ``expected = λ = baseline_mean × trend``.

    ``dispersion`` widens the Poisson law where counts vary more than Poisson
    (quasi-Poisson): φ = the Pearson χ² per degree of freedom of the
    category's units × baseline-windows table (expected count of a unit in a
    window = its baseline sum × the window's share of the category, so a
    season's edge inside the baseline is not taken for dispersion), corrected
    for overlapping windows, at least 1; times (1 + 1/windows) for the
    uncertainty of λ itself. The test is then ``p_value = P(Y ≥ observed / d |
    λ / d)`` with Y ~ Poisson(λ / d) extended to real thresholds by the
    regularized incomplete gamma function (d = ``dispersion``); with d = 1 it
    would be exactly the Poisson tail P(X ≥ observed | λ); here d ≥ 1 + 1/windows.

    A unit × category is flagged when ``observed ≥ min_count`` and the
    corrected p-value is below ``alpha``. ``correction`` is ``"bonferroni"``
    (``p_adjusted = min(1, p × m)``, m = the unit × category pairs tested:
    those with any appeal in the current or baseline windows), ``"bh"``
    (Benjamini–Hochberg step-up over the same m; pairs below ``min_count``
    count as p = 1) or ``"none"``.

    Columns (one row per flagged unit × category, the most significant first,
    at most ``limit``):

    * ``region_code``, ``name``, ``level`` – the unit;
    * ``category``;
    * ``observed`` – appeals in the window (int);
    * ``expected`` – λ, the baseline expectation for the window;
    * ``ratio`` – observed / expected;
    * ``z`` – z-score (observed − λ) / √(d·λ) (the Poisson z-score when d = 1);
    * ``p_value`` – the one-sided tail above, uncorrected; ``p_adjusted`` – corrected;
    * ``baseline_mean`` – the unit's own baseline mean (before ``trend``);
    * ``trend`` – the scope-wide factor described above;
    * ``dispersion`` – d;
    * ``window_start``, ``window_end`` – the window tested;
    * ``baseline`` – a Chinese sentence: against what, e.g.
      "去年同期前后2周（5个7天窗口）均值 0.8 件".

    ``df.attrs`` holds ``mode`` ('seasonal' / 'recent' / 'none'), ``tested``
    (m), ``windows`` (baseline windows) and ``correction``.
    """
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; expected one of {', '.join(LEVELS)}")
    if correction not in ("bonferroni", "bh", "none"):
        raise ValueError("correction must be 'bonferroni', 'bh' or 'none'")
    window_days = int(window_days)
    if window_days < 1:
        raise ValueError("window_days must be at least 1")
    earliest, _ = data_range(conn, scope)
    window_start = as_of - dt.timedelta(days=window_days)
    meta = {"mode": "none", "tested": 0, "windows": [], "correction": correction,
            "window_start": window_start, "window_end": as_of}
    if earliest is None:
        out = _empty_hotspots()
        out.attrs.update(meta)
        return out
    mode, years, wins = _windows(as_of, window_days, earliest)
    meta.update(mode=mode, windows=wins)
    if not wins:
        out = _empty_hotspots()
        out.attrs.update(meta, mode="none")
        return out

    f = facts.c
    unit = f[PATH_COLUMNS[level]]
    t = f.created_at
    current = and_(t >= window_start, t <= as_of)
    bcols = [f"b{i}" for i in range(len(wins))]
    n = len(wins)
    ranges = [or_(*(and_(t >= s, t < e) for s, e in _merged(wins))), current]
    pairs = (
        select(f.category, unit.label("unit"), func.count(case((current, 1))).label("observed"),
               *(func.count(case((and_(t >= s, t < e), 1))).label(b) for b, (s, e) in zip(bcols, wins)))
        .where(_in_scope(scope), unit.is_not(None), _not_cancelled(as_of), or_(*ranges))
        .group_by(f.category, unit)
        .cte("pairs")
    )
    pc = pairs.c
    # per category: appeals in each baseline window, for the units × windows table's expected counts
    by_window = select(pc.category, *(func.sum(pc[b]).label(b) for b in bcols)).group_by(pc.category) \
        .cte("by_window")
    w = by_window.c
    s_u = sum((pc[b] for b in bcols), literal(0.0))
    c_all = sum((w[b] for b in bcols), literal(0.0))
    terms = []
    for b in bcols:
        expect = s_u * w[b] / func.nullif(c_all, 0)
        terms.append(case((expect > 0, (pc[b] - expect) * (pc[b] - expect) / expect), else_=0.0))
    pearson_u = sum(terms, literal(0.0))
    cands = select(pc.category, pc.unit, literal(0).label("is_total"), pc.observed, *(pc[b] for b in bcols),
                   literal(1).label("units"), literal(0.0).label("pearson"), literal(0).label("pearson_df")) \
        .where(pc.observed >= int(min_count))
    totals = select(pc.category, literal(None, String()).label("unit"), literal(1).label("is_total"),
                    func.sum(pc.observed).label("observed"), *(func.sum(pc[b]).label(b) for b in bcols),
                    func.count().label("units"), func.sum(pearson_u).label("pearson"),
                    func.sum(case((s_u > 0, n - 1), else_=0)).label("pearson_df")) \
        .select_from(pairs.join(by_window, w.category == pc.category)) \
        .group_by(pc.category)
    df = run(conn, cands.union_all(totals), max_rows=250_000)
    totals = df[df["is_total"] == 1].set_index("category")
    tested = int(totals["units"].sum()) if len(totals) else 0
    meta["tested"] = tested
    cand = df[df["is_total"] == 0].copy()
    if cand.empty:
        out = _empty_hotspots()
        out.attrs.update(meta)
        return out

    x = cand["observed"].to_numpy(dtype=float)
    s_unit = cand[bcols].to_numpy(dtype=float).sum(axis=1)
    tot = totals.loc[cand["category"]]
    c_obs = tot["observed"].to_numpy(dtype=float)
    c_base = tot[bcols].to_numpy(dtype=float).sum(axis=1)
    mean = (s_unit + PRIOR_COUNT) / n
    trend = (c_obs - x + 1.0) / ((c_base - s_unit) / n + 1.0)
    lam = mean * trend
    # over-dispersion: the Pearson χ² of the category's units × baseline windows table per degree of
    # freedom, corrected for overlapping windows; then the variance of predicting a new window from n (1 + 1/n)
    pearson = tot["pearson"].to_numpy(dtype=float)
    dof = tot["pearson_df"].to_numpy(dtype=float) * _overlap_factor(wins)
    phi = np.where(dof > 0, np.maximum(1.0, pearson / np.maximum(dof, 1e-12)), 1.0)
    disp = phi * (1.0 + 1.0 / n)
    p = poisson_sf(x / disp, lam / disp)
    m = max(tested, len(cand))
    if correction == "bonferroni":
        p_adj = np.minimum(1.0, p * m)
    elif correction == "bh":
        order = np.argsort(p, kind="stable")
        ranked = p[order] * m / np.arange(1, len(p) + 1)
        ranked = np.minimum.accumulate(ranked[::-1])[::-1]
        p_adj = np.empty_like(p)
        p_adj[order] = np.minimum(1.0, ranked)
    else:
        p_adj = p.copy()
    cand = cand.assign(expected=lam, ratio=x / lam, z=(x - lam) / np.sqrt(disp * lam), p_value=p, p_adjusted=p_adj,
                       baseline_mean=mean, trend=trend, dispersion=disp)
    flagged = cand[(cand["observed"] >= min_count) & (cand["p_adjusted"] < alpha)]
    flagged = flagged.sort_values(["p_value", "z", "unit", "category"], ascending=[True, False, True, True])
    if limit is not None:
        flagged = flagged.head(int(limit))
    if flagged.empty:
        out = _empty_hotspots()
        out.attrs.update(meta)
        return out
    codes = sorted(set(flagged["unit"].astype(str)))
    names = run(conn, select(regions.c.code, regions.c.name).where(regions.c.code.in_(codes)))
    name_of = dict(zip(names["code"].astype(str), names["name"].astype(str)))
    out = pd.DataFrame({
        "region_code": flagged["unit"].astype(str).to_numpy(),
        "name": [name_of.get(c, c) for c in flagged["unit"].astype(str)],
        "level": level,
        "category": flagged["category"].to_numpy(),
        "observed": flagged["observed"].astype("int64").to_numpy(),
        "expected": flagged["expected"].to_numpy(),
        "ratio": flagged["ratio"].to_numpy(),
        "z": flagged["z"].to_numpy(),
        "p_value": flagged["p_value"].to_numpy(),
        "p_adjusted": flagged["p_adjusted"].to_numpy(),
        "baseline_mean": flagged["baseline_mean"].to_numpy(),
        "trend": flagged["trend"].to_numpy(),
        "dispersion": flagged["dispersion"].to_numpy(),
        "window_start": window_start,
        "window_end": as_of,
    })
    out["baseline"] = [_baseline_text(mode, years, len(wins), window_days, bm, tr, ex)
                       for bm, tr, ex in zip(out["baseline_mean"], out["trend"], out["expected"])]
    out = out[HOTSPOT_COLUMNS].reset_index(drop=True)
    out.attrs.update(meta)
    return out
