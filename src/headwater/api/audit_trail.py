"""The audit trail's recorder: an ASGI wrapper around the management API that appends one
audit entry for each change it answered with success.

A request is a change when its route's rule (``api/permissions.py``) names an audit action;
only requests to ``/api/v1`` with an unsafe method are looked at, the rest pass untouched.
For each such request the wrapper

1. buffers the request's body when it is JSON (to record it when the answer carries none; other
   bodies, such as an uploaded import file, stream through unbuffered) and matches the
   route itself, to know its path template and parameters before the handler runs;
2. for ``PATCH``, ``PUT`` and ``DELETE``, when the table has a ``GET`` of the same path, reads
   the resource first with an internal ``GET`` sub-request to the same application, with the
   request's own headers (so its own credentials and permission check): ``before`` is that
   answer when it is a 200 with JSON, else null. A change of a part of a resource, or an
   action on it (``PUT .../journeys/{key}/draft``, ``POST .../destinations/{id}/enable``),
   reads the resource it belongs to (the path without its last segment, when that ends with a
   parameter other than the workspace and has a ``GET``). *Race*: the read and the change are two
   transactions; a change by someone else in between makes ``before`` show the state before
   that other change (which has its own entry). Reading through the API, rather than through
   each service inside its transaction, keeps every route unaware of the trail and ``before``
   in the same shape (secrets hidden the same way) as ``after``;
3. runs the request, holding back its answer; once the answer is complete, with a 2xx status
   and a rule with an action (the handler has committed), appends the entry in a transaction
   of its own, then sends the answer.

If the entry cannot be appended, the change stands and its answer goes out as it was: the
failure is logged (the action and resource, never the values) and counted in
``headwater_audit_failures_total`` (see docs/access.md, "Audit trail").
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from ipaddress import IPv4Network, IPv6Network
from typing import Any, Final

import msgspec
from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter
from starlette.types import Message, Receive, Scope, Send

from headwater.access import AuditChange, Principal, record_change
from headwater.api.auth import SAFE_METHODS
from headwater.api.client_ip import client_ip
from headwater.api.permissions import ROUTES, Rule
from headwater.runtime import Runtime

__all__ = ["AuditMetrics", "AuditTrail", "record", "resource_of", "route_of"]

_log = logging.getLogger(__name__)

_PREFIX: Final = "/api/v1"
_READ_BEFORE: Final = frozenset({"PATCH", "PUT", "DELETE"})
_NOT_FORWARDED: Final = frozenset(
    {b"content-type", b"content-length", b"content-encoding", b"transfer-encoding"}
)
_PARAMETER_KINDS: Final = {
    "source_id": "source",
    "destination_id": "destination",
    "slug": "tracking_plan",
    "profile_id": "profile",
    "message_id": "event",
    "model_id": "retl_model",
    "sync_id": "retl_sync",
}
"""The kind a path parameter names (``key`` names an audience or a computed trait: the kind
is the action's)."""
_IDENTIFIERS: Final = {
    "workspace": "slug",
    "tracking_plan": "slug",
    "audience": "key",
    "computed_trait": "key",
    "journey": "key",
    "member": "user_id",
}
"""The field of a created resource's answer that its routes name it by (default ``id``)."""


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", template)
    literal = [
        re.escape(part) if i % 2 == 0 else f"(?P<{part}>[^/]+)" for i, part in enumerate(parts)
    ]
    return re.compile("".join(literal))


# Literal segments before parameters: ``/tracking-plans/import`` before ``/tracking-plans/{slug}``.
_TEMPLATES: Final = sorted(
    ((method, template, _pattern(template)) for method, template in ROUTES),
    key=lambda row: (row[1].count("{"), row[1]),
)


def route_of(method: str, path: str) -> tuple[str, dict[str, str]] | None:
    """The route table's path template (under ``/api/v1``) that ``method`` and ``path`` (the
    request's, decoded) fall under, and the path's parameters; None when none does.

    >>> route_of("PATCH", "/api/v1/workspaces/shop/sources/12")
    ('/workspaces/{workspace}/sources/{source_id}', {'workspace': 'shop', 'source_id': '12'})
    """
    if not path.startswith(f"{_PREFIX}/"):
        return None
    tail = path.removeprefix(_PREFIX).rstrip("/") or "/"
    for routed, template, pattern in _TEMPLATES:
        if routed == method and (match := pattern.fullmatch(tail)) is not None:
            return template, match.groupdict()
    return None


def _before_path(method: str, template: str, path: str) -> str | None:
    """The path whose ``GET`` shows what a change is about before it (see the module's
    docstring), or None.

    >>> _before_path("POST", "/workspaces/{workspace}/destinations/{destination_id}/enable",
    ...              "/api/v1/workspaces/shop/destinations/3/enable")
    '/api/v1/workspaces/shop/destinations/3'
    >>> _before_path("POST", "/workspaces/{workspace}/sources", "/api/v1/workspaces/shop/sources")
    """
    if method in _READ_BEFORE and ("GET", template) in ROUTES:
        return path
    parent, _, _ = template.rpartition("/")
    if parent.endswith("}") and not parent.endswith("{workspace}") and ("GET", parent) in ROUTES:
        return path.rstrip("/").rpartition("/")[0]
    return None


class AuditMetrics:
    """The audit trail's metrics (a group of :class:`~headwater.telemetry.metrics.Metrics`)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.failures = Counter(
            "headwater_audit_failures_total",
            "Changes made through the management API whose audit entry could not be written "
            "(the change stands; the error is logged)",
            registry=registry,
        )


def resource_of(action: str, parameters: dict[str, str], after: Any) -> str:
    """What a change is about, as ``kind:identifier``.

    The last path parameter but the workspace names it; without one (a creation) the
    answer's identifier does; else the kind alone (a workspace-wide setting).

    >>> resource_of("source.update", {"workspace": "shop", "source_id": "12"}, None)
    'source:12'
    >>> resource_of("audience.create", {"workspace": "shop"}, {"key": "vip", "id": 3})
    'audience:vip'
    >>> resource_of("identity_rules.update", {"workspace": "shop"}, {"rules": []})
    'identity_rules'
    """
    kind = action.split(".", 1)[0]
    names = [name for name in parameters if name != "workspace"]
    if names:
        name = names[-1]
        return f"{_PARAMETER_KINDS.get(name, kind)}:{parameters[name]}"
    if isinstance(after, dict):
        identifier = after.get(_IDENTIFIERS.get(kind, "id"))
        if isinstance(identifier, str | int) and not isinstance(identifier, bool):
            return f"{kind}:{identifier}"
    return kind


class _Held:
    """An answer held back: its messages, its status, its body."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.messages: list[Message] = []
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.body = bytearray()
        self.complete = False

    async def send(self, message: Message) -> None:
        self.messages.append(message)
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")
            self.complete = not message.get("more_body", False)

    def json(self) -> Any:
        """The body decoded, when the answer says it is JSON; else None."""
        kind = next((v for k, v in self.headers if k.lower() == b"content-type"), b"")
        if not self.body or not kind.split(b";")[0].strip().endswith(b"json"):
            return None
        return _decoded(bytes(self.body))

    async def flush(self) -> None:
        messages, self.messages = self.messages, []
        for message in messages:
            await self._send(message)


def _decoded(raw: bytes) -> Any:
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return None


async def _never() -> Message:
    """A client that stays (a sub-request's: it has no connection to lose)."""
    await asyncio.Event().wait()
    raise AssertionError("unreachable")  # pragma: no cover


class AuditTrail:
    """Wraps the management API (``api``, a FastAPI application with a ``serve`` runtime in
    ``api.state.runtime`` once started) and records its changes (see the module)."""

    def __init__(self, api: FastAPI, *, trusted_proxies: Sequence[IPv4Network | IPv6Network]):
        self.api = api
        self._trusted = list(trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] in SAFE_METHODS
            or not scope["path"].startswith(f"{_PREFIX}/")
        ):
            await self.api(scope, receive, send)
            return
        state: dict[str, Any] = scope.setdefault("state", {})
        fresh = dict(state)
        request, receive = await _buffered(receive) if _json_or_none(scope) else (b"", receive)
        route = route_of(scope["method"], scope["path"])
        before = None
        read = None if route is None else _before_path(scope["method"], route[0], scope["path"])
        if read is not None:
            before = await self._read(scope, fresh, read)
        held = _Held(send)
        try:
            await self.api(scope, receive, held.send)
        finally:
            rule, principal = state.get("rule"), state.get("principal")
            if (
                held.complete
                and 200 <= held.status < 300
                and route is not None
                and isinstance(rule, Rule)
                and rule.action is not None
                and isinstance(principal, Principal)
            ):
                after = None
                if scope["method"] != "DELETE" and held.status != 204:
                    after = held.json()
                    if after is None:
                        after = _decoded(request) if request else None
                await self._record(
                    AuditChange(
                        workspace=route[1].get("workspace"),
                        actor=principal,
                        action=rule.action,
                        resource=resource_of(rule.action, route[1], after),
                        before=before,
                        after=after,
                        ip=client_ip(scope, self._trusted),
                    )
                )
            await held.flush()

    async def _read(self, scope: Scope, state: dict[str, Any], path: str) -> Any:
        """The resource as a ``GET`` of ``path`` shows it to the same caller (a 200's JSON),
        or None."""
        sub: dict[str, Any] = {
            key: scope[key]
            for key in ("type", "asgi", "http_version", "scheme", "server", "client", "root_path")
            if key in scope
        }
        sub.update(
            method="GET",
            path=path,
            query_string=b"",
            headers=[(k, v) for k, v in scope["headers"] if k.lower() not in _NOT_FORWARDED],
            state=state,
        )
        sent = False

        async def receive() -> Message:
            nonlocal sent
            if sent:
                return await _never()
            sent = True
            return {"type": "http.request", "body": b"", "more_body": False}

        answer = _Held(send=_discard)
        await self.api(sub, receive, answer.send)
        return answer.json() if answer.complete and answer.status == 200 else None

    async def _record(self, change: AuditChange) -> None:
        await record(self.api.state.runtime, change)


