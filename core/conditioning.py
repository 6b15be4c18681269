"""Conditioning: gradient descent on quadratics, the Hessian of a small net, and its size.

The special case E(θ) = Σᵢ αᵢ (uᵢ)², u = R(θ − θ*) (R a rotation; R = I is the
lecture's axis-aligned case). Gradient descent θₜ₊₁ = θₜ − γ∇E(θₜ) acts on each
eigen-coordinate separately:

    uᵢ,ₜ₊₁ = (1 − 2γαᵢ) uᵢ,ₜ      so   uᵢ,ₜ² = (1 − 2γαᵢ)^{2t} uᵢ,₀²,

it converges iff 0 < γ < 1/αᵢ for every i, the slowest factor at the lecture's
γ = 0.99/α_max is |1 − 1.98 α_min/α_max|, and max_i |1 − 2γαᵢ| is smallest,
(κ − 1)/(κ + 1) with κ = α_max/α_min, at γ = 1/(α_min + α_max).

The general case: the exact Hessian of a small MLP (≤ ~1,000 parameters), its
spectrum, Lanczos beside it, and the split H = G + (H − G) into the Gauss–Newton
part G = Σₙ Jₙᵀ(∂²E/∂Fₙ²)Jₙ and the residual part Σₙ (∂E/∂Fₙ)(∂²Fₙ/∂θ²).
Then the lecture's exercise (H = 2E[xxᵀ] + 2λI) and the size of H for real nets.

>>> run = run_quadratic([1.0, 10.0], gamma=0.05, theta0=[1.0, 1.0], steps=3)
>>> [round(f, 12) for f in run.measured_factors]   # |1 − 2γαᵢ| = 0.9, 0.0
[0.9, 0.0]
"""

from __future__ import annotations

import itertools
import math
import re
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from core import data, hessian, models, optim, surfaces
from core.i18n import t

DTYPE = torch.float64

# --- the special case: E(θ) = Σ αᵢ ((R(θ − θ*))ᵢ)² ----------------------------------

LR_RULES = {
    "lecture": "γ = 0.99/α_max (lecture)",
    "optimum": "γ = 1/(α_min+α_max) (optimum)",
    "custom": "γ = custom",
}


def learning_rate(alphas, rule: str = "lecture", gamma_amax: float = 0.99) -> float:
    """γ for a rule: "lecture" 0.99/α_max, "optimum" 1/(α_min + α_max), "custom" gamma_amax/α_max.

    ``gamma_amax`` is γ in units of 1/α_max (dimensionless; 1 is the stability limit).
    """
    a = torch.as_tensor(alphas, dtype=DTYPE)
    a_max, a_min = float(a.max()), float(a.min())
    if rule == "lecture":
        return 0.99 / a_max
    if rule == "optimum":
        return 1.0 / (a_min + a_max)
    if rule == "custom":
        return float(gamma_amax) / a_max
    raise ValueError(f"unknown rule {rule!r}; choose from {list(LR_RULES)}")


def rate_factors(alphas, gamma) -> torch.Tensor:
    """|1 − 2γαᵢ| per eigen-direction (per step, for the distance |uᵢ|; square it for uᵢ²).

    ``gamma`` may be a tensor [G]: the result is then [G, P].
    """
    a = torch.as_tensor(alphas, dtype=DTYPE)
    g = torch.as_tensor(gamma, dtype=DTYPE)
    return (1 - 2 * g[..., None] * a).abs()


@dataclass
class QuadraticRun:
    """One GD run on a quadratic: the path, its eigen-coordinates, theory and measurement."""

    surface: surfaces.Quadratic
    gamma: float
    trajectory: optim.Trajectory
    u: torch.Tensor  # [T+1, P] eigen-coordinates R(θₜ − θ*), NaN after divergence
    predicted_factors: torch.Tensor  # [P] |1 − 2γαᵢ|
    measured_factors: list[float | None]  # geometric mean of |uᵢ,ₜ₊₁/uᵢ,ₜ|; None if not measurable
    hessian: torch.Tensor  # [P, P] autograd Hessian of E (= 2Rᵀdiag(α)R)
    hessian_eigenvalues: torch.Tensor  # [P] ascending

    @property
    def alphas(self) -> torch.Tensor:
        return self.surface.alphas

    @property
    def diverged_at(self) -> int | None:
        return self.trajectory.diverged_at

    @property
    def kappa(self) -> float:
        return float(self.alphas.max() / self.alphas.min())


def measured_factor(u: torch.Tensor, i: int, rel: float = 1e-6) -> float | None:
    """Geometric mean over t of |uᵢ,ₜ₊₁ / uᵢ,ₜ|, from steps where uᵢ,ₜ is well above rounding.

    With a rotation, each uᵢ carries rounding of order ε‖θ‖, so a coordinate
    that has decayed below ``rel``·‖uₜ‖ no longer measures its own factor.
    """
    norms = u.norm(dim=-1)
    ui = u[:, i]
    ok = torch.isfinite(ui[:-1]) & torch.isfinite(ui[1:])
    ok &= (ui[:-1].abs() >= rel * norms[:-1]) & (ui[:-1].abs() > 1e-250)
    if not ok.any():
        return None
    ratios = (ui[1:][ok] / ui[:-1][ok]).abs()
    # a factor of exactly 0 (γ = 1/(2αᵢ)) would make the log-mean −inf
    return float(ratios.clamp_min(1e-300).log().mean().exp())


