"""HTTP connections with the limits uvicorn's httptools protocol lacks: no client holds one open.

uvicorn closes a connection idle *between* requests after its keep-alive timeout, but with
httptools it has no limit on how long headers or a body may take, nor on header size (its
``h11_max_incomplete_event_size`` applies to h11 only). :class:`GuardedProtocol` adds them:

- **idle**: a connection that sends nothing after it opens is closed after the keep-alive
  timeout, as one idle between requests already is;
- **headers**: from a request's first byte, its request line and headers must arrive within
  ``header_timeout`` (else ``408``) and take at most ``max_header_bytes`` (else ``431``);
- **body**: from the end of the headers, the body must arrive within ``body_timeout`` (else
  ``408``, when no response has started);

each time closing the connection. The answers are Headwater's JSON errors. A slow client thus
holds a connection for a bounded time, so a few hundred of them cannot starve the others.
Each cut is counted (``headwater_connections_cut_total``) in the application's metrics, which
its lifespan puts in the server's state (:data:`~headwater.telemetry.metrics.STATE_KEY`).

>>> config = GuardedConfig(app, http=GuardedProtocol, limits=ConnectionLimits(), ...)
"""

from __future__ import annotations

import asyncio
from typing import Any, Final

import msgspec
import uvicorn
from prometheus_client import CollectorRegistry, Counter
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from headwater.telemetry.metrics import STATE_KEY, Metrics

__all__ = ["ConnectionLimits", "ConnectionMetrics", "GuardedConfig", "GuardedProtocol"]


class ConnectionMetrics:
    """The connection limits' metrics (a group of :class:`~headwater.telemetry.metrics.Metrics`)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.cut = Counter(
            "headwater_connections_cut_total",
            "Connections closed by a limit, by reason",
            ["reason"],
            registry=registry,
        )


class ConnectionLimits(msgspec.Struct, frozen=True, kw_only=True):
    max_header_bytes: int = 32 * 1024
    header_timeout: float = 10.0
    body_timeout: float = 30.0


class GuardedConfig(uvicorn.Config):
    """uvicorn's configuration plus :class:`ConnectionLimits` (it is pickled into worker
    processes with ``--workers``, so the limits travel with it)."""

    def __init__(self, app: Any, *, limits: ConnectionLimits, **options: Any) -> None:
        super().__init__(app, **options)
        self.limits = limits


def _error(status: bytes, code: str, message: str) -> bytes:
    """A whole HTTP response: Headwater's JSON error, and the connection closes."""
    body = msgspec.json.encode({"success": False, "code": code, "message": message})
    return b"".join(
        [
            b"HTTP/1.1 " + status + b"\r\n",
            b"content-type: application/json\r\n",
            b"content-length: " + str(len(body)).encode() + b"\r\n",
            b"connection: close\r\n\r\n",
            body,
        ]
    )


# (reason, response)
_HEADERS_TOO_LARGE: Final = (
    "headers_too_large",
    _error(
        b"431 Request Header Fields Too Large",
        "headers_too_large",
        "the request line and headers exceed the server's limit",
    ),
)
_HEADER_TIMEOUT: Final = (
    "header_timeout",
    _error(
        b"408 Request Timeout", "request_timeout", "the request's headers took too long to arrive"
    ),
)
_IDLE: Final = ("idle", b"")  # closed without an answer, as the keep-alive timeout closes
_BODY_TIMEOUT: Final = (
    "body_timeout",
    _error(b"408 Request Timeout", "request_timeout", "the request's body took too long to arrive"),
)


class GuardedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with header and body timeouts and a header size limit."""

    def __init__(
        self,
        config: uvicorn.Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._limits = config.limits if isinstance(config, GuardedConfig) else ConnectionLimits()
        self._in_headers = False
        self._received = 0  # bytes received while the headers were incomplete
        self._header_bytes = 0  # the request line and headers, as parsed
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # uvicorn arms its keep-alive timer only after a response: arm it for the first request
        # too (any data cancels it, as between requests).
        self.timeout_keep_alive_task = self.loop.call_later(
            self.timeout_keep_alive, self.timeout_keep_alive_handler
        )

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        # Still in the headers after this chunk: it belongs to them. The parser hands over a
        # header only once the next one starts, so this count is what stops one endless header.
        if self._in_headers:
            self._received += len(data)
            if self._received > self._limits.max_header_bytes:
                self._refuse(_HEADERS_TOO_LARGE)
        elif self._deadline is None and (self.cycle is None or self.cycle.response_complete):
            # Data that starts no request (the parser skips blank lines between requests)
            # cancelled the keep-alive timer, which each byte would restart: close after the
            # keep-alive timeout from the first such byte instead.
            self._arm(self.timeout_keep_alive, _IDLE)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_headers = True
        self._received = self._header_bytes = 0
        self._arm(self._limits.header_timeout, _HEADER_TIMEOUT)

    def on_url(self, url: bytes) -> None:
        self._header_bytes += len(url)
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        # Counted exactly here: the chunk that ends the headers may also carry the body.
        self._header_bytes += len(name) + len(value) + 4
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_headers = False
        if self._header_bytes > self._limits.max_header_bytes:
            self._refuse(_HEADERS_TOO_LARGE)
            return
        self._arm(self._limits.body_timeout, _BODY_TIMEOUT)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        if self.cycle is not None:  # None only when the first request's headers were refused
            super().on_message_complete()

    def on_body(self, body: bytes) -> None:
        if self.cycle is not None:
            super().on_body(body)

    def _arm(self, seconds: float, answer: tuple[str, bytes]) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._expire, answer)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self, answer: tuple[str, bytes]) -> None:
        self._deadline = None
        responding = self.cycle is not None and self.cycle.response_started
        if self._in_headers or not responding:
            self._refuse(answer)
        elif not self.transport.is_closing():  # a response is on its way: only cut it short
            self._count_cut(answer[0])
            self.transport.close()

    def _count_cut(self, reason: str) -> None:
        """Count a cut in the application's metrics (none before its lifespan started)."""
        metrics = self.app_state.get(STATE_KEY)
        if isinstance(metrics, Metrics):
            metrics.of(ConnectionMetrics).cut.labels(reason).inc()

    def _refuse(self, answer: tuple[str, bytes]) -> None:
        """Answer ``answer`` and close: the request in progress gets no other response."""
        self._disarm()
        if self.transport.is_closing():
            return
        reason, response = answer
        self._count_cut(reason)
        if answer is _BODY_TIMEOUT and self.cycle is not None and not self.cycle.response_complete:
            # The application reading this body learns the client is gone, and what it sends
            # is dropped rather than written after our answer.
            self.cycle.disconnected = True
            self.cycle.message_event.set()
        if response:
            self.transport.write(response)
        self.transport.close()
