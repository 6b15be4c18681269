"""core.nonconvex against closed forms: the slide's critical points and Hessian eigenvalues,
the convexity verdict of both models, GD from a positive start and from the origin,
the chord slices, restarts, divergence, and the Non-convexity page's chart builders."""

from __future__ import annotations

import math

import altair as alt
import numpy as np
import pytest
import torch

from core import charts, hessian, nonconvex, optim, surfaces

S = math.sqrt(0.9)
DEFAULT = nonconvex.Settings()  # the slide: N=1, x=1, t=1, λ=0.1


@pytest.fixture(scope="module")
def slide():
    return nonconvex.experiment(DEFAULT)


@pytest.fixture(scope="module")
def one_layer():
    return nonconvex.experiment(nonconvex.Settings(model="one layer"))


def two_layer_hessian(theta: torch.Tensor, x, t, lam: float) -> torch.Tensor:
    """Closed form: H = [[2a v² + 2λ, 4a vw − 2b], [4a vw − 2b, 2a w² + 2λ]], a = mean x², b = mean t·x."""
    x, t = torch.as_tensor(x, dtype=torch.float64), torch.as_tensor(t, dtype=torch.float64)
    a, b = float((x * x).mean()), float((t * x).mean())
    w, v = theta[..., 0], theta[..., 1]
    off = 4 * a * v * w - 2 * b
    row1 = torch.stack([2 * a * v**2 + 2 * lam, off], -1)
    row2 = torch.stack([off, 2 * a * w**2 + 2 * lam], -1)
    return torch.stack([row1, row2], -2)


# --- critical points -----------------------------------------------------------------------


def test_slide_critical_points_and_eigenvalues(slide):
    crit = {c.kind: [] for c in slide.critical}
    for c in slide.critical:
        crit[c.kind].append(c)
    (saddle,) = crit["saddle"]
    assert saddle.theta == pytest.approx((0.0, 0.0), abs=1e-12)
    assert saddle.E == pytest.approx(1.0, abs=1e-12)
    assert saddle.eigenvalues == pytest.approx((-1.8, 2.2), abs=1e-6)
    minima = sorted(crit["minimum"], key=lambda c: c.theta[0])
    assert len(minima) == 2 and "maximum" not in crit
    for sign, m in zip((-1, 1), minima):
        assert m.theta == pytest.approx((sign * S, sign * S), abs=1e-6)
        assert m.E == pytest.approx(0.19, abs=1e-6)
        assert m.eigenvalues == pytest.approx((0.4, 3.6), abs=1e-6)


def test_critical_frame_is_the_slides_table(slide):
    df = nonconvex.critical_frame(slide)
    assert list(df.columns) == ["point", "w", "v", "E", "λ₁", "λ₂"]
    assert list(df["point"]) == ["saddle", "minimum", "minimum"]
    np.testing.assert_allclose(df[["λ₁", "λ₂"]].to_numpy(), [[-1.8, 2.2], [0.4, 3.6], [0.4, 3.6]], atol=1e-6)
    np.testing.assert_allclose(df["E"].to_numpy(), [1.0, 0.19, 0.19], atol=1e-6)


@pytest.mark.parametrize(
    ("eigs", "kind"),
    [((1.0, 2.0), "minimum"), ((-1.0, -2.0), "maximum"), ((-1.8, 2.2), "saddle"), ((0.0, 4.0), "degenerate")],
)
def test_classify(eigs, kind):
    assert nonconvex.classify(eigs) == kind


def test_one_layer_minimum_is_the_closed_form(one_layer):
    (c,) = one_layer.critical
    # X = [[1, 1]], t = [1], λ = 0.1: w* = (XᵀX + λI)⁻¹Xᵀt = (1, 1)/2.1; H = 2XᵀX + 0.2I: eigenvalues 0.2, 4.2
    assert c.kind == "minimum"
    assert c.theta == pytest.approx((1 / 2.1, 1 / 2.1), abs=1e-12)
    assert c.eigenvalues == pytest.approx((0.2, 4.2), abs=1e-12)


