"""HubSpot: contacts through the CRM batch upsert, track calls as custom event occurrences.

Mapping (after Segment's HubSpot destination):

- ``identify`` with an email → a contact upserted by email
  (``POST /crm/v3/objects/contacts/batch/upsert``, ``idProperty: "email"``). Traits become
  HubSpot's standard contact properties (``firstName`` → ``firstname``, ``lastName`` →
  ``lastname``, ``phone``, ``company``, ``website``, ``title`` → ``jobtitle``, ``address``
  fields → ``address``/``city``/``state``/``zip``/``country``) plus the traits named in
  ``contact_properties`` (trait → HubSpot property): HubSpot refuses a request that names a
  property it does not have, so other traits are not sent. Identifies of the same email in one
  batch merge into one input (HubSpot refuses duplicate ids in a batch).
- ``track`` with an email → a custom event occurrence (``POST /events/v3/send/batch``) when
  ``events`` maps its name to a HubSpot event's fully qualified name (``pe{hubId}_{name}``):
  HubSpot takes only events defined in the account. ``occurredAt`` is the timestamp,
  ``properties`` the call's properties with scalar values, ``uuid`` the messageId (or a UUID
  derived from it).
- Refused per event: calls without an email, track calls with no mapped event, and page,
  screen, group and alias calls (HubSpot records page views with its own tracking code).

Auth: ``Authorization: Bearer <private app access token>``. A batch of up to 100 events (the
upsert limit) becomes at most one request per endpoint.

Idempotency: contact upserts are idempotent; event occurrences carry the messageId as
``uuid``, HubSpot's identifier of the occurrence.

Deletion (``deletes``): the GDPR delete, ``POST /crm/v3/objects/contacts/gdpr-delete`` with
``{"objectId": email, "idProperty": "email"}``, one request per email of the person (HubSpot
takes one contact a request; it answers 204). HubSpot deletes the contact and its associated
content for good, and blocks an email it has no contact for from being used again, so a
repeat is harmless. This connector knows contacts by email only: a person without an email
cannot be deleted here (a permanent failure says so). The access token needs the
``crm.objects.contacts.write`` scope.

Errors: a 207 upsert answer lists the failed inputs (``errors[].context.ids``): those events
fail, the rest are delivered. 400, 401, 403, 404 are permanent; 429 is retried after
``Retry-After`` or HubSpot's 10-second rate-limit window; 5xx retried. Default consent
categories: Marketing and Advertising.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pydantic

from headwater.connectors._common import (
    Part,
    Sent,
    all_of,
    call,
    combine,
    email,
    iso_time,
    mapping,
    partial,
    scalar,
    sort_out,
    stable_uuid,
    waiting,
)
from headwater.connectors.base import (
    Connector,
    DeletionSubject,
    Event,
    SendResult,
    not_supported,
)
from headwater.spec import Identify, Track, properties_of, traits_of

__all__ = ["HubSpot", "HubSpotConfig"]

_STANDARD = {
    "email": "email",
    "firstName": "firstname",
    "lastName": "lastname",
    "phone": "phone",
    "company": "company",
    "website": "website",
    "title": "jobtitle",
}
_ADDRESS = {"street": "address", "city": "city", "state": "state", "postalCode": "zip"}
_RATE_WINDOW = 10.0


class HubSpotConfig(pydantic.BaseModel):
    access_token: pydantic.SecretStr = pydantic.Field(description="a private app access token")
    endpoint: str = "https://api.hubapi.com"
    events: dict[str, str] = pydantic.Field(
        default_factory=dict, description="Segment event name -> HubSpot event fully qualified name"
    )
    contact_properties: dict[str, str] = pydantic.Field(
        default_factory=dict, description="trait -> HubSpot contact property, beyond the standard"
    )


class HubSpot(Connector[HubSpotConfig]):
    kind = "hubspot"
    title = "HubSpot"
    config_type = HubSpotConfig
    max_batch = 100
    categories = ("Marketing", "Advertising")
    deletes = True

    async def delete(self, subject: DeletionSubject) -> SendResult:
        if not subject.emails:
            return not_supported("HubSpot finds contacts by email; this person has none")
        path = "/crm/v3/objects/contacts/gdpr-delete"
        return all_of(
            [
                (await self._post(path, {"objectId": address, "idProperty": "email"})).result
                for address in dict.fromkeys(e.lower() for e in subject.emails)
            ]
        )

    async def send(self, events: Sequence[Event]) -> SendResult:
        accepted, refused = sort_out(events, self._refusal)
        contacts = [i for i in accepted if isinstance(events[i], Identify)]
        occurrences = [i for i in accepted if isinstance(events[i], Track)]
        parts = []
        if contacts:
            parts.append(Part(contacts, await self._upsert([events[i] for i in contacts])))
        if occurrences:
            inputs = [self._occurrence(events[i]) for i in occurrences]
            sent = await self._post("/events/v3/send/batch", {"inputs": inputs})
            parts.append(Part(occurrences, sent.result))
        return combine(parts, refused)

    def _refusal(self, event: Event) -> str | None:
        if not isinstance(event, Identify | Track):
            return f"HubSpot takes identify and track calls, not {event.type} calls"
        if not email(event):
            return "HubSpot needs an email to find the contact"
        name = event.event if isinstance(event, Track) else ""
        if isinstance(event, Track) and name not in self.config.events:
            return f"no HubSpot custom event is mapped to {name!r}"
        return None

    async def _upsert(self, events: Sequence[Event]) -> SendResult:
        """One input per email (later identifies win); failures listed by email in a 207."""
        by_email: dict[str, dict[str, Any]] = {}
        owners: dict[str, list[int]] = {}
        for index, event in enumerate(events):
            address = str(email(event)).lower()
            by_email.setdefault(address, {}).update(self._properties(event))
            owners.setdefault(address, []).append(index)
        inputs = [
            {"idProperty": "email", "id": address, "properties": {**props, "email": address}}
            for address, props in by_email.items()
        ]
        sent = await self._post("/crm/v3/objects/contacts/batch/upsert", {"inputs": inputs})
        if sent.status != 207:
            return sent.result
        failed: dict[int, str] = {}
        errors = mapping(sent.body).get("errors")
        for error in map(mapping, errors if isinstance(errors, list) else []):
            ids = mapping(error.get("context")).get("ids")
            for address in ids if isinstance(ids, list) else []:
                reason = f"HubSpot refused the contact: {error.get('message') or 'invalid'}"
                failed.update(dict.fromkeys(owners.get(str(address).lower(), []), reason))
        return partial(sent.result, failed, len(events))

    def _properties(self, event: Event) -> dict[str, Any]:
        found = traits_of(event)
        names = {**_STANDARD, **self.config.contact_properties}
        props = {names[k]: v for k, v in found.items() if k in names and scalar(v)}
        address = mapping(found.get("address"))
        props.update({_ADDRESS[k]: v for k, v in address.items() if k in _ADDRESS and scalar(v)})
        if scalar(address.get("country")):
            props["country"] = address["country"]
        return props

    def _occurrence(self, event: Event) -> dict[str, Any]:
        return {
            "eventName": self.config.events[event.event if isinstance(event, Track) else ""],
            "email": email(event),
            "occurredAt": iso_time(event),
            "uuid": stable_uuid(event.message_id),
            "properties": {k: v for k, v in properties_of(event).items() if scalar(v)},
        }

    async def _post(self, path: str, body: Mapping[str, Any]) -> Sent:
        token = self.config.access_token.get_secret_value()
        sent = await call(
            self.client,
            "POST",
            self.config.endpoint.rstrip("/") + path,
            json=body,
            headers={"Authorization": f"Bearer {token}"},
        )
        return Sent(waiting(sent.result, _RATE_WINDOW), sent.body) if sent.status == 429 else sent
