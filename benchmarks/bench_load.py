"""Load test: N concurrent browser sessions against one `streamlit run app.py` (a lecture hall).

Starts its own server on a loopback port, opens ``--sessions`` pages in ONE headless chromium
(Playwright, async), and every session walks the whole app the way a student does: it opens the
home page, follows our sidebar links to every page (one websocket session per student, as in a
real browser), and on each topic page moves a slider ``--rounds`` times with the keyboard (focus
the thumb, ArrowRight), waiting each time until the script run it triggered has finished.

Sessions do not all move the same control: session ``s`` moves control ``s mod k`` of the
page's list below, so the server sees both shared work (students following the instructor: the
same settings, one computation under ``st.cache_data``'s per-key lock) and different work.

Measured and printed as Markdown tables:

- interactions done, errors (timeouts, page crashes, uncaught JS errors: must be 0),
  ``stException`` elements seen on any page (must be 0), server health at the end;
- latency per interaction: keypress -> the rerun it caused has finished
  (``data-test-script-state`` of ``stApp`` back to ``notRunning`` after a ``running``),
  p50/p95/max, for slider moves and for page switches separately (target p95 ≤ 2 s);
- server RSS (the server process and its children, from /proc, every second) over time,
  with the interactions completed by then (target ≤ 1 GB, and flat once caches are warm).

Idle detection: Streamlit 1.67 marks the app root ``[data-testid=stApp]`` with
``data-test-script-state`` (initial, running, notRunning, rerunRequested, ...). Right after a
keypress the state may still say ``notRunning`` (the rerun request is not out yet), so an
in-page MutationObserver counts transitions to ``running``; an interaction is done when that
count has grown and the state is ``notRunning`` again.

Bounded: loopback only, a hard ``--timeout`` for the whole run (default 600 s), and the server
is stopped by its PID in a ``finally``.

Run: .venv/bin/python benchmarks/bench_load.py [--sessions 20] [--rounds 3] [--port 0]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from _util import table

from tests.serve import free_port, healthy, launch, stop, wait_healthy

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
VIEWPORT = {"width": 1280, "height": 860}

# URL path -> sliders (by label) a session moves there; session s takes CONTROLS[path][s % k].
# Each moves away from its default by one step per round (all defaults leave room for 10 steps).
CONTROLS: dict[str, list[str]] = {
    "": [],  # home: navigation only
    "Non_convexity": ["λ (weight decay)", "γ (learning rate)", "restarts"],
    "Plateaus": ["Your start w₀", "λ (weight decay)"],
    "Conditioning": ["start θ₁", "rotation (degrees)", "GD steps"],
    "Normalization": ["Correlation ρ", "Mean offset μ₁ = μ₂"],
    "BatchNorm_and_Skip": ["Learning rate γ", "Slice half-width"],
}

# Counts transitions of the app root to "running" (installed before any page script runs).
OBSERVER = """
(() => {
  window.__runs = 0;
  new MutationObserver((records) => {
    for (const r of records) {
      if (r.target.getAttribute('data-test-script-state') === 'running') window.__runs += 1;
    }
  }).observe(document, {subtree: true, attributes: true, attributeFilter: ['data-test-script-state']});
})();
"""
# ``arg``: the run count before the action, or [that count, location.search before the action].
# A rerun that starts and ends between two frames may never show "running" in the DOM (seen
# under heavy load, when the browser handles both messages at once); every control is bound to
# the URL, so a changed query string also proves the rerun happened.
IDLE_JS = """(arg) => {
  const [before, search] = Array.isArray(arg) ? arg : [arg, null];
  const app = document.querySelector('[data-testid="stApp"]');
  const ran = window.__runs > before || (search !== null && window.location.search !== search);
  return !!app && ran && app.getAttribute('data-test-script-state') === 'notRunning';
}"""
STATE_JS = "() => document.querySelector('[data-testid=\"stApp\"]')?.getAttribute('data-test-script-state')"


@dataclass
class Stats:
    moves: list[float] = field(default_factory=list)  # seconds, slider move -> idle
    by_page: dict[str, list[float]] = field(default_factory=dict)  # "page: slider" -> move seconds
    switches: list[float] = field(default_factory=list)  # seconds, sidebar link -> idle
    loads: list[float] = field(default_factory=list)  # seconds, goto home -> idle
    errors: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)  # "session/page: text"
    js_errors: list[str] = field(default_factory=list)
    pages_seen: int = 0
    done_at: list[float] = field(default_factory=list)  # monotonic time of every finished interaction


# --- the server ------------------------------------------------------------------------------


# --- memory sampling from /proc ----------------------------------------------------------------------


def tree(pid: int) -> list[int]:
    """pid and all its descendants (from /proc/<pid>/task/*/children)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                todo += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                pass
    return out


def rss_mb(pid: int) -> float:
    total = 0
    for p in tree(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of pid and its descendants."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError):
            pass
    return total / tick


def threads(pid: int) -> int:
    try:
        return len(list(Path(f"/proc/{pid}/task").iterdir()))
    except OSError:
        return 0


def client_cpu_s(server_pid: int) -> float:
    """CPU seconds of everything this benchmark started except the server (chromium, driver)."""
    server = set(tree(server_pid))
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in tree(os.getpid()):
        if p in server or p == os.getpid():
            continue
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError):
            pass
    return total / tick


class Sampler(threading.Thread):
    """Samples the server's RSS, CPU time and thread count, and the clients' CPU time, every
    ``every`` seconds until stopped (low server CPU with slow interactions: look at the clients)."""

    def __init__(self, pid: int, every: float = 1.0):
        super().__init__(daemon=True)
        self.pid, self.every = pid, every
        self.samples: list[tuple[float, float, float]] = []  # (monotonic, MB, cpu s)
        self.extra: list[tuple[int, float]] = []  # (server threads, client cpu s), same rows
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            self.samples.append((time.monotonic(), rss_mb(self.pid), cpu_s(self.pid)))
            self.extra.append((threads(self.pid), client_cpu_s(self.pid)))
            self._halt.wait(self.every)

    def stop(self) -> None:
        self._halt.set()
        self.join(5)


def renice_clients(server_pid: int, nice: int) -> None:
    """Lower the priority of every thread of our descendants except the server's: chromium's
    renderers (forked later, they inherit it) then stand in for the students' own laptops
    instead of competing with the server for the same two cores."""
    server = set(tree(server_pid))
    for p in tree(os.getpid()):
        if p == os.getpid() or p in server:
            continue
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                os.setpriority(os.PRIO_PROCESS, int(task.name), nice)
            except OSError:
                pass


# --- one student ----------------------------------------------------------------------------------


async def wait_rerun(page, before: int | list, timeout_ms: float) -> None:
    await page.wait_for_function(IDLE_JS, arg=before, timeout=timeout_ms, polling=50)


async def runs(page) -> int:
    return await page.evaluate("() => window.__runs")


async def count_exceptions(page, where: str, stats: Stats) -> None:
    exc = page.locator("[data-testid='stException']")
    n = await exc.count()
    if n:
        text = (await exc.first.inner_text())[:200].replace("\n", " ")
        stats.exceptions.append(f"{where}: {n} × {text}")


async def student(s: int, browser, base: str, rounds: int, stats: Stats, step_ms: float, start_delay: float) -> None:
    await asyncio.sleep(start_delay)  # students arrive over a few seconds, not in one instant
    context = await browser.new_context(viewport=VIEWPORT)
    await context.add_init_script(OBSERVER)
    page = await context.new_page()
    page.on("pageerror", lambda e: stats.js_errors.append(f"s{s}: {str(e)[:200]}"))
    where = f"s{s}/home"
    try:
        t = time.monotonic()
        await page.goto(base + "/", wait_until="domcontentloaded", timeout=step_ms)
        links = page.locator("[data-testid='stSidebar'] [data-testid='stPageLink'] a")
        await links.nth(len(CONTROLS) - 1).wait_for(state="attached", timeout=step_ms)
        await wait_rerun(page, 0, step_ms)
        stats.loads.append(time.monotonic() - t)
        stats.done_at.append(time.monotonic())
        await count_exceptions(page, where, stats)
        stats.pages_seen += 1
        for i, (path, labels) in enumerate(CONTROLS.items()):
            where = f"s{s}/{path or 'home'}"
            if i:  # follow our sidebar link to the page
                before = await runs(page)
                t = time.monotonic()
                await links.nth(i).click(timeout=step_ms)
                await page.wait_for_url(f"**/{path}", timeout=step_ms)
                await wait_rerun(page, before, step_ms)
                stats.switches.append(time.monotonic() - t)
                stats.done_at.append(time.monotonic())
                await count_exceptions(page, where, stats)
                stats.pages_seen += 1
            if not labels:
                continue
            label = labels[s % len(labels)]
            # the thumb is an <input type=range> labelled with the widget's label (react-aria)
            thumb = page.locator(
                f"[data-testid='stSlider'] input[type=range][aria-label={json.dumps(label, ensure_ascii=False)}]"
            )
            for r in range(rounds):
                await thumb.focus(timeout=step_ms)
                value = await thumb.input_value()
                before = [await runs(page), await page.evaluate("() => window.location.search")]
                t = time.monotonic()
                await thumb.press("ArrowRight", timeout=step_ms)
                await wait_rerun(page, before, step_ms)
                stats.moves.append(time.monotonic() - t)
                stats.by_page.setdefault(f"{path}: {label}", []).append(stats.moves[-1])
                stats.done_at.append(time.monotonic())
                if await thumb.input_value() == value:
                    stats.errors.append(f"{where}: slider {label!r} did not move in round {r}")
                await count_exceptions(page, f"{where} after {label!r} round {r}", stats)
    except Exception as e:  # a timeout or a crash is an error of the run, not of the benchmark
        stats.errors.append(f"{where}: {type(e).__name__}: {str(e).splitlines()[0][:200]}")
    finally:
        state = await page.evaluate(STATE_JS) if not page.is_closed() else None
        if state not in ("notRunning", None):
            stats.errors.append(f"s{s}: app left in state {state!r}")
        await context.close()


async def hall(
    base: str, sessions: int, rounds: int, stats: Stats, step_ms: float, ramp: float, server_pid: int, nice: int
) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        if nice:
            renice_clients(server_pid, nice)
        try:
            await asyncio.gather(
                *(student(s, browser, base, rounds, stats, step_ms, ramp * s / sessions) for s in range(sessions))
            )
        finally:
            await browser.close()


# --- report -----------------------------------------------------------------------------------------


def pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(q * (len(xs) - 1))))]


