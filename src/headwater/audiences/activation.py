"""Activation payloads: audience and computed-trait changes as Segment-shaped events, the way
Segment Engage sends them to destinations. Pure functions.

An audience change becomes an ``identify`` with the trait ``{audience_key: true}`` (false on
exit) and a ``track`` named ``Audience Entered`` or ``Audience Exited`` whose properties carry
``audience_key`` and ``{audience_key: true/false}``; a computed-trait change becomes an
``identify`` with ``{trait_key: value}`` (``null`` when the value is gone). Every event names
the computation in ``context.personas`` and has a ``messageId`` derived from the change, so a
change handed over twice is queued once.

>>> change = Change(id=7, key="buyers", kind="audience", profile_id="prf_1", change="entered",
...                 value=True, at=at)
>>> [e["event"] if e["type"] == "track" else e["traits"] for e in payloads(change, identity)]
[{'buyers': True, 'email': 'ada@example.com'}, 'Audience Entered']
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = ["Change", "Identity", "payloads"]


@dataclass(frozen=True)
class Identity:
    """Who a profile is, for destinations: its first user id, newest anonymous id, email."""

    user_id: str | None = None
    anonymous_id: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class Change:
    """One row of ``audience_changes``, as activation needs it."""

    id: int
    key: str
    kind: str
    profile_id: str
    change: str
    value: Any
    at: datetime
    computation_id: int = 0


def _base(change: Change, identity: Identity, suffix: str) -> dict[str, Any]:
    when = change.at.isoformat().replace("+00:00", "Z")
    event: dict[str, Any] = {
        "messageId": f"hw-audience-change-{change.id}-{suffix}",
        "timestamp": when,
        "receivedAt": when,
        "context": {
            "personas": {
                "computation_key": change.key,
                "computation_id": str(change.computation_id),
                "computation_class": "audience" if change.kind == "audience" else "trait",
                "profile_id": change.profile_id,
            },
            "library": {"name": "headwater-audiences", "version": "1"},
        },
    }
    if identity.user_id is not None:
        event["userId"] = identity.user_id
    # Segment needs userId or anonymousId: a profile known by neither is named by its id.
    if identity.anonymous_id is not None or identity.user_id is None:
        event["anonymousId"] = identity.anonymous_id or change.profile_id
    if identity.email is not None:
        event["context"]["traits"] = {"email": identity.email}
    return event


def payloads(change: Change, identity: Identity) -> list[dict[str, Any]]:
    """The events a change sends to each of the computation's destinations."""
    if change.kind == "audience":
        member = change.change == "entered"
        value: Any = member
    else:
        value = change.value
    traits: dict[str, Any] = {change.key: value}
    if identity.email is not None:
        traits["email"] = identity.email
    identify = _base(change, identity, "identify") | {"type": "identify", "traits": traits}
    if change.kind != "audience":
        return [identify]
    track = _base(change, identity, "track") | {
        "type": "track",
        "event": "Audience Entered" if member else "Audience Exited",
        "properties": {"audience_key": change.key, change.key: member},
    }
    return [identify, track]
