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
import hashlib
import html
import importlib.util
import math
import pickle
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import numpy as np
import pandas as pd
import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from core import charts, i18n, lecture
from core.i18n import t

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class PageInfo:
    path: str  # relative to the app root
    label: str  # English name: identifies the page (presets, ownership of keys)
    icon: str
    key: str  # catalogue prefix (core/locales/<lang>/<key>.toml); the shown name is common.pages.<key>

    @property
    def name(self) -> str:
        """The page's name in the current language."""
        return t(f"common.pages.{self.key}")


PAGES = [
    PageInfo("app.py", "Home", ":material/home:", "home"),
    PageInfo("pages/1_Non_convexity.py", "Non-convexity", ":material/landscape:", "nonconvex"),
    PageInfo("pages/2_Plateaus.py", "Plateaus", ":material/horizontal_rule:", "plateaus"),
    PageInfo("pages/3_Conditioning.py", "Conditioning", ":material/ssid_chart:", "conditioning"),
    PageInfo("pages/4_Normalization.py", "Normalization", ":material/tune:", "normalization"),
    PageInfo("pages/5_BatchNorm_and_Skip.py", "BatchNorm & skip", ":material/account_tree:", "batchnorm"),
]

# Keys every page understands (shared sidebar); all others belong to one page.
GLOBAL_KEYS = ("present", "contrast", "lang")
# What a global switch accepts in the URL (?present=1 is what people type on a slide).
_SWITCH_WORDS = {"true": True, "1": True, "false": False, "0": False}
MAX_SHOWN = 40  # characters of a rejected URL value quoted back to the user


def page_exists(info: PageInfo) -> bool:
    return (ROOT / info.path).is_file()


def available_pages() -> list[PageInfo]:
    return [p for p in PAGES if page_exists(p)]


def page_link(info: PageInfo, container=None, preset: str | None = None) -> None:
    """A link to one of our pages, opening it in ``preset`` (core/lecture.py) when given;
    plain text when Streamlit cannot route to it (with no pages/ folder, even app.py
    itself is not a routable page)."""
    container = container or st
    if len(available_pages()) > 1:
        if preset is not None:
            label = f"{info.name}: {lecture.preset_name(info.label, preset)}"
            container.markdown(preset_anchor(info, preset, label), unsafe_allow_html=True)
            return
        try:
            container.page_link(info.path, label=info.name, icon=info.icon)
            return
        except StreamlitPageNotFoundError:
            pass
    container.markdown(info.name)


# --- per-run state -------------------------------------------------------------


@dataclass
class _Run:
    page: str
    notes: Any  # st container at the top of the page
    controls: dict[str, Any]  # key -> default
    values: dict[str, Any]  # key -> current value
    labels: dict[str, str]
    presets: Any = None  # st container under the title, filled by finish() (values known by then)
    options: dict[str, list] = field(default_factory=dict)  # key -> a choice's values (shown names differ)
    charts: int = 0  # charts shown so far: numbers their download buttons


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
    """Configure the page, draw the shared sidebar, and open the notes box.

    ``title`` is the page's English label in PAGES ("Optimization Lab" for home): it names
    the page for presets and key ownership; the title shown is the page's name in the chosen
    language. ``intro`` is a catalogue key (core/locales), read after the language is known."""
    _choose_language()  # first: every string below depends on it
    info = next((p for p in PAGES if p.label == title), None)
    shown = t("common.app_name") if info is None or info.key == "home" else info.name
    tab_title = shown if info is None or info.key == "home" else f"{shown} · {t('common.app_name')}"
    st.set_page_config(page_title=tab_title, page_icon="📉", layout="wide")
    st.session_state["_ui_run"] = _Run(page=title, notes=None, controls={}, values={}, labels={})
    with st.sidebar:
        st.markdown(f"### {t('common.app_name')}")
        for page_info in available_pages():
            page_link(page_info)
        st.divider()
        _language_select()
        _global_toggle("present", t("common.sidebar.present"), t("common.sidebar.present_help"))
        _global_toggle("contrast", t("common.sidebar.contrast"), t("common.sidebar.contrast_help"))
    _inject_css()
    st.title(shown)
    _run().notes = st.container()
    if lecture.PRESETS.get(title):
        _run().presets = st.container()
    if intro:
        prose(t(intro))
    # Warm-up (import torch, thread policy, first torch.func call: seconds on a fresh server)
    # after the title, sidebar and intro are drawn, so it never delays the first paint. A topic
    # page has imported torch already and computes next: warm it now. The home page needs no
    # torch: it warms up in finish(), once it is drawn (benchmarks/bench_coldstart.py).
    if "torch" in sys.modules:
        warm_up()


