"""Hessian benchmarks (prints Markdown tables; targets in DESIGN.md "Performance budget").

1. hessian.exact (torch.func, reverse over reverse) vs forward over reverse and a row-by-row
   double-backward loop, ~50 to ~2,000 parameters, and exact + all eigenvalues
   (hessian.eigenvalues) for ≤ 1,000 parameters (target ≤ 100 ms); the same on the BatchNorm
   page's four default nets (batch norm in train mode), where the two modes differ most.
2. top_eigenvalues (Lanczos on HVPs) k=1 and k=5 at ~10k and ~100k parameters vs power
   iteration with deflation, both on the same HVP; HVP counts and errors against a tight
   Lanczos reference (target at 100k, k=5: ≤ 0.25 s with fewer HVPs).

Run: .venv/bin/python benchmarks/bench_hessian.py
"""

from __future__ import annotations

import os
import statistics
import time

import torch
from _util import table, timeit

from core import data, hessian, models


def paired(fn_a, fn_b, repeat: int = 15) -> tuple[float, float]:
    """Median wall times (s) of fn_a and fn_b, run alternately: on a noisy shared machine a
    ratio from interleaved runs is fair where two separate timings are not."""
    fn_a(), fn_b()
    a, b = [], []
    for _ in range(repeat):
        for fn, out in ((fn_a, a), (fn_b, b)):
            t = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t)
    return statistics.median(a), statistics.median(b)


def mlp_loss(in_dim: int, width: int, depth: int, n: int, seed: int = 0):
    X, y = data.teacher_regression(n=n, in_dim=in_dim, out_dim=1, seed=seed)
    net = models.MLP(in_dim, width, depth, 1, activation="tanh", seed=seed)
    return models.flat_loss(net, X, y)


def bench_exact() -> str:
    rows = []
    for width in (4, 12, 20, 28, 43):  # P = w² + 7w + 1: 45 … 981 (the ≤ 1,000 budget) … 2,151
        E, theta = mlp_loss(in_dim=4, width=width, depth=2, n=64)
        P = theta.numel()
        t_exact, t_fwd = paired(
            lambda E=E, theta=theta: hessian.exact(E, theta),
            lambda E=E, theta=theta: hessian.forward_over_reverse(E, theta),
            repeat=15 if P <= 1000 else 3,
        )
        t_eig = timeit(lambda E=E, theta=theta: hessian.eigenvalues(hessian.exact(E, theta)), repeat=5)
        t_rows = timeit(lambda E=E, theta=theta: hessian.row_by_row(E, theta), repeat=1 if P > 1000 else 3)
        rows.append(
            {
                "parameters": P,
                "exact (ms)": f"{t_exact * 1e3:.1f}",
                "forward over reverse (ms)": f"{t_fwd * 1e3:.1f}",
                "exact + eigenvalues (ms)": f"{t_eig * 1e3:.1f}",
                "row-by-row (ms)": f"{t_rows * 1e3:.1f}",
                "speed-up": f"{t_rows / t_exact:.1f}×",
            }
        )
    return table(rows)


def bench_batchnorm_page() -> str:
    """The BatchNorm page's Hessian tab: its four default nets after training, BN in train mode."""
    from core import deepnets as dn

    setup = dn.Setup()
    X, y = dn.dataset(setup)
    rows = []
    for variant in dn.VARIANTS:
        run = dn.train_variant(setup, variant)
        E, theta = dn.loss_fn(dn.with_theta(dn.build(setup, variant), run.theta), X, y, "train")
        t_exact, t_fwd = paired(
            lambda E=E, theta=theta: hessian.exact(E, theta),
            lambda E=E, theta=theta: hessian.forward_over_reverse(E, theta),
            repeat=15,
        )
        t_eig = timeit(lambda E=E, theta=theta: hessian.eigenvalues(hessian.exact(E, theta)), repeat=5)
        rows.append(
            {
                "variant": variant,
                "parameters": theta.numel(),
                "exact (ms)": f"{t_exact * 1e3:.1f}",
                "forward over reverse (ms)": f"{t_fwd * 1e3:.1f}",
                "ratio": f"{t_fwd / t_exact:.2f}×",
                "exact + eigenvalues (ms)": f"{t_eig * 1e3:.1f}",
            }
        )
    return table(rows)


def bench_top_eigenvalues() -> str:
    rows = []
    for width, label in ((64, "~10k"), (220, "~100k")):
        E, theta = mlp_loss(in_dim=10, width=width, depth=3, n=128)
        P = theta.numel()
        reference = hessian.top_eigenvalues(E, theta, k=6, tol=1e-14, seed=1)
        for k in (1, 5):
            ref = reference[:k]

            def lanczos(E=E, theta=theta, k=k):
                return hessian.top_eigenvalues(E, theta, k=k, tol=1e-8, return_info=True)

            def power(E=E, theta=theta, k=k):
                return hessian.power_iteration(E, theta, k=k, tol=1e-8, max_iter=2000)

            t_l = timeit(lanczos, repeat=3)
            vals_l, info = lanczos()
            t0 = time.perf_counter()
            vals_p, n_p = power()
            t_p = time.perf_counter() - t0
            err = lambda v, ref=ref: float(((v - ref).abs() / ref.abs()).max())  # noqa: E731
            rows.append(
                {
                    "parameters": f"{P:,} ({label})",
                    "k": k,
                    "Lanczos (s)": f"{t_l:.3f}",
                    "Lanczos HVPs": info.n_hvp,
                    "Lanczos rel. error": f"{err(vals_l):.1e}",
                    "power+deflation (s)": f"{t_p:.3f}",
                    "power HVPs": n_p,
                    "power rel. error": f"{err(vals_p):.1e}",
                }
            )
    return table(rows)


def main() -> None:
    # The app's policy (core.ui.warm_up): one torch thread per computation. OPTLAB_THREADS=2
    # shows what a lone user with both cores would get.
    torch.set_num_threads(int(os.environ.get("OPTLAB_THREADS", "1")))
    torch.manual_seed(0)
    hessian.warm_up()  # the first torch.func call costs ~1 s once per process
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads\n")
    print("## Exact Hessian (tanh MLP 4-w-w-1, N=64)\n")
    print(bench_exact())
    print("\n## Exact Hessian of the BatchNorm page's default nets (depth 10, width 8, N=64, BN train)\n")
    print(bench_batchnorm_page())
    print("\n## Top eigenvalues (tanh MLP 10-w-w-w-1, N=128)\n")
    print(bench_top_eigenvalues())


if __name__ == "__main__":
    main()
