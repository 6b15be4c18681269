"""Normalization: data normalization, non-linearities, initialization scale and the per-neuron Hessian blocks."""

import streamlit as st

from core import charts, ui
from core import normalization as nz
from core.i18n import t

ui.page("Normalization", intro="normalization.intro")
with st.sidebar:
    seed = ui.number("seed", t("normalization.seed"), 0, 999, 0, step=1, help=t("normalization.seed_help"))
NOTICE = f"**{t('normalization.notice.title')}**\n"


def table_view(df):
    """A table with every float shown to 4 significant digits (κ spans many decades)."""
    floats = [c for c in df.columns if df[c].dtype.kind == "f"]
    st.dataframe(df.assign(**{c: df[c].map("{:.4g}".format) for c in floats}), hide_index=True, width="stretch")


tab_data, tab_act, tab_init, tab_block = ui.tabs(
    "section",
    ["Data normalization", "Non-linearities", "Initialization scale", "Block-diagonal Hessian"],
    names={
        "Data normalization": "normalization.tabs.data",
        "Non-linearities": "normalization.tabs.act",
        "Initialization scale": "normalization.tabs.init",
        "Block-diagonal Hessian": "normalization.tabs.block",
    },
)

with tab_data:  # the linear model E(w) = 1/N Σ(wᵀxₙ − tₙ)² + λ‖w‖² on 2-D data
    ui.prose(t("normalization.data.prose"))
    D = "normalization.data."
    c = iter(st.columns(6))
    with next(c):
        offset = ui.slider("offset", t(D + "offset"), 0.0, 5.0, 3.0, 0.1, help=t(D + "offset_help"))
    with next(c):
        scale2 = ui.slider("scale2", t(D + "scale2"), 0.1, 5.0, 0.5, 0.05, help=t(D + "scale2_help"))
    with next(c):
        rho = ui.slider("rho", t(D + "rho"), -0.95, 0.95, 0.8, 0.05, help=t(D + "rho_help"))
    with next(c):
        lam = ui.slider("lam", t(D + "lam"), 0.0, 1.0, 0.01, 0.01, help=t(D + "lam_help"))
    with next(c):
        rules = {r: t(D + "rules." + r) for r in nz.LR_RULES}
        rule = ui.select(
            "lr_rule", t(D + "lr_rule"), list(nz.LR_RULES), "optimal", help=t(D + "lr_rule_help"), names=rules
        )
    with next(c):
        steps = ui.slider("steps", t(D + "steps"), 100, 3000, 600, 100, help=t(D + "steps_help"))
    if tab_data.open:
        study = ui.cached(nz.preprocessing_study)(
            mean=(offset, offset), scales=(1.0, scale2), correlation=rho, lam=lam, steps=steps, lr_rule=rule, seed=seed
        )
        for col, (m, r) in zip(st.columns(4), study.results.items(), strict=True):
            with col:  # each frame centred on the origin, so an offset mean stays visible
                subtitle = f"κ(H) = {r.kappa:.3g}"
                ui.chart(charts.scatter_ellipse, *nz.scatter_frames(r), title=nz.method_name(m), subtitle=subtitle)
        st.caption(t(D + "caption"))
        table, curves, eigs = nz.linear_frames(study, steps)
        left, right = st.columns(2)
        with left:
            order = [nz.method_name(m) for m in study.results]
            kw = dict(color="preprocessing", sort=order, title=t(D + "eig_title"))
            kw.update(x_title=t(D + "preprocessing"), y_title=t(D + "eig_y"))
            ui.chart(charts.eigenvalue_strip, eigs, "preprocessing", **kw)
        with right:
            y_title = "(E(wₜ) − E*) / (E(w₀) − E*)"
            kw = dict(points=False, x_title=t(D + "step"), y_title=y_title, legend_orient="right", series_order=order)
            ui.chart(charts.layer_lines, curves, "step", "relative excess", title=t(D + "gd_title"), **kw)
        table_view(table.rename(columns={"steps to tol": t(D + "steps_col", tol=study.tol)}))
        st.markdown(NOTICE + nz.notice_data(study, steps))
    with st.expander(t(D + "dim_expander")):
        d = ui.slider("dim", t(D + "dim"), 2, 50, 10, help=t(D + "dim_help"))
        if tab_data.open:
            ds = ui.cached(nz.dimension_study)(d, offset, scale2, rho, lam, seed)
            for col, (m, k) in zip(st.columns(4), ds.kappas.items(), strict=True):
                col.metric(f"κ(H), {nz.method_name(m)}", f"{k:.4g}")
            st.caption(t(D + "dim_caption", n=ds.n, d=d, rho=ds.correlation))

