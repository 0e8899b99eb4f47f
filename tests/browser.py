"""Helpers for the real-browser tests: a Streamlit server on a free port and headless Chromium."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]


def require_chromium() -> None:
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip("Debian chromium is not installed (apt-get install chromium); .ci/run installs it")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def streamlit_server(env: dict[str, str], log_path: Path):
    port = free_port()
    full_env = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "serve.py"), "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true"],
            cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                        if resp.status == 200:
                            break
                except OSError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"streamlit did not start; see {log_path}")
                time.sleep(0.3)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


@contextmanager
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


# While the page's script runs, Streamlit's status widget shows its running icon (after the first 500 ms of a
# run; its visible text is "Stop", the words "Running..." are only the icon's aria-label).
_RUNNING = '() => !!document.querySelector(\'[data-testid="stStatusWidgetRunningIcon"]\')'
_SCRIPT_DONE = '() => !document.querySelector(\'[data-testid="stStatusWidgetRunningIcon"]\')'


def settle(page, pause_ms: int = 1500, timeout_ms: int = 60_000) -> None:
    """Wait until the page's script has finished and ``pause_ms`` have passed for the drawing. A run that was
    only starting (its icon shows after 500 ms) is caught after the pause and waited for too."""
    page.wait_for_function(_SCRIPT_DONE, timeout=timeout_ms)
    page.wait_for_timeout(max(pause_ms, 600))
    if page.evaluate(_RUNNING):
        page.wait_for_function(_SCRIPT_DONE, timeout=timeout_ms)
        page.wait_for_timeout(min(pause_ms, 500))


def sign_in(page, account: str, password: str) -> None:
    """Fill and send the sign-in form the page shows; wait until the person is signed in."""
    page.get_by_label("用户名").fill(account)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.get_by_role("button", name="退出登录").wait_for(state="attached", timeout=60_000)


def wait_for_app(page, timeout_ms: int = 60_000) -> None:
    """Wait until the script has finished and the page holds its tiles and map."""
    page.wait_for_selector('[data-testid="stMetric"]', timeout=timeout_ms)
    page.wait_for_selector('[data-testid="stDeckGlJsonChart"] canvas', timeout=timeout_ms)
    settle(page, 2500, timeout_ms)  # let deck.gl and plotly finish drawing


def distinct_colors(png_bytes: bytes) -> int:
    from io import BytesIO

    from PIL import Image

    img = Image.open(BytesIO(png_bytes)).convert("RGB").resize((200, 200))
    return len(set(img.getdata()))


def image_difference(a: bytes, b: bytes) -> float:
    """Mean absolute pixel difference (0–255) between two screenshots of the same size."""
    from io import BytesIO

    from PIL import Image, ImageChops, ImageStat

    ia = Image.open(BytesIO(a)).convert("L").resize((300, 300))
    ib = Image.open(BytesIO(b)).convert("L").resize((300, 300))
    return ImageStat.Stat(ImageChops.difference(ia, ib)).mean[0]


@contextmanager
def tile_server():
    """A local XYZ tile server: every tile is a plain green PNG. Yields (url template, list of hits)."""
    import http.server
    import threading
    from io import BytesIO

    from PIL import Image

    buf = BytesIO()
    Image.new("RGB", (256, 256), TILE_GREEN).save(buf, "PNG")
    png, hits = buf.getvalue(), []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the stdlib's name
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Access-Control-Allow-Origin", "*")
            self.end_headers()
            self.wfile.write(png)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/{{z}}/{{x}}/{{y}}.png", hits
    finally:
        server.shutdown()


TILE_GREEN = (40, 120, 60)


def share_of_color(png_bytes: bytes, rgb, tolerance: int = 12) -> float:
    from io import BytesIO

    from PIL import Image

    img = Image.open(BytesIO(png_bytes)).convert("RGB").resize((200, 200))
    pixels = list(img.getdata())
    near = sum(1 for p in pixels if all(abs(a - b) <= tolerance for a, b in zip(p, rgb)))
    return near / len(pixels)
