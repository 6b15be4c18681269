"""Altair chart builders: a DataFrame in, an ``alt.Chart`` out. No streamlit, no models.

Every builder drops non-finite rows before anything reaches Vega (a diverged
run never sends NaN or inf to the browser) and says how many it dropped in the
chart's subtitle. Categorical colours are Okabe–Ito, sequential ones viridis:
both readable with the common colour-vision deficiencies. Fonts are sized for a
projector; ``ui.show_chart`` enlarges them further in presenter mode.
"""

from __future__ import annotations

import functools
import json
import threading

import altair as alt
import numpy as np
import pandas as pd

# Okabe & Ito (2008), colour-blind-safe categorical palette.
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
SEQUENTIAL = "viridis"
# (normal, presenter) sizes in px; presenter mode is read from the back of a lecture hall.
SIZES = {"label": (14, 20), "title": (17, 26), "subtitle": (13, 18), "stroke": (2.5, 4.0)}


def finite_rows(df: pd.DataFrame, columns: list[str]) -> tuple[pd.DataFrame, int]:
    """Rows of ``df`` whose ``columns`` are all finite numbers, and how many were dropped."""
    if df.empty:
        return df, 0
    values = df[columns].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    keep = np.isfinite(values).all(axis=1)
    return df.loc[keep].reset_index(drop=True), int((~keep).sum())


def _title(text: str, dropped: int = 0, subtitle: str | None = None) -> alt.TitleParams:
    lines = [subtitle] if subtitle else []
    if dropped:
        lines.append(f"{dropped} non-finite value(s) (divergence) not drawn")
    return alt.TitleParams(text, subtitle=lines or alt.Undefined, anchor="start")


def _axis(title: str) -> alt.Axis:
    return alt.Axis(title=title)


def surface_heatmap(
    grid: pd.DataFrame,
    paths: pd.DataFrame | None = None,
    points: pd.DataFrame | None = None,
    x: str = "w",
    y: str = "v",
    value: str = "E",
    title: str = "Error surface",
    bands: int = 12,
    height: int = 420,
) -> alt.LayerChart:
    """Heatmap of ``grid[x, y, value]`` in ``bands`` quantile bands (contour-like level bands).

    ``paths[run, step, x, y]`` are drawn as lines in step order, one per run;
    ``points[x, y, label]`` as labelled markers (start points, critical points).
    Path points outside the grid's range are dropped so the map is never rescaled.
    """
    grid, dropped = finite_rows(grid, [x, y, value])
    if grid.empty:
        raise ValueError("surface grid has no finite values")
    xs, ys = np.sort(grid[x].unique()), np.sort(grid[y].unique())
    dx = float(xs[1] - xs[0]) if len(xs) > 1 else 1.0
    dy = float(ys[1] - ys[0]) if len(ys) > 1 else 1.0
    grid = grid.assign(x2=grid[x] + dx, y2=grid[y] + dy)
    xdom = [float(xs[0]), float(xs[-1] + dx)]
    ydom = [float(ys[0]), float(ys[-1] + dy)]
    xscale = alt.Scale(domain=xdom, nice=False, zero=False)
    yscale = alt.Scale(domain=ydom, nice=False, zero=False)
    heat = (
        alt.Chart(grid)
        .mark_rect()
        .encode(
            x=alt.X(f"{x}:Q", scale=xscale, axis=_axis(x)),
            x2="x2:Q",
            y=alt.Y(f"{y}:Q", scale=yscale, axis=_axis(y)),
            y2="y2:Q",
            color=alt.Color(
                f"{value}:Q",
                scale=alt.Scale(type="quantile", scheme=alt.SchemeParams(SEQUENTIAL, count=bands)),
                legend=alt.Legend(title=value, format=".3g"),
            ),
            tooltip=[
                alt.Tooltip(f"{x}:Q", format=".3f"),
                alt.Tooltip(f"{y}:Q", format=".3f"),
                alt.Tooltip(f"{value}:Q", format=".4g"),
            ],
        )
    )
    layers: list[alt.Chart] = [heat]
    if paths is not None and not paths.empty:
        paths, d = finite_rows(paths, [x, y])
        dropped += d
        inside = paths[x].between(*xdom) & paths[y].between(*ydom)
        paths = paths.loc[inside]
        layers.append(
            alt.Chart(paths)
            .mark_line(point=alt.OverlayMarkDef(size=18, filled=True))
            .encode(
                x=alt.X(f"{x}:Q", scale=xscale),
                y=alt.Y(f"{y}:Q", scale=yscale),
                order="step:Q",
                detail="run:N",
                color=alt.value("#ffffff"),
                tooltip=["run:N", "step:Q", alt.Tooltip(f"{x}:Q", format=".3f"), alt.Tooltip(f"{y}:Q", format=".3f")],
            )
        )
    if points is not None and not points.empty:
        points, d = finite_rows(points, [x, y])
        dropped += d
        layers.append(
            alt.Chart(points)
            .mark_point(size=160, filled=True, stroke="black", strokeWidth=1.5)
            .encode(
                x=alt.X(f"{x}:Q", scale=xscale),
                y=alt.Y(f"{y}:Q", scale=yscale),
                shape=alt.Shape("label:N", legend=alt.Legend(title=None)),
                fill=alt.Fill("label:N", scale=alt.Scale(range=OKABE_ITO[1:]), legend=None),
                tooltip=[c for c in points.columns],
            )
        )
    return alt.layer(*layers).properties(title=_title(title, dropped), height=height, width="container")


def loss_curves(
    df: pd.DataFrame,
    x: str = "step",
    y: str = "loss",
    series: str | None = "series",
    log: bool = True,
    title: str = "Loss",
    y_title: str | None = None,
    height: int = 320,
) -> alt.Chart:
    """Lines of ``df[y]`` against ``df[x]``, one per ``series``, on a log y-axis by default.

    On a log axis, values ≤ 0 cannot be drawn: they are raised to the smallest
    positive value / 10 (an exact zero loss shows as the floor, not as a gap).
    """
    cols = [x, y]
    df, dropped = finite_rows(df, cols)
    if log and not df.empty:
        positive = df.loc[df[y] > 0, y]
        floor = float(positive.min()) / 10 if not positive.empty else 1e-16
        df = df.assign(**{y: df[y].clip(lower=floor)})
    enc = dict(
        x=alt.X(f"{x}:Q", axis=_axis(x)),
        y=alt.Y(f"{y}:Q", scale=alt.Scale(type="log" if log else "linear"), axis=_axis(y_title or y)),
        tooltip=[alt.Tooltip(f"{x}:Q"), alt.Tooltip(f"{y}:Q", format=".4g")],
    )
    if series and series in df.columns:
        enc["color"] = alt.Color(
            f"{series}:N",
            scale=alt.Scale(range=OKABE_ITO),
            legend=alt.Legend(title=None, orient="top", labelLimit=300),
        )
        enc["tooltip"] = [alt.Tooltip(f"{series}:N")] + enc["tooltip"]
    return (
        alt.Chart(df)
        .mark_line()
        .encode(**enc)
        .properties(title=_title(title, dropped), height=height, width="container")
    )


def spectrum(
    df: pd.DataFrame,
    value: str = "eigenvalue",
    series: str | None = None,
    title: str = "Hessian eigenvalues",
    height: int = 300,
) -> alt.Chart:
    """Sorted eigenvalues (rank on x, value on a symmetric-log y so signs stay visible).

    Negative eigenvalues are drawn in vermillion, positive in blue.
    """
    df, dropped = finite_rows(df, [value])
    group = [series] if series and series in df.columns else []
    df = df.sort_values(group + [value], ascending=[True] * len(group) + [False]).copy()
    df["rank"] = df.groupby(group).cumcount() + 1 if group else np.arange(1, len(df) + 1)
    df["sign"] = np.where(df[value] < 0, "negative", "positive")
    enc = dict(
        x=alt.X("rank:Q", axis=_axis("rank (largest first)")),
        y=alt.Y(f"{value}:Q", scale=alt.Scale(type="symlog"), axis=_axis(value)),
        color=alt.Color(
            "sign:N",
            scale=alt.Scale(domain=["positive", "negative"], range=[OKABE_ITO[0], OKABE_ITO[3]]),
            legend=alt.Legend(title=None, orient="top"),
        ),
        tooltip=["rank:Q", alt.Tooltip(f"{value}:Q", format=".4g")] + ([f"{series}:N"] if group else []),
    )
    if group:
        enc["shape"] = alt.Shape(f"{series}:N", legend=alt.Legend(title=None, orient="top"))
    return (
        alt.Chart(df)
        .mark_point(filled=True, size=60)
        .encode(**enc)
        .properties(title=_title(title, dropped), height=height, width="container")
    )


def matrix_heatmap(
    M: np.ndarray,
    title: str = "Hessian",
    labels: list[str] | None = None,
    boundaries: list[int] | None = None,
    height: int = 380,
    diverging: bool = True,
) -> alt.LayerChart:
    """A matrix as a heatmap (row i down, column j across), with optional block boundaries.

    ``diverging`` uses a symmetric red–blue scale centred at 0 (for Hessians); otherwise viridis.
    """
    M = np.asarray(M, dtype=float)
    M = np.where(np.isfinite(M), M, np.nan)
    dropped = int(np.isnan(M).sum())
    i, j = np.indices(M.shape)
    df = pd.DataFrame({"i": i.ravel(), "j": j.ravel(), "value": M.ravel()})
    if labels is not None:
        df["row"] = [labels[k] for k in df["i"]]
        df["col"] = [labels[k] for k in df["j"]]
    df = df.dropna()
    vmax = float(np.nanmax(np.abs(M))) if df.shape[0] else 1.0
    scale = (
        alt.Scale(scheme="blueorange", domain=[-vmax, vmax], domainMid=0) if diverging else alt.Scale(scheme=SEQUENTIAL)
    )
    n = M.shape[0]
    axis_scale = alt.Scale(domain=[0, n], nice=False, zero=True)
    df = df.assign(j2=df["j"] + 1, i2=df["i"] + 1)
    heat = (
        alt.Chart(df)
        .mark_rect()
        .encode(
            x=alt.X("j:Q", scale=axis_scale, axis=_axis("parameter j")),
            x2="j2:Q",
            y=alt.Y("i:Q", scale=alt.Scale(domain=[n, 0], nice=False), axis=_axis("parameter i")),
            y2="i2:Q",
            color=alt.Color("value:Q", scale=scale, legend=alt.Legend(title=None)),
            tooltip=[c for c in df.columns if c not in ("i2", "j2")],
        )
    )
    layers: list[alt.Chart] = [heat]
    if boundaries:
        b = pd.DataFrame({"k": [float(k) for k in boundaries]})
        layers.append(alt.Chart(b).mark_rule(color="black", strokeWidth=1.5).encode(x=alt.X("k:Q", scale=axis_scale)))
        layers.append(
            alt.Chart(b)
            .mark_rule(color="black", strokeWidth=1.5)
            .encode(y=alt.Y("k:Q", scale=alt.Scale(domain=[n, 0], nice=False)))
        )
    return alt.layer(*layers).properties(title=_title(title, dropped), height=height, width=height)


