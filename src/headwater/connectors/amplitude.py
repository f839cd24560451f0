"""Amplitude: events through the HTTP V2 API (``/2/httpapi``) or the Batch Event Upload API
(``/batch``), chosen by ``api``.

Mapping (after Segment's Amplitude destination):

- ``track`` → ``event_type`` = the event name; ``page``/``screen`` → "Viewed {name} Page" /
  "Viewed {name} Screen" ("Loaded a Page"/"Loaded a Screen" when unnamed);
- ``identify`` → an ``$identify`` event whose ``user_properties`` are ``{"$set": traits}``;
- every event: ``user_id``, ``device_id`` (``context.device.id``, else anonymousId), ``time``
  (ms), ``insert_id`` (the messageId), ``event_properties`` (properties), ``user_properties``
  (``context.traits`` on non-identify calls), and from ``context``: ``ip``, ``language``
  (locale), ``os_name``/``os_version``, ``device_manufacturer``/``device_model``,
  ``app_version``, ``carrier``, ``city``/``country``; ``revenue``, ``price``, ``quantity`` and
  ``productId`` copied from properties when present;
- ``group`` and ``alias`` are refused per event (Amplitude groups need a group type this
  connector does not configure; Amplitude has no alias in these APIs), and so is an event with
  neither user id nor device id (Amplitude requires one).

Request: ``POST {endpoint}/2/httpapi`` (or ``/batch``), JSON ``{"api_key", "events",
["options": {"min_id_length"}]}``. Up to 1000 events per HTTP V2 request (Amplitude asks for
fewer than 2000 and under 1 MB) and 2000 per Batch request (20 MB limit). Amplitude refuses ids
shorter than 5 characters unless ``min_id_length`` says otherwise.

Idempotency: ``insert_id`` = messageId; Amplitude ignores a repeat within 7 days.

Deletion (``deletes``): the User Privacy API, ``POST {privacy_endpoint}/api/2/deletions/users``
with HTTP Basic auth ``api_key:secret_key`` and JSON ``{"user_ids", "requester",
"ignore_invalid_ids": true}``, at most 100 user ids a request. ``requester`` names the
Headwater regulation; ``ignore_invalid_ids`` lets a request naming users Amplitude never saw
go through for the others. Amplitude deletes by user id (or its own Amplitude id), never by
device id: a person known only by anonymous ids cannot be deleted through it (a permanent
failure says so), nor can any person while the optional ``secret_key`` is unset. Amplitude
schedules the job days later; accepting the request is what Headwater records.

Errors: a 400 that names events (``events_with_invalid_fields``,
``events_with_missing_fields``, ``silenced_events``) rejected the whole request: the named
events fail and the rest are retried (Amplitude's documented recovery: remove them and resend).
Any other 400, 401 and 413 are permanent. 429 (throttled user or device) is retried after
``Retry-After`` or, as Amplitude advises, 30 seconds; 5xx is retried. Default consent category:
Analytics.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import pydantic

from headwater.connectors._common import (
    Part,
    all_of,
    basic_auth,
    call,
    chunked,
    combine,
    epoch_ms,
    event_name,
    mapping,
    sort_out,
    waiting,
)
from headwater.connectors.base import (
    Connector,
    DeletionSubject,
    Event,
    Outcome,
    SendResult,
    not_supported,
)
from headwater.spec import Context, Identify, properties_of, traits_of

__all__ = ["Amplitude", "AmplitudeConfig"]

_LIMITS = {"http_v2": 1000, "batch": 2000}
_PATHS = {"http_v2": "/2/httpapi", "batch": "/batch"}
_THROTTLE_PAUSE = 30.0
_PER_DELETION = 100
_REJECTION_LISTS = ("events_with_invalid_fields", "events_with_missing_fields")
_REVENUE_FIELDS = ("revenue", "price", "quantity", "productId")
_REFUSED = {
    "group": "Amplitude group calls are not supported (no group type is configured)",
    "alias": "Amplitude has no alias call in its event APIs",
}


class AmplitudeConfig(pydantic.BaseModel):
    api_key: pydantic.SecretStr
    api: Literal["http_v2", "batch"] = pydantic.Field(
        default="http_v2", description="batch for historical data or high per-user volume"
    )
    endpoint: str = pydantic.Field(
        default="https://api2.amplitude.com", description="https://api.eu.amplitude.com for EU"
    )
    min_id_length: int | None = pydantic.Field(
        default=None, ge=1, description="accept user and device ids shorter than 5 characters"
    )
    secret_key: pydantic.SecretStr | None = pydantic.Field(
        default=None, description="the project's secret key: needed to forward deletions"
    )
    privacy_endpoint: str = pydantic.Field(
        default="https://amplitude.com",
        description="User Privacy API; https://analytics.eu.amplitude.com for EU",
    )


class Amplitude(Connector[AmplitudeConfig]):
    kind = "amplitude"
    title = "Amplitude"
    config_type = AmplitudeConfig
    max_batch = max(_LIMITS.values())
    categories = ("Analytics",)
    deletes = True

    async def delete(self, subject: DeletionSubject) -> SendResult:
        config = self.config
        if config.secret_key is None:
            return not_supported("Amplitude deletions need the secret_key in the config")
        if not subject.user_ids:
            return not_supported("Amplitude deletes by user id; this person has none")
        auth = basic_auth(config.api_key.get_secret_value(), config.secret_key.get_secret_value())
        url = config.privacy_endpoint.rstrip("/") + "/api/2/deletions/users"
        results = []
        for user_ids in chunked(subject.user_ids, _PER_DELETION):
            body = {
                "user_ids": list(user_ids),
                "requester": f"headwater regulation {subject.regulation_id}",
                "ignore_invalid_ids": True,
            }
            sent = await call(self.client, "POST", url, json=body, headers={"Authorization": auth})
            results.append(waiting(sent.result, _THROTTLE_PAUSE))
        return all_of(results)

    def batch_limit(self) -> int:
        return _LIMITS[self.config.api]

    async def send(self, events: Sequence[Event]) -> SendResult:
        indexes, refused = sort_out(events, _refusal)
        parts = [Part(indexes, await self._upload([events[i] for i in indexes]))] if indexes else []
        return combine(parts, refused)

    async def _upload(self, events: Sequence[Event]) -> SendResult:
        config = self.config
        key = config.api_key.get_secret_value()
        body: dict[str, Any] = {"api_key": key, "events": [_amplitude_event(e) for e in events]}
        if config.min_id_length is not None:
            body["options"] = {"min_id_length": config.min_id_length}
        url = config.endpoint.rstrip("/") + _PATHS[config.api]
        sent = await call(self.client, "POST", url, json=body)
        result = sent.result
        if sent.status == 429:
            return waiting(result, _THROTTLE_PAUSE)
        rejected = _rejected(mapping(sent.body), len(events)) if sent.status == 400 else {}
        if not rejected or len(rejected) == len(events):
            return result
        return SendResult(
            outcome=Outcome.RETRY, exchange=result.exchange, error=result.error, failed=rejected
        )


def _refusal(event: Event) -> str | None:
    kind = event.type
    if kind in _REFUSED:
        return _REFUSED[kind]
    if kind != "identify" and not event_name(event):
        return f"Amplitude cannot take this {kind or 'untyped'} call"
    if not (event.user_id or _device_id(event)):
        return "Amplitude needs a user id or a device id"
    return None


def _rejected(body: Mapping[str, Any], size: int) -> dict[int, str]:
    """Indexes Amplitude named in a 400 body, each with the field it complained about."""
    rejected: dict[int, str] = {}
    for listing in _REJECTION_LISTS:
        for field, indexes in mapping(body.get(listing)).items():
            for index in indexes if isinstance(indexes, list) else []:
                if isinstance(index, int) and 0 <= index < size:
                    rejected[index] = f"Amplitude {listing.replace('_', ' ')}: {field}"
    silenced = body.get("silenced_events")
    for index in silenced if isinstance(silenced, list) else []:
        if isinstance(index, int) and 0 <= index < size:
            rejected[index] = "Amplitude silenced this device id"
    return rejected


def _device_id(event: Event) -> str | None:
    device = event.context.device
    return (device.id if device else None) or event.anonymous_id or None


def _amplitude_event(event: Event) -> dict[str, Any]:
    ctx = event.context
    os, device, app = ctx.os, ctx.device, ctx.app
    location, network = mapping(ctx.get("location")), mapping(ctx.get("network"))
    identify = isinstance(event, Identify)
    props = properties_of(event)
    fields: dict[str, Any] = {
        "user_id": event.user_id or None,
        "device_id": _device_id(event),
        "event_type": "$identify" if identify else event_name(event),
        "time": epoch_ms(event),
        "insert_id": event.message_id,
        "event_properties": None if identify else dict(props) or None,
        "user_properties": {"$set": dict(traits_of(event))} if identify else _context_traits(ctx),
        "ip": ctx.ip,
        "language": ctx.locale,
        "os_name": os.name if os else None,
        "os_version": os.version if os else None,
        "device_manufacturer": device.manufacturer if device else None,
        "device_model": device.model if device else None,
        "app_version": app.version if app else None,
        "carrier": network.get("carrier"),
        "city": location.get("city"),
        "country": location.get("country"),
    }
    if not identify:
        fields.update({name: props[name] for name in _REVENUE_FIELDS if name in props})
    return {name: value for name, value in fields.items() if value is not None}


def _context_traits(ctx: Context) -> dict[str, Any] | None:
    return dict(ctx.traits) or None