def _from_link(key: str, parse: Callable[[str], Any], allowed: str) -> None:
    """Apply a global setting a link asks for (``?present=1``, ``?lang=zh``) to the session.

    Only a value the app did not put into the URL itself counts as asked for: the URL keeps
    what the app last wrote until the browser sends the next query string, and re-applying
    it would undo a switch the user has just flipped in the sidebar."""
    remembered = st.session_state.setdefault("_ui_sticky", {})
    written = st.session_state.setdefault("_ui_written", {})
    raw = _raw(key)
    if not raw or raw == written.get(key):
        return
    value = parse(raw[-1].strip().lower()) if len(raw) == 1 else None
    if value is None:
        st.session_state.setdefault("_ui_global_notes", []).append(
            t("common.notes.bad_global", key=key, value=_show(raw[-1]), allowed=allowed, using=remembered.get(key))
        )
        return
    remembered[key] = value
    if key in st.session_state:  # the widget exists already: move it too
        st.session_state[key] = value


def _to_link(key: str, value: Any, default: Any) -> None:
    """Keep the URL in step with a global setting (absent when at its default)."""
    st.session_state.setdefault("_ui_sticky", {})[key] = value
    written = st.session_state.setdefault("_ui_written", {})
    try:
        if value != default:
            st.query_params[key] = _url_value(value)
            written[key] = [_url_value(value)]
        else:
            written[key] = None
            if key in st.query_params:
                del st.query_params[key]
    except Exception:  # the URL is a convenience, never a reason to fail
        pass


def _choose_language() -> str:
    """The language of this run: ``?lang=`` from a link, else the sidebar's choice, else English."""
    _from_link("lang", lambda w: w if w in i18n.LANGUAGES else None, " / ".join(i18n.LANGUAGES))
    code = st.session_state.get("lang", st.session_state.get("_ui_sticky", {}).get("lang", i18n.DEFAULT))
    i18n.set_language(code)
    return i18n.language()


def _language_select() -> str:
    codes = list(i18n.LANGUAGES)
    kw = {} if "lang" in st.session_state else {"index": codes.index(i18n.language())}
    code = st.selectbox(
        "Language · 语言", codes, format_func=i18n.LANGUAGES.get, key="lang", help=t("common.sidebar.lang_help"), **kw
    )
    _run().options["lang"] = codes
    _to_link("lang", code, i18n.DEFAULT)
    return code


def _global_toggle(key: str, label: str, help: str) -> bool:
    """A switch that follows the user from page to page and shows in the URL as ?key=true.

    Not ``bind="query-params"``: a page link drops the query string, and a bound widget
    then falls back to its default (measured in the browser). Here a link sets the value
    when it names one, the session remembers it across pages, and the URL is kept in step.
    """
    _from_link(key, _SWITCH_WORDS.get, "true/1, false/0")
    remembered = st.session_state.setdefault("_ui_sticky", {})
    kw = {} if key in st.session_state else {"value": bool(remembered.get(key, False))}
    value = bool(st.toggle(label, key=key, help=help, **kw))
    _to_link(key, value, False)
    return value


