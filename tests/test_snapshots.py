"""A review meeting's figures (data_access/meeting.py) and their frozen snapshots (data_access/snapshots.py).

The fixture is tiny and every expected figure below is counted by hand from it: 东区 (101) in October
2026, judged at 2026-11-01 00:00, against September 2026 (环比) and October 2025 (同比). The snapshot
tests run on SQLite, and on PostgreSQL and MariaDB when they answer (``any_sor``, as the other
system-of-record tests): a snapshot's figures stay as frozen after new appeals and late changes to old
ones are synced, while the live figures move.
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
from sqlalchemy import insert, select, update

from data_access import analytics, audit_queries, compare, meeting, schema, snapshots, sync
from data_access.clock import local_now
from data_access.meeting import MeetingFigures, Section
from data_access.scope import Period, Scope
from tests.conftest import CITY_TZ, insert_appeals, insert_regions, ts

EAST, WEST = "101001001001", "102001001001"  # the grids of 东区 (101) and 西区 (102)
DISTRICT = Scope("101", "district")
OCTOBER = Period.calendar("2026-10")
T = ts("2026-11-01 00:00")


def appeals() -> list[dict]:
    """东区's October 2026: e1 closed on time, e2 closed late, e3 open past its deadline, e4 cancelled;
    its September 2026: two closed; its October 2025: three, one closed. 西区 has two in October 2026 and
    the data's first appeal (2025-09-15)."""
    return [
        dict(appeal_id="e1", created_at=ts("2026-10-01 09:00"), category="供暖", deadline_at=ts("2026-10-05 09:00"),
             status="closed", closed_at=ts("2026-10-03 12:00")),
        dict(appeal_id="e2", created_at=ts("2026-10-02 09:00"), category="供暖", deadline_at=ts("2026-10-04 09:00"),
             status="closed", closed_at=ts("2026-10-06 12:00"), channel="app"),
        dict(appeal_id="e3", created_at=ts("2026-10-03 09:00"), category="城市管理",
             deadline_at=ts("2026-10-20 09:00")),
        dict(appeal_id="e4", created_at=ts("2026-10-03 10:00"), category="城市管理", status="cancelled",
             closed_at=ts("2026-10-03 12:00")),
        dict(appeal_id="s1", created_at=ts("2026-09-03 09:00"), status="closed", closed_at=ts("2026-09-20 09:00")),
        dict(appeal_id="s2", created_at=ts("2026-09-04 09:00"), status="closed", closed_at=ts("2026-09-21 09:00")),
        dict(appeal_id="y1", created_at=ts("2025-10-05 09:00"), status="closed", closed_at=ts("2025-10-10 09:00")),
        dict(appeal_id="y2", created_at=ts("2025-10-06 09:00")),
        dict(appeal_id="y3", created_at=ts("2025-10-07 09:00")),
        dict(appeal_id="w1", created_at=ts("2026-10-10 09:00"), grid_code=WEST),
        dict(appeal_id="w2", created_at=ts("2026-10-11 09:00"), grid_code=WEST, status="closed",
             closed_at=ts("2026-10-12 09:00")),
        dict(appeal_id="first", created_at=ts("2025-09-15 09:00"), grid_code=WEST, status="closed",
             closed_at=ts("2025-09-16 09:00")),
    ]


def fill(engine) -> None:
    insert_regions(engine)
    insert_appeals(engine, appeals())


@pytest.fixture
def store(tiny_sor, tmp_path):
    insert_appeals(tiny_sor, appeals())
    con = analytics.open_store(str(tmp_path / "analytics.duckdb"))
    sync.sync(tiny_sor, con)
    yield tiny_sor, con
    con.close()


# ----------------------------------------------------------- the figures ---

