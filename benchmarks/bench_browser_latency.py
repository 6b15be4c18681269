"""What a student waits for in a real browser: from a key press on one slider per page to the chart
redrawn, in headless chromium against a `streamlit run` this script starts (and stops, by PID).

Per page one slider is moved one step with the arrow keys: REPEAT steps right (values never seen:
the page computes), then REPEAT steps back left (values seen: cache hits). Times are taken in the
page's own clock (``performance.now()``):

- key → sent: the key press until the browser sends the new widget value to the server
  (the slider's own debounce);
- key → reply: until the last message of the rerun arrives (server rerun + transfer);
- key → chart: until the last redraw of any chart (a canvas draw call or an SVG mutation).

Median of REPEAT. The machine is shared: compare ratios within one run, not numbers across runs.

Run: .venv/bin/python benchmarks/bench_browser_latency.py [--root DIR] [--only SUBSTRING ...]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from _util import ROOT, table

from tests import serve

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARGS += ["--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
REPEAT = 5
QUIET_MS = 1200  # no reply and no redraw for this long: the update is over
# (URL path with query, slider key): one control per page, on the tab whose chart it changes.
CONTROLS = [
    ("Non_convexity", "lam"),
    ("Plateaus?section=tanh+plateaus", "lr"),
    ("Conditioning?section=GD+on+a+quadratic", "x0"),
    ("Normalization?section=Data+normalization", "rho"),
    ("BatchNorm_and_Skip?view=Loss+landscape", "span"),
]

# Installed before any page script: time stamps of key presses, websocket traffic and chart redraws.
PROBE = """
(() => {
  const now = () => performance.now();
  window.__probe = {key: 0, sent: [], recv: [], draw: []};
  document.addEventListener('keydown', () => { window.__probe.key = now(); }, true);
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    if (!this.__probed) {
      this.__probed = true;
      this.addEventListener('message', () => window.__probe.recv.push(now()));
    }
    window.__probe.sent.push(now());
    return send.call(this, data);
  };
  // Vega's canvas renderer clears and redraws the whole canvas on every render.
  const clear = CanvasRenderingContext2D.prototype.clearRect;
  CanvasRenderingContext2D.prototype.clearRect = function (...a) {
    window.__probe.draw.push(now());
    return clear.apply(this, a);
  };
  new MutationObserver((records) => {
    if (records.some((r) => r.target.closest && r.target.closest('svg'))) window.__probe.draw.push(now());
  }).observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
})();
"""


def _idle(page, timeout_ms: float = 120_000) -> None:
    """Script not running, and QUIET_MS without a message or a redraw."""
    deadline = time.time() + timeout_ms / 1e3
    while time.time() < deadline:
        page.wait_for_selector("[data-test-script-state='notRunning']", state="attached", timeout=timeout_ms)
        quiet = page.evaluate(
            "() => performance.now() - Math.max(0, ...window.__probe.recv.slice(-1), ...window.__probe.draw.slice(-1))"
        )
        if quiet >= QUIET_MS:
            return
        page.wait_for_timeout(QUIET_MS - quiet + 50)
    raise TimeoutError("page never went quiet")


def _press(page, thumb, key: str) -> dict:
    page.evaluate("() => { const p = window.__probe; p.sent = []; p.recv = []; p.draw = []; p.key = 0; }")
    thumb.press(key)
    page.wait_for_timeout(100)
    _idle(page)
    p = page.evaluate("() => window.__probe")
    k = p["key"]
    after = lambda xs: [x - k for x in xs if x >= k]  # noqa: E731
    sent, recv, draw = after(p["sent"]), after(p["recv"]), after(p["draw"])
    return {"sent": sent[0] if sent else None, "reply": recv[-1] if recv else None, "chart": draw[-1] if draw else None}


def bench(browser, base: str, path: str, key: str) -> dict:
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.add_init_script(PROBE)
    page.goto(f"{base}/{path}", wait_until="domcontentloaded", timeout=120_000)
    _idle(page)
    thumb = page.locator(f".st-key-{key} input[type='range']").first  # Streamlit's (react-aria) slider
    thumb.focus()
    runs = {"uncached": [_press(page, thumb, "ArrowRight") for _ in range(REPEAT)]}
    runs["cached"] = [_press(page, thumb, "ArrowLeft") for _ in range(REPEAT)]
    errors = page.locator("[data-testid='stException']").count()
    page.close()

    def med(kind, field):
        xs = [r[field] for r in runs[kind] if r[field] is not None]
        return f"{statistics.median(xs):.0f}" if xs else "–"

    row = {"page": path.split("?")[0], "slider": key}
    for kind in ("cached", "uncached"):
        for field, name in (("sent", "key→sent"), ("reply", "key→reply"), ("chart", "key→chart")):
            row[f"{kind}: {name} (ms)"] = med(kind, field)
    row["exceptions"] = errors
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="app checkout to serve (default: this one)")
    parser.add_argument("--only", nargs="*", default=[], help="URL paths containing any of these")
    args = parser.parse_args()
    root = args.root.resolve()
    controls = [c for c in CONTROLS if not args.only or any(s in c[0] for s in args.only)]
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryFile() as log:
        proc, base = serve.start(root, stdout=log)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
                try:
                    rows = [bench(browser, base, path, key) for path, key in controls]
                finally:
                    browser.close()
        finally:
            serve.stop(proc)
    print(f"## Browser: slider key press to chart redrawn (median of {REPEAT}; root {root.name})\n")
    print(table(rows))


if __name__ == "__main__":
    main()
