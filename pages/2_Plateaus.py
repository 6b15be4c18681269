"""Plateaus: tanh plateaus, initialization, restarts and learning-rate schedules — measured."""

import time

import streamlit as st

from core import charts, ui
from core import plateaus as pl
from core.i18n import t


def specs(*built, look: tuple[bool, bool, str]) -> list[dict]:
    """Styled Vega-Lite specs. Building Altair charts costs most of a rerun, so each section caches
    its specs beside its numbers (``look`` = presenter, contrast, language: part of the cache key,
    so each language gets its own texts)."""
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
        if isinstance(line, pl.Alert):
            ui.note(line)
    st.markdown(t("plateaus.notice") + "\n" + "\n".join(f"- {line}" for line in lines))


@ui.cached
def plateau_view(s: pl.PlateauSettings, look):
    r = pl.plateau_experiment(s)
    paths, curves, bands, _ = pl.plateau_frames(r)
    runs = dict(run_order=[run.label for run in r.runs], paths=paths, height=map_height(look))
    marked = t("plateaus.tanh.marked", g=s.g_max, floor=r.E_floor)
    lines = dict(order=runs["run_order"], bands=bands, subtitle=t("plateaus.tanh.bands"), height=line_height(look))
    grad_map = dict(marks="plateau", log=True, title=t("plateaus.tanh.grad_map_title"), subtitle=marked)
    return specs(
        charts.plateau_map(r.grid, "E", title=t("plateaus.tanh.map_title"), **runs),
        charts.plateau_map(r.grid, "‖∇E‖", **grad_map, **runs),
        charts.run_lines(
            curves,
            "E",
            rule=r.E_floor,
            rule_label=t("plateaus.tanh.floor"),
            title=t("plateaus.tanh.loss_title"),
            **lines,
        ),
        charts.run_lines(
            curves,
            "‖∇E‖",
            rule=s.g_max,
            rule_label=t("plateaus.tanh.threshold"),
            title=t("plateaus.tanh.grad_title"),
            **lines,
        ),
        look=look,
    ), (pl.plateau_table(r), pl.plateau_notice(r))


@ui.cached
def init_view(net: pl.NetSettings, look):
    r = ui.cached(pl.init_experiment)(net)
    f = pl.init_frames(r)
    kw = dict(series="σ", order=pl.init_order(r), palette=charts.PLATEAU_SIGMA_COLORS, height=380)
    return specs(
        charts.run_lines(
            f["curves"], "E", title=t("plateaus.init.curves_title"), y_title=t("plateaus.init.y_title"), **kw
        ),
        charts.saturation_vs_scale(f["saturation"], net.sigma, height=380),
        charts.activation_histograms(f["hist"], columns=min(net.depth, 4)),
        look=look,
    ), (f["gradients"], pl.init_notice(r))


@ui.cached
def sweep_view(s: pl.SweepSettings, look):
    r = pl.sweep_result(s, [ui.cached(pl.run_job)(job) for job in pl.sweep_jobs(s)])  # all trained by now
    (strip, curves), (widths, depths) = pl.restart_frames(r), pl.sweep_frames(r)
    return specs(
        charts.restart_strip(strip, title=t("plateaus.restarts.strip_title", n=len(strip))),
        charts.restart_curves(curves),
        charts.sweep_points(
            widths,
            "width",
            t("plateaus.restarts.width_title", depth=s.width_sweep_depth),
            x_title=t("plateaus.restarts.width_axis"),
        ),
        charts.sweep_points(
            depths,
            "depth",
            t("plateaus.restarts.depth_title", width=s.depth_sweep_width),
            x_title=t("plateaus.restarts.depth_axis"),
        ),
        look=look,
    ), (t("plateaus.restarts.caption", n=r.n_nets, seconds=r.seconds), pl.sweep_notice(r))


@ui.cached
def schedule_view(s: pl.ScheduleSettings, look):
    r = pl.schedule_experiment(s)
    f = pl.schedule_frames(r)
    order = pl.schedule_order()
    kw = dict(series="schedule", order=order, height=line_height(look))
    edge = 2 / r.lambda_max["shallow"]
    maps = dict(x="θ₁", y="θ₂", points=f["points"], run_order=order, height=map_height(look), run_legend=False)
    zoom = dict(title=t("plateaus.schedules.zoom_title"), subtitle=t("plateaus.schedules.zoom_subtitle"))
    rule = dict(rule=edge, rule_label=t("plateaus.schedules.edge"))
    return specs(
        charts.run_lines(f["lrs"], "γ", **rule, title=t("plateaus.schedules.lr_title"), **kw),
        charts.run_lines(f["losses"], "E", log=False, title=t("plateaus.schedules.loss_title"), **kw),
        charts.plateau_map(f["grid"], "E", paths=f["paths"], title=t("plateaus.schedules.map_title"), **maps),
        charts.plateau_map(f["zoom_grid"], "E", paths=f["zoom_paths"], **zoom, **maps),
        look=look,
    ), (pl.schedule_table(r), pl.schedule_notice(r))