def test_large_weight_decay_leaves_only_the_origin_a_minimum():
    r = nonconvex.experiment(nonconvex.Settings(lam=1.5, restarts=0, steps=10))
    assert [c.kind for c in r.critical] == ["minimum"]
    assert r.critical[0].eigenvalues == pytest.approx((1.0, 5.0), abs=1e-12)  # 2λ ∓ 2b
    assert not r.verdict.convex  # a unique minimum, and still not convex away from it


# --- convexity verdict ------------------------------------------------------------------------


def test_grid_eigenvalues_match_the_closed_form_hessian():
    xs, ts = nonconvex.dataset(7, 0.8, -0.6, seed=3)
    E = nonconvex.surface("two layers", xs, ts, 0.05)
    theta = torch.randn(5, 6, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64) * 2
    got = nonconvex.hessian_eigenvalues(E, theta)
    want = torch.linalg.eigvalsh(two_layer_hessian(theta, xs, ts, 0.05))
    torch.testing.assert_close(got, want, rtol=0, atol=1e-12)


def test_verdict_two_layers_default_grid(slide):
    v = slide.verdict
    assert slide.span == 2.0 and v.n_points == 81 * 81
    # λ_min of the closed-form Hessian, minimized over the same grid: −2a s² + 2λ − 2b at w = −v = ±2
    a = torch.linspace(-2, 2, 81, dtype=torch.float64)
    B, A = torch.meshgrid(a, a, indexing="ij")
    lmin = torch.linalg.eigvalsh(two_layer_hessian(torch.stack([A, B], -1), [1.0], [1.0], 0.1))[..., 0]
    assert not v.convex
    assert v.lambda_min == pytest.approx(float(lmin.min()), abs=1e-12)
    assert v.lambda_min == pytest.approx(-9.8, abs=1e-12)
    assert abs(v.at[0]) == pytest.approx(2.0) and v.at[1] == pytest.approx(-v.at[0])
    assert v.lambda_min_origin == pytest.approx(-1.8, abs=1e-12)
    assert v.negative_share == pytest.approx(float((lmin < 0).double().mean()), abs=1e-12)


def test_verdict_one_layer_default_grid(one_layer):
    v = one_layer.verdict
    assert v.convex
    # H = 2/N XᵀX + 2λI is constant: λ_min = 2λ + 2λ_min(XᵀX/N) = 0.2 for X = [[1, 1]]
    assert v.lambda_min == pytest.approx(0.2, abs=1e-12)
    assert one_layer.convex_bound == pytest.approx(0.2, abs=1e-12)
    np.testing.assert_allclose(one_layer.grid["lmin"].to_numpy(), 0.2, atol=1e-12)


def test_verdict_one_layer_many_samples_equals_the_analytic_hessian():
    s = nonconvex.Settings(model="one layer", n=12, data_seed=5, lam=0.3, restarts=0, steps=10)
    r = nonconvex.experiment(s)
    xs, _ = nonconvex.dataset(12, s.x, s.t, 5)
    H = hessian.linear_model(torch.stack([xs, torch.ones_like(xs)], 1), 0.3)
    want = float(torch.linalg.eigvalsh(H)[0])
    assert r.verdict.convex and r.verdict.lambda_min == pytest.approx(want, abs=1e-12)
    assert r.convex_bound == pytest.approx(want, abs=1e-12) and want > 2 * 0.3


# --- gradient descent --------------------------------------------------------------------------


def test_gd_from_a_positive_start_reaches_the_positive_minimum():
    r = nonconvex.experiment(nonconvex.Settings(start=(0.5, 0.2), restarts=0))
    m = r.main
    assert m.final == pytest.approx((S, S), abs=1e-6)
    assert m.E == pytest.approx(0.19, abs=1e-10)
    assert m.reached == "minimum (+0.95, +0.95)" and 0 < m.steps_to_reach < 300


def test_gd_from_the_origin_does_not_move():
    r = nonconvex.experiment(nonconvex.Settings(start=(0.0, 0.0), restarts=0, steps=500, lr=0.5))
    path = r.paths.loc[r.paths["run"] == 0, ["w", "v"]].to_numpy()
    assert (path == 0.0).all()  # exactly, every step
    assert r.main.grad_norm == 0.0 and r.main.reached.startswith("saddle") and r.main.steps_to_reach == 0
    assert "stayed exactly at the saddle" in nonconvex.notice(r)[0]