def styled(chart, presenter: bool = False, high_contrast: bool = False):
    """Apply the app's type sizes and line widths (larger in presenter mode).

    Builders leave sizes to this one place so that a projector view is a single switch.
    """
    k = 1 if presenter else 0
    label, title, subtitle, stroke = (SIZES[n][k] for n in ("label", "title", "subtitle", "stroke"))
    color = "#000000" if high_contrast else "#262730"
    return (
        chart.configure_axis(
            labelFontSize=label,
            titleFontSize=label + 1,
            labelColor=color,
            titleColor=color,
            gridOpacity=0.6 if high_contrast else 0.3,
        )
        .configure_legend(labelFontSize=label, titleFontSize=label, labelLimit=400, labelColor=color)
        # facet headers (e.g. "hidden 1: 0 % saturated") were Vega's 10-13 px: unreadable on a projector
        .configure_header(labelFontSize=label, titleFontSize=label + 1, labelColor=color, titleColor=color)
        .configure_title(fontSize=title, subtitleFontSize=subtitle, color=color, subtitleColor=color)
        .configure_line(strokeWidth=stroke)
        .configure_rule(strokeWidth=stroke / 1.5)
        .configure_point(size=90 if presenter else 60)
    )


# --- Non-convexity page ---

CRITICAL_SHAPES = {"minimum": "circle", "saddle": "cross", "maximum": "triangle-up", "degenerate": "diamond"}
CRITICAL_COLOURS = {
    "minimum": OKABE_ITO[2],
    "saddle": OKABE_ITO[3],
    "maximum": OKABE_ITO[4],
    "degenerate": OKABE_ITO[1],
}


def _cells(grid: pd.DataFrame) -> tuple[alt.Chart, alt.Scale, alt.Scale]:
    """A chart of the grid points as cells centred on them (fields w_lo..w_hi, v_lo..v_hi,
    computed in the browser so they are not sent), and the map's two scales.

    Centred cells make a click on a cell select the grid point itself."""
    ws, vs = np.sort(grid["w"].unique()), np.sort(grid["v"].unique())
    dw = float(ws[1] - ws[0]) if len(ws) > 1 else 1.0
    dv = float(vs[1] - vs[0]) if len(vs) > 1 else 1.0
    # cells overlap by 2% so that anti-aliasing leaves no white seams between them
    hw, hv = 0.51 * dw, 0.51 * dv
    cells = alt.Chart(grid).transform_calculate(
        w_lo=f"datum.w - {hw!r}", w_hi=f"datum.w + {hw!r}", v_lo=f"datum.v - {hv!r}", v_hi=f"datum.v + {hv!r}"
    )
    xs = alt.Scale(domain=[float(ws[0] - dw / 2), float(ws[-1] + dw / 2)], nice=False, zero=False)
    ys = alt.Scale(domain=[float(vs[0] - dv / 2), float(vs[-1] + dv / 2)], nice=False, zero=False)
    return cells, xs, ys


def descent_map(
    grid: pd.DataFrame,
    paths: pd.DataFrame,
    markers: pd.DataFrame,
    names: tuple[str, str] = ("w", "v"),
    steps: int = 100,
    stride: int = 1,
    bands: int = 12,
    height: int = 640,
    title: str = "Error surface and gradient-descent paths",
) -> alt.LayerChart:
    """The error surface E(w, v) in level bands, every GD run's path on it, critical points and starts.

    ``grid[w, v, E, lmin]`` (a regular grid; ``lmin`` the smallest Hessian eigenvalue there),
    ``paths[run, label, step, next_step, w, v, E, final_E, main]``, ``markers[w, v, kind, E, λ₁, λ₂]``.
    Clicking a cell selects it (selection ``pick``, fields w and v: the page starts GD there).
    The parameter ``show_step`` (a slider under the chart, run in the browser) shows each path
    up to that step and marks where every run is at that step. Paths are clipped to the map.
    """
    p, q = names
    grid, dropped = finite_rows(grid, ["w", "v", "E"])
    if grid.empty:
        raise ValueError("surface grid has no finite values")
    cells, xs, ys = _cells(grid[["w", "v", "E", "lmin"]])
    X = lambda f="w": alt.X(f"{f}:Q", scale=xs, axis=_axis(p))  # noqa: E731
    Y = lambda f="v": alt.Y(f"{f}:Q", scale=ys, axis=_axis(q))  # noqa: E731
    pick = alt.selection_point(name="pick", fields=["w", "v"], on="click", toggle=False, empty=False)
    show = alt.param(
        name="show_step",
        value=int(steps),
        bind=alt.binding_range(min=0, max=int(steps), step=int(stride), name="play the descent: step "),
    )
    heat = (
        cells.mark_rect()
        .encode(
            x=X("w_lo"),
            x2="w_hi:Q",
            y=Y("v_lo"),
            y2="v_hi:Q",
            color=alt.Color(
                "E:Q",
                # light greys only, so the coloured paths stay readable on every band
                scale=alt.Scale(
                    type="quantile", scheme=alt.SchemeParams("greys", count=bands, extent=[0.05, 0.65]), reverse=True
                ),
                legend=None,  # a legend of 12 quantile thresholds is unreadable; the tooltip gives E
            ),
            tooltip=[
                alt.Tooltip("w:Q", title=p, format=".2f"),
                alt.Tooltip("v:Q", title=q, format=".2f"),
                alt.Tooltip("E:Q", format=".4g"),
                alt.Tooltip("lmin:Q", title="smallest Hessian eigenvalue", format=".3g"),
            ],
        )
        .add_params(pick)
    )
    paths, d = finite_rows(paths, ["w", "v", "E"])
    dropped += d
    run_tooltip = [
        alt.Tooltip("label:N", title="run"),
        alt.Tooltip("step:Q"),
        alt.Tooltip("E:Q", format=".4g"),
        alt.Tooltip("final_E:Q", title="final E", format=".4g"),
    ]
    # one colour scale for "how good is where the run ended", from the lowest E on the map to
    # its median: runs at equal minima share a colour, a run stuck at the saddle stands out
    e_lo, e_mid = float(grid["E"].min()), float(grid["E"].median())
    final_scale = alt.Scale(
        scheme=alt.SchemeParams("plasma", extent=[0.0, 0.8]), domain=[e_lo, max(e_mid, e_lo + 1e-9)], clamp=True
    )
    final_colour = alt.Color(
        "final_E:Q",
        scale=final_scale,
        legend=alt.Legend(
            title="final E of each run", format=".3g", orient="bottom", direction="horizontal", gradientLength=150
        ),
    )
    upto = alt.datum.step <= show
    halo = (  # a white band under your own run, so it stands out among the restarts
        alt.Chart(paths)
        .mark_line(clip=True, strokeCap="round", color="white", strokeWidth=8)
        .encode(x=X(), y=Y(), order="step:Q", detail="run:N")
        .transform_filter(upto & alt.datum.main)
    )
    lines = (
        alt.Chart(paths)
        .mark_line(clip=True, strokeCap="round")
        .encode(
            x=X(),
            y=Y(),
            order="step:Q",
            detail="run:N",
            color=final_colour,
            strokeWidth=alt.condition(alt.datum.main, alt.value(3.5), alt.value(2.0)),
            tooltip=run_tooltip,
        )
        .transform_filter(upto)
    )
    heads = (
        alt.Chart(paths)
        .mark_point(clip=True, filled=True, size=110, fill="#F0E442", stroke="black", strokeWidth=1.5)
        .encode(x=X(), y=Y(), tooltip=run_tooltip)
        .transform_filter(upto & (alt.datum.next_step > show))
    )
    starts = (
        alt.Chart(paths)
        .mark_point(clip=True, shape="circle", size=60, filled=False, color="black", strokeWidth=1.5)
        .encode(x=X(), y=Y(), tooltip=run_tooltip)
        .transform_filter((alt.datum.step == 0) & ~alt.datum.main)
    )
    markers, d = finite_rows(markers, ["w", "v"])
    dropped += d
    kinds = [k for k in [*CRITICAL_SHAPES, "your start"] if k in set(markers["kind"])]
    shapes = {**CRITICAL_SHAPES, "your start": "square"}
    colours = {**CRITICAL_COLOURS, "your start": "#ffffff"}
    kinds_legend = alt.Legend(title=None, orient="top", direction="horizontal")  # one legend: shape and fill
    eig_tips = [alt.Tooltip(f"{c}:Q", format=".4g") for c in ("λ₁", "λ₂") if c in markers.columns]
    points = (
        alt.Chart(markers)
        .mark_point(clip=True, filled=True, size=220, stroke="black", strokeWidth=1.5, opacity=1)
        .encode(
            x=X(),
            y=Y(),
            shape=alt.Shape(
                "kind:N",
                scale=alt.Scale(domain=kinds, range=[shapes[k] for k in kinds]),
                legend=kinds_legend,
            ),
            fill=alt.Fill(
                "kind:N", scale=alt.Scale(domain=kinds, range=[colours[k] for k in kinds]), legend=kinds_legend
            ),
            tooltip=[
                alt.Tooltip("kind:N", title="point"),
                alt.Tooltip("w:Q", title=p, format=".4f"),
                alt.Tooltip("v:Q", title=q, format=".4f"),
                alt.Tooltip("E:Q", format=".4g"),
                *eig_tips,
            ],
        )
    )
    return (
        # one constructor, no chained calls: each call on a layer chart deep-copies all six layers
        alt.layer(
            heat,
            halo,
            lines.add_params(show),  # Altair lifts the variable to the top level
            starts,
            heads,
            points,
            resolve=alt.Resolve(
                scale=alt.ScaleResolveMap(color="independent"), legend=alt.LegendResolveMap(color="independent")
            ),
            title=alt.TitleParams(
                title,
                subtitle=[
                    "grey bands: levels of E, darker is lower; click the map to start GD there;",
                    "replay the descent with the step slider below the map"
                    + (f" ({dropped} non-finite value(s) not drawn)" if dropped else ""),
                ],
                anchor="start",
            ),
            height=height,
            width="container",
        )
    )


