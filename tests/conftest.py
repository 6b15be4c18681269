"""Shared fixtures: the app's page files, AppTest factory, a live `streamlit run` server."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests import serve  # noqa: E402  (needs ROOT on sys.path)

# AppTest's default 3 s is shorter than `import torch` plus a first torch.func call.
APPTEST_TIMEOUT = 120
DTYPE = torch.float64


def page_files() -> list[Path]:
    """app.py and every script in pages/, discovered (new pages are covered automatically)."""
    return [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))]


def url_path(page: Path) -> str:
    """The URL path Streamlit serves a pages/ script at: '1_Non_convexity.py' -> 'Non_convexity'."""
    if page.name == "app.py":
        return ""
    stem = page.stem
    head, _, rest = stem.partition("_")
    return rest if head.isdigit() and rest else stem


@pytest.fixture
def app_test():
    """Factory: ``app_test(path, query={...})`` -> an AppTest that has run once."""
    from streamlit.testing.v1 import AppTest

    def make(path: Path | str, query: dict | None = None, run: bool = True):
        at = AppTest.from_file(str(ROOT / path), default_timeout=APPTEST_TIMEOUT)
        if query:
            at.query_params.update(query)
        if run:
            at.run()
        return at

    return make


@pytest.fixture(scope="session")
def server():
    """A `streamlit run app.py` on a free loopback port, shared by the browser tests; yields its base URL."""
    proc, base = serve.start(timeout=90)
    yield base
    serve.stop(proc)


@pytest.fixture
def fresh_server():
    """A server no browser has talked to yet (routing bugs show on the first session only)."""
    proc, base = serve.start(timeout=90)
    yield base
    serve.stop(proc)


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium via Playwright. Skips only where no chromium exists and CI did not demand it."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("OPTLAB_REQUIRE_BROWSER"):
            pytest.fail(f"{CHROMIUM} missing but OPTLAB_REQUIRE_BROWSER is set (CI must run browser tests)")
        pytest.skip(f"no chromium at {CHROMIUM}: install Debian's chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory) -> Path:
    """Where browser tests save screenshots (OPTLAB_SCREENSHOTS keeps them, else a temp folder)."""
    keep = os.environ.get("OPTLAB_SCREENSHOTS")
    path = Path(keep) if keep else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def wait_for_script(page, timeout: float = 60_000) -> None:
    """Wait until Streamlit's script run has finished and the app is idle."""
    page.wait_for_selector("[data-test-script-state='notRunning']", state="attached", timeout=timeout)
    page.wait_for_timeout(300)  # let Vega finish drawing
    page.wait_for_selector("[data-test-script-state='notRunning']", state="attached", timeout=timeout)


def open_page(browser, url: str, viewport: dict, goto_timeout: float = 60_000, script_timeout: float = 60_000):
    """A new browser page at ``viewport`` on ``url``, once its script run has finished."""
    page = browser.new_page(viewport=viewport)
    page.goto(url, wait_until="domcontentloaded", timeout=goto_timeout)
    wait_for_script(page, timeout=script_timeout)
    return page


def assert_no_exception(page) -> None:
    """No Streamlit exception element on the page (its text is the failure message)."""
    errors = page.locator("[data-testid='stException']")
    assert errors.count() == 0, errors.first.inner_text()


# --- AppTest helpers shared by the page tests ---------------------------------------------


def no_exception(at) -> None:
    """The run raised nothing (the exceptions' texts are the failure message)."""
    assert not at.exception, [e.value for e in at.exception]


def option_values(widget) -> list:
    """A choice's values (AppTest lists the shown names, which differ in 中文): ui records them."""
    return widget.root.session_state["_ui_run"].options.get(widget.key, list(widget.options))


def chart_specs(at) -> list[dict]:
    """Every chart's Vega-Lite spec as sent to the browser (AppTest has no chart accessor)."""
    return [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]


def what_to_notice(at) -> str:
    """The page's one "What to notice" block."""
    texts = [m.value for m in at.markdown if m.value.startswith("**What to notice**")]
    assert len(texts) == 1, texts
    return texts[0]
