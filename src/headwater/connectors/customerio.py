"""Customer.io: people, events, page and screen views, and merges through the Track API (v1).

Mapping (after Segment's Customer.io destination):

- ``identify`` → ``PUT /api/v1/customers/{userId}`` with the traits as attributes
  (``createdAt`` → ``created_at`` in Unix seconds); the email stands in for a missing userId
  (email-identified workspaces).
- ``track`` → ``POST /api/v1/customers/{userId}/events`` ``{"name", "data", "timestamp",
  "id"}``; without a userId, ``POST /api/v1/events`` with ``anonymous_id`` instead.
- ``page`` → the same event endpoint with ``"type": "page"`` and the page URL as name;
  ``screen`` → ``"type": "screen"`` and the screen name. Customer.io records views of known
  people only, so anonymous page and screen calls are refused.
- ``alias`` → ``POST /api/v1/merge_customers`` ``{"primary": {"id": userId}, "secondary":
  {"id": previousId}}``: the previous profile is merged into the current one.
- ``group`` is refused (Customer.io objects need the v2 API, not supported here).

Auth: HTTP Basic ``site_id:api_key``; ``region`` picks ``https://track.customer.io`` or
``https://track-eu.customer.io`` (``endpoint`` overrides both). One call per request: no batching.

Idempotency: each event's ``id`` is a ULID derived from the messageId and timestamp (the same
every time), which Customer.io uses to drop duplicates. Identify and merge are idempotent.

Deletion (``deletes``): ``DELETE /api/v1/customers/{identifier}`` (Track API, same auth), one
request per user id and per email (Customer.io reads an email-shaped identifier as an email in
email-identified workspaces, as identify uses it). Customer.io keeps no profile for anonymous
ids, so they need no request; a person with neither user id nor email cannot be deleted here.
Deleting someone Customer.io does not have answers 200 too, so a repeat is harmless. (A later
identify for the same id creates the person again: suppression is Headwater's side.)

Errors: 400, 401, 403, 404 are permanent; 429 (Customer.io asks for at most about 100
requests a second) and 5xx are retried. Default consent category: Marketing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any, Literal
from urllib.parse import quote

import pydantic

from headwater.connectors._common import (
    all_of,
    basic_auth,
    call,
    email,
    epoch_ms,
    occurred_at,
    text,
    unix_seconds,
)
from headwater.connectors.base import (
    Connector,
    DeletionSubject,
    Event,
    Outcome,
    SendResult,
    not_supported,
)
from headwater.spec import Alias, Screen, Track, properties_of, traits_of

__all__ = ["CustomerIo", "CustomerIoConfig", "ulid"]

_HOSTS = {"us": "https://track.customer.io", "eu": "https://track-eu.customer.io"}
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class CustomerIoConfig(pydantic.BaseModel):
    site_id: str
    api_key: pydantic.SecretStr = pydantic.Field(description="the Track API key")
    region: Literal["us", "eu"] = "us"
    endpoint: str | None = pydantic.Field(default=None, description="overrides the region")


def ulid(message_id: str, epoch_ms: int) -> str:
    """A ULID for ``message_id``: its time part is ``epoch_ms``, its random part a hash of the id,
    so the same event always gets the same ULID.

    >>> ulid("m-1", 0)[:10], len(ulid("m-1", 0)), ulid("m-1", 5) == ulid("m-1", 5)
    ('0000000000', 26, True)
    """
    entropy = int.from_bytes(hashlib.sha256(message_id.encode()).digest()[:10], "big")
    value = (epoch_ms & (2**48 - 1)) << 80 | entropy
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


class CustomerIo(Connector[CustomerIoConfig]):
    kind = "customerio"
    title = "Customer.io"
    config_type = CustomerIoConfig
    categories = ("Marketing",)
    deletes = True

    async def send(self, events: Sequence[Event]) -> SendResult:
        (event,) = events
        request = self._request(event)
        if isinstance(request, str):
            return SendResult(outcome=Outcome.FAILED, error=request)
        method, path, body = request
        return await self._call(method, path, body)

    async def delete(self, subject: DeletionSubject) -> SendResult:
        people = list(dict.fromkeys((*subject.user_ids, *subject.emails)))
        if not people:
            return not_supported("Customer.io deletes by user id or email; this person has none")
        return all_of(
            [
                await self._call("DELETE", f"/api/v1/customers/{quote(person, safe='')}", None)
                for person in people
            ]
        )

    async def _call(self, method: str, path: str, body: dict[str, Any] | None) -> SendResult:
        key = self.config.api_key.get_secret_value()
        sent = await call(
            self.client,
            method,
            (self.config.endpoint or _HOSTS[self.config.region]).rstrip("/") + path,
            json=body,
            headers={"Authorization": basic_auth(self.config.site_id, key)},
        )
        return sent.result

    def _request(self, event: Event) -> tuple[str, str, dict[str, Any]] | str:
        """Method, path and body for ``event``, or why Customer.io cannot take it."""
        kind = event.type
        user = event.user_id or None
        if kind == "identify":
            person = user or email(event)
            if not person:
                return "Customer.io needs a userId or an email to identify someone"
            return "PUT", f"/api/v1/customers/{quote(person, safe='')}", _attributes(event)
        if isinstance(event, Alias):
            previous = event.previous_id or None
            if not (user and previous):
                return "a Customer.io merge needs both userId and previousId"
            merge = {"primary": {"id": user}, "secondary": {"id": previous}}
            return "POST", "/api/v1/merge_customers", merge
        if kind not in ("track", "page", "screen"):
            return f"Customer.io cannot take {kind or 'untyped'} calls"
        body = _event(event, kind)
        if not body["name"]:
            return f"a {kind} call without a name"
        if user:
            return "POST", f"/api/v1/customers/{quote(user, safe='')}/events", body
        anonymous = event.anonymous_id or None
        if kind != "track" or not anonymous:
            return f"Customer.io takes {kind} calls from identified people only"
        return "POST", "/api/v1/events", {**body, "anonymous_id": anonymous}


def _attributes(event: Event) -> dict[str, Any]:
    attributes = {k: v for k, v in traits_of(event).items() if k != "createdAt"}
    created = traits_of(event).get("createdAt")
    seconds = unix_seconds(created)
    if seconds is not None:
        attributes["created_at"] = seconds
    elif created is not None:
        attributes["createdAt"] = created
    found = email(event)
    if found:
        attributes["email"] = found
    return attributes


def _event(event: Event, kind: str) -> dict[str, Any]:
    props = properties_of(event)
    page = event.context.page
    if kind == "page":
        name = text(props.get("url")) or (page.url if page else None) or None
    elif isinstance(event, Screen):
        name = event.name or text(props.get("name"))
    else:
        name = (event.event if isinstance(event, Track) else None) or None
    body: dict[str, Any] = {"name": name, "data": dict(props)}
    if kind != "track":
        body["type"] = kind
    body["timestamp"] = int(occurred_at(event).timestamp())
    body["id"] = ulid(event.message_id, epoch_ms(event))
    return body
