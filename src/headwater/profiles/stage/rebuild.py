"""The profile stage's rebuild: an event older than the newest one applied to the profiles it
touches (a late event) cannot be applied on top; when applying it late could give another
graph than canonical order would, its whole component is locked (every identifier it
mentions) and rebuilt from the stored events in canonical order ``(timestamp, messageId)``,
so the final graph does not depend on arrival order."""

from __future__ import annotations

from collections.abc import Sequence
from collections.abc import Set as AbstractSet

import msgspec

from headwater.identity import (
    Graph,
    Identifier,
    IdentityEvent,
    Rules,
    component_events,
    resolve,
)
from headwater.profiles import store
from headwater.profiles.stage.items import Item, NewIds, consent_of, traits_of
from headwater.profiles.stage.writer import Writer, Written
from headwater.spec import Message, message_of
from headwater.storage import Transaction

__all__ = ["LOCK_LIMIT", "alias_readings", "needs_replay", "replay", "windowed"]

LOCK_LIMIT = 2_000
"""The most identifiers a rebuild locks: each is a transaction lock, and PostgreSQL's lock
table holds 6,400 for all transactions together with its default settings (64 per
connection slot), which a batch's own locks share."""


async def replay(
    tx: Transaction,
    workspace_id: int,
    kind: str,
    late: Sequence[Item],
    rules: Rules,
    new_id: NewIds,
    locked: set[Identifier],
    limit: int,
) -> Written | None:
    """Rebuild the components of a batch's late events from every stored event, in
    canonical order, all in one pass; return what it wrote (the components' message id ->
    profile id, and their merges), or None, having written nothing, when the components
    hold more than ``limit`` stored events or :data:`LOCK_LIMIT` identifiers (the caller
    then applies the late events in arrival order, see :mod:`.orchestration`).

    The rebuild may move, drop or take any identifier of the components, not only those of
    the batch (``locked``): it locks them all first, then reads the components again, until
    no new identifier turns up. Another batch mentioning one of them waits for this
    transaction (or this one for it; PostgreSQL breaks a deadlock by failing one batch,
    which the consumer retries)."""
    seed = {i for item in late for i in item.event.mentions}  # the batch's, so already locked
    locked = set(locked)
    while True:
        stored = await _component(tx, workspace_id, kind, seed, limit)
        if stored is None:
            return None
        reached = {i for found in stored.values() for i in found.event.mentions} - locked
        if not reached:
            break
        if len(locked) + len(reached) > LOCK_LIMIT:
            return None
        await store.lock_identifiers(tx, workspace_id, kind, reached)
        locked |= reached
    arrived = {item.event.message_id: item for item in late}
    events = {found.event.message_id: found.event for found in stored.values()}
    events.update((message_id, item.event) for message_id, item in arrived.items())
    component = component_events(events.values(), seed)
    rebuilt = resolve(component, rules, new_id)
    profiles = {found.profile_id for found in stored.values()}
    before = await store.profiles_for_update(tx, profiles)
    writer = Writer(tx, workspace_id, kind, before, rebuilt, replay=True)
    for event in component:
        item = arrived.get(event.message_id)
        if item is not None:
            writer.applied(msgspec.structs.replace(item, event=event))
        else:
            writer.applied(stored[event.message_id].item(event, kind))
    return await writer.flush()


