"""Non-convexity, measured: one linear layer is convex, two linear layers are not.

The lecture's two error functions of two parameters, on the same data (xₙ, tₙ):

    one layer   E(w₁, w₂) = 1/N Σₙ (w₁xₙ + w₂ − tₙ)² + λ(w₁² + w₂²)   input (xₙ, 1): weight and bias
    two layers  E(w, v)   = 1/N Σₙ (v·w·xₙ − tₙ)² + λ(v² + w²)

Everything the page shows is computed here: the error surface on a grid, the
critical points classified by their Hessian eigenvalues, the convexity verdict
(the smallest Hessian eigenvalue at every grid point), a 1-D slice with its
chord (the definition of convexity made visible), and gradient descent from a
chosen start plus seeded random restarts. E is dimensionless (squared target
units); w, v are dimensionless weights; Hessian eigenvalues are in units of E.

>>> r = experiment(Settings())
>>> [(c.kind, round(c.E, 6), tuple(round(e, 6) for e in c.eigenvalues)) for c in r.critical[:2]]
[('saddle', 1.0, (-1.8, 2.2)), ('minimum', 0.19, (0.4, 3.6))]
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import pandas as pd
import torch
from torch.func import vmap

from core import hessian, optim, surfaces
from core.i18n import t

DTYPE = torch.float64
MODELS = ("two layers", "one layer")
PARAM_NAMES = {"two layers": ("w", "v"), "one layer": ("w₁", "w₂")}
SPREAD_X, SPREAD_T = 0.5, 0.2  # jitter of samples 2..N around (x, t)
MIN_SPAN, MAX_SPAN = 2.0, 5.0  # half-width of the square view over the parameters
REACH_TOL = 1e-2  # a run "reached" a critical point when it ends (and stays) this close to it (θ units)
EIG_TOL = 1e-8  # |eigenvalue| below this counts as zero when classifying
MAX_PATH_POINTS = 150  # per run sent to the browser; the stride keeps the last step


@dataclass(frozen=True)
class Settings:
    """Everything that determines an experiment (plain values: safe to cache on)."""

    model: str = "two layers"
    lam: float = 0.1  # weight decay λ
    n: int = 1  # number of samples N
    x: float = 1.0  # input of sample 1
    t: float = 1.0  # target of sample 1
    data_seed: int = 0  # jitter of samples 2..N
    start: tuple[float, float] = (1.5, -0.5)  # your GD start θ₀
    lr: float = 0.1  # learning rate γ
    steps: int = 300
    restarts: int = 8  # extra runs from θ₀ ~ N(0, σ²I)
    init_scale: float = 1.0  # σ
    seed: int = 0  # of the restarts' starts
    grid_n: int = 81  # odd: the origin is a grid point


# --- the two models ---------------------------------------------------------------


def dataset(n: int, x: float, t: float, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """(x [N], t [N]). Sample 1 is exactly (x, t), the slide's N=1 case; samples 2..N are
    xₙ = x + 0.5 zₙ, tₙ = t + 0.2 z'ₙ with z, z' ~ N(0, 1) drawn from ``seed``."""
    g = torch.Generator().manual_seed(int(seed))
    z = torch.randn(2, max(int(n) - 1, 0), generator=g, dtype=DTYPE)
    xs = torch.cat([torch.tensor([x], dtype=DTYPE), x + SPREAD_X * z[0]])
    ts = torch.cat([torch.tensor([t], dtype=DTYPE), t + SPREAD_T * z[1]])
    return xs, ts


def surface(model: str, xs: torch.Tensor, ts: torch.Tensor, lam: float) -> surfaces.Surface:
    """The chosen model's E(θ), θ = (w, v) or (w₁, w₂), vectorized over leading dims."""
    if model == "two layers":
        return surfaces.two_layer_linear(xs, ts, lam)
    if model == "one layer":
        return surfaces.linear_regression(torch.stack([xs, torch.ones_like(xs)], 1), ts, lam)
    raise ValueError(f"model must be one of {MODELS}, got {model!r}")