def curvature_map(
    grid: pd.DataFrame,
    worst: tuple[float, float] | None = None,
    names: tuple[str, str] = ("w", "v"),
    height: int = 340,
    title: str = "Smallest Hessian eigenvalue λ_min(H)",
) -> alt.LayerChart:
    """``grid[w, v, lmin]`` on a diverging scale centred at 0: orange where E curves down
    in some direction (λ_min < 0, locally non-convex), blue where it is locally convex."""
    p, q = names
    grid, dropped = finite_rows(grid, ["w", "v", "lmin"])
    if grid.empty:
        raise ValueError("curvature grid has no finite values")
    cells, xs, ys = _cells(grid[["w", "v", "lmin"]])
    vmax = float(grid["lmin"].abs().max()) or 1.0
    heat = cells.mark_rect().encode(
        x=alt.X("w_lo:Q", scale=xs, axis=_axis(p)),
        x2="w_hi:Q",
        y=alt.Y("v_lo:Q", scale=ys, axis=_axis(q)),
        y2="v_hi:Q",
        color=alt.Color(
            "lmin:Q",
            # orange where λ_min < 0 (curves down: locally non-convex), blue where ≥ 0
            scale=alt.Scale(scheme="blueorange", domain=[-vmax, vmax], domainMid=0, reverse=True),
            legend=alt.Legend(title="λ_min", format=".2g"),
        ),
        tooltip=[
            alt.Tooltip("w:Q", title=p, format=".2f"),
            alt.Tooltip("v:Q", title=q, format=".2f"),
            alt.Tooltip("lmin:Q", title="λ_min", format=".4g"),
        ],
    )
    layers: list[alt.Chart] = [heat]
    if worst is not None:
        at = pd.DataFrame({"w": [worst[0]], "v": [worst[1]], "what": ["smallest λ_min on the grid"]})
        layers.append(
            alt.Chart(at)
            .mark_point(shape="cross", size=260, filled=True, color="black", stroke="white", strokeWidth=1)
            .encode(x=alt.X("w:Q", scale=xs), y=alt.Y("v:Q", scale=ys), tooltip=["what:N"])
        )
    return alt.layer(*layers).properties(title=_title(title, dropped), height=height, width="container")


def chord_slice(df: pd.DataFrame, model: str, height: int = 280) -> alt.LayerChart:
    """E along a segment θ(α) = (1−α)θ_a + αθ_b and its chord between α = 0 and 1, for one ``model``.

    ``df[model, alpha, E, chord]`` (chord NaN outside [0, 1]). Where E rises above the chord
    (vermillion band) the function is not convex; a convex function stays on or below every chord.
    """
    part, dropped = finite_rows(df.loc[df["model"] == model], ["alpha", "E"])
    chord = part.dropna(subset=["chord"])
    above = chord.assign(top=np.maximum(chord["E"], chord["chord"]))
    x = alt.X("alpha:Q", axis=_axis("α along the segment (its ends: 0 and 1)"))
    band = (
        alt.Chart(above)
        .mark_area(color=OKABE_ITO[3], opacity=0.35)
        .encode(x=x, y="chord:Q", y2="top:Q", tooltip=[alt.Tooltip("alpha:Q", format=".2f")])
    )
    curve = (
        alt.Chart(part)
        .mark_line(color=OKABE_ITO[0])
        .encode(
            x=x,
            y=alt.Y("E:Q", axis=_axis("E")),
            tooltip=[alt.Tooltip("alpha:Q", format=".2f"), alt.Tooltip("E:Q", format=".4g")],
        )
    )
    line = (
        alt.Chart(chord)
        .mark_line(color="black", strokeDash=[6, 4])
        .encode(x=x, y="chord:Q", tooltip=[alt.Tooltip("chord:Q", title="chord", format=".4g")])
    )
    ends = alt.Chart(chord.iloc[[0, -1]]).mark_point(filled=True, color="black", size=70).encode(x=x, y="chord:Q")
    rise = float((chord["E"] - chord["chord"]).max()) if not chord.empty else float("nan")
    verdict = "rises above its chord: not convex" if rise > 1e-12 else "stays on or below its chord"
    return alt.layer(band, curve, line, ends).properties(
        title=_title(f"{model}: {verdict}", dropped, f"max over α ∈ [0, 1] of E − chord = {rise:.3g}"),
        height=height,
        width="container",
    )


def _detach_data(chart, datasets: dict[str, pd.DataFrame]):
    """Replace every DataFrame of ``chart`` (top level and layers) by a reference by name, collecting
    the frames in ``datasets``: Altair then does not turn thousands of rows into JSON records (most
    of a spec's cost here), and Streamlit sends the named frames as Arrow."""
    names: dict[int, str] = {}  # layers that share one frame share one dataset
    for sub in [chart, *getattr(chart, "layer", [])]:
        data = getattr(sub, "data", alt.Undefined)
        if isinstance(data, pd.DataFrame):
            if id(data) not in names:
                names[id(data)] = f"frame_{len(names)}"  # not "data_k": Vega-Lite names its own sources so
                datasets[names[id(data)]] = data.reset_index(drop=True)
            sub.data = alt.NamedData(name=names[id(data)])
    return chart


def nonconvex_specs(*built, presenter: bool = False, high_contrast: bool = False) -> list[dict]:
    """``vega_specs`` of this page's charts, with their data frames under ``datasets`` by name."""
    specs = []
    for chart in built:
        datasets: dict[str, pd.DataFrame] = {}
        (spec,) = vega_specs(_detach_data(chart, datasets), presenter=presenter, high_contrast=high_contrast)
        spec["datasets"] = datasets
        # canvas, not SVG: the map alone has 6,561 cells (Streamlit picks canvas itself only for Altair charts)
        spec["usermeta"] = {"embedOptions": {"renderer": "canvas"}}
        specs.append(spec)
    return specs


# --- Normalization page ---


def scatter_ellipse(
    points: pd.DataFrame,
    ellipse: pd.DataFrame,
    segment: pd.DataFrame,
    x: str = "x₁",
    y: str = "x₂",
    title: str = "Data",
    subtitle: str | None = None,
    extent: float | None = None,
    height: int = 270,
) -> alt.LayerChart:
    """Scatter of ``points[x, y]`` with a covariance ellipse and the mean drawn as a segment from the origin.

    ``ellipse[x, y, order]`` is drawn as a closed line, ``segment[x, y, order]`` (origin → μ) as a
    dashed line ending in a cross at μ. Both axes share the domain [−extent, extent], so the origin
    sits in the middle and a centred cloud is visibly centred.
    """
    points, dropped = finite_rows(points, [x, y])
    ellipse, _ = finite_rows(ellipse, [x, y])
    segment, _ = finite_rows(segment, [x, y])
    if extent is None:
        values = np.abs(np.concatenate([points[[x, y]].to_numpy().ravel(), ellipse[[x, y]].to_numpy().ravel()]))
        extent = float(values.max()) * 1.05 if values.size else 1.0
    scale = alt.Scale(domain=[-extent, extent], nice=False, zero=False)
    # labelFlush keeps the outermost tick labels inside the (narrow) frame
    xe = alt.X(f"{x}:Q", scale=scale, axis=alt.Axis(title=x, labelFlush=True))
    ye = alt.Y(f"{y}:Q", scale=scale, axis=alt.Axis(title=y, labelFlush=True))
    dots = alt.Chart(points).mark_circle(size=14, opacity=0.45, color=OKABE_ITO[0]).encode(x=xe, y=ye)
    ring = alt.Chart(ellipse).mark_line(color=OKABE_ITO[3]).encode(x=xe, y=ye, order="order:Q")
    mean_line = alt.Chart(segment).mark_line(color="#000000", strokeDash=[4, 3]).encode(x=xe, y=ye, order="order:Q")
    mean_dot = (
        alt.Chart(segment.tail(1))
        .mark_point(shape="cross", size=220, filled=True, color="#000000")
        .encode(x=xe, y=ye, tooltip=[alt.Tooltip(f"{x}:Q", format=".3f"), alt.Tooltip(f"{y}:Q", format=".3f")])
    )
    return alt.layer(dots, ring, mean_line, mean_dot).properties(
        title=_title(title, dropped, subtitle), height=height, width="container"
    )


def eigenvalue_strip(
    df: pd.DataFrame,
    x: str,
    y: str = "eigenvalue",
    color: str | None = None,
    title: str = "Eigenvalues",
    x_title: str | None = None,
    y_title: str | None = None,
    sort: list[str] | None = None,
    tooltip: list[str] | None = None,
    height: int = 300,
) -> alt.Chart:
    """Eigenvalues as dots on a log axis, one column per ``x`` (nominal), coloured by ``color``.

    Eigenvalues ≤ 0 cannot sit on a log axis: they are drawn at the smallest positive value / 10
    and counted in the subtitle, never silently dropped.
    """
    df, dropped = finite_rows(df, [y])
    subtitle = None
    if not df.empty:
        positive = df.loc[df[y] > 0, y]
        floor = float(positive.min()) / 10 if not positive.empty else 1e-16
        n_low = int((df[y] <= 0).sum())
        if n_low:
            subtitle = f"{n_low} eigenvalue(s) ≤ 0 drawn at the floor {floor:.2g}"
        df = df.assign(**{y: df[y].clip(lower=floor)})
    enc = dict(
        x=alt.X(f"{x}:N", sort=sort, axis=alt.Axis(title=x_title or x, labelAngle=0, labelLimit=200)),
        y=alt.Y(f"{y}:Q", scale=alt.Scale(type="log"), axis=_axis(y_title or y)),
        tooltip=[alt.Tooltip(c) if df[c].dtype == object else alt.Tooltip(c, format=".4g") for c in tooltip or [x, y]],
    )
    if color and color in df.columns:
        # Colours in alphabetical order, as in ``loss_curves``: one series keeps one colour across charts.
        enc["color"] = alt.Color(f"{color}:N", scale=alt.Scale(range=OKABE_ITO), legend=None)
    return (
        alt.Chart(df)
        .mark_point(filled=True, size=70, opacity=0.85)
        .encode(**enc)
        .properties(title=_title(title, dropped, subtitle), height=height, width="container")
    )


