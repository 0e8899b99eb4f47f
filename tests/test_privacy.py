"""Personal data: the masks, the one switch, and that no list, detail or export leaks what it must not."""

from __future__ import annotations

import datetime as dt
import io
import re

import pandas as pd
import pytest
from sqlalchemy import select

from data_access import cases, exports, privacy, schema
from data_access.config import boolean, load_settings
from data_access.privacy import mask_address, mask_name, mask_phone, mask_text
from data_access.scope import Period, Scope
from data_access.store import make_engine
from tests import demo
from tests.conftest import synced_store

MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
DETAIL = re.compile(r"单元|\d+室")


# ---------------------------------------------------------------- names ---

@pytest.mark.parametrize("raw, masked", [
    ("张三", "张*"),
    ("张三丰", "张**"),
    ("欧阳娜娜", "欧阳**"),
    ("欧阳娜", "欧阳*"),
    ("司马光", "司马*"),
    ("诸葛孔明", "诸葛**"),
    ("欧阳", "欧*"),            # just the compound surname: first character kept
    ("张", "张*"),              # a lone character still shows it was masked
    ("阳欧娜", "阳**"),          # not a compound surname
    (" 李四 ", "李*"),
    ("张先生", "张**"),
    ("John Smith", "J*** S****"),
    ("Ann", "A**"),
    ("", ""),
    (None, None),
    (float("nan"), None),
])
def test_mask_name(raw, masked):
    assert mask_name(raw) == masked


# --------------------------------------------------------------- phones ---

@pytest.mark.parametrize("raw, masked", [
    ("13812345678", "138****5678"),
    ("199 8765 4321", "199****4321"),
    ("138-1234-5678", "138****5678"),
    ("+86 13812345678", "+86 138****5678"),
    ("008613812345678", "+86 138****5678"),
    ("0412-1234567", "041*-*****67"),
    ("04121234567", "041******67"),
    ("(0412)5551234", "(041*)*****34"),
    ("024-12345678", "024-******78"),
    ("12345678", "123***78"),
    ("110", "1**"),
    ("12345", "1****"),
    ("无", "***"),
    ("", ""),
    (None, None),
    (13812345678, "138****5678"),
])
def test_mask_phone(raw, masked):
    assert mask_phone(raw) == masked


@pytest.mark.parametrize("raw", ["13812345678", "0412-1234567", "+86 138 1234 5678", "024-12345678"])
def test_a_masked_phone_keeps_no_more_than_five_digits(raw):
    out = mask_phone(raw).removeprefix("+86 ")
    assert len(re.findall(r"\d", out)) <= 7 and "*" in out
    assert not MOBILE.search(out)


# ------------------------------------------------------------ addresses ---

@pytest.mark.parametrize("raw, masked", [
    # the demo's format: <区><街道><社区><路>12号<小区>3栋2单元502室
    ("铁东区胜利街道光明社区建设路12号幸福小区3栋2单元502室", "铁东区胜利街道光明社区建设路12号幸福小区3栋"),
    ("铁西区永乐街道永安社区人民路308号东山家园35栋1单元1704室", "铁西区永乐街道永安社区人民路308号东山家园35栋"),
    ("胜利路12号阳光小区5号楼3单元201室", "胜利路12号阳光小区5号楼"),
    ("胜利路12号阳光小区12幢", "胜利路12号阳光小区12幢"),
    ("胜利路12号国贸大厦A座1508室", "胜利路12号国贸大厦A座"),
    ("胜利路12号阳光小区七栋二单元", "胜利路12号阳光小区七栋"),
    ("胜利路12号3楼301室", "胜利路12号3楼"),
    ("胜利路12号", "胜利路12号"),
    ("胜利路12号阳光小区", "胜利路12号"),          # no building: cut after the road number
    ("胜利路12-3号阳光小区2单元", "胜利路12-3号"),
    ("阳光小区2单元502室", "阳光小区…"),            # neither: the details go, and "…" says so
    ("光明里5-3-201", "光明里…"),
    ("铁东区胜利街道光明社区很长的一段没有门牌的描述", "铁东区胜利街道光明社区很…"),
    ("铁东区胜利街道", "铁东区胜利街道"),
    ("123 Main St, Apt 4", "123 Main St…"),
    ("", ""),
    (None, None),
])
def test_mask_address(raw, masked):
    assert mask_address(raw) == masked


