"""Lecture presets (core/lecture.py) through AppTest.

Each preset is opened the way a student opens it — by the link the page draws —
and must put every control into the state it names (the others at their defaults),
mark itself as the active preset, and show the number its slide claims, checked
against a closed form where the lecture gives one.
"""

from __future__ import annotations

import math
import re
from html import unescape
from urllib.parse import parse_qsl, urlsplit

import pytest

from core import lecture, ui
from tests.conftest import ROOT

PAGES = {p.label: p for p in ui.PAGES}
CASES = [(page, name) for page, presets in lecture.PRESETS.items() for name in presets]
IDS = [f"{page}:{name}" for page, name in CASES]
LINK = re.compile(r'<a class="optlab-preset( active)?" href="([^"]*)"[^>]*>([^<]*)</a>')


def _links(at) -> dict[str, tuple[str, bool]]:
    """{preset name: (href, active)} from the preset row the page drew."""
    html = " ".join(md.value for md in at.markdown if "optlab-presets" in md.value)
    return {unescape(name): (unescape(href), bool(active)) for active, href, name in LINK.findall(html)}


def _run_state(at):
    run = at.session_state["_ui_run"]
    return run.controls, run.values


def _text(at) -> str:
    parts = [md.value for md in at.markdown] + [c.value for c in at.caption] + [w.value for w in at.warning]
    parts += [f"{m.label}: {m.value}" for m in at.metric]
    return "\n".join(parts)


def _number(pattern: str, text: str) -> float:
    found = re.search(pattern, text)
    assert found, f"{pattern!r} not in:\n{text}"
    return float(found.group(1).replace(",", "").rstrip("."))  # a number may end a sentence


@pytest.fixture(scope="module")
def defaults():
    """{page: (controls → default, rendered preset links)} from one default render per page."""
    from streamlit.testing.v1 import AppTest

    from tests.conftest import APPTEST_TIMEOUT

    out = {}
    for label in lecture.PRESETS:
        at = AppTest.from_file(str(ROOT / PAGES[label].path), default_timeout=APPTEST_TIMEOUT)
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        out[label] = (_run_state(at)[0], _links(at))
    return out


def test_every_page_has_presets_and_every_section_points_to_one():
    assert set(lecture.PRESETS) == {p.label for p in ui.PAGES if p.path != "app.py"}
    for section in lecture.SECTIONS:
        assert section.preset in lecture.PRESETS[section.page], section


@pytest.mark.parametrize(("page", "name"), CASES, ids=IDS)
def test_preset_names_real_controls_and_only_non_default_values(defaults, page, name):
    """A key the page does not have would be a dead link; a default value in the link would be
    dropped from the address bar by Streamlit (one extra history entry each)."""
    controls, links = defaults[page]
    preset = lecture.PRESETS[page][name]
    assert set(preset) <= set(controls), set(preset) - set(controls)
    same = [k for k, v in preset.items() if ui._same({k: controls[k]}, {k: v})]
    assert not same, f"{name}: {same} equal their defaults"
    assert name in links, (name, list(links))


def _saddle_and_minima(at):
    table = at.dataframe[0].value.set_index("point")
    saddle, minima = table.loc[["saddle"]], table.loc[["minimum"]]
    assert list(saddle[["λ₁", "λ₂"]].iloc[0]) == pytest.approx([-1.8, 2.2], abs=1e-9), saddle
    root = math.sqrt(0.9)  # the slide: w = v = ±√(1 − λ) with λ = 0.1
    assert sorted(minima["w"]) == pytest.approx([-root, root], abs=1e-6)
    assert minima["E"].to_numpy() == pytest.approx([0.19, 0.19], abs=1e-9)


def _stays_on_saddle(at):
    runs = at.dataframe[1].value.set_index("run")
    mine = runs.loc["your start"]
    assert (mine["final w"], mine["final v"], mine["final E"]) == (0.0, 0.0, 1.0)  # E(0,0) = t² = 1
    assert "stayed exactly at the saddle" in _text(at)


def _one_layer_convex(at):
    table = at.dataframe[0].value
    assert list(table["point"]) == ["minimum"] and table["λ₁"].iloc[0] > 0
    assert "**Convex.**" in _text(at)
    assert "100% minimum" in _text(at)  # every start reaches the one minimum


