"""Moving a control, then following a sidebar link to a page that has a control with the same
key but another range, renders that page without an exception (found by benchmarks/bench_load.py:
"steps" = 310 on Non-convexity reached Conditioning's "steps", max 300, as its value)."""

from __future__ import annotations

import pytest

from tests.conftest import wait_for_script

pytestmark = pytest.mark.browser

VIEWPORT = {"width": 1400, "height": 900}
LINKS = "[data-testid='stSidebar'] [data-testid='stPageLink'] a"


def _slider(page, label: str):
    return page.locator(f"[data-testid='stSlider'] input[type=range][aria-label='{label}']")


def _move(page, label: str, presses: int = 1) -> str:
    thumb = _slider(page, label)
    for _ in range(presses):
        thumb.focus()
        thumb.press("ArrowRight")
        page.wait_for_timeout(300)
        wait_for_script(page)
    return thumb.input_value()


def _go(page, index: int, path: str) -> None:
    page.locator(LINKS).nth(index).click()
    page.wait_for_url(f"**/{path}", timeout=60_000)
    page.wait_for_timeout(500)
    wait_for_script(page)
    errors = page.locator("[data-testid='stException']")
    assert errors.count() == 0, (path, errors.first.inner_text())


def test_a_moved_control_does_not_leak_into_a_same_named_control_of_another_page(browser, server):
    page = browser.new_page(viewport=VIEWPORT)
    page.goto(f"{server}/Non_convexity", wait_until="domcontentloaded", timeout=60_000)
    wait_for_script(page)
    assert _move(page, "steps") == "310"  # Conditioning's "steps" stops at 300
    assert _move(page, "restarts") == "9"  # Plateaus' "restarts" stops at 20: in range there
    _go(page, 3, "Conditioning")
    assert _slider(page, "GD steps").input_value() == "50"  # Conditioning's own default
    _go(page, 2, "Plateaus")  # "lam" 0.1 from Non-convexity would exceed Plateaus' max 0.05
    _go(page, 5, "BatchNorm_and_Skip")
    _go(page, 1, "Non_convexity")
    # a key no other visited page used keeps its value; a shared one starts from the default
    assert _slider(page, "steps").input_value() == "300"
    page.close()


def test_reset_clears_the_url_and_a_control_moved_to_its_minimum_afterwards_survives_a_reload(browser, server):
    """Reset writes the defaults through session state; the URL must then hold no control, and a
    slider moved to its minimum must stay in the URL (it dropped out when widgets were created
    without their page default: a reload showed the default, not the minimum)."""
    x_label = "x (input of sample 1)"
    page = browser.new_page(viewport=VIEWPORT)
    page.goto(f"{server}/Non_convexity?x=0.5&steps=200", wait_until="domcontentloaded", timeout=60_000)
    wait_for_script(page)
    assert _slider(page, x_label).input_value() == "0.5"
    page.get_by_role("button", name="Reset this page to defaults").click()
    page.wait_for_timeout(300)
    wait_for_script(page)
    assert (_slider(page, x_label).input_value(), _slider(page, "steps").input_value()) == ("1", "300")
    assert page.url.endswith("/Non_convexity"), page.url
    thumb = _slider(page, x_label)
    thumb.focus()
    thumb.press("Home")
    page.wait_for_timeout(300)
    wait_for_script(page)
    assert page.url.endswith("/Non_convexity?x=-2"), page.url
    page.reload(wait_until="domcontentloaded")
    wait_for_script(page)
    assert _slider(page, x_label).input_value() == "-2"
    page.close()
