"""Small constructors that keep the identity tests readable (plain functions, no fixtures)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from headwater.identity import Graph, Identifier, IdentityEvent

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