def run_quadratic(alphas, gamma: float, theta0, angle: float = 0.0, steps: int = 50, theta_star=None) -> QuadraticRun:
    """GD with step γ on E(θ) = Σ αᵢ((R(θ − θ*))ᵢ)², R a rotation by ``angle`` radians."""
    E = surfaces.quadratic(alphas, theta_star, angle)
    traj = optim.gradient_descent(E, torch.as_tensor(theta0, dtype=DTYPE), lr=gamma, steps=int(steps))
    u = E.eigen_coordinates(traj.thetas)
    H = hessian.exact_reference(E, E.theta_star.clone())
    return QuadraticRun(
        surface=E,
        gamma=float(gamma),
        trajectory=traj,
        u=u,
        predicted_factors=rate_factors(E.alphas, gamma),
        measured_factors=[measured_factor(u, i) for i in range(E.dim)],
        hessian=H,
        hessian_eigenvalues=torch.linalg.eigvalsh(H),
    )


def stability_text(run: QuadraticRun) -> str | None:
    """What happens when γ ≥ 1/α_max (None when GD converges)."""
    a_max = float(run.alphas.max())
    limit, gamma = 1.0 / a_max, run.gamma
    rho = abs(1 - 2 * gamma * a_max)
    if run.diverged_at is not None:
        return t("conditioning.stability.diverged", step=run.diverged_at, gamma=gamma, limit=limit, rho=rho)
    if math.isclose(gamma * a_max, 1.0, rel_tol=1e-12):
        return t("conditioning.stability.edge", limit=limit)
    if gamma > limit:
        losses = run.trajectory.losses
        growth = float(losses[-1] / losses[0]) if float(losses[0]) > 0 else float("nan")
        return t(
            "conditioning.stability.growing", gamma=gamma, limit=limit, rho=rho, growth=growth, steps=len(losses) - 1
        )
    return None


def level_set_frames(run: QuadraticRun, n: int = 64, margin: float = 1.25):
    """(grid, path, points) DataFrames for ``charts.surface_heatmap`` with x="θ₁", y="θ₂".

    The square window is centred on θ* and just holds the start (steps outside are dropped by the chart).
    """
    E = run.surface
    star = E.theta_star[:2]
    start = run.trajectory.thetas[0, :2]
    half = margin * max(float((start - star).abs().max()), 0.1)
    lo = (float(star[0]) - half, float(star[1]) - half)
    hi = (float(star[0]) + half, float(star[1]) + half)
    a, b, values = E.grid(lo, hi, n)
    B, A = torch.meshgrid(b, a, indexing="ij")
    grid = pd.DataFrame({"θ₁": A.reshape(-1).numpy(), "θ₂": B.reshape(-1).numpy(), "E": values.reshape(-1).numpy()})
    th = run.trajectory.thetas
    path = pd.DataFrame({"run": "GD", "step": np.arange(th.shape[0]), "θ₁": th[:, 0].numpy(), "θ₂": th[:, 1].numpy()})
    points = pd.DataFrame(
        {
            "θ₁": [float(start[0]), float(star[0])],
            "θ₂": [float(start[1]), float(star[1])],
            "label": [t("conditioning.gd.start"), "θ*"],
        }
    )
    return grid, path, points


def distance_frame(run: QuadraticRun) -> pd.DataFrame:
    """Long frame [step, direction, kind, value]: measured uᵢ,ₜ² and predicted (1 − 2γαᵢ)^{2t} uᵢ,₀².

    ``kind`` is ``conditioning.frames.measured`` or ``.predicted`` in the current language.

    Predictions stop where the run stopped (a diverged run is clipped, not extrapolated to inf).
    """
    u = run.u
    last = run.diverged_at if run.diverged_at is not None else u.shape[0] - 1
    steps = torch.arange(u.shape[0], dtype=DTYPE)
    measured, predicted_name = t("conditioning.frames.measured"), t("conditioning.frames.predicted")
    rows = []
    for i in range(u.shape[1]):
        name = f"u{_sub(i + 1)}  (α{_sub(i + 1)} = {float(run.alphas[i]):.3g})"
        rho = 1 - 2 * run.gamma * float(run.alphas[i])
        predicted = u[0, i] ** 2 * torch.tensor(rho, dtype=DTYPE).pow(2 * steps)
        for kind, values in ((measured, u[:, i] ** 2), (predicted_name, predicted)):
            rows.append(
                pd.DataFrame({"step": steps.numpy(), "direction": name, "kind": kind, "value": values.numpy()}).iloc[
                    : last + 1
                ]
            )
    # the measured row at the diverging step itself is NaN (GD stopped there): not drawn
    return pd.concat(rows, ignore_index=True).dropna(subset=["value"]).reset_index(drop=True)


def factor_table(run: QuadraticRun) -> pd.DataFrame:
    """Per eigen-direction: αᵢ, the autograd Hessian's eigenvalue, predicted and measured factors."""
    order = torch.argsort(run.alphas)
    eig = run.hessian_eigenvalues  # ascending, matches sorted alphas
    rows = []
    for rank, i in enumerate(order.tolist()):
        m = run.measured_factors[i]
        p = float(run.predicted_factors[i])
        rows.append(
            {
                t("conditioning.frames.direction"): f"u{_sub(i + 1)}",
                "αᵢ": float(run.alphas[i]),
                t("conditioning.frames.eigenvalue"): float(eig[rank]),
                t("conditioning.frames.theory"): p,
                t("conditioning.frames.measured_factor"): m,
                t("conditioning.frames.difference"): None if m is None else abs(m - p),
            }
        )
    return pd.DataFrame(rows)


@dataclass
class QuadraticView:
    """Everything the quadratic's charts and table need, computed once (cacheable as a whole)."""

    run: QuadraticRun
    grid: pd.DataFrame
    path: pd.DataFrame
    points: pd.DataFrame
    distances: pd.DataFrame
    factors: pd.DataFrame
    notice: list[str]
    stability: str | None


