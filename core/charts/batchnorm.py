"""Chart builders of the BatchNorm & skip page: a DataFrame in, an ``alt.Chart`` out (no streamlit, no models)."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from core.charts.base import OKABE_ITO, SEQUENTIAL, _axis, _title, finite_rows
from core.i18n import t

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
        tooltip=[
            alt.Tooltip(f"{series}:N", title=t("batchnorm.charts.variant") if series == "variant" else series),
            alt.Tooltip(f"{x}:Q", format=".3g", title=x_title or x),
            alt.Tooltip(f"{y}:Q", format=".4g", title=y_title or y),
        ],
    )
    if dash and dash in df.columns:
        # solid for the first value in the data, dashed for the second (in any language's names)
        enc["strokeDash"] = alt.StrokeDash(f"{dash}:N", legend=None, sort=list(dict.fromkeys(df[dash])))
        enc["detail"] = f"{dash}:N"
        when = t("batchnorm.charts.when") if dash == "when" else dash
        enc["tooltip"] = [alt.Tooltip(f"{dash}:N", title=when)] + enc["tooltip"]
    mark = alt.Chart(df).mark_line(point=alt.OverlayMarkDef(filled=True, size=30) if points else False)
    return mark.encode(**enc).properties(title=_title(title, dropped), height=height, width="container")


def _symlog_ticks(lo, hi, smallest: float = 1e-3) -> list[float]:
    """0 and the powers of ten ≥ ``smallest`` (both signs) inside [lo, hi]: symlog's own ticks are too sparse."""
    lo, hi = float(lo), float(hi)
    k0 = int(np.floor(np.log10(smallest)))
    k1 = int(np.ceil(np.log10(max(abs(lo), abs(hi), 1e-300))))
    return [0.0] + [s * 10.0**k for k in range(k0, k1 + 1) for s in (1, -1) if lo <= s * 10.0**k <= hi]


def top_eigenvalues_by_variant(
    df: pd.DataFrame, order: list[str], title: str | None = None, height: int = 360
) -> alt.Chart:
    """``df[variant, point, k, eigenvalue]``: the k largest eigenvalues per variant, one dot each,
    side by side per ``point`` (initialization / after training), on a symmetric-log axis."""
    df, dropped = finite_rows(df, ["eigenvalue"])
    lam = df["eigenvalue"] if not df.empty else pd.Series([0.0, 1.0])
    points = list(dict.fromkeys(df["point"])) if not df.empty else []
    title = t("batchnorm.charts.top_title") if title is None else title
    return (
        alt.Chart(df)
        .mark_point(filled=True, size=70, opacity=0.9)
        .encode(
            x=alt.X("variant:N", sort=order, axis=alt.Axis(title=None, labelAngle=0)),
            xOffset=alt.XOffset("point:N", sort=points),
            y=alt.Y(
                "eigenvalue:Q",
                scale=alt.Scale(type="symlog"),
                axis=alt.Axis(
                    title=t("batchnorm.charts.eigenvalue"), values=_symlog_ticks(lam.min(), lam.max()), format="~r"
                ),
            ),
            color=alt.Color(
                "point:N",
                sort=points,
                scale=alt.Scale(range=[OKABE_ITO[5], OKABE_ITO[3]]),
                legend=alt.Legend(title=None, orient="top"),
            ),
            shape=alt.Shape("point:N", sort=points, legend=None),
            tooltip=[
                alt.Tooltip("variant:N", title=t("batchnorm.charts.variant")),
                alt.Tooltip("point:N", title=t("batchnorm.charts.point")),
                "k:Q",
                alt.Tooltip("eigenvalue:Q", format=".5g", title=t("batchnorm.charts.eigenvalue")),
            ],
        )
        .properties(title=_title(title, dropped), height=height, width="container")
    )


