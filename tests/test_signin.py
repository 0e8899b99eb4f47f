"""Sign-in, kiosk screens, scoping and audit through app.py's router (AppTest), on a seeded demo city.

The street-level leak test tries every page with every query-string trick
and checks that no figure, row or map feature from outside the street shows.
It writes what it tried to tests/artifacts/access_tries.txt.
"""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from data_access import auth, queries, schema
from data_access.clock import local_now
from data_access.scope import Period, Scope
from data_access.sor_views import ensure_views
from data_access.store import create_schema, make_engine
from tests import demo
from tests.html_tables import all_tables
from tests.conftest import CITY_TZ, ROOT

STREET, DISTRICT = "210302001", "210302"
PASSWORD = "correct horse battery"
MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
# a region code: not digits of a coordinate, nor the head of a department's code (210302-CGJ handles the
# street's appeals: its figures are the street's)
CODE = re.compile(r"(?<![\d.])(21\d{4}(?:\d{3}){0,3})(?![\d.\-])")
APPEAL = re.compile(r"GD\d{14}")
PAGES = {"big_screen": "pages/big_screen.py", "region": "pages/region.py", "alerts": "pages/alerts.py",
         "cases": "pages/cases.py", "case": "pages/case.py", "audit": "pages/audit.py",
         "rankings": "pages/rankings.py",
         "snapshots": "pages/snapshots.py", "compare": "pages/compare.py",
         "present": "pages/present.py"}


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    end = local_now(CITY_TZ).replace(second=0, microsecond=0)
    env = demo.build(tmp_path_factory.mktemp("signin"), appeals=12_000, months=2, end=end)
    engine = make_engine(env["APPEALS_DB_URL"])
    create_schema(engine)
    ensure_views(engine)
    for name, role, region in (("city", "city", None), ("street", "street", STREET), ("admin", "admin", None)):
        auth.add_user(engine, name, role=role, region_code=region, password=PASSWORD)
    yield env, engine
    engine.dispose()


@pytest.fixture
def app(city, monkeypatch):
    env, _ = city
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    def run(page: str | None = None, at: AppTest | None = None, **params) -> AppTest:
        at = at if at is not None else router(page)  # an AppTest before its first run is falsy
        for k, v in params.items():
            at.query_params[k] = v
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    return run


def router(page: str | None = None) -> AppTest:
    """app.py itself, opened at ``page`` (as a browser opening its URL): the same gate, the same pages."""
    source = (ROOT / "app.py").read_text(encoding="utf-8").replace('"pages/', f'"{ROOT}/pages/')
    if page:
        source = source.replace(", default=True)", ")").replace(
            f'st.Page("{ROOT}/pages/{page}.py", ', f'st.Page("{ROOT}/pages/{page}.py", default=True, ')
    assert page is None or "default=True" in source
    return AppTest.from_string(source, default_timeout=120)


def _text(at: AppTest) -> str:
    parts = [h.value for h in at.get("html")] + [m.value for m in at.markdown] + [str(m.value) for m in at.metric]
    parts += [m.label for m in at.metric]
    for df in all_tables(at):
        parts.append(df.value.to_csv(index=False))
    return "\n".join(parts)


def _maps(at: AppTest) -> list[dict]:
    return [json.loads(m.proto.json) for m in at.get("deck_gl_json_chart")]


def _sign_in(app, name: str, password: str, page: str | None = None, **params) -> AppTest:
    at = app(page, **params)
    at.text_input(key="sign_in_name").input(name)
    at.text_input(key="sign_in_password").input(password)
    next(b for b in at.button if b.label == "登录").click()
    return app(page, at=at)


def _audit(engine, action: str, actor: str | None = None) -> list[dict]:
    a = schema.audit_log
    stmt = select(a).where(a.c.action == action)
    if actor:
        stmt = stmt.where(a.c.actor == actor)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(stmt.order_by(a.c.id)).mappings()]


# ----------------------------------------------------------- signing in ---

@pytest.mark.attack("jurisdiction")
@pytest.mark.parametrize("page", ["big_screen", "region", "alerts", "cases", "case", "audit", "rankings", "snapshots",
                                  "present"])
def test_nothing_shows_before_signing_in(app, page):
    at = app(page, figure="received", id="GD20260101000001")
    assert {b.label for b in at.button} >= {"登录"}
    assert not at.metric and not all_tables(at) and not _maps(at)
    assert not re.search(r"\d{2,}", " ".join(m.value for m in at.markdown))


