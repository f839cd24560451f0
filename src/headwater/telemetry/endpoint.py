"""The operations endpoint of a process without a web application (``headwater worker``).

>>> server = await start_endpoint("127.0.0.1", 9464, metrics=runtime.metrics, ready=runtime.ready)
>>> server.close()

``GET /metrics`` answers the process's metrics (Prometheus' text format), ``GET /ready`` its
readiness report as JSON (``200`` when ``ready`` is true, else ``503``), ``GET /health`` that it
answers; anything else is a ``404``. The routes and bodies are those of ``headwater serve``'s,
from the same :class:`~headwater.runtime.Runtime`. One request per connection (HTTP/1.0), each
given ``_TIMEOUT`` seconds to arrive: a scraper or a probe needs no more.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from headwater.telemetry.metrics import CONTENT_TYPE_LATEST, Metrics

__all__ = ["start_endpoint"]

Ready = Callable[[], Awaitable[dict[str, Any]]]

_TIMEOUT = 10.0
_JSON = "application/json"
_NO_REQUEST = (
    TimeoutError,
    ConnectionError,
    asyncio.IncompleteReadError,
    asyncio.LimitOverrunError,
    ValueError,  # a request line without a method and a path
)
_REASONS = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 503: "Service Unavailable"}


async def start_endpoint(host: str, port: int, *, metrics: Metrics, ready: Ready) -> asyncio.Server:
    """Listen on ``host:port`` until the returned server is closed; see the module."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(_TIMEOUT):
                method, path = await _request(reader)
            status, kind, body = await _route(method, path, metrics, ready)
            head = (
                f"HTTP/1.0 {status} {_REASONS[status]}\r\ncontent-type: {kind}\r\n"
                f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
            )
            writer.write(head.encode() + body)
            await writer.drain()
        # The client left, sent too slowly or sent no HTTP: its connection just closes.
        except _NO_REQUEST:
            pass
        finally:
            writer.close()

    return await asyncio.start_server(answer, host, port)


async def _request(reader: asyncio.StreamReader) -> tuple[str, str]:
    """The method and path of the request (its headers are read and ignored)."""
    method, target, _ = (await reader.readuntil(b"\n")).decode("latin-1").split(" ", 2)
    while (await reader.readuntil(b"\n")).strip():
        pass
    return method, target.split("?", 1)[0]


async def _route(method: str, path: str, metrics: Metrics, ready: Ready) -> tuple[int, str, bytes]:
    if path not in ("/metrics", "/ready", "/health"):
        return 404, _JSON, b'{"success":false,"code":"not_found","message":"no such route"}'
    if method != "GET":
        return 405, _JSON, b'{"success":false,"code":"method_not_allowed","message":"use GET"}'
    if path == "/metrics":
        return 200, CONTENT_TYPE_LATEST, metrics.exposition()
    if path == "/health":
        return 200, _JSON, b'{"status":"ok"}'
    report = await ready()
    return 200 if report["ready"] else 503, _JSON, msgspec.json.encode(report)