def test_one_layer_gd_moves_from_the_origin_and_reaches_its_minimum():
    r = nonconvex.experiment(nonconvex.Settings(model="one layer", start=(0.0, 0.0), restarts=0))
    assert r.main.final == pytest.approx((1 / 2.1, 1 / 2.1), abs=nonconvex.REACH_TOL)
    assert r.main.reached.startswith("minimum")


def test_restarts_are_seeded_and_shares_add_up(slide):
    again = nonconvex.experiment(DEFAULT)
    assert [r.final for r in again.runs] == [r.final for r in slide.runs]
    assert len(slide.runs) == 1 + DEFAULT.restarts
    shares = slide.shares()
    assert sum(shares.values()) == pytest.approx(1.0)
    assert set(shares) == {"minimum (+0.95, +0.95)", "minimum (-0.95, -0.95)"}  # both basins are visited
    assert slide.best.E == min(r.E for r in slide.runs)
    other = nonconvex.experiment(nonconvex.Settings(seed=1))
    assert [r.start for r in other.runs[1:]] != [r.start for r in slide.runs[1:]]


def test_restart_starts_follow_the_init_scale():
    s = nonconvex.Settings(restarts=4000, init_scale=0.3)
    starts = nonconvex.starts(s)
    assert starts[0].tolist() == list(s.start)
    assert float(starts[1:].std()) == pytest.approx(0.3, rel=0.03)


def test_divergence_is_reported_in_words_and_never_reaches_the_chart():
    r = nonconvex.experiment(nonconvex.Settings(lr=1.0))
    assert r.divergence and r.main.diverged_at is not None
    assert f"GD diverged at step {r.main.diverged_at} because γ = 1 > 2/λ_max" in r.divergence[0]
    assert np.isfinite(r.paths[["w", "v", "E"]].to_numpy()).all()
    assert r.paths.loc[r.paths["run"] == 0, "step"].max() < r.main.diverged_at


def test_divergence_reason_names_the_first_step_where_gamma_exceeds_two_over_lambda_max():
    E = surfaces.two_layer_linear()
    lr = 0.6
    traj = optim.gradient_descent(E, torch.tensor([[1.5, -0.5], [-2.3, 1.5]], dtype=torch.float64), lr=lr, steps=50)
    for r in range(2):
        assert traj.diverged_each[r] is not None
        path = traj.thetas[: traj.diverged_each[r], r]
        tops = [float(torch.linalg.eigvalsh(two_layer_hessian(p, [1.0], [1.0], 0.1))[-1]) for p in path]
        j = next(i for i, top in enumerate(tops) if lr > 2 / top)
        text = nonconvex.divergence_reason(E, traj, r, lr)
        assert f"γ = 0.6 > 2/λ_max = {2 / tops[j]:.3g}" in text
        assert ("at its start" if j == 0 else f"already at step {j}") in text


def test_lambda_zero_runs_settle_on_the_valley_of_minima():
    r = nonconvex.experiment(nonconvex.Settings(lam=0.0))
    assert {c.kind for c in r.critical} == {"saddle", "degenerate"}
    assert r.main.reached == "valley of minima"
    w, v = r.main.final
    assert w * v == pytest.approx(1.0, abs=1e-6)  # on vw = b/a


# --- the chord slices ------------------------------------------------------------------------------


def test_chord_slice_two_layers_rises_above_the_one_layer_stays_below(slide):
    two, one = slide.slices["two layers"], slide.slices["one layer"]
    assert slide.slice_how == "through the two minima"
    # midpoint of the two minima is the origin: E(0,0) − chord = 1 − 0.19
    assert two.max_rise == pytest.approx(0.81, abs=1e-12)
    assert two.at == pytest.approx((0.0, 0.0), abs=1e-12)
    assert one.max_rise <= 1e-12
    inside = ~torch.isnan(one.chord)
    assert bool((one.E[inside] <= one.chord[inside] + 1e-12).all())


