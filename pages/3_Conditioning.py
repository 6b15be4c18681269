"""Conditioning: GD on quadratics, the Hessian of a small MLP and its condition number, the Hessian's size."""

import math

import streamlit as st

from core import charts, ui
from core import conditioning as cd

ui.page(
    "Conditioning",
    "Gradient descent on E(θ) = Σ αᵢ(θᵢ − θᵢ*)² multiplies each eigen-coordinate by (1 − 2γαᵢ) per step: "
    "the flattest direction sets the pace and the steepest sets the largest stable γ, so the condition "
    "number κ = α_max/α_min decides how slow GD is. Then the general case: the Hessian of a real network.",
)
tab_gd, tab_mlp, tab_ex, tab_size = ui.tabs(
    "section", ["GD on a quadratic", "Hessian of a small MLP", "Exercise: linear model", "The Hessian is huge"]
)

with tab_gd:
    st.latex(
        r"E(\theta)=\sum_i \alpha_i u_i^2,\quad u = R(\theta-\theta^*),\quad u_{i,t+1} = (1-2\gamma\alpha_i)\,u_{i,t}"
    )
    c = st.columns(4)
    with c[0]:
        a1 = ui.number("a1", "α₁", 0.01, 100.0, 1.0, 0.5, help="Curvature along u₁ (units of E per θ²).")
        a2 = ui.number("a2", "α₂", 0.01, 100.0, 10.0, 0.5, help="Curvature along u₂ (units of E per θ²).")
    with c[1]:
        rules = {v: k for k, v in cd.LR_RULES.items()}
        rule = rules[ui.select("lr_rule", "Learning rate", list(rules), cd.LR_RULES["lecture"], help="γ from a rule.")]
        lr_amax = ui.slider(
            "lr_amax", "γ·α_max when γ = custom", 0.01, 1.2, 0.5, 0.01, help="γ in units of 1/α_max; > 1 diverges."
        )
    with c[2]:
        x0 = ui.slider("x0", "start θ₁", -3.0, 3.0, 2.0, 0.1, help="First coordinate of θ₀ (θ* = 0).")
        y0 = ui.slider("y0", "start θ₂", -3.0, 3.0, 1.0, 0.1, help="Second coordinate of θ₀ (θ* = 0).")
    with c[3]:
        angle = ui.slider(
            "angle", "rotation (degrees)", -90, 90, 0, 5, help="Turns the eigen-directions: 0 = axis-aligned."
        )
        steps = ui.slider("steps", "GD steps", 1, 300, 50, help="Number of GD steps drawn.")
    alphas = (float(a1), float(a2))
    gamma = cd.learning_rate(alphas, rule, lr_amax)
    st.caption(
        f"γ = {gamma:.5g}  ·  1/α_max = {1 / max(alphas):.5g}  ·  κ = α_max/α_min = {max(alphas) / min(alphas):.4g}"
    )
    if tab_gd.open:
        view = ui.cached(cd.quadratic_view)(alphas, gamma, (x0, y0), math.radians(angle), int(steps), rule)
        if view.stability:
            ui.note(view.stability)
        left, right = st.columns(2)
        with left:
            title = "Level sets of E with the GD path"
            height = 560 if ui.presenter() else 360  # full width in presenter mode: keep the map near square
            kw = dict(x="θ₁", y="θ₂", title=title, height=height)
            ui.chart(charts.surface_heatmap, view.grid, view.path, view.points, **kw)
        with right:
            ui.chart(charts.theory_vs_measured, view.distances)
        number = st.column_config.NumberColumn
        formats = {c: number(format="%.6f") for c in view.factors.columns[1:-1]} | {
            "|difference|": number(format="%.1e")
        }
        st.dataframe(view.factors, hide_index=True, width="stretch", column_config=formats)
        st.markdown("**What to notice**\n" + "\n".join(f"- {line}" for line in view.notice))
    left, right = st.columns(2)
    with right:
        cc = st.columns(2)
        with cc[0]:
            tol = ui.select("tol", "tolerance on ‖θₜ−θ*‖²/‖θ₀−θ*‖²", ["1e-2", "1e-4", "1e-6"], "1e-4", help="Relative.")
        with cc[1]:
            dims = ui.slider("dims", "dimensions d", 2, 10, 2, help="αᵢ log-spaced from α_max/κ to α_max.")
    if tab_gd.open:
        with left:
            curves, marks = cd.rate_frames(alphas, gamma)
            ui.chart(charts.rate_vs_lr, curves, marks, limit=1 / max(alphas))
            slide = abs(1 - 2 * 0.99 * min(alphas) / max(alphas))
            st.caption(f"At γ = 0.99/α_max the flat direction's factor is |1 − 2·0.99·α_min/α_max| = {slide:.4f}.")
        with right:
            with st.spinner("Running GD at 13 condition numbers …"):
                sweep = ui.cached(cd.kappa_sweep)(rule, lr_amax if rule == "custom" else 0.99, float(tol), int(dims))
            ui.chart(charts.steps_vs_kappa, cd.sweep_frame(sweep))
            st.caption(cd.notice_sweep(sweep) + " Start θ₀ = (1, …, 1), same γ rule as above.")

