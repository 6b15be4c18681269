"""Streamlit runs a full garbage collection after every script run (``runner.postScriptGC``).
The warm-up freezes what the imports left alive (core/ui.py ``freeze_heap``), so that collection
walks only what runs create: ~120 ms of GIL time less per interaction, measured with 20 sessions
by benchmarks/bench_load_ws.py (0.37 → 0.16 server CPU-s per interaction)."""

from __future__ import annotations

import gc

from core import ui


def _walked(obj) -> bool:
    """Whether a full collection walks ``obj`` (frozen objects are in no generation)."""
    return any(o is obj for o in gc.get_objects())


def test_a_topic_page_freezes_its_modules_and_libraries(app_test):
    from core import deepnets

    at = app_test("pages/5_BatchNorm_and_Skip.py")
    assert not at.exception
    import altair
    import scipy.sparse.linalg

    for obj in (deepnets.train_variant, deepnets.Setup, altair.Chart, scipy.sparse.linalg.eigsh, ui.freeze_heap):
        assert gc.is_tracked(obj), obj
        assert not _walked(obj), f"{obj} is still walked by every collection"
    assert gc.get_freeze_count() > len(gc.get_objects()), "most long-lived objects are frozen"


def test_what_runs_create_is_still_collected(app_test):
    app_test("pages/1_Non_convexity.py")
    cycle: list = []
    cycle.append(cycle)
    assert _walked(cycle), "objects made after the freeze are walked"
    del cycle
    assert gc.collect() >= 1, "and freed by the collection Streamlit runs after each script"