def mean_std_by_layer(
    df: pd.DataFrame,
    layer: str = "layer",
    mean: str = "mean",
    std: str = "std",
    series: str = "series",
    title: str = "Mean ± standard deviation per layer",
    y_title: str = "activation",
    legend_orient: str = "top",
    height: int = 300,
) -> alt.LayerChart:
    """A dot at ``mean`` and a bar from mean − std to mean + std, per layer and series (side by side)."""
    df, dropped = finite_rows(df, [mean, std])
    df = df.assign(lo=df[mean] - df[std], hi=df[mean] + df[std])
    base = alt.Chart(df).encode(
        x=alt.X(f"{layer}:N", axis=alt.Axis(title=None, labelAngle=0)),
        xOffset=alt.XOffset(f"{series}:N"),
        color=alt.Color(
            f"{series}:N", scale=alt.Scale(range=OKABE_ITO), legend=alt.Legend(title=None, orient=legend_orient)
        ),
        tooltip=[
            alt.Tooltip(f"{series}:N"),
            alt.Tooltip(f"{layer}:N"),
            alt.Tooltip(f"{mean}:Q", format=".3f"),
            alt.Tooltip(f"{std}:Q", format=".3f"),
        ],
    )
    bars = base.mark_rule(strokeWidth=3).encode(y=alt.Y("lo:Q", axis=_axis(y_title)), y2="hi:Q")
    dots = base.mark_point(filled=True, size=70).encode(y=alt.Y(f"{mean}:Q"))
    zero = alt.Chart(pd.DataFrame({"y": [0.0]})).mark_rule(color="#666666", strokeDash=[4, 3]).encode(y="y:Q")
    return alt.layer(zero, bars, dots).properties(title=_title(title, dropped), height=height, width="container")


def layer_lines(
    df: pd.DataFrame,
    x: str = "layer",
    y: str = "value",
    series: str | None = "series",
    lo: str | None = None,
    hi: str | None = None,
    log: bool = True,
    title: str = "Per layer",
    x_title: str | None = None,
    y_title: str | None = None,
    x_sort: list[str] | None = None,
    reference: float | None = None,
    points: bool = True,
    legend_orient: str = "top",
    height: int = 300,
) -> alt.LayerChart:
    """Lines (with dots if ``points``) of ``y`` against ``x``, one per ``series``; optional band ``lo``–``hi``
    and a dashed rule at ``reference``.

    ``x_sort`` given: the x-axis is ordinal in that order (layer names); otherwise quantitative.
    On a log axis, values ≤ 0 are not drawn and are counted in the subtitle; labels switch to
    1e+6 notation when the values span more than four decades.
    """
    cols = [y] + [c for c in (lo, hi) if c]
    df, dropped = finite_rows(df, cols)
    if log and not df.empty:
        bad = (df[cols] <= 0).any(axis=1)
        dropped += int(bad.sum())
        df = df.loc[~bad]
    x_enc = (
        alt.X(f"{x}:O", sort=x_sort, axis=alt.Axis(title=x_title or x, labelAngle=0))
        if x_sort
        else alt.X(f"{x}:Q", axis=_axis(x_title or x))
    )
    y_scale = alt.Scale(type="log") if log else alt.Scale(zero=False)
    y_axis = _axis(y_title or y)
    if log and not df.empty and float(df[y].max()) > 1e4 * float(df[y].min()):
        y_axis = alt.Axis(title=y_title or y, format=".0e")
    color = (
        alt.Color(f"{series}:N", scale=alt.Scale(range=OKABE_ITO), legend=alt.Legend(title=None, orient=legend_orient))
        if series and series in df.columns
        else alt.value(OKABE_ITO[0])
    )
    # The band shares the lines' colours but not their legend (its pale swatches would stand in for the lines).
    band_color = color.legend(None) if isinstance(color, alt.Color) else color
    tips = ([alt.Tooltip(f"{series}:N")] if series and series in df.columns else []) + [
        alt.Tooltip(f"{x}:{'O' if x_sort else 'Q'}"),
        alt.Tooltip(f"{y}:Q", format=".4g"),
    ]
    layers = []
    if lo and hi:
        layers.append(
            alt.Chart(df)
            .mark_area(opacity=0.18)
            .encode(x=x_enc, y=alt.Y(f"{lo}:Q", scale=y_scale), y2=f"{hi}:Q", color=band_color)
        )
    if reference is not None:
        layers.append(
            alt.Chart(pd.DataFrame({"ref": [reference]}))
            .mark_rule(color="#666666", strokeDash=[4, 3])
            .encode(y=alt.Y("ref:Q", scale=y_scale))
        )
    mark = alt.Chart(df).mark_line(point=alt.OverlayMarkDef(filled=True, size=40) if points else False)
    layers.append(mark.encode(x=x_enc, y=alt.Y(f"{y}:Q", scale=y_scale, axis=y_axis), color=color, tooltip=tips))
    subtitle = f"{dropped} value(s) not finite or ≤ 0: not drawn on the log axis" if dropped and log else None
    return (
        alt.layer(*layers)
        .resolve_legend(color="independent")
        .properties(title=_title(title, 0 if subtitle else dropped, subtitle), height=height, width="container")
    )


def block_heatmap(
    M: np.ndarray,
    boundaries: list[int],
    major: list[int] | None = None,
    title: str = "Hessian",
    height: int = 420,
) -> alt.LayerChart:
    """A symmetric matrix on a symmetric-log diverging colour scale, with thin block edges and thick ``major`` edges.

    The symlog scale (linear within 10⁻³·max|M| of 0) keeps small blocks visible next to a dominant one, so
    blocks on very different scales can be compared by eye; the tooltip gives the exact entry.
    """
    M = np.asarray(M, dtype=float)
    n = M.shape[0]
    i, j = np.indices(M.shape)
    df = pd.DataFrame({"i": i.ravel(), "j": j.ravel(), "value": M.ravel()})
    df, dropped = finite_rows(df, ["value"])
    df = df.assign(i2=df["i"] + 1, j2=df["j"] + 1)
    vmax = float(df["value"].abs().max()) if not df.empty else 1.0
    vmax = vmax if vmax > 0 else 1.0
    xs = alt.Scale(domain=[0, n], nice=False)
    ys = alt.Scale(domain=[n, 0], nice=False)
    color = alt.Scale(type="symlog", constant=vmax * 1e-3, scheme="blueorange", domain=[-vmax, vmax], domainMid=0)
    heat = (
        alt.Chart(df)
        .mark_rect()
        .encode(
            x=alt.X("j:Q", scale=xs, axis=_axis("parameter j")),
            x2="j2:Q",
            y=alt.Y("i:Q", scale=ys, axis=_axis("parameter i")),
            y2="i2:Q",
            color=alt.Color("value:Q", scale=color, legend=alt.Legend(title=None, format=".2g")),
            tooltip=["i:Q", "j:Q", alt.Tooltip("value:Q", format=".4g")],
        )
    )
    layers: list[alt.Chart] = [heat]
    for edges, stroke, width in ((boundaries, "#9a9a9a", 0.6), (major or [], "#000000", 1.8)):
        if edges:
            b = pd.DataFrame({"k": [float(k) for k in edges]})
            layers.append(alt.Chart(b).mark_rule(color=stroke, strokeWidth=width).encode(x=alt.X("k:Q", scale=xs)))
            layers.append(alt.Chart(b).mark_rule(color=stroke, strokeWidth=width).encode(y=alt.Y("k:Q", scale=ys)))
    return alt.layer(*layers).properties(title=_title(title, dropped), height=height, width=height)


# --- Conditioning page ---


def rate_vs_lr(curves: pd.DataFrame, marks: pd.DataFrame, limit: float, height: int = 470) -> alt.LayerChart:
    """Per-step factors ``curves[γ, factor, curve]`` against γ, the region γ ≥ ``limit`` (= 1/α_max)
    shaded as divergent, the line factor = 1, and vertical rules at ``marks[γ, label]``.

    Factors above 1.6 are clipped to the chart's edge (the divergent side grows without bound).
    The marked learning rates are told apart by dash pattern (legend), so close ones stay readable.
    """
    curves, dropped = finite_rows(curves, ["γ", "factor"])
    x_max = float(curves["γ"].max()) if not curves.empty else 2 * limit
    xs = alt.Scale(domain=[0, x_max], nice=False, zero=True)
    ys = alt.Scale(domain=[0, 1.6], nice=False, clamp=True)
    shade = pd.DataFrame({"a": [limit], "b": [x_max], "top": [1.58], "label": ["diverges"]})
    layers = [
        alt.Chart(shade).mark_rect(color=OKABE_ITO[3], opacity=0.12).encode(x=alt.X("a:Q", scale=xs), x2="b:Q"),
        alt.Chart(shade)
        .mark_text(align="left", baseline="top", dx=4, color=OKABE_ITO[3], fontSize=13)
        .encode(x=alt.X("a:Q", scale=xs), y=alt.Y("top:Q", scale=ys), text="label:N"),
        alt.Chart(pd.DataFrame({"one": [1.0]}))
        .mark_rule(color="#666666", strokeDash=[4, 3])
        .encode(y=alt.Y("one:Q", scale=ys)),
        alt.Chart(curves)
        .mark_line(clip=True)
        .encode(
            x=alt.X("γ:Q", scale=xs, axis=_axis("learning rate γ")),
            y=alt.Y("factor:Q", scale=ys, axis=_axis("per-step factor |1 − 2γαᵢ|")),
            color=alt.Color("curve:N", scale=alt.Scale(range=OKABE_ITO), legend=alt.Legend(title=None, orient="top")),
            strokeWidth=alt.condition(alt.datum.curve == "max (the rate)", alt.value(5), alt.value(2.5)),
            opacity=alt.condition(alt.datum.curve == "max (the rate)", alt.value(0.55), alt.value(1)),
            tooltip=["curve:N", alt.Tooltip("γ:Q", format=".4g"), alt.Tooltip("factor:Q", format=".4f")],
        ),
    ]
    if marks is not None and not marks.empty:
        marks, _ = finite_rows(marks, ["γ"])
        marks = marks.loc[marks["γ"] <= x_max]
        dashes = [[1, 0], [6, 4], [2, 3]]
        layers.append(
            alt.Chart(marks)
            .mark_rule(color="#262730", strokeWidth=2)
            .encode(
                x=alt.X("γ:Q", scale=xs),
                strokeDash=alt.StrokeDash(
                    "label:N",
                    scale=alt.Scale(domain=list(marks["label"]), range=dashes[: len(marks)]),
                    legend=alt.Legend(title=None, orient="bottom", labelLimit=300, symbolStrokeColor="#262730"),
                ),
                tooltip=["label:N", alt.Tooltip("γ:Q", format=".4g")],
            )
        )
    return alt.layer(*layers).properties(
        title=_title("Rate vs learning rate", dropped, "factor > 1: that direction grows every step"),
        height=height,
        width="container",
    )