with tab_act:  # one small MLP per activation: same data, same seed
    A = "normalization.act."
    c = iter(st.columns(6))
    with next(c):
        act = ui.select("act", t(A + "act"), list(nz.COMPARED), "tanh", help=t(A + "act_help"))
    with next(c):
        tasks = {task: t(A + "tasks." + task.split()[0]) for task in nz.TASKS}
        task = ui.select("task", t(A + "task"), list(nz.TASKS), "skewed targets", help=t(A + "task_help"), names=tasks)
    with next(c):
        depth = ui.slider("depth", t(A + "depth"), 1, 4, 2, help=t(A + "depth_help"))
    with next(c):
        width = ui.slider("width", t(A + "width"), 4, 16, 8, help=t(A + "width_help"))
    with next(c):
        train_steps = ui.slider("train_steps", t(A + "train_steps"), 50, 1000, 300, 50, help=t(A + "train_steps_help"))
    with next(c):
        lr_factor = ui.slider("lr_factor", "γ · λ_max(H₀)", 0.1, 1.9, 0.5, 0.1, help=t(A + "lr_help"))
    if tab_act.open:
        progress, reports = st.progress(0.0, text=t(A + "training")), {}
        for i, a in enumerate(nz.COMPARED):
            reports[a] = ui.cached(nz.activation_report)(a, depth, width, task, train_steps, lr_factor, seed)
            progress.progress((i + 1) / len(nz.COMPARED), text=t(A + "trained", act=a))
        progress.empty()
        if note := nz.divergence_note(reports, lr_factor):
            ui.note(note)
        stats, kappas, losses, drift = nz.activation_frames(reports, act)
        names = nz.layer_names(depth)
        shown_names = [nz.layer_label(n) for n in names]
        left, right = st.columns(2)
        with left:
            kw = dict(title=t(A + "stats_title"), y_title=t(A + "stats_y"), legend_orient="right")
            ui.chart(charts.mean_std_by_layer, stats, **kw)
            kw = dict(points=False, legend_orient="right", title=t(A + "loss_title"))
            ui.chart(charts.layer_lines, losses, "step", "loss", x_title=t(A + "step"), y_title=t(A + "loss"), **kw)
        with right:
            kw = dict(x_sort=shown_names, x_title=t(A + "parameter_layer"), legend_orient="right")
            ui.chart(charts.layer_lines, kappas, y="κ", title=t(A + "kappa_title"), **kw)
            title, y_title = t(A + "drift_title", act=act), t(A + "drift_y")
            kw = dict(log=False, points=False, title=title, x_title=t(A + "step"), y_title=y_title)
            ui.chart(charts.layer_lines, drift, "step", "off-centre", **kw)
        table_view(nz.layer_table(reports[act]))
        seeds = range(seed, seed + 8)  # a different initialization per seed, the same data
        sig = ui.cached(nz.kappa_over_seeds)("sigmoid", depth, width, task, seeds, seed)
        tanh = ui.cached(nz.kappa_over_seeds)("tanh", depth, width, task, seeds, seed)
        st.markdown(NOTICE + nz.notice_activations(reports, act, sig, tanh))
        table_view(nz.seed_table(sig, tanh, names))

with tab_init:  # θ ~ N(0, c/fan_in) through up to 30 layers on x ~ N(0, I)
    Z = "normalization.init."
    c = st.columns([2, 2, 2, 1, 1], vertical_alignment="bottom")
    with c[0]:
        scale = ui.slider("c", t(Z + "c"), 0.25, 4.0, 1.0, 0.05, help=t(Z + "c_help"))
    with c[1]:
        init_depth = ui.slider("init_depth", t(Z + "depth"), 1, 30, 20, help=t(Z + "depth_help"))
    with c[2]:
        init_width = ui.slider("init_width", t(Z + "width"), 16, 256, 96, 16, help=t(Z + "width_help"))
    c[3].button(t(Z + "lecun"), on_click=st.session_state.update, kwargs={"c": 1.0}, width="stretch")
    c[4].button(t(Z + "he"), on_click=st.session_state.update, kwargs={"c": 2.0}, width="stretch")
    if tab_init.open:
        seeds = range(seed, seed + 4)
        stds = {
            a: ui.cached(nz.signal_propagation)(a, scale, 30, init_width, 256, seeds)
            for a in nz.PROPAGATION_ACTIVATIONS
        }
        df = nz.propagation_frame(stds, init_depth)
        ui.chart(
            charts.layer_lines,
            df.assign(series=df["series"].map(nz.activation_name)),
            y="std",
            lo="lo",
            hi="hi",
            reference=1.0,
            title=t(Z + "title", c=scale),
            height=380,
            x_title=t(Z + "x"),
            y_title=t(Z + "y"),
        )
        st.markdown(NOTICE + nz.notice_init(df, init_depth, scale))

with tab_block:  # a 4-6-6-1 net: one Gauss–Newton block per neuron (its incoming weights and bias)
    B = "normalization.block."
    c = iter(st.columns(3))
    with next(c):
        bd_act = ui.select("bd_act", t(B + "act"), list(nz.COMPARED), "tanh", help=t(B + "act_help"))
    with next(c):
        bd_offset = ui.slider("bd_offset", t(B + "offset"), 0.0, 3.0, 0.0, 0.1, help=t(B + "offset_help"))
    with next(c):
        bd_c = ui.slider("bd_c", t(Z + "c"), 0.25, 4.0, 1.0, 0.05, help=t(Z + "c_help"))
    if tab_block.open:
        b = ui.cached(nz.block_study)(bd_act, bd_offset, bd_c, seed=seed)
        eigs, scales = nz.block_frames(b)
        left, right = st.columns([3, 2])
        with left:
            sort = list(dict.fromkeys(eigs.neuron))
            kw = dict(color="layer", sort=sort, x_title=t(B + "neuron"), y_title=t(B + "eigenvalue"))
            ui.chart(charts.eigenvalue_strip, eigs, "neuron", title=t(B + "eig_title"), **kw)
        with right:
            names = [nz.layer_label(n) for n in nz.layer_names(2)]
            kw = dict(x_sort=names, x_title=t(B + "layer"), y_title=t(B + "rms"), legend_orient="bottom")
            ui.chart(charts.layer_lines, scales, y="rms", title=t(B + "scales_title"), **kw)
        title = t(B + "heatmap_title")
        ui.chart(charts.block_heatmap, b.H.numpy(), b.boundaries, b.layer_boundaries, title=title)
        st.markdown(NOTICE + nz.notice_blocks(b, eigs))

ui.finish()
