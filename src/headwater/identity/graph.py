"""The identity graph and Segment's sequential matching algorithm, in memory and without I/O.

For each event, in order: find the profiles owning any of its identifiers.

- none: create a profile with them;
- one: add the identifiers it lacks;
- several: merge them into the profile whose first event is the oldest, then add the rest.

Before committing, the rules are checked. When a limit per type (or, for a merge, a cap on
identifiers or merges) would break, the event's lowest-priority identifier is dropped and the
match is tried again, so a new user_id arriving with a known email makes a new profile. An
event never carries more identifiers of one type than its limit: the extra ones, last in
order, are dropped first. When only ``max_identifiers`` stops a single profile from growing,
the event still resolves to it: the identifiers that do not fit are dropped, strongest kept.

:func:`resolve` applies events in canonical order ``(timestamp, message_id)``; that result is
*the* graph of a set of events, whatever the order they arrived in. Profile ids come from
``new_id(event)`` of the event that created the profile, so they are deterministic too::

    >>> from datetime import UTC, datetime
    >>> t = datetime(2026, 1, 1, tzinfo=UTC)
    >>> events = [
    ...     IdentityEvent("m1", t, (Identifier("anonymous_id", "a1"),)),
    ...     IdentityEvent("m2", t, (Identifier("user_id", "u1"), Identifier("anonymous_id", "a1"))),
    ... ]
    >>> graph = resolve(events, Rules.default(), lambda event: "p-" + event.message_id)
    >>> graph.profiles() == {"p-m1": {("user_id", "u1"), ("anonymous_id", "a1")}}
    True
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime

from headwater.identity.model import EventKey, Identifier, IdentityEvent, Rules
from headwater.identity.outcome import Dropped, Merge, Outcome, ProfileState

__all__ = [
    "Dropped",
    "Graph",
    "Merge",
    "NewId",
    "Outcome",
    "ProfileState",
    "component_events",
    "resolve",
]

NewId = Callable[[IdentityEvent], str]
"""Names a new profile after the event that creates it; must depend on the event only."""


class _Profile:
    __slots__ = ("first_key", "id", "identifiers", "last_key", "merges")

    def __init__(self, profile_id: str, first_key: EventKey) -> None:
        self.id = profile_id
        self.identifiers: dict[Identifier, datetime] = {}
        self.merges = 0
        self.first_key = first_key
        self.last_key = first_key


class Graph:
    """Profiles, the identifiers each owns, and redirects from merged-away profile ids.

    A graph is mutable: :meth:`apply` changes it. Load stored profiles with :meth:`load`.
    """

    def __init__(self) -> None:
        self._profiles: dict[str, _Profile] = {}
        self._owners: dict[Identifier, str] = {}
        self._seen: dict[Identifier, EventKey] = {}
        self._assigned: dict[str, str | None] = {}
        """Message id -> the profile it was applied to (``None``: it had no identifier)."""
        self.redirects: dict[str, str] = {}
        """Merged-away profile id -> the profile it was merged into (maybe itself merged)."""
        self.history: list[Merge] = []

    # reads

    def owner(self, identifier: Identifier) -> str | None:
        """The profile id owning ``identifier``, if any."""
        return self._owners.get(identifier)

    def is_live(self, profile_id: str) -> bool:
        """Whether ``profile_id`` is a live profile (not merged away, not unknown)."""
        return profile_id in self._profiles

    def identifiers_of(self, profile_id: str) -> Mapping[Identifier, datetime]:
        """A live profile's identifiers with the time each was added (not a copy: read it
        before the graph changes again)."""
        return self._profiles[profile_id].identifiers

    def merges_of(self, profile_id: str) -> int:
        """How many merges a live profile has absorbed."""
        return self._profiles[profile_id].merges

    def profiles(self) -> dict[str, frozenset[Identifier]]:
        """Every live profile id with its identifiers."""
        return {pid: frozenset(p.identifiers) for pid, p in self._profiles.items()}

    def profile(self, profile_id: str) -> ProfileState | None:
        """One live profile (merged-away ids are followed), or ``None``."""
        live = self.resolve_id(profile_id)
        if live is None:
            return None
        p = self._profiles[live]
        return ProfileState(p.id, dict(p.identifiers), p.merges, p.first_key, p.last_key)

    def resolve_id(self, profile_id: str) -> str | None:
        """The live profile ``profile_id`` is or was merged into; ``None`` if unknown."""
        if profile_id not in self.redirects:  # the common case: a live id
            return profile_id if profile_id in self._profiles else None
        seen = set()
        while profile_id in self.redirects and profile_id not in seen:
            seen.add(profile_id)
            profile_id = self.redirects[profile_id]
        return profile_id if profile_id in self._profiles else None

    def profile_of(self, message_id: str) -> str | None:
        """The live profile an applied event belongs to now."""
        assigned = self._assigned.get(message_id)
        return None if assigned is None else self.resolve_id(assigned)

    def newest_key(self, identifiers: Iterable[Identifier]) -> EventKey | None:
        """The newest event that mentioned any of ``identifiers`` or was applied to a profile
        owning one. An event older than this cannot be applied on top: its component must be
        replayed in canonical order (see :class:`~headwater.identity.incremental.IncrementalGraph`).
        """
        keys = []
        for identifier in identifiers:
            if identifier in self._seen:
                keys.append(self._seen[identifier])
            owner = self._owners.get(identifier)
            if owner is not None:
                keys.append(self._profiles[owner].last_key)
        return max(keys, default=None)

    # writes

    def load(self, profile: ProfileState) -> None:
        """Add a stored profile; its identifiers count as seen at its ``last_key``."""
        if profile.id in self._profiles or profile.id in self.redirects:
            raise ValueError(f"profile {profile.id!r} is already in the graph")
        p = _Profile(profile.id, profile.first_key)
        p.last_key, p.merges = profile.last_key, profile.merges
        for identifier, added in profile.identifiers.items():
            if identifier in self._owners:
                raise ValueError(f"{identifier} already belongs to {self._owners[identifier]!r}")
            p.identifiers[identifier] = added
            self._owners[identifier] = p.id
            self._seen[identifier] = max(self._seen.get(identifier, p.last_key), p.last_key)
        self._profiles[p.id] = p

    def mark_seen(self, seen: Mapping[Identifier, EventKey]) -> None:
        """Record stored "newest event that mentioned this identifier" keys, for identifiers
        that were dropped or that no loaded profile owns; :meth:`newest_key` needs them."""
        for identifier, key in seen.items():
            self._seen[identifier] = max(self._seen.get(identifier, key), key)

    def apply(self, event: IdentityEvent, rules: Rules, new_id: NewId) -> Outcome:
        """Resolve one event, changing the graph; applying an event twice changes nothing."""
        if event.message_id in self._assigned:
            return Outcome(self.profile_of(event.message_id))
        known = self._known(event, rules)
        if known is not None:
            return known
        dropped: list[Dropped] = []
        candidates = self._candidates(event, rules, dropped)
        while True:
            owners = self._owners_of(candidates)
            reason = self._breaks(owners, candidates, event.timestamp, rules)
            if reason is None or len(candidates) <= 1:
                break
            dropped.append(Dropped(candidates.pop(), reason))
        for identifier in event.mentions:
            self._seen[identifier] = max(self._seen.get(identifier, event.key), event.key)
        if not candidates:
            self._assigned[event.message_id] = None
            return Outcome(None, dropped=tuple(dropped))
        created = not owners
        if created:
            profile_id = new_id(event)
            if profile_id in self._profiles or profile_id in self.redirects:
                raise ValueError(f"new_id gave {profile_id!r}, an id already in use")
            self._profiles[profile_id] = _Profile(profile_id, event.key)
            owners = [self._profiles[profile_id]]
        survivor, merged = self._merge(owners, event)
        survivor.last_key = max(survivor.last_key, event.key)
        added = self._add(survivor, candidates, event.timestamp, rules, dropped)
        self._assigned[event.message_id] = survivor.id
        return Outcome(survivor.id, created, merged, added, tuple(dropped))

    def replace(self, message_ids: Iterable[str], other: Graph) -> None:
        """Swap the profiles holding ``message_ids`` for ``other``'s whole content.

        ``message_ids`` must be a closed component (:func:`component_events`) and ``other``
        the graph resolved from exactly those events; ``other`` must not be used afterwards.
        """
        message_ids = set(message_ids)
        stale = {self.profile_of(m) for m in message_ids} - {None}
        for pid in stale:
            for identifier in self._profiles.pop(str(pid)).identifiers:
                del self._owners[identifier]
        self.redirects = {
            old: new for old, new in self.redirects.items() if self.resolve_id(old) is not None
        }
        for m in message_ids:
            self._assigned.pop(m, None)
        self.history = [h for h in self.history if h.message_id not in message_ids]
        self._profiles.update(other._profiles)
        self._owners.update(other._owners)
        self._seen.update(other._seen)
        self._assigned.update(other._assigned)
        self.redirects.update(other.redirects)
        self.history.extend(other.history)

    # the algorithm's steps

    def _known(self, event: IdentityEvent, rules: Rules) -> Outcome | None:
        """The common event, applied without the general steps: every identifier already
        belongs to one profile, no two share a type, and there is no alias. Then nothing is
        dropped, added or merged (the general steps would find the one owner, no new
        identifier and so nothing to check); only the profile's last event and the
        identifiers' newest mention move. ``None`` for any other event."""
        identifiers = event.identifiers
        if event.alias_previous_id is not None or not identifiers:
            return None
        owners = self._owners
        owner = owners.get(identifiers[0])
        if owner is None:
            return None
        if len(identifiers) > 1:
            if len(identifiers) > rules.max_identifiers:
                return None
            if len({i.type for i in identifiers}) != len(identifiers):
                return None
            for identifier in identifiers:
                if owners.get(identifier) != owner:
                    return None
        key = event.key
        seen = self._seen
        for identifier in identifiers:
            newest = seen.get(identifier)
            if newest is None or newest < key:
                seen[identifier] = key
        profile = self._profiles[owner]
        if profile.last_key < key:
            profile.last_key = key
        self._assigned[event.message_id] = owner
        return Outcome(owner)

    def _candidates(
        self, event: IdentityEvent, rules: Rules, dropped: list[Dropped]
    ) -> list[Identifier]:
        """The event's identifiers by priority, an alias's previousId included (after the
        event's own identifiers of its type), trimmed to each type's limit and to
        ``max_identifiers``."""
        ordered = list(rules.order(event.identifiers))
        previous = event.alias_previous_id
        if previous is not None and not rules.is_blocked(previous):
            # A known user_id first, else the anonymous_id (known or not), as Segment reads it.
            linked = Identifier("user_id", previous)
            if linked not in self._owners:
                linked = Identifier("anonymous_id", previous)
            if linked not in ordered:
                ordered.append(linked)
                ordered.sort(key=lambda i: (rules.rank(i.type), i == linked, i.value))
        kept: list[Identifier] = []
        per_type: Counter[str] = Counter()
        for identifier in ordered:
            limit = rules.limit(identifier.type).max
            if per_type[identifier.type] >= limit:
                dropped.append(Dropped(identifier, f"limit {identifier.type} {limit}"))
            elif len(kept) >= rules.max_identifiers:
                dropped.append(Dropped(identifier, "max_identifiers"))
            else:
                per_type[identifier.type] += 1
                kept.append(identifier)
        return kept

    def _owners_of(self, candidates: list[Identifier]) -> list[_Profile]:
        """The distinct profiles owning any candidate, the oldest (the survivor) first."""
        ids = {self._owners[c] for c in candidates if c in self._owners}
        return sorted((self._profiles[i] for i in ids), key=lambda p: (p.first_key, p.id))

    def _breaks(
        self, owners: list[_Profile], candidates: list[Identifier], at: datetime, rules: Rules
    ) -> str | None:
        """Why linking ``candidates`` to ``owners`` would break the rules, or ``None``."""
        new = [c for c in candidates if c not in self._owners]
        if not owners or (len(owners) == 1 and not new):
            return None
        counts = Counter(c.type for c in new)
        types = set(counts) if len(owners) == 1 else {i.type for p in owners for i in p.identifiers}
        for p in owners:
            for identifier, added in p.identifiers.items():
                if identifier.type in types and _counts(rules, identifier.type, added, at):
                    counts[identifier.type] += 1
        for kind in sorted(counts, key=rules.rank):
            limit = rules.limit(kind).max
            if counts[kind] > limit:
                return f"limit {kind} {limit}"
        if len(owners) > 1:
            if sum(len(p.identifiers) for p in owners) + len(new) > rules.max_identifiers:
                return "max_identifiers"
            if sum(p.merges for p in owners) + len(owners) - 1 > rules.max_merges:
                return "max_merges"
        return None

    def _merge(
        self, owners: list[_Profile], event: IdentityEvent
    ) -> tuple[_Profile, tuple[tuple[str, str], ...]]:
        survivor, *others = owners
        for other in others:
            for identifier in other.identifiers:
                self._owners[identifier] = survivor.id
            survivor.identifiers.update(other.identifiers)
            survivor.merges += other.merges + 1
            survivor.last_key = max(survivor.last_key, other.last_key)
            del self._profiles[other.id]
            self.redirects[other.id] = survivor.id
            self.history.append(Merge(survivor.id, other.id, event.message_id, event.timestamp))
        return survivor, tuple((survivor.id, other.id) for other in others)

    def _add(
        self,
        profile: _Profile,
        candidates: list[Identifier],
        at: datetime,
        rules: Rules,
        dropped: list[Dropped],
    ) -> tuple[Identifier, ...]:
        added = []
        for identifier in candidates:
            if identifier in self._owners:
                continue
            if len(profile.identifiers) >= rules.max_identifiers:
                dropped.append(Dropped(identifier, "max_identifiers"))
                continue
            profile.identifiers[identifier] = at
            self._owners[identifier] = profile.id
            added.append(identifier)
        return tuple(added)