def quadratic_view(
    alphas, gamma: float, theta0, angle: float, steps: int, rule: str, lang: str | None = None
) -> QuadraticView:
    """``run_quadratic`` plus its level-set, distance and factor frames and the notes to print.

    The frames' labels and the notes are in the current language; ``lang`` names it, so a cache
    keyed on the arguments never serves one language's text to a reader of the other."""
    run = run_quadratic(alphas, gamma, theta0, angle, steps)
    grid, path, points = level_set_frames(run)
    return QuadraticView(
        run=run,
        grid=grid,
        path=path,
        points=points,
        distances=distance_frame(run),
        factors=factor_table(run),
        notice=notice_quadratic(run, rule),
        stability=stability_text(run),
    )


def rate_frames(alphas, gamma: float, n: int = 400, span: float = 1.25):
    """(curves, marks): |1 − 2γαᵢ| and their max over γ ∈ [0, span/α_max]; the marked learning rates."""
    a = torch.as_tensor(alphas, dtype=DTYPE)
    a_max = float(a.max())
    gammas = torch.linspace(0, span / a_max, n, dtype=DTYPE)
    F = rate_factors(a, gammas)  # [n, P]
    curves = [
        pd.DataFrame({"γ": gammas.numpy(), "factor": F[:, i].numpy(), "curve": f"|1−2γα{_sub(i + 1)}|"})
        for i in range(a.numel())
    ]
    rate = t("conditioning.frames.max_curve")
    curves.append(pd.DataFrame({"γ": gammas.numpy(), "factor": F.max(1).values.numpy(), "curve": rate}))
    marks = pd.DataFrame(
        {
            "γ": [learning_rate(a, "lecture"), learning_rate(a, "optimum"), float(gamma)],
            "label": ["0.99/α_max", "1/(α_min+α_max)", t("conditioning.frames.your_gamma")],
        }
    )
    # one label per position, so coinciding marks do not print over each other
    marks = marks.groupby(marks["γ"].round(12), sort=False, as_index=False).agg({"γ": "first", "label": " = ".join})
    return pd.concat(curves, ignore_index=True), marks


# --- the cost of poor conditioning: steps to a tolerance vs κ ------------------------------


def closed_form_distances(alphas, gamma: float, u0, steps: int) -> torch.Tensor:
    """‖θₜ − θ*‖² = Σᵢ uᵢ,₀² (1 − 2γαᵢ)^{2t} for t = 0 … steps, [steps+1]."""
    a = torch.as_tensor(alphas, dtype=DTYPE)
    u0 = torch.as_tensor(u0, dtype=DTYPE)
    t = torch.arange(steps + 1, dtype=DTYPE)[:, None]
    return (u0**2 * (1 - 2 * gamma * a).pow(2 * t)).sum(-1)


def steps_bound(alphas, gamma: float, tol: float) -> float:
    """⌈ln(tol) / (2 ln ρ)⌉, ρ = maxᵢ|1 − 2γαᵢ| the slowest factor: since ‖θₜ − θ*‖² ≤ ρ^{2t}‖θ₀ − θ*‖²,
    that many steps always reach ‖θₜ − θ*‖² ≤ tol·‖θ₀ − θ*‖².

    inf when ρ ≥ 1 (no convergence); 1 when ρ = 0; 0 when tol ≥ 1.
    """
    rho = float(rate_factors(alphas, gamma).max())
    if tol >= 1:
        return 0.0
    if rho == 0:  # one step lands on θ*
        return 1.0
    if rho >= 1:
        return math.inf
    return float(math.ceil(math.log(tol) / (2 * math.log(rho)) - 1e-12))


def log_spaced_alphas(kappa: float, dims: int, alpha_max: float = 1.0) -> torch.Tensor:
    """dims values αᵢ log-spaced from α_max/κ to α_max (ascending)."""
    return alpha_max * torch.as_tensor(kappa, dtype=DTYPE) ** torch.linspace(-1, 0, dims, dtype=DTYPE)


@dataclass
class KappaSweep:
    """Steps until ‖θₜ − θ*‖² ≤ tol·‖θ₀ − θ*‖², per condition number κ: measured by GD and from theory."""

    kappas: list[float]
    gamma_amax: list[float]  # γ·α_max used at each κ
    measured: list[int | None]  # None: not reached within the steps run (or diverged)
    theory: list[int | None]  # first t where the closed form Σᵢ uᵢ₀²(1−2γαᵢ)^{2t} ≤ tol·‖u₀‖²
    bound: list[float]  # ⌈ln tol / (2 ln ρ_slow)⌉
    diverged: list[bool]
    steps_run: int
    max_steps: int
    tol: float
    dims: int