_PRESET_CSS = """
.optlab-presets a { display: inline-block; margin: 0.15rem 0.15rem; padding: 0.1rem 0.75rem;
  border: 1px solid #0072B2; border-radius: 1rem; color: #0072B2; text-decoration: none; }
.optlab-presets a:hover, .optlab-presets a:focus { background: #E6F1F8; }
.optlab-presets a.active { background: #0072B2; color: #FFFFFF; }
"""


# Measured on 1280×720 screenshots: at presenter type sizes, two charts side by side
# truncate their titles and legends, so a row of two columns that holds a chart stacks
# (full width each). Rows of controls stay side by side, and so do rows of three or more
# small multiples and rows inside a container keyed SMALL_MULTIPLES-…: maps whose shape is
# the point would be stretched flat.
SMALL_MULTIPLES = "optlab-small-multiples"
_TWO_CHART_ROW = (
    '[data-testid="stHorizontalBlock"]:has(> [data-testid="stColumn"]:nth-child(2):last-child)'
    f':has([data-testid="stVegaLiteChart"]):not([class*="st-key-{SMALL_MULTIPLES}"] *)'
)
_PRESENTER_LAYOUT_CSS = f"""
[data-testid="stMainBlockContainer"] {{ padding: 3.5rem 1.5rem 4rem 1.5rem; }}
{_TWO_CHART_ROW} {{ flex-wrap: wrap; }}
{_TWO_CHART_ROW} > [data-testid="stColumn"] {{
  width: 100% !important; min-width: 100% !important; flex: 1 1 100% !important; }}
"""


def _inject_css() -> None:
    css = [_PRESET_CSS]
    if presenter():
        # Streamlit sizes text in rem: scaling the root scales the whole page.
        css.append("html { font-size: 22px; } .stMarkdown p, .stMarkdown li { line-height: 1.5; }")
        css.append(_PRESENTER_LAYOUT_CSS)
    if high_contrast():
        css.append("body, .stMarkdown, p, li, label { color: #000 !important; }")
    if css:
        st.html("<style>" + "\n".join(css) + "</style>")


def prose(md: str, label: str | None = None) -> None:
    """Explanatory paragraphs: shown as they are, but folded into a collapsed expander in
    presenter mode so that the charts get the room. The live numbers to notice are never prose."""
    if presenter():
        with st.expander(label or t("common.explanation"), icon=":material/notes:"):
            st.markdown(md)
    else:
        st.markdown(md)


def note(text: str) -> None:
    """A visible note in the box at the top of the page (rejected input, divergence, …)."""
    _run().notes.warning(text, icon=":material/info:")


# --- URL-bound controls ------------------------------------------------------------


def _raw(key: str) -> list[str]:
    try:
        return st.query_params.get_all(key)
    except Exception:
        return []


def _finite_or_text(raw: str) -> bool:
    """False for a URL value that reads as an infinite number ('inf', '1e400', 400 nines)."""
    try:
        return math.isfinite(float(raw))
    except ValueError:
        return True


def _drop_param(key: str) -> None:
    """Remove ``key`` from the URL and from the page-load copy that Streamlit seeds bound
    widgets from (private in 1.67, hence guarded; tests/test_fuzz.py covers it)."""
    try:
        from streamlit.runtime.state import get_session_state

        with get_session_state().query_params() as qp:
            qp._initial_query_params.pop(key, None)
        del st.query_params[key]
    except Exception:  # the URL is a convenience, never a reason to fail
        pass


def _rename_param(key: str, text: str) -> None:
    """Put ``text`` into the URL for ``key`` (and the page-load copy), the browser's address bar too."""
    try:
        from streamlit.runtime.state import get_session_state

        with get_session_state().query_params() as qp:
            qp._initial_query_params[key] = [text]
            qp.set_corrected_value(key, text, "string_value")
    except Exception:  # the URL is a convenience, never a reason to fail
        pass


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
        note(t("common.notes.bad_value", key=key, value=shown, label=label, allowed=allowed, using=repr(value)))
    return value


