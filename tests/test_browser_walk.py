"""The walk of tests/walk.py as the city's and the district's accounts (the street and admin accounts walk in
tests/test_browser_walk_street_admin.py, so that two workers walk at once)."""

from __future__ import annotations

import pytest

from tests import walk

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory, artifacts_dir):
    with walk.walk_server(tmp_path_factory, artifacts_dir, "city") as served:
        yield served


@pytest.mark.parametrize("account", ["demo", "tiedong"])
def test_walk_every_page(server, chrome, artifacts_dir, account):
    url, case_id = server
    folder = artifacts_dir / "walk"
    folder.mkdir(exist_ok=True)
    done = walk.walk_role(chrome, url, case_id, account, folder)
    walk.check_walk(done, account)
    if account == "demo":  # the city's list of overdue appeals has more than one page
        assert ("/cases", "next page") in done["buttons"], done["buttons"]
