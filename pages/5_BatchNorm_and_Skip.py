"""BatchNorm & skip: what batch normalization and skip connections do to training and to the Hessian."""

import streamlit as st

from core import charts, models, ui
from core import deepnets as dn
from core.i18n import t

ui.page("BatchNorm & skip", intro="batchnorm.intro")
V = list(dn.VARIANTS)
SHOWN = dn.names(V)  # the variants' names as charts and tables show them (same colour order)
with st.sidebar:
    st.markdown(t("batchnorm.sidebar.networks"))
    depth = ui.slider("depth", t("batchnorm.sidebar.depth"), 2, 20, 10, help=t("batchnorm.sidebar.depth_help"))
    width = ui.slider("width", t("batchnorm.sidebar.width"), 4, 16, 8, help=t("batchnorm.sidebar.width_help"))
    act = ui.select(
        "activation",
        t("batchnorm.sidebar.activation"),
        list(models.ACTIVATIONS),
        "tanh",
        help=t("batchnorm.sidebar.activation_help"),
        names={"linear": t("batchnorm.activations.linear")},
    )
    lr = ui.slider(
        "lr", t("batchnorm.sidebar.lr"), 0.001, 0.5, 0.05, 0.001, fmt="%.3f", help=t("batchnorm.sidebar.lr_help")
    )
    steps = ui.slider("steps", t("batchnorm.sidebar.steps"), 20, 300, 100, 10, help=t("batchnorm.sidebar.steps_help"))
    seed = ui.number("seed", t("batchnorm.sidebar.seed"), 0, 999, 0, step=1, help=t("batchnorm.sidebar.seed_help"))
    st.markdown(t("batchnorm.sidebar.slices"))
    mode = ui.select(
        "bn_mode",
        t("batchnorm.sidebar.mode"),
        list(dn.MODES),
        "train",
        help=t("batchnorm.sidebar.mode_help"),
        horizontal=True,
        names={m: t(f"batchnorm.modes.{m}") for m in dn.MODES},
    )
    point = ui.select(
        "at",
        t("batchnorm.sidebar.point"),
        list(dn.POINTS),
        "trained",
        help=t("batchnorm.sidebar.point_help"),
        horizontal=True,
        names={p: t(f"batchnorm.at.{p}") for p in dn.POINTS},
    )
    hessians = ui.toggle("hessians", t("batchnorm.sidebar.hessians"), False, help=t("batchnorm.sidebar.hessians_help"))
    span = ui.slider("span", t("batchnorm.sidebar.span"), 0.1, 2.0, 1.0, 0.1, help=t("batchnorm.sidebar.span_help"))

setup = dn.Setup(depth, width, act, float(lr), steps, int(seed))
train = ui.cached(dn.train_variant)
heat_height = 540 if ui.presenter() else 380  # the heatmaps stay about square at either type size
NOTICE = f"**{t('batchnorm.notice')}**\n"


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
        bar.progress((i + 1) / len(V), text=t("batchnorm.progress.done", label=label, v=dn.name(v)))
    bar.empty()
    return out


def ask_for_hessians(where: str) -> None:
    """The four Hessians are the page's explicit heavy action (1-2 s): say so, offer the switch."""
    st.info(t("batchnorm.hessian.ask", p=ui.cached(dn.largest_n_params)(setup)), icon=":material/calculate:")
    st.button(
        t("batchnorm.hessian.compute"),
        key=f"compute-hessians-{where}",
        type="primary",
        icon=":material/play_arrow:",
        on_click=st.session_state.update,
        kwargs={"hessians": True},
    )


def side_by_side(items: dict, key: str):
    """(column, (name, item)) for four charts in a row; two per row in presenter mode (larger type).
    The keyed box tells presenter mode not to stack these small multiples (core/ui.py)."""
    n = 2 if ui.presenter() else 4
    box = st.container(key=f"{ui.SMALL_MULTIPLES}-{key}")
    return zip([c for _ in range(0, len(items), n) for c in box.columns(n)], items.items())


def table(df):
    floats = [c for c in df.columns if df[c].dtype.kind == "f"]
    st.dataframe(df.assign(**{c: df[c].map("{:.4g}".format) for c in floats}), hide_index=True, width="stretch")


runs = for_each_variant(t("batchnorm.progress.training", steps=steps), lambda v: train(setup, v))
stab = dn.stability(
    for_each_variant(
        t("batchnorm.progress.sweep"), lambda v: ui.cached(dn.variant_stability)(dn.architecture(setup), v)
    )
)
for text in dn.divergence_notes(runs, stab, lr):
    ui.note(text)
tabs = ui.tabs(
    "view",
    ["Training", "Activations & gradients", "Hessian", "Layer interactions", "Loss landscape"],
    names={
        "Training": "batchnorm.tabs.training",
        "Activations & gradients": "batchnorm.tabs.signals",
        "Hessian": "batchnorm.tabs.hessian",
        "Layer interactions": "batchnorm.tabs.interactions",
        "Loss landscape": "batchnorm.tabs.landscape",
    },
)
t_train, t_signal, t_hess, t_inter, t_land = tabs
axes = dict(x_title=t("batchnorm.axes.step"), y_title=t("batchnorm.axes.loss"))

