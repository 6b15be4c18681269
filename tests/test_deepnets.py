"""core.deepnets against exact references: the four variants' layers, batch norm's statistics,
gradient propagation, Lanczos vs the exact Hessian, the block-norm estimator, the LR sweep."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from core import deepnets as dn
from core import hessian, models

DTYPE = torch.float64
SMALL = dn.Setup(depth=3, width=4, n=16, steps=20, lr=0.02)  # P = 65 (+24 with BN): Lanczos, not the fallback


@pytest.mark.parametrize("variant", list(dn.VARIANTS))
def test_variants_build_with_the_right_layers(variant):
    use_batchnorm, use_skip = dn.VARIANTS[variant]
    net = dn.build(dn.Setup(depth=5, width=6), variant)
    assert len(net.blocks) == 5
    assert not net.blocks[0].skip, "layer 1 changes the width: no skip"
    assert all(b.skip == use_skip for b in net.blocks[1:])
    assert all((b.norm is not None) == use_batchnorm for b in net.blocks)
    assert [name for name, _ in dn.layer_groups(net)] == [f"layer {i}" for i in range(1, 6)] + ["output"]
    slices = [s for _, s in dn.layer_groups(net)]
    assert slices[0].start == 0 and slices[-1].stop == models.flatten(net).numel()
    assert all(a.stop == b.start for a, b in itertools.pairwise(slices)), "groups tile θ"


def test_all_variants_start_from_the_same_weights():
    setup = dn.Setup(depth=4, width=5)
    weights = {
        v: [p for n, p in dn.build(setup, v).named_parameters() if n.endswith("weight") and "norm" not in n]
        for v in dn.VARIANTS
    }
    for v in dn.VARIANTS:
        assert all(torch.equal(a, b) for a, b in zip(weights["plain"], weights[v], strict=True)), v


@pytest.mark.parametrize("variant", ["+ skip", "plain"])
def test_skip_really_adds_the_block_input(variant):
    net = dn.build(dn.Setup(depth=4, width=5), variant)
    h = torch.randn(7, 5, generator=torch.Generator().manual_seed(0), dtype=DTYPE)
    for block in net.blocks[1:]:
        branch = block.act(block.linear(h))
        expected = h + branch if variant == "+ skip" else branch
        assert torch.equal(block(h), expected)
        h = block(h)


def test_batchnorm_normalizes_before_gamma_and_beta():
    """Per unit over the batch: (BN(z) − β)/γ has mean 0 and variance σ²/(σ² + ε) ≈ 1."""
    setup = dn.Setup(depth=3, width=6, n=64)
    net = dn.build(setup, "+ batch norm")
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for b in net.blocks:  # non-trivial γ, β so that "before γ, β" is really tested
            b.norm.weight.copy_(torch.rand(6, generator=gen, dtype=DTYPE) + 0.5)
            b.norm.bias.copy_(torch.randn(6, generator=gen, dtype=DTYPE))
    net = models._frozen_copy(net, "train")
    h, _ = dn.dataset(setup)
    for b in net.blocks:
        z = b.linear(h).detach()
        z_hat = ((b.norm(z) - b.norm.bias) / b.norm.weight).detach()
        var = z.var(0, unbiased=False)
        torch.testing.assert_close(z_hat.mean(0), torch.zeros(6, dtype=DTYPE), rtol=0, atol=1e-12)
        torch.testing.assert_close(z_hat.var(0, unbiased=False), var / (var + b.norm.eps), rtol=1e-10, atol=0)
        assert float((z_hat.var(0, unbiased=False) - 1).abs().max()) < 1e-3
        h = b(h).detach()


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
def test_batchnorm_centres_every_layer_and_the_mean_is_beta(activation):
    setup = dn.Setup(depth=10, activation=activation)
    X, _ = dn.dataset(setup)
    for v in ("+ batch norm", "+ both"):
        net = dn.build(setup, v)
        assert float(dn.preactivation_stats(net, X).mean_rms.max()) < 1e-12, "β = 0 at θ₀: every unit centred"
        with torch.no_grad():  # a learned shift β: each unit's batch mean is exactly β
            for b in net.blocks:
                b.norm.bias.copy_(torch.linspace(-1, 1, setup.width, dtype=DTYPE))
        beta_rms = torch.linspace(-1, 1, setup.width, dtype=DTYPE).pow(2).mean().sqrt()
        torch.testing.assert_close(dn.preactivation_stats(net, X).mean_rms, beta_rms.expand(10), rtol=1e-10, atol=0)


def test_without_batchnorm_the_means_drift():
    """Measured (seed 0, L = 10, width 8): sigmoid is off-centre from layer 2 on (|μ| 0.24–0.58 vs 0.09 in
    layer 1); with skips the off-centre part accumulates layer by layer (sigmoid 0.09 → 4.3, ReLU 0.09 → 5.3).
    tanh alone stays nearly centred (0.09 → 0.013): it is the centred non-linearity of the lecture."""
    for activation in ("sigmoid", "relu", "tanh"):
        setup = dn.Setup(depth=10, activation=activation)
        X, _ = dn.dataset(setup)
        plain = dn.preactivation_stats(dn.build(setup, "plain"), X).mean_rms
        skip = dn.preactivation_stats(dn.build(setup, "+ skip"), X).mean_rms
        assert float(plain.min()) > 1e-4 and float(skip.min()) > 1e-2, "never centred exactly without BN"
        if activation == "sigmoid":
            assert float(plain[1:].min()) > 0.2
        if activation in ("sigmoid", "relu"):
            assert float(skip[-1]) > 10 * float(skip[0])
        if activation == "tanh":
            assert float(plain[-1]) < float(plain[0])


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("depth", [14, 20])
def test_skip_keeps_the_first_layer_gradient_at_depth(depth, seed):
    """‖∂E/∂W₁‖ at θ₀, tanh, width 8: skip/plain was 46×–1640× at depth 14 and 20 for seeds 0–3.
    (At depth 10 it depends on the seed: 38.6× for seed 0 but 2.5× for seed 2 — the page says which.)"""
    setup = dn.Setup(depth=depth, seed=seed)
    X, y = dn.dataset(setup)
    g = {v: dn.weight_gradient_norms(dn.build(setup, v), X, y) for v in ("plain", "+ skip")}
    assert g["plain"].shape == (depth + 1,)
    assert float(g["+ skip"][0]) >= 10 * float(g["plain"][0])


def test_first_layer_gradient_ratio_at_depth_10_default_seed():
    setup = dn.Setup(depth=10)
    X, y = dn.dataset(setup)
    g = {v: float(dn.weight_gradient_norms(dn.build(setup, v), X, y)[0]) for v in ("plain", "+ skip")}
    assert g["+ skip"] / g["plain"] == pytest.approx(38.6, rel=0.01)


def test_weight_gradient_norms_match_autograd():
    setup = dn.Setup(depth=3, width=4)
    X, y = dn.dataset(setup)
    net = dn.build(setup, "+ both")
    ref = models._frozen_copy(net, "train")
    loss = models.loss_from_outputs(ref(X), y)
    loss.backward()
    expected = torch.stack([b.linear.weight.grad.norm() for b in ref.blocks] + [ref.out.weight.grad.norm()])
    torch.testing.assert_close(dn.weight_gradient_norms(net, X, y), expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("mode", dn.MODES)
@pytest.mark.parametrize("variant", list(dn.VARIANTS))
def test_lanczos_top_eigenvalues_match_the_exact_hessian(variant, mode):
    X, y = dn.dataset(SMALL)
    run = dn.train_variant(SMALL, variant)
    report = dn.hessian_report(dn.build(SMALL, variant), X, y, run.theta, mode, exact=True)
    assert report.n_hvp > 0, "Lanczos really ran (P > 20)"
    E, th = dn.loss_fn(dn.with_theta(dn.build(SMALL, variant), run.theta), X, y, mode)
    full = torch.linalg.eigvalsh(hessian.exact_reference(E, th)).flip(0)
    torch.testing.assert_close(report.top, full[: dn.K_TOP], rtol=1e-7, atol=1e-9 * float(full.abs().max()))
    torch.testing.assert_close(report.spectrum, full, rtol=1e-9, atol=1e-11)


def test_eval_mode_has_the_train_loss_but_not_the_train_hessian():
    """Calibrated running statistics: E_eval(θ) = E_train(θ) at θ, but μ, σ² no longer move with θ."""
    X, y = dn.dataset(SMALL)
    for variant in dn.VARIANTS:
        net = dn.with_theta(dn.build(SMALL, variant), dn.train_variant(SMALL, variant).theta)
        Et, th = dn.loss_fn(net, X, y, "train")
        Ee, _ = dn.loss_fn(net, X, y, "eval")
        assert float(Et(th)) == pytest.approx(float(Ee(th)), rel=1e-13)
        diff = float((hessian.exact(Et, th) - hessian.exact(Ee, th)).abs().max())
        if dn.VARIANTS[variant][0]:
            assert diff > 1e-3, f"{variant}: BN's batch coupling is part of the train-mode Hessian"
        else:
            assert diff == 0.0, f"{variant}: no BN, the modes agree"
    with pytest.raises(ValueError):
        dn.loss_fn(net, X, y, "test")


def test_mode_for_shares_results_only_where_the_modes_agree():
    """The page keys Hessians and slices by ``mode_for``: a net without BN is one function in both
    modes (its whole Hessian result and its slices are equal), a net with BN is not."""
    runs = {v: dn.train_variant(SMALL, v) for v in dn.VARIANTS}
    for variant, (has_bn, _) in dn.VARIANTS.items():
        assert dn.mode_for(variant, "train") == "train"
        assert dn.mode_for(variant, "eval") == ("eval" if has_bn else "train")
        h = {m: dn.variant_hessian(SMALL, runs[variant], m, "trained") for m in dn.MODES}
        s = {m: dn.variant_slices(SMALL, runs[variant], m, 0.5) for m in dn.MODES}
        same = torch.equal(h["train"].report.spectrum, h["eval"].report.spectrum)
        same = same and torch.equal(h["train"].top_other, h["eval"].top_other)
        same = same and torch.equal(s["train"].grid, s["eval"].grid)
        assert same == (not has_bn), variant
    with pytest.raises(ValueError):
        dn.mode_for("plain", "test")


def test_train_mode_loss_ignores_the_bias_before_batchnorm():
    """BN subtracts the batch mean, so ∂E/∂bₗ = 0 and the Hessian rows of bₗ vanish (train mode)."""
    X, y = dn.dataset(SMALL)
    net = dn.build(SMALL, "+ batch norm")
    E, th = dn.loss_fn(net, X, y, "train")
    H = hessian.exact(E, th)
    start = 0
    for name, p in net.named_parameters():
        if name.endswith("linear.bias") and name.startswith("blocks"):
            assert float(H[start : start + p.numel()].abs().max()) < 1e-12, name
        start += p.numel()


def test_block_norm_estimate_converges_to_the_exact_blocks():
    X, y = dn.dataset(SMALL)
    net = dn.build(SMALL, "+ both")
    E, th = dn.loss_fn(net, X, y, "train")
    slices = [s for _, s in dn.layer_groups(net)]
    exact = hessian.block_norms(hessian.exact(E, th), slices)
    est = dn.block_norms_estimate(E, th, slices, probes=4000, seed=0)
    torch.testing.assert_close(est, exact, rtol=0.05, atol=1e-3 * float(exact.max()))
    assert dn.off_block_share_from_norms(exact) == pytest.approx(
        hessian.off_block_share(hessian.exact(E, th), slices), rel=1e-12
    )
    a = dn.off_block_share_from_norms(dn.block_norms_estimate(E, th, slices, probes=8, seed=3))
    b = dn.off_block_share_from_norms(dn.block_norms_estimate(E, th, slices, probes=8, seed=3))
    assert a == b, "seeded"


def test_unstructured_share_of_equal_entries():
    assert dn.unstructured_share([slice(0, 1), slice(1, 4)]) == pytest.approx(1 - (1 / 16 + 9 / 16))
    H = torch.ones(4, 4, dtype=DTYPE)  # all entries equal: the reference is exact
    assert hessian.off_block_share(H, [slice(0, 1), slice(1, 4)]) == pytest.approx(6 / 16)


@pytest.mark.parametrize(("alphas", "expected"), [((0.3, 3.0), 0.25), ((0.9, 0.1), 1.0), ((1000.0, 1.0), None)])
def test_largest_stable_lr_on_a_quadratic(alphas, expected):
    """E(θ) = Σ αᵢθᵢ²: each coordinate is multiplied by (1 − 2γαᵢ), stable iff γ < 1/α_max.
    The sweep's grid 2⁻⁸ … 2¹ has 0.25 < 1/3, 1 < 1/0.9, and nothing below 1/1000."""
    a = torch.tensor(alphas, dtype=DTYPE)

    def E(theta):
        return (a * theta**2).sum()

    lr, ratio = dn.largest_stable_lr(E, torch.ones(2, dtype=DTYPE))
    assert lr == expected
    grid = torch.tensor(dn.SWEEP_LRS, dtype=DTYPE)
    assert torch.equal(torch.isfinite(ratio), grid < 1 / a.max())


