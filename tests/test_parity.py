"""The query layer gives identical answers on SQLite, PostgreSQL and MariaDB.

Every public query function of ``data_access.queries`` runs, for several
scopes, periods and as-of times, on

(a) each system of record itself, through the views of ``sor_views``, and
(b) the DuckDB analytics copy synced from that system of record,

and must give the same DataFrame as a reference: the DuckDB copy of the same
fixture written to SQLite. Counts (and every other value) must be equal;
floats equal to 1e-9 relative. So that this is not parity of a shared
mistake, ``kpis`` and ``children`` are also checked against an independent
pure-Python reading of docs/metrics.md, and the hand-computed figures of
tests/test_indicators.py are checked on each server.

The fixture (``build_fixture``) is deterministic: a small region tree with box
geometries (WKB) straddling longitude 0 and latitude 0 (negative coordinates
for the heat bins), a grid that skips the community level, a district without
appeals or population, and ~330 appeals covering the edge cases of
docs/metrics.md plus appeals placed exactly on every boundary (deadline at T,
24 h left, 20 % left, warn_at at T, paused at T, closed/rated/created at T,
feedback at its deadline, the last second of the month, points on heat-bin
edges).

Stored times are whole seconds: MariaDB's ``DATETIME`` columns (as created by
``schema.py``) drop microseconds, see ``test_timestamps_round_trip``. The
second as-of time has microseconds; it travels as a bound value.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
import shapely
from sqlalchemy import select, text

from data_access import analytics, queries, schema, sync
from data_access.runner import run
from data_access.scope import Period, Scope
from data_access.sor_views import ensure_views
from data_access.store import bulk_insert, make_engine, create_schema
from data_access.vocab import CHANNELS, IN_GRID_LEVELS, IN_STREET_LEVELS, SATISFIED_CODES
from tests import test_indicators as hand
from tests.conftest import insert_appeals, insert_regions

REL = 1e-9

# ------------------------------------------------------------------ fixture ---

T = dt.datetime(2026, 3, 20, 15, 30)
T2 = dt.datetime(2026, 4, 2, 8, 0, 0, 250_000)      # later, with microseconds
AS_OFS = (T, T2)
STAMP = dt.datetime(2026, 4, 20, 0, 0)               # updated_at of every fixture row

PERIODS = {
    "all": Period.all_time(),
    "march": Period(dt.datetime(2026, 3, 1), dt.datetime(2026, 4, 1)),
    "day": Period.days(dt.date(2026, 3, 20), dt.date(2026, 3, 20)),   # the day of T
}

CITY, WEST, EAST, EMPTY = "300", "301", "302", "303"
SKIP_STREET = "302001"            # holds a grid directly, without a community
SKIP_GRID = "302001900"
GRID = "301001001001"
UNKNOWN_GRID = "399999999999"     # an appeal's grid_code that is not in regions

SCOPES = {
    "whole": Scope.whole(),
    "district": Scope(WEST, "district"),
    "street": Scope(SKIP_STREET, "street"),
    "grid": Scope(GRID, "grid"),
}
# the levels whose regions each scope's tests list (children, region_shapes)
SCOPE_LEVELS = {
    "whole": ("city", "district", "street", "community", "grid"),
    "district": ("street", "community", "grid"),
    "street": ("street", "community", "grid"),
    "grid": ("grid",),
}
HEAT_CELLS = (1 / 64, 0.01)       # an exact binary step (points on its edges) and a decimal one

CATEGORIES = ["城市管理", "环境保护", "住房保障", "交通出行", "市场监管", "社会保障", "教育", "医疗卫生",
              "物业管理", "供暖", "供水", "燃气", "噪声扰民", "劳动权益"]
# Source words as channels. Chinese and digits only: they sort the same under every
# database's default collation (C, utf8mb4_general_ci and DuckDB's binary order), so
# ties in channel_counts come back in one order everywhere.
SOURCE_CHANNELS = ["12345热线", "市长信箱", "微信公众号", "人民网留言板"]
DEPARTMENTS = [
    ("D001", "城市管理局", "district", WEST),
    ("D002", "住建局", "district", EAST),
    ("D003", "东街道办", "street", "302002"),
    ("D004", "市热力公司", "city", CITY),
]


def _box(x0, y0, x1, y1) -> bytes:
    return shapely.to_wkb(shapely.box(x0, y0, x1, y1))


def _regions() -> list[dict]:
    """City 300 over lon [-0.5, 0.5] × lat [-0.25, 0.25]; district 301 west of 0, 302 east of 0."""
    rows = []

    def add(code, name, level, parent, population, box):
        geometry = _box(*box) if box else None
        cx, cy = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2) if box else (None, None)
        area = (box[2] - box[0]) * (box[3] - box[1]) * 12321.0 if box else None
        rows.append(dict(code=code, name=name, level=level, parent_code=parent, population=population,
                         area_km2=area, centroid_lon=cx, centroid_lat=cy, geometry=geometry, updated_at=STAMP))

    add(CITY, "测试市", "city", None, 100_000, (-0.5, -0.25, 0.6, 0.25))
    add(WEST, "西区", "district", CITY, 48_000, (-0.5, -0.25, 0.0, 0.25))
    add(EAST, "东区", "district", CITY, 52_000, (0.0, -0.25, 0.5, 0.25))
    add(EMPTY, "新区", "district", CITY, None, (0.5, -0.25, 0.6, 0.25))      # no appeals, no population
    add("303001", "新区街道", "street", EMPTY, 0, None)                       # population 0, no geometry
    streets = [
        ("301001", "西南街道", WEST, 20_000, (-0.5, -0.25, 0.0, 0.0)),
        ("301002", "西北街道", WEST, 28_000, (-0.5, 0.0, 0.0, 0.25)),
        (SKIP_STREET, "东南街道", EAST, 25_000, (0.0, -0.25, 0.5, 0.0)),
        ("302002", "东北街道", EAST, 27_000, (0.0, 0.0, 0.5, 0.25)),
    ]
    for code, name, parent, pop, box in streets:
        add(code, name, "street", parent, pop, box)
    communities = [
        ("301001001", "西南社区", "301001", 20_000, (-0.5, -0.25, 0.0, 0.0)),
        ("301002001", "西北社区", "301002", 28_000, (-0.5, 0.0, 0.0, 0.25)),
        ("302001001", "东南社区", SKIP_STREET, 15_000, (0.0, -0.25, 0.25, 0.0)),
        ("302002001", "东北一社区", "302002", 13_000, (0.0, 0.0, 0.25, 0.25)),
        ("302002002", "东北二社区", "302002", 14_000, (0.25, 0.0, 0.5, 0.25)),
    ]
    for code, name, parent, pop, box in communities:
        add(code, name, "community", parent, pop, box)
        bx0, by0, bx1, by1 = box
        mid = (bx0 + bx1) / 2
        add(code + "001", name + "一网格", "grid", code, pop // 2, (bx0, by0, mid, by1))
        add(code + "002", name + "二网格", "grid", code, pop - pop // 2, (mid, by0, bx1, by1))
    # a grid straight under its street (the territory skips a level here)
    add(SKIP_GRID, "东南直属网格", "grid", SKIP_STREET, 10_000, (0.25, -0.25, 0.5, 0.0))
    return rows


def _snap(value: float, step: float = 1 / 1024) -> float:
    return round(value / step) * step


def _random_appeals(rng: np.random.Generator, grids: list[dict], n: int) -> list[dict]:
    out = []
    start = dt.datetime(2026, 2, 15)
    span = int((dt.datetime(2026, 4, 16) - start).total_seconds())
    for i in range(n):
        a: dict = {"appeal_id": f"P{i:04d}"}
        # where
        pick = rng.random()
        if pick < 0.05:
            grid, box = None, (-0.5, -0.25, 0.5, 0.25)
        elif pick < 0.08:
            grid, box = UNKNOWN_GRID, (-0.5, -0.25, 0.5, 0.25)
        else:
            g = grids[int(rng.integers(len(grids)))]
            grid, box = g["code"], shapely.bounds(shapely.from_wkb(g["geometry"]))
        a["grid_code"] = grid
        if rng.random() < 0.1:
            a["lon"] = a["lat"] = None
            a["quality_flags"] = "no_location"
        else:
            step = 1 / 64 if rng.random() < 0.25 else 1 / 1024   # a quarter exactly on heat-bin edges
            a["lon"] = _snap(rng.uniform(box[0], box[2]), step)
            a["lat"] = _snap(rng.uniform(box[1], box[3]), step)
        # what
        a["channel"] = str(rng.choice(list(CHANNELS)))
        if i % 9 == 4:  # a source's own word that no mapping grouped, kept as the channel (docs/import.md)
            a["channel"] = a["channel_label"] = SOURCE_CHANNELS[(i // 9) % len(SOURCE_CHANNELS)]
        a["category"] = CATEGORIES[min(int(rng.geometric(0.22)) - 1, len(CATEGORIES) - 1)]
        a["subcategory"] = None if rng.random() < 0.2 else a["category"] + "其他"
        a["urgency"] = str(rng.choice(["urgent", "normal", "consult"]))
        a["department_code"] = None if rng.random() < 0.2 else DEPARTMENTS[int(rng.integers(4))][0]
        # when
        created = start + dt.timedelta(seconds=int(rng.integers(span)))
        if i % 15 == 0:                                   # the single day of T gets appeals too
            created = dt.datetime(2026, 3, 20) + dt.timedelta(seconds=int(rng.integers(86_400)))
        a["created_at"] = created
        a["dispatched_at"] = created + dt.timedelta(minutes=int(rng.integers(5, 600)))
        hours = [None, 24, 72, 120, 240, 360][int(rng.choice(6, p=[0.1, 0.2, 0.25, 0.2, 0.15, 0.1]))]
        a["deadline_at"] = None if hours is None else created + dt.timedelta(hours=hours)
        if rng.random() < 0.6:
            a["feedback_deadline_at"] = created + dt.timedelta(hours=int(rng.choice([24, 48])))
            if rng.random() < 0.8:
                a["first_feedback_at"] = created + dt.timedelta(seconds=int(rng.integers(3600, 72 * 3600)))
        # outcome
        outcome = rng.random()
        if outcome < 0.3:
            a["status"] = "open"
        elif outcome < 0.9:
            a["status"] = "closed"
            limit = (hours or 200) * 1.5
            a["closed_at"] = (None if rng.random() < 0.07
                              else created + dt.timedelta(seconds=int(rng.integers(3600, int(limit * 3600)))))
            a["handling_level"] = [None, "grid", "community", "street", "district", "city"][
                int(rng.choice(6, p=[0.1, 0.3, 0.2, 0.2, 0.15, 0.05]))]
            a["satisfaction"] = [None, "satisfied", "basic", "unsatisfied"][
                int(rng.choice(4, p=[0.3, 0.35, 0.2, 0.15]))]
            if a["satisfaction"] is not None and rng.random() > 0.1:  # else rated, time unknown
                base = a["closed_at"] or created + dt.timedelta(days=3)
                a["rated_at"] = base + dt.timedelta(seconds=int(rng.integers(3600, 96 * 3600)))
        else:
            a["status"] = "cancelled"
            a["closed_at"] = (None if rng.random() < 0.2
                              else created + dt.timedelta(seconds=int(rng.integers(600, 48 * 3600))))
        a["is_repeat"] = bool(rng.random() < 0.12)
        a["is_supervised"] = bool(rng.random() < 0.05)
        out.append(a)
    return out


def _edge_appeals() -> list[dict]:
    """Appeals placed exactly on the boundaries of docs/metrics.md, judged at T."""
    h, d, s = dt.timedelta(hours=1), dt.timedelta(days=1), dt.timedelta(seconds=1)
    e = [
        # deadline exactly at T: due soon (0 left), not overdue
        dict(created_at=T - 2 * d, deadline_at=T),
        # exactly 24 h left (of 30 days): due soon; one second more of 5 days: not due soon
        dict(created_at=T - 29 * d, deadline_at=T + d),
        dict(created_at=T - 4 * d + s, deadline_at=T + d + s),
        # exactly 20 % of 10 days left: due soon; one second more: not
        dict(created_at=T - 8 * d, deadline_at=T + 2 * d),
        dict(created_at=T - 8 * d, deadline_at=T + 2 * d + s),
        # one second overdue
        dict(created_at=T - 3 * d, deadline_at=T - s),
        # closed exactly at T, exactly at the deadline: closed, on time
        dict(created_at=T - 3 * d, deadline_at=T, closed_at=T, status="closed", handling_level="grid"),
        # closed one second after T, past its deadline: open and overdue at T
        dict(created_at=T - 3 * d, deadline_at=T - h, closed_at=T + s, status="closed", handling_level="street"),
        # created exactly at T: received; one second later: not
        dict(created_at=T),
        dict(created_at=T + s, deadline_at=T + d),
        # rated exactly at T; rated one second after T
        dict(created_at=T - 5 * d, closed_at=T - h, status="closed", satisfaction="satisfied", rated_at=T,
             handling_level="community"),
        dict(created_at=T - 5 * d, closed_at=T - h, status="closed", satisfaction="unsatisfied", rated_at=T + s,
             handling_level="district"),
        # feedback exactly at its deadline (on time); feedback after T, deadline passed (due, late)
        dict(created_at=T - 2 * d, feedback_deadline_at=T - d, first_feedback_at=T - d),
        dict(created_at=T - 2 * d, feedback_deadline_at=T - d, first_feedback_at=T + h),
        # cancelled without a time, feedback deadline passed: out of every rate
        dict(created_at=T - 2 * d, status="cancelled", feedback_deadline_at=T - d, deadline_at=T - h),
        # closed without a time but rated without a time: closed, rated, not judged on time
        dict(created_at=T - 6 * d, deadline_at=T - 4 * d, status="closed", satisfaction="basic",
             handling_level="grid"),
        # the last second of March, and the first of April
        dict(created_at=dt.datetime(2026, 3, 31, 23, 59, 59), closed_at=dt.datetime(2026, 3, 31, 23, 59, 59),
             status="closed", deadline_at=dt.datetime(2026, 4, 1)),
        dict(created_at=dt.datetime(2026, 4, 1), closed_at=dt.datetime(2026, 4, 1, 0, 0, 1), status="closed",
             deadline_at=dt.datetime(2026, 4, 1, 0, 0, 1)),
        # a later as-of (T2) also lands between two stamps of these
        dict(created_at=T2 - s - s, deadline_at=T2 + d),
        dict(created_at=T2.replace(microsecond=0), deadline_at=T2 + 2 * d, first_feedback_at=T2.replace(microsecond=0),
             feedback_deadline_at=T2 + d),
        # points exactly on heat-bin edges, negative (floor of -1 and -0.5 cells is -1)
        dict(created_at=T - h, lon=-1 / 64, lat=-0.5 / 64, grid_code="301001001002"),
        dict(created_at=T - h, lon=-2 / 64, lat=-1.5 / 64, grid_code="301001001002"),
        dict(created_at=T - h, lon=0.0, lat=0.0, grid_code="302002001001"),
        dict(created_at=T - h, lon=-0.0078125, lat=0.5 / 64, grid_code="301002001002"),
        # repeats
        dict(created_at=T - 4 * d, is_repeat=True, status="cancelled", closed_at=T - 3 * d),
        dict(created_at=T - 4 * d, is_repeat=True, deadline_at=T + 4 * d),
        # 临期 from warn_at (the deadline engine's yellow moment): exactly at T yellow, a second later not;
        # 10 h left (the calendar rule would say yellow) but warn_at after T: not yellow
        dict(created_at=T - 2 * d, deadline_at=T + 3 * d, warn_at=T),
        dict(created_at=T - 2 * d, deadline_at=T + 3 * d, warn_at=T + s),
        dict(created_at=T - 2 * d, deadline_at=T + 10 * h, warn_at=T + h),
        # paused (挂起): the clock stops. Deadline passed after the pause began: neither red nor yellow;
        # passed before it: still red; paused exactly at T one second after its deadline: red; paused
        # with warn_at passed: not yellow; paused after T: judged as not paused
        dict(created_at=T - 5 * d, deadline_at=T - h, warn_at=T - 2 * d, paused_since=T - d),
        dict(created_at=T - 5 * d, deadline_at=T - 2 * d, warn_at=T - 3 * d, paused_since=T - d),
        dict(created_at=T - 5 * d, deadline_at=T - s, paused_since=T),
        dict(created_at=T - 5 * d, deadline_at=T + 2 * h, warn_at=T - 3 * h, paused_since=T - h),
        dict(created_at=T - 5 * d, deadline_at=T - h, paused_since=T + h),
        dict(created_at=T - 5 * d, deadline_at=T + 2 * h, warn_at=T - 3 * h, paused_since=T + s),
    ]
    base = {"lon": 0.125, "lat": -0.125, "grid_code": "302001001002"}
    return [{**base, **row, "appeal_id": f"E{i:02d}"} for i, row in enumerate(e)]


def _complete(a: dict) -> dict:
    defaults = {c.name: None for c in schema.appeals.columns}  # any column added later is NULL
    defaults |= {
        "channel": "hotline", "category": "城市管理", "subcategory": None, "urgency": "normal",
        "summary": "测试诉求", "appellant_name": "张三", "appellant_phone": "13800000000", "address": "某路1号",
        "lon": None, "lat": None, "grid_code": None, "department_code": None, "handling_level": None,
        "dispatched_at": None, "first_feedback_at": None, "deadline_at": None, "feedback_deadline_at": None,
        "closed_at": None, "rated_at": None, "updated_at": STAMP, "status": "open", "satisfaction": None,
        "is_repeat": False, "is_supervised": False, "quality_flags": None,
    }
    return {**defaults, **a}


def build_fixture(n: int = 300, seed: int = 20260320) -> tuple[list[dict], list[dict]]:
    """(regions, appeals) as dicts with every column of the schema."""
    rng = np.random.default_rng(seed)
    regions = _regions()
    grids = [r for r in regions if r["level"] == "grid"]
    appeals = [_complete(a) for a in _random_appeals(rng, grids, n) + _edge_appeals()]
    return regions, appeals


def load_fixture(engine, regions, appeals) -> None:
    rcols = [c.name for c in schema.regions.columns]
    bulk_insert(engine, schema.regions, rcols, [tuple(r[c] for c in rcols) for r in regions])
    dcols = ["code", "name", "level", "region_code", "updated_at"]
    bulk_insert(engine, schema.departments, dcols, [(*d, STAMP) for d in DEPARTMENTS])
    acols = list(schema.APPEAL_COLUMNS)
    bulk_insert(engine, schema.appeals, acols, [tuple(a[c] for c in acols) for a in appeals])


def synced(engine):
    con = analytics.open_store(None)
    sync.sync(engine, con, now=STAMP + dt.timedelta(days=1))
    return con


# ------------------------------------------------------------ the queries ---

def all_results(conn) -> dict[str, object]:
    """Every public query function, for every scope, period and as-of time: {call: result}."""
    out: dict[str, object] = {}

    def put(key, fn, *args, **kwargs):
        try:
            out[key] = fn(conn, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the exception itself is a result to compare
            out[key] = f"raised {type(exc).__name__}"

    put("top_regions", queries.top_regions)
    for code in (None, "", CITY, WEST, SKIP_STREET, SKIP_GRID, "303001", "nope"):
        put(f"resolve_scope({code!r})", queries.resolve_scope, code)
    for sname, scope in SCOPES.items():
        put(f"scope_population/{sname}", queries.scope_population, scope)
        put(f"level_counts/{sname}", queries.level_counts, scope)
        put(f"data_range/{sname}", queries.data_range, scope)
        for level in SCOPE_LEVELS[sname]:
            put(f"region_shapes/{sname}/{level}", queries.region_shapes, scope, level)
        for t in AS_OFS:
            put(f"newest_overdue/{sname}/{t}", queries.newest_overdue, scope, t)
            put(f"newest_overdue/{sname}/{t}/3", queries.newest_overdue, scope, t, limit=3)
            for pname, period in PERIODS.items():
                key = f"{sname}/{pname}/{t}"
                put(f"kpis/{key}", queries.kpis, scope, period, t)
                for level in SCOPE_LEVELS[sname]:
                    put(f"children/{key}/{level}", queries.children, scope, period, t, level)
                put(f"daily_trend/{key}", queries.daily_trend, scope, period, t)
                put(f"category_counts/{key}", queries.category_counts, scope, period, t)
                put(f"category_counts/{key}/3", queries.category_counts, scope, period, t, limit=3)
                put(f"channel_counts/{key}", queries.channel_counts, scope, period, t)
                for cell in HEAT_CELLS:
                    put(f"heat_bins/{key}/{cell:g}", queries.heat_bins, scope, period, t, cell)
    return out


# ---------------------------------------------------------- comparisons ---

def _is_null(v) -> bool:
    if v is None or v is pd.NaT:
        return True
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _norm(v):
    """A cell as a plain Python value; numbers keep whether they are integral or not."""
    if _is_null(v):
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, Decimal):
        return float(v)  # flagged separately by _leaks
    if isinstance(v, (float, np.floating)):
        return float(v)
    if isinstance(v, (pd.Timestamp, dt.datetime)):
        return pd.Timestamp(v).to_pydatetime()
    if isinstance(v, dt.date):
        return dt.datetime.combine(v, dt.time())
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v)
    return v


def _same(a, b) -> bool:
    """Counts (an int on either side) exactly; floats to REL relative; everything else equal."""
    a, b = _norm(a), _norm(b)
    if a is None or b is None:
        return a is None and b is None
    numbers = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (a, b))
    if numbers and (isinstance(a, int) or isinstance(b, int)):
        # a count; a column with NULLs may carry it as a float (pandas), but never a fraction of one
        return float(a).is_integer() and float(b).is_integer() and int(a) == int(b)
    if numbers:
        return a == b or math.isclose(a, b, rel_tol=REL, abs_tol=0.0)
    return type(a) is type(b) and a == b


def _leaks(value) -> list[str]:
    """Values a caller could trip on: Decimal (breaks float arithmetic) in a public result."""
    cells = (value.to_numpy().ravel().tolist() if isinstance(value, pd.DataFrame)
             else list(value.values) if isinstance(value, pd.Series)
             else list(value) if isinstance(value, tuple) else [value])
    return sorted({type(c).__name__ for c in cells if isinstance(c, Decimal)})


def differences(got: dict, want: dict, limit: int = 15) -> list[str]:
    out = []
    for key, w in want.items():
        g = got.get(key, "<missing>")
        problem = _difference(g, w)
        if problem is None and _leaks(g):
            problem = f"returns {', '.join(_leaks(g))} values"
        if problem:
            out.append(f"{key}: {problem}")
    return out[:limit] + ([f"… and {len(out) - limit} more"] if len(out) > limit else [])


def _sorted_bins(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values(["lon", "lat"], kind="stable").reset_index(drop=True)


def _difference(g, w) -> str | None:
    if isinstance(w, pd.DataFrame):
        if not isinstance(g, pd.DataFrame):
            return f"got {g!r}, want a DataFrame"
        if "lon" in w.columns and "count" in w.columns:   # heat bins: no promised order
            g, w = _sorted_bins(g), _sorted_bins(w)
        if list(g.columns) != list(w.columns):
            return f"columns {list(g.columns)} != {list(w.columns)}"
        if len(g) != len(w):
            return f"{len(g)} rows != {len(w)}"
        for col in w.columns:
            for i, (x, y) in enumerate(zip(g[col].tolist(), w[col].tolist())):
                if not _same(x, y):
                    return f"row {i} {col}: {x!r} != {y!r}"
        return None
    if isinstance(w, pd.Series):
        if not isinstance(g, pd.Series) or list(g.index) != list(w.index):
            return f"got {g!r}"
        bad = [f"{k}: {g[k]!r} != {w[k]!r}" for k in w.index if not _same(g[k], w[k])]
        return "; ".join(bad) or None
    if isinstance(w, dict):
        if not isinstance(g, dict) or set(g) != set(w) or any(not _same(g[k], w[k]) for k in w):
            return f"{g!r} != {w!r}"
        return None
    if isinstance(w, tuple):
        if not isinstance(g, tuple) or len(g) != len(w) or any(not _same(x, y) for x, y in zip(g, w)):
            return f"{g!r} != {w!r}"
        return None
    if isinstance(w, Scope) or isinstance(w, str):
        return None if g == w else f"{g!r} != {w!r}"
    return None if _same(g, w) else f"{g!r} != {w!r}"


# ------------------------------------------- an independent reading of metrics.md ---

def _ancestors(regions: list[dict]) -> dict[str, set[str]]:
    parent = {r["code"]: r["parent_code"] for r in regions}
    out = {}
    for code in parent:
        chain, c = set(), code
        while c is not None:
            chain.add(c)
            c = parent.get(c)
        out[code] = chain
    return out


def oracle_kpis(regions, appeals, scope: Scope, period: Period, t: dt.datetime) -> dict:
    """docs/metrics.md, line by line, in Python."""
    anc = _ancestors(regions)
    pop = {r["code"]: r["population"] for r in regions}

    def in_scope(a):
        return scope.is_whole or scope.code in anc.get(a["grid_code"], set())

    cohort = [a for a in appeals if in_scope(a) and a["created_at"] <= t
              and (period.start is None or a["created_at"] >= period.start)
              and (period.end is None or a["created_at"] < period.end)]

    def closed(a):
        return a["status"] == "closed" and (a["closed_at"] is None or a["closed_at"] <= t)

    def cancelled(a):
        return a["status"] == "cancelled" and (a["closed_at"] is None or a["closed_at"] <= t)

    def open_(a):
        return not closed(a) and not cancelled(a)

    def paused(a):
        return a["paused_since"] is not None and a["paused_since"] <= t

    def overdue(a):
        # a paused appeal's clock is stopped: red only if its deadline had passed before the pause
        return (open_(a) and a["deadline_at"] is not None and a["deadline_at"] < t
                and (not paused(a) or a["deadline_at"] < a["paused_since"]))

    def due_soon(a):
        if not open_(a) or paused(a) or a["deadline_at"] is None or a["deadline_at"] < t:
            return False
        if a["warn_at"] is not None:          # the deadline engine's yellow moment
            return a["warn_at"] <= t
        left = (a["deadline_at"] - t).total_seconds()   # no warn_at: the calendar rule
        allowed = (a["deadline_at"] - a["created_at"]).total_seconds()
        return left <= 24 * 3600.0 or left <= 0.2 * allowed

    def n(pred):
        return sum(1 for a in cohort if pred(a))

    def ratio(num, den):
        return None if den == 0 else num / den

    def fb_given(a):
        return a["first_feedback_at"] is not None and a["first_feedback_at"] <= t

    def rated(a):
        return closed(a) and a["satisfaction"] is not None and (a["rated_at"] is None or a["rated_at"] <= t)

    def known(a):
        return closed(a) and a["handling_level"] is not None

    received, n_closed, n_cancelled = len(cohort), n(closed), n(cancelled)
    valid = received - n_cancelled
    population = (sum(r["population"] or 0 for r in regions if r["parent_code"] is None) if scope.is_whole
                  else pop[scope.code])
    return {
        "received": received, "closed": n_closed, "cancelled": n_cancelled,
        "overdue_open": n(overdue), "due_soon_open": n(due_soon), "valid": valid,
        "completion_rate": ratio(n_closed, valid),
        "on_time_rate": ratio(
            n(lambda a: closed(a) and a["closed_at"] is not None and a["deadline_at"] is not None
              and a["closed_at"] <= a["deadline_at"]),
            n(lambda a: closed(a) and a["closed_at"] is not None and a["deadline_at"] is not None) + n(overdue)),
        "feedback_on_time_rate": ratio(
            n(lambda a: not cancelled(a) and fb_given(a) and a["feedback_deadline_at"] is not None
              and a["first_feedback_at"] <= a["feedback_deadline_at"]),
            n(lambda a: a["feedback_deadline_at"] is not None and not cancelled(a)
              and (fb_given(a) or a["feedback_deadline_at"] < t))),
        "satisfaction_rate": ratio(n(lambda a: rated(a) and a["satisfaction"] in SATISFIED_CODES), n(rated)),
        "callback_rate": ratio(n(rated), n_closed),
        "in_grid_rate": ratio(n(lambda a: known(a) and a["handling_level"] in IN_GRID_LEVELS), n(known)),
        "in_street_rate": ratio(n(lambda a: known(a) and a["handling_level"] in IN_STREET_LEVELS), n(known)),
        "repeat_rate": ratio(n(lambda a: not cancelled(a) and a["is_repeat"]), valid),
        "population": population,
        "per_10k": valid * 10000.0 / population if population else None,
    }


# ---------------------------------------------------------------- fixtures ---

@pytest.fixture(scope="module")
def rich():
    return build_fixture()


@pytest.fixture(scope="module")
def reference(rich, tmp_path_factory):
    """Every result on the DuckDB copy of the fixture written to SQLite."""
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('parity') / 'reference.db'}")
    create_schema(engine)
    load_fixture(engine, *rich)
    con = synced(engine)
    try:
        return all_results(con)
    finally:
        con.close()
        engine.dispose()


def _backend(engine) -> str:
    return engine.dialect.name


# ------------------------------------------------------------------- tests ---

def test_fixture_covers_the_edge_cases(rich):
    regions, appeals = rich
    at_t = [a for a in appeals if a["created_at"] <= T]
    assert 300 <= len(appeals) <= 400
    assert any(a["deadline_at"] is None for a in at_t)
    assert any(a["status"] == "cancelled" and a["closed_at"] is None for a in at_t)
    assert any(a["status"] == "closed" and a["closed_at"] is None for a in at_t)
    assert any(a["status"] == "closed" and a["closed_at"] and a["closed_at"] > T for a in at_t)
    assert any(a["status"] == "closed" and a["handling_level"] is None for a in at_t)
    assert any(a["status"] == "closed" and a["satisfaction"] is None for a in at_t)
    assert any(a["rated_at"] and a["rated_at"] > T and a["closed_at"] and a["closed_at"] <= T for a in at_t)
    assert any(a["is_repeat"] for a in at_t) and any(a["feedback_deadline_at"] for a in at_t)
    assert any(a["lon"] is None for a in at_t) and any(a["grid_code"] is None for a in at_t)
    assert any(a["grid_code"] == UNKNOWN_GRID for a in at_t)
    assert any(a["lon"] is not None and a["lon"] < 0 and (a["lon"] * 64) % 1 for a in at_t)
    assert any(r["level"] == "grid" and r["parent_code"] == SKIP_STREET for r in regions)
    assert {a["channel"] for a in at_t} >= set(SOURCE_CHANNELS)  # channels beyond our codes
    # every coordinate is exact in binary, so no engine rounds it differently
    assert all(a["lon"] is None or (a["lon"] * 1024).is_integer() for a in appeals)
    # and the figures of the fixture are not degenerate at T
    figures = oracle_kpis(regions, appeals, Scope.whole(), PERIODS["march"], T)
    assert min(figures[k] for k in ("closed", "cancelled", "overdue_open", "due_soon_open")) >= 5
    assert all(figures[k] is not None and 0 < figures[k] < 1 for k in figures if k.endswith("_rate"))


def test_reference_follows_metrics_md(rich, reference):
    """The reference itself agrees with an independent Python reading of the definitions."""
    regions, appeals = rich
    problems = []
    for sname, scope in SCOPES.items():
        for t in AS_OFS:
            for pname, period in PERIODS.items():
                key = f"{sname}/{pname}/{t}"
                want = oracle_kpis(regions, appeals, scope, period, t)
                got = reference[f"kpis/{key}"]
                problems += [f"kpis/{key} {k}: {got[k]!r} != {want[k]!r}" for k in want if not _same(got[k], want[k])]
                for level in SCOPE_LEVELS[sname]:
                    kids = reference[f"children/{key}/{level}"].set_index("code")
                    for code in kids.index:
                        child = oracle_kpis(regions, appeals, Scope(code, level), period, t)
                        problems += [f"children/{key}/{level}/{code} {k}: {kids.loc[code, k]!r} != {child[k]!r}"
                                     for k in child if k not in ("valid",) and not _same(kids.loc[code, k], child[k])]
    assert not problems, "\n".join(problems[:20])


def test_same_results_on_every_backend(any_sor, rich, reference):
    """(a) on the system of record through its views and (b) on its DuckDB copy: both equal the reference."""
    load_fixture(any_sor, *rich)
    ensure_views(any_sor)
    with any_sor.connect() as conn:
        direct = all_results(conn)
    con = synced(any_sor)
    try:
        copied = all_results(con)
    finally:
        con.close()
    problems = ([f"on {_backend(any_sor)}: {p}" for p in differences(direct, reference)]
                + [f"on the copy of {_backend(any_sor)}: {p}" for p in differences(copied, reference)])
    assert not problems, "\n".join(problems)
    # the comparison has teeth: results are there and not all empty
    assert sum(isinstance(v, pd.DataFrame) and len(v) > 0 for v in direct.values()) > 200
    assert len(direct) > 250


def test_hand_computed_figures_on_every_backend(any_sor):
    """tests/test_indicators.py's hand-computed figures, on each database and on its copy."""
    insert_regions(any_sor)
    insert_appeals(any_sor, hand.APPEALS, updated_at=STAMP)
    ensure_views(any_sor)
    whole = {"received": 10, "closed": 5, "cancelled": 1, "overdue_open": 1, "due_soon_open": 1, "valid": 9,
             "completion_rate": 5 / 9, "on_time_rate": 2 / 4, "feedback_on_time_rate": 1 / 3,
             "satisfaction_rate": 2 / 3, "callback_rate": 3 / 5, "in_grid_rate": 2 / 4, "in_street_rate": 3 / 4,
             "repeat_rate": 1 / 9, "population": 10000, "per_10k": 9.0}
    later = {"received": 11, "closed": 6, "satisfaction_rate": 3 / 4, "overdue_open": 2}
    con = synced(any_sor)
    with any_sor.connect() as conn:
        for where, c in (("system of record", conn), ("copy", con)):
            label = f"{_backend(any_sor)} {where}"
            got = queries.kpis(c, Scope.whole(), hand.MARCH, hand.T)
            assert {k: got[k] for k in whole} == pytest.approx(whole, rel=REL), label
            got = queries.kpis(c, Scope.whole(), hand.MARCH, dt.datetime(2026, 3, 12, 10))
            assert {k: got[k] for k in later} == pytest.approx(later, rel=REL), label
            west = queries.kpis(c, Scope("102", "district"), hand.MARCH, hand.T)
            assert (west["received"], west["per_10k"]) == (5, pytest.approx(10.0)), label
            kids = queries.children(c, Scope.whole(), Period(hand.ts("2026-03-09"), hand.ts("2026-03-10")),
                                    hand.T, "district")
            assert dict(zip(kids["code"], kids["received"])) == {"101": 0, "102": 2}, label
            trend = queries.daily_trend(c, Scope.whole(), Period(hand.ts("2026-03-04"), hand.ts("2026-03-08")),
                                        hand.T)
            assert list(trend["received"]) == [1, 1, 1, 0] and list(trend["closed"]) == [0, 2, 1, 1], label
            rows = queries.newest_overdue(c, Scope.whole(), hand.T)
            assert list(rows["appeal_id"]) == ["a3", "a11"], label
            # in working hours (a3's limit is in working days): Thu 09:00 to Tue 12:00 over a weekend
            assert float(rows["overdue_hours"].iloc[0]) == pytest.approx(75.0, rel=REL), label
    con.close()


