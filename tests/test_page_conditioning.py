"""The Conditioning page under AppTest: defaults show the live numbers, each control changes what
it should, and a link (query string) reproduces a view, in every tab."""

from __future__ import annotations

import json

import pytest

from tests.conftest import chart_specs, no_exception

PAGE = "pages/3_Conditioning.py"
GD, MLP, EXERCISE, SIZE = "GD on a quadratic", "Hessian of a small MLP", "Exercise: linear model", "The Hessian is huge"


def _text(at) -> str:
    return "\n".join([m.value for m in at.markdown] + [c.value for c in at.caption])


def _notes(at) -> str:
    return "\n".join(w.value for w in at.warning)


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _factor_table(at):
    return next(df.value for df in at.dataframe if "theory |1−2γαᵢ|" in df.value.columns)


# --- GD on a quadratic ----------------------------------------------------------------------------------


def test_defaults_show_the_lectures_rates(app_test):
    at = app_test(PAGE)
    no_exception(at)
    assert not _notes(at)
    text = _text(at)
    assert "γ = 0.099" in text and "κ = α_max/α_min = 10" in text
    table = _factor_table(at)
    assert list(table["theory |1−2γαᵢ|"].round(6)) == [0.802, 0.98]
    assert (table["|difference|"] <= 1e-9).all()
    # the slide's slowest rate is not the slowest at κ = 10, and the page says so
    assert "is not the slowest here" in text and "0.8020" in text
    assert "agree exactly" in text
    assert len(chart_specs(at)) == 4


def test_optimum_rule_equalizes_the_factors(app_test):
    at = app_test(PAGE)
    at.selectbox(key="lr_rule").select("γ = 1/(α_min+α_max) (optimum)").run()
    no_exception(at)
    table = _factor_table(at)
    assert table["theory |1−2γαᵢ|"].round(9).tolist() == [round(9 / 11, 9)] * 2
    assert "γ = 0.090909" in _text(at)
    assert "is not the slowest here" not in _text(at)


def test_custom_gamma_above_the_limit_diverges_and_says_why(app_test):
    at = app_test(PAGE, query={"lr_rule": "γ = custom", "lr_amax": "1.2", "steps": "300"})
    no_exception(at)
    notes = _notes(at)
    assert "GD diverged at step" in notes and "1/α_max" in notes
    for spec in chart_specs(at):
        assert "NaN" not in json.dumps(spec) and "Infinity" not in json.dumps(spec)
    assert "No run reached the tolerance" in _text(at)


def test_custom_slider_only_matters_for_the_custom_rule(app_test):
    at = app_test(PAGE)
    at.slider(key="lr_amax").set_value(0.3).run()
    assert "γ = 0.099" in _text(at)
    at.selectbox(key="lr_rule").select("γ = custom").run()
    assert "γ = 0.03 " in _text(at)


def test_rotation_keeps_the_factors_and_is_explained(app_test):
    at = app_test(PAGE)
    before = _factor_table(at)["measured |uₜ₊₁/uₜ|"].tolist()
    at.slider(key="angle").set_value(30).run()
    no_exception(at)
    after = _factor_table(at)["measured |uₜ₊₁/uₜ|"].tolist()
    assert after == pytest.approx(before, abs=1e-9)
    assert "Rotated by 30°" in _text(at)
    path = next(s for s in chart_specs(at) if "Level sets" in json.dumps(s.get("title", "")))
    assert path


def test_alphas_start_and_steps_change_the_run(app_test):
    at = app_test(PAGE)
    at.number_input(key="a1").set_value(0.5)
    at.number_input(key="a2").set_value(100.0).run()
    assert "κ = α_max/α_min = 200" in _text(at)
    assert "As on the slide" in _text(at)  # κ > 99: the flat direction is the bottleneck
    at.slider(key="x0").set_value(-1.0)
    at.slider(key="y0").set_value(0.0).run()
    no_exception(at)
    assert _factor_table(at)["measured |uₜ₊₁/uₜ|"].isna().sum() == 1  # u₂ not excited from θ₂ = 0
    at.slider(key="steps").set_value(5).run()
    no_exception(at)


