"""Personal values masked in the management API's answers for principals without ``pii:read``.

One ASGI middleware around the management app, so that a new route cannot forget it: once a
route has answered, when the request's principal (left in ``request.state.principal`` by
``headwater.api.auth``) lacks ``pii:read`` in the path's workspace, a JSON answer is decoded,
masked (:func:`headwater.access.mask`) and encoded again::

    api.add_middleware(MaskingMiddleware)

- Every route is masked unless it is in :data:`CONFIGURATION` (its answer is configuration,
  which names personal keys, as a tracking plan's ``properties.email``, but holds no values).
- A route that streams (the live feed, a CSV export) masks inside its producer, with
  :func:`classifier_of`, and is listed in :data:`SELF_MASKING`. Any other answer that is not
  JSON, from a route in neither list, is withheld: 403 ``pii_read_required``.
- A route that masks only part of its answer (the audit trail) does it itself, JSON included,
  and is listed in :data:`MASKED_BY_ROUTE`.
- A route that knows more names further keys (:func:`mask_values_of`: a computed trait's
  preview of a personal property masks its sample values).
- Requests without a principal (refused before the route, public routes) pass as they are.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final
from urllib.parse import unquote

import msgspec
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from headwater.access import DEFAULT_PERSONAL, Classifier, Principal, mask
from headwater.api.permissions import ROUTES
from headwater.errors import Forbidden
from headwater.runtime import Role
from headwater.storage import STORAGE_ERRORS

__all__ = [
    "CONFIGURATION",
    "MASKED_BY_ROUTE",
    "SELF_MASKING",
    "MaskingMiddleware",
    "classifier_of",
    "classifier_of_workspace",
    "computed_values",
    "mask_values_of",
]

_W = "/workspaces/{workspace}"
_DESTINATION = f"{_W}/destinations/{{destination_id}}"
_PLAN = f"{_W}/tracking-plans/{{slug}}"
_JOURNEY = f"{_W}/journeys/{{key}}"
_JOURNEY_PARTS = (
    "draft",
    "publish",
    "pause",
    "resume",
    "archive",
    "versions",
    "versions/{version}",
    "export",
    "stats",
)

_CONFIGURATION_PATHS: Final = frozenset(
    {
        "/workspaces",
        "/destination-kinds",
        f"{_W}/personal-keys",
        f"{_W}/sources",
        f"{_W}/sources/{{source_id}}",
        f"{_W}/access-tokens",
        f"{_W}/identity-rules",
        f"{_W}/destinations",
        _DESTINATION,
        *(f"{_DESTINATION}/{verb}" for verb in ("enable", "disable", "stats", "health", "replay")),
        f"{_W}/tracking-plans",
        f"{_W}/tracking-plans/import",
        _PLAN,
        *(f"{_PLAN}/{part}" for part in ("versions", "diff", "export", "codegen")),
        f"{_W}/tracking-plan-sources",
        f"{_W}/sources/{{source_id}}/tracking-plan",
        f"{_W}/audiences",
        f"{_W}/audiences/{{key}}",
        f"{_W}/audiences/{{key}}/recompute",
        f"{_W}/computed-traits",
        f"{_W}/computed-traits/{{key}}",
        f"{_W}/computed-traits/{{key}}/recompute",
        # counts per day or hour, with no profile in them
        f"{_W}/audiences/{{key}}/changes/totals",
        f"{_W}/computed-traits/{{key}}/changes/totals",
        f"{_W}/recompute-order",
        "/journey-node-types",
        f"{_W}/journeys",
        f"{_W}/journeys/import",
        _JOURNEY,
        *(f"{_JOURNEY}/{part}" for part in _JOURNEY_PARTS),
        # Headwater's own accounts: people's emails here are team members', not customers'.
        "/auth/login",
        "/auth/accept",
        "/me",
        "/me/password",
        "/me/tokens",
        "/me/tokens/{token_id}",
        "/users",
        "/users/{user_id}",
        f"{_W}/members",
        f"{_W}/members/{{user_id}}",
        f"{_W}/tokens",
        f"{_W}/tokens/{{token_id}}",
        # PII rules name keys and patterns, never a customer's values (their test run does)
        f"{_W}/pii-rules",
        f"{_W}/pii-rules/{{rule_id}}",
        f"{_W}/pii-inbox",
        f"{_W}/pii-inbox/classify",
        f"{_W}/pii-inbox/dismiss",
        # Webhook sources' set-up (URL, how requests are checked, rules); their requests are data
        f"{_W}/hook-presets",
        f"{_W}/sources/{{source_id}}/hook",
        # Reverse ETL's models and syncs (the URL's password never shown); their runs are data
        f"{_W}/reverse-etl/models",
        f"{_W}/reverse-etl/models/{{model_id}}",
        f"{_W}/reverse-etl/syncs",
        f"{_W}/reverse-etl/syncs/{{sync_id}}",
    }
)

CONFIGURATION: Final = frozenset(
    (method, path) for method, path in ROUTES if path in _CONFIGURATION_PATHS
)
"""Routes whose answers are configuration, shown unmasked: workspaces, sources, destinations,
tracking plans, identity rules, audience and computed trait definitions (and their counts of
changes per day or hour), journeys, webhook sources' set-up, reverse ETL models and syncs, and
Headwater's own people, members and API tokens (account
data of the team, not of customers). Every other route is masked (their data: events, live
feed, members, changes, previews, test sends, errors, dead letters, observed schemas...), a new
route too until it is listed here."""

SELF_MASKING: Final = frozenset(
    {
        # A subject access export's file: the route refuses it without pii:read.
        ("GET", f"{_W}/privacy/exports/{{export_id}}/download"),
        ("GET", f"{_W}/sources/{{source_id}}/live"),
        ("GET", f"{_W}/sources/{{source_id}}/hook/requests/live"),
        ("GET", f"{_W}/audiences/{{key}}/members"),
        ("GET", f"{_W}/computed-traits/{{key}}/members"),
    }
)
"""Routes that stream (server-sent events, CSV) and mask in their producers."""

MASKED_BY_ROUTE: Final = frozenset(
    {
        ("GET", f"{_W}/audit"),
        ("GET", f"{_W}/audit/export"),
        ("GET", "/audit"),
        ("GET", "/audit/export"),
        ("POST", f"{_W}/imports"),
        ("GET", f"{_W}/imports"),
        ("GET", f"{_W}/imports/{{import_id}}"),
        ("POST", f"{_W}/imports/{{import_id}}/start"),
    }
)
"""Routes that mask every answer themselves, JSON included: the audit trail masks an entry's
``before`` and ``after`` only (its actor and address are the team's, not a customer's); an
import masks its sample rows only (its columns and mapping name columns, not values: masked,
a column mapped to ``user_id`` would hide its own name)."""

ClassifierFor = Callable[[str | None], Classifier]


_CLASSIFIER: Final = "pii_classifier"
"""Where the middleware leaves the path's workspace's classification (``scope["state"]``)."""
_WORKSPACE_PATH: Final = re.compile(r"/api/v1/workspaces/([^/]+)")


def classifier_of_workspace(scope: Scope) -> Classifier:
    """The classification of the keys of the request's workspace: the default personal keys
    and the workspace's ``mask`` rules (:class:`headwater.pii.RuleClassifier`), as the
    middleware found them before the route ran; the default alone without a workspace."""
    found = scope.get("state", {}).get(_CLASSIFIER)
    return found if found is not None else DEFAULT_PERSONAL


async def _load_classifier(scope: Scope) -> None:
    """Find the path's workspace's classification (cached: see :class:`headwater.pii.RuleBook`)
    for :func:`classifier_of_workspace`."""
    found = _WORKSPACE_PATH.match(scope.get("path", ""))
    runtime = getattr(getattr(scope.get("app"), "state", None), "runtime", None)
    if found is None or runtime is None or runtime.role is not Role.SERVE:
        return
    classifier: Classifier | None
    try:
        classifier = await runtime.collector.pii.classifier(unquote(found.group(1)))
    except STORAGE_ERRORS:  # the rules cannot be read: mask every value (fail closed)
        classifier = _EVERYTHING
    if classifier is not None:
        scope.setdefault("state", {})[_CLASSIFIER] = classifier


class _Everything:
    """Every key is personal: the classification while a workspace's rules cannot be read."""

    def personal(self, key: str, *, trait: bool = False) -> bool:
        return True