def _claim(key: str) -> None:
    """Make ``key`` this page's control.

    Pages share keys with other ranges and options (lam, steps, depth, seed, section, ...),
    and Streamlit keeps a moved widget's value under its key after the user leaves its page:
    moving "steps" to 310 on Non-convexity, then following the sidebar link to Conditioning
    (max 300) raised StreamlitValueAboveMaxError there (found by benchmarks/bench_load.py).
    So a key last used by another page starts from this page's default; a page's own keys
    keep their values across visits, as before."""
    owners = st.session_state.setdefault("_ui_owner", {})
    page = _run().page
    if owners.get(key, page) != page:
        st.session_state.pop(key, None)
    owners[key] = page


def _value_kw(key: str, default: Any, name: str = "value") -> dict:
    """``{name: default}``: every widget is created with the page's default, on every run.

    A bound widget leaves the URL when its value equals the default it was *created with*;
    one created without a default takes its minimum. Created without one whenever session
    state held its value, a page revisited through the sidebar wrote every control not at
    its minimum into the URL (?x=1&t=1&scale=1 on Non-convexity), and after Reset a slider
    moved to its minimum dropped out of the URL, so a reload lost it
    (tests/test_browser_navigation.py). When code has written the key (Reset, a click on a
    map), Streamlit takes the written value and logs a second source of truth once per
    process; .streamlit/config.toml silences that log (disableWidgetStateDuplicationWarning)."""
    _claim(key)
    return {name: default}


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
    return _register(key, label, default, value, t("common.allowed.range", lo=min_value, hi=max_value), raw)


def number(
    key: str, label: str, min_value, max_value, default, step=None, help: str | None = None, fmt: str | None = None
):
    """A URL-bound number input with hard bounds."""
    raw = _raw(key)
    if isinstance(default, int) and not all(_finite_or_text(r) for r in raw):
        # Streamlit's int number_input raises OverflowError on ?key=inf or 1e400 (int(inf)):
        # drop such a value from the URL first; the note below still quotes it.
        _drop_param(key)
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
    return _register(key, label, default, value, t("common.allowed.range", lo=min_value, hi=max_value), raw)


def select(
    key: str,
    label: str,
    options: list[str],
    default: str,
    help: str | None = None,
    horizontal: bool = False,
    names: dict[str, str] | None = None,
):
    """A URL-bound choice among strings (radio when ``horizontal``, else a select box).

    The options are what the page receives, in every language; ``names`` maps an option to
    the text shown for it (``t(...)``), where that differs. Streamlit binds the *shown* name
    to the URL, so a link that names the option itself (presets, "Link to this view", an
    English link opened in 中文) is taken here, before the widget, as for tabs."""
    raw = _raw(key)
    shown = (lambda option: names.get(option, option)) if names else str
    alias = {option: option for option in options} | {shown(option): option for option in options}
    _claim(key)
    if len(raw) == 1 and raw[0] in options and shown(raw[0]) != raw[0]:
        _rename_param(key, shown(raw[0]))  # what the widget binds: the name, in this language
        st.session_state[key] = raw[0]
    elif len(raw) == 1 and raw[0] not in alias and st.session_state.get(key) in options:
        # the name this choice had in the language the reader just switched from (the browser
        # wrote it): not a bad link; show the current choice's name in the URL instead
        _rename_param(key, shown(st.session_state[key]))
        raw = []
    kw = _value_kw(key, options.index(default), name="index")
    widget = functools.partial(st.radio, horizontal=True) if horizontal else st.selectbox
    value = widget(label, options, key=key, help=help, bind="query-params", format_func=shown, **kw)
    _run().options[key] = list(options)
    allowed = t("common.allowed.one_of", options=", ".join(options))
    return _register(key, label, default, value, allowed, [alias.get(r, r) for r in raw])


