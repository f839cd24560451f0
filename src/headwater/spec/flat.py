"""A fast path of :func:`~headwater.spec.normalise.normalise` for the messages a file import
makes: one fixed, flat shape (ids and names already text, one object of fields, no context),
so that most of what the general normalisation checks cannot fail and is not checked again.

>>> normalise_flat({"type": "track", "userId": "u1", "event": "Bought", "properties": {},
...                 "messageId": "imp-1"}, index=1, envelope=Envelope(received_at=now))
Event(index=1, type='track', ...)   # what normalise(..., route_type=None) answers, the
                                    # payload already JSON (msgspec.Raw)

Anything else is handed to :func:`~headwater.spec.normalise.normalise`, so the answer is the
general one's for every message (``tests/imports/test_fast_path.py`` compares them).
"""

from __future__ import annotations

from typing import Any, Final

import msgspec

from headwater.spec.normalise import (
    Envelope,
    Invalid,
    capped,
    check_type_fields,
    normalise,
    stored_json,
)
from headwater.spec.parsed import MESSAGE_TYPES, Event, Rejection
from headwater.spec.timestamps import format_timestamp, parse_timestamp

__all__ = ["normalise_flat"]


def _bare(envelope: Envelope) -> bool:
    """Whether ``envelope`` adds nothing to a message (no context, integrations, sentAt, IP
    or ``AnonymousId`` header): a server's, which :func:`normalise_flat` takes."""
    return (
        envelope.context is None
        and envelope.integrations is None
        and envelope.sent_at is None
        and envelope.ip is None
        and envelope.anonymous_id_header is None
    )


def normalise_flat(message: dict[str, Any], *, index: int, envelope: Envelope) -> Event | Rejection:
    """:func:`normalise` (for a batch item, without ``clean_nul``) of a message of the one
    shape a file import makes, in about three quarters of its time: ``type`` one of
    Segment's, ``userId``, ``anonymousId`` and ``groupId`` non-empty strings or absent,
    ``event`` a string or absent, ``timestamp`` a non-empty string or absent, ``properties``
    or ``traits`` an object, a non-empty string ``messageId``, and no other field; with a
    :func:`_bare` envelope.

    The same event or rejection as :func:`normalise` for such a message (what it would check
    and cannot fail here is not checked: object fields, ids' types, clock skew), the event's
    payload as the JSON its size was measured on (the log's form: a worker process sends it
    on without encoding it again); any other message or envelope is passed to
    :func:`normalise`.
    """
    if not (_bare(envelope) and _flat(message)):
        return normalise(message, index=index, route_type=None, envelope=envelope)
    kind = message["type"]
    user_id = message.get("userId")
    anonymous_id = message.get("anonymousId")
    message_id = message["messageId"]
    try:
        if kind not in MESSAGE_TYPES:
            raise Invalid(
                f"unknown type {kind!r}: expected one of {', '.join(sorted(MESSAGE_TYPES))}"
            )
        for field in ("userId", "anonymousId", "groupId"):
            value = message.get(field)
            if value is not None and len(value) > envelope.max_id_chars:
                raise Invalid(f"{field} is longer than {envelope.max_id_chars} characters")
        if len(message_id) > envelope.max_message_id_chars:
            raise Invalid(f"messageId is longer than {envelope.max_message_id_chars} characters")
        payload = dict(message)
        name = check_type_fields(kind, payload, user_id, anonymous_id)
        if name is not None and len(name) > envelope.max_name_chars:
            field = "event" if kind == "track" else "name"
            raise Invalid(f"{field} is longer than {envelope.max_name_chars} characters")
        stamp = message.get("timestamp")
        try:
            original = parse_timestamp(stamp) if stamp is not None else None
        except ValueError as error:
            raise Invalid(f"timestamp: {error}") from None
        payload.update(
            type=kind,
            messageId=message_id,
            userId=user_id,
            anonymousId=anonymous_id,
            context={},
            integrations={},
            receivedAt=format_timestamp(envelope.received_at),
            timestamp=format_timestamp(original or envelope.received_at),
        )
        if original is not None:
            payload["originalTimestamp"] = format_timestamp(original)
        encoded = stored_json(payload, envelope)
    except Invalid as error:
        return Rejection(
            index=index,
            reason=str(error),
            type=capped(kind, envelope.max_name_chars),
            message_id=capped(message_id, envelope.max_id_chars),
            payload=message,
        )
    return Event(
        index=index,
        type=kind,
        message_id=message_id,
        user_id=user_id,
        anonymous_id=anonymous_id,
        name=name,
        timestamp=original or envelope.received_at,
        received_at=envelope.received_at,
        payload=msgspec.Raw(encoded),
    )


_FLAT_TEXT: Final = ("userId", "anonymousId", "groupId", "event", "timestamp")
_FLAT_FIELDS: Final = frozenset({*_FLAT_TEXT, "type", "messageId", "properties", "traits"})


def _flat(message: dict[str, Any]) -> bool:
    """Whether ``message`` has the shape :func:`normalise_flat` takes."""
    if not message.keys() <= _FLAT_FIELDS:
        return False
    for field in _FLAT_TEXT:
        value = message.get(field, "-")
        if not isinstance(value, str) or not value:
            return False
    objects = message.get("properties", {}), message.get("traits", {})
    kind, message_id = message.get("type"), message.get("messageId")
    return (
        isinstance(objects[0], dict)
        and isinstance(objects[1], dict)
        and isinstance(kind, str)
        and isinstance(message_id, str)
        and bool(message_id)
    )
