"""English and 中文 in a real browser: ?lang=zh, the sidebar switch, the language following the
user from page to page, and global switches that a link set can still be flipped off."""

from __future__ import annotations

import pytest

from tests.conftest import assert_no_exception, open_page, wait_for_script

pytestmark = pytest.mark.browser

VIEWPORT = {"width": 1400, "height": 1000}
SIDEBAR = "[data-testid='stSidebar']"


def _title(page) -> str:
    return page.locator("h1").first.inner_text().strip()


def _settle(page) -> None:
    page.wait_for_timeout(400)
    wait_for_script(page)


def _choose_language(page, name: str) -> None:
    page.locator(f"{SIDEBAR} [data-testid='stSelectbox']").first.click()
    page.get_by_role("option", name=name).click()
    _settle(page)


def test_a_chinese_link_follows_the_reader_and_the_switch_turns_it_back(browser, server, screenshot_dir):
    page = open_page(browser, f"{server}/?lang=zh", VIEWPORT)
    assert _title(page) == "优化实验室"
    links = page.locator(f"{SIDEBAR} [data-testid='stPageLink'] a")
    assert links.nth(3).inner_text().split()[-1] == "条件数"  # after the icon's name
    page.screenshot(path=str(screenshot_dir / "home-zh.png"), full_page=True)

    links.nth(3).click()  # a page link drops the query string: the session remembers the language
    page.wait_for_url("**/Conditioning*", timeout=60_000)
    _settle(page)
    assert_no_exception(page)
    assert _title(page) == "条件数"
    assert "lang=zh" in page.url
    # every chart's text alternative (its Vega-Lite description) is the chart's aria-label, in 中文
    page.locator("[data-testid='stVegaLiteChart']").first.wait_for(timeout=90_000)  # a cold server computes
    _settle(page)
    labels = page.locator("[data-testid='stVegaLiteChart']").evaluate_all("els => els.map(e => e.ariaLabel)")
    assert labels and all(label.startswith("图表：") for label in labels), labels

    _choose_language(page, "English")
    assert _title(page) == "Conditioning"
    assert "lang=" not in page.url
    page.close()


def test_presenter_mode_set_by_a_link_can_be_switched_off(browser, server):
    page = open_page(browser, f"{server}/?present=1", VIEWPORT)
    switch = page.locator(f"{SIDEBAR} [data-testid='stCheckbox'] input").first
    assert switch.is_checked()
    page.locator(f"{SIDEBAR} [data-testid='stCheckbox']").first.click()
    _settle(page)
    assert not switch.is_checked()
    assert "present" not in page.url
    page.close()


def test_a_choice_survives_a_language_switch_and_a_reload(browser, server):
    """A choice's link value is its English option; in 中文 the address bar shows its Chinese name
    (what Streamlit binds), and after switching back the English one: a reload keeps the choice."""
    page = open_page(browser, f"{server}/Non_convexity?lang=zh&model=one+layer", VIEWPORT)
    assert "model=%E4%B8%80%E5%B1%82" in page.url  # 一层
    _choose_language(page, "English")
    assert "model=one+layer" in page.url and "lang=" not in page.url
    page.reload(wait_until="domcontentloaded")
    wait_for_script(page)
    assert page.get_by_role("radio", name="one layer").is_checked()
    assert page.locator("[data-testid='stAlert']").count() == 0  # no "link parameter not valid" note
    page.close()
