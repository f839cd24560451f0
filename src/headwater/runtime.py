"""The one composition root: what a running Headwater holds, built, started and stopped together.

>>> runtime = await Runtime.start(settings, role=Role.SERVE)   # or Role.WORKER
>>> runtime.tasks.report()["processor"]["state"]               # every background task's state
'up'
>>> runtime.metrics.exposition()                               # what /metrics answers
>>> await runtime.stop()

``headwater serve`` (the API app's lifespan, in each of its processes) starts a ``serve``
runtime: the database (embedded PostgreSQL if needed), migrations, the first-start bootstrap,
the collector and the background tasks. ``headwater worker`` starts a ``worker`` runtime: the
same without bootstrap and collector. Both roles build the event log, the processor and the
background tasks here, each task under the runtime's one
:class:`~headwater.supervisor.Supervisor`: the processor, the audience scheduler and relay
and the regulation job (with ``run_processor``), the delivery workers (with ``run_delivery``)
and, where events are collected, the dedup purge and the suppressions' watch; the reverse ETL
task (with ``run_retl``; a worker gives it a collector of its own). Every part
that records metrics is handed the runtime's one :class:`~headwater.telemetry.metrics.Metrics`,
which ``/metrics`` and the worker's metrics port serve; :meth:`Runtime.ready` is the
readiness report of either role.
"""

from __future__ import annotations

import asyncio
import enum
import gc
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.access import FirstOwner, bootstrap_owner
from headwater.audiences import Relay, Scheduler
from headwater.collect import Collector
from headwater.delivery import DeliveryWorkers, enqueue_event, enqueue_events
from headwater.destinations import enabled_destinations
from headwater.imports import Importer
from headwater.journeys import AudienceEntries, Caller, Runner
from headwater.log import EventLog, JetStreamLog, PostgresLog, StreamOptions
from headwater.pipeline import Processor
from headwater.privacy import (
    DestinationForwarder,
    Exporter,
    Person,
    Regulator,
    RetentionTask,
    erase_from_stores,
)
from headwater.retl import SyncTask
from headwater.settings import Settings
from headwater.spec import format_timestamp
from headwater.storage import STORAGE_ERRORS, Database, Transaction, migrate, open_database
from headwater.supervisor import Supervisor
from headwater.telemetry.metrics import Metrics
from headwater.workspaces import Bootstrap, bootstrap

__all__ = ["FirstStart", "Role", "Runtime", "tune_garbage_collector"]

GC_THRESHOLDS = (50_000, 20, 10)


