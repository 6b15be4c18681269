"""Chart builders of the Non-convexity page: a DataFrame in, an ``alt.Chart`` out (no streamlit, no models)."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from core.charts.base import OKABE_ITO, _axis, finite_rows, vega_specs
from core.i18n import t

CRITICAL_SHAPES = {"minimum": "circle", "saddle": "cross", "maximum": "triangle-up", "degenerate": "diamond"}
CRITICAL_COLOURS = {
    "minimum": OKABE_ITO[2],
    "saddle": OKABE_ITO[3],
    "maximum": OKABE_ITO[4],
    "degenerate": OKABE_ITO[1],
}


def _title(text: str, dropped: int = 0, subtitle: str | None = None) -> alt.TitleParams:
    """Like ``base._title``, its note on dropped values in the reader's language."""
    lines = [subtitle] if subtitle else []
    if dropped:
        lines.append(t("nonconvex.chart.dropped", n=dropped))
    return alt.TitleParams(text, subtitle=lines or alt.Undefined, anchor="start")


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
    title: str | None = None,
) -> alt.LayerChart:
    """The error surface E(w, v) in level bands, every GD run's path on it, critical points and starts.

    ``grid[w, v, E, lmin]`` (a regular grid; ``lmin`` the smallest Hessian eigenvalue there),
    ``paths[run, label, step, next_step, w, v, E, final_E, main]``, ``markers[w, v, kind, E, λ₁, λ₂]``
    (optional ``markers.name``: the shown name of each kind; ``kind`` picks the shape and colour).
    Clicking a cell selects it (selection ``pick``, fields w and v: the page starts GD there).
    The parameter ``show_step`` (a slider under the chart, run in the browser) shows each path
    up to that step and marks where every run is at that step. Paths are clipped to the map.
    """
    p, q = names
    title = title if title is not None else t("nonconvex.chart.map_title")
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
        bind=alt.binding_range(min=0, max=int(steps), step=int(stride), name=t("nonconvex.chart.step_slider")),
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
                alt.Tooltip("lmin:Q", title=t("nonconvex.chart.smallest_eig"), format=".3g"),
            ],
        )
        .add_params(pick)
    )
    paths, d = finite_rows(paths, ["w", "v", "E"])
    dropped += d
    run_tooltip = [
        alt.Tooltip("label:N", title=t("nonconvex.chart.run")),
        alt.Tooltip("step:Q", title=t("nonconvex.chart.step")),
        alt.Tooltip("E:Q", format=".4g"),
        alt.Tooltip("final_E:Q", title=t("nonconvex.chart.final_E"), format=".4g"),
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
            title=t("nonconvex.chart.final_E_legend"),
            format=".3g",
            orient="bottom",
            direction="horizontal",
            gradientLength=150,
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
    if "name" not in markers.columns:
        markers = markers.assign(name=markers["kind"])
    shown = dict(zip(markers["kind"], markers["name"]))  # the legend shows the names, in the kinds' order
    kinds_legend = alt.Legend(title=None, orient="top", direction="horizontal")  # one legend: shape and fill
    eig_tips = [alt.Tooltip(f"{c}:Q", format=".4g") for c in ("λ₁", "λ₂") if c in markers.columns]
    points = (
        alt.Chart(markers)
        .mark_point(clip=True, filled=True, size=220, stroke="black", strokeWidth=1.5, opacity=1)
        .encode(
            x=X(),
            y=Y(),
            shape=alt.Shape(
                "name:N",
                scale=alt.Scale(domain=[shown[k] for k in kinds], range=[shapes[k] for k in kinds]),
                legend=kinds_legend,
            ),
            fill=alt.Fill(
                "name:N",
                scale=alt.Scale(domain=[shown[k] for k in kinds], range=[colours[k] for k in kinds]),
                legend=kinds_legend,
            ),
            tooltip=[
                alt.Tooltip("name:N", title=t("nonconvex.chart.point")),
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
                    t("nonconvex.chart.map_subtitle"),
                    t("nonconvex.chart.map_subtitle2")
                    + (t("nonconvex.chart.map_dropped", n=dropped) if dropped else ""),
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
    title: str | None = None,
) -> alt.LayerChart:
    """``grid[w, v, lmin]`` on a diverging scale centred at 0: orange where E curves down
    in some direction (λ_min < 0, locally non-convex), blue where it is locally convex."""
    p, q = names
    title = title if title is not None else t("nonconvex.chart.curvature_title")
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
        at = pd.DataFrame({"w": [worst[0]], "v": [worst[1]], "what": [t("nonconvex.chart.worst")]})
        layers.append(
            alt.Chart(at)
            .mark_point(shape="cross", size=260, filled=True, color="black", stroke="white", strokeWidth=1)
            .encode(
                x=alt.X("w:Q", scale=xs),
                y=alt.Y("v:Q", scale=ys),
                tooltip=[alt.Tooltip("what:N", title=t("nonconvex.chart.point"))],
            )
        )
    return alt.layer(*layers).properties(title=_title(title, dropped), height=height, width="container")


def chord_slice(df: pd.DataFrame, model: str, height: int = 280, name: str | None = None) -> alt.LayerChart:
    """E along a segment θ(α) = (1−α)θ_a + αθ_b and its chord between α = 0 and 1, for one ``model``.

    ``df[model, alpha, E, chord]`` (chord NaN outside [0, 1]); ``name`` is the model's shown name
    (default: ``model``). Where E rises above the chord
    (vermillion band) the function is not convex; a convex function stays on or below every chord.
    """
    part, dropped = finite_rows(df.loc[df["model"] == model], ["alpha", "E"])
    chord = part.dropna(subset=["chord"])
    above = chord.assign(top=np.maximum(chord["E"], chord["chord"]))
    x = alt.X("alpha:Q", axis=_axis(t("nonconvex.chart.alpha")))
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
        .encode(x=x, y="chord:Q", tooltip=[alt.Tooltip("chord:Q", title=t("nonconvex.chart.chord"), format=".4g")])
    )
    ends = alt.Chart(chord.iloc[[0, -1]]).mark_point(filled=True, color="black", size=70).encode(x=x, y="chord:Q")
    rise = float((chord["E"] - chord["chord"]).max()) if not chord.empty else float("nan")
    verdict = t("nonconvex.chart.rises") if rise > 1e-12 else t("nonconvex.chart.stays")
    return alt.layer(band, curve, line, ends).properties(
        title=_title(
            t("nonconvex.chart.slice_title", model=name or model, verdict=verdict),
            dropped,
            t("nonconvex.chart.slice_subtitle", rise=rise),
        ),
        height=height,
        width="container",
    )


def nonconvex_specs(*built, presenter: bool = False, high_contrast: bool = False) -> list[dict]:
    """``vega_specs`` of this page's charts (frames by name under ``datasets``), drawn on canvas."""
    specs = vega_specs(*built, presenter=presenter, high_contrast=high_contrast)
    for spec in specs:
        # canvas, not SVG: the map alone has 6,561 cells (Streamlit picks canvas itself only for Altair charts)
        spec["usermeta"] = {"embedOptions": {"renderer": "canvas"}}
    return specs