def theory_vs_measured(df: pd.DataFrame, title: str = "Per eigen-direction: measured vs theory", height: int = 340):
    """``df[step, direction, kind, value]`` on a log y-axis: measured values as dots on top of the
    predictions, drawn as wide pale lines (where they agree, every dot sits on its line).

    ``kind`` is "measured" or a prediction label; one colour per ``direction``. Values ≤ 0
    (an exact landing on θ*) cannot be drawn on a log axis and are left out, and so are
    values below 1e-30 of the largest: rounding noise, not convergence.
    """
    df, dropped = finite_rows(df, ["step", "value"])
    if not df.empty:
        floor = 1e-30 * float(df["value"].max())
        df = df.loc[df["value"] > max(floor, 0)]
    ys = alt.Scale(type="log")
    color = alt.Color(
        "direction:N", scale=alt.Scale(range=OKABE_ITO), legend=alt.Legend(title=None, orient="top", labelLimit=300)
    )
    tips = ["direction:N", "kind:N", "step:Q", alt.Tooltip("value:Q", format=".4g")]
    measured = df.loc[df["kind"] == "measured"]
    predicted = df.loc[df["kind"] != "measured"]
    x = alt.X("step:Q", axis=_axis("step t"))
    y = alt.Y("value:Q", scale=ys, axis=_axis("squared distance uᵢ,ₜ²"))
    line = (
        alt.Chart(predicted)
        .mark_line(strokeWidth=8, opacity=0.35)
        .encode(x=x, y=y, color=color, detail="kind:N", tooltip=tips)
    )
    dots = alt.Chart(measured).mark_point(filled=True, size=28).encode(x=x, y=y, color=color, tooltip=tips)
    sub = "dots: GD (measured) · wide pale line: (1 − 2γαᵢ)^{2t}·uᵢ,₀² (theory)"
    return alt.layer(line, dots).properties(title=_title(title, dropped, sub), height=height, width="container")


def steps_vs_kappa(df: pd.DataFrame, title: str = "Steps to reach the tolerance vs κ", height: int = 420):
    """``df[κ, steps, series]`` on log–log axes; the series "measured (GD)" as dots, the others as lines."""
    df, dropped = finite_rows(df, ["κ", "steps"])
    df = df.loc[df["steps"] > 0]
    decades = [1, 3, 10, 30, 100, 300, 1000, 3000, 10000, 30000]
    x = alt.X(
        "κ:Q", scale=alt.Scale(type="log"), axis=alt.Axis(title="condition number κ = α_max/α_min", values=decades)
    )
    y = alt.Y("steps:Q", scale=alt.Scale(type="log"), axis=alt.Axis(title="GD steps", values=decades, format="~s"))
    color = alt.Color(
        "series:N", scale=alt.Scale(range=OKABE_ITO), legend=alt.Legend(title=None, orient="bottom", labelLimit=300)
    )
    tips = ["series:N", alt.Tooltip("κ:Q", format=".3g"), "steps:Q"]
    measured = df.loc[df["series"].str.startswith("measured")]
    lines = df.loc[~df["series"].str.startswith("measured")]
    return alt.layer(
        alt.Chart(lines).mark_line().encode(x=x, y=y, color=color, tooltip=tips),
        alt.Chart(measured).mark_point(filled=True, size=90).encode(x=x, y=y, color=color, tooltip=tips),
    ).properties(title=_title(title, dropped), height=height, width="container")


def tiled_heatmap(
    cells: pd.DataFrame,
    boundaries: list[int],
    n: int,
    title: str = "Hessian",
    subtitle: str | None = None,
    linear_below: float | None = None,
    height: int = 380,
) -> alt.LayerChart:
    """A matrix from ``cells[i, i2, j, j2, value, row, col]`` (rows [i, i2) × columns [j, j2) in
    parameter units), symmetric diverging colours around 0, black rules at the block ``boundaries``.

    With ``linear_below`` the colour scale is symmetric-log (linear within ±linear_below), so
    small entries are not washed out by a few large ones."""
    cells, dropped = finite_rows(cells, ["value"])
    vmax = float(cells["value"].abs().max()) if not cells.empty else 1.0
    vmax = vmax if vmax > 0 else 1.0
    xs = alt.Scale(domain=[0, n], nice=False, zero=True)
    ys = alt.Scale(domain=[0, n], nice=False, zero=True, reverse=True)  # row 0 at the top
    heat = (
        alt.Chart(cells)
        .mark_rect()
        .encode(
            x=alt.X("j:Q", scale=xs, axis=_axis("parameter j")),
            x2="j2:Q",
            y=alt.Y("i:Q", scale=ys, axis=_axis("parameter i")),
            y2="i2:Q",
            color=alt.Color(
                "value:Q",
                scale=alt.Scale(
                    type="symlog" if linear_below else "linear",
                    constant=linear_below or alt.Undefined,
                    scheme="blueorange",
                    domain=[-vmax, vmax],
                    domainMid=0,
                ),
                legend=alt.Legend(title=None, format=".1g"),
            ),
            tooltip=["row:N", "col:N", "i:Q", "j:Q", alt.Tooltip("value:Q", format=".4g")],
        )
    )
    layers: list[alt.Chart] = [heat]
    if boundaries:
        b = pd.DataFrame({"k": [float(k) for k in boundaries]})
        layers.append(alt.Chart(b).mark_rule(color="black").encode(x=alt.X("k:Q", scale=xs)))
        layers.append(alt.Chart(b).mark_rule(color="black").encode(y=alt.Y("k:Q", scale=ys)))
    return alt.layer(*layers).properties(title=_title(title, dropped, subtitle), height=height, width=height)


def ranked_spectrum(
    df: pd.DataFrame,
    title: str = "Hessian eigenvalues",
    linear_below: float | None = None,
    zero_below: float = 0.0,
    height: int = 340,
) -> alt.LayerChart:
    """Eigenvalues ``df[rank, eigenvalue, series]`` at given ranks (1 = largest) on a symmetric-log
    axis: linear within ±``linear_below``, logarithmic beyond, so small and negative values stay
    visible. Colour: sign (|λ| ≤ ``zero_below`` counts as ≈ 0, so rounding noise is not called
    negative); the first series as small filled dots, the others as large outlines drawn around them."""
    df, dropped = finite_rows(df, ["rank", "eigenvalue"])
    lam = df["eigenvalue"]
    df = df.assign(sign=np.where(lam.abs() <= zero_below, "≈ 0", np.where(lam < 0, "negative", "positive")))
    scale = alt.Scale(type="symlog", constant=linear_below) if linear_below else alt.Scale(type="symlog")
    series = list(dict.fromkeys(df["series"])) or [""]
    # powers of ten (both signs) inside the data's range: symlog's default ticks are too sparse
    lo, hi = (float(lam.min()), float(lam.max())) if not df.empty else (0.0, 1.0)
    k0 = int(np.floor(np.log10(linear_below))) if linear_below else 0
    k1 = int(np.ceil(np.log10(max(abs(lo), abs(hi), 1e-300))))
    ticks = [0.0] + [sgn * 10.0**k for k in range(k0 + 1, k1 + 1) for sgn in (1, -1) if lo <= sgn * 10.0**k <= hi]
    enc = dict(
        x=alt.X("rank:Q", axis=_axis("rank (1 = largest)"), scale=alt.Scale(nice=False)),
        y=alt.Y(
            "eigenvalue:Q",
            scale=scale,
            axis=alt.Axis(title="eigenvalue λ", values=ticks, format="~g", labelOverlap="greedy"),
        ),
        color=alt.Color(
            "sign:N",
            scale=alt.Scale(domain=["positive", "negative", "≈ 0"], range=[OKABE_ITO[0], OKABE_ITO[3], "#888888"]),
            legend=alt.Legend(title=None, orient="top"),
        ),
        shape=alt.Shape(
            "series:N",
            scale=alt.Scale(domain=series, range=["circle", "diamond", "square", "triangle-up"][: len(series)]),
            legend=alt.Legend(title=None, orient="bottom", labelLimit=400),
        ),
        tooltip=["series:N", "rank:Q", alt.Tooltip("eigenvalue:Q", format=".4g")],
    )
    first = df["series"] == series[0]
    return alt.layer(
        alt.Chart(df.loc[first]).mark_point(filled=True, size=40).encode(**enc),
        alt.Chart(df.loc[~first]).mark_point(filled=False, size=170, strokeWidth=2).encode(**enc),
    ).properties(
        title=_title(
            title, dropped, f"symmetric-log axis: linear within ±{linear_below:.0e}" if linear_below else None
        ),
        height=height,
        width="container",
    )


# --- BatchNorm & skip page ---


# Okabe–Ito without orange's near neighbour vermillion in the first four: "+ batch norm" (orange)
# and "+ both" (vermillion) were hard to tell apart on a projector (screenshots, 1280×720).
VARIANT_COLORS = [OKABE_ITO[i] for i in (0, 1, 2, 4, 3, 5, 6, 7)]


def _variant_color(series: str, order: list[str] | None, legend_columns: int | None = None) -> alt.Color:
    """One fixed Okabe–Ito colour per variant, in ``order`` (so every chart on the page agrees)."""
    scale = alt.Scale(domain=order, range=VARIANT_COLORS[: len(order)]) if order else alt.Scale(range=VARIANT_COLORS)
    legend = alt.Legend(title=None, orient="top", labelLimit=300, columns=legend_columns or alt.Undefined)
    return alt.Color(f"{series}:N", scale=scale, legend=legend)