def test_the_headline_with_its_previous_period_and_last_year(store):
    _, con = store
    f = meeting.figures(con, DISTRICT, OCTOBER, T)
    assert (f.scope_code, f.scope_name, f.period_text, f.period_label, f.as_of) == ("101", "东区", "2026-10",
                                                                                 "2026年10月", T)
    head = {r["indicator"]: r for r in f.section(meeting.HEADLINE).records()}
    # October 2026: e1..e4, e4 cancelled; e1 and e2 closed; e3 open past its deadline at T
    assert {k: head[k]["value"] for k in ("received", "cancelled", "valid", "closed", "overdue_open")} == \
        {"received": 4, "cancelled": 1, "valid": 3, "closed": 2, "overdue_open": 1}
    assert head["completion_rate"]["value"] == pytest.approx(2 / 3)
    assert head["on_time_rate"]["value"] == pytest.approx(1 / 3)  # e1 on time; e2 late; e3 overdue
    assert head["per_10k"]["value"] == pytest.approx(3 * 10000 / 6000)
    # 环比: September 2026 judged on 1 October: s1, s2, both closed
    assert (head["received"]["previous"], head["closed"]["previous"]) == (2, 2)
    assert head["completion_rate"]["previous"] == pytest.approx(1.0)
    # 同比: October 2025 judged on 1 November 2025: y1..y3, y1 closed
    assert (head["received"]["last_year"], head["closed"]["last_year"]) == (3, 1)
    assert head["completion_rate"]["last_year"] == pytest.approx(1 / 3)
    notes = f.section(meeting.HEADLINE).notes
    assert (notes["previous_label"], notes["previous_as_of"], notes["previous_reason"]) == \
        ("2026年9月", "2026-10-01T00:00:00", None)
    assert (notes["last_year_label"], notes["last_year_as_of"]) == ("2025年10月", "2025-11-01T00:00:00")


def test_the_last_year_is_compare_comparisons(store):
    _, con = store
    f = meeting.figures(con, DISTRICT, OCTOBER, T)
    table = compare.comparison(con, DISTRICT, OCTOBER, T)
    def same(mine, theirs) -> bool:  # a missing figure is None here, None or NaN in a DataFrame
        return (mine is None and pd.isna(theirs)) or mine == pytest.approx(theirs)

    for key in compare.COMPARED:
        row = f.headline(key)
        assert same(row["value"], table.loc[key, "value"]), key
        assert same(row["last_year"], table.loc[key, "last_year"]), key
    assert f.headline("on_time_rate")["last_year"] is None  # no appeal of October 2025 had a deadline


def test_a_comparison_before_the_data_begin_is_missing_and_says_why(store):
    _, con = store
    # October 2025's previous month, September 2025, begins before the first appeal (15 September 2025);
    # October 2024 has no data at all
    f = meeting.figures(con, DISTRICT, Period.calendar("2025-10"), ts("2025-11-01 00:00"))
    head = f.section(meeting.HEADLINE)
    assert head.lookup("indicator", "received", "value") == 3
    assert set(head.column("previous")) == {None} and set(head.column("last_year")) == {None}
    assert "早于数据起始时间" in head.notes["previous_reason"] and "早于数据起始时间" in head.notes["last_year_reason"]


def test_the_units_trend_categories_channels_and_overdue(store):
    _, con = store
    f = meeting.figures(con, DISTRICT, OCTOBER, T)
    kids = f.section(meeting.CHILDREN)
    assert kids.notes["level"] == "street" and kids.column("code") == ["101001"]
    assert kids.lookup("code", "101001", "received") == 4 and kids.lookup("code", "101001", "closed") == 2
    trend = {r["day"]: (r["received"], r["closed"]) for r in f.section(meeting.TREND).records()}
    assert len(trend) == 31
    assert {d: v for d, v in trend.items() if v != (0, 0)} == {
        dt.date(2026, 10, 1): (1, 0), dt.date(2026, 10, 2): (1, 0), dt.date(2026, 10, 3): (2, 1),
        dt.date(2026, 10, 6): (0, 1)}
    assert dict(zip(*(f.section(meeting.CATEGORIES).column(c) for c in ("category", "received")))) == \
        {"供暖": 2, "城市管理": 2}
    assert dict(zip(*(f.section(meeting.CHANNELS).column(c) for c in ("channel", "received")))) == \
        {"hotline": 3, "app": 1}
    overdue = f.section(meeting.OVERDUE)
    assert overdue.notes["stock_overdue"] == 1 and overdue.column("appeal_id") == ["e3"]
    assert overdue.rows[0][overdue.columns.index("deadline_at")] == ts("2026-10-20 09:00")
    # the city's units are its districts; 西区's October: w1 open, w2 closed
    city = meeting.figures(con, Scope("100", "city"), OCTOBER, T)
    assert city.section(meeting.CHILDREN).notes["level"] == "district"
    assert city.section(meeting.CHILDREN).lookup("code", "102", "received") == 2
    assert meeting.RANKINGS in city.sections  # the 红黑榜: data_access/meeting_sections.py (tests/test_meeting_sections.py)


