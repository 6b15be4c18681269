"""Gradient descent with learning-rate schedules, trajectories and divergence.

θₜ₊₁ = θₜ − γ(t) ∇E(θₜ). Many starts run at once: ``theta0`` of shape
``[R, P]`` gives thetas ``[steps+1, R, P]``. A run that blows up is frozen at
that step (its later entries are NaN) and reported in ``diverged_each``; when
every run has diverged the loop stops, so nothing ever iterates on inf.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

DTYPE = torch.float64


# --- learning-rate schedules: each is a callable t -> γ(t) -----------------


@dataclass(frozen=True)
class Constant:
    """γ(t) = γ₀."""

    lr: float

    def __call__(self, t: int) -> float:
        return self.lr


@dataclass(frozen=True)
class StepDecay:
    """γ(t) = γ₀ · factor^⌊t / every⌋ (lecture: 0.1 for t<1000, 0.01 for 1000≤t<2000, …)."""

    lr0: float
    factor: float
    every: int

    def __call__(self, t: int) -> float:
        return self.lr0 * self.factor ** (t // self.every)


@dataclass(frozen=True)
class ExponentialDecay:
    """γ(t) = γ₀ e^(−αt)."""

    lr0: float
    alpha: float

    def __call__(self, t: int) -> float:
        return self.lr0 * math.exp(-self.alpha * t)


@dataclass(frozen=True)
class Cyclical:
    """Triangular cycle: γ rises linearly from γ_min to γ_max over half a period, then back."""

    lr_min: float
    lr_max: float
    period: int

    def __call__(self, t: int) -> float:
        phase = (t % self.period) / self.period  # in [0, 1)
        up = 1.0 - abs(2.0 * phase - 1.0)  # 0 -> 1 -> 0 over one period
        return self.lr_min + (self.lr_max - self.lr_min) * up


def constant(lr: float) -> Constant:
    return Constant(float(lr))


def step_decay(lr0: float, factor: float, every: int) -> StepDecay:
    if every < 1:
        raise ValueError("every must be >= 1 step")
    return StepDecay(float(lr0), float(factor), int(every))


def exponential_decay(lr0: float, alpha: float) -> ExponentialDecay:
    return ExponentialDecay(float(lr0), float(alpha))


def cyclical(lr_min: float, lr_max: float, period: int) -> Cyclical:
    if period < 2:
        raise ValueError("period must be >= 2 steps")
    return Cyclical(float(lr_min), float(lr_max), int(period))


# --- gradient descent --------------------------------------------------------


@dataclass
class Trajectory:
    """The path of gradient descent.

    thetas [T+1, (R,) P], losses [T+1, (R,)], lrs [T] with T ≤ steps (T < steps
    only when every run diverged). ``diverged_at`` is the first step at which
    any run diverged (None if none did); ``diverged_each`` gives it per run.
    """

    thetas: torch.Tensor
    losses: torch.Tensor
    lrs: torch.Tensor
    diverged_at: int | None
    diverged_each: list[int | None]
    grad_norms: torch.Tensor  # [T+1, (R,)] ‖∇E(θₜ)‖, NaN after divergence

    @property
    def final_thetas(self) -> torch.Tensor:
        """Last finite θ of each run, [(R,) P]."""
        return _last_finite(self.thetas)

    @property
    def final_losses(self) -> torch.Tensor:
        return _last_finite(self.losses)


def _last_finite(x: torch.Tensor) -> torch.Tensor:
    """Per trailing position, the entry of the last row where it is finite."""
    flat = x.reshape(x.shape[0], -1)
    rows = torch.arange(flat.shape[0]).unsqueeze(1).expand_as(flat)
    last = torch.where(torch.isfinite(flat), rows, torch.zeros_like(rows)).max(0).values
    return flat.gather(0, last.unsqueeze(0)).squeeze(0).reshape(x.shape[1:])


def gradient_descent(
    E: Callable[[torch.Tensor], torch.Tensor],
    theta0,
    lr: float = 0.1,
    steps: int = 200,
    schedule: Callable[[int], float] | None = None,
    blowup: float = 1e6,
) -> Trajectory:
    """Run θₜ₊₁ = θₜ − γ(t)∇E(θₜ) from one start ``[P]`` or many ``[R, P]``.

    ``E`` must be vectorized over leading dimensions (the surfaces are).
    A run diverges at step t when E(θₜ) or θₜ is not finite, or when
    E(θₜ) > blowup · max(E(θ₀), 1).
    """
    if steps < 0:
        raise ValueError("steps must be >= 0")
    schedule = schedule if schedule is not None else constant(lr)
    theta = torch.as_tensor(theta0, dtype=DTYPE).detach().clone()
    single = theta.ndim == 1
    if single:
        theta = theta.unsqueeze(0)
    R = theta.shape[0]

    def loss_and_grad(th):
        th = th.detach().requires_grad_(True)
        with torch.enable_grad():
            loss = E(th)  # [R]
            (g,) = torch.autograd.grad(loss.sum(), th)
        return loss.detach(), g

    thetas, losses, lrs, gnorms = [theta.clone()], [], [], []
    loss, g = loss_and_grad(theta)
    limit = blowup * torch.clamp(torch.nan_to_num(loss, nan=1.0, posinf=1.0), min=1.0)
    alive = torch.ones(R, dtype=torch.bool)
    diverged_each: list[int | None] = [None] * R

    def check(t, theta, loss) -> bool:
        """Mark the runs that diverge at step t; True if any did (one sync with the tensors)."""
        newly = (~torch.isfinite(loss) | ~torch.isfinite(theta).all(-1) | (loss > limit)) & alive
        if not bool(newly.any()):
            return False
        for r in torch.nonzero(newly).flatten().tolist():
            diverged_each[r] = t
        alive.mul_(~newly)
        return True

    check(0, theta, loss)
    losses.append(torch.where(alive, loss, torch.nan))
    gnorms.append(torch.where(alive, g.norm(dim=-1), torch.nan))
    nan = torch.tensor(float("nan"), dtype=DTYPE)
    # While every run is alive (the common case) a step is the update and the gradient alone:
    # the masks below change nothing then, and cost about half of a small problem's step.
    all_alive = bool(alive.all())
    for t in range(steps):
        if not all_alive and not alive.any():
            break
        gamma = float(schedule(t))
        lrs.append(gamma)
        if all_alive:
            theta = theta - gamma * g
            loss, g = loss_and_grad(theta)
        else:
            theta = torch.where(alive[:, None], theta - gamma * g, nan)
            loss, g = loss_and_grad(torch.nan_to_num(theta))
        if check(t + 1, theta, loss):
            all_alive = False
        if all_alive:
            thetas.append(theta)
            losses.append(loss)
            gnorms.append(g.norm(dim=-1))
        else:
            thetas.append(torch.where(alive[:, None], theta, nan))
            losses.append(torch.where(alive, loss, nan))
            gnorms.append(torch.where(alive, g.norm(dim=-1), nan))

    thetas_t = torch.stack(thetas)
    losses_t = torch.stack(losses)
    gnorms_t = torch.stack(gnorms)
    if single:
        thetas_t, losses_t, gnorms_t = thetas_t[:, 0], losses_t[:, 0], gnorms_t[:, 0]
    firsts = [d for d in diverged_each if d is not None]
    return Trajectory(
        thetas=thetas_t,
        losses=losses_t,
        lrs=torch.tensor(lrs, dtype=DTYPE),
        diverged_at=min(firsts) if firsts else None,
        diverged_each=diverged_each,
        grad_norms=gnorms_t,
    )


def contraction_factors(losses_or_coords: torch.Tensor) -> torch.Tensor:
    """Measured per-step factors |uₜ₊₁ / uₜ| of a coordinate sequence [T+1, ...]."""
    u = losses_or_coords
    return (u[1:] / u[:-1]).abs()


def steps_to_tolerance(losses: torch.Tensor, tol: float) -> int | None:
    """First t with E(θₜ) ≤ tol, or None if never reached (NaN counts as not reached)."""
    hit = torch.nonzero(losses <= tol).flatten()
    return int(hit[0]) if len(hit) else None
