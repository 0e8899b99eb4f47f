"""Load test: concurrent dashboard sessions over Streamlit's own WebSocket protocol, with syncs running.

    python bench/load.py                                   # 20 sessions for 5 minutes, its own server
    python bench/load.py --sessions 20 --duration 300 --kiosks 8 --refresh 10
    python bench/load.py --appeals 20000 --duration 60     # a smaller demo city, a shorter run
    python bench/load.py --url http://127.0.0.1:8501 --db sqlite:///data/appeals.db --pid 4242
                                                           # a running deployment on this machine

A session is what a browser tab is to the server: a WebSocket at ``/_stcore/stream`` carrying protobuf
``BackMsg``s up and ``ForwardMsg``s down. Each session asks for page runs (a ``rerun_script`` with the
page's name and query string) and reads the answer until ``script_finished``. The time of a page run is
from the request to ``script_finished``; nothing is drawn, so it is the server's time plus loopback.
Streamlit 1.67 serves through uvicorn; the client is the ``websockets`` library that comes with it.

* **Kiosk screens** (``?kiosk=<token>``, a token per screen made with ``auth.create_kiosk_token``) open the
  big screen, then re-run its auto-refresh fragment whenever the server's ``auto_rerun`` says, as the
  browser does (every ``APPEALS_REFRESH_SECONDS``; ``--refresh`` sets it on the server started here).
* **Staff** (a session made with ``auth.start_session``, sent as the signed ``appeals_session`` cookie)
  click through the big screen, ``/region`` down to a grid, ``/cases`` and ``/alerts``, waiting
  ``--think`` seconds between clicks, and reload the tab (a new WebSocket, a new Streamlit session) every
  ``--reload-every`` clicks. The accounts are the demo's city, district and street accounts.

Syncs run during the load as in production: the dashboard syncs itself from page runs every
``APPEALS_SYNC_INTERVAL_SECONDS`` (``--sync-interval``), reconciling every ``--reconcile`` seconds, while a
writer here adds appeals received now and closes open ones (``churn.live_changes``) every
``--write-every`` seconds, so each sync has rows to copy and each copy invalidates the caches.

Reported (one JSON line, then a table): page runs, errors (an uncaught exception, an ``st.error``, a page
not found, the sign-in form, a page that drew nothing, a run that never finished, a refused or lost
WebSocket; target 0) with their first messages, p50/p95/max of the page runs by kind, the syncs that copied
rows, the server's CPU seconds, and its resident memory from
``/proc/<pid>/status``: after one pass over every page (a server that has served each page once), before
the load (after ``--warm-up`` seconds of the same load, by default a first identical one, and ``--settle``
seconds of rest), at its peak
during the load, and after it (the sessions closed, ``--settle`` seconds of rest, so that Streamlit has
forgotten the closed tabs); target: after ≤ before + 10 %. The bytes of ``st.cache_data`` come from
Streamlit's ``/_stcore/metrics``.

Started here, the server listens on 127.0.0.1 only, on a demo city seeded once under ``--data``
(default bench/out/load/) and copied into its analytics store first. ``--url`` must be a loopback address;
the deployment's system of record (``--db``) must hold the demo accounts, and its cookie secret is read as
the dashboard reads it (``APPEALS_COOKIE_SECRET``, or ``.cookie_secret`` beside ``APPEALS_ANALYTICS_PATH``).
Several servers (replicas): ``--pid`` takes their ids, comma-separated, and their memory is summed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from data_access import auth  # noqa: E402
from data_access.clock import local_now  # noqa: E402
from data_access.seed import churn  # noqa: E402
from data_access.store import make_engine  # noqa: E402

# The demo city's regions the sessions look at: 鞍山市, its urban districts, and one path down to a grid.
CITY = "210300"
DISTRICTS = ("210302", "210303", "210304", "210311")
STREETS = ("210302001", "210302002", "210303001", "210304001", "210311001")
GRIDS = ("210302001001001", "210302002001001", "210303001001001")
# the demo's accounts (data_access/seed/accounts.py): name, region (None: the whole city)
STAFF = (("demo", None), ("tiedong", "210302"), ("lianhua", "210302001"))
RUN_TIMEOUT_SECONDS = 180
SIGN_IN_LABEL = "用户名"  # the sign-in form's first field (ui/auth.py): a run that shows it was not signed in


# ------------------------------------------------------------------ pages ---

def staff_pages(region: str | None) -> list[tuple[str, str, str]]:
    """(kind, page name, query string) of one staff click-through, inside ``region``."""
    def inside(codes):
        return [c for c in codes if region is None or c.startswith(region)] or [region]

    top = region or CITY
    steps = [("big_screen", "", ""), ("region", "region", f"region={top}&period=30d")]
    for level in (DISTRICTS, STREETS, GRIDS):
        below = [c for c in inside(level) if len(c) > len(top)]
        if below:
            steps.append(("region", "region", f"region={random.choice(below)}&period=30d"))
    steps += [
        ("cases", "cases", f"figure=overdue_open&region={top}&period=year"),
        ("cases", "cases", f"figure=received&region={random.choice(inside(STREETS))}&period=month"),
        ("alerts", "alerts", ""),
        ("alerts", "alerts", f"region={random.choice(inside(STREETS))}"),
        ("region", "region", f"region={top}&period=7d&metric=overdue"),
    ]
    return steps


# ---------------------------------------------------------------- results ---

@dataclass
class Run:
    kind: str
    seconds: float
    errors: list[str]
    warm_up: bool = False


@dataclass
class Results:
    runs: list[Run] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # errors outside a page run (connection refused, lost)
    sessions_opened: int = 0
    warm: bool = False  # runs added now belong to the warm-up

    def add(self, run: Run) -> None:
        run.warm_up = run.warm_up or self.warm
        self.runs.append(run)


# --------------------------------------------------------------- protocol ---

class Session:
    """One browser tab: a WebSocket to /_stcore/stream, page runs one at a time."""

    def __init__(self, ws_url: str, *, cookie: str | None = None, name: str = ""):
        self.ws_url, self.cookie, self.name = ws_url, cookie, name
        self.ws = None
        self.page_hash = ""
        self.auto_rerun: dict[str, float] = {}  # fragment id -> interval (s), as the server asked
        self._waiter: asyncio.Future | None = None
        self._errors: list[str] = []
        self.elements = 0  # elements drawn by the last run
        self.sign_in_form = False  # the last run showed the sign-in form (the session is not signed in)
        self._reader_task = None

    async def open(self) -> None:
        from websockets.asyncio.client import connect

        headers = {"Cookie": self.cookie} if self.cookie else None
        self.ws = await connect(self.ws_url, subprotocols=["streamlit"], additional_headers=headers,
                                max_size=None, proxy=None, open_timeout=30, ping_interval=None,
                                compression=None)
        self._reader_task = asyncio.create_task(self._read())

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader_task is not None:
            try:
                await asyncio.wait_for(self._reader_task, 10)
            except (asyncio.TimeoutError, Exception):  # noqa: BLE001 - the tab is gone either way
                self._reader_task.cancel()

    async def _read(self) -> None:
        from streamlit.proto.Alert_pb2 import Alert
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        try:
            async for data in self.ws:
                msg = ForwardMsg()
                msg.ParseFromString(data)
                kind = msg.WhichOneof("type")
                if kind == "new_session":
                    self.page_hash = msg.new_session.page_script_hash
                elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                    element = msg.delta.new_element
                    which = element.WhichOneof("type")
                    self.elements += 1
                    if which == "text_input" and element.text_input.label == SIGN_IN_LABEL:
                        self.sign_in_form = True
                    if which == "exception":
                        self._errors.append(f"exception {element.exception.type}: {element.exception.message[:200]}")
                    elif which == "alert" and element.alert.format == Alert.ERROR:
                        self._errors.append(f"error: {element.alert.body[:200]}")
                elif kind == "auto_rerun":
                    self.auto_rerun[msg.auto_rerun.fragment_id] = msg.auto_rerun.interval
                elif kind == "stop_auto_rerun":
                    self.auto_rerun.pop(msg.stop_auto_rerun.fragment_id, None)
                elif kind == "page_not_found":
                    self._errors.append(f"page not found: {msg.page_not_found.page_name}")
                elif kind == "script_finished":
                    if msg.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                        continue  # the script asked for a rerun (st.rerun): the run goes on
                    if msg.script_finished == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                        self._errors.append("script compile error")
                    if self._waiter is not None and not self._waiter.done():
                        self._waiter.set_result(None)
        except Exception as exc:  # noqa: BLE001 - a lost connection ends the run with an error
            if self._waiter is not None and not self._waiter.done():
                self._waiter.set_exception(exc)
            return
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(ConnectionError("the server closed the WebSocket"))

    async def run(self, page: str, query: str, *, fragment_id: str = "") -> tuple[float, list[str]]:
        """One page run (or a fragment's auto-rerun): seconds to ``script_finished``, and the errors shown."""
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ClientState_pb2 import ClientState

        state = ClientState(query_string=query, page_name=page, page_script_hash=self.page_hash if fragment_id else "")
        if fragment_id:
            state.fragment_id = fragment_id
            state.is_auto_rerun = True
        self._errors, self.elements, self.sign_in_form = [], 0, False
        self._waiter = asyncio.get_running_loop().create_future()
        started = time.monotonic()
        await self.ws.send(BackMsg(rerun_script=state).SerializeToString())
        try:
            await asyncio.wait_for(self._waiter, RUN_TIMEOUT_SECONDS)
        except asyncio.TimeoutError:
            self._errors.append(f"no script_finished within {RUN_TIMEOUT_SECONDS} s")
        except Exception as exc:  # noqa: BLE001
            self._errors.append(f"connection: {type(exc).__name__}: {exc}"[:200])
        if self.sign_in_form:
            self._errors.append("the sign-in form: this session is not signed in")
        elif not self._errors and not self.elements and not fragment_id:
            self._errors.append("the page drew nothing")
        return time.monotonic() - started, list(self._errors)


# --------------------------------------------------------------- sessions ---

async def kiosk_screen(ws_url: str, token: str, stop_at: float, results: Results, refresh: float | None) -> None:
    """A wall screen: the big screen once, then its fragment's auto-refresh until the end."""
    session = Session(ws_url, name="kiosk")
    try:
        await session.open()
    except Exception as exc:  # noqa: BLE001
        results.errors.append(f"kiosk: cannot open the WebSocket: {type(exc).__name__}: {exc}"[:200])
        return
    results.sessions_opened += 1
    query = f"kiosk={token}"
    try:
        seconds, errors = await session.run("", query)
        results.add(Run("kiosk_open", seconds, errors))
        while time.monotonic() < stop_at:
            if not session.auto_rerun:
                results.add(Run("kiosk_refresh", 0.0, ["the big screen asked for no auto-refresh"]))
                return
            fragment, interval = next(iter(session.auto_rerun.items()))
            wait = refresh or interval
            if time.monotonic() + wait >= stop_at:
                return
            await asyncio.sleep(wait)
            seconds, errors = await session.run("", query, fragment_id=fragment)
            results.add(Run("kiosk_refresh", seconds, errors))
    finally:
        await session.close()


async def staff_member(ws_url: str, cookie: str, region: str | None, stop_at: float, results: Results,
                       think: float, reload_every: int, seed: int) -> None:
    """A signed-in person clicking through the pages, reloading the tab now and then."""
    rng = random.Random(seed)
    clicks = 0
    while time.monotonic() < stop_at:
        session = Session(ws_url, cookie=cookie, name="staff")
        try:
            await session.open()
        except Exception as exc:  # noqa: BLE001
            results.errors.append(f"staff: cannot open the WebSocket: {type(exc).__name__}: {exc}"[:200])
            await asyncio.sleep(think)
            continue
        results.sessions_opened += 1
        try:
            in_tab = 0
            while time.monotonic() < stop_at and in_tab < reload_every:
                steps = staff_pages(region)
                rng.shuffle(steps[2:])
                for kind, page, query in steps:
                    if time.monotonic() >= stop_at or in_tab >= reload_every:
                        break
                    seconds, errors = await session.run(page, query)
                    results.add(Run(kind, seconds, [f"{page or 'big-screen'}?{query}: {e}" for e in errors]))
                    clicks += 1
                    in_tab += 1
                    await asyncio.sleep(rng.uniform(0.5, 1.5) * think)
        finally:
            await session.close()


async def warm_up(ws_url: str, kiosk_tokens: list[str], staff: list[tuple[str, str | None]], results: Results) -> None:
    """One pass over every page the load asks for, so that 'before' is a server that has served them."""
    for token in kiosk_tokens[:1]:
        session = Session(ws_url)
        await session.open()
        seconds, errors = await session.run("", f"kiosk={token}")
        results.add(Run("kiosk_open", seconds, errors, warm_up=True))
        await session.close()
    for cookie, region in staff:
        session = Session(ws_url, cookie=cookie)
        await session.open()
        for kind, page, query in staff_pages(region):
            seconds, errors = await session.run(page, query)
            results.add(Run(kind, seconds, [f"{page or 'big-screen'}?{query}: {e}" for e in errors], warm_up=True))
        await session.close()


# ----------------------------------------------------------------- memory ---

def cpu_seconds(pids: list[int]) -> float | None:
    """User and system CPU time of the server processes so far (/proc/<pid>/stat)."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total if pids else None


def rss_kib(pid: int, field_name: str = "VmRSS") -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def cache_bytes(url: str) -> int | None:
    """The bytes held by ``st.cache_data`` in the server (Streamlit's /_stcore/metrics)."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/metrics?families=cache_memory_bytes", timeout=10) as resp:
            text = resp.read().decode()
    except OSError:
        return None
    return sum(int(float(line.rsplit(" ", 1)[1])) for line in text.splitlines()
               if line.startswith("cache_memory_bytes{") and 'cache_type="st_cache_data"' in line)


class RssSampler(threading.Thread):
    """The servers' summed resident memory, sampled every ``every`` seconds while the load runs, and the
    bytes of their data caches every ``cache_every`` seconds."""

    def __init__(self, pids: list[int], url: str, every: float = 0.5, cache_every: float = 10):
        super().__init__(daemon=True)
        self.pids, self.url, self.every, self.cache_every = pids, url, every, cache_every
        self.peak, self.cache_peak = 0, 0
        self.timeline: list[tuple[int, float]] = []  # (seconds into the load, RSS MiB) every 30 s
        self._halt = threading.Event()

    def total(self) -> int:
        return sum(rss_kib(p) or 0 for p in self.pids)

    def run(self) -> None:
        started = next_cache = next_point = time.monotonic()
        while not self._halt.wait(self.every):
            total = self.total()
            self.peak = max(self.peak, total)
            if time.monotonic() >= next_point:
                self.timeline.append((round(time.monotonic() - started), _mib(total)))
                next_point += 30
            if time.monotonic() >= next_cache:
                self.cache_peak = max(self.cache_peak, cache_bytes(self.url) or 0)
                next_cache = time.monotonic() + self.cache_every

    def stop(self) -> None:
        self._halt.set()
        self.join(5)


# ----------------------------------------------------------------- writer ---

class Writer(threading.Thread):
    """Appeals received and closed now, written to the system of record every ``every`` seconds."""

    def __init__(self, engine, timezone: str, every: float, arrivals: int, closures: int):
        super().__init__(daemon=True)
        self.engine, self.timezone, self.every = engine, timezone, every
        self.arrivals, self.closures = arrivals, closures
        self.written = {"arrived": 0, "closed": 0, "batches": 0}
        self.errors: list[str] = []
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.wait(self.every):
            try:
                now = local_now(self.timezone).replace(tzinfo=None)
                made = churn.live_changes(self.engine, arrivals=self.arrivals, closures=self.closures, now=now)
            except Exception as exc:  # noqa: BLE001 - reported, the load goes on
                self.errors.append(f"writer: {type(exc).__name__}: {exc}"[:200])
                continue
            self.written["arrived"] += made["arrived"]
            self.written["closed"] += made["closed"]
            self.written["batches"] += 1

    def stop(self) -> None:
        self._halt.set()
        self.join(30)


# ----------------------------------------------------------------- server ---

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen | None = None, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        if (proc is not None and proc.poll() is not None) or time.monotonic() > deadline:
            raise RuntimeError(f"the server at {url} did not answer /_stcore/health")
        time.sleep(0.3)


@contextmanager
def own_server(env: dict[str, str], log_path: Path):
    port = free_port()
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "serve.py"), "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true",
             "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env={**os.environ, **env, "PYTHONUNBUFFERED": "1"}, stdout=log, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            wait_healthy(url, proc)
            note(f"server {url} (pid {proc.pid}) is up; log {log_path}")
            yield url, proc.pid
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def build_city(folder: Path, appeals: int, env: dict[str, str]) -> None:
    """The demo city (seeded once), copied into its analytics store before the server starts."""
    db = folder / "appeals.db"
    if not db.exists():
        folder.mkdir(parents=True, exist_ok=True)
        print(f"seeding a demo city of {appeals:,} appeals into {db} …", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "data_access", "seed", "--scale", "city", "--appeals", str(appeals),
                        "--db", env["APPEALS_DB_URL"]], cwd=ROOT, check=True, stderr=subprocess.DEVNULL)
    note("copying the system of record into the analytics store (python -m data_access sync)")
    subprocess.run([sys.executable, "-m", "data_access", "sync"], cwd=ROOT, check=True,
                   env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def is_loopback(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        return False
    return bool(addresses) and all(a.startswith("127.") or a == "::1" for a in addresses)


# ----------------------------------------------------------------- report ---

def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def summary(results: Results, args, rss: dict, syncs: dict, writer: dict, elapsed: float) -> dict:
    measured = [r for r in results.runs if not r.warm_up]
    errors = [e for r in measured for e in r.errors] + results.errors
    kinds = sorted({r.kind for r in measured})

    def stats(runs):
        seconds = [r.seconds for r in runs]
        return {"runs": len(runs), "errors": sum(len(r.errors) for r in runs),
                "p50": _round(percentile(seconds, 0.5)), "p95": _round(percentile(seconds, 0.95)),
                "max": _round(max(seconds) if seconds else None),
                "mean": _round(statistics.fmean(seconds) if seconds else None)}

    return {
        "name": "load", "sessions": args.sessions, "kiosks": args.kiosks, "staff": args.sessions - args.kiosks,
        "duration_seconds": round(elapsed, 1), "sessions_opened": results.sessions_opened,
        "runs": len(measured), "errors": len(errors), "error_examples": sorted(set(errors))[:10],
        "all": stats(measured), "by_kind": {k: stats([r for r in measured if r.kind == k]) for k in kinds},
        "warm_up": stats([r for r in results.runs if r.warm_up]),
        "rss_mib": rss, "syncs": syncs, "writer": writer,
        "load_average": [round(x, 2) for x in os.getloadavg()], "cpus": os.cpu_count(),
    }


def _round(x):
    return None if x is None else round(x, 3)


def print_table(report: dict) -> None:
    out = sys.stderr
    print(f"\n{report['sessions']} sessions ({report['kiosks']} kiosk screens, {report['staff']} staff) for "
          f"{report['duration_seconds']} s: {report['runs']} page runs, {report['errors']} errors "
          f"(target 0)", file=out)
    print(f"{'kind':<16}{'runs':>7}{'errors':>8}{'p50 s':>8}{'p95 s':>8}{'max s':>8}", file=out)
    for kind, s in [*report["by_kind"].items(), ("all", report["all"])]:
        print(f"{kind:<16}{s['runs']:>7}{s['errors']:>8}{_fmt(s['p50']):>8}{_fmt(s['p95']):>8}{_fmt(s['max']):>8}",
              file=out)
    rss = report["rss_mib"]
    if rss.get("before"):
        print(f"server RSS after one pass over the pages: {rss.get('after_one_pass')} MiB", file=out)
        print(f"server RSS: before {rss['before']} MiB, peak {rss['peak']} MiB, after {rss['after']} MiB; "
              f"growth {rss['growth_percent']} % (target ≤ 10 %)", file=out)
        cache = rss.get("cache_data") or {}
        print(f"of which st.cache_data: before {cache.get('before')} MiB, peak {cache.get('peak')} MiB, "
              f"after {cache.get('after')} MiB", file=out)
    if report.get("server_cpu"):
        cpu = report["server_cpu"]
        print(f"server CPU: {cpu['seconds']} s ({cpu['cores_busy']} cores busy on average), "
              f"{cpu['per_run']} s per page run", file=out)
    if report["syncs"]:
        print(f"syncs that copied rows: {report['syncs'].get('copied')}; writer: {report['writer']}", file=out)
    for e in report["error_examples"]:
        print(f"  error: {e}", file=out)


def _fmt(x):
    return "—" if x is None else f"{x:.2f}"


def _mib(kib: int | None) -> float | None:
    return None if not kib else round(kib / 1024, 1)


def _mib_b(n: int | None) -> float | None:
    return None if n is None else round(n / 2**20, 1)


# ------------------------------------------------------------------- main ---

async def drive(ws_url: str, args, kiosk_tokens: list[str], staff: list[tuple[str, str | None]],
                results: Results, mark) -> float:
    note("warm-up: one pass over every page")
    results.warm = True
    await warm_up(ws_url, kiosk_tokens, staff, results)
    mark("first_pass")
    if args.warm_up:
        note(f"warm-up: {args.sessions} sessions for {args.warm_up:g} s, then {args.settle:g} s of rest")
        await load_phase(ws_url, args, kiosk_tokens, staff, results, args.warm_up)
        await asyncio.sleep(args.settle)
    results.warm = False
    mark("before")
    note(f"load: {args.sessions} sessions for {args.duration:g} s")
    return await load_phase(ws_url, args, kiosk_tokens, staff, results, args.duration)


async def load_phase(ws_url: str, args, kiosk_tokens: list[str], staff: list[tuple[str, str | None]],
                     results: Results, duration: float) -> float:
    started = time.monotonic()
    stop_at = started + duration
    tasks = []
    for i in range(args.kiosks):
        tasks.append(kiosk_screen(ws_url, kiosk_tokens[i % len(kiosk_tokens)], stop_at, results,
                                  args.kiosk_refresh))
    for i in range(args.sessions - args.kiosks):
        cookie, region = staff[i % len(staff)]
        tasks.append(staff_member(ws_url, cookie, region, stop_at, results, args.think, args.reload_every,
                                  seed=args.seed + i))

    async def staggered(i, coro):  # tabs open over the first seconds, not in one burst
        await asyncio.sleep(i * args.ramp / max(1, len(tasks)))
        await coro

    await asyncio.gather(*(staggered(i, c) for i, c in enumerate(tasks)))
    return time.monotonic() - started


_STARTED = time.monotonic()


def note(text: str) -> None:
    print(f"[{time.monotonic() - _STARTED:6.0f} s] {text}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=20, help="concurrent sessions (default 20)")
    parser.add_argument("--kiosks", type=int, help="of which kiosk screens (default: 40 %%); the rest are staff")
    parser.add_argument("--staff", type=int, help="of which staff (the rest kiosk screens)")
    parser.add_argument("--duration", type=float, default=300, help="seconds of load (default 300)")
    parser.add_argument("--refresh", type=int, default=10,
                        help="APPEALS_REFRESH_SECONDS of the server started here: the kiosks' auto-refresh (default 10)")
    parser.add_argument("--kiosk-refresh", type=float,
                        help="re-run a kiosk's fragment this often instead of when the server asks")
    parser.add_argument("--think", type=float, default=3.0, help="staff's mean seconds between clicks (default 3)")
    parser.add_argument("--reload-every", type=int, default=15, help="staff reload the tab after this many clicks")
    parser.add_argument("--ramp", type=float, default=10, help="seconds over which the sessions open (default 10)")
    parser.add_argument("--sync-interval", type=float, default=10, help="APPEALS_SYNC_INTERVAL_SECONDS (default 10)")
    parser.add_argument("--reconcile", type=float, default=60, help="APPEALS_RECONCILE_SECONDS (default 60)")
    parser.add_argument("--write-every", type=float, default=5,
                        help="seconds between the writer's batches (0: no writer; default 5)")
    parser.add_argument("--arrivals", type=int, default=10, help="appeals received per batch (default 10)")
    parser.add_argument("--closures", type=int, default=10, help="open appeals closed per batch (default 10)")
    parser.add_argument("--appeals", type=int, default=500_000, help="appeals of the demo city seeded here")
    parser.add_argument("--data", type=Path, help="folder of the demo city (default bench/out/load[-N])")
    parser.add_argument("--url", help="a running deployment on this machine instead of a server started here")
    parser.add_argument("--db", help="with --url: the SQLAlchemy URL of its system of record (or APPEALS_DB_URL)")
    parser.add_argument("--pid", help="with --url: the server process id(s), comma-separated, for the memory figures")
    parser.add_argument("--warm-up", type=float,
                        help="seconds of the same load before 'before' is read (default: --duration, a first "
                             "identical load, so that the growth is what a second one adds; 0: one pass over the "
                             "pages only)")
    parser.add_argument("--settle", type=float, default=150,
                        help="seconds of rest after the warm-up and after the load before the memory is read "
                             "(Streamlit forgets a closed tab after server.disconnectedSessionTTL, 120 s)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json-only", action="store_true", help="print only the JSON line")
    args = parser.parse_args(argv)
    if args.warm_up is None:
        args.warm_up = args.duration
    if args.staff is not None:
        args.kiosks = args.sessions - args.staff
    if args.kiosks is None:
        args.kiosks = round(args.sessions * 0.4)
    if not 0 <= args.kiosks <= args.sessions:
        parser.error("--kiosks/--staff must split --sessions")
    if args.url and not is_loopback(args.url):
        parser.error("--url must be a loopback address (127.0.0.1, ::1, localhost): this is a load test")
    random.seed(args.seed)
    from streamlit import logger as st_logger

    st_logger.set_log_level("error")

    env: dict[str, str] = {}
    if args.url:
        db_url = args.db or os.environ.get("APPEALS_DB_URL")
        if not db_url:
            parser.error("--url needs --db (or APPEALS_DB_URL) to make kiosk tokens and sessions")
        secret_settings = _settings_for(db_url, None)
    else:
        folder = args.data or ROOT / "bench" / "out" / ("load" if args.appeals == 500_000 else f"load-{args.appeals}")
        db_url = f"sqlite:///{folder / 'appeals.db'}"
        env = {"APPEALS_DB_URL": db_url, "APPEALS_ANALYTICS_PATH": str(folder / "analytics.duckdb"),
               "APPEALS_COOKIE_SECRET": secrets.token_urlsafe(32), "APPEALS_REFRESH_SECONDS": str(args.refresh),
               "APPEALS_SYNC_INTERVAL_SECONDS": str(args.sync_interval),
               "APPEALS_RECONCILE_SECONDS": str(args.reconcile)}
        build_city(folder, args.appeals, env)
        secret_settings = _settings_for(db_url, env)
    engine = make_engine(db_url)
    from data_access import cityzone

    timezone = cityzone.zone_of(engine, secret_settings)
    secret = auth.cookie_secret(secret_settings)
    kiosk_tokens = [auth.create_kiosk_token(engine, code, label="load test", actor="bench")
                    for code in (CITY, *DISTRICTS)]
    staff_tokens = [(auth.start_session(engine, auth.Principal(name=n, role="city", region_code=r)), r)
                    for n, r in STAFF]
    staff = [(f"{_cookie_name()}={auth.sign_cookie(t, secret)}", r) for t, r in staff_tokens]
    results = Results()
    version_before = None if args.url else _store_status(env)["version"]
    server = _existing(args.url) if args.url else own_server(env, Path(env["APPEALS_ANALYTICS_PATH"]).parent / "server.log")
    try:
        with server as (url, pid):
            pids = [pid] if pid else [int(p) for p in (args.pid or "").split(",") if p.strip()]
            ws_url = url.replace("http", "ws", 1).rstrip("/") + "/_stcore/stream"
            sampler = RssSampler(pids, url)
            writer = Writer(engine, timezone, args.write_every, args.arrivals, args.closures) if args.write_every else None
            marks: dict[str, int] = {}

            def mark(stage: str) -> None:
                marks[stage], marks[f"cache_{stage}"] = sampler.total(), cache_bytes(url)
                if stage == "first_pass" and writer is not None:
                    writer.start()  # syncs with rows to copy from the warm-up load on
                if stage == "before":
                    marks["cpu_before"] = cpu_seconds(pids)
                    sampler.start()

            elapsed = asyncio.run(drive(ws_url, args, kiosk_tokens, staff, results, mark))
            cpu_after = cpu_seconds(pids)
            if writer is not None:
                writer.stop()
            sampler.stop()
            time.sleep(args.settle)
            after, before = sampler.total(), marks.get("before")
            cache = {"before": _mib_b(marks.get("cache_before")), "peak": _mib_b(sampler.cache_peak),
                     "after": _mib_b(cache_bytes(url))}
            first = marks.get("first_pass")
            rss = {"after_one_pass": _mib(first),
                   "growth_from_one_pass_percent": round(100 * (after - first) / first, 1) if first else None,
                   "before": _mib(before), "peak": _mib(max(sampler.peak, before or 0)), "after": _mib(after),
                   "growth_percent": round(100 * (after - before) / before, 1) if before else None,
                   "peak_growth_percent": round(100 * (sampler.peak - before) / before, 1) if before else None,
                   "high_water_mark": _mib(sum(rss_kib(p, "VmHWM") or 0 for p in pids)), "pids": pids,
                   "cache_data": cache, "timeline": sampler.timeline}
    finally:
        for token in kiosk_tokens:
            auth.revoke_kiosk_token(engine, token, actor="bench")
        for token, _ in staff_tokens:
            auth.end_session(engine, token, reason="bench")
    syncs = {}
    if not args.url:  # the store is the server's while it runs: read once it has stopped
        status = _store_status(env)
        syncs = {"copied": status["version"] - version_before, "appeals_in_copy": status["appeals"],
                 "appeals_in_source": _appeal_count(engine)}
    engine.dispose()
    written = {**(writer.written if writer else {}), "errors": writer.errors[:5] if writer else []}
    report = summary(results, args, rss, syncs, written, elapsed)
    if marks.get("cpu_before") is not None and cpu_after is not None:
        used = cpu_after - marks["cpu_before"]
        report["server_cpu"] = {"seconds": round(used, 1), "per_run": round(used / max(1, report["runs"]), 3),
                                "cores_busy": round(used / elapsed, 2)}
    print(json.dumps(report, ensure_ascii=False), flush=True)
    if not args.json_only:
        print_table(report)
    growth = report["rss_mib"].get("growth_percent")
    return 0 if report["errors"] == 0 and not written["errors"] and (growth is None or growth <= 10) else 1


def _cookie_name() -> str:
    from ui.auth import COOKIE

    return COOKIE


def _settings_for(db_url: str, env: dict[str, str] | None):
    from data_access.config import load_settings

    saved = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    os.environ.setdefault("APPEALS_DB_URL", db_url)
    try:
        return load_settings()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextmanager
def _existing(url: str):
    wait_healthy(url, timeout=30)
    yield url.rstrip("/"), None


def _store_status(env: dict[str, str]) -> dict:
    """The analytics store's data version (every sync that copies rows increments it) and its appeals."""
    from data_access import analytics, sync

    con = analytics.open_store(env["APPEALS_ANALYTICS_PATH"])
    try:
        status = sync.status(con)
        return {"version": status.version, "appeals": status.appeals}
    finally:
        con.close()


def _appeal_count(engine) -> int:
    from data_access.store import row_count
    from data_access import schema

    return row_count(engine, schema.appeals)


if __name__ == "__main__":
    sys.exit(main())