# ------------------------------------------------------------- JSON ---

def test_meeting_figures_go_through_json_and_back_exactly(store):
    _, con = store
    f = meeting.figures(con, DISTRICT, OCTOBER, T)
    text = f.to_json()
    back = MeetingFigures.from_json(text)
    assert back == f and back.to_json() == text
    for name, section in f.sections.items():
        pd.testing.assert_frame_equal(back.section(name).frame(), section.frame(), check_exact=True)
    assert json.loads(text)["sections"][meeting.HEADLINE]["kinds"] == ["str", "number", "number", "number"]


def test_awkward_values_survive_json():
    """Floats that decimal text would round, big integers, missing values, times to the microsecond,
    dates, booleans and any text; and a section this version does not build (the 红黑榜's slot)."""
    values = Section(("t", "f", "n", "i", "d", "day", "b"), ("str", "float", "number", "int", "datetime", "date", "bool"),
                     (("“引号” \\ \n <b>", 0.1 + 0.2, 2 ** 53 + 1, -7, ts("2026-10-31 23:59:59.999999"),
                       dt.date(2026, 2, 28), True),
                      (None, float("nan"), 1e-300, None, None, None, False),
                      ("", 1 / 3, 2.0, 0, ts("1900-01-01 00:00"), dt.date(2199, 12, 31), None)),
                     {"a": None, "b": 1.5, "c": "文字", "d": True, "e": 3})
    f = MeetingFigures(scope_code=None, scope_level="all", scope_name="全域", period_start=ts("2026-10-01"),
                       period_end=ts("2026-11-01"), period_text="2026-10", period_label="2026年10月",
                       as_of=ts("2026-11-01 00:00:00.5"), sections={"values": values})
    f = f.with_section(meeting.RANKINGS, Section(("unit", "rank"), ("str", "int"), (("莲花街道", 1),),
                                                 {"rule": "受理不足 10 件的单位不参与排名"}))
    back = MeetingFigures.from_json(f.to_json())
    assert back == f
    assert back.section("values").rows[1][1] is None  # NaN is a missing value, never a number
    assert back.section("values").rows[0][1] == 0.1 + 0.2 and back.section("values").rows[0][2] == 2 ** 53 + 1
    assert isinstance(back.section("values").rows[2][2], float)  # 2.0 stays a float, 0 stays an int
    assert list(back.sections) == ["values", meeting.RANKINGS]


def test_a_newer_format_is_refused_with_a_message():
    data = MeetingFigures(scope_code="101", scope_level="district", scope_name="东区", period_start=ts("2026-10-01"),
                          period_end=ts("2026-11-01"), period_text="2026-10", period_label="2026年10月",
                          as_of=T).to_dict()
    data["version"] = meeting.FORMAT_VERSION + 1
    with pytest.raises(meeting.FiguresError, match="格式版本"):
        MeetingFigures.from_dict(data)


@pytest.mark.parametrize("text, start, end, canonical, label, name", [
    ("2026-10", "2026-10-01", "2026-11-01", "2026-10", "2026年10月", "10月讲评 · 铁东区"),
    ("2026-Q4", "2026-10-01", "2027-01-01", "2026-Q4", "2026年第4季度", "第4季度讲评 · 铁东区"),
    ("2026-W44", "2026-10-26", "2026-11-02", "2026-W44", "2026年第44周（10-26至11-01）", "第44周讲评 · 铁东区"),
    ("2026", "2026-01-01", "2027-01-01", "2026", "2026年", "2026年讲评 · 铁东区"),
    ("2026-10-15", "2026-10-15", "2026-10-16", "2026-10-15", "2026年10月15日", "10月15日讲评 · 铁东区"),
    ("2026-10-05..2026-11-03", "2026-10-05", "2026-11-04", "2026-10-05..2026-11-03", "2026-10-05 至 2026-11-03",
     "10-05至11-03讲评 · 铁东区"),
    ("2026-10-01..2026-10-31", "2026-10-01", "2026-11-01", "2026-10", "2026年10月", "10月讲评 · 铁东区"),
])
def test_periods_as_a_meeting_writes_them(text, start, end, canonical, label, name):
    period, written = meeting.parse_period(text)
    assert (period, written) == (Period(ts(start), ts(end)), canonical)
    assert meeting.period_text(period) == canonical
    assert meeting.period_label(written) == label
    assert meeting.default_name(written, "铁东区") == name


