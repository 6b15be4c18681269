"""Chart builders of the Plateaus page: a DataFrame in, an ``alt.Chart`` out (no streamlit, no models)."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from core.charts.base import OKABE_ITO, SEQUENTIAL, _axis, _title, finite_rows
from core.i18n import t

# Run colours that read on white (loss curves) and on viridis (maps, with a dark halo).
PLATEAU_RUN_COLORS = ["#E69F00", "#56B4E9", "#CC79A7", "#009E73", "#D55E00", "#0072B2", "#000000", "#999999"]

# Loss curves by init scale: zero init black, then blues → greens → oranges as σ grows.
PLATEAU_SIGMA_COLORS = ["#000000", "#56B4E9", "#0072B2", "#009E73", "#E69F00", "#D55E00", "#CC79A7"]


# Catalogue keys of the shown names of data columns named by English words (tooltips, axes);
# the columns keep their names (the CSV export). Symbols (E, σ, w, θ₁) are shown as they are.
_PL_FIELDS = {
    "run": "plateaus.chart.field.run",
    "label": "plateaus.chart.field.label",
    "restart": "plateaus.chart.field.restart",
    "kept": "plateaus.chart.field.kept",
    "layer": "plateaus.chart.field.layer",
    "seed": "plateaus.chart.field.seed",
    "final E": "plateaus.chart.field.final_E",
    "share": "plateaus.chart.field.share",
    "saturated": "plateaus.chart.saturated",
    "lo": "plateaus.chart.field.lo",
    "hi": "plateaus.chart.field.hi",
    "step": "plateaus.chart.step",
    "width": "plateaus.restarts.width_axis",
    "depth": "plateaus.restarts.depth_axis",
    "schedule": "plateaus.schedules.table.schedule",
}


def _pl_field(name: str) -> str:
    """The shown name of data column ``name``."""
    return t(_PL_FIELDS[name]) if name in _PL_FIELDS else name


def _pl_tip(shorthand: str, **kw) -> alt.Tooltip:
    """A tooltip whose title is the column's shown name (unless ``title`` is given)."""
    field = shorthand.rsplit(":", 1)[0]
    kw.setdefault("title", _pl_field(field))
    return alt.Tooltip(shorthand, **kw)


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
                x=alt.X("_x0:Q", scale=xs_, axis=_axis(_pl_field(x))),
                x2=alt.X2("_x1:Q"),
                y=alt.Y("_y0:Q", scale=ys_, axis=_axis(_pl_field(y))),
                y2=alt.Y2("_y1:Q"),
                tooltip=[
                    _pl_tip(f"{x}:Q", format=".3f"),
                    _pl_tip(f"{y}:Q", format=".3f"),
                    _pl_tip(f"{value}:Q", format=".4g"),
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
                _pl_tip("run:N"),
                _pl_tip("step:Q"),
                _pl_tip(f"{x}:Q", format=".3f"),
                _pl_tip(f"{y}:Q", format=".3f"),
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
                    _pl_tip("label:N"),
                    _pl_tip(f"{x}:Q", format=".3f"),
                    _pl_tip(f"{y}:Q", format=".3f"),
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
    x_title: str | None = None,
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
                    _pl_tip(f"{series}:N"),
                    _pl_tip("start:Q", title=t("plateaus.chart.plateau_from")),
                    _pl_tip("end:Q", title=t("plateaus.chart.plateau_to")),
                ],
            )
        )
    layers.append(
        alt.Chart(df)
        .mark_line()
        .encode(
            x=alt.X(f"{x}:Q", axis=_axis(x_title or _pl_field(x))),
            y=alt.Y(f"{y}:Q", scale=yscale, axis=_axis(y_title or y)),
            color=_pl_run_color(series, order, palette=palette),
            tooltip=[_pl_tip(f"{series}:N"), _pl_tip(f"{x}:Q"), _pl_tip(f"{y}:Q", format=".4g")],
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
                .mark_text(align="left", dx=4, dy=-8, color="#333333")
                .encode(x=alt.value(0), y=alt.Y(f"{y}:Q", scale=yscale), text=alt.Text("label:N"))
            )
    return alt.layer(*layers).properties(title=_title(title, dropped, subtitle), height=height, width="container")


def activation_histograms(hist: pd.DataFrame, columns: int = 4, width: int = 165, height: int = 170) -> alt.FacetChart:
    """Per-layer histograms ``hist[layer, lo, hi, share, saturated]`` of tanh outputs in [−1, 1];
    bins with |h| > 0.99 (saturated: tanh' < 0.02) in vermillion."""
    hist, _ = finite_rows(hist, ["lo", "hi", "share"])
    order = list(dict.fromkeys(hist["layer"]))
    no_yes = [t("plateaus.init.hist_no"), t("plateaus.init.hist_yes")]  # the values of hist["saturated"]
    return (
        alt.Chart(hist)
        .mark_rect()
        .encode(
            x=alt.X("lo:Q", scale=alt.Scale(domain=[-1, 1]), axis=_axis("h = tanh(z)")),
            x2=alt.X2("hi:Q"),
            y=alt.Y("share:Q", axis=alt.Axis(title=t("plateaus.chart.share_outputs"), format="%")),
            color=alt.Color(
                "saturated:N",
                scale=alt.Scale(domain=no_yes, range=[OKABE_ITO[0], OKABE_ITO[3]]),
                legend=alt.Legend(title=t("plateaus.chart.saturated"), orient="bottom"),
            ),
            tooltip=[
                _pl_tip("layer:N"),
                _pl_tip("lo:Q", format=".2f"),
                _pl_tip("hi:Q", format=".2f"),
                _pl_tip("share:Q", format=".1%"),
            ],
        )
        .properties(width=width, height=height)
        .facet(facet=alt.Facet("layer:N", sort=order, title=None, header=alt.Header(labelFontSize=14)), columns=columns)
    )


def saturation_vs_scale(df: pd.DataFrame, sigma: float, title: str | None = None, height: int = 300):
    """``df[σ, layer, saturated]`` (share in [0, 1]) on a log σ axis, a dashed rule at your σ."""
    df, dropped = finite_rows(df, ["σ", "saturated"])
    title = title or t("plateaus.chart.sat_title")
    order = list(dict.fromkeys(df["layer"]))
    lines = (
        alt.Chart(df)
        .mark_line(point=True)
        .encode(
            x=alt.X("σ:Q", scale=alt.Scale(type="log"), axis=_axis(t("plateaus.chart.sigma_axis"))),
            y=alt.Y(
                "saturated:Q",
                scale=alt.Scale(domain=[0, 1]),
                axis=alt.Axis(title=t("plateaus.chart.share_saturated"), format="%"),
            ),
            color=alt.Color(
                "layer:N",
                sort=order,
                scale=alt.Scale(scheme=SEQUENTIAL),
                legend=alt.Legend(title=None, orient="bottom", columns=2),
            ),
            tooltip=[
                _pl_tip("layer:N"),
                _pl_tip("σ:Q", format=".3g"),
                _pl_tip("saturated:Q", format=".1%"),
            ],
        )
    )
    layers = [lines]
    if sigma > 0:
        layers.append(
            alt.Chart(pd.DataFrame({"σ": [sigma]})).mark_rule(strokeDash=[6, 4], color="#333333").encode(x=alt.X("σ:Q"))
        )
    return alt.layer(*layers).properties(
        title=_title(title, dropped, t("plateaus.chart.your_sigma", sigma=sigma)), height=height, width="container"
    )


def _pl_kept() -> list[str]:
    """The values of the ``kept`` column: the best restart first, then the discarded ones."""
    return [t("plateaus.restarts.kept"), t("plateaus.restarts.discarded")]


def restart_strip(strip: pd.DataFrame, title: str | None = None, height: int = 300) -> alt.Chart:
    """``strip[restart, final E, kept]``: one dot per restart on a log axis; the kept (best) one
    large, in vermillion."""
    strip, dropped = finite_rows(strip, ["final E"])
    title, kept = title or t("plateaus.chart.strip_title"), _pl_kept()
    strip = strip.loc[strip["final E"] > 0]
    rng = np.random.default_rng(0)  # fixed vertical jitter so equal losses stay visible
    strip = strip.assign(jitter=rng.uniform(-1, 1, len(strip)))
    return (
        alt.Chart(strip)
        .mark_circle(opacity=0.9, stroke="black", strokeWidth=0.8)
        .encode(
            x=alt.X("final E:Q", scale=alt.Scale(type="log"), axis=_axis(t("plateaus.chart.final_log"))),
            y=alt.Y("jitter:Q", scale=alt.Scale(domain=[-1.6, 1.6]), axis=None),
            color=alt.Color(
                "kept:N",
                scale=alt.Scale(domain=kept, range=[OKABE_ITO[3], OKABE_ITO[0]]),
                legend=alt.Legend(title=None, orient="top"),
            ),
            size=alt.Size("kept:N", scale=alt.Scale(domain=kept, range=[420, 110]), legend=None),
            tooltip=[_pl_tip("restart:N"), _pl_tip("final E:Q", format=".4g"), _pl_tip("kept:N")],
        )
        .properties(title=_title(title, dropped), height=height, width="container")
    )


def restart_curves(curves: pd.DataFrame, title: str | None = None, height: int = 300) -> alt.Chart:
    """``curves[restart, step, E, kept]``: thin blue lines, the kept run thick vermillion (log y)."""
    curves, dropped = finite_rows(curves, ["step", "E"])
    title, kept = title or t("plateaus.chart.curves_title"), _pl_kept()
    curves = curves.loc[curves["E"] > 0]
    return (
        alt.Chart(curves)
        .mark_line()
        .encode(
            x=alt.X("step:Q", axis=_axis(t("plateaus.chart.step"))),
            y=alt.Y("E:Q", scale=alt.Scale(type="log"), axis=_axis(t("plateaus.chart.cross_entropy"))),
            detail=alt.Detail("restart:N"),
            color=alt.Color(
                "kept:N",
                scale=alt.Scale(domain=kept, range=[OKABE_ITO[3], OKABE_ITO[0]]),
                legend=None,
            ),
            opacity=alt.Opacity("kept:N", scale=alt.Scale(domain=kept, range=[1.0, 0.45]), legend=None),
            strokeWidth=alt.StrokeWidth("kept:N", scale=alt.Scale(domain=kept, range=[4, 1.5]), legend=None),
            tooltip=[_pl_tip("restart:N"), _pl_tip("step:Q"), _pl_tip("E:Q", format=".4g")],
        )
        .properties(title=_title(title, dropped), height=height, width="container")
    )


def sweep_points(df: pd.DataFrame, x: str, title: str, height: int = 300, x_title: str | None = None) -> alt.LayerChart:
    """``df[x, seed, final E]``: one dot per seed, a line through the medians (log y; x ordinal)."""
    df, dropped = finite_rows(df, [x, "final E"])
    df = df.loc[df["final E"] > 0]
    med = df.groupby(x, as_index=False)["final E"].median()
    xenc = alt.X(f"{x}:O", axis=alt.Axis(title=x_title or _pl_field(x), labelAngle=0))
    yenc = alt.Y("final E:Q", scale=alt.Scale(type="log"), axis=_axis(t("plateaus.chart.final_log")))
    dots = (
        alt.Chart(df)
        .mark_circle(size=70, opacity=0.6, color=OKABE_ITO[0])
        .encode(
            x=xenc,
            y=yenc,
            tooltip=[_pl_tip(f"{x}:O"), _pl_tip("seed:N"), _pl_tip("final E:Q", format=".4g")],
        )
    )
    line = (
        alt.Chart(med)
        .mark_line(point=alt.OverlayMarkDef(size=60, filled=True), color=OKABE_ITO[3])
        .encode(
            x=xenc,
            y=yenc,
            tooltip=[_pl_tip(f"{x}:O"), _pl_tip("final E:Q", title=t("plateaus.chart.median"), format=".4g")],
        )
    )
    return alt.layer(dots, line).properties(
        title=_title(title, dropped, t("plateaus.chart.dots")), height=height, width="container"
    )