def kappa_sweep(
    rule: str = "lecture",
    gamma_amax: float = 0.99,
    tol: float = 1e-4,
    dims: int = 2,
    kappas=None,
    max_steps: int = 4000,
) -> KappaSweep:
    """GD on E = Σ αᵢθᵢ² with αᵢ log-spaced in [1/κ, 1], θ* = 0, started at θ₀ = (1, …, 1).

    α_max = 1 loses nothing: the step count depends only on κ and γ·α_max (and a
    rotation changes nothing either, so the runs are axis-aligned). All κ run at once
    in one batched ``optim.gradient_descent``. Each run r has its own γ_r (the optimum
    rule depends on κ); GD with step 1 on γ_r·E_r is exactly GD with step γ_r on E_r,
    so the batch uses lr = 1 and scales each run's error by γ_r. The runs stop after
    min(max_steps, largest theoretical count + 2) steps.
    """
    kappas = [float(k) for k in (np.logspace(0, 3, 13) if kappas is None else kappas)]
    A = torch.stack([log_spaced_alphas(k, dims) for k in kappas])  # [R, d]
    g = torch.tensor([learning_rate(a, rule, gamma_amax) for a in A], dtype=DTYPE)  # [R], α_max = 1
    u0 = torch.ones(dims, dtype=DTYPE)
    theory, bound = [], []
    for a, gamma in zip(A, g.tolist()):
        d_t = closed_form_distances(a, gamma, u0, max_steps)
        theory.append(optim.steps_to_tolerance(d_t / d_t[0], tol))
        bound.append(steps_bound(a, gamma, tol))
    known = [t for t in theory if t is not None]
    steps = max_steps if len(known) < len(theory) else min(max_steps, max(known) + 2)

    def scaled_error(theta):  # [R, d] -> [R]: γ_r · Σᵢ α_{r,i} θ_{r,i}²
        return g * (A * theta**2).sum(-1)

    traj = optim.gradient_descent(scaled_error, u0.expand(len(kappas), dims), lr=1.0, steps=steps)
    distance = traj.thetas.pow(2).sum(-1) / dims  # [T+1, R] ‖θₜ‖² / ‖θ₀‖², NaN after divergence
    measured = [optim.steps_to_tolerance(distance[:, r], tol) for r in range(len(kappas))]
    return KappaSweep(
        kappas=kappas,
        gamma_amax=g.tolist(),
        measured=measured,
        theory=theory,
        bound=bound,
        diverged=[d is not None for d in traj.diverged_each],
        steps_run=steps,
        max_steps=max_steps,
        tol=tol,
        dims=dims,
    )


def sweep_frame(s: KappaSweep) -> pd.DataFrame:
    """Long frame [κ, steps, series] (runs that never reached tol are left out)."""
    measured, theory = t("conditioning.frames.sweep_measured"), t("conditioning.frames.sweep_theory")
    bound = t("conditioning.frames.sweep_bound")
    rows = []
    for k, m, th, b in zip(s.kappas, s.measured, s.theory, s.bound):
        if m is not None:
            rows.append((k, m, measured))
        if th is not None:
            rows.append((k, th, theory))
        if math.isfinite(b):
            rows.append((k, b, bound))
    return pd.DataFrame(rows, columns=["κ", "steps", "series"])


# --- the general case: the exact Hessian of a small MLP ---------------------------------------


@dataclass
class MLPHessian:
    """Exact H at the end of training, its spectrum, Lanczos beside it, and the Gauss–Newton split."""

    n_parameters: int
    groups: list[tuple[str, slice]]  # readable layer names and their slices of θ
    theta: torch.Tensor  # [P] where H was formed (the end of training, or the last finite checkpoint)
    H: torch.Tensor  # [P, P]
    eigenvalues: torch.Tensor  # [P] ascending
    summary: hessian.SpectrumSummary
    lanczos_largest: torch.Tensor  # [k] descending
    lanczos_smallest: torch.Tensor  # [k] ascending
    lanczos_hvps: int
    lanczos_method: str
    G_eigenvalues: torch.Tensor  # [P] ascending, Gauss–Newton part
    G_summary: hessian.SpectrumSummary
    history: pd.DataFrame  # per checkpoint: step, loss, ‖H‖_F, ‖G‖_F, ‖H−G‖_F, λ_min(H)
    losses: torch.Tensor  # [steps+1] training loss, NaN after divergence
    diverged_at: int | None
    n_data: int

    @property
    def residual_share(self) -> float:
        """‖H − G‖_F / ‖H‖_F at the end of training."""
        last = self.history.iloc[-1]
        return float(last["‖H − G‖_F (residual part)"] / last["‖H‖_F"])


def _group_name(layer: str) -> str:
    if layer == "out":
        return "output"
    i = int(layer.split(".")[1])
    return f"hidden {i + 1}" + (" BN" if layer.endswith("norm") else "")


def shown_group(name: str) -> str:
    """A layer name of ``_group_name`` ("output", "hidden 2 BN") in the current language."""
    if name == "output":
        return t("conditioning.mlp.groups.output")
    parts = name.split()
    key = "hidden_bn" if parts[-1] == "BN" else "hidden"
    return t(f"conditioning.mlp.groups.{key}", i=parts[1])


def _load(net: torch.nn.Module, theta: torch.Tensor) -> None:
    with torch.no_grad():
        torch.nn.utils.vector_to_parameters(theta.clone(), net.parameters())


