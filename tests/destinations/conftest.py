"""A ``headwater serve`` per test module with delivery timings cut to fractions of a second,
and a fresh workspace (with one source) per test: :class:`Space`."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import pytest

from tests.conftest import scratch_database
from tests.server import RunningServer, start_server

__all__ = ["FAST", "Space", "eventually", "track"]

T = TypeVar("T")

FAST = {
    "HEADWATER_DELIVERY_BACKOFF_BASE_SECONDS": "0.05",
    "HEADWATER_DELIVERY_BACKOFF_MAX_SECONDS": "0.4",
    "HEADWATER_DELIVERY_LEASE_SECONDS": "1",
    "HEADWATER_DELIVERY_POLL_SECONDS": "0.2",
    "HEADWATER_DESTINATIONS_REFRESH_SECONDS": "0.2",
}


@pytest.fixture(scope="module")
async def module_database_url(postgres_url: str) -> AsyncIterator[str]:
    async with scratch_database(postgres_url, "hw_dest") as url:
        yield url


@pytest.fixture(scope="module")
def shared_server(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    running = start_server(module_database_url, tmp_path_factory.mktemp("dest-server"), FAST)
    try:
        yield running
    finally:
        running.stop()


def eventually(probe: Callable[[], T | None], *, timeout: float = 20, what: str = "") -> T:
    """Poll ``probe`` until it returns something other than None (or False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found is not None and found is not False:
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what or probe}")


def track(n: int, *, prefix: str = "m", **extra: Any) -> dict[str, Any]:
    return {
        "type": "track",
        "event": "Order Completed",
        "userId": f"user-{n % 7}",
        "messageId": f"{prefix}-{n}",
        "properties": {"order": n, "total": 10.5},
        **extra,
    }


@dataclass
class Space:
    """A workspace of the shared server, with one source and a management client."""

    server: RunningServer
    slug: str
    write_key: str
    source_id: int

    @classmethod
    def create(cls, server: RunningServer) -> Space:
        return cls(server, *server.new_workspace())

    def send(self, *messages: dict[str, Any]) -> None:
        for start in range(0, len(messages), 500):
            response = httpx.post(
                f"{self.server.url}/v1/batch",
                json={"batch": list(messages[start : start + 500])},
                auth=(self.write_key, ""),
                timeout=30,
            )
            assert response.status_code == 200, response.text

    def admin(self, method: str, path: str = "", **kwargs: Any) -> httpx.Response:
        """A call under ``/api/v1/workspaces/{slug}/destinations``."""
        with self.server.admin() as client:
            return client.request(
                method, f"/api/v1/workspaces/{self.slug}/destinations{path}", **kwargs
            )

    def ok(self, method: str, path: str = "", **kwargs: Any) -> Any:
        response = self.admin(method, path, **kwargs)
        assert response.status_code in (200, 201), (response.text, self.server.log()[-3000:])
        return response.json()

    def destination(self, url: str, *, name: str = "hook", **fields: Any) -> int:
        body = {"name": name, "kind": "webhook", "config": {"url": url}, **fields}
        created = self.ok("POST", json=body)
        return int(created["id"])

    def stats(self, destination_id: int) -> dict[str, int]:
        series = self.ok("GET", f"/{destination_id}/stats", params={"interval": "day"})["series"]
        keys = ("enqueued", "delivered", "retried", "failed", "dead_lettered", "skipped_filters")
        return {k: sum(row[k] for row in series) for k in keys}


@pytest.fixture
def space(shared_server: RunningServer) -> Space:
    return Space.create(shared_server)
