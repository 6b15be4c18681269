"""Normalization, non-linearities and initialization scale, seen through the Hessian.

Four experiments of the lecture's "Improving conditioning" sections:

1. Data normalization (LeCun et al. '98). For the linear model
   E(w) = 1/N Σ(wᵀxₙ − tₙ)² + λ‖w‖² the Hessian is
   H = 2E[xxᵀ] + 2λI = 2(Σ + μμᵀ + λI): an offset mean adds the rank-one μμᵀ,
   correlation and unequal scales spread Σ's eigenvalues. Centering removes
   μμᵀ, standardizing equalizes the diagonal, whitening makes Σ = I (κ = 1).
2. Non-linearities. Each layer's weights see the previous layer's outputs as
   their "data", so a non-centred activation (sigmoid, mean ≈ 0.5) puts a μμᵀ
   term into every higher layer's Hessian block. tanh is centred at
   initialization but can drift off-centre while training.
3. Initialization scale. θ ~ N(0, c/fan_in) keeps Var(z) of a linear layer
   equal to c · Var(input); c = 1 (LeCun) preserves it through linear layers,
   c = 2 (He) through ReLU layers (which halve the second moment).
4. Block-diagonal Hessian. The Gauss–Newton block of neuron k (incoming
   weights and bias) is [G_k]_{jj'} = 2E[a_j a_j' δ_k²] (MSE, one output),
   a = the neuron's inputs with a constant 1 for the bias, δ_k = ∂F/∂z_k.

Everything is float64 and seeded; no function touches global state.
"""

from __future__ import annotations

import copy
import itertools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from core import data, hessian, models, surfaces
from core.i18n import t as tr  # not `t`: the targets and the step are called t here

DTYPE = torch.float64

# --- 1. data normalization (linear model) -------------------------------------------------

W_TRUE = (1.0, -2.0)  # teacher weights of the 2-D regression targets
NOISE = 0.1  # target noise σ
LR_RULES = {
    "optimal": "γ = 2/(λ_max + λ_min)",
    "lecture": "γ = 0.99/α_max = 1.98/λ_max",
}


def best_lr(eigenvalues: torch.Tensor, rule: str = "optimal") -> float:
    """The constant step γ for GD on a quadratic with Hessian eigenvalues λᵢ > 0.

    Each eigen-coordinate is multiplied by (1 − γλᵢ) per step; GD is stable iff γ < 2/λ_max.
    "optimal": γ* = 2/(λ_max + λ_min) minimizes maxᵢ|1 − γλᵢ| = (κ−1)/(κ+1).
    "lecture": γ = 0.99/α_max for E = Σαᵢuᵢ² (λᵢ = 2αᵢ), i.e. 1.98/λ_max; close
    to the edge of stability, so its fastest direction oscillates with factor ≈ −0.98.

    >>> best_lr(torch.tensor([1.0, 3.0]))
    0.5
    """
    lam_min, lam_max = float(eigenvalues.min()), float(eigenvalues.max())
    if rule == "optimal":
        return 2.0 / (lam_max + lam_min)
    if rule == "lecture":
        return 1.98 / lam_max
    raise ValueError(f"rule must be one of {list(LR_RULES)}, got {rule!r}")


def gd_quadratic(A: torch.Tensor, c: torch.Tensor, lr, steps: int, blowup: float = 1e12):
    """GD on E(w) = wᵀAw − 2cᵀw + const, batched over R problems at once.

    ∇E = 2(Aw − c); wₜ₊₁ = wₜ − γ_r ∇E(wₜ) from w₀ = 0. A [R, P, P], c [R, P], lr [R].
    Returns (w [T+1, R, P], diverged_at [R] of int | None). A run whose ‖w‖ stops
    being finite or exceeds ``blowup`` is frozen (NaN afterwards).
    """
    A, c = torch.as_tensor(A, dtype=DTYPE), torch.as_tensor(c, dtype=DTYPE)
    lr = torch.as_tensor(lr, dtype=DTYPE).reshape(-1, 1)
    w = torch.zeros_like(c)
    ws = torch.full((steps + 1, *c.shape), float("nan"), dtype=DTYPE)
    ws[0] = w
    alive = torch.ones(c.shape[0], dtype=torch.bool)
    diverged: list[int | None] = [None] * c.shape[0]
    for t in range(1, steps + 1):
        w = w - lr * 2.0 * (torch.einsum("rpq,rq->rp", A, w) - c)
        bad = alive & ~(torch.isfinite(w).all(-1) & (w.norm(dim=-1) < blowup))
        for r in torch.nonzero(bad).flatten().tolist():
            diverged[r] = t
        alive &= ~bad
        if not alive.any():
            break
        w = torch.where(alive[:, None], w, 0.0)
        ws[t] = torch.where(alive[:, None], w, float("nan"))
    return ws, diverged


def covariance_ellipse(mean: torch.Tensor, cov: torch.Tensor, k: float = 2.0, n: int = 72) -> torch.Tensor:
    """Points [n+1, 2] on the ellipse {μ + k Σ^(1/2) u : ‖u‖ = 1} (k standard deviations), closed."""
    evals, evecs = torch.linalg.eigh(torch.as_tensor(cov, dtype=DTYPE))
    a = torch.linspace(0, 2 * math.pi, n + 1, dtype=DTYPE)
    u = torch.stack([torch.cos(a), torch.sin(a)], 1)
    return torch.as_tensor(mean, dtype=DTYPE) + k * (u * evals.clamp(min=0).sqrt()) @ evecs.T


