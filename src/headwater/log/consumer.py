"""A consumer group member: leases partitions, reads them in order, hands batches to a handler.

>>> consumer = Consumer(log, engine, name="processor", handler=process_batch, metrics=metrics)
>>> await consumer.run_until(stop_event)

For each leased partition, the consumer reads a batch after the committed offset and calls
``handler(entries, connection)`` inside one transaction, then commits the offset on the same
connection before the transaction ends. With the PostgreSQL log, effects and offset commit
together; with a log elsewhere the offset commits right after, and a crash in between
redelivers the batch: handlers must be idempotent (the ``messageId`` is the key).

A handler that raises rolls its batch back; the consumer logs the failure, waits (growing
back-off, capped) and retries from the committed offset, so a poison batch is visible in the
logs and in ``headwater_consumer_failures_total`` rather than skipped silently. Renewing the
leases and waiting for appends fail and are retried the same way (the database is away:
:meth:`Consumer.run` outlives the outage and reports it to its
:class:`~headwater.supervisor.Health`). A batch that
PostgreSQL rolled back to break a deadlock (or a serialization failure) is no failure of its
own: it is retried at once, up to ``_CONFLICT_RETRIES`` times, and counted in
``headwater_consumer_conflicts_total``.

One event must not hold back the others of its partition (of every workspace). With an
``isolate`` callback, a batch that failed for any other reason than an outage of the database
(connection lost, server shutting down, out of resources: :func:`is_transient`) is processed
again in halves, each in a transaction of its own that commits its offset, down to the single
entries that fail alone. Each of those is handed to ``isolate`` (which records it) in a
transaction that commits the offset past it, and counted in
``headwater_consumer_isolated_total``; the rest of the batch is processed as usual. A batch
without a failing entry costs nothing more than before.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence

import asyncpg
from prometheus_client import CollectorRegistry, Counter, Gauge
from sqlalchemy import exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from headwater.log.base import EventLog, LogEntry
from headwater.storage import STORAGE_ERRORS
from headwater.supervisor import Health, first_set
from headwater.telemetry.metrics import Metrics

__all__ = ["Consumer", "ConsumerMetrics", "Handler", "Isolate", "is_transient"]

_log = logging.getLogger(__name__)

Handler = Callable[[Sequence[LogEntry], AsyncConnection], Awaitable[None]]
Isolate = Callable[[LogEntry, BaseException, AsyncConnection], Awaitable[None]]
"""Records an entry that fails alone, inside the transaction that commits the offset past it."""


class ConsumerMetrics:
    """Consumers' metrics, by consumer name (a group of
    :class:`~headwater.telemetry.metrics.Metrics`)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.processed = Counter(
            "headwater_consumer_events_total",
            "Log entries processed, by consumer",
            ["consumer"],
            registry=registry,
        )
        self.failures = Counter(
            "headwater_consumer_failures_total",
            "Rounds (a batch, a lease renewal, a wait) that failed and will be retried",
            ["consumer"],
            registry=registry,
        )
        self.conflicts = Counter(
            "headwater_consumer_conflicts_total",
            "Batches PostgreSQL rolled back to break a deadlock (or a serialization failure),"
            " retried",
            ["consumer"],
            registry=registry,
        )
        self.isolated = Counter(
            "headwater_consumer_isolated_total",
            "Log entries that failed alone, were handed to the consumer's isolate callback and"
            " skipped",
            ["consumer"],
            registry=registry,
        )
        self.lag = Gauge(
            "headwater_consumer_lag_seconds",
            "Age of the newest entry of the last batch, at processing time; 0 once caught up",
            ["consumer"],
            multiprocess_mode="max",
            registry=registry,
        )


