"""The processor: the pipeline stages run over batches of the event log.

>>> processor = Processor(engine=engine, log=log, settings=settings, metrics=metrics)
>>> await processor.run(stop)          # or: await processor.drain() in tests and benchmarks

Each batch (one partition, in offset order) runs through every stage in one transaction; the
consumer offset commits in the same transaction. (The profile stage commits the events that
no other batch holds anything of first, on a connection of its own, so that batches sharing a
few people do not wait for each other's whole batch.) Stages are idempotent, so a batch delivered
twice (after a crash, or from a log outside PostgreSQL) changes nothing the second time.
Today's stages: tracking plans (first: blocked events go no further), identity and profiles,
real-time audiences and computed traits (on the profiles just resolved), journeys (entries,
exits, woken waits, goals; the runner moves instances on beside the processor), then routing
to destinations (last: it only enqueues deliveries), in the order of ``../shared/DESIGN.md``'s
data flow.

An entry that a stage fails on alone (the consumer isolates it; see
:mod:`headwater.log.consumer`) is recorded as a processing failure with the stage and the
reason (:mod:`headwater.pipeline.failures`), and the partition goes on.
:meth:`Processor.replay` runs recorded failures through the stages again once the cause is
fixed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from headwater import workspaces
from headwater.audiences import AudienceStage
from headwater.batch import Batch
from headwater.journeys import JourneyStage
from headwater.log import Consumer, EventLog, LogEntry, is_transient
from headwater.pipeline import failures
from headwater.pipeline.views import FailureView, ReplayedFailuresView
from headwater.profiles import ProfileStage
from headwater.protocols import ProtocolStage
from headwater.routing import RoutingStage
from headwater.settings import Settings
from headwater.storage import Transaction, connected, transaction
from headwater.supervisor import Health
from headwater.telemetry.metrics import Metrics

__all__ = ["CONSUMER", "Processor", "Stage", "StageFailed", "list_failures"]

CONSUMER = "processor"


class ProcessorMetrics:
    """The processor's metrics (a group of :class:`~headwater.telemetry.metrics.Metrics`)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.failures = Counter(
            "headwater_processing_failures_total",
            "Events a processor stage failed on alone, recorded as processing failures",
            ["stage"],
            registry=registry,
        )


class Stage(Protocol):
    async def process(self, batch: Batch, connection: AsyncConnection) -> None:
        """Apply the stage to a batch, inside the caller's transaction (a stage may commit
        effects of its own before, as long as a redelivered batch skips them); idempotent.

        The stage reads what earlier stages recorded in ``batch`` and records what it learns
        for the later ones (see :class:`~headwater.batch.Batch`). ``batch.entries`` are the
        entries the next stage sees: all of them, or fewer (a tracking plan blocks some,
        recording them with :meth:`~headwater.batch.Batch.block`) or changed ones (it omits
        properties or attaches violations).
        """


def _default_stages(settings: Settings, metrics: Metrics) -> list[Stage]:
    return [
        ProtocolStage(metrics),
        ProfileStage(metrics, rebuild_limit=settings.identity_rebuild_limit),
        AudienceStage(),
        JourneyStage(),
        RoutingStage(metrics, refresh_seconds=settings.destinations_refresh_seconds),
    ]


async def _run_stages(
    stages: list[Stage], entries: Sequence[LogEntry], connection: AsyncConnection
) -> None:
    """Run ``entries`` through ``stages`` as one :class:`~headwater.batch.Batch`; a stage's
    error is raised as :class:`StageFailed`."""
    batch = Batch(entries)
    for stage in stages:
        if not batch.entries:
            return
        try:
            await stage.process(batch, connection)
        except Exception as error:
            raise StageFailed(_stage_name(stage), error) from error


class StageFailed(Exception):
    """A stage raised on a batch; the cause is chained (``__cause__``)."""

    def __init__(self, stage: str, cause: BaseException) -> None:
        super().__init__(f"{stage} stage: {cause}")
        self.stage = stage
        self.reason = _reason(cause)


def _reason(error: BaseException) -> str:
    """What went wrong, for people: the error's class, its SQLSTATE when the database raised
    it, and its text (the driver's, without the statement SQLAlchemy adds when it wraps one)."""
    cause = getattr(error, "orig", None) or error
    state = getattr(cause, "sqlstate", None)
    kind = type(cause).__name__
    return f"{kind} ({state}): {cause}" if state else f"{kind}: {cause}"


def _stage_name(stage: Stage) -> str:
    """``ProfileStage`` -> ``profile``: the name failures and metrics give a stage."""
    return type(stage).__name__.removesuffix("Stage").lower() or "stage"


