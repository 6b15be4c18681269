"""The lecture map: each section of "Deep Learning 1 — Optimization (Part 1)",
the claim the app makes visible, the page that demonstrates it (DESIGN.md), and
the preset that puts that page into the state of the slide.

A preset names control keys (the URL parameters of the page) and their values;
every control it does not name is at its default. ``ui`` draws them as buttons
under each page's title, and the home page links each section to its preset.
"""

from __future__ import annotations

from dataclasses import dataclass

# page label (core.ui.PAGES) -> preset name -> {control key: value}. Values are what the
# widget returns (option labels for choices, numbers for sliders). A preset names only the
# controls that differ from their defaults, so that its link is also the URL the page keeps
# (Streamlit drops default values from the address bar, one history entry each); the
# tests check this, and that each preset shows the number its slide claims.
PRESETS: dict[str, dict[str, dict[str, object]]] = {
    "Non-convexity": {
        "Two layers, N=1, x=1, t=1, λ=0.1": {},  # the page's defaults are the slide's example
        "Start on the saddle": {"w0": 0.0, "v0": 0.0},
        "One layer is convex": {"model": "one layer", "n": 10},
    },
    "Plateaus": {
        "tanh plateau": {},
        "Zero init": {"section": "Initialization", "sigma": 0.0},
        "Too-large init": {"section": "Initialization", "sigma": 5.0},
        "Restarts, width vs depth": {"section": "Restarts, width & depth"},
        "Step decay": {"section": "Learning-rate schedules"},
    },
    "Conditioning": {
        "Poorly conditioned: κ=50, γ=0.99/α_max": {"a2": 50.0},
        "Optimal γ = 1/(α_min+α_max)": {"a2": 50.0, "lr_rule": "γ = 1/(α_min+α_max) (optimum)"},
        "Divergent γ = 1.05/α_max": {"a2": 50.0, "lr_rule": "γ = custom", "lr_amax": 1.05},
        "Hessian of an MLP": {"section": "Hessian of a small MLP"},
        "Linear-model exercise": {"section": "Exercise: linear model"},
        "The Hessian is huge": {"section": "The Hessian is huge"},
    },
    "Normalization": {
        "Centering and whitening": {},
        "Sigmoid vs tanh": {"section": "Non-linearities", "act": "sigmoid"},
        "Init θ ~ N(0, 1/fan_in)": {"section": "Initialization scale"},
        "Block-diagonal Hessian": {"section": "Block-diagonal Hessian"},
    },
    "BatchNorm & skip": {
        "Deep plain net vs BN/skip": {},
        # γ = 0.01: below the largest stable γ of every variant at depth 20 (the default 0.05 is not)
        "Signal through 20 layers": {"view": "Activations & gradients", "depth": 20, "lr": 0.01},
        "Layer interactions": {"view": "Layer interactions"},
    },
}


@dataclass(frozen=True)
class Section:
    title: str
    claim: str
    page: str  # a label of core.ui.PAGES
    preset: str | None = None  # a name in PRESETS[page]: the home page links straight to it


SECTIONS = [
    Section(
        "One layer: E(w) = 1/N Σ(wᵀxₙ−tₙ)² + λ‖w‖²",
        "convex: the Hessian is PSD everywhere, GD reaches the minimum from anywhere",
        "Non-convexity",
        "One layer is convex",
    ),
    Section(
        "Two layers: E(W,v) = 1/N Σ(vᵀWxₙ−tₙ)² + λ(‖v‖²+‖W‖²)",
        "non-convex: a saddle at the origin (eigenvalues −1.8, 2.2), minima at w=v=±√0.9 with E=0.19",
        "Non-convexity",
        "Two layers, N=1, x=1, t=1, λ=0.1",
    ),
    Section(
        "tanh hidden layer", "several local minima and plateaus that GD crawls through", "Plateaus", "tanh plateau"
    ),
    Section(
        "Practical recommendations",
        "zero init sits on a saddle; init scale; restarts; a large LR escapes poor minima; width vs depth",
        "Plateaus",
        "Zero init",
    ),
    Section("Learning-rate schedules", "step decay, exponential decay γ₀e^(−αt), cyclical", "Plateaus", "Step decay"),
    Section(
        "GD on E = Σαᵢ(θᵢ−θᵢ*)²",
        "factor (1−2γαᵢ) per step; converges iff 0<γ<1/αᵢ; slowest rate 1−2·0.99·α_min/α_max",
        "Conditioning",
        "Poorly conditioned: κ=50, γ=0.99/α_max",
    ),
    Section(
        "General case: the local quadratic model",
        "rotate into the Hessian's eigenvectors; condition number λ_max/λ_min",
        "Conditioning",
        "Hessian of an MLP",
    ),
    Section(
        "Exercise: the linear model's Hessian",
        "H = 2E[xxᵀ] + 2λI, derived vs autograd",
        "Conditioning",
        "Linear-model exercise",
    ),
    Section(
        "The Hessian is huge", "|θ|×|θ| entries for real fully connected nets", "Conditioning", "The Hessian is huge"
    ),
    Section(
        "Data normalization (LeCun '98)",
        "centering and whitening lower the condition number and speed up GD",
        "Normalization",
        "Centering and whitening",
    ),
    Section(
        "Hessian decomposition",
        "H = Jᵀ(∂²E/∂F²)J + (∂E/∂F)(∂²F/∂θ²): Gauss–Newton + residual",
        "Conditioning",
        "Hessian of an MLP",
    ),
    Section(
        "Non-linearities",
        "sigmoid is not centred (higher κ); tanh is, but drifts during training",
        "Normalization",
        "Sigmoid vs tanh",
    ),
    Section(
        "Initialization scale",
        "θ ~ N(0, 1/fan_in) keeps each layer's output variance ≈ 1",
        "Normalization",
        "Init θ ~ N(0, 1/fan_in)",
    ),
    Section(
        "Block-diagonal Hessian",
        "activations and sensitivities on the same scale in every layer",
        "Normalization",
        "Block-diagonal Hessian",
    ),
    Section(
        "Batch normalization",
        "centred activations in every layer, fewer interactions between layers",
        "BatchNorm & skip",
        "Deep plain net vs BN/skip",
    ),
    Section(
        "Skip connections",
        "better signal propagation, fewer interactions between layers",
        "BatchNorm & skip",
        "Signal through 20 layers",
    ),
]