_EVERYTHING: Final = _Everything()


def classifier_of(scope: Scope) -> Classifier | None:
    """The classification to mask this request's answer with, or None when it is shown unmasked
    (a principal with ``pii:read`` in the path's workspace, or no principal)."""
    principal = scope.get("state", {}).get("principal")
    if not isinstance(principal, Principal):
        return None
    workspace = scope.get("path_params", {}).get("workspace")
    if principal.pii_read(workspace):
        return None
    return classifier_of_workspace(scope)


def route_of(scope: Scope) -> tuple[str, str]:
    """(method, route path under ``/api/v1``), as the permission table keys it."""
    return scope["method"], getattr(scope.get("route"), "path", "")


def computed_values(scope: Scope, classifier: Classifier) -> frozenset[str]:
    """``value`` and ``previous`` when the route is a computed trait's whose key is personal
    (its members' values are that trait's values)."""
    key = scope.get("path_params", {}).get("key")
    _, path = route_of(scope)
    if path.startswith(f"{_W}/computed-traits/{{key}}") and classifier.personal(key, trait=True):
        return frozenset({"value", "previous"})
    return frozenset()


def mask_values_of(scope: Scope, definition: dict[str, Any]) -> None:
    """Mask ``value`` in this answer when the computed trait ``definition`` reads a personal
    property or trait (its sample values are that property's values)."""
    classifier = classifier_of(scope)
    read = [definition.get("property"), definition.get("trait")]
    if classifier is not None and any(
        isinstance(key, str) and classifier.personal(key, trait=True) for key in read
    ):
        scope.setdefault("state", {})[_ALSO] = frozenset({"value"})


