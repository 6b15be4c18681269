"""Conditioning: GD on quadratics, the Hessian of a small MLP and its condition number, the Hessian's size."""

import math

import streamlit as st

from core import charts, i18n, ui
from core import conditioning as cd
from core.i18n import t

ui.page("Conditioning", intro="conditioning.intro")
tab_gd, tab_mlp, tab_ex, tab_size = ui.tabs(
    "section",
    ["GD on a quadratic", "Hessian of a small MLP", "Exercise: linear model", "The Hessian is huge"],
    names={
        "GD on a quadratic": "conditioning.tabs.gd",
        "Hessian of a small MLP": "conditioning.tabs.mlp",
        "Exercise: linear model": "conditioning.tabs.exercise",
        "The Hessian is huge": "conditioning.tabs.size",
    },
)


def what_to_notice(lines: list[str]) -> None:
    st.markdown(f"**{t('conditioning.notice')}**\n" + "\n".join(f"- {line}" for line in lines))


with tab_gd:
    st.latex(
        r"E(\theta)=\sum_i \alpha_i u_i^2,\quad u = R(\theta-\theta^*),\quad u_{i,t+1} = (1-2\gamma\alpha_i)\,u_{i,t}"
    )
    c = st.columns(4)
    with c[0]:
        a1 = ui.number("a1", "α₁", 0.01, 100.0, 1.0, 0.5, help=t("conditioning.gd.a1_help"))
        a2 = ui.number("a2", "α₂", 0.01, 100.0, 10.0, 0.5, help=t("conditioning.gd.a2_help"))
    with c[1]:
        rules = {v: k for k, v in cd.LR_RULES.items()}
        rule_names = {v: t(f"conditioning.gd.rule.{k}") for k, v in cd.LR_RULES.items()}
        rule = rules[
            ui.select(
                "lr_rule",
                t("conditioning.gd.lr"),
                list(rules),
                cd.LR_RULES["lecture"],
                help=t("conditioning.gd.lr_help"),
                names=rule_names,
            )
        ]
        lr_amax = ui.slider(
            "lr_amax", t("conditioning.gd.lr_amax"), 0.01, 1.2, 0.5, 0.01, help=t("conditioning.gd.lr_amax_help")
        )
    with c[2]:
        x0 = ui.slider("x0", t("conditioning.gd.x0"), -3.0, 3.0, 2.0, 0.1, help=t("conditioning.gd.x0_help"))
        y0 = ui.slider("y0", t("conditioning.gd.y0"), -3.0, 3.0, 1.0, 0.1, help=t("conditioning.gd.y0_help"))
    with c[3]:
        angle = ui.slider("angle", t("conditioning.gd.angle"), -90, 90, 0, 5, help=t("conditioning.gd.angle_help"))
        steps = ui.slider("steps", t("conditioning.gd.steps"), 1, 300, 50, help=t("conditioning.gd.steps_help"))
    alphas = (float(a1), float(a2))
    gamma = cd.learning_rate(alphas, rule, lr_amax)
    st.caption(
        f"γ = {gamma:.5g}  ·  1/α_max = {1 / max(alphas):.5g}  ·  κ = α_max/α_min = {max(alphas) / min(alphas):.4g}"
    )
    if tab_gd.open:
        view = ui.cached(cd.quadratic_view)(
            alphas, gamma, (x0, y0), math.radians(angle), int(steps), rule, lang=i18n.language()
        )
        if view.stability:
            ui.note(view.stability)
        left, right = st.columns(2)
        with left:
            title = t("conditioning.gd.level_sets")
            height = 560 if ui.presenter() else 360  # full width in presenter mode: keep the map near square
            kw = dict(x="θ₁", y="θ₂", title=title, height=height)
            ui.chart(charts.surface_heatmap, view.grid, view.path, view.points, **kw)
        with right:
            ui.chart(charts.theory_vs_measured, view.distances)
        number = st.column_config.NumberColumn
        formats = {c: number(format="%.6f") for c in view.factors.columns[1:-1]} | {
            t("conditioning.frames.difference"): number(format="%.1e")
        }
        st.dataframe(view.factors, hide_index=True, width="stretch", column_config=formats)
        what_to_notice(view.notice)
    left, right = st.columns(2)
    with right:
        cc = st.columns(2)
        with cc[0]:
            tol = ui.select(
                "tol", t("conditioning.gd.tol"), ["1e-2", "1e-4", "1e-6"], "1e-4", help=t("conditioning.gd.tol_help")
            )
        with cc[1]:
            dims = ui.slider("dims", t("conditioning.gd.dims"), 2, 10, 2, help=t("conditioning.gd.dims_help"))
    if tab_gd.open:
        with left:
            curves, marks = cd.rate_frames(alphas, gamma)
            ui.chart(charts.rate_vs_lr, curves, marks, limit=1 / max(alphas))
            slide = abs(1 - 2 * 0.99 * min(alphas) / max(alphas))
            st.caption(t("conditioning.gd.slide", slide=slide))
        with right:
            with st.spinner(t("conditioning.gd.sweep_spinner")):
                sweep = ui.cached(cd.kappa_sweep)(rule, lr_amax if rule == "custom" else 0.99, float(tol), int(dims))
            ui.chart(charts.steps_vs_kappa, cd.sweep_frame(sweep))
            st.caption(cd.notice_sweep(sweep) + t("conditioning.gd.sweep_start"))

