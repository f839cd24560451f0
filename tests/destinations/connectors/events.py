"""Segment events as a normalised pipeline hands them to connectors, for connector tests."""

from __future__ import annotations

from typing import Any

from headwater.spec import Message, message_of

TIMESTAMP = "2026-11-23T10:00:00.123Z"
EPOCH_MS = 1_795_428_000_123


def segment(kind: str, message_id: str = "m-1", **fields: Any) -> Message:
    """A normalised event of type ``kind``: messageId, timestamp, and ``fields`` as given."""
    return message_of({"type": kind, "messageId": message_id, "timestamp": TIMESTAMP, **fields})


def track(name: str = "Order Completed", message_id: str = "m-1", **fields: Any) -> Message:
    fields.setdefault("userId", "u-1")
    return segment("track", message_id, event=name, **fields)


def identify(message_id: str = "m-1", **fields: Any) -> Message:
    fields.setdefault("userId", "u-1")
    return segment("identify", message_id, **fields)
