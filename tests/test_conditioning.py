"""core.conditioning against exact references: GD factors |1 − 2γαᵢ|, closed-form step counts,
eigvalsh, the Gauss–Newton split built sample by sample, the linear-model formula, P of real nets."""

from __future__ import annotations

import json
import math

import altair as alt
import numpy as np
import pytest
import torch

from core import charts, data, hessian, models
from core import conditioning as cd

DTYPE = torch.float64
ALPHAS = (1.0, 10.0)


# --- the special case: factors per eigen-direction -------------------------------------------------


@pytest.mark.parametrize("angle", [0.0, math.radians(30), math.radians(-75)])
@pytest.mark.parametrize("gamma_amax", [0.99, 10 / 11, 0.3, 0.05])
def test_measured_factors_equal_one_minus_two_gamma_alpha(angle, gamma_amax):
    gamma = gamma_amax / max(ALPHAS)
    run = cd.run_quadratic(ALPHAS, gamma, theta0=(2.0, 1.0), angle=angle, steps=60)
    expected = [abs(1 - 2 * gamma * a) for a in ALPHAS]
    for i, (m, e) in enumerate(zip(run.measured_factors, expected, strict=True)):
        assert m is not None, f"direction {i} not measurable"
        assert abs(m - e) <= 1e-9, f"direction {i}: measured {m!r} vs |1 − 2γα| = {e!r} (angle {angle})"
    torch.testing.assert_close(run.predicted_factors, torch.tensor(expected, dtype=DTYPE), rtol=0, atol=1e-15)


def test_factor_of_zero_is_measured_as_zero():
    """γ = 1/(2α₂) puts u₂ on 0 in one step: the factor is 0, not NaN or −inf."""
    run = cd.run_quadratic(ALPHAS, 0.05, theta0=(1.0, 1.0), steps=3)
    assert run.measured_factors[0] == pytest.approx(0.9, abs=1e-12)
    assert run.measured_factors[1] <= 1e-12


def test_direction_not_excited_is_not_measurable():
    run = cd.run_quadratic(ALPHAS, 0.05, theta0=(1.0, 0.0), steps=10)
    assert run.measured_factors[1] is None
    table = cd.factor_table(run)
    assert table["measured |uₜ₊₁/uₜ|"].isna().sum() == 1


def test_autograd_hessian_of_the_quadratic_is_two_R_diag_alpha_R():
    angle = math.radians(40)
    run = cd.run_quadratic(ALPHAS, 0.05, theta0=(1.0, 1.0), angle=angle, steps=1)
    c, s = math.cos(angle), math.sin(angle)
    R = torch.tensor([[c, s], [-s, c]], dtype=DTYPE)
    torch.testing.assert_close(run.hessian, 2 * R.T @ torch.diag(torch.tensor(ALPHAS, dtype=DTYPE)) @ R)
    torch.testing.assert_close(run.hessian_eigenvalues, torch.tensor([2.0, 20.0], dtype=DTYPE))


@pytest.mark.parametrize("angle", [0.0, math.radians(30)])
def test_divergence_just_above_one_over_alpha_max(angle):
    above = cd.run_quadratic(ALPHAS, 1.01 / max(ALPHAS), theta0=(2.0, 1.0), angle=angle, steps=1000)
    assert above.diverged_at is not None
    text = cd.stability_text(above)
    assert f"diverged at step {above.diverged_at}" in text and "1/α_max" in text
    frame = cd.distance_frame(above)
    assert np.isfinite(frame["value"]).all() and frame["step"].max() <= above.diverged_at


@pytest.mark.parametrize("angle", [0.0, math.radians(30)])
def test_convergence_just_below_one_over_alpha_max(angle):
    below = cd.run_quadratic(ALPHAS, 0.995 / max(ALPHAS), theta0=(2.0, 1.0), angle=angle, steps=1500)
    assert below.diverged_at is None and cd.stability_text(below) is None
    u = below.u
    assert float(u[-1].norm()) < 1e-3 * float(u[0].norm())