with t_train:
    if t_train.open:
        title = t("batchnorm.training.title", lr=lr)
        frames = dn.training_frames(runs)
        ui.chart(charts.variant_lines, frames, "step", "loss", order=SHOWN, points=False, title=title, **axes)
        table(dn.training_table(runs, stab, setup))
        st.caption(t("batchnorm.training.caption", steps=dn.SWEEP_STEPS))
        st.markdown(NOTICE + dn.notice_training(runs, stab, setup))

with t_signal:
    if t_signal.open:
        st.latex(dn.BN_LATEX)
        sig = dn.signals(for_each_variant(t("batchnorm.progress.signals"), lambda v: signals(setup, v)))
        stats, grads = dn.signal_frames(sig)
        specs = [
            (stats, "mean", False, t("batchnorm.signals.mean_title"), t("batchnorm.signals.mean_y")),
            (stats, "std", True, t("batchnorm.signals.std_title"), t("batchnorm.signals.std_y")),
            (
                grads,
                "gradient norm",
                True,
                t("batchnorm.signals.grad_title"),
                t("batchnorm.signals.grad_y", n=depth + 1),
            ),
        ]
        for col, (df, y, log, title, y_title) in zip(st.columns(3), specs, strict=True):
            with col:
                kw = dict(order=SHOWN, dash="when", log=log, title=title, y_title=y_title, legend_columns=2)
                ui.chart(charts.variant_lines, df, "layer", y, x_title=t("batchnorm.axes.layer"), **kw)
        st.caption(t("batchnorm.signals.caption"))
        st.markdown(NOTICE + dn.notice_signals(sig, depth))

# A net without batch norm is the same function in either BN mode: dn.mode_for keys its results by
# "train", so switching the mode recomputes only the two nets with batch norm.
if (t_hess.open or t_inter.open) and hessians:
    study = dn.HessianStudy.collect(
        mode,
        point,
        for_each_variant(
            t("batchnorm.progress.hessians", mode=mode), lambda v: hessian(setup, v, dn.mode_for(v, mode), point)
        ),
    )
    for v, why in study.skipped.items():
        ui.note(t("batchnorm.notes.hessian_of", v=dn.name(v), why=why))

with t_hess:
    if t_hess.open and not hessians:
        ask_for_hessians("hessian")
    elif t_hess.open:
        tops, spectra = dn.hessian_frames(study)
        left, right = st.columns(2)
        with left:
            title = t("batchnorm.hessian.top_title", k=dn.K_TOP, mode=mode)
            ui.chart(charts.top_eigenvalues_by_variant, tops, SHOWN, title=title)
        with right:
            if spectra.empty:
                st.info(t("batchnorm.hessian.no_exact", n=dn.EXACT_MAX))
            else:
                title = t("batchnorm.hessian.all_title", point=dn.point_name(point), mode=mode)
                ui.chart(charts.sorted_spectra, spectra, SHOWN, title=title)
        table(dn.hessian_table(study))
        st.markdown(NOTICE + dn.notice_hessian(study))

with t_inter:
    if t_inter.open and not hessians:
        ask_for_hessians("interactions")
    elif t_inter.open:
        cells, shares, groups = dn.block_frames(study)
        ui.prose(t("batchnorm.interactions.prose", point=dn.point_name(point), mode=mode))
        for col, (v, df) in side_by_side(cells, "interactions"):
            with col:
                ui.chart(charts.block_norm_heatmap, df, groups, title=dn.name(v), height=heat_height)
        table(shares)
        verdict, _ = dn.interaction_verdict(study)
        st.markdown(NOTICE + "- " + verdict + "\n" + dn.notice_interactions(study))

with t_land:
    if t_land.open:
        sl = for_each_variant(
            t("batchnorm.progress.slices", mode=mode), lambda v: slices(setup, v, dn.mode_for(v, mode), span)
        )
        line, grids = dn.landscape_frames(sl)
        title = t("batchnorm.landscape.line_title", mode=mode)
        kw = dict(order=SHOWN, points=False, title=title, height=340, y_title=t("batchnorm.axes.loss"))
        ui.chart(charts.variant_lines, line, "α", "loss", **kw)
        st.markdown(t("batchnorm.landscape.grid_header", mode=mode))
        domain = dn.loss_range(grids)
        for col, (v, df) in side_by_side(grids, "landscape"):
            with col:
                ui.chart(charts.slice_heatmap, df, dn.name(v), domain, span, height=heat_height)
        for v in [v for v in V if v not in grids]:
            ui.note(t("batchnorm.notes.no_slices", v=dn.name(v)))
        st.markdown(NOTICE + dn.notice_landscape(sl, span))

ui.finish()