def resolve(events: Iterable[IdentityEvent], rules: Rules, new_id: NewId) -> Graph:
    """The graph of a set of events: each applied in canonical order ``(timestamp,
    message_id)``, so the result does not depend on the order they are given in. Of two
    events with one message_id, only the first in canonical order is applied."""
    graph = Graph()
    for event in sorted(events, key=lambda e: e.key):
        graph.apply(event, rules, new_id)
    return graph


def component_events(
    graph_events: Iterable[IdentityEvent], seed: set[Identifier]
) -> list[IdentityEvent]:
    """The events transitively connected to ``seed`` through any identifier they mention
    (dropped ones and both readings of an alias's previousId included), in canonical order.

    Identity resolution of these events depends on no other event, so replaying them through
    :func:`resolve` rebuilds their profiles exactly as a full replay would::

        >>> from datetime import UTC, datetime
        >>> t = datetime(2026, 1, 1, tzinfo=UTC)
        >>> a, b, c = (Identifier("anonymous_id", x) for x in "abc")
        >>> events = [IdentityEvent("1", t, (a, b)), IdentityEvent("2", t, (b,)),
        ...           IdentityEvent("3", t, (c,))]
        >>> [e.message_id for e in component_events(events, {a})]
        ['1', '2']
    """
    by_identifier: dict[Identifier, list[IdentityEvent]] = {}
    for event in graph_events:
        for identifier in event.mentions:
            by_identifier.setdefault(identifier, []).append(event)
    found: dict[str, IdentityEvent] = {}
    visited = set(seed)
    pending = list(seed)
    while pending:
        for event in by_identifier.get(pending.pop(), ()):
            if event.message_id in found:
                continue
            found[event.message_id] = event
            for identifier in event.mentions:
                if identifier not in visited:
                    visited.add(identifier)
                    pending.append(identifier)
    return sorted(found.values(), key=lambda e: e.key)


def _counts(rules: Rules, kind: str, added: datetime, at: datetime) -> bool:
    """Whether an identifier added at ``added`` counts towards its type's limit at ``at``."""
    window = rules.limit(kind).window
    return window is None or added > at - window
