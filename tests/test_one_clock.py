"""One clock: only ``data_access/clock.py`` reads the wall clock.

Every "now" and "today" is the city's, in the zone stored with the data. A
call such as ``date.today()`` or ``datetime.now()`` elsewhere reads the
server's zone instead, which made the suite fail by the hour on a UTC
server. Durations (``time.monotonic()``, ``time.perf_counter()``) are not
wall-clock readings and are allowed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import ROOT

CLOCK = ROOT / "data_access" / "clock.py"
THIS = Path(__file__).resolve()

# what reads the wall clock, or the server's zone, in Python or in SQL built from Python
FORBIDDEN = {
    "date.today()": r"\bdate\.today\s*\(",
    "datetime.today()": r"\bdatetime\.today\s*\(",
    "….now() (datetime, pandas, numpy)": r"\.now\s*\(",
    "utcnow()": r"\butcnow\s*\(",
    "time.time()": r"\btime\.time\s*\(",
    "time.time_ns()": r"\btime\.time_ns\s*\(",
    "time.localtime()": r"\blocaltime\s*\(",
    "time.gmtime()": r"\bgmtime\s*\(",
    "time.ctime()": r"\bctime\s*\(",
    "time.strftime() (the server's local time)": r"\btime\.strftime\s*\(",
    "time.mktime() (the server's zone)": r"\bmktime\s*\(",
    "fromtimestamp() (the server's zone)": r"\bfromtimestamp\s*\(",
    "Timestamp.today()": r"Timestamp\.today\s*\(",
    "datetime64('now'/'today')": r"datetime64\(\s*['\"](?:now|today)",
    "pd.to_datetime('now'/'today')": r"to_datetime\(\s*['\"](?:now|today)",
    "SQL now()/current_timestamp": r"func\.(?:now|current_timestamp|current_date|current_time|localtimestamp|sysdate)\b",
    "SQL CURRENT_TIMESTAMP in text": r"(?i)\bcurrent_(?:timestamp|date|time)\b",
}
PATTERNS = {name: re.compile(rx) for name, rx in FORBIDDEN.items()}


def _python_files() -> list[Path]:
    files = [ROOT / "app.py"]
    for folder in ("data_access", "geo", "ui", "pages", "bench", "tests"):
        files += sorted((ROOT / folder).rglob("*.py"))
    return [f for f in files if f.resolve() not in (CLOCK.resolve(), THIS) and ".venv" not in f.parts]


def offences(text: str) -> list[tuple[int, str, str]]:
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        code = line.split("#", 1)[0]
        for name, pattern in PATTERNS.items():
            if pattern.search(code):
                found.append((number, name, line.strip()))
    return found


def test_only_the_clock_module_reads_the_wall_clock():
    files = _python_files()
    assert len(files) > 50, "the scan must see the project's code"
    report = [f"{path.relative_to(ROOT)}:{n}: {name}: {line}"
              for path in files for n, name, line in offences(path.read_text(encoding="utf-8"))]
    assert not report, ("read the time through data_access.clock (the city's zone), not the server's clock:\n"
                        + "\n".join(report))


@pytest.mark.parametrize("line", [
    "today = dt.date.today()",
    "now = datetime.now()",
    "now = dt.datetime.now(ZoneInfo('UTC'))",
    "stamp = pd.Timestamp.now()",
    "t = time.time()",
    "x = datetime.utcnow()",
    "d = dt.datetime.fromtimestamp(1700000000)",
    "select(func.now())",
    "'SELECT CURRENT_TIMESTAMP'",
    "np.datetime64('now')",
    "time.strftime('%H:%M')",
])
def test_the_guard_catches_each_way_of_reading_the_clock(line):
    assert offences(line), line


@pytest.mark.parametrize("line", [
    "started = time.monotonic()",
    "t0 = time.perf_counter()",
    "now = clock.local_now(zone)",
    "# date.today() in a comment is harmless",
    "value.strftime('%Y-%m-%d')",
])
def test_the_guard_lets_durations_and_the_clock_module_pass(line):
    assert not offences(line), line


def test_the_clock_module_itself_reads_the_clock():
    # the one place: if it stopped reading the clock, "now" would come from somewhere else
    assert offences(CLOCK.read_text(encoding="utf-8"))
