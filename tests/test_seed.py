"""The demo appeal generator on a small synthetic territory.

One city, 2 districts × 2 streets × 2 communities × 4 grids (triangles, so
that points must really be tested against the polygon), 6,000 appeals over 12
months ending in the heating season. Checked with SQL and hand-set tolerances.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict

import geopandas as gpd
import numpy as np
import pytest
import shapely
from sqlalchemy import func, select

from data_access import workcal
from data_access.schema import appeal_events, appeals, departments, regions
from data_access.seed import PlantedHotspot, SeedReport, plan_hotspots, seed_demo
from data_access.seed import catalogue
from data_access.store import make_engine

END = dt.datetime(2026, 1, 15, 10, 30)
START = dt.datetime(2025, 1, 15, 10, 30)
N_APPEALS = 6000
SEED = 11
EVENT_TIMES = ("created_at", "dispatched_at", "first_feedback_at", "closed_at", "rated_at")

DISTRICTS = (("210302", "铁东区"), ("210303", "铁西区"))
ROOTS = ("胜利", "园林", "站前", "山南", "湖南", "解放", "对炉", "永乐")


def _split(box, k):
    minx, miny, maxx, maxy = box
    w = (maxx - minx) / 2
    h = (maxy - miny) / ((k + 1) // 2)
    return [(minx + (i % 2) * w, miny + (i // 2) * h, minx + (i % 2 + 1) * w, miny + (i // 2 + 1) * h)
            for i in range(k)]


def _triangles(box):
    minx, miny, maxx, maxy = box
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    corners = [(minx, miny), (maxx, miny), (maxx, maxy), (minx, maxy)]
    return [shapely.Polygon([corners[i], corners[(i + 1) % 4], (cx, cy)]) for i in range(4)]


def small_territory() -> gpd.GeoDataFrame:
    rng = np.random.default_rng(3)
    rows = []
    city_box = (122.90, 41.05, 123.10, 41.17)
    rows.append(("210300", "鞍山市", "city", None, shapely.box(*city_box)))
    for (dcode, dname), dbox in zip(DISTRICTS, _split(city_box, 2)):
        rows.append((dcode, dname, "district", "210300", shapely.box(*dbox)))
        for si, sbox in enumerate(_split(dbox, 2)):
            scode = f"{dcode}{si + 1:03d}"
            root = ROOTS[(int(dcode[-1]) * 2 + si) % len(ROOTS)]
            rows.append((scode, root + "街道", "street", dcode, shapely.box(*sbox)))
            for ci, cbox in enumerate(_split(sbox, 2)):
                ccode = f"{scode}{ci + 1:03d}"
                cname = ROOTS[(si * 2 + ci + int(dcode[-1])) % len(ROOTS)] + ("社区" if ci else "里社区")
                rows.append((ccode, cname, "community", scode, shapely.box(*cbox)))
                for gi, tri in enumerate(_triangles(cbox)):
                    rows.append((f"{ccode}{gi + 1:03d}", f"{cname}第{gi + 1}网格", "grid", ccode, tri))
    pop = {}
    grid_pop = rng.integers(300, 1600, size=sum(r[2] == "grid" for r in rows))
    it = iter(grid_pop.tolist())
    for r in rows:
        if r[2] == "grid":
            pop[r[0]] = next(it)
    for level in ("community", "street", "district", "city"):
        for r in rows:
            if r[2] == level:
                pop[r[0]] = sum(pop[c[0]] for c in rows if c[3] == r[0])
    return gpd.GeoDataFrame(
        {"code": [r[0] for r in rows], "name": [r[1] for r in rows], "level": [r[2] for r in rows],
         "parent_code": [r[3] for r in rows], "population": [pop[r[0]] for r in rows],
         "area_km2": [shapely.area(r[4]) * 111 * 84 for r in rows]},
        geometry=[r[4] for r in rows], crs="EPSG:4326",
    ).sort_values("level", key=lambda s: s.map({"city": 0, "district": 1, "street": 2, "community": 3,
                                                 "grid": 4}), kind="stable").reset_index(drop=True)


@pytest.fixture(scope="module")
def territory():
    return small_territory()


@pytest.fixture(scope="module")
def seeded(territory, tmp_path_factory):
    path = tmp_path_factory.mktemp("seed") / "a.db"
    engine = make_engine(f"sqlite:///{path}")
    calls = []
    report = seed_demo(engine, territory=territory, appeals=N_APPEALS, months=12, seed=SEED, end=END,
                       progress=lambda stage, done, total: calls.append((stage, done, total)))
    yield engine, report, calls
    engine.dispose()


@pytest.fixture(scope="module")
def rows(seeded):
    engine = seeded[0]
    with engine.connect() as conn:
        a = [r._asdict() for r in conn.execute(select(appeals).order_by(appeals.c.appeal_id))]
        e = [r._asdict() for r in conn.execute(select(appeal_events).order_by(appeal_events.c.id))]
    return a, e


def _scalar(engine, stmt):
    with engine.connect() as conn:
        return conn.execute(stmt).scalar_one()


# ------------------------------------------------------------------ basics
def test_report_and_progress(seeded):
    engine, report, calls = seeded
    assert isinstance(report, SeedReport)
    assert report.appeals == N_APPEALS == _scalar(engine, select(func.count()).select_from(appeals))
    assert report.events == _scalar(engine, select(func.count()).select_from(appeal_events))
    assert report.regions == 1 + 2 + 4 + 8 + 32
    assert report.departments == _scalar(engine, select(func.count()).select_from(departments))
    stages = {c[0] for c in calls}
    assert {"regions", "departments", "appeals", "events"} <= stages
    assert calls[-1] == ("events", report.events, report.events)
    assert max(d for s, d, t in calls if s == "appeals") == N_APPEALS


def test_deterministic(territory, seeded, tmp_path):
    engine = seeded[0]
    other = make_engine(f"sqlite:///{tmp_path / 'b.db'}")
    report = seed_demo(other, territory=territory, appeals=N_APPEALS, months=12, seed=SEED, end=END)
    assert report.hotspots == seeded[1].hotspots

    def dump(eng, table, skip=("updated_at",)):
        cols = [c for c in table.columns if c.name not in skip]
        with eng.connect() as conn:
            return conn.execute(select(*cols).order_by(*table.primary_key.columns)).all()

    for table in (regions, departments, appeals, appeal_events):
        assert dump(engine, table) == dump(other, table), table.name
    other.dispose()


def test_refuses_a_non_empty_database(territory, seeded):
    with pytest.raises(ValueError, match="empty"):
        seed_demo(seeded[0], territory=territory, appeals=100, months=1, seed=1, end=END)


def test_every_appeal_has_an_accept_event_at_creation(seeded):
    engine = seeded[0]
    accept = select(appeal_events.c.appeal_id, appeal_events.c.event_at).where(
        appeal_events.c.event_type == "accept").subquery()
    stmt = select(func.count()).select_from(appeals.outerjoin(accept, accept.c.appeal_id == appeals.c.appeal_id)) \
        .where((accept.c.appeal_id.is_(None)) | (accept.c.event_at != appeals.c.created_at))
    assert _scalar(engine, stmt) == 0
    per = select(appeal_events.c.appeal_id, func.count().label("n")).where(
        appeal_events.c.event_type == "accept").group_by(appeal_events.c.appeal_id).subquery()
    assert _scalar(engine, select(func.max(per.c.n))) == 1


def test_no_timestamp_after_end(seeded):
    engine = seeded[0]
    for name in EVENT_TIMES:
        assert _scalar(engine, select(func.max(appeals.c[name]))) <= END, name
    assert _scalar(engine, select(func.max(appeal_events.c.event_at))) <= END
    assert _scalar(engine, select(func.max(appeals.c.created_at))) < END
    assert _scalar(engine, select(func.min(appeals.c.created_at))) >= START


def test_time_order_and_status_consistency(rows):
    a, events = rows
    for r in a:
        c = r["created_at"]
        assert r["dispatched_at"] is None or r["dispatched_at"] >= c
        if r["status"] == "open":
            assert r["closed_at"] is None and r["rated_at"] is None and r["satisfaction"] is None
        else:
            assert r["closed_at"] is not None and r["closed_at"] >= c
            if r["dispatched_at"] is not None:
                assert r["closed_at"] >= r["dispatched_at"]
        if r["status"] == "cancelled":
            assert r["rated_at"] is None and r["first_feedback_at"] is None
        assert (r["rated_at"] is None) == (r["satisfaction"] is None)
        if r["rated_at"] is not None:
            assert r["status"] == "closed" and r["rated_at"] >= r["closed_at"] + dt.timedelta(hours=12)
        if r["first_feedback_at"] is not None:
            assert r["first_feedback_at"] >= r["dispatched_at"]
            if r["closed_at"] is not None:
                assert r["first_feedback_at"] <= r["closed_at"]
        if r["dispatched_at"] is None:
            assert r["department_code"] is None and r["handling_level"] is None
    # events of an appeal come in time order
    last: dict[str, dt.datetime] = {}
    for e in events:
        assert e["event_at"] >= last.get(e["appeal_id"], dt.datetime.min)
        last[e["appeal_id"]] = e["event_at"]


def test_events_match_the_appeals(rows):
    a, events = rows
    by = defaultdict(list)
    for e in events:
        by[e["appeal_id"]].append(e)
    phones = {r["appeal_id"]: r["appellant_phone"] for r in a}
    for r in a:
        kinds = Counter(e["event_type"] for e in by[r["appeal_id"]])
        assert kinds["dispatch"] == (r["dispatched_at"] is not None)
        assert kinds["feedback"] == (r["first_feedback_at"] is not None)
        assert kinds["handle"] == (r["status"] != "open")
        assert kinds["rate"] == (r["rated_at"] is not None)
        assert (kinds["supervise"] > 0) == r["is_supervised"]
        if r["status"] == "cancelled":
            handle = [e for e in by[r["appeal_id"]] if e["event_type"] == "handle"][0]
            assert handle["event_at"] == r["closed_at"] and handle["note"]
        for e in by[r["appeal_id"]]:
            assert e["actor"] and (phones[r["appeal_id"]] is None or phones[r["appeal_id"]] not in e["actor"])
    assert set(Counter(e["event_type"] for e in events)) == {"accept", "dispatch", "feedback", "handle", "rate",
                                                             "supervise", "escalate", "answer", "pause", "resume",
                                                             "extend"}


# ------------------------------------------------------------------ where
def test_grids_and_points(seeded, territory, rows):
    engine = seeded[0]
    a, _ = rows
    with engine.connect() as conn:
        grids = {r.code: shapely.from_wkb(r.geometry) for r in conn.execute(
            select(regions.c.code, regions.c.geometry).where(regions.c.level == "grid"))}
    assert len(grids) == 32
    assert {r["grid_code"] for r in a} <= set(grids)
    located = [r for r in a if r["lon"] is not None]
    assert all(shapely.contains_xy(grids[r["grid_code"]], r["lon"], r["lat"]) for r in located)
    no_location = 1 - len(located) / len(a)
    assert 0.002 <= no_location <= 0.025
    assert all(r["grid_code"] and r["address"] for r in a)
    # the address starts with the district, street and community of the grid
    names = dict(zip(territory["code"], territory["name"]))
    for r in a[:200]:
        g = r["grid_code"]
        assert r["address"].startswith(names[g[:6]] + names[g[:9]] + names[g[:12]])


def test_departments_match_levels(seeded, rows):
    engine = seeded[0]
    a, _ = rows
    with engine.connect() as conn:
        depts = {r.code: r for r in conn.execute(select(departments))}
    for r in a:
        if r["department_code"] is not None:
            d = depts[r["department_code"]]
            assert d.level == r["handling_level"]
            if d.level in ("grid", "community"):
                assert d.region_code == r["grid_code"][:12]
            elif d.level == "street":
                assert d.region_code == r["grid_code"][:9]
    assert any(d.name.endswith("网格工作站") for d in depts.values())
    assert any(d.name.endswith("居委会") for d in depts.values())
    assert any(d.name == "铁东区城市管理局" for d in depts.values())
    assert any(d.name == "鞍山市供暖办" for d in depts.values())


# ------------------------------------------------------------------ what and when
def test_channel_mix(rows):
    a, _ = rows
    share = {k: v / len(a) for k, v in Counter(r["channel"] for r in a).items()}
    expected = {"hotline": (0.45, 0.04), "app": (0.15, 0.03), "grid": (0.18, 0.03), "web": (0.10, 0.025),
                "police110": (0.05, 0.02), "enterprise": (0.04, 0.015), "mailbox": (0.03, 0.015)}
    for code, (target, tol) in expected.items():
        assert abs(share.get(code, 0) - target) <= tol, (code, share.get(code))
    assert all(8 <= r["created_at"].hour <= 17 for r in a if r["channel"] == "grid")
    night = sum(1 for r in a if r["created_at"].hour < 6) / len(a)
    assert night < 0.045  # six night hours carry ~3% (25% if flat)


def test_categories(rows):
    a, _ = rows
    cats = Counter(r["category"] for r in a)
    assert len(cats) == 13
    assert set(cats) == set(catalogue.CATEGORY_NAMES)
    subs = defaultdict(set)
    for r in a:
        subs[r["category"]].add(r["subcategory"])
    assert all(3 <= len(s) <= 8 for s in subs.values())


def _daily_mean(a, months, category=None):
    sel = [r for r in a if r["created_at"].month in months and (category is None or r["category"] == category)
           and r["created_at"].date() < END.date() and r["created_at"] > START + dt.timedelta(days=1)]
    days = {r["created_at"].date() for r in a if r["created_at"].month in months
            and r["created_at"].date() < END.date() and r["created_at"] > START + dt.timedelta(days=1)}
    return len(sel) / max(len(days), 1)


def test_heating_season_and_rhythm(rows):
    a, _ = rows
    winter, summer = (11, 12, 2), (6, 7, 8)
    assert _daily_mean(a, winter) > 1.25 * _daily_mean(a, summer)
    in_winter = Counter(r["category"] for r in a if r["created_at"].month in winter)
    assert in_winter.most_common(1)[0][0] == "供暖"
    assert in_winter["供暖"] / sum(in_winter.values()) > 0.25
    in_summer = Counter(r["category"] for r in a if r["created_at"].month in summer)
    assert in_summer["供暖"] / sum(in_summer.values()) < 0.015
    # weekends and holidays are quieter than working days
    per_day = Counter(r["created_at"].date() for r in a if START.date() < r["created_at"].date() < END.date())
    work = [n for d, n in per_day.items() if workcal.is_workday(d)]
    off = [n for d, n in per_day.items() if not workcal.is_workday(d)]
    assert 0.5 <= np.mean(off) / np.mean(work) <= 0.8


def test_limits(rows):
    a, events = rows
    limits = {c.name: c.limit_days for c in catalogue.CATEGORIES}
    # pauses and extensions move deadlines: tests/test_deadlines.py checks those appeals
    moved = {e["appeal_id"] for e in events if e["event_type"] in ("resume", "extend")}
    no_deadline = [r for r in a if r["deadline_at"] is None]
    assert 0.003 <= len(no_deadline) / len(a) <= 0.02
    assert all(r["feedback_deadline_at"] is None for r in no_deadline)
    urgency = Counter(r["urgency"] for r in a)
    assert set(urgency) == {"urgent", "normal", "consult"}
    for r in a:
        if r["deadline_at"] is None:
            continue
        assert r["feedback_deadline_at"] <= r["deadline_at"]
        if r["appeal_id"] in moved:
            continue
        if r["urgency"] == "urgent":
            assert dt.timedelta(hours=2) <= r["deadline_at"] - r["created_at"] <= dt.timedelta(hours=24)
        elif r["urgency"] == "consult":
            assert r["deadline_at"] == workcal.add_working_days(r["created_at"], 1)
        else:
            assert r["deadline_at"] == workcal.add_working_days(r["created_at"], limits[r["category"]])


# ------------------------------------------------------------------ outcome
def test_handling_levels(rows):
    a, _ = rows
    closed = [r for r in a if r["status"] == "closed"]
    levels = Counter(r["handling_level"] for r in closed)
    within_street = (levels["grid"] + levels["community"] + levels["street"]) / len(closed)
    within_grid = (levels["grid"] + levels["community"]) / len(closed)
    assert 0.93 <= within_street <= 0.98
    assert 0.55 <= within_grid <= 0.72
    assert levels["district"] > 0 and levels["city"] > 0


def test_status_on_time_and_overdue(rows):
    a, _ = rows
    status = Counter(r["status"] for r in a)
    assert 0.007 <= status["cancelled"] / len(a) <= 0.025
    due = [r for r in a if r["deadline_at"] is not None and r["status"] != "cancelled"
           and (r["status"] == "closed" or r["deadline_at"] < END)]
    on_time = sum(1 for r in due if r["status"] == "closed" and r["closed_at"] <= r["deadline_at"]) / len(due)
    assert 0.94 <= on_time <= 0.98
    overdue_open = [r for r in a if r["status"] == "open" and r["deadline_at"] is not None
                    and r["deadline_at"] < END]
    assert 2 <= len(overdue_open) <= 0.005 * len(a)
    not_due = [r for r in a if r["status"] == "open" and (r["deadline_at"] is None or r["deadline_at"] >= END)]
    assert len(not_due) >= 30
    fb_due = [r for r in a if r["feedback_deadline_at"] is not None and r["status"] != "cancelled"
              and (r["first_feedback_at"] is not None or r["feedback_deadline_at"] < END)]
    fb_on_time = sum(1 for r in fb_due if r["first_feedback_at"] is not None
                     and r["first_feedback_at"] <= r["feedback_deadline_at"]) / len(fb_due)
    assert 0.94 <= fb_on_time <= 0.99


def test_satisfaction(rows):
    a, _ = rows
    closed = [r for r in a if r["status"] == "closed"]
    rated = [r for r in closed if r["satisfaction"] is not None]
    assert 0.78 <= len(rated) / len(closed) <= 0.9
    ok = lambda rs: sum(r["satisfaction"] in ("satisfied", "basic") for r in rs) / len(rs)  # noqa: E731
    assert 0.93 <= ok(rated) <= 0.975
    late = [r for r in rated if r["deadline_at"] is not None and r["closed_at"] > r["deadline_at"]]
    on_time = [r for r in rated if r not in late]
    assert len(late) >= 20
    assert ok(late) < ok(on_time) - 0.15


def test_supervision(rows):
    a, _ = rows
    share = sum(r["is_supervised"] for r in a) / len(a)
    assert 0.015 <= share <= 0.045
    late = [r for r in a if r["deadline_at"] is not None and r["status"] != "cancelled"
            and (r["closed_at"] or END) > r["deadline_at"]]
    assert sum(r["is_supervised"] for r in late) / len(late) > 0.3


def test_repeats(rows):
    a, _ = rows
    repeats = [r for r in a if r["is_repeat"]]
    assert 0.045 <= len(repeats) / len(a) <= 0.085
    earlier = defaultdict(list)
    for r in a:
        earlier[(r["grid_code"], r["category"], r["subcategory"])].append(r)
    same_phone = with_phone = 0
    for r in repeats:
        before = [p for p in earlier[(r["grid_code"], r["category"], r["subcategory"])]
                  if dt.timedelta(days=1) <= r["created_at"] - p["created_at"] <= dt.timedelta(days=30)]
        assert before, r["appeal_id"]
        if r["appellant_phone"] and any(p["appellant_phone"] for p in before):
            with_phone += 1
            same_phone += any(p["appellant_phone"] == r["appellant_phone"] for p in before)
    assert same_phone / with_phone > 0.5


def test_people(rows):
    a, _ = rows
    phone = re.compile(r"1[3-9]\d{9}")
    citizens = [r for r in a if r["channel"] != "grid"]
    assert all(phone.fullmatch(r["appellant_phone"]) for r in citizens)
    assert all(2 <= len(r["appellant_name"]) <= 4 for r in citizens)
    surnames = Counter(r["appellant_name"][0] for r in citizens)
    assert surnames.most_common(4)[0][0] in "王李张刘"
    assert all(r["appellant_name"] is None for r in a if r["channel"] == "grid")
    assert all(r["summary"] and r["summary"].endswith(("。", "？")) for r in a)
    assert len({r["appeal_id"] for r in a}) == len(a)


# ------------------------------------------------------------------ hotspots
def test_planted_hotspots_are_visible(territory, seeded, rows):
    _, report, _ = seeded
    a, _ = rows
    planned = plan_hotspots(territory, SEED, END)
    assert planned == plan_hotspots(territory, SEED, END)
    assert report.hotspots == planned
    assert 3 <= len(planned) <= 5
    assert all(isinstance(h, PlantedHotspot) for h in planned)
    assert len({h.grid_code[:6] for h in planned}) == 2  # both districts
    assert len({h.grid_code for h in planned}) == len(planned)
    window = dt.timedelta(days=14)
    for h in planned:
        assert END - window <= h.start < h.end == END
        assert 25 <= h.extra_appeals <= 60
        times = [r["created_at"] for r in a if r["grid_code"] == h.grid_code and r["category"] == h.category]
        last = sum(t >= END - window for t in times)
        earlier = [sum(END - window * (k + 1) <= t < END - window * k for t in times) for k in range(1, 25)]
        assert last >= h.extra_appeals
        assert last >= 8 * max(np.mean(earlier), 1.0), (h, last, earlier)


def test_plan_hotspots_depends_on_seed_and_end(territory):
    a = plan_hotspots(territory, 1, END)
    assert a == plan_hotspots(territory, 1, END)
    assert a != plan_hotspots(territory, 2, END)
    summer = plan_hotspots(territory, 1, dt.datetime(2025, 7, 20, 12, 0))
    assert all(h.category != "供暖" for h in summer)
