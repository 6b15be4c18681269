"""Batch normalization and skip connections in a deep MLP: four variants, one seed.

The lecture's claims, each turned into a measurement on the same data and the
same initial weights (``models.MLP`` draws the linear layers' weights from one
seed in the same order whatever the flags, so the four variants start from
identical Wₗ):

    plain            hₗ = act(Wₗhₗ₋₁ + bₗ)
    + batch norm     hₗ = act(BN(Wₗhₗ₋₁ + bₗ))
    + skip           hₗ = hₗ₋₁ + act(Wₗhₗ₋₁ + bₗ)          (layers 2 … L; layer 1 changes the width)
    + both           hₗ = hₗ₋₁ + act(BN(Wₗhₗ₋₁ + bₗ))

    BN(z)ⱼ = γⱼ (zⱼ − μⱼ)/√(σⱼ² + ε) + βⱼ,   μⱼ, σⱼ² the batch mean and (biased) variance of unit j

Batch norm's loss depends on the batch, so every function that evaluates a
Hessian or a slice takes ``mode``: "train" (μ, σ² of the batch, functions of
θ) or "eval" (μ, σ² frozen: the training set's statistics at the θ where the
Hessian or slice is taken, see ``calibrate_batchnorm``). Training is
full-batch GD in "train" mode. Nothing here touches streamlit or global state.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import pandas as pd
import torch
from torch import nn

from core import data, hessian, landscape, models
from core.i18n import t

DTYPE = torch.float64

# name -> (use_batchnorm, use_skip)
VARIANTS: dict[str, tuple[bool, bool]] = {
    "plain": (False, False),
    "+ batch norm": (True, False),
    "+ skip": (False, True),
    "+ both": (True, True),
}
MODES = ("train", "eval")
POINTS = {"trained": "after training", "initial": "at initialization"}
# The catalogue key of each variant's shown name (core/locales/*/batchnorm.toml [variants]).
VARIANT_KEYS = {"plain": "plain", "+ batch norm": "batchnorm", "+ skip": "skip", "+ both": "both"}
# The stability sweep: γ = 2⁻⁸ … 2¹, a factor 2 apart, SWEEP_STEPS GD steps each.
SWEEP_LRS = tuple(2.0**k for k in range(-8, 2))
SWEEP_STEPS = 25
# The slide's batch norm, for st.latex: batch mean and variance, normalize, scale and shift.
BN_LATEX = (
    r"\mu_j=\tfrac1N\textstyle\sum_n z_{nj},\quad \sigma_j^2=\tfrac1N\sum_n (z_{nj}-\mu_j)^2,\quad "
    r"\hat z_{nj}=\frac{z_{nj}-\mu_j}{\sqrt{\sigma_j^2+\epsilon}},\quad \tilde z_{nj}=\gamma_j\hat z_{nj}+\beta_j"
)
EXACT_MAX = 1000  # the exact Hessian [P, P] is formed when every variant has P ≤ this
PROBES = 8  # Hutchinson probes per layer for the block norms of larger nets
K_TOP = 5  # eigenvalues by Lanczos

Progress = Callable[[float, str], None]


def name(variant: str) -> str:
    """The variant's name as the reader sees it (the key of VARIANTS stays the identifier)."""
    return t(f"batchnorm.variants.{VARIANT_KEYS[variant]}")


def names(variants) -> list[str]:
    return [name(v) for v in variants]


def point_name(point: str) -> str:
    """ "after training" / "at initialization" in the reader's language (POINTS in English)."""
    return t(f"batchnorm.points.{point}")


def group_name(group: str) -> str:
    """A layer group ("layer 3", "output": ``layer_groups``) as the reader sees it."""
    if group == "output":
        return t("batchnorm.groups.output")
    return t("batchnorm.groups.layer", l=group.removeprefix("layer "))


def _tick(progress: Progress | None, fraction: float, text: str) -> None:
    if progress is not None:
        progress(min(max(fraction, 0.0), 1.0), text)


@dataclass(frozen=True)
class Setup:
    """Everything that defines the experiment (plain values, so it can key a cache)."""

    depth: int = 10  # hidden layers L
    width: int = 8  # units per hidden layer
    activation: str = "tanh"
    lr: float = 0.05  # GD step size γ
    steps: int = 100  # GD steps
    seed: int = 0  # data, weights and slice directions
    n: int = 64  # training points (one full batch)
    in_dim: int = 4


def dataset(setup: Setup) -> tuple[torch.Tensor, torch.Tensor]:
    """Regression targets of a fixed random tanh teacher: X [n, in_dim], y [n, 1]."""
    return data.teacher_regression(n=setup.n, in_dim=setup.in_dim, out_dim=1, seed=setup.seed)


def build(setup: Setup, variant: str) -> models.MLP:
    """The variant's MLP in_dim → L × width → 1, LeCun init N(0, 1/fan_in) from ``setup.seed``."""
    use_batchnorm, use_skip = VARIANTS[variant]
    return models.MLP(
        setup.in_dim,
        setup.width,
        setup.depth,
        1,
        activation=setup.activation,
        batchnorm=use_batchnorm,
        skip=use_skip,
        init_scale=1.0,
        seed=setup.seed,
    )


