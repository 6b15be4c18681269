"""The Plateaus page in a real browser: every section loads with its charts drawn, moving the
learning-rate slider changes the maps and the quoted numbers, and switching tabs runs the open
section."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.conftest import assert_no_exception, wait_for_script

pytestmark = pytest.mark.browser

VIEWPORT = {"width": 1400, "height": 1000}
CHART = "[data-testid='stVegaLiteChart']"
SECTIONS = {
    "tanh plateaus": 4,
    "Initialization": 3,
    "Restarts, width & depth": 4,
    "Learning-rate schedules": 4,
}


def _settle(page):
    page.wait_for_timeout(400)  # let a rerun start before waiting for it to end
    wait_for_script(page)
    page.locator(CHART).first.locator("canvas, svg").first.wait_for(timeout=60_000)
    page.wait_for_timeout(1000)


def _open(browser, server, query: str = ""):
    page = browser.new_page(viewport=VIEWPORT)
    page.goto(f"{server}/Plateaus{query}", wait_until="domcontentloaded", timeout=60_000)
    wait_for_script(page, timeout=120_000)
    _settle(page)
    return page


@pytest.mark.parametrize("section", list(SECTIONS))
def test_each_section_draws_its_charts(browser, server, screenshot_dir, section):
    page = _open(browser, server, "?section=" + quote(section))
    try:
        assert_no_exception(page)
        charts = page.locator(CHART)
        assert charts.count() == SECTIONS[section]
        for i in range(charts.count()):
            assert charts.nth(i).locator("canvas, svg").count() >= 1, f"chart {i} of {section} not drawn"
        assert "What to notice" in page.locator("[data-testid='stMain']").inner_text()
        page.set_viewport_size({"width": 1400, "height": 2300})
        page.wait_for_timeout(1000)
        name = section.split()[0].split(",")[0].lower()
        page.screenshot(path=str(screenshot_dir / f"plateaus_{name}.png"))
    finally:
        page.close()


def test_moving_the_learning_rate_changes_the_maps_and_the_numbers(browser, server, screenshot_dir):
    page = _open(browser, server)
    try:
        chart = page.locator(CHART).first
        before = chart.screenshot(path=str(screenshot_dir / "plateaus_map_before.png"))
        notice_before = page.locator("[data-testid='stMain']").inner_text()
        thumb = page.locator(".st-key-lr input[type='range']")  # the tanh section's γ (key "lr")
        thumb.focus()
        for _ in range(20):  # 0.50 → 0.30 in steps of 0.01
            thumb.press("ArrowLeft")
        _settle(page)
        assert_no_exception(page)
        assert "lr=0.3" in page.url
        after = page.locator(CHART).first.screenshot(path=str(screenshot_dir / "plateaus_map_after.png"))
        assert after != before
        body = page.locator("[data-testid='stMain']").inner_text()
        assert "E sits near" in body and body != notice_before  # the quoted plateau numbers moved too
    finally:
        page.close()


def test_switching_tabs_runs_the_open_section(browser, server):
    page = _open(browser, server)
    try:
        page.get_by_role("tab", name="Learning-rate schedules").click()
        _settle(page)
        assert_no_exception(page)
        assert "section=Learning-rate" in page.url
        body = page.locator("[data-testid='stMain']").inner_text()
        assert "shallow minimum" in body and "deep minimum" in body
    finally:
        page.close()