# Times a driver or server could shift: microseconds, the last microsecond of a
# day, and wall-clock times that do not exist or repeat in zones with daylight
# saving time (naive local times must not be converted by anyone).
ROUND_TRIP_TIMES = [
    dt.datetime(2026, 3, 10, 12, 34, 56, 789_012),
    dt.datetime(2026, 3, 31, 23, 59, 59, 999_999),
    dt.datetime(2026, 3, 8, 2, 30, 0, 500_000),       # does not exist in America/New_York
    dt.datetime(2026, 11, 1, 1, 30, 0, 1),            # happens twice in America/New_York
    dt.datetime(1988, 4, 17, 2, 30, 0, 123_000),      # Asia/Shanghai's own DST gap (1986-1991)
]


def _round_trip(engine, when: list[dt.datetime]):
    """Write ``when`` as created_at and deadline_at; read them back three ways."""
    insert_regions(engine)
    insert_appeals(engine, [dict(appeal_id=f"R{i}", created_at=w, deadline_at=w) for i, w in enumerate(when)],
                   updated_at=STAMP)
    ensure_views(engine)
    a = schema.appeals
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":     # a session zone must not matter for naive times
            conn.execute(text("SET TIME ZONE 'America/New_York'"))
        elif engine.dialect.name in ("mysql", "mariadb"):
            conn.execute(text("SET time_zone = '-05:00'"))
        table = conn.execute(select(a.c.appeal_id, a.c.created_at, a.c.deadline_at).order_by(a.c.appeal_id)).all()
        view = run(conn, select(analytics.facts.c.appeal_id, analytics.facts.c.created_at)
                   .order_by(analytics.facts.c.appeal_id))
        first, last = queries.data_range(conn, Scope.whole())
    con = synced(engine)
    copy = run(con, select(analytics.facts.c.appeal_id, analytics.facts.c.created_at,
                           analytics.facts.c.deadline_at).order_by(analytics.facts.c.appeal_id))
    con.close()
    return table, view, (first, last), copy


