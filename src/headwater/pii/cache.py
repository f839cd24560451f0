"""PII rules as the hot paths read them: every workspace's enabled rules and salts, loaded in
one query, compiled once per (workspace, source) and (workspace, source, destination).

:class:`Snapshot` is what one load holds; :class:`RuleBook` keeps the current snapshot for the
collector and the management API's masking, reloaded on the first read after a rule changed
(in the process that changed it, by :meth:`RuleBook.forget`; in every other process, when the
change's notification on :data:`CHANNEL` arrives, which :meth:`RuleBook.watch` listens for)
and, as a last resort should a notification be missed, when older than ``ttl`` seconds. A
reload keeps the compiled rules of the workspaces whose rules did not change
(:meth:`Snapshot.keep`); the routing stage loads one with its destinations (:func:`load`). A
source without rules costs one dict lookup per request and nothing per message.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncEngine

from headwater import workspaces
from headwater.pii import store
from headwater.pii.classify import RuleClassifier
from headwater.pii.rules import Compiled, Rule, compile_rules
from headwater.storage import STORAGE_ERRORS, Transaction, connected
from headwater.storage.listener import Listener
from headwater.supervisor import Health, first_set

__all__ = ["CHANNEL", "Applicable", "RuleBook", "Snapshot", "load"]

_log = logging.getLogger(__name__)

CHANNEL: Final = "headwater_pii_rules"
"""Notified by a trigger on ``pii_rules`` (migration 0033) in any transaction that changes a
rule: each process that hears it reloads its rules on the next read."""

_RETRY_SECONDS: Final = 5.0
"""How long :meth:`RuleBook.watch` waits to listen again after the database failed it."""


@dataclass(frozen=True, slots=True)
class Applicable:
    """Compiled rules and the salt they hash with."""

    rules: Compiled
    salt: bytes


@dataclass(slots=True)
class Snapshot:
    """Every workspace's enabled rules and salts at one moment."""

    rules: dict[int, list[Rule]]
    salts: dict[int, bytes]
    _collection: dict[tuple[int, int], Applicable | None] = field(default_factory=dict)
    _destination: dict[tuple[int, int, int], Applicable | None] = field(default_factory=dict)
    _classifiers: dict[int, RuleClassifier] = field(default_factory=dict)

    def collection(self, workspace_id: int, source_id: int) -> Applicable | None:
        """What applies at collection to the source's events, or None when nothing does."""
        key = (workspace_id, source_id)
        if key not in self._collection:
            rules = [r for r in self.rules.get(workspace_id, ()) if r.at_collection(source_id)]
            self._collection[key] = self._applicable(workspace_id, rules)
        return self._collection[key]

    def destination(
        self, workspace_id: int, source_id: int, destination_id: int
    ) -> Applicable | None:
        """What applies to the source's events sent to the destination, or None."""
        key = (workspace_id, source_id, destination_id)
        if key not in self._destination:
            rules = [
                r
                for r in self.rules.get(workspace_id, ())
                if r.for_destination(source_id, destination_id)
            ]
            self._destination[key] = self._applicable(workspace_id, rules)
        return self._destination[key]

    def keep(self, previous: Snapshot) -> None:
        """Take over ``previous``'s compiled rules (and what they learned: plans, programs)
        for the workspaces whose rules and salt did not change."""
        same = {
            workspace_id
            for workspace_id, rules in self.rules.items()
            if previous.rules.get(workspace_id) == rules
            and previous.salts.get(workspace_id) == self.salts.get(workspace_id)
        }
        for key, found in previous._collection.items():
            if key[0] in same:
                self._collection.setdefault(key, found)
        for destination_key, applicable in previous._destination.items():
            if destination_key[0] in same:
                self._destination.setdefault(destination_key, applicable)
        for workspace_id, classifier in previous._classifiers.items():
            if workspace_id in same:
                self._classifiers.setdefault(workspace_id, classifier)

    def has_destination_rules(self, workspace_id: int) -> bool:
        return any(r.destinations is not None for r in self.rules.get(workspace_id, ()))

    def classifier(self, workspace_id: int) -> RuleClassifier:
        """The workspace's masking classification (its ``mask`` rules over the default)."""
        found = self._classifiers.get(workspace_id)
        if found is None:
            found = self._classifiers[workspace_id] = RuleClassifier.of(
                self.rules.get(workspace_id, ())
            )
        return found

    def _applicable(self, workspace_id: int, rules: list[Rule]) -> Applicable | None:
        if not rules:
            return None
        return Applicable(compile_rules(rules), self.salts.get(workspace_id, b""))


async def load(connection: Transaction) -> Snapshot:
    """Every workspace's enabled rules and the salts of those that have rules."""
    rules = await store.all_rules(connection)
    salts = await store.salts(connection, list(rules)) if rules else {}
    return Snapshot(rules, salts)


class RuleBook:
    """The current :class:`Snapshot`, reloaded every ``ttl`` seconds (one query for all)."""

    def __init__(self, engine: AsyncEngine, *, ttl: float) -> None:
        self._engine = engine
        self._ttl = ttl
        self._snapshot: Snapshot | None = None
        self._loaded_at = -float("inf")
        self._lock = asyncio.Lock()
        self._slugs: dict[str, tuple[float, int | None]] = {}

    async def current(self) -> Snapshot:
        snapshot = self._snapshot
        if snapshot is not None and time.monotonic() - self._loaded_at < self._ttl:
            return snapshot
        async with self._lock:  # one load for the requests that found it stale together
            if self._snapshot is not None and time.monotonic() - self._loaded_at < self._ttl:
                return self._snapshot
            async with connected(self._engine) as connection:
                loaded = await load(connection)
            if self._snapshot is not None:
                loaded.keep(self._snapshot)
            self._snapshot, self._loaded_at = loaded, time.monotonic()
            return loaded

    def forget(self) -> None:
        """Reload on the next read (after a rule changed, here or elsewhere)."""
        self._loaded_at = -float("inf")

    async def watch(self, stop: asyncio.Event, health: Health) -> None:
        """Forget the rules whenever a change is notified, until ``stop`` (a supervised task
        of each process that collects). A listener that lost its connection forgets them once
        it listens again: what changed in between was not heard."""
        lost = asyncio.Event()
        listener = Listener(self._engine, CHANNEL, self._notified, on_lost=lost.set)
        try:
            while not stop.is_set():
                try:
                    if await listener.ensure():
                        self.forget()
                except STORAGE_ERRORS as error:
                    health.failed(error)
                    _log.warning("cannot listen for PII rule changes: %s", error)
                    self.forget()  # the TTL alone would keep rules that may have changed
                    await first_set(stop, lost, seconds=_RETRY_SECONDS)
                    continue
                health.ok()
                await first_set(stop, lost)
                lost.clear()
        finally:
            await listener.close()

    def _notified(self, _connection: Any, _pid: int, _channel: str, _payload: str) -> None:
        self.forget()

    async def classifier(self, workspace: str) -> RuleClassifier | None:
        """The masking classification of the workspace ``workspace`` (a slug), or None when
        there is no such workspace."""
        now = time.monotonic()
        cached = self._slugs.get(workspace)
        if cached is None or cached[0] <= now:
            async with connected(self._engine) as connection:
                found = await workspaces.find_workspace_id(connection, workspace)
            if len(self._slugs) > 10_000:
                self._slugs.clear()
            cached = self._slugs[workspace] = (now + self._ttl, found)
        if cached[1] is None:
            return None
        return (await self.current()).classifier(cached[1])
