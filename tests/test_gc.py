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


def test_reruns_do_not_pile_up_objects_for_the_collector(app_test):
    """A page's own cached functions are new objects on every rerun, with that run's namespace as
    their globals; a wrapper cache keyed by them kept ~800 objects per rerun alive (up to 256
    runs) for every collection to walk again. Ten reruns at new settings now leave the count flat."""
    at = app_test("pages/2_Plateaus.py")
    lr = at.slider(key="lr")

    def live_after(values) -> int:
        for v in values:
            lr.set_value(v)
            at.run()
        assert not at.exception
        gc.collect()
        return len(gc.get_objects())

    before = live_after([0.1 + 0.005 * i for i in range(12)])  # first-time imports, caches, templates
    after = live_after([0.2 + 0.005 * i for i in range(10)])
    assert after - before < 4000, f"{after - before} more objects walked after 10 reruns (~9,700 before the fix)"
