"""Chart export and the fast chart path: the CSV under every chart is the chart's own data, exactly;
``charts.chart_spec`` sends what ``st.altair_chart`` would; every page has one CSV button per chart."""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from core import charts
from tests.conftest import ROOT, chart_specs, page_files

AWKWARD = pd.DataFrame(
    {
        "step": [0, 1, 2, 3],
        "loss": [0.1 + 0.2, 1e-300, -2.5e17, 1 / 3],  # floats that a rounding writer would change
        "run": ['a, quoted "b"', "κ = 3", "line\nbreak", "plain"],
    }
)


def _frames_of(chart) -> list[pd.DataFrame]:
    """The DataFrames an Altair chart carries, read from the chart object itself (any depth)."""
    out = []
    data = chart._get("data")
    if isinstance(data, pd.DataFrame):
        out.append(data)
    for attr in ("layer", "spec", "hconcat", "vconcat", "concat"):
        sub = chart._get(attr)
        for s in sub if isinstance(sub, list) else [sub]:
            if hasattr(s, "_get"):
                out += _frames_of(s)
    return out


def _read(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), keep_default_na=False, na_values=[""])


def test_csv_of_a_one_frame_chart_is_the_frame_exactly():
    chart = charts.run_lines(AWKWARD, "loss", log=False)
    spec = charts.chart_spec(chart)
    [frame] = _frames_of(chart)
    back = _read(charts.csv_text(spec))
    pd.testing.assert_frame_equal(back, frame.reset_index(drop=True), check_dtype=False, check_exact=True)
    assert back["loss"].tolist() == frame["loss"].tolist()  # bit for bit, 0.30000000000000004 included


def test_csv_of_a_layered_chart_stacks_every_frame_exactly():
    a, b = np.meshgrid(np.linspace(-1, 1, 7), np.linspace(-1, 1, 7))
    grid = pd.DataFrame({"w": a.ravel(), "v": b.ravel(), "E": (a * b).ravel() ** 2 + 0.1})
    paths = pd.DataFrame({"run": ["r0"] * 3, "step": [0, 1, 2], "w": [0.5, 0.3, 0.2], "v": [0.5, 0.2, 0.1]})
    points = pd.DataFrame({"w": [0.0], "v": [0.0], "label": ["saddle"]})
    chart = charts.surface_heatmap(grid, paths, points, bands=5)
    spec = charts.chart_spec(chart)
    own = _frames_of(chart)
    assert len(own) == 3 and set(spec["datasets"]) == {"frame_0", "frame_1", "frame_2"}
    back = _read(charts.csv_text(spec))
    assert back.columns[0] == "dataset"
    for name, frame in spec["datasets"].items():
        part = back[back["dataset"] == name].drop(columns="dataset").dropna(axis=1, how="all")
        part = part[frame.columns].reset_index(drop=True)
        pd.testing.assert_frame_equal(part, frame, check_dtype=False, check_exact=True)
        # the frame sent is one of the chart's own frames, unchanged
        assert any(f.reset_index(drop=True).equals(frame) for f in own), name
    assert back.loc[back["dataset"] == "frame_1", "step"].tolist() == [0, 1, 2]  # integers stay integers


def test_csv_of_inline_records_and_of_no_data():
    spec = {"datasets": {"d": [{"x": 1, "y": 0.5}, {"x": 2, "y": 0.25}]}}
    assert charts.csv_text(spec) == "x,y\n1,0.5\n2,0.25\n"
    assert charts.csv_text({"mark": "rule"}) == ""


def _same_as_streamlit(chart, **look) -> None:
    """chart_spec equals Streamlit's own conversion of styled(chart), dataset names aside."""
    from streamlit.elements.vega_charts import _convert_altair_to_vega_lite_spec

    mine = charts.chart_spec(chart, **look)
    theirs = _convert_altair_to_vega_lite_spec(charts.styled(chart, **look))

    def signature(df: pd.DataFrame) -> str:
        values = pd.util.hash_pandas_object(df.reset_index(drop=True), index=False).to_numpy().tobytes()
        return hashlib.sha1(values + repr(list(df.columns)).encode()).hexdigest()

    def normalized(spec: dict, frames: dict) -> str:
        text = json.dumps({k: v for k, v in spec.items() if k != "datasets"}, sort_keys=True)
        for name, df in frames.items():
            text = text.replace(f'"{name}"', f'"{signature(df)}"')
        return text

    theirs_frames = {k: pa.ipc.open_stream(v).read_pandas() for k, v in theirs["datasets"].items()}
    assert normalized(mine, mine["datasets"]) == normalized(theirs, theirs_frames)
    assert sorted(map(signature, mine["datasets"].values())) == sorted(map(signature, theirs_frames.values()))


