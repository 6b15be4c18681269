"""Plateaus: tanh plateaus, initialization, restarts and learning-rate schedules — measured."""

import time

import streamlit as st

from core import charts, ui
from core import plateaus as pl


def specs(*built, look: tuple[bool, bool]) -> list[dict]:
    """Styled Vega-Lite specs. Building Altair charts costs most of a rerun, so each section caches
    its specs beside its numbers (``look`` = presenter, contrast: part of the cache key)."""
    return charts.vega_specs(*built, presenter=look[0], high_contrast=look[1])


def show(*specs: dict) -> None:
    """Charts two per row (one per row in presenter mode, where type is large)."""
    cols = st.columns(1 if ui.presenter() else 2)
    for i, spec in enumerate(specs):
        with cols[i % len(cols)]:
            ui.show_spec(spec)


def map_height(look) -> int:
    """Maps fill the page width in presenter mode: make them taller there."""
    return 560 if look[0] else 420


def line_height(look) -> int:
    return 420 if look[0] else 320


def notice(lines: list[str]) -> None:
    for line in lines:  # divergence is also said at the top of the page, as on every page
        if "GD diverged" in line:
            ui.note(line)
    st.markdown("**What to notice**\n" + "\n".join(f"- {line}" for line in lines))


@ui.cached
def plateau_view(s: pl.PlateauSettings, look):
    r = pl.plateau_experiment(s)
    paths, curves, bands, _ = pl.plateau_frames(r)
    runs = dict(run_order=[run.label for run in r.runs], paths=paths, height=map_height(look))
    marked = f"white: plateau cells (‖∇E‖ < {s.g_max:g} while E ≥ {r.E_floor:.4f})"
    lines = dict(
        order=runs["run_order"], bands=bands, subtitle="bars at the top: detected plateaus", height=line_height(look)
    )
    return specs(
        charts.plateau_map(r.grid, "E", title="E(w, v) and GD paths", **runs),
        charts.plateau_map(r.grid, "‖∇E‖", marks="plateau", log=True, title="‖∇E‖ (log)", subtitle=marked, **runs),
        charts.run_lines(curves, "E", rule=r.E_floor, rule_label="E floor", title="Loss (log)", **lines),
        charts.run_lines(curves, "‖∇E‖", rule=s.g_max, rule_label="threshold", title="‖∇E‖ (log)", **lines),
        look=look,
    ), (pl.plateau_table(r), pl.plateau_notice(r))


@ui.cached
def init_view(net: pl.NetSettings, look):
    r = ui.cached(pl.init_experiment)(net)
    f = pl.init_frames(r)
    kw = dict(series="σ", order=pl.init_order(r), palette=charts.PLATEAU_SIGMA_COLORS, y_title="E (nats)", height=380)
    return specs(
        charts.run_lines(f["curves"], "E", title="Loss curves for several σ (log)", **kw),
        charts.saturation_vs_scale(f["saturation"], net.sigma, height=380),
        charts.activation_histograms(f["hist"], columns=min(net.depth, 4)),
        look=look,
    ), (f["gradients"], pl.init_notice(r))


@ui.cached
def sweep_view(s: pl.SweepSettings, look):
    r = pl.sweep_result(s, [ui.cached(pl.run_job)(job) for job in pl.sweep_jobs(s)])  # all trained by now
    (strip, curves), (widths, depths) = pl.restart_frames(r), pl.sweep_frames(r)
    return specs(
        charts.restart_strip(strip, title=f"Final loss of {len(strip)} restarts"),
        charts.restart_curves(curves),
        charts.sweep_points(widths, "width", f"Final loss vs width (depth {s.width_sweep_depth})"),
        charts.sweep_points(depths, "depth", f"Final loss vs depth (width {s.depth_sweep_width})"),
        look=look,
    ), (f"{r.n_nets} networks trained ({r.seconds:.1f} s when first computed)", pl.sweep_notice(r))


@ui.cached
def schedule_view(s: pl.ScheduleSettings, look):
    r = pl.schedule_experiment(s)
    f = pl.schedule_frames(r)
    kw = dict(series="schedule", order=list(pl.SCHEDULES), height=line_height(look))
    edge = 2 / r.lambda_max["shallow"]
    maps = dict(
        x="θ₁", y="θ₂", points=f["points"], run_order=list(pl.SCHEDULES), height=map_height(look), run_legend=False
    )
    zoom = dict(title="Close-up", subtitle="each path until it first leaves the box")
    return specs(
        charts.run_lines(f["lrs"], "γ", rule=edge, rule_label="2/λ_max, shallow", title="γ(t)", **kw),
        charts.run_lines(f["losses"], "E", log=False, title="Loss E(θₜ)", **kw),
        charts.plateau_map(f["grid"], "E", paths=f["paths"], title="GD paths on E(θ)", **maps),
        charts.plateau_map(f["zoom_grid"], "E", paths=f["zoom_paths"], **zoom, **maps),
        look=look,
    ), (pl.schedule_table(r), pl.schedule_notice(r))


