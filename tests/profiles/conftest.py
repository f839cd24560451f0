"""One ``headwater serve`` (with its processor) per test module, and a fresh workspace per test.

Starting a server costs more than most tests here, so a module shares one; each test gets its own
workspace with its own source (:class:`Space`), so tests never see each other's profiles.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import scratch_database
from tests.server import ADMIN_TOKEN, RunningServer, start_server

__all__ = ["Space", "ids"]


@pytest.fixture(scope="module")
async def module_database_url(postgres_url: str) -> AsyncIterator[str]:
    async with scratch_database(postgres_url, "hw_profiles") as url:
        yield url


@pytest.fixture(scope="module")
def shared_server(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    running = start_server(module_database_url, tmp_path_factory.mktemp("profiles-server"))
    try:
        yield running
    finally:
        running.stop()


@dataclass
class Space:
    """A workspace of the shared server with one source, and clients for its APIs."""

    server: RunningServer
    slug: str
    write_key: str
    source_id: int

    @classmethod
    def create(cls, server: RunningServer) -> Space:
        return cls(server, *server.new_workspace())

    def send(self, *messages: dict[str, Any]) -> None:
        response = httpx.post(
            f"{self.server.url}/v1/batch", json={"batch": list(messages)}, auth=(self.write_key, "")
        )
        assert response.status_code == 200, response.text

    def admin(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A management API call under ``/api/v1/workspaces/{slug}``."""
        with self.server.admin() as client:
            return client.request(method, f"/api/v1/workspaces/{self.slug}{path}", **kwargs)

    def profile_api(
        self,
        path: str,
        *,
        collection: str = "users",
        token: str | None = ADMIN_TOKEN,
        space: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> httpx.Response:
        """``GET /v1/spaces/{space}/collections/{collection}/profiles/{path}``."""
        url = (
            f"{self.server.url}/v1/spaces/{space or self.slug}/collections/{collection}"
            f"/profiles/{path}"
        )
        auth = (token, "") if token is not None else None
        return httpx.get(url, auth=auth, params=params, timeout=30)

    def eventually(
        self,
        path: str,
        check: Callable[[Any], bool],
        *,
        collection: str = "users",
        timeout: float = 20,
    ) -> Any:
        """Poll the Profile API until ``check(body)`` holds: the processor runs asynchronously."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            response = self.profile_api(path, collection=collection)
            last = (response.status_code, response.text)
            if response.status_code == 200 and check(response.json()):
                return response.json()
            time.sleep(0.1)
        raise AssertionError(f"{collection}/{path}: last answer {last}")

    def search(self, **query: str) -> list[str]:
        response = self.admin("GET", "/profiles", params=query)
        assert response.status_code == 200, response.text
        return [found["id"] for found in response.json()]


@pytest.fixture
def space(shared_server: RunningServer) -> Space:
    return Space.create(shared_server)


def ids(body: dict[str, Any]) -> set[tuple[str, str]]:
    """``(type, id)`` of a Profile API ``external_ids`` answer."""
    return {(item["type"], item["id"]) for item in body["data"]}
