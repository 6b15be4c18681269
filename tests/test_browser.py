"""A real browser (Debian's chromium via Playwright) against `streamlit run`.

Every page loads without an exception element and is screenshotted; deep links
open the right page with our navigation on a freshly started server; the
presenter-mode switch really enlarges the type.
"""

from __future__ import annotations

import pytest

from tests.conftest import page_files, url_path, wait_for_script

pytestmark = pytest.mark.browser

PAGES = page_files()
IDS = [p.name for p in PAGES]
VIEWPORT = {"width": 1400, "height": 900}


def _open(browser, url: str):
    page = browser.new_page(viewport=VIEWPORT)
    page.goto(url, wait_until="domcontentloaded", timeout=60_000)
    wait_for_script(page)
    return page


def _assert_healthy(page):
    assert page.locator("[data-testid='stException']").count() == 0, page.locator(
        "[data-testid='stException']"
    ).first.inner_text()
    assert page.locator("h1").count() >= 1


def _sidebar_labels(page) -> list[str]:
    return [t.strip() for t in page.locator("[data-testid='stSidebar'] [data-testid='stPageLink'] a").all_inner_texts()]


def test_deep_link_on_a_fresh_server_opens_the_right_page(browser, fresh_server, screenshot_dir):
    """The first session after a server start opens a deep link (DESIGN.md, "Routing")."""
    target = PAGES[-1]  # the last page in pages/ (home when no page exists yet)
    page = _open(browser, f"{fresh_server}/{url_path(target)}?present=true")
    _assert_healthy(page)
    page.screenshot(path=str(screenshot_dir / f"deeplink_{target.stem}.png"), full_page=True)
    # our navigation with proper labels, not Streamlit's file-name menu
    assert page.locator("[data-testid='stSidebarNav']").count() == 0
    labels = _sidebar_labels(page)
    if len(PAGES) > 1:  # with no pages/ folder there is nothing to navigate to
        assert labels[0].endswith("Home") and len(labels) == len(PAGES), labels
    # the link's state was applied: presenter mode is on
    assert page.get_by_role("switch", name="Presenter mode").is_checked()
    page.close()


@pytest.mark.parametrize("path", PAGES, ids=IDS)
def test_every_page_loads_without_exception(browser, server, screenshot_dir, path):
    page = _open(browser, f"{server}/{url_path(path)}")
    _assert_healthy(page)
    page.screenshot(path=str(screenshot_dir / f"page_{path.stem}.png"), full_page=True)
    page.close()


def test_garbage_link_shows_a_note_not_an_exception(browser, server):
    page = _open(browser, f"{server}/?present=maybe&bogus=%E2%98%83")
    _assert_healthy(page)
    text = page.locator("[data-testid='stAlert']").all_inner_texts()
    assert any("Link parameter" in t for t in text) and any("bogus" in t or "☃" in t for t in text), text
    page.close()


def test_presenter_switch_enlarges_the_type(browser, server, screenshot_dir):
    page = _open(browser, f"{server}/")
    size = lambda: page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")  # noqa: E731
    before = size()
    page.locator("[data-testid='stSidebar']").get_by_text("Presenter mode", exact=True).click()
    wait_for_script(page)
    page.wait_for_function("parseFloat(getComputedStyle(document.documentElement).fontSize) > 20", timeout=15_000)
    assert size() > before
    assert "present=true" in page.url
    page.screenshot(path=str(screenshot_dir / "home_presenter.png"))
    if len(PAGES) > 1:  # it follows the instructor to the next page (a page link drops the query string)
        label = _sidebar_labels(page)[1].split("\n")[-1].strip()
        page.locator("[data-testid='stSidebar'] [data-testid='stPageLink']").nth(1).click()
        wait_for_script(page)
        page.wait_for_function("parseFloat(getComputedStyle(document.documentElement).fontSize) > 20", timeout=15_000)
        assert "present=true" in page.url, (label, page.url)
    page.close()
