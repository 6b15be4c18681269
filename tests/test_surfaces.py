"""The lecture's closed-form error functions: values, vectorization, critical points."""

from __future__ import annotations

import math

import pytest
import torch

from core import surfaces

T = lambda *a: torch.tensor(a, dtype=torch.float64)  # noqa: E731


def test_two_layer_linear_values_at_the_slides_points():
    E = surfaces.two_layer_linear(x=[1.0], t=[1.0], lam=0.1)
    assert float(E(T(0.0, 0.0))) == pytest.approx(1.0, abs=1e-15)
    s = math.sqrt(0.9)
    assert float(E(T(s, s))) == pytest.approx(0.19, abs=1e-15)
    assert float(E(T(-s, -s))) == pytest.approx(0.19, abs=1e-15)


def test_two_layer_linear_critical_points_closed_form():
    E = surfaces.two_layer_linear(x=[1.0], t=[1.0], lam=0.1)
    pts = E.critical_points()
    s = math.sqrt(0.9)
    torch.testing.assert_close(pts, T([0.0, 0.0], [s, s], [-s, -s]).reshape(3, 2), rtol=0, atol=1e-15)
    for p in pts:  # the gradient vanishes at each
        p = p.clone().requires_grad_(True)
        (g,) = torch.autograd.grad(E(p), p)
        assert float(g.abs().max()) < 1e-14


def test_two_layer_linear_with_large_lambda_has_only_the_origin():
    E = surfaces.two_layer_linear(x=[1.0], t=[1.0], lam=1.5)
    assert E.critical_points().shape == (1, 2)


@pytest.mark.parametrize(
    "E",
    [
        surfaces.two_layer_linear(x=[1.0, -0.5, 2.0], t=[1.0, 0.2, 1.5], lam=0.05),
        surfaces.two_layer_tanh(x=torch.linspace(-2, 2, 9), t=0.25 * torch.linspace(-2, 2, 9), lam=0.01),
        surfaces.quadratic([1.0, 10.0], theta_star=[0.3, -0.2], angle=0.4),
        surfaces.linear_regression(torch.randn(7, 2, generator=torch.Generator().manual_seed(0)), torch.ones(7), 0.1),
    ],
    ids=["two-layer-linear", "tanh", "quadratic", "linear-regression"],
)
def test_vectorized_grid_equals_pointwise(E):
    a, b, Z = E.grid((-2.0, -1.5), (2.0, 1.5), n=100)
    assert Z.shape == (100, 100) and Z.dtype == torch.float64
    for i, j in [(0, 0), (17, 63), (99, 99), (50, 3)]:
        assert float(Z[j, i]) == pytest.approx(float(E(T(float(a[i]), float(b[j])))), rel=1e-14, abs=1e-15)


def test_tanh_surface_formula():
    x, t = T(-1.0, 0.5, 2.0), T(0.3, -0.1, 0.4)
    E = surfaces.two_layer_tanh(x, t, lam=0.2)
    w, v = 0.7, -1.3
    expected = ((v * torch.tanh(w * x) - t) ** 2).mean() + 0.2 * (w * w + v * v)
    assert float(E(T(w, v))) == pytest.approx(float(expected), rel=1e-15)


def test_quadratic_rotation_and_hessian():
    E = surfaces.quadratic([1.0, 10.0], theta_star=[1.0, 2.0], angle=math.pi / 6)
    H = E.hessian()
    torch.testing.assert_close(torch.linalg.eigvalsh(H), T(2.0, 20.0))
    theta = T(0.3, -0.4)
    d = theta - E.theta_star
    assert float(E(theta)) == pytest.approx(float(0.5 * d @ H @ d), rel=1e-14)


def test_linear_regression_minimizer_has_zero_gradient():
    g = torch.Generator().manual_seed(1)
    X, t = torch.randn(12, 2, generator=g, dtype=torch.float64), torch.randn(12, generator=g, dtype=torch.float64)
    E = surfaces.linear_regression(X, t, 0.05)
    w = E.minimizer().requires_grad_(True)
    (grad,) = torch.autograd.grad(E(w), w)
    assert float(grad.abs().max()) < 1e-14


@pytest.mark.parametrize(
    ("X", "t", "w_star"),
    [
        ([[0.0, 1.0]], [1.0], (0.0, 1.0)),  # Non-convexity page, one layer, N = 1, x = 0: E = (w₂ − 1)²
        ([[1.0, 1.0]], [2.0], (1.0, 1.0)),  # N = 1, x = 1: the line w₁ + w₂ = 2, nearest point to 0
        ([[2.0, 4.0], [1.0, 2.0]], [2.0, 1.0], (0.2, 0.4)),  # collinear inputs: the line 2w₁ + 4w₂ = 2
    ],
)
def test_singular_linear_regression_gives_the_minimum_norm_minimizer(X, t, w_star):
    """λ = 0 with XᵀX singular: a line of minima (torch.linalg.solve used to raise); the closed form is
    the projection of 0 onto the line, w* = A⁺Xᵀt/N."""
    E = surfaces.linear_regression(torch.tensor(X, dtype=torch.float64), T(*t), 0.0)
    w = E.minimizer()
    assert torch.allclose(w, T(*w_star), rtol=0, atol=1e-14), w
    assert not E.unique_minimum
    w = w.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(E(w), w)
    assert float(grad.abs().max()) < 1e-14 and float(E(w.detach())) == pytest.approx(0.0, abs=1e-28)


def test_regular_linear_regression_has_a_unique_minimum():
    E = surfaces.linear_regression(torch.tensor([[0.0, 1.0]], dtype=torch.float64), T(1.0), 0.1)
    assert E.unique_minimum
    assert torch.allclose(E.minimizer(), T(0.0, 1 / 1.1), rtol=0, atol=1e-15)  # (A + λI)⁻¹b, A = diag(0, 1)


def test_bad_shapes_are_rejected():
    with pytest.raises(ValueError):
        surfaces.linear_regression([1.0, 2.0], [1.0], 0.1)
    with pytest.raises(ValueError):
        surfaces.quadratic([1.0, 2.0], theta_star=[0.0])
