"""The only core module that imports streamlit: page set-up, the shared sidebar,
URL-bound controls that explain rejected input, presenter mode, cached wrappers.

A page reads:

    ui.page("Conditioning")                      # config, sidebar, notes box
    gamma = ui.slider("lr", "γ (learning rate)", 0.001, 1.0, 0.1, help="…")
    …
    ui.show_chart(chart)
    ui.finish()                                   # unknown URL keys, "link to this view"

Every control is bound to the query string (``bind="query-params"``, the key is
the parameter name), so the URL always reproduces the view. Streamlit itself
drops an invalid URL value and falls back to the default; ``ui`` compares
what the URL asked for with what the widget returned and says so on the page.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from core import charts

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class PageInfo:
    path: str  # relative to the app root
    label: str
    icon: str


PAGES = [
    PageInfo("app.py", "Home", ":material/home:"),
    PageInfo("pages/1_Non_convexity.py", "Non-convexity", ":material/landscape:"),
    PageInfo("pages/2_Plateaus.py", "Plateaus", ":material/horizontal_rule:"),
    PageInfo("pages/3_Conditioning.py", "Conditioning", ":material/ssid_chart:"),
    PageInfo("pages/4_Normalization.py", "Normalization", ":material/tune:"),
    PageInfo("pages/5_BatchNorm_and_Skip.py", "BatchNorm & skip", ":material/account_tree:"),
]

# Keys every page understands (shared sidebar); all others belong to one page.
GLOBAL_KEYS = ("present", "contrast")
MAX_SHOWN = 40  # characters of a rejected URL value quoted back to the user


def page_exists(info: PageInfo) -> bool:
    return (ROOT / info.path).is_file()


def available_pages() -> list[PageInfo]:
    return [p for p in PAGES if page_exists(p)]


def page_link(info: PageInfo, container=None) -> None:
    """A link to one of our pages; plain text when Streamlit cannot route to it
    (with no pages/ folder, even app.py itself is not a routable page)."""
    container = container or st
    if len(available_pages()) > 1:
        try:
            container.page_link(info.path, label=info.label, icon=info.icon)
            return
        except StreamlitPageNotFoundError:
            pass
    container.markdown(f"{info.label}")


# --- per-run state -------------------------------------------------------------


@dataclass
class _Run:
    page: str
    notes: Any  # st container at the top of the page
    controls: dict[str, Any]  # key -> default
    values: dict[str, Any]  # key -> current value
    labels: dict[str, str]


def _run() -> _Run:
    run = st.session_state.get("_ui_run")
    if run is None:
        raise RuntimeError("call ui.page(...) first")
    return run


def presenter() -> bool:
    return bool(st.session_state.get("present", False))


def high_contrast() -> bool:
    return bool(st.session_state.get("contrast", False))


# --- page set-up ---------------------------------------------------------------


def page(title: str, intro: str | None = None) -> None:
    """Configure the page, draw the shared sidebar, and open the notes box."""
    st.set_page_config(page_title=f"{title} · Optimization Lab", page_icon="📉", layout="wide")
    warm_up()
    st.session_state["_ui_run"] = _Run(page=title, notes=None, controls={}, values={}, labels={})
    with st.sidebar:
        st.markdown("### Optimization Lab")
        for info in available_pages():
            page_link(info)
        st.divider()
        _global_toggle(
            "present", "Presenter mode", "Larger type and thicker lines for a projector. Also ?present=true."
        )
        _global_toggle(
            "contrast", "High contrast", "Black-on-white text and stronger chart lines. Also ?contrast=true."
        )
    _inject_css()
    st.title(title)
    _run().notes = st.container()
    if intro:
        st.markdown(intro)


def _global_toggle(key: str, label: str, help: str) -> bool:
    """A switch that follows the user from page to page and shows in the URL as ?key=true.

    Not ``bind="query-params"``: a page link drops the query string, and a bound widget
    then falls back to its default (measured in the browser). Here the URL sets the value
    when it names one, the session remembers it across pages, and the URL is kept in step.
    """
    remembered = st.session_state.setdefault("_ui_sticky", {})
    raw = _raw(key)
    if raw:
        wanted = raw[-1].strip().lower()
        if len(raw) == 1 and wanted in ("true", "false"):
            remembered[key] = wanted == "true"
            if key in st.session_state:  # the widget exists already: move it too
                st.session_state[key] = remembered[key]
        else:
            st.session_state.setdefault("_ui_global_notes", []).append(
                f"Link parameter `{key}` = `{_show(raw[-1])}` is not valid (true or false); "
                f"using {bool(remembered.get(key, False))}."
            )
    kw = {} if key in st.session_state else {"value": bool(remembered.get(key, False))}
    value = bool(st.toggle(label, key=key, help=help, **kw))
    remembered[key] = value
    try:
        if value:
            st.query_params[key] = "true"
        elif key in st.query_params:
            del st.query_params[key]
    except Exception:  # the URL is a convenience, never a reason to fail
        pass
    return value


def _inject_css() -> None:
    css = []
    if presenter():
        # Streamlit sizes text in rem: scaling the root scales the whole page.
        css.append("html { font-size: 22px; } .stMarkdown p, .stMarkdown li { line-height: 1.5; }")
    if high_contrast():
        css.append("body, .stMarkdown, p, li, label { color: #000 !important; }")
    if css:
        st.html("<style>" + "\n".join(css) + "</style>")


def note(text: str) -> None:
    """A visible note in the box at the top of the page (rejected input, divergence, …)."""
    _run().notes.warning(text, icon=":material/info:")


# --- URL-bound controls ------------------------------------------------------------


def _raw(key: str) -> list[str]:
    try:
        return st.query_params.get_all(key)
    except Exception:
        return []


def _show(raw: str) -> str:
    raw = raw if len(raw) <= MAX_SHOWN else raw[:MAX_SHOWN] + "…"
    return raw.replace("`", "'")


def _matches(raw: str, value: Any) -> bool:
    """Did the widget take the URL's value? (Numbers compared as numbers.)"""
    if isinstance(value, bool):
        return raw.strip().lower() == str(value).lower()
    if isinstance(value, (int, float)):
        try:
            x = float(raw)
        except ValueError:
            return False
        return math.isfinite(x) and math.isclose(x, float(value), rel_tol=1e-9, abs_tol=1e-12)
    return raw == str(value)


