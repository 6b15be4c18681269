"""English and 中文: both catalogues hold the same keys with the same placeholders, and every
page and tab rendered with ?lang=zh shows no English prose (tests/i18n_text.py says what counts)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from core import i18n, lecture, ui
from tests.conftest import no_exception
from tests.i18n_text import english_words, leftovers
from tests.test_presets import CASES as PRESET_CASES
from tests.test_presets import IDS as PRESET_IDS
from tests.test_presets import PAGES, _links, _run_state

# Every page, and every tab of it (tabs compute lazily: each must be opened to be checked).
VIEWS = [
    ("app.py", {}),
    ("pages/1_Non_convexity.py", {}),
    ("pages/1_Non_convexity.py", {"model": "one layer", "n": "10"}),
    *[
        ("pages/2_Plateaus.py", {"section": s})
        for s in ["tanh plateaus", "Initialization", "Restarts, width & depth", "Learning-rate schedules"]
    ],
    *[
        ("pages/3_Conditioning.py", {"section": s})
        for s in ["GD on a quadratic", "Hessian of a small MLP", "Exercise: linear model", "The Hessian is huge"]
    ],
    *[
        ("pages/4_Normalization.py", {"section": s})
        for s in ["Data normalization", "Non-linearities", "Initialization scale", "Block-diagonal Hessian"]
    ],
    *[
        ("pages/5_BatchNorm_and_Skip.py", {"view": s})
        for s in ["Training", "Activations & gradients", "Hessian", "Layer interactions", "Loss landscape"]
    ],
    *[("pages/5_BatchNorm_and_Skip.py", {"view": s, "hessians": "true"}) for s in ["Hessian", "Layer interactions"]],
]


def test_both_languages_have_the_same_keys_and_placeholders():
    en, zh = i18n.catalogue("en"), i18n.catalogue("zh")
    assert sorted(set(en) - set(zh)) == [], "keys missing in zh"
    assert sorted(set(zh) - set(en)) == [], "keys missing in en"
    differ = {k: (en[k], zh[k]) for k in en if i18n.placeholders(en[k]) != i18n.placeholders(zh[k])}
    assert differ == {}


def test_every_chinese_string_is_translated():
    """A zh entry that is still English prose (copied, not translated) fails here, page or not."""
    untranslated = {k: v for k, v in i18n.catalogue("zh").items() if english_words(v)}
    assert untranslated == {}


def test_lookup_fills_only_the_placeholders_given():
    assert i18n.fill("κ = {kappa:.3g}, $\\frac{1}{2}$ {other}", kappa=82.0412) == "κ = 82, $\\frac{1}{2}$ {other}"
    assert i18n.t("common.pages.conditioning", lang="zh") == "条件数"
    with pytest.raises(KeyError):
        i18n.t("common.no_such_key")


@pytest.mark.parametrize("path,query", VIEWS, ids=lambda v: str(v))
def test_a_view_in_chinese_shows_no_english_prose(app_test, path, query):
    at = app_test(path, query={"lang": "zh", **query})
    no_exception(at)
    assert at.title[0].value != "" and not english_words(at.title[0].value)
    # an English link value (tab, choice) is taken in 中文 too: no "link parameter not valid" note
    assert not [w.value for w in at.warning if w.value.startswith("链接参数")]
    assert leftovers(at) == []


def test_the_language_follows_the_link_and_a_bad_one_is_named(app_test):
    at = app_test("pages/3_Conditioning.py", query={"lang": "zh"})
    assert at.title[0].value == "条件数"
    assert at.sidebar.selectbox(key="lang").value == "zh"
    at = app_test("pages/3_Conditioning.py", query={"lang": "klingon"})
    no_exception(at)
    assert at.title[0].value == "Conditioning"
    assert any("`lang`" in w.value and "klingon" in w.value for w in at.warning)


def test_switching_the_language_keeps_the_tab_and_the_controls(app_test):
    at = app_test("pages/3_Conditioning.py", query={"section": "Hessian of a small MLP", "a2": "50"})
    at.sidebar.selectbox(key="lang").set_value("zh").run()
    no_exception(at)
    assert at.title[0].value == "条件数"
    assert at.session_state["a2"] == 50.0
    labels = [tab.label for tab in at.tabs]
    assert labels.index(at.session_state["section"]) == 1  # still the second tab, named in Chinese


@pytest.fixture(scope="module")
def zh_pages():
    """{page: (controls → default, preset links as drawn in 中文)} from one zh render per page."""
    from streamlit.testing.v1 import AppTest

    from tests.conftest import APPTEST_TIMEOUT, ROOT

    out = {}
    for label in lecture.PRESETS:
        at = AppTest.from_file(str(ROOT / PAGES[label].path), default_timeout=APPTEST_TIMEOUT)
        at.query_params["lang"] = "zh"
        at.run()
        no_exception(at)
        out[label] = (_run_state(at)[0], _links(at))
    return out


@pytest.mark.parametrize(("page", "name"), PRESET_CASES, ids=PRESET_IDS)
def test_a_preset_link_in_chinese_opens_the_same_state_in_chinese(app_test, zh_pages, page, name):
    """Presets name English option and tab values; in 中文 the same link must reach the same state."""
    controls, links = zh_pages[page]
    shown = i18n.t(f"lecture.presets.{page}.{name}", lang="zh")
    href, _ = links[shown]
    query = dict(parse_qsl(urlsplit(href).query))
    assert query.get("lang") == "zh", "the language travels with the link"
    at = app_test(PAGES[page].path, query=query)
    no_exception(at)
    assert not [w.value for w in at.warning if w.value.startswith("链接参数")]
    expected = ui.preset_state(controls, lecture.PRESETS[page][name])
    values = _run_state(at)[1]
    wrong = {k: (values.get(k), v) for k, v in expected.items() if not ui._same({k: values.get(k)}, {k: v})}
    assert not wrong, wrong
    assert [n for n, (_, on) in _links(at).items() if on] == [shown]


def test_a_choice_named_in_the_previous_language_is_renamed_not_rejected(app_test):
    """The browser writes a choice's shown name into the URL (一层); after a switch to English that
    name is no bad link: the choice stays, no note, and the URL gets the English name."""
    at = app_test("pages/1_Non_convexity.py", query={"lang": "zh", "model": "一层"})
    assert at.session_state["model"] == "one layer" and not at.warning
    at.sidebar.selectbox(key="lang").set_value("en").run()
    no_exception(at)
    assert at.session_state["model"] == "one layer"
    assert not [w.value for w in at.warning if "Link parameter" in w.value]
    assert at.query_params["model"] == ["one layer"] or at.query_params["model"] == "one layer"
    bad = app_test("pages/1_Non_convexity.py", query={"model": "garbage"})  # a real bad link still is one
    assert any("`model`" in w.value and "garbage" in w.value for w in bad.warning)
