"""Normalization: data normalization, non-linearities, initialization scale and the per-neuron Hessian blocks."""

import streamlit as st

from core import charts, ui
from core import normalization as nz

ui.page(
    "Normalization",
    "The lecture's recipes for a better-conditioned error function, measured: normalize the data, centre "
    "the non-linearities, scale the initialization, and keep every per-neuron Hessian block on one scale.",
)
with st.sidebar:
    seed = ui.number("seed", "Seed", 0, 999, 0, step=1, help="Seeds the data and every initialization on this page.")


def table_view(df):
    """A table with every float shown to 4 significant digits (κ spans many decades)."""
    floats = [c for c in df.columns if df[c].dtype.kind == "f"]
    st.dataframe(df.assign(**{c: df[c].map("{:.4g}".format) for c in floats}), hide_index=True, width="stretch")


tab_data, tab_act, tab_init, tab_block = ui.tabs(
    "section", ["Data normalization", "Non-linearities", "Initialization scale", "Block-diagonal Hessian"]
)

with tab_data:  # the linear model E(w) = 1/N Σ(wᵀxₙ − tₙ)² + λ‖w‖² on 2-D data
    ui.prose(
        "Linear model E(w) = 1/N Σ(wᵀxₙ − tₙ)² + λ‖w‖²; Hessian H = 2E[xxᵀ] + 2λI "
        "= 2(E[(x−μ)(x−μ)ᵀ] + μμᵀ + λI). Each preprocessing runs GD from w = 0 at its own best stable γ."
    )
    c = iter(st.columns(6))
    with next(c):
        offset = ui.slider("offset", "Mean offset μ₁ = μ₂", 0.0, 5.0, 3.0, 0.1, help="Mean of each input (its units).")
    with next(c):
        scale2 = ui.slider("scale2", "Std of x₂", 0.1, 5.0, 0.5, 0.05, help="Spread of x₂ (x₁ has std 1).")
    with next(c):
        rho = ui.slider("rho", "Correlation ρ", -0.95, 0.95, 0.8, 0.05, help="Correlation of x₁ and x₂ (unitless).")
    with next(c):
        lam = ui.slider("lam", "Weight decay λ", 0.0, 1.0, 0.01, 0.01, help="Adds 2λ to every eigenvalue of H.")
    with next(c):
        rule = ui.select("lr_rule", "Step size γ", list(nz.LR_RULES), "optimal", help=str(nz.LR_RULES))
    with next(c):
        steps = ui.slider("steps", "GD steps", 100, 3000, 600, 100, help="Steps of GD per preprocessing.")
    if tab_data.open:
        study = ui.cached(nz.preprocessing_study)(
            mean=(offset, offset), scales=(1.0, scale2), correlation=rho, lam=lam, steps=steps, lr_rule=rule, seed=seed
        )
        for col, (m, r) in zip(st.columns(4), study.results.items(), strict=True):
            with col:  # each frame centred on the origin, so an offset mean stays visible
                ui.chart(charts.scatter_ellipse, *nz.scatter_frames(r), title=m, subtitle=f"κ(H) = {r.kappa:.3g}")
        st.caption("Dots: the inputs the model sees. Red: 2-standard-deviation covariance ellipse. Cross: the mean μ.")
        table, curves, eigs = nz.linear_frames(study, steps)
        left, right = st.columns(2)
        with left:
            title = "Eigenvalues of H = 2E[xxᵀ] + 2λI"
            order = list(study.results)
            ui.chart(charts.eigenvalue_strip, eigs, "preprocessing", color="preprocessing", sort=order, title=title)
        with right:
            title, y_title = "GD from w = 0, each at its γ", "(E(wₜ) − E*) / (E(w₀) − E*)"
            kw = dict(points=False, y_title=y_title, legend_orient="right", title=title)
            ui.chart(charts.layer_lines, curves, "step", "relative excess", **kw)
        table_view(table.rename(columns={"steps to tol": f"steps to relative excess ≤ {study.tol:g}"}))
        st.markdown("**What to notice**\n" + nz.notice_data(study, steps))
    with st.expander("d dimensions: condition-number readout"):
        d = ui.slider(
            "dim",
            "Dimension d",
            2,
            50,
            10,
            help="Mean offset on every axis, stds log-spaced from 1 to "
            "'Std of x₂', correlation ρ between every pair (clamped to stay positive definite).",
        )
        if tab_data.open:
            ds = ui.cached(nz.dimension_study)(d, offset, scale2, rho, lam, seed)
            for col, (m, k) in zip(st.columns(4), ds.kappas.items(), strict=True):
                col.metric(f"κ(H), {m}", f"{k:.4g}")
            st.caption(f"N = {ds.n} samples in ℝ^{d}, ρ used = {ds.correlation:.3g}.")

