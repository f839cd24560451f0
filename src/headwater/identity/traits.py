"""Last-write-wins trait merging, per top-level trait, by event time.

Each trait remembers the event that set it. An incoming value replaces the stored one only if
its event is later in canonical order ``(timestamp, message_id)``, so a late, older event never
overwrites a newer value, and the result does not depend on the order updates arrive in:
merging is commutative, associative and idempotent. A nested object is one value: an
``address`` is replaced whole, not field by field. ``None`` is a value like any other (a trait
explicitly cleared stays cleared against older updates).

    >>> from datetime import UTC, datetime
    >>> t1, t2 = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)
    >>> traits = merge_traits({}, {"plan": "pro"}, timestamp=t2, message_id="m2")
    >>> traits = merge_traits(traits, {"plan": "free", "name": "Jane"}, timestamp=t1,
    ...                       message_id="m1")
    >>> plain(traits)
    {'plan': 'pro', 'name': 'Jane'}
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import msgspec

__all__ = ["TraitValue", "merge_profiles", "merge_traits", "plain"]


class TraitValue(msgspec.Struct, frozen=True):
    """A trait's value and the event that set it (``updated_at`` is timezone-aware)."""

    value: Any
    updated_at: datetime
    message_id: str

    def newer_than(self, other: TraitValue) -> bool:
        """Whether this value wins over ``other``: a later ``(updated_at, message_id)``; the
        rare tie (one message id seen with two values) goes to the greater value's JSON, so
        that even then the order of arrival does not matter."""
        mine, theirs = (self.updated_at, self.message_id), (other.updated_at, other.message_id)
        if mine != theirs:
            return mine > theirs
        return _sortable(self.value) > _sortable(other.value)


def merge_traits(
    current: Mapping[str, TraitValue],
    incoming: Mapping[str, Any],
    *,
    timestamp: datetime,
    message_id: str,
) -> dict[str, TraitValue]:
    """``current`` updated with one event's traits; ``current`` itself is not changed."""
    result = dict(current)
    for key, value in incoming.items():
        candidate = TraitValue(value, timestamp, message_id)
        stored = result.get(key)
        if stored is None or candidate.newer_than(stored):
            result[key] = candidate
    return result


def merge_profiles(
    a: Mapping[str, TraitValue], b: Mapping[str, TraitValue]
) -> dict[str, TraitValue]:
    """The traits of two merged profiles: per key, the newer value.

    >>> from datetime import UTC, datetime
    >>> old = TraitValue("free", datetime(2026, 1, 1, tzinfo=UTC), "m1")
    >>> new = TraitValue("pro", datetime(2026, 1, 2, tzinfo=UTC), "m2")
    >>> plain(merge_profiles({"plan": new}, {"plan": old})) == {"plan": "pro"}
    True
    """
    result = dict(a)
    for key, value in b.items():
        stored = result.get(key)
        if stored is None or value.newer_than(stored):
            result[key] = value
    return result


def plain(traits: Mapping[str, TraitValue]) -> dict[str, Any]:
    """The values alone, as a profile's traits are shown."""
    return {key: trait.value for key, trait in traits.items()}


_encoder = msgspec.json.Encoder(order="sorted")


def _sortable(value: Any) -> bytes:
    try:
        return _encoder.encode(value)
    except (TypeError, ValueError, OverflowError):
        return repr(value).encode()
