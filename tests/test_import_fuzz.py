"""Property: whatever rows arrive, the importer finishes and accounts for every one.

read = inserted + updated + unchanged + quarantined, with no crash, for rows with
missing fields, junk values, odd dates, wrong types, huge and unicode strings.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data_access.importers.appeals import import_table
from data_access.importers.mapping import parse_mapping
from data_access.importers.readers import MALFORMED, TOO_LONG, RawTable
from data_access.store import create_schema, make_engine

pytestmark = pytest.mark.attack("imports")

COLUMNS = ["id", "created", "deadline", "closed", "status", "type", "source", "x", "y", "addr", "sat"]
MAPPING = parse_mapping({
    "source": {"format": "csv", "crs": "gcj02", "timezone": "Asia/Shanghai"},
    "columns": {"appeal_id": "id", "created_at": "created", "deadline_at": "deadline", "closed_at": "closed",
                "status": "status", "category": "type", "channel": "source", "lon": "x", "lat": "y",
                "address": "addr", "satisfaction": "sat"},
    "values": {"status": {"办理中": "open", "已办结": "closed", "已撤销": "cancelled"},
               "channel": {"热线": "hotline"}, "satisfaction": {"满意": "satisfied"}},
})

dates = st.one_of(
    st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 1, 1)).map(str),
    st.datetimes().map(str),  # years 1 to 9999: beyond what pandas holds in nanoseconds
    st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2030, 1, 1)).map(
        lambda d: d.strftime("%m/%d/%Y %I:%M:%S %p")),
    st.sampled_from(["", "yesterday", "2026-02-30 10:00", "0000-00-00", "1700000000", "2026年3月1日 9:30",
                     "2026-03-01T09:00:00Z", "2026-03-01T09:00:00+08:00", "NaN", "None", "9999-12-31",
                     "0001-01-01 00:00", "12/31/9999 11:59:59 PM", "99991231", "11/22/2026", "22/11/2026"]),
    st.text(max_size=30),
)
junk = st.one_of(st.text(max_size=80), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
                 st.none(), st.booleans())
numbers = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(str), st.sampled_from(["", "0", "abc", "1e400"]),
                    st.floats(min_value=120, max_value=125).map(str), st.floats(min_value=39, max_value=43).map(str))
record = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(st.text(max_size=70), st.integers().map(str), st.sampled_from(["A1", "A2", "A3", ""])),
        "created": dates, "deadline": dates, "closed": dates,
        "status": st.one_of(st.sampled_from(["办理中", "已办结", "已撤销", "open", "CLOSED", "转办", ""]), junk),
        "type": junk, "source": st.one_of(st.sampled_from(["热线", "hotline", "app", "??"]), junk),
        "x": numbers, "y": numbers, "addr": junk, "sat": st.one_of(st.sampled_from(["满意", "", "x"]), junk),
        MALFORMED: st.sampled_from(["", "3 fields where the header has 11"]),
        TOO_LONG: st.sampled_from(["", "field 'addr' holds 140,000 characters (more than 131,072); not a value"]),
    },
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(record, max_size=25))
def test_every_row_is_accounted_for(records):
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'a.db'}")
        create_schema(engine)
        table = RawTable(COLUMNS, records, list(range(2, len(records) + 2)))
        for _ in range(2):  # and again: the second import changes nothing
            report = import_table(engine, table, MAPPING, source="fuzz.csv", timezone="Asia/Shanghai",
                                  out_dir=Path(folder) / "out")
            assert report.read == len(records)
            assert report.read == report.inserted + report.updated + report.unchanged + report.quarantined
            assert sum(report.quarantine_reasons.values()) == report.quarantined
        assert report.inserted == 0 and report.updated == 0
        engine.dispose()
