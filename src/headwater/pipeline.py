"""The processor: the pipeline stages run over batches of the event log.

>>> processor = Processor(engine=engine, log=log, settings=settings)
>>> await processor.run(stop)          # or: await processor.drain() in tests and benchmarks

Each batch (one partition, in offset order) runs through every stage in one transaction; the
consumer offset commits in the same transaction. (The profile stage commits the events that
no other batch holds anything of first, on a connection of its own, so that batches sharing a
few people do not wait for each other's whole batch.) Stages are idempotent, so a batch delivered
twice (after a crash, or from a log outside PostgreSQL) changes nothing the second time.
Today's stages: tracking plans (first: blocked events go no further), identity and profiles,
real-time audiences and computed traits (on the profiles just resolved), then routing to
destinations (last: it only enqueues deliveries), in the order of ``../shared/DESIGN.md``'s
data flow.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from headwater.audiences import AudienceStage
from headwater.destinations import RoutingStage
from headwater.log import Consumer, EventLog, LogEntry
from headwater.profiles import ProfileStage
from headwater.protocols import ProtocolStage
from headwater.settings import Settings
from headwater.supervisor import Health

__all__ = ["Processor", "Stage"]

CONSUMER = "processor"


class Stage(Protocol):
    async def process(
        self, entries: Sequence[LogEntry], connection: AsyncConnection
    ) -> Sequence[LogEntry]:
        """Apply the stage to a batch, inside the caller's transaction (a stage may commit
        effects of its own before, as long as a redelivered batch skips them); idempotent.

        Return the entries the next stage sees: all of them, or fewer (a tracking plan blocks
        some) or changed ones (it omits properties or attaches violations).
        """


class Processor:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        log: EventLog,
        settings: Settings,
        stages: list[Stage] | None = None,
        name: str = CONSUMER,
    ) -> None:
        """``stages`` default to the pipeline's; ``name`` is the consumer (its own offsets)."""
        self.stages: list[Stage] = (
            [
                ProtocolStage(),
                ProfileStage(),
                AudienceStage(),
                RoutingStage(refresh_seconds=settings.destinations_refresh_seconds),
            ]
            if stages is None
            else stages
        )
        self.consumer = Consumer(
            log,
            engine,
            name=name,
            handler=self._handle,
            batch_size=settings.processor_batch_size,
            concurrency=settings.processor_concurrency,
        )

    async def _handle(self, entries: Sequence[LogEntry], connection: AsyncConnection) -> None:
        for stage in self.stages:
            if not entries:
                return
            entries = await stage.process(entries, connection)

    async def run(self, stop: asyncio.Event, health: Health | None = None) -> None:
        """Process until ``stop`` is set (leases shared with every other processor), reporting
        each round to ``health``."""
        await self.consumer.run(stop, health)

    async def drain(self) -> int:
        """Process everything appended so far on this consumer's partitions; return the count."""
        return await self.consumer.drain()