ui.page("Plateaus", intro="plateaus.intro")
look = ui.look()
with st.sidebar:
    st.subheader(t("plateaus.sidebar.title"))
    data = ui.select(
        "data",
        t("plateaus.sidebar.data"),
        list(pl.DATASETS),
        "circles",
        help=t("plateaus.sidebar.data_help"),
        names={name: t(f"plateaus.data.{name}") for name in pl.DATASETS},
    )
    width = ui.slider("width", t("plateaus.sidebar.width"), 1, 16, 8, help=t("plateaus.sidebar.width_help"))
    depth = ui.slider("depth", t("plateaus.sidebar.depth"), 1, 6, 4, help=t("plateaus.sidebar.depth_help"))
    sigma = ui.slider("sigma", t("plateaus.sidebar.sigma"), 0.0, 10.0, 1.0, 0.1, help=t("plateaus.sidebar.sigma_help"))
    mlp_lr = ui.slider("mlp_lr", t("plateaus.sidebar.lr"), 0.01, 2.0, 0.15, 0.01, help=t("plateaus.sidebar.lr_help"))
    mlp_steps = ui.slider(
        "mlp_steps", t("plateaus.sidebar.steps"), 50, 1000, 500, 50, help=t("plateaus.sidebar.steps_help")
    )
    seed = ui.number("seed", t("plateaus.sidebar.seed"), 0, 9999, 0, help=t("plateaus.sidebar.seed_help"))
net = pl.NetSettings(data, int(width), int(depth), float(sigma), float(mlp_lr), int(mlp_steps), int(seed))

TABS = {
    "tanh plateaus": "plateaus.tabs.tanh",
    "Initialization": "plateaus.tabs.init",
    "Restarts, width & depth": "plateaus.tabs.restarts",
    "Learning-rate schedules": "plateaus.tabs.schedules",
}
tab_plateau, tab_init, tab_restarts, tab_schedules = ui.tabs("section", list(TABS), names=TABS)

with tab_plateau:
    st.latex(r"E(w, v) = \tfrac1N \textstyle\sum_n \big(v\tanh(w x_n) - t_n\big)^2 + \lambda(v^2 + w^2)")
    st.caption(t("plateaus.tanh.caption"))
    c = st.columns(6)
    with c[0]:
        w0 = ui.slider("w0", t("plateaus.tanh.w0"), -6.0, 6.0, 4.0, 0.1, help=t("plateaus.tanh.w0_help"))
    with c[1]:
        v0 = ui.slider("v0", t("plateaus.tanh.v0"), -2.0, 2.0, 0.5, 0.05, help=t("plateaus.tanh.v0_help"))
    with c[2]:
        lam = ui.slider("lam", t("plateaus.tanh.lam"), 0.0, 0.05, 0.0, 0.001, help=t("plateaus.tanh.lam_help"))
    with c[3]:
        lr = ui.slider("lr", t("plateaus.tanh.lr"), 0.01, 3.0, 0.5, 0.01, help=t("plateaus.tanh.lr_help"))
    with c[4]:
        steps = ui.slider("steps", t("plateaus.tanh.steps"), 100, 20000, 5000, 100, help=t("plateaus.tanh.steps_help"))
    with c[5]:
        gmax = ui.select("gmax", t("plateaus.tanh.gmax"), pl.G_MAX_CHOICES, "0.01", help=t("plateaus.tanh.gmax_help"))
    if tab_plateau.open:
        s = pl.PlateauSettings(float(lam), float(lr), int(steps), (float(w0), float(v0)), float(gmax))
        (surface, gradient, loss, grad_curve), (table, lines) = plateau_view(s, look)
        show(surface, gradient, loss, grad_curve)
        st.dataframe(table, hide_index=True, width="stretch")
        notice(lines)

with tab_init:
    ui.prose(
        t(
            "plateaus.init.prose",
            depth=net.depth,
            width=net.width,
            data=t(f"plateaus.data.{net.data}"),
            scales="{" + ", ".join(f"{x:g}" for x in pl.SCALES) + "}",
            sigma=net.sigma,
        )
    )
    if tab_init.open:
        with st.spinner(t("plateaus.init.spinner", n=len(pl.SCALES) + 2)):
            (curves, saturation, hist), (gradients, lines) = init_view(net, look)
        show(curves, saturation)
        st.markdown(t("plateaus.init.hist_heading", sigma=net.sigma))
        ui.show_spec(hist)
        st.markdown(t("plateaus.init.grad_heading"))
        st.dataframe(gradients.style.format("{:.3e}", subset=list(gradients.columns[1:])), hide_index=True)
        notice(lines)