def toggle(key: str, label: str, default: bool = False, help: str | None = None) -> bool:
    """A URL-bound on/off switch (``?key=true``)."""
    raw = _raw(key)
    value = st.toggle(label, key=key, help=help, bind="query-params", **_value_kw(key, default))
    return _register(key, label, default, value, t("common.allowed.bool"), raw)


def text(key: str, label: str, default: str, max_chars: int = 200, help: str | None = None) -> str:
    """A URL-bound one-line text field. The page parses the text and says what it cannot use;
    Streamlit cuts a URL value longer than ``max_chars`` to that length (and the page says so)."""
    raw = _raw(key)
    value = st.text_input(
        label, key=key, help=help, max_chars=max_chars, bind="query-params", **_value_kw(key, default)
    )
    return _register(key, label, default, value, t("common.allowed.text", n=max_chars), raw)


def tabs(key: str, labels: list[str], default: str | None = None, names: dict[str, str] | None = None) -> list:
    """URL-bound tabs (``?key=<label>``) that run lazily: ``tab.open`` is True only for the shown one.

    Put cheap controls in every tab (so their state and URL keys survive a tab switch)
    and compute only ``if tab.open``. Streamlit drops an unknown label from the URL; the
    page says so like for any other control.

    ``labels`` are the tabs' names in links and presets (English); ``names`` maps each to the
    catalogue key of its shown name. Streamlit binds the *shown* name to the URL, so a link or
    a session that names a tab in another language is translated here, before the widget.
    """
    raw = _raw(key)
    default = default if default is not None else labels[0]
    shown = {label: t(names[label]) if names else label for label in labels}
    alias = {label: label for label in labels}  # any language's name of a tab -> its label
    for code in i18n.LANGUAGES if names else ():
        alias.update({t(names[label], lang=code): label for label in labels})
    _claim(key)
    if len(raw) == 1 and raw[0] in alias and raw[0] != shown[alias[raw[0]]]:
        _rename_param(key, shown[alias[raw[0]]])  # a link in another language: this language's name
        st.session_state[key] = shown[alias[raw[0]]]
    elif st.session_state.get(key) in alias and st.session_state[key] not in shown.values():
        st.session_state[key] = shown[alias[st.session_state[key]]]  # the language was just switched
    kw = _value_kw(key, shown[default], name="default")
    containers = st.tabs(list(shown.values()), key=key, bind="query-params", **kw)
    value = alias.get(st.session_state.get(key), default)
    allowed = t("common.allowed.one_of", options=", ".join(labels))
    _register(key, t("common.section"), default, value, allowed, [alias.get(r, r) for r in raw])
    return containers


# --- finishing a page ------------------------------------------------------------


def view_link(values: dict[str, Any] | None = None) -> str:
    """A URL that reproduces every control of this page (defaults included, so the
    link keeps meaning the same view if a default changes later)."""
    run = _run()
    values = dict(run.values if values is None else values)
    query = urlencode({**{k: _url_value(v) for k, v in values.items()}, **_global_query()})
    base = st.context.url or ""
    return f"{base}?{query}" if query else base


def _url_value(v: Any) -> str:
    return str(v).lower() if isinstance(v, bool) else _fmt(v)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return repr(v) if v != int(v) else str(int(v))
    return str(v)


def _reset(keys: dict[str, Any]) -> None:
    for key, default in keys.items():
        st.session_state[key] = default


# --- lecture presets ----------------------------------------------------------------
# A preset puts every control of a page into the state of one slide (core/lecture.py).
# A preset IS a deep link: its query string names the controls it sets, and a freshly
# opened page takes the default for every other control. Applying one is following that
# link (a new session), so the address bar, the back button and "Link to this view" hold
# the preset, exactly as on a slide. (Measured in the browser: writing the controls from a
# callback pushes one history entry per control, and a link to the same page through
# st.page_link keeps the values of the controls it does not name.)