def test_chord_slice_without_a_pair_of_minima_still_finds_the_non_convexity():
    r = nonconvex.experiment(nonconvex.Settings(lam=1.5, restarts=0, steps=10))
    assert "most negative curvature" in r.slice_how
    assert r.slices["two layers"].max_rise > 0 and r.slices["one layer"].max_rise <= 1e-12


def test_dataset_first_sample_is_exact_and_the_rest_seeded():
    xs, ts = nonconvex.dataset(1, 1.0, 1.0)
    assert xs.tolist() == [1.0] and ts.tolist() == [1.0]
    a = nonconvex.dataset(10, 0.5, -1.0, seed=2)
    b = nonconvex.dataset(10, 0.5, -1.0, seed=2)
    c = nonconvex.dataset(10, 0.5, -1.0, seed=3)
    assert torch.equal(a[0], b[0]) and not torch.equal(a[0], c[0])
    assert a[0][0] == 0.5 and a[1][0] == -1.0


# --- frames and chart builders -----------------------------------------------------------------------


def test_paths_frame_is_thinned_and_marks_positions(slide):
    p = slide.paths
    assert set(p["run"]) == set(range(1 + DEFAULT.restarts))
    for _, run in p.groupby("run"):
        steps = run["step"].tolist()
        assert steps[0] == 0 and steps[-1] == DEFAULT.steps
        assert run["next_step"].tolist()[:-1] == steps[1:]
        assert len(run) <= nonconvex.MAX_PATH_POINTS + 2


@pytest.fixture
def no_row_limit():
    """Streamlit lifts Altair's 5,000-row limit; so do these tests (the 81×81 grid has 6,561 rows)."""
    with alt.data_transformers.disable_max_rows():
        yield


def test_descent_map_spec_has_the_click_selection_and_the_step_slider(slide, no_row_limit):
    chart = charts.descent_map(
        slide.grid, slide.paths, nonconvex.markers_frame(slide), steps=DEFAULT.steps, stride=slide.stride
    )
    spec = chart.to_dict()
    params = {p["name"]: p for p in spec["params"]}
    assert params["show_step"]["bind"]["input"] == "range"
    assert params["show_step"]["bind"]["max"] == DEFAULT.steps and params["show_step"]["value"] == DEFAULT.steps
    assert params["pick"]["select"]["type"] == "point" and params["pick"]["select"]["fields"] == ["w", "v"]
    filters = [t["filter"] for layer in spec["layer"] for t in layer.get("transform", []) if "filter" in t]
    assert any("show_step" in str(f) for f in filters)


def test_curvature_map_and_chord_slice_build(slide, no_row_limit):
    charts.curvature_map(slide.grid, slide.verdict.at).to_dict()
    frame = nonconvex.slices_frame(slide)
    spec = charts.chord_slice(frame, "two layers").to_dict()
    assert "not convex" in spec["title"]["text"]
    assert "stays on or below" in charts.chord_slice(frame, "one layer").to_dict()["title"]["text"]


def test_a_run_caught_in_a_two_cycle_is_named_so_not_still_moving():
    """One layer, x = 0, λ = 0, γ = 1: H = diag(0, 2), so w₂'s factor 1 − γ·2 = −1 and GD bounces
    for good between two points (the page advised "more steps or a larger γ")."""
    s = nonconvex.Settings(model="one layer", x=0.0, lam=0.0, lr=1.0, restarts=0)
    r = nonconvex.experiment(s)
    mine = r.runs[0]
    assert mine.reached == "oscillating"
    # E = (w₂ − t)² with t = 1: w₂ ← 2 − w₂ bounces between −0.5 and 2.5; 300 steps end on −0.5
    assert mine.final == (1.5, -0.5) and mine.E == 2.25
    text = nonconvex.run_text(mine, s.steps, s.lr)
    assert "bounces between two points" in text and "larger γ" not in text
    assert nonconvex.experiment(nonconvex.Settings(model="one layer", x=0.0, lam=0.0, lr=0.5)).runs[0].reached != (
        "oscillating"
    )
