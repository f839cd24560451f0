"""Braze: user attributes, custom events and purchases through ``/users/track``.

Mapping (after Segment's Braze destination):

- who: ``external_id`` = userId; without one, a user alias
  ``{"alias_name": anonymousId, "alias_label": "anonymous_id"}`` (attributes then carry
  ``_update_existing_only: false`` so that Braze creates the alias-only user);
- ``identify`` → an attributes object: Braze's standard attributes from the traits
  (``email``, ``first_name``, ``last_name``, ``phone``, ``gender``, ``dob`` from
  ``birthday``, ``home_city``/``country`` from ``address``, ``image_url`` from ``avatar``), the
  other traits as custom attributes;
- ``track`` → a custom event (``name``, ``time`` ISO 8601, ``properties``); "Order Completed"
  with ``products`` → one purchase per product (``product_id``, ``price``, ``quantity``,
  ``currency``, default USD) instead;
- ``group`` → the custom attribute ``ab_segment_group_{groupId}: true`` (Segment's convention);
- ``page`` and ``screen`` → custom events "Viewed {name} Page"/"Viewed {name} Screen" when
  ``track_pages`` is on, refused otherwise; ``alias`` is refused (Braze merges aliases through
  ``/users/identify``, which this connector does not call).

Request: ``POST {endpoint}/users/track`` with ``Authorization: Bearer <REST API key>`` and JSON
``{"attributes": [...], "events": [...], "purchases": [...]}``. Braze takes up to 75 objects
of each kind per request: a batch holds at most 75 Segment events, and when orders' purchases
overflow, the objects go out in as many requests as needed (each event's objects together); an
order of more than 75 products is refused.

No idempotency key: Braze has none for ``/users/track``; attribute updates are idempotent but
a retried event or purchase can be counted twice.

Deletion (``deletes``): ``POST {endpoint}/users/delete`` (the API key needs the
``users.delete`` permission) with one kind of identifier per request, at most 50 each, as Braze
requires: ``external_ids`` (the user ids), ``user_aliases`` (each anonymous id as the alias this
connector creates, label ``anonymous_id``) and ``email_addresses`` (the person's emails: Braze
deletes every profile with that address). Braze answers ``{"deleted": n, "message"}``; a
profile that does not exist is simply not counted, so a repeated deletion is harmless.

Errors: a 2xx body ``{"message": "success", "errors": [{"input_array", "index", "type"}]}``
means the named objects were refused and the rest accepted: the Segment events behind them
fail. 400, 401, 403, 404 are permanent; 429 is retried after ``Retry-After`` or Braze's
``X-RateLimit-Reset`` (epoch seconds), 5xx retried. Default consent categories: Marketing and
Advertising.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import pydantic

from headwater.connectors._common import (
    Part,
    all_of,
    call,
    chunked,
    combine,
    event_name,
    iso_time,
    mapping,
    partial,
    per_reset_header,
    sort_out,
    text,
)
from headwater.connectors.base import (
    Connector,
    DeletionSubject,
    Event,
    Outcome,
    SendResult,
    not_supported,
)
from headwater.spec import Group, Identify, Track, properties_of, traits_of

__all__ = ["Braze", "BrazeConfig"]

_STANDARD = {
    "email": "email",
    "firstName": "first_name",
    "first_name": "first_name",
    "lastName": "last_name",
    "last_name": "last_name",
    "phone": "phone",
    "gender": "gender",
    "avatar": "image_url",
}
_IDENTITY = ("external_id", "user_alias", "_update_existing_only")
_PER_ARRAY = 75
_PER_DELETE = 50

_Object = tuple[int, str, dict[str, Any]]
"""A Braze object in a request: the position of its Segment event, its array, its body."""


class BrazeConfig(pydantic.BaseModel):
    api_key: pydantic.SecretStr = pydantic.Field(description="a REST API key with users.track")
    endpoint: str = pydantic.Field(
        default="https://rest.iad-01.braze.com",
        description="your instance's REST endpoint (https://rest.fra-01.braze.eu, ...)",
    )
    track_pages: bool = pydantic.Field(default=False, description="send page and screen calls")
    app_id: str | None = pydantic.Field(default=None, description="attached to events")


class Braze(Connector[BrazeConfig]):
    kind = "braze"
    title = "Braze"
    config_type = BrazeConfig
    max_batch = 75
    categories = ("Marketing", "Advertising")
    deletes = True

    async def delete(self, subject: DeletionSubject) -> SendResult:
        aliases = [{"alias_name": a, "alias_label": "anonymous_id"} for a in subject.anonymous_ids]
        bodies: list[dict[str, Any]] = [
            *({"external_ids": list(ids)} for ids in chunked(subject.user_ids, _PER_DELETE)),
            *(
                {"user_aliases": aliases[start : start + _PER_DELETE]}
                for start in range(0, len(aliases), _PER_DELETE)
            ),
            *({"email_addresses": list(ids)} for ids in chunked(subject.emails, _PER_DELETE)),
        ]
        if not bodies:
            return not_supported("Braze deletes by user id, anonymous id or email: none is known")
        return all_of([await self._post("/users/delete", body) for body in bodies])

    async def _post(self, path: str, body: Mapping[str, Any]) -> SendResult:
        key = self.config.api_key.get_secret_value()
        sent = await call(
            self.client,
            "POST",
            f"{self.config.endpoint.rstrip('/')}{path}",
            json=body,
            headers={"Authorization": f"Bearer {key}"},
        )
        return per_reset_header(sent.result) if sent.status == 429 else sent.result

    async def send(self, events: Sequence[Event]) -> SendResult:
        accepted, refused = sort_out(events, self._refusal)
        objects = {index: self._objects(events[index]) for index in accepted}
        parts = [
            Part(indexes, await self._track(indexes, packed))
            for indexes, packed in _requests(accepted, objects)
        ]
        return combine(parts, refused)

    async def _track(self, indexes: Sequence[int], objects: Sequence[_Object]) -> SendResult:
        """One ``/users/track`` request; minor errors fail the events (of ``indexes``) behind
        the objects they name."""
        body: dict[str, list[dict[str, Any]]] = {}
        origin: dict[str, list[int]] = {}  # array -> position in ``indexes`` of each object
        for position, array, item in objects:
            body.setdefault(array, []).append(item)
            origin.setdefault(array, []).append(position)
        key = self.config.api_key.get_secret_value()
        sent = await call(
            self.client,
            "POST",
            f"{self.config.endpoint.rstrip('/')}/users/track",
            json=body,
            headers={"Authorization": f"Bearer {key}"},
        )
        if sent.status == 429:
            return per_reset_header(sent.result)
        if sent.result.outcome is not Outcome.DELIVERED:
            return sent.result
        return partial(sent.result, _refused_objects(mapping(sent.body), origin), len(indexes))

    def _refusal(self, event: Event) -> str | None:
        kind = event.type
        if not (event.user_id or event.anonymous_id):
            return "Braze needs a userId or an anonymousId"
        if kind in ("page", "screen") and not self.config.track_pages:
            return f"{kind} calls are not sent to Braze (track_pages is off)"
        if kind == "alias":
            return "Braze alias merges go through /users/identify, which is not supported"
        if isinstance(event, Group) and not event.group_id:
            return "a group call without a groupId"
        if isinstance(event, Track) and not event.event:
            return "a track call without an event name"
        products = properties_of(event).get("products")
        if isinstance(products, list) and len(products) > _PER_ARRAY and _is_order(event):
            return f"an order of more than {_PER_ARRAY} products (Braze's purchases per request)"
        if kind not in ("identify", "track", "page", "screen", "group"):
            return f"Braze cannot take {kind or 'untyped'} calls"
        return None

    def _objects(self, event: Event) -> list[tuple[str, dict[str, Any]]]:
        """The attributes, events and purchases objects for one Segment event."""
        who = _who(event)
        if isinstance(event, Identify):
            return [("attributes", {**who, **_attributes(traits_of(event))})]
        if isinstance(event, Group):
            return [("attributes", {**who, f"ab_segment_group_{event.group_id}": True})]
        props = properties_of(event)
        base = {key: value for key, value in who.items() if key != "_update_existing_only"}
        base["time"] = iso_time(event)
        if self.config.app_id:
            base["app_id"] = self.config.app_id
        products = props.get("products")
        if _is_order(event) and isinstance(products, list) and products:
            currency = text(props.get("currency")) or "USD"
            return [("purchases", _purchase(base, mapping(p), currency)) for p in products]
        return [("events", {**base, "name": event_name(event), "properties": dict(props)})]


def _requests(
    accepted: Sequence[int], objects: Mapping[int, list[tuple[str, dict[str, Any]]]]
) -> list[tuple[list[int], list[_Object]]]:
    """The accepted events packed into requests of at most 75 objects per array (an order
    with many products makes many purchases); an event's objects stay in one request."""
    requests: list[tuple[list[int], list[_Object]]] = []
    counts: Counter[str] = Counter()
    for index in accepted:
        mine = Counter(array for array, _ in objects[index])
        if not requests or any(counts[a] + n > _PER_ARRAY for a, n in mine.items()):
            requests.append(([], []))
            counts = Counter()
        indexes, packed = requests[-1]
        packed.extend((len(indexes), array, item) for array, item in objects[index])
        indexes.append(index)
        counts.update(mine)
    return requests