def _register(key: str, label: str, default: Any, value: Any, allowed: str, raw: list[str]) -> Any:
    run = _run()
    run.controls[key] = default
    run.values[key] = value
    run.labels[key] = label
    if raw and not (len(raw) == 1 and _matches(raw[0], value)):
        shown = ", ".join(f"`{_show(r)}`" for r in raw)
        note(f"Link parameter `{key}` = {shown} is not valid for “{label}” ({allowed}); using {value!r} instead.")
    return value


def _value_kw(key: str, default: Any) -> dict:
    # Once a value lives in session state (a reset or preset wrote it), passing a
    # default too would make Streamlit warn about two sources of truth.
    return {} if key in st.session_state else {"value": default}


def slider(
    key: str, label: str, min_value, max_value, default, step=None, help: str | None = None, fmt: str | None = None
):
    """A URL-bound slider; ints if all bounds are ints. Out-of-range URL values fall back to default."""
    raw = _raw(key)
    value = st.slider(
        label,
        min_value=min_value,
        max_value=max_value,
        step=step,
        key=key,
        help=help,
        format=fmt,
        bind="query-params",
        **_value_kw(key, default),
    )
    return _register(key, label, default, value, f"a number in [{min_value}, {max_value}]", raw)


def number(
    key: str, label: str, min_value, max_value, default, step=None, help: str | None = None, fmt: str | None = None
):
    """A URL-bound number input with hard bounds."""
    raw = _raw(key)
    value = st.number_input(
        label,
        min_value=min_value,
        max_value=max_value,
        step=step,
        key=key,
        help=help,
        format=fmt,
        bind="query-params",
        **_value_kw(key, default),
    )
    return _register(key, label, default, value, f"a number in [{min_value}, {max_value}]", raw)


def select(key: str, label: str, options: list[str], default: str, help: str | None = None, horizontal: bool = False):
    """A URL-bound choice among strings (radio when ``horizontal``, else a select box)."""
    raw = _raw(key)
    kw = {} if key in st.session_state else {"index": options.index(default)}
    widget = functools.partial(st.radio, horizontal=True) if horizontal else st.selectbox
    value = widget(label, options, key=key, help=help, bind="query-params", **kw)
    return _register(key, label, default, value, "one of " + ", ".join(options), raw)


def toggle(key: str, label: str, default: bool = False, help: str | None = None) -> bool:
    """A URL-bound on/off switch (``?key=true``)."""
    raw = _raw(key)
    value = st.toggle(label, key=key, help=help, bind="query-params", **_value_kw(key, default))
    return _register(key, label, default, value, "true or false", raw)