def mlp_hessian(
    width: int = 6,
    depth: int = 2,
    activation: str = "tanh",
    seed: int = 0,
    train_steps: int = 300,
    lr: float = 0.1,
    k: int = 5,
    n_data: int = 64,
    checkpoints: int = 6,
) -> MLPHessian:
    """A 2-input MLP on a seeded tanh-teacher regression set (MSE), trained by full-batch GD.

    At ``checkpoints`` steps along training the exact H and the Gauss–Newton part G
    are formed to follow the residual part H − G as the fit improves; at the end, the
    spectra, a summary, and the k largest and smallest eigenvalues by Lanczos.
    """
    X, y = data.teacher_regression(n=n_data, in_dim=2, out_dim=1, seed=seed)
    net = models.MLP(2, width, depth, 1, activation=activation, seed=seed)
    theta = models.flatten(net)
    marks = sorted({round(s) for s in np.linspace(0, train_steps, max(checkpoints, 1))})
    losses = torch.full((train_steps + 1,), float("nan"), dtype=DTYPE)
    history, diverged_at, done = [], None, 0

    def measure(step: int):
        E, _ = models.flat_loss(net, X, y)
        H = hessian.exact(E, theta)
        G = hessian.gauss_newton(net, X, y, theta)
        history.append(
            {
                "step": step,
                "loss E(θ)": float(E(theta)),
                "‖H‖_F": float(H.norm()),
                "‖G‖_F (Gauss–Newton)": float(G.norm()),
                "‖H − G‖_F (residual part)": float((H - G).norm()),
                "λ_min(H)": float(torch.linalg.eigvalsh(H)[0]),
            }
        )
        return E, H, G

    for mark in marks:
        if mark > done:  # train from the last checkpoint to this one
            _load(net, theta)
            res = models.train(net, X, y, lr=lr, steps=mark - done)
            losses[done : mark + 1] = res.losses
            if res.diverged_at is not None:
                diverged_at = done + res.diverged_at
                break
            theta, done = res.theta, mark
        _load(net, theta)
        E, H, G = measure(done)
    if train_steps == 0 or not torch.isfinite(losses[0]):
        losses[0] = history[0]["loss E(θ)"]

    P = theta.numel()
    k = max(1, min(int(k), P))
    top, info = hessian.top_eigenvalues(E, theta, k=k, which="largest", seed=seed, return_info=True)
    bottom, info_b = hessian.top_eigenvalues(E, theta, k=k, which="smallest", seed=seed, return_info=True)
    eig = hessian.eigenvalues(H)
    G_eig = hessian.eigenvalues(G)
    groups = [(_group_name(name), s) for name, s in models.layer_slices(net)]
    return MLPHessian(
        n_parameters=P,
        groups=groups,
        theta=theta,
        H=H,
        eigenvalues=eig,
        summary=hessian.spectrum_summary(eig),
        lanczos_largest=top,
        lanczos_smallest=bottom,
        lanczos_hvps=info.n_hvp + info_b.n_hvp,
        lanczos_method=info.method,
        G_eigenvalues=G_eig,
        G_summary=hessian.spectrum_summary(G_eig),
        history=pd.DataFrame(history),
        losses=losses,
        diverged_at=diverged_at,
        n_data=n_data,
    )


def summary_metrics(r: MLPHessian) -> list[tuple[str, str, str | None]]:
    """(label, value, help) for the spectrum summary row: the condition number only when H is positive definite."""
    s = r.summary
    return [
        ("λ_max", f"{s.lambda_max:.4g}", None),
        ("λ_min", f"{s.lambda_min:.4g}", None),
        (t("conditioning.mlp.metrics.negative"), str(s.n_negative), None),
        (
            t("conditioning.mlp.metrics.near_zero"),
            str(s.n_near_zero),
            t("conditioning.mlp.metrics.cutoff", cutoff=s.cutoff),
        ),
        (
            "κ",
            f"{s.condition_number:.4g}" if s.condition_number else t("conditioning.mlp.metrics.undefined"),
            t("conditioning.mlp.metrics.kappa_help"),
        ),
    ]


def lanczos_table(r: MLPHessian) -> pd.DataFrame:
    """The k largest and k smallest eigenvalues: exact (eigvalsh) beside Lanczos, and |difference|."""
    k = r.lanczos_largest.numel()
    P = r.n_parameters
    exact_desc = r.eigenvalues.flip(0)
    rows = [("largest", i + 1, float(exact_desc[i]), float(r.lanczos_largest[i])) for i in range(k)]
    rows += [("smallest", P - i, float(r.eigenvalues[i]), float(r.lanczos_smallest[i])) for i in range(k)]
    df = pd.DataFrame(rows, columns=["end", "rank", "exact λ", "Lanczos λ"])
    df["|difference|"] = (df["exact λ"] - df["Lanczos λ"]).abs()
    return df.drop_duplicates(subset=["rank"]).reset_index(drop=True)


def shown_lanczos_table(r: MLPHessian) -> pd.DataFrame:
    """``lanczos_table`` with its headers and its "end" column in the current language."""
    df = lanczos_table(r)
    ends = {"largest": t("conditioning.mlp.lanczos.largest"), "smallest": t("conditioning.mlp.lanczos.smallest")}
    df["end"] = df["end"].map(ends)
    names = {c: t(f"conditioning.mlp.lanczos.{c.split()[0].lower()}") for c in ("end", "rank", "exact λ", "Lanczos λ")}
    return df.rename(columns=names | {"|difference|": t("conditioning.frames.difference")})


def spectrum_frame(r: MLPHessian) -> pd.DataFrame:
    """Long frame [rank, eigenvalue, series] for the exact spectrum with the Lanczos values at their ranks."""
    P = r.n_parameters
    exact = pd.DataFrame(
        {
            "rank": np.arange(1, P + 1),
            "eigenvalue": r.eigenvalues.flip(0).numpy(),
            "series": t("conditioning.mlp.series.exact"),
        }
    )
    lz = lanczos_table(r)
    lanczos = pd.DataFrame(
        {"rank": lz["rank"], "eigenvalue": lz["Lanczos λ"], "series": t("conditioning.mlp.series.lanczos")}
    )
    return pd.concat([exact, lanczos], ignore_index=True)


def decomposition_frame(r: MLPHessian) -> pd.DataFrame:
    """Long frame [rank, eigenvalue, series]: the spectra of H and of its Gauss–Newton part G."""
    P = r.n_parameters
    rank = np.arange(1, P + 1)
    return pd.concat(
        [
            pd.DataFrame(
                {"rank": rank, "eigenvalue": r.eigenvalues.flip(0).numpy(), "series": t("conditioning.mlp.series.full")}
            ),
            pd.DataFrame(
                {
                    "rank": rank,
                    "eigenvalue": r.G_eigenvalues.flip(0).numpy(),
                    "series": t("conditioning.mlp.series.gauss_newton"),
                }
            ),
        ],
        ignore_index=True,
    )


