"""The profile stage's orchestration: :class:`ProfileStage` takes a batch by workspace,
resolves its users then its accounts, each first through the early side commit
(:func:`.locking.uncontended`), then in the caller's transaction with the identifier locks
taken in order, and rebuilds the components of late events (:mod:`.rebuild`)."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from prometheus_client import CollectorRegistry, Counter
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
from headwater.telemetry.metrics import Metrics

__all__ = ["REBUILD_LIMIT", "IdentityMetrics", "ProfileStage"]

_log = logging.getLogger(__name__)

_RULES_TTL = 5.0

REBUILD_LIMIT = 20_000
"""The default ``rebuild_limit``: a component past it is almost always one identifier shared
by people who are not one person (a kiosk's device id, a placeholder email), where reading
every event again for each late batch would stall processing."""


class IdentityMetrics:
    """The profile stage's metrics (a group of :class:`~headwater.telemetry.metrics.Metrics`):
    ``headwater_identity_rebuilds_total{outcome}``, per batch with late events, ``rebuilt``
    in canonical order or applied in arrival order because ``too_large``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        rebuilds = Counter(
            "headwater_identity_rebuilds_total",
            "Batches whose late events had their identity components rebuilt in canonical"
            " order, or were applied in arrival order because the components were too large",
            ["outcome"],
            registry=registry,
        )
        self.rebuilds = {outcome: rebuilds.labels(outcome) for outcome in ("rebuilt", "too_large")}


class ProfileStage:
    """Identity and profiles; see :mod:`headwater.profiles.stage`."""

    def __init__(
        self,
        metrics: Metrics | None = None,
        *,
        early_commit: bool = True,
        rebuild_limit: int = REBUILD_LIMIT,
    ) -> None:
        """``metrics``: where the rebuilds are counted (a registry of its own if None).
        ``early_commit``: commit the events no other transaction holds anything of first,
        apart (see :meth:`_resolve`); off, the whole batch waits for its locks in the
        caller's transaction (tests of the waiting way use that). ``rebuild_limit``: the
        most stored events a batch's late events may reach and still be rebuilt in
        canonical order (see :meth:`_late`)."""
        self.early_commit = early_commit
        self.rebuild_limit = rebuild_limit
        self._metrics = (metrics or Metrics()).of(IdentityMetrics)
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
        if late:
            _update(linked, await self._late(tx, workspace_id, kind, late, rules, mentions))
        return linked

    async def _late(
        self,
        tx: Transaction,
        workspace_id: int,
        kind: str,
        late: list[Item],
        rules: Rules,
        locked: set[Identifier],
    ) -> Written:
        """Rebuild the late events' components in one pass; when they hold more than the
        stage's ``rebuild_limit`` events, apply the late events in arrival order instead,
        counted and logged (see :class:`IdentityMetrics`)."""
        new_id = NewIds(workspace_id, kind)
        written = await self._replay(tx, workspace_id, kind, late, rules, new_id, locked)
        if written is not None:
            self._metrics.rebuilds["rebuilt"].inc()
            return written
        self._metrics.rebuilds["too_large"].inc()
        _log.warning(
            "identity: %d late %s events of workspace %d applied in arrival order; their"
            " components hold more than %d events, too many to rebuild in canonical order",
            len(late),
            kind,
            workspace_id,
            self.rebuild_limit,
        )
        mentions = {i for item in late for i in item.event.mentions}
        loaded = await owning_profiles(tx, workspace_id, kind, mentions)
        written, _ = await _apply(tx, workspace_id, kind, late, rules, loaded, rebuild=False)
        return written

    async def _replay(
        self,
        tx: Transaction,
        workspace_id: int,
        kind: str,
        late: list[Item],
        rules: Rules,
        new_id: NewIds,
        locked: set[Identifier],
    ) -> Written | None:
        """Rebuild the late events' components (:func:`.rebuild.replay`); a method, so that
        tests can count the rebuilds."""
        return await replay(tx, workspace_id, kind, late, rules, new_id, locked, self.rebuild_limit)

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
    *,
    rebuild: bool = True,
) -> tuple[Written, list[Item]]:
    """Apply ``items`` (sorted, locked, their owners ``loaded``) and write the result;
    return what was written, and the late events that need a rebuild (with ``rebuild``
    off, none: every event is applied as it comes)."""
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
        if rebuild and needs_replay(graph, item.event, is_windowed, owned):
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
