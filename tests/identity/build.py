"""Small constructors that keep the identity tests readable (plain functions, no fixtures)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from headwater.identity import Graph, Identifier, IdentityEvent, Rules
from headwater.identity import extract as extract_from
from headwater.identity import identity_event as identity_event_of
from headwater.spec import MESSAGE_TYPES, InvalidMessage, Message, message_of

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def uid(value: str) -> Identifier:
    return Identifier("user_id", value)


def anon(value: str) -> Identifier:
    return Identifier("anonymous_id", value)


def email(value: str) -> Identifier:
    return Identifier("email", value)


def event(
    message_id: str,
    minute: float,
    *identifiers: Identifier,
    previous: str | None = None,
) -> IdentityEvent:
    """An event ``minute`` minutes after T0."""
    return IdentityEvent(
        message_id=message_id,
        timestamp=T0 + timedelta(minutes=minute),
        identifiers=tuple(identifiers),
        alias_previous_id=previous,
    )


def new_id(e: IdentityEvent) -> str:
    return "p-" + e.message_id


def partition(graph: Graph) -> set[frozenset[Identifier]]:
    """The profiles as a set of identifier sets (ids aside)."""
    return set(graph.profiles().values())


def profiles(*groups: Iterable[Identifier]) -> set[frozenset[Identifier]]:
    return {frozenset(group) for group in groups}


def message(payload: Any) -> Message | None:
    """``payload`` as a message (an identify when it names no valid type, as the identity
    rules read any call alike); None when it is no JSON object."""
    if not isinstance(payload, dict):
        return None
    kind = payload.get("type")
    valid = isinstance(kind, str) and kind in MESSAGE_TYPES
    typed = {**payload, "type": kind if valid else "identify"}
    try:
        return message_of(typed)
    except InvalidMessage:  # a track without its event
        return message_of({**typed, "type": "identify"})


def extract(payload: Any, rules: Rules) -> tuple[Identifier, ...]:
    """The identifiers of ``payload`` read as a message; none for what is no JSON object."""
    found = message(payload)
    return () if found is None else extract_from(found, rules)


def identity_event(
    payload: Any, *, message_id: str, timestamp: datetime, rules: Rules
) -> IdentityEvent:
    """The identity event of ``payload`` read as a message (see :func:`message`)."""
    found = message(payload)
    if found is None:
        return IdentityEvent(message_id, timestamp, ())
    return identity_event_of(found, message_id=message_id, timestamp=timestamp, rules=rules)