def test_naive_local_times_round_trip(any_sor):
    """Whole-second naive local times come back unchanged from the table, the view and the copy."""
    when = [w.replace(microsecond=0) for w in ROUND_TRIP_TIMES]
    table, view, span, copy = _round_trip(any_sor, when)
    assert [(r.created_at, r.deadline_at) for r in table] == [(w, w) for w in when]
    assert [pd.Timestamp(v).to_pydatetime() for v in view["created_at"]] == when
    assert span == (min(when), max(when))
    assert [pd.Timestamp(v).to_pydatetime() for v in copy["created_at"]] == when
    assert [pd.Timestamp(v).to_pydatetime() for v in copy["deadline_at"]] == when


def test_microseconds_round_trip(any_sor):
    """Times with microseconds survive the database, its views and the copy."""
    table, view, span, copy = _round_trip(any_sor, ROUND_TRIP_TIMES)
    assert [r.created_at for r in table] == ROUND_TRIP_TIMES
    assert [pd.Timestamp(v).to_pydatetime() for v in view["created_at"]] == ROUND_TRIP_TIMES
    assert span == (min(ROUND_TRIP_TIMES), max(ROUND_TRIP_TIMES))
    assert [pd.Timestamp(v).to_pydatetime() for v in copy["created_at"]] == ROUND_TRIP_TIMES


