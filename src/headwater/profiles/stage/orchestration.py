"""The profile stage's orchestration: :class:`ProfileStage` takes a batch by workspace,
resolves its users then its accounts, each first through the early side commit
(:func:`.locking.uncontended`), then in the caller's transaction with the identifier locks
taken in order, and rebuilds the components of late events (:mod:`.rebuild`)."""

from __future__ import annotations

import time
from collections.abc import Sequence

import asyncpg
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater.identity import Graph, Identifier, Rules
from headwater.log import LogEntry
from headwater.profiles import store
from headwater.profiles.stage.items import Item, NewIds, item_of
from headwater.profiles.stage.locking import Loaded, owning_profiles, uncontended, unprocessed
from headwater.profiles.stage.rebuild import alias_readings, needs_replay, replay, windowed
from headwater.profiles.stage.writer import Writer
from headwater.storage import driver_connection

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
        (:func:`.locking.uncontended`); the rest wait for their locks in the caller's transaction.

        Events already linked to a profile (a redelivered batch) are skipped, checked once
        their identifiers are locked: whoever else processed them held those locks, so has
        committed by then."""
        driver = await driver_connection(connection)
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
            driver, workspace_id, kind, {i for item in items for i in item.event.mentions}
        )
        items = await unprocessed(driver, workspace_id, kind, items)
        if not items:
            return linked
        mentions = {i for item in items for i in item.event.mentions}
        loaded = await owning_profiles(driver, workspace_id, kind, mentions)
        applied, late = await _apply(driver, workspace_id, kind, items, rules, loaded)
        linked |= applied
        new_id = NewIds(workspace_id, kind)
        for item in late:
            linked |= await self._replay(driver, workspace_id, kind, item, rules, new_id, mentions)
        return linked

    async def _replay(
        self,
        driver: asyncpg.Connection,
        workspace_id: int,
        kind: str,
        item: Item,
        rules: Rules,
        new_id: NewIds,
        locked: set[Identifier],
    ) -> dict[str, str]:
        """Rebuild a late event's component (:func:`.rebuild.replay`); a method, so that
        tests can count the rebuilds."""
        return await replay(driver, workspace_id, kind, item, rules, new_id, locked)

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


async def _apply(
    driver: asyncpg.Connection,
    workspace_id: int,
    kind: str,
    items: list[Item],
    rules: Rules,
    loaded: Loaded,
) -> tuple[dict[str, str], list[Item]]:
    """Apply ``items`` (sorted, locked, their owners ``loaded``) and write the result;
    return message id -> profile id, and the late events that need a rebuild."""
    graph = Graph()
    for state in loaded.states:
        graph.load(state)
    readings = alias_readings(loaded.mentions)
    seen = await store.mentions(driver, workspace_id, kind, loaded.mentions | readings)
    graph.mark_seen({Identifier(*pair): key for pair, key in seen.items()})
    # A reading owned by a profile outside the graph has no mention row (see Writer).
    owned = (await store.owners(driver, workspace_id, kind, readings - seen.keys())).keys()
    is_windowed = windowed(rules)
    new_id = NewIds(workspace_id, kind)
    late: list[Item] = []
    for item in items:
        if needs_replay(graph, item.event, is_windowed, owned):
            late.append(item)
        else:
            graph.apply(item.event, rules, new_id)
    writer = Writer(
        driver, workspace_id, kind, loaded.before, graph, stored=loaded.stored, seen=seen
    )
    for item in items:
        if item not in late:
            writer.applied(item)
    await writer.flush()
    return {link.message_id: link.profile_id for link in writer.links}, late
