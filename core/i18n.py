"""English and 中文: one catalogue per language, looked up by key.

A language's catalogue is the folder ``core/locales/<code>/``: one TOML file per page
(``nonconvex.toml`` …) plus ``common.toml`` for what every page shares. Keys are the file's
stem followed by the TOML path, so ``[lam] label = "λ (weight decay)"`` in ``nonconvex.toml``
is ``nonconvex.lam.label``. Every key exists in every language (tests/test_i18n.py).

    t("nonconvex.title")                         -> "Non-convexity" / "非凸性"
    t("conditioning.steps_to_tol", steps=228)    -> placeholders {name} or {name:.3g}

Placeholders are replaced only for the names passed, so LaTeX braces (``\\frac{1}{2}``) in a
string stay as they are. Formulas are not translated. The language of the current script run
lives in a context variable (Streamlit runs each session's script in its own thread), set by
``ui.page`` from ``?lang=`` or the sidebar; pure modules (charts, core) call ``t`` too.
"""

from __future__ import annotations

import contextvars
import functools
import re
import tomllib
from pathlib import Path
from typing import Any

LANGUAGES = {"en": "English", "zh": "中文"}
DEFAULT = "en"
LOCALES = Path(__file__).resolve().parent / "locales"

_language: contextvars.ContextVar[str] = contextvars.ContextVar("optlab_language", default=DEFAULT)
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(:[^{}]*)?\}")


def set_language(code: str) -> None:
    """Use ``code`` for every ``t`` of this thread's script run (unknown codes: English)."""
    _language.set(code if code in LANGUAGES else DEFAULT)


def language() -> str:
    return _language.get()


def _flatten(prefix: str, table: dict[str, Any], out: dict[str, str]) -> None:
    for key, value in table.items():
        name = f"{prefix}.{key}"
        if isinstance(value, dict):
            _flatten(name, value, out)
        else:
            out[name] = str(value)


@functools.cache
def catalogue(code: str) -> dict[str, str]:
    """Every string of language ``code``: key -> text (read once per process)."""
    out: dict[str, str] = {}
    for path in sorted((LOCALES / code).glob("*.toml")):
        with path.open("rb") as f:
            _flatten(path.stem, tomllib.load(f), out)
    return out


def t(key: str, /, lang: str | None = None, **values: Any) -> str:
    """The text of ``key`` in the current language (or ``lang``), placeholders filled.

    A key missing in the current language falls back to English (the test fails on it first);
    a key missing everywhere raises KeyError: a typo must not reach the page silently."""
    code = lang or language()
    text = catalogue(code).get(key)
    if text is None:
        text = catalogue(DEFAULT)[key]
    return fill(text, **values) if values else text


def fill(text: str, /, **values: Any) -> str:
    """Replace ``{name}`` / ``{name:spec}`` for the names given; leave every other brace alone."""

    def one(m: re.Match) -> str:
        name, spec = m.group(1), m.group(2)
        if name not in values:
            return m.group(0)
        return format(values[name], spec[1:] if spec else "")

    return _PLACEHOLDER.sub(one, text)


def placeholders(text: str) -> set[str]:
    """The names a catalogue string expects (both languages must expect the same)."""
    return {m.group(1) for m in _PLACEHOLDER.finditer(text)}
