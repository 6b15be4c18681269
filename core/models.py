"""The MLP of the lecture and its loss as a function of one flat parameter vector.

    h₀ = act(BN?(W₀x + b₀))
    hₗ = [hₗ₋₁ +] act(BN?(Wₗhₗ₋₁ + bₗ))      l = 1 … depth−1   (skip adds the block input)
    F(x) = W_out h_{depth−1} + b_out

Weights are drawn θ ~ N(0, init_scale / fan_in) (init_scale=1: LeCun, 2: He,
0: all-zero init), biases start at 0, from a private ``torch.Generator(seed)``.
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn
from torch.func import functional_call

DTYPE = torch.float64

ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "linear": nn.Identity,
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(0.1),
    "softplus": nn.Softplus,
    "gelu": nn.GELU,
}


class Block(nn.Module):
    """One hidden layer: act(BN?(W h + b)), plus h itself when ``skip`` is on."""

    def __init__(self, n_in: int, n_out: int, activation: str, batchnorm: bool, skip: bool):
        super().__init__()
        if skip and n_in != n_out:
            raise ValueError("a skip connection needs n_in == n_out")
        self.linear = nn.Linear(n_in, n_out, dtype=DTYPE)
        self.norm = nn.BatchNorm1d(n_out, dtype=DTYPE) if batchnorm else None
        self.act = ACTIVATIONS[activation]()
        self.skip = skip

    def pre_activation(self, h: torch.Tensor) -> torch.Tensor:
        z = self.linear(h)
        return self.norm(z) if self.norm is not None else z

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        out = self.act(self.pre_activation(h))
        return h + out if self.skip else out


class MLP(nn.Module):
    """in_dim → depth hidden layers of ``width`` → out_dim.

    ``batchnorm`` inserts BatchNorm1d before every hidden activation;
    ``skip`` adds each hidden block's input to its output (blocks 1 … depth−1,
    where input and output widths agree).
    """

    def __init__(
        self,
        in_dim: int,
        width: int,
        depth: int,
        out_dim: int,
        activation: str = "tanh",
        batchnorm: bool = False,
        skip: bool = False,
        init_scale: float = 1.0,
        seed: int = 0,
    ):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose from {list(ACTIVATIONS)}")
        if depth < 1 or width < 1:
            raise ValueError("depth and width must be >= 1")
        if init_scale < 0:
            raise ValueError("init_scale is a variance factor and must be >= 0")
        self.config = dict(
            in_dim=in_dim,
            width=width,
            depth=depth,
            out_dim=out_dim,
            activation=activation,
            batchnorm=batchnorm,
            skip=skip,
            init_scale=init_scale,
            seed=seed,
        )
        # nn.Linear draws a throw-away default init from the *global* RNG; fork it so that
        # building a net leaves the caller's random stream untouched (reset_parameters then
        # draws the real weights from a private generator).
        with torch.random.fork_rng(devices=[]):
            blocks = [Block(in_dim, width, activation, batchnorm, skip=False)]
            blocks += [Block(width, width, activation, batchnorm, skip) for _ in range(depth - 1)]
            self.blocks = nn.ModuleList(blocks)
            self.out = nn.Linear(width, out_dim, dtype=DTYPE)
        self.reset_parameters(init_scale, seed)

    @torch.no_grad()
    def reset_parameters(self, init_scale: float, seed: int) -> None:
        gen = torch.Generator().manual_seed(int(seed))
        for layer in [b.linear for b in self.blocks] + [self.out]:
            std = math.sqrt(init_scale / layer.in_features)
            layer.weight.copy_(torch.randn(layer.weight.shape, generator=gen, dtype=DTYPE) * std)
            layer.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        for block in self.blocks:
            h = block(h)
        return self.out(h)

    def forward_with_activations(self, x: torch.Tensor):
        """F(x) plus each hidden layer's pre-activations z and outputs h (lists of [N, width])."""
        zs, hs = [], []
        h = x
        for block in self.blocks:
            z = block.pre_activation(h)
            out = block.act(z)
            h = h + out if block.skip else out
            zs.append(z)
            hs.append(h)
        return self.out(h), zs, hs

    def layer_names(self) -> list[str]:
        """Human-readable names of the parameter groups, in ``parameters()`` order."""
        return [name for name, _ in self.named_parameters()]


def n_parameters(sizes: list[int]) -> int:
    """Parameter count of a fully connected net with layer sizes [n₀, n₁, …, n_L]:
    Σₗ (nₗ + 1)·nₗ₊₁ (weights and biases). 784-1000-1000-10 → 1,796,010."""
    return sum((a + 1) * b for a, b in itertools.pairwise(sizes))


