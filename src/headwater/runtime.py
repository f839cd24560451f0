"""What a running Headwater holds: the database, the event log, the collector and (unless
turned off) the processor and the delivery workers, started and stopped together."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import text

from headwater.audiences import Relay, Scheduler
from headwater.collect import Collector
from headwater.destinations import DeliveryWorkers, enqueue_event
from headwater.log import EventLog, PostgresLog
from headwater.pipeline import Processor
from headwater.settings import Settings
from headwater.storage import Database, migrate, open_database
from headwater.workspaces import Bootstrap, bootstrap

__all__ = ["Runtime"]


@dataclass
class Runtime:
    settings: Settings
    database: Database
    log: EventLog
    collector: Collector
    processor: Processor
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _processing: asyncio.Task[None] | None = None
    _delivering: asyncio.Task[None] | None = None
    _scheduling: asyncio.Task[None] | None = None
    _relaying: asyncio.Task[None] | None = None

    @classmethod
    async def start(
        cls, settings: Settings, *, announce: Callable[[Bootstrap], None] | None = None
    ) -> Runtime:
        """Open the database (starting embedded PostgreSQL if needed), migrate, bootstrap."""
        database = await open_database(settings)
        try:
            await migrate(database.engine)
            created = await bootstrap(database.engine, admin_token=settings.admin_token)
            if created is not None and announce is not None:
                announce(created)
            log = PostgresLog(database.engine, settings.log_partitions)
            collector = Collector(engine=database.engine, log=log, settings=settings)
            await collector.start()
        except BaseException:
            await database.close()
            raise
        runtime = cls(
            settings,
            database,
            log,
            collector,
            Processor(engine=database.engine, log=log, settings=settings),
        )
        if settings.run_processor:
            runtime._processing = asyncio.create_task(runtime.processor.run(runtime._stop))
            scheduler = Scheduler(
                database.engine, interval=timedelta(seconds=settings.audience_recompute_seconds)
            )
            runtime._scheduling = asyncio.create_task(scheduler.run(runtime._stop))
            # Audience changes reach destinations through the delivery engine's queue.
            relay = Relay(database.engine, enqueue=enqueue_event)
            runtime._relaying = asyncio.create_task(relay.run(runtime._stop))
        if settings.run_delivery:
            workers = DeliveryWorkers(engine=database.engine, settings=settings)
            runtime._delivering = asyncio.create_task(workers.run(runtime._stop))
        return runtime

    async def stop(self) -> None:
        await self.collector.stop()
        self._stop.set()
        for task in (self._processing, self._delivering, self._scheduling, self._relaying):
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.log.close()
        await self.database.close()

    async def ready(self) -> bool:
        """The database answers and the collector's writers run."""
        if not self.collector.ready:
            return False
        async with self.database.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return True