def text(key: str, label: str, default: str, max_chars: int = 200, help: str | None = None) -> str:
    """A URL-bound one-line text field. The page parses the text and says what it cannot use;
    Streamlit cuts a URL value longer than ``max_chars`` to that length (and the page says so)."""
    raw = _raw(key)
    value = st.text_input(
        label, key=key, help=help, max_chars=max_chars, bind="query-params", **_value_kw(key, default)
    )
    return _register(key, label, default, value, f"text of at most {max_chars} characters", raw)


def tabs(key: str, labels: list[str], default: str | None = None) -> list:
    """URL-bound tabs (``?key=<label>``) that run lazily: ``tab.open`` is True only for the shown one.

    Put cheap controls in every tab (so their state and URL keys survive a tab switch)
    and compute only ``if tab.open``. Streamlit drops an unknown label from the URL; the
    page says so like for any other control.
    """
    raw = _raw(key)
    default = default if default is not None else labels[0]
    # As for the other controls: once session state holds the value, pass no default too.
    kw = {} if key in st.session_state else {"default": default}
    containers = st.tabs(labels, key=key, bind="query-params", **kw)
    value = st.session_state.get(key, default)
    _register(key, "section", default, value, "one of " + ", ".join(labels), raw)
    return containers


# --- finishing a page ------------------------------------------------------------


def view_link(values: dict[str, Any] | None = None) -> str:
    """A URL that reproduces every control of this page (defaults included, so the
    link keeps meaning the same view if a default changes later)."""
    run = _run()
    values = dict(run.values if values is None else values)
    for key in GLOBAL_KEYS:
        if st.session_state.get(key):
            values[key] = True
    query = urlencode({k: str(v).lower() if isinstance(v, bool) else _fmt(v) for k, v in values.items()})
    base = st.context.url or ""
    return f"{base}?{query}" if query else base


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return repr(v) if v != int(v) else str(int(v))
    return str(v)


def _reset(keys: dict[str, Any]) -> None:
    for key, default in keys.items():
        st.session_state[key] = default


def finish() -> None:
    """Report unknown URL keys, then the sidebar's reset button and link to this view."""
    run = _run()
    for text in st.session_state.pop("_ui_global_notes", []):
        note(text)
    try:
        keys = list(st.query_params.keys())
    except Exception:
        keys = []
    unknown = [k for k in keys if k not in run.controls and k not in GLOBAL_KEYS]
    if unknown:
        shown = ", ".join(f"`{_show(k)}`" for k in unknown[:5]) + (" …" if len(unknown) > 5 else "")
        note(f"Ignored link parameter(s) this page does not have: {shown}.")
    with st.sidebar:
        st.divider()
        if run.controls:
            st.button(
                "Reset this page to defaults",
                on_click=_reset,
                args=(dict(run.controls),),
                icon=":material/restart_alt:",
                width="stretch",
            )
        with st.expander("Link to this view", icon=":material/link:"):
            st.caption("Copy this link onto a slide: it opens this page with every control as it is now.")
            st.code(view_link(), language=None, wrap_lines=True)


# --- charts and caching ---------------------------------------------------------------


def show_chart(chart, key: str | None = None, **kwargs):
    """Render an Altair chart with the current presenter/contrast styling."""
    styled = charts.styled(chart, presenter=presenter(), high_contrast=high_contrast())
    return st.altair_chart(styled, width="stretch", key=key, **kwargs)


def cached(func: Callable | None = None, *, max_entries: int = 64, ttl: float | None = 3600):
    """``st.cache_data`` with a bounded size (many students share one server).

    Cache on plain settings (numbers, strings): torch tensors are not hashable here.
    """

    def wrap(f):
        return st.cache_data(max_entries=max_entries, ttl=ttl, show_spinner=False)(f)

    return wrap(func) if func is not None else wrap


@st.cache_resource(show_spinner=False)
def warm_up() -> bool:
    """Once per server process: set the thread policy and pay torch.func's first-call cost."""
    import torch

    from core import hessian

    # One torch thread per computation: the server runs one script thread per session on
    # two cores, and torch's own pool then oversubscribes them. Measured by the Conditioning
    # page's author on the loaded machine: the default MLP Hessian took 0.66 s with 1 thread,
    # 19 s wall with 2. This is the app's process-wide policy, set once, here.
    torch.set_num_threads(1)
    hessian.warm_up()
    return True
