"""The Conditioning page in a real browser: every tab draws its charts without an exception
element, and moving a control redraws a chart."""

from __future__ import annotations

import pytest

from tests.conftest import assert_no_exception, open_page, wait_for_script

pytestmark = pytest.mark.browser

VIEWPORT = {"width": 1400, "height": 900}
URL = "Conditioning"


def _charts(page, n: int):
    """Wait until ``n`` Vega charts have drawn their canvas (or svg)."""
    page.wait_for_function(
        f"document.querySelectorAll('.vega-embed canvas, .vega-embed svg.marks').length >= {n}", timeout=60_000
    )
    return page.locator(".vega-embed")


def _shoot_tall(page, path):
    """Streamlit scrolls inside its main block, so a full-page shot needs a tall viewport."""
    page.set_viewport_size({"width": 1400, "height": 2300})
    page.wait_for_timeout(800)
    page.screenshot(path=str(path))
    page.set_viewport_size(VIEWPORT)


def test_quadratic_tab_draws_and_a_control_redraws_a_chart(browser, server, screenshot_dir):
    page = open_page(browser, f"{server}/{URL}", VIEWPORT)
    assert_no_exception(page)
    charts = _charts(page, 4)
    assert charts.count() == 4
    page.screenshot(path=str(screenshot_dir / "conditioning_quadratic.png"))
    _shoot_tall(page, screenshot_dir / "conditioning_quadratic_full.png")
    level_sets = charts.first
    level_sets.scroll_into_view_if_needed()
    before = level_sets.screenshot()
    # α₂ = 40: a narrower valley, a new path and new level sets
    box = page.get_by_label("α₂", exact=True).and_(page.locator("input"))
    box.fill("40")
    box.press("Enter")
    page.wait_for_function("window.location.search.includes('a2=40')", timeout=30_000)
    wait_for_script(page)
    assert_no_exception(page)
    _charts(page, 4)
    page.wait_for_timeout(800)
    assert level_sets.screenshot() != before
    assert "κ = α_max/α_min = 40" in page.inner_text("body")
    page.screenshot(path=str(screenshot_dir / "conditioning_quadratic_a2_40.png"))
    page.close()


def test_deep_link_to_a_diverging_run_shows_the_reason(browser, server, screenshot_dir):
    page = open_page(browser, f"{server}/{URL}?lr_rule=%CE%B3+%3D+custom&lr_amax=1.2&steps=300&angle=30", VIEWPORT)
    assert_no_exception(page)
    _charts(page, 4)
    alerts = " ".join(page.locator("[data-testid='stAlert']").all_inner_texts())
    assert "GD diverged at step" in alerts
    page.screenshot(path=str(screenshot_dir / "conditioning_diverged.png"))
    page.close()


def test_mlp_tab_draws_hessian_spectrum_and_decomposition(browser, server, screenshot_dir):
    page = open_page(browser, f"{server}/{URL}?section=Hessian+of+a+small+MLP", VIEWPORT)
    assert_no_exception(page)
    assert _charts(page, 4).count() == 4
    assert "67 parameters" in page.inner_text("body")
    _shoot_tall(page, screenshot_dir / "conditioning_mlp_full.png")
    page.close()


def test_size_tab_reads_a_typed_architecture(browser, server, screenshot_dir):
    page = open_page(browser, f"{server}/{URL}?section=The+Hessian+is+huge", VIEWPORT)
    assert_no_exception(page)
    assert "1,796,010" in page.inner_text("body") and "12.9 TB" in page.inner_text("body")
    box = page.get_by_label("layer sizes", exact=True).and_(page.locator("input"))
    box.fill("100-100-10")
    box.press("Enter")
    page.wait_for_function("document.body.innerText.includes('11,110')", timeout=30_000)
    assert_no_exception(page)
    page.screenshot(path=str(screenshot_dir / "conditioning_size.png"))
    page.close()
