"""The tracking API as a bare ASGI application, kept lean because it is the hot path.

Routes (all ``POST``, each also answering CORS preflight ``OPTIONS`` for any origin):
``/v1/{identify,track,page,screen,group,alias}``, their one-letter forms ``/v1/{i,t,p,s,g,a}``,
``/v1/batch``, ``/v1/b``, ``/v1/import`` and ``/beacon/v1/batch``. An accepted request is
answered exactly ``200 {"success": true}`` once its events are committed.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from ipaddress import IPv4Network, IPv6Network
from typing import Any, Final
from urllib.parse import parse_qs

import msgspec
from prometheus_client import CollectorRegistry, Counter

from headwater.api.client_ip import client_ip
from headwater.collect import Collector, TrackingRequest
from headwater.errors import ApiError, BadRequest, MethodNotAllowed, Unavailable
from headwater.spec import MESSAGE_TYPES, SHORT_TYPES
from headwater.storage import STORAGE_ERRORS, UNSTORABLE_ERRORS
from headwater.telemetry.metrics import Metrics

__all__ = ["ROUTES", "TrackingApp", "TrackingMetrics"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_log = logging.getLogger(__name__)

# path -> message type, or None for batch routes
ROUTES: Final[dict[str, str | None]] = {
    **{f"/v1/{kind}": kind for kind in MESSAGE_TYPES},
    **{f"/v1/{short}": kind for short, kind in SHORT_TYPES.items()},
    "/v1/batch": None,
    "/v1/b": None,
    "/v1/import": None,
    "/beacon/v1/batch": None,
}


class TrackingMetrics:
    """The tracking API's metrics (a group of :class:`~headwater.telemetry.metrics.Metrics`)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "headwater_tracking_requests_total",
            "Tracking API requests",
            ["status"],
            registry=registry,
        )


_OK: Final = b'{"success":true}'
_DEFAULT_ALLOWED_HEADERS: Final = (
    b"authorization, content-type, content-encoding, anonymousid, sentat, x-headwater-strict"
)
_STRICT_VALUES: Final = frozenset({b"1", b"true", b"yes", b"on"})


class TrackingApp:
    """Answers the tracking routes; ``collector`` does the work; requests are counted in
    ``metrics``."""

    def __init__(
        self,
        collector: Collector,
        *,
        metrics: Metrics,
        max_request_bytes: int,
        trusted_proxies: list[IPv4Network | IPv6Network],
    ) -> None:
        self._collector = collector
        self._max_request_bytes = max_request_bytes
        self._trusted = trusted_proxies
        requests = metrics.of(TrackingMetrics).requests
        self._counters = {
            status: requests.labels(str(status)) for status in (200, 400, 401, 404, 405, 503)
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = _headers(scope)
        cors = _cors_headers(headers)
        path = scope["path"].rstrip("/") or "/"
        if path not in ROUTES:
            await _respond(
                send, 404, b'{"success":false,"code":"not_found","message":"no such route"}', cors
            )
            return
        method = scope["method"]
        if method == "OPTIONS":
            await _preflight(send, headers, cors)
            return
        if method != "POST":
            await self._error(
                send,
                [*cors, (b"allow", b"POST, OPTIONS")],
                MethodNotAllowed("method_not_allowed", "use POST"),
            )
            return
        request = TrackingRequest(
            body=b"",
            route_type=ROUTES[path],
            gzip=b"gzip" in headers.get(b"content-encoding", b"").lower(),
            authorization=_text(headers.get(b"authorization")),
            query_write_key=_query_write_key(scope),
            client_ip=client_ip(scope, self._trusted, headers.get(b"x-forwarded-for")),
            anonymous_id_header=_text(headers.get(b"anonymousid")),
            strict=headers.get(b"x-headwater-strict", b"").lower() in _STRICT_VALUES,
        )
        try:
            try:
                request.body = await _read_body(receive, headers, self._max_request_bytes)
            except BadRequest as error:
                await self._collector.refuse(request, error)
                raise
            await self._collector.collect(request)
        except ApiError as error:
            await self._error(send, cors, error)
            return
        except UNSTORABLE_ERRORS as error:
            # The database refuses this data itself: retrying cannot help, so no 503.
            _log.error("could not store a request's events: %s", error)
            await self._error(
                send, cors, BadRequest("unstorable", f"the events could not be stored: {error}")
            )
            return
        except STORAGE_ERRORS as error:
            _log.error("could not commit events: %s", error)
            await self._error(
                send,
                cors,
                Unavailable("unavailable", "the event store is unavailable; retry later"),
            )
            return
        self._counters[200].inc()
        await _respond(send, 200, _OK, cors)

    async def _error(self, send: Send, cors: list[tuple[bytes, bytes]], error: ApiError) -> None:
        counter = self._counters.get(error.status)
        if counter is not None:
            counter.inc()
        await _respond(send, error.status, msgspec.json.encode(error.body()), cors)


def _headers(scope: Scope) -> dict[bytes, bytes]:
    return {name.lower(): value for name, value in scope["headers"]}


def _text(value: bytes | None) -> str | None:
    """A header as text: UTF-8 when it is (browsers send it), else Latin-1 (HTTP's default)."""
    if not value:
        return None
    try:
        return value.decode()
    except UnicodeDecodeError:
        return value.decode("latin-1")


def _query_write_key(scope: Scope) -> str | None:
    query = scope.get("query_string", b"")
    if not query or b"writeKey" not in query:
        return None
    values = parse_qs(query.decode("latin-1")).get("writeKey")
    return values[0] if values else None


async def _read_body(receive: Receive, headers: dict[bytes, bytes], limit: int) -> bytes:
    length = headers.get(b"content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise BadRequest("request_too_large", f"request body exceeds {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise BadRequest("client_disconnected", "the client went away before sending the body")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BadRequest("request_too_large", f"request body exceeds {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _cors_headers(headers: dict[bytes, bytes]) -> list[tuple[bytes, bytes]]:
    origin = headers.get(b"origin")
    if origin is None:
        return [(b"access-control-allow-origin", b"*")]
    return [
        (b"access-control-allow-origin", origin),
        (b"access-control-allow-credentials", b"true"),
        (b"vary", b"Origin"),
    ]


async def _preflight(
    send: Send, headers: dict[bytes, bytes], cors: list[tuple[bytes, bytes]]
) -> None:
    requested = headers.get(b"access-control-request-headers")
    allowed = _DEFAULT_ALLOWED_HEADERS + (b", " + requested if requested else b"")
    await send(
        {
            "type": "http.response.start",
            "status": 204,
            "headers": [
                *cors,
                (b"access-control-allow-methods", b"POST, OPTIONS"),
                (b"access-control-allow-headers", allowed),
                (b"access-control-max-age", b"86400"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": b""})


async def _respond(send: Send, status: int, body: bytes, extra: list[tuple[bytes, bytes]]) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *extra,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