def needs_replay(
    graph: Graph, event: IdentityEvent, windowed: bool, owned_readings: AbstractSet[tuple[str, str]]
) -> bool:
    """An event older than the newest one applied to the profiles it touches needs its
    component rebuilt in canonical order, unless applying it late gives the canonical graph
    too. That is the common case (an anonymous page view read after the identify that named
    its user, from another partition), and it costs no rebuild. It holds when every
    identifier the event mentions already belongs to one profile (it adds no identifier and
    joins no profiles), with three exceptions, where the event's place in canonical order
    could change how a later event was resolved:

    - the event is an alias (which reading of its ``previousId`` it takes depends on what
      was known at its time);
    - it carries a ``user_id`` whose value was ever mentioned as an ``anonymous_id``: a later
      alias with that ``previousId`` may have read it as an anonymous id only because this
      user_id was not known yet (the stage loads those mentions, see :func:`alias_readings`,
      and which of those readings a profile owns: ``owned_readings``);
    - a limit has a time window: identifiers would have been added at this event's time.
    """
    mentions = event.mentions
    newest = graph.newest_key(mentions)
    if newest is None or newest < event.key:
        return False
    if windowed or event.alias_previous_id is not None:
        return True
    owners = {graph.owner(identifier) for identifier in mentions}
    if len(owners) != 1 or None in owners:
        return True
    readings = (Identifier("anonymous_id", i.value) for i in mentions if i.type == "user_id")
    return any(
        reading in owned_readings or graph.newest_key((reading,)) is not None
        for reading in readings
    )


def alias_readings(mentions: set[Identifier]) -> set[Identifier]:
    """The ``anonymous_id`` reading of every mentioned ``user_id``, which
    :func:`needs_replay` checks."""
    return {Identifier("anonymous_id", i.value) for i in mentions if i.type == "user_id"}


def windowed(rules: Rules) -> bool:
    """Whether some limit of ``rules`` has a time window (see :func:`needs_replay`)."""
    return rules.default_limit.window is not None or any(
        limit.window is not None for limit in rules.limits.values()
    )


class _Stored(msgspec.Struct):
    """A stored event a rebuild reaches: its identity reading as stored, its profile, and its
    link's fields with the message its traits are read from."""

    event: IdentityEvent
    profile_id: str
    seq: int
    source_id: int
    type: str
    name: str | None
    message: Message

    def item(self, event: IdentityEvent, kind: str) -> Item:
        """The event as the rebuild applies it, read as ``event`` (its place in the rebuilt
        component) and as setting the traits and consent its message sets on its ``kind``
        profile."""
        return Item(
            event,
            traits_of(self.message, kind),
            self.seq,
            self.source_id,
            self.type,
            self.name,
            consent_of(self.message, kind),
        )


async def _component(
    tx: Transaction, workspace_id: int, kind: str, seed: set[Identifier], limit: int
) -> dict[str, _Stored] | None:
    """Every stored event transitively connected to ``seed``, by message id; None once they
    are found to be more than ``limit`` (the profiles' events are read ``limit`` at most)."""
    found: dict[str, _Stored] = {}
    profiles: set[str] = set()
    frontier = set(seed)
    seen = set(seed)
    while frontier:
        owners = await store.owners(tx, workspace_id, kind, frontier)
        unowned = frontier - owners.keys()
        fresh = set(owners.values()) - profiles
        fresh |= await store.mentioning_profiles(tx, workspace_id, kind, unowned) - profiles
        fresh |= await store.stray_profiles(tx, workspace_id, kind, frontier) - profiles
        frontier = set()
        if not fresh:
            break
        profiles |= fresh
        rows = await store.component_rows(tx, fresh, limit + 1 - len(found))
        if len(found) + len(rows) > limit:
            return None
        for row in rows:
            mentions = tuple(Identifier(t, v) for t, v in row["mentions"])
            # An alias's mentions end with both readings of its previousId (see
            # IdentityEvent.mentions); its own identifiers may share that value.
            own = mentions[:-2] if row["previous_id"] is not None else mentions
            event = IdentityEvent(row["message_id"], row["timestamp"], own, row["previous_id"])
            found[row["message_id"]] = _Stored(
                event,
                row["profile_id"],
                row["seq"],
                row["source_id"],
                row["type"],
                row["name"],
                message_of(row["payload"]),
            )
            for identifier in mentions:
                if identifier not in seen:
                    seen.add(identifier)
                    frontier.add(identifier)
    return found
