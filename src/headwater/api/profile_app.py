"""The Profile API's reads as a bare ASGI application, beside the FastAPI routes that document
them (``profile_api.router``, in the OpenAPI schema).

A read costs two small index probes in PostgreSQL; through FastAPI's dependency solving and
validation it cost several times that in Python, and the server's CPU, not the database, set
the latency tail under concurrent reads. This app answers the common form of each route
(``GET``, a well-formed path, a decimal ``limit``, no repeated parameter) with the same service
calls, checks and error bodies as the FastAPI routes; any other request (a malformed ``limit``,
a trailing slash, another method…) returns ``False`` from :meth:`ProfileApp.handle` and goes to
FastAPI, which answers it exactly as before.
"""

from __future__ import annotations

import logging
from typing import Any, Final
from urllib.parse import parse_qsl

from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.datastructures import URL

from headwater.api.profile_api import check_access, encode, read
from headwater.api.tracking import Receive, Scope, Send
from headwater.errors import ApiError, Unavailable
from headwater.runtime import Runtime
from headwater.storage import STORAGE_ERRORS, unavailable

__all__ = ["ProfileApp"]

_log = logging.getLogger(__name__)
_DATABASE_ERRORS: tuple[type[BaseException], ...] = (*STORAGE_ERRORS, PoolTimeout)

# the query parameters each route reads, beside the path's
_PARAMETERS: Final[dict[str, frozenset[str]]] = {
    "traits": frozenset({"class", "include", "limit", "next"}),
    "events": frozenset({"limit", "next"}),
    "external_ids": frozenset({"limit", "next"}),
    "links": frozenset(),
    "metadata": frozenset(),
}
_JSON: Final = (b"content-type", b"application/json")


class ProfileApp:
    """Answers ``GET /v1/spaces/{space}/collections/{collection}/profiles/{lookup}/{tail}``."""

    def __init__(self, runtime: Runtime, verified_tokens: dict[tuple[str, str], float]) -> None:
        self._runtime = runtime
        self._verified = verified_tokens

    @staticmethod
    def matches(path: str) -> bool:
        """Whether ``path`` starts like a Profile API route (cheap; :meth:`handle` decides)."""
        return path.startswith("/v1/spaces/")

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> bool:
        """Answer the request and return True, or return False (nothing sent) to leave it to
        the FastAPI routes."""
        if scope["method"] != "GET" or scope.get("root_path"):
            return False
        parts = scope["path"].split("/")
        # ['', 'v1', 'spaces', space, 'collections', collection, 'profiles', lookup, tail]
        if (
            len(parts) != 9
            or parts[4] != "collections"
            or parts[6] != "profiles"
            or parts[8] not in _PARAMETERS
            or not all(parts[3:8])
        ):
            return False
        tail = parts[8]
        query = _query(scope, _PARAMETERS[tail])
        if query is None:
            return False
        limit = query.get("limit")
        if limit is not None:
            if not (limit.isascii() and limit.isdigit() and len(limit) <= 9):
                return False
            query["limit"] = int(limit)
        authorization = None
        for name, value in scope["headers"]:
            if name.lower() == b"authorization":
                authorization = value.decode("latin-1")
                break
        space, collection, lookup = parts[3], parts[5], parts[7]
        try:
            await check_access(self._runtime, self._verified, authorization, space)
            body = await read(
                self._runtime.database.engine,
                self._runtime.log,
                tail,
                space=space,
                collection=collection,
                lookup=lookup,
                url=URL(scope=scope).path,
                limit=query.get("limit"),
                include=query.get("include"),
                next_token=query.get("next"),
                trait_class=query.get("class"),
            )
        except ApiError as error:
            await _respond(send, error.status, encode(error.body()))
            return True
        except _DATABASE_ERRORS as error:
            if not unavailable(error):
                raise
            _log.error("profile read: database unavailable (%s)", type(error).__name__)
            unreachable = Unavailable("unavailable", "the database is unavailable; retry later")
            await _respond(send, unreachable.status, encode(unreachable.body()))
            return True
        await _respond(send, 200, encode(body))
        return True


def _query(scope: Scope, known: frozenset[str]) -> dict[str, Any] | None:
    """The known parameters, parsed as Starlette does; None when one repeats."""
    raw: bytes = scope.get("query_string", b"")
    found: dict[str, Any] = {}
    if not raw:
        return found
    for name, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
        if name in known:
            if name in found:
                return None
            found[name] = value
    return found


async def _respond(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-length", str(len(body)).encode()), _JSON],
        }
    )
    await send({"type": "http.response.body", "body": body})
