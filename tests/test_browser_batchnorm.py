"""The BatchNorm & skip page in a real browser: it loads without an exception, draws its charts,
a control really retrains and redraws, and every tab (opened by click or by link) draws its charts."""

from __future__ import annotations

import pytest

from tests.conftest import assert_no_exception, open_page, wait_for_script

pytestmark = pytest.mark.browser

URL = "/BatchNorm_and_Skip"
VIEWPORT = {"width": 1400, "height": 1500}
CHART = "[data-testid='stVegaLiteChart'], .vega-embed"


def _open(browser, url: str):
    return open_page(browser, url, VIEWPORT, goto_timeout=120_000, script_timeout=300_000)  # four nets train


NOTICE_JS = """() => [...document.querySelectorAll("[data-testid='stMarkdownContainer']")]
    .map(e => e.innerText).filter(t => t.includes("What to notice")).join("|")"""


def _notice(page) -> str:
    """The "What to notice" text: it quotes the live numbers (st.dataframe draws on a canvas)."""
    return page.evaluate(NOTICE_JS)


def _wait_for_new_notice(page, before: str, timeout: float = 300_000) -> None:
    page.wait_for_function(
        f"old => {{ const now = ({NOTICE_JS})(); return now !== '' && now !== old; }}", arg=before, timeout=timeout
    )
    wait_for_script(page, timeout=timeout)


def test_page_trains_draws_and_redraws_when_the_seed_changes(browser, server, screenshot_dir):
    page = _open(browser, server + URL)
    assert_no_exception(page)
    assert page.locator("h1", has_text="BatchNorm & skip").count() == 1
    chart = page.locator(".vega-embed").first
    chart.wait_for(state="visible", timeout=60_000)
    assert page.locator(CHART).count() >= 1
    page.screenshot(path=str(screenshot_dir / "batchnorm_training.png"), full_page=True)
    before = _notice(page)
    assert "After 100 steps at γ = 0.05: plain 0.0185" in before
    before_chart = chart.screenshot()
    page.locator("[data-testid='stNumberInputStepUp']").first.click()  # the seed: 0 → 1
    _wait_for_new_notice(page, before)
    assert_no_exception(page)
    page.wait_for_timeout(800)  # let Vega redraw
    assert "plain 0.0185" not in _notice(page), "the new seed retrains the four nets"
    assert page.locator(".vega-embed").first.screenshot() != before_chart, "and redraws the loss curves"
    assert "seed=1" in page.url
    page.screenshot(path=str(screenshot_dir / "batchnorm_seed1.png"), full_page=True)
    page.close()


@pytest.mark.parametrize(
    ("tab", "n_charts"),
    [("Activations & gradients", 3), ("Hessian", 2), ("Layer interactions", 4), ("Loss landscape", 5)],
)
def test_each_tab_draws_its_charts(browser, server, screenshot_dir, tab, n_charts):
    page = _open(browser, server + URL)
    page.get_by_role("tab", name=tab).click()
    if tab in ("Hessian", "Layer interactions"):  # the page's heavy action: computed when asked
        wait_for_script(page, timeout=300_000)
        assert page.locator(".vega-embed").count() == 0
        page.get_by_role("button", name="Compute the Hessians", exact=True).click()
        page.wait_for_function("() => location.search.includes('hessians=true')", timeout=300_000)
    page.wait_for_function("n => document.querySelectorAll('.vega-embed').length >= n", arg=n_charts, timeout=300_000)
    wait_for_script(page, timeout=300_000)
    assert_no_exception(page)
    assert page.locator(".vega-embed").count() == n_charts
    assert "view=" in page.url, "the open tab is in the link"
    name = tab.split()[0].lower()
    page.screenshot(path=str(screenshot_dir / f"batchnorm_{name}.png"), full_page=True)
    page.close()


def test_deep_link_opens_tab_and_mode(browser, server, screenshot_dir):
    page = _open(browser, server + URL + "?view=Layer+interactions&bn_mode=eval&at=initial&hessians=true")
    page.wait_for_function("() => document.querySelectorAll('.vega-embed').length >= 4", timeout=300_000)
    assert_no_exception(page)
    assert page.get_by_role("tab", name="Layer interactions").get_attribute("aria-selected") == "true"
    assert page.get_by_role("radio", name="eval").is_checked()
    assert page.get_by_text("Measured at initialization, BN in eval mode").count() == 1
    page.screenshot(path=str(screenshot_dir / "batchnorm_deeplink.png"), full_page=True)
    page.close()
