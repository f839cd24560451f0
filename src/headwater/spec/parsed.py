"""The typed results of parsing: an accepted :class:`Event` or a :class:`Rejection`.

Past the tracking API's edge no code handles raw request dicts: it handles these. An event's
``payload`` is the normalised Segment message as stored, with Segment's field names.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

import msgspec

__all__ = [
    "MESSAGE_TYPES",
    "SHORT_TYPES",
    "Event",
    "Rejection",
    "encode_payload",
    "encode_payload_bytes",
    "payload_object",
]

MESSAGE_TYPES: Final = frozenset({"identify", "track", "page", "screen", "group", "alias"})

# analytics.js 2.0 posts to one-letter paths.
SHORT_TYPES: Final = {
    "i": "identify",
    "t": "track",
    "p": "page",
    "s": "screen",
    "g": "group",
    "a": "alias",
}


class Event(msgspec.Struct, frozen=True, kw_only=True):
    """A valid, normalised message, ready to be appended to the event log."""

    index: int = 0
    """Position in the request's batch (0 for single-event routes)."""
    type: str
    message_id: str
    user_id: str | None
    anonymous_id: str | None
    name: str | None
    """The track event name, or the page or screen name."""
    timestamp: datetime
    received_at: datetime
    payload: dict[str, Any] | msgspec.Raw
    """The normalised message; already encoded as JSON (a :class:`msgspec.Raw`) when it was
    made in another process and nothing reads it before the log (a file import's, with no PII
    rule to apply): the log stores it as it is, and :func:`payload_object` decodes it."""

    @property
    def partition_key(self) -> str:
        """The key that orders one person's events: the userId, else the anonymousId."""
        return self.user_id or self.anonymous_id or self.message_id


class Rejection(msgspec.Struct, frozen=True, kw_only=True):
    """An invalid message, kept with the reason so that nothing is dropped silently."""

    index: int
    """Position in the request's batch (0 for single-event routes)."""
    reason: str
    type: str | None = None
    message_id: str | None = None
    payload: Any = None
    """The message as received (truncated when it was too large to keep whole)."""
    count: int = 1
    """How many messages it records: more than one only for the items past a batch's limit,
    recorded once (with the first one's excerpt)."""


_encoder = msgspec.json.Encoder()


def encode_payload(payload: Any) -> str:
    """A payload as JSON text, the form the database receives it in."""
    return _encoder.encode(payload).decode()


def encode_payload_bytes(payload: Any) -> bytes:
    """A payload as UTF-8 JSON, for building larger documents without decoding."""
    return _encoder.encode(payload)


_decoder = msgspec.json.Decoder(dict[str, Any])


def payload_object(event: Event) -> dict[str, Any]:
    """``event``'s payload as a dict, decoded when it came encoded."""
    payload = event.payload
    return payload if isinstance(payload, dict) else _decoder.decode(payload)