def _is_order(event: Event) -> bool:
    return isinstance(event, Track) and event.event == "Order Completed"


def _who(event: Event) -> dict[str, Any]:
    user = event.user_id
    if user:
        return {"external_id": user}
    alias = {"alias_name": event.anonymous_id or None, "alias_label": "anonymous_id"}
    return {"user_alias": alias, "_update_existing_only": False}


def _attributes(found: Mapping[str, Any]) -> dict[str, Any]:
    attributes: dict[str, Any] = {}
    for name, value in found.items():
        if name == "birthday" and isinstance(value, str):
            attributes["dob"] = value[:10]
        elif name == "address":
            address = mapping(value)
            attributes.update(
                {
                    braze: address[segment]
                    for segment, braze in (("city", "home_city"), ("country", "country"))
                    if segment in address
                }
            )
        elif name not in _IDENTITY:
            attributes[_STANDARD.get(name, name)] = value
    return attributes


def _purchase(base: Mapping[str, Any], product: Mapping[str, Any], currency: str) -> dict[str, Any]:
    extra = {
        k: v for k, v in product.items() if k not in ("product_id", "sku", "price", "quantity")
    }
    return {
        **base,
        "product_id": text(product.get("product_id")) or text(product.get("sku")) or "unknown",
        "currency": currency,
        "price": product.get("price", 0),
        "quantity": product.get("quantity", 1),
        "properties": extra,
    }


def _refused_objects(body: Mapping[str, Any], origin: Mapping[str, list[int]]) -> dict[int, str]:
    """Positions of the events behind the objects Braze listed as minor errors, with reasons."""
    failed: dict[int, str] = {}
    errors = body.get("errors")
    for error in map(mapping, errors if isinstance(errors, list) else []):
        indexes = origin.get(str(error.get("input_array")), [])
        position = error.get("index")
        if isinstance(position, int) and 0 <= position < len(indexes):
            failed[indexes[position]] = f"Braze refused it: {error.get('type') or 'invalid'}"
    return failed