with tab_mlp:
    c = st.columns(7)
    with c[0]:
        width = ui.slider("width", "width", 2, 12, 6, help="Units per hidden layer.")
    with c[1]:
        depth = ui.slider("depth", "hidden layers", 1, 3, 2, help="Number of hidden layers.")
    with c[2]:
        activation = ui.select("activation", "activation", ["tanh", "sigmoid", "relu", "softplus", "linear"], "tanh")
    with c[3]:
        seed = ui.number("seed", "seed", 0, 999, 0, help="Seeds the data set and the initialization.")
    with c[4]:
        train_steps = ui.slider("train_steps", "training steps", 0, 1000, 300, 10, help="Full-batch GD steps.")
    with c[5]:
        train_lr = ui.slider("train_lr", "training γ", 0.01, 2.0, 0.1, 0.01, help="Step size of training.")
    with c[6]:
        k = ui.slider("k", "Lanczos k", 1, 10, 5, help="How many largest and smallest eigenvalues Lanczos finds.")
    if tab_mlp.open:
        with st.spinner("Training and forming exact Hessians …"):
            r = ui.cached(cd.mlp_hessian)(width, depth, activation, seed, train_steps, train_lr, k)
        if r.diverged_at is not None:
            ui.note(
                f"Training diverged at step {r.diverged_at} (γ = {train_lr} is too large for this net: GD on the "
                f"local quadratic model needs γ < 2/λ_max). Everything below is at the last finite checkpoint."
            )
        st.markdown(
            f"2 inputs → {depth} × {width} {activation} → 1 output, MSE on N = {r.n_data} teacher samples: "
            f"**{r.n_parameters} parameters**, so H has {r.n_parameters**2:,} entries."
        )
        s = r.summary
        for col, (label, value, tip) in zip(st.columns(5), cd.summary_metrics(r), strict=True):
            col.metric(label, value, help=tip)
        st.markdown(f"**H:** {cd.condition_text(s)}  \n**Gauss–Newton part G:** {cd.condition_text(r.G_summary, 'G')}")
        left, right = st.columns(2)
        with left:
            cells, bounds, n, stride = cd.heatmap_frame(r.H, r.groups)
            sub = "black lines: layer blocks" + (
                f"; each cell: largest |entry| of {stride}×{stride}" if stride > 1 else ""
            )
            lin_h = 1e-3 * float(r.H.abs().max())
            ui.chart(charts.tiled_heatmap, cells, bounds, n, "Exact Hessian H", sub, linear_below=lin_h)
        with right:
            lin = 1e-4 * max(abs(s.lambda_max), abs(s.lambda_min))
            title = "Spectrum of H: exact and Lanczos"
            ui.chart(charts.ranked_spectrum, cd.spectrum_frame(r), title, lin, s.cutoff, height=420)
            lz = cd.lanczos_table(r).style.format(precision=6).format({"|difference|": "{:.1e}"})
            st.dataframe(lz, hide_index=True, width="stretch", height=250)
        st.subheader("Decomposition: H = Jᵀ(∂²E/∂F²)J + Σ(∂E/∂F)(∂²F/∂θ²)")
        ui.prose(
            "The first term, the **Gauss–Newton part G**, is positive semi-definite; the second, the **residual "
            "part**, is weighted by the residuals ∂E/∂F = 2(F − y)/N and fades as the fit improves."
        )
        left, right = st.columns(2)
        with left:
            title = "Spectra of H and of its Gauss–Newton part G"
            ui.chart(charts.ranked_spectrum, cd.decomposition_frame(r), title, lin, r.G_summary.cutoff, 420)
        with right:
            hist = cd.history_frame(r)
            ui.chart(charts.loss_curves, hist, y="value", title="Training: loss and the sizes of G and H − G")
        st.markdown("**What to notice**\n" + "\n".join(f"- {line}" for line in cd.notice_mlp(r)))