@dataclass
class Preprocessed:
    """One preprocessing of the 2-D data and plain GD on the linear model it feeds.

    H = 2/N XᵀX + 2λI (per unit of E per unit of w²); ``losses`` are E(wₜ),
    ``excess`` = E(wₜ) − E(w*) and ``steps_to_tol`` the first t with
    excess ≤ tol · excess₀ (None if not within the steps run).
    """

    method: str
    X: torch.Tensor  # [N, 2]
    mean: torch.Tensor  # [2]
    cov: torch.Tensor  # [2, 2]
    H: torch.Tensor  # [2, 2]
    eigenvalues: torch.Tensor  # [2], ascending
    kappa: float
    lr: float
    losses: torch.Tensor  # [T+1]
    excess: torch.Tensor  # [T+1]
    loss_star: float
    steps_to_tol: int | None
    diverged_at: int | None

    @property
    def mean_share(self) -> float:
        """μᵀμ / tr E[xxᵀ]: the share of the second moment that is the mean's rank-one μμᵀ."""
        m2 = float(self.mean @ self.mean)
        return m2 / (m2 + float(self.cov.trace()))


@dataclass
class NormalizationStudy:
    raw: torch.Tensor  # [N, 2]
    t: torch.Tensor  # [N]
    lam: float
    tol: float
    lr_rule: str
    results: dict[str, Preprocessed]


def preprocessing_study(
    n: int = 200,
    mean=(3.0, 3.0),
    scales=(1.0, 0.5),
    correlation: float = 0.8,
    lam: float = 0.01,
    steps: int = 500,
    tol: float = 1e-6,
    lr_rule: str = "optimal",
    seed: int = 0,
) -> NormalizationStudy:
    """The four preprocessings of one seeded 2-D data set, each with GD at its own γ.

    Targets t = xᵀw_true + ε are drawn once from the raw inputs and shared by all
    four (a linear model without bias; each preprocessing has its own optimum w*).
    """
    raw = data.gaussian_2d(n, mean=mean, scales=scales, correlation=correlation, seed=seed)
    t = data.linear_targets(raw, W_TRUE, noise=NOISE, seed=seed)
    prepared = []
    for method in data.METHODS:
        X = data.normalize(raw, method)
        H = hessian.linear_model(X, lam)
        evals = torch.linalg.eigvalsh(H)
        prepared.append((method, X, H, evals, best_lr(evals, lr_rule)))
    # H = 2A with A = XᵀX/N + λI, and c = Xᵀt/N, so E(w) = wᵀAw − 2cᵀw + mean(t²).
    A = torch.stack([H / 2 for _, _, H, _, _ in prepared])
    c = torch.stack([X.T @ t / X.shape[0] for _, X, _, _, _ in prepared])
    ws, diverged = gd_quadratic(A, c, [p[4] for p in prepared], steps)
    results = {}
    for r, (method, X, H, evals, lr) in enumerate(prepared):
        E = surfaces.linear_regression(X, t, lam)
        losses = E(ws[:, r])  # NaN rows stay NaN
        loss_star = float(E(E.minimizer()))
        excess = (losses - loss_star).clamp(min=0.0)
        rel = excess / excess[0] if float(excess[0]) > 0 else excess
        results[method] = Preprocessed(
            method=method,
            X=X,
            mean=X.mean(0),
            cov=data.covariance(X),
            H=H,
            eigenvalues=evals,
            kappa=float(evals[-1] / evals[0]),
            lr=lr,
            losses=losses,
            excess=excess,
            loss_star=loss_star,
            steps_to_tol=steps_to_tolerance(rel, tol),
            diverged_at=diverged[r],
        )
    return NormalizationStudy(raw=raw, t=t, lam=lam, tol=tol, lr_rule=lr_rule, results=results)


def steps_to_tolerance(values: torch.Tensor, tol: float) -> int | None:
    """First t with values[t] ≤ tol (NaN never counts)."""
    hit = torch.nonzero(values <= tol).flatten()
    return int(hit[0]) if len(hit) else None


@dataclass
class DimensionStudy:
    d: int
    n: int
    correlation: float  # as used (clamped so the equicorrelation matrix is positive definite)
    kappas: dict[str, float]


def dimension_study(
    d: int = 10, offset: float = 3.0, scale: float = 0.5, correlation: float = 0.8, lam: float = 0.01, seed: int = 0
) -> DimensionStudy:
    """κ(H) of the d-dimensional linear model for each preprocessing.

    x ~ N(μ, D R D): μ = offset · (1, …, 1), D = diag of scales log-spaced from 1 to
    ``scale``, R the equicorrelation matrix (1 on the diagonal, ρ elsewhere), which
    is positive definite iff −1/(d−1) < ρ < 1; ρ is clamped into that range.
    N = max(200, 20d) samples.
    """
    d = int(d)
    rho_min = -1.0 / (d - 1) + 0.05 if d > 1 else -0.95
    rho = float(min(max(correlation, rho_min), 0.95))
    n = max(200, 20 * d)
    s = torch.logspace(0.0, math.log10(scale), d, dtype=DTYPE)
    R = torch.full((d, d), rho, dtype=DTYPE).fill_diagonal_(1.0)
    L = torch.linalg.cholesky(s[:, None] * R * s[None, :])
    z = torch.randn(n, d, generator=torch.Generator().manual_seed(int(seed)), dtype=DTYPE)
    raw = z @ L.T + offset
    kappas = {}
    for method in data.METHODS:
        evals = torch.linalg.eigvalsh(hessian.linear_model(data.normalize(raw, method), lam))
        kappas[method] = float(evals[-1] / evals[0])
    return DimensionStudy(d=d, n=n, correlation=rho, kappas=kappas)


