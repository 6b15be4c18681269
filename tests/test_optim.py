"""Gradient descent on quadratics vs the theory (1 − 2γαᵢ)ᵗ, divergence, schedules."""

from __future__ import annotations

import math

import pytest
import torch

from core import optim, surfaces


@pytest.mark.parametrize("angle", [0.0, 0.7])
@pytest.mark.parametrize("gamma", [0.02, 0.09])
def test_per_direction_contraction_is_one_minus_two_gamma_alpha(angle, gamma):
    alphas = torch.tensor([1.0, 10.0], dtype=torch.float64)
    E = surfaces.quadratic(alphas, theta_star=[0.5, -1.0], angle=angle)
    traj = optim.gradient_descent(E, [2.0, 1.5], lr=gamma, steps=30)
    u = E.eigen_coordinates(traj.thetas)  # [T+1, 2]
    measured = optim.contraction_factors(u)  # [T, 2]
    expected = (1 - 2 * gamma * alphas).abs().expand_as(measured)
    torch.testing.assert_close(measured, expected, rtol=1e-9, atol=0)
    # and the squared distance follows (1 − 2γα)^{2t} exactly
    t = torch.arange(31, dtype=torch.float64)[:, None]
    torch.testing.assert_close(u.pow(2), u[0].pow(2) * (1 - 2 * gamma * alphas).pow(2 * t), rtol=1e-9, atol=1e-20)


def test_divergence_detected_just_above_one_over_alpha_max():
    E = surfaces.quadratic([1.0, 10.0])
    above = optim.gradient_descent(E, [1.0, 1.0], lr=1.05 / 10.0, steps=400)
    below = optim.gradient_descent(E, [1.0, 1.0], lr=0.99 / 10.0, steps=400)
    assert above.diverged_at is not None and below.diverged_at is None
    # the run stops there: everything recorded is finite up to the divergence, nothing after
    assert above.thetas.shape[0] == above.diverged_at + 1
    assert torch.isfinite(above.thetas[:-1]).all()
    assert float(below.losses[-1]) < 1e-6


def test_overflow_stops_cleanly():
    E = surfaces.quadratic([1.0, 1e3])
    traj = optim.gradient_descent(E, [1.0, 1.0], lr=10.0, steps=10_000, blowup=float("inf"))
    assert traj.diverged_at is not None and traj.thetas.shape[0] < 10_000
    assert not torch.isfinite(traj.losses[-1]) or traj.losses[-1] == float("inf") or torch.isnan(traj.losses[-1])


def test_many_starts_at_once_match_single_runs():
    E = surfaces.two_layer_linear()
    starts = torch.tensor([[0.5, 0.3], [-1.0, 0.2], [0.0, 0.0]], dtype=torch.float64)
    many = optim.gradient_descent(E, starts, lr=0.1, steps=50)
    assert many.thetas.shape == (51, 3, 2) and many.losses.shape == (51, 3)
    for r in range(3):
        one = optim.gradient_descent(E, starts[r], lr=0.1, steps=50)
        torch.testing.assert_close(many.thetas[:, r], one.thetas, rtol=0, atol=0)


def test_one_diverging_run_does_not_stop_the_others():
    E = surfaces.quadratic([1.0, 10.0])
    # same surface, but start 2 is so far out that it overflows
    starts = torch.tensor([[1.0, 1.0], [1e200, 1e200]], dtype=torch.float64)
    traj = optim.gradient_descent(E, starts, lr=0.05, steps=20)
    assert traj.diverged_each[0] is None and traj.diverged_each[1] == 0
    assert torch.isfinite(traj.thetas[:, 0]).all() and torch.isnan(traj.thetas[1:, 1]).all()
    assert traj.final_losses.shape == (2,) and torch.isfinite(traj.final_losses[0])


def test_zero_start_on_the_saddle_never_moves():
    E = surfaces.two_layer_linear()
    traj = optim.gradient_descent(E, [0.0, 0.0], lr=0.1, steps=100)
    assert torch.equal(traj.thetas, torch.zeros(101, 2, dtype=torch.float64))
    assert float(traj.grad_norms.abs().max()) == 0.0


def test_gd_reaches_the_lectures_minimum():
    E = surfaces.two_layer_linear()
    traj = optim.gradient_descent(E, [0.3, 0.1], lr=0.1, steps=500)
    s = math.sqrt(0.9)
    torch.testing.assert_close(traj.thetas[-1], torch.tensor([s, s], dtype=torch.float64), rtol=0, atol=1e-10)
    assert float(traj.losses[-1]) == pytest.approx(0.19, abs=1e-12)


def test_step_decay_is_the_lectures_example():
    sched = optim.step_decay(0.1, 0.1, 1000)
    assert [sched(t) for t in (0, 999)] == [0.1, 0.1]
    assert sched(1000) == pytest.approx(0.01) and sched(1999) == pytest.approx(0.01)
    assert sched(2000) == pytest.approx(0.001)


def test_schedules_match_their_formulas():
    exp = optim.exponential_decay(0.5, 0.01)
    for t in (0, 10, 250):
        assert exp(t) == pytest.approx(0.5 * math.exp(-0.01 * t), rel=1e-15)
    cyc = optim.cyclical(0.01, 0.1, 20)
    assert cyc(0) == pytest.approx(0.01) and cyc(10) == pytest.approx(0.1) and cyc(5) == pytest.approx(0.055)
    assert cyc(20) == pytest.approx(0.01) and cyc(30) == pytest.approx(0.1)
    assert optim.constant(0.3)(12345) == 0.3
    with pytest.raises(ValueError):
        optim.step_decay(0.1, 0.1, 0)
    with pytest.raises(ValueError):
        optim.cyclical(0.1, 0.2, 1)


def test_schedule_drives_the_recorded_learning_rates():
    E = surfaces.quadratic([1.0, 2.0])
    sched = optim.step_decay(0.1, 0.5, 3)
    traj = optim.gradient_descent(E, [1.0, 1.0], steps=7, schedule=sched)
    assert traj.lrs.tolist() == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025])


def test_steps_to_tolerance_matches_theory():
    """On α=(1, κ) with γ = 0.99/α_max, ‖u‖² decays like the slowest factor; check against the count."""
    E = surfaces.quadratic([1.0, 20.0])
    gamma = 0.99 / 20.0
    traj = optim.gradient_descent(E, [1.0, 0.0], lr=gamma, steps=2000)
    tol = 1e-8
    measured = optim.steps_to_tolerance(traj.losses, tol)
    rho2 = (1 - 2 * gamma * 1.0) ** 2  # loss along the slow direction: α₁ u₀² ρ^{2t}
    theory = math.ceil(math.log(tol / float(traj.losses[0])) / math.log(rho2))
    assert measured == theory
    assert optim.steps_to_tolerance(traj.losses, -1.0) is None