def test_exactly_one_over_alpha_max_oscillates_and_is_said_so():
    run = cd.run_quadratic(ALPHAS, 1 / max(ALPHAS), theta0=(0.0, 1.0), steps=20)
    assert run.diverged_at is None
    torch.testing.assert_close(run.u[:, 1].abs(), torch.ones(21, dtype=DTYPE))
    assert "neither converges nor diverges" in cd.stability_text(run)


def test_above_limit_without_reaching_the_stopping_rule_is_reported():
    run = cd.run_quadratic(ALPHAS, 1.01 / max(ALPHAS), theta0=(2.0, 1.0), steps=20)
    assert run.diverged_at is None
    assert "GD will diverge" in cd.stability_text(run)


def test_learning_rate_rules():
    assert cd.learning_rate(ALPHAS, "lecture") == pytest.approx(0.099)
    assert cd.learning_rate(ALPHAS, "optimum") == pytest.approx(1 / 11)
    assert cd.learning_rate(ALPHAS, "custom", 0.5) == pytest.approx(0.05)
    with pytest.raises(ValueError):
        cd.learning_rate(ALPHAS, "nope")
    # the optimum equalizes the two factors at (κ − 1)/(κ + 1)
    f = cd.rate_factors(ALPHAS, 1 / 11)
    torch.testing.assert_close(f, torch.full((2,), 9 / 11, dtype=DTYPE))


def test_slides_slowest_rate_and_where_it_is_the_bottleneck():
    """At γ = 0.99/α_max the flat factor is |1 − 1.98/κ|; it is the slowest one only for κ > 99."""
    for kappa, flat_is_slowest in ((10.0, False), (50.0, False), (200.0, True)):
        a = (1.0, kappa)
        f = cd.rate_factors(a, cd.learning_rate(a, "lecture"))
        assert float(f[0]) == pytest.approx(abs(1 - 1.98 / kappa), abs=1e-15)
        assert float(f[1]) == pytest.approx(0.98, abs=1e-15)
        assert (float(f[0]) > float(f[1])) == flat_is_slowest


# --- steps to a tolerance vs κ ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rule, gamma_amax, tol, dims",
    [("lecture", 0.99, 1e-4, 2), ("optimum", 0.99, 1e-6, 2), ("custom", 0.5, 1e-2, 5), ("lecture", 0.99, 1e-2, 8)],
)
def test_steps_to_tolerance_matches_theory_within_one_step(rule, gamma_amax, tol, dims):
    s = cd.kappa_sweep(rule, gamma_amax, tol, dims)
    for k, m, t, b in zip(s.kappas, s.measured, s.theory, s.bound, strict=True):
        assert m is not None and t is not None, f"κ = {k}: not reached"
        assert abs(m - t) <= 1, f"κ = {k}: measured {m} vs theory {t}"
        assert t <= b, f"κ = {k}: theory {t} above the bound {b}"


def test_at_kappa_one_the_count_is_the_single_factor_formula():
    """All αᵢ equal: ‖θₜ‖² = ρ^{2t}‖θ₀‖² exactly, so t = ⌈ln tol / (2 ln ρ)⌉."""
    s = cd.kappa_sweep("custom", 0.3, 1e-6, 3, kappas=[1.0])
    rho = abs(1 - 2 * 0.3)
    expected = math.ceil(math.log(1e-6) / (2 * math.log(rho)))
    assert s.theory == [expected] and abs(s.measured[0] - expected) <= 1 and s.bound == [expected]


def test_sweep_diverges_above_the_limit_and_says_so():
    s = cd.kappa_sweep("custom", 1.1, 1e-4, 2, kappas=[1.0, 10.0])
    assert all(s.diverged) and s.measured == [None, None]
    assert "diverged" in cd.notice_sweep(s)
    assert cd.sweep_frame(s).query("series == 'measured (GD)'").empty


