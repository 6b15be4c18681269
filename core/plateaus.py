"""Plateaus, initialization, restarts and learning-rate schedules, measured.

Four experiments of the lecture's "tanh error function", "Practical recommendations"
and "Learning rate schedules":

1. **Plateaus** on one tanh unit, E(w, v) = 1/N Σₙ (v·tanh(w·xₙ) − tₙ)² + λ(v² + w²):
   long GD runs (vectorized over starts), the gradient-norm map, and the plateau
   stretches of each run: steps with ‖∇E‖ < g_max while E is well above the minimum.
2. **Initialization** of a small tanh MLP on a seeded 2-D data set: zero init sits on a
   saddle (the hidden layers' gradient is exactly 0), weights ~ N(0, σ²/fan_in) saturate
   the units as σ grows, and loss curves for a few σ side by side.
3. **Restarts, width and depth**: K seeded restarts (keep the best), and final loss vs
   width and vs depth from a small seeded sweep.
4. **Learning-rate schedules** γ(t) on a surface with a shallow, sharp minimum and a deep,
   wide one: a small constant γ stays in the shallow one; a large-then-decaying γ cannot
   settle there (γ > 2/λ_max of its Hessian) and reaches the deep one.

E is dimensionless (squared target units for the tanh unit, nats for the classifier);
weights are dimensionless; γ has units of 1/E per step.

>>> unit = tanh_unit(lam=0.0)  # the 9-point plateau data, t = 0.25·x
>>> round(float(unit.loss_grad(np.zeros(2))[0]), 6)  # E(0, v) = mean(t²) = 0.0625·mean(x²)
0.104167
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import pandas as pd
import torch
from threadpoolctl import threadpool_limits

from core import data, models, optim
from core.i18n import t

DTYPE = torch.float64

# --- 1. the tanh unit and long GD runs ------------------------------------------------------

TANH_VIEW = ((-6.0, -2.0), (6.0, 2.0))  # (w, v) corners of the maps
REFERENCE_STARTS = {"deep": (-5.0, -0.3), "small": (0.5, 0.5)}  # catalogue keys plateaus.tanh.run.<key>
FLOOR_SHARE = 0.05  # "well above the minimum": E − E_min ≥ 5 % of E(0, 0) − E_min
MIN_STRETCH = 20  # a plateau is at least this many consecutive steps
MAX_PATH_POINTS = 300  # per run, sent to the browser
G_MAX_CHOICES = ["0.001", "0.003", "0.01", "0.03", "0.1"]  # plateau thresholds on ‖∇E‖ offered by the page


@dataclass(frozen=True)
class TanhUnit:
    """E(w, v) = 1/N Σₙ (v·tanh(w·xₙ) − tₙ)² + λ(v² + w²) with its closed-form gradient.

    With aₙ = tanh(w xₙ) and rₙ = v aₙ − tₙ:
    ∂E/∂w = 2/N Σ rₙ v (1 − aₙ²) xₙ + 2λw,   ∂E/∂v = 2/N Σ rₙ aₙ + 2λv.
    numpy, vectorized over leading dimensions: thousands of steps cost milliseconds.
    ``core.surfaces.two_layer_tanh`` is the same E in torch (the tests' reference).
    """

    x: np.ndarray  # [N]
    t: np.ndarray  # [N]
    lam: float

    def loss_grad(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(E [...], ∇E [..., 2]) at θ = (w, v) of shape [..., 2]."""
        theta = np.asarray(theta, dtype=np.float64)
        w, v = theta[..., :1], theta[..., 1]  # w [..., 1] broadcasts against x [N]
        N = self.x.shape[0]
        a = np.tanh(w * self.x)  # [..., N]
        r = v[..., None] * a
        r -= self.t
        E = np.einsum("...n,...n->...", r, r) / N
        dv = np.einsum("...n,...n->...", r, a) * (2 / N)
        a *= a
        np.subtract(1.0, a, out=a)  # 1 − tanh² = tanh'
        dw = (r * a) @ self.x * (2 / N) * v
        if self.lam:
            E = E + self.lam * np.einsum("...p,...p->...", theta, theta)
            dw = dw + 2 * self.lam * theta[..., 0]
            dv = dv + 2 * self.lam * v
        return E, np.stack([dw, dv], -1)

    def hessian(self, theta, h: float = 1e-6) -> np.ndarray:
        """∇²E(θ) [2, 2] by central differences of the closed-form gradient (error ~h², ≈1e-9)."""
        theta = np.asarray(theta, dtype=np.float64)
        cols = [(self.loss_grad(theta + h * e)[1] - self.loss_grad(theta - h * e)[1]) / (2 * h) for e in np.eye(2)]
        H = np.stack(cols, -1)
        return (H + H.T) / 2

    @property
    def E_origin(self) -> float:
        """E(0, 0) = mean(t²): the loss of predicting 0 (tanh(0) = 0)."""
        return float((self.t * self.t).mean())


def tanh_unit(lam: float = 0.0, n: int = 9, slope: float = 0.25) -> TanhUnit:
    """The plateau example: n points evenly spaced in [−2, 2], t = slope·x (``data.regression_1d``)."""
    x, t = data.regression_1d(n=n, lo=-2.0, hi=2.0, slope=slope)
    return TanhUnit(x=x.numpy(), t=t.numpy(), lam=float(lam))


@dataclass
class Descent:
    """GD paths of R runs: thetas [T+1, R, P], losses and grad_norms [T+1, R], lrs [T, R].

    A run that diverges at step k (E or θ not finite, or E > blowup·max(E₀, 1)) is frozen:
    its entries from step k on are NaN, and ``diverged_at[r] = k``.
    """

    thetas: np.ndarray
    losses: np.ndarray
    grad_norms: np.ndarray
    lrs: np.ndarray
    diverged_at: list[int | None]

    def final(self, r: int) -> tuple[np.ndarray, float]:
        """Last finite θ and E of run r."""
        ok = np.isfinite(self.losses[:, r])
        k = int(np.nonzero(ok)[0][-1]) if ok.any() else 0
        return self.thetas[k, r], float(self.losses[k, r])


def descend(
    loss_grad: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
    theta0,
    lrs,
    blowup: float = 1e6,
) -> Descent:
    """θₜ₊₁ = θₜ − γₜ,ᵣ ∇E(θₜ) for R starts at once (numpy; same rule as ``optim.gradient_descent``).

    ``theta0`` [R, P]; ``lrs`` [T] (one schedule for all runs) or [T, R] (one per run). A run
    diverges at step t when θₜ or E(θₜ) is not finite or E(θₜ) > blowup·max(E(θ₀), 1), as in optim.
    """
    theta = np.array(theta0, dtype=np.float64, ndmin=2)
    R, P = theta.shape
    lrs = np.asarray(lrs, dtype=np.float64)
    T = lrs.shape[0]
    lrs = np.broadcast_to(lrs.reshape(T, -1), (T, R))
    thetas = np.empty((T + 1, R, P))
    losses = np.empty((T + 1, R))
    grads = np.empty((T + 1, R, P))
    with np.errstate(all="ignore"):  # overflow is found after the loop, not warned about
        # The loop does nothing but step (the fewer numpy calls, the faster a 2-parameter run):
        # a run that blows up just carries inf/NaN on, and divergence is read off afterwards.
        for t in range(T + 1):
            E, g = loss_grad(theta)
            thetas[t], losses[t], grads[t] = theta, E, g
            if t < T:
                theta = theta - lrs[t][:, None] * g
        E0 = np.nan_to_num(losses[0], nan=1.0, posinf=1.0)
        bad = ~(losses <= blowup * np.maximum(E0, 1.0))  # [T+1, R]; NaN fails every comparison
        bad |= ~np.isfinite(thetas).all(-1)
        gnorms = np.sqrt((grads**2).sum(-1))
    diverged: list[int | None] = []
    for r in range(R):
        hit = np.flatnonzero(bad[:, r])
        diverged.append(int(hit[0]) if len(hit) else None)
        if len(hit):  # as if the run had been frozen there: nothing recorded from that step on
            thetas[hit[0] :, r], losses[hit[0] :, r], gnorms[hit[0] :, r] = np.nan, np.nan, np.nan
    return Descent(thetas=thetas, losses=losses, grad_norms=gnorms, lrs=np.array(lrs), diverged_at=diverged)


def plateau_mask(losses: np.ndarray, grad_norms: np.ndarray, g_max: float, E_floor: float) -> np.ndarray:
    """True where the run is on a plateau: ‖∇E(θₜ)‖ < g_max while E(θₜ) ≥ E_floor (NaN: False)."""
    with np.errstate(invalid="ignore"):
        return (grad_norms < g_max) & (losses >= E_floor)


def stretches(mask: np.ndarray, min_len: int = MIN_STRETCH) -> list[tuple[int, int]]:
    """Maximal runs of consecutive True as half-open [start, end), at least ``min_len`` long.

    >>> stretches(np.array([0, 1, 1, 1, 0, 1, 1], dtype=bool), min_len=2)
    [(1, 4), (5, 7)]
    """
    m = np.concatenate([[False], np.asarray(mask, dtype=bool), [False]])
    edges = np.flatnonzero(m[1:] != m[:-1])
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2]) if b - a >= min_len]