def test_training_is_seeded_and_divergence_is_a_result():
    a, b = dn.train_variant(SMALL, "+ skip"), dn.train_variant(SMALL, "+ skip")
    assert torch.equal(a.theta, b.theta) and a.diverged_at is None
    big = dn.Setup(depth=10, width=8, lr=0.5, steps=40)  # + skip's largest stable γ is 0.0625 here
    run = dn.train_variant(big, "+ skip")
    assert run.diverged_at is not None and math.isfinite(run.final_loss)
    h = dn.variant_hessian(big, run, "train", "trained")
    assert h.report is None and "diverged" in h.skipped and h.top_other is not None
    assert dn.variant_slices(big, run, "train", 1.0) is None
    notes = dn.divergence_notes({"+ skip": run}, dn.Stability({"+ skip": 0.0625}, {"+ skip": 71.1}), 0.5)
    assert f"diverged at step {run.diverged_at}" in notes[0] and "0.0625" in notes[0]


def test_default_interaction_measurement_supports_the_claim():
    """The page's default (L = 10, width 8, tanh, γ = 0.05, 100 steps, BN train mode, after training):
    off-block shares plain 0.848, + batch norm 0.702, + skip 0.228, + both 0.219."""
    setup = dn.Setup()
    runs = {v: dn.train_variant(setup, v) for v in dn.VARIANTS}
    study = dn.hessian_study(setup, runs, "train", "trained")
    shares = {v: r.off_block_share for v, r in study.reports.items()}
    expected = {"plain": 0.848, "+ batch norm": 0.702, "+ skip": 0.228, "+ both": 0.219}
    assert shares == pytest.approx(expected, abs=2e-3)
    text, supported = dn.interaction_verdict(study)
    assert supported is True and "supports the slide's claim" in text


