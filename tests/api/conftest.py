"""One ``headwater serve`` for the management API tests: starting a server per test would cost
more than the tests. Each test creates its own workspaces and sources (unique names), so tests
do not see each other's data; assertions on shared lists check membership, not equality."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import scratch_database
from tests.server import ADMIN_TOKEN, RunningServer, start_server


@pytest.fixture(scope="package")
async def shared_database_url(postgres_url: str) -> AsyncIterator[str]:
    async with scratch_database(postgres_url, "hw_api") as url:
        yield url


@pytest.fixture(scope="package")
def api_server(
    shared_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    running = start_server(shared_database_url, tmp_path_factory.mktemp("api-server"))
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def admin(api_server: RunningServer) -> Iterator[httpx.Client]:
    """A client of the server, with the admin token (answers are not checked)."""
    with httpx.Client(
        base_url=api_server.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=30
    ) as client:
        yield client


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@dataclass
class Api:
    """The server's two APIs, as a test uses them."""

    server: RunningServer
    client: httpx.Client

    def ok(self, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        response = self.client.request(method, path, **kwargs)
        assert response.status_code == status, f"{method} {path}: {response.text}"
        return response.json()

    def error(self, method: str, path: str, status: int, code: str, **kwargs: Any) -> Any:
        """Expect an error answer: ``status``, and the JSON body with ``code``."""
        response = self.client.request(method, path, **kwargs)
        assert response.status_code == status, f"{method} {path}: {response.text}"
        assert response.headers["content-type"].startswith("application/json")
        body = response.json()
        assert body["success"] is False
        assert body["code"] == code, body
        assert body["message"]
        return body

    def workspace(self) -> str:
        slug = unique("ws")
        self.ok("POST", "/api/v1/workspaces", 201, json={"slug": slug})
        return slug

    def source(self, **fields: Any) -> dict[str, Any]:
        """A new source in ``workspace`` (default: ``default``) with the other ``fields``."""
        workspace = fields.pop("workspace", "default")
        body = {"name": unique("src"), **fields}
        path = f"/api/v1/workspaces/{workspace}/sources"
        return self.ok("POST", path, 201, json=body)  # type: ignore[no-any-return]

    def track(
        self, write_key: str, path: str = "/v1/track", *, status: int = 200, **body: Any
    ) -> httpx.Response:
        response = httpx.post(f"{self.server.url}{path}", json=body, auth=(write_key, ""))
        assert response.status_code == status, response.text
        return response


@pytest.fixture
def api(api_server: RunningServer, admin: httpx.Client) -> Api:
    return Api(api_server, admin)
