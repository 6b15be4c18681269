"""Cold start: how long a fresh `streamlit run app.py` takes to serve its first student.

(a) launch -> ``/_stcore/health`` answers ok (the venv is set up; no browser involved);
(b) a fresh server -> the first page fully rendered in the browser, for the home page and for a
    topic page opened first (a deep link from a slide): the title painted (first paint) and the
    page idle with every chart drawn (full render), counted from ``goto`` and from the launch;
(c) the first reruns after that: the first topic page opened from the home page through the
    sidebar (does the home page's warm-up pay off?), then the first and second slider moves
    there (keypress -> run over; the charts redraw after).

One headless chromium (started before any server), a new loopback server per scenario, each
stopped by its PID. ``--root`` measures another checkout (e.g. a copy with a change to compare).

Run: .venv/bin/python benchmarks/bench_coldstart.py [--repeat 3] [--root DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

from _util import ROOT, table
from bench_load import CHROMIUM, CHROMIUM_ARGS, IDLE_JS, OBSERVER

from tests.serve import free_port, launch, stop, wait_healthy

VIEWPORT = {"width": 1280, "height": 860}
TOPIC, TOPIC_LINK, TOPIC_SLIDER = "Non_convexity", 1, "λ (weight decay)"
# Charts mount after the run is over (Streamlit loads its Vega chunk lazily): a page is fully
# rendered when it has charts, all of them drawn, and their number has not changed for 1 s.
# window.__since (performance.now() of the last change) dates the render without that second.
CHARTS_SETTLED_JS = """() => {
  const all = document.querySelectorAll('[data-testid="stVegaLiteChart"]').length;
  const drawn = [...document.querySelectorAll('.vega-embed')].filter(e => e.querySelector('canvas, svg.marks')).length;
  const now = performance.now();
  if (window.__all !== all || window.__drawn !== drawn) {
    window.__all = all; window.__drawn = drawn; window.__since = now;
  }
  return all > 0 && drawn >= all && now - window.__since > 1000;
}"""


def median(xs: list[float]) -> str:
    return f"{statistics.median(xs):.2f}" if xs else "–"


def spread(xs: list[float]) -> str:
    return " / ".join(f"{x:.2f}" for x in xs)


class Fresh:
    """A fresh server for one scenario: started on enter, stopped by PID on exit."""

    def __init__(self, root: Path):
        self.root, self.port = root, free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = Path(os.environ.get("TMPDIR", "/tmp")) / f"optlab_bench_coldstart_{self.port}.log"

    def __enter__(self):
        self.t_launch = time.monotonic()
        self.proc = launch(self.port, self.root, stdout=self.log.open("w"))
        self.health = wait_healthy(self.proc, self.base)
        return self

    def __exit__(self, *exc):
        stop(self.proc)


def runs(page) -> int:
    return page.evaluate("() => window.__runs")


def wait_idle(page, before: int, timeout: float = 180_000) -> None:
    page.wait_for_function(IDLE_JS, arg=before, timeout=timeout, polling=20)


def charts_settled(page, since_ms: float, timeout: float = 180_000) -> float:
    """Seconds from ``since_ms`` (page clock) to the last chart drawn."""
    page.evaluate("() => { window.__all = window.__drawn = -1; }")
    page.wait_for_function(CHARTS_SETTLED_JS, timeout=timeout, polling=50)
    return (page.evaluate("() => window.__since") - since_ms) / 1000


def assert_clean(page, where: str) -> None:
    n = page.locator("[data-testid='stException']").count()
    if n:
        raise RuntimeError(f"{where}: {n} exception element(s)")


def open_fresh(browser, server: Fresh, path: str, charts: bool) -> tuple[float, float, object]:
    """goto on a fresh server; returns (seconds to the title, seconds to full render, page):
    the script run over and, where ``charts``, every chart drawn."""
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(OBSERVER)
    page = context.new_page()
    t = time.monotonic()
    page.goto(f"{server.base}/{path}", wait_until="commit", timeout=120_000)
    page.wait_for_selector("h1", state="visible", timeout=180_000)
    paint = time.monotonic() - t
    wait_idle(page, 0)
    full = time.monotonic() - t
    if charts:  # the page clock starts at navigation, as ``t`` does
        full = max(full, charts_settled(page, 0.0))
    assert_clean(page, path or "home")
    return paint, full, page


def move(page, label: str) -> float:
    thumb = page.locator(f"[data-testid='stSlider'] input[type=range][aria-label='{label}']")
    thumb.focus()
    before = runs(page)
    t = time.monotonic()
    thumb.press("ArrowRight")
    wait_idle(page, before)
    return time.monotonic() - t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3, help="fresh servers per scenario")
    ap.add_argument("--root", type=Path, default=ROOT, help="the checkout to run (default: this one)")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    health, home_paint, home_full, home_full_l = [], [], [], []
    topic_paint, topic_full, topic_full_l, topic_move1, topic_move2 = [], [], [], [], []
    after_home, after_home_move1, after_home_move2 = [], [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            for _ in range(args.repeat):
                with Fresh(args.root) as s:  # (a) alone: nothing else runs against it
                    health.append(s.health)
            for _ in range(args.repeat):
                with Fresh(args.root) as s:  # (b) home first, (c) then the topic page via the sidebar
                    paint, full, page = open_fresh(browser, s, "", charts=False)
                    home_paint.append(paint)
                    home_full.append(full)
                    home_full_l.append(time.monotonic() - s.t_launch)
                    before = runs(page)
                    t0 = page.evaluate("() => performance.now()")
                    page.locator("[data-testid='stSidebar'] [data-testid='stPageLink'] a").nth(TOPIC_LINK).click()
                    page.wait_for_url(f"**/{TOPIC}", timeout=60_000)
                    wait_idle(page, before)
                    after_home.append(charts_settled(page, t0))
                    assert_clean(page, TOPIC)
                    after_home_move1.append(move(page, TOPIC_SLIDER))
                    after_home_move2.append(move(page, TOPIC_SLIDER))
                    page.context.close()
            for _ in range(args.repeat):
                with Fresh(args.root) as s:  # (b) a deep link to a topic page first
                    paint, full, page = open_fresh(browser, s, TOPIC, charts=True)
                    topic_paint.append(paint)
                    topic_full.append(full)
                    topic_full_l.append(time.monotonic() - s.t_launch)
                    topic_move1.append(move(page, TOPIC_SLIDER))
                    topic_move2.append(move(page, TOPIC_SLIDER))
                    page.context.close()
        finally:
            browser.close()

    load1, load5, _ = os.getloadavg()
    print(f"## Cold start ({args.root}), median of {args.repeat} fresh servers (all runs listed)\n")
    print(f"Machine: {os.cpu_count()} cores, load average {load1:.2f} (1 min) / {load5:.2f} (5 min) at the end.\n")
    rows = [
        {"step": "(a) launch → /_stcore/health ok", "median (s)": median(health), "runs (s)": spread(health)},
        {"step": "(b) home: goto → title painted", "median (s)": median(home_paint), "runs (s)": spread(home_paint)},
        {
            "step": "(b) home: goto → run over (incl. warm-up after paint)",
            "median (s)": median(home_full),
            "runs (s)": spread(home_full),
        },
        {
            "step": "(b) home: launch → run over",
            "median (s)": median(home_full_l),
            "runs (s)": spread(home_full_l),
        },
        {
            "step": f"(b) {TOPIC} first: goto → title painted",
            "median (s)": median(topic_paint),
            "runs (s)": spread(topic_paint),
        },
        {
            "step": f"(b) {TOPIC} first: goto → fully rendered (charts drawn)",
            "median (s)": median(topic_full),
            "runs (s)": spread(topic_full),
        },
        {
            "step": f"(b) {TOPIC} first: launch → fully rendered",
            "median (s)": median(topic_full_l),
            "runs (s)": spread(topic_full_l),
        },
        {
            "step": f"(c) {TOPIC} first: 1st slider move → idle",
            "median (s)": median(topic_move1),
            "runs (s)": spread(topic_move1),
        },
        {
            "step": f"(c) {TOPIC} first: 2nd slider move → idle",
            "median (s)": median(topic_move2),
            "runs (s)": spread(topic_move2),
        },
        {
            "step": f"(c) home, then {TOPIC} via sidebar → fully rendered",
            "median (s)": median(after_home),
            "runs (s)": spread(after_home),
        },
        {
            "step": f"(c) home, then {TOPIC}: 1st slider move → idle",
            "median (s)": median(after_home_move1),
            "runs (s)": spread(after_home_move1),
        },
        {
            "step": f"(c) home, then {TOPIC}: 2nd slider move → idle",
            "median (s)": median(after_home_move2),
            "runs (s)": spread(after_home_move2),
        },
    ]
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
