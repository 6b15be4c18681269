"""What a page shows a reader, as text, and the English words left in it (for the 中文 check).

``shown_text(at)`` walks an AppTest run: titles, markdown, captions, notes, metrics, every
widget's label, help and options, tab and expander labels, table headers and text cells, and
every chart's titles, axis and legend titles and text marks (from the spec Streamlit sends).
``english_words(text)`` drops what is not prose (formulas in $…$, `code`, links, HTML tags,
numbers) and returns the remaining English words, minus names that stay English in Chinese
course notes too (tanh, ReLU, MLP, Hessian, …: ALLOWED)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pandas as pd
import pyarrow as pa

# Names and symbols that Chinese lecture notes keep in Latin letters (no translation exists or
# the lecture uses the English term): activation functions, acronyms, proper names, units.
ALLOWED = {
    # activations and layers
    "tanh",
    "sigmoid",
    "relu",
    "leaky",
    "softplus",
    "gelu",
    "exp",
    "log",
    "sqrt",
    "max",
    "min",
    "std",
    "var",
    "mean",
    "argmin",
    "argmax",
    "diag",
    "tr",
    "det",
    "fan_in",
    "fan",
    "batchnorm",
    "skip",
    # acronyms and names
    "mlp",
    "gd",
    "sgd",
    "bn",
    "lr",
    "csv",
    "svg",
    "png",
    "url",
    "hessian",
    "lanczos",
    "arpack",
    "lecun",
    "gauss",
    "hutchinson",
    "newton",
    "okabe",
    "ito",
    "torch",
    "float64",
    "jacfwd",
    "jacrev",
    "vmap",
    "autograd",
    "lapack",
    "pca",
    "float",
    "iid",
    "rms",
    "eval",
    "train",
    "mode",
    "true",
    "false",
    "nan",
    "inf",
    "kappa",
    "lambda",
    "gamma",
    "alpha",
    "theta",
    "sigma",
    "mu",
    "rho",
    "eta",
    "x0",
    "y0",
    "w0",
    "v0",
    "seed",
    "dseed",
    "lam",
    "zh",
    "en",
    "optimization",
    "lab",  # the app's own name in the sidebar's language switch: "Language · 语言"
    "language",
    "english",
}

_DROP = [
    re.compile(r"\$\$.*?\$\$", re.S),  # display formulas
    re.compile(r"\$[^$]*\$"),  # inline formulas
    re.compile(r"`[^`]*`"),  # code and URL keys
    re.compile(r"<[^>]+>"),  # HTML tags (the text between them stays)
    re.compile(r"https?://\S+|\?\S+=\S*"),  # links and query strings
    re.compile(r":material/[a-z_]+:"),  # icons
    re.compile(r"\{[A-Za-z_]\w*(:[^{}]*)?\}"),  # catalogue placeholders {name}, {kappa:.3g}
    re.compile(r"\b[A-Za-z]\w*_\w+\b"),  # identifiers: α_max, fan_in, lr_rule
]
_WORD = re.compile(r"[A-Za-z]{3,}")


def english_words(text: str) -> list[str]:
    for pattern in _DROP:
        text = pattern.sub(" ", text)
    return [w for w in _WORD.findall(text) if w.lower() not in ALLOWED]


def _spec_texts(spec) -> Iterator[str]:
    """Titles, subtitles, axis/legend titles and literal text marks of a Vega-Lite spec."""
    if isinstance(spec, dict):
        for key, value in spec.items():
            if key in ("datasets", "data", "config", "$schema", "params", "name", "field", "selection"):
                continue
            if key in ("title", "subtitle", "text", "label", "labelExpr", "description") and isinstance(value, str):
                if key != "labelExpr":
                    yield value
            elif key in ("title", "subtitle") and isinstance(value, list):
                yield from (v for v in value if isinstance(v, str))
            elif key == "value" and isinstance(value, str) and not value.startswith("#"):
                yield value  # a constant text mark ("diverges")
            else:
                yield from _spec_texts(value)
    elif isinstance(spec, list):
        for item in spec:
            yield from _spec_texts(item)


def _legend_values(spec: dict) -> Iterator[str]:
    """Category names a legend, a facet header or a text mark reads from the data."""
    fields = set()

    def walk(node):
        if isinstance(node, dict):
            enc = node.get("encoding")
            if isinstance(enc, dict):
                for channel in ("color", "strokeDash", "shape", "facet", "row", "column", "text"):
                    f = enc.get(channel)
                    if isinstance(f, dict) and f.get("type") in ("nominal", "ordinal") and "field" in f:
                        fields.add(f["field"])
            for key in ("facet",):
                f = node.get(key)
                if isinstance(f, dict) and "field" in f:
                    fields.add(f["field"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(spec)
    for rows in (spec.get("datasets") or {}).values():
        for row in rows:
            for field in fields:
                value = row.get(field)
                if isinstance(value, str):
                    yield value


def _arrow_datasets(proto) -> dict[str, list[dict]]:
    """A chart's named Arrow datasets (``ui.show_spec`` sends frames that way) as records."""
    out = {}
    for ds in getattr(proto, "datasets", []):
        if ds.data.data:
            out[ds.name] = pa.ipc.open_stream(ds.data.data).read_all().to_pylist()
    return out


def shown_text(at) -> list[str]:
    """Every piece of text the reader sees on the page (and its sidebar), in render order."""
    out: list[str] = []
    for node in at._tree:
        kind = type(node).__name__
        if kind in ("Code", "Exception", "Html"):
            continue  # links, tracebacks (tested elsewhere), our CSS
        if kind == "UnknownElement" and node.type in ("arrow_vega_lite_chart", "vega_lite_chart"):
            spec = json.loads(node.proto.spec)
            # the frames Streamlit sends beside the spec (Arrow), where legend categories live
            spec["datasets"] = {**(spec.get("datasets") or {}), **_arrow_datasets(node.proto)}
            out += list(_spec_texts(spec)) + list(dict.fromkeys(_legend_values(spec)))
            continue
        if kind in ("Dataframe", "Table"):
            frame = node.value
            if isinstance(frame, pd.DataFrame):
                out += [str(c) for c in frame.columns]
                for col in frame.columns:
                    if frame[col].dtype == object:
                        out += [v for v in frame[col].head(50) if isinstance(v, str)]
            continue
        for attr in ("value", "label", "help", "body"):
            try:
                value = getattr(node, attr, None)
            except Exception:
                continue
            if (isinstance(value, str) and attr != "value") or (attr == "value" and kind in _TEXT_VALUES):
                if isinstance(value, str):
                    out.append(value)
        if kind in ("Selectbox", "Radio", "Multiselect", "SelectSlider"):
            out += [str(o) for o in node.options]
    return [s for s in out if s]


# Elements whose ``value`` is text shown to the reader (a widget's value is a control setting).
_TEXT_VALUES = {
    "Markdown",
    "Caption",
    "Title",
    "Header",
    "Subheader",
    "Text",
    "Latex",
    "Warning",
    "Info",
    "Error",
    "Success",
    "Toast",
    "Metric",
}


def leftovers(at) -> list[tuple[str, list[str]]]:
    """(text, its English words) for every shown text that still has English words in it."""
    found = []
    for text in dict.fromkeys(shown_text(at)):
        words = english_words(text)
        if words:
            found.append((text[:160], words))
    return found
