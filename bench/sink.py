"""A fast webhook receiver for ``bench/delivery.py``: a bare ASGI app under uvicorn + uvloop.

- ``POST /ok``: accepts a webhook body (one event, or ``{"batch": [...]}``), answers 200, and
  records each event's received-to-now latency (its ``receivedAt`` against this clock) under
  the first part of its messageId (``phase-n``: ``phase``);
- ``POST /fail``: answers 500 after ``delay`` seconds (a destination that is down and slow);
- ``GET /stats``: ``{phase: {"count", "p50_ms", "p95_ms", "first", "last"}}``.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from datetime import datetime
from typing import Any

import msgspec

_latencies: dict[str, list[float]] = defaultdict(list)
_times: dict[str, list[float]] = {}

Scope = dict[str, Any]


async def _body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _answer(send: Any, status: int, body: bytes = b"{}") -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _record(events: list[dict[str, Any]]) -> None:
    now = time.time()
    for event in events:
        phase = str(event.get("messageId", "")).split("-", 1)[0]
        received = datetime.fromisoformat(event["receivedAt"]).timestamp()
        _latencies[phase].append((now - received) * 1000)
        span = _times.setdefault(phase, [now, now])
        span[1] = now


def _stats() -> dict[str, dict[str, float]]:
    found = {}
    for phase, values in _latencies.items():
        ordered = sorted(values)
        found[phase] = {
            "count": len(ordered),
            "p50_ms": ordered[len(ordered) // 2],
            "p95_ms": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))],
            "first": _times[phase][0],
            "last": _times[phase][1],
        }
    return found


async def app(scope: Scope, receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    path = scope["path"]
    if path == "/stats":
        await _answer(send, 200, msgspec.json.encode(_stats()))
        return
    body = await _body(receive)
    if path == "/fail":
        await asyncio.sleep(1.0)
        await _answer(send, 500, b'{"error": "down"}')
        return
    decoded = msgspec.json.decode(body)
    _record(decoded.get("batch", [decoded]))
    await _answer(send, 200)
