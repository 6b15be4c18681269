"""core.plateaus against exact references: closed-form gradients vs autograd, the fast GD loop vs
optim.gradient_descent, backprop vs torch.func, the schedules vs their formulas, and the page's
claims (plateau, zero init, saturation, escape) measured at the defaults."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import torch

from core import charts, hessian, models, optim, surfaces
from core import plateaus as pl

DTYPE = torch.float64
RNG = np.random.default_rng(0)


# --- the tanh unit and the fast GD loop ---------------------------------------------------------


@pytest.mark.parametrize("lam", [0.0, 0.03])
def test_tanh_unit_loss_and_gradient_match_autograd(lam):
    unit = pl.tanh_unit(lam)
    E = surfaces.two_layer_tanh(unit.x, unit.t, lam)
    theta = torch.tensor(RNG.uniform(-5, 5, size=(7, 2)), dtype=DTYPE, requires_grad=True)
    (g,) = torch.autograd.grad(E(theta).sum(), theta)
    mine_E, mine_g = unit.loss_grad(theta.detach().numpy())
    np.testing.assert_allclose(mine_E, E(theta).detach().numpy(), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(mine_g, g.numpy(), rtol=1e-11, atol=1e-14)


def test_tanh_unit_hessian_matches_torch_func():
    unit = pl.tanh_unit(0.01)
    E = surfaces.two_layer_tanh(unit.x, unit.t, 0.01)
    for theta in ([4.0, 0.5], [0.2, 1.2], [-1.0, -0.3]):
        exact = hessian.exact(E, torch.tensor(theta, dtype=DTYPE)).numpy()
        np.testing.assert_allclose(unit.hessian(theta), exact, rtol=0, atol=1e-7)


def test_descend_matches_optim_gradient_descent():
    unit = pl.tanh_unit(0.01)
    E = surfaces.two_layer_tanh(unit.x, unit.t, 0.01)
    starts = np.array([[4.0, 0.5], [-5.0, -0.3], [0.5, 0.5]])
    sched = optim.step_decay(0.5, 0.5, 40)
    ref = optim.gradient_descent(E, torch.tensor(starts), steps=120, schedule=sched)
    mine = pl.descend(unit.loss_grad, starts, [sched(t) for t in range(120)])
    np.testing.assert_allclose(mine.thetas, ref.thetas.numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(mine.losses, ref.losses.numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(mine.grad_norms, ref.grad_norms.numpy(), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(mine.lrs[:, 0], ref.lrs.numpy(), rtol=0, atol=0)


def test_descend_one_schedule_per_run_equals_separate_runs():
    wells = pl.TwoWells()
    starts = np.array([[-1.4, 0.9], [0.0, 0.0]])
    lrs = np.stack([np.full(80, 0.01), np.linspace(0.1, 0.001, 80)], 1)  # [T, R]
    both = pl.descend(wells.loss_grad, starts, lrs)
    for r in range(2):
        one = pl.descend(wells.loss_grad, starts[r : r + 1], lrs[:, r])
        np.testing.assert_array_equal(both.thetas[:, r], one.thetas[:, 0])


def test_descend_reports_divergence_like_optim():
    E = surfaces.quadratic([1.0, 10.0])

    def loss_grad(theta):
        theta = np.asarray(theta)
        return 1.0 * theta[..., 0] ** 2 + 10.0 * theta[..., 1] ** 2, np.stack(
            [2 * theta[..., 0], 20 * theta[..., 1]], -1
        )

    starts = np.array([[1.0, 1.0], [1.0, 0.0]])
    ref = optim.gradient_descent(E, torch.tensor(starts), lr=0.105, steps=400)
    mine = pl.descend(loss_grad, starts, np.full(400, 0.105))
    assert mine.diverged_at == ref.diverged_each == [ref.diverged_at, None]
    k = mine.diverged_at[0]
    assert np.isnan(mine.losses[k:, 0]).all() and np.isfinite(mine.losses[:k, 0]).all()
    assert np.isfinite(mine.losses[:, 1]).all()


def test_stretches_and_plateau_mask():
    assert pl.stretches(np.zeros(5, dtype=bool)) == []
    assert pl.stretches(np.ones(30, dtype=bool)) == [(0, 30)]
    assert pl.stretches(np.array([1, 1, 0, 1], dtype=bool), min_len=2) == [(0, 2)]
    mask = pl.plateau_mask(np.array([1.0, 1.0, 0.0, np.nan]), np.array([0.001, 0.1, 0.001, 0.001]), 0.01, 0.5)
    assert mask.tolist() == [True, False, False, False]


def test_thin_path_keeps_ends_and_bounds_the_count():
    t = np.linspace(0, 1, 5001)
    path = np.stack([t**3, np.sin(20 * t)], 1)
    keep = pl.thin_path(path, max_points=150)
    assert keep[0] == 0 and keep[-1] == 5000 and len(keep) <= 152
    assert (np.diff(keep) > 0).all()


# --- the plateau defaults (the example) ---------------------------------------------------


@pytest.fixture(scope="module")
def plateau_default():
    return pl.plateau_experiment(pl.PlateauSettings())


def test_default_plateau_is_long_high_and_flat(plateau_default):
    r = plateau_default
    s = r.settings
    assert (s.start, s.lr, s.lam, s.steps) == ((4.0, 0.5), 0.5, 0.0, 5000)
    run = r.runs[0]
    a, b = run.longest
    E, g = r.descent.losses[a:b, 0], r.descent.grad_norms[a:b, 0]
    assert b - a >= 300
    assert E.min() >= 10 * run.E_final  # the plateau is ≥ 10× above where the run ends
    assert g.max() < s.g_max  # and its gradient is below the stated threshold
    assert b <= s.steps  # it escapes before the end
    assert run.E_final < 1e-4
    assert 0.015 < float(np.median(E)) < 0.017


def test_deep_start_stays_on_the_plateau_for_all_5000_steps(plateau_default):
    run = plateau_default.runs[1]
    assert run.start == (-5.0, -0.3)
    assert run.steps_on_plateau >= 5000
    assert 0.015 < run.E_final < 0.018


def test_small_weights_have_no_plateau_and_the_overshoot_is_explained(plateau_default):
    r = plateau_default
    assert r.runs[2].plateau == []
    _, j, ratio = pl.loss_jump(r.descent.losses[:, 2])
    lam_max = np.linalg.eigvalsh(r.unit.hessian(r.descent.thetas[j, 2]))[-1]
    assert ratio > 10 and lam_max > 2 / r.settings.lr  # the jump happens where γ > 2/λ_max
    assert any("2/γ" in line for line in pl.plateau_notice(r))


def test_plateau_cells_satisfy_the_criterion_somewhere(plateau_default):
    r = plateau_default
    assert 10 < int(r.grid["plateau"].sum()) < len(r.grid) // 10
    centre_ok = pl.plateau_mask(r.grid["E"].to_numpy(), r.grid["‖∇E‖"].to_numpy(), r.settings.g_max, r.E_floor)
    assert not (centre_ok & ~r.grid["plateau"].to_numpy()).any()  # every qualifying centre is marked


# --- the batch of MLPs ---------------------------------------------------------------------


MEMBERS = [(8, 1.0, 0), (8, 3.0, 1), (3, 1.0, 2), (1, 0.5, 3), (8, 0.0, 0)]


@pytest.mark.parametrize("depth", [1, 3])
def test_backprop_matches_autograd_through_models_mlp(depth):
    X, y = pl.dataset("moons", seed=1)
    batch = pl.mlp_batch(MEMBERS, depth)
    E, G = pl.loss_and_grad(batch, X, y)
    for r, (width, sigma, seed) in enumerate(MEMBERS):
        net = models.MLP(2, width, depth, 2, "tanh", init_scale=sigma**2, seed=seed)
        loss_fn, theta = models.flat_loss(net, X, y)
        alone = pl.mlp_batch([(width, sigma, seed)], depth)
        assert torch.equal(alone.theta[0], theta)  # same parameter order as models.flatten
        torch.testing.assert_close(E[r], loss_fn(theta), rtol=1e-13, atol=1e-15)
        g_ref = torch.func.grad(loss_fn)(theta)
        torch.testing.assert_close(pl.loss_and_grad(alone, X, y)[1][0], g_ref, rtol=1e-10, atol=1e-15)
        # the padded member has exactly the unpadded gradient where it has parameters, 0 elsewhere
        Ws, bs = batch.views(G)
        Ws1, bs1 = alone.views(pl.loss_and_grad(alone, X, y)[1])
        for l in range(depth + 1):
            o, i = Ws1[l].shape[1:]
            torch.testing.assert_close(Ws[l][r, :o, :i], Ws1[l][0], rtol=1e-10, atol=1e-15)
            torch.testing.assert_close(bs[l][r, :o], bs1[l][0], rtol=1e-10, atol=1e-15)
            pad = torch.ones_like(Ws[l][r], dtype=torch.bool)
            pad[:o, :i] = False
            assert bool((Ws[l][r][pad] == 0).all()) and bool((bs[l][r, o:] == 0).all())


def test_train_batch_matches_models_train():
    X, y = pl.dataset("circles", seed=0)
    members = [(4, 1.0, 0), (8, 2.0, 5)]
    batch = pl.train_batch(pl.mlp_batch(members, 2), X, y, lr=0.2, steps=30)
    for r, (width, sigma, seed) in enumerate(members):
        ref = models.train(models.MLP(2, width, 2, 2, "tanh", init_scale=sigma**2, seed=seed), X, y, lr=0.2, steps=30)
        torch.testing.assert_close(batch.losses[:, r], ref.losses, rtol=1e-10, atol=1e-13)
        torch.testing.assert_close(batch.layer_grad_norms[:, r].norm(dim=-1), ref.grad_norms, rtol=1e-10, atol=1e-13)


def test_zero_init_hidden_gradients_are_exactly_zero():
    X, y = pl.dataset("xor", seed=0)  # unbalanced classes: the output bias does move
    tr = pl.train_batch(pl.mlp_batch([(8, 0.0, 0)], 3), X, y, lr=0.3, steps=200)
    assert float(tr.layer_grad_norms[:, 0, :-1].abs().max()) == 0.0  # every hidden layer, every step
    assert float(tr.layer_grad_norms[0, 0, -1]) > 0  # only the output bias learns the class frequencies
    Ws, _ = tr.net.views()
    assert all(float(W.abs().max()) == 0.0 for W in Ws)  # no weight ever leaves zero
    # the same through autograd on the torch model
    net = models.MLP(2, 8, 3, 2, "tanh", init_scale=0.0)
    loss_fn, theta = models.flat_loss(net, X, y)
    g = torch.func.grad(loss_fn)(theta)
    for name, sl in models.layer_slices(net):
        if name.startswith("blocks"):
            assert float(g[sl].abs().max()) == 0.0, name


def test_saturation_share_grows_with_scale():
    r = pl.init_experiment(pl.NetSettings(steps=1))
    sat = r.sweep_saturated.numpy()  # [S, L], σ increasing
    assert (np.diff(sat, axis=0) >= -0.02).all()  # non-decreasing up to sampling noise
    small, large = r.sweep_sigmas < 0.5, r.sweep_sigmas > 9
    assert sat[small].max() == 0.0 and sat[large].min() > 0.5
    by_member = r.saturated.numpy()  # [zero, 0.1, 0.3, 1, 3, 10]
    assert (np.diff(by_member.mean(1)) >= 0).all()


def test_init_defaults_both_too_small_and_too_large_hurt():
    r = pl.init_experiment(pl.NetSettings())
    final = dict(zip(r.sigmas, r.training.losses[-1].tolist()))
    best = min(final[s] for s in (1.0, 3.0))
    assert final[0.0] == pytest.approx(math.log(2), abs=1e-12)  # zero init never leaves ln 2
    assert final[0.1] > 0.6 and final[10.0] > 5 * best
    assert "exactly 0" in pl.init_notice(r)[0]


def test_sweep_assembles_results_in_order():
    s = pl.SweepSettings(net=pl.NetSettings(steps=20), restarts=3)
    seen = []
    r = pl.sweep_experiment(s, progress=lambda f, text: seen.append(f))
    assert seen[0] == 0 and seen[-1] == 1.0 and seen == sorted(seen)
    assert r.width_final.shape == (len(pl.WIDTHS), pl.SWEEP_SEEDS)
    assert r.depth_final.shape == (len(pl.DEPTHS), pl.SWEEP_SEEDS)
    assert r.best == int(np.argmin(r.restart_final))
    # entry (width w, seed k) is the net trained alone
    X, y = pl.dataset(s.net.data, s.net.seed)
    alone = pl.train_batch(pl.mlp_batch([(4, 1.0, 1)], 1), X, y, s.net.lr, s.net.steps)
    assert r.width_final[pl.WIDTHS.index(4), 1] == pytest.approx(float(alone.losses[-1, 0]), rel=1e-10)


def test_default_sweep_measures_width_helps_and_extra_depth_hurts():
    r = pl.sweep_experiment(pl.SweepSettings())
    w = np.median(r.width_final, 1)
    d = np.median(r.depth_final, 1)
    assert w[-1] < 0.5 * w[0] and (np.diff(w) <= 0.01).all()
    best = int(np.argmin(d))
    assert 0 < best < len(pl.DEPTHS) - 1 and d[-1] > 3 * d[best]
    assert r.restart_final.max() > 2 * r.restart_final.min()  # restarts differ: keeping the best matters


# --- learning-rate schedules and the escape -------------------------------------------------


def test_schedules_match_their_formulas():
    s = pl.ScheduleSettings(lr0=0.1, factor=0.1, every=1000, alpha=1e-3, lr_min=0.001, lr_max=0.1, period=1000)
    sch = s.schedules()
    for t, expected in [(0, 0.1), (999, 0.1), (1000, 0.01), (1999, 0.01), (2000, 0.001)]:
        assert sch["step decay"](t) == pytest.approx(expected, rel=1e-12)
    for t in (0, 10, 700, 2999):
        assert sch["exponential"](t) == pytest.approx(0.1 * math.exp(-1e-3 * t), rel=1e-12)
    cyc = sch["cyclical"]
    assert cyc(0) == pytest.approx(0.001) and cyc(500) == pytest.approx(0.1) and cyc(1000) == pytest.approx(0.001)
    assert cyc(250) == pytest.approx(0.0505) and cyc(750) == pytest.approx(0.0505)
    assert sch["constant"](1234) == s.lr_const


def test_two_wells_gradient_and_hessian_match_autograd():
    wells = pl.TwoWells()
    theta = torch.tensor(RNG.uniform(-3, 3, size=(6, 2)), dtype=DTYPE, requires_grad=True)
    (g,) = torch.autograd.grad(wells(theta).sum(), theta)
    E, grad = wells.loss_grad(theta.detach().numpy())
    np.testing.assert_allclose(E, wells(theta).detach().numpy(), rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(grad, g.numpy(), rtol=1e-11, atol=1e-13)
    for m in wells.minima().values():
        exact = hessian.exact(wells, torch.tensor(m, dtype=DTYPE)).numpy()
        np.testing.assert_allclose(wells.hessian(m), exact, rtol=1e-10, atol=1e-12)
        assert np.abs(wells.loss_grad(m)[1]).max() < 1e-12 and np.linalg.eigvalsh(exact).min() > 0


@pytest.fixture(scope="module")
def escape_default():
    return pl.schedule_experiment(pl.ScheduleSettings())


def test_escape_needs_the_large_then_decaying_schedule(escape_default):
    r = escape_default
    ends = {run.name: run.ends_in for run in r.runs}
    assert ends == {"constant": "shallow", "step decay": "deep", "exponential": "deep", "cyclical": "deep"}
    assert r.E_minima["deep"] < r.E_minima["shallow"] - 0.5
    assert r.lambda_max["shallow"] == pytest.approx(100.1, abs=0.1)  # GD settles there only for γ < 0.02
    assert r.settings.lr_const < 2 / r.lambda_max["shallow"] < r.settings.lr0


def test_recorded_learning_rates_follow_the_schedules(escape_default):
    r = escape_default
    for i, sched in enumerate(r.settings.schedules().values()):
        expected = np.array([sched(t) for t in range(r.settings.steps)])
        np.testing.assert_allclose(r.descent.lrs[:, i], expected, rtol=1e-15, atol=0)


def test_a_large_constant_rate_also_escapes_but_a_moderate_one_only_bounces():
    for lr, where in [(0.1, "deep"), (0.05, "shallow")]:
        r = pl.schedule_experiment(pl.ScheduleSettings(lr_const=lr, steps=1500))
        assert r.runs[0].ends_in == where, lr
    # 0.05 > 2/λ_max: unstable at the minimum, yet it never leaves the basin
    assert 0.05 > 2 / r.lambda_max["shallow"] and r.runs[0].left_at is None


# --- the chart builders (pure: DataFrame in, spec out) --------------------------------------------


def _values(spec: dict) -> list[dict]:
    return [row for rows in spec.get("datasets", {}).values() for row in rows]


def test_maps_send_no_nan_and_keep_markers_inside(plateau_default):
    r = plateau_default
    paths, _, _, _ = pl.plateau_frames(r)
    paths = pd.concat([paths, pd.DataFrame({"run": ["x"], "step": [1], "w": [np.nan], "v": [0.0]})])
    points = pd.DataFrame({"w": [0.0, 50.0], "v": [0.0, 0.0], "label": ["inside", "far outside"]})
    spec = charts.plateau_map(r.grid, "‖∇E‖", paths=paths, points=points, marks="plateau", log=True).to_dict()
    text = json.dumps(spec)
    assert "NaN" not in text and "Infinity" not in text
    assert "1 non-finite value(s)" in text  # the dropped path point is said in the subtitle
    labels = {row.get("label") for row in _values(spec)}
    assert "inside" in labels and "far outside" not in labels


def test_run_lines_bands_and_log_floor():
    df = pd.DataFrame({"run": ["a"] * 4, "step": [0, 1, 2, 3], "E": [1.0, 0.0, 0.1, np.inf]})
    bands = pd.DataFrame({"run": ["a"], "start": [1], "end": [3]})
    spec = charts.run_lines(df, "E", bands=bands, rule=0.5, rule_label="floor").to_dict()
    rows = _values(spec)
    assert all(np.isfinite(row["E"]) and row["E"] > 0 for row in rows if "E" in row and "label" not in row)
    assert any(layer.get("mark", {}).get("type") == "rect" for layer in spec["layer"])


def test_vega_specs_equal_the_styled_chart():
    df = pd.DataFrame({"run": ["a", "a"], "step": [0, 1], "E": [1.0, 0.5]})
    chart = charts.run_lines(df, "E")
    for presenter in (False, True):
        [spec] = charts.vega_specs(chart, presenter=presenter)
        # the styled spec as Streamlit would send it (tests/test_export.py checks chart_spec against
        # Streamlit's own conversion), the frame kept a frame, sent as Arrow
        reference = charts.chart_spec(chart, presenter=presenter)
        assert spec.keys() == reference.keys() and spec["config"] == reference["config"]
        assert {k: v for k, v in spec.items() if k != "datasets"} == {
            k: v for k, v in reference.items() if k != "datasets"
        }
        [frame] = charts.chart_frames(spec).values()
        pd.testing.assert_frame_equal(frame, df)


def test_zero_init_notice_says_when_the_output_bias_raised_the_loss():
    """At a γ far too large even the output bias overshoots: E rises from ln 2 (it read "gained -4.93")."""
    r = pl.init_experiment(pl.NetSettings(data="xor", lr=20.0, steps=50, depth=1, width=4))
    zero = r.index(0.0)
    rose = float(r.training.losses[-1, zero] - r.training.losses[0, zero])
    assert rose > 0
    line = pl.init_notice(r)[0]
    assert f"raised E by {rose:.4f}" in line and "gained" not in line
    small = pl.init_experiment(pl.NetSettings(data="xor", lr=0.3, steps=50, depth=1, width=4))
    assert "gained by the output bias alone" in pl.init_notice(small)[0]