def hessian_eigenvalues(E, thetas: torch.Tensor) -> torch.Tensor:
    """Eigenvalues (ascending) of H(θ) = ∂²E/∂θ² at every θ of ``thetas [..., 2]`` -> [..., 2].

    One vmapped torch.func Hessian over all points: a 81×81 grid is one call.
    """
    flat = thetas.reshape(-1, thetas.shape[-1]).to(DTYPE)
    H = vmap(partial(hessian.exact, E))(flat)  # [M, 2, 2]
    return torch.linalg.eigvalsh(H).reshape(*thetas.shape[:-1], thetas.shape[-1])


# --- critical points -------------------------------------------------------------------


@dataclass(frozen=True)
class CriticalPoint:
    theta: tuple[float, float]
    E: float
    eigenvalues: tuple[float, float]  # of the Hessian, ascending
    kind: str  # "minimum" | "saddle" | "maximum" | "degenerate"

    @property
    def label(self) -> str:
        w, v = self.theta
        return f"{self.kind} ({w:+.2f}, {v:+.2f})"


def classify(eigenvalues, tol: float = EIG_TOL) -> str:
    """Second-derivative test: all > 0 minimum, all < 0 maximum, both signs saddle, else degenerate."""
    lam = np.asarray(eigenvalues, dtype=float)
    if (lam > tol).all():
        return "minimum"
    if (lam < -tol).all():
        return "maximum"
    if (lam > tol).any() and (lam < -tol).any():
        return "saddle"
    return "degenerate"


def critical_points(E) -> list[CriticalPoint]:
    """The closed-form critical points (two layers: origin and w=±v branches; one layer: w*),
    each with E and its Hessian eigenvalues, classified."""
    pts = E.critical_points() if hasattr(E, "critical_points") else E.minimizer().reshape(1, -1)
    eigs = hessian_eigenvalues(E, pts)  # [K, 2], one batched call
    with torch.no_grad():
        values = E(pts)
    return [
        CriticalPoint(
            theta=(float(p[0]), float(p[1])),
            E=float(e),
            eigenvalues=(float(lam[0]), float(lam[1])),
            kind=classify(lam.tolist()),
        )
        for p, e, lam in zip(pts, values, eigs)
    ]


# --- convexity ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """E is convex on the grid iff λ_min(H(θ)) ≥ 0 at every grid point (up to rounding)."""

    convex: bool
    lambda_min: float  # smallest Hessian eigenvalue over the grid
    at: tuple[float, float]  # where it is attained (the most negative point when non-convex)
    lambda_min_origin: float  # at θ = 0, for comparison with the slide's saddle
    n_points: int
    negative_share: float  # share of grid points with λ_min < 0


def verdict(lmin_grid: torch.Tensor, thetas: torch.Tensor, tol: float = 1e-12) -> Verdict:
    """From λ_min at each grid point [n, n] and the points [n, n, 2]."""
    flat = lmin_grid.reshape(-1)
    k = int(flat.argmin())
    origin = int(thetas.reshape(-1, 2).norm(dim=-1).argmin())
    lam_min = float(flat[k])
    return Verdict(
        convex=lam_min >= -tol,
        lambda_min=lam_min,
        at=tuple(float(c) for c in thetas.reshape(-1, 2)[k]),
        lambda_min_origin=float(flat[origin]),
        n_points=flat.numel(),
        negative_share=float((flat < -tol).double().mean()),
    )


@dataclass(frozen=True)
class ChordSlice:
    """E along θ(α) = (1−α)θ_a + αθ_b and the chord (1−α)E(θ_a) + αE(θ_b) for α ∈ [0, 1].

    Convexity means E ≤ chord on every such segment; ``max_rise`` > 0 is a witness
    that E is not convex (measured on ``alpha``'s points).
    """

    alpha: torch.Tensor  # [K]
    thetas: torch.Tensor  # [K, 2]
    E: torch.Tensor  # [K]
    chord: torch.Tensor  # [K] (NaN outside [0, 1])
    max_rise: float  # max over α ∈ [0, 1] of E − chord
    at: tuple[float, float]


def chord_slice(E, a, b, k: int = 121, overhang: float = 0.25) -> ChordSlice:
    a, b = torch.as_tensor(a, dtype=DTYPE), torch.as_tensor(b, dtype=DTYPE)
    alpha = torch.linspace(-overhang, 1 + overhang, k, dtype=DTYPE)
    thetas = (1 - alpha)[:, None] * a + alpha[:, None] * b
    with torch.no_grad():
        values = E(thetas)
        ends = E(torch.stack([a, b]))
    inside = (alpha >= 0) & (alpha <= 1)
    chord = torch.where(inside, (1 - alpha) * ends[0] + alpha * ends[1], torch.nan)
    rise = torch.where(inside, values - chord, -torch.inf)
    j = int(rise.argmax())
    return ChordSlice(alpha, thetas, values, chord, float(rise[j]), tuple(float(c) for c in thetas[j]))