@pytest.mark.parametrize("text", ["2026-13", "10月", "2026-10-31..2026-10-01", "", "2026-10-05..later"])
def test_a_period_that_cannot_be_read_says_which_forms_can(text):
    with pytest.raises(meeting.FiguresError, match="统计周期"):
        meeting.parse_period(text)


def test_an_open_period_cannot_be_frozen(store):
    _, con = store
    with pytest.raises(meeting.FiguresError, match="起止日期"):
        meeting.figures(con, DISTRICT, Period.all_time(), T)


# ----------------------------------------------- frozen in the system of record ---

def _late_changes(engine) -> None:
    """What arrives after the meeting was frozen: a new appeal received in October (a late entry), and
    e3, open and overdue at the freeze, recorded as closed on 25 October (a late update of an old appeal)."""
    insert_appeals(engine, [dict(appeal_id="late", created_at=ts("2026-10-15 09:00"), category="供暖")])
    with engine.begin() as conn:
        conn.execute(update(schema.appeals).where(schema.appeals.c.appeal_id == "e3").values(
            status="closed", closed_at=ts("2026-10-25 09:00"),
            updated_at=local_now(CITY_TZ).replace(microsecond=0) - dt.timedelta(days=400)))  # a writer's slow clock


def test_a_snapshot_does_not_move_after_new_and_late_data(any_sor, tmp_path):
    fill(any_sor)
    con = analytics.open_store(str(tmp_path / "analytics.duckdb"))
    try:
        sync.sync(any_sor, con, timezone=CITY_TZ)
        made = snapshots.freeze(any_sor, con, DISTRICT, OCTOBER, T, name="10月讲评 · 东区", created_by="dongqu")
        frozen_json = made.figures.to_json()
        assert made.figures.headline("received")["value"] == 4

        _late_changes(any_sor)
        sync.sync(any_sor, con, timezone=CITY_TZ, reconcile_seconds=0)  # the reconciliation finds the backdated row
        live = meeting.figures(con, DISTRICT, OCTOBER, T)
        # live, at the very same as-of time: the late appeal counts, and e3 is now closed in time
        assert (live.headline("received")["value"], live.headline("closed")["value"],
                live.headline("overdue_open")["value"]) == (5, 3, 0)
        assert live.section(meeting.OVERDUE).notes["stock_overdue"] == 0

        loaded = snapshots.load(any_sor, made.info.id)
        assert loaded.figures == made.figures and loaded.figures.to_json() == frozen_json
        assert (loaded.figures.headline("received")["value"], loaded.figures.headline("closed")["value"],
                loaded.figures.headline("overdue_open")["value"]) == (4, 2, 1)
        assert loaded.figures.section(meeting.OVERDUE).column("appeal_id") == ["e3"]
        assert loaded.info.name == "10月讲评 · 东区" and loaded.info.created_by == "dongqu"
        assert (loaded.info.period_text, loaded.info.as_of, loaded.info.scope_code) == ("2026-10", T, "101")
    finally:
        con.close()


def _users(engine, *rows) -> None:
    now = ts("2026-11-01 08:00")
    with engine.begin() as conn:
        conn.execute(insert(schema.users), [dict(name=n, role=r, region_code=c, password_hash=None, disabled=False,
                                                  failed_logins=0, created_at=now, updated_at=now)
                                             for n, r, c in rows])


def _audit(engine, action: str) -> list[dict]:
    a = schema.audit_log
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(a).where(a.c.action == action).order_by(a.c.id)).mappings()]


