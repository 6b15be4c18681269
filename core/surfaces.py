"""Closed-form error functions of the lecture, vectorized over leading dims.

Every surface is a callable ``E(theta)`` taking ``theta`` of shape ``[..., P]``
and returning ``[...]``: a whole 100x100 grid is one call, no Python loop.

>>> E = two_layer_linear(x=[1.0], t=[1.0], lam=0.1)
>>> round(float(E(torch.tensor([0.9**0.5, 0.9**0.5], dtype=torch.float64))), 12)
0.19
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

DTYPE = torch.float64
SINGULAR_RTOL = 1e-12  # λ_min/λ_max below this: the quadratic's minimum is not unique


def _as_tensor(a, dtype=DTYPE) -> torch.Tensor:
    return torch.as_tensor(a, dtype=dtype).clone()


@dataclass(frozen=True, eq=False)
class Surface:
    """Base class: ``__call__`` maps ``theta [..., P]`` to ``E [...]``."""

    name = "surface"
    dim = 2

    def __call__(self, theta: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def grid(self, lo: tuple[float, float], hi: tuple[float, float], n: int = 100):
        """Evaluate on an ``n x n`` grid over ``[lo, hi]``.

        Returns ``(a, b, E)`` with ``a [n]``, ``b [n]`` the axes and ``E [n, n]``
        indexed ``E[j, i] = E(a[i], b[j])``.
        """
        a = torch.linspace(lo[0], hi[0], n, dtype=DTYPE)
        b = torch.linspace(lo[1], hi[1], n, dtype=DTYPE)
        B, A = torch.meshgrid(b, a, indexing="ij")
        with torch.no_grad():
            values = self(torch.stack([A, B], dim=-1))
        return a, b, values


@dataclass(frozen=True, eq=False)
class LinearRegression(Surface):
    """One layer: E(w) = 1/N Σₙ (wᵀxₙ − tₙ)² + λ‖w‖².

    Convex: its Hessian is 2/N XᵀX + 2λI, positive semi-definite everywhere.
    """

    X: torch.Tensor  # [N, P]
    t: torch.Tensor  # [N]
    lam: float
    name = "one layer, linear"

    @property
    def dim(self) -> int:  # type: ignore[override]
        return self.X.shape[1]

    def __call__(self, theta: torch.Tensor) -> torch.Tensor:
        residual = theta @ self.X.T - self.t  # [..., N]
        return residual.pow(2).mean(-1) + self.lam * theta.pow(2).sum(-1)

    def minimizer(self) -> torch.Tensor:
        """w* = (XᵀX/N + λI)⁻¹ Xᵀt/N (unique when λ > 0 or X has full rank).

        When λ = 0 and X is rank-deficient (N < P, or a constant input) every point of a
        line or plane is a minimum; this returns the one of smallest norm, A⁺Xᵀt/N.
        """
        A, b = self._normal_equations()
        if not self.unique_minimum:
            return torch.linalg.pinv(A, hermitian=True, rtol=SINGULAR_RTOL) @ b
        return torch.linalg.solve(A, b)

    @property
    def unique_minimum(self) -> bool:
        """False when the minima form a line or plane (λ = 0 and XᵀX singular up to rounding)."""
        eig = torch.linalg.eigvalsh(self._normal_equations()[0])  # ascending, ≥ 0 up to rounding
        return bool(eig[0] > SINGULAR_RTOL * eig[-1]) and bool(eig[-1] > 0)

    def _normal_equations(self) -> tuple[torch.Tensor, torch.Tensor]:
        """A = XᵀX/N + λI [P, P] and b = Xᵀt/N [P]: ∇E(w) = 2(Aw − b)."""
        N, P = self.X.shape
        return self.X.T @ self.X / N + self.lam * torch.eye(P, dtype=self.X.dtype), self.X.T @ self.t / N


@dataclass(frozen=True, eq=False)
class TwoLayerLinear(Surface):
    """Two layers, one unit each: E(w, v) = 1/N Σₙ (v·w·xₙ − tₙ)² + λ(v² + w²).

    theta[..., 0] = w (first layer), theta[..., 1] = v (second layer).
    With a = mean(x²), b = mean(t·x) the critical points are the origin and,
    where the square root is real, w = v = ±√((b−λ)/a) and
    w = −v = ±√(−(b+λ)/a).
    """

    x: torch.Tensor  # [N]
    t: torch.Tensor  # [N]
    lam: float
    name = "two layers, linear"

    def __call__(self, theta: torch.Tensor) -> torch.Tensor:
        w, v = theta[..., 0], theta[..., 1]
        y = (v * w)[..., None] * self.x  # [..., N]
        return (y - self.t).pow(2).mean(-1) + self.lam * (v.pow(2) + w.pow(2))

    def critical_points(self) -> torch.Tensor:
        """All critical points in closed form, shape [K, 2] (origin first)."""
        a = float(self.x.pow(2).mean())
        b = float((self.t * self.x).mean())
        points = [(0.0, 0.0)]
        if a > 0:
            for s2, sign in (((b - self.lam) / a, 1.0), (-(b + self.lam) / a, -1.0)):
                if s2 > 0:
                    s = math.sqrt(s2)
                    points += [(s, sign * s), (-s, -sign * s)]
        return torch.tensor(points, dtype=DTYPE)


@dataclass(frozen=True, eq=False)
class TwoLayerTanh(Surface):
    """A tanh hidden unit: E(w, v) = 1/N Σₙ (v·tanh(w·xₙ) − tₙ)² + λ(v² + w²)."""

    x: torch.Tensor  # [N]
    t: torch.Tensor  # [N]
    lam: float
    name = "two layers, tanh"

    def __call__(self, theta: torch.Tensor) -> torch.Tensor:
        w, v = theta[..., 0], theta[..., 1]
        y = v[..., None] * torch.tanh(w[..., None] * self.x)  # [..., N]
        return (y - self.t).pow(2).mean(-1) + self.lam * (v.pow(2) + w.pow(2))


@dataclass(frozen=True, eq=False)
class Quadratic(Surface):
    """E(θ) = Σᵢ αᵢ ((R(θ − θ*))ᵢ)², R a rotation by ``angle`` in the (θ₁, θ₂) plane.

    Hessian H = 2 Rᵀ diag(α) R, eigenvalues 2αᵢ; gradient descent with step γ
    multiplies the i-th eigen-coordinate by (1 − 2γαᵢ) each step.
    """

    alphas: torch.Tensor  # [P]
    theta_star: torch.Tensor  # [P]
    angle: float = 0.0
    name = "quadratic"

    @property
    def dim(self) -> int:  # type: ignore[override]
        return self.alphas.shape[0]

    @property
    def rotation(self) -> torch.Tensor:
        """R [P, P]: rows are the eigen-directions of H in θ coordinates."""
        R = torch.eye(self.dim, dtype=DTYPE)
        if self.dim >= 2:
            c, s = math.cos(self.angle), math.sin(self.angle)
            R[:2, :2] = torch.tensor([[c, s], [-s, c]], dtype=DTYPE)
        return R

    def eigen_coordinates(self, theta: torch.Tensor) -> torch.Tensor:
        """u = R(θ − θ*), shape like theta."""
        return (theta - self.theta_star) @ self.rotation.T

    def hessian(self) -> torch.Tensor:
        R = self.rotation
        return 2 * R.T @ torch.diag(self.alphas) @ R

    def __call__(self, theta: torch.Tensor) -> torch.Tensor:
        return (self.alphas * self.eigen_coordinates(theta).pow(2)).sum(-1)


def linear_regression(X, t, lam: float = 0.0) -> LinearRegression:
    """One-layer linear model E(w) = 1/N Σ(wᵀxₙ − tₙ)² + λ‖w‖² (X: [N, P])."""
    X = _as_tensor(X)
    if X.ndim != 2:
        raise ValueError(f"X must be [N, P], got shape {tuple(X.shape)}")
    return LinearRegression(X=X, t=_as_tensor(t).reshape(-1), lam=float(lam))


def two_layer_linear(x=(1.0,), t=(1.0,), lam: float = 0.1) -> TwoLayerLinear:
    """E(w, v) = 1/N Σ(v·w·xₙ − tₙ)² + λ(v² + w²); the lecture's N=1, x=1, t=1, λ=0.1."""
    return TwoLayerLinear(x=_as_tensor(x).reshape(-1), t=_as_tensor(t).reshape(-1), lam=float(lam))


def two_layer_tanh(x, t, lam: float = 0.0) -> TwoLayerTanh:
    """E(w, v) = 1/N Σ(v·tanh(w·xₙ) − tₙ)² + λ(v² + w²)."""
    return TwoLayerTanh(x=_as_tensor(x).reshape(-1), t=_as_tensor(t).reshape(-1), lam=float(lam))


def quadratic(alphas=(1.0, 10.0), theta_star=None, angle: float = 0.0) -> Quadratic:
    """E(θ) = Σ αᵢ((R(θ − θ*))ᵢ)² with a rotation by ``angle`` radians."""
    alphas = _as_tensor(alphas).reshape(-1)
    if theta_star is None:
        theta_star = torch.zeros_like(alphas)
    theta_star = _as_tensor(theta_star).reshape(-1)
    if theta_star.shape != alphas.shape:
        raise ValueError("theta_star and alphas must have the same length")
    return Quadratic(alphas=alphas, theta_star=theta_star, angle=float(angle))