def tune_garbage_collector() -> None:
    """Collect less often, and never rescan what start-up loaded.

    The processor allocates and frees millions of short-lived objects (log entries, decoded
    payloads, rows), nearly all freed by reference counting; with Python's default thresholds
    (700, 10, 10) the cycle collector still runs thousands of times a minute and rescans the
    long-lived objects, which cost the identity stage 10-12 µs of its ~60 µs of Python per
    event. A young generation of 50,000 makes that about one µs. Objects loaded at start-up
    (modules, the application) are frozen out of the scans. Called once per process, after
    start-up, by :meth:`Runtime.start` (``headwater serve`` and ``headwater worker``).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


class Role(enum.StrEnum):
    """What a process runs: ``serve`` collects events (the tracking API) besides the background
    tasks; ``worker`` runs the background tasks only."""

    SERVE = "serve"
    WORKER = "worker"


@dataclass(frozen=True)
class FirstStart:
    """What a start created, shown once: the default workspace and source (on an empty
    database), the first owner (while there is none)."""

    workspace: Bootstrap | None
    owner: FirstOwner | None


@dataclass
class Runtime:
    settings: Settings
    role: Role
    database: Database
    log: EventLog
    processor: Processor  # also replays recorded processing failures for the API
    tasks: Supervisor
    metrics: Metrics
    _collector: Collector | None
    _importer: Importer | None
    _retl_collector: Collector | None = None
    """A worker's collector for reverse ETL's messages (``serve`` uses its own)."""

    @classmethod
    async def start(
        cls,
        settings: Settings,
        *,
        role: Role = Role.SERVE,
        announce: Callable[[FirstStart], None] | None = None,
    ) -> Runtime:
        """Open the database (starting embedded PostgreSQL if needed) and migrate; for
        ``serve``, bootstrap (``announce`` hears what the first start created) and start
        collecting; then start the background tasks."""
        database = await open_database(settings, pool_size=_pool_size(settings, role))
        metrics = Metrics()
        try:
            await migrate(database.engine)
            log = event_log(settings, database.engine)
            collector = None
            if role is Role.SERVE:
                created = FirstStart(
                    workspace=await bootstrap(database.engine),
                    owner=await bootstrap_owner(
                        database.engine,
                        admin_token=settings.admin_token,
                        email=settings.owner_email,
                        password=settings.owner_password,
                    ),
                )
                if (created.workspace or created.owner) and announce is not None:
                    announce(created)
                collector = Collector(
                    engine=database.engine, log=log, settings=settings, metrics=metrics
                )
                await collector.start()
        except BaseException:
            await database.close()
            raise
        processor = Processor(engine=database.engine, log=log, settings=settings, metrics=metrics)
        tasks = _background(settings, database.engine, log, processor, metrics, collector)
        importer = None
        if collector is not None:
            tasks.add("dedup-purge", collector.purge)  # only where events are collected
            tasks.add("suppressions", collector.suppressions.watch)
            tasks.add("pii-rules", collector.pii.watch)
            importer = Importer(
                engine=database.engine,
                collector=collector,
                settings=settings,
                worker_start=tune_garbage_collector,
            )
            tasks.add("imports", importer.run)
        retl_collector = None
        if settings.run_retl:
            # Reverse ETL's messages enter through the tracking API's path: a worker builds a
            # collector for them alone.
            if collector is None:
                retl_collector = Collector(
                    engine=database.engine, log=log, settings=settings, metrics=metrics
                )
                await retl_collector.start()
            retl = SyncTask(database.engine, settings, collector=collector or retl_collector)
            tasks.add("reverse-etl", retl.run)
        runtime = cls(
            settings,
            role,
            database,
            log,
            processor,
            tasks,
            metrics,
            collector,
            importer,
            retl_collector,
        )
        runtime.tasks.start()
        tune_garbage_collector()
        return runtime

    @property
    def collector(self) -> Collector:
        """The collector, which only a ``serve`` runtime has (the API's routes reach it)."""
        if self._collector is None:
            raise LookupError(f"a {self.role} runtime collects no events")
        return self._collector

    @property
    def importer(self) -> Importer:
        """The file importer, which only a ``serve`` runtime has."""
        if self._importer is None:
            raise LookupError(f"a {self.role} runtime imports no files")
        return self._importer

    async def stop(self) -> None:
        if self._importer is not None:
            await self._importer.close()
        if self._collector is not None:
            await self._collector.stop()
        await self.tasks.stop()
        if self._retl_collector is not None:
            await self._retl_collector.stop()
        await self.log.close()
        await self.database.close()

    async def ready(self) -> dict[str, Any]:
        """What ``/ready`` answers: ``ready`` when the database answers ``SELECT 1`` (within
        ``_READY_TIMEOUT`` seconds), the collector's writers run (``serve`` only: a worker's
        report has no ``collector``) and every background task is up; each part's state
        beside it."""
        database = await self._database_answers()
        log = await self._log_answers()
        collecting = self._collector is None or self._collector.ready
        report: dict[str, Any] = {
            "ready": database and log and collecting and self.tasks.up,
            "database": "up" if database else "down",
        }
        if self.settings.event_log != "postgres":
            report["log"] = "up" if log else "down"
        if self._collector is not None:
            report["collector"] = "up" if collecting else "down"
        # Times in the one format of every answer.
        report["tasks"] = {
            name: {**task, "since": format_timestamp(task["since"])}
            for name, task in self.tasks.report().items()
        }
        return report

    async def _log_answers(self) -> bool:
        try:
            async with asyncio.timeout(_READY_TIMEOUT):
                return await self.log.reachable()
        except TimeoutError:
            return False

    async def _database_answers(self) -> bool:
        try:
            async with asyncio.timeout(_READY_TIMEOUT), self.database.engine.connect() as db:
                await db.execute(text("SELECT 1"))
        except _NOT_ANSWERING:
            return False
        return True


def event_log(settings: Settings, engine: AsyncEngine) -> EventLog:
    """The log ``settings.event_log`` names: PostgreSQL, or NATS JetStream beside it."""
    if settings.event_log == "nats":
        options = StreamOptions(
            name=settings.nats_stream,
            replicas=settings.nats_replicas,
            duplicate_window_seconds=settings.nats_duplicate_window_seconds,
            max_age_seconds=settings.nats_max_age.total_seconds(),
        )
        return JetStreamLog(
            engine, settings.log_partitions, urls=settings.nats_urls, options=options
        )
    return PostgresLog(engine, settings.log_partitions)


def _pool_size(settings: Settings, role: Role) -> int:
    """The processor's connections and a few for the scheduler, the relay, delivery and their
    listeners (a pool too small for them opens and closes a connection per checkout); under
    ``serve``, room for the API's connections too (10 by default)."""
    if role is Role.SERVE:
        return max(10, settings.processor_connections() + 5)
    return settings.processor_connections() + 4


def _background(
    settings: Settings,
    engine: AsyncEngine,
    log: EventLog,
    processor: Processor,
    metrics: Metrics,
    collector: Collector | None = None,
) -> Supervisor:
    """The background tasks both roles run, under one supervisor (not started yet): the
    processor, the audience scheduler and relay, the journey runner and caller, the regulation
    job (with ``run_processor``), the delivery workers (with ``run_delivery``) and the privacy
    exporter (always)."""
    supervisor = Supervisor(
        metrics=metrics,
        restart_cap=settings.task_restart_max_seconds,
        stop_grace=settings.stop_grace_seconds,
    )
    if settings.run_processor:
        supervisor.add("processor", processor.run)
        interval = timedelta(seconds=settings.audience_recompute_seconds)
        supervisor.add("audience-scheduler", Scheduler(engine, interval=interval).run)
        # Audience changes reach destinations through the delivery engine's queue, and
        # journeys with audience triggers.
        relay = Relay(engine, enqueue=enqueue_event, changed=AudienceEntries().changed)
        supervisor.add("audience-relay", relay.run)
        # Journeys move on (waits end, actions run) in a runner beside the processor.
        runner = Runner(engine, log=log, enqueue=enqueue_events, destinations=_enabled_destinations)
        supervisor.add("journey-runner", runner.run)
        supervisor.add("journey-calls", Caller(engine).run)
        supervisor.add("regulations", _regulator(settings, engine, log, collector).run)
    supervisor.add("retention", RetentionTask(engine, settings).run)
    if settings.run_delivery:
        workers = DeliveryWorkers(engine=engine, settings=settings, metrics=metrics)
        supervisor.add("delivery", workers.run)
    # Subject access exports, in every process: each claims a job with SKIP LOCKED.
    supervisor.add("privacy-exports", Exporter(engine, log).run)
    return supervisor


def _regulator(
    settings: Settings, engine: AsyncEngine, log: EventLog, collector: Collector | None
) -> Regulator:
    """The regulation job, with what it erases and forwards through: a person is erased from
    every store (``privacy.erase``, with this log), and deletions go to every destination
    whose connector deletes. Where this process collects events, its collector reloads a
    workspace's suppressions as soon as the job changes them."""

    async def erase_person(tx: Transaction, person: Person) -> dict[str, int]:
        return await erase_from_stores(tx, person, log=log)

    return Regulator(
        engine,
        log,
        erase=erase_person,
        forwarder=DestinationForwarder(engine, settings),
        lease=timedelta(seconds=settings.regulation_lease_seconds),
        retry_base=timedelta(seconds=settings.regulation_retry_seconds),
        max_attempts=settings.regulation_max_attempts,
        suppressions_changed=None if collector is None else collector.suppressions.reload,
    )


async def _enabled_destinations(tx: Transaction) -> dict[int, int]:
    """The enabled destinations a journey may send to: id -> workspace id."""
    return {d.id: d.workspace_id for d in await enabled_destinations(tx)}


_READY_TIMEOUT = 5.0
# asyncio.timeout's TimeoutError is an OSError: one of STORAGE_ERRORS.
_NOT_ANSWERING: tuple[type[BaseException], ...] = (*STORAGE_ERRORS, PoolTimeout)