def latency_row(name: str, xs: list[float]) -> dict:
    return {
        "interaction": name,
        "n": len(xs),
        "p50 (s)": f"{pct(xs, 0.5):.2f}",
        "p95 (s)": f"{pct(xs, 0.95):.2f}",
        "max (s)": f"{max(xs):.2f}" if xs else "–",
        "mean (s)": f"{statistics.fmean(xs):.2f}" if xs else "–",
    }


def rss_rows(samples, extra, t0: float, done_at: list[float], rows: int = 24) -> list[dict]:
    """About ``rows`` evenly spaced samples: time, RSS, interactions done by then, server and
    client CPU % since the previous row (100 % = one core), server threads."""
    if not samples:
        return []
    stride = max(1, len(samples) // rows)
    picked = list(range(0, len(samples), stride))
    if picked[-1] != len(samples) - 1:
        picked.append(len(samples) - 1)
    out, prev = [], None
    for i in picked:
        (t, mb, cpu), (nthreads, ccpu) = samples[i], extra[i]
        dt = None if prev is None else max(t - prev[0], 1e-9)
        out.append(
            {
                "t (s)": f"{t - t0:.0f}",
                "RSS (MB)": f"{mb:.0f}",
                "interactions done": sum(1 for d in done_at if d <= t),
                "server CPU %": "" if dt is None else f"{100 * (cpu - prev[1]) / dt:.0f}",
                # blank when chromium processes exited since the last row (their CPU time left the sum)
                "chromium CPU %": "" if dt is None or ccpu < prev[2] else f"{100 * (ccpu - prev[2]) / dt:.0f}",
                "server threads": nthreads,
                "curve": "#" * round(mb / 25),
            }
        )
        prev = (t, cpu, ccpu)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=3, help="slider moves per topic page and session")
    ap.add_argument("--port", type=int, default=0, help="0: a free loopback port")
    ap.add_argument("--timeout", type=float, default=600, help="hard limit for the whole run, seconds")
    ap.add_argument("--step-timeout", type=float, default=90, help="limit for one interaction, seconds")
    ap.add_argument("--ramp", type=float, default=5, help="students arrive over this many seconds")
    ap.add_argument(
        "--nice-browser", type=int, default=10, help="nice value of chromium (the clients); 0: same as the server"
    )
    ap.add_argument("--tail", type=float, default=10, help="seconds of RSS sampling after the last session")
    args = ap.parse_args()
    if not Path(CHROMIUM).exists():
        print(f"no chromium at {CHROMIUM}", file=sys.stderr)
        return 2

    port = args.port or free_port()
    base = f"http://127.0.0.1:{port}"
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"optlab_bench_load_{port}.log"
    stats, sampler, proc = Stats(), None, None
    t_start = time.monotonic()
    timed_out = False
    try:
        proc = launch(port, stdout=log.open("w"))
        boot = wait_healthy(proc, base)
        sampler = Sampler(proc.pid)
        sampler.start()
        t0 = time.monotonic()
        budget = max(10.0, args.timeout - (t0 - t_start) - args.tail - 15)
        try:
            asyncio.run(
                asyncio.wait_for(
                    hall(
                        base,
                        args.sessions,
                        args.rounds,
                        stats,
                        args.step_timeout * 1000,
                        args.ramp,
                        proc.pid,
                        args.nice_browser,
                    ),
                    budget,
                )
            )
        except TimeoutError:
            timed_out = True
            stats.errors.append(f"whole run exceeded its {budget:.0f} s budget")
        t_end = time.monotonic()
        time.sleep(args.tail)  # idle: does memory settle?
        ok_end = healthy(base)
        sampler.stop()
        rss_peak = max(mb for _, mb, _ in sampler.samples)
        rss_end = sampler.samples[-1][1]
    finally:
        if proc is not None:
            stop(proc)
        if sampler is not None:
            sampler.stop()

    expected_pages = args.sessions * len(CONTROLS)
    expected_moves = args.sessions * args.rounds * sum(1 for v in CONTROLS.values() if v)
    interactions = len(stats.moves) + len(stats.switches) + len(stats.loads)
    cpu_used = sampler.samples[-1][2] - sampler.samples[0][2]
    load1, load5, _ = os.getloadavg()
    print(f"## Load test: {args.sessions} sessions × {args.rounds} rounds, one chromium, server on {base}\n")
    print(
        f"Machine: {os.cpu_count()} cores, load average {load1:.2f} (1 min) / {load5:.2f} (5 min) at the end; "
        f"server healthy after {boot:.1f} s; sessions ran {t_end - t0:.0f} s; chromium at nice "
        f"{args.nice_browser} (clients yield the CPU to the server, as if on their own laptops). Server log: {log}\n"
    )
    summary = [
        {"what": "page loads (home, by URL)", "done": len(stats.loads), "expected": args.sessions},
        {
            "what": "page switches (sidebar link)",
            "done": len(stats.switches),
            "expected": expected_pages - args.sessions,
        },
        {"what": "slider moves", "done": len(stats.moves), "expected": expected_moves},
        {"what": "errors (timeouts, crashes, no-op moves)", "done": len(stats.errors), "expected": 0},
        {"what": "stException elements (pages showing one)", "done": len(stats.exceptions), "expected": 0},
        {"what": "uncaught JS errors", "done": len(stats.js_errors), "expected": 0},
        {"what": "server healthy at the end (/_stcore/health)", "done": "yes" if ok_end else "NO", "expected": "yes"},
        {
            "what": "server CPU seconds per interaction (all interactions; load-independent cost)",
            "done": f"{cpu_used / max(1, interactions):.2f} ({cpu_used:.0f} s / {interactions})",
            "expected": "–",
        },
        {"what": "server RSS peak / at the end (MB)", "done": f"{rss_peak:.0f} / {rss_end:.0f}", "expected": "≤ 1024"},
    ]
    print(table(summary) + "\n")
    rows = [
        latency_row(n, xs) for n, xs in (("slider move → idle", stats.moves), ("page switch → idle", stats.switches))
    ]
    rows.append(latency_row("first load of home → idle", stats.loads))
    print("Latency (target: slider move p95 ≤ 2 s)\n")
    print(table(rows) + "\n")
    print("Slider moves per page and control\n")
    print(table([latency_row(name, xs) for name, xs in sorted(stats.by_page.items())]) + "\n")
    print("Server RSS over time (process + children, sampled every second; curve: one # per 25 MB)\n")
    print(table(rss_rows(sampler.samples, sampler.extra, t0, stats.done_at)) + "\n")
    for title, items in (("Errors", stats.errors), ("Exceptions", stats.exceptions), ("JS errors", stats.js_errors)):
        if items:
            print(f"{title} (first 20 of {len(items)}):")
            for item in items[:20]:
                print(f"- {item}")
            print()
    failed = stats.errors or stats.exceptions or stats.js_errors or not ok_end or timed_out
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
