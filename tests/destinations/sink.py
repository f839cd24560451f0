"""A local HTTP server that records every request and answers as a test tells it to.

It stands in for the third-party APIs Headwater delivers to. Each test installs a ``handler``
that checks a request the way the vendor's documentation describes it and returns the vendor's
answer (or an error it documents), so a connector that sends the wrong thing fails its test::

    with Sink() as sink:
        sink.handler = lambda request: Reply(429, {"error": "slow down"}, {"Retry-After": "1"})
        ...
        assert sink.requests[0].json()["event"] == "Signed Up"

The server runs in its own thread, so it answers while the test's event loop waits on it.

``url`` ends in a path prefix of its own, and ``Recorded.path`` is the path after it. A request
without the prefix is kept in ``strays`` and answered 404 (permanent for every connector): it
was aimed at an earlier sink on the same port, by a destination an earlier test left behind on a
shared server (the port is reused once that sink closes), and must not count here.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["Recorded", "Reply", "Sink"]


@dataclass(frozen=True)
class Recorded:
    """One request as the server received it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    at: float  # time.monotonic() when it arrived
    peer_port: int = 0  # the sender's TCP port: which connection (so which process) sent it

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode())


@dataclass(frozen=True)
class Reply:
    """What the server answers: a status, a JSON (or raw text) body, headers, an optional delay
    (to provoke client timeouts)."""

    status: int = 200
    body: Any = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


Handler = Callable[[Recorded], Reply]


class Sink:
    def __init__(self, handler: Handler | None = None) -> None:
        self.handler: Handler = handler or (lambda _: Reply())
        self.requests: list[Recorded] = []
        self.strays: list[Recorded] = []
        self._prefix = f"/sink-{secrets.token_hex(6)}"
        self.errors: list[str] = []  # handler exceptions: a failed check, shown by the test
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._request_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{self._prefix}"

    def __enter__(self) -> Sink:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Recorded]:
        """Wait until ``count`` requests arrived; return them all."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.requests) >= count:
                    return list(self.requests)
            time.sleep(0.01)
        raise AssertionError(f"expected {count} requests, got {len(self.requests)}")

    def _record(self, request: Recorded) -> Reply:
        if request.path != self._prefix and not request.path.startswith(self._prefix + "/"):
            with self._lock:
                self.strays.append(request)
            return Reply(404, {"error": "not this sink"})
        request = replace(request, path=request.path[len(self._prefix) :] or "/")
        with self._lock:
            self.requests.append(request)
        try:
            return self.handler(request)
        except AssertionError as error:
            self.errors.append(str(error))
            return Reply(599, {"sink_check_failed": str(error)})

    def _request_class(self) -> type[BaseHTTPRequestHandler]:
        sink = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _any(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                split = urlsplit(self.path)
                recorded = Recorded(
                    method=self.command,
                    path=split.path,
                    query=parse_qs(split.query),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                    at=time.monotonic(),
                    peer_port=int(self.client_address[1]),
                )
                reply = sink._record(recorded)
                if reply.delay:
                    time.sleep(reply.delay)
                data = (
                    reply.body.encode()
                    if isinstance(reply.body, str)
                    else json.dumps(reply.body).encode()
                )
                self.send_response(reply.status)
                if not any(k.lower() == "content-type" for k in reply.headers):
                    self.send_header("Content-Type", "application/json")
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                # The client may have given up already (a timeout test).
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any

            def log_message(self, format: str, *args: Any) -> None:
                return

        return _Handler
