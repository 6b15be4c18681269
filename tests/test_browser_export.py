"""Chart export in a real browser, offline: Streamlit's chart toolbar saves a PNG; our buttons under
the chart save its data as CSV and the chart as SVG. Each download is captured and read."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from tests.conftest import wait_for_script

pytestmark = pytest.mark.browser

URL = "Normalization?section=Initialization+scale"  # one chart, no training


@pytest.fixture
def chart_page(browser, server):
    context = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 900})
    page = context.new_page()
    outside = []  # no request may leave the machine (lecture halls may be offline)
    page.on("request", lambda r: None if r.url.startswith((server, "data:", "blob:")) else outside.append(r.url))
    page.goto(f"{server}/{URL}", wait_until="domcontentloaded", timeout=60_000)
    wait_for_script(page)
    yield page
    assert not outside, outside
    context.close()


def _download(page, click) -> tuple[str, bytes]:
    with page.expect_download(timeout=60_000) as info:
        click()
    download = info.value
    return download.suggested_filename, open(download.path(), "rb").read()


def test_toolbar_saves_the_chart_as_png(chart_page):
    chart_page.locator("[data-testid='stVegaLiteChart']").first.hover()
    name, data = _download(chart_page, chart_page.get_by_role("button", name="Download as PNG").first.click)
    assert name.endswith(".png") and data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000


def test_csv_button_saves_the_chart_data(chart_page):
    button = chart_page.locator(".st-key-_ui_csv_1 button").first
    name, data = _download(chart_page, button.click)
    assert name.startswith("Normalization-") and name.endswith(".csv")
    df = pd.read_csv(io.BytesIO(data))
    assert {"series", "layer", "std", "lo", "hi"} <= set(df.columns) and len(df) > 20
    assert set(df["series"]) >= {"linear", "tanh"}


def test_svg_button_saves_the_chart(chart_page):
    pytest.importorskip("vl_convert")
    name, data = _download(chart_page, chart_page.locator(".st-key-_ui_svg_1 button").first.click)
    assert name.endswith(".svg") and data.lstrip().startswith(b"<svg") and b"Std of each layer" in data
