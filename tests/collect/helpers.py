"""Talking to a running server in the collection tests: sources, what they stored, checks."""

from __future__ import annotations

import base64
import itertools
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from tests.server import ADMIN_TOKEN, RunningServer

__all__ = [
    "Source",
    "api",
    "assert_error",
    "assert_ok",
    "basic",
    "new_source",
    "poll",
    "request",
]

_numbers = itertools.count()
# One client for all requests: a new httpx client per request costs ~20 ms (its SSL context).
_client = httpx.Client(timeout=30)


def api(server: RunningServer, method: str, path: str, **kwargs: Any) -> Any:
    """Call the management API as admin; fail on an error status."""
    response = _client.request(
        method,
        f"{server.url}{path}",
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        **kwargs,
    )
    response.raise_for_status()
    return response.json()


def request(method: str, url: str, **kwargs: Any) -> httpx.Response:
    """Any request through the shared client."""
    return _client.request(method, url, **kwargs)


@dataclass
class Source:
    """A source of its own on a running server, and what it stored."""

    server: RunningServer
    id: int
    write_key: str
    workspace: str = "default"

    @property
    def url(self) -> str:
        return self.server.url

    def post(
        self,
        path: str,
        body: Any = None,
        *,
        content: bytes | None = None,
        auth: bool = True,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
    ) -> httpx.Response:
        """POST to a tracking route, with this source's write key as HTTP Basic."""
        all_headers = dict(headers or {})
        if auth:
            all_headers.setdefault("Authorization", basic(self.write_key))
        if content is None and body is not None:
            content = httpx.Request("POST", "/", json=body).content
            all_headers.setdefault("Content-Type", "application/json")
        return _client.post(
            f"{self.url}{path}", content=content, headers=all_headers, params=params
        )

    def events(self) -> list[dict[str, Any]]:
        """The payloads stored for this source, oldest first."""
        rows = api(
            self.server,
            "GET",
            f"/api/v1/workspaces/{self.workspace}/sources/{self.id}/events",
            params={"limit": 1000},
        )
        return [row["payload"] for row in reversed(rows)]

    def rejections(self, *, refused_requests: bool = False) -> list[dict[str, Any]]:
        """This source's rejected events, oldest first.

        A refused request (400) may be noted as a rejection with index -1; those are left out
        unless ``refused_requests``.
        """
        rows = api(
            self.server,
            "GET",
            f"/api/v1/workspaces/{self.workspace}/rejections",
            params={"source": self.id, "limit": 1000},
        )
        return [row for row in reversed(rows) if refused_requests or row["index"] != -1]

    def totals(self) -> dict[str, int]:
        """Accepted, duplicate and rejected counts of this source (GET .../stats?by=event)."""
        rows = api(
            self.server,
            "GET",
            f"/api/v1/workspaces/{self.workspace}/stats",
            params={"source": self.id, "by": "event", "interval": "day"},
        )
        return {
            key: sum(row[key] for row in rows) for key in ("accepted", "duplicates", "rejected")
        }

    def nothing_stored(self) -> bool:
        """No event stored and no event rejected."""
        return not self.events() and not self.rejections()


def basic(write_key: str, *, colon: bool = True) -> str:
    """An HTTP Basic header with the write key as user (Segment's SDKs add the colon)."""
    user = f"{write_key}:" if colon else write_key
    return "Basic " + base64.b64encode(user.encode()).decode()


def new_source(server: RunningServer, *, workspace: str = "default", **fields: Any) -> Source:
    """Create a source through the management API (``kind``, ``strict`` as keywords)."""
    number = next(_numbers)
    created = api(
        server,
        "POST",
        f"/api/v1/workspaces/{workspace}/sources",
        json={
            "name": f"source-{number}",
            "write_key": f"key-{os.getpid()}-{number}-{time.monotonic_ns()}",
            **fields,
        },
    )
    return Source(server, created["id"], created["write_key"], workspace)


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is ``status`` with Headwater's JSON error body; return the body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["success"] is False, body
    assert isinstance(body["code"], str)
    assert body["code"]
    assert isinstance(body["message"], str)
    assert body["message"]
    if code is not None:
        assert body["code"] == code, body
    return body  # type: ignore[no-any-return]


def assert_ok(response: httpx.Response) -> None:
    assert response.status_code == 200, response.text
    assert response.json() == {"success": True}


def poll(check: Callable[[], bool], *, timeout: float = 10, interval: float = 0.05) -> None:
    """Wait until ``check()`` is true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)
