"""core.hessian against exact references: autograd Hessians, H @ v, eigvalsh, closed forms."""

from __future__ import annotations

import pytest
import torch

from core import hessian, models, surfaces
from tests.cases import MLP_CASES, build, random_vectors

CASES = list(MLP_CASES)


def assert_close(actual, expected, rtol=1e-10, atol=1e-12, what="values"):
    """Like torch.testing.assert_close, but names the worst entry."""
    diff = (actual - expected).abs()
    bound = atol + rtol * expected.abs()
    bad = diff > bound
    if bad.any():
        idx = tuple(int(i) for i in torch.nonzero(bad)[0])
        worst = tuple(int(i) for i in torch.nonzero(diff == diff.max())[0])
        raise AssertionError(
            f"{what}: {int(bad.sum())} entries differ; first at {idx}: {float(actual[idx])} vs "
            f"{float(expected[idx])}; largest |diff| {float(diff.max()):.3e} at {worst}"
        )


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("method", [hessian.exact, hessian.forward_over_reverse])
def test_exact_matches_autograd_functional_hessian(case, method):
    net, X, y, mode = build(case)
    E, theta = models.flat_loss(net, X, y, mode)
    assert_close(method(E, theta), hessian.exact_reference(E, theta), what=f"H ({case}, {method.__name__})")


def test_exact_matches_row_by_row_double_backward():
    net, X, y, mode = build("tanh-regression")
    E, theta = models.flat_loss(net, X, y, mode)
    assert_close(hessian.exact(E, theta), hessian.row_by_row(E, theta), what="H vs row-by-row")


@pytest.mark.parametrize("case", CASES)
def test_hvp_equals_H_times_v(case):
    net, X, y, mode = build(case)
    E, theta = models.flat_loss(net, X, y, mode)
    H = hessian.exact_reference(E, theta)
    V = random_vectors(theta.numel(), 3, seed=1)
    assert_close(hessian.hvp(E, theta, V), V @ H.T, what="batched Hv")
    assert_close(hessian.hvp(E, theta, V[0]), H @ V[0], what="single Hv")


@pytest.mark.parametrize("which", ["largest", "smallest"])
@pytest.mark.parametrize("case", ["tanh-regression", "batchnorm-train", "relu-classification"])
def test_lanczos_matches_eigvalsh(case, which):
    net, X, y, mode = build(case, n=24)
    E, theta = models.flat_loss(net, X, y, mode)
    assert theta.numel() > 20, "large enough that Lanczos (not the exact fallback) runs"
    full = torch.linalg.eigvalsh(hessian.exact_reference(E, theta))
    expected = full.flip(0)[:4] if which == "largest" else full[:4]
    got, info = hessian.top_eigenvalues(E, theta, k=4, which=which, return_info=True)
    assert info.method == "lanczos" and info.n_hvp > 0
    assert_close(got, expected, rtol=1e-6, atol=1e-6 * float(full.abs().max()), what=f"top-4 {which}")


def test_lanczos_is_deterministic():
    net, X, y, mode = build("tanh-regression", n=24)
    E, theta = models.flat_loss(net, X, y, mode)
    a = hessian.top_eigenvalues(E, theta, k=3, seed=7)
    b = hessian.top_eigenvalues(E, theta, k=3, seed=7)
    assert torch.equal(a, b)


def test_power_iteration_baseline_finds_the_dominant_eigenvalue():
    net, X, y, mode = build("tanh-regression", n=24)
    E, theta = models.flat_loss(net, X, y, mode)
    full = torch.linalg.eigvalsh(hessian.exact_reference(E, theta))
    vals, n_hvp = hessian.power_iteration(E, theta, k=1, tol=1e-10, max_iter=5000)
    dominant = full[full.abs().argmax()]
    assert abs(float(vals[0] - dominant)) <= 1e-6 * abs(float(dominant))
    assert n_hvp > 1


def test_spectrum_summary_positive_definite():
    s = hessian.spectrum_summary(torch.tensor([4.0, 2.0, 0.5]))
    assert (s.lambda_max, s.lambda_min, s.n_negative, s.n_near_zero) == (4.0, 0.5, 0, 0)
    assert s.condition_number == pytest.approx(8.0, rel=1e-15)
    assert "κ = λ_max/λ_min = 8" in hessian.condition_number_text(s)


def test_spectrum_summary_indefinite_has_no_condition_number():
    s = hessian.spectrum_summary(torch.tensor([2.2, -1.8]))  # the lecture's saddle
    assert s.condition_number is None and s.n_negative == 1
    assert s.positive_condition_number == pytest.approx(1.0)
    assert "not positive definite" in hessian.condition_number_text(s)


def test_spectrum_summary_counts_near_zero_and_ignores_non_finite():
    s = hessian.spectrum_summary(torch.tensor([1.0, 1e-9, -1e-9, float("nan")]), rtol=1e-6)
    assert s.n == 3 and s.n_near_zero == 2 and s.n_negative == 0 and s.condition_number is None
    with pytest.raises(ValueError):
        hessian.spectrum_summary(torch.tensor([float("inf")]))