with tab_act:  # one small MLP per activation: same data, same seed
    c = iter(st.columns(6))
    with next(c):
        act = ui.select("act", "Activation shown", list(nz.COMPARED), "tanh", help="Whose table and drift are shown.")
    with next(c):
        task = ui.select("task", "Task", list(nz.TASKS), "skewed targets", help=nz.task_data.__doc__)
    with next(c):
        depth = ui.slider("depth", "Hidden layers", 1, 4, 2, help="Number of hidden layers.")
    with next(c):
        width = ui.slider("width", "Width", 4, 16, 8, help="Units per hidden layer (≤ 977 parameters: exact Hessian).")
    with next(c):
        train_steps = ui.slider("train_steps", "GD steps", 50, 1000, 300, 50, help="Full-batch GD steps per net.")
    with next(c):
        tip = "Each net trains at γ = this / λ_max(H₀), its own Hessian at θ₀ (stable below 2)."
        lr_factor = ui.slider("lr_factor", "γ · λ_max(H₀)", 0.1, 1.9, 0.5, 0.1, help=tip)
    if tab_act.open:
        progress, reports = st.progress(0.0, text="Training one network per activation …"), {}
        for i, a in enumerate(nz.COMPARED):
            reports[a] = ui.cached(nz.activation_report)(a, depth, width, task, train_steps, lr_factor, seed)
            progress.progress((i + 1) / len(nz.COMPARED), text=f"Trained {a}")
        progress.empty()
        if note := nz.divergence_note(reports, lr_factor):
            ui.note(note)
        stats, kappas, losses, drift = nz.activation_frames(reports, act)
        names = nz.layer_names(depth)
        left, right = st.columns(2)
        with left:
            title = "Hidden-layer outputs at θ₀: mean ± std"
            ui.chart(charts.mean_std_by_layer, stats, title=title, legend_orient="right")
            title = "Training loss, each at γ = factor / λ_max(H₀)"
            ui.chart(charts.layer_lines, losses, "step", "loss", points=False, legend_orient="right", title=title)
        with right:
            title = "κ of each layer's Gauss–Newton block at θ₀"
            kw = dict(x_sort=names, x_title="parameter layer", legend_orient="right", title=title)
            ui.chart(charts.layer_lines, kappas, y="κ", **kw)
            title, y_title = f"{act}: how far each hidden layer is off-centre", "‖E[h]‖ / √width"
            kw = dict(log=False, points=False, title=title, y_title=y_title)
            ui.chart(charts.layer_lines, drift, "step", "off-centre", **kw)
        table_view(nz.layer_table(reports[act]))
        seeds = range(seed, seed + 8)  # a different initialization per seed, the same data
        sig = ui.cached(nz.kappa_over_seeds)("sigmoid", depth, width, task, seeds, seed)
        tanh = ui.cached(nz.kappa_over_seeds)("tanh", depth, width, task, seeds, seed)
        st.markdown("**What to notice**\n" + nz.notice_activations(reports, act, sig, tanh))
        table_view(nz.seed_table(sig, tanh, names))

with tab_init:  # θ ~ N(0, c/fan_in) through up to 30 layers on x ~ N(0, I)
    c = st.columns([2, 2, 2, 1, 1], vertical_alignment="bottom")
    with c[0]:
        scale = ui.slider("c", "Init scale c", 0.25, 4.0, 1.0, 0.05, help="Weights θ ~ N(0, c / fan_in).")
    with c[1]:
        init_depth = ui.slider("init_depth", "Layers", 1, 30, 20, help="Depth of the network.")
    with c[2]:
        init_width = ui.slider("init_width", "Width", 16, 256, 96, 16, help="Units per layer (= input dimension).")
    c[3].button("LeCun: c = 1", on_click=st.session_state.update, kwargs={"c": 1.0}, width="stretch")
    c[4].button("He: c = 2", on_click=st.session_state.update, kwargs={"c": 2.0}, width="stretch")
    if tab_init.open:
        seeds = range(seed, seed + 4)
        stds = {
            a: ui.cached(nz.signal_propagation)(a, scale, 30, init_width, 256, seeds)
            for a in nz.PROPAGATION_ACTIVATIONS
        }
        df = nz.propagation_frame(stds, init_depth)
        title = f"Std of each layer's outputs, θ ~ N(0, {scale:g}/fan_in) (4 seeds: geometric mean and range)"
        ui.chart(
            charts.layer_lines,
            df,
            y="std",
            lo="lo",
            hi="hi",
            reference=1.0,
            title=title,
            height=380,
            x_title="layer (0 = input)",
            y_title="standard deviation of outputs",
        )
        st.markdown("**What to notice**\n" + nz.notice_init(df, init_depth, scale))

with tab_block:  # a 4-6-6-1 net: one Gauss–Newton block per neuron (its incoming weights and bias)
    c = iter(st.columns(3))
    with next(c):
        bd_act = ui.select("bd_act", "Activation", list(nz.COMPARED), "tanh", help="Hidden activation of the net.")
    with next(c):
        bd_offset = ui.slider("bd_offset", "Input offset", 0.0, 3.0, 0.0, 0.1, help="Added to every input (its units).")
    with next(c):
        bd_c = ui.slider("bd_c", "Init scale c", 0.25, 4.0, 1.0, 0.05, help="Weights θ ~ N(0, c / fan_in).")
    if tab_block.open:
        b = ui.cached(nz.block_study)(bd_act, bd_offset, bd_c, seed=seed)
        eigs, scales = nz.block_frames(b)
        left, right = st.columns([3, 2])
        with left:
            title = "Eigenvalues of each neuron's block 2E[â âᵀ δ²]"
            sort = list(dict.fromkeys(eigs.neuron))
            ui.chart(charts.eigenvalue_strip, eigs, "neuron", color="layer", sort=sort, title=title)
        with right:
            title, names = "RMS of inputs a and sensitivities δ", nz.layer_names(2)
            kw = dict(x_sort=names, x_title="layer", legend_orient="bottom", title=title)
            ui.chart(charts.layer_lines, scales, y="rms", **kw)
        title = "Full Hessian at θ₀ (symlog colours), grouped by neuron; thick lines: layers"
        ui.chart(charts.block_heatmap, b.H.numpy(), b.boundaries, b.layer_boundaries, title=title)
        st.markdown("**What to notice**\n" + nz.notice_blocks(b, eigs))

ui.finish()