def sorted_spectra(df: pd.DataFrame, order: list[str], title: str | None = None, height: int = 360) -> alt.Chart:
    """``df[variant, rank, eigenvalue]``: every eigenvalue, largest first, one line per variant, on a
    symmetric-log axis, linear within ±10⁻³·max|λ| (so negative and ≈ 0 eigenvalues stay visible)."""
    df, dropped = finite_rows(df, ["rank", "eigenvalue"])
    lam = df["eigenvalue"] if not df.empty else pd.Series([0.0, 1.0])
    linear = float(10.0 ** np.floor(np.log10(max(float(lam.abs().max()), 1e-300) * 1e-3)))
    title = t("batchnorm.charts.all_title") if title is None else title
    eigenvalue = t("batchnorm.charts.eigenvalue")
    return (
        alt.Chart(df)
        .mark_line(point=alt.OverlayMarkDef(size=12, filled=True))
        .encode(
            x=alt.X("rank:Q", axis=_axis(t("batchnorm.charts.rank")), scale=alt.Scale(nice=False)),
            y=alt.Y(
                "eigenvalue:Q",
                scale=alt.Scale(type="symlog", constant=linear),
                axis=alt.Axis(title=eigenvalue, values=_symlog_ticks(lam.min(), lam.max(), linear), format="~r"),
            ),
            color=_variant_color("variant", order),
            tooltip=[
                alt.Tooltip("variant:N", title=t("batchnorm.charts.variant")),
                alt.Tooltip("rank:Q", title=t("batchnorm.charts.rank")),
                alt.Tooltip("eigenvalue:Q", format=".4g", title=eigenvalue),
            ],
        )
        .properties(
            title=_title(title, dropped, t("batchnorm.charts.symlog", linear=linear)),
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
    axis = dict(sort=groups, axis=alt.Axis(title=t("batchnorm.charts.layer"), labelAngle=0, labelOverlap=True))
    return (
        alt.Chart(cells)
        .mark_rect()
        .encode(
            x=alt.X("col:O", **axis),
            y=alt.Y("row:O", **axis),
            color=alt.Color(
                "shown:Q",
                scale=alt.Scale(type="log", domain=[floor, 1.0], scheme=SEQUENTIAL, clamp=True),
                legend=alt.Legend(
                    title=t("batchnorm.charts.block_legend"), format="~g", orient="bottom", gradientLength=110
                ),
            ),
            tooltip=[
                alt.Tooltip("row:N", title=t("batchnorm.charts.row")),
                alt.Tooltip("col:N", title=t("batchnorm.charts.col")),
                alt.Tooltip("‖H_ab‖_F:Q", format=".4g"),
                alt.Tooltip("relative:Q", format=".3g", title=t("batchnorm.charts.relative")),
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
            x=alt.X("α0:Q", scale=s, axis=_axis(t("batchnorm.charts.alpha"))),
            x2="α1:Q",
            y=alt.Y("β0:Q", scale=s, axis=_axis(t("batchnorm.charts.beta"))),
            y2="β1:Q",
            color=alt.Color(
                "loss:Q",
                scale=alt.Scale(type="log", domain=list(domain), scheme=SEQUENTIAL, clamp=True),
                legend=alt.Legend(title=t("batchnorm.charts.loss"), format="~g", orient="bottom", gradientLength=110),
            ),
            tooltip=[
                alt.Tooltip("α:Q", format=".2f"),
                alt.Tooltip("β:Q", format=".2f"),
                alt.Tooltip("loss:Q", format=".4g", title=t("batchnorm.charts.loss")),
            ],
        )
    )
    centre = (
        alt.Chart(pd.DataFrame({"α": [0.0], "β": [0.0]}))
        .mark_point(shape="cross", size=160, filled=True, color="#ffffff", stroke="#000000", strokeWidth=1)
        .encode(x=alt.X("α:Q", scale=s), y=alt.Y("β:Q", scale=s))
    )
    return alt.layer(heat, centre).properties(title=_title(title, dropped), height=height, width="container")
