"""Chart builders of the Conditioning page: a DataFrame in, an ``alt.Chart`` out (no streamlit, no models)."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from core.charts.base import OKABE_ITO, _axis, _title, finite_rows
from core.i18n import t


def rate_vs_lr(curves: pd.DataFrame, marks: pd.DataFrame, limit: float, height: int = 470) -> alt.LayerChart:
    """Per-step factors ``curves[γ, factor, curve]`` against γ, the region γ ≥ ``limit`` (= 1/α_max)
    shaded as divergent, the line factor = 1, and vertical rules at ``marks[γ, label]``.

    Factors above 1.6 are clipped to the chart's edge (the divergent side grows without bound).
    The marked learning rates are told apart by dash pattern (legend), so close ones stay readable.
    The curve ``conditioning.frames.max_curve`` (the rate, in the current language) is drawn wide.
    """
    curves, dropped = finite_rows(curves, ["γ", "factor"])
    x_max = float(curves["γ"].max()) if not curves.empty else 2 * limit
    xs = alt.Scale(domain=[0, x_max], nice=False, zero=True)
    ys = alt.Scale(domain=[0, 1.6], nice=False, clamp=True)
    shade = pd.DataFrame({"a": [limit], "b": [x_max], "top": [1.58], "label": [t("conditioning.charts.diverges")]})
    rate = alt.datum.curve == t("conditioning.frames.max_curve")
    layers = [
        alt.Chart(shade).mark_rect(color=OKABE_ITO[3], opacity=0.12).encode(x=alt.X("a:Q", scale=xs), x2="b:Q"),
        alt.Chart(shade)
        .mark_text(align="left", baseline="top", dx=4, color=OKABE_ITO[3])
        .encode(x=alt.X("a:Q", scale=xs), y=alt.Y("top:Q", scale=ys), text="label:N"),
        alt.Chart(pd.DataFrame({"one": [1.0]}))
        .mark_rule(color="#666666", strokeDash=[4, 3])
        .encode(y=alt.Y("one:Q", scale=ys)),
        alt.Chart(curves)
        .mark_line(clip=True)
        .encode(
            x=alt.X("γ:Q", scale=xs, axis=_axis(t("conditioning.charts.lr_axis"))),
            y=alt.Y("factor:Q", scale=ys, axis=_axis(t("conditioning.charts.factor_axis"))),
            color=alt.Color("curve:N", scale=alt.Scale(range=OKABE_ITO), legend=alt.Legend(title=None, orient="top")),
            strokeWidth=alt.condition(rate, alt.value(5), alt.value(2.5)),
            opacity=alt.condition(rate, alt.value(0.55), alt.value(1)),
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
        title=_title(t("conditioning.charts.rate"), dropped, t("conditioning.charts.rate_sub")),
        height=height,
        width="container",
    )


def theory_vs_measured(df: pd.DataFrame, title: str | None = None, height: int = 340):
    """``df[step, direction, kind, value]`` on a log y-axis: measured values as dots on top of the
    predictions, drawn as wide pale lines (where they agree, every dot sits on its line).

    ``kind`` is ``conditioning.frames.measured`` (in the current language) or a prediction
    label; one colour per ``direction``. Values ≤ 0
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
    is_measured = df["kind"] == t("conditioning.frames.measured")
    measured, predicted = df.loc[is_measured], df.loc[~is_measured]
    x = alt.X("step:Q", axis=_axis(t("conditioning.charts.step_axis")))
    y = alt.Y("value:Q", scale=ys, axis=_axis(t("conditioning.charts.distance_axis")))
    line = (
        alt.Chart(predicted)
        .mark_line(strokeWidth=8, opacity=0.35)
        .encode(x=x, y=y, color=color, detail="kind:N", tooltip=tips)
    )
    dots = alt.Chart(measured).mark_point(filled=True, size=28).encode(x=x, y=y, color=color, tooltip=tips)
    sub = t("conditioning.charts.per_direction_sub")
    title = t("conditioning.charts.per_direction") if title is None else title
    return alt.layer(line, dots).properties(title=_title(title, dropped, sub), height=height, width="container")


