"""What a running Headwater holds: the database, the event log, the collector and (unless
turned off) the background tasks, started and stopped together.

:func:`background` is the one composition of the background tasks (processor, audience
scheduler and relay, delivery workers) under a :class:`~headwater.supervisor.Supervisor`;
``headwater serve`` (through :class:`Runtime`) and ``headwater worker`` both use it."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.audiences import Relay, Scheduler
from headwater.collect import Collector
from headwater.delivery import DeliveryWorkers, enqueue_event
from headwater.log import EventLog, PostgresLog
from headwater.pipeline import Processor
from headwater.settings import Settings
from headwater.storage import STORAGE_ERRORS, Database, migrate, open_database
from headwater.supervisor import Supervisor
from headwater.workspaces import Bootstrap, bootstrap

__all__ = ["Runtime", "background", "tune_garbage_collector"]

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


def background(
    settings: Settings, engine: AsyncEngine, log: EventLog, processor: Processor
) -> Supervisor:
    """The background tasks of a process, under one supervisor (not started yet): the
    processor, the audience scheduler and relay (with ``run_processor``) and the delivery
    workers (with ``run_delivery``). ``headwater serve`` and ``headwater worker`` both run
    this set."""
    supervisor = Supervisor(restart_cap=settings.task_restart_max_seconds)
    if settings.run_processor:
        supervisor.add("processor", processor.run)
        interval = timedelta(seconds=settings.audience_recompute_seconds)
        supervisor.add("audience-scheduler", Scheduler(engine, interval=interval).run)
        # Audience changes reach destinations through the delivery engine's queue.
        supervisor.add("audience-relay", Relay(engine, enqueue=enqueue_event).run)
    if settings.run_delivery:
        supervisor.add("delivery", DeliveryWorkers(engine=engine, settings=settings).run)
    return supervisor


@dataclass
class Runtime:
    settings: Settings
    database: Database
    log: EventLog
    collector: Collector
    processor: Processor  # also replays recorded processing failures for the API
    tasks: Supervisor

    @classmethod
    async def start(
        cls, settings: Settings, *, announce: Callable[[Bootstrap], None] | None = None
    ) -> Runtime:
        """Open the database (starting embedded PostgreSQL if needed), migrate, bootstrap,
        start collecting and the background tasks."""
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
        processor = Processor(engine=database.engine, log=log, settings=settings)
        tasks = background(settings, database.engine, log, processor)
        tasks.add("dedup-purge", collector.purge)  # only where events are collected
        runtime = cls(settings, database, log, collector, processor, tasks)
        runtime.tasks.start()
        tune_garbage_collector()
        return runtime

    async def stop(self) -> None:
        await self.collector.stop()
        await self.tasks.stop()
        await self.log.close()
        await self.database.close()

    async def ready(self) -> dict[str, Any]:
        """What ``/ready`` answers: ``ready`` when the collector's writers run, the database
        answers ``SELECT 1`` (within ``_READY_TIMEOUT`` seconds) and every background task is
        up; each part's state beside it."""
        database = await self._database_answers()
        report: dict[str, Any] = {
            "ready": database and self.collector.ready and self.tasks.up,
            "database": "up" if database else "down",
            "collector": "up" if self.collector.ready else "down",
            "tasks": self.tasks.report(),
        }
        return report

    async def _database_answers(self) -> bool:
        try:
            async with asyncio.timeout(_READY_TIMEOUT), self.database.engine.connect() as db:
                await db.execute(text("SELECT 1"))
        except _NOT_ANSWERING:
            return False
        return True


_READY_TIMEOUT = 5.0
# asyncio.timeout's TimeoutError is an OSError: one of STORAGE_ERRORS.
_NOT_ANSWERING: tuple[type[BaseException], ...] = (*STORAGE_ERRORS, PoolTimeout)