def variant_lines(
    df: pd.DataFrame,
    x: str,
    y: str,
    series: str = "variant",
    order: list[str] | None = None,
    dash: str | None = None,
    log: bool = True,
    points: bool = True,
    title: str = "",
    x_title: str | None = None,
    y_title: str | None = None,
    legend_columns: int | None = None,
    height: int = 380,
) -> alt.Chart:
    """Lines of ``y`` against ``x``, one colour per ``series`` (in ``order``), dashed by ``dash``
    (no legend for the dashes: the caption says what they mean). ``legend_columns`` wraps the
    legend for narrow charts.

    On a log axis values ≤ 0 cannot be drawn: they are left out and counted in the subtitle.
    """
    df, dropped = finite_rows(df, [x, y])
    if log and not df.empty:
        bad = df[y] <= 0
        dropped += int(bad.sum())
        df = df.loc[~bad]
    y_axis = alt.Axis(title=y_title or y)
    if log and not df.empty and float(df[y].max()) > 1e4 * float(df[y].min()):
        y_axis = alt.Axis(title=y_title or y, format=".0e")
    enc = dict(
        x=alt.X(f"{x}:Q", axis=alt.Axis(title=x_title or x, tickMinStep=1 if x == "layer" else alt.Undefined)),
        y=alt.Y(f"{y}:Q", scale=alt.Scale(type="log") if log else alt.Scale(zero=False), axis=y_axis),
        color=_variant_color(series, order, legend_columns),
        tooltip=[alt.Tooltip(f"{series}:N"), alt.Tooltip(f"{x}:Q", format=".3g"), alt.Tooltip(f"{y}:Q", format=".4g")],
    )
    if dash and dash in df.columns:
        enc["strokeDash"] = alt.StrokeDash(f"{dash}:N", legend=None)
        enc["detail"] = f"{dash}:N"
        enc["tooltip"] = [alt.Tooltip(f"{dash}:N")] + enc["tooltip"]
    mark = alt.Chart(df).mark_line(point=alt.OverlayMarkDef(filled=True, size=30) if points else False)
    return mark.encode(**enc).properties(title=_title(title, dropped), height=height, width="container")


def _symlog_ticks(lo, hi, smallest: float = 1e-3) -> list[float]:
    """0 and the powers of ten ≥ ``smallest`` (both signs) inside [lo, hi]: symlog's own ticks are too sparse."""
    lo, hi = float(lo), float(hi)
    k0 = int(np.floor(np.log10(smallest)))
    k1 = int(np.ceil(np.log10(max(abs(lo), abs(hi), 1e-300))))
    return [0.0] + [s * 10.0**k for k in range(k0, k1 + 1) for s in (1, -1) if lo <= s * 10.0**k <= hi]


def top_eigenvalues_by_variant(
    df: pd.DataFrame, order: list[str], title: str = "Top Hessian eigenvalues", height: int = 360
) -> alt.Chart:
    """``df[variant, point, k, eigenvalue]``: the k largest eigenvalues per variant, one dot each,
    side by side per ``point`` (initialization / after training), on a symmetric-log axis."""
    df, dropped = finite_rows(df, ["eigenvalue"])
    lam = df["eigenvalue"] if not df.empty else pd.Series([0.0, 1.0])
    points = list(dict.fromkeys(df["point"])) if not df.empty else []
    return (
        alt.Chart(df)
        .mark_point(filled=True, size=70, opacity=0.9)
        .encode(
            x=alt.X("variant:N", sort=order, axis=alt.Axis(title=None, labelAngle=0)),
            xOffset=alt.XOffset("point:N", sort=points),
            y=alt.Y(
                "eigenvalue:Q",
                scale=alt.Scale(type="symlog"),
                axis=alt.Axis(title="eigenvalue λ", values=_symlog_ticks(lam.min(), lam.max()), format="~r"),
            ),
            color=alt.Color(
                "point:N",
                sort=points,
                scale=alt.Scale(range=[OKABE_ITO[5], OKABE_ITO[3]]),
                legend=alt.Legend(title=None, orient="top"),
            ),
            shape=alt.Shape("point:N", sort=points, legend=None),
            tooltip=["variant:N", "point:N", "k:Q", alt.Tooltip("eigenvalue:Q", format=".5g")],
        )
        .properties(title=_title(title, dropped), height=height, width="container")
    )


def sorted_spectra(
    df: pd.DataFrame, order: list[str], title: str = "All Hessian eigenvalues", height: int = 360
) -> alt.Chart:
    """``df[variant, rank, eigenvalue]``: every eigenvalue, largest first, one line per variant, on a
    symmetric-log axis, linear within ±10⁻³·max|λ| (so negative and ≈ 0 eigenvalues stay visible)."""
    df, dropped = finite_rows(df, ["rank", "eigenvalue"])
    lam = df["eigenvalue"] if not df.empty else pd.Series([0.0, 1.0])
    linear = float(10.0 ** np.floor(np.log10(max(float(lam.abs().max()), 1e-300) * 1e-3)))
    return (
        alt.Chart(df)
        .mark_line(point=alt.OverlayMarkDef(size=12, filled=True))
        .encode(
            x=alt.X("rank:Q", axis=_axis("rank (1 = largest)"), scale=alt.Scale(nice=False)),
            y=alt.Y(
                "eigenvalue:Q",
                scale=alt.Scale(type="symlog", constant=linear),
                axis=alt.Axis(title="eigenvalue λ", values=_symlog_ticks(lam.min(), lam.max(), linear), format="~r"),
            ),
            color=_variant_color("variant", order),
            tooltip=["variant:N", "rank:Q", alt.Tooltip("eigenvalue:Q", format=".4g")],
        )
        .properties(
            title=_title(title, dropped, f"symmetric-log axis: linear within ±{linear:g}"),
            height=height,
            width="container",
        )
    )


def block_norm_heatmap(
    cells: pd.DataFrame, groups: list[str], title: str, floor: float = 1e-3, height: int = 380
) -> alt.Chart:
    """``cells[row, col, relative, ‖H_ab‖_F]``: the layer-by-layer block norms ‖H_ab‖_F / max as a
    heatmap on a log colour scale from ``floor`` to 1 (shared by every variant's chart)."""
    cells, dropped = finite_rows(cells, ["relative"])
    cells = cells.assign(shown=cells["relative"].clip(lower=floor))
    axis = dict(sort=groups, axis=alt.Axis(title="layer", labelAngle=0, labelOverlap=True))
    return (
        alt.Chart(cells)
        .mark_rect()
        .encode(
            x=alt.X("col:O", **axis),
            y=alt.Y("row:O", **axis),
            color=alt.Color(
                "shown:Q",
                scale=alt.Scale(type="log", domain=[floor, 1.0], scheme=SEQUENTIAL, clamp=True),
                legend=alt.Legend(title="‖H_ab‖ / max", format="~g", orient="bottom", gradientLength=110),
            ),
            tooltip=[
                "row:N",
                "col:N",
                alt.Tooltip("‖H_ab‖_F:Q", format=".4g"),
                alt.Tooltip("relative:Q", format=".3g"),
            ],
        )
        .properties(title=_title(title, dropped), height=height, width="container")
    )


def slice_heatmap(
    grid: pd.DataFrame, title: str, domain: tuple[float, float], span: float, height: int = 380
) -> alt.LayerChart:
    """``grid[α, β, loss]`` (a regular grid) on a log colour scale with the given ``domain``
    (shared by the variants so equal colours mean equal losses), a cross at θ* (α = β = 0)."""
    grid, dropped = finite_rows(grid, ["α", "β", "loss"])
    grid = grid.loc[grid["loss"] > 0]
    a = np.sort(grid["α"].unique()) if not grid.empty else np.array([0.0, 1.0])
    step = float(a[1] - a[0]) if len(a) > 1 else 1.0
    half = step / 2
    grid = grid.assign(α0=grid["α"] - half, α1=grid["α"] + half, β0=grid["β"] - half, β1=grid["β"] + half)
    s = alt.Scale(domain=[-span - step / 2, span + step / 2], nice=False, zero=False)
    heat = (
        alt.Chart(grid)
        .mark_rect()
        .encode(
            x=alt.X("α0:Q", scale=s, axis=_axis("α (along d₁)")),
            x2="α1:Q",
            y=alt.Y("β0:Q", scale=s, axis=_axis("β (along d₂)")),
            y2="β1:Q",
            color=alt.Color(
                "loss:Q",
                scale=alt.Scale(type="log", domain=list(domain), scheme=SEQUENTIAL, clamp=True),
                legend=alt.Legend(title="loss", format="~g", orient="bottom", gradientLength=110),
            ),
            tooltip=[
                alt.Tooltip("α:Q", format=".2f"),
                alt.Tooltip("β:Q", format=".2f"),
                alt.Tooltip("loss:Q", format=".4g"),
            ],
        )
    )
    centre = (
        alt.Chart(pd.DataFrame({"α": [0.0], "β": [0.0]}))
        .mark_point(shape="cross", size=160, filled=True, color="#ffffff", stroke="#000000", strokeWidth=1)
        .encode(x=alt.X("α:Q", scale=s), y=alt.Y("β:Q", scale=s))
    )
    return alt.layer(heat, centre).properties(title=_title(title, dropped), height=height, width="container")


# --- Plateaus page ---

# Run colours that read on white (loss curves) and on viridis (maps, with a dark halo).
PLATEAU_RUN_COLORS = ["#E69F00", "#56B4E9", "#CC79A7", "#009E73", "#D55E00", "#0072B2", "#000000", "#999999"]

# Loss curves by init scale: zero init black, then blues → greens → oranges as σ grows.
PLATEAU_SIGMA_COLORS = ["#000000", "#56B4E9", "#0072B2", "#009E73", "#E69F00", "#D55E00", "#CC79A7"]


def _pl_run_color(series: str, order: list[str], legend: bool = True, palette: list[str] | None = None) -> alt.Color:
    palette = palette or PLATEAU_RUN_COLORS
    return alt.Color(
        f"{series}:N",
        scale=alt.Scale(domain=order, range=[palette[i % len(palette)] for i in range(len(order))]),
        legend=alt.Legend(title=None, orient="bottom", labelLimit=300, columns=min(len(order), 2)) if legend else None,
    )