# --- 2. non-linearities in a small MLP -----------------------------------------------------

COMPARED = ("sigmoid", "tanh", "relu", "leaky_relu", "softplus", "gelu")
TASKS = ("teacher", "skewed targets", "sparse inputs")
IN_DIM = 8
N_SAMPLES = 128
EIG_RTOL = 1e-12  # eigenvalues below this · λ_max count as zero (float64 resolves far below)


def task_data(task: str = "teacher", n: int = N_SAMPLES, in_dim: int = IN_DIM, seed: int = 0):
    """(X [n, in_dim], y [n, 1]) for the MLP experiments.

    "teacher": x ~ N(0, I), y = tanh(xA)b + noise (centred inputs and targets).
    "skewed targets": x ~ N(0, I), y = 2·max(0, xᵀa): half the targets exactly 0, the rest positive.
    "sparse inputs": x = 2·max(0, z − 0.5), z ~ N(0, I): ≈ 70 % zeros, all ≥ 0 (mean ≈ 0.4), teacher targets.
    """
    g = torch.Generator().manual_seed(int(seed))
    if task == "teacher":
        return data.teacher_regression(n=n, in_dim=in_dim, out_dim=1, seed=seed)
    z = torch.randn(n, in_dim, generator=g, dtype=DTYPE)
    if task == "skewed targets":
        a = torch.randn(in_dim, generator=g, dtype=DTYPE) / math.sqrt(in_dim)
        return z, 2.0 * torch.relu(z @ a)[:, None]
    if task == "sparse inputs":
        X = 2.0 * torch.relu(z - 0.5)
        A = torch.randn(in_dim, 8, generator=g, dtype=DTYPE) / math.sqrt(in_dim)
        b = torch.randn(8, 1, generator=g, dtype=DTYPE) / math.sqrt(8)
        return X, torch.tanh(X @ A) @ b
    raise ValueError(f"task must be one of {TASKS}, got {task!r}")


def layer_inputs(net: models.MLP, X: torch.Tensor) -> list[torch.Tensor]:
    """The inputs each parameter layer sees: [x, h₁, …, h_L] (the last feeds the output layer)."""
    with torch.no_grad():
        _, _, hs = net.forward_with_activations(X)
    return [X, *hs]


def second_moment(a: torch.Tensor) -> torch.Tensor:
    """2E[â âᵀ] with â = (a, 1): the output layer's exact Hessian block for MSE and one output."""
    a_hat = torch.cat([a, torch.ones(a.shape[0], 1, dtype=a.dtype)], 1)
    return 2.0 * a_hat.T @ a_hat / a.shape[0]


def input_kappa(a: torch.Tensor) -> float:
    """κ(2E[â âᵀ]) = λ_max/λ_min, inf when singular at EIG_RTOL."""
    k = hessian.spectrum_summary(torch.linalg.eigvalsh(second_moment(a)), rtol=EIG_RTOL).condition_number
    return math.inf if k is None else k


def mean_share(a: torch.Tensor) -> float:
    """‖E[a]‖² / E[‖a‖²]: the share of the second moment E[aaᵀ] (its trace) carried by the mean's μμᵀ."""
    total = float(a.pow(2).sum(1).mean())
    return float(a.mean(0).pow(2).sum()) / total if total > 0 else 0.0


@dataclass
class LayerReport:
    """One parameter layer (weights + bias) and the data it sees at initialization.

    ``input_mean``/``input_std``: mean and standard deviation of all entries of the
    layer's inputs. ``lambda_max``: the largest eigenvalue of the exact Hessian's block
    of this layer. ``kappa``: λ_max/λ_min of the Gauss–Newton block of this layer
    (positive semi-definite; None when singular at EIG_RTOL).
    """

    name: str
    input_mean: float
    input_std: float
    lambda_max: float
    kappa: float | None


@dataclass
class TrainStats:
    """Full-batch GD with per-step statistics of the hidden layers.

    losses [T+1]; unit_mean_rms [T+1, L] = ‖E_n[h_l]‖/√width (how far the layer's
    units are off-centre on average); layer_mean [T+1, L] = mean of all entries of h_l.
    NaN after ``diverged_at``. ``kappa_start``/``kappa_end``: the condition number of
    2E[â âᵀ], â = (a, 1), for the inputs a of every parameter layer (x, h₁, …, h_L):
    for the output layer this is exactly its Hessian block, for hidden layers the
    conditioning of the "data" the layer's weights see.
    """

    losses: torch.Tensor
    unit_mean_rms: torch.Tensor
    layer_mean: torch.Tensor
    diverged_at: int | None
    kappa_start: list[float]  # per parameter layer: κ(2E[â âᵀ]) of its inputs at step 0
    kappa_end: list[float]  # … at the last step run
    mean_share_start: list[float]  # per parameter layer: ‖E[a]‖² / E[‖a‖²] of its inputs at step 0
    mean_share_end: list[float]  # … at the last step run