def layer_slices(net: nn.Module) -> list[tuple[str, slice]]:
    """Where each layer's parameters sit in the flat vector: [(layer name, slice)].

    Weight and bias of one layer are grouped (``blocks.0.linear``, ``blocks.0.norm``, ``out``).
    """
    groups: list[tuple[str, int, int]] = []
    start = 0
    for name, p in net.named_parameters():
        layer = name.rsplit(".", 1)[0]
        if groups and groups[-1][0] == layer:
            groups[-1] = (layer, groups[-1][1], start + p.numel())
        else:
            groups.append((layer, start, start + p.numel()))
        start += p.numel()
    return [(name, slice(a, b)) for name, a, b in groups]


def flatten(net: nn.Module) -> torch.Tensor:
    """θ: all parameters concatenated in ``named_parameters()`` order, detached."""
    return torch.cat([p.detach().reshape(-1) for p in net.parameters()]).clone()


def unflatten(net: nn.Module, theta: torch.Tensor) -> dict[str, torch.Tensor]:
    """The inverse of ``flatten``: a {name: tensor} dict viewing into ``theta``."""
    out, start = {}, 0
    for name, p in net.named_parameters():
        out[name] = theta[start : start + p.numel()].view_as(p)
        start += p.numel()
    return out


def _frozen_copy(net: nn.Module, mode: str | None) -> nn.Module:
    """A private copy whose forward is a pure function of the parameters.

    ``mode="train"``: batch norm uses the batch's μ, σ² (the copy's BN layers do
    not track running statistics, so nothing is written). ``mode="eval"``: BN uses
    its stored running statistics as constants. ``None``: the net's own mode.
    The caller's module is never touched.
    """
    mode = mode if mode is not None else ("train" if net.training else "eval")
    if mode not in ("train", "eval"):
        raise ValueError("mode must be 'train', 'eval' or None")
    clone = copy.deepcopy(net)
    if mode == "train":
        clone.train()
        for m in clone.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.track_running_stats = False
                m.running_mean = None
                m.running_var = None
    else:
        clone.eval()
    return clone


def flat_forward(net: nn.Module, mode: str | None = None):
    """f(θ, X) = F(X; θ) for a flat θ (see ``flat_loss`` for ``mode``)."""
    clone = _frozen_copy(net, mode)
    buffers = dict(clone.named_buffers())

    def f(theta: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
        return functional_call(clone, (unflatten(clone, theta), buffers), (X,))

    return f


def loss_from_outputs(F: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean squared error 1/N Σ‖Fₙ − yₙ‖² for float targets, cross-entropy for class labels."""
    if y.dtype in (torch.int64, torch.int32):
        return nn.functional.cross_entropy(F, y)
    return (F - y.reshape(F.shape)).pow(2).sum(-1).mean()


def flat_loss(net: nn.Module, X: torch.Tensor, y: torch.Tensor, mode: str | None = None):
    """(E, θ₀): E(θ) = loss of ``net`` with parameters θ on (X, y), and θ₀ its current θ.

    E is a pure function of one flat vector, so ``torch.func`` can take its
    gradient, Hessian and HVPs. For batch norm, ``mode`` is explicit: "train"
    (batch statistics, the loss depends on the whole batch) or "eval" (stored
    running statistics); None keeps whatever mode ``net`` is in.
    """
    f = flat_forward(net, mode)

    def E(theta: torch.Tensor) -> torch.Tensor:
        return loss_from_outputs(f(theta, X), y)

    return E, flatten(net)


@dataclass
class TrainResult:
    """Full-batch GD on a flat parameter vector: θ_T, losses [T+1], gradient norms [T+1]."""

    theta: torch.Tensor
    losses: torch.Tensor
    grad_norms: torch.Tensor
    diverged_at: int | None


def train(
    net: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    lr: float,
    steps: int,
    mode: str | None = None,
    blowup: float = 1e6,
) -> TrainResult:
    """θₜ₊₁ = θₜ − γ∇E(θₜ) from the net's current θ, on a private copy.

    Uses ``flat_loss`` (so batch norm sees the whole batch in "train" mode) and
    never modifies ``net``. Stops at the first step where E is not finite or
    exceeds blowup · max(E(θ₀), 1); later entries are NaN.
    """
    E, theta = flat_loss(net, X, y, mode)
    grad_and_value = torch.func.grad_and_value(E)
    losses = torch.full((steps + 1,), float("nan"), dtype=DTYPE)
    gnorms = torch.full((steps + 1,), float("nan"), dtype=DTYPE)
    diverged_at, limit = None, None
    for t in range(steps + 1):
        g, loss = grad_and_value(theta)
        if limit is None:
            limit = blowup * max(float(loss), 1.0) if math.isfinite(float(loss)) else 0.0
        if not math.isfinite(float(loss)) or float(loss) > limit or not torch.isfinite(g).all():
            diverged_at = t
            break
        losses[t], gnorms[t] = loss.detach(), g.norm()
        if t < steps:
            theta = (theta - lr * g).detach()
    return TrainResult(theta=theta.detach(), losses=losses, grad_norms=gnorms, diverged_at=diverged_at)