def test_signing_in_through_the_form_opens_the_deep_link_and_is_audited(app, city):
    _, engine = city
    before = len(_audit(engine, "signin", "city"))
    at = _sign_in(app, "city", PASSWORD, "alerts", region=DISTRICT)
    assert not at.error, [e.value for e in at.error]
    assert "超期预警与督办" in _text(at) and "铁东区" in _text(at)  # the deep link's page and region
    assert len(_audit(engine, "signin", "city")) == before + 1
    assert at.session_state["session_token"]
    # signing out ends the session and shows the form again
    next(b for b in at.sidebar.button if b.label == "退出登录").click()
    at = app(None, at=at)
    assert {b.label for b in at.button} >= {"登录"} and not all_tables(at)
    assert _audit(engine, "signout", "city")


@pytest.mark.attack("cookie")
@pytest.mark.parametrize("name, password", [("city", "wrong password!"), ("nobody", PASSWORD), ("", "")])
def test_a_failed_sign_in_says_so_without_saying_why(app, city, name, password):
    _, engine = city
    before = len(_audit(engine, "signin_failed"))
    at = _sign_in(app, name, password)
    assert any("用户名或密码错误" in e.value for e in at.error), [e.value for e in at.error]
    assert not at.metric and not all_tables(at)
    assert len(_audit(engine, "signin_failed")) == before + 1


@pytest.mark.attack("cookie")
def test_a_session_resumes_from_its_token_until_it_is_ended(app, city):
    _, engine = city
    at = _sign_in(app, "street", PASSWORD)
    token = at.session_state["session_token"]
    assert auth.resume_session(engine, token) is not None
    auth.end_session(engine, token, reason="signout")  # e.g. signed out in another tab
    at = app(None, at=at)
    assert {b.label for b in at.button} >= {"登录"} and not at.metric


# ------------------------------------------------------------------ kiosk ---

@pytest.mark.attack("kiosk")
def test_a_kiosk_token_shows_the_big_screen_without_personal_data(app, city):
    _, engine = city
    token = auth.create_kiosk_token(engine, DISTRICT, label="大厅一号屏")
    at = app(kiosk=token)
    assert not at.error, [e.value for e in at.error]
    assert at.metric and _maps(at)
    text = _text(at)
    assert "铁东区" in text
    assert not MOBILE.search(text), MOBILE.search(text)
    _assert_no_names_or_addresses(engine, text)
    # it cannot open a case's detail, nor reach outside its region
    case = app("case", kiosk=token, id=_appeal_in(engine, DISTRICT))
    assert any("无权" in e.value for e in case.error) and not all_tables(case)
    outside = app(kiosk=token, region="210303")
    assert any("无权" in e.value for e in outside.error) and not outside.metric
    # revoked, it shows nothing
    auth.revoke_kiosk_token(engine, token)
    at = app(kiosk=token)
    assert any("令牌无效" in e.value for e in at.error) and not at.metric


@pytest.mark.attack("kiosk")
def test_the_staff_big_screen_shows_no_personal_data_either(app, city):
    _, engine = city
    at = _sign_in(app, "city", PASSWORD)
    text = _text(at)
    assert at.metric and not MOBILE.search(text)
    _assert_no_names_or_addresses(engine, text)


def _assert_no_names_or_addresses(engine, text: str) -> None:
    with engine.connect() as conn:
        rows = conn.execute(select(schema.appeals.c.appellant_name, schema.appeals.c.address)
                            .where(schema.appeals.c.appellant_name.is_not(None)).limit(3000)).all()
    names = {r.appellant_name for r in rows if r.appellant_name and len(r.appellant_name) >= 2}
    addresses = {r.address for r in rows if r.address}
    assert not [n for n in names if n in text]
    assert not [a for a in addresses if a in text]


def _appeal_in(engine, region: str) -> str:
    with engine.connect() as conn:
        return conn.execute(select(schema.appeals.c.appeal_id)
                            .where(schema.appeals.c.grid_code.like(region + "%")).limit(1)).scalar_one()


# ------------------------------------------------- a street's boundaries ---

TRICKS = {
    "no region": None,
    "its own street": STREET,
    "a community of it": STREET + "001",
    "its district": DISTRICT,
    "the city": "210300",
    "a sibling street": "210302002",
    "another district": "210303",
    "a grid elsewhere": "210303001001001",
    "a wildcard %": "%",
    "a wildcard *": "*",
    "a prefix": "2103",
    "a very long value": "2" * 400,
    "SQL: OR 1=1": f"{STREET}' OR '1'='1",
    "SQL: comment": f"{STREET};--",
    "SQL: union": "0 UNION SELECT code FROM regions",
    "empty": "",
}
INSIDE = {"no region", "its own street", "a community of it", "empty", "a wildcard %", "a wildcard *",
          "SQL: OR 1=1", "SQL: comment", "SQL: union", "a very long value"}