def preset_state(controls: dict[str, Any], preset: dict[str, Any]) -> dict[str, Any]:
    """All controls of a page: the preset's value where it names one, the default elsewhere."""
    return {key: preset.get(key, default) for key, default in controls.items()}


def preset_query(page: str, name: str) -> dict[str, str]:
    """The query string that opens ``page`` in preset ``name``; the global switches that
    are on (presenter mode, high contrast) travel along."""
    query = {key: _url_value(v) for key, v in lecture.PRESETS[page][name].items()}
    return {**query, **_global_query()}


def _global_query() -> dict[str, str]:
    """The global settings that differ from their defaults, as the URL spells them
    (``present=true``, ``contrast=true``, ``lang=zh``): they travel with every link."""
    query = {key: "true" for key in ("present", "contrast") if st.session_state.get(key)}
    if i18n.language() != i18n.DEFAULT:
        query["lang"] = i18n.language()
    return query


def url_path(info: PageInfo) -> str:
    """Where Streamlit serves a script: 'pages/3_Conditioning.py' -> 'Conditioning', app.py -> ''."""
    if info.path == "app.py":
        return ""
    head, _, rest = Path(info.path).stem.partition("_")
    return rest if head.isdigit() and rest else Path(info.path).stem


def preset_anchor(info: PageInfo, name: str, label: str, active: bool = False) -> str:
    """An HTML link that opens page ``info`` in preset ``name`` (a relative URL, so it works
    under any base path; target _self, where Streamlit's markdown links open a new tab)."""
    preset = lecture.PRESETS[info.label][name]
    href = f"{url_path(info)}?{urlencode(preset_query(info.label, name))}".rstrip("?") or "./"
    named = ", ".join(f"{k} = {v}" for k, v in preset.items()) or t("common.presets.defaults")
    return (
        f'<a class="optlab-preset{" active" if active else ""}" href="{html.escape(href)}" target="_self" '
        f'title="{html.escape(named)}">{html.escape(label)}</a>'
    )


def _same(values: dict[str, Any], state: dict[str, Any]) -> bool:
    def eq(a, b):
        if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
            return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
        return a == b

    return all(eq(values.get(key), value) for key, value in state.items())


def _draw_presets(run: _Run) -> None:
    """The page's presets as links under the title; the one the page is in now is filled."""
    presets = lecture.PRESETS.get(run.page, {})
    if run.presets is None or not presets:
        return
    info = next(p for p in PAGES if p.label == run.page)
    links = [
        preset_anchor(
            info,
            name,
            lecture.preset_name(run.page, name),
            active=_same(run.values, preset_state(run.controls, preset)),
        )
        for name, preset in presets.items()
    ]
    run.presets.markdown(
        f'<div class="optlab-presets"><strong>{html.escape(t("common.presets.title"))}</strong> '
        f"{' '.join(links)}</div>",
        unsafe_allow_html=True,
    )


def finish() -> None:
    """Report unknown URL keys, then the presets, the sidebar's reset button and link to this view."""
    run = _run()
    _draw_presets(run)
    for text in st.session_state.pop("_ui_global_notes", []):
        note(text)
    try:
        keys = list(st.query_params.keys())
    except Exception:
        keys = []
    unknown = [k for k in keys if k not in run.controls and k not in GLOBAL_KEYS]
    if unknown:
        shown = ", ".join(f"`{_show(k)}`" for k in unknown[:5]) + (" …" if len(unknown) > 5 else "")
        note(t("common.notes.unknown_keys", keys=shown))
    with st.sidebar:
        st.divider()
        if run.controls:
            st.button(
                t("common.sidebar.reset"),
                on_click=_reset,
                args=(dict(run.controls),),
                icon=":material/restart_alt:",
                width="stretch",
            )
        with st.expander(t("common.sidebar.link"), icon=":material/link:"):
            st.caption(t("common.sidebar.link_help"))
            st.code(view_link(), language=None, wrap_lines=True)
    warm_up()  # a no-op once done; on the home page, pays the warm-up after the page is drawn


