"""Seeded synthetic data sets and input normalization (LeCun et al. '98).

Every sampler takes ``seed`` and draws from a private ``torch.Generator``;
nothing touches the global RNG. All tensors are float64.

normalize(X, method):
  "none"         X
  "center"       X − μ                      (removes the μμᵀ direction of E[xxᵀ])
  "standardize"  (X − μ) / σ  per feature
  "whiten"       (X − μ) Σ^(−1/2)            (ZCA: covariance becomes I)
"""

from __future__ import annotations

import math

import torch

DTYPE = torch.float64
METHODS = ("none", "center", "standardize", "whiten")


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(int(seed))


def gaussian_2d(
    n: int = 200,
    mean=(0.0, 0.0),
    scales=(1.0, 1.0),
    correlation: float = 0.0,
    seed: int = 0,
) -> torch.Tensor:
    """n points from N(μ, Σ) in ℝ², Σ = diag(s) [[1, ρ], [ρ, 1]] diag(s). Returns X [n, 2]."""
    if not -1.0 < correlation < 1.0:
        raise ValueError("correlation must lie strictly between -1 and 1")
    s = torch.as_tensor(scales, dtype=DTYPE)
    C = torch.tensor([[1.0, correlation], [correlation, 1.0]], dtype=DTYPE)
    L = torch.linalg.cholesky(s[:, None] * C * s[None, :])
    z = torch.randn(n, 2, generator=_gen(seed), dtype=DTYPE)
    return z @ L.T + torch.as_tensor(mean, dtype=DTYPE)


def linear_targets(X: torch.Tensor, w_true, noise: float = 0.1, seed: int = 0) -> torch.Tensor:
    """t = X w_true + ε, ε ~ N(0, noise²). Returns t [n]."""
    eps = torch.randn(X.shape[0], generator=_gen(seed + 1), dtype=DTYPE) * noise
    return X @ torch.as_tensor(w_true, dtype=DTYPE) + eps


def regression_1d(n: int = 9, lo: float = -2.0, hi: float = 2.0, slope: float = 0.25):
    """The plateau example: x evenly spaced in [lo, hi], t = slope · x. Returns (x [n], t [n])."""
    x = torch.linspace(lo, hi, n, dtype=DTYPE)
    return x, slope * x


def classification_2d(name: str = "moons", n: int = 200, noise: float = 0.1, seed: int = 0):
    """Two-class 2-D toy sets: "moons", "circles", "xor", "spiral". Returns (X [n, 2], y [n] int64)."""
    g = _gen(seed)
    half = n // 2
    y = torch.cat([torch.zeros(half), torch.ones(n - half)]).long()
    u = torch.rand(n, generator=g, dtype=DTYPE)
    if name == "moons":
        a = math.pi * u
        X = torch.stack([torch.cos(a), torch.sin(a)], 1)
        X[half:] = torch.stack([1 - torch.cos(a[half:]), 0.5 - torch.sin(a[half:])], 1)
    elif name == "circles":
        a = 2 * math.pi * u
        r = torch.where(y == 0, 1.0, 0.5).to(DTYPE)
        X = r[:, None] * torch.stack([torch.cos(a), torch.sin(a)], 1)
    elif name == "xor":
        X = torch.rand(n, 2, generator=g, dtype=DTYPE) * 2 - 1
        y = ((X[:, 0] > 0) ^ (X[:, 1] > 0)).long()
    elif name == "spiral":
        r = u * 2.5 + 0.2
        a = 1.75 * r + math.pi * y.to(DTYPE)
        X = r[:, None] * torch.stack([torch.cos(a), torch.sin(a)], 1)
    else:
        raise ValueError(f"unknown data set {name!r}")
    X = X + noise * torch.randn(n, 2, generator=g, dtype=DTYPE)
    return X, y


def teacher_regression(n: int = 128, in_dim: int = 4, out_dim: int = 1, seed: int = 0):
    """Targets from a fixed random tanh teacher: y = tanh(x A) b + noise. Returns (X, y [n, out_dim])."""
    g = _gen(seed)
    X = torch.randn(n, in_dim, generator=g, dtype=DTYPE)
    A = torch.randn(in_dim, 8, generator=g, dtype=DTYPE) / math.sqrt(in_dim)
    b = torch.randn(8, out_dim, generator=g, dtype=DTYPE) / math.sqrt(8)
    y = torch.tanh(X @ A) @ b + 0.05 * torch.randn(n, out_dim, generator=g, dtype=DTYPE)
    return X, y


def covariance(X: torch.Tensor) -> torch.Tensor:
    """Σ = 1/N Σₙ (xₙ − μ)(xₙ − μ)ᵀ (population covariance, as in E[·])."""
    Xc = X - X.mean(0)
    return Xc.T @ Xc / X.shape[0]


def normalize(X, method: str = "none", eps: float = 1e-12) -> torch.Tensor:
    """Preprocess inputs; see the module docstring for the four methods.

    Directions with variance ≤ eps · (largest variance) are left at zero rather
    than divided by ~0 (degenerate data never produces inf).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    X = torch.as_tensor(X, dtype=DTYPE)
    if method == "none":
        return X.clone()
    Xc = X - X.mean(0)
    if method == "center":
        return Xc
    if method == "standardize":
        sd = Xc.pow(2).mean(0).sqrt()
        keep = sd > math.sqrt(eps) * max(float(sd.max()), 1e-300)
        return torch.where(keep, Xc / torch.where(keep, sd, 1.0), 0.0)
    evals, evecs = torch.linalg.eigh(covariance(X))
    keep = evals > eps * max(float(evals.max()), 1e-300)
    inv_sqrt = torch.where(keep, 1.0 / torch.sqrt(torch.where(keep, evals, 1.0)), 0.0)
    return Xc @ (evecs * inv_sqrt) @ evecs.T
