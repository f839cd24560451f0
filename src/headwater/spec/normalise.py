"""Normalisation of one Segment message, as Segment's tracking API does it.

:func:`normalise` takes one decoded message and what the request tells about it, and returns
an :class:`~headwater.spec.parsed.Event` or a :class:`~headwater.spec.parsed.Rejection`
with its reason. It does no I/O.

What it does, in order:

- checks the ``type`` (or takes it from the route) and the ids: ``null`` and ``""`` mean
  absent, numbers become strings, anything else is rejected;
- assigns a ``messageId`` when missing; rejects ids, event names and page or screen names
  longer than their limits (they are indexed: an over-long one could not be stored);
- merges the batch-level ``context`` and ``integrations`` under the message's own;
- copies identify traits sent only in ``context.traits`` into ``traits``;
- keeps the client's ``timestamp`` as ``originalTimestamp``, sets ``receivedAt``, and corrects
  clock skew: ``timestamp = receivedAt - (sentAt - originalTimestamp)``;
- fills ``context.ip`` from the connection for client-side messages;
- rejects an event that, as it will be stored (the request's ``context``, ``integrations``
  and ``AnonymousId`` header merged in), is larger than the event limit.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Final

import msgspec

from headwater.spec.body import Unreadable
from headwater.spec.parsed import MESSAGE_TYPES, Event, Rejection, encode_payload_bytes
from headwater.spec.timestamps import format_timestamp, parse_timestamp

__all__ = [
    "ADDED_BYTES",
    "CLIENT_LIBRARIES",
    "Envelope",
    "Invalid",
    "capped",
    "check_type_fields",
    "normalise",
    "stored_json",
]

# context.library.name values of libraries that run on the user's device: their messages get
# context.ip from the connection, as Segment does for client-side sources.
CLIENT_LIBRARIES: Final = (
    "analytics.js",
    "analytics-next",
    "@segment/analytics-next",
    "analytics-ios",
    "analytics-android",
    "analytics-react-native",
    "analytics-flutter",
    "analytics-kotlin",
    "analytics-swift",
    "rudderlabs",
    "rudder-",
    "RudderLabs",
    "@rudderstack/analytics-js",
)

_OBJECT_FIELDS: Final = ("properties", "traits", "context", "integrations")
_TIMESTAMP_FIELDS: Final = ("timestamp", "originalTimestamp", "sentAt")
_ID_FIELDS: Final = ("userId", "anonymousId", "groupId", "previousId")

ADDED_BYTES: Final = 1024
"""Room, above the event limit, for what normalisation adds (``receivedAt``, ``timestamp``, a
generated ``messageId``, ``null`` ids, ...): an event stored may be this much larger than the
limit on the event as sent, never more."""


class Envelope(msgspec.Struct, frozen=True, kw_only=True):
    """What the request, rather than the message, tells: batch-level fields and the connection."""

    received_at: datetime
    context: dict[str, Any] | None = None
    integrations: dict[str, Any] | None = None
    sent_at: datetime | None = None
    ip: str | None = None
    client_source: bool = False
    """The source is client-side: fill ``context.ip`` on every message."""
    anonymous_id_header: str | None = None
    """RudderStack's ``AnonymousId`` request header."""
    max_message_id_chars: int = 100
    max_id_chars: int = 512
    """Longest ``userId``, ``anonymousId``, ``groupId`` and ``previousId``."""
    max_name_chars: int = 512
    """Longest track event name, page or screen name."""
    max_event_bytes: int = 32 * 1024
    """Largest event as sent; as stored, at most :data:`ADDED_BYTES` more."""


class Invalid(Exception):
    """Raised inside normalisation; becomes a Rejection with this message as the reason."""