def slice_endpoints(E_two, crit_two: list[CriticalPoint], thetas: torch.Tensor) -> tuple[tuple, tuple, tuple]:
    """The segment both models are sliced along, and how it was chosen: ``(key, values)`` of
    the catalogue string ``nonconvex.slice.<key>`` that says so (shown in the reader's language).

    Between the two-layer model's two minima when it has them; otherwise through the grid
    point ``thetas [n, n, 2]`` where the two-layer Hessian is most negative, along that
    eigenvector (half-length a quarter of the view), where a chord is most likely to be
    exceeded; if it is nowhere negative, along the diagonal w = v.
    """
    minima = [c for c in crit_two if c.kind in ("minimum", "degenerate") and any(c.theta)]
    if len(minima) >= 2:
        return minima[0].theta, minima[1].theta, ("two_minima", {})
    span = float(thetas.abs().max())
    flat = thetas.reshape(-1, 2)
    eigs = hessian_eigenvalues(E_two, flat)[:, 0]
    k = int(eigs.argmin())
    if float(eigs[k]) < 0:
        centre = flat[k]
        _, vecs = torch.linalg.eigh(hessian.exact(E_two, centre))
        h = span / 4 * vecs[:, 0]
        lo, hi = centre - h, centre + h
        return (float(lo[0]), float(lo[1])), (float(hi[0]), float(hi[1])), ("curvature", {"pt": _pt(centre)})
    h = span / 2
    return (-h, -h), (h, h), ("diagonal", {})


# --- gradient descent and restarts ---------------------------------------------------------


@dataclass(frozen=True)
class Run:
    label: str
    start: tuple[float, float]
    final: tuple[float, float]
    E: float
    grad_norm: float
    reached: str  # a critical point's label, "still moving" or "diverged"
    steps_to_reach: int | None
    diverged_at: int | None


def starts(settings: Settings) -> torch.Tensor:
    """[1 + R, 2]: your start, then R restarts θ₀ ~ N(0, σ²I) from ``seed``."""
    g = torch.Generator().manual_seed(int(settings.seed))
    noise = torch.randn(settings.restarts, 2, generator=g, dtype=DTYPE) * settings.init_scale
    return torch.cat([torch.tensor([settings.start], dtype=DTYPE), noise])


def _two_cycle(path: torch.Tensor) -> bool:
    """GD bounces between two points for good: θ_T = θ_{T−2} ≠ θ_{T−1} (a factor 1 − 2γα = −1)."""
    if path.shape[0] < 3 or not bool(torch.isfinite(path[-3:]).all()):
        return False
    back = float((path[-1] - path[-3]).norm())
    jump = float((path[-1] - path[-2]).norm())
    return jump > REACH_TOL and back <= 1e-9 * max(1.0, jump)


def summarize_runs(traj: optim.Trajectory, crit: list[CriticalPoint], E) -> list[Run]:
    """Where each run ended: a critical point (within REACH_TOL), the flat valley of minima
    (λ = 0: ∇E ≈ 0 at the lowest critical value, off the listed points), still moving, or diverged."""
    finals, losses = traj.final_thetas, traj.final_losses  # [R, 2], [R]
    points = torch.tensor([c.theta for c in crit], dtype=DTYPE)
    grads = vmap(torch.func.grad(E))(torch.nan_to_num(finals)).norm(dim=-1)  # [R]
    lowest = min(c.E for c in crit)
    runs = []
    for r in range(finals.shape[0]):
        path = traj.thetas[:, r]  # [T+1, 2]
        d = (points - finals[r]).norm(dim=-1)
        k = int(d.argmin())
        reached, steps = "still moving", None
        if traj.diverged_each[r] is not None:
            reached = "diverged"
        elif float(d[k]) < REACH_TOL:
            reached = crit[k].label
            far = torch.nonzero(~((path - points[k]).norm(dim=-1) < REACH_TOL)).flatten()
            steps = int(far.max()) + 1 if len(far) else 0
        elif float(grads[r]) < 1e-6 and float(losses[r]) <= lowest + 1e-9:
            reached = "valley of minima"
        elif _two_cycle(path):
            reached = "oscillating"
        runs.append(
            Run(
                label="your start" if r == 0 else f"restart {r}",
                start=(float(path[0, 0]), float(path[0, 1])),
                final=(float(finals[r, 0]), float(finals[r, 1])),
                E=float(losses[r]),
                grad_norm=float(grads[r]),
                reached=reached,
                steps_to_reach=steps,
                diverged_at=traj.diverged_each[r],
            )
        )
    return runs