def history_frame(r: MLPHessian) -> pd.DataFrame:
    """Long frame [step, value, series] of the loss and the norms of G and H − G during training."""
    loss = t("conditioning.mlp.series.loss")
    names = {"loss E(θ)": loss, "‖G‖_F (Gauss–Newton)": "‖G‖_F", "‖H − G‖_F (residual part)": "‖H − G‖_F"}
    long = r.history.melt(id_vars="step", value_vars=list(names), var_name="series", value_name="value")
    return long.assign(series=long["series"].map(names))


def condition_text(s: hessian.SpectrumSummary, name: str = "H") -> str:
    """``hessian.condition_number_text`` for a matrix called ``name`` (e.g. G, the Gauss–Newton part).

    The text names H where ``common.hessian.undefined`` does (in any language): that H becomes ``name``."""
    text = hessian.condition_number_text(s)
    template = t("common.hessian.undefined")
    at = template.find("H ")
    if name != "H" and at >= 0 and text.startswith(template[:at]) and text[at : at + 2] == "H ":
        text = text[:at] + name + text[at + 1 :]
    return text


def tiled_matrix(M: torch.Tensor, max_cells: int = 100) -> tuple[np.ndarray, int]:
    """(tiles, s): M reduced to at most ``max_cells`` per side by s×s tiles, each the
    entry of largest magnitude (sign kept), so a single large entry is never averaged away."""
    M = torch.as_tensor(M, dtype=DTYPE)
    P = M.shape[0]
    s = max(1, math.ceil(P / max_cells))
    if s == 1:
        return M.numpy().copy(), 1
    n = math.ceil(P / s)
    padded = torch.zeros(n * s, n * s, dtype=DTYPE)
    padded[:P, :P] = M
    blocks = padded.reshape(n, s, n, s).permute(0, 2, 1, 3).reshape(n, n, s * s)
    idx = blocks.abs().argmax(-1, keepdim=True)
    return blocks.gather(-1, idx).squeeze(-1).numpy(), s


def heatmap_frame(M: torch.Tensor, groups: list[tuple[str, slice]], max_cells: int = 100):
    """(cells, boundaries, P, s): s×s tiles of M with their parameter ranges [i, i2) × [j, j2) and layer names."""
    tiles, s = tiled_matrix(M, max_cells)
    P = M.shape[0]
    owner = np.empty(P, dtype=object)
    for name, sl in groups:
        owner[sl] = shown_group(name)
    n = tiles.shape[0]
    I, J = np.indices((n, n))
    lo_i, lo_j = I.ravel() * s, J.ravel() * s
    cells = pd.DataFrame(
        {
            "i": lo_i,
            "i2": np.minimum(lo_i + s, P),
            "j": lo_j,
            "j2": np.minimum(lo_j + s, P),
            "value": tiles.ravel(),
            "row": owner[lo_i],
            "col": owner[lo_j],
        }
    )
    boundaries = [sl.start for _, sl in groups[1:]]
    return cells, boundaries, P, s


# --- the exercise: the linear model's Hessian ------------------------------------------------------


@dataclass
class LinearExercise:
    """H = 2E[xxᵀ] + 2λI from the formula and from autograd, for E(w) = 1/N Σ(wᵀxₙ − tₙ)² + λ‖w‖²."""

    mean: torch.Tensor  # [2] μ of the inputs
    H_formula: torch.Tensor  # [2, 2]
    H_autograd: torch.Tensor  # [2, 2]
    max_abs_diff: float
    eigenvalues: torch.Tensor  # [2] ascending
    kappa: float | None  # λ_max/λ_min (None if H is singular)


def linear_exercise(lam: float = 0.1, correlation: float = 0.5, seed: int = 0, n: int = 200) -> LinearExercise:
    """Seeded 2-D inputs x ~ N(μ, Σ), μ = (1, 2); autograd's H at a random w vs the formula.

    The Hessian of a quadratic is the same at every w; taking a random one shows autograd does not care.
    """
    mean = torch.tensor([1.0, 2.0], dtype=DTYPE)
    X = data.gaussian_2d(n, mean=mean.tolist(), scales=(1.0, 0.5), correlation=correlation, seed=seed)
    t = data.linear_targets(X, w_true=(1.0, -1.0), noise=0.1, seed=seed)
    E = surfaces.linear_regression(X, t, lam)
    w = torch.randn(2, generator=torch.Generator().manual_seed(seed + 7), dtype=DTYPE)
    H_auto = hessian.exact_reference(E, w)
    H_form = hessian.linear_model(X, lam)
    eig = torch.linalg.eigvalsh(H_form)
    s = hessian.spectrum_summary(eig)
    return LinearExercise(
        mean=mean,
        H_formula=H_form,
        H_autograd=H_auto,
        max_abs_diff=float((H_form - H_auto).abs().max()),
        eigenvalues=eig,
        kappa=s.condition_number,
    )


# --- "The Hessian is huge" ------------------------------------------------------------------------------

MAX_LAYER = 10**7
MAX_HVP_PARAMETERS = 5_000_000  # timing one HVP beyond this would use too much of a shared server


