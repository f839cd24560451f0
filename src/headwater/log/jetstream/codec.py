"""What one JetStream message of the log holds, and the :class:`LogEntry` read back from it.

A message's body is one JSON array, ``[workspace_id, source_id, payload]``, with the normalised
payload as collection encoded it: the same bytes the PostgreSQL log stores. The indexed fields
of an entry (``message_id``, ``type``, ``name``, the user's ids, the two times) are derived
from the payload as the PostgreSQL log's append statement derives its columns, so an entry
read from JetStream equals the one read from the index in PostgreSQL.

>>> body = encode(record)
>>> decode(body, partition=3, offset=42).offset
42
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from headwater.log.base import LogEntry, LogRecord
from headwater.spec import decode_message, encode_payload_bytes

__all__ = ["decode", "encode", "payload_of"]


class _Indexed(msgspec.Struct, frozen=True):
    """The payload's fields that an entry carries beside its message (others are ignored),
    under their names in Segment's spec."""

    type: str
    messageId: str
    timestamp: datetime
    receivedAt: datetime
    event: str | None = None
    name: str | None = None
    userId: str | None = None
    anonymousId: str | None = None


_envelope = msgspec.json.Decoder(tuple[int, int, msgspec.Raw])
_indexed = msgspec.json.Decoder(_Indexed)


def encode(record: LogRecord) -> bytes:
    """The body of ``record``'s message."""
    payload = encode_payload_bytes(record.event.payload)
    return b"[%d,%d,%s]" % (record.workspace_id, record.source_id, payload)


def payload_of(body: bytes) -> tuple[int, int, bytes]:
    """A body's workspace, source and payload (the payload's JSON bytes, as appended)."""
    workspace_id, source_id, payload = _envelope.decode(body)
    return workspace_id, source_id, bytes(payload)


def decode(body: bytes, *, partition: int, offset: int) -> LogEntry:
    """The entry a message's body holds, at ``offset`` (its stream sequence) of ``partition``."""
    workspace_id, source_id, payload = _envelope.decode(body)
    fields = _indexed.decode(payload)
    name = None
    if fields.type == "track":
        name = fields.event
    elif fields.type in ("page", "screen"):
        name = fields.name or None
    return LogEntry(
        partition=partition,
        offset=offset,
        workspace_id=workspace_id,
        source_id=source_id,
        message_id=fields.messageId,
        type=fields.type,
        name=name,
        user_id=fields.userId,
        anonymous_id=fields.anonymousId,
        timestamp=fields.timestamp,
        received_at=fields.receivedAt,
        message=decode_message(payload),
    )