def divergence_facts(E, traj: optim.Trajectory, r: int, lr: float) -> dict:
    """Why run r blew up, measured: the first step j of its path where γ > 2/λ_max(H(θⱼ)).

    GD on a quadratic with curvature λ is stable iff γ < 2/λ; where γ exceeds 2/λ_max the
    step overshoots along the top eigenvector, lands on steeper ground, and grows from there.
    Returns the numbers (``k`` the step it diverged at, ``j`` the first unstable step or None,
    ``top`` λ_max there or the largest on the path); ``divergence_text`` words them.
    """
    k = traj.diverged_each[r]
    path = traj.thetas[:k, r]
    path = path[torch.isfinite(path).all(-1)]
    lam_max = hessian_eigenvalues(E, path)[:, -1]  # [j]
    unstable = torch.nonzero(lr * lam_max > 2).flatten()
    if len(unstable):
        j = int(unstable[0])
        return {"k": k, "lr": lr, "j": j, "top": float(lam_max[j])}
    return {"k": k, "lr": lr, "j": None, "top": float(lam_max.max())}


def divergence_text(facts: dict) -> str:
    """One sentence (in the reader's language) from ``divergence_facts``."""
    k, lr, j, top = facts["k"], facts["lr"], facts["j"], facts["top"]
    if j is not None:
        where = t("nonconvex.divergence.at_start") if j == 0 else t("nonconvex.divergence.at_step", j=j)
        return t("nonconvex.divergence.unstable", k=k, lr=lr, bound=2 / top, where=where, top=top)
    return t("nonconvex.divergence.unpredicted", k=k, lr=lr, bound=2 / top)


def divergence_reason(E, traj: optim.Trajectory, r: int, lr: float) -> str:
    """``divergence_facts`` in words."""
    return divergence_text(divergence_facts(E, traj, r, lr))


# --- the whole experiment ----------------------------------------------------------------------


@dataclass
class Result:
    settings: Settings
    names: tuple[str, str]
    span: float
    critical: list[CriticalPoint]
    verdict: Verdict
    runs: list[Run]
    slices: dict[str, ChordSlice]  # model -> slice along the same segment
    slice_via: tuple[str, dict]  # how the segment was chosen: (key, values) of nonconvex.slice.<key>
    diverged: list[tuple[str, dict]]  # (run label, divergence_facts) per diverged run
    data: tuple[tuple[float, ...], tuple[float, ...]]  # (x [N], t [N])
    convex_bound: float | None  # one layer: 2λ + 2λ_min(XᵀX/N), the Hessian's smallest eigenvalue
    stride: int  # path points kept every `stride` steps
    grid: pd.DataFrame = field(repr=False)  # w, v, E, lmin
    paths: pd.DataFrame = field(repr=False)  # run, label, step, next_step, w, v, E, final_E, main

    # Words are made when read, in the reader's language: a Result holds numbers and identifiers only.

    @property
    def slice_how(self) -> str:
        key, values = self.slice_via
        return t(f"nonconvex.slice.{key}", **values)

    @property
    def divergence(self) -> list[str]:
        """One sentence per diverged run."""
        return [
            t("nonconvex.divergence.run", run=run_name(label), text=divergence_text(facts))
            for label, facts in self.diverged
        ]

    @property
    def main(self) -> Run:
        return self.runs[0]

    @property
    def best(self) -> Run:
        ok = [r for r in self.runs if r.diverged_at is None] or self.runs
        return min(ok, key=lambda r: r.E)

    def shares(self) -> dict[str, float]:
        """Share of all runs (yours and the restarts) that ended at each place."""
        out: dict[str, float] = {}
        for r in self.runs:
            out[r.reached] = out.get(r.reached, 0.0) + 1 / len(self.runs)
        return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def view_span(crit: list[CriticalPoint], start) -> float:
    """Half-width of the square view: the slide's [−2, 2]², grown to show every critical point
    and your start, at most ±5."""
    far = max([abs(c) for p in crit for c in p.theta] + [0.0])
    return float(min(MAX_SPAN, max(MIN_SPAN, 1.25 * far, 1.1 * max(abs(s) for s in start))))