SHOWN = {"no region", "its own street", "a community of it"}
PAGE_PARAMS = {
    "big_screen": [{}], "region": [{}], "alerts": [{}, {"district": "210303"}, {"street": "210302002"}],
    "rankings": [{}, {"unit": "department"}],
    "cases": [{"figure": "received", "period": "all"}, {"figure": "overdue_open", "period": "all"},
              {"figure": "received", "period": "all", "child": "210302002"}],
    "snapshots": [{}],
    "compare": [{}],
    "present": [{}],
}


def _has_data(page: str, extra: dict) -> bool:
    """The views that always hold the street's figures (others may be empty by chance)."""
    return (page in ("big_screen", "region") or (extra.get("figure") == "received" and "child" not in extra)
            or (page == "rankings" and extra.get("unit") == "department"))  # a community has departments, no street


def _codes_and_appeals(at: AppTest) -> tuple[set[str], set[str]]:
    text = "\n".join(df.value.to_csv(index=False) for df in all_tables(at))
    text += "\n" + json.dumps(_maps(at), ensure_ascii=False)
    text += "\n" + "\n".join(str(m.value) for m in at.metric)
    # /present's slides: one HTML document (its pictures left out: their base64 is no code)
    text += "\n" + "\n".join(re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", h.value) for h in at.get("html")
                             if 'id="present-stage"' in h.value)
    return set(CODE.findall(text)), set(APPEAL.findall(text))


@pytest.mark.attack("jurisdiction")
def test_a_street_user_gets_nothing_from_outside_the_street(app, city, artifacts_dir, attack_tries):
    _, engine = city
    signed = _sign_in(app, "street", PASSWORD)
    assert not signed.error

    with engine.connect() as conn:
        inside_appeals = {r for (r,) in conn.execute(select(schema.appeals.c.appeal_id)
                                                      .where(schema.appeals.c.grid_code.like(STREET + "%")))}
        street_kpis = queries.kpis(conn, Scope(STREET, "street"), Period.all_time(), local_now(CITY_TZ))
    tries = []
    for page, variants in PAGE_PARAMS.items():
        for extra in variants:
            for trick, value in TRICKS.items():
                params = dict(extra)
                if value is not None:
                    params["region"] = value
                at = app(page, at=_fresh(signed, page), **params)
                codes, appeals = _codes_and_appeals(at)
                outside_codes = {c for c in codes if not (c.startswith(STREET) or STREET.startswith(c))}
                outside_appeals = appeals - inside_appeals
                refused = any("无权" in e.value for e in at.error)
                tries.append(f"{page:10} {json.dumps(params, ensure_ascii=False)[:80]:82} "
                             f"{'refused' if refused else 'shown'}; {len(appeals)} appeals, {len(codes)} codes")
                assert not outside_codes, (page, trick, sorted(outside_codes)[:5])
                assert not outside_appeals, (page, trick, sorted(outside_appeals)[:5])
                if trick in SHOWN and _has_data(page, extra):  # the street's own view opens, never a dead end
                    assert not refused and (at.metric or all_tables(at)), (page, trick, [e.value for e in at.error])
                if trick not in INSIDE:
                    assert refused and not at.metric and not all_tables(at) and not _maps(at), (
                        page, trick, [e.value for e in at.error], len(at.metric), len(all_tables(at)), len(_maps(at)),
                        [type(e).__name__ for e in at.main], [h.value[:80] for h in at.get("html")][:3])
                # codes above the street (its district, the city) may only name the breadcrumb, never a figure
                assert not {c for c in codes if STREET.startswith(c) and c != STREET} & set(
                    CODE.findall(" ".join(df.value.to_csv(index=False) for df in all_tables(at)))), (page, trick)
    # case details: inside opens (with personal data: street staff may see it), outside is refused
    for appeal in (_appeal_in(engine, STREET), _appeal_in(engine, "210302002"), _appeal_in(engine, "210303")):
        at = app("case", at=_fresh(signed, "case"), id=appeal)
        inside = appeal in inside_appeals
        tries.append(f"case       id={appeal} {'shown' if not at.error else 'refused'}")
        assert (not at.error) == inside, (appeal, [e.value for e in at.error])
    # the big screen's tiles are the street's own figures
    at = app("big_screen", at=_fresh(signed, "big_screen"), period="all")
    overdue = next(m for m in at.metric if "超期" in m.label)
    assert overdue.value.replace(",", "") == str(int(street_kpis["overdue_open"]))
    (artifacts_dir / "access_tries.txt").write_text(
        f"{len(tries)} tries as street user 'street' ({STREET}):\n" + "\n".join(tries) + "\n", encoding="utf-8")
    print(f"\n{len(tries)} tries; see tests/artifacts/access_tries.txt")
    assert len(tries) >= 100
    attack_tries("jurisdiction", len(tries))