def thin_path(thetas: np.ndarray, max_points: int = MAX_PATH_POINTS) -> np.ndarray:
    """Step indices that keep a path's shape with few points: every step where it moved
    ≥ 1/max_points of its total arc length since the last kept one (fast moves keep
    every step, slow crawls few), then at most ``max_points``; first and last always kept."""
    ok = np.flatnonzero(np.isfinite(thetas).all(-1))
    if len(ok) <= 2:
        return ok
    seg = np.sqrt((np.diff(thetas[ok], axis=0) ** 2).sum(-1))
    arc = np.concatenate([[0.0], np.cumsum(seg)])
    if arc[-1] == 0:
        return ok[[0, -1]]
    bins = np.floor(arc / (arc[-1] / max_points)).astype(int)
    keep = ok[np.flatnonzero(np.diff(np.concatenate([[-1], bins])) > 0)]
    if len(keep) > max_points:
        keep = keep[np.linspace(0, len(keep) - 1, max_points).round().astype(int)]
    return np.unique(np.concatenate([ok[[0]], keep, ok[[-1]]]))


def _tanh_grid(n: int, sub: int = 1) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Cell centres w [n], v [n·sub] (sub rows per cell, spread over its height) and the cell size."""
    (lo_w, lo_v), (hi_w, hi_v) = TANH_VIEW
    w, v = np.linspace(lo_w, hi_w, n), np.linspace(lo_v, hi_v, n)
    dw, dv = w[1] - w[0], v[1] - v[0]
    if sub > 1:
        v = (v[:, None] + ((np.arange(sub) + 0.5) / sub - 0.5) * dv).ravel()
    return w, v, dw, dv


def tanh_maps(unit: TanhUnit, g_max: float, n: int = 61) -> tuple[pd.DataFrame, float]:
    """E and ‖∇E‖ at the centres of an n×n grid over ``TANH_VIEW``, and the grid's lowest E."""
    w, v, _, _ = _tanh_grid(n)
    W, V = np.meshgrid(w, v)
    E, g = unit.loss_grad(np.stack([W, V], -1))
    gn = np.sqrt((g**2).sum(-1))
    frame = pd.DataFrame({"w": W.ravel(), "v": V.ravel(), "E": E.ravel(), "‖∇E‖": gn.ravel()})
    return frame, float(E.min())


def tanh_plateau_cells(unit: TanhUnit, g_max: float, E_floor: float, n: int = 61, sub: int = 16) -> np.ndarray:
    """Which cells of the n×n map hold plateau points: ‖∇E‖ < g_max and E ≥ E_floor somewhere in
    the cell (checked on ``sub`` rows per cell). The plateau is a valley floor narrower than a
    cell (∂E/∂v = 2(v·mean(a²) − mean(t·a)) grows fast off it), so cell centres alone miss it."""
    w, v, _, _ = _tanh_grid(n, sub)
    W, V = np.meshgrid(w, v)
    E, g = unit.loss_grad(np.stack([W, V], -1))  # [n·sub, n]
    inside = plateau_mask(E, np.sqrt((g**2).sum(-1)), g_max, E_floor)
    return inside.reshape(n, sub, n).any(1).ravel()


@dataclass(frozen=True)
class PlateauSettings:
    lam: float = 0.0  # weight decay λ
    lr: float = 0.5  # γ
    steps: int = 5000
    start: tuple[float, float] = (4.0, 0.5)  # your (w₀, v₀)
    g_max: float = 0.01  # plateau threshold on ‖∇E‖
    grid_n: int = 61  # 61² cells: under Altair's 5,000-row limit, fine enough for the plateau floor


@dataclass
class PlateauRun:
    label: str
    start: tuple[float, float]
    final: tuple[float, float]
    E_final: float
    plateau: list[tuple[int, int]]  # stretches [start, end)
    diverged_at: int | None

    @property
    def steps_on_plateau(self) -> int:
        return sum(b - a for a, b in self.plateau)

    @property
    def longest(self) -> tuple[int, int] | None:
        return max(self.plateau, key=lambda s: s[1] - s[0]) if self.plateau else None


@dataclass
class PlateauResult:
    settings: PlateauSettings
    unit: TanhUnit
    descent: Descent
    runs: list[PlateauRun]
    grid: pd.DataFrame  # w, v, E, grad_norm, plateau (bool)
    E_min: float  # lowest E found (grid and runs)
    E_floor: float  # plateau cells/steps have E ≥ this


def plateau_experiment(s: PlateauSettings) -> PlateauResult:
    """GD from your start and the reference starts on the tanh unit; the maps and plateaus."""
    unit = tanh_unit(s.lam)
    labels = [t("plateaus.tanh.run.yours", w=s.start[0], v=s.start[1])]
    labels += [t(f"plateaus.tanh.run.{key}") for key in REFERENCE_STARTS]
    starts = np.array([s.start, *REFERENCE_STARTS.values()], dtype=np.float64)
    descent = descend(unit.loss_grad, starts, np.full(int(s.steps), float(s.lr)))
    grid, E_grid_min = tanh_maps(unit, s.g_max, s.grid_n)
    E_min = float(min(E_grid_min, np.nanmin(descent.losses)))
    E_floor = E_min + FLOOR_SHARE * (unit.E_origin - E_min)
    grid["plateau"] = tanh_plateau_cells(unit, s.g_max, E_floor, s.grid_n)
    runs = []
    for r, label in enumerate(labels):
        mask = plateau_mask(descent.losses[:, r], descent.grad_norms[:, r], s.g_max, E_floor)
        theta, E_end = descent.final(r)
        runs.append(
            PlateauRun(
                label=label,
                start=tuple(float(a) for a in starts[r]),
                final=(float(theta[0]), float(theta[1])),
                E_final=E_end,
                plateau=stretches(mask),
                diverged_at=descent.diverged_at[r],
            )
        )
    return PlateauResult(s, unit, descent, runs, grid, E_min, E_floor)


