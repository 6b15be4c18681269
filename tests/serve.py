"""A `streamlit run app.py` on a free loopback port: started, health-checked, stopped by PID.

One implementation for the browser-test fixtures (tests/conftest.py) and the benchmarks that
need a live server (bench_browser_latency, bench_load, bench_coldstart).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(base: str) -> bool:
    """True when ``base``/_stcore/health answers ``ok``."""
    try:
        with urllib.request.urlopen(base + "/_stcore/health", timeout=5) as r:
            return r.status == 200 and r.read().strip() == b"ok"
    except OSError:
        return False


def launch(port: int, root: Path = ROOT, stdout=subprocess.PIPE) -> subprocess.Popen:
    """Start the server (headless, loopback only); returns at once. ``stdout``: PIPE or a file."""
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true"]
    cmd += ["--server.port", str(port), "--server.address", "127.0.0.1"]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen(cmd, cwd=root, env=env, stdout=stdout, stderr=subprocess.STDOUT)


def wait_healthy(proc: subprocess.Popen, base: str, timeout: float = 120) -> float:
    """Seconds until the server answers its health check; raises if it exits or takes too long."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if proc.poll() is not None:
            out = proc.stdout.read().decode(errors="replace")[-2000:] if proc.stdout else ""
            raise RuntimeError(f"streamlit exited with {proc.returncode}: {out}")
        if healthy(base):
            return time.monotonic() - t0
        time.sleep(0.1)
    raise RuntimeError(f"streamlit not healthy after {timeout:g} s")


def stop(proc: subprocess.Popen) -> None:
    """Stop the server we started, by its PID (SIGTERM, then SIGKILL after 10 s)."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def start(root: Path = ROOT, stdout=subprocess.PIPE, timeout: float = 120) -> tuple[subprocess.Popen, str]:
    """``launch`` on a free port and wait until healthy; returns (process, base URL)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = launch(port, root, stdout)
    try:
        wait_healthy(proc, base, timeout)
    except BaseException:
        stop(proc)
        raise
    return proc, base
