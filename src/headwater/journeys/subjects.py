"""A profile as a journey's conditions see it (a split's branches): its traits, its computed
traits' values by key, the audiences it is in, and the events the conditions count.

The same :class:`~headwater.audiences.evaluate.Subject` the audience stage evaluates, so a
condition means the same in a journey as in an audience."""

from __future__ import annotations

from collections.abc import Sequence

from headwater.audiences import reads
from headwater.audiences import store as computations
from headwater.audiences.conditions import Condition, EventCondition, FunnelCondition, walk
from headwater.audiences.evaluate import EventData, Subject
from headwater.profiles import lookups
from headwater.storage import Transaction

__all__ = ["subject_of"]


async def subject_of(
    tx: Transaction, workspace_id: int, profile_id: str, conditions: Sequence[Condition]
) -> Subject:
    """``profile_id`` (a live profile) as ``conditions`` see it."""
    traits = (await lookups.live_traits(tx, [profile_id])).get(profile_id, {})
    stored = (await reads.values_of(tx, [profile_id])).get(profile_id, {})
    known = {c.id: c for c in await computations.computations(tx, workspace_id)}
    audiences = frozenset(
        known[cid].key for cid in stored if cid in known and known[cid].kind == "audience"
    )
    values = {
        known[cid].key: value
        for cid, value in stored.items()
        if cid in known and known[cid].kind == "trait"
    }
    return Subject(
        traits={**traits, **values},
        events=await _events(tx, profile_id, conditions),
        audiences=audiences,
    )


async def _events(
    tx: Transaction, profile_id: str, conditions: Sequence[Condition]
) -> list[EventData]:
    names: set[str] = set()
    for condition in conditions:
        for node in walk(condition):
            if isinstance(node, EventCondition) and node.event is not None:
                names.add(node.event)
            elif isinstance(node, FunnelCondition):
                names.update(n for n in (node.first.event, node.then.event) if n is not None)
    if not names:
        return []
    found = await reads.events_of(
        tx, [profile_id], names=sorted(names), unnamed_types=[], since=None
    )
    return found.get(profile_id, [])
