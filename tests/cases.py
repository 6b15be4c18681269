"""Test cases as data (curvlinops style): small seeded models fed to every Hessian test.

Each case builds (net, X, y, mode) in float64. Batch norm's dependence on the
batch is a named case: its loss is only defined for a whole batch in "train" mode.
"""

from __future__ import annotations

import torch

from core import data, models

MLP_CASES = {
    "tanh-regression": dict(activation="tanh", depth=2, width=5, out_dim=1, task="regression"),
    "sigmoid-regression": dict(activation="sigmoid", depth=2, width=4, out_dim=2, task="regression"),
    "relu-classification": dict(activation="relu", depth=2, width=6, out_dim=2, task="classification"),
    "batchnorm-train": dict(
        activation="tanh", depth=2, width=4, out_dim=1, task="regression", batchnorm=True, mode="train"
    ),
    "skip-tanh": dict(activation="tanh", depth=3, width=4, out_dim=1, task="regression", skip=True),
}


def build(case: str, seed: int = 0, n: int = 16):
    """(net, X, y, mode) for a named case."""
    spec = dict(MLP_CASES[case])
    task, mode = spec.pop("task"), spec.pop("mode", None)
    out_dim = spec.pop("out_dim")
    if task == "classification":
        X, y = data.classification_2d("moons", n=n, seed=seed)
    else:
        X, y = data.teacher_regression(n=n, in_dim=2, out_dim=out_dim, seed=seed)
    net = models.MLP(2, out_dim=out_dim, seed=seed, **spec)
    return net, X, y, mode


def random_vectors(P: int, k: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(k, P, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