@dataclass
class ActivationReport:
    activation: str
    layers: list[LayerReport]
    spectrum: hessian.SpectrumSummary  # the full exact Hessian at initialization
    hidden_mean: list[float]  # per hidden layer: mean of its outputs
    hidden_std: list[float]  # per hidden layer: standard deviation of its outputs
    lr: float
    train: TrainStats


def layer_names(depth: int) -> list[str]:
    return [f"layer {i + 1}" for i in range(depth)] + ["output"]


def layer_label(name: str) -> str:
    """The shown name of a layer name of ``layer_names`` ("layer 2" -> "layer 2" / "第 2 层")."""
    if name == "output":
        return tr("normalization.layers.output")
    return tr("normalization.layers.hidden", i=int(name.split()[-1]))


def method_name(method: str) -> str:
    """The shown name of a preprocessing of ``data.METHODS`` (none, center, standardize, whiten)."""
    return tr(f"normalization.methods.{method}")


def activation_name(activation: str) -> str:
    """The shown name of an activation: its own name, except "linear" (a word, not a name)."""
    return tr("normalization.init.linear") if activation == "linear" else activation


def layer_reports(net: models.MLP, X: torch.Tensor, y: torch.Tensor):
    """(per-layer reports, full-Hessian summary) at the net's current parameters."""
    E, theta = models.flat_loss(net, X, y)
    H = hessian.exact(E, theta)
    G = hessian.gauss_newton(net, X, y, theta)
    inputs = layer_inputs(net, X)
    reports = []
    for name, (_, s), a in zip(layer_names(net.config["depth"]), models.layer_slices(net), inputs, strict=True):
        g = hessian.spectrum_summary(torch.linalg.eigvalsh(G[s, s]), rtol=EIG_RTOL)
        reports.append(
            LayerReport(
                name=name,
                input_mean=float(a.mean()),
                input_std=float(a.std(unbiased=False)),
                lambda_max=float(torch.linalg.eigvalsh(H[s, s])[-1]),
                kappa=g.condition_number,
            )
        )
    return reports, hessian.spectrum_summary(hessian.eigenvalues(H))


def train_with_stats(
    net: models.MLP, X: torch.Tensor, y: torch.Tensor, lr: float, steps: int, blowup: float = 1e6
) -> TrainStats:
    """θₜ₊₁ = θₜ − γ∇E(θₜ) (full batch, MSE) on a private copy, recording each hidden layer.

    The same iteration as ``models.train`` (tested equal); it also records, at
    every step, the hidden layers' off-centre measures of ``TrainStats``.
    Stops at the first non-finite E or E > blowup · max(E₀, 1).
    """
    net = copy.deepcopy(net)
    params = list(net.parameters())
    depth = net.config["depth"]
    losses = torch.full((steps + 1,), float("nan"), dtype=DTYPE)
    rms = torch.full((steps + 1, depth), float("nan"), dtype=DTYPE)
    means = torch.full((steps + 1, depth), float("nan"), dtype=DTYPE)
    limit, diverged_at, kappa_start, share_start, last = None, None, [], [], []
    for t in range(steps + 1):
        with torch.enable_grad():
            F, _, hs = net.forward_with_activations(X)
            loss = models.loss_from_outputs(F, y)
            grads = torch.autograd.grad(loss, params)
        value = float(loss.detach())
        if limit is None:
            limit = blowup * max(value, 1.0) if math.isfinite(value) else 0.0
        if not math.isfinite(value) or value > limit or not all(torch.isfinite(g).all() for g in grads):
            diverged_at = t
            break
        losses[t] = value
        last = [X, *(h.detach() for h in hs)]
        if t == 0:
            kappa_start, share_start = [input_kappa(a) for a in last], [mean_share(a) for a in last]
        with torch.no_grad():
            for l, h in enumerate(hs):
                mu = h.mean(0)
                rms[t, l] = mu.norm() / math.sqrt(mu.numel())
                means[t, l] = h.mean()
            if t < steps:
                for p, g in zip(params, grads, strict=True):
                    p -= lr * g
    return TrainStats(
        losses=losses,
        unit_mean_rms=rms,
        layer_mean=means,
        diverged_at=diverged_at,
        kappa_start=kappa_start,
        kappa_end=[input_kappa(a) for a in last],
        mean_share_start=share_start,
        mean_share_end=[mean_share(a) for a in last],
    )


def activation_report(
    activation: str,
    depth: int = 2,
    width: int = 8,
    task: str = "teacher",
    steps: int = 300,
    lr_factor: float = 1.0,
    seed: int = 0,
) -> ActivationReport:
    """Statistics, Hessian blocks and a training run of one activation, same data and seed for all.

    GD uses γ = lr_factor / λ_max(H(θ₀)): the same fraction of the initial stability edge 2/λ_max for every activation.
    """
    X, y = task_data(task, seed=seed)
    net = models.MLP(X.shape[1], width, depth, 1, activation=activation, seed=seed)
    layers, spec = layer_reports(net, X, y)
    hs = layer_inputs(net, X)[1:]
    lr = lr_factor / spec.lambda_max if spec.lambda_max > 0 else 0.0
    return ActivationReport(
        activation=activation,
        layers=layers,
        spectrum=spec,
        hidden_mean=[float(h.mean()) for h in hs],
        hidden_std=[float(h.std(unbiased=False)) for h in hs],
        lr=lr,
        train=train_with_stats(net, X, y, lr, steps),
    )


