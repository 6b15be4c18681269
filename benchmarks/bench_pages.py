"""Rerun latency of every page under AppTest, beside an empty-page floor from the same run.

Per page: first render (fresh AppTest, caches warm from earlier pages' imports), a rerun with
nothing changed (cache hits), and a rerun after moving one control to a value never seen
before (cache miss). Median of repeats; compare ratios, not absolute numbers, on a shared box.

Run: .venv/bin/python benchmarks/bench_pages.py
"""

from __future__ import annotations

import statistics
import time

from _util import ROOT, table
from streamlit.testing.v1 import AppTest

PAGES = [ROOT / "benchmarks" / "empty_page.py", ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))]
REPEAT = 5


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def _movable(at):
    """The first page control we can move to fresh values (a slider or number input)."""
    for w in list(at.slider) + list(at.number_input):
        if w.key in ("present", "contrast") or w.min is None or w.max is None:
            continue
        if isinstance(w.value, (int, float)) and w.max > w.min:
            return w
    return None


def bench(path) -> dict:
    first = []
    for _ in range(2):
        at = AppTest.from_file(str(path), default_timeout=300)
        first.append(_timed(at.run))
        assert not at.exception, [e.value for e in at.exception]
    cached = [_timed(at.run) for _ in range(REPEAT)]
    uncached = []
    w = _movable(at)
    if w is not None:
        lo, hi = float(w.min), float(w.max)
        for i in range(REPEAT):
            frac = (i + 1) / (REPEAT + 2)
            value = lo + frac * (hi - lo)
            if isinstance(w.value, int):
                value = round(value)
            w = next(x for x in list(at.slider) + list(at.number_input) if x.key == w.key)
            w.set_value(value)
            uncached.append(_timed(at.run))
            assert not at.exception, [e.value for e in at.exception]
    ms = lambda xs: f"{statistics.median(xs) * 1e3:.0f}" if xs else "–"  # noqa: E731
    return {
        "page": path.name,
        "first render (ms)": ms(first[1:]),
        "cached rerun (ms)": ms(cached),
        "uncached rerun (ms)": ms(uncached),
        "moved control": w.key if w is not None else "–",
    }


def main() -> None:
    rows = [bench(p) for p in PAGES]
    print("## Page rerun latency under AppTest (median of 5)\n")
    print(table(rows))


if __name__ == "__main__":
    main()
