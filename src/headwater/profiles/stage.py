"""The profile stage of the processor: identity resolution and profiles, over a log batch.

For each workspace in the batch:

1. take transaction locks on every identifier the batch mentions, in one global order, so
   that racing processors never create two profiles for one person; then skip events already
   linked to a profile (a redelivered batch changes nothing);
2. load the profiles owning those identifiers (``FOR UPDATE``; owners read again if a merge
   moved one while the lock was awaited) into an in-memory :class:`~headwater.identity.Graph`,
   apply the events in canonical order ``(timestamp, messageId)``, and merge traits
   last-write-wins;
3. an event older than the newest event already applied to the profiles it touches cannot be
   applied on top: its whole component is locked (every identifier it mentions) and rebuilt
   from the stored events in canonical order, so the final graph does not depend on arrival
   order;
4. write back profiles, identifiers, merges (and redirect merged-away profiles' events and
   account links), and link each event to its profile.

Steps 1, 2 and 4 run twice. First, on a connection of its own and without waiting for any
lock, for the events connected to nothing another transaction holds; that transaction commits
at once (:meth:`ProfileStage._uncontended`). Then, in the processor's transaction and waiting
for the locks, for the rest (and step 3).

Users are resolved from every identifier but ``group_id``: a group call's ``groupId`` names an
account, and matching users on it would merge everyone in one company. Group calls build
account profiles (kind ``account``, identified by ``group_id``) with the group's traits, and
link the user's profile to the account.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from datetime import datetime
from typing import Any

import asyncpg
import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from headwater.identity import (
    Graph,
    Identifier,
    IdentityEvent,
    ProfileState,
    Rules,
    TraitValue,
    account_traits,
    component_events,
    identity_event,
    merge_profiles,
    merge_traits,
    resolve,
    user_traits,
)
from headwater.log import LogEntry
from headwater.profiles import store
from headwater.spec import Identify, message_of, parse_timestamp
from headwater.storage import driver_connection

__all__ = ["ProfileStage"]

# The message of an entry built from a stored profile row: only its ids and times are read.
_NO_MESSAGE = Identify()

_NAMESPACE = uuid.UUID("5d1c0f0e-7a43-4c8e-9a52-1f3b6c2d9e47")
_NAMESPACE_BYTES = _NAMESPACE.bytes
_RULES_TTL = 5.0
_SIDE_SETTINGS = "SET LOCAL synchronous_commit = off; SET LOCAL lock_timeout = '500ms'"
"""The uncontended transaction commits as the processor's do (see the consumer), and never
waits long: it takes no lock by waiting, so any wait is a conflict it leaves to the caller's
transaction."""


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


def _stored_traits(traits: dict[str, TraitValue]) -> dict[str, Any]:
    return {
        key: {"v": t.value, "t": t.updated_at.isoformat(), "m": t.message_id}
        for key, t in traits.items()
    }


def _trait_values(stored: dict[str, Any]) -> dict[str, TraitValue]:
    return {key: TraitValue(t["v"], parse_timestamp(t["t"]), t["m"]) for key, t in stored.items()}


class _Item(msgspec.Struct):
    entry: LogEntry
    event: IdentityEvent
    traits: dict[str, Any]


class _Loaded(msgspec.Struct):
    """What a batch's events are applied to: the identifiers they mention, locked, and the
    stored profiles owning them (locked rows, states, and their identifiers -> owner, added)."""

    mentions: set[Identifier]
    before: dict[str, store.ProfileRow]
    states: list[ProfileState]
    stored: dict[Identifier, tuple[str, datetime]]


class ProfileStage:
    """Identity and profiles; see the module docstring."""

    def __init__(self, *, early_commit: bool = True) -> None:
        """``early_commit``: commit the events no other transaction holds anything of first,
        apart (see :meth:`_resolve`); off, the whole batch waits for its locks in the
        caller's transaction (tests of the waiting way use that)."""
        self.early_commit = early_commit
        self._rules: dict[int, tuple[float, Rules]] = {}

    async def process(
        self, entries: Sequence[LogEntry], connection: AsyncConnection
    ) -> Sequence[LogEntry]:
        driver = await driver_connection(connection)
        if not driver.is_in_transaction():
            await connection.exec_driver_sql("SELECT 1")  # SQLAlchemy begins lazily
        by_workspace: dict[int, list[LogEntry]] = {}
        for entry in entries:
            by_workspace.setdefault(entry.workspace_id, []).append(entry)
        for workspace_id, batch in by_workspace.items():
            rules = await self._rules_of(driver, workspace_id)
            users = await self._resolve(connection, workspace_id, "user", batch, rules)
            await self._accounts(connection, driver, workspace_id, batch, users, rules)
        return entries

    async def _rules_of(self, driver: asyncpg.Connection, workspace_id: int) -> Rules:
        cached = self._rules.get(workspace_id)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        stored = await driver.fetchval(
            "SELECT rules FROM identity_rules WHERE workspace_id = $1", workspace_id
        )
        rules = Rules.from_dict(stored) if stored else Rules.default()
        self._rules[workspace_id] = (time.monotonic() + _RULES_TTL, rules)
        return rules

    async def _resolve(
        self,
        connection: AsyncConnection,
        workspace_id: int,
        kind: str,
        batch: Sequence[LogEntry],
        rules: Rules,
    ) -> dict[str, str]:
        """Resolve ``batch`` into ``kind`` profiles; return message id -> profile id.

        With ``early_commit``, the events no other transaction holds anything of are applied
        and committed first, on a connection of their own, without waiting for any lock
        (:meth:`_uncontended`); the rest wait for their locks in the caller's transaction.

        Events already linked to a profile (a redelivered batch) are skipped, checked once
        their identifiers are locked: whoever else processed them held those locks, so has
        committed by then."""
        driver = await driver_connection(connection)
        items: list[_Item] = []
        once: set[str] = set()
        for entry in batch:
            if entry.message_id not in once:  # a message twice in one batch is applied once
                once.add(entry.message_id)
                item = self._item(entry, kind, rules)
                if item.event.mentions:
                    items.append(item)
        if not items:
            return {}
        items.sort(key=lambda item: item.event.key)
        linked: dict[str, str] = {}
        if self.early_commit:
            linked, items = await self._uncontended(
                connection.engine, workspace_id, kind, items, rules
            )
            if not items:
                return linked
        await store.lock_identifiers(
            driver, workspace_id, kind, {i for item in items for i in item.event.mentions}
        )
        items = await _unprocessed(driver, workspace_id, kind, items)
        if not items:
            return linked
        mentions = {i for item in items for i in item.event.mentions}
        loaded = await _owning_profiles(driver, workspace_id, kind, mentions)
        applied, late = await self._apply(driver, workspace_id, kind, items, rules, loaded)
        linked |= applied
        new_id = _NewIds(workspace_id, kind)
        for item in late:
            linked |= await self._replay(driver, workspace_id, kind, item, rules, new_id, mentions)
        return linked

    async def _uncontended(
        self,
        engine: AsyncEngine,
        workspace_id: int,
        kind: str,
        items: list[_Item],
        rules: Rules,
    ) -> tuple[dict[str, str], list[_Item]]:
        """Apply and commit, in a transaction of its own, the events whose identifiers and
        profiles no other transaction holds; return their links and the events left over.

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
            driver = await driver_connection(side)
            try:
                async with driver.transaction():
                    await driver.execute(_SIDE_SETTINGS)
                    return await self._apply_free(driver, workspace_id, kind, items, rules)
            except asyncpg.LockNotAvailableError:
                return {}, items

    async def _apply_free(
        self,
        driver: asyncpg.Connection,
        workspace_id: int,
        kind: str,
        items: list[_Item],
        rules: Rules,
    ) -> tuple[dict[str, str], list[_Item]]:
        mentions = {i for item in items for i in item.event.mentions}
        blocked = await store.try_lock_identifiers(driver, workspace_id, kind, mentions)
        owned = await _owners_loaded(driver, workspace_id, kind, mentions, skip_locked=True)
        owners, rows, states, held = owned.owners, owned.rows, owned.states, owned.held
        # Owned by a profile locked elsewhere (skipped), or moved by a merge meanwhile.
        blocked |= owned.astray.keys()
        free, left = _separate(items, owners, blocked) if blocked else (items, [])
        free = await _unprocessed(driver, workspace_id, kind, free)
        if not free:
            return {}, left
        mentions = {i for item in free for i in item.event.mentions}
        profiles = {owners[i] for i in mentions if i in owners}
        loaded = _Loaded(
            mentions,
            {pid: row for pid, row in rows.items() if pid in profiles},
            [state for state in states if state.id in profiles],
            {i: owner for i, owner in held.items() if owner[0] in profiles},
        )
        linked, late = await self._apply(driver, workspace_id, kind, free, rules, loaded)
        return linked, sorted([*left, *late], key=lambda item: item.event.key)

    async def _apply(
        self,
        driver: asyncpg.Connection,
        workspace_id: int,
        kind: str,
        items: list[_Item],
        rules: Rules,
        loaded: _Loaded,
    ) -> tuple[dict[str, str], list[_Item]]:
        """Apply ``items`` (sorted, locked, their owners ``loaded``) and write the result;
        return message id -> profile id, and the late events that need a rebuild."""
        graph = Graph()
        for state in loaded.states:
            graph.load(state)
        readings = _alias_readings(loaded.mentions)
        seen = await store.mentions(driver, workspace_id, kind, loaded.mentions | readings)
        graph.mark_seen({Identifier(*pair): key for pair, key in seen.items()})
        # A reading owned by a profile outside the graph has no mention row (see _Writer).
        owned = (await store.owners(driver, workspace_id, kind, readings - seen.keys())).keys()
        windowed = _windowed(rules)
        new_id = _NewIds(workspace_id, kind)
        late: list[_Item] = []
        for item in items:
            if _needs_replay(graph, item.event, windowed, owned):
                late.append(item)
            else:
                graph.apply(item.event, rules, new_id)
        writer = _Writer(
            driver, workspace_id, kind, loaded.before, graph, stored=loaded.stored, seen=seen
        )
        for item in items:
            if item not in late:
                writer.applied(item)
        await writer.flush()
        return {link.message_id: link.profile_id for link in writer.links}, late

    def _item(self, entry: LogEntry, kind: str, rules: Rules) -> _Item:
        message = entry.message
        if kind == "account":
            value, traits = account_traits(message)
            identifiers = (
                (Identifier("group_id", value),) if value and not rules.is_blocked(value) else ()
            )
            event = IdentityEvent(entry.message_id, entry.timestamp, identifiers)
            return _Item(entry, event, traits)
        event = identity_event(
            message, message_id=entry.message_id, timestamp=entry.timestamp, rules=rules
        )
        users = tuple(i for i in event.identifiers if i.type != "group_id")
        if len(users) != len(event.identifiers):
            event = IdentityEvent(event.message_id, event.timestamp, users, event.alias_previous_id)
        return _Item(entry, event, user_traits(message))

    async def _replay(
        self,
        driver: asyncpg.Connection,
        workspace_id: int,
        kind: str,
        item: _Item,
        rules: Rules,
        new_id: _NewIds,
        locked: set[Identifier],
    ) -> dict[str, str]:
        """Rebuild the component of a late event from every stored event, in canonical order;
        return the component's message id -> profile id.

        The rebuild may move, drop or take any identifier of the component, not only those of
        the batch (``locked``): it locks them all first, then reads the component again, until
        no new identifier turns up. Another batch mentioning one of them waits for this
        transaction (or this one for it; PostgreSQL breaks a deadlock by failing one batch,
        which the consumer retries)."""
        seed = set(item.event.mentions)  # among the batch's, so already locked
        locked = set(locked)
        while True:
            stored = await _component(driver, workspace_id, kind, seed)
            reached = {i for event, _, _ in stored.values() for i in event.mentions} - locked
            if not reached:
                break
            await store.lock_identifiers(driver, workspace_id, kind, reached)
            locked |= reached
        events = {e.message_id: e for e, _, _ in stored.values()}
        events[item.event.message_id] = item.event
        component = component_events(events.values(), set(item.event.mentions))
        rebuilt = resolve(component, rules, new_id)
        profiles = {pid for _, pid, _ in stored.values()}
        before = await store.profiles_for_update(driver, profiles)
        writer = _Writer(driver, workspace_id, kind, before, rebuilt, replay=True)
        payloads = {mid: entry for mid, (_, _, entry) in stored.items()}
        payloads[item.entry.message_id] = item.entry
        for event in component:
            entry = payloads.get(event.message_id)
            if entry is not None:
                traits = (
                    item.traits if entry is item.entry else self._item(entry, kind, rules).traits
                )
                writer.applied(_Item(entry, event, traits))
        await writer.flush()
        return {link.message_id: link.profile_id for link in writer.links}

    async def _accounts(
        self,
        connection: AsyncConnection,
        driver: asyncpg.Connection,
        workspace_id: int,
        batch: Sequence[LogEntry],
        users: dict[str, str],
        rules: Rules,
    ) -> None:
        groups = [e for e in batch if e.type == "group"]
        if not groups:
            return
        accounts = await self._resolve(connection, workspace_id, "account", groups, rules)
        await store.link_accounts(
            driver,
            workspace_id,
            [
                (users[e.message_id], accounts[e.message_id], e.message_id, e.timestamp)
                for e in groups
                if e.message_id in users and e.message_id in accounts
            ],
        )


def _needs_replay(
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
      user_id was not known yet (the stage loads those mentions, see :func:`_alias_readings`,
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


async def _unprocessed(
    driver: asyncpg.Connection, workspace_id: int, kind: str, items: list[_Item]
) -> list[_Item]:
    """``items`` without the events already linked to a profile."""
    done = await store.processed(driver, workspace_id, kind, [i.entry.message_id for i in items])
    return [item for item in items if item.entry.message_id not in done] if done else items


def _separate(
    items: list[_Item], owners: dict[tuple[str, str], str], blocked: set[tuple[str, str]]
) -> tuple[list[_Item], list[_Item]]:
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
    free: list[_Item] = []
    left: list[_Item] = []
    for item in items:
        (left if root(item.event.mentions[0]) in stuck else free).append(item)
    return free, left


def _alias_readings(mentions: set[Identifier]) -> set[Identifier]:
    """The ``anonymous_id`` reading of every mentioned ``user_id``, which
    :func:`_needs_replay` checks."""
    return {Identifier("anonymous_id", i.value) for i in mentions if i.type == "user_id"}


def _windowed(rules: Rules) -> bool:
    return rules.default_limit.window is not None or any(
        limit.window is not None for limit in rules.limits.values()
    )


class _NewIds:
    def __init__(self, workspace_id: int, kind: str) -> None:
        self.workspace_id, self.kind = workspace_id, kind

    def __call__(self, event: IdentityEvent) -> str:
        return profile_id(self.workspace_id, self.kind, event.message_id)


async def _owning_profiles(
    driver: asyncpg.Connection, workspace_id: int, kind: str, identifiers: set[Identifier]
) -> _Loaded:
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
        owned = await _owners_loaded(driver, workspace_id, kind, identifiers)
        if not owned.astray:
            return _Loaded(identifiers, owned.rows, owned.states, owned.held)
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
    driver: asyncpg.Connection,
    workspace_id: int,
    kind: str,
    identifiers: set[Identifier],
    *,
    skip_locked: bool = False,
) -> _Owned:
    owners = await store.owners(driver, workspace_id, kind, identifiers)
    rows = await store.profiles_for_update(driver, owners.values(), skip_locked=skip_locked)
    states = await _states(driver, rows)
    held = {
        identifier: (state.id, added)
        for state in states
        for identifier, added in state.identifiers.items()
    }
    astray = {
        key: owner for key, owner in owners.items() if held.get(Identifier(*key), ("",))[0] != owner
    }
    return _Owned(owners, rows, states, held, astray)


async def _states(
    driver: asyncpg.Connection, rows: dict[str, store.ProfileRow]
) -> list[ProfileState]:
    """The stored profiles as the graph loads them, their identifiers in one query."""
    identifiers: dict[str, dict[Identifier, datetime]] = {pid: {} for pid in rows}
    for stored in await store.profile_identifiers(driver, rows):
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


async def _component(
    driver: asyncpg.Connection, workspace_id: int, kind: str, seed: set[Identifier]
) -> dict[str, tuple[IdentityEvent, str, LogEntry]]:
    """Every stored event transitively connected to ``seed``: message id -> (identity event,
    its profile, the log entry)."""
    found: dict[str, tuple[IdentityEvent, str, LogEntry]] = {}
    profiles: set[str] = set()
    frontier = set(seed)
    seen = set(seed)
    while frontier:
        owners = await store.owners(driver, workspace_id, kind, frontier)
        unowned = frontier - owners.keys()
        fresh = set(owners.values()) - profiles
        fresh |= await store.mentioning_profiles(driver, workspace_id, kind, unowned) - profiles
        fresh |= await store.stray_profiles(driver, workspace_id, kind, frontier) - profiles
        frontier = set()
        if not fresh:
            break
        profiles |= fresh
        for row in await store.component_rows(driver, fresh):
            mentions = tuple(Identifier(t, v) for t, v in row["mentions"])
            # An alias's mentions end with both readings of its previousId (see
            # IdentityEvent.mentions); its own identifiers may share that value.
            own = mentions[:-2] if row["previous_id"] is not None else mentions
            event = IdentityEvent(row["message_id"], row["timestamp"], own, row["previous_id"])
            message = message_of(row["payload"])
            entry = LogEntry(
                partition=0,
                offset=row["seq"],
                workspace_id=workspace_id,
                source_id=row["source_id"],
                message_id=row["message_id"],
                type=message.type,
                name=None,
                user_id=message.user_id or None,
                anonymous_id=message.anonymous_id or None,
                timestamp=row["timestamp"],
                received_at=row["timestamp"],
                message=message,
            )
            found[row["message_id"]] = (event, row["profile_id"], entry)
            for identifier in mentions:
                if identifier not in seen:
                    seen.add(identifier)
                    frontier.add(identifier)
    return found


class _Writer:
    """Turns the graph after a batch (or a replay) into rows."""

    def __init__(
        self,
        driver: asyncpg.Connection,
        workspace_id: int,
        kind: str,
        before: dict[str, store.ProfileRow],
        graph: Graph,
        *,
        replay: bool = False,
        stored: dict[Identifier, tuple[str, datetime]] | None = None,
        seen: dict[tuple[str, str], tuple[datetime, str]] | None = None,
    ) -> None:
        """``stored``: the identifiers of ``before`` as stored (profile, added at), so that
        only new or moved ones are written; without it, every identifier is. ``seen``: the
        stored newest mention of identifiers, so that only those this write moves forward
        are written (a late event's mentions usually move none)."""
        self.driver, self.workspace_id, self.kind = driver, workspace_id, kind
        self.before, self.graph, self.replay = before, graph, replay
        self.stored = stored or {}
        self.seen = seen or {}
        self.rows: dict[str, store.ProfileRow] = {}
        self.traits: dict[str, dict[str, TraitValue]] = {}
        self.links: list[store.ProfileEvent] = []
        self.strays: list[tuple[str, str, str]] = []
        """(type, value, message id): mentions of identifiers the event's profile does not
        own; a replay reaches the event through them (see ``_component``)."""
        self.newest: dict[tuple[str, str], tuple[datetime, str]] = {}
        """The newest event of this write mentioning each identifier that the event's profile
        does not own (a dropped one, an alias's other reading, a stray). A mention of an
        identifier the event's profile owns needs no row: that profile's last event is at
        least as new, and :meth:`Graph.newest_key` counts the owner's last event."""
        self.origin: dict[Identifier, tuple[str, int | None]] = {}
        """The first event (in canonical order) mentioning each identifier."""

    def _row(self, pid: str, entry: LogEntry) -> store.ProfileRow:
        row = self.rows.get(pid)
        if row is None:
            old = None if self.replay else self.before.get(pid)
            if old is not None:
                row = msgspec.structs.replace(old, new=False)
            else:
                key = (entry.timestamp, entry.message_id)
                row = store.ProfileRow(
                    id=pid,
                    kind=self.kind,
                    merged_into=None,
                    merges=0,
                    first_ts=key[0],
                    first_message_id=key[1],
                    first_source_id=entry.source_id,
                    last_ts=key[0],
                    last_message_id=key[1],
                    last_source_id=entry.source_id,
                    traits={},
                    # A rebuild starts its profiles afresh, under ids that may exist.
                    new=not self.replay,
                )
            self.rows[pid] = row
        return row

    def _traits(self, pid: str) -> dict[str, TraitValue]:
        """A profile's traits, parsed from the stored row when first needed: most events set
        none, and a profile they alone touch keeps its stored traits as they are."""
        traits = self.traits.get(pid)
        if traits is None:
            traits = self.traits[pid] = _trait_values(self.rows[pid].traits)
        return traits

    def applied(self, item: _Item) -> None:
        entry = item.entry
        key = (entry.timestamp, entry.message_id)
        origin, newest, graph = self.origin, self.newest, self.graph
        pid = graph.profile_of(entry.message_id)
        for identifier in item.event.mentions:
            if identifier not in origin:
                origin[identifier] = (entry.message_id, entry.source_id)
            if graph.owner(identifier) == pid:
                # The profile's last event accounts for this mention (Graph.newest_key).
                continue
            # An Identifier is a (type, value) tuple: it is its own key here.
            known = newest.get(identifier)
            if known is None or known < key:
                newest[identifier] = key
            if pid is not None:
                self.strays.append((*identifier, entry.message_id))
        if pid is None:
            return  # every identifier was dropped: no profile to link the event to
        row = self._row(pid, entry)
        if key < (row.first_ts, row.first_message_id):
            row.first_ts, row.first_message_id, row.first_source_id = (*key, entry.source_id)
        if key > (row.last_ts, row.last_message_id):
            row.last_ts, row.last_message_id, row.last_source_id = (*key, entry.source_id)
        if item.traits:
            self.traits[pid] = merge_traits(
                self._traits(pid),
                item.traits,
                timestamp=entry.timestamp,
                message_id=entry.message_id,
            )
        self.links.append(
            store.ProfileEvent(
                entry.message_id,
                pid,
                entry.offset,
                entry.timestamp,
                entry.type,
                entry.name,
                item.event.mentions,
                item.event.alias_previous_id,
            )
        )

    async def flush(self) -> None:
        graph = self.graph
        moves: dict[str, str] = {}
        for old in self.before:
            if not graph.is_live(old):
                target = self.graph.resolve_id(old) or self._retired_target(old)
                if target is not None and target != old:
                    moves[old] = target
        for old, target in moves.items():
            survivor = self._row(target, self._entry_of(self.before[old]))
            gone = msgspec.structs.replace(self.before[old], merged_into=target)
            self.rows[old] = gone
            if self.replay:
                # A replay recomputes traits and first events from every event of the
                # component; what the vanished profile stored came from a graph the replay
                # corrects (an event that no longer belongs to it), so it is not merged in.
                continue
            self.traits[target] = merge_profiles(
                self._traits(target), _trait_values(self.before[old].traits)
            )
            if (gone.first_ts, gone.first_message_id) < (
                survivor.first_ts,
                survivor.first_message_id,
            ):
                survivor.first_ts, survivor.first_message_id = gone.first_ts, gone.first_message_id
                survivor.first_source_id = gone.first_source_id
        for pid, row in self.rows.items():
            if graph.is_live(pid):
                row.merges = graph.merges_of(pid)
                if pid in self.traits:
                    row.traits = _stored_traits(self.traits[pid])
        await store.save_profiles(self.driver, self.workspace_id, self.rows.values())
        await self._identifiers()
        await store.save_profile_events(
            self.driver, self.workspace_id, self.kind, self.links, moving=self.replay
        )
        seen = self.seen
        await store.save_mentions(
            self.driver,
            self.workspace_id,
            self.kind,
            {i: key for i, key in self.newest.items() if i not in seen or seen[i] < key},
        )
        await store.save_strays(self.driver, self.workspace_id, self.kind, self.strays)
        await store.redirect(self.driver, moves)
        await store.insert_merges(
            self.driver,
            self.workspace_id,
            self.kind,
            [(m.survivor, m.merged, m.message_id, m.timestamp) for m in self.graph.history],
        )

    def _retired_target(self, old: str) -> str | None:
        """A profile a replay made vanish: its first event now belongs to this profile."""
        return self.graph.profile_of(self.before[old].first_message_id)

    def _entry_of(self, row: store.ProfileRow) -> LogEntry:
        return LogEntry(
            partition=0,
            offset=0,
            workspace_id=self.workspace_id,
            source_id=row.first_source_id or 0,
            message_id=row.first_message_id,
            type="",
            name=None,
            user_id=None,
            anonymous_id=None,
            timestamp=row.first_ts,
            received_at=row.first_ts,
            message=_NO_MESSAGE,
        )

    async def _identifiers(self) -> None:
        rows: list[store.StoredIdentifier] = []
        new: list[store.StoredIdentifier] = []
        owned: set[Identifier] = set()
        stored = self.stored
        for pid in self.rows:
            if not self.graph.is_live(pid):
                continue
            identifiers = self.graph.identifiers_of(pid)
            if self.replay:
                owned.update(identifiers)
            for identifier, added in identifiers.items():
                known = stored.get(identifier)
                if known == (pid, added):
                    continue
                message_id, source_id = self.origin.get(
                    identifier, (self.rows[pid].first_message_id, self.rows[pid].first_source_id)
                )
                # Outside a rebuild, every stored owner of what the batch mentions is loaded:
                # an identifier they do not hold is one nobody holds.
                (rows if known is not None or self.replay else new).append(
                    store.StoredIdentifier(
                        identifier.type, identifier.value, pid, added, message_id, source_id
                    )
                )
        await store.save_identifiers(self.driver, self.workspace_id, self.kind, rows, new=new)
        if self.replay:
            stale = [
                (i.type, i.value)
                for i in await store.profile_identifiers(self.driver, self.before)
                if Identifier(i.type, i.value) not in owned
            ]
            await store.delete_identifiers(self.driver, self.workspace_id, self.kind, stale)
