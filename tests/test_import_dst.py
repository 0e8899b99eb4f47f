"""Daylight saving in imports: ambiguous and non-existent local times are read, flagged, never quarantined.

New York's clocks went forward at 02:00 on 2015-03-08 (EST −5 → EDT −4: 02:00–02:59
never happened) and back at 02:00 on 2015-11-01 (EDT → EST: 01:00–01:59 happened
twice). Shanghai is +8 all year. The expected values below are worked out by hand:

* 2015-11-01 01:16, ambiguous, the earlier instant: EDT, 05:16 UTC, 13:16 Shanghai;
* 2015-03-08 02:30, in the gap, moved forward by the gap (one hour): 03:30 EDT,
  07:30 UTC, 15:30 Shanghai.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from data_access import schema
from data_access.importers.appeals import import_appeals, import_table
from data_access.importers.mapping import load_mapping, parse_mapping
from data_access.importers.normalize import WARNING_KINDS
from data_access.importers.readers import RawTable
from data_access.importers.times import parse_times

NY, SH = "America/New_York", "Asia/Shanghai"


def at(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


# ------------------------------------------------------ parse_times level ---

# source value, city zone, stored value, ambiguous?, non-existent?
CASES = [
    ("2015-11-01 01:16", SH, "2015-11-01 13:16", True, False),
    ("2015-11-01 01:16", NY, "2015-11-01 01:16", True, False),
    ("2015-03-08 02:30", SH, "2015-03-08 15:30", False, True),
    ("2015-03-08 02:30", NY, "2015-03-08 03:30", False, True),
    # the edges of the gap and of the repeated hour
    ("2015-03-08 01:59", SH, "2015-03-08 14:59", False, False),   # EST: 06:59 UTC
    ("2015-03-08 02:00", NY, "2015-03-08 03:00", False, True),    # the gap's first minute
    ("2015-03-08 03:00", SH, "2015-03-08 15:00", False, False),   # EDT: 07:00 UTC
    ("2015-11-01 00:59", SH, "2015-11-01 12:59", False, False),   # EDT: 04:59 UTC
    ("2015-11-01 01:00", SH, "2015-11-01 13:00", True, False),    # the repeated hour's first minute, EDT
    ("2015-11-01 02:00", SH, "2015-11-01 15:00", False, False),   # EST: 07:00 UTC
    ("2015-11-01 02:00", NY, "2015-11-01 02:00", False, False),
]


@pytest.mark.parametrize("value, city, stored, ambiguous, nonexistent", CASES)
def test_parse_times_reads_dst_edges(value, city, stored, ambiguous, nonexistent):
    got = parse_times(pd.Series([value]), fmt=None, source_tz=NY, city_tz=city)
    assert got.values.iloc[0] == at(stored)
    assert (bool(got.ambiguous.iloc[0]), bool(got.nonexistent.iloc[0])) == (ambiguous, nonexistent)


@pytest.mark.parametrize("values, fmt", [
    (["11/01/2015 01:16:00 AM", "03/08/2015 02:30:00 AM"], None),                 # detected US layout
    (["2015年11月1日 1:16", "2015年3月8日 2:30"], None),                            # detected Chinese layout
    (["01.11.2015 01:16", "08.03.2015 02:30"], "%d.%m.%Y %H:%M"),                  # the mapping's pattern
    ([dt.datetime(2015, 11, 1, 1, 16), dt.datetime(2015, 3, 8, 2, 30)], None),    # Excel date-time cells
])
def test_every_way_of_reading_a_time_handles_dst(values, fmt):
    got = parse_times(pd.Series(values, dtype=object), fmt=fmt, source_tz=NY, city_tz=SH)
    assert got.values.tolist() == [at("2015-11-01 13:16"), at("2015-03-08 15:30")]
    assert got.ambiguous.tolist() == [True, False] and got.nonexistent.tolist() == [False, True]


def test_times_with_an_offset_or_epoch_are_never_flagged():
    # 2015-11-01 01:16 EST (-05:00) is the later of the two 01:16s: 06:16 UTC, 14:16 Shanghai
    got = parse_times(pd.Series(["2015-11-01T01:16:00-05:00", "1446354960"]), fmt=None, source_tz=NY, city_tz=SH)
    assert got.values.tolist() == [at("2015-11-01 14:16"), at("2015-11-01 13:16")]  # 1446354960 = 05:16 UTC
    assert not got.ambiguous.any() and not got.nonexistent.any()


def test_a_half_hour_gap_moves_by_half_an_hour():
    # Lord Howe Island: +10:30 → +11 at 02:00 on 2015-10-04, back at 02:00 on 2015-04-05 (01:30–01:59 twice)
    got = parse_times(pd.Series(["2015-10-04 02:15", "2015-04-05 01:45"]), fmt=None,
                      source_tz="Australia/Lord_Howe", city_tz="Australia/Lord_Howe")
    assert got.values.tolist() == [at("2015-10-04 02:45"), at("2015-04-05 01:45")]
    assert got.nonexistent.tolist() == [True, False] and got.ambiguous.tolist() == [False, True]


# ------------------------------------------------------------ end to end ---

MAPPING = """
[source]
timezone = "America/New_York"

