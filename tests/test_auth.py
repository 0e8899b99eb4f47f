"""Sign-in, sessions, kiosk tokens, the audit trail and their command line (data_access/auth.py)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import os
import stat
import subprocess
import sys

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from data_access import auth, cli, schema
from data_access.config import Settings
from tests.conftest import ROOT, insert_regions

T0 = dt.datetime(2025, 3, 10, 9, 0, 0)
PASSWORD = "correct-horse-9"
SETTINGS = Settings(session_idle_seconds=1800, session_max_seconds=43200, login_max_failures=5,
                    login_lockout_seconds=900, cookie_secret="")


@pytest.fixture(autouse=True)
def cheap_hasher(monkeypatch):
    """argon2id with small parameters: the same code paths, a fraction of the time."""
    monkeypatch.setattr(auth, "PASSWORD_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def db(tiny_sor):
    return tiny_sor


@pytest.fixture
def any_db(any_sor):
    insert_regions(any_sor)
    return any_sor


def add(engine, name="alice", role="street", region="101001", password=PASSWORD, now=T0):
    auth.add_user(engine, name, role=role, region_code=region, password=password, now=now)


def audits(engine, action=None):
    a = schema.audit_log
    stmt = select(a).order_by(a.c.id)
    if action:
        stmt = stmt.where(a.c.action == action)
    with engine.connect() as conn:
        return conn.execute(stmt).all()


def user_row(engine, name):
    with engine.connect() as conn:
        return conn.execute(select(schema.users).where(schema.users.c.name == name)).one()


def session_rows(engine):
    with engine.connect() as conn:
        return conn.execute(select(schema.user_sessions)).all()


def login(engine, name="alice", password=PASSWORD, now=T0, settings=SETTINGS, ip=None):
    return auth.authenticate(engine, name, password, now=now, settings=settings, ip=ip)


# ------------------------------------------------------------- hashing ---

def test_hash_is_argon2id_with_the_default_hasher(monkeypatch):
    monkeypatch.setattr(auth, "PASSWORD_HASHER", PasswordHasher())
    stored = auth.hash_password(PASSWORD)
    assert stored.startswith("$argon2id$")
    assert auth.verify_password(stored, PASSWORD)


def test_verify_right_and_wrong():
    stored = auth.hash_password(PASSWORD)
    assert auth.verify_password(stored, PASSWORD) is True
    assert auth.verify_password(stored, PASSWORD + "x") is False
    assert auth.verify_password(stored, "") is False


def test_two_hashes_of_one_password_differ():
    a, b = auth.hash_password(PASSWORD), auth.hash_password(PASSWORD)
    assert a != b
    assert auth.verify_password(a, PASSWORD) and auth.verify_password(b, PASSWORD)


def test_verify_malformed_hash_is_false_not_an_error():
    assert auth.verify_password("not-a-hash", PASSWORD) is False
    assert auth.verify_password("", PASSWORD) is False


# ------------------------------------------------------------- principal ---

@pytest.mark.parametrize("role, personal, export, supervise, kiosk", [
    ("city", True, True, True, False),
    ("district", True, True, True, False),
    ("street", True, True, True, False),
    ("admin", False, True, False, False),
    ("kiosk", False, False, False, True),
])
def test_principal_rights(role, personal, export, supervise, kiosk):
    p = auth.Principal(name="x", role=role, region_code=None)
    assert (p.may_see_personal_data, p.may_export, p.may_supervise, p.is_kiosk) == (personal, export, supervise, kiosk)


@pytest.mark.parametrize("role, levels", [
    ("city", ("street", "district", "city")), ("district", ("street", "district")), ("street", ("street",)),
    ("admin", ()), ("kiosk", ()),
])
def test_a_role_supervises_at_its_own_level_or_below(role, levels):
    assert auth.Principal(name="x", role=role, region_code=None).supervision_levels == levels


@pytest.mark.parametrize("display_name, unit, label", [
    ("张伟", "铁东区综合指挥中心督办科", "铁东区综合指挥中心督办科 · 张伟"),
    ("张伟", None, "张伟"), (None, "莲花街道督办组", "莲花街道督办组"), (None, None, "tiedong"), ("  ", "", "tiedong"),
])
def test_the_supervisor_label_is_unit_and_name_else_the_login_name(display_name, unit, label):
    p = auth.Principal(name="tiedong", role="district", region_code="101", display_name=display_name, unit=unit)
    assert p.supervisor_label == label


def test_role_labels_cover_every_role_and_the_kiosk():
    assert set(auth.ROLE_LABELS) == set(auth.ROLES) | {"kiosk"}


# ------------------------------------------------------------- add_user ---

def test_add_user_stores_a_hash_not_the_password(any_db):
    add(any_db)
    row = user_row(any_db, "alice")
    assert (row.role, row.region_code, bool(row.disabled), row.failed_logins) == ("street", "101001", False, 0)
    assert row.password_hash != PASSWORD and row.password_hash.startswith("$argon2id$")
    assert row.created_at == T0


def test_an_account_has_a_display_name_and_a_unit(any_db):
    auth.add_user(any_db, "tiedong", role="district", region_code="101", password=PASSWORD, now=T0,
                  display_name=" 张伟 ", unit="东区综合指挥中心督办科")
    row = user_row(any_db, "tiedong")
    assert (row.display_name, row.unit) == ("张伟", "东区综合指挥中心督办科")
    p = login(any_db, "tiedong")
    assert (p.name, p.display_name, p.unit) == ("tiedong", "张伟", "东区综合指挥中心督办科")
    assert p.supervisor_label == "东区综合指挥中心督办科 · 张伟"
    token = start(any_db, "tiedong")
    assert resume(any_db, token, T0).supervisor_label == "东区综合指挥中心督办科 · 张伟"
    assert [(u["display_name"], u["unit"]) for u in auth.list_users(any_db)] == [("张伟", "东区综合指挥中心督办科")]
    # changed later: one field, then cleared; each change audited
    auth.set_profile(any_db, "tiedong", display_name="李强", now=T0)
    assert resume(any_db, token, T0).supervisor_label == "东区综合指挥中心督办科 · 李强"
    auth.set_profile(any_db, "tiedong", display_name=None, unit="", now=T0)
    assert resume(any_db, token, T0).supervisor_label == "tiedong"
    assert [json.loads(a.detail) for a in audits(any_db, "user_profile")] == [
        {"display_name": "李强", "unit": "东区综合指挥中心督办科"}, {"display_name": None, "unit": None}]


def test_a_profile_that_cannot_sign_a_supervision_is_refused(db):
    with pytest.raises(auth.AuthError, match="单位与姓名过长"):  # "unit · name" must fit supervisions.supervisor
        auth.add_user(db, "x", role="street", region_code="101001", password=PASSWORD, unit="督" * 50,
                      display_name="张" * 12)
    assert auth.list_users(db) == []
    add(db)
    with pytest.raises(auth.AuthError, match="控制字符"):
        auth.set_profile(db, "alice", display_name="张\n伟")
    with pytest.raises(auth.AuthError, match="不存在"):
        auth.set_profile(db, "ghost", display_name="张伟")
    assert (user_row(db, "alice").display_name, user_row(db, "alice").unit) == (None, None)
    auth.add_user(db, "y", role="street", region_code="101001", password=PASSWORD, unit="督" * 50,
                  display_name="张" * 11)  # 50 + 3 + 11 = 64: fits


def test_an_older_users_table_signs_in_and_gets_the_profile_from_create_schema(tmp_path, monkeypatch):
    """A database made before accounts had a name and unit: the dashboard still signs people in (it
    never alters tables); any command line (create_schema) adds the two columns."""
    from sqlalchemy import Column, MetaData, Table, inspect, insert

    from data_access.store import create_schema, make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    schema.metadata.create_all(engine, tables=[t for t in schema.metadata.sorted_tables if t.name != "users"])
    old = MetaData()
    Table("users", old, *[Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable)
                          for c in schema.users.c if c.name not in ("display_name", "unit")])
    old.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(old.tables["users"]).values(
            name="alice", role="city", region_code=None, password_hash=auth.hash_password(PASSWORD), disabled=False,
            failed_logins=0, created_at=T0, updated_at=T0))
    monkeypatch.setattr(auth, "PROFILE_RECHECK_SECONDS", 0)
    p = login(engine)
    assert (p.name, p.display_name, p.unit, p.supervisor_label) == ("alice", None, None, "alice")
    assert auth.list_users(engine)[0]["display_name"] is None
    create_schema(engine)
    assert {"display_name", "unit"} <= {c["name"] for c in inspect(engine).get_columns("users")}
    auth.set_profile(engine, "alice", display_name="王强", unit="测试市8890督查室", now=T0)
    assert login(engine).supervisor_label == "测试市8890督查室 · 王强"
    engine.dispose()


@pytest.mark.parametrize("role, region", [
    ("street", "101001"), ("district", "101"), ("city", "100"), ("city", None), ("admin", None),
])
def test_add_user_accepts_matching_regions(any_db, role, region):
    add(any_db, name=f"u-{role}", role=role, region=region)
    assert [u["region_code"] for u in auth.list_users(any_db)] == [region]


@pytest.mark.parametrize("role, region, words", [
    ("mayor", "100", "未知角色"),
    ("street", "101", "必须是街道一级"),  # a district for a street account
    ("district", "101001", "必须是区一级"),  # a street for a district account
    ("district", None, "需要指定所属区域"),
    ("street", None, "需要指定所属区域"),
    ("city", "101", "必须是市或省一级"),  # a district for a city account
    ("street", "999999", "不存在"),
])
def test_add_user_refuses_bad_role_or_region(any_db, role, region, words):
    with pytest.raises(auth.AuthError, match=words):
        add(any_db, role=role, region=region)
    assert auth.list_users(any_db) == []


def test_add_user_refuses_a_short_password(any_db):
    with pytest.raises(auth.AuthError, match="至少需要 10"):
        add(any_db, password="123456789")
    assert auth.list_users(any_db) == []


def test_add_user_refuses_a_duplicate_name_in_any_case(any_db):
    add(any_db)
    with pytest.raises(auth.AuthError, match="已存在"):
        add(any_db, region="102001")
    with pytest.raises(auth.AuthError, match="已存在"):
        add(any_db, name="ALICE", region="102001")
    assert [u["region_code"] for u in auth.list_users(any_db)] == ["101001"]


@pytest.mark.parametrize("name", ["", "   ", "x" * 65, "kiosk:12345678", "a\nb"])
def test_add_user_refuses_bad_names(db, name):
    with pytest.raises(auth.AuthError):
        add(db, name=name)


def test_list_users_never_shows_the_hash(db):
    add(db)
    add(db, name="bob", role="city", region=None)
    users = auth.list_users(db)
    assert [u["name"] for u in users] == ["alice", "bob"]
    assert set(users[0]) == {"name", "role", "region_code", "display_name", "unit", "disabled", "created_at",
                             "locked_until"}
    assert not any("argon2" in str(v) for u in users for v in u.values())


# ---------------------------------------------------------- authenticate ---

def test_authenticate_success_gives_the_principal(any_db):
    add(any_db)
    p = login(any_db)
    assert p == auth.Principal(name="alice", role="street", region_code="101001")


def test_city_without_region_is_the_whole_territory(db):
    add(db, name="mayor", role="city", region=None)
    assert login(db, "mayor").region_code is None


@pytest.mark.attack("cookie")
def test_wrong_password_and_unknown_user_get_the_same_message(any_db):
    add(any_db)
    with pytest.raises(auth.AuthError) as wrong:
        login(any_db, password="wrong-password-1")
    with pytest.raises(auth.AuthError) as unknown:
        login(any_db, name="nobody")
    assert str(wrong.value) == str(unknown.value) == "用户名或密码错误"


@pytest.mark.attack("cookie")
def test_name_must_match_exactly(any_db):
    add(any_db)
    for typed in ("Alice", "alice ", " alice"):
        with pytest.raises(auth.AuthError, match="用户名或密码错误"):
            login(any_db, name=typed)


@pytest.mark.attack("cookie")
def test_unknown_user_still_runs_argon2(db, monkeypatch):
    calls = []
    real = auth.verify_password
    monkeypatch.setattr(auth, "verify_password", lambda h, p: calls.append(h) or real(h, p))
    with pytest.raises(auth.AuthError):
        login(db, name="nobody")
    assert len(calls) == 1 and calls[0].startswith("$argon2id$")


@pytest.mark.attack("cookie")
def test_disabled_account_is_refused_with_the_generic_message(db):
    add(db)
    auth.disable_user(db, "alice", now=T0)
    with pytest.raises(auth.AuthError, match="^用户名或密码错误$"):
        login(db)
    assert json.loads(audits(db, "signin_failed")[-1].detail)["reason"] == "disabled"


@pytest.mark.attack("cookie")
def test_account_without_password_cannot_sign_in_with_one(db):
    add(db, password=None)
    assert user_row(db, "alice").password_hash is None
    with pytest.raises(auth.AuthError, match="用户名或密码错误"):
        login(db, password="")


def _fail(engine, times, *, name="alice", ip="10.0.0.1", now=T0, settings=SETTINGS, message="^用户名或密码错误$"):
    for _ in range(times):
        with pytest.raises(auth.AuthError, match=message):
            login(engine, name=name, password="wrong-password-1", now=now, ip=ip, settings=settings)


@pytest.mark.attack("cookie")
def test_five_failures_throttle_that_client_for_that_name(any_db):
    add(any_db)
    _fail(any_db, 5)  # the fifth failure reads like the others
    with pytest.raises(auth.AuthError, match="^登录失败次数过多，请于 09:15 后再试$"):
        login(any_db, ip="10.0.0.1")  # even the right password, from that client
    assert login(any_db, ip="10.0.0.2").name == "alice"  # the owner, at their own desk: not locked out
    row = user_row(any_db, "alice")
    assert (row.failed_logins, row.locked_until) == (0, None)  # the account itself is never locked


@pytest.mark.attack("cookie")
def test_an_unknown_name_is_throttled_exactly_like_a_known_one(db):
    """Nothing tells whether an account exists: the same messages at every attempt, in the same order."""
    add(db)
    seen = {}
    for name in ("alice", "nobody"):
        messages = []
        for i in range(7):
            with pytest.raises(auth.AuthError) as err:
                login(db, name=name, password="wrong-password-1", ip="10.0.0.9", now=T0 + dt.timedelta(seconds=i))
            messages.append(str(err.value))
        seen[name] = messages
    assert seen["alice"] == seen["nobody"]
    assert seen["alice"][:5] == ["用户名或密码错误"] * 5 and "登录失败次数过多" in seen["alice"][5]


def test_the_throttle_lifts_as_failures_leave_the_window(db):
    add(db)
    for i in range(5):
        _fail(db, 1, now=T0 + dt.timedelta(minutes=i))
    until = T0 + dt.timedelta(seconds=900)  # the first failure leaves the window: four remain
    with pytest.raises(auth.AuthError, match="请于 09:15 后再试"):
        login(db, now=until - dt.timedelta(seconds=1), ip="10.0.0.1")
    assert login(db, now=until + dt.timedelta(seconds=1), ip="10.0.0.1").name == "alice"


def test_the_time_is_rounded_up_to_the_minute(db):
    add(db)
    start = T0 + dt.timedelta(seconds=30)
    _fail(db, 5, now=start)
    with pytest.raises(auth.AuthError, match="请于 09:16 后再试"):
        login(db, now=start, ip="10.0.0.1")


@pytest.mark.attack("cookie")
def test_a_success_clears_that_clients_failures(db):
    add(db)
    _fail(db, 4)
    login(db, ip="10.0.0.1")
    _fail(db, 4)  # four more: still not throttled
    assert login(db, ip="10.0.0.1").name == "alice"


@pytest.mark.attack("cookie")
def test_one_client_trying_many_names_is_throttled_for_all(db):
    add(db)
    spray = dataclasses.replace(SETTINGS, login_max_failures_per_client=8)
    for k in range(8):
        _fail(db, 1, name=f"user{k}", settings=spray)
    with pytest.raises(auth.AuthError, match="登录失败次数过多"):
        login(db, ip="10.0.0.1", settings=spray)  # a name it never tried
    assert login(db, ip="10.0.0.3", settings=spray).name == "alice"


def test_throttle_settings_are_honoured(db):
    add(db)
    strict = dataclasses.replace(SETTINGS, login_max_failures=2, login_lockout_seconds=60)
    _fail(db, 2, settings=strict)
    with pytest.raises(auth.AuthError, match="请于 09:01 后再试"):
        login(db, ip="10.0.0.1", settings=strict)
    assert login(db, ip="10.0.0.1", now=T0 + dt.timedelta(seconds=61), settings=strict).name == "alice"


def test_old_failures_are_deleted(db):
    _fail(db, 3, name="nobody")
    _fail(db, 1, name="nobody", now=T0 + dt.timedelta(seconds=901))
    with db.connect() as conn:
        assert conn.execute(select(schema.signin_failures.c.at)).scalars().all() == [T0 + dt.timedelta(seconds=901)]


def test_a_database_without_the_table_gets_it_on_first_use(tmp_path):
    from data_access.store import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    schema.metadata.create_all(engine, tables=[t for t in schema.metadata.sorted_tables
                                               if t.name != "signin_failures"])
    insert_regions(engine)
    add(engine)
    _fail(engine, 5)
    with pytest.raises(auth.AuthError, match="登录失败次数过多"):
        login(engine, ip="10.0.0.1")
    engine.dispose()


@pytest.mark.attack("cookie")
def test_reset_password_lifts_the_throttle(db):
    add(db)
    _fail(db, 5)
    auth.reset_password(db, "alice", "another-password", now=T0)
    assert login(db, password="another-password", ip="10.0.0.1").name == "alice"
    with pytest.raises(auth.AuthError):
        login(db)  # the old password is gone


# -------------------------------------------------------------- sessions ---

def start(engine, name="alice", now=T0):
    return auth.start_session(engine, login(engine, name, now=now), now=now, settings=SETTINGS)


def resume(engine, token, now):
    return auth.resume_session(engine, token, now=now, settings=SETTINGS)


def test_session_resumes_with_the_principal(any_db):
    add(any_db)
    token = start(any_db)
    p = resume(any_db, token, T0 + dt.timedelta(minutes=5))
    assert (p.name, p.role, p.region_code) == ("alice", "street", "101001")
    assert p.session_id == session_rows(any_db)[0].id


@pytest.mark.attack("cookie")
def test_the_session_table_holds_no_token(db):
    add(db)
    token = start(db)
    (row,) = session_rows(db)
    assert token not in (row.id, row.user_name)
    assert len(row.id) == 64 and row.expires_at == T0 + dt.timedelta(hours=12)


@pytest.mark.attack("cookie")
def test_tokens_are_random(db):
    add(db)
    assert start(db) != start(db)


@pytest.mark.attack("cookie")
@pytest.mark.parametrize("token", ["", "nope", "x" * 5000, None])
def test_unknown_tokens_do_not_resume(db, token):
    assert resume(db, token, T0) is None


@pytest.mark.attack("cookie")
def test_idle_expiry_just_under_and_just_over(any_db):
    add(any_db)
    token = start(any_db)
    assert resume(any_db, token, T0 + dt.timedelta(seconds=1799)) is not None
    # activity moved the idle clock on
    assert resume(any_db, token, T0 + dt.timedelta(seconds=1799 + 1800)) is not None
    assert resume(any_db, token, T0 + dt.timedelta(seconds=1799 + 1800 + 1801)) is None
    (row,) = session_rows(any_db)
    assert row.ended_reason == "idle"
    # ended stays ended, even if asked again soon
    assert resume(any_db, token, T0 + dt.timedelta(seconds=1799 + 1800 + 1802)) is None


@pytest.mark.attack("cookie")
def test_idle_just_over_from_the_start(db):
    add(db)
    token = start(db)
    assert resume(db, token, T0 + dt.timedelta(seconds=1801)) is None
    assert session_rows(db)[0].ended_reason == "idle"


@pytest.mark.attack("cookie")
def test_absolute_expiry_despite_activity(any_db):
    add(any_db)
    token = start(any_db)
    t = T0
    while t < T0 + dt.timedelta(hours=12) - dt.timedelta(minutes=20):
        t += dt.timedelta(minutes=20)
        assert resume(any_db, token, t) is not None
    assert resume(any_db, token, T0 + dt.timedelta(hours=12) - dt.timedelta(seconds=1)) is not None
    assert resume(any_db, token, T0 + dt.timedelta(hours=12)) is None
    assert session_rows(any_db)[0].ended_reason == "expired"


def test_last_seen_is_written_at_most_once_a_minute(db):
    add(db)
    token = start(db)
    resume(db, token, T0 + dt.timedelta(seconds=30))
    assert session_rows(db)[0].last_seen_at == T0
    resume(db, token, T0 + dt.timedelta(seconds=90))
    assert session_rows(db)[0].last_seen_at == T0 + dt.timedelta(seconds=90)


@pytest.mark.attack("cookie")
def test_end_session_signs_out(any_db):
    add(any_db)
    token = start(any_db)
    auth.end_session(any_db, token, now=T0 + dt.timedelta(minutes=1))
    assert resume(any_db, token, T0 + dt.timedelta(minutes=2)) is None
    (row,) = session_rows(any_db)
    assert (row.ended_reason, row.ended_at) == ("signout", T0 + dt.timedelta(minutes=1))


def test_end_session_of_an_unknown_token_is_harmless(db):
    auth.end_session(db, "nope", now=T0)
    assert audits(db, "signout") == []


@pytest.mark.attack("cookie")
def test_disabling_ends_sessions_and_they_stop_resuming(any_db):
    add(any_db)
    token = start(any_db)
    auth.disable_user(any_db, "alice", now=T0 + dt.timedelta(minutes=1))
    assert session_rows(any_db)[0].ended_reason == "disabled"
    assert resume(any_db, token, T0 + dt.timedelta(minutes=2)) is None


@pytest.mark.attack("cookie")
def test_session_of_a_user_disabled_behind_its_back_stops(db):
    from sqlalchemy import update

    add(db)
    token = start(db)
    with db.begin() as conn:  # e.g. by a script on the database
        conn.execute(update(schema.users).values(disabled=True))
    assert resume(db, token, T0 + dt.timedelta(minutes=2)) is None
    assert session_rows(db)[0].ended_reason == "disabled"


@pytest.mark.attack("cookie")
def test_reset_password_ends_sessions(any_db):
    add(any_db)
    token = start(any_db)
    auth.reset_password(any_db, "alice", "another-password", now=T0 + dt.timedelta(minutes=1))
    assert resume(any_db, token, T0 + dt.timedelta(minutes=2)) is None
    assert session_rows(any_db)[0].ended_reason == "password_reset"


@pytest.mark.attack("cookie")
def test_resume_takes_the_current_role_and_region(db):
    from sqlalchemy import update

    add(db)
    token = start(db)
    with db.begin() as conn:
        conn.execute(update(schema.users).values(role="district", region_code="101"))
    p = resume(db, token, T0 + dt.timedelta(minutes=1))
    assert (p.role, p.region_code) == ("district", "101")


@pytest.mark.attack("kiosk")
def test_kiosk_principal_cannot_start_a_session(db):
    with pytest.raises(auth.AuthError):
        auth.start_session(db, auth.Principal(name="kiosk:1", role="kiosk", region_code="101"), now=T0,
                           settings=SETTINGS)


def test_unknown_user_errors_for_account_changes(db):
    with pytest.raises(auth.AuthError, match="不存在"):
        auth.disable_user(db, "ghost", now=T0)
    with pytest.raises(auth.AuthError, match="不存在"):
        auth.reset_password(db, "ghost", "another-password", now=T0)


def test_reset_password_refuses_a_short_one(db):
    add(db)
    with pytest.raises(auth.AuthError, match="至少需要"):
        auth.reset_password(db, "alice", "short", now=T0)
    assert login(db).name == "alice"


# ------------------------------------------------------------ the cookie ---

SECRET = "s3cret-for-tests"


def test_cookie_round_trip():
    signed = auth.sign_cookie("tok_EN-123", SECRET)
    assert signed.startswith("tok_EN-123.")
    assert auth.unsign_cookie(signed, SECRET) == "tok_EN-123"


@pytest.mark.attack("cookie")
def test_cookie_with_a_tampered_token():
    signed = auth.sign_cookie("tok_EN-123", SECRET)
    assert auth.unsign_cookie("tok_EN-124" + signed[len("tok_EN-123"):], SECRET) is None


@pytest.mark.attack("cookie")
def test_cookie_with_a_tampered_signature():
    signed = auth.sign_cookie("tok_EN-123", SECRET)
    flipped = signed[:-1] + ("0" if signed[-1] != "0" else "1")
    assert auth.unsign_cookie(flipped, SECRET) is None
    assert auth.unsign_cookie(signed[:-1], SECRET) is None


@pytest.mark.attack("cookie")
def test_cookie_under_another_secret():
    assert auth.unsign_cookie(auth.sign_cookie("tok", SECRET), "another-secret") is None


@pytest.mark.attack("cookie")
@pytest.mark.parametrize("value", ["", ".", "tok", "tok.", ".abc", "a.b.c", "令牌.签名", "x" * 10_000, None, 42])
def test_cookie_garbage(value):
    assert auth.unsign_cookie(value, SECRET) is None


@pytest.mark.attack("cookie")
def test_cookie_with_an_empty_secret_is_refused():
    with pytest.raises(ValueError):
        auth.sign_cookie("tok", "")
    assert auth.unsign_cookie("tok.abc", "") is None


def test_cookie_secret_from_settings(tmp_path):
    cfg = Settings(analytics_path=tmp_path / "a.duckdb", cookie_secret="configured")
    assert auth.cookie_secret(cfg) == "configured"
    assert not (tmp_path / ".cookie_secret").exists()


@pytest.mark.attack("cookie")
def test_cookie_secret_made_once_private_and_reused(tmp_path):
    cfg = Settings(analytics_path=tmp_path / "store" / "a.duckdb")
    first = auth.cookie_secret(cfg)
    path = tmp_path / "store" / ".cookie_secret"
    assert len(first) >= 32 and path.read_text().strip() == first
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert auth.cookie_secret(cfg) == first
    assert [p.name for p in path.parent.iterdir()] == [".cookie_secret"]  # no temporary file left


def test_cookie_secret_replaces_an_empty_file(tmp_path):
    (tmp_path / ".cookie_secret").write_text("")
    secret = auth.cookie_secret(Settings(analytics_path=tmp_path / "a.duckdb"))
    assert secret and (tmp_path / ".cookie_secret").read_text().strip() == secret


def test_repr_of_settings_hides_the_cookie_secret():
    assert "topsecret" not in repr(Settings(cookie_secret="topsecret"))


# ---------------------------------------------------------- kiosk tokens ---

@pytest.mark.attack("kiosk")
def test_kiosk_token_gives_a_read_only_principal(any_db):
    token = auth.create_kiosk_token(any_db, "101", label="东区服务大厅", now=T0)
    p = auth.kiosk_principal(any_db, token, now=T0)
    assert (p.role, p.region_code, p.is_kiosk, p.may_export) == ("kiosk", "101", True, False)
    assert p.name.startswith("kiosk:") and len(p.name) == len("kiosk:") + 8


@pytest.mark.attack("kiosk")
def test_kiosk_token_is_not_stored_in_clear(db):
    token = auth.create_kiosk_token(db, "101", label="大厅", now=T0)
    with db.connect() as conn:
        rows = conn.execute(select(schema.kiosk_tokens)).all()
        logged = conn.execute(select(schema.audit_log)).all()
    assert len(rows) == 1
    assert not any(token in str(value) for row in rows + logged for value in row)


@pytest.mark.attack("kiosk")
def test_kiosk_token_for_an_unknown_region_is_refused(db):
    with pytest.raises(auth.AuthError, match="不存在"):
        auth.create_kiosk_token(db, "999", now=T0)


@pytest.mark.attack("kiosk")
def test_revoked_kiosk_token_gives_nothing(any_db):
    token = auth.create_kiosk_token(any_db, "101", now=T0)
    auth.revoke_kiosk_token(any_db, token, now=T0 + dt.timedelta(hours=1))
    assert auth.kiosk_principal(any_db, token, now=T0 + dt.timedelta(hours=1)) is None


@pytest.mark.attack("kiosk")
def test_revoke_by_id(db):
    token = auth.create_kiosk_token(db, "101", now=T0)
    with db.connect() as conn:
        token_id = conn.execute(select(schema.kiosk_tokens.c.id)).scalar_one()
    auth.revoke_kiosk_token(db, token_id, now=T0)
    assert auth.kiosk_principal(db, token, now=T0) is None


@pytest.mark.attack("kiosk")
def test_revoke_unknown_token(db):
    with pytest.raises(auth.AuthError):
        auth.revoke_kiosk_token(db, "no-such-token", now=T0)


@pytest.mark.attack("kiosk")
@pytest.mark.parametrize("token", ["", "wrong", None, "x" * 1000])
def test_unknown_kiosk_tokens(db, token):
    auth.create_kiosk_token(db, "101", now=T0)
    assert auth.kiosk_principal(db, token, now=T0) is None


def test_kiosk_use_is_recorded(db):
    token = auth.create_kiosk_token(db, "101", now=T0)
    auth.kiosk_principal(db, token, now=T0 + dt.timedelta(minutes=5))
    with db.connect() as conn:
        assert conn.execute(select(schema.kiosk_tokens.c.last_used_at)).scalar_one() == T0 + dt.timedelta(minutes=5)


# ------------------------------------------------------------------ audit ---

def test_audit_of_signin_and_signin_failed(any_db):
    add(any_db)
    login(any_db, now=T0, ip="10.0.0.7")
    with pytest.raises(auth.AuthError):
        login(any_db, password="wrong-password-1", now=T0, ip="10.0.0.8")
    with pytest.raises(auth.AuthError):
        login(any_db, name="mallory" * 20, now=T0)
    (ok,) = audits(any_db, "signin")
    assert (ok.actor, ok.region_code, ok.at) == ("alice", "101001", T0)
    assert json.loads(ok.detail)["ip"] == "10.0.0.7"
    bad, unknown = audits(any_db, "signin_failed")
    assert (bad.actor, bad.region_code) == ("alice", "101001")
    assert json.loads(bad.detail) == {"reason": "bad_password", "ip": "10.0.0.8"}
    assert unknown.actor == ("mallory" * 20)[:64] and unknown.region_code is None
    assert json.loads(unknown.detail)["reason"] == "unknown_user"


def test_audit_of_a_throttled_attempt(db):
    add(db)
    _fail(db, 5)
    with pytest.raises(auth.AuthError):
        login(db, ip="10.0.0.1")
    assert json.loads(audits(db, "signin_failed")[-1].detail)["reason"] == "throttled"


def test_audit_of_signout(any_db):
    add(any_db)
    token = start(any_db)
    auth.end_session(any_db, token, now=T0 + dt.timedelta(minutes=3))
    (row,) = audits(any_db, "signout")
    assert (row.actor, row.region_code, row.at) == ("alice", "101001", T0 + dt.timedelta(minutes=3))
    auth.end_session(any_db, token, now=T0 + dt.timedelta(minutes=4))  # already ended: no second row
    assert len(audits(any_db, "signout")) == 1


def test_expiry_is_not_a_signout(db):
    add(db)
    token = start(db)
    assert resume(db, token, T0 + dt.timedelta(hours=1)) is None
    assert audits(db, "signout") == []


def test_audit_of_account_changes(any_db):
    auth.add_user(any_db, "alice", role="street", region_code="101001", password=PASSWORD, actor="root", now=T0)
    auth.reset_password(any_db, "alice", "another-password", actor="root", now=T0)
    auth.disable_user(any_db, "alice", actor="root", now=T0)
    rows = [(r.actor, r.action, r.target, r.region_code) for r in audits(any_db)]
    assert rows == [("root", "user_add", "alice", "101001"),
                    ("root", "user_reset_password", "alice", "101001"),
                    ("root", "user_disable", "alice", "101001")]
    assert not any(PASSWORD in (r.detail or "") or "another-password" in (r.detail or "") for r in audits(any_db))


def test_audit_of_kiosk_tokens(any_db):
    token = auth.create_kiosk_token(any_db, "102", actor="root", now=T0)
    principal = auth.kiosk_principal(any_db, token, now=T0)
    auth.revoke_kiosk_token(any_db, token, actor="root", now=T0)
    created, revoked = audits(any_db, "kiosk_token_create") + audits(any_db, "kiosk_token_revoke")
    assert (created.actor, created.region_code, created.target) == ("root", "102", principal.name)
    assert (revoked.actor, revoked.region_code, revoked.target) == ("root", "102", principal.name)
    auth.revoke_kiosk_token(any_db, token, actor="root", now=T0)  # again: nothing more to record
    assert len(audits(any_db, "kiosk_token_revoke")) == 1


def test_audit_helper_cuts_long_values_and_stores_json(any_db):
    auth.audit(any_db, actor="a" * 100, action="case_view", target="t" * 100, region_code="r" * 40,
               detail={"note": "查看工单", "n": 1}, now=T0)
    (row,) = audits(any_db)
    assert (len(row.actor), len(row.target), len(row.region_code)) == (64, 64, 32)
    assert row.detail == '{"note": "查看工单", "n": 1}'


def test_audit_uses_whole_seconds(db):
    auth.audit(db, actor="a", action="export", now=T0.replace(microsecond=654321))
    assert audits(db)[0].at == T0


# ------------------------------------------------------------------ sync ---

def test_accounts_sessions_and_tokens_stay_out_of_the_analytics_store(db):
    from tests.conftest import synced_store

    add(db)
    start(db)
    auth.create_kiosk_token(db, "101", now=T0)
    con = synced_store(db)
    try:
        tables = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
    finally:
        con.close()
    assert "regions" in tables  # the sync did run
    assert not tables & {"users", "user_sessions", "kiosk_tokens", "audit_log"}


# --------------------------------------------------------- command line ---

def run_cli(monkeypatch, capsys, args, stdin=""):
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    try:
        status = cli.main(args)
    except SystemExit as exc:  # argparse refusals
        status = exc.code
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def url(db):
    return str(db.url)


def test_cli_users_add_reads_the_password_from_stdin(db, url, monkeypatch, capsys):
    status, out, err = run_cli(monkeypatch, capsys, ["users", "add", "alice", "--role", "street",
                                                     "--region", "101001", "--password-stdin", "--db", url],
                               stdin=PASSWORD + "\nignored second line\n")
    assert status == 0, err
    assert "alice" in out
    assert login(db).region_code == "101001"


def test_cli_users_add_keeps_inner_spaces_of_the_password(db, url, monkeypatch, capsys):
    status, _, err = run_cli(monkeypatch, capsys, ["users", "add", "bob", "--role", "admin", "--password-stdin",
                                                   "--db", url], stdin=" pass word 12 \r\n")
    assert status == 0, err
    assert login(db, "bob", " pass word 12 ").role == "admin"


def test_cli_users_list(db, url, monkeypatch, capsys):
    add(db)
    add(db, name="bob", role="city", region=None)
    auth.disable_user(db, "bob", now=T0)
    status, out, _ = run_cli(monkeypatch, capsys, ["users", "list", "--db", url])
    assert status == 0
    lines = out.splitlines()
    assert lines[0].split() == ["name", "role", "region", "disabled", "locked", "until", "signs", "as"]
    assert lines[1].split()[:4] == ["alice", "street", "101001", "no"]
    assert lines[2].split()[:4] == ["bob", "city", "(all)", "yes"]
    assert "argon2" not in out
    status, out, _ = run_cli(monkeypatch, capsys, ["users", "list", "--json", "--db", url])
    assert [u["name"] for u in json.loads(out)] == ["alice", "bob"]


def test_cli_users_add_and_profile_name_the_person_and_unit(db, url, monkeypatch, capsys):
    status, out, err = run_cli(monkeypatch, capsys, ["users", "add", "tiedong", "--role", "district", "--region",
                                                     "101", "--display-name", "张伟", "--unit", "东区综合指挥中心督办科",
                                                     "--password-stdin", "--db", url], stdin=PASSWORD + "\n")
    assert status == 0, err
    assert "signs as 东区综合指挥中心督办科 · 张伟" in out
    assert login(db, "tiedong").supervisor_label == "东区综合指挥中心督办科 · 张伟"
    status, out, err = run_cli(monkeypatch, capsys, ["users", "profile", "tiedong", "--display-name", "李强",
                                                     "--db", url])
    assert status == 0, err
    assert "signs as 东区综合指挥中心督办科 · 李强" in out
    status, out, _ = run_cli(monkeypatch, capsys, ["users", "list", "--db", url])
    assert out.splitlines()[1].endswith("东区综合指挥中心督办科 · 李强")
    status, out, _ = run_cli(monkeypatch, capsys, ["users", "list", "--json", "--db", url])
    assert [(u["display_name"], u["unit"]) for u in json.loads(out)] == [("李强", "东区综合指挥中心督办科")]
    status, out, err = run_cli(monkeypatch, capsys, ["users", "profile", "tiedong", "--unit", "", "--display-name", "",
                                                     "--db", url])
    assert status == 0 and "signs as tiedong" in out
    status, out, err = run_cli(monkeypatch, capsys, ["users", "profile", "tiedong", "--db", url])
    assert status == 2 and "--display-name" in err and out == ""
    status, out, err = run_cli(monkeypatch, capsys, ["users", "profile", "tiedong", "--unit", "督" * 70,
                                                     "--db", url])
    assert status == 2 and "过长" in err and "Traceback" not in err


def test_cli_disable_and_reset_password(db, url, monkeypatch, capsys):
    add(db)
    status, _, err = run_cli(monkeypatch, capsys, ["users", "reset-password", "alice", "--password-stdin",
                                                   "--db", url], stdin="brand-new-password\n")
    assert status == 0, err
    assert login(db, password="brand-new-password").name == "alice"
    status, _, err = run_cli(monkeypatch, capsys, ["users", "disable", "alice", "--db", url])
    assert status == 0, err
    with pytest.raises(auth.AuthError):
        login(db, password="brand-new-password")


def test_cli_kiosk_token_create_and_revoke(db, url, monkeypatch, capsys):
    status, out, err = run_cli(monkeypatch, capsys, ["kiosk-token", "create", "--region", "102",
                                                     "--label", "西区大厅", "--db", url])
    assert status == 0, err
    token = out.rstrip("\n").splitlines()[-1]
    assert token == token.strip() and " " not in token and len(token) >= 30
    assert auth.kiosk_principal(db, token).region_code == "102"
    status, _, err = run_cli(monkeypatch, capsys, ["kiosk-token", "revoke", token, "--db", url])
    assert status == 0, err
    assert auth.kiosk_principal(db, token) is None


def test_kiosk_tokens_never_start_with_a_dash(db, monkeypatch):
    """A token such as "-Xy..." would read as an option on the revoke command line."""
    drawn = iter(["-leading-dash-token-000000000000", "second-token-without-a-dash-00000"])
    monkeypatch.setattr(auth.secrets, "token_urlsafe", lambda n: next(drawn))
    token = auth.create_kiosk_token(db, "102")
    assert token == "second-token-without-a-dash-00000"
    assert auth.kiosk_principal(db, token).region_code == "102"


@pytest.mark.parametrize("args, stdin, words", [
    (["users", "add", "x", "--role", "street", "--region", "999", "--password-stdin"], PASSWORD + "\n", "不存在"),
    (["users", "add", "x", "--role", "street", "--password-stdin"], PASSWORD + "\n", "需要指定所属区域"),
    (["users", "add", "x", "--role", "admin", "--password-stdin"], "short\n", "至少需要"),
    (["users", "add", "x", "--role", "admin", "--password-stdin"], "", "no password"),
    (["users", "add", "x", "--role", "admin", "--password-stdin"], "\n", "no password"),
    (["users", "add", "x", "--role", "admin"], PASSWORD + "\n", "--password-stdin"),
    (["users", "add", "x", "--role", "mayor", "--password-stdin"], PASSWORD + "\n", "invalid choice"),
    (["users", "disable", "ghost"], "", "不存在"),
    (["users", "reset-password", "ghost", "--password-stdin"], PASSWORD + "\n", "不存在"),
    (["kiosk-token", "create", "--region", "999"], "", "不存在"),
    (["kiosk-token", "revoke", "no-such-token"], "", "不存在"),
])
def test_cli_errors_exit_2_with_one_message(db, url, monkeypatch, capsys, args, stdin, words):
    status, out, err = run_cli(monkeypatch, capsys, args + ["--db", url], stdin=stdin)
    assert status == 2
    assert words in err and "Traceback" not in err
    assert out == ""
    assert auth.list_users(db) == []


def test_cli_duplicate_user_exits_2(db, url, monkeypatch, capsys):
    add(db, name="x")
    status, _, err = run_cli(monkeypatch, capsys, ["users", "add", "x", "--role", "admin", "--password-stdin",
                                                   "--db", url], stdin=PASSWORD + "\n")
    assert status == 2 and "已存在" in err


def _python_m(args, stdin=""):
    return subprocess.run([sys.executable, "-m", "data_access", *args], input=stdin, capture_output=True,
                          text=True, cwd=ROOT, timeout=60, env={**os.environ, "PYTHONIOENCODING": "utf-8"})


def test_cli_as_a_process(tmp_path):
    """The real thing: a fresh database (the command creates the tables), stdin, exit codes, no traceback."""
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    ok = _python_m(["users", "add", "root", "--role", "admin", "--password-stdin", "--db", url], PASSWORD + "\n")
    assert ok.returncode == 0, ok.stderr
    bad = _python_m(["kiosk-token", "create", "--region", "101", "--db", url])  # no regions in this database
    assert bad.returncode == 2
    assert bad.stderr.strip().count("\n") == 0 and "不存在" in bad.stderr and "Traceback" not in bad.stderr
    from data_access.store import make_engine

    engine = make_engine(url)
    try:
        insert_regions(engine)
        made = _python_m(["kiosk-token", "create", "--region", "101", "--db", url])
        assert made.returncode == 0, made.stderr
        token = made.stdout.splitlines()[-1]
        assert auth.kiosk_principal(engine, token).region_code == "101"
        assert auth.authenticate(engine, "root", PASSWORD, settings=SETTINGS).role == "admin"
    finally:
        engine.dispose()


def test_users_list_names_a_throttled_name_until_when(db):
    add(db)
    _fail(db, 5, now=T0)
    listed = {u["name"]: u["locked_until"] for u in auth.list_users(db, now=T0 + dt.timedelta(seconds=60))}
    assert listed == {"alice": T0 + dt.timedelta(seconds=900)}
    later = {u["name"]: u["locked_until"] for u in auth.list_users(db, now=T0 + dt.timedelta(seconds=901))}
    assert later == {"alice": None}


def test_the_client_address_comes_from_the_proxy_header_when_configured(monkeypatch):
    import types

    import ui.auth as ui_auth

    fake = types.SimpleNamespace(context=types.SimpleNamespace(
        ip_address="10.9.9.9", headers={"X-Real-IP": "192.0.2.7, 10.9.9.9"}))
    monkeypatch.setattr(ui_auth, "st", fake)
    monkeypatch.setattr(ui_auth.cached, "settings", lambda: Settings(client_ip_header="X-Real-IP"))
    assert ui_auth._ip() == "192.0.2.7"
    monkeypatch.setattr(ui_auth.cached, "settings", lambda: Settings())
    assert ui_auth._ip() == "10.9.9.9"
