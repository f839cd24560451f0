"""Slow and idle clients cannot hold connections open, and normal traffic goes on beside them.

A real ``headwater serve`` with short timeouts (1-2 s) so that the tests stay short. Each
check reads until the server closes the connection; the socket's own timeout (20 s) only
turns a server that never closes into a failure, it measures nothing.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.collect.helpers import basic, poll
from tests.server import WRITE_KEY, RunningServer, start_server

_NEVER = 20.0
_TRACK = json.dumps({"userId": "u1", "event": "Slow"}).encode()


@pytest.fixture
def strict_server(database_url: str, tmp_path: Path) -> Iterator[RunningServer]:
    running = start_server(
        database_url,
        tmp_path,
        {
            "HEADWATER_HEADER_TIMEOUT_SECONDS": "1",
            "HEADWATER_BODY_TIMEOUT_SECONDS": "1",
            "HEADWATER_KEEP_ALIVE_TIMEOUT_SECONDS": "2",
            "HEADWATER_MAX_HEADER_BYTES": "8192",
        },
    )
    try:
        yield running
    finally:
        running.stop()


def _head(length: int = len(_TRACK), extra: bytes = b"") -> bytes:
    return (
        b"POST /v1/track HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        b"Authorization: " + basic(WRITE_KEY).encode() + b"\r\n"
        b"Content-Length: " + str(length).encode() + b"\r\n" + extra
    )


async def _until_closed(
    server: RunningServer, first: bytes, trickle: bytes = b"", every: float = 0.25
) -> bytes:
    """Send ``first``, then one byte of ``trickle`` every ``every`` s; return what the server
    answered once it closed the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(first)
    answer = b""

    async def read() -> None:
        nonlocal answer
        try:
            while chunk := await reader.read(65536):
                answer += chunk
        except ConnectionResetError:  # our next byte met the closed socket: closed all the same
            pass

    reading = asyncio.create_task(read())
    async with asyncio.timeout(_NEVER):
        for byte in trickle:
            if reading.done() or answer:
                break
            try:
                writer.write(bytes([byte]))
                await writer.drain()
            except ConnectionError:
                break
            await asyncio.wait({reading}, timeout=every)
        await reading
    writer.close()
    return answer


def _status_and_body(answer: bytes) -> tuple[int, dict[str, object]]:
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def test_an_idle_connection_is_closed(strict_server: RunningServer) -> None:
    assert asyncio.run(_until_closed(strict_server, b"")) == b""
    # Blank lines, which the parser skips between requests, do not keep it open either.
    assert asyncio.run(_until_closed(strict_server, b"", trickle=b"\n" * 200, every=0.5)) == b""


def test_slow_headers_are_answered_408_and_closed(strict_server: RunningServer) -> None:
    answer = asyncio.run(_until_closed(strict_server, _head(), trickle=b"X-Slow: " + b"a" * 500))
    status, body = _status_and_body(answer)
    assert status == 408
    assert body["code"] == "request_timeout"


def test_a_slow_body_is_answered_408_closed_and_recorded(strict_server: RunningServer) -> None:
    answer = asyncio.run(_until_closed(strict_server, _head() + b"\r\n", trickle=_TRACK * 50))
    status, body = _status_and_body(answer)
    assert status == 408
    assert body["code"] == "request_timeout"
    # The application records the cut-short body after the answer went out: wait for it.
    poll(
        lambda: any(
            "client_disconnected" in r["reason"]
            for r in strict_server.api("GET", "/api/v1/workspaces/default/rejections")
        )
    )


def test_headers_over_the_limit_are_answered_431(strict_server: RunningServer) -> None:
    big = b"X-Big: " + b"b" * 9000 + b"\r\n"
    for first in (_head(extra=big) + b"\r\n" + _TRACK, _head(extra=big)):
        status, body = _status_and_body(asyncio.run(_until_closed(strict_server, first)))
        assert status == 431
        assert body["code"] == "headers_too_large"
    response = httpx.post(
        f"{strict_server.url}/v1/track",
        content=_TRACK,
        headers={"Authorization": basic(WRITE_KEY), "AnonymousId": "h" * 8 * 1024 * 1024},
        timeout=_NEVER,
    )
    assert response.status_code == 431


def test_a_slow_client_attack_beside_normal_traffic(strict_server: RunningServer) -> None:
    async def attack_and_traffic() -> tuple[list[bytes], list[int]]:
        slow = [
            _until_closed(strict_server, _head(), trickle=b"X-Slow: " + b"a" * 200)
            for _ in range(100)
        ] + [
            _until_closed(strict_server, _head() + b"\r\n", trickle=_TRACK * 20) for _ in range(100)
        ]
        attack = asyncio.gather(*slow)
        statuses: list[int] = []
        async with httpx.AsyncClient(base_url=strict_server.url, timeout=_NEVER) as client:
            for number in range(60):
                response = await client.post(
                    "/v1/track",
                    json={"userId": f"u{number}", "event": "Normal", "messageId": f"n-{number}"},
                    headers={"Authorization": basic(WRITE_KEY)},
                )
                statuses.append(response.status_code)
                await asyncio.sleep(0.05)
        return await attack, statuses

    answers, statuses = asyncio.run(attack_and_traffic())
    assert statuses == [200] * 60
    assert all(_status_and_body(answer)[0] == 408 for answer in answers)
    for number in range(60):
        assert (
            strict_server.api("GET", f"/api/v1/workspaces/default/events/n-{number}")["messageId"]
            == f"n-{number}"
        )
    metrics = httpx.get(f"{strict_server.url}/metrics", timeout=_NEVER).text
    for reason in ("header_timeout", "body_timeout"):
        line = f'headwater_connections_cut_total{{reason="{reason}"}}'
        [count] = [row.split()[-1] for row in metrics.splitlines() if row.startswith(line)]
        assert float(count) >= 100
