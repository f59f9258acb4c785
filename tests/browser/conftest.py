"""The dashboard in a real browser: Playwright from PyPI driving Debian's Chromium
against a real `sdwan serve`. One browser per module (Playwright's sync API keeps its
event loop registered as running in this thread while it is open, and every later
test's asyncio.run() would refuse to start); every page it opens is
watched: a console error, an uncaught exception, a request to another origin or an
HTTP error the test did not expect fails the test that caused it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.support.dashboard import CHROMIUM, CHROMIUM_ARGS, Monitor


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.exit(f"browser tests need Debian's Chromium at {CHROMIUM}: run scripts/setup", 4)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def monitor() -> Monitor:
    return Monitor()


@pytest.fixture(autouse=True)
def _page_health(monitor: Monitor) -> Iterator[None]:
    """After each browser test: nothing went wrong in any page (see Monitor)."""
    yield
    monitor.check()