with tab_mlp:
    c = st.columns(7)
    with c[0]:
        width = ui.slider("width", t("conditioning.mlp.width"), 2, 12, 6, help=t("conditioning.mlp.width_help"))
    with c[1]:
        depth = ui.slider("depth", t("conditioning.mlp.depth"), 1, 3, 2, help=t("conditioning.mlp.depth_help"))
    with c[2]:
        activation = ui.select(
            "activation",
            t("conditioning.mlp.activation"),
            ["tanh", "sigmoid", "relu", "softplus", "linear"],
            "tanh",
            help=t("conditioning.mlp.activation_help"),
            names={"linear": t("conditioning.mlp.linear")},
        )
    with c[3]:
        seed = ui.number("seed", t("conditioning.mlp.seed"), 0, 999, 0, help=t("conditioning.mlp.seed_help"))
    with c[4]:
        train_steps = ui.slider(
            "train_steps",
            t("conditioning.mlp.train_steps"),
            0,
            1000,
            300,
            10,
            help=t("conditioning.mlp.train_steps_help"),
        )
    with c[5]:
        train_lr = ui.slider(
            "train_lr", t("conditioning.mlp.train_lr"), 0.01, 2.0, 0.1, 0.01, help=t("conditioning.mlp.train_lr_help")
        )
    with c[6]:
        k = ui.slider("k", t("conditioning.mlp.k"), 1, 10, 5, help=t("conditioning.mlp.k_help"))
    if tab_mlp.open:
        with st.spinner(t("conditioning.mlp.spinner")):
            r = ui.cached(cd.mlp_hessian)(width, depth, activation, seed, train_steps, train_lr, k)
        if r.diverged_at is not None:
            ui.note(t("conditioning.mlp.diverged", step=r.diverged_at, lr=train_lr))
        shown_activation = t("conditioning.mlp.linear") if activation == "linear" else activation
        st.markdown(
            t(
                "conditioning.mlp.net",
                depth=depth,
                width=width,
                activation=shown_activation,
                n=r.n_data,
                parameters=r.n_parameters,
                entries=f"{r.n_parameters**2:,}",
            )
        )
        s = r.summary
        for col, (label, value, tip) in zip(st.columns(5), cd.summary_metrics(r), strict=True):
            col.metric(label, value, help=tip)
        st.markdown(t("conditioning.mlp.conditions", h=cd.condition_text(s), g=cd.condition_text(r.G_summary, "G")))
        left, right = st.columns(2)
        with left:
            cells, bounds, n, stride = cd.heatmap_frame(r.H, r.groups)
            sub = t("conditioning.mlp.blocks") + (t("conditioning.mlp.tiles", s=stride) if stride > 1 else "")
            lin_h = 1e-3 * float(r.H.abs().max())
            ui.chart(charts.tiled_heatmap, cells, bounds, n, t("conditioning.mlp.heatmap"), sub, linear_below=lin_h)
        with right:
            lin = 1e-4 * max(abs(s.lambda_max), abs(s.lambda_min))
            title = t("conditioning.mlp.spectrum")
            ui.chart(charts.ranked_spectrum, cd.spectrum_frame(r), title, lin, s.cutoff, height=420)
            difference = t("conditioning.frames.difference")
            lz = cd.shown_lanczos_table(r).style.format(precision=6).format({difference: "{:.1e}"})
            st.dataframe(lz, hide_index=True, width="stretch", height=250)
        st.subheader(t("conditioning.mlp.decomposition"))
        ui.prose(t("conditioning.mlp.prose"))
        left, right = st.columns(2)
        with left:
            title = t("conditioning.mlp.spectra")
            ui.chart(charts.ranked_spectrum, cd.decomposition_frame(r), title, lin, r.G_summary.cutoff, 420)
        with right:
            hist = cd.history_frame(r)
            titles = dict(x_title=t("conditioning.mlp.step"), y_title=t("conditioning.mlp.value"))
            ui.chart(charts.loss_curves, hist, y="value", title=t("conditioning.mlp.history"), **titles)
        what_to_notice(cd.notice_mlp(r))

