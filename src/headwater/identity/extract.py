"""Identifiers read from a Segment message, as Segment Unify promotes them.

=====================  ==================================================================
type                   where
=====================  ==================================================================
``user_id``            ``userId``
``anonymous_id``       ``anonymousId``
``email``              ``traits.email``, ``context.traits.email``, ``properties.email``
``ios.id``             ``context.device.id`` when ``context.device.type`` is ``ios``
``android.id``         ... when it is ``android``; ``device_id`` for any other or no type
``ios.idfa``           ``context.device.advertisingId`` when ``adTrackingEnabled`` is true,
                       and the type ``ios`` (``android.idfa``; ``advertising_id`` otherwise)
``ios.push_token``     ``context.device.token`` (``android.push_token``; ``push_token``)
``ga_client_id``       ``integrations["Google Analytics"].clientId``
``group_id``           ``groupId``
any lowercase type     ``context.externalIds[]``: ``{"id", "type", "collection"}`` objects
                       whose collection is ``users`` or missing
configured types       ``Rules.trait_identifiers`` / ``Rules.property_identifiers`` keys
=====================  ==================================================================

Values are strings; numbers become their decimal text and anything else is ignored. Emails
are stripped and lowercased, wherever they come from, so ``Jane@Example.com `` and
``jane@example.com`` are one identifier. Other values are kept exactly. Blocked values are
removed (:meth:`Rules.is_blocked`). Device types are compared case-insensitively; Segment
names no type for an advertising id on other devices, so Headwater uses ``advertising_id``
(and ``device_id``, ``push_token`` alike) rather than guessing a platform.

External id types must be lowercase, as in Segment: ``{"type": "Phone"}`` is ignored, and so
is a type longer than ``MAX_EXTERNAL_TYPE_BYTES`` in UTF-8: an identifier's type and value (at
most ``Rules.max_length`` characters) and a ``messageId`` must fit one index row.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Final

from msgspec import UNSET

from headwater.identity.model import Identifier, IdentityEvent, Rules
from headwater.spec import Alias, Group, Identify, Message, Page, Screen, Track, stored_field

__all__ = ["MAX_EXTERNAL_TYPE_BYTES", "account_traits", "extract", "identity_event", "user_traits"]

MAX_EXTERNAL_TYPE_BYTES: Final = 64

_PLATFORMS: Final = frozenset({"ios", "android"})
_CAMEL_BOUNDARY: Final = re.compile(r"(?<=[a-z0-9])([A-Z])")
_EMPTY: Final[dict[str, Any]] = {}
_WITH_TRAITS: Final = (Identify, Group)
_WITH_PROPERTIES: Final = (Track, Page, Screen)


def extract(message: Message, rules: Rules) -> tuple[Identifier, ...]:
    """The identifiers of one message, strongest first; never raises.

    Like Segment, it reads ``traits``, ``properties`` and ``groupId`` of any call that carries
    them, declared by its type or not (:func:`~headwater.spec.stored_field`).

    >>> from headwater.spec import message_of
    >>> extract(message_of({"type": "identify", "userId": "u1", "anonymousId": "a1",
    ...                     "traits": {"email": " Jane@X.io"}}), Rules.default())
    (Identifier(type='user_id', value='u1'), Identifier(type='email', value='jane@x.io'), \
Identifier(type='anonymous_id', value='a1'))
    """
    # (type, raw value) pairs, then one pass that reads and checks them: no closure call for
    # the many fields an event does not have. This runs for every event the processor reads.
    raw: list[tuple[str, Any]] = []
    extra = message.extra  # undeclared fields, and declared ones of another type (then UNSET)
    if (value := message.user_id) is UNSET:
        value = extra.get("userId")
    if value is not None:
        raw.append(("user_id", value))
    if (value := message.anonymous_id) is UNSET:
        value = extra.get("anonymousId")
    if value is not None:
        raw.append(("anonymous_id", value))
    group, traits, properties = _loose_fields(message, extra)
    if group is not None:
        raw.append(("group_id", group))
    context = message.context
    context_traits = context.traits
    for source in (traits, context_traits, properties):
        if (value := source.get("email")) is not None:
            raw.append(("email", value))
    # Read as sent, not as a typed Device: a numeric device id counts (as text).
    device = context.get("device")
    if isinstance(device, dict):
        raw.extend(_device(device))
    integrations = message.integrations
    if isinstance(integrations, dict):
        analytics = integrations.get("Google Analytics")
        if isinstance(analytics, dict) and (value := analytics.get("clientId")) is not None:
            raw.append(("ga_client_id", value))
    if (external := context.get("externalIds")) is not None:
        raw.extend(_external_ids(external))
    for key, kind in rules.trait_identifiers.items():
        for variant in _variants(key):
            raw.append((kind, traits.get(variant)))
            raw.append((kind, context_traits.get(variant)))
    for key, kind in rules.property_identifiers.items():
        for variant in _variants(key):
            raw.append((kind, properties.get(variant)))
    found: list[Identifier] = []
    is_blocked = rules.is_blocked
    for kind, value in raw:
        if type(value) is not str:
            value = _text(value)
            if value is None:
                continue
        if kind == "email":
            value = value.strip().lower()
        if not is_blocked(value):
            found.append(Identifier(kind, value))
    return rules.order(found)


def identity_event(
    message: Message, *, message_id: str, timestamp: datetime, rules: Rules
) -> IdentityEvent:
    """The :class:`IdentityEvent` of one message; an alias keeps its ``previousId`` unless it
    is blocked.

    >>> from datetime import UTC
    >>> from headwater.spec import message_of
    >>> event = identity_event(message_of({"type": "alias", "userId": "u1", "previousId": "a1"}),
    ...     message_id="m1", timestamp=datetime(2026, 1, 1, tzinfo=UTC), rules=Rules.default())
    >>> event.identifiers, event.alias_previous_id
    ((Identifier(type='user_id', value='u1'),), 'a1')
    """
    previous = None
    if isinstance(message, Alias):
        previous = _text(stored_field(message, "previousId"))
        if previous is not None and rules.is_blocked(previous):
            previous = None
    return IdentityEvent(
        message_id=message_id,
        timestamp=timestamp,
        identifiers=extract(message, rules),
        alias_previous_id=previous,
    )


def user_traits(message: Message) -> dict[str, Any]:
    """Traits a message sets on its user: ``context.traits`` of any call, under an
    identify's own ``traits`` (a new dict)."""
    found = dict(message.context.traits)
    if isinstance(message, Identify) and isinstance(message.traits, dict):
        found.update(message.traits)
    return found


