"""BatchNorm & skip: what batch normalization and skip connections do to training and to the Hessian."""

import streamlit as st

from core import charts, models, ui
from core import deepnets as dn

ui.page(
    "BatchNorm & skip",
    "Four deep MLPs with the same data and the same initial weights — **plain, + batch norm, + skip "
    "connections, + both** — trained by full-batch GD side by side. The lecture says batch norm centres every "
    "layer, skip connections carry the signal through depth, and both *reduce the interactions between "
    "parameters of different layers*. Each tab measures one of these claims.",
)
V = list(dn.VARIANTS)
with st.sidebar:
    st.markdown("**The four networks**")
    depth = ui.slider(
        "depth", "Hidden layers L", 2, 20, 10, help="Hidden layers of every variant (skips bridge 2 … L)."
    )
    width = ui.slider("width", "Width", 4, 16, 8, help="Units per hidden layer.")
    act = ui.select("activation", "Activation", list(models.ACTIVATIONS), "tanh", help="Hidden non-linearity act(·).")
    lr = ui.slider(
        "lr", "Learning rate γ", 0.001, 0.5, 0.05, 0.001, fmt="%.3f", help="θ ← θ − γ∇E, one γ for all four."
    )
    steps = ui.slider("steps", "GD steps", 20, 300, 100, 10, help="Full-batch GD steps per variant.")
    seed = ui.number("seed", "Seed", 0, 999, 0, step=1, help="Data, the shared initial weights, slice directions.")
    st.markdown("**Hessian and loss slices**")
    tip = "train: BN uses the batch's μ, σ², functions of θ (what GD optimizes). eval: μ, σ² frozen at θ's values."
    mode = ui.select("bn_mode", "Batch norm statistics", list(dn.MODES), "train", help=tip, horizontal=True)
    tip = "trained: at θ after GD; initial: at θ₀. The top eigenvalues are shown at both."
    point = ui.select("at", "Hessian at θ", list(dn.POINTS), "trained", help=tip, horizontal=True)
    span = ui.slider("span", "Slice half-width", 0.1, 2.0, 1.0, 0.1, help="α, β ∈ ±this; 1 = one filter's norm.")

setup = dn.Setup(depth, width, act, float(lr), steps, int(seed))
train = ui.cached(dn.train_variant)
heat_height = 540 if ui.presenter() else 380  # the heatmaps stay about square at either type size


@ui.cached
def signals(setup, variant):
    return dn.variant_signals(setup, train(setup, variant))


@ui.cached
def hessian(setup, variant, mode, point):
    return dn.variant_hessian(setup, train(setup, variant), mode, point)


@ui.cached
def slices(setup, variant, mode, span):
    return dn.variant_slices(setup, train(setup, variant), mode, span)


def for_each_variant(label, fn):
    """{variant: fn(variant)} (each cached), with a progress bar while they run."""
    bar, out = st.progress(0.0, text=f"{label} …"), {}
    for i, v in enumerate(V):
        out[v] = fn(v)
        bar.progress((i + 1) / len(V), text=f"{label}: {v} done")
    bar.empty()
    return out


def side_by_side(items: dict, key: str):
    """(column, (name, item)) for four charts in a row; two per row in presenter mode (larger type).
    The keyed box tells presenter mode not to stack these small multiples (core/ui.py)."""
    n = 2 if ui.presenter() else 4
    box = st.container(key=f"{ui.SMALL_MULTIPLES}-{key}")
    return zip([c for _ in range(0, len(items), n) for c in box.columns(n)], items.items())


def table(df):
    floats = [c for c in df.columns if df[c].dtype.kind == "f"]
    st.dataframe(df.assign(**{c: df[c].map("{:.4g}".format) for c in floats}), hide_index=True, width="stretch")


runs = for_each_variant(f"Training ({steps} GD steps)", lambda v: train(setup, v))
stab = dn.stability(for_each_variant("LR sweep", lambda v: ui.cached(dn.variant_stability)(dn.architecture(setup), v)))
for text in dn.divergence_notes(runs, stab, lr):
    ui.note(text)
tabs = ui.tabs("view", ["Training", "Activations & gradients", "Hessian", "Layer interactions", "Loss landscape"])
t_train, t_signal, t_hess, t_inter, t_land = tabs

