"""The dashboard in a real browser (Playwright driving Debian's Chromium) against a
real `sdwan serve`: a ``Monitor`` of everything the pages did, a ``Dashboard`` that
opens pages as one user or another, and screenshots for docs/ui.md."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Response,
    expect,
)
from playwright.sync_api import Request as PwRequest

from sdwan.lab import GobgpdFactory, Lab
from sdwan.lab.server_process import ADMIN_TOKEN, OrchestratorProcess

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 800}
IMAGES = Path(__file__).resolve().parents[2] / "docs" / "img"
PASSWORD = "correct horse battery"
SERVER_START = 90.0  # seconds


@dataclass
class Monitor:
    """What every page did. ``allowed`` holds the HTTP error statuses the running test
    provokes on purpose (e.g. 412 for a conflicting edit); anything else is a failure."""

    origin: str = ""
    problems: list[str] = field(default_factory=list)
    allowed: set[int] = field(default_factory=set)
    requests: int = 0

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        text = message.text
        status = _failed_status(text)
        if status is not None and status in self.allowed:
            return
        self.problems.append(f"console error: {text}")

    def on_page_error(self, error: Any) -> None:
        self.problems.append(f"uncaught exception: {error}")

    def on_request(self, request: PwRequest) -> None:
        self.requests += 1
        parts = urlsplit(request.url)
        if parts.scheme in ("data", "blob", "about"):
            return
        if f"{parts.scheme}://{parts.netloc}" != self.origin:
            self.problems.append(f"request to another origin: {request.method} {request.url}")

    def on_response(self, response: Response) -> None:
        if response.status >= 400 and response.status not in self.allowed:
            self.problems.append(
                f"HTTP {response.status}: {response.request.method} {response.url}"
            )

    def check(self) -> None:
        problems, self.problems = self.problems, []
        self.allowed = set()
        assert not problems, "the dashboard misbehaved:\n  " + "\n  ".join(problems)


def _failed_status(text: str) -> int | None:
    """'Failed to load resource: the server responded with a status of 412 (...)' -> 412"""
    marker = "responded with a status of "
    if not text.startswith("Failed to load resource") or marker not in text:
        return None
    digits = text.split(marker, 1)[1].split()[0]
    return int(digits) if digits.isdigit() else None


class Dashboard:
    """A running `sdwan serve` and the browser contexts (one per user) on it."""

    def __init__(self, server: OrchestratorProcess, browser: Browser, monitor: Monitor) -> None:
        self.server = server
        self.url = server.url
        self.browser = browser
        self.monitor = monitor
        monitor.origin = server.url
        self._contexts: list[BrowserContext] = []

    def api(self) -> httpx.Client:
        return self.server.client()

    def add_user(self, name: str, role: str, project: str = "default") -> None:
        with self.api() as api:
            assert (
                api.post("/v1/users", json={"name": name, "password": PASSWORD}).status_code == 201
            )
            body = {"user": name, "project": project, "role": role}
            assert api.put("/v1/role-assignments", json=body).status_code == 200

    def page(self) -> Page:
        """A new browser context (its own sessionStorage: a separate user) and page."""
        context = self.browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
        context.on("console", self.monitor.on_console)
        context.on("weberror", lambda error: self.monitor.on_page_error(error.error))
        context.on("request", self.monitor.on_request)
        context.on("response", self.monitor.on_response)
        self._contexts.append(context)
        return context.new_page()

    def login(self, user: str) -> Page:
        page = self.page()
        page.goto(f"{self.url}/ui/#/login")
        page.fill("#login-username", user)
        page.fill("#login-password", PASSWORD)
        page.click("#login-form button[type=submit]")
        # the password hash is slow on purpose, slower still on a loaded machine
        expect(page.locator("#whoami")).to_contain_text(user, timeout=30_000)
        return page

    def login_token(self, token: str = ADMIN_TOKEN) -> Page:
        page = self.page()
        page.goto(f"{self.url}/ui/")
        page.fill("#login-token", token)
        page.click("#token-form button[type=submit]")
        expect(page.locator("#whoami")).to_be_visible()
        return page

    def open(self, page: Page, route: str) -> None:
        page.goto(f"{self.url}/ui/#/{route}")

    def close(self) -> None:
        for context in self._contexts:
            context.close()


def created(answer: httpx.Response) -> dict[str, Any]:
    """The body of a 201 answer (anything else fails the test, with the answer)."""
    assert answer.status_code == 201, answer.text
    data: dict[str, Any] = answer.json()
    return data


def screenshot(page: Page, name: str) -> None:
    """docs/img/NAME.png, taken by the test run (docs/ui.md shows them)."""
    IMAGES.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(IMAGES / f"{name}.png"))


def start_dashboard(
    workdir: Path, browser: Browser, monitor: Monitor, extra_env: dict[str, str] | None = None
) -> tuple[OrchestratorProcess, Dashboard]:
    # a loaded 2-core machine has been seen to take 40 s to start a server
    server = OrchestratorProcess(workdir, extra_env=extra_env).start(timeout=SERVER_START)
    return server, Dashboard(server, browser, monitor)


def stop_dashboard(server: OrchestratorProcess, dashboard: Dashboard) -> None:
    """Close the browser contexts, stop the server; it must not have logged a crash."""
    dashboard.close()
    server.stop()
    assert "Traceback" not in server.log_path.read_text(errors="replace"), server.log_tail(60)


@contextmanager
def gobgpd_lab(
    lab_environment: Any, gobgpd_dir: Path, initial: str
) -> Iterator[tuple[Lab, GobgpdFactory]]:
    """A lab of namespaces and gobgpd named ``<initial><random>-...``, registered for
    the session's clean-up, torn down (daemons first) when the block ends."""
    prefix = initial + secrets.token_hex(3)
    lab_environment.prefixes.append(prefix)
    lab = Lab(prefix)
    factory = GobgpdFactory(gobgpd_dir, prefix=prefix)
    try:
        yield lab, factory
    finally:
        factory.close_all()
        lab.teardown()