def normalise(
    message: Any,
    *,
    index: int,
    route_type: str | None,
    envelope: Envelope,
    clean_nul: bool = False,
) -> Event | Rejection:
    """Normalise one message; never raises for bad input.

    ``route_type`` is the type implied by the route (``/v1/track``), or ``None`` for batch items,
    which must carry their own ``type``. ``clean_nul`` replaces NUL characters, which
    PostgreSQL cannot store, with U+FFFD in every string and key, the envelope's included.
    """
    if isinstance(message, Unreadable):
        return Rejection(
            index=index,
            reason=message.reason,
            type=route_type,
            payload=message.excerpt,
            count=message.count,
        )
    if clean_nul:
        message = _without_nul(message)
        envelope = msgspec.structs.replace(
            envelope,
            context=_without_nul(envelope.context),
            integrations=_without_nul(envelope.integrations),
            anonymous_id_header=_without_nul(envelope.anonymous_id_header),
        )
    if not isinstance(message, dict):
        return Rejection(index=index, reason="message must be a JSON object", payload=message)
    try:
        event = _normalise(message, index, route_type, envelope)
        stored_json(event.payload, envelope)
    except Invalid as error:
        raw_id = message.get("messageId")
        raw_type = route_type or message.get("type")
        return Rejection(
            index=index,
            reason=str(error),
            # Both are indexed columns (of the counts, of the rejections): kept while they fit
            # the caps that events' own names and ids are held to.
            type=capped(raw_type, envelope.max_name_chars),
            message_id=capped(raw_id, envelope.max_id_chars),
            payload=message,
        )
    return event


def capped(value: Any, limit: int) -> str | None:
    """``value`` when it is a string of at most ``limit`` characters, else None."""
    return value if isinstance(value, str) and len(value) <= limit else None


def stored_json(payload: dict[str, Any] | msgspec.Raw, env: Envelope) -> bytes:
    """``payload`` as stored (its JSON); Invalid when that is over the event limit (plus
    ADDED_BYTES).

    Measured on the encoded event (under a microsecond for a typical one): no bound from the
    size as sent holds, since the envelope is merged in, identify traits may be copied from
    ``context.traits``, and numbers may grow when re-encoded (``1e5`` becomes ``100000.0``).
    """
    stored = encode_payload_bytes(payload)
    if len(stored) > env.max_event_bytes + ADDED_BYTES:
        raise Invalid(
            f"event as stored is {len(stored)} bytes (with the request's context, integrations "
            f"and AnonymousId header); the limit is {env.max_event_bytes + ADDED_BYTES}"
        )
    return stored


def _normalise(message: dict[str, Any], index: int, route_type: str | None, env: Envelope) -> Event:
    kind = route_type or message.get("type")
    if not isinstance(kind, str) or kind not in MESSAGE_TYPES:
        if kind is None:
            raise Invalid("type is required in a batch item")
        raise Invalid(f"unknown type {kind!r}: expected one of {', '.join(sorted(MESSAGE_TYPES))}")

    payload = {k: v for k, v in message.items() if k != "writeKey"}
    for field in _OBJECT_FIELDS:
        value = payload.get(field)
        if value is not None and not isinstance(value, dict):
            raise Invalid(f"{field} must be an object, not {_json_type(value)}")

    ids = {field: _identifier(payload, field) for field in _ID_FIELDS}
    if ids["anonymousId"] is None:
        ids["anonymousId"] = _clean_header_id(env.anonymous_id_header)
    for field, value in ids.items():
        if value is not None and len(value) > env.max_id_chars:
            raise Invalid(f"{field} is longer than {env.max_id_chars} characters")
    user_id, anonymous_id = ids["userId"], ids["anonymousId"]
    message_id = _identifier(payload, "messageId") or f"hw-{uuid.uuid4()}"
    if len(message_id) > env.max_message_id_chars:
        raise Invalid(f"messageId is longer than {env.max_message_id_chars} characters")

    name = check_type_fields(kind, payload, user_id, anonymous_id)
    if name is not None and len(name) > env.max_name_chars:
        field = "event" if kind == "track" else "name"
        raise Invalid(f"{field} is longer than {env.max_name_chars} characters")

    context = _merge(env.context, payload.get("context"))
    integrations = _merge(env.integrations, payload.get("integrations"))
    if "ip" not in context and env.ip is not None and (env.client_source or _is_client(context)):
        context["ip"] = env.ip
    if kind == "identify" and payload.get("traits") is None:
        context_traits = context.get("traits")
        if isinstance(context_traits, dict):
            payload["traits"] = dict(context_traits)

    original, sent_at = _timestamps(payload, env)
    try:
        timestamp = env.received_at - (sent_at - original) if original and sent_at else original
    except OverflowError:
        raise Invalid("timestamp corrected for clock skew is out of range") from None
    timestamp = timestamp or env.received_at

    payload.update(
        type=kind,
        messageId=message_id,
        userId=user_id,
        anonymousId=anonymous_id,
        context=context,
        integrations=integrations,
        receivedAt=format_timestamp(env.received_at),
        timestamp=format_timestamp(timestamp),
    )
    if original is not None:
        payload["originalTimestamp"] = format_timestamp(original)
    if sent_at is not None:
        payload["sentAt"] = format_timestamp(sent_at)
    return Event(
        index=index,
        type=kind,
        message_id=message_id,
        user_id=user_id,
        anonymous_id=anonymous_id,
        name=name,
        timestamp=timestamp,
        received_at=env.received_at,
        payload=payload,
    )


