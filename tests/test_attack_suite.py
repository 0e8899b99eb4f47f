"""The attack suite's table (tests/attack_report.py): tests marked ``attack(kind)``, counted by kind.

A small suite is run by pytest in a child process, alone and with two xdist workers: the table counts
the passed, failed and skipped tests per kind, one try per test or parametrized case, the tries a test
records with ``attack_tries``, and a Hypothesis test's passing examples. Unmarked tests are left out; an
unknown kind is refused.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import ROOT

SUITE = '''
import pytest
from hypothesis import given, settings, strategies as st

pytestmark = pytest.mark.attack("injection")

@pytest.mark.parametrize("value", ["a", "b", "c"])
def test_three_cases(value):
    assert value

def test_many_tries(attack_tries):
    attack_tries("injection", 40)

@pytest.mark.attack("exports")
def test_two_kinds():
    pass

def test_fails():
    assert False

@pytest.mark.skip(reason="no server here")
def test_skipped():
    pass

@settings(max_examples=25, database=None)
@given(st.integers())
def test_property(n):
    assert isinstance(n, int)
'''

PLAIN = '''
def test_not_an_attack():
    pass
'''

INI = '''
[pytest]
markers =
    attack(kind): a test of the attack suite
'''


def _run(tmp_path, *args: str) -> str:
    (tmp_path / "test_hostile.py").write_text(textwrap.dedent(SUITE))
    (tmp_path / "test_plain.py").write_text(PLAIN)
    (tmp_path / "pytest.ini").write_text(INI)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "tests.attack_report", "-q", "-p", "no:cacheprovider",
                           *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    return done.stdout


def _table(out: str) -> dict[str, list[int]]:
    section = out.split("attack suite", 1)[1]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip().strip("*") for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[1].isdigit():
            rows[cells[0]] = [int(c) for c in cells[1:]]
    return rows


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one process", "two workers"])
def test_the_table_counts_tests_and_tries_by_kind(tmp_path, workers):
    out = _run(tmp_path, *workers)
    table = _table(out)
    # injection: 3 cases + many tries + two kinds + the property pass (6 tests), 1 fails, 1 skipped;
    # tries: 3 + 40 + 1 + 25 examples
    assert table["injection"] == [6, 1, 1, 69], out
    assert table["exports"] == [1, 0, 0, 1], out
    assert table["all"] == [6, 1, 1, 69], out  # a test of two kinds counts once
    assert "jurisdiction" not in table  # no test of that kind ran


def test_a_run_without_attack_tests_prints_no_table(tmp_path):
    out = _run(tmp_path, "test_plain.py")
    assert "1 passed" in out and "attack suite" not in out


def test_an_unknown_kind_is_refused(tmp_path):
    (tmp_path / "test_typo.py").write_text('import pytest\n\n@pytest.mark.attack("jursidiction")\ndef test_x():\n    pass\n')
    out = _run(tmp_path, "test_typo.py")
    assert "jursidiction" in out and "is not one of" in out and "1 passed" not in out
