"""core.normalization against closed forms and trusted references (float64, seeded, explicit tolerances)."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from core import data, hessian, models, optim, surfaces
from core import normalization as nz

DTYPE = torch.float64
I2 = torch.eye(2, dtype=DTYPE)
# Offset, unequal scales, strong correlation: the lecture's bad case (defaults of the page).
BAD = dict(mean=(3.0, 3.0), scales=(1.0, 0.5), correlation=0.8, lam=0.01, seed=0)


@pytest.fixture(scope="module")
def study():
    return nz.preprocessing_study(steps=600, **BAD)


# --- data normalization ---------------------------------------------------------------


def test_hessian_is_twice_covariance_plus_mean_outer_product(study):
    """H = 2E[xxᵀ] + 2λI = 2(Σ + μμᵀ + λI), exactly, for the raw data."""
    X = study.raw
    mu, Sigma = X.mean(0), data.covariance(X)
    expected = 2 * (Sigma + torch.outer(mu, mu) + BAD["lam"] * I2)
    torch.testing.assert_close(study.results["none"].H, expected, rtol=1e-12, atol=1e-12)
    # centering removes exactly the μμᵀ term
    torch.testing.assert_close(study.results["center"].H, 2 * (Sigma + BAD["lam"] * I2), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("lam", [0.0, 0.01, 0.5])
def test_whitening_gives_identity_covariance_and_unit_condition_number(lam):
    s = nz.preprocessing_study(steps=10, **{**BAD, "lam": lam})
    w = s.results["whiten"]
    torch.testing.assert_close(data.covariance(w.X), I2, rtol=0, atol=1e-12)
    torch.testing.assert_close(w.mean, torch.zeros(2, dtype=DTYPE), rtol=0, atol=1e-12)
    assert w.kappa == pytest.approx(1.0, abs=1e-6)
    torch.testing.assert_close(w.H, 2 * (1 + lam) * I2, rtol=0, atol=1e-12)


def test_condition_number_falls_none_center_whiten(study):
    k = {m: r.kappa for m, r in study.results.items()}
    assert k["none"] > k["center"] > k["whiten"], k
    assert k["none"] > 5 * k["center"]  # the μμᵀ direction dominated: a large drop, not a rounding effect


def test_centering_can_raise_kappa_when_the_mean_lies_along_low_variance():
    """Adding the PSD rank-one μμᵀ lifts λ_min too: κ(none) < κ(center) is possible (the page says so)."""
    s = nz.preprocessing_study(mean=(2.0, 2.0), scales=(1.0, 3.0), correlation=0.5, lam=0.01, steps=10, seed=0)
    assert s.results["none"].kappa < s.results["center"].kappa


def test_gd_needs_fewer_steps_after_normalization(study):
    steps = {m: r.steps_to_tol for m, r in study.results.items()}
    assert all(n is not None for n in steps.values()), steps
    assert steps["none"] > steps["center"] > steps["standardize"] >= steps["whiten"], steps
    assert steps["whiten"] <= 2  # κ = 1 at γ* = 2/(λ_max + λ_min) = 1/λ: one step to w*


def test_gd_steps_within_the_optimal_rate_bound(study):
    """At γ* every eigen-coordinate shrinks by ≤ (κ−1)/(κ+1) per step, so E − E* by ≤ that squared."""
    for m, r in study.results.items():
        rate = (r.kappa - 1) / (r.kappa + 1)
        bound = 0 if rate == 0 else math.ceil(math.log(study.tol) / (2 * math.log(rate)))
        assert r.steps_to_tol <= bound + 1, (m, r.steps_to_tol, bound)
        excess = r.excess[~r.excess.isnan()]
        assert bool((excess[1:] <= excess[:-1] * (1 + 1e-9) + 1e-14).all()), m  # monotone: a quadratic, γ < 2/λ_max


def test_batched_gd_matches_optim_gradient_descent(study):
    """The page's batched GD on E(w) = wᵀAw − 2cᵀw + const equals optim.gradient_descent on the surface."""
    for r in study.results.values():
        E = surfaces.linear_regression(r.X, study.t, study.lam)
        ref = optim.gradient_descent(E, torch.zeros(2, dtype=DTYPE), lr=r.lr, steps=50)
        A, c = (r.H / 2)[None], (r.X.T @ study.t / r.X.shape[0])[None]
        ws, diverged = nz.gd_quadratic(A, c, [r.lr], 50)
        assert diverged == [None]
        torch.testing.assert_close(ws[:, 0], ref.thetas, rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(r.losses[:51], ref.losses, rtol=1e-10, atol=1e-12)


def test_best_lr_rules():
    lam = torch.tensor([0.5, 4.0], dtype=DTYPE)
    g = nz.best_lr(lam, "optimal")
    assert g == pytest.approx(2 / 4.5)
    # the optimal γ balances the two extreme factors |1 − γλ|
    assert abs(1 - g * 0.5) == pytest.approx(abs(1 - g * 4.0), rel=1e-12)
    assert nz.best_lr(lam, "lecture") == pytest.approx(1.98 / 4.0)
    with pytest.raises(ValueError):
        nz.best_lr(lam, "fast")


def test_gd_reports_divergence_instead_of_inf():
    A = torch.tensor([[[2.0, 0.0], [0.0, 1.0]]], dtype=DTYPE)
    c = torch.tensor([[1.0, 1.0]], dtype=DTYPE)
    ws, diverged = nz.gd_quadratic(A, c, [3.0], 200)  # γ = 3 > 2/λ_max = 2/4
    assert diverged[0] is not None and diverged[0] < 200
    assert torch.isnan(ws[diverged[0] :]).all() and torch.isfinite(ws[: diverged[0]]).all()


def test_covariance_ellipse_lies_at_k_mahalanobis():
    mu = torch.tensor([1.0, -2.0], dtype=DTYPE)
    S = torch.tensor([[2.0, 0.6], [0.6, 0.5]], dtype=DTYPE)
    P = nz.covariance_ellipse(mu, S, k=2.0, n=40)
    d2 = torch.einsum("ni,ij,nj->n", P - mu, torch.linalg.inv(S), P - mu)
    torch.testing.assert_close(d2, torch.full_like(d2, 4.0), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(P[0], P[-1])


def test_dimension_study_whitens_and_clamps_correlation():
    s = nz.dimension_study(d=20, offset=2.0, scale=0.3, correlation=-0.5, lam=0.0, seed=1)
    assert s.correlation > -1 / 19  # clamped into the positive-definite range
    assert s.kappas["whiten"] == pytest.approx(1.0, abs=1e-6)
    assert s.kappas["none"] > s.kappas["center"]


def test_samplers_leave_the_global_rng_alone():
    # (models.MLP's constructor is not covered: nn.Linear draws a throw-away init from the global RNG.)
    state = torch.random.get_rng_state()
    nz.preprocessing_study(steps=5, **BAD)
    nz.dimension_study(d=5, seed=2)
    for task in nz.TASKS:
        nz.task_data(task, seed=3)
    assert torch.equal(state, torch.random.get_rng_state())


@pytest.mark.parametrize("activation", ["linear", "tanh", "relu", "sigmoid"])
@pytest.mark.parametrize(("c", "depth", "width"), [(1.0, 30, 96), (2.0, 5, 16), (0.25, 1, 8)])
def test_signal_propagation_equals_the_real_mlp_bit_for_bit(activation, c, depth, width):
    fast = nz.signal_propagation(activation, c, depth=depth, width=width, n=64, seeds=range(3, 6))
    reference = nz.signal_propagation_reference(activation, c, depth=depth, width=width, n=64, seeds=range(3, 6))
    assert fast.shape == (3, depth + 1) and fast.dtype == reference.dtype
    assert torch.equal(fast, reference)


def test_results_are_deterministic_given_the_seed():
    a = nz.signal_propagation("tanh", 1.0, depth=3, width=8, n=16, seeds=range(2))
    torch.manual_seed(123)  # the global RNG must not matter
    b = nz.signal_propagation("tanh", 1.0, depth=3, width=8, n=16, seeds=range(2))
    assert torch.equal(a, b)


# --- non-linearities -----------------------------------------------------------------------


def test_output_block_of_the_exact_hessian_is_the_second_moment_of_the_last_hidden_layer():
    """The loss is quadratic in the output layer (MSE, one output): H_out = 2E[ââᵀ] exactly, â = (h_L, 1)."""
    X, y = nz.task_data("teacher", n=32, seed=0)
    net = models.MLP(X.shape[1], 5, 2, 1, activation="sigmoid", seed=0)
    E, theta = models.flat_loss(net, X, y)
    H = hessian.exact(E, theta)
    s = models.layer_slices(net)[-1][1]
    h_last = nz.layer_inputs(net, X)[-1]
    torch.testing.assert_close(H[s, s], nz.second_moment(h_last), rtol=1e-12, atol=1e-12)


def test_train_with_stats_matches_models_train():
    X, y = nz.task_data("skewed targets", n=32, seed=1)
    net = models.MLP(X.shape[1], 6, 2, 1, activation="tanh", seed=1)
    ours = nz.train_with_stats(net, X, y, lr=0.1, steps=40)
    ref = models.train(net, X, y, lr=0.1, steps=40)
    torch.testing.assert_close(ours.losses, ref.losses, rtol=1e-10, atol=1e-12)
    assert ours.diverged_at is None
    # the recorded statistics at step 0 are those of the untouched net
    h = nz.layer_inputs(net, X)[1:]
    for l, hl in enumerate(h):
        assert float(ours.layer_mean[0, l]) == pytest.approx(float(hl.mean()), abs=1e-12)
        assert float(ours.unit_mean_rms[0, l]) == pytest.approx(float(hl.mean(0).norm() / math.sqrt(6)), abs=1e-12)


def test_train_with_stats_reports_divergence():
    X, y = nz.task_data("teacher", n=32, seed=0)
    net = models.MLP(X.shape[1], 6, 2, 1, activation="relu", seed=0)
    r = nz.train_with_stats(net, X, y, lr=50.0, steps=100)
    assert r.diverged_at is not None
    assert torch.isnan(r.losses[r.diverged_at :]).all() and torch.isfinite(r.losses[: r.diverged_at]).all()


def test_sigmoid_is_off_centre_and_tanh_centred_at_initialization():
    rs = {a: nz.activation_report(a, depth=2, width=8, task="teacher", steps=1, seed=0) for a in ("sigmoid", "tanh")}
    assert all(abs(m - 0.5) < 0.1 for m in rs["sigmoid"].hidden_mean)
    assert all(abs(m) < 0.05 for m in rs["tanh"].hidden_mean)
    assert rs["sigmoid"].layers[-1].kappa > 100 * rs["tanh"].layers[-1].kappa


def test_sigmoid_block_kappa_exceeds_tanh_over_seeds():
    """The lecture's claim, measured over 4 initializations at the page's default size."""
    sig = nz.kappa_over_seeds("sigmoid", depth=2, width=8, task="teacher", seeds=range(4))
    tanh = nz.kappa_over_seeds("tanh", depth=2, width=8, task="teacher", seeds=range(4))
    assert sig.shape == (4, 3)
    assert bool((sig > tanh).all()), (sig, tanh)


def test_tanh_drifts_off_centre_on_skewed_targets_but_not_on_the_teacher():
    drift = {}
    for task in ("skewed targets", "teacher"):
        r = nz.activation_report("tanh", depth=2, width=8, task=task, steps=300, lr_factor=0.5, seed=0)
        drift[task] = float(r.train.unit_mean_rms[-1, -1] / r.train.unit_mean_rms[0, -1])
        assert r.train.mean_share_end[-1] >= 0 and r.train.diverged_at is None
    assert drift["skewed targets"] > 4, drift
    assert drift["teacher"] < drift["skewed targets"] / 2, drift


# --- initialization scale -------------------------------------------------------------------


def test_linear_layers_keep_unit_variance_at_c_1_and_vanish_or_explode_otherwise():
    def variance(c):
        s = nz.signal_propagation("linear", c, depth=20, width=64, n=256, seeds=range(6))
        return s.pow(2).mean(0)  # [21] average over seeds of each layer's output variance

    v1 = variance(1.0)
    assert float(v1[0]) == pytest.approx(1.0, rel=0.1)
    assert bool(((v1 > 0.5) & (v1 < 2.0)).all()), v1
    assert float(variance(0.5)[-1]) < 1e-4  # expectation 0.5^20 ≈ 1e-6
    assert float(variance(2.0)[-1]) > 1e4  # expectation 2^20 ≈ 1e6


def test_he_scale_keeps_relu_signal_and_lecun_loses_it():
    he = nz.signal_propagation("relu", 2.0, depth=20, width=64, n=256, seeds=range(4)).mean(0)
    lecun = nz.signal_propagation("relu", 1.0, depth=20, width=64, n=256, seeds=range(4)).mean(0)
    assert 0.2 < float(he[-1]) < 5
    assert float(lecun[-1]) < 1e-2


# --- block-diagonal Hessian -----------------------------------------------------------------


def test_neuron_indices_partition_the_parameters():
    net = models.MLP(3, 4, 2, 1, seed=0)
    idx = torch.cat([nu.params for nu in nz.neurons(net)])
    assert torch.equal(idx.sort().values, torch.arange(models.flatten(net).numel()))
    assert [len(nu.params) for nu in nz.neurons(net)] == [4] * 4 + [5] * 4 + [5]


@pytest.mark.parametrize(
    "activation, offset, c", [("tanh", 0.0, 1.0), ("sigmoid", 1.5, 1.0), ("relu", 0.0, 2.0), ("gelu", 0.5, 0.5)]
)
def test_block_formula_equals_the_diagonal_blocks_exactly(activation, offset, c):
    """[G_k]_{jj'} = 2E[â_j â_j' δ_k²] equals the Gauss–Newton matrix's neuron blocks, and for the output
    neuron (no curvature below it) the full Hessian's block too."""
    b = nz.block_study(activation, offset, c, width=4, depth=2, in_dim=3, n=24, seed=2)
    assert b.formula_error < 1e-12
    # G here is hessian.gauss_newton; check it against the slow sample-by-sample reference
    X, y = data.teacher_regression(n=24, in_dim=3, out_dim=1, seed=2)
    net = models.MLP(3, 4, 2, 1, activation=activation, init_scale=c, seed=2)
    order = torch.cat([nu.params for nu in nz.neurons(net)])
    G_ref = hessian.gauss_newton_reference(net, X + offset, y, models.flatten(net))[order][:, order]
    torch.testing.assert_close(b.G, G_ref, rtol=1e-10, atol=1e-12)
    out = slice(b.boundaries[-1], b.H.shape[0])
    blocks = nz.neuron_blocks(net, X + offset)
    torch.testing.assert_close(b.H[out, out], blocks[-1], rtol=1e-12, atol=1e-12)
    # the block-diagonal approximation keeps exactly these blocks and nothing else
    edges = [0, *b.boundaries, b.H.shape[0]]
    slices = [slice(a, e) for a, e in itertools.pairwise(edges)]
    B = hessian.block_diagonal(b.H, slices)
    for s in slices:
        assert torch.equal(B[s, s], b.H[s, s])
    assert float(B.pow(2).sum()) == pytest.approx(float(b.H.pow(2).sum()) * (1 - b.off_block_share_H), rel=1e-12)
    assert b.layer_boundaries == [16, 36]  # 4 neurons × (3 + 1), then 4 × (4 + 1)


def test_block_scales_report_activation_and_sensitivity_rms():
    b = nz.block_study("tanh", 0.0, 1.0, seed=0)
    assert b.delta_rms["output"] == 1.0  # δ = ∂F/∂F
    assert b.a_rms["layer 1"] == pytest.approx(1.0, rel=0.1)  # standard-normal inputs
    eigs, scales = nz.block_frames(b)
    assert len(eigs) == sum(len(nu.params) for nu in b.neurons)
    assert len(scales) == 6 and set(scales["layer"]) == {"layer 1", "layer 2", "output"}
    assert (eigs["eigenvalue"] > -1e-12).all()  # Gauss–Newton blocks are positive semi-definite


def test_claim_counts_leave_out_pairs_where_both_blocks_are_singular():
    inf = math.inf
    a = torch.tensor([[10.0, inf, inf], [1.0, inf, 5.0]], dtype=DTYPE)  # [seeds, layers]
    b = torch.tensor([[2.0, 3.0, inf], [4.0, inf, 1.0]], dtype=DTYPE)
    wins, comparable, both = nz.claim_counts(a, b)
    assert wins.tolist() == [1, 1, 1] and comparable.tolist() == [2, 1, 1] and both.tolist() == [0, 1, 1]
    table = nz.seed_table(a, b, ["layer 1", "layer 2", "output"])
    assert list(table.iloc[:, -1]) == [
        "1 of 2",
        "1 of 1 (1 with both singular left out)",
        "1 of 1 (1 with both singular left out)",
    ]


def test_each_method_keeps_its_colour_in_every_language():
    """Colours follow the methods' order, not the alphabetical order of their names (which differs in 中文)."""
    import pandas as pd

    from core import charts, i18n

    try:
        for lang in i18n.LANGUAGES:
            i18n.set_language(lang)
            order = [nz.method_name(m) for m in ("none", "center", "standardize", "whiten")]
            eigs = pd.DataFrame({"preprocessing": order, "eigenvalue": [1.0, 2.0, 3.0, 4.0]})
            strip = charts.eigenvalue_strip(eigs, "preprocessing", color="preprocessing", sort=order).to_dict()
            assert strip["encoding"]["color"]["scale"]["domain"] == order
            curves = pd.DataFrame({"series": order, "step": [0, 0, 0, 0], "relative excess": [1.0, 1.0, 1.0, 1.0]})
            lines = charts.layer_lines(curves, "step", "relative excess", series_order=order).to_dict()
            colours = [layer["encoding"]["color"] for layer in lines["layer"] if "color" in layer.get("encoding", {})]
            assert all(c["scale"]["domain"] == order for c in colours if "field" in c)
    finally:
        i18n.set_language("en")