def kappa_over_seeds(
    activation: str, depth: int = 2, width: int = 8, task: str = "teacher", seeds=range(8), data_seed: int = 0
) -> torch.Tensor:
    """κ of every layer's Gauss–Newton block for several initializations: [S, depth+1] (inf when singular).

    The data stay fixed (``data_seed``); only the initialization seed changes.
    """
    X, y = task_data(task, seed=data_seed)
    rows = []
    for s in seeds:
        net = models.MLP(X.shape[1], width, depth, 1, activation=activation, seed=s)
        G = hessian.gauss_newton(net, X, y, models.flatten(net))
        row = []
        for _, sl in models.layer_slices(net):
            k = hessian.spectrum_summary(torch.linalg.eigvalsh(G[sl, sl]), rtol=EIG_RTOL).condition_number
            row.append(math.inf if k is None else k)
        rows.append(row)
    return torch.tensor(rows, dtype=DTYPE)


# --- 3. initialization scale -------------------------------------------------------------

PROPAGATION_ACTIVATIONS = ("linear", "tanh", "relu")


def signal_propagation(
    activation: str, c: float, depth: int = 30, width: int = 100, n: int = 256, seeds=range(4)
) -> torch.Tensor:
    """Standard deviation of each layer's outputs on x ~ N(0, I): [S, depth+1] (column 0 = the input).

    Weights θ ~ N(0, c/fan_in), biases 0: the weights of ``models.MLP(width, width, depth, 1,
    init_scale=c, seed=s)``, drawn in its order from its generator, without building the module
    (``signal_propagation_reference`` builds it; the two agree bit for bit, tests). For linear
    units Var(h_l) = c^l · Var(x) in expectation; ReLU halves the second moment, so c = 2 keeps
    E[z²] constant; tanh shrinks it further.
    """
    act = models.ACTIVATIONS[activation]()
    std = math.sqrt(c / width)
    zero = torch.zeros(width, dtype=DTYPE)
    out = []
    with torch.no_grad():
        for s in seeds:
            gen = torch.Generator().manual_seed(int(s))  # models.MLP.reset_parameters
            h = torch.randn(n, width, generator=torch.Generator().manual_seed(10_000 + int(s)), dtype=DTYPE)
            stds = [h.std(unbiased=False)]
            for _ in range(depth):
                W = torch.randn((width, width), generator=gen, dtype=DTYPE) * std
                h = act(torch.nn.functional.linear(h, W, zero))  # nn.Linear with a zero bias
                stds.append(h.std(unbiased=False))
            out.append(torch.stack(stds))
    return torch.stack(out)


def signal_propagation_reference(
    activation: str, c: float, depth: int = 30, width: int = 100, n: int = 256, seeds=range(4)
) -> torch.Tensor:
    """``signal_propagation`` through real ``models.MLP`` modules (slower: 30 nn.Linear per net)."""
    out = []
    for s in seeds:
        net = models.MLP(width, width, depth, 1, activation=activation, init_scale=c, seed=s)
        X = torch.randn(n, width, generator=torch.Generator().manual_seed(10_000 + int(s)), dtype=DTYPE)
        hs = layer_inputs(net, X)
        out.append([float(h.std(unbiased=False)) for h in hs])
    return torch.tensor(out, dtype=DTYPE)


# --- 4. block-diagonal Hessian --------------------------------------------------------------


@dataclass
class Neuron:
    layer: str  # "layer 1", …, "output"
    index: int  # neuron k within its layer
    params: torch.Tensor  # flat-θ indices of its incoming weights w_k· and its bias b_k


def neurons(net: models.MLP) -> list[Neuron]:
    """Every neuron's parameter indices in the flat θ (weights row k, then bias k)."""
    out = []
    for name, (_, s) in zip(layer_names(net.config["depth"]), models.layer_slices(net), strict=True):
        n_out = net.out.out_features if name == "output" else net.config["width"]
        fan_in = (s.stop - s.start) // n_out - 1
        bias0 = s.start + n_out * fan_in
        for k in range(n_out):
            w = torch.arange(s.start + k * fan_in, s.start + (k + 1) * fan_in)
            out.append(Neuron(name, k, torch.cat([w, torch.tensor([bias0 + k])])))
    return out


def sensitivities(net: models.MLP, X: torch.Tensor):
    """(a, δ) per parameter layer: inputs a_l [N, fan_in] and δ_l = ∂F/∂z_l [N, n_out] (one output F)."""
    with torch.enable_grad():
        F, zs, hs = net.forward_with_activations(X)
        deltas = torch.autograd.grad(F.sum(), zs)  # each sample's F depends only on its own z
    a = [X, *(h.detach() for h in hs)]
    return a, [d.detach() for d in deltas] + [torch.ones(X.shape[0], 1, dtype=DTYPE)]


