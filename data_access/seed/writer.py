"""``seed_demo``: generate the demo database and write it, chunk by chunk.

Writes regions, departments, the default time-limit rules
(``deadlines.write_default_rules``), then one calendar month at a time: the
month's appeals (with their pauses and extensions, ``pauses``), then their
supervisions and events. Every write goes through
``store.bulk_insert``; ``updated_at`` is the wall-clock time at which each
batch is written.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import Engine

from .. import cityzone, clock, deadlines
from ..config import load_settings
from ..schema import (appeal_events, appeals as appeals_table, departments, grid_workers, regions, supervisions,
                      time_limit_rules)
from ..store import bulk_insert, create_schema, row_count
from . import catalogue as cat
from . import texts
from .appeals import generate_chunk
from .events import SATISFACTION_CODES, build_events
from .hotspots import PlantedHotspot
from .outcomes import add_outcomes
from .people import COMPANY_KINDS, COMPANY_WORDS, SHOP_NAMES, draw_people, name_strings, phone_strings
from .places import REGION_COLUMNS, Places, substream
from .pauses import plant as plant_pauses
from .plan import make_plan
from .supervision import finish_ids, write_supervisions

Progress = Callable[[str, int, int], None]

APPEAL_COLUMNS = (
    "appeal_id", "channel", "category", "subcategory", "urgency", "summary", "appellant_name",
    "appellant_phone", "address", "lon", "lat", "grid_code", "department_code", "handling_level",
    "created_at", "dispatched_at", "first_feedback_at", "deadline_at", "feedback_deadline_at", "closed_at",
    "rated_at", "updated_at", "status", "satisfaction", "is_repeat", "is_supervised",
    "deadline_source", "warn_at", "paused_since",
)
DEADLINE_SOURCES = (None, "rule", "manual")  # seed.pauses codes
EVENT_COLUMNS = ("appeal_id", "event_type", "event_at", "actor", "note")
DEPARTMENT_COLUMNS = ("code", "name", "level", "region_code", "updated_at")
APPEAL_BATCH = 25_000
EVENT_BATCH = 100_000
URGENCY_CODES = ("urgent", "normal", "consult")
STATUS_CODES = ("open", "closed", "cancelled")


@dataclass
class SeedReport:
    regions: int
    departments: int
    appeals: int
    events: int
    seconds: float
    hotspots: list[PlantedHotspot] = field(default_factory=list)
    supervisions: int = 0


def seed_demo(engine: Engine, *, territory, appeals: int = 500_000, months: int = 24, seed: int = 7,
              end: dt.datetime | None = None, progress: Progress | None = None,
              timezone: str | None = None) -> SeedReport:
    """Fill an empty appeal database with deterministic demo data.

    ``territory`` is a GeoDataFrame as built by ``geo.territory.build_territory``.
    The same (territory, appeals, months, seed, end) always gives the same rows
    (``updated_at`` aside). The city's time zone is recorded with the data
    (``cityzone.record``: ``timezone``, else APPEALS_TZ, else Asia/Shanghai).
    Returns counts, the run time and the emerging hotspots that were planted.
    """
    t0 = time.perf_counter()
    report = progress or (lambda stage, done, total: None)
    create_schema(engine)
    filled = [t.name for t in (appeals_table, appeal_events, regions, departments, grid_workers, supervisions,
                               time_limit_rules)
              if row_count(engine, t)]
    if filled:
        raise ValueError(f"seed_demo needs an empty database, but {', '.join(filled)} already has rows; "
                         "seed into a new database or empty these tables first")
    zone = cityzone.record(engine, timezone).zone

    def local_now() -> dt.datetime:
        return clock.local_now(zone)

    end = local_now().replace(second=0, microsecond=0) if end is None else clock.to_local_naive(end, zone)

    places = Places(territory, seed)
    tables = cat.tables()
    plan = make_plan(places, tables, appeals=appeals, months=months, seed=seed, end=end)

    region_rows = places.region_rows(local_now())
    report("regions", 0, len(region_rows))
    n_regions = bulk_insert(engine, regions, REGION_COLUMNS, region_rows, batch_size=5_000)
    report("regions", n_regions, len(region_rows))
    now = local_now()
    dept_rows = [r + (now,) for r in places.department_rows()]
    n_depts = bulk_insert(engine, departments, DEPARTMENT_COLUMNS, dept_rows)
    report("departments", n_depts, len(dept_rows))
    worker_rng = substream(seed, "grid-workers")
    phones = phone_strings(draw_people(worker_rng, places.n_grids))
    bulk_insert(engine, grid_workers, ("code", "name", "phone", "grid_code", "updated_at"),
                ((f"W{code}", name, phone, code, now)
                 for code, name, phone in zip(places.grid_codes.tolist(), places.grid_workers, phones)))

    # the time limits: the engine's default rules, written as data (python -m data_access rules …)
    deadlines.write_default_rules(engine, now=local_now())
    settings = load_settings()
    thresholds = {"fraction": settings.due_soon_fraction, "workdays": settings.due_soon_workdays}
    deadline_rng = substream(seed, "deadlines")

    rng = substream(seed, "appeals")
    sup_rng = substream(seed, "supervision")
    tail = None
    n_appeals = n_events = n_sups = 0
    report("appeals", 0, appeals)
    for lo, hi in plan.chunks:
        b, tail = generate_chunk(rng, plan, places, tables, lo, hi, tail)
        if not len(b["created"]):
            continue
        add_outcomes(rng, b, tables, plan.end_s)
        plant_pauses(deadline_rng, b, plan.end_s, **thresholds)
        ids, rows = appeal_rows(rng, b, places, tables)
        for i in range(0, len(rows), APPEAL_BATCH):
            stamp = local_now()
            n_appeals += bulk_insert(engine, appeals_table, APPEAL_COLUMNS,
                                     (r[:21] + (stamp,) + r[21:] for r in rows[i:i + APPEAL_BATCH]),
                                     batch_size=APPEAL_BATCH)
            report("appeals", n_appeals, appeals)
        del rows
        ev = build_events(rng, b, places, tables, sup_rng=sup_rng, end_s=plan.end_s, first_supervision_id=n_sups + 1)
        n_sups += write_supervisions(engine, ids, ev["supervisions"], n_sups + 1, local_now())
        ev_ids = [ids[i] for i in ev["row"].tolist()]
        ev_at = ev["at"].astype("datetime64[s]").tolist()
        ev_rows = list(zip(ev_ids, ev["type"], ev_at, ev["actor"], ev["note"]))
        for i in range(0, len(ev_rows), EVENT_BATCH):
            n_events += bulk_insert(engine, appeal_events, EVENT_COLUMNS, ev_rows[i:i + EVENT_BATCH],
                                    batch_size=EVENT_BATCH)
            estimate = max(n_events, round(n_events / max(n_appeals, 1) * appeals))
            report("events", n_events, estimate)
    report("events", n_events, n_events)
    finish_ids(engine)
    return SeedReport(n_regions, n_depts, n_appeals, n_events, time.perf_counter() - t0,
                      [s.spot for s in plan.surges], supervisions=n_sups)


def _times(a: np.ndarray) -> list:
    """Seconds (-1 = NULL) to a list of datetimes and None."""
    return np.where(a >= 0, a, np.iinfo(np.int64).min).astype("datetime64[s]").tolist()


def appeal_rows(rng: np.random.Generator, b: dict, places: Places, tables: cat.Tables) -> tuple[list, list]:
    """The appeal ids and rows (APPEAL_COLUMNS without updated_at) of a chunk."""
    n = len(b["created"])
    created = b["created"]
    day = created // 86400
    first = np.searchsorted(day, day, side="left")
    seq = (np.arange(n) - first + 1).tolist()
    day_text = {d: (dt.date(1970, 1, 1) + dt.timedelta(days=int(d))).strftime("%Y%m%d")
                for d in np.unique(day).tolist()}
    ids = [f"GD{day_text[d]}{s:06d}" for d, s in zip(day.tolist(), seq)]

    grid = b["grid"]
    anc = places.grid_ancestor
    comm, street = anc["community"][grid].tolist(), anc["street"][grid].tolist()
    district, city = anc["district"][grid].tolist(), anc["city"][grid].tolist()
    names = places.level_names
    estates, roads = places.community_estates, places.street_roads
    estate = [estates[c][e] for c, e in zip(comm, b["estate"].tolist())]
    road = [roads[s][r] for s, r in zip(street, b["road"].tolist())]
    num, bld, unit = b["num"].tolist(), b["bld"].tolist(), b["unit"].tolist()
    floor, door = b["floor"].tolist(), b["door"].tolist()
    address = [f"{names['district'][d]}{names['street'][s]}{names['community'][c]}{ro}{nu}号{es}{bl}栋"
               f"{un}单元{fl}{do:02d}室"
               for d, s, c, ro, nu, es, bl, un, fl, do in zip(district, street, comm, road, num, estate, bld,
                                                             unit, floor, door)]
    summary = _summaries(rng, b, places, tables, estate, road, street, city)

    has_person = b["has_person"]
    person_name = name_strings(b)
    phone = phone_strings(b)
    person = has_person.tolist()
    has_loc = b["has_location"].tolist()
    lon = [x if h else None for x, h in zip(b["lon"].tolist(), has_loc)]
    lat = [y if h else None for y, h in zip(b["lat"].tolist(), has_loc)]
    channel = [cat.CHANNEL_CODES[c] for c in b["channel"].tolist()]
    category = [cat.CATEGORY_NAMES[c] for c in b["category"].tolist()]
    subcategory = [tables.sub_names[s] for s in b["sub"].tolist()]
    urgency = [URGENCY_CODES[u] for u in b["urgency"].tolist()]
    grid_code = places.grid_codes[grid].tolist()
    dept = b["dept"]
    dept_code = np.where(dept >= 0, places.dept_codes[np.maximum(dept, 0)], None).tolist()
    level = [cat.HANDLING_LEVELS[lv] if lv >= 0 else None for lv in b["level"].tolist()]
    status = [STATUS_CODES[s] for s in b["status"].tolist()]
    satisfaction = [SATISFACTION_CODES[s] if s >= 0 else None for s in b["satisfaction"].tolist()]
    rows = list(zip(
        ids, channel, category, subcategory, urgency, summary,
        [nm if p else None for nm, p in zip(person_name, person)],
        [ph if p else None for ph, p in zip(phone, person)],
        address, lon, lat, grid_code, dept_code, level,
        _times(created), _times(b["dispatched"]), _times(b["feedback"]), _times(b["deadline_at"]),
        _times(b["fb_deadline_at"]), _times(b["closed_at"]), _times(b["rated_at"]),
        status, satisfaction, b["is_repeat"].tolist(), b["is_supervised"].tolist(),
        [DEADLINE_SOURCES[c] for c in b["deadline_source"].tolist()], _times(b["warn_at"]),
        _times(b["paused_since"]),
    ))
    return ids, rows


def _summaries(rng, b, places, tables, estate, road, street, city) -> list[str]:
    n = len(b["created"])
    pick = rng.integers(0, 6, n).tolist()
    temp = rng.integers(10, 17, n).tolist()
    days = rng.integers(2, 11, n).tolist()
    hour = rng.integers(3, 21, n).tolist()
    shop = rng.integers(0, len(SHOP_NAMES), n).tolist()
    word = rng.integers(0, len(COMPANY_WORDS), n).tolist()
    kind = rng.integers(0, len(COMPANY_KINDS), n).tolist()
    amount = (rng.lognormal(np.log(6000), 1.0, n).round(-2) + 100).astype(np.int64).tolist()
    school_kind = rng.integers(0, 3, n).tolist()
    rep_pick = rng.integers(0, len(texts.REPEAT_PREFIX), n).tolist()
    city_names = places.level_names["city"]
    street_names = places.level_names["street"]
    schools = ("小学", "中学", "实验小学")
    prefixes = [texts.SUMMARY_PREFIX[c] for c in cat.CHANNEL_CODES]
    channel = b["channel"].tolist()
    grid_channel = cat.CHANNEL_CODES.index("grid")
    sub = b["sub"].tolist()
    repeat = b["is_repeat"].tolist()
    bld = b["bld"].tolist()
    templates = [texts.SUMMARIES[s] for s in tables.sub_names]
    placed = [[("{estate}" in t or "{road}" in t) for t in tpl] for tpl in templates]
    out = []
    for i in range(n):
        tpl = templates[sub[i]]
        st = street_names[street[i]]
        text = tpl[pick[i] % len(tpl)].format(
            estate=estate[i], road=road[i], bld=bld[i], temp=temp[i], days=days[i], hour=hour[i],
            shop=SHOP_NAMES[shop[i]], amount=amount[i],
            company=city_names[city[i]].removesuffix("市") + COMPANY_WORDS[word[i]] + COMPANY_KINDS[kind[i]],
            school=(st[:-2] if st.endswith("街道") else st) + schools[school_kind[i]],
        )
        if repeat[i]:
            text = texts.REPEAT_PREFIX[rep_pick[i]] + text
        if channel[i] == grid_channel and not placed[sub[i]][pick[i] % len(tpl)]:
            out.append(texts.GRID_VISIT_PREFIX + text)  # a resident's own matter, heard on a visit
        else:
            out.append(prefixes[channel[i]] + text)
    return out
