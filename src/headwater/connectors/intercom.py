"""Intercom: contacts (users) and data events through the REST API.

Mapping (after Segment's Intercom destination):

- ``identify`` → the contact whose ``external_id`` is the userId is looked up
  (``POST /contacts/search``) and updated (``PUT /contacts/{id}``), or created with
  ``role: "user"`` (``POST /contacts``). Standard fields come from the traits (``email``,
  ``name`` or ``firstName``+``lastName``, ``phone``, ``avatar``, ``createdAt`` →
  ``signed_up_at`` in Unix seconds); the other scalar traits go to ``custom_attributes``, which
  must exist in the Intercom workspace (Intercom refuses unknown ones with a 400).
- ``track`` → ``POST /events`` with ``event_name``, ``created_at`` (Unix seconds), the userId
  as ``user_id`` (else the email), and up to 10 scalar properties as ``metadata`` (Intercom's
  limit).
- Refused: identify and track calls with neither userId nor email (identify needs a userId),
  and page, screen, group and alias calls.

Headers: ``Authorization: Bearer <access token>``, ``Intercom-Version`` (``api_version``),
``Accept: application/json``. One call per request (an identify may take two): no batching.

Idempotency: Intercom drops an event repeating the same user, name, ``created_at`` (seconds)
and metadata, so a retried track call is not counted twice; contact updates are idempotent.

Deletion (``deletes``): the person's contacts are found (``POST /contacts/search``, one query per
user id on ``external_id`` and per email on ``email``) and each is deleted with
``DELETE /contacts/{id}`` (API 2.x: Intercom destroys the data for good after a 7-day grace
period). No match means Intercom holds nothing of the person: delivered, as is a 404 on the
delete (the contact is already gone), so a repeated deletion is harmless. Anonymous ids are not
searched: this connector never sends them to Intercom. A person with neither user id nor email
cannot be deleted here.

Errors: 400, 401, 403, 404, 409, 422 are permanent; 429 is retried when
``X-RateLimit-Reset`` (epoch seconds) says, 5xx retried. Default consent category: Functional
(Intercom powers support conversations in the product).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

import pydantic

from headwater.connectors._common import (
    Sent,
    all_of,
    call,
    email,
    mapping,
    occurred_at,
    per_reset_header,
    scalar,
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
from headwater.spec import Identify, Track, properties_of, reserved_trait, traits_of

__all__ = ["Intercom", "IntercomConfig"]

_STANDARD = {"email", "name", "firstName", "lastName", "phone", "avatar", "createdAt", "id"}
_MAX_METADATA = 10


class IntercomConfig(pydantic.BaseModel):
    access_token: pydantic.SecretStr
    endpoint: str = pydantic.Field(
        default="https://api.intercom.io",
        description="https://api.eu.intercom.io or https://api.au.intercom.io for EU or Australia",
    )
    api_version: str = "2.11"


class Intercom(Connector[IntercomConfig]):
    kind = "intercom"
    title = "Intercom"
    config_type = IntercomConfig
    categories = ("Functional",)
    deletes = True

    async def delete(self, subject: DeletionSubject) -> SendResult:
        queries = [("external_id", user) for user in subject.user_ids]
        queries += [("email", address) for address in subject.emails]
        if not queries:
            return not_supported(
                "Intercom finds contacts by user id or email; this person has none"
            )
        results: list[SendResult] = []
        contacts: dict[str, None] = {}
        for field, value in queries:
            query = {"query": {"field": field, "operator": "=", "value": value}}
            found = await self._call("POST", "/contacts/search", query)
            results.append(found.result)
            matches = mapping(found.body).get("data")
            for match in map(mapping, matches if isinstance(matches, list) else []):
                if match.get("id") is not None:
                    contacts[str(match["id"])] = None
        for contact_id in contacts:
            deleted = await self._call("DELETE", f"/contacts/{quote(contact_id, safe='')}", None)
            results.append(_absent_is_deleted(deleted))
        return all_of(results)

    async def send(self, events: Sequence[Event]) -> SendResult:
        (event,) = events
        if isinstance(event, Identify):
            user = event.user_id
            if not user:
                return _refused("Intercom needs a userId to identify a contact")
            return await self._identify(user, event)
        if not isinstance(event, Track):
            return _refused(f"Intercom takes identify and track calls, not {event.type}")
        who = event.user_id or email(event)
        name = event.event
        if not (who and name):
            return _refused("Intercom needs an event name and a userId or email")
        data: dict[str, Any] = {
            "event_name": name,
            "created_at": int(occurred_at(event).timestamp()),
            ("user_id" if event.user_id else "email"): who,
        }
        metadata = {k: v for k, v in properties_of(event).items() if scalar(v)}
        if metadata:
            data["metadata"] = dict(list(metadata.items())[:_MAX_METADATA])
        return (await self._call("POST", "/events", data)).result

    async def _identify(self, user: str, event: Event) -> SendResult:
        query = {"query": {"field": "external_id", "operator": "=", "value": user}}
        found = await self._call("POST", "/contacts/search", query)
        if found.result.outcome is not Outcome.DELIVERED:
            return found.result
        matches = mapping(found.body).get("data")
        contact = _contact(user, event)
        if isinstance(matches, list) and matches:
            contact_id = str(mapping(matches[0]).get("id"))
            return (await self._call("PUT", f"/contacts/{contact_id}", contact)).result
        return (await self._call("POST", "/contacts", {"role": "user", **contact})).result

    async def _call(self, method: str, path: str, body: Mapping[str, Any] | None) -> Sent:
        token = self.config.access_token.get_secret_value()
        sent = await call(
            self.client,
            method,
            self.config.endpoint.rstrip("/") + path,
            json=body,
            headers={
                "Authorization": f"Bearer {token}",
                "Intercom-Version": self.config.api_version,
                "Accept": "application/json",
            },
        )
        return Sent(per_reset_header(sent.result), sent.body) if sent.status == 429 else sent


def _absent_is_deleted(sent: Sent) -> SendResult:
    """A 404 on a delete as delivered: the contact is already gone, nothing is left to forget."""
    if sent.status != 404:
        return sent.result
    return SendResult(outcome=Outcome.DELIVERED, exchange=sent.result.exchange)


def _refused(reason: str) -> SendResult:
    return SendResult(outcome=Outcome.FAILED, error=reason)


def _contact(user: str, event: Event) -> dict[str, Any]:
    found = traits_of(event)
    first, last = reserved_trait(found, "firstName"), reserved_trait(found, "lastName")
    full = reserved_trait(found, "name") or " ".join(p for p in (first, last) if p) or None
    fields = {
        "external_id": user,
        "email": email(event),
        "name": full,
        "phone": reserved_trait(found, "phone"),
        "avatar": reserved_trait(found, "avatar"),
        "signed_up_at": unix_seconds(found.get("createdAt")),
    }
    contact: dict[str, Any] = {k: v for k, v in fields.items() if v is not None}
    custom = {k: v for k, v in found.items() if k not in _STANDARD and scalar(v)}
    if custom:
        contact["custom_attributes"] = custom
    return contact