def parse_sizes(text: str) -> list[int]:
    """ "784-1000-1000-10" → [784, 1000, 1000, 10] (also accepts commas, spaces, x, →).

    Raises ValueError with a message fit to show to a student.
    """
    parts = [p for p in re.split(r"[\s,x×→>\-–]+", str(text).strip()) if p]
    if len(parts) < 2:
        raise ValueError(t("conditioning.size.errors.two"))
    if len(parts) > 50:
        raise ValueError(t("conditioning.size.errors.many"))
    sizes = []
    for p in parts:
        if not p.isdigit():
            raise ValueError(t("conditioning.size.errors.whole", part=p[:20]))
        n = int(p)
        if not 1 <= n <= MAX_LAYER:
            raise ValueError(t("conditioning.size.errors.range", limit=f"{MAX_LAYER:,}"))
        sizes.append(n)
    return sizes


@dataclass
class HessianSize:
    """What it would take to store H for a fully connected net with layer sizes ``sizes``."""

    sizes: list[int]
    n_parameters: int  # P = Σₗ (nₗ + 1)·nₗ₊₁
    entries: int  # P²
    bytes_float32: int  # 4·P²
    bytes_float64: int  # 8·P²
    bytes_hvp: int  # θ, v, ∇E and Hv in float32: 4 vectors of P floats (activations not counted)


def hessian_size(sizes: list[int]) -> HessianSize:
    P = models.n_parameters(sizes)
    return HessianSize(
        sizes=list(sizes),
        n_parameters=P,
        entries=P * P,
        bytes_float32=4 * P * P,
        bytes_float64=8 * P * P,
        bytes_hvp=4 * 4 * P,
    )


def size_table(architectures: list[list[int]]) -> pd.DataFrame:
    """One row per architecture: P, P², and H's memory in float32 beside the memory of one HVP."""
    rows = []
    for sizes in architectures:
        s = hessian_size(sizes)
        rows.append(
            {
                t("conditioning.size.table.layers"): "-".join(map(str, sizes)),
                t("conditioning.size.table.parameters"): f"{s.n_parameters:,}",
                t("conditioning.size.table.entries"): f"{s.entries:,}",
                t("conditioning.size.table.float32"): format_bytes(s.bytes_float32),
                t("conditioning.size.table.hvp"): format_bytes(s.bytes_hvp),
            }
        )
    return pd.DataFrame(rows)


def size_text(size: HessianSize, hvp_seconds: float | None) -> str:
    """The size of H in words, beside the measured cost of one Hessian-vector product."""
    text = t(
        "conditioning.size.head",
        parameters=f"{size.n_parameters:,}",
        entries=f"{size.entries:,}",
        bytes=format_bytes(size.bytes_float32),
    )
    if hvp_seconds is None:
        text += t("conditioning.size.too_large", limit=f"{MAX_HVP_PARAMETERS:,}")
    else:
        text += t(
            "conditioning.size.hvp",
            time=format_duration(hvp_seconds),
            memory=format_bytes(size.bytes_hvp),
            total=format_duration(hvp_seconds * size.n_parameters),
        )
    return text + t("conditioning.size.why")


def format_bytes(n: float) -> str:
    """Decimal (SI) units: 12_902_067_920_400 → '12.9 TB'."""
    for unit in ("B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"):
        if abs(n) < 1000 or unit == "YB":
            return f"{n:.3g} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1000
    return f"{n:.3g} YB"


def format_duration(seconds: float) -> str:
    for limit, unit, scale in (
        (1e-3, "µs", 1e6),
        (1, "ms", 1e3),
        (120, "s", 1),
        (7200, "min", 1 / 60),
        (172800, "h", 1 / 3600),
    ):
        if seconds < limit:
            return f"{seconds * scale:.3g} {unit}"
    if seconds < 2 * 365 * 86400:
        return t("conditioning.size.days", n=seconds / 86400)
    return t("conditioning.size.years", n=seconds / (365 * 86400))


def time_hvp(sizes: list[int], batch: int = 32, seed: int = 0, repeats: int = 3) -> float | None:
    """Seconds for one Hessian-vector product Hv (forward-over-reverse) of a float32 tanh MLP
    with layer sizes ``sizes`` on a seeded batch (MSE loss); the median of ``repeats`` runs.

    None when the net has more than ``MAX_HVP_PARAMETERS`` parameters. The parameters are
    drawn from a private generator, so nothing global (not even torch's RNG) is touched.
    """
    P = models.n_parameters(sizes)
    if P > MAX_HVP_PARAMETERS:
        return None
    gen = torch.Generator().manual_seed(seed)
    shapes = [(b, a) for a, b in itertools.pairwise(sizes)]
    theta = torch.cat(
        [
            torch.cat([torch.randn(b * a, generator=gen, dtype=torch.float32) / math.sqrt(a), torch.zeros(b)])
            for b, a in shapes
        ]
    )
    X = torch.randn(batch, sizes[0], generator=gen, dtype=torch.float32)
    Y = torch.randn(batch, sizes[-1], generator=gen, dtype=torch.float32)
    v = torch.randn(P, generator=gen, dtype=torch.float32)

    def E(th):
        h, start = X, 0
        for layer, (b, a) in enumerate(shapes):
            W = th[start : start + b * a].view(b, a)
            bias = th[start + b * a : start + b * a + b]
            start += b * a + b
            h = h @ W.T + bias
            if layer < len(shapes) - 1:
                h = torch.tanh(h)
        return (h - Y).pow(2).sum(-1).mean()

    f = torch.func.grad(E)
    times = []
    with hessian.FORWARD_AD_LOCK:  # forward-mode AD is not thread-safe (core/hessian.py)
        for _ in range(repeats + 1):  # the first call pays one-off set-up costs
            t0 = time.perf_counter()
            torch.func.jvp(f, (theta,), (v,))
            times.append(time.perf_counter() - t0)
    return float(np.median(times[1:]))


def _sub(i: int) -> str:
    return str(i).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


# --- "what to notice", with the live numbers -------------------------------------------------------------