ui.page(
    "Plateaus",
    "A tanh hidden unit makes the error surface full of **plateaus**: regions that are not minima but where the "
    "gradient is so small that gradient descent (GD) crawls for thousands of steps. The lecture's practical "
    "recommendations — initialize randomly at the right scale, restart and keep the best, prefer width to "
    "needless depth, start with a large learning rate and decay it — are each measured here on the spot.",
)
look = (ui.presenter(), ui.high_contrast())
with st.sidebar:
    st.subheader("MLP set-up (Initialization, Restarts)")
    data = ui.select("data", "Data set", list(pl.DATASETS), "circles", help="Seeded 2-D two-class set, 200 points.")
    width = ui.slider("width", "Width (units per hidden layer)", 1, 16, 8, help="Neurons in each tanh layer.")
    depth = ui.slider("depth", "Depth (hidden layers)", 1, 6, 4, help="Number of tanh layers before the output.")
    sigma = ui.slider("sigma", "Init scale σ", 0.0, 10.0, 1.0, 0.1, help="Weights ~ N(0, σ²/fan_in); 0: zero init.")
    mlp_lr = ui.slider("mlp_lr", "γ (learning rate)", 0.01, 2.0, 0.15, 0.01, help="Full-batch GD step, 1/nats.")
    mlp_steps = ui.slider("mlp_steps", "GD steps", 50, 1000, 500, 50, help="Steps of full-batch GD for every net.")
    seed = ui.number("seed", "Seed", 0, 9999, 0, help="Seeds the data and the initial weights (restart k: seed + k).")
net = pl.NetSettings(data, int(width), int(depth), float(sigma), float(mlp_lr), int(mlp_steps), int(seed))

tab_plateau, tab_init, tab_restarts, tab_schedules = ui.tabs(
    "section", ["tanh plateaus", "Initialization", "Restarts, width & depth", "Learning-rate schedules"]
)

with tab_plateau:
    st.latex(r"E(w, v) = \tfrac1N \textstyle\sum_n \big(v\tanh(w x_n) - t_n\big)^2 + \lambda(v^2 + w^2)")
    st.caption("Data: N = 9 points x evenly spaced in [−2, 2], targets t = 0.25·x. Three GD runs share γ and λ.")
    c = st.columns(6)
    with c[0]:
        w0 = ui.slider("w0", "Your start w₀", -6.0, 6.0, 4.0, 0.1, help="First-layer weight of your run.")
    with c[1]:
        v0 = ui.slider("v0", "Your start v₀", -2.0, 2.0, 0.5, 0.05, help="Output weight of your run.")
    with c[2]:
        lam = ui.slider("lam", "λ (weight decay)", 0.0, 0.05, 0.0, 0.001, help="Penalty λ(v² + w²), units of E.")
    with c[3]:
        lr = ui.slider("lr", "γ (learning rate)", 0.01, 3.0, 0.5, 0.01, help="θ ← θ − γ∇E; too large diverges.")
    with c[4]:
        steps = ui.slider("steps", "GD steps", 100, 20000, 5000, 100, help="Length of every run (at most 20,000).")
    with c[5]:
        gmax = ui.select("gmax", "Plateau: ‖∇E‖ below", pl.G_MAX_CHOICES, "0.01", help="Gradient threshold.")
    if tab_plateau.open:
        s = pl.PlateauSettings(float(lam), float(lr), int(steps), (float(w0), float(v0)), float(gmax))
        (surface, gradient, loss, grad_curve), (table, lines) = plateau_view(s, look)
        show(surface, gradient, loss, grad_curve)
        st.dataframe(table, hide_index=True, width="stretch")
        notice(lines)

