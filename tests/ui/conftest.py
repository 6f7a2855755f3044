"""Fixtures for the UI tests: one headless Chromium per session (Debian's `chromium`, driven by
Playwright), one fake OpenAI server per session, and one `ember serve` per test module.

Each test gets a fresh browser context whose page records what would betray a script that
should never have run: dialogs (alert, confirm, prompt), uncaught page errors and
Content-Security-Policy violations. `page` fails the test on an uncaught error in our own
scripts.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.conftest import EmberProcess
from tests.fakes.openai_server import FakeOpenAI
from tests.ui.pages import Watch

CHROMIUM = "/usr/bin/chromium"
DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--headless=new"],
        )
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def fake_openai() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def ui_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmberProcess]:
    """One server per test module: modules add their own traces and read them back."""
    server = EmberProcess(tmp_path_factory.mktemp("ember-ui")).start()
    yield server
    server.stop()


@pytest.fixture
def watch() -> Watch:
    return Watch()


@pytest.fixture
def page(browser: Browser, watch: Watch) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    watch.attach(page)
    yield page
    context.close()
    assert watch.page_errors == [], f"uncaught errors in the page: {watch.page_errors}"


@pytest.fixture
def screenshot_dir(tmp_path: Path) -> Path:
    """docs/images when EMBER_UPDATE_SCREENSHOTS=1 (to refresh the docs' pictures), else a
    temporary folder: the screenshots are taken either way, the docs change only on request."""
    if os.environ.get("EMBER_UPDATE_SCREENSHOTS") == "1":
        DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
        return DOCS_IMAGES
    return tmp_path
