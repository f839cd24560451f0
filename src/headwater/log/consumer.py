"""A consumer group member: leases partitions, reads them in order, hands batches to a handler.

>>> consumer = Consumer(log, engine, name="processor", handler=process_batch)
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
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence

from prometheus_client import Counter, Gauge
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from headwater.log.base import EventLog, LogEntry
from headwater.storage import STORAGE_ERRORS
from headwater.supervisor import Health

__all__ = ["Consumer", "Handler"]

_log = logging.getLogger(__name__)

Handler = Callable[[Sequence[LogEntry], AsyncConnection], Awaitable[None]]

PROCESSED = Counter(
    "headwater_consumer_events_total", "Log entries processed, by consumer", ["consumer"]
)
FAILURES = Counter(
    "headwater_consumer_failures_total",
    "Rounds (a batch, a lease renewal, a wait) that failed and will be retried",
    ["consumer"],
)
CONFLICTS = Counter(
    "headwater_consumer_conflicts_total",
    "Batches PostgreSQL rolled back to break a deadlock (or a serialization failure), retried",
    ["consumer"],
)
LAG = Gauge(
    "headwater_consumer_lag_seconds",
    "Age of the newest entry of the last batch, at processing time; 0 once caught up",
    ["consumer"],
    multiprocess_mode="max",
)


class Consumer:
    def __init__(
        self,
        log: EventLog,
        engine: AsyncEngine,
        *,
        name: str,
        handler: Handler,
        batch_size: int = 500,
        concurrency: int = 1,
        lease_seconds: float = 15.0,
        idle_seconds: float = 0.5,
    ) -> None:
        """``concurrency``: how many partitions are processed at once (each on its own
        connection and transaction; one partition is never processed twice at once)."""
        self.name = name
        self.owner = f"{name}-{uuid.uuid4().hex[:12]}"
        self._log = log
        self._engine = engine
        self._handler = handler
        self._batch_size = batch_size
        self._concurrency = max(1, concurrency)
        self._lease_seconds = lease_seconds
        self._idle_seconds = idle_seconds
        self.partitions: list[int] = []
        self._backoff = 0.0

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
                        LAG.labels(self.name).set(0)  # caught up: no entry is waiting
                        await self._log.wait(self._idle_seconds)
                # The top loop of a worker: any failure rolls the batch back and is retried.
                except Exception as error:  # noqa: BLE001
                    renew_at = 0.0  # the leases may have lapsed meanwhile: claim them first
                    await self._failed(error, health, stop)
        finally:
            await self._release()

    async def _failed(self, error: Exception, health: Health, stop: asyncio.Event) -> None:
        FAILURES.labels(self.name).inc()
        health.failed(error)
        self._backoff = min(max(self._backoff * 2, 0.1), 5.0)
        _log.error(
            "%s: round failed (%s); retrying in %.1fs",
            self.owner,
            error,
            self._backoff,
            exc_info=True,
        )
        await _sleep_or_stop(stop, self._backoff)

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
        for attempt in range(_CONFLICT_RETRIES + 1):
            try:
                await self._process(partition, entries)
                break
            except Exception as error:
                if attempt == _CONFLICT_RETRIES or _sqlstate(error) not in _CONFLICTS:
                    raise
                CONFLICTS.labels(self.name).inc()
                _log.info("%s: partition %d: %s; retrying", self.owner, partition, error)
        PROCESSED.labels(self.name).inc(len(entries))
        LAG.labels(self.name).set(time.time() - entries[-1].received_at.timestamp())
        return len(entries)

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


def _sqlstate(error: BaseException) -> str | None:
    """The SQLSTATE of a database error, whether asyncpg raised it or SQLAlchemy wrapped it."""
    seen: BaseException | None = error
    while seen is not None:
        state = getattr(seen, "sqlstate", None)
        if isinstance(state, str):
            return state
        seen = getattr(seen, "orig", None) or seen.__cause__
    return None


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        return