class Consumer:
    def __init__(
        self,
        log: EventLog,
        engine: AsyncEngine,
        *,
        name: str,
        handler: Handler,
        metrics: Metrics,
        isolate: Isolate | None = None,
        batch_size: int = 500,
        concurrency: int = 1,
        lease_seconds: float = 15.0,
        idle_seconds: float = 0.5,
    ) -> None:
        """``concurrency``: how many partitions are processed at once (each on its own
        connection and transaction; one partition is never processed twice at once).
        ``isolate``: without it, a failing batch is retried as a whole until it passes.
        ``metrics``: where its :class:`ConsumerMetrics` are recorded, labelled ``name``."""
        self.name = name
        self.owner = f"{name}-{uuid.uuid4().hex[:12]}"
        self._log = log
        self._engine = engine
        self._handler = handler
        self._isolate = isolate
        self._batch_size = batch_size
        self._concurrency = max(1, concurrency)
        self._lease_seconds = lease_seconds
        self._idle_seconds = idle_seconds
        self.partitions: list[int] = []
        self._backoff = 0.0
        self.metrics = metrics
        self._metrics = metrics.of(ConsumerMetrics)

    async def run(self, stop: asyncio.Event, health: Health | None = None) -> None:
        """Consume until ``stop`` is set; then release the leases. Every round (renewing the
        leases, reading, processing, waiting for appends) that fails is logged, reported to
        ``health`` and retried after a back-off; a round that works reports ``ok``."""
        health = health if health is not None else Health(self.name)
        renew_at = 0.0
        try:
            while not stop.is_set():
                try:
                    if time.monotonic() >= renew_at:
                        self.partitions = await self._claim()
                        renew_at = time.monotonic() + self._lease_seconds / 3
                    busy = await self.poll()
                    self._backoff = 0.0
                    health.ok()
                    if not busy:
                        self._metrics.lag.labels(self.name).set(0)  # caught up: no entry is waiting
                        await self._log.wait(self._idle_seconds)
                # The top loop of a worker: any failure rolls the batch back and is retried.
                except Exception as error:  # noqa: BLE001
                    renew_at = 0.0  # the leases may have lapsed meanwhile: claim them first
                    await self._failed(error, health, stop)
        finally:
            await self._release()

    async def _failed(self, error: Exception, health: Health, stop: asyncio.Event) -> None:
        self._metrics.failures.labels(self.name).inc()
        health.failed(error)
        self._backoff = min(max(self._backoff * 2, 0.1), 5.0)
        _log.error(
            "%s: round failed (%s); retrying in %.1fs",
            self.owner,
            error,
            self._backoff,
            exc_info=True,
        )
        await first_set(stop, seconds=self._backoff)

    async def _release(self) -> None:
        try:
            await self._log.release(self.name, self.owner)
        except STORAGE_ERRORS as error:
            _log.warning(
                "%s: leases not released (%s); they expire by themselves", self.owner, error
            )

    async def poll(self) -> bool:
        """Process one batch from each leased partition; True when any had entries."""
        return await self._round() > 0

    async def drain(self) -> int:
        """Process until every leased partition is caught up; return how many entries."""
        self.partitions = await self._claim()
        total = 0
        while processed := await self._round():
            total += processed
        return total

    async def _round(self) -> int:
        """One batch from each leased partition with entries after its committed offset,
        ``concurrency`` partitions at a time; the number of entries processed. The first
        failure is raised once every batch of the round has committed or rolled back.

        Which partitions have entries, and their committed offsets, come from one query
        (:meth:`EventLog.pending`): an idle round is one round trip, not two per partition.
        Offsets are read afresh every round, never kept, so a consumer that lost a lease and
        got it back resumes from what the other owner committed.
        """
        pending = iter(list((await self._log.pending(self.name, self.partitions)).items()))
        counts: list[int] = []
        errors: list[BaseException] = []

        async def work() -> None:
            for partition, after in pending:
                try:
                    counts.append(await self._process_partition(partition, after))
                except Exception as error:  # noqa: BLE001 - raised below, after the others
                    errors.append(error)

        await asyncio.gather(*(work() for _ in range(self._concurrency)))
        if errors:
            raise errors[0]
        return sum(counts)

    async def _claim(self) -> list[int]:
        return await self._log.claim(self.name, self.owner, ttl_seconds=self._lease_seconds)

    async def _process_partition(self, partition: int, after: int) -> int:
        entries = await self._log.read(partition, after=after, limit=self._batch_size)
        if not entries:
            return 0
        try:
            await self._process_retrying(partition, entries)
        # Not an outage: some entry's fault. Finding it is this worker's dead letter.
        except Exception as error:
            if self._isolate is None or is_transient(error):
                raise
            _log.warning("%s: partition %d: %s; isolating", self.owner, partition, error)
            await self._bisect(partition, entries, self._isolate)
        self._metrics.processed.labels(self.name).inc(len(entries))
        self._metrics.lag.labels(self.name).set(time.time() - entries[-1].received_at.timestamp())
        return len(entries)

    async def _process_retrying(self, partition: int, entries: Sequence[LogEntry]) -> None:
        """Process a batch, retried at once when PostgreSQL rolled it back for a conflict."""
        for attempt in range(_CONFLICT_RETRIES + 1):
            try:
                await self._process(partition, entries)
                return
            except Exception as error:
                if attempt == _CONFLICT_RETRIES or _sqlstate(error) not in _CONFLICTS:
                    raise
                self._metrics.conflicts.labels(self.name).inc()
                _log.info("%s: partition %d: %s; retrying", self.owner, partition, error)

    async def _bisect(self, partition: int, entries: Sequence[LogEntry], isolate: Isolate) -> None:
        """Process ``entries`` (known to fail together) in halves, in offset order, down to the
        entries that fail alone, which are isolated. An outage raises, as for a whole batch:
        the halves done so far have committed their offsets, the rest is retried."""
        if len(entries) == 1:
            await self._isolate_one(partition, entries[0], isolate)
            return
        middle = len(entries) // 2
        for half in (entries[:middle], entries[middle:]):
            try:
                await self._process_retrying(partition, half)
            except Exception as error:
                if is_transient(error):
                    raise
                await self._bisect(partition, half, isolate)

    async def _isolate_one(self, partition: int, entry: LogEntry, isolate: Isolate) -> None:
        try:
            await self._process_retrying(partition, [entry])
            return  # it failed beside others, not alone
        except Exception as error:
            if is_transient(error):
                raise
            failure = error
        async with self._engine.begin() as connection:
            await isolate(entry, failure, connection)
            await self._log.commit(self.name, partition, entry.offset, connection=connection)
        self._metrics.isolated.labels(self.name).inc()
        _log.error(
            "%s: partition %d: entry %d (workspace %d, messageId %r) failed alone and was"
            " isolated: %s",
            self.owner,
            partition,
            entry.offset,
            entry.workspace_id,
            entry.message_id,
            failure,
        )

    async def _process(self, partition: int, entries: Sequence[LogEntry]) -> None:
        async with self._engine.begin() as connection:
            # The batch's effects derive from the log and reapplying them changes nothing: a
            # commit lost in a database crash is redone from the offset before it. Waiting for
            # the WAL flush would hold the batch's locks through an fsync (see docs/operations.md).
            await connection.exec_driver_sql("SET LOCAL synchronous_commit = off")
            await self._handler(entries, connection)
            await self._log.commit(self.name, partition, entries[-1].offset, connection=connection)