def experiment(s: Settings) -> Result:
    xs, ts = dataset(s.n, s.x, s.t, s.data_seed)
    E = surface(s.model, xs, ts, s.lam)
    crit = critical_points(E)
    span = view_span(crit, s.start)

    # the surface and the convexity verdict on one grid (E[j, i] = E(a[i], b[j]))
    a, b, Z = E.grid((-span, -span), (span, span), s.grid_n)
    B, A = torch.meshgrid(b, a, indexing="ij")
    thetas = torch.stack([A, B], -1)  # [n, n, 2]
    lmin = hessian_eigenvalues(E, thetas)[..., 0]
    grid = pd.DataFrame(
        {
            "w": A.reshape(-1).numpy().round(6),
            "v": B.reshape(-1).numpy().round(6),
            "E": Z.reshape(-1).numpy(),
            "lmin": lmin.reshape(-1).numpy(),
        }
    )

    # gradient descent from your start and the restarts, all at once
    traj = optim.gradient_descent(E, starts(s), lr=s.lr, steps=s.steps)
    runs = summarize_runs(traj, crit, E)
    diverged = [r for r, d in enumerate(traj.diverged_each) if d is not None]
    reasons = [(runs[r].label, divergence_facts(E, traj, r, s.lr)) for r in diverged]
    stride = max(1, math.ceil(s.steps / MAX_PATH_POINTS))

    # the same segment through both models
    E_two = surface("two layers", xs, ts, s.lam)
    crit_two = crit if s.model == "two layers" else critical_points(E_two)
    lo, hi, via = slice_endpoints(E_two, crit_two, thetas)
    slices = {m: chord_slice(surface(m, xs, ts, s.lam), lo, hi) for m in MODELS}

    X = torch.stack([xs, torch.ones_like(xs)], 1)
    bound = 2 * s.lam + 2 * float(torch.linalg.eigvalsh(X.T @ X / s.n)[0]) if s.model == "one layer" else None
    return Result(
        settings=s,
        names=PARAM_NAMES[s.model],
        span=span,
        critical=crit,
        verdict=verdict(lmin, thetas),
        runs=runs,
        slices=slices,
        slice_via=via,
        diverged=reasons,
        data=(tuple(xs.tolist()), tuple(ts.tolist())),
        convex_bound=bound,
        stride=stride,
        grid=grid,
        paths=paths_frame(traj, runs, stride),
    )


# --- tables for the page's charts ------------------------------------------------------------