def test_a_masked_address_never_keeps_unit_floor_or_room():
    for raw in ("建设路12号幸福小区3栋2单元502室", "幸福小区2单元502室", "建设路幸福小区502室", "幸福小区3层"):
        out = mask_address(raw)
        assert not DETAIL.search(out) and "层" not in out, (raw, out)


# ------------------------------------------------------------ free text ---

@pytest.mark.parametrize("raw, names, masked", [
    ("张三来电，电话13812345678", ("张三",), "张*来电，电话138****5678"),
    ("联系 138-1234-5678 或 0412-5551234", (), "联系 138****5678 或 041*-*****34"),
    ("身份证210302199001011234", (), "身份证210302********1234"),
    ("工单GD20261120000123已办结", (), "工单GD20261120000123已办结"),  # an appeal id is not a phone number
    ("反映路灯不亮", ("李四",), "反映路灯不亮"),
    ("王五反映", (None, float("nan"), "王五"), "王*反映"),
    (None, (), None),
])
def test_mask_text(raw, names, masked):
    assert mask_text(raw, names) == masked


# ------------------------------------------------------------- the switch ---

@pytest.mark.parametrize("raw, value", [
    ("1", True), ("true", True), ("TRUE", True), ("yes", True), ("on", True), (True, True),
    ("0", False), ("false", False), ("no", False), ("off", False), (False, False),
])
def test_boolean_settings(raw, value):
    assert boolean(raw) is value


def test_personal_data_needs_the_role_and_the_deployment_switch(monkeypatch, tmp_path):
    from data_access.access import Grant

    assert load_settings(env={}, secrets_path=tmp_path / "none.toml").show_personal_data is True
    assert load_settings(env={"APPEALS_SHOW_PERSONAL_DATA": "no"},
                         secrets_path=tmp_path / "none.toml").show_personal_data is False
    with pytest.raises(ValueError, match="APPEALS_SHOW_PERSONAL_DATA"):
        load_settings(env={"APPEALS_SHOW_PERSONAL_DATA": "maybe"}, secrets_path=tmp_path / "none.toml")
    secrets = tmp_path / "secrets.toml"
    secrets.write_text("APPEALS_SHOW_PERSONAL_DATA = false\n")
    assert load_settings(env={}, secrets_path=secrets).show_personal_data is False
    staff, kiosk = Grant("210302", personal_data=True), Grant("210302", personal_data=False, export=False)
    monkeypatch.setenv("APPEALS_SHOW_PERSONAL_DATA", "1")
    assert privacy.may_show_personal_data(staff) is True
    assert privacy.may_show_personal_data(kiosk) is False
    assert privacy.may_show_personal_data(None) is False
    monkeypatch.setenv("APPEALS_SHOW_PERSONAL_DATA", "0")
    assert privacy.may_show_personal_data(staff) is False


# ========================================== no leaks from the demo city ===

END = dt.datetime(2026, 11, 20, 10, 0)
PERIOD = Period.preset("30d", END.date())
SCOPE = Scope("210302", "district")


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    env = demo.build(tmp_path_factory.mktemp("privacy_demo"), appeals=6_000, months=2, end=END)
    engine = make_engine(env["APPEALS_DB_URL"])
    con = synced_store(engine, env["APPEALS_ANALYTICS_PATH"])
    with engine.connect() as conn:
        source = pd.DataFrame(conn.execute(select(
            schema.appeals.c.appeal_id, schema.appeals.c.appellant_name, schema.appeals.c.appellant_phone,
            schema.appeals.c.address)).all(), columns=["appeal_id", "name", "phone", "address"])
    yield con, engine, source.set_index("appeal_id")
    con.close()
    engine.dispose()