[columns]
appeal_id = "id"
created_at = "created"
deadline_at = "deadline"
closed_at = "closed"
category = "type"
"""

CSV = """id,created,deadline,closed,type
R1,2015-11-01 01:16,2015-11-03 01:16,,Pothole
R2,2015-03-08 02:30,2015-03-10 02:30,,Pothole
R3,2015-03-07 10:00,2015-03-08 02:59,2015-11-01 01:59,Graffiti
R4,2015-11-01 00:59,2015-11-01 02:00,,Graffiti
R5,2015-03-08 01:59,2015-03-09 09:00,,Graffiti
R6,2015-03-08 03:00,2015-03-09 09:00,,Graffiti
"""

# created, deadline, closed as stored, by city zone (worked out in the module docstring's way)
EXPECTED = {
    SH: {
        "R1": ("2015-11-01 13:16", "2015-11-03 14:16", None),                # deadline: EST, 06:16 UTC
        "R2": ("2015-03-08 15:30", "2015-03-10 14:30", None),                # deadline: EDT, 06:30 UTC
        "R3": ("2015-03-07 23:00", "2015-03-08 15:59", "2015-11-01 13:59"),  # 15:00 UTC; 03:59 EDT; 01:59 EDT
        "R4": ("2015-11-01 12:59", "2015-11-01 15:00", None),                # 04:59 UTC; 02:00 EST = 07:00 UTC
        "R5": ("2015-03-08 14:59", "2015-03-09 21:00", None),                # 01:59 EST; 09:00 EDT = 13:00 UTC
        "R6": ("2015-03-08 15:00", "2015-03-09 21:00", None),                # 03:00 EDT = 07:00 UTC
    },
    NY: {
        "R1": ("2015-11-01 01:16", "2015-11-03 01:16", None),
        "R2": ("2015-03-08 03:30", "2015-03-10 02:30", None),
        "R3": ("2015-03-07 10:00", "2015-03-08 03:59", "2015-11-01 01:59"),
        "R4": ("2015-11-01 00:59", "2015-11-01 02:00", None),
        "R5": ("2015-03-08 01:59", "2015-03-09 09:00", None),
        "R6": ("2015-03-08 03:00", "2015-03-09 09:00", None),
    },
}


def _stored(engine) -> dict:
    a = schema.appeals
    with engine.connect() as conn:
        rows = conn.execute(select(a.c.appeal_id, a.c.created_at, a.c.deadline_at, a.c.closed_at,
                                   a.c.quality_flags)).all()
    return {r.appeal_id: r for r in rows}


def _text(value) -> str | None:
    return None if value is None else f"{value:%Y-%m-%d %H:%M}"


@pytest.mark.parametrize("city", [SH, NY])
def test_import_keeps_ambiguous_and_skipped_times_as_warnings(tmp_path, sor, city):
    export = tmp_path / "ny.csv"
    export.write_text(CSV, encoding="utf-8")
    (tmp_path / "ny.toml").write_text(MAPPING, encoding="utf-8")
    mapping = load_mapping(tmp_path / "ny.toml")
    report = import_appeals(sor, export, mapping, timezone=city, out_dir=tmp_path / "out",
                            now=dt.datetime(2016, 1, 1))
    assert (report.read, report.inserted, report.quarantined) == (6, 6, 0)
    assert report.balanced
    assert report.warnings == {"no_location": 6, "ambiguous_local_time": 2, "nonexistent_local_time": 2}
    stored = _stored(sor)
    got = {k: (_text(r.created_at), _text(r.deadline_at), _text(r.closed_at)) for k, r in stored.items()}
    assert got == EXPECTED[city]
    flags = {k: set((r.quality_flags or "").split(",")) - {"no_location"} for k, r in stored.items()}
    assert flags == {"R1": {"ambiguous_local_time"}, "R2": {"nonexistent_local_time"},
                     "R3": {"ambiguous_local_time", "nonexistent_local_time"}, "R4": set(), "R5": set(), "R6": set()}

    again = import_appeals(sor, export, mapping, timezone=city, out_dir=tmp_path / "out",
                           now=dt.datetime(2016, 1, 1))
    assert (again.unchanged, again.inserted, again.updated) == (6, 0, 0)


def test_the_new_warning_kinds_have_a_sentence():
    assert "earlier" in WARNING_KINDS["ambiguous_local_time"]
    assert "forward" in WARNING_KINDS["nonexistent_local_time"]


# ----------------------------------------- no valid local time is refused ---

ZONES = ("America/New_York", "Europe/London", "Australia/Lord_Howe", "America/Santiago")


def _transition_days(zone: str) -> list[dt.date]:
    """The days on which the zone's UTC offset changes, 1995–2035 (found with zoneinfo, day by day)."""
    z = ZoneInfo(zone)
    day, end, out = dt.date(1995, 1, 1), dt.date(2035, 12, 31), []
    while day < end:
        nxt = day + dt.timedelta(days=1)
        if dt.datetime.combine(day, dt.time(0), z).utcoffset() != dt.datetime.combine(nxt, dt.time(0), z).utcoffset():
            out.append(day)
        day = nxt
    return out