def with_theta(net: nn.Module, theta: torch.Tensor) -> nn.Module:
    """A copy of ``net`` whose parameters are θ (buffers copied unchanged)."""
    clone = copy.deepcopy(net)
    with torch.no_grad():
        torch.nn.utils.vector_to_parameters(theta.detach().to(DTYPE), clone.parameters())
    return clone


@torch.no_grad()
def calibrate_batchnorm(net: models.MLP, X: torch.Tensor) -> models.MLP:
    """A copy whose BN running statistics are the batch's μ and biased σ² at the current θ.

    Then "eval" mode computes the same outputs as "train" mode on this batch at
    this θ, and the two modes differ only in whether μ, σ² move when θ moves.
    (torch itself would store a running average with the unbiased σ²·N/(N−1);
    the exact batch values make the comparison clean.)
    """
    clone = copy.deepcopy(net)
    h = X.to(DTYPE)
    for block in clone.blocks:
        z = block.linear(h)
        if block.norm is not None:
            block.norm.running_mean.copy_(z.mean(0))
            block.norm.running_var.copy_(z.var(0, unbiased=False))
            block.norm.num_batches_tracked.fill_(1)
            z = nn.functional.batch_norm(
                z, None, None, block.norm.weight, block.norm.bias, training=True, eps=block.norm.eps
            )
        out = block.act(z)
        h = h + out if block.skip else out
    return clone


def mode_for(variant: str, mode: str) -> str:
    """The BN mode as far as ``variant`` can tell: without batch norm, "train" and "eval" give the
    same E(θ), so its Hessian and slices are the same and one result (one cache key) serves both."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    return mode if VARIANTS[variant][0] else "train"


def loss_fn(net: models.MLP, X: torch.Tensor, y: torch.Tensor, mode: str):
    """(E, θ): the MSE 1/N Σ(F(xₙ) − yₙ)² as a function of flat θ, BN in ``mode`` (module doc)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if mode == "eval":
        net = calibrate_batchnorm(net, X)
    return models.flat_loss(net, X, y, mode)


# --- training and its stability ----------------------------------------------------


@dataclass
class Run:
    """One variant trained by full-batch GD: θ₀, θ_T, E(θₜ) [T+1] (NaN after divergence)."""

    variant: str
    theta0: torch.Tensor
    theta: torch.Tensor
    losses: torch.Tensor
    diverged_at: int | None

    @property
    def final_loss(self) -> float:
        finite = self.losses[torch.isfinite(self.losses)]
        return float(finite[-1]) if finite.numel() else math.nan


def train_variant(setup: Setup, variant: str) -> Run:
    """Full-batch GD (BN in "train" mode) on one variant, from the seed's weights."""
    X, y = dataset(setup)
    net = build(setup, variant)
    res = models.train(net, X, y, lr=setup.lr, steps=setup.steps, mode="train")
    return Run(variant, models.flatten(net), res.theta, res.losses, res.diverged_at)


def train_variants(setup: Setup, progress: Progress | None = None) -> dict[str, Run]:
    """Train the four variants from the same seed with the same γ and number of steps."""
    runs = {}
    for i, variant in enumerate(VARIANTS):
        _tick(progress, i / len(VARIANTS), t("batchnorm.progress.train_one", v=name(variant), steps=setup.steps))
        runs[variant] = train_variant(setup, variant)
    _tick(progress, 1.0, t("batchnorm.progress.trained_all"))
    return runs


def architecture(setup: Setup) -> Setup:
    """The setup without γ and steps: what the initialization alone depends on (a cache key)."""
    return replace(setup, lr=0.0, steps=0)


def largest_stable_lr(
    E: hessian.LossFn,
    theta0: torch.Tensor,
    lrs=SWEEP_LRS,
    steps: int = SWEEP_STEPS,
    blowup: float = 1e3,
) -> tuple[float | None, torch.Tensor]:
    """The largest γ in ``lrs`` at which ``steps`` GD steps from θ₀ are stable.

    Stable: E stays finite and below blowup · E(θ₀) at every step, and ends below E(θ₀).
    All γ run at once (one vmapped gradient per step). Returns (largest stable γ or
    None, E(θ_steps)/E(θ₀) per γ, inf where unstable).

    On E(θ) = Σ αᵢθᵢ² the factor per step is (1 − 2γαᵢ), so this finds the largest
    grid γ below 1/α_max = 2/λ_max (tests/test_deepnets.py).
    """
    theta0 = theta0.detach().to(DTYPE)
    lr = torch.as_tensor(lrs, dtype=DTYPE)
    thetas = theta0.expand(len(lr), -1).clone()
    grad_value = torch.func.vmap(torch.func.grad_and_value(E))
    e0 = float(E(theta0))
    alive = torch.ones(len(lr), dtype=torch.bool)
    for _ in range(steps):
        g, loss = grad_value(thetas)
        alive &= torch.isfinite(loss) & (loss < blowup * e0) & torch.isfinite(g).all(1)
        # a row that failed restarts from θ₀ with step 0, so it never overflows its neighbours
        thetas = torch.where(alive[:, None], thetas - lr[:, None] * g, theta0)
    with torch.no_grad():
        loss = torch.func.vmap(E)(thetas)
    alive &= torch.isfinite(loss) & (loss < e0)
    ratio = torch.where(alive, loss / e0, torch.full_like(loss, math.inf))
    stable = [float(a) for a, ok in zip(lr, alive, strict=True) if ok]
    return (max(stable) if stable else None), ratio