_ALSO: Final = "mask_also"
"""Where a route leaves further keys to mask in its answer (``request.state.mask_also``)."""


class MaskingMiddleware:
    """Masks JSON answers of the management API (see the module)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await _load_classifier(scope)
        answer = _Answer(scope, send)
        await self.app(scope, receive, answer.send)


class _Answer:
    """One response: passed on, held back until its body is whole and masked, or refused."""

    def __init__(self, scope: Scope, send: Send) -> None:
        self.scope = scope
        self.downstream = send
        self.mode: str = "pass"
        self.start: Message = {}
        self.classifier: Classifier | None = None
        self.chunks: list[bytes] = []

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.mode = self._mode(message)
            if self.mode == "pass":
                await self.downstream(message)
            elif self.mode == "mask":
                self.start = message
            else:
                await self._send(message, 403, _REFUSAL)
            return
        if self.mode == "pass" or message["type"] != "http.response.body":
            await self.downstream(message)
            return
        if self.mode == "refused":
            return
        self.chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            masked = self._masked(b"".join(self.chunks))
            if masked is None:
                await self._send(self.start, 403, _REFUSAL)
            else:
                await self._send(self.start, self.start["status"], masked)

    def _mode(self, start: Message) -> str:
        """``pass`` (unmasked, or masked by the route), ``mask`` (JSON) or ``refused``."""
        route = route_of(self.scope)
        if route in CONFIGURATION or route in MASKED_BY_ROUTE:
            return "pass"
        if not _header(start, b"content-type"):
            return "pass"
        self.classifier = classifier_of(self.scope)
        if self.classifier is None:
            return "pass"
        if _is_json(start):
            return "mask"
        return "pass" if route in SELF_MASKING else "refused"

    async def _send(self, start: Message, status: int, body: bytes) -> None:
        headers = [
            (name, value)
            for name, value in start["headers"]
            if name.lower() not in (b"content-length", b"content-type")
        ]
        content_type = _header(start, b"content-type") if body is not _REFUSAL else b""
        headers.append((b"content-type", content_type or b"application/json"))
        headers.append((b"content-length", str(len(body)).encode()))
        await self.downstream({**start, "status": status, "headers": headers})
        await self.downstream({"type": "http.response.body", "body": body})

    def _masked(self, body: bytes) -> bytes | None:
        assert self.classifier is not None
        if not body:
            return body
        try:
            document: Any = msgspec.json.decode(body)
        except msgspec.DecodeError:
            return None
        also = computed_values(self.scope, self.classifier) | self.scope.get("state", {}).get(
            _ALSO, frozenset()
        )
        return msgspec.json.encode(mask(document, self.classifier, also=also))


_REFUSAL: Final = msgspec.json.encode(
    Forbidden(
        "pii_read_required", "this answer holds personal values; it needs the pii:read grant"
    ).body()
)


def _header(message: Message, name: bytes) -> bytes:
    for key, value in message.get("headers", []):
        if key.lower() == name:
            return value  # type: ignore[no-any-return]
    return b""


def _is_json(start: Message) -> bool:
    kind = _header(start, b"content-type").split(b";")[0].strip().lower()
    return kind == b"application/json" or kind.endswith(b"+json")
