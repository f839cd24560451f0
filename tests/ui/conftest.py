"""End-to-end tests of the web app: a real Chromium (the Debian package ``chromium``, driven by
Playwright through ``executable_path``; nothing is downloaded) against a real ``headwater serve``
on PostgreSQL, serving the app built into the package (``./scripts/test`` builds it).

Each test signs in as a person with a role in a workspace of its own, as a user would."""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from headwater.api.web import WebApp
from tests.conftest import scratch_database
from tests.server import RunningServer, start_server

PASSWORD = "correct horse battery"
AXE = Path(__file__).parents[2] / "ui" / "node_modules" / "axe-core" / "axe.min.js"


def chromium() -> str:
    """The system's Chromium (``HEADWATER_TEST_CHROMIUM`` names another)."""
    found = os.environ.get("HEADWATER_TEST_CHROMIUM") or shutil.which("chromium")
    found = found or shutil.which("chromium-browser")
    assert found, "Chromium is needed: apt-get install chromium (.ci/run does it)"
    return found


@pytest.fixture(scope="package")
def playwright(ui_server: RunningServer) -> Iterator[Playwright]:
    """Started after the server (and its database, set up on asyncio): Playwright's sync API
    keeps an event loop marked running on this thread until it stops."""
    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    index = WebApp.of_package().index
    assert index.is_file(), f"the web app is not built ({index}): run ./scripts/test"
    launched = playwright.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
    yield launched
    launched.close()


@pytest.fixture(scope="package")
async def ui_database_url(postgres_url: str) -> AsyncIterator[str]:
    async with scratch_database(postgres_url, "hw_ui") as url:
        yield url


@pytest.fixture(scope="package")
def ui_server(
    ui_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    # Reverse ETL's customer database is on the test PostgreSQL server (tests/retl/conftest.py).
    local = {"HEADWATER_RETL_ALLOW_LOCAL_DATABASES": "true"}
    running = start_server(ui_database_url, tmp_path_factory.mktemp("ui-server"), extra_env=local)
    try:
        yield running
    finally:
        running.stop()


@dataclass
class Person:
    email: str
    workspace: str
    role: str


@dataclass
class World:
    """The server, and people made through its API with the admin token."""

    server: RunningServer

    def workspace(self) -> str:
        slug = f"ws-{uuid.uuid4().hex[:8]}"
        self.server.api("POST", "/api/v1/workspaces", json={"slug": slug})
        return slug

    def person(self, role: str, *, workspace: str | None = None, pii_read: bool = False) -> Person:
        slug = workspace or self.workspace()
        email = f"{role.replace('_', '-')}-{uuid.uuid4().hex[:6]}@example.com"
        self.server.api(
            "POST",
            f"/api/v1/workspaces/{slug}/members",
            json={"email": email, "role": role, "password": PASSWORD, "pii_read": pii_read},
        )
        return Person(email, slug, role)

    def source(self, workspace: str, name: str = "Website") -> dict[str, object]:
        found: dict[str, object] = self.server.api(
            "POST", f"/api/v1/workspaces/{workspace}/sources", json={"name": name}
        )
        return found

    def track(self, write_key: str, event: str, user_id: str = "user-1") -> None:
        response = httpx.post(
            f"{self.server.url}/v1/track",
            auth=(write_key, ""),
            json={"userId": user_id, "event": event, "properties": {"plan": "pro"}},
            timeout=30,
        )
        assert response.status_code == 200, response.text

    def profile(self, workspace: str, identifier: str, timeout: float = 30) -> dict[str, Any]:
        """The profile ``identifier`` (``type:value``) names, once the processor made it."""
        deadline = time.monotonic() + timeout
        path = f"/api/v1/workspaces/{workspace}/profiles"
        while not (found := self.server.api("GET", path, params={"identifier": identifier})):
            assert time.monotonic() < deadline, f"no profile for {identifier}"
            time.sleep(0.1)
        return found[0]  # type: ignore[no-any-return]


@pytest.fixture
def world(ui_server: RunningServer) -> World:
    return World(ui_server)


@pytest.fixture
def page(browser: Browser, ui_server: RunningServer) -> Iterator[Page]:
    context = browser.new_context(base_url=ui_server.url)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert not errors, f"the page threw: {errors}"


def sign_in(page: Page, person: Person) -> None:
    """Sign in through the form, as a person does, and land on the workspace's overview."""
    page.goto("/login")
    page.get_by_label("Email").fill(person.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**/w/{person.workspace}/overview")


def serious_violations(page: Page) -> list[str]:
    """axe-core's serious and critical accessibility violations of the page as it is."""
    # evaluated through the DevTools protocol, which the page's CSP does not govern
    page.evaluate(AXE.read_text(encoding="utf-8"))
    found = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
        ".map(v => v.id + ': ' + v.help + ' ('"
        " + v.nodes.map(n => n.target.join(' ')).join(', ') + ')')"
    )
    return list(found)
