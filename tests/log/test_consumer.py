"""The consumer's batch transaction, on the PostgreSQL log."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater.log import Consumer, LogEntry
from headwater.telemetry.metrics import Metrics
from tests.log.conftest import LogKit
from tests.log.test_contract import make_record

# PostgreSQL behaviour (transactions, outages, the database's errors): not part of the contract.
pytestmark = pytest.mark.parametrize("log_kit", ["postgres"], indirect=True)


async def test_a_batch_commits_without_waiting_for_the_wal_flush_and_only_the_batch(
    log_kit: LogKit,
) -> None:
    """Batches commit asynchronously (their effects are redone from the log after a crash);
    the setting is local to the batch's transaction, so collection keeps durable commits on
    the same pool."""
    assert log_kit.engine is not None
    log = log_kit.make()
    await log.append([make_record(f"m-{i}", user_id=f"user-{i}") for i in range(12)])
    seen: list[tuple[str, int]] = []

    async def handler(entries: Sequence[LogEntry], connection: AsyncConnection) -> None:
        setting = await connection.exec_driver_sql("SHOW synchronous_commit")
        seen.append((str(setting.scalar_one()), len(entries)))

    consumer = Consumer(
        log, log_kit.engine, name="async-commit", handler=handler, metrics=Metrics()
    )
    assert await consumer.drain() == 12
    assert {setting for setting, _ in seen} == {"off"}
    assert sum(count for _, count in seen) == 12
    async with log_kit.engine.connect() as connection:
        after = await connection.exec_driver_sql("SHOW synchronous_commit")
        assert after.scalar_one() == "on"
    assert sum([await log.committed("async-commit", p) > 0 for p in range(log.partitions)]) == len(
        seen
    )


async def test_the_lag_gauge_reads_zero_once_the_consumer_has_caught_up(log_kit: LogKit) -> None:
    assert log_kit.engine is not None
    log = log_kit.make()
    # Events received long ago: the batches that process them report a large lag.
    await log.append([make_record(f"old-{i}", user_id=f"user-{i}") for i in range(4)])

    async def handler(entries: Sequence[LogEntry], connection: AsyncConnection) -> None:
        return None

    consumer = Consumer(
        log, log_kit.engine, name="lagging", handler=handler, metrics=Metrics(), idle_seconds=0.05
    )
    assert await consumer.drain() == 4
    assert _lag(consumer) > 3600
    stop = asyncio.Event()
    running = asyncio.create_task(consumer.run(stop))
    await asyncio.sleep(1.0)  # idle rounds: nothing is left to read
    stop.set()
    await running
    assert _lag(consumer) == 0


def _lag(consumer: Consumer) -> float:
    value = consumer.metrics.sample("headwater_consumer_lag_seconds", {"consumer": consumer.name})
    assert value is not None
    return value


async def test_a_batch_rolled_back_to_break_a_deadlock_is_retried_at_once(log_kit: LogKit) -> None:
    """Two partitions' batches lock two keys in opposite orders: PostgreSQL fails one of them
    to break the deadlock. That batch is retried at once (no failure, no back-off) and both
    commit; the conflict is counted."""
    assert log_kit.engine is not None
    log = log_kit.make()
    records = [make_record(f"d-{i}", user_id=f"user-{i}") for i in range(64)]
    await log.append(records)
    partitions = [p for p in range(log.partitions) if await log.read(p, after=0, limit=1)][:2]
    both_hold_one = asyncio.Barrier(2)
    attempts: dict[int, int] = {}
    processed: list[str] = []

    async def handler(entries: Sequence[LogEntry], connection: AsyncConnection) -> None:
        partition = entries[0].partition
        attempts[partition] = attempts.get(partition, 0) + 1
        if partition in partitions and attempts[partition] == 1:
            first, second = (1, 2) if partition == partitions[0] else (2, 1)
            await connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock(91000{first})")
            await asyncio.wait_for(both_hold_one.wait(), 10)
            await connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock(91000{second})")
        processed.extend(e.message_id for e in entries)

    consumer = Consumer(
        log,
        log_kit.engine,
        name="deadlocked",
        handler=handler,
        metrics=Metrics(),
        batch_size=100,
        concurrency=2,
    )
    consumer.partitions = list(range(log.partitions))
    assert await consumer.poll()
    conflicts = consumer.metrics.sample(
        "headwater_consumer_conflicts_total", {"consumer": "deadlocked"}
    )
    failures = consumer.metrics.sample(
        "headwater_consumer_failures_total", {"consumer": "deadlocked"}
    )
    assert conflicts == 1
    assert not failures
    assert sorted(attempts[p] for p in partitions) == [1, 2]
    for partition in partitions:
        assert await log.committed("deadlocked", partition) > 0
    assert sorted(processed) == sorted(r.event.message_id for r in records)