_CONFLICT_RETRIES = 3
_CONFLICTS = {"40P01", "40001"}  # deadlock_detected, serialization_failure
_TRANSIENT_STATES = {"55P03", "57014"}  # lock_not_available, query_canceled (timeouts)
_TRANSIENT_CLASSES = {"08", "40", "53", "57", "58", "XX"}
"""Connection exceptions, transaction rollbacks, insufficient resources, operator
intervention (shutdown, cannot connect now), system and internal errors."""


_TRANSIENT_TYPES = (
    OSError,  # ConnectionError, TimeoutError among them
    asyncpg.InterfaceError,  # connection closed or in use
    exc.DisconnectionError,
    exc.TimeoutError,  # no pooled connection in time
)


def is_transient(error: BaseException) -> bool:
    """Whether ``error`` says the database is away or busy rather than that the batch is bad:
    such a batch is retried whole, later. Anything else (a value refused, an index row too
    large, a bug that some event reaches) is a failure of some entry of the batch.

    >>> is_transient(ConnectionRefusedError())
    True
    >>> is_transient(ValueError("bad"))
    False
    """
    state = _sqlstate(error)
    if state is not None:
        return state in _TRANSIENT_STATES or state[:2] in _TRANSIENT_CLASSES
    return any(isinstance(seen, _TRANSIENT_TYPES) for seen in _chain(error)) or any(
        getattr(seen, "connection_invalidated", False) for seen in _chain(error)
    )


def _chain(error: BaseException) -> Iterator[BaseException]:
    """``error`` and what it wraps: SQLAlchemy's ``orig``, explicit causes."""
    seen: BaseException | None = error
    while seen is not None:
        yield seen
        seen = getattr(seen, "orig", None) or seen.__cause__


def _sqlstate(error: BaseException) -> str | None:
    """The SQLSTATE of a database error, whether asyncpg raised it or SQLAlchemy wrapped it."""
    for seen in _chain(error):
        state = getattr(seen, "sqlstate", None)
        if isinstance(state, str):
            return state
    return None
