"""The walk of tests/walk.py as the street's and the administrator's accounts."""

from __future__ import annotations

import pytest

from tests import walk

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory, artifacts_dir):
    with walk.walk_server(tmp_path_factory, artifacts_dir, "street_admin") as served:
        yield served


@pytest.mark.parametrize("account", ["lianhua", "admin"])
def test_walk_every_page(server, chrome, artifacts_dir, account):
    url, case_id = server
    folder = artifacts_dir / "walk"
    folder.mkdir(exist_ok=True)
    done = walk.walk_role(chrome, url, case_id, account, folder)
    walk.check_walk(done, account)
    assert ("/audit" in done["pages"]) == (account == "admin"), done["pages"]