def test_the_interaction_claim_fails_at_other_settings_and_the_page_says_so():
    """Sigmoid, L = 10, after training (measured): plain 0.030, + batch norm 0.705, + skip 0.686, + both 0.000;
    the plain and + both Hessians are ≥ 97 % one block (the output layer): the other layers barely matter."""
    setup = dn.Setup(activation="sigmoid")
    runs = {v: dn.train_variant(setup, v) for v in dn.VARIANTS}
    study = dn.hessian_study(setup, runs, "train", "trained")
    text, supported = dn.interaction_verdict(study)
    assert supported is None and "only partly" in text and "not lower: + batch norm, + skip" in text
    notice = dn.notice_interactions(study)
    assert "Caution: in plain one block (output)" in notice


def test_shown_names_are_the_identifiers_in_english_and_translated_in_chinese():
    from core import i18n

    assert dn.names(dn.VARIANTS) == list(dn.VARIANTS)
    assert [dn.point_name(p) for p in dn.POINTS] == list(dn.POINTS.values())
    assert dn.group_name("layer 3") == "layer 3" and dn.group_name("output") == "output"
    assert dn.short_group("output") == "out"
    i18n.set_language("zh")
    try:
        assert dn.names(dn.VARIANTS) == ["普通", "+ 批归一化", "+ 跳跃连接", "+ 两者"]
        assert dn.group_name("layer 3") == "第 3 层" and dn.short_group("output") == "输出"
        assert dn.point_name("initial") == "初始化时"
    finally:
        i18n.set_language("en")
