"""What applying an event to the identity graph reports, and a profile as the graph holds it.

These are plain immutable records (msgspec Structs) that a store can persist as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import msgspec

from headwater.identity.model import EventKey, Identifier

__all__ = ["Dropped", "Merge", "Outcome", "ProfileState"]


class Dropped(msgspec.Struct, frozen=True, array_like=True):
    """An identifier of the event that was not linked, and why (``"limit user_id 1"``,
    ``"max_identifiers"``, ``"max_merges"``)."""

    identifier: Identifier
    reason: str


class Merge(msgspec.Struct, frozen=True):
    """One merge in a graph's history: ``merged`` now redirects to ``survivor``."""

    survivor: str
    merged: str
    message_id: str
    timestamp: datetime


class Outcome(msgspec.Struct, frozen=True):
    """What applying one event did.

    ``profile_id`` is ``None`` only when the event has no usable identifier. ``merged`` lists
    ``(survivor, merged_away)`` pairs; ``added`` the identifiers newly linked to the profile.
    ``replayed`` is set by :class:`~headwater.identity.incremental.IncrementalGraph` when the
    event's component was rebuilt instead (then the other fields are empty).
    """

    profile_id: str | None
    created: bool = False
    merged: tuple[tuple[str, str], ...] = ()
    added: tuple[Identifier, ...] = ()
    dropped: tuple[Dropped, ...] = ()
    replayed: bool = False


class ProfileState(msgspec.Struct, frozen=True):
    """A profile as the graph holds it: identifiers with the time each was added."""

    id: str
    identifiers: Mapping[Identifier, datetime]
    merges: int
    first_key: EventKey
    """The key of the event that created the profile."""
    last_key: EventKey
    """The key of the newest event applied to the profile."""
