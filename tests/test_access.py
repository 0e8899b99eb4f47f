"""Scoping in the query layer (``data_access.access``): a grant bounds every scope, whatever is asked."""

from __future__ import annotations

import pytest

from data_access import access
from data_access.access import Grant, NoAccess
from data_access.queries import UnknownRegion
from data_access.scope import Scope
from tests.conftest import insert_appeals, synced_store, ts

pytestmark = pytest.mark.attack("jurisdiction")

STREET = Grant("101001", personal_data=True, supervise_levels=("street",))  # 东街道 of 东区
DISTRICT = Grant("101", personal_data=True, supervise_levels=("street", "district"))
WHOLE = Grant(None, personal_data=True, supervise_levels=("street", "district", "city"))


@pytest.fixture
def store(tiny_sor):
    insert_appeals(tiny_sor, [
        dict(appeal_id="E1", created_at=ts("2026-03-02 09:00"), grid_code="101001001001"),
        dict(appeal_id="W1", created_at=ts("2026-03-02 09:00"), grid_code="102001001001"),
    ])
    return synced_store(tiny_sor)


@pytest.mark.parametrize("requested, expected", [
    (None, Scope("101001", "street")),
    ("", Scope("101001", "street")),
    ("  ", Scope("101001", "street")),
    ("101001", Scope("101001", "street")),
    ("101001001", Scope("101001001", "community")),
    ("101001001001", Scope("101001001001", "grid")),
])
def test_a_street_grant_allows_its_street_and_below(store, requested, expected):
    assert access.bound_scope(store, STREET, requested) == expected


@pytest.mark.parametrize("requested", [
    "101",                       # its district
    "100",                       # the city
    "102001",                    # another street
    "102001001001",              # a grid of another street
    "1010",                      # a prefix-looking code that does not exist
    "10100",                     # a prefix of its own code
    "%", "*", "_", "101001%",    # wildcards
    "1" * 33, "9" * 5000,        # very long values
    "101001' OR '1'='1",         # SQL fragments
    "101001; DROP TABLE regions; --",
    "0 UNION SELECT code FROM regions",
])
def test_a_street_grant_refuses_everything_else(store, requested):
    with pytest.raises(NoAccess):
        access.bound_scope(store, STREET, requested)


def test_a_district_grant_reaches_its_streets_but_not_the_city(store):
    assert access.bound_scope(store, DISTRICT, "101001") == Scope("101001", "street")
    assert access.bound_scope(store, DISTRICT, None) == Scope("101", "district")
    for outside in ("100", "102", "102001"):
        with pytest.raises(NoAccess):
            access.bound_scope(store, DISTRICT, outside)


def test_a_whole_grant_resolves_anything_and_names_unknown_regions(store):
    assert access.bound_scope(store, WHOLE, None) == Scope.whole()
    assert access.bound_scope(store, WHOLE, "102") == Scope("102", "district")
    with pytest.raises(UnknownRegion):
        access.bound_scope(store, WHOLE, "999")


@pytest.mark.parametrize("scope, allowed", [
    (Scope("101001", "street"), True),
    (Scope("101001001", "community"), True),
    (Scope.whole(), False),
    (Scope("101", "district"), False),
    (Scope("102001", "street"), False),
])
def test_check_scope(store, scope, allowed):
    if allowed:
        access.check_scope(store, STREET, scope)
    else:
        with pytest.raises(NoAccess):
            access.check_scope(store, STREET, scope)


def test_check_appeal(store):
    access.check_appeal(store, STREET, "E1")
    with pytest.raises(NoAccess):
        access.check_appeal(store, STREET, "W1")
    access.check_appeal(store, WHOLE, "W1")
    access.check_appeal(store, STREET, "NO-SUCH")  # nothing to show, nothing to refuse
    with pytest.raises(NoAccess):
        access.check_appeal(store, Grant("101001", case_detail=False), "E1")  # a kiosk opens no case


def test_nobody_gets_nothing(store):
    with pytest.raises(NoAccess):
        access.bound_scope(store, access.NOBODY, None)
    with pytest.raises(NoAccess):
        access.check_scope(store, access.NOBODY, Scope("101001", "street"))


def test_contains_follows_the_hierarchy_not_the_code(store):
    assert access.contains(store, "101", "101001001001")
    assert access.contains(store, "101001", "101001")
    assert not access.contains(store, "101001", "101")
    assert not access.contains(store, "10", "101001")  # a prefix is not a parent


@pytest.mark.attack("exports")
def test_a_deferred_download_runs_as_the_person_who_saw_the_button(monkeypatch):
    """Streamlit runs a download's callable in a server thread with no session:
    the file must still be bounded by (and audited as) the person who saw the button."""
    import threading

    from data_access import cached
    from data_access.auth import Principal

    street = Grant("210302001", export=True)
    person = Principal(name="街道员", role="street", region_code="210302001")
    session = {cached.GRANT_KEY: street, "principal": person}
    monkeypatch.setattr(cached, "_session_get", session.get)
    seen = {}

    def build():
        seen["grant"], seen["account"] = cached.current_grant(), cached._account()
        return b"file"

    run = cached.deferred(build)
    monkeypatch.setattr(cached, "_session_get", lambda name: None)  # the server thread: no session
    assert cached.current_grant() is access.NOBODY
    worker = threading.Thread(target=lambda: seen.setdefault("result", run()))
    worker.start()
    worker.join()
    assert seen == {"grant": street, "account": "街道员", "result": b"file"}
    assert cached.current_grant() is access.NOBODY  # nothing lingers after the call
