"""Fuzz every page under AppTest: random and extreme control combinations, garbage links.

Each case is seeded (``SEED``, the page and the case number), so a failure replays exactly:
``pytest tests/test_fuzz.py -k "Plateaus and case3"``. A case

1. opens the page with a random link: valid values, extremes and garbage (NaN, ±inf, 1e308,
   negative, empty, very long, unicode, repeated keys, unknown keys, another page's keys),
   on a random section;
2. then sets several controls at once to random or extreme values in their widget ranges.

After every run: no exception, every rejected link value named in a note, no NaN/inf in any
chart sent to the browser (the Vega-Lite spec and the Arrow datasets beside it), and the run
finished within ``APPTEST_TIMEOUT`` (slow runs are reported as warnings).
"""

from __future__ import annotations

import json
import math
import random
import re
import time
import warnings
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from core.ui import GLOBAL_KEYS, _matches, _show
from tests.conftest import ROOT, option_values, page_files

pytestmark = pytest.mark.fuzz

SEED = 9  # issue 9
CASES = 8  # per page
CASES_ON = {"5_BatchNorm_and_Skip.py": 6}  # fewer where every run trains four deep nets (~10–50 s a run)
SLOW = 30.0  # seconds; a run slower than this is reported, not failed (AppTest fails at APPTEST_TIMEOUT)
HUGE = 1e150  # a chart value beyond this is a divergence that was not clipped

PAGES = page_files()

GARBAGE = [
    "nan", "NaN", "-nan", "inf", "-inf", "Infinity", "1e308", "-1e308", "1e400", "-1e400", "1e-320",
    "-1", "-0", "0", "-999999999999", "", " ", "x" * 5000, "9" * 400, "☃∞ünïcødé", "١٢٣", "0x10", "1_000",
    " 5 ", "true", "None", "[1, 2]", "%00", "a`b", "1,5", "<script>alert(1)</script>",
]  # fmt: skip
TEXT_GARBAGE = ["", "nan", "inf-inf", "1e400-10", "-5-3", "0-0", "2", "100000-100000-100000", "☃-∞", "1-" * 90]
# Keys of other pages (and plain nonsense): on a page that lacks them, they are unknown.
FOREIGN_KEYS = [
    "a1", "arch", "offset", "bd_c", "mlp_lr", "sched_steps", "dseed", "bn_mode", "init_depth", "span",
    "section", "view", "no_such_key", "☃", "k" * 300, "a`b", "",
]  # fmt: skip


@dataclass(frozen=True)
class Control:
    key: str
    kind: str
    lo: float | None = None
    hi: float | None = None
    step: float | None = None
    is_int: bool = False
    options: tuple[str, ...] = ()
    max_chars: int = 0


@dataclass(frozen=True)
class Survey:
    controls: dict[str, Control]
    tab_key: str | None
    tab_labels: tuple[str, ...]


WIDGET_KINDS = ("slider", "number_input", "selectbox", "radio", "checkbox", "toggle", "text_input")
_SURVEYS: dict[str, Survey] = {}


def survey(app_test, path) -> Survey:
    """The page's controls and sections, read from one default render (once per page)."""
    if path.name not in _SURVEYS:
        at = app_test(path.relative_to(ROOT))
        _healthy(at)
        controls = {}
        for kind in WIDGET_KINDS:
            for w in getattr(at, kind):
                c = Control(w.key, kind)
                if kind in ("slider", "number_input"):
                    is_int = isinstance(w.value, int) and not isinstance(w.value, bool)
                    c = Control(w.key, kind, w.min, w.max, w.step, is_int)
                elif kind in ("selectbox", "radio"):
                    c = Control(w.key, kind, options=tuple(option_values(w)))
                elif kind == "text_input":
                    c = Control(w.key, kind, max_chars=w.max_chars or 200)
                controls[w.key] = c
        run = at.session_state["_ui_run"]
        tab_keys = [k for k, label in run.labels.items() if label == "section"]
        labels = tuple(t.label for t in at.tabs)
        _SURVEYS[path.name] = Survey(controls, tab_keys[0] if tab_keys else None, labels)
    return _SURVEYS[path.name]


# --- random values ------------------------------------------------------------------------