def test_list_within_a_region_and_delete_by_creator_or_admin_only(any_sor, tmp_path):
    fill(any_sor)
    con = analytics.open_store(str(tmp_path / "analytics.duckdb"))
    try:
        sync.sync(any_sor, con, timezone=CITY_TZ)
        made = {code: snapshots.freeze(any_sor, con, Scope(code, level), OCTOBER, T, name=f"讲评 {code}",
                                       created_by="dongqu" if code.startswith("101") else "city")
                for code, level in (("100", "city"), ("101", "district"), ("101001", "street"), ("102", "district"))}
    finally:
        con.close()
    ids = {code: s.info.id for code, s in made.items()}

    def listed(within):
        return {s.scope_code for s in snapshots.list_snapshots(any_sor, within=within)}

    assert listed(None) == {"100", "101", "101001", "102"}
    assert listed("100") == {"100", "101", "101001", "102"}
    assert listed("101") == {"101", "101001"}
    assert listed("101001") == {"101001"}
    assert listed("102") == {"102"}
    assert [s.id for s in snapshots.list_snapshots(any_sor)] == sorted(ids.values(), reverse=True)  # newest first

    # someone else (even a city account) is refused, and nothing changes
    with pytest.raises(snapshots.SnapshotRefused, match="只有创建人（dongqu）或管理员"):
        snapshots.delete(any_sor, ids["101"], account="city", role="city")
    assert listed(None) == {"100", "101", "101001", "102"} and not _audit(any_sor, snapshots.DELETE)
    # the creator may, and so may an administrator
    snapshots.delete(any_sor, ids["101"], account="dongqu", role="district")
    snapshots.delete(any_sor, ids["102"], account="root", role="admin")
    assert listed(None) == {"100", "101001"}
    with pytest.raises(snapshots.SnapshotNotFound, match="不存在"):
        snapshots.load(any_sor, ids["101"])

    freezes, deletes = _audit(any_sor, snapshots.FREEZE), _audit(any_sor, snapshots.DELETE)
    assert [(r["actor"], r["target"], r["region_code"]) for r in freezes] == [
        ("city", str(ids["100"]), "100"), ("dongqu", str(ids["101"]), "101"),
        ("dongqu", str(ids["101001"]), "101001"), ("city", str(ids["102"]), "102")]
    assert json.loads(freezes[1]["detail"]) == {"name": "讲评 101", "period": "2026-10", "period_label": "2026年10月",
                                                "as_of": "2026-11-01T00:00:00", "scope_name": "东区"}
    assert [(r["actor"], r["target"], r["region_code"]) for r in deletes] == [
        ("dongqu", str(ids["101"]), "101"), ("root", str(ids["102"]), "102")]
    assert json.loads(deletes[1]["detail"])["created_by"] == "city"
    # the audit page says it in words
    assert audit_queries.describe(snapshots.FREEZE, freezes[1]["target"], "东区", freezes[1]["detail"]) == \
        f"冻结会议快照 #{ids['101']} “讲评 101” · 东区 · 2026年10月 · 截至 2026-11-01 00:00"
    assert audit_queries.describe(snapshots.DELETE, deletes[1]["target"], "西区", deletes[1]["detail"]) == \
        f"删除会议快照 #{ids['102']} “讲评 102” · 西区 · 2026年10月 · 截至 2026-11-01 00:00 · 创建人 city"


def test_a_freeze_past_the_data_time_or_without_a_name_is_refused(store):
    engine, con = store
    with pytest.raises(snapshots.SnapshotError, match="晚于数据时间"):
        snapshots.freeze(engine, con, DISTRICT, OCTOBER, T, name="x", created_by="a", data_time=T - dt.timedelta(seconds=1))
    with pytest.raises(snapshots.SnapshotError, match="名称"):
        snapshots.freeze(engine, con, DISTRICT, OCTOBER, T, name="  ", created_by="a")
    assert not snapshots.list_snapshots(engine) and not _audit(engine, snapshots.FREEZE)


def test_a_database_older_than_the_table_gets_it_on_first_use(tmp_path):
    from data_access.store import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    schema.metadata.create_all(engine, tables=[t for t in schema.metadata.sorted_tables if t.name != "snapshots"])
    fill(engine)
    con = analytics.open_store(str(tmp_path / "analytics.duckdb"))
    try:
        sync.sync(engine, con, timezone=CITY_TZ)  # the sync neither needs nor copies it
        assert "snapshots" not in {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables")
                                   .fetchall()}
        snapshots._READY.clear()
        assert snapshots.list_snapshots(engine) == []
        made = snapshots.freeze(engine, con, DISTRICT, OCTOBER, T, name="讲评", created_by="a")
        assert snapshots.load(engine, made.info.id).figures == made.figures
    finally:
        con.close()
        engine.dispose()


# ---------------------------------------------------------- command line ---

