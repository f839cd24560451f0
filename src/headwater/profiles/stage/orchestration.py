"""The profile stage's orchestration: :class:`ProfileStage` takes a batch by workspace,
resolves its users then its accounts, each first through the early side commit
(:func:`.locking.uncontended`), then in the caller's transaction with the identifier locks
taken in order, and rebuilds the components of late events (:mod:`.rebuild`)."""

from __future__ import annotations

import time
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncConnection

from headwater.batch import Batch
from headwater.identity import Graph, Identifier, Rules
from headwater.log import LogEntry
from headwater.profiles import store
from headwater.profiles.stage.items import Item, NewIds, item_of
from headwater.profiles.stage.locking import Loaded, owning_profiles, uncontended, unprocessed
from headwater.profiles.stage.rebuild import alias_readings, needs_replay, replay, windowed
from headwater.profiles.stage.writer import Writer, Written
from headwater.storage import Transaction, begin

__all__ = ["ProfileStage"]

_RULES_TTL = 5.0


class ProfileStage:
    """Identity and profiles; see :mod:`headwater.profiles.stage`."""

    def __init__(self, *, early_commit: bool = True) -> None:
        """``early_commit``: commit the events no other transaction holds anything of first,
        apart (see :meth:`_resolve`); off, the whole batch waits for its locks in the
        caller's transaction (tests of the waiting way use that)."""
        self.early_commit = early_commit
        self._rules: dict[int, tuple[float, Rules]] = {}

    async def process(self, batch: Batch, connection: AsyncConnection) -> None:
        """Resolve the batch's events into profiles and record each event's user profile in
        the batch (:meth:`~headwater.batch.Batch.linked`); every entry goes on."""
        tx = await begin(connection)
        by_workspace: dict[int, list[LogEntry]] = {}
        for entry in batch.entries:
            by_workspace.setdefault(entry.workspace_id, []).append(entry)
        for workspace_id, entries in by_workspace.items():
            rules = await self._rules_of(tx, workspace_id)
            users = await self._resolve(connection, workspace_id, "user", entries, rules)
            await self._accounts(connection, tx, workspace_id, entries, users, rules)
            batch.linked(workspace_id, users)

    async def _rules_of(self, tx: Transaction, workspace_id: int) -> Rules:
        cached = self._rules.get(workspace_id)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        stored = await tx.driver.fetchval(
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
        """Resolve ``batch`` into ``kind`` profiles; return message id -> profile id of
        every event linked to one, those linked before included (a redelivered batch), each
        the live profile as the batch leaves it.

        With ``early_commit``, the events no other transaction holds anything of are applied
        and committed first, on a connection of their own, without waiting for any lock
        (:func:`.locking.uncontended`); the rest wait for their locks in the caller's
        transaction.

        Events already linked to a profile (a redelivered batch) are skipped, checked once
        their identifiers are locked: whoever else processed them held those locks, so has
        committed by then."""
        tx = await Transaction.of(connection)
        items: list[Item] = []
        once: set[str] = set()
        for entry in batch:
            if entry.message_id not in once:  # a message twice in one batch is applied once
                once.add(entry.message_id)
                item = item_of(entry, kind, rules)
                if item.event.mentions:
                    items.append(item)
        if not items:
            return {}
        items.sort(key=lambda item: item.event.key)
        linked: dict[str, str] = {}
        if self.early_commit:
            linked, items = await uncontended(
                connection.engine, workspace_id, kind, items, rules, _apply
            )
            if not items:
                return linked
        await store.lock_identifiers(
            tx, workspace_id, kind, {i for item in items for i in item.event.mentions}
        )
        items, done = await unprocessed(tx, workspace_id, kind, items)
        linked |= done
        if not items:
            return linked
        mentions = {i for item in items for i in item.event.mentions}
        loaded = await owning_profiles(tx, workspace_id, kind, mentions)
        written, late = await _apply(tx, workspace_id, kind, items, rules, loaded)
        _update(linked, written)
        new_id = NewIds(workspace_id, kind)
        for item in late:
            written = await self._replay(tx, workspace_id, kind, item, rules, new_id, mentions)
            _update(linked, written)
        return linked

    async def _replay(
        self,
        tx: Transaction,
        workspace_id: int,
        kind: str,
        item: Item,
        rules: Rules,
        new_id: NewIds,
        locked: set[Identifier],
    ) -> Written:
        """Rebuild a late event's component (:func:`.rebuild.replay`); a method, so that
        tests can count the rebuilds."""
        return await replay(tx, workspace_id, kind, item, rules, new_id, locked)

    async def _accounts(
        self,
        connection: AsyncConnection,
        tx: Transaction,
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
            tx,
            workspace_id,
            [
                (users[e.message_id], accounts[e.message_id], e.message_id, e.timestamp)
                for e in groups
                if e.message_id in users and e.message_id in accounts
            ],
        )


async def _apply(
    tx: Transaction,
    workspace_id: int,
    kind: str,
    items: list[Item],
    rules: Rules,
    loaded: Loaded,
) -> tuple[Written, list[Item]]:
    """Apply ``items`` (sorted, locked, their owners ``loaded``) and write the result;
    return what was written, and the late events that need a rebuild."""
    graph = Graph()
    for state in loaded.states:
        graph.load(state)
    readings = alias_readings(loaded.mentions)
    seen = await store.mentions(tx, workspace_id, kind, loaded.mentions | readings)
    graph.mark_seen({Identifier(*pair): key for pair, key in seen.items()})
    # A reading owned by a profile outside the graph has no mention row (see Writer).
    owned = (await store.owners(tx, workspace_id, kind, readings - seen.keys())).keys()
    is_windowed = windowed(rules)
    new_id = NewIds(workspace_id, kind)
    late: list[Item] = []
    for item in items:
        if needs_replay(graph, item.event, is_windowed, owned):
            late.append(item)
        else:
            graph.apply(item.event, rules, new_id)
    writer = Writer(tx, workspace_id, kind, loaded.before, graph, stored=loaded.stored, seen=seen)
    for item in items:
        if item not in late:
            writer.applied(item)
    return await writer.flush(), late


def _update(linked: dict[str, str], written: Written) -> None:
    """Add what a write linked to ``linked``, and move the links read before it to the
    survivors of the profiles it merged away (an event the side commit linked to a profile
    that the waiting way then merges belongs to the survivor)."""
    if written.moves:
        moves = written.moves
        for message_id, pid in linked.items():
            target = moves.get(pid)
            if target is not None:
                linked[message_id] = target
    linked.update(written.links)