with t_train:
    if t_train.open:
        title = f"Training loss, γ = {lr:g} for all four"
        ui.chart(charts.variant_lines, dn.training_frames(runs), "step", "loss", order=V, points=False, title=title)
        table(dn.training_table(runs, stab, setup))
        st.caption(
            f"Sweep: γ = 2⁻⁸ … 2¹, {dn.SWEEP_STEPS} GD steps each from θ₀; stable = finite, never above "
            "1000·E(θ₀), ending below E(θ₀). λ_max by Lanczos, BN in train mode."
        )
        st.markdown("**What to notice**\n" + dn.notice_training(runs, stab, setup))

with t_signal:
    if t_signal.open:
        st.latex(dn.BN_LATEX)
        sig = dn.signals(for_each_variant("Activations and gradients", lambda v: signals(setup, v)))
        stats, grads = dn.signal_frames(sig)
        specs = [
            (stats, "mean", False, "Centring: |μ| of pre-activations", "√(mean over units of μⱼ²)"),
            (stats, "std", True, "Scale: σ of pre-activations", "√(mean over units of σⱼ²)"),
            (grads, "gradient norm", True, "Signal: ‖∂E/∂Wₗ‖ at θ₀", f"‖∂E/∂Wₗ‖_F (layer {depth + 1} = output)"),
        ]
        for col, (df, y, log, title, y_title) in zip(st.columns(3), specs, strict=True):
            with col:
                kw = dict(order=V, dash="when", log=log, title=title, y_title=y_title, legend_columns=2)
                ui.chart(charts.variant_lines, df, "layer", y, **kw)
        st.caption("Pre-activations z = Wh + b (after BN when on), batch statistics. Solid: at θ₀; dashed: after GD.")
        st.markdown("**What to notice**\n" + dn.notice_signals(sig, depth))

if t_hess.open or t_inter.open:
    study = dn.HessianStudy.collect(
        mode, point, for_each_variant(f"Hessians ({mode} mode)", lambda v: hessian(setup, v, mode, point))
    )
    for v, why in study.skipped.items():
        ui.note(f"Hessian of {v}: {why}.")

with t_hess:
    if t_hess.open:
        tops, spectra = dn.hessian_frames(study)
        left, right = st.columns(2)
        with left:
            title = f"Top {dn.K_TOP} eigenvalues (Lanczos), BN {mode} mode"
            ui.chart(charts.top_eigenvalues_by_variant, tops, V, title=title)
        with right:
            if spectra.empty:
                st.info(f"More than {dn.EXACT_MAX} parameters: no exact Hessian, only Lanczos' top eigenvalues.")
            else:
                title = f"All eigenvalues, exact H {dn.POINTS[point]}, BN {mode} mode"
                ui.chart(charts.sorted_spectra, spectra, V, title=title)
        table(dn.hessian_table(study))
        st.markdown("**What to notice**\n" + dn.notice_hessian(study))

with t_inter:
    if t_inter.open:
        cells, shares, groups = dn.block_frames(study)
        ui.prose(
            f"‖H_ab‖_F for every pair of layers a, b, H {dn.POINTS[point]} with BN in {mode} mode. A layer is its "
            "W, b and BN's γ, β: batch norm's parameters belong to their layer, so all four variants have the same "
            "L + 1 groups."
        )
        for col, (v, df) in side_by_side(cells, "interactions"):
            with col:
                ui.chart(charts.block_norm_heatmap, df, groups, title=v, height=heat_height)
        table(shares)
        verdict, _ = dn.interaction_verdict(study)
        st.markdown("**What to notice**\n- " + verdict + "\n" + dn.notice_interactions(study))

with t_land:
    if t_land.open:
        sl = for_each_variant(f"Loss slices ({mode} mode)", lambda v: slices(setup, v, mode, span))
        line, grids = dn.landscape_frames(sl)
        title = f"1-D slice E(θ* + α d₁) around the trained θ*, BN in {mode} mode"
        ui.chart(charts.variant_lines, line, "α", "loss", order=V, points=False, title=title, height=340)
        st.markdown(f"**2-D slices** E(θ\\* + αd₁ + βd₂), BN in {mode} mode. Cross: θ\\*; one colour scale for all.")
        domain = dn.loss_range(grids)
        for col, (v, df) in side_by_side(grids, "landscape"):
            with col:
                ui.chart(charts.slice_heatmap, df, v, domain, span, height=heat_height)
        for v in [v for v in V if v not in grids]:
            ui.note(f"No slices for {v}: GD diverged, there is no trained θ*.")
        st.markdown("**What to notice**\n" + dn.notice_landscape(sl, span))

ui.finish()