def _fresh(signed: AppTest, page: str | None = None) -> AppTest:
    """A new page visit in the same browser session: the signed-in state carried over."""
    at = router(page)
    for key in ("principal", "session_token", "access_grant"):
        at.session_state[key] = signed.session_state[key]
    return at


@pytest.mark.attack("jurisdiction", "exports")
def test_exports_outside_the_street_are_refused_in_the_data_layer(city, monkeypatch):
    env, _ = city
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    script = f"""
import datetime as dt
import streamlit as st
from data_access import cached
from data_access.access import NoAccess
from data_access.scope import Period, Scope
fresh = cached.refresh()
key = cached.token(fresh)
for code, level in (("210303", "district"), ("210302", "district"), ("{STREET}", "street"), (None, "all")):
    scope = Scope(code, level)
    try:
        data = cached.case_file(key, scope, Period.all_time(), cached.as_of(fresh), "received", "csv")
        st.write(f"exported {{code}} {{len(data)}}")
    except NoAccess as exc:
        st.write(f"refused {{code}}")
"""
    at = AppTest.from_string(script, default_timeout=120)
    from tests.conftest import sign_in
    sign_in(at, role="street", region=STREET)
    at.run()
    lines = [m.value for m in at.markdown]
    assert lines[0] == "refused 210303" and lines[1] == "refused 210302" and lines[3] == "refused None"
    assert lines[2].startswith(f"exported {STREET}")
    kiosk = AppTest.from_string(script, default_timeout=120)
    sign_in(kiosk, role="kiosk", region=DISTRICT)
    kiosk.run()
    assert all(m.value.startswith("refused") for m in kiosk.markdown)  # a kiosk exports nothing


# ------------------------------------------------------------------ audit ---

@pytest.mark.attack("jurisdiction")
def test_a_street_users_breadcrumbs_name_the_levels_above_without_linking_them(app, city):
    signed = _sign_in(app, "street", PASSWORD)
    at = app("region", at=_fresh(signed, "region"))
    crumbs = next(h.value for h in at.get("html") if "crumbs" in h.value)
    assert "铁东区" in crumbs and "region=210302&" not in crumbs and "region=210300" not in crumbs
    assert "region=" not in crumbs  # the street itself is shown in bold, not linked


@pytest.mark.attack("jurisdiction")
def test_case_views_exports_and_the_audit_page(app, city):
    _, engine = city
    at = _sign_in(app, "street", PASSWORD)
    appeal = _appeal_in(engine, STREET)
    before = len(_audit(engine, "case_view", "street"))
    app("case", at=_fresh(at, "case"), id=appeal)
    rows = _audit(engine, "case_view", "street")
    assert len(rows) == before + 1 and rows[-1]["target"] == appeal
    # the audit page: administrators only
    refused = app("audit", at=_fresh(at, "audit"))
    assert any("仅对管理员开放" in e.value for e in refused.error) and not all_tables(refused)
    admin = app("audit", at=_fresh(_sign_in(app, "admin", PASSWORD), "audit"))
    assert not admin.error, [e.value for e in admin.error]
    table = admin.dataframe[0].value
    assert {"登录", "查看工单详情"} <= set(table["事件"])
    assert appeal in set(table["对象"])





def test_the_demo_city_has_one_account_per_role(city):
    from data_access.seed.accounts import DEMO_PASSWORD, ensure_demo_accounts

    _, engine = city
    created = ensure_demo_accounts(engine)
    assert [name for name, _, _ in created] == ["demo", "tiedong", "lianhua"]  # "admin" exists already
    assert ensure_demo_accounts(engine) == []  # idempotent
    street = auth.authenticate(engine, "lianhua", DEMO_PASSWORD)
    assert (street.role, street.region_code) == ("street", STREET)
    # they sign supervisions with a unit and a name, as the demo's own supervisions do
    assert street.supervisor_label == "莲花街道督办组 · 李娜"
    assert auth.authenticate(engine, "tiedong", DEMO_PASSWORD).supervisor_label == "铁东区综合指挥中心督办科 · 张伟"
    # an "admin" someone else created keeps its own (empty) profile
    assert auth.authenticate(engine, "admin", PASSWORD).supervisor_label == "admin"
    # a demo account the seeder made before accounts had names gets its own, once, and keeps what it has since
    auth.set_profile(engine, "tiedong", display_name=None, unit=None)
    assert ensure_demo_accounts(engine) == []
    assert auth.authenticate(engine, "tiedong", DEMO_PASSWORD).supervisor_label == "铁东区综合指挥中心督办科 · 张伟"
    auth.set_profile(engine, "tiedong", display_name="赵敏")
    ensure_demo_accounts(engine)
    assert auth.authenticate(engine, "tiedong", DEMO_PASSWORD).display_name == "赵敏"