@pytest.mark.parametrize("look", [{}, {"presenter": True, "high_contrast": True}], ids=["normal", "presenter"])
def test_chart_spec_sends_what_st_altair_chart_would(look):
    a, b = np.meshgrid(np.linspace(-1, 1, 6), np.linspace(-1, 1, 6))
    grid = pd.DataFrame({"w": a.ravel(), "v": b.ravel(), "E": (a * b).ravel() ** 2 + 0.1})
    paths = pd.DataFrame({"run": ["r0"] * 3, "step": [0, 1, 2], "w": [0.5, 0.3, 0.2], "v": [0.5, 0.2, 0.1]})
    _same_as_streamlit(charts.surface_heatmap(grid, paths, bands=4), **look)
    _same_as_streamlit(charts.run_lines(AWKWARD, "loss"), **look)
    lo = np.tile(np.linspace(-1, 0.8, 5), 2)
    hist = pd.DataFrame({"layer": ["h1"] * 5 + ["h2"] * 5, "lo": lo, "hi": lo + 0.2, "share": 0.2})
    hist["saturated"] = hist["hi"] > 0.99
    _same_as_streamlit(charts.activation_histograms(hist, columns=2), **look)


def test_chart_spec_leaves_the_chart_as_it_was():
    chart = charts.run_lines(AWKWARD, "loss")
    before = chart.to_dict()
    charts.chart_spec(chart, presenter=True)
    assert chart.to_dict() == before


def test_cache_key_of_chart_inputs_follows_their_content():
    from core import ui

    def key(*args, **kwargs) -> str:
        h = hashlib.blake2b(digest_size=16)
        ui._digest((args, kwargs), h)
        return h.hexdigest()

    moved = AWKWARD.assign(loss=AWKWARD["loss"] * (1 + 1e-15))
    assert key(AWKWARD, title="t") == key(AWKWARD.copy(), title="t")
    assert key(AWKWARD, title="t") != key(moved, title="t")
    assert key(AWKWARD, title="t") != key(AWKWARD, title="u")
    assert key(np.eye(2)) != key(np.eye(2).astype(np.float32)) != key([1.0, 0.0])
    assert key(AWKWARD[["step"]]) != key(AWKWARD[["step"]].rename(columns={"step": "t"}))


# --- every page: one small CSV button under each chart -------------------------------------------

# the tabs whose charts are drawn without a training run (kept quick), by page
DEEP_LINKS = {
    "3_Conditioning.py": {"section": "GD on a quadratic"},
    "4_Normalization.py": {"section": "Initialization scale"},
    "5_BatchNorm_and_Skip.py": {"view": "Training", "steps": "20", "depth": "2"},
}


@pytest.mark.parametrize("path", page_files()[1:], ids=[p.name for p in page_files()[1:]])
def test_every_chart_has_a_csv_download_button(app_test, path):
    at = app_test(path.relative_to(ROOT), query=DEEP_LINKS.get(path.name))
    assert not at.exception, [e.value for e in at.exception]
    n_charts = len(at.get("vega_lite_chart"))
    buttons = [b for b in at.download_button if b.label == "CSV"]
    assert n_charts >= 1 and len(buttons) == n_charts
    svgs = [b for b in at.download_button if b.label == "SVG"]
    assert len(svgs) == (n_charts if importlib.util.find_spec("vl_convert") else 0)
    for b in buttons + svgs:
        assert b.proto.deferred_file_id, "the file is made on click, not on every rerun"
        assert b.proto.ignore_rerun, "downloading does not rerun the page"
    for spec in chart_specs(at):  # a text alternative (the chart's aria-label): title and axes
        title = spec["title"]["text"] if isinstance(spec.get("title"), dict) else spec.get("title")
        title = " ".join(title) if isinstance(title, list) else title
        assert spec["description"].startswith(f"Chart: {title}"), spec["description"]
        assert "Axes: " in spec["description"] or "vconcat" in spec or "hconcat" in spec


def test_a_charts_text_alternative_names_its_title_and_axes():
    chart = charts.loss_curves(AWKWARD.assign(series="a"), y="loss", title="Two runs", y_title="loss E")
    spec = charts.chart_spec(chart)
    assert charts.describe(spec) == "Chart: Two runs. Axes: step, loss E."
    assert charts.describe({}) == "Chart"


def test_svg_of_a_chart_is_drawn_offline():
    pytest.importorskip("vl_convert")
    spec = charts.chart_spec(charts.run_lines(AWKWARD.iloc[:2], "loss", log=False, title="Two steps"))
    svg = charts.svg_text(spec)
    assert svg.startswith("<svg") and "Two steps" in svg
    assert spec["width"] == "container", "the spec shown on the page is left as it was"
