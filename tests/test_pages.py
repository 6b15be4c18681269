"""Every page under AppTest: default render, garbage links, every control at its extremes.

Pages are discovered from app.py and pages/*.py, so a new page is covered
without editing this file.
"""

from __future__ import annotations

import math

import pytest

from tests.conftest import ROOT, no_exception, option_values, page_files

PAGES = page_files()
IDS = [p.name for p in PAGES]

GARBAGE_QUERIES = [
    {"present": "maybe", "no_such_key": "1"},
    {"lr": "nan", "steps": "inf", "seed": "-1e308", "lam": "abc", "model": "∞ unicode ☃", "x0": "1e400"},
    {"k": "x" * 5000, "depth": "-5", "width": "0", "activation": "<script>alert(1)</script>"},
]


def _titles(at) -> list[str]:
    return [t.value for t in at.title]


@pytest.mark.parametrize("path", PAGES, ids=IDS)
def test_default_render(app_test, path):
    at = app_test(path.relative_to(ROOT))
    no_exception(at)
    assert _titles(at), "every page has a title"
    assert not at.warning or all("Link parameter" not in w.value for w in at.warning)


@pytest.mark.parametrize("query", GARBAGE_QUERIES, ids=["unknown-key", "non-numbers", "huge-and-negative"])
@pytest.mark.parametrize("path", PAGES, ids=IDS)
def test_garbage_query_string(app_test, path, query):
    at = app_test(path.relative_to(ROOT), query=query)
    no_exception(at)
    notes = " ".join(w.value for w in at.warning)
    # Every parameter that the page did not take as given is named in a visible note.
    assert "Link parameter" in notes or "Ignored link parameter" in notes, notes


def _extremes(widget, which: int):
    """which=0: the low end, 1: the high end of a widget's range."""
    kind = type(widget).__name__
    if kind in ("Slider", "NumberInput"):
        lo, hi = widget.min, widget.max
        if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi)):
            return None
        return (lo, hi)[which]
    if kind in ("Selectbox", "Radio"):
        return option_values(widget)[-1 if which else 0]
    if kind in ("Checkbox", "Toggle"):
        return bool(which)
    if kind == "TextInput":
        garbage = ("", "nan, inf, -1e400, ☃, 0x1f; DROP TABLE")
        return garbage[which][: widget.max_chars or None]
    return None


def _controls(at):
    for kind in ("slider", "number_input", "selectbox", "radio", "checkbox", "toggle", "text_input"):
        yield from getattr(at, kind)


@pytest.mark.parametrize("path", PAGES, ids=IDS)
def test_every_control_at_its_extremes(app_test, path):
    """All controls low, all high, then alternating low/high: each a full rerun without exception."""
    at = app_test(path.relative_to(ROOT))
    for pattern in ([0], [1], [0, 1], [1, 0]):
        for i, widget in enumerate(list(_controls(at))):
            if widget.key == "contrast":
                continue
            value = _extremes(widget, pattern[i % len(pattern)])
            if value is not None:
                widget.set_value(value)
        at.run()
        no_exception(at)


@pytest.mark.parametrize("path", PAGES, ids=IDS)
def test_reset_restores_defaults(app_test, path):
    at = app_test(path.relative_to(ROOT))
    defaults = {w.key: w.value for w in _controls(at) if w.key not in ("present", "contrast", "lang")}
    for widget in _controls(at):
        if widget.key in defaults:
            value = _extremes(widget, 1)
            if value is not None:
                widget.set_value(value)
    at.run()
    reset = [b for b in at.button if b.label == "Reset this page to defaults"]
    if not defaults:
        assert not reset
        return
    reset[0].click().run()
    no_exception(at)
    after = {w.key: w.value for w in _controls(at) if w.key in defaults}
    assert after == defaults


def test_presenter_link_turns_presenter_mode_on(app_test):
    at = app_test("app.py", query={"present": "true"})
    no_exception(at)
    assert at.toggle(key="present").value is True
    assert not at.warning