with tab_restarts:
    c = st.columns(3)
    with c[0]:
        restarts = ui.slider(
            "restarts", t("plateaus.restarts.restarts"), 2, 20, 10, help=t("plateaus.restarts.restarts_help")
        )
    with c[1]:
        sweep_depth = ui.slider(
            "sweep_depth", t("plateaus.restarts.sweep_depth"), 1, 4, 1, help=t("plateaus.restarts.sweep_depth_help")
        )
    with c[2]:
        sweep_width = ui.slider(
            "sweep_width", t("plateaus.restarts.sweep_width"), 2, 16, 4, help=t("plateaus.restarts.sweep_width_help")
        )
    if tab_restarts.open:
        s = pl.SweepSettings(net, int(restarts), int(sweep_depth), int(sweep_width))
        jobs = pl.sweep_jobs(s)
        # a progress bar rather than st.status, which sleeps 50 ms on every rerun, cached or not
        n_nets = sum(len(j.members) for j in jobs)
        bar = st.progress(0.0, text=t("plateaus.restarts.progress", n=n_nets, job=jobs[0].text))
        for i, job in enumerate(jobs):  # one cached call per batch, so the bar moves between them
            started = time.perf_counter()
            ui.cached(pl.run_job)(job)
            if time.perf_counter() - started > 0.05 and i + 1 < len(jobs):  # it trained (a cache hit takes ~1 ms)
                bar.progress((i + 1) / len(jobs), text=t("plateaus.restarts.progress", n=n_nets, job=jobs[i + 1].text))
        charts_, (label, lines) = sweep_view(s, look)
        bar.empty()
        st.caption(label)
        show(*charts_)
        notice(lines)

with tab_schedules:
    st.latex(pl.TwoWells.LATEX)
    st.caption(t("plateaus.schedules.caption"))
    c = st.columns(4)
    with c[0]:
        st.markdown(t("plateaus.schedules.constant"))
        lr_const = ui.slider(
            "lr_const",
            t("plateaus.schedules.lr_const"),
            0.001,
            0.2,
            0.01,
            0.001,
            help=t("plateaus.schedules.lr_const_help"),
            fmt="%.3f",
        )
        sched_steps = ui.slider(
            "sched_steps", t("plateaus.schedules.steps"), 500, 10000, 3000, 500, help=t("plateaus.schedules.steps_help")
        )
    with c[1]:
        st.markdown(t("plateaus.schedules.step"))
        lr0 = ui.slider(
            "lr0",
            t("plateaus.schedules.lr0"),
            0.001,
            0.2,
            0.1,
            0.001,
            help=t("plateaus.schedules.lr0_help"),
            fmt="%.3f",
        )
        factor = ui.slider(
            "factor", t("plateaus.schedules.factor"), 0.05, 1.0, 0.1, 0.05, help=t("plateaus.schedules.factor_help")
        )
        every = ui.slider(
            "every", t("plateaus.schedules.every"), 100, 5000, 1000, 100, help=t("plateaus.schedules.every_help")
        )
    with c[2]:
        st.markdown(t("plateaus.schedules.exponential"))
        alpha = ui.slider(
            "alpha",
            t("plateaus.schedules.alpha"),
            0.0,
            0.01,
            0.001,
            0.0001,
            help=t("plateaus.schedules.alpha_help"),
            fmt="%.4f",
        )
    with c[3]:
        st.markdown(t("plateaus.schedules.cyclical"))
        lr_min = ui.slider(
            "lr_min",
            t("plateaus.schedules.lr_min"),
            0.0001,
            0.2,
            0.001,
            0.0001,
            help=t("plateaus.schedules.lr_min_help"),
            fmt="%.4f",
        )
        lr_max = ui.slider(
            "lr_max",
            t("plateaus.schedules.lr_max"),
            0.001,
            0.2,
            0.1,
            0.001,
            help=t("plateaus.schedules.lr_max_help"),
            fmt="%.3f",
        )
        period = ui.slider(
            "period", t("plateaus.schedules.period"), 100, 5000, 1000, 100, help=t("plateaus.schedules.period_help")
        )
    if tab_schedules.open:
        s = pl.ScheduleSettings(lr_const, lr0, factor, int(every), alpha, lr_min, lr_max, int(period), int(sched_steps))
        charts_, (table, lines) = schedule_view(s, look)
        show(*charts_)
        st.dataframe(table, hide_index=True, width="stretch")
        notice(lines)

ui.finish()
