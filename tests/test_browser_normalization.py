"""The Normalization page in a real chromium against `streamlit run`: it draws, a control redraws, sections link."""

from __future__ import annotations

import pytest

from tests.conftest import wait_for_script

pytestmark = pytest.mark.browser

CHART = "[data-testid='stVegaLiteChart'], .vega-embed"


def _open(browser, url: str):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(url)
    wait_for_script(page, timeout=120_000)
    return page


def _shot(page, path, height: int = 2000) -> None:
    """Streamlit scrolls inside its own container, so a tall viewport is what captures the whole section."""
    page.set_viewport_size({"width": 1400, "height": height})
    wait_for_script(page)
    page.screenshot(path=str(path))
    page.set_viewport_size({"width": 1400, "height": 900})


def _assert_healthy(page, min_charts: int):
    assert page.locator("[data-testid='stException']").count() == 0
    page.locator(".vega-embed").first.wait_for(state="visible", timeout=60_000)
    assert page.locator(".vega-embed").count() >= min_charts


def test_data_section_draws_and_a_slider_redraws(server, browser, screenshot_dir):
    page = _open(browser, server + "/Normalization")
    _assert_healthy(page, 6)
    first = page.locator(".vega-embed").first
    before = first.screenshot()
    _shot(page, screenshot_dir / "normalization_data.png")

    slider = page.locator("[data-testid='stSlider']").filter(has_text="Mean offset").locator("input[type='range']")
    slider.focus()
    slider.press("Home")  # offset 0: the raw cloud sits at the origin
    page.wait_for_timeout(500)
    wait_for_script(page)
    _assert_healthy(page, 6)
    assert "offset=0" in page.url
    after = page.locator(".vega-embed").first.screenshot()
    assert after != before, "moving the offset slider must redraw the raw-data scatter"
    _shot(page, screenshot_dir / "normalization_data_offset0.png")
    page.close()


def test_sections_open_by_tab_and_by_link(server, browser, screenshot_dir):
    page = _open(browser, server + "/Normalization")
    page.get_by_role("tab", name="Non-linearities").click()
    page.wait_for_timeout(500)
    wait_for_script(page, timeout=120_000)
    _assert_healthy(page, 4)
    assert "section=Non-linearities" in page.url
    assert page.get_by_text("What to notice").count() == 1
    _shot(page, screenshot_dir / "normalization_nonlinearities.png", 2300)
    page.close()

    for section, name, charts in (
        ("Initialization+scale", "normalization_init.png", 1),
        ("Block-diagonal+Hessian", "normalization_blocks.png", 3),
    ):
        page = _open(browser, f"{server}/Normalization?section={section}")
        _assert_healthy(page, charts)
        assert page.get_by_role("tab", name=section.replace("+", " ")).get_attribute("aria-selected") == "true"
        _shot(page, screenshot_dir / name, 1500)
        page.close()
