"""Rerun latency of every page, and of every tab of pages with tabs, under AppTest, beside an
empty-page floor from the same run.

Per page (or tab, opened by its URL parameter as a deep link would): first render (fresh
AppTest, caches warm from earlier pages' imports), a rerun with nothing changed (cache hits:
what a widget change costs when its result was seen before), and reruns after moving one
control of that tab to values never seen before (cache misses). Median of repeats; compare
ratios, not absolute numbers, on a shared box.

The page script is compiled once, as `streamlit run` does (AppTest alone recompiles it on every
run; ``--compile-every-run`` measures that way), and every run ends with the full garbage
collection the server's script runner does (``runner.postScriptGC``; AppTest skips it;
``--no-post-gc`` measures that way).

Budgets (DESIGN.md): cached ≤ 60 ms, computed ≤ 300 ms, "train" actions (several networks
trained, with a progress bar) ≤ 3 s.

Run: .venv/bin/python benchmarks/bench_pages.py [--root DIR] [--only SUBSTRING ...]
(``--root`` benchmarks another checkout of the app, e.g. a copy from before a change.)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from _util import ROOT, table

REPEAT = 5
# Controls moved for the uncached reruns, per (page, tab): a key whose values are spread over its
# range, or explicit settings (several keys at once where a single one has too few fresh values).
# "train": the move retrains networks or is an explicit heavy action (budget 3 s, shown with
# progress), else it computes (300 ms).
MOVES: dict[tuple[str, str | None], tuple[str, list[dict] | None, bool]] = {
    ("empty_page.py", None): ("x", None, False),
    ("1_Non_convexity.py", None): ("lam", None, False),
    ("2_Plateaus.py", "tanh plateaus"): ("lr", None, False),
    ("2_Plateaus.py", "Initialization"): ("sigma", None, True),
    ("2_Plateaus.py", "Restarts, width & depth"): ("restarts", None, True),
    ("2_Plateaus.py", "Learning-rate schedules"): ("lr0", None, False),
    ("3_Conditioning.py", "GD on a quadratic"): ("x0", None, False),
    ("3_Conditioning.py", "Hessian of a small MLP"): ("train_lr", None, True),
    ("3_Conditioning.py", "Exercise: linear model"): ("rho", None, False),
    ("3_Conditioning.py", "The Hessian is huge"): (
        "arch",
        [{"arch": a} for a in ("784-100-10", "784-300-10", "100-100-100-10", "784-500-500-10", "50-50-50-50-1")],
        False,
    ),
    ("4_Normalization.py", "Data normalization"): ("rho", None, False),
    ("4_Normalization.py", "Non-linearities"): ("lr_factor", None, True),
    ("4_Normalization.py", "Initialization scale"): ("c", None, False),
    ("4_Normalization.py", "Block-diagonal Hessian"): ("bd_offset", None, False),
    ("5_BatchNorm_and_Skip.py", "Training"): ("lr", None, True),
    ("5_BatchNorm_and_Skip.py", "Activations & gradients"): ("lr", None, True),
    ("5_BatchNorm_and_Skip.py", "Hessian"): (
        "bn_mode, at",
        [{"bn_mode": m, "at": p} for m, p in (("eval", "trained"), ("train", "initial"), ("eval", "initial"))],
        False,
    ),
    ("5_BatchNorm_and_Skip.py", "Layer interactions"): ("lr", None, True),
    ("5_BatchNorm_and_Skip.py", "Loss landscape"): ("span", None, False),
    # The same tabs with the page's explicit heavy action switched on (SWITCHED): four Hessians.
    ("5_BatchNorm_and_Skip.py", "Hessian · hessians=true"): (
        "bn_mode, at",
        [{"bn_mode": m, "at": p} for m, p in (("eval", "trained"), ("train", "initial"), ("eval", "initial"))],
        True,
    ),
    ("5_BatchNorm_and_Skip.py", "Layer interactions · hessians=true"): ("lr", None, True),
}
# Tabs measured a second time with a switch on: an explicit heavy action the reader asks for
# (a button or switch on the page; budget 3 s with progress shown, like training).
SWITCHED: dict[tuple[str, str], dict[str, str]] = {
    ("5_BatchNorm_and_Skip.py", "Hessian"): {"hessians": "true"},
    ("5_BatchNorm_and_Skip.py", "Layer interactions"): {"hessians": "true"},
}


def _cpu(fn) -> float:
    """CPU seconds of the process during ``fn()``: less swayed than wall time by other work on a
    shared machine (AppTest's own thread mostly sleeps while it waits for the script)."""
    t = time.process_time()
    fn()
    return time.process_time() - t


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def _widget(at, key: str):
    for kind in ("slider", "number_input", "selectbox", "radio", "text_input"):
        for w in getattr(at, kind):
            if w.key == key:
                return w
    raise KeyError(key)


def _spread(w, salt: int = 0) -> list[dict]:
    """REPEAT values of a slider or number input, spread over its range. ``salt`` shifts them, so
    that two tabs moving the same control do not meet values the other has put in the cache."""
    lo, hi = float(w.min), float(w.max)
    out = []
    for i in range(REPEAT):
        value = lo + (i + 1 + 0.29 * salt) / (REPEAT + 3) * (hi - lo)
        out.append({w.key: round(value) if isinstance(w.value, int) else value})
    return out


def _tabs(at) -> tuple[str | None, list[str]]:
    """(URL key, labels) of the page's ``ui.tabs``, or (None, []) if it has none."""
    labels = [t.label for t in at.tabs]
    try:
        run = at.session_state["_ui_run"]
    except KeyError:
        return None, []
    keys = [k for k, label in run.labels.items() if label == "section"]
    return (keys[0], labels) if keys and labels else (None, [])


def _app(path: Path, query: dict):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(path), default_timeout=300)
    at.query_params.update(query)
    return at