def test_sweep_cost_grows_linearly_with_kappa_at_the_optimum():
    s = cd.kappa_sweep("optimum", tol=1e-4, kappas=[100.0, 1000.0])
    ratio = s.measured[1] / s.measured[0]
    assert 9 < ratio < 11, ratio


# --- the general case: the MLP Hessian ---------------------------------------------------------------


@pytest.fixture(scope="module")
def mlp():
    return cd.mlp_hessian(width=4, depth=2, activation="tanh", seed=0, train_steps=200, lr=0.1, k=4, checkpoints=3)


def test_exact_hessian_matches_autograd_reference(mlp):
    X, y = data.teacher_regression(n=mlp.n_data, in_dim=2, out_dim=1, seed=0)
    net = models.MLP(2, 4, 2, 1, activation="tanh", seed=0)
    E, _ = models.flat_loss(net, X, y)
    torch.testing.assert_close(mlp.H, hessian.exact_reference(E, mlp.theta), rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(mlp.eigenvalues, torch.linalg.eigvalsh(mlp.H))


def test_lanczos_agrees_with_eigvalsh(mlp):
    assert mlp.lanczos_method == "lanczos" and mlp.lanczos_hvps > 0
    table = cd.lanczos_table(mlp)
    scale = float(mlp.eigenvalues.abs().max())
    worst = table.loc[table["|difference|"].idxmax()]
    assert worst["|difference|"] <= 1e-8 * scale, f"rank {worst['rank']}: {worst['exact λ']} vs {worst['Lanczos λ']}"
    assert list(table["rank"][:4]) == [1, 2, 3, 4] and table["rank"].iloc[-1] == mlp.n_parameters - 3


def test_condition_number_is_none_for_an_indefinite_hessian():
    at_init = cd.mlp_hessian(width=4, depth=2, train_steps=0, k=2)
    s = at_init.summary
    assert s.n_negative > 0 and s.condition_number is None
    assert "κ undefined" in cd.condition_text(s)
    assert "G is not" in cd.condition_text(at_init.G_summary, "G") or at_init.G_summary.condition_number


def test_gauss_newton_part_is_psd_and_matches_the_sample_by_sample_reference(mlp):
    X, y = data.teacher_regression(n=mlp.n_data, in_dim=2, out_dim=1, seed=0)
    net = models.MLP(2, 4, 2, 1, activation="tanh", seed=0)
    G_ref = hessian.gauss_newton_reference(net, X, y, mlp.theta)
    torch.testing.assert_close(mlp.G_eigenvalues, torch.linalg.eigvalsh(G_ref), rtol=1e-9, atol=1e-12)
    assert float(mlp.G_eigenvalues.min()) >= -1e-10 * float(mlp.G_eigenvalues.max())


def test_residual_part_is_the_slides_second_term():
    """H − G = Σₙ (∂E/∂Fₙ) ∂²Fₙ/∂θ² with ∂E/∂Fₙ = 2(Fₙ − yₙ)/N, built output by output with autograd."""
    r = cd.mlp_hessian(width=2, depth=1, seed=3, train_steps=20, n_data=8, checkpoints=2, k=1)
    X, y = data.teacher_regression(n=8, in_dim=2, out_dim=1, seed=3)
    net = models.MLP(2, 2, 1, 1, seed=3)
    f = models.flat_forward(net)
    F = f(r.theta, X).detach()
    residual = sum(
        2.0 / 8 * (F[n, 0] - y[n, 0]) * hessian.exact_reference(lambda th, n=n: f(th, X)[n, 0], r.theta)
        for n in range(8)
    )
    G = hessian.gauss_newton(net, X, y, r.theta)
    torch.testing.assert_close(r.H - G, residual, rtol=1e-9, atol=1e-12)


def test_residual_part_shrinks_as_the_fit_improves(mlp):
    h = mlp.history
    col = "‖H − G‖_F (residual part)"
    assert list(h["step"]) == [0, 100, 200]
    assert h["loss E(θ)"].iloc[-1] < h["loss E(θ)"].iloc[0]
    assert h[col].iloc[-1] < 0.2 * h[col].iloc[0]
    assert set(cd.history_frame(mlp)["series"]) == {"loss E", "‖G‖_F", "‖H − G‖_F"}


def test_training_divergence_is_reported_and_stops_cleanly():
    r = cd.mlp_hessian(width=4, depth=2, train_steps=100, lr=5.0, k=2, checkpoints=3)
    assert r.diverged_at is not None and r.diverged_at <= 100
    assert torch.isfinite(r.H).all() and torch.isfinite(r.eigenvalues).all()


def test_tiles_keep_the_largest_magnitude_entry_with_its_sign():
    M = torch.zeros(5, 5, dtype=DTYPE)
    M[0, 1], M[1, 0], M[4, 4], M[3, 2] = -7.0, 2.0, 3.0, 1.0
    tiles, s = cd.tiled_matrix(M, max_cells=3)
    assert s == 2 and tiles.shape == (3, 3)
    assert tiles[0, 0] == -7.0 and tiles[2, 2] == 3.0 and tiles[1, 1] == 1.0
    same, s1 = cd.tiled_matrix(M, max_cells=10)
    assert s1 == 1 and np.array_equal(same, M.numpy())


def test_heatmap_frame_covers_every_parameter_once(mlp):
    cells, bounds, n, s = cd.heatmap_frame(mlp.H, mlp.groups, max_cells=20)
    assert n == mlp.n_parameters and s == math.ceil(n / 20)
    assert cells["i2"].max() == n and cells["i"].min() == 0
    assert bounds == [sl.start for _, sl in mlp.groups[1:]]
    assert set(cells["row"]) == {name for name, _ in mlp.groups}


# --- the exercise and the Hessian's size -----------------------------------------------------------


@pytest.mark.parametrize("lam", [0.0, 0.1, 1.5])
def test_linear_model_formula_matches_autograd(lam):
    ex = cd.linear_exercise(lam=lam, correlation=0.5, seed=2)
    assert ex.max_abs_diff <= 1e-12
    X = data.gaussian_2d(200, mean=(1.0, 2.0), scales=(1.0, 0.5), correlation=0.5, seed=2).numpy()
    expected = 2 * X.T @ X / 200 + 2 * lam * np.eye(2)
    np.testing.assert_allclose(ex.H_formula.numpy(), expected, rtol=1e-12, atol=1e-12)


def test_weight_decay_shifts_every_eigenvalue_by_two_lambda():
    a, b = cd.linear_exercise(lam=0.0), cd.linear_exercise(lam=0.7)
    torch.testing.assert_close(b.eigenvalues - a.eigenvalues, torch.full((2,), 1.4, dtype=DTYPE))


def test_parameter_count_and_size_of_the_lectures_net():
    size = cd.hessian_size(cd.parse_sizes("784-1000-1000-10"))
    assert size.n_parameters == 1_796_010
    assert size.entries == 1_796_010**2 == 3_225_651_920_100
    assert size.bytes_float32 == 4 * 3_225_651_920_100
    assert cd.format_bytes(size.bytes_float32) == "12.9 TB"
    assert cd.format_bytes(size.bytes_hvp) == "28.7 MB"


@pytest.mark.parametrize("text, sizes", [("784-1000-10", [784, 1000, 10]), (" 2, 3 ,1 ", [2, 3, 1]), ("4x4", [4, 4])])
def test_parse_sizes_accepts_common_spellings(text, sizes):
    assert cd.parse_sizes(text) == sizes


@pytest.mark.parametrize("text", ["", "784", "a-b", "3-0", "1.5-2", "-".join(["2"] * 60), "10-99999999999"])
def test_parse_sizes_rejects_with_a_message(text):
    with pytest.raises(ValueError, match=r"\w"):
        cd.parse_sizes(text)


def test_time_hvp_is_bounded_and_leaves_the_global_rng_alone():
    state = torch.random.get_rng_state()
    t = cd.time_hvp([20, 30, 5], batch=4, repeats=1)
    assert t is not None and 0 < t < 5
    assert torch.equal(state, torch.random.get_rng_state())
    assert cd.time_hvp([10_000, 10_000]) is None  # 10⁸ parameters: refused, not attempted


def test_format_duration_units():
    assert cd.format_duration(0.0456) == "45.6 ms"
    assert cd.format_duration(4e-5) == "40 µs"
    assert cd.format_duration(86400 * 4) == "4 days"


# --- chart builders through to_dict() -------------------------------------------------------------------


def _spec(chart) -> dict:
    with alt.data_transformers.disable_max_rows():
        return chart.to_dict()


def _values(spec: dict) -> list:
    return [v for rows in spec.get("datasets", {}).values() for row in rows for v in row.values()]


def test_rate_chart_shades_the_divergent_side_and_merges_coinciding_marks():
    curves, marks = cd.rate_frames(ALPHAS, cd.learning_rate(ALPHAS, "lecture"))
    assert list(marks["label"]) == ["0.99/α_max = your γ", "1/(α_min+α_max)"]
    spec = _spec(charts.rate_vs_lr(curves, marks, limit=0.1))
    kinds = [layer["mark"]["type"] for layer in spec["layer"]]
    assert kinds[0] == "rect" and "rule" in kinds and "line" in kinds
    rect = next(rows for rows in spec["datasets"].values() if "a" in rows[0])
    assert rect[0]["a"] == pytest.approx(0.1)


def test_theory_chart_never_sends_non_finite_values():
    run = cd.run_quadratic(ALPHAS, 0.15, theta0=(2.0, 1.0), steps=300)
    assert run.diverged_at is not None
    spec = _spec(charts.theory_vs_measured(cd.distance_frame(run)))
    numbers = [v for v in _values(spec) if isinstance(v, float)]
    assert numbers and all(math.isfinite(v) for v in numbers)
    assert "NaN" not in json.dumps(spec) and "Infinity" not in json.dumps(spec)


def test_steps_chart_is_log_log(mlp):
    spec = _spec(charts.steps_vs_kappa(cd.sweep_frame(cd.kappa_sweep(kappas=[1.0, 10.0, 100.0]))))
    enc = spec["layer"][0]["encoding"]
    assert enc["x"]["scale"]["type"] == "log" and enc["y"]["scale"]["type"] == "log"


def test_spectrum_chart_marks_rounding_noise_as_zero_not_negative(mlp):
    df = cd.decomposition_frame(mlp)
    spec = _spec(charts.ranked_spectrum(df, linear_below=1e-4, zero_below=mlp.G_summary.cutoff))
    rows = [r for rows in spec["datasets"].values() for r in rows]
    g_rows = [r for r in rows if r["series"].startswith("G")]
    assert all(r["sign"] != "negative" for r in g_rows)
    assert any(r["sign"] == "negative" for r in rows if r["series"] == "H (full)")
    ticks = spec["layer"][0]["encoding"]["y"]["axis"]["values"]
    assert 0.0 in ticks and 1.0 in ticks


def test_tiled_heatmap_puts_row_zero_on_top(mlp):
    cells, bounds, n, _ = cd.heatmap_frame(mlp.H, mlp.groups)
    spec = _spec(charts.tiled_heatmap(cells, bounds, n, linear_below=1e-3))
    y = spec["layer"][0]["encoding"]["y"]["scale"]
    assert y["reverse"] is True and y["domain"] == [0, n]
    assert spec["layer"][0]["encoding"]["color"]["scale"]["type"] == "symlog"


def test_sweep_sentence_counts_one_step_in_the_singular():
    base = dict(gamma_amax=[0.5, 0.5], theory=[1, 40], bound=[1.0, 40.0], diverged=[False, False])
    s = cd.KappaSweep(kappas=[1.0, 100.0], measured=[1, 40], steps_run=100, max_steps=100, tol=1e-4, dims=2, **base)
    assert cd.notice_sweep(s).startswith(
        "GD needs 1 step at κ = 1 and 40 at κ = 100 (theory and measurement agree exactly)"
    )
