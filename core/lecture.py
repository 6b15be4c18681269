"""The lecture map: each section of "Deep Learning 1 — Optimization (Part 1)",
the claim the app makes visible, and the page that demonstrates it (DESIGN.md)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Section:
    title: str
    claim: str
    page: str  # a label of core.ui.PAGES


SECTIONS = [
    Section(
        "One layer: E(w) = 1/N Σ(wᵀxₙ−tₙ)² + λ‖w‖²",
        "convex: the Hessian is PSD everywhere, GD reaches the minimum from anywhere",
        "Non-convexity",
    ),
    Section(
        "Two layers: E(W,v) = 1/N Σ(vᵀWxₙ−tₙ)² + λ(‖v‖²+‖W‖²)",
        "non-convex: a saddle at the origin (eigenvalues −1.8, 2.2), minima at w=v=±√0.9 with E=0.19",
        "Non-convexity",
    ),
    Section("tanh hidden layer", "several local minima and plateaus that GD crawls through", "Plateaus"),
    Section(
        "Practical recommendations",
        "zero init sits on a saddle; init scale; restarts; a large LR escapes poor minima; width vs depth",
        "Plateaus",
    ),
    Section("Learning-rate schedules", "step decay, exponential decay γ₀e^(−αt), cyclical", "Plateaus"),
    Section(
        "GD on E = Σαᵢ(θᵢ−θᵢ*)²",
        "factor (1−2γαᵢ) per step; converges iff 0<γ<1/αᵢ; slowest rate 1−2·0.99·α_min/α_max",
        "Conditioning",
    ),
    Section(
        "General case: the local quadratic model",
        "rotate into the Hessian's eigenvectors; condition number λ_max/λ_min",
        "Conditioning",
    ),
    Section("Exercise: the linear model's Hessian", "H = 2E[xxᵀ] + 2λI, derived vs autograd", "Conditioning"),
    Section("The Hessian is huge", "|θ|×|θ| entries for real fully connected nets", "Conditioning"),
    Section(
        "Data normalization (LeCun '98)",
        "centering and whitening lower the condition number and speed up GD",
        "Normalization",
    ),
    Section("Hessian decomposition", "H = Jᵀ(∂²E/∂F²)J + (∂E/∂F)(∂²F/∂θ²): Gauss–Newton + residual", "Conditioning"),
    Section(
        "Non-linearities", "sigmoid is not centred (higher κ); tanh is, but drifts during training", "Normalization"
    ),
    Section("Initialization scale", "θ ~ N(0, 1/fan_in) keeps each layer's output variance ≈ 1", "Normalization"),
    Section(
        "Block-diagonal Hessian", "activations and sensitivities on the same scale in every layer", "Normalization"
    ),
    Section(
        "Batch normalization",
        "centred activations in every layer, fewer interactions between layers",
        "BatchNorm & skip",
    ),
    Section("Skip connections", "better signal propagation, fewer interactions between layers", "BatchNorm & skip"),
]
