"""A small HTTP/1.1 load generator on asyncio protocols (keep-alive, one request in flight per
connection). Run in its own process so that it does not share an event loop with the server.

Two modes: closed loop (``connections`` clients send as fast as answers come back) and open
loop (requests start at a fixed ``rate`` whatever the answers; latency counts from the
scheduled start, so a stalled server is not hidden by coordinated omission).
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import uvloop

Body = Callable[[int], bytes]


@dataclass
class Result:
    requests: int = 0
    events: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, float]:
        ordered = sorted(self.latencies)

        def quantile(q: float) -> float:
            return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0

        return {
            "requests": self.requests,
            "errors": self.errors,
            "requests_per_s": self.requests / self.seconds if self.seconds else 0.0,
            "events_per_s": self.events / self.seconds if self.seconds else 0.0,
            "p50_ms": quantile(0.50),
            "p99_ms": quantile(0.99),
        }


class Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[int] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buffer[:end]).lower()
        start = head.find(b"content-length:")
        length = (
            int(
                head[
                    start + 15 : head.find(b"\r\n", start)
                    if head.find(b"\r\n", start) > 0
                    else None
                ]
            )
            if start >= 0
            else 0
        )
        if len(self.buffer) < end + 4 + length:
            return
        status = int(self.buffer[9:12])
        del self.buffer[: end + 4 + length]
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(status)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(0)

    async def request(self, raw: bytes) -> int:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(raw)
        return await self.waiter


def _request(host: str, port: int, path: str, write_key: str, body: bytes) -> bytes:
    auth = base64.b64encode(f"{write_key}:".encode()).decode()
    return (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Basic {auth}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


async def connect(host: str, port: int) -> Connection:
    loop = asyncio.get_running_loop()
    _, protocol = await loop.create_connection(Connection, host, port)
    return protocol


async def closed_loop(
    host: str,
    port: int,
    path: str,
    write_key: str,
    body: Body,
    events_per_request: int,
    connections: int,
    seconds: float,
) -> Result:
    result = Result()
    counter = itertools.count()
    clients = [await connect(host, port) for _ in range(connections)]
    deadline = time.perf_counter() + seconds

    async def client(connection: Connection) -> None:
        while time.perf_counter() < deadline:
            raw = _request(host, port, path, write_key, body(next(counter)))
            started = time.perf_counter()
            status = await connection.request(raw)
            result.latencies.append(time.perf_counter() - started)
            result.requests += 1
            if status == 200:
                result.events += events_per_request
            else:
                result.errors += 1

    started = time.perf_counter()
    await asyncio.gather(*(client(c) for c in clients))
    result.seconds = time.perf_counter() - started
    for c in clients:
        assert c.transport is not None
        c.transport.close()
    return result


async def open_loop(
    host: str,
    port: int,
    raw: Body,
    rate: float,
    seconds: float,
    connections: int,
    events_per_request: int = 1,
) -> Result:
    """Start request ``raw(i)`` at ``rate`` per second for ``seconds``, over ``connections``
    keep-alive connections (a request waits for a free one: that wait counts as latency)."""
    result = Result()
    idle = [await connect(host, port) for _ in range(connections)]
    spare: asyncio.Queue[Connection] = asyncio.Queue()
    for connection in idle:
        spare.put_nowait(connection)
    total = int(rate * seconds)
    begin = time.perf_counter()
    tasks = []

    async def one(index: int, scheduled: float) -> None:
        connection = await spare.get()
        status = await connection.request(raw(index))
        spare.put_nowait(connection)
        result.latencies.append(time.perf_counter() - scheduled)
        result.requests += 1
        if status == 200:
            result.events += events_per_request
        else:
            result.errors += 1

    for index in range(total):
        scheduled = begin + index / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(index, scheduled)))
    await asyncio.gather(*tasks)
    result.seconds = time.perf_counter() - begin
    return result


_USER, _MESSAGE = b"@USER@", b"@MESSAGE@"


def _template(message: dict[str, object]) -> Callable[[bytes, bytes], bytes]:
    """A message as JSON split around its placeholders (the user id wherever ``@USER@`` is,
    the message id at ``@MESSAGE@``), encoded once so that each message costs a join instead
    of a JSON encoding."""
    encoded = json.dumps(message, separators=(",", ":")).encode()
    pieces = re.split(b"(@USER@|@MESSAGE@)", encoded)
    if pieces.count(_MESSAGE) != 1 or _USER not in pieces:
        raise ValueError("a message needs @USER@ and one @MESSAGE@")
    if pieces.count(_USER) == 1:
        head, _, middle, _, tail = pieces  # the usual case, two joins

        def fill(user: bytes, message_id: bytes) -> bytes:
            return b"".join((head, user, middle, message_id, tail))

        return fill

    def fill_all(user: bytes, message_id: bytes) -> bytes:
        return b"".join(user if p == _USER else message_id if p == _MESSAGE else p for p in pieces)

    return fill_all


_TRACK = {
    "type": "track",
    "userId": "@USER@",
    "event": "Product Viewed",
    "messageId": "@MESSAGE@",
    "properties": {"product_id": "p-42", "price": 19.99, "currency": "EUR"},
    "context": {"library": {"name": "bench", "version": "1"}},
    "timestamp": "2026-11-23T10:00:00.000Z",
}


def track_body(run: str, message: dict[str, object] | None = None) -> Body:
    """``message`` (default: a product view) with ``@USER@`` and ``@MESSAGE@`` filled in."""
    fill = _template(message or _TRACK)
    prefix = f"{run}-t-".encode()

    def body(index: int) -> bytes:
        return fill(b"user-%d" % (index % 5000), prefix + str(index).encode())

    return body


def batch_body(run: str, size: int, message: dict[str, object] | None = None) -> Body:
    fill = _template(message or _TRACK)
    prefix = f"{run}-b-".encode()
    envelope_head = b'{"batch":['
    envelope_tail = b'],"sentAt":"2026-11-23T10:00:00.000Z"}'

    def body(index: int) -> bytes:
        base = index * size
        items = [
            fill(b"user-%d" % ((base + i) % 5000), prefix + b"%d" % (base + i)) for i in range(size)
        ]
        return envelope_head + b",".join(items) + envelope_tail

    return body


def run_phase(spec: dict[str, object]) -> dict[str, float]:
    """Entry point for a load process: ``spec`` says what to run; returns the summary."""
    uvloop.install()
    kind = spec["kind"]
    host, port, key = str(spec["host"]), int(spec["port"]), str(spec["write_key"])  # type: ignore[call-overload]
    run = str(spec["run"])
    seconds = float(spec["seconds"])  # type: ignore[arg-type]
    if kind == "batch" and "rate" in spec:  # batches started at a fixed rate
        size = int(spec["batch_size"])  # type: ignore[call-overload]
        body = batch_body(run, size, spec.get("message"))  # type: ignore[arg-type]
        coro = open_loop(
            host,
            port,
            lambda index: _request(host, port, "/v1/batch", key, body(index)),
            float(spec["rate"]),  # type: ignore[arg-type]
            seconds,
            int(spec["connections"]),  # type: ignore[call-overload]
            size,
        )
    elif kind == "batch":
        size = int(spec["batch_size"])  # type: ignore[call-overload]
        coro = closed_loop(
            host,
            port,
            "/v1/batch",
            key,
            batch_body(run, size, spec.get("message")),  # type: ignore[arg-type]
            size,
            int(spec["connections"]),
            seconds,
        )  # type: ignore[call-overload]
    elif kind == "track":
        coro = closed_loop(
            host,
            port,
            "/v1/track",
            key,
            track_body(run, spec.get("message")),  # type: ignore[arg-type]
            1,
            int(spec["connections"]),
            seconds,
        )  # type: ignore[call-overload]
    else:
        body = track_body(run)
        coro = open_loop(
            host,
            port,
            lambda index: _request(host, port, "/v1/track", key, body(index)),
            float(spec["rate"]),
            seconds,
            int(spec["connections"]),
        )
    return asyncio.run(coro).summary()