def _pl_sig(values, digits: int = 4) -> np.ndarray:
    """Round to ``digits`` significant digits: the browser needs no more, and the JSON shrinks ~3×."""
    v = np.asarray(values, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        mag = np.where(np.isfinite(v) & (v != 0), np.floor(np.log10(np.abs(v))), 0.0)
    scale = 10.0 ** (digits - 1 - mag)
    return np.round(v * scale) / scale


def plateau_map(
    grid: pd.DataFrame,
    value: str,
    x: str = "w",
    y: str = "v",
    paths: pd.DataFrame | None = None,
    points: pd.DataFrame | None = None,
    run_order: list[str] | None = None,
    marks: str | None = None,
    log: bool = False,
    title: str = "",
    subtitle: str | None = None,
    height: int = 400,
    bands: int = 12,
    run_legend: bool = True,
) -> alt.LayerChart:
    """``grid[x, y, value]`` (cell centres of a regular grid) as a heatmap: quantile bands of
    viridis, or a log colour scale (``log=True``, for gradient norms). Cells where the boolean
    column ``marks`` is True are painted white; ``paths[run, step, x, y]`` are drawn in step
    order with a dark halo, one colour per run (``run_order``); ``points[x, y, label]`` as
    black-edged markers. Path points outside the grid are dropped (the map is never rescaled).
    ``run_legend=False`` leaves the run colours' legend to a neighbouring chart."""
    grid, dropped = finite_rows(grid, [x, y, value])
    if log:
        grid = grid.loc[grid[value] > 0]
    if grid.empty:
        raise ValueError("map grid has no finite values")
    xs, ys = np.sort(grid[x].unique()), np.sort(grid[y].unique())
    dx = float(xs[1] - xs[0]) if len(xs) > 1 else 1.0
    dy = float(ys[1] - ys[0]) if len(ys) > 1 else 1.0
    xdom = [float(xs[0] - dx / 2), float(xs[-1] + dx / 2)]
    ydom = [float(ys[0] - dy / 2), float(ys[-1] + dy / 2)]
    xs_ = alt.Scale(domain=xdom, nice=False, zero=False)
    ys_ = alt.Scale(domain=ydom, nice=False, zero=False)

    def cells(frame: pd.DataFrame) -> alt.Chart:
        # only centres and the value go to the browser; the cell edges are computed there
        slim = pd.DataFrame({x: _pl_sig(frame[x], 6), y: _pl_sig(frame[y], 6), value: _pl_sig(frame[value])})
        return (
            alt.Chart(slim)
            # 0.6 rather than 0.5 of a cell: neighbours overlap, so no anti-aliasing seams show
            .transform_calculate(_x0=f"datum['{x}'] - {0.6 * dx}", _x1=f"datum['{x}'] + {0.6 * dx}")
            .transform_calculate(_y0=f"datum['{y}'] - {0.6 * dy}", _y1=f"datum['{y}'] + {0.6 * dy}")
            .encode(
                x=alt.X("_x0:Q", scale=xs_, axis=_axis(x)),
                x2=alt.X2("_x1:Q"),
                y=alt.Y("_y0:Q", scale=ys_, axis=_axis(y)),
                y2=alt.Y2("_y1:Q"),
                tooltip=[
                    alt.Tooltip(f"{x}:Q", format=".3f"),
                    alt.Tooltip(f"{y}:Q", format=".3f"),
                    alt.Tooltip(f"{value}:Q", format=".4g"),
                ],
            )
        )

    if log:
        color_scale = alt.Scale(type="log", scheme=SEQUENTIAL)
        legend = alt.Legend(title=value, format=".0e", orient="right")
    else:
        color_scale = alt.Scale(type="quantile", scheme=alt.SchemeParams(SEQUENTIAL, count=bands))
        legend = alt.Legend(title=value, format=".3g", orient="right")
    layers: list[alt.Chart] = [
        cells(grid).mark_rect().encode(color=alt.Color(f"{value}:Q", scale=color_scale, legend=legend))
    ]
    if marks and marks in grid.columns and grid[marks].any():
        layers.append(cells(grid.loc[grid[marks].astype(bool)]).mark_rect(color="#ffffff", opacity=0.9))
    if paths is not None and not paths.empty:
        paths, d = finite_rows(paths, [x, y])
        dropped += d
        paths = paths.loc[paths[x].between(*xdom) & paths[y].between(*ydom)]
        paths = paths.assign(**{x: _pl_sig(paths[x], 5), y: _pl_sig(paths[y], 5)})
        order = run_order or list(dict.fromkeys(paths["run"]))
        paths = paths[["run", "step", x, y]]
        line = alt.Chart().encode(
            x=alt.X(f"{x}:Q", scale=xs_),
            y=alt.Y(f"{y}:Q", scale=ys_),
            order=alt.Order("step:Q"),
            detail=alt.Detail("run:N"),
            tooltip=[
                alt.Tooltip("run:N"),
                alt.Tooltip("step:Q"),
                alt.Tooltip(f"{x}:Q", format=".3f"),
                alt.Tooltip(f"{y}:Q", format=".3f"),
            ],
        )
        halo = line.mark_line(color="#000000", strokeWidth=5, opacity=0.6)
        coloured = line.mark_line(strokeWidth=2.5).encode(color=_pl_run_color("run", order, legend=run_legend))
        layers.append(alt.layer(halo, coloured, data=paths))  # one copy of the paths for both
    if points is not None and not points.empty:
        points, d = finite_rows(points, [x, y])
        dropped += d
        labels = list(dict.fromkeys(points["label"]))  # fixed shapes, whichever markers are in view
        # a marker outside the map would widen the chart past its container (and clip its title)
        points = points.loc[points[x].between(*xdom) & points[y].between(*ydom)]
    if points is not None and not points.empty:
        layers.append(
            alt.Chart(points)
            .mark_point(size=150, filled=True, stroke="black", strokeWidth=1.5, fill="#ffffff")
            .encode(
                x=alt.X(f"{x}:Q", scale=xs_),
                y=alt.Y(f"{y}:Q", scale=ys_),
                shape=alt.Shape(
                    "label:N",
                    scale=alt.Scale(domain=labels),
                    legend=alt.Legend(title=None, orient="bottom", labelLimit=220),
                ),
                tooltip=[
                    alt.Tooltip("label:N"),
                    alt.Tooltip(f"{x}:Q", format=".3f"),
                    alt.Tooltip(f"{y}:Q", format=".3f"),
                ],
            )
        )
    chart = alt.layer(*layers).resolve_scale(color="independent")
    return chart.properties(title=_title(title, dropped, subtitle), height=height, width="container")


def run_lines(
    df: pd.DataFrame,
    y: str,
    series: str = "run",
    order: list[str] | None = None,
    x: str = "step",
    log: bool = True,
    bands: pd.DataFrame | None = None,
    rule: float | None = None,
    rule_label: str = "",
    title: str = "",
    subtitle: str | None = None,
    y_title: str | None = None,
    palette: list[str] | None = None,
    height: int = 320,
) -> alt.LayerChart:
    """``df[y]`` against ``df[x]``, one line per ``series`` in the colours of ``plateau_map``
    (or of ``palette``).

    ``bands[series, start, end]`` mark step ranges [start, end) (plateaus) as bars along the top
    edge, one row per series in its colour; ``rule`` draws a dashed horizontal line (a threshold).
    On a log axis, values ≤ 0 are dropped.
    """
    df, dropped = finite_rows(df, [x, y])
    if log:
        dropped += int((df[y] <= 0).sum())
        df = df.loc[df[y] > 0]
    order = order or list(dict.fromkeys(df[series]))
    df = pd.DataFrame({series: df[series], x: df[x], y: _pl_sig(df[y])})  # only what is drawn goes to the browser
    yscale = alt.Scale(type="log" if log else "linear", zero=False)
    layers: list[alt.Chart] = []
    if bands is not None and not bands.empty:
        row = {name: i for i, name in enumerate(order)}
        bands = bands.assign(_top=[3 + 9 * row.get(n, 0) for n in bands[series]])
        layers.append(
            alt.Chart(bands)
            .transform_calculate(_bottom="datum._top + 7")
            .mark_rect(opacity=0.9)
            .encode(
                x=alt.X("start:Q"),
                x2=alt.X2("end:Q"),
                y=alt.Y("_top:Q", scale=None, axis=None),
                y2=alt.Y2("_bottom:Q"),
                color=_pl_run_color(series, order, legend=False, palette=palette),
                tooltip=[
                    alt.Tooltip(f"{series}:N"),
                    alt.Tooltip("start:Q", title="plateau from step"),
                    alt.Tooltip("end:Q", title="to (excl.)"),
                ],
            )
        )
    layers.append(
        alt.Chart(df)
        .mark_line()
        .encode(
            x=alt.X(f"{x}:Q", axis=_axis(x)),
            y=alt.Y(f"{y}:Q", scale=yscale, axis=_axis(y_title or y)),
            color=_pl_run_color(series, order, palette=palette),
            tooltip=[alt.Tooltip(f"{series}:N"), alt.Tooltip(f"{x}:Q"), alt.Tooltip(f"{y}:Q", format=".4g")],
        )
    )
    if rule is not None and np.isfinite(rule) and (rule > 0 or not log):
        r = pd.DataFrame({y: [rule], "label": [rule_label]})
        layers.append(
            alt.Chart(r).mark_rule(strokeDash=[6, 4], color="#333333").encode(y=alt.Y(f"{y}:Q", scale=yscale))
        )
        if rule_label:
            layers.append(
                alt.Chart(r)
                .mark_text(align="left", dx=4, dy=-8, color="#333333", fontSize=13)
                .encode(x=alt.value(0), y=alt.Y(f"{y}:Q", scale=yscale), text=alt.Text("label:N"))
            )
    return alt.layer(*layers).properties(title=_title(title, dropped, subtitle), height=height, width="container")


def activation_histograms(hist: pd.DataFrame, columns: int = 4, width: int = 165, height: int = 170) -> alt.FacetChart:
    """Per-layer histograms ``hist[layer, lo, hi, share, saturated]`` of tanh outputs in [−1, 1];
    bins with |h| > 0.99 (saturated: tanh' < 0.02) in vermillion."""
    hist, _ = finite_rows(hist, ["lo", "hi", "share"])
    order = list(dict.fromkeys(hist["layer"]))
    return (
        alt.Chart(hist)
        .mark_rect()
        .encode(
            x=alt.X("lo:Q", scale=alt.Scale(domain=[-1, 1]), axis=_axis("h = tanh(z)")),
            x2=alt.X2("hi:Q"),
            y=alt.Y("share:Q", axis=alt.Axis(title="share of outputs", format="%")),
            color=alt.Color(
                "saturated:N",
                scale=alt.Scale(domain=["no", "yes (|h| > 0.99)"], range=[OKABE_ITO[0], OKABE_ITO[3]]),
                legend=alt.Legend(title="saturated", orient="bottom"),
            ),
            tooltip=[
                alt.Tooltip("layer:N"),
                alt.Tooltip("lo:Q", format=".2f"),
                alt.Tooltip("hi:Q", format=".2f"),
                alt.Tooltip("share:Q", format=".1%"),
            ],
        )
        .properties(width=width, height=height)
        .facet(facet=alt.Facet("layer:N", sort=order, title=None, header=alt.Header(labelFontSize=14)), columns=columns)
    )


def saturation_vs_scale(df: pd.DataFrame, sigma: float, title: str = "Saturated units at init vs σ", height: int = 300):
    """``df[σ, layer, saturated]`` (share in [0, 1]) on a log σ axis, a dashed rule at your σ."""
    df, dropped = finite_rows(df, ["σ", "saturated"])
    order = list(dict.fromkeys(df["layer"]))
    lines = (
        alt.Chart(df)
        .mark_line(point=True)
        .encode(
            x=alt.X("σ:Q", scale=alt.Scale(type="log"), axis=_axis("init scale σ (weights ~ N(0, σ²/fan_in))")),
            y=alt.Y(
                "saturated:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(title="share with |h| > 0.99", format="%")
            ),
            color=alt.Color(
                "layer:N",
                sort=order,
                scale=alt.Scale(scheme=SEQUENTIAL),
                legend=alt.Legend(title=None, orient="bottom", columns=2),
            ),
            tooltip=[
                alt.Tooltip("layer:N"),
                alt.Tooltip("σ:Q", format=".3g"),
                alt.Tooltip("saturated:Q", format=".1%"),
            ],
        )
    )
    layers = [lines]
    if sigma > 0:
        layers.append(
            alt.Chart(pd.DataFrame({"σ": [sigma]})).mark_rule(strokeDash=[6, 4], color="#333333").encode(x=alt.X("σ:Q"))
        )
    return alt.layer(*layers).properties(
        title=_title(title, dropped, f"dashed: your σ = {sigma:g}"), height=height, width="container"
    )


def restart_strip(strip: pd.DataFrame, title: str = "Final loss of each restart", height: int = 300) -> alt.Chart:
    """``strip[restart, final E, kept]``: one dot per restart on a log axis; the kept (best) one
    large, in vermillion."""
    strip, dropped = finite_rows(strip, ["final E"])
    strip = strip.loc[strip["final E"] > 0]
    rng = np.random.default_rng(0)  # fixed vertical jitter so equal losses stay visible
    strip = strip.assign(jitter=rng.uniform(-1, 1, len(strip)))
    return (
        alt.Chart(strip)
        .mark_circle(opacity=0.9, stroke="black", strokeWidth=0.8)
        .encode(
            x=alt.X("final E:Q", scale=alt.Scale(type="log"), axis=_axis("final E (log)")),
            y=alt.Y("jitter:Q", scale=alt.Scale(domain=[-1.6, 1.6]), axis=None),
            color=alt.Color(
                "kept:N",
                scale=alt.Scale(domain=["best (kept)", "discarded"], range=[OKABE_ITO[3], OKABE_ITO[0]]),
                legend=alt.Legend(title=None, orient="top"),
            ),
            size=alt.Size(
                "kept:N", scale=alt.Scale(domain=["best (kept)", "discarded"], range=[420, 110]), legend=None
            ),
            tooltip=[alt.Tooltip("restart:N"), alt.Tooltip("final E:Q", format=".4g"), alt.Tooltip("kept:N")],
        )
        .properties(title=_title(title, dropped), height=height, width="container")
    )


def restart_curves(curves: pd.DataFrame, title: str = "Loss curves of the restarts", height: int = 300) -> alt.Chart:
    """``curves[restart, step, E, kept]``: thin blue lines, the kept run thick vermillion (log y)."""
    curves, dropped = finite_rows(curves, ["step", "E"])
    curves = curves.loc[curves["E"] > 0]
    return (
        alt.Chart(curves)
        .mark_line()
        .encode(
            x=alt.X("step:Q", axis=_axis("step")),
            y=alt.Y("E:Q", scale=alt.Scale(type="log"), axis=_axis("E (cross-entropy, nats)")),
            detail=alt.Detail("restart:N"),
            color=alt.Color(
                "kept:N",
                scale=alt.Scale(domain=["best (kept)", "discarded"], range=[OKABE_ITO[3], OKABE_ITO[0]]),
                legend=None,
            ),
            opacity=alt.Opacity(
                "kept:N", scale=alt.Scale(domain=["best (kept)", "discarded"], range=[1.0, 0.45]), legend=None
            ),
            strokeWidth=alt.StrokeWidth(
                "kept:N", scale=alt.Scale(domain=["best (kept)", "discarded"], range=[4, 1.5]), legend=None
            ),
            tooltip=[alt.Tooltip("restart:N"), alt.Tooltip("step:Q"), alt.Tooltip("E:Q", format=".4g")],
        )
        .properties(title=_title(title, dropped), height=height, width="container")
    )


def sweep_points(df: pd.DataFrame, x: str, title: str, height: int = 300) -> alt.LayerChart:
    """``df[x, seed, final E]``: one dot per seed, a line through the medians (log y; x ordinal)."""
    df, dropped = finite_rows(df, [x, "final E"])
    df = df.loc[df["final E"] > 0]
    med = df.groupby(x, as_index=False)["final E"].median()
    xenc = alt.X(f"{x}:O", axis=alt.Axis(title=x, labelAngle=0))
    yenc = alt.Y("final E:Q", scale=alt.Scale(type="log"), axis=_axis("final E (log)"))
    dots = (
        alt.Chart(df)
        .mark_circle(size=70, opacity=0.6, color=OKABE_ITO[0])
        .encode(
            x=xenc,
            y=yenc,
            tooltip=[alt.Tooltip(f"{x}:O"), alt.Tooltip("seed:N"), alt.Tooltip("final E:Q", format=".4g")],
        )
    )
    line = (
        alt.Chart(med)
        .mark_line(point=alt.OverlayMarkDef(size=60, filled=True), color=OKABE_ITO[3])
        .encode(x=xenc, y=yenc, tooltip=[alt.Tooltip(f"{x}:O"), alt.Tooltip("final E:Q", title="median", format=".4g")])
    )
    return alt.layer(dots, line).properties(
        title=_title(title, dropped, "dots: seeds · line: median"), height=height, width="container"
    )


def vega_specs(*built, presenter: bool = False, high_contrast: bool = False) -> list[dict]:
    """Vega-Lite dicts of the charts, styled exactly as ``styled`` would (its ``config`` block is
    computed once on an empty chart and attached: ``styled`` deep-copies a chart six times). A page
    caches these dicts beside its numbers so that a cached rerun does not rebuild Altair charts."""
    with _ALTAIR:  # Altair's default theme and data transformer, not another session's (see chart_spec)
        config = styled(alt.Chart(), presenter=presenter, high_contrast=high_contrast).to_dict(validate=False)["config"]
        specs = []
        for chart in built:
            spec = chart.to_dict(validate=False)
            spec["config"] = config
            specs.append(spec)
    return specs


# --- specs as sent to the browser, and the data behind them ---

# Altair's data transformer and theme are process-wide settings: every to_dict() of this module
# holds this lock, so a page being converted in one session never sees another session's settings.
_ALTAIR = threading.Lock()


def _by_name(data, datasets: dict[str, pd.DataFrame]) -> dict[str, str]:
    """Altair data transformer: keep the frame (by name in ``datasets``) instead of JSON records.
    A frame shared by several layers is kept once."""
    for name, kept in datasets.items():
        if kept is data:
            return {"name": name}
    name = f"frame_{len(datasets)}"  # not "data_k": Vega-Lite names its own sources so
    datasets[name] = data
    return {"name": name}


alt.data_transformers.register("optlab_by_name", _by_name)


@functools.lru_cache(maxsize=4)
def _style_config(presenter: bool, high_contrast: bool) -> str:
    """``styled``'s config block as JSON (a fresh dict per caller: Streamlit may edit a spec)."""
    return json.dumps(styled(alt.Chart(), presenter=presenter, high_contrast=high_contrast).config.to_dict())


def chart_spec(chart, presenter: bool = False, high_contrast: bool = False) -> dict:
    """The Vega-Lite dict of ``styled(chart)`` as Streamlit's ``st.altair_chart`` would send it, at a
    fraction of the cost: no schema validation (the builders are tested through ``to_dict()``), the
    style block computed once, and every DataFrame left a frame under ``spec["datasets"]`` by name
    (Streamlit sends those as Arrow, not as JSON records). No theme defaults either, as in Streamlit.
    ``spec["datasets"]`` is also the chart's data as it is: see ``csv_text``."""
    datasets: dict[str, pd.DataFrame] = {}
    # As Streamlit converts a chart: the frames by name through a data transformer (types are
    # inferred from the frames), theme "none"; but without validation.
    with _ALTAIR, alt.data_transformers.enable("optlab_by_name", datasets=datasets), alt.theme.enable("none"):
        spec = chart.to_dict(validate=False)
    own = chart.config.to_dict() if isinstance(chart.config, alt.SchemaBase) else {}
    spec["config"] = {**own, **json.loads(_style_config(presenter, high_contrast))}
    frames = {name: df.reset_index(drop=True) for name, df in datasets.items()}
    if frames:  # beside any inline values Altair gathered there as records
        spec["datasets"] = {**spec.get("datasets", {}), **frames}
    return spec


def chart_frames(spec: dict) -> dict[str, pd.DataFrame]:
    """The data of a chart's spec (``chart_spec``, ``vega_specs``, ``nonconvex_specs``), by dataset name."""
    return {
        name: rows if isinstance(rows, pd.DataFrame) else pd.DataFrame.from_records(rows)
        for name, rows in (spec.get("datasets") or {}).items()
    }


def csv_text(spec: dict) -> str:
    """The chart's data as CSV: its one frame as it is, or several stacked with a first column
    ``dataset`` naming the frame each row comes from (columns a frame lacks are left empty)."""
    frames = chart_frames(spec)
    if not frames:
        return ""
    if len(frames) == 1:
        return next(iter(frames.values())).to_csv(index=False)
    # object columns: an integer column stays integer where another frame has no such column
    stacked = pd.concat([df.astype(object).assign(dataset=name) for name, df in frames.items()], ignore_index=True)
    return stacked[["dataset", *[c for c in stacked.columns if c != "dataset"]]].to_csv(index=False)


def svg_text(spec: dict, width: int = 720) -> str:
    """The chart as SVG, drawn offline by vl-convert (Vega in an embedded JS engine; its first call
    in a process takes ~2 s, later ones ~0.3 s). ``width="container"`` becomes ``width`` px; the
    fonts and colours are this module's (``styled``), not the Streamlit theme's."""
    import vl_convert

    spec = dict(spec)
    frames = chart_frames(spec)
    spec["datasets"] = {k: json.loads(df.to_json(orient="records", double_precision=15)) for k, df in frames.items()}
    if spec.get("width") == "container":
        spec["width"] = width
    return vl_convert.vegalite_to_svg(spec)