def neuron_blocks(net: models.MLP, X: torch.Tensor) -> list[torch.Tensor]:
    """[G_k]_{jj'} = 2/N Σₙ â_j â_j' δ_k² for every neuron, â = (a, 1): the Gauss–Newton diagonal blocks."""
    if net.out.out_features != 1:
        raise ValueError("the per-neuron formula here is for one output")
    a, deltas = sensitivities(net, X)
    blocks = []
    for a_l, d_l in zip(a, deltas, strict=True):
        a_hat = torch.cat([a_l, torch.ones(a_l.shape[0], 1, dtype=DTYPE)], 1)
        for k in range(d_l.shape[1]):
            blocks.append(2.0 * (a_hat * d_l[:, k : k + 1] ** 2).T @ a_hat / X.shape[0])
    return blocks


@dataclass
class BlockStudy:
    """The full Hessian and Gauss–Newton matrix in neuron order, and the per-neuron blocks.

    ``H``, ``G`` [P, P] are permuted so that each neuron's parameters are contiguous;
    ``boundaries`` are the block edges; ``block_eigs[k]`` the eigenvalues of neuron k's
    formula block; ``formula_error`` = max |formula − G's diagonal block|.
    """

    H: torch.Tensor
    G: torch.Tensor
    neurons: list[Neuron]
    boundaries: list[int]
    layer_boundaries: list[int]
    block_eigs: list[torch.Tensor]
    a_rms: dict[str, float]
    delta_rms: dict[str, float]
    formula_error: float
    off_block_share_H: float
    off_block_share_G: float


def block_study(
    activation: str = "tanh",
    offset: float = 0.0,
    c: float = 1.0,
    width: int = 6,
    depth: int = 2,
    in_dim: int = 4,
    n: int = 64,
    seed: int = 0,
) -> BlockStudy:
    """Per-neuron block-diagonal view of a small net on teacher data with inputs x + offset."""
    X, y = data.teacher_regression(n=n, in_dim=in_dim, out_dim=1, seed=seed)
    X = X + offset
    net = models.MLP(in_dim, width, depth, 1, activation=activation, init_scale=c, seed=seed)
    E, theta = models.flat_loss(net, X, y)
    group = neurons(net)
    order = torch.cat([nu.params for nu in group])
    H = hessian.exact(E, theta)[order][:, order]
    G = hessian.gauss_newton(net, X, y, theta)[order][:, order]
    sizes = [len(nu.params) for nu in group]
    edges = np.cumsum([0, *sizes]).tolist()
    slices = [slice(a, b) for a, b in itertools.pairwise(edges)]
    blocks = neuron_blocks(net, X)
    error = max(float((B - G[s, s]).abs().max()) for B, s in zip(blocks, slices, strict=True))
    a, deltas = sensitivities(net, X)
    names = layer_names(depth)
    return BlockStudy(
        H=H,
        G=G,
        neurons=group,
        boundaries=edges[1:-1],
        layer_boundaries=[e for e, a, b in zip(edges[1:-1], group, group[1:]) if a.layer != b.layer],
        block_eigs=[torch.linalg.eigvalsh(B) for B in blocks],
        a_rms={nm: float(x.pow(2).mean().sqrt()) for nm, x in zip(names, a, strict=True)},
        delta_rms={nm: float(d.pow(2).mean().sqrt()) for nm, d in zip(names, deltas, strict=True)},
        formula_error=error,
        off_block_share_H=hessian.off_block_share(H, slices),
        off_block_share_G=hessian.off_block_share(G, slices),
    )


# --- tables for the page (plain DataFrames) ------------------------------------------------


def linear_frames(study: NormalizationStudy, steps: int, floor: float = 1e-12):
    """(summary table, GD curves [series, step, relative excess], eigenvalues [preprocessing, eigenvalue, κ]).

    The relative excess (E(wₜ) − E*) / (E(w₀) − E*) is cut after it first reaches ``floor``: below
    that, E − E* is a difference of two nearly equal float64 numbers and only rounding noise remains.
    """
    rows, curves, eigs = [], [], []
    for m, r in study.results.items():
        rows.append(
            {
                tr("normalization.data.preprocessing"): method_name(m),
                "λ_min(H)": float(r.eigenvalues[0]),
                "λ_max(H)": float(r.eigenvalues[-1]),
                "κ = λ_max/λ_min": r.kappa,
                "γ": r.lr,
                "steps to tol": str(r.steps_to_tol) if r.steps_to_tol is not None else f"> {steps}",
            }
        )
        e0 = float(r.excess[0])
        rel = (r.excess / e0).numpy() if e0 > 0 else r.excess.numpy()
        below = np.flatnonzero(rel <= floor)
        end = int(below[0]) + 1 if below.size else len(rel)
        rel = np.maximum(rel[:end], floor)  # an exact 0 (reached w*) is drawn at the floor
        curves.append(pd.DataFrame({"series": method_name(m), "step": np.arange(end), "relative excess": rel}))
        eigs += [{"preprocessing": method_name(m), "eigenvalue": float(e), "κ": r.kappa} for e in r.eigenvalues]
    return pd.DataFrame(rows), pd.concat(curves, ignore_index=True), pd.DataFrame(eigs)


