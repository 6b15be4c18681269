"""The Plateaus page under AppTest: default numbers, every control of every section, deep links."""

from __future__ import annotations

import json

import pytest

from core import plateaus
from tests.conftest import chart_specs, no_exception, what_to_notice
from tests.test_pages import _controls, _extremes

PAGE = "pages/2_Plateaus.py"
SECTIONS = ["tanh plateaus", "Initialization", "Restarts, width & depth", "Learning-rate schedules"]
FAST_NETS = {"mlp_steps": "100", "restarts": "3"}  # keeps the MLP sections quick where numbers do not matter


def _titles(at) -> list[str]:
    return [s.get("title", {}).get("text", "") for s in chart_specs(at)]


# --- tanh plateaus (the default section) -------------------------------------------------------


def test_defaults_show_the_plateau_and_its_escape(app_test):
    at = app_test(PAGE)
    no_exception(at)
    assert not at.warning
    table = at.dataframe[0].value
    assert list(table["run"]) == ["your start (4, 0.5)", "(−5, −0.3): deep on the plateau", "(0.5, 0.5): small weights"]
    steps = list(table["steps on plateaus"])
    assert steps[0] >= 300 and steps[1] == 5000 and steps[2] == 0
    notice = what_to_notice(at)
    assert "‖∇E‖ < 0.01" in notice
    assert "your start (4, 0.5)**: E sits near 0.0155" in notice and "then escapes to E = 4.34e-05" in notice
    assert "is still on it at step 5,000" in notice
    assert "2/γ = 4.00" in notice  # the small-weights run's overshoot, explained by the Hessian
    assert sorted(_titles(at)) == sorted(["E(w, v) and GD paths", "‖∇E‖ (log)", "Loss (log)", "‖∇E‖ (log)"])


def test_plateau_threshold_and_learning_rate_change_the_measurement(app_test):
    at = app_test(PAGE)
    before = list(at.dataframe[0].value["steps on plateaus"])  # [yours, deep, small weights]
    at.selectbox(key="gmax").set_value("0.001").run()
    no_exception(at)
    assert "‖∇E‖ < 0.001" in what_to_notice(at)
    assert at.dataframe[0].value["steps on plateaus"].iloc[0] < before[0]
    at.selectbox(key="gmax").set_value("0.01")
    at.slider(key="lr").set_value(1.0).run()  # twice the step: the plateau is crossed in about half the steps
    no_exception(at)
    assert at.dataframe[0].value["steps on plateaus"].iloc[0] < 0.7 * before[0]


def test_too_large_a_step_diverges_and_says_why(app_test):
    at = app_test(PAGE, query={"lr": "3", "w0": "0.5", "v0": "2"})
    no_exception(at)
    notice = what_to_notice(at)
    assert "GD diverged at step" in notice or "jumps up" in notice


def test_deep_link_reproduces_a_start_and_weight_decay(app_test):
    at = app_test(PAGE, query={"w0": "-5", "v0": "-0.3", "lam": "0.01", "steps": "2000"})
    no_exception(at)
    assert not at.warning
    assert at.slider(key="w0").value == -5.0 and at.slider(key="lam").value == 0.01
    assert at.dataframe[0].value["run"][0] == "your start (-5, -0.3)"
    assert "after 2,000 steps" in what_to_notice(at)
    # weight decay pulls |w| back out of tanh's saturated region: λw dominates the gradient, no plateau
    assert list(at.dataframe[0].value["steps on plateaus"]) == [0, 0, 0]


# --- initialization --------------------------------------------------------------------------


def test_initialization_defaults(app_test):
    at = app_test(PAGE, query={"section": "Initialization"})
    no_exception(at)
    assert not at.warning
    notice = what_to_notice(at)
    assert "hidden layers' gradient is exactly 0 at every one of the 500 steps" in notice
    # σ = 10 trains through saturated tanh units: a chaotic path whose final E depends on the CPU's
    # float64 kernels (0.340 on AVX2, 0.421 on AVX-512), so the reference is the core's run in this process.
    r = plateaus.init_experiment(plateaus.NetSettings())
    E_large = float(r.training.losses[-1, r.index(10.0)])
    E_best = float(r.training.losses[-1, r.index(3.0)])
    assert "Best of the compared scales: σ = 3 (E = 0.0091)" in notice
    assert f"Too small (σ = 0.1: E = 0.693) hurts; too large (σ = 10: E = {E_large:.3f}) hurts" in notice
    assert E_large > 2 * E_best  # the claim "hurts" holds on every machine, not only its digits
    grads = at.dataframe[0].value
    hidden = grads[grads["layer"].str.startswith("hidden")]
    assert (hidden["zero init, step 0"] == 0).all() and (hidden["zero init, step 500"] == 0).all()
    assert (hidden["σ = 1, step 0"] > 0).all()
    assert _titles(at)[:2] == ["Loss curves for several σ (log)", "Saturated units at init vs σ"]