# --- charts and caching ---------------------------------------------------------------


def look() -> tuple[bool, bool, str]:
    """What a styled spec depends on besides its data: presenter mode, contrast, language.
    A page that caches its own specs puts this into the cache key."""
    return presenter(), high_contrast(), i18n.language()


def show_chart(chart, key: str | None = None, **kwargs):
    """Render an Altair chart with the current presenter/contrast styling, and its data as CSV.

    Sent as ``charts.chart_spec`` (what ``st.altair_chart`` would send, without its schema
    validation). A page that can pass the builder and its inputs instead should call ``chart``:
    a rerun with the same inputs then skips building the chart too."""
    return show_spec(charts.chart_spec(chart, *look()[:2]), key=key, **kwargs)


def chart(builder: Callable, *args, **kwargs):
    """``show_chart(builder(*args, **kwargs))`` for a builder of ``core.charts``, its styled spec
    cached on the inputs (frames, arrays and plain values: hashable by ``st.cache_data``).
    Building an Altair chart costs tens of ms; a cache hit costs the hashing of the inputs."""
    if getattr(charts, builder.__name__, None) is not builder:
        raise ValueError(f"{builder!r} is not a chart builder of core.charts")
    key = hashlib.blake2b(digest_size=16)
    _digest((builder.__name__, args, kwargs), key)
    return show_spec(_cached_spec(key.hexdigest(), look(), builder.__name__, args, kwargs))


@st.cache_data(max_entries=256, ttl=3600, show_spinner=False)
def _cached_spec(key: str, look: tuple[bool, bool, str], _name: str, _args: tuple, _kwargs: dict) -> dict:
    # Streamlit hashes only ``key`` and ``look`` (not the _underscored inputs): ``_digest``
    # is several times faster on our frames than Streamlit's general hashing.
    return charts.chart_spec(getattr(charts, _name)(*_args, **_kwargs), *look[:2])


def _digest(obj: Any, h) -> None:
    """Feed ``obj`` (frames, arrays, containers of plain values) to the hash ``h``."""
    if isinstance(obj, pd.DataFrame):
        h.update(repr((obj.shape, list(obj.columns), [str(t) for t in obj.dtypes])).encode())
        h.update(pd.util.hash_pandas_object(obj).to_numpy().tobytes())
    elif isinstance(obj, np.ndarray):
        h.update(repr((obj.shape, obj.dtype.str)).encode())
        h.update(np.ascontiguousarray(obj).tobytes())
    elif isinstance(obj, (list, tuple)):
        h.update(f"{type(obj).__name__}{len(obj)}(".encode())
        for item in obj:
            _digest(item, h)
        h.update(b")")
    elif isinstance(obj, dict):
        h.update(f"dict{len(obj)}(".encode())
        for k, v in obj.items():
            _digest(k, h)
            _digest(v, h)
        h.update(b")")
    elif obj is None or isinstance(obj, (str, bool, int, float, np.number)):
        h.update(repr((type(obj).__name__, obj)).encode())
    else:  # anything else: by its pickle (correct, if slower)
        h.update(type(obj).__qualname__.encode() + pickle.dumps(obj))