@dataclass
class Stability:
    """Per variant: the largest stable γ of the sweep and λ_max of the Hessian at θ₀ (BN "train")."""

    stable_lr: dict[str, float | None]
    lambda_max0: dict[str, float]


def variant_stability(setup: Setup, variant: str) -> tuple[float | None, float]:
    """(largest stable γ of the sweep, λ_max(H(θ₀)) by Lanczos) for one variant; γ, steps unused."""
    X, y = dataset(setup)
    E, theta0 = models.flat_loss(build(setup, variant), X, y, "train")
    lr, _ = largest_stable_lr(E, theta0)
    return lr, float(hessian.top_eigenvalues(E, theta0, k=1, tol=1e-6)[0])


def stability(parts: dict[str, tuple[float | None, float]]) -> Stability:
    """Collect ``variant_stability`` results."""
    return Stability({v: p[0] for v, p in parts.items()}, {v: p[1] for v, p in parts.items()})


# --- activations and gradients ---------------------------------------------------------


@dataclass
class LayerStats:
    """Per hidden layer l = 1 … L, over the batch, of pre-activations zₗ (after BN when on).

    ``mean_rms`` = √(1/width Σⱼ μⱼ²), μⱼ the batch mean of unit j (0 when every unit is centred);
    ``std_rms``  = √(1/width Σⱼ σⱼ²), σⱼ its batch standard deviation.
    """

    mean_rms: torch.Tensor
    std_rms: torch.Tensor


@torch.no_grad()
def preactivation_stats(net: models.MLP, X: torch.Tensor, theta: torch.Tensor | None = None) -> LayerStats:
    """Batch statistics of every hidden layer's pre-activations, BN in "train" mode (batch μ, σ²)."""
    net = with_theta(net, theta) if theta is not None else net
    net = models._frozen_copy(net, "train")
    _, zs, _ = net.forward_with_activations(X)
    mean_rms = torch.stack([z.mean(0).pow(2).mean().sqrt() for z in zs])
    std_rms = torch.stack([z.var(0, unbiased=False).mean().sqrt() for z in zs])
    return LayerStats(mean_rms=mean_rms, std_rms=std_rms)