TRANSITIONS = {zone: _transition_days(zone) for zone in ZONES}


def _oracle(naive: dt.datetime, source: str, city: str) -> tuple[dt.datetime, bool, bool]:
    """PEP 495: fold=0 reads a repeated time as the earlier instant and a skipped one with the offset
    before the gap (so it moves forward by the gap). Offsets that differ between fold 0 and 1 tell which."""
    z = ZoneInfo(source)
    first, second = naive.replace(tzinfo=z, fold=0), naive.replace(tzinfo=z, fold=1)
    # through UTC: astimezone() into the very zone a time already carries changes nothing
    stored = first.astimezone(dt.timezone.utc).astimezone(ZoneInfo(city)).replace(tzinfo=None)
    return stored, first.utcoffset() > second.utcoffset(), first.utcoffset() < second.utcoffset()


@st.composite
def local_times(draw):
    zone = draw(st.sampled_from(ZONES))
    near = draw(st.booleans())
    if near:  # within a day of a change of offset, to the minute
        day = draw(st.sampled_from(TRANSITIONS[zone]))
        naive = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=draw(st.integers(0, 2 * 24 * 60)))
    else:
        naive = draw(st.datetimes(min_value=dt.datetime(1995, 1, 1), max_value=dt.datetime(2035, 12, 31)))
        naive = naive.replace(microsecond=0)
    return zone, naive


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(local_times(), min_size=1, max_size=20), st.sampled_from(["same", SH, "UTC"]))
def test_no_valid_local_time_is_unreadable(items, city_choice):
    for zone, naive in items:
        city = zone if city_choice == "same" else city_choice
        got = parse_times(pd.Series([naive.isoformat(" ")]), fmt=None, source_tz=zone, city_tz=city)
        stored, ambiguous, nonexistent = _oracle(naive, zone, city)
        assert got.values.iloc[0] == pd.Timestamp(stored), (zone, naive, city)
        assert (bool(got.ambiguous.iloc[0]), bool(got.nonexistent.iloc[0])) == (ambiguous, nonexistent)


@pytest.mark.parametrize("city", [SH, NY])
def test_every_minute_of_both_transition_nights_is_imported(tmp_path, sor, city):
    mapping = parse_mapping({"source": {"timezone": NY}, "columns": {"appeal_id": "id", "created_at": "created"}})
    records, expected = [], {}
    for night in (dt.datetime(2015, 3, 8), dt.datetime(2015, 11, 1)):
        for minute in range(0, 4 * 60):
            naive = night + dt.timedelta(minutes=minute)
            key = f"{naive:%m%d%H%M}"
            records.append({"id": key, "created": f"{naive:%Y-%m-%d %H:%M}"})
            expected[key] = _oracle(naive, NY, city)[0]
    table = RawTable(["id", "created"], records, list(range(2, len(records) + 2)))
    report = import_table(sor, table, mapping, source="nights.csv", timezone=city, out_dir=None,
                          now=dt.datetime(2016, 1, 1))
    assert report.quarantined == 0 and report.inserted == len(records) == 480
    assert report.warnings["ambiguous_local_time"] == 60 and report.warnings["nonexistent_local_time"] == 60
    a = schema.appeals
    with sor.connect() as conn:
        got = dict(conn.execute(select(a.c.appeal_id, a.c.created_at)).all())
    assert got == expected
