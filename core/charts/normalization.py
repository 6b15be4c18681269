"""Chart builders of the Normalization page: a DataFrame in, an ``alt.Chart`` out (no streamlit, no models)."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from core.charts.base import OKABE_ITO, _axis, _title, finite_rows
from core.i18n import t


def scatter_ellipse(
    points: pd.DataFrame,
    ellipse: pd.DataFrame,
    segment: pd.DataFrame,
    x: str = "x₁",
    y: str = "x₂",
    title: str | None = None,
    subtitle: str | None = None,
    extent: float | None = None,
    height: int = 270,
) -> alt.LayerChart:
    """Scatter of ``points[x, y]`` with a covariance ellipse and the mean drawn as a segment from the origin.

    ``ellipse[x, y, order]`` is drawn as a closed line, ``segment[x, y, order]`` (origin → μ) as a
    dashed line ending in a cross at μ. Both axes share the domain [−extent, extent], so the origin
    sits in the middle and a centred cloud is visibly centred.
    """
    title = title or t("normalization.charts.data")
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
    title: str | None = None,
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
    title = title or t("normalization.charts.eigenvalues")
    df, dropped = finite_rows(df, [y])
    subtitle = None
    if not df.empty:
        positive = df.loc[df[y] > 0, y]
        floor = float(positive.min()) / 10 if not positive.empty else 1e-16
        n_low = int((df[y] <= 0).sum())
        if n_low:
            subtitle = t("normalization.charts.floor", n=n_low, floor=floor)
        df = df.assign(**{y: df[y].clip(lower=floor)})
    names = {x: x_title or x, y: y_title or y}  # tooltips read as the axes do
    enc = dict(
        x=alt.X(f"{x}:N", sort=sort, axis=alt.Axis(title=x_title or x, labelAngle=0, labelLimit=200)),
        y=alt.Y(f"{y}:Q", scale=alt.Scale(type="log"), axis=_axis(y_title or y)),
        tooltip=[
            alt.Tooltip(c, title=names.get(c, c))
            if df[c].dtype == object
            else alt.Tooltip(c, title=names.get(c, c), format=".4g")
            for c in tooltip or [x, y]
        ],
    )
    if color and color in df.columns:
        # One series keeps one colour across charts and languages: in ``sort``'s order when the
        # colour is the x category (the methods), else alphabetical, as in ``loss_curves``.
        domain = sort if sort and color == x else alt.Undefined
        enc["color"] = alt.Color(f"{color}:N", scale=alt.Scale(domain=domain, range=OKABE_ITO), legend=None)
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
    title: str | None = None,
    y_title: str | None = None,
    legend_orient: str = "top",
    height: int = 300,
) -> alt.LayerChart:
    """A dot at ``mean`` and a bar from mean − std to mean + std, per layer and series (side by side)."""
    title = title or t("normalization.charts.mean_std")
    y_title = y_title or t("normalization.charts.activation")
    df, dropped = finite_rows(df, [mean, std])
    df = df.assign(lo=df[mean] - df[std], hi=df[mean] + df[std])
    base = alt.Chart(df).encode(
        x=alt.X(f"{layer}:N", axis=alt.Axis(title=None, labelAngle=0)),
        xOffset=alt.XOffset(f"{series}:N"),
        color=alt.Color(
            f"{series}:N", scale=alt.Scale(range=OKABE_ITO), legend=alt.Legend(title=None, orient=legend_orient)
        ),
        tooltip=[
            alt.Tooltip(f"{series}:N", title=t("normalization.charts.series")),
            alt.Tooltip(f"{layer}:N", title=t("normalization.block.layer")),
            alt.Tooltip(f"{mean}:Q", title=t("normalization.charts.mean"), format=".3f"),
            alt.Tooltip(f"{std}:Q", title=t("normalization.charts.std"), format=".3f"),
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
    title: str | None = None,
    x_title: str | None = None,
    y_title: str | None = None,
    x_sort: list[str] | None = None,
    reference: float | None = None,
    points: bool = True,
    legend_orient: str = "top",
    height: int = 300,
    series_order: list[str] | None = None,
) -> alt.LayerChart:
    """Lines (with dots if ``points``) of ``y`` against ``x``, one per ``series``; optional band ``lo``–``hi``
    and a dashed rule at ``reference``.

    ``x_sort`` given: the x-axis is ordinal in that order (layer names); otherwise quantitative.
    On a log axis, values ≤ 0 are not drawn and are counted in the subtitle; labels switch to
    1e+6 notation when the values span more than four decades.
    """
    title = title or t("normalization.charts.per_layer")
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
        alt.Color(
            f"{series}:N",
            # ``series_order`` fixes the colours (the same in every language); else alphabetical
            scale=alt.Scale(domain=series_order or alt.Undefined, range=OKABE_ITO),
            legend=alt.Legend(title=None, orient=legend_orient),
        )
        if series and series in df.columns
        else alt.value(OKABE_ITO[0])
    )
    # The band shares the lines' colours but not their legend (its pale swatches would stand in for the lines).
    band_color = color.legend(None) if isinstance(color, alt.Color) else color
    tips = (
        [alt.Tooltip(f"{series}:N", title=t("normalization.charts.series"))] if series and series in df.columns else []
    ) + [
        alt.Tooltip(f"{x}:{'O' if x_sort else 'Q'}", title=x_title or x),
        alt.Tooltip(f"{y}:Q", title=y_title or y, format=".4g"),
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
    subtitle = t("normalization.charts.not_drawn", n=dropped) if dropped and log else None
    return (
        alt.layer(*layers)
        .resolve_legend(color="independent")
        .properties(title=_title(title, 0 if subtitle else dropped, subtitle), height=height, width="container")
    )


def block_heatmap(
    M: np.ndarray,
    boundaries: list[int],
    major: list[int] | None = None,
    title: str | None = None,
    height: int = 420,
) -> alt.LayerChart:
    """A symmetric matrix on a symmetric-log diverging colour scale, with thin block edges and thick ``major`` edges.

    The symlog scale (linear within 10⁻³·max|M| of 0) keeps small blocks visible next to a dominant one, so
    blocks on very different scales can be compared by eye; the tooltip gives the exact entry.
    """
    title = title or t("common.charts.hessian")
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
            x=alt.X("j:Q", scale=xs, axis=_axis(t("common.charts.param_j"))),
            x2="j2:Q",
            y=alt.Y("i:Q", scale=ys, axis=_axis(t("common.charts.param_i"))),
            y2="i2:Q",
            color=alt.Color("value:Q", scale=color, legend=alt.Legend(title=None, format=".2g")),
            tooltip=["i:Q", "j:Q", alt.Tooltip("value:Q", title=t("normalization.charts.value"), format=".4g")],
        )
    )
    layers: list[alt.Chart] = [heat]
    for edges, stroke, width in ((boundaries, "#9a9a9a", 0.6), (major or [], "#000000", 1.8)):
        if edges:
            b = pd.DataFrame({"k": [float(k) for k in edges]})
            layers.append(alt.Chart(b).mark_rule(color=stroke, strokeWidth=width).encode(x=alt.X("k:Q", scale=xs)))
            layers.append(alt.Chart(b).mark_rule(color=stroke, strokeWidth=width).encode(y=alt.Y("k:Q", scale=ys)))
    return alt.layer(*layers).properties(title=_title(title, dropped), height=height, width=height)