with tab_init:
    ui.prose(
        f"A {net.depth}-layer tanh MLP of width {net.width} on *{net.data}* (set-up in the sidebar), trained from "
        f"zero init, from σ ∈ {{{', '.join(f'{x:g}' for x in pl.SCALES)}}} and from your σ = {net.sigma:g}, "
        "all with the same seed, γ and number of steps."
    )
    if tab_init.open:
        with st.spinner(f"Training {len(pl.SCALES) + 2} networks…"):
            (curves, saturation, hist), (gradients, lines) = init_view(net, look)
        show(curves, saturation)
        st.markdown(f"**Unit outputs at init, your σ = {net.sigma:g}** (vermillion: saturated, |h| > 0.99)")
        ui.show_spec(hist)
        st.markdown("**Per-layer gradient norm ‖(∂E/∂Wₗ, ∂E/∂bₗ)‖**: zero init vs your σ")
        st.dataframe(gradients.style.format("{:.3e}", subset=list(gradients.columns[1:])), hide_index=True)
        notice(lines)

with tab_restarts:
    c = st.columns(3)
    with c[0]:
        restarts = ui.slider("restarts", "Restarts K", 2, 20, 10, help="Seeded random restarts of the sidebar's net.")
    with c[1]:
        sweep_depth = ui.slider("sweep_depth", "Width sweep: depth", 1, 4, 1, help="Depth of the width sweep's nets.")
    with c[2]:
        sweep_width = ui.slider("sweep_width", "Depth sweep: width", 2, 16, 4, help="Width of the depth sweep's nets.")
    if tab_restarts.open:
        s = pl.SweepSettings(net, int(restarts), int(sweep_depth), int(sweep_width))
        jobs = pl.sweep_jobs(s)
        # a progress bar rather than st.status, which sleeps 50 ms on every rerun, cached or not
        n_nets = sum(len(j.members) for j in jobs)
        bar = st.progress(0.0, text=f"Training {n_nets} networks: {jobs[0].text}")
        for i, job in enumerate(jobs):  # one cached call per batch, so the bar moves between them
            t = time.perf_counter()
            ui.cached(pl.run_job)(job)
            if time.perf_counter() - t > 0.05 and i + 1 < len(jobs):  # it trained (a cache hit takes ~1 ms)
                bar.progress((i + 1) / len(jobs), text=f"Training {n_nets} networks: {jobs[i + 1].text}")
        charts_, (label, lines) = sweep_view(s, look)
        bar.empty()
        st.caption(label)
        show(*charts_)
        notice(lines)

with tab_schedules:
    st.latex(pl.TwoWells.LATEX)
    st.caption("A sharp, shallow minimum near c₁ on the slope of a wide, deep one near c₂; every run starts beside c₁.")
    c = st.columns(4)
    with c[0]:
        st.markdown("**Constant**")
        lr_const = ui.slider("lr_const", "γ", 0.001, 0.2, 0.01, 0.001, help="γ(t) = γ at every step.", fmt="%.3f")
        sched_steps = ui.slider("sched_steps", "GD steps", 500, 10000, 3000, 500, help="Length of every run.")
    with c[1]:
        st.markdown("**Step decay** (γ₀ also for exponential)")
        lr0 = ui.slider(
            "lr0", "γ₀", 0.001, 0.2, 0.1, 0.001, help="Starting γ of step and exponential decay.", fmt="%.3f"
        )
        factor = ui.slider("factor", "factor", 0.05, 1.0, 0.1, 0.05, help="γ is multiplied by this every interval.")
        every = ui.slider("every", "interval (steps)", 100, 5000, 1000, 100, help="Steps between two decays.")
    with c[2]:
        st.markdown("**Exponential** γ₀e^(−αt)")
        alpha = ui.slider(
            "alpha", "α (per step)", 0.0, 0.01, 0.001, 0.0001, help="γ halves every ln2/α steps.", fmt="%.4f"
        )
    with c[3]:
        st.markdown("**Cyclical** (triangular)")
        lr_min = ui.slider("lr_min", "γ_min", 0.0001, 0.2, 0.001, 0.0001, help="Lowest γ of each cycle.", fmt="%.4f")
        lr_max = ui.slider("lr_max", "γ_max", 0.001, 0.2, 0.1, 0.001, help="Highest γ, at mid-cycle.", fmt="%.3f")
        period = ui.slider("period", "period (steps)", 100, 5000, 1000, 100, help="Steps per up-and-down cycle.")
    if tab_schedules.open:
        s = pl.ScheduleSettings(lr_const, lr0, factor, int(every), alpha, lr_min, lr_max, int(period), int(sched_steps))
        charts_, (table, lines) = schedule_view(s, look)
        show(*charts_)
        st.dataframe(table, hide_index=True, width="stretch")
        notice(lines)

ui.finish()