def test_two_layer_linear_saddle_eigenvalues_are_the_lectures():
    E = surfaces.two_layer_linear(x=[1.0], t=[1.0], lam=0.1)
    H = hessian.exact(E, torch.zeros(2, dtype=torch.float64))
    assert_close(torch.linalg.eigvalsh(H), torch.tensor([-1.8, 2.2], dtype=torch.float64), what="saddle")
    s = (0.9) ** 0.5
    Hm = hessian.exact(E, torch.tensor([s, s], dtype=torch.float64))
    assert_close(torch.linalg.eigvalsh(Hm), torch.tensor([0.4, 3.6], dtype=torch.float64), what="minimum")


@pytest.mark.parametrize("lam", [0.0, 0.3])
def test_linear_model_formula_matches_autograd(lam):
    g = torch.Generator().manual_seed(3)
    X = torch.randn(20, 3, generator=g, dtype=torch.float64) + 2.0
    t = torch.randn(20, generator=g, dtype=torch.float64)
    E = surfaces.linear_regression(X, t, lam)
    w = torch.randn(3, generator=g, dtype=torch.float64)
    assert_close(hessian.linear_model(X, lam), hessian.exact_reference(E, w), what="2E[xxᵀ]+2λI")


@pytest.mark.parametrize("case", CASES)
def test_gauss_newton_matches_explicit_JtHJ(case):
    net, X, y, mode = build(case)
    _, theta = models.flat_loss(net, X, y, mode)
    G = hessian.gauss_newton(net, X, y, theta, mode)
    assert_close(G, hessian.gauss_newton_reference(net, X, y, theta, mode), what="Gauss–Newton")
    assert float(torch.linalg.eigvalsh(G).min()) > -1e-10, "G is positive semi-definite"


def test_gauss_newton_equals_hessian_at_zero_residual_for_linear_net():
    """A linear model fitted exactly: the residual part vanishes and H = G."""
    net = models.MLP(2, 3, 1, 1, activation="linear", seed=0)
    X = torch.randn(10, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    _, theta = models.flat_loss(net, X, torch.zeros(10, 1, dtype=torch.float64))
    y = models.flat_forward(net)(theta, X).detach()  # targets = the net's own outputs
    E, theta = models.flat_loss(net, X, y)
    assert float(E(theta)) < 1e-28
    assert_close(hessian.gauss_newton(net, X, y, theta), hessian.exact(E, theta), atol=1e-12, what="H = G")


def test_block_structure():
    H = torch.arange(16, dtype=torch.float64).reshape(4, 4)
    H = H + H.T
    slices = [slice(0, 1), slice(1, 4)]
    B = hessian.block_diagonal(H, slices)
    assert torch.equal(B[0, 1:], torch.zeros(3, dtype=torch.float64)) and torch.equal(B[1:, 1:], H[1:, 1:])
    norms = hessian.block_norms(H, slices)
    assert norms[0, 1] == pytest.approx(float(H[0, 1:].norm()))
    share = hessian.off_block_share(H, slices)
    assert share == pytest.approx(2 * float(H[0, 1:].pow(2).sum()) / float(H.pow(2).sum()))


def test_exact_does_not_change_the_net_or_global_state():
    net, X, y, _ = build("batchnorm-train")
    before = [b.clone() for b in net.buffers()]
    was_training, threads, dtype = net.training, torch.get_num_threads(), torch.get_default_dtype()
    E, theta = models.flat_loss(net, X, y, "train")
    hessian.exact(E, theta)
    hessian.top_eigenvalues(E, theta, k=2)
    assert all(torch.equal(a, b) for a, b in zip(before, net.buffers(), strict=True)), "BN running stats untouched"
    assert net.training == was_training and torch.get_num_threads() == threads
    assert torch.get_default_dtype() == dtype


@pytest.mark.parametrize("case", CASES)
def test_hvp_operator_equals_H_times_v(case):
    net, X, y, mode = build(case)
    E, theta = models.flat_loss(net, X, y, mode)
    H = hessian.exact_reference(E, theta)
    apply = hessian.hvp_operator(E, theta)
    for v in random_vectors(theta.numel(), 3, seed=2):
        assert_close(apply(v), H @ v, what="retained-graph Hv")


@pytest.mark.parametrize("case", CASES)
def test_eigenvalues_match_torch_eigvalsh(case):
    net, X, y, mode = build(case)
    H = hessian.exact(*models.flat_loss(net, X, y, mode))
    reference = torch.linalg.eigvalsh(H)
    fast = hessian.eigenvalues(H)
    assert fast.dtype == torch.float64 and fast.shape == reference.shape
    torch.testing.assert_close(fast, reference, rtol=1e-10, atol=1e-12 * float(reference.abs().max()))


def test_eigenvalues_of_a_known_matrix_and_bad_input():
    Q, _ = torch.linalg.qr(torch.randn(6, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(0)))
    lam = torch.tensor([-3.0, -1e-9, 0.0, 0.5, 2.0, 1e4], dtype=torch.float64)
    torch.testing.assert_close(hessian.eigenvalues(Q @ torch.diag(lam) @ Q.T), lam, rtol=0, atol=1e-11)
    assert hessian.eigenvalues(torch.zeros(0, 0)).numel() == 0
    with pytest.raises(ValueError, match="NaN or inf"):
        hessian.eigenvalues(torch.full((2, 2), float("nan")))
    with pytest.raises(ValueError, match="square"):
        hessian.eigenvalues(torch.zeros(2, 3))