def test_sweep_controls(app_test):
    at = app_test(PAGE)
    at.selectbox(key="tol").select("1e-2")
    at.slider(key="dims").set_value(6).run()
    no_exception(at)
    assert "GD needs" in _text(at)


def test_deep_link_reproduces_a_state(app_test):
    query = {"a1": "2", "a2": "50", "lr_rule": "γ = 1/(α_min+α_max) (optimum)", "angle": "45", "x0": "-2"}
    at = app_test(PAGE, query=query)
    no_exception(at)
    assert not _notes(at)
    assert at.number_input(key="a2").value == 50 and at.slider(key="angle").value == 45
    assert "γ = 0.019231" in _text(at) and "κ = α_max/α_min = 25" in _text(at)


# --- the MLP tab ------------------------------------------------------------------------------------------


def test_mlp_tab_defaults(app_test):
    at = app_test(PAGE, query={"section": MLP})
    no_exception(at)
    text = _text(at)
    assert "**67 parameters**" in text
    m = _metrics(at)
    assert m["κ"] == "undefined" and int(m["negative eigenvalues"]) > 0
    assert "κ undefined" in text and "smallest positive" in text
    assert "agreeing with eigvalsh to" in text and "residual part" in text
    lanczos = next(df.value for df in at.dataframe if "Lanczos λ" in df.value.columns)
    assert (lanczos["|difference|"] <= 1e-8).all()
    assert len(chart_specs(at)) == 4


def test_mlp_controls_change_the_net(app_test):
    at = app_test(PAGE, query={"section": MLP, "width": "4", "depth": "1", "train_steps": "0"})
    no_exception(at)
    assert "**17 parameters**" in _text(at)  # (2+1)·4 + (4+1)·1
    assert "At initialization the residual part" in _text(at)
    at.selectbox(key="activation").select("relu").run()
    no_exception(at)
    assert "relu" in _text(at)
    at.slider(key="k").set_value(2).run()
    lanczos = next(df.value for df in at.dataframe if "Lanczos λ" in df.value.columns)
    assert len(lanczos) == 4


def test_mlp_training_divergence_is_a_result(app_test):
    at = app_test(PAGE, query={"section": MLP, "train_lr": "2", "train_steps": "200"})
    no_exception(at)
    assert "Training diverged at step" in _notes(at)


# --- the exercise and the Hessian's size ------------------------------------------------------------


def test_exercise_formula_matches_autograd(app_test):
    at = app_test(PAGE, query={"section": EXERCISE})
    no_exception(at)
    assert float(_metrics(at)["max |formula − autograd|"]) <= 1e-12
    before = at.dataframe[0].value.to_numpy()
    at.slider(key="lam").set_value(0.6).run()
    after = at.dataframe[0].value.to_numpy()
    assert after[0, 0] - before[0, 0] == pytest.approx(1.0) and after[0, 1] == pytest.approx(before[0, 1])


def test_size_tab_defaults_are_the_lectures_numbers(app_test):
    at = app_test(PAGE, query={"section": SIZE})
    no_exception(at)
    m = _metrics(at)
    assert m["parameters P"] == "1,796,010" and m["H in float32"] == "12.9 TB"
    text = _text(at)
    assert "3,225,651,920,100 entries" in text and "Hessian-vector product" in text


def test_size_tab_reads_typed_architectures_and_rejects_garbage(app_test):
    at = app_test(PAGE, query={"section": SIZE})
    at.text_input(key="arch").input("10-10").run()
    no_exception(at)
    assert _metrics(at)["parameters P"] == "110"
    at.text_input(key="arch").input("ten-ten").run()
    no_exception(at)
    assert any("Cannot read" in w.value for w in at.warning)


def test_too_long_link_text_is_cut_and_says_so(app_test):
    at = app_test(PAGE, query={"section": SIZE, "arch": "1-" * 150 + "1"})
    no_exception(at)
    notes = _notes(at)
    assert "Link parameter `arch`" in notes and "at most 200 characters" in notes
    assert "at most 50 layers" in notes
