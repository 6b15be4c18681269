"""The Hessian H = ∂²E/∂θ² of a loss E(θ) of one flat parameter vector.

Exact Hessians (torch.func, forward-over-reverse) for small models,
Hessian-vector products and Lanczos eigenvalues for large ones, the spectrum
summary the pages print, and the lecture's closed forms: the linear model's
H = 2E[xxᵀ] + 2λI and the Gauss–Newton part Jᵀ(∂²E/∂F²)J of
H = Jᵀ(∂²E/∂F²)J + Σ (∂E/∂F)(∂²F/∂θ²).

>>> X = torch.tensor([[1.0, 0.0], [0.0, 2.0]], dtype=torch.float64)
>>> linear_model(X, lam=0.5)   # 2/N XᵀX + 2λI = diag(1+1, 4+1)
tensor([[2., 0.],
        [0., 5.]], dtype=torch.float64)
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch.func import grad, jacfwd, jacrev, jvp, vmap

from core import models

DTYPE = torch.float64
LossFn = Callable[[torch.Tensor], torch.Tensor]

# Forward-mode AD keeps its dual levels in process-global state (torch 2.13): two threads inside
# jvp/jacfwd at once break each other's level ("Trying to create a dual Tensor for forward AD
# but no level exists"). Streamlit runs each session's script in its own thread, so every
# forward-mode transform takes this lock. Measured with 4 threads × 200 calls of exact + hvp:
# 763 errors without it, 0 with it; reverse mode (grad, vmap, jacrev) needs no lock. Found by
# benchmarks/bench_load.py (20 browser sessions); tests/test_hessian_threads.py keeps it fixed.
FORWARD_AD_LOCK = threading.RLock()


# --- exact -------------------------------------------------------------------


def exact(loss_fn: LossFn, theta: torch.Tensor) -> torch.Tensor:
    """H [P, P] = jacrev(grad(E))(θ): P reverse passes through one backward (vmapped), symmetrized.

    Reverse over reverse, not forward over reverse (``forward_over_reverse``): both match
    ``torch.autograd.functional.hessian`` to ~1e-15, batch norm in train mode included
    (tests/test_hessian.py), but reverse over reverse is faster (benchmarks/bench_hessian.py,
    interleaved medians at one thread: 1.2–1.9× on the BatchNorm page's 697- and 857-parameter
    nets, 1.5–1.6× for the 981-parameter tanh MLP) and needs no FORWARD_AD_LOCK, so two sessions
    can form Hessians at once. (jacfwd(jacrev(E)) is the one to avoid: vmapping its
    inner reverse pass through train-mode batch norm gave entries off by ~3e-2.)
    """
    H = jacrev(grad(loss_fn))(theta.detach())
    return (H + H.T) / 2


def forward_over_reverse(loss_fn: LossFn, theta: torch.Tensor) -> torch.Tensor:
    """H = jacfwd(grad(E))(θ): P forward-mode passes through one backward (benchmark baseline)."""
    with FORWARD_AD_LOCK:
        H = jacfwd(grad(loss_fn))(theta.detach())
    return (H + H.T) / 2


def exact_reference(loss_fn: LossFn, theta: torch.Tensor) -> torch.Tensor:
    """The slow reference: ``torch.autograd.functional.hessian``."""
    return torch.autograd.functional.hessian(loss_fn, theta.detach())


def row_by_row(loss_fn: LossFn, theta: torch.Tensor) -> torch.Tensor:
    """H one row at a time by double backward: P backward passes (benchmark baseline)."""
    theta = theta.detach().requires_grad_(True)
    (g,) = torch.autograd.grad(loss_fn(theta), theta, create_graph=True)
    rows = [torch.autograd.grad(g[i], theta, retain_graph=True)[0] for i in range(theta.numel())]
    return torch.stack(rows)


def eigenvalues(H: torch.Tensor) -> torch.Tensor:
    """All eigenvalues of a symmetric H, ascending (float64), by LAPACK's MRRR driver (syevr).

    The reference is ``torch.linalg.eigvalsh`` (divide and conquer); they agree to ~1e-12
    relative. Measured here with one thread at P = 1,000: 56 ms vs 95 ms, which keeps
    "exact Hessian + spectrum ≤ 100 ms" (DESIGN.md). BLAS threads are limited to one, the
    app's thread policy (core.ui.warm_up), so numpy's pool does not fight torch's.
    """
    import scipy.linalg
    from threadpoolctl import threadpool_limits

    A = H.detach().to(DTYPE).numpy()
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"H must be square, got shape {tuple(A.shape)}")
    if A.shape[0] == 0:
        return torch.zeros(0, dtype=DTYPE)
    if not np.isfinite(A).all():
        raise ValueError("H has NaN or inf entries")
    with threadpool_limits(limits=1, user_api="blas"):
        w = scipy.linalg.eigvalsh(A, lower=True, driver="evr", check_finite=False)
    return torch.from_numpy(np.ascontiguousarray(w))


# --- Hessian-vector products and Lanczos ----------------------------------------


def hvp(loss_fn: LossFn, theta: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """H v without forming H: the directional derivative of ∇E along v (forward-over-reverse).

    ``v`` of shape [P] or [k, P] (k products at once).
    """
    theta = theta.detach()

    def single(u):
        return jvp(grad(loss_fn), (theta,), (u,))[1]

    with FORWARD_AD_LOCK:
        return vmap(single)(v) if v.ndim == 2 else single(v)


def hvp_operator(loss_fn: LossFn, theta: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    """v ↦ H v at a fixed θ, reusing one retained graph of ∇E (double backward).

    Building ∇E with ``create_graph`` once and differentiating ⟨∇E, v⟩ per product
    costs one backward pass per HVP, about half of ``hvp``'s forward+backward+jvp
    (benchmarks/bench_hessian.py). The graph lives as long as the returned function.
    """
    theta = theta.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        (g,) = torch.autograd.grad(loss_fn(theta), theta, create_graph=True)

    def apply(v: torch.Tensor) -> torch.Tensor:
        (Hv,) = torch.autograd.grad(g, theta, v, retain_graph=True)
        return Hv.detach()

    return apply


@dataclass
class LanczosInfo:
    n_hvp: int
    method: str


def top_eigenvalues(
    loss_fn: LossFn,
    theta: torch.Tensor,
    k: int = 5,
    which: str = "largest",
    tol: float = 1e-10,
    seed: int = 0,
    return_info: bool = False,
):
    """The k largest (or smallest) eigenvalues of H(θ), by implicitly restarted Lanczos.

    Uses only Hessian-vector products (scipy's ARPACK ``eigsh`` on a
    LinearOperator). "largest"/"smallest" are algebraic, so negative
    eigenvalues count as small. Returns a float64 tensor sorted descending for
    "largest", ascending for "smallest". The start vector comes from ``seed``, so
    the result is deterministic. BLAS threads are limited to one inside so that
    numpy's and torch's thread pools do not fight over the cores.
    """
    from scipy.sparse.linalg import LinearOperator, eigsh
    from threadpoolctl import threadpool_limits

    if which not in ("largest", "smallest"):
        raise ValueError("which must be 'largest' or 'smallest'")
    theta = theta.detach().to(DTYPE)
    P = theta.numel()
    k = int(k)
    if not 1 <= k <= P:
        raise ValueError(f"k must be in [1, {P}]")
    if P <= max(2 * k + 1, 20):  # ARPACK needs k < P; tiny problems are exact anyway
        eig = torch.linalg.eigvalsh(exact(loss_fn, theta))
        out = eig.flip(0)[:k] if which == "largest" else eig[:k]
        return (out, LanczosInfo(n_hvp=0, method="exact")) if return_info else out

    count = [0]
    H = hvp_operator(loss_fn, theta)

    def matvec(x: np.ndarray) -> np.ndarray:
        count[0] += 1
        return H(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float64).reshape(-1))).numpy()

    op = LinearOperator((P, P), matvec=matvec, dtype=np.float64)
    v0 = np.random.default_rng(seed).standard_normal(P)
    with threadpool_limits(limits=1, user_api="blas"):
        vals = eigsh(
            op,
            k=k,
            which="LA" if which == "largest" else "SA",
            v0=v0,
            tol=tol,
            return_eigenvectors=False,
            ncv=min(P, max(2 * k + 1, 20)),
        )
    vals = torch.from_numpy(np.sort(vals)).to(DTYPE)
    out = vals.flip(0) if which == "largest" else vals
    return (out, LanczosInfo(n_hvp=count[0], method="lanczos")) if return_info else out


def power_iteration(
    loss_fn: LossFn, theta: torch.Tensor, k: int = 5, tol: float = 1e-6, max_iter: int = 1000, seed: int = 0
):
    """Baseline (as in PyHessian): power iteration with deflation against found eigenvectors.

    Finds the k eigenvalues of largest magnitude one by one; stops each when the
    Rayleigh quotient changes by less than tol·|λ|. Returns (eigenvalues, n_hvp).
    """
    theta = theta.detach().to(DTYPE)
    gen = torch.Generator().manual_seed(seed)
    H = hvp_operator(loss_fn, theta)  # the same HVP as top_eigenvalues: counts compare fairly
    vals, vecs, n_hvp = [], [], 0
    for _ in range(k):
        v = torch.randn(theta.shape, generator=gen, dtype=DTYPE)
        v /= v.norm()
        lam = None
        for _ in range(max_iter):
            for u in vecs:  # deflate: stay orthogonal to found eigenvectors
                v = v - (u @ v) * u
            Hv = H(v)
            n_hvp += 1
            new = float(v @ Hv)
            v = Hv / Hv.norm()
            if lam is not None and abs(new - lam) <= tol * abs(new):
                lam = new
                break
            lam = new
        vals.append(lam)
        vecs.append(v)
    return torch.tensor(vals, dtype=DTYPE), n_hvp


# --- summaries -----------------------------------------------------------------


@dataclass
class SpectrumSummary:
    """λ_max, λ_min, counts, and condition numbers that are well defined.

    ``condition_number`` = λ_max/λ_min only when H is positive definite (every
    eigenvalue above the near-zero cutoff); otherwise None. ``positive_condition_number``
    = λ_max / (smallest eigenvalue > cutoff) is always defined when λ_max > cutoff,
    and says nothing about the negative directions.
    """

    lambda_max: float
    lambda_min: float
    n: int
    n_negative: int
    n_near_zero: int
    cutoff: float
    condition_number: float | None
    smallest_positive: float | None
    positive_condition_number: float | None

    @property
    def is_positive_definite(self) -> bool:
        return self.condition_number is not None


def spectrum_summary(eigenvalues, rtol: float = 1e-6) -> SpectrumSummary:
    """Summarize a spectrum; |λ| ≤ rtol · max|λ| counts as near zero."""
    lam = torch.as_tensor(eigenvalues, dtype=DTYPE).reshape(-1)
    lam = lam[torch.isfinite(lam)]
    if lam.numel() == 0:
        raise ValueError("no finite eigenvalues")
    scale = float(lam.abs().max())
    cutoff = rtol * scale if scale > 0 else 0.0
    near_zero = lam.abs() <= cutoff
    negative = (lam < 0) & ~near_zero
    positive = lam[(lam > 0) & ~near_zero]
    lmax, lmin = float(lam.max()), float(lam.min())
    pd = bool(lmin > cutoff)
    smallest_pos = float(positive.min()) if positive.numel() else None
    return SpectrumSummary(
        lambda_max=lmax,
        lambda_min=lmin,
        n=lam.numel(),
        n_negative=int(negative.sum()),
        n_near_zero=int(near_zero.sum()),
        cutoff=cutoff,
        condition_number=lmax / lmin if pd else None,
        smallest_positive=smallest_pos,
        positive_condition_number=lmax / smallest_pos if smallest_pos else None,
    )


# --- closed forms and decompositions -------------------------------------------------


def linear_model(X, lam: float = 0.0) -> torch.Tensor:
    """H = 2 E[x xᵀ] + 2λI = 2/N XᵀX + 2λI of E(w) = 1/N Σ(wᵀxₙ − tₙ)² + λ‖w‖² (X: [N, P])."""
    X = torch.as_tensor(X, dtype=DTYPE)
    N, P = X.shape
    return 2.0 / N * X.T @ X + 2.0 * lam * torch.eye(P, dtype=DTYPE)


def output_hessian(F: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """∂²E/∂Fₙ² per sample, [N, K, K], for ``models.loss_from_outputs``.

    MSE E = 1/N Σ‖Fₙ − yₙ‖²: 2/N · I. Cross-entropy: 1/N · (diag pₙ − pₙpₙᵀ), p = softmax(Fₙ).
    """
    N, K = F.shape
    if y.dtype in (torch.int64, torch.int32):
        p = torch.softmax(F, dim=-1)
        return (torch.diag_embed(p) - p[:, :, None] * p[:, None, :]) / N
    return (2.0 / N) * torch.eye(K, dtype=F.dtype).expand(N, K, K)


def gauss_newton(model, X: torch.Tensor, y: torch.Tensor, theta: torch.Tensor, mode: str | None = None):
    """G = Σₙ Jₙᵀ (∂²E/∂Fₙ²) Jₙ with Jₙ = ∂F(xₙ)/∂θ: the positive semi-definite part of H.

    H − G = Σₙ (∂E/∂Fₙ)·∂²Fₙ/∂θ² is the residual part, zero where the residuals are.
    """
    f = models.flat_forward(model, mode)
    theta = theta.detach()
    F = f(theta, X)  # [N, K]
    J = jacrev(lambda th: f(th, X))(theta)  # [N, K, P]
    Hf = output_hessian(F.detach(), y)  # [N, K, K]
    return torch.einsum("nkp,nkl,nlq->pq", J, Hf, J)


def gauss_newton_reference(model, X, y, theta, mode: str | None = None) -> torch.Tensor:
    """G built sample by sample from explicit Jacobians (slow; for tests)."""
    f = models.flat_forward(model, mode)
    theta = theta.detach()
    F = f(theta, X)
    J = torch.autograd.functional.jacobian(lambda th: f(th, X), theta)  # [N, K, P]
    Hf = output_hessian(F.detach(), y)
    G = torch.zeros(theta.numel(), theta.numel(), dtype=DTYPE)
    for n in range(X.shape[0]):
        G += J[n].T @ Hf[n] @ J[n]
    return G


def block_diagonal(H: torch.Tensor, slices: list[slice]) -> torch.Tensor:
    """H with every entry outside the diagonal blocks (one block per slice) set to 0."""
    B = torch.zeros_like(H)
    for s in slices:
        B[s, s] = H[s, s]
    return B


def block_norms(H: torch.Tensor, slices: list[slice]) -> torch.Tensor:
    """[L, L] Frobenius norms ‖H_{ab}‖_F of the blocks between parameter groups a and b."""
    return torch.tensor([[float(H[a, b].norm()) for b in slices] for a in slices], dtype=DTYPE)


def off_block_share(H: torch.Tensor, slices: list[slice]) -> float:
    """‖H − blockdiag(H)‖²_F / ‖H‖²_F: the share of H's mass coupling different groups."""
    total = float(H.pow(2).sum())
    return 0.0 if total == 0 else float((H - block_diagonal(H, slices)).pow(2).sum()) / total


def warm_up() -> None:
    """Pay the one-off cost of the first torch.func transform (~1 s) now, not on a click."""
    theta = torch.ones(3, dtype=DTYPE)
    exact(lambda th: (th**3).sum(), theta)
    hvp(lambda th: (th**3).sum(), theta, theta)


def condition_number_text(s: SpectrumSummary) -> str:
    """One line that never prints a meaningless ratio (in the current language)."""
    from core.i18n import t

    if s.condition_number is not None:
        return t("common.hessian.kappa", kappa=s.condition_number)
    why = (
        t("common.hessian.negative", n=s.n_negative) if s.n_negative else t("common.hessian.near_zero", n=s.n_near_zero)
    )
    extra = (
        t("common.hessian.positive_ratio", cutoff=s.cutoff, ratio=s.positive_condition_number)
        if s.positive_condition_number
        else ""
    )
    return t("common.hessian.undefined", why=why, extra=extra)