def loss_jump(losses: np.ndarray, factor: float = 10.0) -> tuple[int, int, float] | None:
    """The largest rise of E above its best-so-far, if more than ``factor``×: (step of the jump,
    step of the lowest E before it, ratio). GD is not monotone once γ > 2/λ_max somewhere."""
    E = np.where(np.isfinite(losses), losses, np.nan)
    if len(E) < 2 or not np.isfinite(E[0]):
        return None
    best = np.fmin.accumulate(E)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = E[1:] / best[:-1]
    if not np.isfinite(ratio).any() or np.nanmax(ratio) <= factor:
        return None
    k = int(np.nanargmax(ratio)) + 1
    return k, int(np.nanargmin(E[:k])), float(ratio[k - 1])


def plateau_frames(r: PlateauResult) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(paths [run, step, w, v], curves [run, step, E, ‖∇E‖], shaded stretches [run, start, end], starts)."""
    d = r.descent
    paths, curves, bands = [], [], []
    T = d.losses.shape[0] - 1
    curve_steps = _curve_steps(T)
    for i, run in enumerate(r.runs):
        keep = thin_path(d.thetas[:, i])
        paths.append(
            pd.DataFrame({"run": run.label, "step": keep, "w": d.thetas[keep, i, 0], "v": d.thetas[keep, i, 1]})
        )
        curves.append(
            pd.DataFrame(
                {
                    "run": run.label,
                    "step": curve_steps,
                    "E": d.losses[curve_steps, i],
                    "‖∇E‖": d.grad_norms[curve_steps, i],
                }
            )
        )
        bands += [{"run": run.label, "start": a, "end": b} for a, b in run.plateau]
    starts = pd.DataFrame(
        {"w": [x.start[0] for x in r.runs], "v": [x.start[1] for x in r.runs], "run": [x.label for x in r.runs]}
    )
    bands_df = pd.DataFrame(bands, columns=["run", "start", "end"])
    return pd.concat(paths, ignore_index=True), pd.concat(curves, ignore_index=True), bands_df, starts


def plateau_table(r: PlateauResult) -> pd.DataFrame:
    def col(key: str) -> str:
        return t(f"plateaus.tanh.table.{key}")

    rows = []
    for run in r.runs:
        a_b = run.longest
        level = float(np.nanmedian(r.descent.losses[a_b[0] : a_b[1], r.runs.index(run)])) if a_b else float("nan")
        rows.append(
            {
                col("run"): run.label,
                col("steps"): run.steps_on_plateau,
                col("longest"): t("plateaus.tanh.table.range", a=a_b[0], b=a_b[1] - 1)
                if a_b
                else t("plateaus.tanh.table.none"),
                col("level"): "–" if not a_b else f"{level:.4f}",
                col("final"): f"{run.E_final:.3e}",
                col("final_wv"): f"({run.final[0]:.3f}, {run.final[1]:.3f})",
            }
        )
    return pd.DataFrame(rows)


class Alert(str):
    """A "what to notice" line that the page also shows at the top of the page (GD diverged)."""

    __slots__ = ()


def plateau_notice(r: PlateauResult) -> list[str]:
    s, T = r.settings, r.settings.steps
    lines = [
        t(
            "plateaus.tanh.notice.definition",
            n=MIN_STRETCH,
            g=s.g_max,
            floor=r.E_floor,
            E_min=r.E_min,
            share=FLOOR_SHARE,
            E0=r.unit.E_origin,
            cells=int(r.grid["plateau"].sum()),
            total=len(r.grid),
        )
    ]
    for i, run in enumerate(r.runs):
        if run.diverged_at is not None:
            lines.append(Alert(t("plateaus.tanh.notice.diverged", run=run.label, step=run.diverged_at, lr=s.lr)))
            continue
        jump = loss_jump(r.descent.losses[:, i])
        if jump:
            k, j, ratio = jump
            lam = float(np.linalg.eigvalsh(r.unit.hessian(r.descent.thetas[j, i]))[-1])
            why = (
                t("plateaus.tanh.notice.overshoot", lam=lam, edge=2 / s.lr, at=j)
                if lam > 2 / s.lr
                else t("plateaus.tanh.notice.curvature", lam=lam, at=j)
            )
            lines.append(t("plateaus.tanh.notice.jump", run=run.label, ratio=ratio, step=k, why=why))
        a_b = run.longest
        if a_b is None:
            lines.append(t("plateaus.tanh.notice.no_plateau", run=run.label, E=run.E_final, T=T))
            continue
        level = float(np.nanmedian(r.descent.losses[a_b[0] : a_b[1], i]))
        g_in = float(np.nanmax(r.descent.grad_norms[a_b[0] : a_b[1], i]))
        ratio = level / run.E_final if run.E_final > 0 else math.inf
        escaped = a_b[1] <= T
        tail = (
            t("plateaus.tanh.notice.escapes", E=run.E_final, ratio=ratio)
            if escaped and ratio >= 10
            else t("plateaus.tanh.notice.still_on", T=T, E=run.E_final)
        )
        lines.append(
            t(
                "plateaus.tanh.notice.sits",
                run=run.label,
                level=level,
                a=a_b[0],
                b=a_b[1] - 1,
                n=a_b[1] - a_b[0],
                g=g_in,
                tail=tail,
            )
        )
    return lines


# --- 2. a batch of small tanh MLPs, trained side by side -------------------------------------

DATASETS = ("circles", "moons", "xor", "spiral")
N_POINTS = 200
DATA_NOISE = 0.1
SATURATED = 0.99  # a unit is saturated when |tanh(z)| > 0.99, i.e. |z| > 2.65: tanh'(z) < 0.02
SCALES = (0.1, 0.3, 1.0, 3.0, 10.0)  # σ compared side by side (plus yours and zero init)
SMALL_BATCH = 256  # members × width up to which training runs on one thread (see train_batch)


@dataclass
class MLPBatch:
    """R tanh MLPs x → tanh(W₁x + b₁) → … → tanh(W_L h + b_L) → W_out h + b_out, trained side by side.

    All parameters live in one flat tensor θ [R, P] (layer by layer: W then b); ``Ws[l]``
    [R, n_out, n_in] and ``bs[l]`` [R, n_out] are views into it (the last is the output layer),
    so one GD step is one tensor update.

    Each member starts exactly as ``models.MLP(2, width, depth, 2, "tanh", init_scale=σ², seed)``
    (weights ~ N(0, σ²/fan_in), biases 0). Members narrower than the batch are zero-padded: a
    padded unit has zero weights in and out, so tanh(0) = 0 and both of its gradients are
    exactly 0 — it stays out of the computation for ever, and the batch trains every member
    exactly as it would train alone.
    """

    theta: torch.Tensor  # [R, P]
    shapes: list[tuple[int, int]]  # (n_out, n_in) per layer

    @property
    def size(self) -> int:
        return self.theta.shape[0]

    @property
    def depth(self) -> int:
        return len(self.shapes) - 1

    def views(self, flat: torch.Tensor | None = None) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """(Ws, bs) as views into ``flat`` [R, P] (default: θ)."""
        flat = self.theta if flat is None else flat
        Ws, bs, a = [], [], 0
        for o, i in self.shapes:
            Ws.append(flat[:, a : a + o * i].view(-1, o, i))
            bs.append(flat[:, a + o * i : a + o * i + o])
            a += o * i + o
        return Ws, bs

    def layer_indicator(self) -> torch.Tensor:
        """[P, L+1]: 1 where parameter p belongs to layer l (per-layer norms in one matmul)."""
        return torch.block_diag(*[torch.ones(o * i + o, 1, dtype=DTYPE) for o, i in self.shapes])


def mlp_batch(members: Sequence[tuple[int, float, int]], depth: int, in_dim: int = 2, out_dim: int = 2) -> MLPBatch:
    """Stack ``models.MLP`` nets given as (width, σ, seed), all of one depth, padded to the widest."""
    width = max(m[0] for m in members)
    shapes = [(width, in_dim)] + [(width, width)] * (depth - 1) + [(out_dim, width)]
    P = sum(o * i + o for o, i in shapes)
    batch = MLPBatch(torch.zeros(len(members), P, dtype=DTYPE), shapes)
    Ws, bs = batch.views()
    for r, (n, sigma, seed) in enumerate(members):
        net = models.MLP(in_dim, n, depth, out_dim, "tanh", init_scale=float(sigma) ** 2, seed=int(seed))
        for l, layer in enumerate([b.linear for b in net.blocks] + [net.out]):
            o, i = layer.weight.shape
            Ws[l][r, :o, :i] = layer.weight.detach()
            bs[l][r, :o] = layer.bias.detach()
    return batch


def forward(net: MLPBatch, X: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Logits F [R, N, C] and the hidden outputs h₁ … h_L, each [R, N, width]."""
    Ws, bs = net.views()
    h = X.expand(net.size, *X.shape)
    hs = []
    for W, b in zip(Ws[:-1], bs[:-1]):
        h = torch.tanh(torch.baddbmm(b[:, None, :], h, W.transpose(1, 2)))  # [R, N, width]
        hs.append(h)
    return torch.baddbmm(bs[-1][:, None, :], h, Ws[-1].transpose(1, 2)), hs