def _texts_by_row(df: pd.DataFrame) -> list[str]:
    return [" | ".join("" if pd.isna(v) else str(v) for v in row) for row in df.itertuples(index=False)]


def _assert_masked(rows: pd.DataFrame, source: pd.DataFrame, ids: list[str], address: str) -> None:
    """No mobile number and not the row's own full name anywhere in the row; no unit or room in the address."""
    texts = _texts_by_row(rows)
    assert len(texts) == len(ids) > 0
    for text, place, appeal_id in zip(texts, rows[address], ids):
        assert not MOBILE.search(text), text
        assert not DETAIL.search(place or ""), place
        if isinstance(source.loc[appeal_id, "address"], str):
            assert place != source.loc[appeal_id, "address"]
        name = source.loc[appeal_id, "name"]
        if isinstance(name, str) and name:
            assert name not in text, (name, text)


def _assert_shown(rows: pd.DataFrame, source: pd.DataFrame, ids: list[str]) -> None:
    texts = _texts_by_row(rows)
    with_person = [(t, a) for t, a in zip(texts, ids) if isinstance(source.loc[a, "name"], str)]
    assert with_person
    for text, appeal_id in with_person:
        assert source.loc[appeal_id, "name"] in text and source.loc[appeal_id, "phone"] in text
        assert source.loc[appeal_id, "address"] in text


@pytest.mark.parametrize("figure", ["received", "overdue_open", "satisfaction_rate"])
def test_lists_mask_personal_data_unless_told(city, figure):
    con, _, source = city
    masked = cases.case_list(con, SCOPE, PERIOD, END, figure, limit=500)
    _assert_masked(masked, source, list(masked["appeal_id"]), "address")
    assert masked["appellant_name"].dropna().str.contains(r"\*").all()
    shown = cases.case_list(con, SCOPE, PERIOD, END, figure, limit=500, show_personal=True)
    assert list(shown["appeal_id"]) == list(masked["appeal_id"])
    _assert_shown(shown.drop(columns="summary"), source, list(shown["appeal_id"]))


@pytest.mark.attack("exports")
def test_exports_mask_personal_data_unless_told(city):
    con, _, source = city
    for show in (False, True):
        rows = cases.case_export(con, SCOPE, PERIOD, END, "received", show_personal=show)
        ids = list(rows["appeal_id"])
        csv = pd.read_csv(io.BytesIO(exports.to_csv_bytes(rows)), dtype=str, keep_default_na=False,
                          encoding="utf-8-sig")
        xlsx = pd.read_excel(io.BytesIO(exports.to_xlsx_bytes(rows, "工单")), dtype=str).fillna("")
        for table in (csv, xlsx):
            assert list(table["工单号"]) == ids
            if show:
                _assert_shown(table.drop(columns="诉求内容"), source, ids)
            else:
                _assert_masked(table, source, ids, "地址")


def test_the_detail_and_its_timeline_mask_personal_data_unless_told(city):
    con, engine, source = city
    with_person = source[source["name"].notna()].index[:40]
    for appeal_id in with_person:
        row = cases.case_detail(con, appeal_id)
        text = " ".join(str(v) for v in row.values())
        assert not MOBILE.search(text) and not DETAIL.search(row["address"])
        assert source.loc[appeal_id, "name"] not in text
        assert row["appellant_name"] == mask_name(source.loc[appeal_id, "name"])
        assert row["address"] == mask_address(source.loc[appeal_id, "address"])
        full = cases.case_detail(con, appeal_id, show_personal=True)
        assert full["appellant_name"] == source.loc[appeal_id, "name"]
        assert full["appellant_phone"] == source.loc[appeal_id, "phone"]
        assert full["address"] == source.loc[appeal_id, "address"]
        events = cases.case_events(engine, appeal_id)
        assert len(events) >= 1
        assert not MOBILE.search(" ".join(_texts_by_row(events)))
