"""Data normalization and the MLP builder."""

from __future__ import annotations

import pytest
import torch

from core import data, models

I2 = torch.eye(2, dtype=torch.float64)


def test_whiten_gives_identity_covariance_and_center_zero_mean():
    X = data.gaussian_2d(500, mean=(3.0, -1.0), scales=(2.0, 0.3), correlation=0.8, seed=0)
    W = data.normalize(X, "whiten")
    torch.testing.assert_close(data.covariance(W), I2, rtol=0, atol=1e-12)
    torch.testing.assert_close(W.mean(0), torch.zeros(2, dtype=torch.float64), rtol=0, atol=1e-12)
    C = data.normalize(X, "center")
    torch.testing.assert_close(C.mean(0), torch.zeros(2, dtype=torch.float64), rtol=0, atol=1e-12)
    S = data.normalize(X, "standardize")
    torch.testing.assert_close(data.covariance(S).diagonal(), torch.ones(2, dtype=torch.float64), rtol=0, atol=1e-12)
    assert torch.equal(data.normalize(X, "none"), X)


def test_degenerate_data_never_produces_inf():
    X = torch.tensor([[1.0, 5.0], [2.0, 5.0], [3.0, 5.0]], dtype=torch.float64)  # zero variance in x₂
    for method in data.METHODS:
        assert torch.isfinite(data.normalize(X, method)).all(), method
    with pytest.raises(ValueError):
        data.normalize(X, "sphere")


def test_samplers_are_seeded_and_leave_the_global_rng_alone():
    state = torch.random.get_rng_state()
    a = data.gaussian_2d(10, seed=3)
    assert torch.equal(a, data.gaussian_2d(10, seed=3)) and not torch.equal(a, data.gaussian_2d(10, seed=4))
    for name in ("moons", "circles", "xor", "spiral"):
        X, y = data.classification_2d(name, n=20, seed=1)
        assert X.shape == (20, 2) and set(y.tolist()) <= {0, 1}
    assert torch.equal(state, torch.random.get_rng_state())


def test_mlp_is_seeded_and_leaves_the_global_rng_alone():
    state = torch.random.get_rng_state()
    a = models.flatten(models.MLP(3, 4, 2, 1, seed=5))
    assert torch.equal(state, torch.random.get_rng_state())
    assert torch.equal(a, models.flatten(models.MLP(3, 4, 2, 1, seed=5)))
    assert not torch.equal(a, models.flatten(models.MLP(3, 4, 2, 1, seed=6)))


def test_mlp_init_variance_is_scale_over_fan_in():
    net = models.MLP(200, 300, 2, 1, init_scale=2.0, seed=0)
    W = net.blocks[1].linear.weight.detach()
    assert float(W.var()) == pytest.approx(2.0 / 300, rel=0.02)
    assert float(net.blocks[0].linear.bias.detach().abs().max()) == 0.0


def test_zero_init_gives_zero_hidden_gradients():
    net = models.MLP(2, 8, 2, 1, activation="tanh", init_scale=0.0)
    X, y = data.teacher_regression(16, 2, 1, seed=0)
    E, theta = models.flat_loss(net, X, y)
    g = torch.func.grad(E)(theta)
    grads = models.unflatten(net, g)
    for name, gp in grads.items():
        if not name.startswith("out.bias"):
            assert float(gp.abs().max()) == 0.0, name
    assert float(grads["out.bias"].abs().max()) > 0


def test_skip_adds_the_block_input_and_batchnorm_normalizes():
    net = models.MLP(3, 5, 3, 1, activation="tanh", batchnorm=True, skip=True, seed=2)
    X = torch.randn(64, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 4 + 2
    net.train()
    _, zs, hs = net.forward_with_activations(X)
    inputs = [X, *hs[:-1]]
    for block, h_in, z in zip(net.blocks, inputs, zs, strict=True):
        # BN at init (γ=1, β=0): batch mean 0 and variance σ²/(σ²+ε) per feature, ε = 1e-5
        var = block.linear(h_in).var(0, unbiased=False)
        torch.testing.assert_close(z.mean(0), torch.zeros(5, dtype=torch.float64), rtol=0, atol=1e-12)
        torch.testing.assert_close(z.var(0, unbiased=False), var / (var + block.norm.eps), rtol=1e-12, atol=0)
    torch.testing.assert_close(hs[1], hs[0] + torch.tanh(zs[1]))  # h₁ = h₀ + act(BN(W h₀ + b))


def test_flat_loss_matches_the_module_and_does_not_touch_it():
    net = models.MLP(2, 4, 2, 1, batchnorm=True, seed=0)
    X, y = data.teacher_regression(16, 2, 1, seed=0)
    before = [b.clone() for b in net.buffers()]
    E, theta = models.flat_loss(net, X, y, mode="train")
    net.train()
    with torch.no_grad():
        expected = ((net(X) - y) ** 2).sum(-1).mean()
    # the forward above updated the module's running stats; restore to compare flat_loss's purity
    for b, b0 in zip(net.buffers(), before, strict=True):
        b.copy_(b0)
    assert float(E(theta)) == pytest.approx(float(expected), rel=1e-14)
    E(theta)
    assert all(torch.equal(a, b) for a, b in zip(before, net.buffers(), strict=True))


def test_layer_slices_and_parameter_count():
    net = models.MLP(784, 1000, 2, 10)
    assert models.n_parameters([784, 1000, 1000, 10]) == 1_796_010
    assert sum(p.numel() for p in net.parameters()) == 1_796_010
    slices = models.layer_slices(net)
    assert [n for n, _ in slices] == ["blocks.0.linear", "blocks.1.linear", "out"]
    assert slices[-1][1].stop == 1_796_010


def test_train_decreases_the_loss_and_reports_divergence():
    net = models.MLP(2, 8, 2, 1, seed=0)
    X, y = data.teacher_regression(32, 2, 1, seed=0)
    ok = models.train(net, X, y, lr=0.1, steps=50)
    assert ok.diverged_at is None and float(ok.losses[-1]) < float(ok.losses[0])
    bad = models.train(net, X, y, lr=1e4, steps=50)
    assert bad.diverged_at is not None and torch.isnan(bad.losses[bad.diverged_at :]).all()


def test_unknown_activation_is_rejected():
    with pytest.raises(ValueError, match="unknown activation"):
        models.MLP(2, 3, 1, 1, activation="swish")
