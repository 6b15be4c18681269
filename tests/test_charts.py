"""Chart builders through to_dict(): marks, encodings, scales, and no NaN ever reaching Vega."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from core import charts


def _layers(spec: dict) -> list[dict]:
    return spec.get("layer", [spec])


def _all_data_values(spec: dict) -> list[float]:
    out = []
    for dataset in spec.get("datasets", {}).values():
        for row in dataset:
            out += [v for v in row.values() if isinstance(v, float)]
    return out


def _grid(n=5):
    a, b = np.meshgrid(np.linspace(-1, 1, n), np.linspace(-1, 1, n))
    return pd.DataFrame({"w": a.ravel(), "v": b.ravel(), "E": (a * b).ravel() ** 2 + 0.1})


def test_surface_heatmap_layers_and_bands():
    paths = pd.DataFrame({"run": [0, 0, 0], "step": [0, 1, 2], "w": [0.5, 0.3, np.nan], "v": [0.5, 0.2, 0.1]})
    points = pd.DataFrame({"w": [0.0], "v": [0.0], "label": ["saddle"]})
    spec = charts.surface_heatmap(_grid(), paths, points, bands=8).to_dict()
    marks = [layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"] for layer in _layers(spec)]
    assert marks == ["rect", "line", "point"]
    color = _layers(spec)[0]["encoding"]["color"]
    assert color["scale"]["type"] == "quantile" and color["scale"]["scheme"]["count"] == 8
    assert _layers(spec)[1]["encoding"]["order"]["field"] == "step"
    assert "1 non-finite" in " ".join(spec["title"]["subtitle"])
    assert all(math.isfinite(v) for v in _all_data_values(spec))


def test_surface_heatmap_drops_path_points_outside_the_map():
    paths = pd.DataFrame({"run": [0, 0], "step": [0, 1], "w": [0.0, 50.0], "v": [0.0, 50.0]})
    spec = charts.surface_heatmap(_grid(), paths).to_dict()
    path_rows = [d for d in spec["datasets"].values() if d and "run" in d[0]]
    assert len(path_rows[0]) == 1


def test_surface_heatmap_rejects_an_all_nan_grid():
    grid = _grid().assign(E=np.nan)
    with pytest.raises(ValueError, match="no finite"):
        charts.surface_heatmap(grid)


def test_loss_curves_log_scale_floor_and_nan_cleaning():
    df = pd.DataFrame(
        {"step": [0, 1, 2, 3, 0, 1], "loss": [1.0, 0.1, 0.0, np.inf, 2.0, np.nan], "series": ["a"] * 4 + ["b"] * 2}
    )
    spec = charts.loss_curves(df).to_dict()
    assert spec["mark"]["type"] == "line"
    assert spec["encoding"]["y"]["scale"]["type"] == "log"
    assert spec["encoding"]["color"]["scale"]["range"] == charts.OKABE_ITO
    values = [r["loss"] for d in spec["datasets"].values() for r in d]
    assert len(values) == 4 and min(values) == pytest.approx(0.01)  # 0 raised to the floor min⁺/10
    assert "2 non-finite" in " ".join(spec["title"]["subtitle"])


def test_spectrum_sorts_and_colours_by_sign():
    df = pd.DataFrame({"eigenvalue": [-1.8, 2.2, 0.5]})
    spec = charts.spectrum(df).to_dict()
    rows = next(iter(spec["datasets"].values()))
    assert [r["eigenvalue"] for r in rows] == [2.2, 0.5, -1.8] and [r["rank"] for r in rows] == [1, 2, 3]
    assert [r["sign"] for r in rows] == ["positive", "positive", "negative"]
    assert spec["encoding"]["y"]["scale"]["type"] == "symlog"


def test_matrix_heatmap_with_block_boundaries():
    M = np.array([[1.0, -2.0], [-2.0, np.nan]])
    spec = charts.matrix_heatmap(M, boundaries=[1]).to_dict()
    assert len(_layers(spec)) == 3
    assert _layers(spec)[0]["encoding"]["color"]["scale"]["domainMid"] == 0
    assert all(math.isfinite(v) for v in _all_data_values(spec))


@pytest.mark.parametrize("presenter", [False, True])
def test_styled_sizes_for_the_projector(presenter):
    chart = charts.loss_curves(pd.DataFrame({"step": [0, 1], "loss": [1.0, 0.5], "series": ["a", "a"]}))
    config = charts.styled(chart, presenter=presenter).to_dict()["config"]
    size = charts.SIZES["label"][int(presenter)]
    assert config["axis"]["labelFontSize"] == size and config["legend"]["labelFontSize"] == size
    assert config["title"]["fontSize"] == charts.SIZES["title"][int(presenter)]
    assert config["text"]["fontSize"] == size - 1  # text marks grow too (13 px -> 19 px)
    json.dumps(config)  # serializable


def test_variant_colours_are_distinct_okabe_ito_without_orange_next_to_vermillion():
    df = pd.DataFrame({"variant": ["plain", "+ batch norm", "+ skip", "+ both"], "step": [0, 0, 0, 0], "loss": 1.0})
    order = list(df["variant"])
    spec = charts.variant_lines(df, "step", "loss", order=order).to_dict()
    colours = spec["encoding"]["color"]["scale"]["range"]
    assert colours == ["#0072B2", "#E69F00", "#009E73", "#CC79A7"]
    assert set(colours) <= set(charts.OKABE_ITO)
