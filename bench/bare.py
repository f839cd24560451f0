"""The baseline: a bare ASGI endpoint on the same server stack (uvicorn, httptools, uvloop).

It reads the body and answers ``{"success": true}`` without parsing or storing anything, so
the ratio of Headwater's figures to this one is the cost of doing the real work.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

_OK = b'{"success":true}'
_HEADERS = [(b"content-type", b"application/json"), (b"content-length", b"16")]


async def app(
    scope: MutableMapping[str, Any],
    receive: Callable[[], Awaitable[MutableMapping[str, Any]]],
    send: Callable[[MutableMapping[str, Any]], Awaitable[None]],
) -> None:
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = bool(message.get("more_body"))
    await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
    await send({"type": "http.response.body", "body": _OK})
