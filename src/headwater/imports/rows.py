"""From a batch of read rows to numbered Segment messages and the row errors: pure.

>>> prepared = prepare(batch, first=1, plan=plan)
>>> prepared.messages   # [(row number, message with its messageId), ...]
>>> prepared.errors     # [RowError(row, column, message), ...] for the rows refused

A rejection of the tracking API's normalisation reads ``"userId is longer than 512
characters"``: :func:`column_of` names the mapped column it is about, so a row error always
says which column to fix when one is at fault.
"""

from __future__ import annotations

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
from headwater.spec import Envelope, Event, Rejection, normalise_flat

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


_packer = msgspec.msgpack.Encoder()
_unpacker = msgspec.msgpack.Decoder(Normalised)


def packed(batch: list[Row], *, first: int, plan: Plan, envelope: Envelope) -> bytes | Normalised:
    """:func:`normalised` as MessagePack, for a worker process to send back: a sixth of
    pickle's cost on both sides for events. A batch MessagePack cannot carry (an integer
    beyond 64 bits in a JSON Lines file) comes back as it is, pickled."""
    made = normalised(batch, first=first, plan=plan, envelope=envelope)
    try:
        return _packer.encode(made)
    except OverflowError:
        return made


def unpacked(made: bytes | Normalised) -> Normalised:
    """What :func:`packed` sent."""
    return made if isinstance(made, Normalised) else _unpacker.decode(made)


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
