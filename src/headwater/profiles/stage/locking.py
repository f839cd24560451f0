"""The profile stage's locking: identifier locks, the profiles owning them loaded under
``FOR UPDATE``, and the early side commit of the events nothing else holds (tried locks,
``SKIP LOCKED``), which leaves the rest to the caller's transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

import asyncpg
import msgspec
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.identity import Identifier, ProfileState, Rules
from headwater.profiles import store
from headwater.profiles.stage.items import Item
from headwater.profiles.stage.writer import Written
from headwater.storage import Transaction

__all__ = ["Apply", "Loaded", "owning_profiles", "uncontended", "unprocessed"]

_SIDE_SETTINGS = "SET LOCAL synchronous_commit = off; SET LOCAL lock_timeout = '500ms'"
"""The uncontended transaction commits as the processor's do (see the consumer), and never
waits long: it takes no lock by waiting, so any wait is a conflict it leaves to the caller's
transaction."""


class Loaded(msgspec.Struct):
    """What a batch's events are applied to: the identifiers they mention, locked, and the
    stored profiles owning them (locked rows, states, and their identifiers -> owner, added)."""

    mentions: set[Identifier]
    before: dict[str, store.ProfileRow]
    states: list[ProfileState]
    stored: dict[Identifier, tuple[str, datetime]]


Apply = Callable[
    [Transaction, int, str, list[Item], Rules, Loaded],
    Awaitable[tuple[Written, list[Item]]],
]
"""Applies sorted, locked events to their loaded owners and writes the result; returns what
it wrote, and the late events left for a rebuild."""


async def uncontended(
    engine: AsyncEngine,
    workspace_id: int,
    kind: str,
    items: list[Item],
    rules: Rules,
    apply: Apply,
) -> tuple[dict[str, str], list[Item]]:
    """Apply and commit, in a transaction of its own, the events whose identifiers and
    profiles no other transaction holds; return their links (message id -> profile id, with
    those of events already linked) and the events left over.

    Two batches processed side by side almost always share a few people (a person's page
    views are keyed by anonymousId, their identify by userId), and waiting for all of the
    other batch's locks would run the batches one after the other. Here nothing waits: the
    identifier locks are tried (``pg_try_advisory_xact_lock``), the profiles locked with
    ``SKIP LOCKED``, and every event connected to an identifier or profile held elsewhere
    (through the batch's events and the stored owners) is left over, as are late events,
    whose rebuild takes locks. The left-over events then go the waiting way, in the
    caller's transaction, after this one has committed and released everything: no
    transaction ever waits while holding locks taken out of order, so no deadlock.

    Committing apart is safe for the same reason a redelivered batch is: the events
    committed here are linked to profiles, and a batch retried after a failure skips them.
    Should this transaction have to wait after all (a message id inserted by another
    transaction meanwhile), ``lock_timeout`` ends it and every event goes the waiting way."""
    async with engine.connect() as side:
        tx = await Transaction.of(side)
        try:
            async with tx.driver.transaction():
                await tx.driver.execute(_SIDE_SETTINGS)
                return await _apply_free(tx, workspace_id, kind, items, rules, apply)
        except asyncpg.LockNotAvailableError:
            return {}, items


async def _apply_free(
    tx: Transaction,
    workspace_id: int,
    kind: str,
    items: list[Item],
    rules: Rules,
    apply: Apply,
) -> tuple[dict[str, str], list[Item]]:
    mentions = {i for item in items for i in item.event.mentions}
    blocked = await store.try_lock_identifiers(tx, workspace_id, kind, mentions)
    owned = await _owners_loaded(tx, workspace_id, kind, mentions, skip_locked=True)
    owners, rows, states, held = owned.owners, owned.rows, owned.states, owned.held
    # Owned by a profile locked elsewhere (skipped), or moved by a merge meanwhile.
    blocked |= owned.astray.keys()
    free, left = _separate(items, owners, blocked) if blocked else (items, [])
    free, done = await unprocessed(tx, workspace_id, kind, free)
    if not free:
        return done, left
    mentions = {i for item in free for i in item.event.mentions}
    profiles = {owners[i] for i in mentions if i in owners}
    loaded = Loaded(
        mentions,
        {pid: row for pid, row in rows.items() if pid in profiles},
        [state for state in states if state.id in profiles],
        {i: owner for i, owner in held.items() if owner[0] in profiles},
    )
    written, late = await apply(tx, workspace_id, kind, free, rules, loaded)
    return done | written.links, sorted([*left, *late], key=lambda item: item.event.key)


async def unprocessed(
    tx: Transaction, workspace_id: int, kind: str, items: list[Item]
) -> tuple[list[Item], dict[str, str]]:
    """``items`` without the events already linked to a profile (a redelivered batch), and
    the profiles those are linked to now (message id -> profile id), which the later stages
    learn as they would have the first time. The second query runs only on a redelivery."""
    done = await store.processed(tx, workspace_id, kind, [i.event.message_id for i in items])
    if not done:
        return items, {}
    left = [item for item in items if item.event.message_id not in done]
    return left, await store.linked_profiles(tx, workspace_id, kind, done)


def _separate(
    items: list[Item], owners: dict[tuple[str, str], str], blocked: set[tuple[str, str]]
) -> tuple[list[Item], list[Item]]:
    """Split ``items`` into those unconnected to ``blocked`` identifiers and the rest, where
    events connect through the identifiers they mention and the profiles owning those."""
    parent: dict[object, object] = {}  # union-find over identifiers and profile ids

    def root(node: object) -> object:
        while (up := parent.get(node, node)) != node:
            parent[node] = parent.get(up, up)
            node = up
        return node

    for item in items:
        first = root(item.event.mentions[0])
        for identifier in item.event.mentions:
            for node in (identifier, owners.get(identifier)):
                if node is not None and (top := root(node)) != first:
                    parent[top] = first
    stuck = {root(identifier) for identifier in blocked}
    free: list[Item] = []
    left: list[Item] = []
    for item in items:
        (left if root(item.event.mentions[0]) in stuck else free).append(item)
    return free, left


async def owning_profiles(
    tx: Transaction, workspace_id: int, kind: str, identifiers: set[Identifier]
) -> Loaded:
    """The profiles owning ``identifiers``, locked ``FOR UPDATE`` and loaded, with every
    identifier they own (-> profile, added at).

    The batch's locks keep others from taking or dropping these identifiers, but a merge
    elsewhere moves all of a merged profile's identifiers, and the owner read before its
    profile's lock was granted may have been merged away meanwhile (its identifiers then load
    empty, and the batch would start a duplicate profile). So owners are read again until
    they agree with what the locked profiles hold. Owners that read the same twice and still
    disagree are damage no retry mends: the batch fails, saying which."""
    previous: dict[tuple[str, str], str] | None = None
    while True:
        owned = await _owners_loaded(tx, workspace_id, kind, identifiers)
        if not owned.astray:
            return Loaded(identifiers, owned.rows, owned.states, owned.held)
        if owned.owners == previous:
            raise RuntimeError(f"identifiers owned by missing or merged profiles: {owned.astray}")
        previous = owned.owners


class _Owned(msgspec.Struct):
    """Identifiers' owners as read, those profiles locked and loaded, every identifier they
    hold (-> profile, added at), and the owners read that the loaded profiles do not bear out
    (``astray``: merged away meanwhile, or skipped as locked elsewhere)."""

    owners: dict[tuple[str, str], str]
    rows: dict[str, store.ProfileRow]
    states: list[ProfileState]
    held: dict[Identifier, tuple[str, datetime]]
    astray: dict[tuple[str, str], str]


async def _owners_loaded(
    tx: Transaction,
    workspace_id: int,
    kind: str,
    identifiers: set[Identifier],
    *,
    skip_locked: bool = False,
) -> _Owned:
    owners = await store.owners(tx, workspace_id, kind, identifiers)
    rows = await store.profiles_for_update(tx, owners.values(), skip_locked=skip_locked)
    states = await _states(tx, rows)
    held = {
        identifier: (state.id, added)
        for state in states
        for identifier, added in state.identifiers.items()
    }
    astray = {
        key: owner for key, owner in owners.items() if held.get(Identifier(*key), ("",))[0] != owner
    }
    return _Owned(owners, rows, states, held, astray)


async def _states(tx: Transaction, rows: dict[str, store.ProfileRow]) -> list[ProfileState]:
    """The stored profiles as the graph loads them, their identifiers in one query."""
    identifiers: dict[str, dict[Identifier, datetime]] = {pid: {} for pid in rows}
    for stored in await store.profile_identifiers(tx, rows):
        identifiers[stored.profile_id][Identifier(stored.type, stored.value)] = stored.added_at
    return [
        ProfileState(
            row.id,
            identifiers[row.id],
            row.merges,
            (row.first_ts, row.first_message_id),
            (row.last_ts, row.last_message_id),
        )
        for row in rows.values()
    ]
