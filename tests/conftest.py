"""Shared fixtures: the app's page files, AppTest factory, a live `streamlit run` server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# AppTest's default 3 s is shorter than `import torch` plus a first torch.func call.
APPTEST_TIMEOUT = 120
DTYPE = torch.float64


def page_files() -> list[Path]:
    """app.py and every script in pages/, discovered (new pages are covered automatically)."""
    return [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))]


def url_path(page: Path) -> str:
    """The URL path Streamlit serves a pages/ script at: '1_Non_convexity.py' -> 'Non_convexity'."""
    if page.name == "app.py":
        return ""
    stem = page.stem
    head, _, rest = stem.partition("_")
    return rest if head.isdigit() and rest else stem


@pytest.fixture
def app_test():
    """Factory: ``app_test(path, query={...})`` -> an AppTest that has run once."""
    from streamlit.testing.v1 import AppTest

    def make(path: Path | str, query: dict | None = None, run: bool = True):
        at = AppTest.from_file(str(ROOT / path), default_timeout=APPTEST_TIMEOUT)
        if query:
            at.query_params.update(query)
        if run:
            at.run()
        return at

    return make


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_server():
    port = _free_port()
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(ROOT / "app.py"),
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(base + "/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.5)
        if proc.poll() is not None:
            raise RuntimeError("streamlit exited: " + proc.stdout.read().decode(errors="replace")[-2000:])
    else:
        proc.kill()
        raise RuntimeError("streamlit did not become healthy in 90 s")
    return proc, base


def _stop_server(proc) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def server():
    """A `streamlit run app.py` on a free loopback port, shared by the browser tests; yields its base URL."""
    proc, base = _start_server()
    yield base
    _stop_server(proc)


@pytest.fixture
def fresh_server():
    """A server no browser has talked to yet (routing bugs show on the first session only)."""
    proc, base = _start_server()
    yield base
    _stop_server(proc)


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium via Playwright. Skips only where no chromium exists and CI did not demand it."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("OPTLAB_REQUIRE_BROWSER"):
            pytest.fail(f"{CHROMIUM} missing but OPTLAB_REQUIRE_BROWSER is set (CI must run browser tests)")
        pytest.skip(f"no chromium at {CHROMIUM}: install Debian's chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory) -> Path:
    """Where browser tests save screenshots (OPTLAB_SCREENSHOTS keeps them, else a temp folder)."""
    keep = os.environ.get("OPTLAB_SCREENSHOTS")
    path = Path(keep) if keep else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def wait_for_script(page, timeout: float = 60_000) -> None:
    """Wait until Streamlit's script run has finished and the app is idle."""
    page.wait_for_selector("[data-test-script-state='notRunning']", state="attached", timeout=timeout)
    page.wait_for_timeout(300)  # let Vega finish drawing
    page.wait_for_selector("[data-test-script-state='notRunning']", state="attached", timeout=timeout)