with tab_ex:
    st.latex(
        r"E(w)=\tfrac1N\sum_n (w^\top x_n - t_n)^2 + \lambda\lVert w\rVert^2"
        r"\;\Rightarrow\; H = 2\,\mathbb E[xx^\top] + 2\lambda I"
    )
    c = st.columns(3)
    with c[0]:
        lam = ui.slider("lam", "λ (weight decay)", 0.0, 2.0, 0.1, 0.01, help="Adds 2λ to every eigenvalue of H.")
    with c[1]:
        rho = ui.slider("rho", "correlation of x₁, x₂", -0.95, 0.95, 0.5, 0.05, help="Unitless; μ = (1, 2).")
    with c[2]:
        ex_seed = ui.number("ex_seed", "data seed", 0, 999, 0, help="Seeds the 200 inputs and the point w.")
    if tab_ex.open:
        ex = ui.cached(cd.linear_exercise)(lam, rho, ex_seed)
        left, mid, right = st.columns(3)
        left.markdown("**Formula** 2/N XᵀX + 2λI")
        left.dataframe(ex.H_formula.numpy(), width="stretch")
        mid.markdown("**Autograd** (torch.autograd.functional.hessian at a random w)")
        mid.dataframe(ex.H_autograd.numpy(), width="stretch")
        right.metric("max |formula − autograd|", f"{ex.max_abs_diff:.1e}")
        right.metric("κ = λ_max/λ_min", f"{ex.kappa:.4g}" if ex.kappa else "undefined (singular)")
        st.markdown(
            f"Eigenvalues {', '.join(f'{float(v):.4g}' for v in ex.eigenvalues)}. E is quadratic in w, so its "
            "Hessian is the same at every w. E[xxᵀ] = Cov(x) + μμᵀ: the input mean alone adds a large eigenvalue "
            "(see the Normalization page for what centering does to κ)."
        )

with tab_size:
    with st.columns([1, 2])[0]:
        arch = ui.text("arch", "layer sizes", "784-1000-1000-10", 200, help="Fully connected, e.g. 784-1000-1000-10.")
    if tab_size.open:
        try:
            size = cd.hessian_size(cd.parse_sizes(arch))
        except ValueError as err:
            st.warning(f"Cannot read “{arch[:60]}”: {err}.")
            size = None
        if size is not None:
            m = st.columns(4)
            m[0].metric("parameters P", f"{size.n_parameters:,}")
            m[1].metric("Hessian entries P²", f"{size.entries:.3g}")
            m[2].metric("H in float32", cd.format_bytes(size.bytes_float32))
            m[3].metric("H in float64", cd.format_bytes(size.bytes_float64))
            with st.spinner("Timing one Hessian-vector product …"):
                t = ui.cached(cd.time_hvp)(tuple(size.sizes))
            mlp = [2] + [int(width)] * int(depth) + [1]  # the net of the MLP tab, for scale
            st.dataframe(cd.size_table([size.sizes, mlp]), hide_index=True, width="stretch")
            st.markdown(cd.size_text(size, t))

ui.finish()