def notice_quadratic(run: QuadraticRun, rule: str) -> list[str]:
    """Bullet points for the quadratic: slowest direction, the slide's claim checked, zig-zag, rotation."""
    a = run.alphas
    a_min, a_max, kappa, gamma = float(a.min()), float(a.max()), run.kappa, run.gamma
    rho = run.predicted_factors
    slow = int(torch.argmax(rho))
    out = []
    m = run.measured_factors[slow]
    measured = t("conditioning.notice_gd.measured", m=m) if m is not None else t("conditioning.notice_gd.unmeasurable")
    out.append(
        t(
            "conditioning.notice_gd.slowest",
            i=_sub(slow + 1),
            alpha=float(a[slow]),
            rho=float(rho[slow]),
            measured=measured,
            rho2=float(rho[slow]) ** 2,
        )
    )
    slide = abs(1 - 2 * 0.99 * a_min / a_max)
    if rule == "lecture":
        # |1 − 1.98/κ| > |1 − 1.98| = 0.98 exactly when κ > 99: only then is the flat direction the slowest
        if math.isclose(kappa, 1.0):
            out.append(t("conditioning.notice_gd.kappa_one"))
        elif kappa < 99:
            out.append(t("conditioning.notice_gd.not_slowest", slide=slide, kappa=kappa))
        else:
            out.append(t("conditioning.notice_gd.as_slide", slide=slide, kappa=kappa))
    best = (kappa - 1) / (kappa + 1)
    optimum = 1 / (a_min + a_max)
    out.append(t("conditioning.notice_gd.best", best=best, optimum=optimum, gamma=gamma, rate=float(rho.max())))
    steep = int(torch.argmax(a))
    if 1 - 2 * gamma * float(a[steep]) < 0:
        out.append(t("conditioning.notice_gd.zigzag", value=1 - 2 * gamma * a_max))
    lam = run.hessian_eigenvalues
    angle = math.degrees(run.surface.angle)
    rest = (
        t("conditioning.notice_gd.rotated", angle=angle) if abs(angle) > 1e-9 else t("conditioning.notice_gd.aligned")
    )
    out.append(
        t(
            "conditioning.notice_gd.hessian",
            eigenvalues=", ".join(f"{float(v):.4g}" for v in lam),
            kappa=float(lam.max() / lam.min()),
            rest=rest,
        )
    )
    return out


def notice_sweep(s: KappaSweep) -> str:
    """One sentence comparing the step counts at small and large κ."""
    pairs = [(k, m) for k, m in zip(s.kappas, s.measured) if m is not None]
    if not pairs:
        key = "none_diverged" if all(s.diverged) else "none"
        return t(f"conditioning.sweep.{key}", steps=s.steps_run)
    (k0, m0), (k1, m1) = pairs[0], pairs[-1]
    unit = t("conditioning.sweep.step") if m0 == 1 else t("conditioning.sweep.steps")
    gaps = [abs(m - th) for m, th in zip(s.measured, s.theory) if m is not None and th is not None]
    if not gaps:
        agree = t("conditioning.sweep.agree")
    elif max(gaps) == 0:
        agree = t("conditioning.sweep.agree_exactly")
    else:
        agree = t("conditioning.sweep.agree_within", gap=max(gaps))
    text = t("conditioning.sweep.needs", m0=m0, unit=unit, k0=k0, m1=m1, k1=k1, agree=agree)
    missing = [k for k, m in zip(s.kappas, s.measured) if m is None]
    if missing:
        text += t("conditioning.sweep.missing", kappa=min(missing), steps=s.steps_run)
    return text


def notice_mlp(r: MLPHessian) -> list[str]:
    """Bullet points for the MLP: definiteness, Lanczos agreement, the Gauss–Newton split over training."""
    s, g = r.summary, r.G_summary
    out = []
    if s.condition_number is None:
        out.append(
            t(
                "conditioning.notice_mlp.not_pd",
                negative=s.n_negative,
                near_zero=s.n_near_zero,
                n=s.n,
                lmax=s.lambda_max,
                lmin=s.lambda_min,
            )
        )
    else:
        out.append(t("conditioning.notice_mlp.pd", kappa=s.condition_number))
    lz = lanczos_table(r)
    if r.lanczos_method == "lanczos":
        out.append(t("conditioning.notice_mlp.lanczos", k=len(lz), hvps=r.lanczos_hvps, diff=lz["|difference|"].max()))
    else:
        out.append(t("conditioning.notice_mlp.exact", parameters=r.n_parameters))
    h = r.history
    first, last = h.iloc[0], h.iloc[-1]
    res = "‖H − G‖_F (residual part)"
    if len(h) > 1:
        out.append(
            t(
                "conditioning.notice_mlp.shrinks",
                loss0=first["loss E(θ)"],
                loss1=last["loss E(θ)"],
                res0=first[res],
                res1=last[res],
                share=100 * r.residual_share,
                min0=first["λ_min(H)"],
                min1=last["λ_min(H)"],
            )
        )
    else:
        out.append(t("conditioning.notice_mlp.at_init", res=first[res], norm=first["‖H‖_F"]))
    cond = g.condition_number
    if cond is None and g.positive_condition_number:
        rest = t("conditioning.notice_mlp.gn_ratio", ratio=g.positive_condition_number)
    elif cond:
        rest = t("conditioning.notice_mlp.gn_kappa", kappa=cond)
    else:
        rest = t("conditioning.notice_mlp.period")
    out.append(
        t(
            "conditioning.notice_mlp.gauss_newton",
            lmin=g.lambda_min,
            n=r.n_data,
            near_zero=g.n_near_zero,
            total=g.n,
            rest=rest,
        )
    )
    return out
