"""What the profile stage applies: an event read as an identity event with the traits it
sets (an :class:`Item`), and the id a profile an event creates takes."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import msgspec

from headwater.identity import (
    Identifier,
    IdentityEvent,
    Rules,
    account_traits,
    identity_event,
    user_traits,
)
from headwater.log import LogEntry
from headwater.profiles.consent import preferences_of
from headwater.spec import Message

__all__ = ["Item", "NewIds", "consent_of", "item_of", "profile_id", "traits_of"]

_NAMESPACE = uuid.UUID("5d1c0f0e-7a43-4c8e-9a52-1f3b6c2d9e47")
_NAMESPACE_BYTES = _NAMESPACE.bytes


def profile_id(workspace_id: int, kind: str, message_id: str) -> str:
    """A stable profile id, derived from the event that created the profile: the first 24 hex
    digits of ``uuid5(_NAMESPACE, "{workspace_id}:{kind}:{message_id}")``, computed without
    building the UUID (a third of the time; the stage names many profiles)."""
    digest = bytearray(
        hashlib.sha1(_NAMESPACE_BYTES + f"{workspace_id}:{kind}:{message_id}".encode()).digest()[
            :12
        ]
    )
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    return "prf_" + digest.hex()


def traits_of(message: Message, kind: str) -> dict[str, Any]:
    """Traits a message sets on its ``kind`` (``user`` or ``account``) profile."""
    return account_traits(message)[1] if kind == "account" else user_traits(message)


def consent_of(message: Message, kind: str) -> dict[str, bool] | None:
    """The consent preferences a message sets on its ``kind`` profile: a user's only."""
    return None if kind == "account" else preferences_of(message)


class Item(msgspec.Struct):
    """An event as the stage applies it and links it: its identity reading (message id and
    timestamp included), the traits and consent preferences it sets on its profile, and what
    its link to the profile records of it (its log sequence number, source, type and name).
    An event of the batch becomes one with :func:`item_of`; a stored event a rebuild reaches,
    from its stored link (see :mod:`.rebuild`)."""

    event: IdentityEvent
    traits: dict[str, Any]
    seq: int
    source_id: int
    type: str
    name: str | None
    consent: dict[str, bool] | None = None


def item_of(entry: LogEntry, kind: str, rules: Rules) -> Item:
    """``entry`` read as a ``kind`` (``user`` or ``account``) profile's event."""
    message = entry.message
    if kind == "account":
        value, traits = account_traits(message)
        identifiers = (
            (Identifier("group_id", value),) if value and not rules.is_blocked(value) else ()
        )
        event = IdentityEvent(entry.message_id, entry.timestamp, identifiers)
        return _logged(entry, event, traits)
    event = identity_event(
        message, message_id=entry.message_id, timestamp=entry.timestamp, rules=rules
    )
    users = tuple(i for i in event.identifiers if i.type != "group_id")
    if len(users) != len(event.identifiers):
        event = IdentityEvent(event.message_id, event.timestamp, users, event.alias_previous_id)
    return _logged(entry, event, user_traits(message), preferences_of(message))


def _logged(
    entry: LogEntry,
    event: IdentityEvent,
    traits: dict[str, Any],
    consent: dict[str, bool] | None = None,
) -> Item:
    return Item(event, traits, entry.offset, entry.source_id, entry.type, entry.name, consent)


class NewIds:
    """The id of the profile an event creates, in a workspace, for a kind of profile."""

    def __init__(self, workspace_id: int, kind: str) -> None:
        self.workspace_id, self.kind = workspace_id, kind

    def __call__(self, event: IdentityEvent) -> str:
        return profile_id(self.workspace_id, self.kind, event.message_id)
