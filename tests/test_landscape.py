"""core.landscape: filter normalization (Li et al. 2018) and loss slices against plain loops."""

from __future__ import annotations

import pytest
import torch

from core import deepnets as dn
from core import landscape, models

DTYPE = torch.float64
SETUP = dn.Setup(depth=3, width=5, n=16)


def _net_and_theta(variant: str, seed: int = 0):
    net = dn.build(SETUP, variant)
    gen = torch.Generator().manual_seed(seed + 10)
    theta = models.flatten(net) + 0.3 * torch.randn(models.flatten(net).shape, generator=gen, dtype=DTYPE)
    return dn.with_theta(net, theta), theta


@pytest.mark.parametrize("variant", list(dn.VARIANTS))
def test_each_filter_of_the_direction_has_the_norm_of_the_parameter_filter(variant):
    net, theta = _net_and_theta(variant)
    d = landscape.filter_normalized_directions(net, theta, k=2, seed=3)
    assert d.shape == (2, theta.numel())
    want = landscape.filter_norms(net, theta)
    for j in range(2):
        got = landscape.filter_norms(net, d[j])
        assert set(got) == set(want) and all(name.endswith("weight") for name in got)
        for name in want:
            torch.testing.assert_close(got[name], want[name], rtol=1e-12, atol=0, msg=name)
    # biases and batch norm's γ, β are not perturbed (Li et al.'s ignore="biasbn")
    for name, v in landscape.parameter_views(net, d[0]):
        if v.dim() < 2:
            assert torch.equal(v, torch.zeros_like(v)), name


def test_all_variants_get_the_same_raw_directions():
    """Same seed → the same Gaussian draw per weight matrix; only the per-filter scale differs."""
    dirs = {}
    for v in dn.VARIANTS:
        net, theta = _net_and_theta(v)
        d = landscape.filter_normalized_directions(net, theta, k=1, seed=5)[0]
        dirs[v] = {
            n: w.reshape(w.shape[0], -1) / w.reshape(w.shape[0], -1).norm(dim=1, keepdim=True)
            for n, w in landscape.parameter_views(net, d)
            if w.dim() >= 2
        }
    for v in dn.VARIANTS:
        assert dirs[v].keys() == dirs["plain"].keys()
        for n in dirs[v]:
            torch.testing.assert_close(dirs[v][n], dirs["plain"][n], rtol=1e-12, atol=1e-14)


def test_directions_are_seeded_and_zero_filters_stay_zero():
    net, theta = _net_and_theta("plain")
    a = landscape.filter_normalized_directions(net, theta, seed=1)
    assert torch.equal(a, landscape.filter_normalized_directions(net, theta, seed=1))
    assert not torch.equal(a, landscape.filter_normalized_directions(net, theta, seed=2))
    zero = torch.zeros_like(theta)
    d = landscape.filter_normalized_directions(net, zero, seed=1)
    assert torch.equal(d, torch.zeros_like(d)), "a filter of norm 0 gets direction 0, never NaN"
    with pytest.raises(ValueError):
        landscape.filter_normalized_directions(net, theta[:-1])


@pytest.mark.parametrize("mode", dn.MODES)
def test_slices_equal_the_loss_evaluated_point_by_point(mode):
    net, _ = _net_and_theta("+ both")
    X, y = dn.dataset(SETUP)
    E, th = dn.loss_fn(net, X, y, mode)
    d1, d2 = landscape.filter_normalized_directions(net, th, k=2, seed=0)
    alphas = torch.linspace(-1, 1, 5, dtype=DTYPE)
    betas = torch.tensor([-0.5, 0.0, 0.7], dtype=DTYPE)
    line = landscape.slice_1d(E, th, d1, alphas)
    torch.testing.assert_close(line, torch.stack([E(th + a * d1) for a in alphas]), rtol=1e-13, atol=0)
    grid = landscape.slice_2d(E, th, d1, d2, alphas, betas)
    assert grid.shape == (3, 5)
    ref = torch.stack([torch.stack([E(th + a * d1 + b * d2) for a in alphas]) for b in betas])
    torch.testing.assert_close(grid, ref, rtol=1e-13, atol=0)
    assert float(grid[1, 2]) == pytest.approx(float(E(th)), rel=1e-14), "the centre is θ* itself"


def test_loss_slices_of_a_variant_use_the_setup_seed():
    setup = dn.Setup(depth=3, width=5, n=16, steps=10)
    run = dn.train_variant(setup, "+ skip")
    s = dn.variant_slices(setup, run, "train", 0.5)
    assert s.grid.shape == (21, 21) and s.line.shape == (41,)
    assert float(s.alphas.min()) == -0.5 and float(s.alphas.max()) == 0.5
    assert float(s.grid[10, 10]) == pytest.approx(run.final_loss, rel=1e-12)
    assert torch.equal(s.grid, dn.variant_slices(setup, run, "train", 0.5).grid)