def _number(rng: random.Random, c: Control):
    """Low end, high end, or a random point of the widget's grid."""
    pick = rng.random()
    if pick < 0.3:
        x = c.lo
    elif pick < 0.6:
        x = c.hi
    else:
        step = c.step or (1 if c.is_int else (c.hi - c.lo) / 100)
        n = round((c.hi - c.lo) / step)
        x = c.lo + rng.randint(0, n) * step
        x = min(max(x, c.lo), c.hi)
    return round(x) if c.is_int else round(float(x), 10)


def random_value(rng: random.Random, c: Control):
    if c.kind in ("slider", "number_input"):
        return _number(rng, c)
    if c.kind in ("selectbox", "radio"):
        return rng.choice(c.options)
    if c.kind in ("checkbox", "toggle"):
        return rng.random() < 0.5
    if c.kind == "text_input":
        return rng.choice(TEXT_GARBAGE + ["784-1000-1000-10", "2-3-1", "1-1"])[: c.max_chars]
    raise AssertionError(c.kind)


def url_text(value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def random_query(rng: random.Random, s: Survey, case: int, cases: int) -> tuple[dict, set[str]]:
    """A link mixing valid values, extremes and garbage; also returns the keys given valid values.

    Case i opens section i (mod the number of sections), so every section is fuzzed; the
    last case asks for a section that does not exist."""
    query, valid = {}, set()
    if s.tab_key:
        if case < cases - 1:
            query[s.tab_key] = s.tab_labels[case % len(s.tab_labels)]
            valid.add(s.tab_key)
        else:
            query[s.tab_key] = rng.choice(GARBAGE + [s.tab_labels[0].upper()])
    keys = [k for k in s.controls if k != "contrast"]
    for key in rng.sample(keys, k=rng.randint(1, len(keys))):
        c, pick = s.controls[key], rng.random()
        if pick < 0.4:
            query[key] = url_text(random_value(rng, c))
            valid.add(key)
        elif pick < 0.9:
            query[key] = rng.choice(GARBAGE)
        else:  # a repeated key: ?k=a&k=b
            query[key] = [url_text(random_value(rng, c)), rng.choice(GARBAGE)]
    foreign = [k for k in FOREIGN_KEYS if k not in s.controls and k != s.tab_key]
    for key in rng.sample(foreign, k=rng.randint(0, 4)):  # ≤ 5 unknown keys: the note names them all
        query[key] = rng.choice(GARBAGE)
    return query, valid


# --- checks ----------------------------------------------------------------------------------


def _healthy(at) -> None:
    assert not at.exception, [e.value for e in at.exception]
    tracebacks = [e.value for e in at.error if "Traceback" in e.value or "Error" in e.value]
    assert not tracebacks, tracebacks


def _notes(at) -> str:
    return "\n".join(w.value for w in at.warning)


def assert_explained(at, s: Survey, query: dict, valid: set[str]) -> None:
    """Every link value the page did not take is named in a note; a valid one is not."""
    notes, run = _notes(at), at.session_state["_ui_run"]
    for key, raw in query.items():
        raw = raw if isinstance(raw, list) else [raw]
        named = f"`{_show(key)}`" in notes
        if key == "lang":  # the sidebar's language: a code (en, zh)
            value = at.session_state[key]
            assert (len(raw) == 1 and raw[-1].strip().lower() == value) or named, f"lang={raw!r} became {value!r}"
        elif key in GLOBAL_KEYS:  # a sidebar switch, not a page control: true/false (and 1/0)
            value = at.session_state[key]
            word = {"true": True, "1": True, "false": False, "0": False}.get(raw[-1].strip().lower())
            assert (len(raw) == 1 and word == value) or named, f"{key}={raw!r} became {value!r} without a note"
        elif key in run.controls:
            value = run.values[key]
            taken = len(raw) == 1 and _matches(raw[0], value)
            assert taken or named, f"{key}={raw!r} became {value!r} without a note:\n{notes}"
            if key in valid and len(raw) == 1:
                assert not named, f"valid {key}={raw[0]!r} was called invalid:\n{notes}"
        else:
            ignored = "Ignored link parameter" in notes or "已忽略本页没有的链接参数" in notes  # en / 中文
            assert named and ignored, f"unknown key {key!r} not named:\n{notes}"


def _nonfinite_json(text: str) -> list[str]:
    bad = []

    def constant(name):
        bad.append(name)
        return 0.0

    def number(literal):
        x = float(literal)
        if not math.isfinite(x):
            bad.append(literal)
        return x

    json.loads(text, parse_constant=constant, parse_float=number)
    return bad


def _nonfinite_arrow(data: bytes) -> list[str]:
    """Float columns holding NaN, ±inf or an unclipped blow-up (|x| > HUGE).

    Nulls are allowed: Streamlit sends a pandas NaN as an Arrow null, which Vega-Lite drops
    from scales and lines (the pages use it on purpose: a chord outside its segment, the path
    after divergence). NaN and inf would reach Vega's scales."""
    if not data:
        return []
    table = pa.ipc.open_stream(data).read_all()
    bad = []
    for name, col in zip(table.column_names, table.columns, strict=True):
        if pa.types.is_floating(col.type):
            if pc.any(pc.is_nan(col)).as_py() or pc.any(pc.is_inf(col)).as_py():
                bad.append(f"{name}: NaN/inf")
            elif (pc.max(pc.abs(col)).as_py() or 0.0) > HUGE:
                bad.append(f"{name}: |x| up to {pc.max(pc.abs(col)).as_py():.3g} (not clipped)")
    return bad


def chart_problems(at) -> dict[str, list[str]]:
    """{chart title: problems} over every Vega-Lite chart of the page."""
    out = {}
    for i, chart in enumerate(at.get("vega_lite_chart")):
        proto, bad = chart.proto, []
        bad += _nonfinite_json(proto.spec)
        title = json.loads(proto.spec, parse_constant=lambda _: 0).get("title", f"chart {i}")
        title = title.get("text", title) if isinstance(title, dict) else title
        if proto.HasField("data"):
            bad += [f"data/{b}" for b in _nonfinite_arrow(proto.data.data)]
        for ds in proto.datasets:
            bad += [f"{ds.name}/{b}" for b in _nonfinite_arrow(ds.data.data)]
        if bad:
            out[f"{i}: {title}"] = bad
    return out


def assert_finite_charts(at) -> None:
    problems = chart_problems(at)
    assert not problems, problems


def timed_run(at, what: str) -> None:
    t = time.perf_counter()
    at.run()
    dt = time.perf_counter() - t
    if dt > SLOW:
        warnings.warn(f"slow fuzz run ({dt:.0f} s): {what}", stacklevel=2)


# --- the fuzz test ------------------------------------------------------------------------------


FUZZ_CASES = [(p, i) for p in PAGES for i in range(CASES_ON.get(p.name, CASES))]


@pytest.mark.parametrize(("path", "case"), FUZZ_CASES, ids=[f"{p.name}-case{i}" for p, i in FUZZ_CASES])
def test_fuzz_page(app_test, path, case):
    s = survey(app_test, path)
    rng = random.Random(f"{SEED}/{path.name}/{case}")

    query, valid = random_query(rng, s, case, CASES_ON.get(path.name, CASES))
    at = app_test(path.relative_to(ROOT), query=query, run=False)
    timed_run(at, f"{path.name} case {case} link {query!r:.300}")
    _healthy(at)
    assert_explained(at, s, query, valid)
    assert_finite_charts(at)

    # Several controls at once, each low, high or anywhere in its range.
    keys = [k for k in s.controls if k not in GLOBAL_KEYS or rng.random() < 0.3]
    chosen = {k: random_value(rng, s.controls[k]) for k in rng.sample(keys, k=rng.randint(len(keys) // 2, len(keys)))}
    widgets = {w.key: w for kind in WIDGET_KINDS for w in getattr(at, kind)}
    for key, value in chosen.items():
        widgets[key].set_value(value)
        if key in at.query_params:  # as the browser does: a moved control rewrites its URL value
            at.query_params[key] = url_text(value)
    timed_run(at, f"{path.name} case {case} controls {chosen!r:.300}")
    _healthy(at)
    assert_finite_charts(at)
    named = [k for k in chosen if f"Link parameter `{k}`" in _notes(at) or f"链接参数 `{k}`" in _notes(at)]
    assert not named, f"values set by the controls themselves were called invalid: {named}\n{_notes(at)}"


# --- numerically nasty settings, page by page -------------------------------------------------
# Each: (page, link, what the page must say). Every value is valid, so no "Link parameter" note;
# the page must end in a clear message, finite charts, and within the time bound.

NASTY = {
    "nonconvex-lr-far-past-divergence": (
        "pages/1_Non_convexity.py",
        {"lr": "1.0", "steps": "1000", "restarts": "30", "scale": "3.0", "w0": "5.0", "v0": "5.0", "lam": "0.0"},
        r"your start: GD diverged at step \d+ because γ = 1 > 2/λ_max = [\d.]+ at its start",
    ),
    "nonconvex-one-layer-singular-N1": (  # λ = 0, N = 1: XᵀX = [x, 1]ᵀ[x, 1] is singular, a line of minima
        "pages/1_Non_convexity.py",
        {"model": "one layer", "x": "0.0", "lam": "0.0", "n": "1", "steps": "1000"},
        r"valley of minima",
    ),
    "nonconvex-one-layer-singular-x1": (
        "pages/1_Non_convexity.py",
        {"model": "one layer", "x": "1.0", "t": "-2.0", "lam": "0.0", "n": "1"},
        r"valley of minima",
    ),
    "plateaus-lr-and-steps-at-max": (
        "pages/2_Plateaus.py",
        {"section": "tanh plateaus", "lr": "3.0", "steps": "20000", "w0": "6.0", "v0": "2.0", "lam": "0.05"},
        r"GD diverged at step \d+ because γ = 3 is too large",
    ),
    "plateaus-init-sigma-lr-depth-at-max": (
        "pages/2_Plateaus.py",
        {"section": "Initialization", "sigma": "10.0", "mlp_lr": "2.0", "depth": "6", "width": "16"},
        r"Your σ = 10\*\*: at init .* saturated",
    ),
    "plateaus-restarts-everything-at-max": (
        "pages/2_Plateaus.py",
        {
            "section": "Restarts, width & depth", "sigma": "10.0", "mlp_lr": "2.0", "depth": "6", "width": "16",
            "mlp_steps": "1000", "restarts": "20", "sweep_depth": "4", "sweep_width": "16",
        },
        r"\*\*Restarts\*\*: 20 seeds give final E",
    ),
    "plateaus-schedules-at-max-lr": (
        "pages/2_Plateaus.py",
        {
            "section": "Learning-rate schedules", "lr_const": "0.2", "lr0": "0.2", "factor": "1.0", "alpha": "0.0",
            "lr_min": "0.2", "lr_max": "0.2", "sched_steps": "10000", "every": "100", "period": "100",
        },
        r"left the shallow basin at step 1",
    ),
    "conditioning-kappa-max-gamma-past-limit": (
        "pages/3_Conditioning.py",
        {
            "section": "GD on a quadratic", "a1": "0.01", "a2": "100.0", "lr_rule": "γ = custom", "lr_amax": "1.2",
            "steps": "300", "dims": "10", "tol": "1e-6",
        },
        r"GD diverged at step \d+ because γ = 0.012 > 1/α_max = 0.01",
    ),
    "conditioning-kappa-max-lecture-gamma": (
        "pages/3_Conditioning.py",
        {"section": "GD on a quadratic", "a1": "0.01", "a2": "100.0", "steps": "300", "dims": "10", "tol": "1e-6"},
        r"κ = 1e\+04",
    ),
    "conditioning-mlp-training-diverges": (
        "pages/3_Conditioning.py",
        {
            "section": "Hessian of a small MLP", "train_lr": "2.0", "train_steps": "1000", "depth": "3",
            "width": "12", "activation": "relu", "k": "10",
        },
        r"Training diverged at step \d+ \(γ = 2.0 is too large",
    ),
    "conditioning-exercise-near-singular": (
        "pages/3_Conditioning.py",
        {"section": "Exercise: linear model", "lam": "0.0", "rho": "0.95"},
        r"Eigenvalues [\d.]+, [\d.]+",
    ),
    "conditioning-hessian-of-an-absurd-net": (
        "pages/3_Conditioning.py",
        {"section": "The Hessian is huge", "arch": "10000000-10000000-10000000"},
        r"Too large to time a Hessian-vector product here",
    ),
    "normalization-near-singular-data": (
        "pages/4_Normalization.py",
        {"offset": "5.0", "scale2": "0.1", "rho": "0.95", "lam": "0.0", "steps": "3000", "dim": "50"},
        r"Whitening makes the covariance I, so H = 2\(1\+λ\)I and κ = 1.0000",
    ),
    "normalization-anticorrelated-lecture-gamma": (
        "pages/4_Normalization.py",
        {"offset": "5.0", "scale2": "5.0", "rho": "-0.95", "lam": "0.0", "steps": "3000", "lr_rule": "lecture"},
        r"GD steps to the tolerance",
    ),
    "normalization-activations-at-max": (
        "pages/4_Normalization.py",
        {
            "section": "Non-linearities", "depth": "4", "width": "16", "train_steps": "1000", "lr_factor": "1.9",
            "task": "sparse inputs",
        },
        r"Gauss–Newton block κ",
    ),
    "normalization-init-exploding": (
        "pages/4_Normalization.py",
        {"section": "Initialization scale", "c": "4.0", "init_depth": "30", "init_width": "16"},
        r"After 30 layers the output std is [\d.e+]+ for linear units",
    ),
    "normalization-init-vanishing": (
        "pages/4_Normalization.py",
        {"section": "Initialization scale", "c": "0.25", "init_depth": "30", "init_width": "16"},
        r"After 30 layers the output std is [\d.e-]+ for linear units",
    ),
    "batchnorm-lr-depth-width-steps-at-max": (
        "pages/5_BatchNorm_and_Skip.py",
        {"view": "Training", "lr": "0.5", "depth": "20", "width": "16", "steps": "300", "activation": "relu"},
        r"GD on \*\*\+ skip\*\* diverged at step \d+ because γ = 0.5 is too large",
    ),
    "batchnorm-landscape-after-divergence": (
        "pages/5_BatchNorm_and_Skip.py",
        {"view": "Loss landscape", "lr": "0.5", "activation": "relu", "span": "2.0"},
        r"No slices for \+ skip: GD diverged, there is no trained θ\*",
    ),
}  # fmt: skip


# Divergence is said in the note box at the top of the page, not only further down.
NOTED = {
    "nonconvex-lr-far-past-divergence", "plateaus-lr-and-steps-at-max", "conditioning-kappa-max-gamma-past-limit",
    "conditioning-mlp-training-diverges", "batchnorm-lr-depth-width-steps-at-max",
    "batchnorm-landscape-after-divergence",
}  # fmt: skip


def _page_text(at) -> str:
    parts = [w.value for w in at.warning] + [i.value for i in at.info] + [m.value for m in at.markdown]
    return "\n".join(parts + [f"{m.label} {m.value}" for m in at.metric])


@pytest.mark.parametrize("name", list(NASTY))
def test_nasty_settings_end_in_a_message_and_finite_charts(app_test, name):
    page, link, said = NASTY[name]
    at = app_test(page, query=link, run=False)
    timed_run(at, name)
    _healthy(at)
    assert "Link parameter" not in _notes(at), _notes(at)
    assert re.search(said, _page_text(at)), f"{said!r} not on the page:\n{_page_text(at)[:3000]}"
    if name in NOTED:
        assert re.search(said, _notes(at)), f"{said!r} not in the note box:\n{_notes(at)}"
    assert_finite_charts(at)
    for df in at.dataframe:  # tables too: no inf/NaN shown as a number
        values = df.value.data if hasattr(df.value, "data") else df.value
        numeric = values.select_dtypes("number")
        assert not numeric.isin([math.inf, -math.inf]).any().any(), (name, numeric)


# --- regressions found by the fuzz --------------------------------------------------------------


@pytest.mark.parametrize("raw", ["inf", "-Infinity", "1e400", "9" * 400])
def test_an_infinite_link_value_for_a_whole_number_is_a_note_not_a_crash(app_test, raw):
    """Streamlit's int number_input raised OverflowError (int(inf)) on ?seed=inf; ui.number drops it."""
    at = app_test("pages/4_Normalization.py", query={"seed": raw})
    _healthy(at)
    assert at.number_input(key="seed").value == 0
    assert f"Link parameter `seed` = `{_show(raw)}` is not valid" in _notes(at)
