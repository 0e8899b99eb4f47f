"""The project's own attack suite: the tests marked ``attack(kind)``, counted by kind at the end of a run.

    pytest -m attack -n 0        # only the attack suite, with its table
    pytest                       # the whole suite; the table covers the attack tests that ran

A test is marked ``@pytest.mark.attack("jurisdiction")`` (or a whole module with ``pytestmark``); the
kinds are those of docs/security.md: jurisdiction, kiosk, cookie, injection, exports, imports, faults,
deployment. Each test counts as one try, a parametrized case as one per case; a test that makes many
tries in a loop records them with the ``attack_tries`` fixture (``attack_tries("jurisdiction", 131)``), and
a Hypothesis test counts its passing examples. The table gives, per kind, the tests passed, failed and
skipped and the tries of the tests that passed. It is printed by the controller (pytest-xdist workers
send their figures in the reports' ``user_properties``).
"""

from __future__ import annotations

import re
from collections import defaultdict

import pytest

KINDS = ("jurisdiction", "kiosk", "cookie", "injection", "exports", "imports", "faults", "deployment")
_KIND = "attack_kind"
_TRIES = "attack_tries"
_EXAMPLES = re.compile(r"(\d+) passing")  # "25 passing, 0 failing, and 0 invalid test cases"


def _kinds(item) -> list[str]:
    kinds = []
    for marker in item.iter_markers("attack"):
        for kind in marker.args or ("unnamed",):
            if kind not in KINDS:
                raise pytest.UsageError(f"{item.nodeid}: attack kind {kind!r} is not one of {', '.join(KINDS)}")
            if kind not in kinds:
                kinds.append(kind)
    return kinds


@pytest.fixture
def attack_tries(request):
    """``attack_tries(kind, n)``: this test made ``n`` tries of that kind (instead of counting as one)."""
    def record(kind: str, n: int) -> None:
        if kind not in KINDS:
            raise ValueError(f"attack kind {kind!r} is not one of {', '.join(KINDS)}")
        request.node.user_properties.append((_TRIES, (kind, int(n))))
    return record


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    if call.when == "setup":
        for kind in _kinds(item):
            if (_KIND, kind) not in item.user_properties:
                item.user_properties.append((_KIND, kind))
    elif call.when == "call":
        stats = getattr(item, "hypothesis_statistics", None)
        if stats and _kinds(item) and not any(name == _TRIES for name, _ in item.user_properties):
            examples = sum(int(n) for n in _EXAMPLES.findall(stats))
            if examples:
                for kind in _kinds(item):
                    item.user_properties.append((_TRIES, (kind, examples)))
    yield


class _Tally:
    def __init__(self):
        self.outcome: dict[str, str] = {}  # nodeid -> passed | failed | skipped
        self.kinds: dict[str, list[str]] = {}
        self.tries: dict[str, dict[str, int]] = defaultdict(dict)

    def report(self, rep) -> None:
        props = rep.user_properties
        kinds = [value for name, value in props if name == _KIND]
        if not kinds:
            return
        self.kinds[rep.nodeid] = kinds
        for name, value in props if rep.when == "teardown" else ():  # the last report holds every record
            if name == _TRIES:
                kind, n = value
                self.tries[rep.nodeid][kind] = self.tries[rep.nodeid].get(kind, 0) + n
        if rep.failed:
            self.outcome[rep.nodeid] = "failed"
        elif rep.skipped and self.outcome.get(rep.nodeid) != "failed":
            self.outcome[rep.nodeid] = "skipped"
        elif rep.when == "call" and rep.passed and rep.nodeid not in self.outcome:
            self.outcome[rep.nodeid] = "passed"

    def rows(self) -> list[tuple[str, int, int, int, int]]:
        """Per kind: tests passed, failed, skipped, and the tries of those that passed; then ``all``, where a
        test of two kinds counts once (its tries too)."""
        table = {k: [0, 0, 0, 0] for k in KINDS}
        total = [0, 0, 0, 0]
        column = {"passed": 0, "failed": 1, "skipped": 2}
        for nodeid, kinds in self.kinds.items():
            outcome = self.outcome.get(nodeid)
            if outcome not in column:
                continue
            for kind in kinds:
                table[kind][column[outcome]] += 1
                if outcome == "passed":
                    table[kind][3] += self.tries[nodeid].get(kind, 1)
            total[column[outcome]] += 1
            if outcome == "passed":
                total[3] += max(self.tries[nodeid].values(), default=1)
        return [(k, *v) for k, v in table.items() if any(v)] + [("all", *total)]


_tally = _Tally()


def pytest_configure(config):
    global _tally
    _tally = _Tally()


def pytest_runtest_logreport(report):
    _tally.report(report)


def table_lines(rows) -> list[str]:
    lines = ["| kind | tests passed | failed | skipped | tries (passed tests) |", "| --- | ---: | ---: | ---: | ---: |"]
    for kind, passed, failed, skipped, tries in rows:
        if kind == "all":
            lines.append(f"| **all** | **{passed}** | **{failed}** | **{skipped}** | **{tries}** |")
        else:
            lines.append(f"| {kind} | {passed} | {failed} | {skipped} | {tries} |")
    return lines


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not _tally.kinds:
        return
    terminalreporter.section("attack suite")
    for line in table_lines(_tally.rows()):
        terminalreporter.write_line(line)