def weight_gradient_norms(net: models.MLP, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """‖∂E/∂Wₗ‖_F at the net's θ for the hidden layers l = 1 … L and the output layer: [L + 1].

    BN in "train" mode: the gradient that GD follows.
    """
    E, theta = models.flat_loss(net, X, y, "train")
    g = torch.func.grad(E)(theta)
    views = landscape.parameter_views(net, g)
    return torch.stack([v.norm() for name, v in views if name.endswith("linear.weight") or name == "out.weight"])


@dataclass
class Signals:
    """Pre-activation statistics at θ₀ and θ_T (None if GD diverged), weight gradients at θ₀."""

    initial: dict[str, LayerStats]
    trained: dict[str, LayerStats | None]
    grad_norms: dict[str, torch.Tensor]


def variant_signals(setup: Setup, run: Run) -> tuple[LayerStats, LayerStats | None, torch.Tensor]:
    """(pre-activation stats at θ₀, at θ_T or None if GD diverged, ‖∂E/∂Wₗ‖ at θ₀) of one variant."""
    X, y = dataset(setup)
    net = build(setup, run.variant)
    trained = preactivation_stats(net, X, run.theta) if _usable(run) else None
    return preactivation_stats(net, X), trained, weight_gradient_norms(net, X, y)


def signals(parts: dict[str, tuple[LayerStats, LayerStats | None, torch.Tensor]]) -> Signals:
    """Collect ``variant_signals`` results."""
    return Signals(*({v: p[i] for v, p in parts.items()} for i in range(3)))


# --- the Hessian, its spectrum and its layer blocks ------------------------------------------


def layer_groups(net: models.MLP) -> list[tuple[str, slice]]:
    """One group per layer: "layer l" = Wₗ, bₗ and, when on, BN's γₗ, βₗ; then "output".

    Batch norm's γ, β are merged into their layer on purpose: the claim is about
    interactions *between layers*. Kept apart, the within-layer coupling of Wₗ
    with γₗ would count as an interaction between groups, and the BN variants
    would be cut into twice as many groups as the others.
    """
    merged: list[tuple[str, int, int]] = []
    for name, s in models.layer_slices(net):
        label = "output" if name == "out" else f"layer {int(name.split('.')[1]) + 1}"
        if merged and merged[-1][0] == label:
            merged[-1] = (label, merged[-1][1], s.stop)
        else:
            merged.append((label, s.start, s.stop))
    return [(label, slice(a, b)) for label, a, b in merged]


def unstructured_share(slices: list[slice]) -> float:
    """1 − Σ_a (n_a/P)²: the off-block share of a Hessian whose entries all had the same size.

    The reference for "fewer interactions": a share below it means the mass sits
    in the diagonal blocks more than the block sizes alone would put it there.
    """
    sizes = torch.tensor([s.stop - s.start for s in slices], dtype=DTYPE)
    return float(1.0 - (sizes / sizes.sum()).pow(2).sum())


def block_norms_estimate(
    loss: hessian.LossFn, theta: torch.Tensor, slices: list[slice], probes: int = PROBES, seed: int = 0
) -> torch.Tensor:
    """Hutchinson estimate of ‖H_ab‖_F for every pair of groups, from HVPs only: [G, G].

    For v ~ N(0, I) supported on group b, E‖(Hv)_a‖² = tr(H_ab H_abᵀ) = ‖H_ab‖²_F, so
    ``probes`` products per group b give every row-block a at once (G · probes HVPs in
    all). Unbiased for the squared norms; the two estimates of ‖H_ab‖ = ‖H_ba‖ are averaged.
    """
    gen = torch.Generator().manual_seed(int(seed))
    P = theta.numel()
    sq = torch.zeros(len(slices), len(slices), dtype=DTYPE)
    for b, sb in enumerate(slices):
        V = torch.zeros(probes, P, dtype=DTYPE)
        V[:, sb] = torch.randn(probes, sb.stop - sb.start, generator=gen, dtype=DTYPE)
        HV = hessian.hvp(loss, theta, V)  # [probes, P]
        for a, sa in enumerate(slices):
            sq[a, b] = HV[:, sa].pow(2).sum(1).mean()
    return ((sq + sq.T) / 2).sqrt()


def off_block_share_from_norms(norms: torch.Tensor) -> float:
    """Σ_{a≠b} ‖H_ab‖²_F / Σ_{a,b} ‖H_ab‖²_F (equals ``hessian.off_block_share`` for exact norms)."""
    sq = norms.pow(2)
    total = float(sq.sum())
    return 0.0 if total == 0 else float(sq.sum() - sq.diagonal().sum()) / total


@dataclass
class HessianReport:
    """The Hessian of one variant at one θ in one BN mode.

    ``top``: the K_TOP largest eigenvalues by Lanczos (``n_hvp`` products);
    ``spectrum``: all eigenvalues, descending (exact H only); ``block_norms`` [G, G]:
    ‖H_ab‖_F between layer groups; ``off_block_share``: their off-diagonal share of
    ‖H‖²_F; ``method``: "exact" or "estimate".
    """

    n_params: int
    top: torch.Tensor
    n_hvp: int
    spectrum: torch.Tensor | None
    block_norms: torch.Tensor
    off_block_share: float
    unstructured_share: float
    groups: list[str]
    method: str


def hessian_report(
    net: models.MLP,
    X: torch.Tensor,
    y: torch.Tensor,
    theta: torch.Tensor,
    mode: str,
    exact: bool = True,
    k: int = K_TOP,
    probes: int = PROBES,
    seed: int = 0,
) -> HessianReport:
    """Top-k eigenvalues (Lanczos); with ``exact`` also the full H: spectrum and exact blocks.

    Without ``exact`` the block norms are the Hutchinson estimate (``block_norms_estimate``).
    """
    net = with_theta(net, theta)
    E, th = loss_fn(net, X, y, mode)
    groups = layer_groups(net)
    slices = [s for _, s in groups]
    top, info = hessian.top_eigenvalues(E, th, k=min(k, th.numel()), seed=seed, tol=1e-8, return_info=True)
    if exact:
        H = hessian.exact(E, th)
        spectrum = hessian.eigenvalues(H).flip(0)
        norms, share = hessian.block_norms(H, slices), hessian.off_block_share(H, slices)
    else:
        spectrum = None
        norms = block_norms_estimate(E, th, slices, probes=probes, seed=seed)
        share = off_block_share_from_norms(norms)
    return HessianReport(
        n_params=th.numel(),
        top=top,
        n_hvp=info.n_hvp,
        spectrum=spectrum,
        block_norms=norms,
        off_block_share=share,
        unstructured_share=unstructured_share(slices),
        groups=[name for name, _ in groups],
        method="exact" if exact else "estimate",
    )


def largest_n_params(setup: Setup) -> int:
    """P of the largest variant (the ones with batch norm: 2·width more per hidden layer)."""
    return max(models.flatten(build(setup, v)).numel() for v in VARIANTS)


def exact_feasible(setup: Setup) -> bool:
    """True when every variant has P ≤ EXACT_MAX, so all four get the exact Hessian (same method)."""
    return largest_n_params(setup) <= EXACT_MAX


@dataclass
class VariantHessian:
    """One variant: ``report`` at the chosen point, ``top_other`` (Lanczos) at the other point,
    ``skipped``: why something is missing (GD diverged, Lanczos failed), else None;
    ``diverged_at``: the step at which GD diverged, if that is why (``HessianStudy`` words it
    in the reader's language: this result is cached across languages)."""

    report: HessianReport | None
    top_other: torch.Tensor | None
    skipped: str | None
    diverged_at: int | None = None


def _usable(run: Run) -> bool:
    return run.diverged_at is None and bool(torch.isfinite(run.theta).all())


def _other(point: str) -> str:
    return "initial" if point == "trained" else "trained"


def variant_hessian(setup: Setup, run: Run, mode: str, point: str) -> VariantHessian:
    """The Hessian of one variant at ``point`` ("trained" or "initial"), BN in ``mode``.

    Exact (full spectrum, exact blocks) when ``exact_feasible(setup)``, else Lanczos plus
    estimated blocks; the top eigenvalues at the other point by Lanczos.
    """
    if point not in POINTS:
        raise ValueError(f"point must be one of {list(POINTS)}")
    X, y = dataset(setup)
    net = build(setup, run.variant)
    thetas = {"initial": run.theta0, "trained": run.theta if _usable(run) else None}
    report = top_other = skipped = diverged_at = None
    if thetas[point] is None or thetas[_other(point)] is None:
        skipped = f"GD diverged at step {run.diverged_at}: no trained θ"
        diverged_at = run.diverged_at
    try:
        if thetas[point] is not None:
            report = hessian_report(net, X, y, thetas[point], mode, exact=exact_feasible(setup))
        if thetas[_other(point)] is not None:
            E, th = loss_fn(with_theta(net, thetas[_other(point)]), X, y, mode)
            top_other = hessian.top_eigenvalues(E, th, k=min(K_TOP, th.numel()), tol=1e-8)
    except Exception as err:  # ARPACK may not converge on a pathological net: say so, do not crash
        skipped, diverged_at = f"{type(err).__name__}: {err}"[:200], None
    return VariantHessian(report, top_other, skipped, diverged_at)


@dataclass
class HessianStudy:
    """All four variants' Hessians at one point in one BN mode (collected ``variant_hessian``)."""

    mode: str
    point: str
    reports: dict[str, HessianReport] = field(default_factory=dict)
    top_other: dict[str, torch.Tensor] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def other(self) -> str:
        return _other(self.point)

    @classmethod
    def collect(cls, mode: str, point: str, parts: dict[str, VariantHessian]) -> HessianStudy:
        study = cls(mode=mode, point=point)
        for v, p in parts.items():
            if p.report is not None:
                study.reports[v] = p.report
            if p.top_other is not None:
                study.top_other[v] = p.top_other
            if p.skipped is not None:
                diverged = p.diverged_at is not None
                study.skipped[v] = t("batchnorm.notes.no_trained", step=p.diverged_at) if diverged else p.skipped
        return study


def hessian_study(setup: Setup, runs: dict[str, Run], mode: str, point: str) -> HessianStudy:
    """``variant_hessian`` for every variant, collected."""
    return HessianStudy.collect(mode, point, {v: variant_hessian(setup, r, mode, point) for v, r in runs.items()})


# --- loss landscape -----------------------------------------------------------------


@dataclass
class Slices:
    """f(α) = E(θ* + αd₁) on ``line_alphas`` and f(α, β) = E(θ* + αd₁ + βd₂) on ``alphas``²
    ([β, α]), along filter-normalized directions (``landscape``)."""

    line_alphas: torch.Tensor
    line: torch.Tensor
    alphas: torch.Tensor
    grid: torch.Tensor


def loss_slices(
    net: models.MLP,
    X: torch.Tensor,
    y: torch.Tensor,
    theta: torch.Tensor,
    mode: str,
    span: float = 1.0,
    n_line: int = 41,
    n_grid: int = 21,
    seed: int = 0,
) -> Slices:
    """Slices around θ* along two filter-normalized directions drawn from ``seed`` (Li et al. 2018)."""
    net = with_theta(net, theta)
    E, th = loss_fn(net, X, y, mode)
    d = landscape.filter_normalized_directions(net, th, k=2, seed=seed)
    a_line = torch.linspace(-span, span, n_line, dtype=DTYPE)
    a_grid = torch.linspace(-span, span, n_grid, dtype=DTYPE)
    return Slices(
        line_alphas=a_line,
        line=landscape.slice_1d(E, th, d[0], a_line),
        alphas=a_grid,
        grid=landscape.slice_2d(E, th, d[0], d[1], a_grid, a_grid),
    )


def variant_slices(setup: Setup, run: Run, mode: str, span: float) -> Slices | None:
    """Slices around the variant's trained θ, directions from ``setup.seed`` (None: GD diverged)."""
    if not _usable(run):
        return None
    X, y = dataset(setup)
    return loss_slices(build(setup, run.variant), X, y, run.theta, mode, span=span, seed=setup.seed)


# --- tables for the charts (pandas) ---------------------------------------------------


def _fmt(x: float | None, spec: str = ".3g") -> str:
    return "—" if x is None or not math.isfinite(x) else format(x, spec)


def training_frames(runs: dict[str, Run]) -> pd.DataFrame:
    """Loss curves [variant, step, loss] (NaN after divergence: the chart drops them)."""
    return pd.concat(
        [
            pd.DataFrame({"variant": name(v), "step": range(len(r.losses)), "loss": r.losses.numpy()})
            for v, r in runs.items()
        ],
        ignore_index=True,
    )


def training_table(runs: dict[str, Run], stab: Stability | None, setup: Setup) -> pd.DataFrame:
    rows = []
    for v, r in runs.items():
        row = {
            t("batchnorm.table.variant"): name(v),
            t("batchnorm.table.e0"): float(r.losses[0]),
            t("batchnorm.table.e_after", steps=setup.steps): r.final_loss,
            t("batchnorm.table.diverged_at"): "—" if r.diverged_at is None else str(r.diverged_at),
        }
        if stab is not None:
            lr = stab.stable_lr[v]
            row[t("batchnorm.table.stable_lr")] = t("batchnorm.table.none_stable") if lr is None else f"{lr:g}"
            lam = stab.lambda_max0[v]
            row[t("batchnorm.table.limit")] = 2.0 / lam if lam > 0 else math.inf
        rows.append(row)
    return pd.DataFrame(rows)


def divergence_notes(runs: dict[str, Run], stab: Stability, lr: float) -> list[str]:
    """One sentence per diverged variant, with the sweep's and the quadratic model's limits."""
    notes = []
    for v, r in runs.items():
        if r.diverged_at is None:
            continue
        best = stab.stable_lr[v]
        lam = stab.lambda_max0[v]
        limit = t("batchnorm.notes.limit_best", best=best) if best else t("batchnorm.notes.limit_none")
        words = dict(v=name(v), step=r.diverged_at, lr=lr, limit=limit)
        notes.append(
            t("batchnorm.notes.diverged", pred=2 / lam, **words)
            if lam > 0
            else t("batchnorm.notes.diverged_plain", **words)
        )
    return notes


def signal_frames(sig: Signals) -> tuple[pd.DataFrame, pd.DataFrame]:
    """([variant, layer, when, |μ| (rms), σ (rms)], [variant, layer, ‖∂E/∂W‖])."""
    rows = []
    for when, stats in (
        (t("batchnorm.signals.when_init"), sig.initial),
        (t("batchnorm.signals.when_trained"), sig.trained),
    ):
        for v, s in stats.items():
            if s is None:
                continue
            for layer, (m, sd) in enumerate(zip(s.mean_rms.tolist(), s.std_rms.tolist(), strict=True), start=1):
                rows.append({"variant": name(v), "layer": layer, "when": when, "mean": m, "std": sd})
    grads = [
        {"variant": name(v), "layer": layer, "gradient norm": g}
        for v, gs in sig.grad_norms.items()
        for layer, g in enumerate(gs.tolist(), start=1)
    ]
    return pd.DataFrame(rows), pd.DataFrame(grads)


def hessian_frames(study: HessianStudy) -> tuple[pd.DataFrame, pd.DataFrame]:
    """([variant, point, k, eigenvalue] Lanczos at both points, [variant, rank, eigenvalue] exact spectra)."""
    tops = []
    for point, tops_by_variant in (
        (study.point, {v: r.top for v, r in study.reports.items()}),
        (study.other, study.top_other),
    ):
        for v, top in tops_by_variant.items():
            tops += [
                {"variant": name(v), "point": point_name(point), "k": k, "eigenvalue": lam}
                for k, lam in enumerate(top.tolist(), 1)
            ]
    spectra = [
        pd.DataFrame({"variant": name(v), "rank": range(1, len(r.spectrum) + 1), "eigenvalue": r.spectrum.numpy()})
        for v, r in study.reports.items()
        if r.spectrum is not None
    ]
    spec = pd.concat(spectra, ignore_index=True) if spectra else pd.DataFrame(columns=["variant", "rank", "eigenvalue"])
    return pd.DataFrame(tops), spec


def hessian_table(study: HessianStudy) -> pd.DataFrame:
    rows = []
    for v, r in study.reports.items():
        s = hessian.spectrum_summary(r.spectrum if r.spectrum is not None else r.top)
        other = study.top_other.get(v)
        row = {
            t("batchnorm.table.variant"): name(v),
            t("batchnorm.table.parameters"): r.n_params,
            t("batchnorm.table.lambda_max", point=point_name(study.point)): float(r.top[0]),
            t("batchnorm.table.lambda_max", point=point_name(study.other)): (
                float(other[0]) if other is not None else math.nan
            ),
            t("batchnorm.table.hvps"): r.n_hvp,
        }
        if r.spectrum is not None:
            row[t("batchnorm.table.lanczos_error")] = float((r.top - r.spectrum[: len(r.top)]).abs().max())
            row[t("batchnorm.table.negative")] = s.n_negative
            row[t("batchnorm.table.near_zero")] = s.n_near_zero
        rows.append(row)
    return pd.DataFrame(rows)


def short_group(name: str) -> str:
    """Axis label of a layer group: "layer 3" → "3", "output" → "out" (in the reader's language)."""
    return t("batchnorm.groups.out") if name == "output" else name.removeprefix("layer ")


def block_frames(study: HessianStudy) -> tuple[dict[str, pd.DataFrame], pd.DataFrame, list[str]]:
    """Per variant [row, col, ‖H_ab‖_F, relative] (relative = ‖H_ab‖/max_ab ‖H_ab‖), the share table
    [variant, off-block share, no-structure reference, blocks], and the group labels in order."""
    cells, shares, order = {}, [], []
    for v, r in study.reports.items():
        n = r.block_norms
        rel = n / n.max() if float(n.max()) > 0 else n
        order = [short_group(g) for g in r.groups]
        cells[v] = pd.DataFrame(
            [
                {"row": order[a], "col": order[b], "‖H_ab‖_F": float(n[a, b]), "relative": float(rel[a, b])}
                for a in range(len(order))
                for b in range(len(order))
            ]
        )
        exact = r.method == "exact"
        shares.append(
            {
                t("batchnorm.table.variant"): name(v),
                t("batchnorm.table.off_block"): r.off_block_share,
                t("batchnorm.table.reference"): r.unstructured_share,
                t("batchnorm.table.block_norms"): (
                    t("batchnorm.table.exact") if exact else t("batchnorm.table.estimated", probes=PROBES)
                ),
            }
        )
    return cells, pd.DataFrame(shares), order


def landscape_frames(slices: dict[str, Slices | None]) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """([variant, α, loss] 1-D slices, {variant: [α, β, loss]} 2-D slices)."""
    lines, grids = [], {}
    for v, s in slices.items():
        if s is None:
            continue
        lines.append(pd.DataFrame({"variant": name(v), "α": s.line_alphas.numpy(), "loss": s.line.numpy()}))
        B, A = torch.meshgrid(s.alphas, s.alphas, indexing="ij")
        grids[v] = pd.DataFrame({"α": A.reshape(-1).numpy(), "β": B.reshape(-1).numpy(), "loss": s.grid.reshape(-1)})
    line = pd.concat(lines, ignore_index=True) if lines else pd.DataFrame(columns=["variant", "α", "loss"])
    return line, grids


# --- what to notice (markdown with the live numbers) -------------------------------------


def _listing(pairs) -> str:
    """ "plain 0.0185, + batch norm 0.00756": (variant, text) pairs with the variants' shown names."""
    return t("batchnorm.sep").join(f"{name(v)} {x}" for v, x in pairs)


def notice_training(runs: dict[str, Run], stab: Stability, setup: Setup) -> str:
    finals = {v: r.final_loss for v, r in runs.items()}
    ok = {v: e for v, e in finals.items() if runs[v].diverged_at is None}
    best = min(ok, key=ok.get) if ok else None
    lrs = stab.stable_lr
    pred = {v: 2 / lam for v, lam in stab.lambda_max0.items() if lam > 0}
    outcome = t("batchnorm.training.lowest", best=name(best)) if best else t("batchnorm.training.all_diverged")
    finals_text = _listing((v, _fmt(e)) for v, e in finals.items())
    lines = [
        "- " + t("batchnorm.training.after", steps=setup.steps, lr=setup.lr, finals=finals_text, outcome=outcome),
        "- "
        + t(
            "batchnorm.training.sweep",
            lrs=_listing((v, _fmt(lr, "g")) for v, lr in lrs.items()),
            preds=_listing((v, _fmt(p)) for v, p in pred.items()),
        ),
        "- "
        + t(
            "batchnorm.training.initial",
            plain=_fmt(float(runs["plain"].losses[0])),
            skip=_fmt(float(runs["+ skip"].losses[0])),
        ),
    ]
    over = [
        v
        for v, r in runs.items()
        if r.diverged_at is None and stab.lambda_max0[v] > 0 and setup.lr > 2 / stab.lambda_max0[v]
    ]
    if over:
        sep = t("batchnorm.sep")
        peaks = sep.join(
            t("batchnorm.training.peak", v=name(v), peak=float(runs[v].losses.nan_to_num(0).max())) for v in over
        )
        lines.append("- " + t("batchnorm.training.over", lr=setup.lr, over=sep.join(names(over)), peaks=peaks))
    if lrs["+ batch norm"] and lrs["plain"]:
        r = lrs["+ batch norm"] / lrs["plain"]
        lines.append("- " + t("batchnorm.training.bn_larger" if r > 1 else "batchnorm.training.bn_not_larger", r=r))
    return "\n".join(lines)


def notice_signals(sig: Signals, depth: int) -> str:
    init = sig.initial
    bn_max = max(float(init[v].mean_rms.max()) for v in ("+ batch norm", "+ both"))
    plain_last, skip_last = float(init["plain"].mean_rms[-1]), float(init["+ skip"].mean_rms[-1])
    g = {v: float(gs[0]) for v, gs in sig.grad_norms.items()}
    ratio = g["+ skip"] / g["plain"] if g["plain"] > 0 else math.inf
    spread = {v: float(gs.max() / gs.min()) if float(gs.min()) > 0 else math.inf for v, gs in sig.grad_norms.items()}
    tr = sig.trained.get("+ batch norm")
    trained = t("batchnorm.signals.trained", mu=float(tr.mean_rms.max())) if tr is not None else ""
    if ratio > 1:
        key = "batchnorm.signals.keeps_vanishing" if ratio >= 10 else "batchnorm.signals.keeps_shrinking"
        verdict = t(key, depth=depth)
    else:
        verdict = t("batchnorm.signals.not_larger")
    sd = {v: float(init[v].std_rms[-1]) for v in ("plain", "+ skip")}
    return "\n".join(
        [
            "- " + t("batchnorm.signals.centred", mu=bn_max, trained=trained),
            "- "
            + t(
                "batchnorm.signals.without",
                depth=depth,
                plain_mu=plain_last,
                skip_mu=skip_last,
                plain_sd=sd["plain"],
                skip_sd=sd["+ skip"],
            ),
            "- "
            + t(
                "batchnorm.signals.first_layer",
                plain=g["plain"],
                skip=g["+ skip"],
                ratio=ratio,
                bn=g["+ batch norm"],
                both=g["+ both"],
                verdict=verdict,
            ),
            "- " + t("batchnorm.signals.spread", spread=_listing((v, _fmt(x)) for v, x in spread.items())),
        ]
    )


def notice_hessian(study: HessianStudy) -> str:
    lines = []
    other_point = point_name(study.other)
    for v, r in study.reports.items():
        other = study.top_other.get(v)
        change = (
            t("batchnorm.hessian.change", lam=float(other[0]), point=other_point)
            if other is not None
            else t("batchnorm.hessian.change_none", point=other_point)
        )
        extra = ""
        if r.spectrum is not None:
            s = hessian.spectrum_summary(r.spectrum)
            extra = t("batchnorm.hessian.extra", neg=s.n_negative, zero=s.n_near_zero, n=s.n)
        lam = float(r.top[0])
        line = t(
            "batchnorm.hessian.line", v=name(v), lam=lam, point=point_name(study.point), change=change, extra=extra
        )
        lines.append("- " + line)
    if any(r.spectrum is not None for r in study.reports.values()):
        err = max(float((r.top - r.spectrum[: len(r.top)]).abs().max()) for r in study.reports.values())
        lines.append("- " + t("batchnorm.hessian.lanczos", err=err))
    if study.mode == "train" and "+ batch norm" in study.reports:
        lines.append("- " + t("batchnorm.hessian.train_mode"))
    return "\n".join(lines)


def interaction_verdict(study: HessianStudy) -> tuple[str, bool | None]:
    """A sentence on the slide's claim for the current setting, and whether it is supported."""
    shares = {v: r.off_block_share for v, r in study.reports.items()}
    if "plain" not in shares or len(shares) < 2:
        return t("batchnorm.interactions.not_enough"), None
    base = shares["plain"]
    lower = [v for v in shares if v != "plain" and shares[v] < base]
    higher = [v for v in shares if v != "plain" and shares[v] >= base]
    words = dict(
        where=t("batchnorm.interactions.where", point=point_name(study.point), mode=study.mode),
        listing=_listing((v, f"{s:.3f}") for v, s in shares.items()),
    )
    if not higher:
        drop = min(base - shares[v] for v in lower)
        weak = t("batchnorm.interactions.weak", drop=drop) if drop < 0.05 else ""
        return t("batchnorm.interactions.supported", weak=weak, **words), True
    if not lower:
        return t("batchnorm.interactions.unsupported", **words), False
    sep = t("batchnorm.sep")
    text = t("batchnorm.interactions.partly", lower=sep.join(names(lower)), higher=sep.join(names(higher)), **words)
    return text, None


def notice_interactions(study: HessianStudy) -> str:
    lines = []
    for v, r in study.reports.items():
        n = r.block_norms.clone()
        n.fill_diagonal_(0.0)
        a, b = divmod(int(n.argmax()), n.shape[1])
        line = t(
            "batchnorm.interactions.line",
            v=name(v),
            off=100 * r.off_block_share,
            ref=100 * r.unstructured_share,
            a=group_name(r.groups[a]),
            b=group_name(r.groups[b]),
            ratio=float(n[a, b] / r.block_norms.max()),
        )
        lines.append("- " + line)
    dominated = {
        v: (r.groups[int(d.argmax())], float(d.max()))
        for v, r in study.reports.items()
        if float((d := r.block_norms.diagonal().pow(2) / r.block_norms.pow(2).sum()).max()) > 0.5
    }
    if dominated:
        items = t("batchnorm.sep").join(
            t("batchnorm.interactions.caution_item", v=name(v), g=group_name(g), x=100 * x)
            for v, (g, x) in dominated.items()
        )
        lines.append("- " + t("batchnorm.interactions.caution", items=items))
    if any(r.method != "exact" for r in study.reports.values()):
        lines.append("- " + t("batchnorm.interactions.estimates", probes=PROBES))
    return "\n".join(lines)


def loss_range(grids: dict[str, pd.DataFrame]) -> tuple[float, float]:
    """(smallest positive, largest) finite loss over all slices: one colour scale for every variant."""
    values = pd.concat([g["loss"] for g in grids.values()]) if grids else pd.Series(dtype=float)
    values = values[(values > 0) & values.apply(math.isfinite)]
    if values.empty:
        return 1e-3, 1.0
    lo, hi = float(values.min()), float(values.max())
    return lo, hi if hi > lo else lo * 10


def notice_landscape(slices: dict[str, Slices | None], span: float) -> str:
    lines = []
    for v, s in slices.items():
        if s is None:
            continue
        centre = float(s.grid[len(s.alphas) // 2, len(s.alphas) // 2])
        rise = float(s.grid.max()) / centre if centre > 0 else math.inf
        second = s.line[2:] - 2 * s.line[1:-1] + s.line[:-2]  # discrete curvature along d₁
        convex = bool((second >= -1e-12 * s.line.abs().max()).all())
        words = t("batchnorm.landscape.convex" if convex else "batchnorm.landscape.not_convex")
        lines.append("- " + t("batchnorm.landscape.line", v=name(v), e=centre, rise=rise, span=span, convex=words))
    lines.append("- " + t("batchnorm.landscape.directions"))
    return "\n".join(lines)