def _tanh_plateau(at):
    text = _text(at)
    assert "E(0, 0) = 0.1042" in text  # 1/N Σ t² = 0.0625 · mean(x²) = 0.0625 · 15/9
    assert re.search(r"\*\*your start \(4, 0\.5\)\*\*: E sits near [\d.]+ from step \d+ to [\d,]+", text), text


def _zero_init(at):
    text = _text(at)
    assert f"E stays at {math.log(2):.4f} = ln 2" in text  # cross-entropy of a zero output
    assert f"final E = {math.log(2):.4f} after 500 steps" in text


def _too_large_init(at):
    text = _text(at)
    found = re.search(r"Your σ = 5\*\*: at init ([\d %,]+) of the units are saturated", text)
    assert found, text
    shares = [int(s) for s in re.findall(r"(\d+) %", found.group(1))]
    assert len(shares) == 4 and min(shares) >= 40, shares


def _restarts(at):
    text = _text(at)
    lo = _number(r"final E from ([\d.]+) to", text)
    hi = _number(r"final E from [\d.]+ to ([\d.]+)", text)
    median = _number(r"\(median ([\d.]+)\)", text)
    assert lo < median < hi and "10 seeds" in text


def _step_decay(at):
    text = _text(at)
    assert "**constant** (γ = 0.01) stays in the **shallow** minimum" in text
    assert re.search(r"\*\*step decay\*\* .* ends in the \*\*deep\*\* minimum", text), text


def _poorly_conditioned(at):
    text = _text(at)
    assert "κ = α_max/α_min = 50" in text
    assert f"= {1 - 2 * 0.99 / 50:.4f}" in text  # the slide's slowest rate 1 − 2·0.99·α_min/α_max


def _optimal(at):
    best = (50 - 1) / (50 + 1)  # (κ − 1)/(κ + 1)
    assert f"your γ = {1 / 51:.4g} gives {best:.4f}" in _text(at)


def _divergent(at):
    notes = " ".join(w.value for w in at.warning)
    assert "γ = 0.021 > 1/α_max = 0.02" in notes
    assert f"grows by {abs(1 - 2 * 0.021 * 50):.3f} per step" in notes


def _mlp_hessian(at):
    text = _text(at)
    assert "**67 parameters**" in text  # 2·6+6 + 6·6+6 + 6+1
    assert _number(r"agreeing with eigvalsh to ([\d.e+-]+)", text) < 1e-10


def _linear_exercise(at):
    metrics = {m.label: m.value for m in at.metric}
    assert float(metrics["max |formula − autograd|"]) < 1e-12


def _huge(at):
    metrics = {m.label: m.value for m in at.metric}
    p = 784 * 1000 + 1000 + 1000 * 1000 + 1000 + 1000 * 10 + 10
    assert metrics["parameters P"] == f"{p:,}" == "1,796,010"


def _whitening(at):
    text = _text(at)
    assert "κ = 1.000000" in text  # whitened: H = 2(1+λ)I
    raw, centred = _number(r"λ_max\(H\) = [\d.]+, κ = ([\d.]+)", text), _number(r"κ [\d.]+ → ([\d.]+)", text)
    assert raw > centred > 1


def _sigmoid_vs_tanh(at):
    text = _text(at)
    sig = _number(r"κ = ([\d.e+]+) \(sigmoid\)", text)
    tanh = _number(r"\(sigmoid\) vs ([\d.e+]+) \(tanh\)", text)
    assert sig > 100 * tanh
    assert re.search(r"exceeds tanh's in (\d+) of \1 ", text), text


def _init_scale(at):
    std = _number(r"output std is ([\d.]+) for linear units \(theory c\^\(L/2\) = 1\)", _text(at))
    assert std == pytest.approx(1.0, abs=0.05)


def _block_diagonal(at):
    assert _number(r"Gauss–Newton matrix G \(largest difference ([\d.e+-]+)\)", _text(at)) < 1e-12