def show_spec(spec: dict, key: str | None = None, **kwargs):
    """Render a Vega-Lite spec (``charts.chart_spec``, ``vega_specs``, ``nonconvex_specs``) across the
    container, with small buttons under it: the chart's data as CSV, the chart as SVG (PNG is in
    Streamlit's own chart toolbar). Files are made only when clicked (callables), so a rerun pays
    nothing for them."""
    if not spec.get("description"):  # the chart's text alternative (aria-label); specs may be cached: copy
        spec = {**spec, "description": charts.describe(spec)}
    shown = st.vega_lite_chart(spec, width="stretch", key=key, **kwargs)
    if spec.get("datasets"):
        run = _run()
        run.charts += 1
        title = spec.get("title")
        title = title.get("text", "") if isinstance(title, dict) else title or ""
        name = _file_name(run.page, " ".join(title) if isinstance(title, list) else str(title))
        common = dict(on_click="ignore", type="tertiary", icon=":material/download:")
        with st.container(horizontal=True, gap="small"):
            st.download_button(
                "CSV",
                functools.partial(charts.csv_text, spec),
                file_name=f"{name}.csv",
                mime="text/csv",
                key=f"_ui_csv_{run.charts}",
                help=t("common.download.csv"),
                **common,
            )
            if _HAS_SVG:
                st.download_button(
                    "SVG",
                    functools.partial(charts.svg_text, spec),
                    file_name=f"{name}.svg",
                    mime="image/svg+xml",
                    key=f"_ui_svg_{run.charts}",
                    help=t("common.download.svg"),
                    **common,
                )
    return shown


_HAS_SVG = importlib.util.find_spec("vl_convert") is not None  # optional: SVG export only


def _file_name(page: str, title: str) -> str:
    """``Page-chart-title`` (no extension): letters, digits and dashes only."""
    words = "".join(c if c.isalnum() else " " for c in f"{page} {title}".strip()).split()
    return "-".join(words)[:80]


def cached(func: Callable | None = None, *, max_entries: int = 64, ttl: float | None = 3600):
    """``st.cache_data`` with a bounded size (many students share one server).

    Cache on plain settings (numbers, strings): torch tensors are not hashable here.
    """

    def wrap(f):
        if _defined_in_a_page(f):
            return st.cache_data(max_entries=max_entries, ttl=ttl, show_spinner=False)(f)
        return _cache_data(f, max_entries, ttl)

    return wrap(func) if func is not None else wrap


def _defined_in_a_page(f: Callable) -> bool:
    """A function a page script defines (Streamlit runs the script as ``__main__``): a new
    object on every rerun, whose globals are that run's whole namespace (frames, results)."""
    return getattr(f, "__module__", None) == "__main__"


@functools.lru_cache(maxsize=256)
def _cache_data(f: Callable, max_entries: int, ttl: float | None):
    # One wrapper per module function: pages call ``ui.cached(f)(...)`` inline on every rerun, and
    # each new st.cache_data wrapper reads and hashes f's source again (~1-2 ms each). Never a
    # page's own function (``cached`` wraps those afresh, as before): every rerun defines it
    # anew, so it never hit here, and each entry kept a dead run's namespace alive, ~800 objects
    # that every after-run garbage collection walked again (Plateaus, 60 reruns: 18k → 56k
    # objects, 22 → 44 ms per collection; up to 256 namespaces).
    return st.cache_data(max_entries=max_entries, ttl=ttl, show_spinner=False)(f)


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
    freeze_heap()
    return True


# What the pages import (directly or on their first computation), loaded before freeze_heap.
PAGE_MODULES = (
    "core.conditioning",
    "core.deepnets",
    "core.nonconvex",
    "core.normalization",
    "core.plateaus",
    "altair",
    "pyarrow",
    "scipy.linalg",
    "scipy.sparse.linalg",
    "threadpoolctl",
)


def freeze_heap() -> None:
    """Move everything alive after the imports out of the garbage collector's sight (gc.freeze).

    Streamlit runs a full collection after every script run (``runner.postScriptGC``), which
    walks every tracked object: with torch, pandas, Altair and scipy loaded that is ~270k
    long-lived objects (modules, classes, functions) and ~120 ms of GIL time per interaction,
    a third of the server's CPU with 20 sessions (py-spy, benchmarks/bench_load_ws.py). Frozen
    objects are never collected, so freeze only after a collection, once the pages' modules are
    imported; the per-run collection then walks only what runs create, and still frees it.
    """
    import gc
    import importlib

    for name in PAGE_MODULES:
        importlib.import_module(name)
    gc.collect()
    gc.freeze()