def _ok(at) -> None:
    assert not at.exception, [e.value for e in at.exception]


def bench(path: Path, tab: tuple[str, str] | None = None, salt: int = 0, switch: dict | None = None) -> dict:
    query = {tab[0]: tab[1]} if tab else {}
    query.update(switch or {})
    name = (tab[1] if tab else "") + "".join(f" · {k}={v}" for k, v in (switch or {}).items())
    first = []
    for _ in range(2):
        at = _app(path, query)
        first.append(_timed(at.run))
        _ok(at)
    cached = [_timed(at.run) for _ in range(REPEAT)]
    cpu = [_cpu(at.run) for _ in range(REPEAT)]
    label, moves, train = MOVES.get((path.name, name or None), (None, None, False))
    uncached = []
    if label is not None:
        moves = moves or _spread(_widget(at, label), salt)
        for move in moves:
            for key, value in move.items():
                _widget(at, key).set_value(value)
            uncached.append(_timed(at.run))
            _ok(at)
    ms = lambda xs: f"{statistics.median(xs) * 1e3:.0f}" if xs else "–"  # noqa: E731
    return {
        "page": path.name,
        "tab": name,
        "first render (ms)": ms(first[1:]),
        "cached rerun (ms)": ms(cached),
        "cached, CPU (ms)": ms(cpu),
        "uncached rerun (ms)": ms(uncached) + (" (train)" if train and uncached else ""),
        "moved control": label or "–",
    }


def rows_for(path: Path) -> list[dict]:
    """One row per page, or one per tab (the default tab first) for pages with ``ui.tabs``."""
    at = _app(path, {})
    at.run()
    key, labels = _tabs(at)
    if key is None:
        return [bench(path)]
    rows = [bench(path, (key, label), salt) for salt, label in enumerate(labels)]
    for salt, label in enumerate(labels, start=len(labels)):
        if (path.name, label) in SWITCHED:
            rows.append(bench(path, (key, label), salt, SWITCHED[(path.name, label)]))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="app checkout to measure (default: this one)")
    parser.add_argument("--only", nargs="*", default=[], help="page file names containing any of these")
    parser.add_argument("--compile-every-run", action="store_true", help="AppTest's default, see below")
    parser.add_argument("--no-post-gc", action="store_true", help="skip the server's after-run gc (AppTest's default)")
    args = parser.parse_args()
    if not args.compile_every_run:
        # AppTest compiles the page script afresh on every run (a new ScriptCache per run: 10-25 ms
        # for our longer pages); `streamlit run` compiles it once. Measure what the server does.
        from streamlit.runtime.scriptrunner.script_cache import ScriptCache
        from streamlit.testing.v1 import local_script_runner

        shared = ScriptCache()
        local_script_runner.ScriptCache = lambda: shared
    if not args.no_post_gc:
        # The server's ScriptRunner ends every run with a full gc.collect(2) (runner.postScriptGC,
        # on by default); AppTest's LocalScriptRunner skips it. Before the warm-up froze the
        # import heap (core/ui.py freeze_heap) that collection cost ~120-190 ms per run, which
        # this table did not show. Measure what the server does.
        import gc

        from streamlit import config
        from streamlit.testing.v1.local_script_runner import LocalScriptRunner

        finished = LocalScriptRunner._on_script_finished

        def with_gc(self, *a, **kw):
            finished(self, *a, **kw)
            if config.get_option("runner.postScriptGC"):
                gc.collect(2)

        LocalScriptRunner._on_script_finished = with_gc
    root = args.root.resolve()
    sys.path.insert(0, str(root))  # the pages import `core` from the checkout measured
    pages = [ROOT / "benchmarks" / "empty_page.py", root / "app.py", *sorted((root / "pages").glob("*.py"))]
    if args.only:
        pages = [pages[0]] + [p for p in pages[1:] if any(s in p.name for s in args.only)]
    rows = [row for p in pages for row in rows_for(p)]
    compiled = "every run" if args.compile_every_run else "once, as the server does"
    gc_note = "none (AppTest's default)" if args.no_post_gc else "after every run, as the server does"
    print(
        f"## Page and tab rerun latency under AppTest (median of {REPEAT}; root {root.name}; "
        f"compiled {compiled}; full gc {gc_note})\n"
    )
    print(table(rows))


if __name__ == "__main__":
    main()
