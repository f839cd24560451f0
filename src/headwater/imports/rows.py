"""From a batch of read rows to numbered Segment messages and the row errors: pure.

>>> prepared = prepare(batch, first=1, plan=plan)
>>> prepared.messages   # [(row number, message with its messageId), ...]
>>> prepared.errors     # [RowError(row, column, message), ...] for the rows refused

A rejection of the tracking API's normalisation reads ``"userId is longer than 512
characters"``: :func:`column_of` names the mapped column it is about, so a row error always
says which column to fix when one is at fault.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

import msgspec

from headwater.imports.mapping import (
    ImportKind,
    Mapping,
    RowError,
    message_ids,
    to_message,
)
from headwater.imports.reader import BadRow, Row
from headwater.imports.views import RowErrorView
from headwater.spec import Envelope, Event, Rejection, encode_payload_bytes, normalise_flat

__all__ = [
    "Normalised",
    "Plan",
    "Prepared",
    "column_of",
    "error_view",
    "normalised",
    "packed",
    "prepare",
    "rejection",
    "row_error",
    "unpacked",
]


class Plan(msgspec.Struct, frozen=True, kw_only=True):
    """What turns a file's rows into messages: the workspace, kind and mapping (all three
    part of each row's messageId), and whether cells are CSV text to be typed."""

    workspace_id: int
    kind: ImportKind
    mapping: Mapping
    typed_cells: bool


class Prepared(msgspec.Struct, frozen=True):
    messages: list[tuple[int, dict[str, Any]]]
    errors: list[RowError]
    rows: int


def prepare(batch: list[Row], *, first: int, plan: Plan) -> Prepared:
    """Number the rows of ``batch`` from ``first``; map each to its message or its error."""
    messages: list[tuple[int, dict[str, Any]]] = []
    errors: list[RowError] = []
    message_id = message_ids(workspace_id=plan.workspace_id, kind=plan.kind, mapping=plan.mapping)
    for number, row in enumerate(batch, start=first):
        if isinstance(row, BadRow):
            errors.append(RowError(number, None, f"row {row.reason}"))
            continue
        message = to_message(
            row, kind=plan.kind, mapping=plan.mapping, typed_cells=plan.typed_cells, number=number
        )
        if isinstance(message, RowError):
            errors.append(message)
            continue
        message["messageId"] = message_id(message, row)
        messages.append((number, message))
    return Prepared(messages, errors, len(batch))


class Normalised(msgspec.Struct, frozen=True):
    """A batch mapped and normalised: its rows' count, the rows refused by the mapping, and
    the mapped rows' normalisation: the events, and the rejections indexed by row number
    (both in row order)."""

    rows: int
    errors: list[RowError]
    events: list[Event]
    rejections: list[Rejection]


def normalised(batch: list[Row], *, first: int, plan: Plan, envelope: Envelope) -> Normalised:
    """:func:`prepare`, then the tracking API's normalisation of each message with
    ``envelope`` (:meth:`Collector.server_envelope`; :func:`normalise_flat`, which answers
    as :func:`normalise` does): pure, so a worker process can run it while the server
    commits the batch before. The PII rules are the collector's to apply
    (:meth:`Collector.governed`)."""
    prepared = prepare(batch, first=first, plan=plan)
    events: list[Event] = []
    rejections: list[Rejection] = []
    for number, message in prepared.messages:
        result = normalise_flat(message, index=number, envelope=envelope)
        if isinstance(result, Event):
            events.append(result)
        else:
            rejections.append(result)
    return Normalised(prepared.rows, prepared.errors, events, rejections)


class _Sent(msgspec.Struct, array_like=True, frozen=True):
    """An event as the worker process sends it: its payload as the log stores it (JSON), so
    that the server neither decodes it nor encodes it again; its ``received_at`` the batch's,
    which the server knows."""

    index: int
    type: str
    message_id: str
    user_id: str | None
    anonymous_id: str | None
    name: str | None
    timestamp: datetime
    payload: bytes


class _Batch(msgspec.Struct, array_like=True, frozen=True):
    rows: int
    errors: list[RowError]
    events: list[_Sent]
    rejections: list[Rejection]


def _sent(event: Event) -> _Sent:
    payload = event.payload
    return _Sent(
        event.index,
        event.type,
        event.message_id,
        event.user_id,
        event.anonymous_id,
        event.name,
        event.timestamp,
        bytes(payload) if isinstance(payload, msgspec.Raw) else encode_payload_bytes(payload),
    )


def _received(sent: _Sent, received_at: datetime) -> Event:
    return Event(
        index=sent.index,
        type=sent.type,
        message_id=sent.message_id,
        user_id=sent.user_id,
        anonymous_id=sent.anonymous_id,
        name=sent.name,
        timestamp=sent.timestamp,
        received_at=received_at,
        payload=msgspec.Raw(sent.payload),
    )


_packer = msgspec.msgpack.Encoder()
_unpacker = msgspec.msgpack.Decoder(_Batch)


def packed(batch: list[Row], *, first: int, plan: Plan, envelope: Envelope) -> bytes | Normalised:
    """:func:`normalised` as MessagePack, for a worker process to send back: a sixth of
    pickle's cost on both sides for events, the payloads sent as their JSON. A batch
    MessagePack cannot carry (an integer beyond 64 bits in a JSON Lines file) comes back as
    it is, pickled."""
    made = normalised(batch, first=first, plan=plan, envelope=envelope)
    try:
        return _packer.encode(
            _Batch(made.rows, made.errors, [_sent(e) for e in made.events], made.rejections)
        )
    except OverflowError:
        return made


def unpacked(made: bytes | Normalised, *, received_at: datetime) -> Normalised:
    """What :func:`packed` sent, for the batch ``received_at`` (the envelope's)."""
    if isinstance(made, Normalised):
        return made
    batch = _unpacker.decode(made)
    events = [_received(sent, received_at) for sent in batch.events]
    return Normalised(batch.rows, batch.errors, events, batch.rejections)


_FIELD_PREFIXES: Final = (
    ("userId", "user_id"),
    ("anonymousId", "anonymous_id"),
    ("groupId", "group_id"),
    ("event", "event"),
    ("timestamp", "timestamp"),
)


def column_of(reason: str, mapping: Mapping) -> str | None:
    """The mapped column a normalisation reason is about, or None (the row as a whole)."""
    for field, attribute in _FIELD_PREFIXES:
        if reason.startswith(field):
            column: str | None = getattr(mapping, attribute)
            return column
    return None


def rejection(error: RowError, job_id: int, kind: str) -> Rejection:
    """A row refused before normalisation, as the source's rejections record it."""
    column = f", column {error.column}" if error.column else ""
    return Rejection(
        index=error.row,
        reason=f"import {job_id}, row {error.row}{column}: {error.message}",
        type=kind,
    )


def row_error(refused: Rejection, mapping: Mapping) -> RowError:
    """A normalisation's rejection of a row (its index the row's number) as a row error."""
    return RowError(refused.index, column_of(refused.reason, mapping), refused.reason)


def error_view(error: RowError) -> RowErrorView:
    return {"row": error.row, "column": error.column, "message": error.message}