def scatter_frames(r: Preprocessed, k: float = 2.0):
    """(points [x₁, x₂], ellipse [x₁, x₂, order], mean segment from 0 to μ [x₁, x₂, order])."""
    pts = pd.DataFrame(r.X.numpy(), columns=["x₁", "x₂"])
    ell = covariance_ellipse(r.mean, r.cov, k).numpy()
    ellipse = pd.DataFrame({"x₁": ell[:, 0], "x₂": ell[:, 1], "order": np.arange(len(ell))})
    mu = r.mean.numpy()
    segment = pd.DataFrame({"x₁": [0.0, mu[0]], "x₂": [0.0, mu[1]], "order": [0, 1]})
    return pts, ellipse, segment


def activation_frames(reports: dict[str, ActivationReport], shown: str):
    """(hidden mean ± std, κ of each layer's GN block, loss curves, off-centre drift of ``shown``)."""
    stats, kappas, losses = [], [], []
    for act, r in reports.items():
        for i, (m, s) in enumerate(zip(r.hidden_mean, r.hidden_std, strict=True)):
            stats.append({"series": act, "layer": layer_label(f"layer {i + 1}"), "mean": m, "std": s})
        kappas += [{"series": act, "layer": layer_label(lr.name), "κ": lr.kappa or math.inf} for lr in r.layers]
        loss = r.train.losses.numpy()
        losses.append(pd.DataFrame({"series": act, "step": np.arange(len(loss)), "loss": loss}))
    drift = reports[shown].train.unit_mean_rms.numpy()
    steps = np.arange(drift.shape[0])
    drift_df = pd.concat(
        [
            pd.DataFrame({"series": layer_label(f"layer {l + 1}"), "step": steps, "off-centre": col})
            for l, col in enumerate(drift.T)
        ],
        ignore_index=True,
    )
    return pd.DataFrame(stats), pd.DataFrame(kappas), pd.concat(losses, ignore_index=True), drift_df


def layer_table(r: ActivationReport) -> pd.DataFrame:
    """One row per parameter layer of one activation's net."""
    return pd.DataFrame(
        {
            tr("normalization.act.parameter_layer"): [layer_label(lr.name) for lr in r.layers],
            tr("normalization.act.mean"): [lr.input_mean for lr in r.layers],
            tr("normalization.act.std"): [lr.input_std for lr in r.layers],
            tr("normalization.act.lmax_col"): [lr.lambda_max for lr in r.layers],
            tr("normalization.act.kappa_col"): [lr.kappa if lr.kappa is not None else math.inf for lr in r.layers],
            tr("normalization.act.kappa_start"): r.train.kappa_start,
            tr("normalization.act.kappa_end"): r.train.kappa_end,
        }
    )


def claim_counts(kappa_a: torch.Tensor, kappa_b: torch.Tensor):
    """(pairs with κ_a > κ_b, comparable pairs, pairs where both blocks are singular), per layer [L] each.

    A singular block (κ = inf) is infinitely ill-conditioned, so inf > finite counts; two singular
    blocks (e.g. more parameters in the block than samples) cannot be ranked and are left out.
    """
    both = torch.isinf(kappa_a) & torch.isinf(kappa_b)
    wins = ((kappa_a > kappa_b) & ~both).sum(0)
    return wins, (~both).sum(0), both.sum(0)


def seed_table(kappa_a: torch.Tensor, kappa_b: torch.Tensor, names: list[str], a: str = "sigmoid", b: str = "tanh"):
    """Per layer: median κ of the GN block over seeds for two activations, and in how many seeds a > b."""
    wins, comparable, both = claim_counts(kappa_a, kappa_b)
    verdicts = [
        tr("normalization.act.wins", wins=int(w), comparable=int(c))
        + (tr("normalization.act.both_out", n=int(n)) if n else "")
        for w, c, n in zip(wins.tolist(), comparable.tolist(), both.tolist(), strict=True)
    ]
    return pd.DataFrame(
        {
            tr("normalization.act.parameter_layer"): [layer_label(nm) for nm in names],
            tr("normalization.act.median", act=a): kappa_a.median(0).values.numpy(),
            tr("normalization.act.median", act=b): kappa_b.median(0).values.numpy(),
            tr("normalization.act.seeds_col", a=a, b=b): verdicts,
        }
    )


def propagation_frame(stds: dict[str, torch.Tensor], depth: int) -> pd.DataFrame:
    """[series, layer, std, lo, hi]: geometric mean over seeds of each layer's output std, and the seeds' range."""
    rows = []
    for act, s in stds.items():
        s = s[:, : depth + 1]
        gm = s.clamp(min=1e-300).log().mean(0).exp()
        for l in range(s.shape[1]):
            rows.append(
                {"series": act, "layer": l, "std": float(gm[l]), "lo": float(s[:, l].min()), "hi": float(s[:, l].max())}
            )
    return pd.DataFrame(rows)


def block_frames(b: BlockStudy):
    """(eigenvalues of every neuron block [neuron, layer, eigenvalue], scales [series, layer, rms])."""

    def short(nu: Neuron) -> str:  # "L1·3", "output·1"
        layer = layer_label(nu.layer) if nu.layer == "output" else nu.layer.replace("layer ", "L")
        return f"{layer}·{nu.index + 1}"

    eigs = [
        {"neuron": short(nu), "layer": layer_label(nu.layer), "eigenvalue": float(e)}
        for nu, ev in zip(b.neurons, b.block_eigs, strict=True)
        for e in ev
    ]
    inputs, sensitivities = tr("normalization.block.inputs"), tr("normalization.block.sensitivities")
    scales = [{"series": inputs, "layer": layer_label(k), "rms": v} for k, v in b.a_rms.items()]
    scales += [{"series": sensitivities, "layer": layer_label(k), "rms": v} for k, v in b.delta_rms.items()]
    return pd.DataFrame(eigs), pd.DataFrame(scales)


