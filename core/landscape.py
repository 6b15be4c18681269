"""1-D and 2-D slices of a loss E(θ) along (filter-normalized) random directions.

Li, Xu, Taylor, Studer & Goldstein (2018), "Visualizing the Loss Landscape of
Neural Nets":

    1-D:  f(α)    = E(θ* + α d)
    2-D:  f(α, β) = E(θ* + α d₁ + β d₂)

A plain Gaussian direction d is meaningless for a network whose loss is
invariant to the scale of a layer's weights (batch norm makes it so): a step
α d is large for a small-norm layer and tiny for a large one. Filter
normalization rescales every filter of d to the norm of the same filter of θ*:

    d_{l,i} ← d_{l,i} / ‖d_{l,i}‖ · ‖θ*_{l,i}‖

where a "filter" of a fully connected layer is one row of its weight matrix
(the weights into one unit). One-dimensional parameters (biases, batch norm's
γ and β) get direction 0, as in the authors' code (``ignore="biasbn"``), so
that α moves only the weights and α = 1 is a step the size of the weights
themselves. Random draws are made for weight matrices only, in
``named_parameters`` order, from one ``seed``: nets with the same weight shapes
(our four variants) get the same raw directions, normalized to their own θ*.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

DTYPE = torch.float64
LossFn = Callable[[torch.Tensor], torch.Tensor]


def parameter_views(net: nn.Module, theta: torch.Tensor) -> list[tuple[str, torch.Tensor]]:
    """(name, view of θ shaped like that parameter), in ``named_parameters`` order."""
    P = sum(p.numel() for p in net.parameters())
    if theta.numel() != P:
        raise ValueError(f"θ has {theta.numel()} entries but the net has {P} parameters")
    out, start = [], 0
    for name, p in net.named_parameters():
        out.append((name, theta[start : start + p.numel()].view_as(p)))
        start += p.numel()
    return out


def filter_normalized_directions(
    net: nn.Module, theta: torch.Tensor, k: int = 2, seed: int = 0, eps: float = 1e-12
) -> torch.Tensor:
    """k random directions [k, P], each filter scaled to the norm of θ's filter (see module doc).

    Filter i of a weight matrix W [out, in] is its row W[i]; a filter of θ with
    norm 0 gets direction 0. Biases and batch-norm parameters (1-D) get 0.
    """
    theta = theta.detach().to(DTYPE)
    gen = torch.Generator().manual_seed(int(seed))
    views = parameter_views(net, theta)
    dirs = torch.zeros(k, theta.numel(), dtype=DTYPE)
    for j in range(k):
        parts = []
        for _, w in views:
            if w.dim() < 2:  # bias, γ, β: not perturbed (Li et al.'s ignore="biasbn")
                parts.append(torch.zeros(w.numel(), dtype=DTYPE))
                continue
            d = torch.randn(w.shape, generator=gen, dtype=DTYPE)
            rows_d = d.reshape(d.shape[0], -1)
            rows_w = w.reshape(w.shape[0], -1)
            scale = rows_w.norm(dim=1, keepdim=True) / rows_d.norm(dim=1, keepdim=True).clamp_min(eps)
            parts.append((rows_d * scale).reshape(-1))
        dirs[j] = torch.cat(parts)
    return dirs


def filter_norms(net: nn.Module, v: torch.Tensor) -> dict[str, torch.Tensor]:
    """{weight name: [out] norms of each filter (row)} of a flat vector laid out like θ."""
    return {name: w.reshape(w.shape[0], -1).norm(dim=1) for name, w in parameter_views(net, v) if w.dim() >= 2}


def losses_at(loss_fn: LossFn, thetas: torch.Tensor, chunk: int = 256) -> torch.Tensor:
    """E(θ) for each row of thetas [R, P], vectorized (torch.func.vmap) in chunks of ``chunk`` rows."""
    with torch.no_grad():
        return torch.func.vmap(loss_fn, chunk_size=chunk)(thetas.to(DTYPE))


def slice_1d(loss_fn: LossFn, theta: torch.Tensor, d: torch.Tensor, alphas: torch.Tensor) -> torch.Tensor:
    """f(α) = E(θ + α d) for each α: [len(alphas)]."""
    alphas = torch.as_tensor(alphas, dtype=DTYPE)
    return losses_at(loss_fn, theta.detach()[None, :] + alphas[:, None] * d[None, :])


def slice_2d(
    loss_fn: LossFn,
    theta: torch.Tensor,
    d1: torch.Tensor,
    d2: torch.Tensor,
    alphas: torch.Tensor,
    betas: torch.Tensor,
) -> torch.Tensor:
    """f(α, β) = E(θ + α d₁ + β d₂) on the grid: [len(betas), len(alphas)] (row = β, column = α)."""
    alphas = torch.as_tensor(alphas, dtype=DTYPE)
    betas = torch.as_tensor(betas, dtype=DTYPE)
    B, A = torch.meshgrid(betas, alphas, indexing="ij")
    thetas = theta.detach()[None, :] + A.reshape(-1, 1) * d1[None, :] + B.reshape(-1, 1) * d2[None, :]
    return losses_at(loss_fn, thetas).reshape(len(betas), len(alphas))


__all__ = ["filter_normalized_directions", "filter_norms", "losses_at", "parameter_views", "slice_1d", "slice_2d"]