def loss_and_grad(net: MLPBatch, X: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Cross-entropy E = −1/N Σₙ log softmax(Fₙ)_{yₙ} per member [R], and ∇E [R, P] by backprop:

    δ_F = (softmax(F) − onehot(y))/N;  ∂E/∂W_out = δ_Fᵀ h_L;  δ_h = δ_F W_out;
    δ_z = δ_h ⊙ (1 − h²);  ∂E/∂Wₗ = δ_zᵀ hₗ₋₁;  ∂E/∂bₗ = Σₙ δ_z;  δ_h ← δ_z Wₗ.
    (Checked against autograd through ``models.flat_loss`` in the tests.)
    """
    Ws, _ = net.views()
    F, hs = forward(net, X)
    R, N = net.size, X.shape[0]
    logp = torch.log_softmax(F, -1)  # [R, N, C]
    index = y.expand(R, N)[..., None]
    E = -logp.gather(-1, index).squeeze(-1).mean(-1)
    delta = logp.exp().scatter_add_(-1, index, torch.full((R, N, 1), -1.0, dtype=DTYPE)) / N
    inputs = [X.expand(R, *X.shape), *hs]  # the input of each layer
    parts: list[torch.Tensor] = []
    for l in range(len(Ws) - 1, -1, -1):
        parts += [delta.sum(1), (delta.transpose(1, 2) @ inputs[l]).reshape(R, -1)]  # b, W (reversed below)
        if l > 0:
            h = inputs[l]
            delta = (delta @ Ws[l]) * (1 - h * h)
    return E, torch.cat(parts[::-1], 1)


def layer_names(depth: int) -> list[str]:
    return [t("plateaus.init.hidden", l=l + 1) for l in range(depth)] + [t("plateaus.init.output")]


@dataclass
class BatchTraining:
    """losses [T+1, R]; layer_grad_norms [T+1, R, L+1] = ‖(∂E/∂Wₗ, ∂E/∂bₗ)‖ per layer; NaN after divergence."""

    losses: torch.Tensor
    layer_grad_norms: torch.Tensor
    diverged_at: list[int | None]
    net: MLPBatch  # the trained parameters
    seconds: float = 0.0  # wall time of the training


def train_batch(net: MLPBatch, X: torch.Tensor, y: torch.Tensor, lr: float, steps: int, blowup: float = 1e6):
    """Full-batch GD θ ← θ − γ∇E on every member at once (on a copy: ``net`` is not modified).

    A member whose E stops being finite or exceeds blowup·max(E₀, 1) is frozen from that step.
    """
    t0 = time.perf_counter()
    work = MLPBatch(net.theta.clone(), list(net.shapes))
    R = net.size
    layers = work.layer_indicator()  # [P, L+1]
    losses = torch.full((steps + 1, R), float("nan"), dtype=DTYPE)
    gnorms = torch.full((steps + 1, R, layers.shape[1]), float("nan"), dtype=DTYPE)
    diverged: list[int | None] = [None] * R
    alive = torch.ones(R, dtype=torch.bool)
    step = torch.full((R, 1), float(lr), dtype=DTYPE)
    # One OpenMP thread for small batches: their tensors are tiny, and on a busy 2-core machine
    # torch's second thread spin-waits (measured: 0.9 s with one thread vs 8.8 s with two under
    # load). Big batches keep torch's threads: there the second core does real work. The limit
    # is OpenMP's per-thread setting, restored on exit: other sessions are not affected.
    threads = 1 if R * max(o for o, _ in net.shapes[:-1]) <= SMALL_BATCH else None
    with torch.no_grad(), threadpool_limits(limits=threads, user_api="openmp"):
        E, g = loss_and_grad(work, X, y)
        limit = blowup * torch.clamp(torch.nan_to_num(E, nan=1.0, posinf=1.0), min=1.0)
        for t in range(steps + 1):
            bad = alive & ~(E <= limit)  # NaN fails every comparison
            if bad.any():
                for r in torch.nonzero(bad).flatten().tolist():
                    diverged[r] = t
                alive &= ~bad
                step[bad] = 0.0
                if not alive.any():
                    break
            if not alive.all():
                g = torch.nan_to_num(g) * alive[:, None]
                E = torch.where(alive, E, torch.nan)
            losses[t] = E
            gnorms[t] = (g * g).matmul(layers).sqrt()
            if t == steps:
                break
            work.theta.sub_(step * g)
            E, g = loss_and_grad(work, X, y)
    for r, k in enumerate(diverged):
        if k is not None:
            gnorms[k:, r] = torch.nan
    return BatchTraining(losses, gnorms, diverged, work, time.perf_counter() - t0)


def saturation(hs: list[torch.Tensor], threshold: float = SATURATED) -> torch.Tensor:
    """Share of saturated unit outputs |h| > threshold per member and layer, [R, L]."""
    return torch.stack([(h.abs() > threshold).to(DTYPE).mean((1, 2)) for h in hs], -1)


def dataset(name: str = "circles", seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """The seeded 2-D classification set the MLP experiments share (X [200, 2], y [200] ∈ {0, 1})."""
    return data.classification_2d(name, n=N_POINTS, noise=DATA_NOISE, seed=seed)


@dataclass(frozen=True)
class NetSettings:
    """The MLP experiments' shared set-up (plain values: safe to cache on)."""

    data: str = "circles"
    width: int = 8
    depth: int = 4
    sigma: float = 1.0  # weights ~ N(0, σ²/fan_in)
    lr: float = 0.15
    steps: int = 500
    seed: int = 0  # data and initial weights


@dataclass
class InitResult:
    settings: NetSettings
    sigmas: list[float]  # 0 (zero init), the comparison scales and yours, in training order
    training: BatchTraining
    saturated: torch.Tensor  # [R, L] share of |h| > 0.99 at init, per member and layer
    activations: list[torch.Tensor]  # your σ at init: h of each layer, flattened [N·width]
    sweep_sigmas: np.ndarray  # [S] for the saturation-vs-σ curve
    sweep_saturated: torch.Tensor  # [S, L]

    def index(self, sigma: float) -> int:
        return self.sigmas.index(sigma)


def init_experiment(s: NetSettings) -> InitResult:
    """Zero init, the comparison scales and your σ: one architecture, trained side by side."""
    X, y = dataset(s.data, s.seed)
    sigmas = [0.0, *SCALES] + ([] if s.sigma in SCALES or s.sigma == 0 else [float(s.sigma)])
    batch = mlp_batch([(s.width, sigma, s.seed) for sigma in sigmas], s.depth)
    _, hs = forward(batch, X)
    mine = sigmas.index(float(s.sigma))
    sweep_sigmas = np.geomspace(0.05, 20.0, 25)
    _, hs_sweep = forward(mlp_batch([(s.width, sg, s.seed) for sg in sweep_sigmas], s.depth), X)
    return InitResult(
        settings=s,
        sigmas=sigmas,
        training=train_batch(batch, X, y, s.lr, s.steps),
        saturated=saturation(hs),
        activations=[h[mine].reshape(-1) for h in hs],
        sweep_sigmas=sweep_sigmas,
        sweep_saturated=saturation(hs_sweep),
    )


def sigma_label(sigma: float) -> str:
    return t("plateaus.init.zero") if sigma == 0 else t("plateaus.init.sigma", sigma=sigma)


def init_label(r: InitResult, sigma: float) -> str:
    """The legend label of one σ; yours is marked."""
    label = sigma_label(sigma)
    return t("plateaus.init.yours", label=label) if sigma == r.settings.sigma else label


def init_order(r: InitResult) -> list[str]:
    return [init_label(r, sg) for sg in sorted(r.sigmas)]


# --- 3. restarts, width and depth ------------------------------------------------------------

WIDTHS = (1, 2, 4, 8, 16, 32)
WIDTH_GROUPS = ((1, 2, 4, 8), (16, 32))  # trained as two padded batches
DEPTHS = (1, 2, 3, 4, 6, 8)
SWEEP_SEEDS = 3


@dataclass(frozen=True)
class SweepSettings:
    net: NetSettings = field(default_factory=NetSettings)
    restarts: int = 10  # K
    width_sweep_depth: int = 1  # depth of the nets in the width sweep
    depth_sweep_width: int = 4  # width of the nets in the depth sweep


@dataclass
class JobResult:
    """What the sweep keeps of a trained batch: losses [T+1, R], divergence, wall time (small to cache)."""

    losses: torch.Tensor
    diverged_at: list[int | None]
    seconds: float


@dataclass
class SweepResult:
    settings: SweepSettings
    restart_seeds: list[int]
    restarts: JobResult
    width_final: np.ndarray  # [len(WIDTHS), SWEEP_SEEDS] final E (NaN: diverged)
    depth_final: np.ndarray  # [len(DEPTHS), SWEEP_SEEDS]
    seconds: float
    n_nets: int

    @property
    def restart_final(self) -> np.ndarray:
        return _final(self.restarts)

    @property
    def best(self) -> int:
        f = self.restart_final
        return int(np.nanargmin(f)) if np.isfinite(f).any() else 0


def _final(tr: BatchTraining | JobResult) -> np.ndarray:
    """Final E per member; NaN for members that diverged."""
    f = tr.losses[-1].numpy().copy()
    f[[k is not None for k in tr.diverged_at]] = np.nan
    return f


@dataclass(frozen=True)
class TrainJob:
    """One batch of nets of one depth, trained side by side (plain values: safe to cache on).

    ``kind`` ("restarts", "width" or "depth" sweep) names the batch; its text, in the reader's
    language, is ``text`` (not a field: the cached training must not depend on the language)."""

    kind: str
    members: tuple[tuple[int, float, int], ...]  # (width, σ, seed)
    depth: int
    data: str
    data_seed: int
    lr: float
    steps: int

    @property
    def text(self) -> str:
        """What this batch is, for the progress bar."""
        width = self.members[0][0]
        if self.kind == "restarts":
            return t("plateaus.restarts.job.restarts", k=len(self.members), width=width, depth=self.depth)
        if self.kind == "width":
            widths = t("plateaus.list_sep").join(map(str, dict.fromkeys(m[0] for m in self.members)))
            return t("plateaus.restarts.job.width", depth=self.depth, widths=widths)
        return t("plateaus.restarts.job.depth", width=width, depth=self.depth)

    @property
    def cost(self) -> int:
        """≈ relative run time: layers × (fixed overhead + members × width) (measured roughly)."""
        width = max(m[0] for m in self.members)
        return (self.depth + 1) * (20 + len(self.members) * width)


def run_job(job: TrainJob) -> JobResult:
    X, y = dataset(job.data, job.data_seed)
    tr = train_batch(mlp_batch(job.members, job.depth), X, y, job.lr, job.steps)
    return JobResult(tr.losses, tr.diverged_at, tr.seconds)


def sweep_jobs(s: SweepSettings) -> list[TrainJob]:
    """The restarts, the width sweep (two padded batches) and one batch per depth of the depth sweep."""
    n = s.net
    common = dict(data=n.data, data_seed=n.seed, lr=n.lr, steps=n.steps)
    jobs = [
        TrainJob(
            "restarts",
            tuple((n.width, n.sigma, n.seed + k) for k in range(s.restarts)),
            n.depth,
            **common,
        ),
    ]
    for group in WIDTH_GROUPS:  # padded to the group's widest: narrow nets do not pay for width 32
        jobs.append(
            TrainJob(
                "width",
                tuple((w, n.sigma, n.seed + k) for w in group for k in range(SWEEP_SEEDS)),
                s.width_sweep_depth,
                **common,
            )
        )
    jobs += [
        TrainJob(
            "depth",
            tuple((s.depth_sweep_width, n.sigma, n.seed + k) for k in range(SWEEP_SEEDS)),
            d,
            **common,
        )
        for d in DEPTHS
    ]
    return jobs


def sweep_result(s: SweepSettings, trainings: list[JobResult]) -> SweepResult:
    """Assemble the results of ``sweep_jobs(s)``, in order."""
    k = len(WIDTH_GROUPS)
    restarts, widths, depths = trainings[0], trainings[1 : 1 + k], trainings[1 + k :]
    return SweepResult(
        settings=s,
        restart_seeds=[s.net.seed + k for k in range(s.restarts)],
        restarts=restarts,
        width_final=np.concatenate([_final(w) for w in widths]).reshape(len(WIDTHS), SWEEP_SEEDS),
        depth_final=np.stack([_final(d) for d in depths]),
        seconds=sum(t.seconds for t in trainings),
        n_nets=sum(t.losses.shape[1] for t in trainings),
    )


def sweep_experiment(s: SweepSettings, progress: Callable[[float, str], None] | None = None) -> SweepResult:
    """K restarts of the shared net, then final E vs width and vs depth (``SWEEP_SEEDS`` seeds each).

    ``progress(fraction, text)`` is called before each batch of networks is trained.
    """
    jobs = sweep_jobs(s)
    total, done, trainings = float(sum(j.cost for j in jobs)), 0, []
    for job in jobs:
        if progress:
            progress(done / total, job.text)
        trainings.append(run_job(job))
        done += job.cost
    if progress:
        progress(1.0, "done")
    return sweep_result(s, trainings)


# --- 4. learning-rate schedules on a surface with a shallow and a deep minimum ---------------

WELLS_VIEW = ((-3.0, -3.0), (3.0, 3.0))
BASIN_RADIUS = 0.3  # a run "ends in" a minimum when it finishes this close to it (θ units)
ZOOM = 0.6  # half-width of the close-up around the shallow minimum (θ units)


@dataclass(frozen=True)
class TwoWells:
    """E(θ) = β‖θ‖² − d₁ exp(−‖θ−c₁‖²/(2s₁²)) + d₂ (1 − exp(−‖θ−c₂‖²/(2s₂²))).

    A sharp, shallow minimum near c₁ (Hessian ≈ d₁/s₁² I = 100 I: GD is stable there only for
    γ < 2/λ_max ≈ 0.02) on the slope of a wide, deep one near c₂ (Hessian ≈ d₂/s₂² I ≈ 2 I,
    stable for γ < 1). Vectorized over leading dimensions: numpy ``loss_grad`` for long runs,
    torch ``__call__`` for grids and autograd (the tests' reference).
    """

    LATEX: ClassVar[str] = (
        r"E(\theta) = \beta\|\theta\|^2 - d_1 e^{-\|\theta-c_1\|^2/2s_1^2}"
        r" + d_2\big(1 - e^{-\|\theta-c_2\|^2/2s_2^2}\big)"
    )
    beta: float = 0.02
    c1: tuple[float, float] = (-1.5, 1.0)
    s1: float = 0.15
    d1: float = 2.25
    c2: tuple[float, float] = (1.0, -0.5)
    s2: float = 1.2
    d2: float = 3.0

    def loss_grad(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(E [...], ∇E [..., 2]); ∇E = 2βθ + d₁g₁(θ−c₁)/s₁² + d₂g₂(θ−c₂)/s₂²."""
        theta = np.asarray(theta, dtype=np.float64)
        u1, u2 = theta - np.array(self.c1), theta - np.array(self.c2)
        g1 = np.exp(-(u1 * u1).sum(-1) / (2 * self.s1**2))
        g2 = np.exp(-(u2 * u2).sum(-1) / (2 * self.s2**2))
        E = self.beta * (theta * theta).sum(-1) - self.d1 * g1 + self.d2 * (1 - g2)
        grad = 2 * self.beta * theta + (self.d1 / self.s1**2 * g1)[..., None] * u1
        grad += (self.d2 / self.s2**2 * g2)[..., None] * u2
        return E, grad

    def __call__(self, theta: torch.Tensor) -> torch.Tensor:
        u1 = theta - torch.tensor(self.c1, dtype=theta.dtype)
        u2 = theta - torch.tensor(self.c2, dtype=theta.dtype)
        g1 = torch.exp(-u1.pow(2).sum(-1) / (2 * self.s1**2))
        g2 = torch.exp(-u2.pow(2).sum(-1) / (2 * self.s2**2))
        return self.beta * theta.pow(2).sum(-1) - self.d1 * g1 + self.d2 * (1 - g2)

    def hessian(self, theta) -> np.ndarray:
        """∇²E(θ) [2, 2] = 2βI + Σₖ (±dₖ gₖ/sₖ²)(I − uₖuₖᵀ/sₖ²), uₖ = θ − cₖ (+ for the dip d₁, + for d₂)."""
        theta = np.asarray(theta, dtype=np.float64)
        H = 2 * self.beta * np.eye(2)
        for c, s, d in ((self.c1, self.s1, self.d1), (self.c2, self.s2, self.d2)):
            u = theta - np.array(c)
            g = math.exp(-float(u @ u) / (2 * s * s))
            H += d * g / s**2 * (np.eye(2) - np.outer(u, u) / s**2)
        return H

    def minima(self) -> dict[str, np.ndarray]:
        """{"shallow": θ₁*, "deep": θ₂*}: Newton's method θ ← θ − H⁻¹∇E from each centre."""
        found = {}
        for name, c in (("shallow", self.c1), ("deep", self.c2)):
            theta = np.array(c, dtype=np.float64)
            for _ in range(50):
                step = np.linalg.solve(self.hessian(theta), self.loss_grad(theta)[1])
                theta = theta - step
                if np.abs(step).max() < 1e-15:
                    break
            found[name] = theta
        return found


SCHEDULES = ("constant", "step decay", "exponential", "cyclical")
SCHEDULE_KEYS = {"constant": "constant", "step decay": "step", "exponential": "exponential", "cyclical": "cyclical"}


def schedule_name(name: str) -> str:
    """The shown name of schedule ``name`` (one of ``SCHEDULES``, which stay the code's names)."""
    return t(f"plateaus.schedules.name.{SCHEDULE_KEYS[name]}")


def schedule_order() -> list[str]:
    """The shown names of the schedules, in legend order."""
    return [schedule_name(name) for name in SCHEDULES]


@dataclass(frozen=True)
class ScheduleSettings:
    lr_const: float = 0.01  # constant γ
    lr0: float = 0.1  # γ₀ of step decay and exponential decay
    factor: float = 0.1  # step decay: γ multiplied by this …
    every: int = 1000  # … every this many steps
    alpha: float = 1e-3  # exponential decay rate α (per step)
    lr_min: float = 0.001  # cyclical: γ_min …
    lr_max: float = 0.1  # … γ_max …
    period: int = 1000  # … and period (steps)
    steps: int = 3000
    offset: tuple[float, float] = (0.05, -0.03)  # start = shallow minimum + offset

    def schedules(self) -> dict[str, Callable[[int], float]]:
        return {
            "constant": optim.constant(self.lr_const),
            "step decay": optim.step_decay(self.lr0, self.factor, self.every),
            "exponential": optim.exponential_decay(self.lr0, self.alpha),
            "cyclical": optim.cyclical(self.lr_min, self.lr_max, self.period),
        }

    def formulas(self) -> dict[str, str]:
        f = "plateaus.schedules.formula."
        return {
            "constant": t(f + "constant", lr=self.lr_const),
            "step decay": t(f + "step", lr0=self.lr0, factor=self.factor, every=self.every),
            "exponential": t(f + "exponential", lr0=self.lr0, alpha=self.alpha),
            "cyclical": t(f + "cyclical", lo=self.lr_min, hi=self.lr_max, period=self.period),
        }


@dataclass
class ScheduleRun:
    name: str
    formula: str
    ends_in: str  # "deep", "shallow" or "neither"
    left_at: int | None  # first step farther than 3·s₁ from the shallow minimum
    final: tuple[float, float]
    E_final: float
    diverged_at: int | None


@dataclass
class ScheduleResult:
    settings: ScheduleSettings
    wells: TwoWells
    minima: dict[str, np.ndarray]
    E_minima: dict[str, float]
    lambda_max: dict[str, float]  # largest Hessian eigenvalue at each minimum
    start: np.ndarray
    descent: Descent
    runs: list[ScheduleRun]


def schedule_experiment(s: ScheduleSettings) -> ScheduleResult:
    """GD from next to the shallow minimum under each schedule, all runs at once."""
    wells = TwoWells()
    minima = wells.minima()
    start = minima["shallow"] + np.array(s.offset)
    schedules = s.schedules()
    lrs = np.array([[sched(t) for sched in schedules.values()] for t in range(s.steps)]).reshape(s.steps, -1)
    descent = descend(wells.loss_grad, np.repeat(start[None], len(schedules), 0), lrs)
    lam = {k: float(np.linalg.eigvalsh(wells.hessian(m))[-1]) for k, m in minima.items()}
    runs = []
    for i, (name, formula) in enumerate(s.formulas().items()):
        theta, E_end = descent.final(i)
        near = {k: float(np.linalg.norm(theta - m)) for k, m in minima.items()}
        ends = min(near, key=near.get) if min(near.values()) < BASIN_RADIUS else "neither"
        if descent.diverged_at[i] is not None:
            ends = "neither"
        away = np.sqrt(((descent.thetas[:, i] - minima["shallow"]) ** 2).sum(-1)) > 3 * wells.s1
        left = np.flatnonzero(away)
        runs.append(
            ScheduleRun(
                name=name,
                formula=formula,
                ends_in=ends,
                left_at=int(left[0]) if len(left) else None,
                final=(float(theta[0]), float(theta[1])),
                E_final=E_end,
                diverged_at=descent.diverged_at[i],
            )
        )
    E_min = {k: float(wells.loss_grad(m)[0]) for k, m in minima.items()}
    return ScheduleResult(s, wells, minima, E_min, lam, start, descent, runs)


# --- DataFrames for the charts, and the "what to notice" text --------------------------------


def _curve_steps(T: int, n: int = 500, head: int = 50) -> np.ndarray:
    """Steps 0…T to draw: every step of the first ``head`` (fast early changes), ~n in all."""
    return np.unique(np.concatenate([np.arange(min(T, head) + 1), np.linspace(0, T, n).round()]).astype(int))


def init_frames(r: InitResult) -> dict[str, pd.DataFrame]:
    """curves [σ, step, E]; hist [layer, lo, hi, share]; saturation [σ, layer, saturated];
    gradients: per-layer ‖∇‖ at the first and last step for zero init and your σ."""
    s, tr = r.settings, r.training
    T = tr.losses.shape[0] - 1
    steps = _curve_steps(T)
    curves = pd.concat(
        [
            pd.DataFrame({"σ": init_label(r, sg), "step": steps, "E": tr.losses[steps, i].numpy()})
            for i, sg in sorted(enumerate(r.sigmas), key=lambda p: p[1])
        ],
        ignore_index=True,
    )
    names = layer_names(s.depth)
    # 40 bins over (−0.99, 0.99) and one narrow bin at each end holding exactly the saturated outputs
    edges = np.concatenate([[-1.0], np.linspace(-SATURATED, SATURATED, 41), [1.0]])
    mine_sat = r.saturated[r.index(float(s.sigma))]
    hist = []
    for l, h in enumerate(r.activations):
        counts, _ = np.histogram(h.numpy(), bins=edges)
        label = t("plateaus.init.hist_layer", layer=names[l], pct=100 * float(mine_sat[l]))
        saturated = np.where(
            (edges[:-1] >= SATURATED) | (edges[1:] <= -SATURATED),
            t("plateaus.init.hist_yes"),
            t("plateaus.init.hist_no"),
        )
        hist.append(
            pd.DataFrame(
                {"layer": label, "lo": edges[:-1], "hi": edges[1:], "share": counts / h.numel(), "saturated": saturated}
            )
        )
    sat = pd.DataFrame(
        [
            {"σ": float(sg), "layer": names[l], "saturated": float(r.sweep_saturated[i, l])}
            for i, sg in enumerate(r.sweep_sigmas)
            for l in range(s.depth)
        ]
    )
    zero, mine = r.index(0.0), r.index(float(s.sigma))
    last = _last_finite_step(tr.losses[:, mine])
    g = tr.layer_grad_norms
    grads = pd.DataFrame(
        {
            t("plateaus.init.layer"): names,
            t("plateaus.init.zero_step", step=0): g[0, zero].numpy(),
            t("plateaus.init.zero_step", step=T): g[T, zero].numpy(),
            t("plateaus.init.sigma_step", sigma=sigma_label(s.sigma), step=0): g[0, mine].numpy(),
            t("plateaus.init.sigma_step", sigma=sigma_label(s.sigma), step=last): g[last, mine].numpy(),
        }
    )
    return {"curves": curves, "hist": pd.concat(hist, ignore_index=True), "saturation": sat, "gradients": grads}


def _last_finite_step(losses: torch.Tensor) -> int:
    ok = torch.nonzero(torch.isfinite(losses)).flatten()
    return int(ok[-1]) if len(ok) else 0


def init_notice(r: InitResult) -> list[str]:
    s, tr = r.settings, r.training
    T = tr.losses.shape[0] - 1
    zero, mine = r.index(0.0), r.index(float(s.sigma))
    g0 = tr.layer_grad_norms[:, zero]  # [T+1, L+1]
    hidden_max = float(g0[:, :-1].abs().max())
    final = {sg: float(tr.losses[_last_finite_step(tr.losses[:, i]), i]) for i, sg in enumerate(r.sigmas)}
    moved = float(tr.losses[0, zero] - tr.losses[T, zero])
    size = (
        t("plateaus.init.notice.exactly_zero") if hidden_max == 0 else t("plateaus.init.notice.at_most", g=hidden_max)
    )
    if abs(moved) < 1e-12:
        rest = t("plateaus.init.notice.for_good")
    elif moved > 0:
        rest = t("plateaus.init.notice.bias", moved=moved)
    else:  # the bias alone overshoots: E went up (a γ far too large), say so rather than "gained -80"
        rest = t("plateaus.init.notice.bias_up", rose=-moved)
    lines = [t("plateaus.init.notice.zero", size=size, T=T, E=float(tr.losses[0, zero]), rest=rest)]
    sat = r.saturated[mine]
    shares = t("plateaus.list_sep").join(t("plateaus.init.notice.share", pct=100 * float(v)) for v in sat)
    lines.append(
        t(
            "plateaus.init.notice.yours",
            sigma=s.sigma,
            shares=shares,
            sat=SATURATED,
            depth=s.depth,
            E=final[float(s.sigma)],
            T=T,
        )
    )
    small, large = min(x for x in r.sigmas if x > 0), max(r.sigmas)
    best = min((x for x in r.sigmas if x > 0), key=lambda x: final[x] if math.isfinite(final[x]) else math.inf)
    mid = final[best]
    verdicts = []
    for sg, word in ((small, "too_small"), (large, "too_large")):
        hurt = final[sg] > 2 * mid
        how = t("plateaus.init.notice.hurts") if hurt else t("plateaus.init.notice.no_hurt")
        verdicts.append(t(f"plateaus.init.notice.{word}", sigma=sg, E=final[sg], how=how))
    sat_large = float(r.saturated[r.index(large)].mean())
    lines.append(
        t(
            "plateaus.init.notice.best",
            best=best,
            E=mid,
            verdicts=t("plateaus.init.notice.verdict_sep").join(verdicts),
            large=large,
            pct=100 * sat_large,
        )
    )
    diverged = [sigma_label(sg) for sg, k in zip(r.sigmas, tr.diverged_at) if k is not None]
    if diverged:
        which = t("plateaus.list_sep").join(diverged)
        lines.append(Alert(t("plateaus.init.notice.diverged", which=which, lr=s.lr)))
    return lines


def restart_frames(r: SweepResult) -> tuple[pd.DataFrame, pd.DataFrame]:
    """strip [restart, seed, final E, kept], curves [restart, step, E, kept]."""
    f = r.restart_final
    labels = [t("plateaus.restarts.seed", k=k) for k in r.restart_seeds]
    best, other = t("plateaus.restarts.kept"), t("plateaus.restarts.discarded")
    kept = [best if i == r.best else other for i in range(len(f))]
    strip = pd.DataFrame({"restart": labels, "seed": r.restart_seeds, "final E": f, "kept": kept})
    T = r.restarts.losses.shape[0] - 1
    steps = _curve_steps(T, n=200)
    curves = pd.concat(
        [
            pd.DataFrame(
                {"restart": labels[i], "step": steps, "E": r.restarts.losses[steps, i].numpy(), "kept": kept[i]}
            )
            for i in range(len(f))
        ],
        ignore_index=True,
    )
    return strip, curves


def sweep_frames(r: SweepResult) -> tuple[pd.DataFrame, pd.DataFrame]:
    """[width, seed, final E] and [depth, seed, final E]."""
    n = r.settings.net

    def frame(name, values, finals):
        return pd.DataFrame(
            [
                {name: v, "seed": n.seed + k, "final E": float(finals[i, k])}
                for i, v in enumerate(values)
                for k in range(SWEEP_SEEDS)
            ]
        )

    return frame("width", WIDTHS, r.width_final), frame("depth", DEPTHS, r.depth_final)


def sweep_notice(r: SweepResult) -> list[str]:
    s, n = r.settings, r.settings.net
    f = r.restart_final
    ok = f[np.isfinite(f)]
    sep = t("plateaus.list_sep")
    lines = []
    if len(ok):
        lines.append(
            t(
                "plateaus.restarts.notice.restarts",
                n=len(f),
                lo=ok.min(),
                hi=ok.max(),
                median=np.median(ok),
                best=r.restart_seeds[r.best],
                gain=np.median(ok) / ok.min(),
            )
        )
    w_med = np.nanmedian(r.width_final, 1)
    d_med = np.nanmedian(r.depth_final, 1)
    w_best, d_best = int(np.nanargmin(w_med)), int(np.nanargmin(d_med))
    helps = all(w_med[i + 1] <= w_med[i] * 1.1 for i in range(len(WIDTHS) - 1))
    lines.append(
        t(
            "plateaus.restarts.notice.width",
            depth=s.width_sweep_depth,
            seeds=SWEEP_SEEDS,
            values=" → ".join(f"{v:.3f}" for v in w_med),
            widths=sep.join(map(str, WIDTHS)),
            verdict=t("plateaus.restarts.notice.width_helps")
            if helps
            else t("plateaus.restarts.notice.width_mostly", best=WIDTHS[w_best]),
        )
    )
    deeper = d_med[d_best + 1 :]
    hurts = len(deeper) and float(np.nanmax(deeper)) > 1.5 * d_med[d_best]
    lines.append(
        t(
            "plateaus.restarts.notice.depth",
            width=s.depth_sweep_width,
            values=" → ".join(f"{v:.3f}" for v in d_med),
            depths=sep.join(map(str, DEPTHS)),
            best=DEPTHS[d_best],
            verdict=t("plateaus.restarts.notice.depth_hurts", worst=float(np.nanmax(deeper)), steps=n.steps)
            if hurts
            else t("plateaus.restarts.notice.depth_fine"),
        )
    )
    lines.append(t("plateaus.restarts.notice.trained", n=r.n_nets, seconds=r.seconds))
    return lines


def schedule_frames(r: ScheduleResult, grid_n: int = 61) -> dict[str, pd.DataFrame]:
    """lrs [schedule, step, γ], losses [schedule, step, E], paths [run, step, θ₁, θ₂], grid, points."""
    d = r.descent
    T = d.lrs.shape[0]
    names = [schedule_name(run.name) for run in r.runs]
    steps = _curve_steps(T, n=600, head=100)
    lr_steps = steps[steps < T]
    lrs = pd.concat(
        [pd.DataFrame({"schedule": n, "step": lr_steps, "γ": d.lrs[lr_steps, i]}) for i, n in enumerate(names)],
        ignore_index=True,
    )
    losses = pd.concat(
        [pd.DataFrame({"schedule": n, "step": steps, "E": d.losses[steps, i]}) for i, n in enumerate(names)],
        ignore_index=True,
    )
    paths = []
    for i, n in enumerate(names):
        keep = thin_path(d.thetas[:, i])
        paths.append(pd.DataFrame({"run": n, "step": keep, "θ₁": d.thetas[keep, i, 0], "θ₂": d.thetas[keep, i, 1]}))
    (lo1, lo2), (hi1, hi2) = WELLS_VIEW
    grid = _wells_grid(r.wells, (lo1, hi1), (lo2, hi2), grid_n)
    c = r.minima["shallow"]
    zoom_box = ((c[0] - ZOOM, c[0] + ZOOM), (c[1] - ZOOM, c[1] + ZOOM))
    zoom_paths = []
    for i, n in enumerate(names):
        th = d.thetas[:, i]
        outside = np.flatnonzero(~((np.abs(th - c) <= ZOOM).all(-1)))  # NaN counts as outside
        until = int(outside[0]) + 1 if len(outside) else len(th)  # up to the first step out of the box
        keep = thin_path(th[:until], max_points=400)
        zoom_paths.append(pd.DataFrame({"run": n, "step": keep, "θ₁": th[keep, 0], "θ₂": th[keep, 1]}))
    points = pd.DataFrame(
        [
            {"θ₁": m[0], "θ₂": m[1], "label": t(f"plateaus.schedules.{k}_point", E=r.E_minima[k])}
            for k, m in r.minima.items()
        ]
        + [{"θ₁": r.start[0], "θ₂": r.start[1], "label": t("plateaus.schedules.start")}]
    )
    return {
        "lrs": lrs,
        "losses": losses,
        "paths": pd.concat(paths, ignore_index=True),
        "grid": grid,
        "points": points,
        "zoom_grid": _wells_grid(r.wells, *zoom_box, grid_n),
        "zoom_paths": pd.concat(zoom_paths, ignore_index=True),
    }


def _wells_grid(wells: TwoWells, range1, range2, n: int) -> pd.DataFrame:
    A, B = np.meshgrid(np.linspace(*range1, n), np.linspace(*range2, n))
    E, _ = wells.loss_grad(np.stack([A, B], -1))
    return pd.DataFrame({"θ₁": A.ravel(), "θ₂": B.ravel(), "E": E.ravel()})


def schedule_table(r: ScheduleResult) -> pd.DataFrame:
    def col(key: str) -> str:
        return t(f"plateaus.schedules.table.{key}")

    return pd.DataFrame(
        [
            {
                col("schedule"): schedule_name(run.name),
                col("formula"): run.formula,
                col("first_last"): f"{r.descent.lrs[0, i]:.3g} → {r.descent.lrs[-1, i]:.3g}",
                col("left"): col("never") if run.left_at is None else f"{run.left_at:,}",
                col("ends"): col(run.ends_in),
                col("final"): run.E_final,
            }
            for i, run in enumerate(r.runs)
        ]
    )


def schedule_notice(r: ScheduleResult) -> list[str]:
    lam = r.lambda_max["shallow"]
    edge = 2 / lam
    lines = [
        t(
            "plateaus.schedules.notice.intro",
            E_shallow=r.E_minima["shallow"],
            lam=lam,
            edge=edge,
            E_deep=r.E_minima["deep"],
            lam_deep=r.lambda_max["deep"],
            edge_deep=2 / r.lambda_max["deep"],
        )
    ]
    for i, run in enumerate(r.runs):
        name = schedule_name(run.name)
        if run.diverged_at is not None:
            diverged = t("plateaus.schedules.notice.diverged", name=name, formula=run.formula, step=run.diverged_at)
            lines.append(Alert(diverged))
            continue
        g_max = float(r.descent.lrs[:, i].max())
        if run.ends_in == "deep":
            lr = r.descent.lrs[max(run.left_at - 1, 0), i]
            how = t("plateaus.schedules.notice.deep", step=run.left_at, lr=lr, edge=edge, E=run.E_final)
        elif run.ends_in == "shallow":
            why = (
                t("plateaus.schedules.notice.below", g=g_max)
                if g_max < edge
                else t("plateaus.schedules.notice.bounces", g=g_max)
            )
            how = t("plateaus.schedules.notice.shallow", E=run.E_final, why=why)
        else:
            how = t("plateaus.schedules.notice.neither", E=run.E_final)
        lines.append(t("plateaus.schedules.notice.run", name=name, formula=run.formula, how=how))
    return lines