async def record(runtime: Runtime, change: AuditChange) -> None:
    """Append ``change`` to the audit trail; a failure is logged and counted (the action it
    records has happened: it must not become a 500)."""
    try:
        await record_change(runtime.database.engine, change)
    except Exception as error:  # noqa: BLE001 - a committed change must not become a 500
        _log.error(
            "could not append the audit entry of %s on %s: %s",
            change.action,
            change.resource,
            type(error).__name__,
        )
        runtime.metrics.of(AuditMetrics).failures.inc()


def _json_or_none(scope: Scope) -> bool:
    """Whether the request's body is JSON or absent: another body (a file uploaded for an
    import, up to 100 MB) streams to its route unbuffered, and is never recorded."""
    for key, value in scope["headers"]:
        if key.lower() == b"content-type":
            return bytes(value).split(b";")[0].strip().lower().endswith(b"json")
    return True


async def _discard(message: Message) -> None:
    """Where a sub-request's answer goes once held (nowhere)."""


async def _buffered(receive: Receive) -> tuple[bytes, Receive]:
    """The request's whole body, and a ``receive`` that hands it to the application again
    (then the client's own messages: a disconnect)."""
    chunks: list[bytes] = []
    first: list[Message] = []
    while True:
        message = await receive()
        first.append(message)
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        if first and first[-1]["type"] != "http.request":
            return first[-1]
        return {"type": "http.request", "body": body, "more_body": False}

    return body, replay
