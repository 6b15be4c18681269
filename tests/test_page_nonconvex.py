"""The Non-convexity page under AppTest: the slide's numbers at defaults, controls that rerun,
deep links that reproduce a state, the origin button, divergence in words."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.conftest import no_exception

PAGE = "pages/1_Non_convexity.py"


def _text(at) -> str:
    return " ".join(m.value for m in at.markdown)


@pytest.fixture
def page(app_test):
    at = app_test(PAGE)
    no_exception(at)
    return at


def test_defaults_show_the_slides_saddle_and_minima(page):
    table = page.dataframe[0].value
    assert list(table["point"]) == ["saddle", "minimum", "minimum"]
    np.testing.assert_allclose(table[["λ₁", "λ₂"]].to_numpy(), [[-1.8, 2.2], [0.4, 3.6], [0.4, 3.6]], atol=1e-6)
    np.testing.assert_allclose(table[["w", "v"]].to_numpy()[1:], [[0.9487, 0.9487], [-0.9487, -0.9487]], atol=1e-4)
    np.testing.assert_allclose(table["E"].to_numpy(), [1.0, 0.19, 0.19], atol=1e-9)
    text = _text(page)
    assert "**Non-convex.**" in text and "is -9.8" in text and "(at the origin: -1.8)" in text
    assert "From your start (1.50, -0.50) GD reached the minimum at (0.95, 0.95), E = 0.190" in text
    assert "eigenvalues are -1.8 and 2.2" in text
    assert "rises up to 0.81 above its chord" in text
    assert not page.warning  # nothing diverged, no bad link
    assert page.latex and r"v\,w\,x_n" in page.latex[0].value


def test_the_map_is_sent_with_its_click_selection_and_step_slider(page):
    spec = json.loads(page.get("vega_lite_chart")[0].proto.spec)
    names = {p["name"] for p in spec["params"]}
    assert {"pick", "show_step"} <= names
    assert page.get("vega_lite_chart")[0].proto.selection_mode == ["pick"]


def test_switching_to_one_layer_reports_convex(page):
    page.radio(key="model").set_value("one layer").run()
    no_exception(page)
    text = _text(page)
    assert "**Convex.**" in text and "2λ + 2·λ_min(XᵀX/N) = 0.2" in text
    table = page.dataframe[0].value
    assert list(table["point"]) == ["minimum"] and list(table.columns[1:3]) == ["w₁", "w₂"]
    assert table["λ₁"].iloc[0] == pytest.approx(0.2, abs=1e-12)


def test_lambda_and_restarts_rerun_and_change_the_numbers(page):
    page.slider(key="lam").set_value(0.3).run()
    no_exception(page)
    # minima at w = v = ±√(1 − λ) = ±√0.7 with eigenvalues of the closed form
    table = page.dataframe[0].value
    assert table["w"].iloc[1] == pytest.approx(0.7**0.5, abs=1e-9)
    assert table["λ₁"].iloc[0] == pytest.approx(0.6 - 2.0, abs=1e-9)
    page.slider(key="restarts").set_value(20).run()
    no_exception(page)
    runs = page.dataframe[1].value
    assert len(runs) == 21 and "Of 21 runs (yours + 20 restarts)" in _text(page)
    page.slider(key="restarts").set_value(0).run()
    no_exception(page)
    assert len(page.dataframe[1].value) == 1


def test_deep_link_reproduces_a_start_point(app_test):
    at = app_test(PAGE, query={"w0": "-0.7", "v0": "1.3", "steps": "500", "seed": "4"})
    no_exception(at)
    assert at.slider(key="w0").value == pytest.approx(-0.7) and at.slider(key="v0").value == pytest.approx(1.3)
    assert "From your start (-0.70, 1.30)" in _text(at)
    runs = at.dataframe[1].value
    assert runs["start w"].iloc[0] == pytest.approx(-0.7) and runs["start v"].iloc[0] == pytest.approx(1.3)
    assert not at.warning
    again = app_test(PAGE, query={"w0": "-0.7", "v0": "1.3", "steps": "500", "seed": "4"})
    assert again.dataframe[1].value.equals(runs)


def test_origin_button_starts_on_the_saddle_and_gd_stays(page):
    page.button[0].click().run()
    no_exception(page)
    assert page.slider(key="w0").value == 0.0 and page.slider(key="v0").value == 0.0
    text = _text(page)
    assert "stayed exactly at the saddle (0.00, 0.00): the gradient there is exactly zero" in text


def test_too_large_learning_rate_is_reported_in_words(page):
    page.slider(key="lr").set_value(1.0).run()
    no_exception(page)
    notes = " ".join(w.value for w in page.warning)
    assert "GD diverged at step" in notes and "because γ = 1 > 2/λ_max" in notes
