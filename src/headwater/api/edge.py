"""Checks at the HTTP edge of the management and Profile APIs, before any route runs.

PostgreSQL cannot store the NUL character (U+0000) in ``text`` or ``jsonb``, and no name, key,
slug or value of Headwater needs it; so a request with a NUL anywhere in its path, its query or
its body is refused once, here, with 400 ``invalid_character``::

    receive = await refuse_nul(scope, receive, send)   # None: answered already
    if receive is not None:
        await app(scope, receive, send)

In a body, a NUL is a raw zero byte or a JSON ``\\u0000`` escape (one not itself escaped, as
in ``\\\\u0000``, which is a backslash and five letters). A file uploaded for an import
(``POST /api/v1/workspaces/{workspace}/imports``) is not read here: it streams to disk (up to
100 MB, a Parquet file holds zero bytes of its own), and the import's reader replaces each NUL
in its values with U+FFFD, as the tracking API does.
"""

from __future__ import annotations

import re
from typing import Any, Final, Literal
from urllib.parse import unquote_to_bytes

import msgspec
from pydantic import BaseModel, ConfigDict

from headwater.api.tracking import Message, Receive, Scope, Send
from headwater.errors import ApiError, BadRequest

__all__ = ["ERROR_RESPONSES", "UNEXPECTED", "ErrorBody", "refuse_nul", "send_error"]


class FieldError(BaseModel):
    field: str
    message: str


class ErrorBody(BaseModel):
    """Every error answer of the management and Profile APIs: ``success`` false, a stable
    ``code`` to act on, a readable ``message``; some codes add details (``errors`` for
    ``invalid_request``: each field and what is wrong with it)."""

    model_config = ConfigDict(extra="allow")

    success: Literal[False]
    code: str
    message: str
    errors: list[FieldError] | None = None


ERROR_RESPONSES: Final[dict[int | str, dict[str, Any]]] = {
    "4XX": {"model": ErrorBody, "description": "The request cannot be served as it is"},
    "5XX": {
        "model": ErrorBody,
        "description": "503: the database is unavailable, retry later; 500: a defect (logged)",
    },
}
"""The error answers every operation may give, as the OpenAPI document declares them."""


class _Unexpected(ApiError):
    status = 500


UNEXPECTED: Final = _Unexpected("internal_error", "an unexpected error; it has been logged")
"""The last resort's answer (status 500): nothing of the cause reaches the client."""

# a \u0000 escape preceded by an even number of backslashes (none, or escaped ones)
_ESCAPED_NUL: Final = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
_HEADERS: Final = [(b"content-type", b"application/json")]


async def refuse_nul(scope: Scope, receive: Receive, send: Send) -> Receive | None:
    """The ``receive`` to hand on (it replays the body read here), or None once a 400 has been
    sent because the path, the query or the body holds a NUL character."""
    where = _nul_in_target(scope)
    if where is None and _is_upload(scope):
        return receive
    body = b""
    more = True
    while more and where is None:
        message = await receive()
        if message["type"] != "http.request":
            return _replay([], message, receive)
        body += message.get("body", b"")
        more = message.get("more_body", False)
    if where is None and (b"\x00" in body or _ESCAPED_NUL.search(body)):
        where = "body"
    if where is not None:
        await send_error(
            send,
            BadRequest(
                "invalid_character",
                f"the request's {where} holds a NUL character (U+0000), which no field accepts",
            ),
        )
        return None
    return _replay([{"type": "http.request", "body": body, "more_body": False}], None, receive)


_UPLOAD: Final = re.compile(r"/api/v1/workspaces/[^/]+/imports/?")


def _is_upload(scope: Scope) -> bool:
    return scope.get("method") == "POST" and _UPLOAD.fullmatch(scope["path"]) is not None


def _nul_in_target(scope: Scope) -> str | None:
    if "\x00" in scope["path"]:
        return "path"
    query: bytes = scope.get("query_string", b"")
    if b"\x00" in unquote_to_bytes(query):
        return "query"
    return None


def _replay(buffered: list[Message], last: Message | None, receive: Receive) -> Receive:
    """A ``receive`` that hands out the messages read already, then defers to ``receive``
    (for the disconnect a streaming answer waits for)."""
    pending = [*buffered, *([last] if last is not None else [])]

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed


async def send_error(send: Send, error: ApiError) -> None:
    """Answer ``error`` in the API's JSON shape (for code outside FastAPI's handlers)."""
    body = msgspec.json.encode(error.body())
    await send(
        {
            "type": "http.response.start",
            "status": error.status,
            "headers": [*_HEADERS, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