def account_traits(message: Message) -> tuple[str, dict[str, Any]]:
    """A group call's ``groupId`` as text (``""`` for another call or without one) and its
    ``traits`` (empty when absent), as the account profile reads them."""
    if not isinstance(message, Group):
        return "", {}
    group = stored_field(message, "groupId")
    traits = message.traits
    return ("" if group is None else str(group)), traits if isinstance(traits, dict) else {}


def _loose_fields(
    message: Message, extra: dict[str, Any]
) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """``groupId`` as stored, and the ``traits`` and ``properties`` objects (else empty ones),
    whichever type declares them: read inline, as :func:`~headwater.spec.stored_field` would,
    since this runs for every event."""
    group: Any = message.group_id if isinstance(message, Group) else UNSET
    traits: Any = message.traits if isinstance(message, _WITH_TRAITS) else UNSET
    properties: Any = message.properties if isinstance(message, _WITH_PROPERTIES) else UNSET
    if extra:
        group = extra.get("groupId") if group is UNSET else group
        traits = extra.get("traits") if traits is UNSET else traits
        properties = extra.get("properties") if properties is UNSET else properties
    return (
        None if group is UNSET else group,
        traits if isinstance(traits, dict) else _EMPTY,
        properties if isinstance(properties, dict) else _EMPTY,
    )


def _device(device: dict[str, Any]) -> list[tuple[str, Any]]:
    kind = device.get("type")
    platform = kind.strip().lower() if isinstance(kind, str) else None
    if platform not in _PLATFORMS:
        platform = None
    found = [
        (f"{platform}.id" if platform else "device_id", device.get("id")),
        (f"{platform}.push_token" if platform else "push_token", device.get("token")),
    ]
    if device.get("adTrackingEnabled") is True:
        found.append(
            (f"{platform}.idfa" if platform else "advertising_id", device.get("advertisingId"))
        )
    return found


def _external_ids(items: Any) -> list[tuple[str, Any]]:
    if not isinstance(items, list):
        return []
    found = []
    for item in items:
        if not isinstance(item, dict):
            continue
        kind, collection = item.get("type"), item.get("collection")
        if collection not in (None, "users") or not isinstance(kind, str):
            continue
        if _external_type(kind):
            found.append((kind, item.get("id")))
    return found


def _external_type(kind: str) -> bool:
    """Whether ``kind`` may name an external id's type: lowercase, trimmed, short enough."""
    return (
        bool(kind)
        and kind == kind.lower()
        and kind == kind.strip()
        and len(kind.encode()) <= MAX_EXTERNAL_TYPE_BYTES
    )


def _variants(key: str) -> tuple[str, ...]:
    """``phone_number`` -> itself and ``phoneNumber``; ``phoneNumber`` -> itself and
    ``phone_number``."""
    snake = _CAMEL_BOUNDARY.sub(r"_\1", key).lower()
    head, *rest = snake.split("_")
    camel = head + "".join(part[:1].upper() + part[1:] for part in rest)
    return tuple(dict.fromkeys((key, snake, camel)))


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return str(value)
        except ValueError:  # an integer too long to print (sys.get_int_max_str_digits)
            return None
    return None