with tab_ex:
    st.latex(
        r"E(w)=\tfrac1N\sum_n (w^\top x_n - t_n)^2 + \lambda\lVert w\rVert^2"
        r"\;\Rightarrow\; H = 2\,\mathbb E[xx^\top] + 2\lambda I"
    )
    c = st.columns(3)
    with c[0]:
        lam = ui.slider(
            "lam", t("conditioning.exercise.lam"), 0.0, 2.0, 0.1, 0.01, help=t("conditioning.exercise.lam_help")
        )
    with c[1]:
        rho = ui.slider(
            "rho", t("conditioning.exercise.rho"), -0.95, 0.95, 0.5, 0.05, help=t("conditioning.exercise.rho_help")
        )
    with c[2]:
        ex_seed = ui.number(
            "ex_seed", t("conditioning.exercise.seed"), 0, 999, 0, help=t("conditioning.exercise.seed_help")
        )
    if tab_ex.open:
        ex = ui.cached(cd.linear_exercise)(lam, rho, ex_seed)
        left, mid, right = st.columns(3)
        left.markdown(t("conditioning.exercise.formula"))
        left.dataframe(ex.H_formula.numpy(), width="stretch")
        mid.markdown(t("conditioning.exercise.autograd"))
        mid.dataframe(ex.H_autograd.numpy(), width="stretch")
        right.metric(t("conditioning.exercise.difference"), f"{ex.max_abs_diff:.1e}")
        kappa = f"{ex.kappa:.4g}" if ex.kappa else t("conditioning.exercise.singular")
        right.metric(t("conditioning.exercise.kappa"), kappa)
        values = ", ".join(f"{float(v):.4g}" for v in ex.eigenvalues)
        st.markdown(t("conditioning.exercise.eigenvalues", values=values))

with tab_size:
    with st.columns([1, 2])[0]:
        arch = ui.text(
            "arch", t("conditioning.size.arch"), "784-1000-1000-10", 200, help=t("conditioning.size.arch_help")
        )
    if tab_size.open:
        try:
            size = cd.hessian_size(cd.parse_sizes(arch))
        except ValueError as err:
            st.warning(t("conditioning.size.cannot_read", text=arch[:60], error=err))
            size = None
        if size is not None:
            m = st.columns(4)
            m[0].metric(t("conditioning.size.parameters"), f"{size.n_parameters:,}")
            m[1].metric(t("conditioning.size.entries"), f"{size.entries:.3g}")
            m[2].metric(t("conditioning.size.float32"), cd.format_bytes(size.bytes_float32))
            m[3].metric(t("conditioning.size.float64"), cd.format_bytes(size.bytes_float64))
            with st.spinner(t("conditioning.size.spinner")):
                seconds = ui.cached(cd.time_hvp)(tuple(size.sizes))
            mlp = [2] + [int(width)] * int(depth) + [1]  # the net of the MLP tab, for scale
            st.dataframe(cd.size_table([size.sizes, mlp]), hide_index=True, width="stretch")
            st.markdown(cd.size_text(size, seconds))

ui.finish()