def paths_frame(traj: optim.Trajectory, runs: list[Run], stride: int) -> pd.DataFrame:
    """Long table of every run's path, every ``stride``-th step plus its last finite step.

    ``next_step`` is the step of the run's next kept row (a large number on its last row),
    so the chart can mark each run's position at any step t: step ≤ t < next_step.
    """
    T = traj.thetas.shape[0]
    frames = []
    for r, run in enumerate(runs):
        ok = torch.isfinite(traj.thetas[:, r]).all(-1) & torch.isfinite(traj.losses[:, r])
        last = int(torch.nonzero(ok).max())
        keep = sorted(set(range(0, last + 1, stride)) | {last})
        idx = torch.tensor(keep)
        th = traj.thetas[idx, r].numpy()
        frames.append(
            pd.DataFrame(
                {
                    "run": r,
                    "label": run.label,
                    "step": keep,
                    "next_step": [*keep[1:], 10 * T],
                    "w": th[:, 0],
                    "v": th[:, 1],
                    "E": traj.losses[idx, r].numpy(),
                    "final_E": run.E,
                    "main": r == 0,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def critical_frame(result: Result) -> pd.DataFrame:
    """The table of critical points, headers and kinds in the reader's language."""
    p, q = result.names
    return pd.DataFrame(
        [
            {
                t("nonconvex.table.point"): kind_name(c.kind),
                p: c.theta[0],
                q: c.theta[1],
                "E": c.E,
                "λ₁": c.eigenvalues[0],
                "λ₂": c.eigenvalues[1],
            }
            for c in result.critical
        ]
    )


def runs_frame(result: Result) -> pd.DataFrame:
    """The table of runs, headers and places in the reader's language (same row order as ``result.runs``)."""
    p, q = result.names
    rows = []
    for r in result.runs:
        ended = place_name(r.reached) if r.diverged_at is None else t("nonconvex.place.diverged_at", k=r.diverged_at)
        rows.append(
            {
                t("nonconvex.table.run"): run_name(r.label),
                t("nonconvex.table.start", p=p): r.start[0],
                t("nonconvex.table.start", p=q): r.start[1],
                t("nonconvex.table.final", p=p): r.final[0],
                t("nonconvex.table.final", p=q): r.final[1],
                t("nonconvex.table.final_E"): r.E,
                t("nonconvex.table.ended_at"): ended,
                t("nonconvex.table.steps_to_reach"): r.steps_to_reach,
            }
        )
    return pd.DataFrame(rows)


def slices_frame(result: Result) -> pd.DataFrame:
    """``model`` is the model's identifier (MODELS); its shown name is ``model_name``."""
    rows = []
    for model, sl in result.slices.items():
        rows.append(
            pd.DataFrame(
                {
                    "model": model,
                    "alpha": sl.alpha.numpy(),
                    "E": sl.E.numpy(),
                    "chord": sl.chord.numpy(),
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def markers_frame(result: Result) -> pd.DataFrame:
    """Markers for the map: the critical points (kind, E, Hessian eigenvalues) and your start.
    ``kind`` is the identifier (it picks the marker's shape), ``name`` the shown kind."""
    rows = [
        {"w": c.theta[0], "v": c.theta[1], "kind": c.kind, "E": c.E, "λ₁": c.eigenvalues[0], "λ₂": c.eigenvalues[1]}
        for c in result.critical
    ]
    m = result.main
    rows.append({"w": m.start[0], "v": m.start[1], "kind": "your start", "E": result.paths["E"].iloc[0]})
    frame = pd.DataFrame(rows)
    return frame.assign(name=[kind_name(k) for k in frame["kind"]])


def chart_paths(result: Result) -> pd.DataFrame:
    """``result.paths`` with each run's label in the reader's language (the map's tooltips)."""
    names = {r.label: run_name(r.label) for r in result.runs}
    return result.paths.assign(label=result.paths["label"].map(names))


# --- words for the page (the reader's language; the page only prints them) ----------------------

FORMULAS = {  # (the error, its Hessian) per model
    "two layers": (
        r"E(w, v) = \frac{1}{N}\sum_{n=1}^{N} \bigl(v\,w\,x_n - t_n\bigr)^2 + \lambda\,(v^2 + w^2)",
        r"H = \begin{pmatrix} 2a v^2 + 2\lambda & 4a\,vw - 2b \\ 4a\,vw - 2b & 2a w^2 + 2\lambda \end{pmatrix},"
        r"\quad a = \overline{x^2},\; b = \overline{t\,x}",
    ),
    "one layer": (
        r"E(w_1, w_2) = \frac{1}{N}\sum_{n=1}^{N} \bigl(w_1 x_n + w_2 - t_n\bigr)^2 + \lambda\,(w_1^2 + w_2^2)",
        r"H = \frac{2}{N} X^\top X + 2\lambda I,\quad X_n = (x_n,\ 1)",
    ),
}
MODEL_KEYS = {"two layers": "nonconvex.model.two", "one layer": "nonconvex.model.one"}
PLACE_KEYS = {  # where a run ended, besides a critical point's label
    "still moving": "nonconvex.place.still_moving",
    "oscillating": "nonconvex.place.oscillating",
    "diverged": "nonconvex.place.diverged",
    "valley of minima": "nonconvex.place.valley",
}
KINDS = ("minimum", "saddle", "maximum", "degenerate", "your start")


def model_name(model: str) -> str:
    """The shown name of a model (the identifier stays the URL's value)."""
    return t(MODEL_KEYS[model])


def kind_name(kind: str) -> str:
    """The shown name of a critical point's kind ("minimum" …) or of the marker "your start"."""
    return t("nonconvex.run.yours") if kind == "your start" else t(f"nonconvex.kind.{kind}")


def run_name(label: str) -> str:
    """The shown name of a run: "your start" or "restart r"."""
    if label == "your start":
        return t("nonconvex.run.yours")
    return t("nonconvex.run.restart", r=int(label.rsplit(" ", 1)[-1]))


def place_name(reached: str) -> str:
    """The shown name of where a run ended: a critical point's label "minimum (+0.95, +0.95)",
    "still moving", "diverged" or "valley of minima"."""
    if reached in PLACE_KEYS:
        return t(PLACE_KEYS[reached])
    kind, sep, rest = reached.partition(" (")
    return kind_name(kind) + (" (" + rest if sep else "")


def _pt(theta) -> str:
    return f"({theta[0]:.2f}, {theta[1]:.2f})"


def data_text(r: Result) -> str:
    xs, ts = r.data
    s = r.settings
    if s.n == 1:
        return t("nonconvex.data.one", x=xs[0], t=ts[0])
    return t("nonconvex.data.many", n=s.n, x=xs[0], t=ts[0], sx=SPREAD_X, st=SPREAD_T, seed=s.data_seed)


def verdict_text(r: Result) -> str:
    v, n = r.verdict, r.settings.grid_n
    where = t("nonconvex.verdict.where", n=n, span=r.span)
    if v.convex:
        extra = t("nonconvex.verdict.constant", bound=r.convex_bound) if r.convex_bound is not None else ""
        return t("nonconvex.verdict.convex", where=where, lmin=v.lambda_min, extra=extra)
    return t(
        "nonconvex.verdict.nonconvex",
        where=where,
        lmin=v.lambda_min,
        at=_pt(v.at),
        share=v.negative_share,
        origin=v.lambda_min_origin,
    )


def run_text(run: Run, steps: int, lr: float) -> str:
    """One sentence on where a run went."""
    if run.diverged_at is not None:
        return t("nonconvex.runs.diverged", k=run.diverged_at, lr=lr)
    if run.reached.startswith("saddle") and run.steps_to_reach == 0 and run.grad_norm == 0.0:
        return t("nonconvex.runs.stayed", pt=_pt(run.final), g=run.grad_norm)
    if run.reached == "oscillating":
        return t("nonconvex.runs.oscillating", pt=_pt(run.final), E=run.E, lr=lr)
    if run.reached == "still moving":
        return t("nonconvex.runs.moving", steps=steps, pt=_pt(run.final), E=run.E, g=run.grad_norm)
    if run.reached == "valley of minima":
        return t("nonconvex.runs.valley", pt=_pt(run.final), E=run.E, g=run.grad_norm)
    kind = run.reached.split(" (")[0]
    return t("nonconvex.runs.reached", kind=kind_name(kind), pt=_pt(run.final), E=run.E, steps=run.steps_to_reach)


def shares_text(r: Result) -> str:
    parts = [t("nonconvex.shares.part", share=share, place=place_name(place)) for place, share in r.shares().items()]
    b = r.best
    return t(
        "nonconvex.shares.text",
        n=len(r.runs),
        restarts=len(r.runs) - 1,
        parts=t("nonconvex.shares.sep").join(parts),
        best=run_name(b.label),
        E=b.E,
        pt=_pt(b.final),
    )


def slice_text(r: Result) -> str:
    def says(sl: ChordSlice) -> str:
        if sl.max_rise > 1e-12:
            return t("nonconvex.slice.rises", rise=sl.max_rise, pt=_pt(sl.at))
        return t("nonconvex.slice.stays")

    two, one = r.slices["two layers"], r.slices["one layer"]
    return t("nonconvex.slice.text", how=r.slice_how, two=says(two), one=says(one))


def notice(r: Result) -> list[str]:
    """The page's "what to notice" lines, quoting the live numbers."""
    s = r.settings
    lines = [t("nonconvex.notice.start", pt=_pt(s.start), run=run_text(r.main, s.steps, s.lr)), verdict_text(r)]
    if s.model == "two layers":
        saddle = [c for c in r.critical if c.kind == "saddle"]
        if saddle:
            c = saddle[0]
            lines.append(t("nonconvex.notice.saddle", pt=_pt(c.theta), l1=c.eigenvalues[0], l2=c.eigenvalues[1]))
        elif r.critical:
            lines.append(t("nonconvex.notice.only_origin", lam=s.lam))
    lines += [slice_text(r), shares_text(r)]
    return lines