def test_as_of_with_microseconds_is_exact(any_sor):
    """A bound as-of time with microseconds splits stored times exactly, and overdue hours keep them."""
    stored = dt.datetime(2026, 3, 10, 12, 0, 0)
    insert_regions(any_sor)
    insert_appeals(any_sor, [dict(appeal_id="m1", created_at=stored - dt.timedelta(days=1), deadline_at=stored),
                             dict(appeal_id="m2", created_at=stored)], updated_at=STAMP)
    ensure_views(any_sor)
    just_before = stored - dt.timedelta(microseconds=1)
    just_after = stored + dt.timedelta(microseconds=1)
    con = synced(any_sor)
    with any_sor.connect() as conn:
        for c in (conn, con):
            before = queries.kpis(c, Scope.whole(), Period.all_time(), just_before)
            after = queries.kpis(c, Scope.whole(), Period.all_time(), just_after)
            assert (before["received"], before["overdue_open"], before["due_soon_open"]) == (1, 0, 1)
            assert (after["received"], after["overdue_open"], after["due_soon_open"]) == (2, 1, 0)
            rows = queries.newest_overdue(c, Scope.whole(), stored + dt.timedelta(hours=1, microseconds=1800))
            assert float(rows["overdue_hours"].iloc[0]) == pytest.approx(1.0000005, rel=REL, abs=0)
            assert not isinstance(rows["overdue_hours"].iloc[0], Decimal)
    con.close()
