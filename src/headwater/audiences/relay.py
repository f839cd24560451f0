"""The activation relay: hands logged changes (the ``audience_changes`` outbox) to the
delivery engine, for every destination the computation lists.

>>> relay = Relay(engine, enqueue=delivery.enqueue_event, changed=journeys_hear)  # runtime.py
>>> await relay.run(stop)

Each turn claims undelivered changes in id order (``FOR UPDATE SKIP LOCKED``, so several
processes share the work), builds their events (``activation.payloads``) and calls
``enqueue(connection, destination_id=..., event=...)`` inside the same transaction, then marks
them delivered: a change is queued for its destinations exactly when it is marked. One that the
delivery engine refuses is marked with the error instead of blocking the others. Exits of
merged-away profiles are not sent: their identifiers now belong to the survivor, whose
membership was recomputed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.audiences import reads, store
from headwater.audiences.activation import Change, Identity, payloads
from headwater.storage import STORAGE_ERRORS, UNSTORABLE_ERRORS, Transaction
from headwater.supervisor import Health, first_set

__all__ = ["Changed", "Enqueue", "Relay"]

logger = logging.getLogger(__name__)


class Enqueue(Protocol):
    def __call__(
        self, tx: Transaction, *, destination_id: int, event: dict[str, Any]
    ) -> Awaitable[bool]: ...


class Changed(Protocol):
    def __call__(self, tx: Transaction, changes: list[dict[str, Any]]) -> Awaitable[None]: ...


class Relay:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        enqueue: Enqueue,
        changed: Changed | None = None,
        batch: int = 500,
        tick: float = 0.5,
    ) -> None:
        """``enqueue`` queues one event for one destination in the given connection's
        transaction (the delivery engine's ``enqueue_event``); ``changed`` hears of each batch
        of changes in that transaction too (the journeys' audience triggers)."""
        self.engine, self.enqueue, self.batch, self.tick = engine, enqueue, batch, tick
        self.changed = changed

    async def turn(self) -> int:
        """Hand over one batch of undelivered changes; return how many were handled."""
        async with self.engine.begin() as connection:
            # Not begun: the reads run as they did, the savepoints below begin the transaction.
            tx = await Transaction.of(connection)
            rows = await reads.undelivered(tx, self.batch)
            if not rows:
                return 0
            identities = await reads.identities(tx, {r["profile_id"] for r in rows})
            errors: dict[int, str] = {}
            for row in rows:
                if row["cause"] == "merged":
                    continue
                change = Change(
                    id=row["id"],
                    key=row["key"],
                    kind=row["kind"],
                    profile_id=row["profile_id"],
                    change=row["change"],
                    value=row["value"],
                    at=row["at"],
                    computation_id=row["computation_id"],
                )
                events = payloads(change, identities.get(row["profile_id"], Identity()))
                for destination_id in row["destinations"]:
                    try:
                        async with connection.begin_nested():
                            for event in events:
                                await self.enqueue(tx, destination_id=destination_id, event=event)
                    except UNSTORABLE_ERRORS as error:
                        errors[row["id"]] = f"destination {destination_id}: {error}"
            if self.changed is not None:
                try:
                    async with connection.begin_nested():
                        await self.changed(tx, rows)
                except UNSTORABLE_ERRORS:
                    # journeys miss these changes; destinations still get them
                    logger.exception("journeys could not take %d audience changes", len(rows))
            await store.mark_delivered(tx, [r["id"] for r in rows], errors)
        return len(rows)

    async def run(self, stop: asyncio.Event, health: Health | None = None) -> None:
        """Relay until ``stop``; a full batch is followed at once by the next one. A database
        outage is logged, reported to ``health`` and retried."""
        health = health if health is not None else Health("audience-relay")
        while not stop.is_set():
            handled = 0
            try:
                handled = await self.turn()
            except STORAGE_ERRORS as error:
                health.failed(error)
                logger.warning("audience relay failed; retrying", exc_info=True)
            else:
                health.ok()
            if handled < self.batch:
                await first_set(stop, seconds=self.tick)