class Processor:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        log: EventLog,
        settings: Settings,
        metrics: Metrics,
        stages: list[Stage] | None = None,
        name: str = CONSUMER,
    ) -> None:
        """``stages`` default to the pipeline's; ``name`` is the consumer (its own offsets);
        ``metrics``: where the processor, its consumer and its stages record."""
        self.metrics = metrics
        self._failures = metrics.of(ProcessorMetrics).failures
        self.stages: list[Stage] = _default_stages(settings, metrics) if stages is None else stages
        self._engine, self._log, self._settings = engine, log, settings
        self._name = name
        self._given_stages = stages is not None
        self.consumer = Consumer(
            log,
            engine,
            name=name,
            handler=self._handle,
            metrics=metrics,
            isolate=self._isolate,
            batch_size=settings.processor_batch_size,
            concurrency=settings.processor_concurrency,
        )

    async def _handle(self, entries: Sequence[LogEntry], connection: AsyncConnection) -> None:
        await _run_stages(self.stages, entries, connection)

    async def _isolate(
        self, entry: LogEntry, error: BaseException, connection: AsyncConnection
    ) -> None:
        """Record an entry the stages failed on alone (the consumer's ``isolate``)."""
        stage, reason = _stage_and_reason(error)
        await failures.record(await Transaction.of(connection), entry, stage, reason)
        await self._log.set_aside(entry, consumer=self._name, stage=stage, reason=reason)
        self._failures.labels(stage).inc()

    async def replay(self, *, workspace: str, ids: list[int] | None = None) -> ReplayedFailuresView:
        """Run a workspace's open failures (``ids``, or all) through the stages again, one by
        one, each in a transaction of its own: a failure that passes is ``resolved``, one
        that fails again stays ``open`` with the new stage and reason. Idempotent: only open
        failures are replayed, each by one replay at a time, and the stages skip what an
        earlier run of the same ``messageId`` did. The stages are fresh ones, so that a fix
        (identity rules, a plan, a destination) applies at once, not when the processor's caches
        expire. 404 for an unknown workspace."""
        async with connected(self._engine) as connection:
            workspace_id = await workspaces.workspace_id(connection, workspace)
            found = await failures.find(connection, workspace_id, ids)
        outcome: dict[str, list[FailureView]] = {"resolved": [], "failed": []}
        stages = (
            self.stages if self._given_stages else _default_stages(self._settings, self.metrics)
        )
        for failure in found:
            again = await self._replay_one(stages, workspace_id, failure.id)
            if again is not None:
                outcome["resolved" if again.status == "resolved" else "failed"].append(
                    again.to_json()
                )
        replayed = sum(len(v) for v in outcome.values())
        return {"replayed": replayed, "resolved": outcome["resolved"], "failed": outcome["failed"]}

    async def _replay_one(
        self, stages: list[Stage], workspace_id: int, failure_id: int
    ) -> failures.Failure | None:
        """Replay one failure; its row afterwards, None when it is no longer open."""
        try:
            async with transaction(self._engine) as connection:
                locked = await failures.find(connection, workspace_id, [failure_id], lock=True)
                if not locked:
                    return None  # resolved meanwhile, or being replayed by another call
                failure = locked[0]
                await _run_stages(stages, [await self._entry(failure)], connection.connection)
                await failures.resolved(connection, failure.id)
        except Exception as error:
            if is_transient(error):
                raise  # the database is away: nothing was learnt about the event
            # A replay's top loop: the failure is recorded again, with the new reason.
            stage, reason = _stage_and_reason(error)
            async with transaction(self._engine) as connection:
                await failures.failed_again(connection, failure_id, stage, reason)
        async with connected(self._engine) as connection:
            return (await failures.rows(connection, [failure_id]))[0]

    async def _entry(self, failure: failures.Failure) -> LogEntry:
        read = await self._log.read(failure.log_partition, after=failure.log_offset - 1, limit=1)
        if not read or read[0].offset != failure.log_offset:
            raise EntryGone(
                f"log entry {failure.log_partition}/{failure.log_offset} is no longer in the log"
            )
        return read[0]

    async def run(self, stop: asyncio.Event, health: Health | None = None) -> None:
        """Process until ``stop`` is set (leases shared with every other processor), reporting
        each round to ``health``."""
        await self.consumer.run(stop, health)

    async def drain(self) -> int:
        """Process everything appended so far on this consumer's partitions; return the count."""
        return await self.consumer.drain()


async def list_failures(
    engine: AsyncEngine,
    *,
    workspace: str,
    status: str | None = "open",
    before: int | None = None,
    limit: int = 50,
) -> list[FailureView]:
    """A workspace's processing failures, newest first (page with ``before``, an id);
    ``status`` None: all. 404 for an unknown workspace."""
    async with connected(engine) as connection:
        workspace_id = await workspaces.workspace_id(connection, workspace)
        found = await failures.listed(
            connection, workspace_id, status=status, before=before, limit=min(max(limit, 1), 1000)
        )
    return [failure.to_json() for failure in found]


class EntryGone(Exception):
    """A failure's log entry was removed (log retention) before it was replayed."""


def _stage_and_reason(error: BaseException) -> tuple[str, str]:
    if isinstance(error, StageFailed):
        return error.stage, error.reason
    return ("replay" if isinstance(error, EntryGone) else "processor"), _reason(error)
