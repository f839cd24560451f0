"""What a running Headwater holds: the database, the event log, the collector and (unless
turned off) the processor and the delivery workers, started and stopped together."""

from __future__ import annotations

import asyncio
import contextlib
import gc
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

__all__ = ["Runtime", "tune_garbage_collector"]

GC_THRESHOLDS = (50_000, 20, 10)


def tune_garbage_collector() -> None:
    """Collect less often, and never rescan what start-up loaded.

    The processor allocates and frees millions of short-lived objects (log entries, decoded
    payloads, rows), nearly all freed by reference counting; with Python's default thresholds
    (700, 10, 10) the cycle collector still runs thousands of times a minute and rescans the
    long-lived objects, which cost the identity stage 10-12 µs of its ~60 µs of Python per
    event. A young generation of 50,000 makes that about one µs. Objects loaded at start-up
    (modules, the application) are frozen out of the scans. Called once per process, after
    start-up: by :meth:`Runtime.start` (``headwater serve``) and by ``headwater worker``.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


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
        # Room for the processor's connections beside the API's (10 by default).
        database = await open_database(
            settings, pool_size=max(10, settings.processor_connections() + 5)
        )
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
        tune_garbage_collector()
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
