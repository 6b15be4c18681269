"""Streamlit runs every session's script in its own thread: the Hessian code must work when
several sessions compute at once. Forward mode (hvp, forward_over_reverse) takes
core/hessian.py's FORWARD_AD_LOCK: without it, 4 threads × 200 calls gave 763 "forward AD level"
errors (found by benchmarks/bench_load.py); ``exact`` is reverse over reverse and runs unlocked."""

from __future__ import annotations

import threading

import torch

from core import hessian

DTYPE = torch.float64


def _loss(t: torch.Tensor) -> torch.Tensor:
    return (t**4).sum() + (t[:-1] * t[1:]).sum()


def test_exact_and_hvp_from_several_threads_at_once():
    errors: list[str] = []
    results: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []
    start = threading.Barrier(4)

    def work(seed: int) -> None:
        g = torch.Generator().manual_seed(seed)
        start.wait()
        for _ in range(40):
            theta = torch.randn(20, generator=g, dtype=DTYPE)
            try:
                H = hessian.exact(_loss, theta)
                H_fwd = hessian.forward_over_reverse(_loss, theta)
                torch.testing.assert_close(H_fwd, H)
                Hv = hessian.hvp(_loss, theta, torch.stack([theta, theta.flip(0)]))
                results.append((theta, H, Hv))
            except Exception as e:  # collected: an exception in a thread would not fail the test
                errors.append(repr(e)[:200])

    threads = [threading.Thread(target=work, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors[:3]
    assert len(results) == 4 * 40
    for theta, H, Hv in results[::17]:  # the numbers are right, not just error-free
        reference = hessian.exact_reference(_loss, theta)
        torch.testing.assert_close(H, reference)
        torch.testing.assert_close(Hv, torch.stack([reference @ theta, reference @ theta.flip(0)]))