# --- "what to notice": the page's sentences with the live numbers -------------------------------


def _k(x: float | None) -> str:
    return tr("normalization.singular") if x is None or not math.isfinite(x) else f"{x:.3g}"


def notice_data(study: NormalizationStudy, steps: int) -> str:
    R = study.results
    none, cen, wh = R["none"], R["center"], R["whiten"]
    reached = {m: f"{r.steps_to_tol}" if r.steps_to_tol is not None else f"> {steps}" for m, r in R.items()}
    key = "normalization.data.notice."
    centre = tr(key + ("centre_lower" if cen.kappa < none.kappa else "centre_higher"))
    lmax = float(none.eigenvalues[-1])
    reached_list = tr("normalization.list_sep").join(
        tr(key + "reached", method=method_name(m), steps=n) for m, n in reached.items()
    )
    lines = [
        tr(key + "raw", share=100 * none.mean_share, lmax=lmax, kappa=none.kappa),
        tr(key + "centre", k0=none.kappa, k1=cen.kappa, verdict=centre),
        tr(key + "whiten", kappa=wh.kappa),
        tr(key + "steps", list=reached_list),
    ]
    if study.lr_rule == "lecture":
        lines.append(tr(key + "lecture"))
    return "\n".join(lines)


def notice_activations(reports: dict[str, ActivationReport], shown: str, sig: torch.Tensor, tanh: torch.Tensor) -> str:
    s, th, r = reports["sigmoid"], reports["tanh"], reports[shown]
    key = "normalization.act.notice."
    wins, comparable, both = (int(x.sum()) for x in claim_counts(sig, tanh))
    verdict = "" if wins == comparable else tr(key + "not_every")
    if both:
        verdict += tr(key + "both_out", n=both)
    rms = r.train.unit_mean_rms[:, -1]
    final = float(rms[~rms.isnan()][-1])
    k0, k1 = r.train.kappa_start[-1], r.train.kappa_end[-1]
    verdict_drift = _kappa_verdict(k0, k1) if final > float(rms[0]) else tr(key + "towards")
    ksig, ktanh = _k(s.layers[-1].kappa), _k(th.layers[-1].kappa)
    spec = r.spectrum
    return "\n".join(
        [
            tr(key + "means", sig=s.hidden_mean[-1], tanh=th.hidden_mean[-1], ksig=ksig, ktanh=ktanh),
            tr(key + "seeds", wins=wins, comparable=comparable, verdict=verdict),
            tr(key + "full", act=shown, n=spec.n, lmax=spec.lambda_max, neg=spec.n_negative, lr=r.lr),
            tr(
                key + "drift",
                act=shown,
                start=float(rms[0]),
                end=final,
                share_end=100 * r.train.mean_share_end[-1],
                share_start=100 * r.train.mean_share_start[-1],
                k0=_k(k0),
                k1=_k(k1),
                verdict=verdict_drift,
            ),
        ]
    )


def _kappa_verdict(k0: float, k1: float) -> str:
    key = "normalization.act.notice."
    if not (math.isfinite(k0) and math.isfinite(k1)):
        return tr(key + "singular")
    if 0.8 <= k1 / k0 <= 1.25:
        return tr(key + "same")
    if k1 > k0:
        return tr(key + "higher")
    return tr(key + "lower")


def divergence_note(reports: dict[str, ActivationReport], lr_factor: float) -> str | None:
    bad = {a: r.train.diverged_at for a, r in reports.items() if r.train.diverged_at is not None}
    if not bad:
        return None
    where = tr("normalization.list_sep").join(tr("normalization.act.at_step", act=a, step=k) for a, k in bad.items())
    return tr("normalization.act.diverged", where=where, factor=lr_factor)


def notice_init(df: pd.DataFrame, depth: int, c: float) -> str:
    last = df[df.layer == depth].set_index("series")["std"]
    std = tr(
        "normalization.init.notice_std",
        depth=depth,
        linear=_k(last["linear"]),
        theory=c ** (depth / 2),
        tanh=_k(last["tanh"]),
        relu=_k(last["relu"]),
    )
    return "\n".join([std, tr("normalization.init.notice_scale")])


def notice_blocks(b: BlockStudy, eigs: pd.DataFrame) -> str:
    top = eigs.groupby("layer", sort=False)["eigenvalue"].max()
    spread = float(top.max() / top.min()) if float(top.min()) > 0 else math.inf
    key = "normalization.block."
    tops = tr("normalization.list_sep").join(tr(key + "top_item", layer=k, value=v) for k, v in top.items())
    return "\n".join(
        [
            tr(key + "notice_formula", error=b.formula_error),
            tr(key + "notice_top", list=tops, spread=_k(spread)),
            tr(key + "notice_off", share_h=100 * b.off_block_share_H, share_g=100 * b.off_block_share_G),
        ]
    )