def _deep_nets(at):
    text = _text(at)
    lowest = re.search(r"Lowest: \*\*(.+?)\*\*", text)
    assert lowest and lowest.group(1) != "plain", text


def _signal(at):
    text = _text(at)
    assert _number(r"largest \|μ\| at θ₀ = ([\d.e+-]+)", text) < 1e-12  # batch norm centres exactly
    plain = _number(r"‖∂E/∂W₁‖ at θ₀: plain ([\d.e+-]+)", text)
    skip = _number(r"\+ skip ([\d.e+-]+) \(", text)
    assert skip > 10 * plain
    assert not [w.value for w in at.warning if "diverged" in w.value]


def _interactions(at):
    assert "the measurement supports the slide's claim here" in _text(at)


LIVE = {
    ("Non-convexity", "Two layers, N=1, x=1, t=1, λ=0.1"): _saddle_and_minima,
    ("Non-convexity", "Start on the saddle"): _stays_on_saddle,
    ("Non-convexity", "One layer is convex"): _one_layer_convex,
    ("Plateaus", "tanh plateau"): _tanh_plateau,
    ("Plateaus", "Zero init"): _zero_init,
    ("Plateaus", "Too-large init"): _too_large_init,
    ("Plateaus", "Restarts, width vs depth"): _restarts,
    ("Plateaus", "Step decay"): _step_decay,
    ("Conditioning", "Poorly conditioned: κ=50, γ=0.99/α_max"): _poorly_conditioned,
    ("Conditioning", "Optimal γ = 1/(α_min+α_max)"): _optimal,
    ("Conditioning", "Divergent γ = 1.05/α_max"): _divergent,
    ("Conditioning", "Hessian of an MLP"): _mlp_hessian,
    ("Conditioning", "Linear-model exercise"): _linear_exercise,
    ("Conditioning", "The Hessian is huge"): _huge,
    ("Normalization", "Centering and whitening"): _whitening,
    ("Normalization", "Sigmoid vs tanh"): _sigmoid_vs_tanh,
    ("Normalization", "Init θ ~ N(0, 1/fan_in)"): _init_scale,
    ("Normalization", "Block-diagonal Hessian"): _block_diagonal,
    ("BatchNorm & skip", "Deep plain net vs BN/skip"): _deep_nets,
    ("BatchNorm & skip", "Signal through 20 layers"): _signal,
    ("BatchNorm & skip", "Layer interactions"): _interactions,
}


def test_every_preset_has_a_live_check():
    assert set(LIVE) == set(CASES)


@pytest.mark.parametrize(("page", "name"), CASES, ids=IDS)
def test_preset_link_produces_the_state_it_names(app_test, defaults, page, name):
    controls, links = defaults[page]
    href, _ = links[name]
    query = dict(parse_qsl(urlsplit(href).query))
    at = app_test(PAGES[page].path, query=query)
    assert not at.exception, [e.value for e in at.exception]
    assert not [w.value for w in at.warning if "link parameter" in w.value.lower()]
    _, values = _run_state(at)
    expected = ui.preset_state(controls, lecture.PRESETS[page][name])
    wrong = {k: (values.get(k), v) for k, v in expected.items() if not ui._same({k: values.get(k)}, {k: v})}
    assert not wrong, wrong
    active = [n for n, (_, on) in _links(at).items() if on]
    assert active == [name], active
    LIVE[(page, name)](at)


def test_home_links_each_section_to_its_preset(app_test):
    at = app_test("app.py")
    assert not at.exception
    html = " ".join(md.value for md in at.markdown)
    for section in lecture.SECTIONS:
        info = PAGES[section.page]
        expected = {k: ui._url_value(v) for k, v in lecture.PRESETS[section.page][section.preset].items()}
        found = [
            dict(parse_qsl(urlsplit(unescape(h)).query))
            for _, h, label in LINK.findall(html)
            if unescape(label) == f"{info.label}: {section.preset}" and unescape(h).split("?")[0] == ui.url_path(info)
        ]
        assert expected in found, (section.title, found)


def test_presenter_link_accepts_1(app_test):
    at = app_test("app.py", query={"present": "1"})
    assert not at.exception
    assert at.toggle(key="present").value is True
    assert not at.warning
