"""The lecture map: each section of "Deep Learning 1 — Optimization (Part 1)",
the claim the app makes visible, the page that demonstrates it (DESIGN.md), and
the preset that puts that page into the state of the slide.

A preset names control keys (the URL parameters of the page) and their values;
every control it does not name is at its default. ``ui`` draws them as buttons
under each page's title, and the home page links each section to its preset.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.i18n import t

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
        "Layer interactions": {"view": "Layer interactions", "hessians": True},
    },
}


def preset_name(page: str, name: str) -> str:
    """A preset's name as shown in the current language (the English name stays its identity)."""
    return t(f"lecture.presets.{page}.{name}")


@dataclass(frozen=True)
class Section:
    key: str  # lecture.sections.<key>.title / .claim in core/locales: the shown text
    page: str  # a label of core.ui.PAGES
    preset: str | None = None  # a name in PRESETS[page]: the home page links straight to it

    @property
    def title(self) -> str:
        return t(f"lecture.sections.{self.key}.title")

    @property
    def claim(self) -> str:
        return t(f"lecture.sections.{self.key}.claim")


SECTIONS = [
    Section("one_layer", "Non-convexity", "One layer is convex"),
    Section("two_layers", "Non-convexity", "Two layers, N=1, x=1, t=1, λ=0.1"),
    Section("tanh", "Plateaus", "tanh plateau"),
    Section("practical", "Plateaus", "Zero init"),
    Section("schedules", "Plateaus", "Step decay"),
    Section("gd_quadratic", "Conditioning", "Poorly conditioned: κ=50, γ=0.99/α_max"),
    Section("local_quadratic", "Conditioning", "Hessian of an MLP"),
    Section("exercise", "Conditioning", "Linear-model exercise"),
    Section("huge", "Conditioning", "The Hessian is huge"),
    Section("data_norm", "Normalization", "Centering and whitening"),
    Section("decomposition", "Conditioning", "Hessian of an MLP"),
    Section("nonlinearities", "Normalization", "Sigmoid vs tanh"),
    Section("init_scale", "Normalization", "Init θ ~ N(0, 1/fan_in)"),
    Section("block_diagonal", "Normalization", "Block-diagonal Hessian"),
    Section("batch_norm", "BatchNorm & skip", "Deep plain net vs BN/skip"),
    Section("skip", "BatchNorm & skip", "Signal through 20 layers"),
]