def test_larger_sigma_saturates_more_units(app_test):
    at = app_test(PAGE, query={"section": "Initialization", "mlp_steps": "50"})
    assert "0 %, 0 %, 0 %, 0 % of the units are saturated" in what_to_notice(at)
    at.slider(key="sigma").set_value(8.0).run()
    no_exception(at)
    notice = what_to_notice(at)
    shares = notice.split("at init ")[1].split(" of the units")[0]
    assert all(int(p.strip(" %")) > 30 for p in shares.split(","))
    hist = next(s for s in chart_specs(at) if "facet" in s)
    assert "saturated" in json.dumps(hist)


# --- restarts, width and depth -----------------------------------------------------------------


def test_restarts_and_sweeps_are_drawn_and_counted(app_test):
    at = app_test(PAGE, query={"section": "Restarts, width & depth", **FAST_NETS})
    no_exception(at)
    assert not at.warning
    assert any(c.value.startswith("39 networks trained") for c in at.caption)  # 3 + 18 + 18
    titles = _titles(at)
    assert "Final loss of 3 restarts" in titles
    assert "Final loss vs width (depth 1)" in titles and "Final loss vs depth (width 4)" in titles
    notice = what_to_notice(at)
    assert "**Restarts**: 3 seeds" in notice and "**Width**" in notice and "**Depth** (width 4)" in notice


def test_default_sweep_reports_the_measured_claims(app_test):
    at = app_test(PAGE, query={"section": "Restarts, width & depth"})
    no_exception(at)
    notice = what_to_notice(at)
    assert "More neurons per layer helped at every step of the sweep." in notice
    assert "best at depth 4. Deeper than that hurts" in notice
    assert "keeping the best (seed 8)" in notice


# --- learning-rate schedules -----------------------------------------------------------------------


def test_schedule_defaults_escape_only_with_a_large_then_decaying_rate(app_test):
    at = app_test(PAGE, query={"section": "Learning-rate schedules"})
    no_exception(at)
    assert not at.warning
    table = at.dataframe[0].value
    assert list(table["ends in"]) == ["shallow minimum", "deep minimum", "deep minimum", "deep minimum"]
    assert "2/λ_max = 0.0200" in what_to_notice(at)
    assert sorted(_titles(at)) == sorted(["γ(t)", "Loss E(θₜ)", "GD paths on E(θ)", "Close-up"])


def test_a_large_constant_rate_escapes_too(app_test):
    at = app_test(PAGE, query={"section": "Learning-rate schedules", "sched_steps": "1500"})
    at.slider(key="lr_const").set_value(0.1).run()
    no_exception(at)
    assert at.dataframe[0].value["ends in"][0] == "deep minimum"
    at.slider(key="lr_const").set_value(0.05).run()  # unstable at the minimum, yet it only bounces inside
    assert at.dataframe[0].value["ends in"][0] == "shallow minimum"
    assert "escaping needs γ well above 2/λ_max" in what_to_notice(at)


def test_factor_one_means_no_step_decay(app_test):
    at = app_test(PAGE, query={"section": "Learning-rate schedules", "factor": "1", "lr0": "0.2"})
    no_exception(at)
    table = at.dataframe[0].value
    assert table["γ first → last"][1] == "0.2 → 0.2"  # factor 1: no decay at all


# --- every control, in every section -------------------------------------------------------------


@pytest.mark.parametrize("section", SECTIONS)
def test_every_control_at_its_extremes_in_each_section(app_test, section):
    """Like tests/test_pages.py, but with each section open (only the open one computes); the MLP
    sections train for 50 steps so that 20 restarts of a 32-wide, 6-deep net stay quick."""
    query = {"section": section} | ({"mlp_steps": "50"} if section != SECTIONS[0] else {})
    at = app_test(PAGE, query=query)
    for pattern in ([0], [1]):
        for widget in list(_controls(at)):
            if widget.key in ("contrast", "present", "mlp_steps"):
                continue
            value = _extremes(widget, pattern[0])
            if value is not None:
                widget.set_value(value)
        at.run()
        no_exception(at)
        assert at.get("vega_lite_chart"), section