def check_type_fields(
    kind: str, payload: dict[str, Any], user_id: str | None, anonymous_id: str | None
) -> str | None:
    """Check what each type requires; return the event, page or screen name.

    A group without ``groupId`` and an alias without ``previousId`` are kept, as RudderStack
    keeps them: they still name a person, and later stages skip what they lack.
    """
    if user_id is None and anonymous_id is None:
        raise Invalid("userId or anonymousId is required")
    if kind == "track":
        event = payload.get("event")
        if not isinstance(event, str) or not event.strip():
            raise Invalid("track requires event, a non-empty string")
        return event
    if kind in ("page", "screen"):
        name = payload.get("name")
        if name is not None and not isinstance(name, str):
            raise Invalid(f"name must be a string, not {_json_type(name)}")
        return name or None
    return None


def _identifier(payload: dict[str, Any], field: str) -> str | None:
    """Read an id: ``null`` and ``""`` mean absent; numbers become strings (written back)."""
    value = payload.get(field)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        text = str(value)
        payload[field] = text
        return text
    raise Invalid(f"{field} must be a string, not {_json_type(value)}")


def _clean_header_id(value: str | None) -> str | None:
    return value.strip() or None if value else None


def _timestamps(payload: dict[str, Any], env: Envelope) -> tuple[datetime | None, datetime | None]:
    parsed: dict[str, datetime | None] = {}
    for field in _TIMESTAMP_FIELDS:
        value = payload.get(field)
        if value is None or value == "":
            parsed[field] = None
        elif isinstance(value, str):
            try:
                parsed[field] = parse_timestamp(value)
            except ValueError as error:
                raise Invalid(f"{field}: {error}") from None
        else:
            raise Invalid(f"{field} must be an ISO-8601 string, not {_json_type(value)}")
    original = parsed["timestamp"] or parsed["originalTimestamp"]
    return original, parsed["sentAt"] or env.sent_at


def _merge(outer: dict[str, Any] | None, inner: Any) -> dict[str, Any]:
    """The batch-level object under the message's own (the message wins key by key)."""
    merged = dict(outer) if outer else {}
    if inner:
        merged.update(inner)
    return merged


def _is_client(context: dict[str, Any]) -> bool:
    library = context.get("library")
    if not isinstance(library, dict):
        return False
    name = library.get("name")
    return isinstance(name, str) and name.startswith(CLIENT_LIBRARIES)


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    if isinstance(value, dict):
        return {_without_nul(key): _without_nul(item) for key, item in value.items()}
    return value


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "null"