def steps_vs_kappa(df: pd.DataFrame, title: str | None = None, height: int = 420):
    """``df[κ, steps, series]`` on log–log axes; the series ``conditioning.frames.sweep_measured``
    (in the current language) as dots, the others as lines."""
    df, dropped = finite_rows(df, ["κ", "steps"])
    df = df.loc[df["steps"] > 0]
    decades = [1, 3, 10, 30, 100, 300, 1000, 3000, 10000, 30000]
    x = alt.X(
        "κ:Q", scale=alt.Scale(type="log"), axis=alt.Axis(title=t("conditioning.charts.kappa_axis"), values=decades)
    )
    y = alt.Y(
        "steps:Q",
        scale=alt.Scale(type="log"),
        axis=alt.Axis(title=t("conditioning.charts.steps_axis"), values=decades, format="~s"),
    )
    color = alt.Color(
        "series:N", scale=alt.Scale(range=OKABE_ITO), legend=alt.Legend(title=None, orient="bottom", labelLimit=300)
    )
    tips = ["series:N", alt.Tooltip("κ:Q", format=".3g"), "steps:Q"]
    is_measured = df["series"] == t("conditioning.frames.sweep_measured")
    measured, lines = df.loc[is_measured], df.loc[~is_measured]
    return alt.layer(
        alt.Chart(lines).mark_line().encode(x=x, y=y, color=color, tooltip=tips),
        alt.Chart(measured).mark_point(filled=True, size=90).encode(x=x, y=y, color=color, tooltip=tips),
    ).properties(
        title=_title(t("conditioning.charts.steps") if title is None else title, dropped),
        height=height,
        width="container",
    )


def tiled_heatmap(
    cells: pd.DataFrame,
    boundaries: list[int],
    n: int,
    title: str | None = None,
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
            x=alt.X("j:Q", scale=xs, axis=_axis(t("common.charts.param_j"))),
            x2="j2:Q",
            y=alt.Y("i:Q", scale=ys, axis=_axis(t("common.charts.param_i"))),
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
    title = t("common.charts.hessian") if title is None else title
    return alt.layer(*layers).properties(title=_title(title, dropped, subtitle), height=height, width=height)


def ranked_spectrum(
    df: pd.DataFrame,
    title: str | None = None,
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
    positive, negative, zero = (t(f"conditioning.charts.{k}") for k in ("positive", "negative", "near_zero"))
    df = df.assign(sign=np.where(lam.abs() <= zero_below, zero, np.where(lam < 0, negative, positive)))
    scale = alt.Scale(type="symlog", constant=linear_below) if linear_below else alt.Scale(type="symlog")
    series = list(dict.fromkeys(df["series"])) or [""]
    # powers of ten (both signs) inside the data's range: symlog's default ticks are too sparse
    lo, hi = (float(lam.min()), float(lam.max())) if not df.empty else (0.0, 1.0)
    k0 = int(np.floor(np.log10(linear_below))) if linear_below else 0
    k1 = int(np.ceil(np.log10(max(abs(lo), abs(hi), 1e-300))))
    ticks = [0.0] + [sgn * 10.0**k for k in range(k0 + 1, k1 + 1) for sgn in (1, -1) if lo <= sgn * 10.0**k <= hi]
    enc = dict(
        x=alt.X("rank:Q", axis=_axis(t("conditioning.charts.rank_axis")), scale=alt.Scale(nice=False)),
        y=alt.Y(
            "eigenvalue:Q",
            scale=scale,
            axis=alt.Axis(
                title=t("conditioning.charts.eigenvalue_axis"), values=ticks, format="~g", labelOverlap="greedy"
            ),
        ),
        color=alt.Color(
            "sign:N",
            scale=alt.Scale(domain=[positive, negative, zero], range=[OKABE_ITO[0], OKABE_ITO[3], "#888888"]),
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
            t("common.charts.eigenvalues") if title is None else title,
            dropped,
            t("conditioning.charts.symlog", c=linear_below) if linear_below else None,
        ),
        height=height,
        width="container",
    )
