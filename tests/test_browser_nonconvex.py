"""The Non-convexity page in a real browser: it loads, the map and paths are drawn, a click on
the map moves the start point (checked by hovering the new start marker), the step slider
replays the descent in the browser, and switching the model changes the chart."""

from __future__ import annotations

import re

import pytest

from tests.conftest import assert_no_exception, wait_for_script

pytestmark = pytest.mark.browser

VIEWPORT = {"width": 1400, "height": 1000}
MAP = "[data-testid='stVegaLiteChart']"


def _rerun(page):
    page.wait_for_timeout(400)  # let the rerun start before waiting for it to end
    wait_for_script(page)
    page.wait_for_timeout(800)


def _slider_value(page, label: str) -> float:
    text = page.locator("[data-testid='stSlider']").filter(has_text=label).inner_text()
    return float(re.search(r"\n(-?\d+\.\d+)\n", "\n" + text + "\n").group(1))


@pytest.fixture
def nonconvex_page(browser, server):
    page = browser.new_page(viewport=VIEWPORT)
    page.goto(f"{server}/Non_convexity", wait_until="domcontentloaded", timeout=60_000)
    wait_for_script(page)
    page.locator(MAP).first.locator("canvas, svg").first.wait_for(timeout=30_000)
    page.wait_for_timeout(1000)
    yield page
    page.close()


def test_page_loads_with_map_and_paths(nonconvex_page, screenshot_dir):
    page = nonconvex_page
    assert_no_exception(page)
    assert page.locator(MAP).count() >= 4  # map, curvature map, two chord slices
    assert page.locator(MAP).first.locator("canvas, svg").count() >= 1
    body = page.locator("[data-testid='stMain']").inner_text()
    # (the tables are drawn on a canvas; their numbers are checked under AppTest)
    assert "Non-convex." in body and "eigenvalues are -1.8 and 2.2" in body
    page.set_viewport_size({"width": 1400, "height": 2400})
    page.wait_for_timeout(800)
    page.screenshot(path=str(screenshot_dir / "nonconvex_defaults.png"), full_page=True)


def test_clicking_the_map_moves_the_start_point(nonconvex_page, screenshot_dir):
    page = nonconvex_page
    chart = page.locator(MAP).first
    chart.screenshot(path=str(screenshot_dir / "nonconvex_before_click.png"))
    assert _slider_value(page, "start: first") == pytest.approx(1.5)
    box = chart.bounding_box()
    x, y = box["x"] + 0.4 * box["width"], box["y"] + 0.45 * box["height"]  # inside the plot, left of centre
    page.mouse.click(x, y)
    _rerun(page)
    assert_no_exception(page)
    w0, v0 = _slider_value(page, "start: first"), _slider_value(page, "start: second")
    assert (w0, v0) != (1.5, -0.5)
    assert f"w0={w0:g}" in page.url and "From your start" in page.locator("[data-testid='stMain']").inner_text()
    # the new start marker sits where we clicked: hovering there shows its tooltip
    box = page.locator(MAP).first.bounding_box()
    page.mouse.move(x - 3, y - 3)
    page.mouse.move(x, y)
    tooltip = page.locator("#vg-tooltip-element")
    tooltip.wait_for(state="visible", timeout=10_000)
    assert "your start" in tooltip.inner_text()
    page.mouse.move(5, 5)
    page.wait_for_timeout(300)
    page.locator(MAP).first.screenshot(path=str(screenshot_dir / "nonconvex_after_click.png"))


def test_step_slider_replays_in_the_browser(nonconvex_page, screenshot_dir):
    page = nonconvex_page
    chart = page.locator(MAP).first
    slider = chart.locator("input[type=range]")
    assert slider.count() == 1 and slider.get_attribute("max") == "300"
    before = chart.screenshot()
    url = page.url
    slider.fill("20")
    page.wait_for_timeout(800)
    after = chart.screenshot(path=str(screenshot_dir / "nonconvex_step20.png"))
    assert before != after
    assert page.url == url  # no server round trip: nothing in the app changed
    assert_no_exception(page)


def test_switching_to_one_layer_changes_the_chart(nonconvex_page, screenshot_dir):
    page = nonconvex_page
    chart = page.locator(MAP).first
    before = chart.screenshot()
    page.get_by_text("one layer", exact=True).click()
    _rerun(page)
    assert_no_exception(page)
    assert "Convex." in page.locator("[data-testid='stMain']").inner_text()
    assert "model=one" in page.url
    after = page.locator(MAP).first.screenshot(path=str(screenshot_dir / "nonconvex_one_layer.png"))
    assert before != after
