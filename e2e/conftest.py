"""Browser tests: Playwright driving Debian's Chromium against pytest-django's live server.

Never ``playwright install``: the browser is the system's /usr/bin/chromium (``make
browser`` installs it). Without it the tests are skipped with the reason. Screenshots
are written to var/e2e/<test>-<step>.png and kept by CI as artifacts.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

# Playwright's sync API keeps an asyncio loop running in this thread, so Django would
# refuse ORM calls from the test body (SynchronousOnlyOperation). The live server runs
# in its own thread; the test thread only builds data, so this is safe here.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = Path(os.environ.get("TELCODESK_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    # The tests open a second page (the phone or mailbox simulator) beside the console;
    # Chromium would throttle the page behind to about one animation frame a second, and
    # Playwright waits for frames before it clicks.
    "--disable-background-timer-throttling",
    "--disable-backgrounding-occluded-windows",
    "--disable-renderer-backgrounding",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "var" / "e2e"
VIEWPORT = {"width": 1440, "height": 900}

Screenshot = Callable[[str], Path]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(
        reason=f"Chromium not found at {CHROMIUM}: run `make browser` (apt-get install chromium)"
    )
    for item in items:
        if item.get_closest_marker("e2e"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser: Browser, live_server: object) -> Iterator[Page]:
    # English browser: the language switch then has something visible to change.
    context = browser.new_context(viewport=VIEWPORT, locale="en-US")  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def screenshot(page: Page, request: pytest.FixtureRequest) -> Screenshot:
    """``screenshot("step")`` saves var/e2e/<test>-<step>.png and returns its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    test_name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)

    def take(step: str) -> Path:
        path = ARTIFACTS / f"{test_name}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
