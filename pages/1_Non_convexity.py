"""Non-convexity: one linear layer is convex, two linear layers are not — made visible and measured."""

import streamlit as st

from core import charts, nonconvex, ui

MAP_KEY = "descent_map"
START_RANGE = (-nonconvex.MAX_SPAN, nonconvex.MAX_SPAN)


def start_from_click() -> None:
    """on_select callback: runs before the rerun, so the start sliders are created with the clicked point."""
    picked = st.session_state[MAP_KEY].selection.get("pick") or []
    if picked:
        for key, field in (("w0", "w"), ("v0", "v")):
            st.session_state[key] = min(max(round(float(picked[-1][field]), 2), START_RANGE[0]), START_RANGE[1])


def row(n: int) -> list:
    """n columns side by side; stacked in presenter mode, where the type is large."""
    return [st.container() for _ in range(n)] if ui.presenter() else st.columns(n, gap="medium")


def start_at_saddle() -> None:
    st.session_state["w0"] = st.session_state["v0"] = 0.0


@ui.cached
def view(settings: nonconvex.Settings, look: tuple[bool, bool]):
    """The numbers and the styled chart specs, cached together: building Altair charts costs
    most of a rerun (``look`` = presenter, contrast: part of the cache key)."""
    r = nonconvex.experiment(settings)
    built = [
        charts.descent_map(
            r.grid,
            r.paths,
            nonconvex.markers_frame(r),
            names=r.names,
            steps=settings.steps,
            stride=r.stride,
            height=760 if look[0] else 640,
        ),
        charts.curvature_map(r.grid, r.verdict.at, names=r.names, height=460 if look[0] else 340),
        *(charts.chord_slice(nonconvex.slices_frame(r), name) for name in nonconvex.MODELS),
    ]
    return r, charts.nonconvex_specs(*built, presenter=look[0], high_contrast=look[1])


ui.page(
    "Non-convexity",
    "One linear layer has a convex error function: one minimum, reached from anywhere. Stack two "
    "linear layers and the same data give a **non-convex** error: a saddle at the origin and two "
    "minima. Everything below is computed on the spot: the surface, its critical points and their "
    "Hessian eigenvalues, the convexity verdict, and gradient descent (GD) from your start and from "
    "random restarts.",
)

model = ui.select(
    "model",
    "Model",
    list(nonconvex.MODELS),
    "two layers",
    horizontal=True,
    help="two layers: prediction v·w·x (parameters w, v). one layer: prediction w₁·x + w₂ (weight and bias).",
)
with st.sidebar:
    st.subheader("Data and weight decay")
    lam = ui.slider("lam", "λ (weight decay)", 0.0, 2.0, 0.1, 0.01, help="Penalty λ·‖θ‖² added to E (units of E).")
    n = ui.slider("n", "N (samples)", 1, 50, 1, help="N = 1 is the slide's single sample (x, t).")
    x = ui.slider("x", "x (input of sample 1)", -2.0, 2.0, 1.0, 0.1, help="Dimensionless input of the first sample.")
    t = ui.slider("t", "t (target of sample 1)", -2.0, 2.0, 1.0, 0.1, help="Target of the first sample.")
    data_seed = ui.number("dseed", "data seed", 0, 9999, 0, help="Draws samples 2..N around (x, t); unused at N = 1.")
    st.subheader("Gradient descent")
    w0 = ui.slider("w0", "start: first parameter (w or w₁)", *START_RANGE, 1.5, 0.01, help="Or click the map.")
    v0 = ui.slider("v0", "start: second parameter (v or w₂)", *START_RANGE, -0.5, 0.01, help="Or click the map.")
    st.button("Start exactly at the origin (0, 0)", on_click=start_at_saddle, icon=":material/my_location:")
    lr = ui.slider("lr", "γ (learning rate)", 0.001, 1.0, 0.1, 0.001, help="Step size θ ← θ − γ∇E; too large diverges.")
    steps = ui.slider("steps", "steps", 10, 1000, 300, 10, help="Number of GD steps for every run.")
    st.subheader("Random restarts")
    restarts = ui.slider("restarts", "restarts", 0, 30, 8, help="Extra GD runs from random starts θ₀ ~ N(0, σ²I).")
    scale = ui.slider("scale", "init scale σ", 0.01, 3.0, 1.0, 0.01, help="Standard deviation of the random starts.")
    seed = ui.number("seed", "restart seed", 0, 9999, 0, help="Seed of the random starts: same seed, same runs.")

settings = nonconvex.Settings(
    model=model,
    lam=float(lam),
    n=int(n),
    x=float(x),
    t=float(t),
    data_seed=int(data_seed),
    start=(float(w0), float(v0)),
    lr=float(lr),
    steps=int(steps),
    restarts=int(restarts),
    init_scale=float(scale),
    seed=int(seed),
)
result, (map_spec, curvature_spec, *slice_specs) = view(settings, (ui.presenter(), ui.high_contrast()))
if result.divergence:
    more = len(result.divergence) - 1
    also = f" {more} more run(s) diverged too (see the table of runs)." if more else ""
    ui.note(result.divergence[0] + " Paths are drawn up to the divergence, clipped to the map." + also)

for column, formula in zip(row(2), nonconvex.FORMULAS[model]):
    column.latex(formula)
st.caption(nonconvex.data_text(result))

left, right = row(2)
with left:
    ui.show_spec(map_spec, key=MAP_KEY, on_select=start_from_click, selection_mode="pick")
with right:
    st.markdown("**Critical points** (∇E = 0), classified by the Hessian's eigenvalues λ₁ ≤ λ₂")
    st.dataframe(nonconvex.critical_frame(result).style.format(precision=4), hide_index=True, width="stretch")
    st.markdown(nonconvex.verdict_text(result))
    ui.show_spec(curvature_spec)

st.subheader("What to notice")
st.markdown("\n".join(f"- {line}" for line in nonconvex.notice(result)))

st.subheader("The definition of convexity, made visible")
ui.prose(
    "A function is convex when it lies on or below every chord: "
    r"$E((1-\alpha)\theta_a + \alpha\theta_b) \le (1-\alpha)E(\theta_a) + \alpha E(\theta_b)$ for $\alpha \in [0, 1]$. "
    f"Both models on the same segment ({result.slice_how}); dashed: the chord."
)
for column, spec in zip(row(2), slice_specs):
    with column:
        ui.show_spec(spec)

st.subheader("Random restarts: retrain and keep the best")
st.markdown(nonconvex.shares_text(result))
runs = nonconvex.runs_frame(result)
best = runs["run"] == result.best.label
st.dataframe(
    runs.style.format(precision=4).apply(
        lambda row: ["background-color: #d7f0e5; font-weight: bold" if best[row.name] else ""] * len(row), axis=1
    ),
    hide_index=True,
    width="stretch",
)

ui.finish()