def _cli(capsys, *argv) -> tuple[int, str, str]:
    from data_access import cli

    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_command_line_freezes_lists_shows_and_deletes(store, tmp_path, capsys, monkeypatch):
    engine, con = store
    con.close()  # the command line opens the analytics store itself
    monkeypatch.delenv("APPEALS_TZ", raising=False)
    url = engine.url.render_as_string(hide_password=False)
    path = tmp_path / "analytics.duckdb"
    _users(engine, ("dongqu", "district", "101"), ("xiqu", "district", "102"), ("root", "admin", None))

    code, out, err = _cli(capsys, "snapshot", "freeze", "--scope", "101", "--period", "2026-10", "--as-of",
                          "2026-11-01T00:00", "--by", "dongqu", "--db", url, "--analytics", path, "--json")
    assert code == 0, err
    made = json.loads(out)
    assert {k: made[k] for k in ("name", "scope_code", "period_text", "period_label", "as_of", "created_by")} == {
        "name": "10月讲评 · 东区", "scope_code": "101", "period_text": "2026-10", "period_label": "2026年10月",
        "as_of": "2026-11-01T00:00:00", "created_by": "dongqu"}
    # what it stored is the figures of the same scope, period and as-of, computed here
    code, out, _ = _cli(capsys, "snapshot", "show", made["id"], "--json", "--db", url)
    con = analytics.open_store(str(path))
    try:
        assert MeetingFigures.from_json(out) == meeting.figures(con, DISTRICT, OCTOBER, T)
    finally:
        con.close()
    assert MeetingFigures.from_json(out).headline("received")["value"] == 4

    code, out, _ = _cli(capsys, "snapshot", "list", "--json", "--db", url)
    assert code == 0 and [(s["id"], s["name"]) for s in json.loads(out)] == [(made["id"], "10月讲评 · 东区")]
    code, out, _ = _cli(capsys, "snapshot", "list", "--scope", "102", "--json", "--db", url)
    assert json.loads(out) == []
    code, out, _ = _cli(capsys, "snapshot", "list", "--db", url)
    assert "10月讲评 · 东区" in out and "2026年10月" in out

    # 西区's account may not see 东区, nor delete its snapshot; an unknown period or account is refused
    code, _, err = _cli(capsys, "snapshot", "freeze", "--scope", "101", "--period", "2026-10", "--by", "xiqu",
                        "--db", url, "--analytics", path)
    assert code == 2 and "may not see region" in err
    code, _, err = _cli(capsys, "snapshot", "freeze", "--scope", "101", "--period", "2026-13", "--db", url,
                        "--analytics", path)
    assert code == 2 and "无法识别的统计周期" in err
    code, _, err = _cli(capsys, "snapshot", "freeze", "--scope", "101", "--period", "2026-10", "--as-of",
                        "2199-01-01T00:00", "--db", url, "--analytics", path)
    assert code == 2 and "future" in err
    code, _, err = _cli(capsys, "snapshot", "delete", made["id"], "--by", "xiqu", "--db", url)
    assert code == 2 and "无权删除" in err
    code, _, err = _cli(capsys, "snapshot", "delete", made["id"], "--by", "nobody", "--db", url)
    assert code == 2 and "no enabled account" in err
    assert len(json.loads(_cli(capsys, "snapshot", "list", "--json", "--db", url)[1])) == 1
    code, out, _ = _cli(capsys, "snapshot", "delete", made["id"], "--by", "dongqu", "--db", url)
    assert code == 0 and "deleted" in out
    assert json.loads(_cli(capsys, "snapshot", "list", "--json", "--db", url)[1]) == []
    assert [r["actor"] for r in _audit(engine, snapshots.FREEZE)] == ["dongqu"]
    assert [r["actor"] for r in _audit(engine, snapshots.DELETE)] == ["dongqu"]


def test_the_command_line_copies_into_a_temporary_store_while_the_dashboard_holds_it(store, tmp_path, capsys):
    """Only one process may open the DuckDB file: while another holds it, freeze makes its own copy."""
    import subprocess
    import sys
    import textwrap

    engine, con = store
    con.close()
    path = tmp_path / "held.duckdb"
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import duckdb, sys, time
        con = duckdb.connect({str(path)!r})
        print("held", flush=True)
        sys.stdin.readline()
    """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        url = engine.url.render_as_string(hide_password=False)
        code, out, err = _cli(capsys, "snapshot", "freeze", "--scope", "101", "--period", "2026-10", "--as-of",
                              "2026-11-01T00:00", "--db", url, "--analytics", path, "--json")
        assert code == 0, err
        assert "temporary store" in err
        found = snapshots.load(engine, json.loads(out)["id"])
        assert found.figures.headline("received")["value"] == 4 and found.info.created_by == "cli"
    finally:
        holder.communicate("\n", timeout=30)
