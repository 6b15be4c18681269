"""What every page's charts share: palette, sizes, titles, styling, and the spec sent to the browser.

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

from core.i18n import t

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
        lines.append(t("common.charts.dropped", n=dropped))
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
    title: str | None = None,
    bands: int = 12,
    height: int = 420,
    x_title: str | None = None,
    y_title: str | None = None,
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
            x=alt.X(f"{x}:Q", scale=xscale, axis=_axis(x_title or x)),
            x2="x2:Q",
            y=alt.Y(f"{y}:Q", scale=yscale, axis=_axis(y_title or y)),
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
    title = t("common.charts.error_surface") if title is None else title
    return alt.layer(*layers).properties(title=_title(title, dropped), height=height, width="container")


def loss_curves(
    df: pd.DataFrame,
    x: str = "step",
    y: str = "loss",
    series: str | None = "series",
    log: bool = True,
    title: str | None = None,
    y_title: str | None = None,
    height: int = 320,
    x_title: str | None = None,
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
        x=alt.X(f"{x}:Q", axis=_axis(x_title or x)),
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
        .properties(
            title=_title(t("common.charts.loss") if title is None else title, dropped), height=height, width="container"
        )
    )


def spectrum(
    df: pd.DataFrame,
    value: str = "eigenvalue",
    series: str | None = None,
    title: str | None = None,
    height: int = 300,
    y_title: str | None = None,
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
        x=alt.X("rank:Q", axis=_axis(t("common.charts.rank"))),
        y=alt.Y(f"{value}:Q", scale=alt.Scale(type="symlog"), axis=_axis(y_title or value)),
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
        .properties(
            title=_title(t("common.charts.eigenvalues") if title is None else title, dropped),
            height=height,
            width="container",
        )
    )


def matrix_heatmap(
    M: np.ndarray,
    title: str | None = None,
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
            x=alt.X("j:Q", scale=axis_scale, axis=_axis(t("common.charts.param_j"))),
            x2="j2:Q",
            y=alt.Y("i:Q", scale=alt.Scale(domain=[n, 0], nice=False), axis=_axis(t("common.charts.param_i"))),
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
    return alt.layer(*layers).properties(
        title=_title(t("common.charts.hessian") if title is None else title, dropped), height=height, width=height
    )


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
        # text marks ("diverges", point labels) grow with the axis labels in presenter mode
        .configure_text(fontSize=label - 1)
    )


def vega_specs(*built, presenter: bool = False, high_contrast: bool = False) -> list[dict]:
    """Vega-Lite dicts of the charts as ``chart_spec`` makes them (styled; every frame left a frame
    under ``datasets``, sent as Arrow). A page caches these dicts beside its numbers so that a cached
    rerun does not rebuild Altair charts. (Until 2026-11-27 the frames became JSON records here:
    77 ms of the Plateaus tanh tab's 312 ms uncached rerun, for 3,721 map cells twice.)"""
    return [chart_spec(chart, presenter=presenter, high_contrast=high_contrast) for chart in built]


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

# Altair validates every channel and mark against the Vega-Lite schema as it is built (its
# "debug mode"), which cost a fifth of an uncached Non-convexity rerun (147 -> 116 ms of chart
# building, /tmp profile of the page's builders, one thread). The specs the app sends are made
# with validate=False anyway; the builders' tests validate each complete spec in to_dict().
alt.utils.schemapi.DEBUG_MODE = False


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


def _texts(title) -> list[str]:
    """A Vega-Lite title (text, lines, or {text, subtitle}) as its non-empty parts, each one line."""
    if isinstance(title, dict):
        return _texts(title.get("text")) + _texts(title.get("subtitle"))
    if isinstance(title, list):
        return [" ".join(str(x) for x in title if x)] if any(title) else []
    return [str(title)] if title else []


def _axis_titles(spec) -> list[str]:
    """The x and y titles of a spec's encodings (layers, facets and concatenations included)."""
    found: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            encoding = node.get("encoding")
            for channel in ("x", "y"):
                enc = encoding.get(channel) if isinstance(encoding, dict) else None
                if isinstance(enc, dict):
                    axis = enc.get("axis")
                    title = enc.get("title") or (axis.get("title") if isinstance(axis, dict) else None)
                    for text in _texts(title):
                        if text not in found:
                            found.append(text)
            for key in ("layer", "hconcat", "vconcat", "concat", "spec"):
                if key in node:
                    walk(node[key])
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(spec)
    return found


def describe(spec: dict) -> str:
    """A text alternative for a chart (Vega-Lite ``description``: the chart's aria-label): its
    title and subtitle, and what its axes show, in the current language."""
    title = " — ".join(_texts(spec.get("title"))) or t("common.charts.untitled")
    axes = _axis_titles(spec)
    return t("common.charts.alt", title=title, axes=", ".join(axes)) if axes else title


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
