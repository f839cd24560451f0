"""Profiles as journeys see them, read in bulk: a runner's turn (or a processor batch) names the
profiles it may look at, and each kind of data (live ids, traits, identifiers, computed values,
counted events) is read once for all of them, on first need, instead of once per instance.

>>> profiles = Profiles(tx, [(workspace_id, "prf_1"), (workspace_id, "prf_2")])
>>> live = await profiles.live(workspace_id, "prf_1")  # merged into another: that one
>>> await profiles.subject(workspace_id, live, [condition])  # traits, values, audiences, events

A :class:`~headwater.audiences.evaluate.Subject` is what the audience stage evaluates, so a
condition means the same in a journey as in an audience. Reads see the transaction as it was
when first asked; :meth:`Profiles.set_traits` and :meth:`Profiles.forget_values` take in a
change the turn itself made.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from headwater.audiences import reads
from headwater.audiences import store as computations
from headwater.audiences.conditions import (
    Condition,
    ConsentCondition,
    EventCondition,
    FunnelCondition,
    walk,
)
from headwater.audiences.evaluate import EventData, Subject
from headwater.profiles import lookups
from headwater.storage import Transaction

__all__ = ["Profiles"]

_IDENTITY = {"user_id": "userId", "anonymous_id": "anonymousId"}


class Profiles:
    def __init__(self, tx: Transaction, profiles: Iterable[tuple[int, str]]) -> None:
        """``profiles``: ``(workspace id, profile id)`` of everyone the caller may ask about
        (others are read one at a time)."""
        self.tx = tx
        self._asked = {profile: workspace for workspace, profile in profiles}
        self._survivors: dict[str, str] | None = None
        self._traits: dict[str, dict[str, Any]] | None = None
        self._identities: dict[str, dict[str, str]] | None = None
        self._consents: dict[str, dict[str, bool]] | None = None
        self._values: dict[str, dict[int, Any]] | None = None
        self._computations: dict[int, dict[int, computations.Computation]] = {}
        self._events: dict[frozenset[str], dict[str, list[EventData]]] = {}

    async def live(self, workspace_id: int, profile_id: str) -> str:
        """The live profile ``profile_id`` stands for (itself when it is unknown)."""
        if self._survivors is None:
            self._survivors = await lookups.survivors(self.tx, self._asked)
        if profile_id not in self._survivors:
            found = await lookups.survivor(self.tx, workspace_id, profile_id)
            self._survivors[profile_id] = found or profile_id
        return self._survivors[profile_id]

    async def traits(self, live: str) -> dict[str, Any]:
        """A live profile's traits."""
        if self._traits is None:
            self._traits = await lookups.live_traits(self.tx, await self._live_ids())
        if live not in self._traits:
            self._traits[live] = (await lookups.live_traits(self.tx, [live])).get(live, {})
        return self._traits[live]

    async def consent(self, live: str) -> dict[str, bool]:
        """A live profile's consent: category -> consented (empty before any preferences)."""
        if self._consents is None:
            self._consents = await lookups.live_consent(self.tx, await self._live_ids())
        if live not in self._consents:
            self._consents[live] = (await lookups.live_consent(self.tx, [live])).get(live, {})
        return self._consents[live]

    def set_traits(self, live: str, traits: dict[str, Any]) -> None:
        """What the profile's traits are once the caller's own change is applied."""
        if self._traits is None:
            self._traits = {}
        self._traits[live] = traits

    def forget_values(self, live: str) -> None:
        """The profile's audiences and computed values changed (the caller added it to a
        list, or removed it): read them again when next asked."""
        if self._values is not None:
            self._values.pop(live, None)

    async def identity(self, live: str) -> dict[str, str]:
        """The profile's ``userId`` and ``anonymousId`` (those it has; the newest of each)."""
        if self._identities is None:
            self._identities = await self._identified(await self._live_ids())
        if live not in self._identities:
            self._identities.update(await self._identified([live]))
        return self._identities[live]

    async def subject(
        self, workspace_id: int, live: str, conditions: Sequence[Condition]
    ) -> Subject:
        """A live profile as ``conditions`` see it: traits with computed traits' values by key,
        the audiences it is in, and the events the conditions count."""
        if self._values is None:
            self._values = await self._read_values(await self._live_ids())
        if live not in self._values:
            self._values.update(await self._read_values([live]))
        known = await self._known(workspace_id)
        stored = self._values.get(live, {})
        audiences = frozenset(
            known[cid].key for cid in stored if cid in known and known[cid].kind == "audience"
        )
        values = {
            known[cid].key: value
            for cid, value in stored.items()
            if cid in known and known[cid].kind == "trait"
        }
        return Subject(
            traits={**await self.traits(live), **values},
            events=await self._counted(live, conditions),
            audiences=audiences,
            consent=await self.consent(live) if _asks_consent(conditions) else {},
        )

    async def _live_ids(self) -> list[str]:
        if self._survivors is None:
            self._survivors = await lookups.survivors(self.tx, self._asked)
        return sorted(set(self._survivors.values()))

    async def _read_values(self, lives: Sequence[str]) -> dict[str, dict[int, Any]]:
        """Computed values of each of ``lives`` (none: an empty dict, read, not missing)."""
        return {live: {} for live in lives} | await reads.values_of(self.tx, lives)

    async def _identified(self, lives: Sequence[str]) -> dict[str, dict[str, str]]:
        found: dict[str, dict[str, str]] = {live: {} for live in lives}
        for profile, kind, value in await lookups.identifiers(self.tx, lives, tuple(_IDENTITY)):
            found[profile][_IDENTITY[kind]] = value  # oldest first: the newest wins
        return found

    async def _known(self, workspace_id: int) -> dict[int, computations.Computation]:
        if workspace_id not in self._computations:
            found = await computations.computations(self.tx, workspace_id)
            self._computations[workspace_id] = {c.id: c for c in found}
        return self._computations[workspace_id]

    async def _counted(self, live: str, conditions: Sequence[Condition]) -> list[EventData]:
        names = _counted_names(conditions)
        if not names:
            return []
        loaded = self._events.get(names)
        if loaded is None:
            loaded = await self._read_events(await self._live_ids(), names)
            self._events[names] = loaded
        if live not in loaded:
            loaded.update(await self._read_events([live], names))
        return loaded[live]

    async def _read_events(
        self, lives: Sequence[str], names: frozenset[str]
    ) -> dict[str, list[EventData]]:
        return await reads.events_of(
            self.tx, lives, names=sorted(names), unnamed_types=[], since=None
        )


def _counted_names(conditions: Sequence[Condition]) -> frozenset[str]:
    """The event names the conditions count."""
    names: set[str] = set()
    for condition in conditions:
        for node in walk(condition):
            if isinstance(node, EventCondition) and node.event is not None:
                names.add(node.event)
            elif isinstance(node, FunnelCondition):
                names.update(n for n in (node.first.event, node.then.event) if n is not None)
    return frozenset(names)


def _asks_consent(conditions: Sequence[Condition]) -> bool:
    return any(
        isinstance(node, ConsentCondition) for condition in conditions for node in walk(condition)
    )
