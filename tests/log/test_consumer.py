"""The consumer's batch transaction, on the PostgreSQL log."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater.log import Consumer, LogEntry
from tests.log.conftest import LogKit
from tests.log.test_contract import make_record


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

    consumer = Consumer(log, log_kit.engine, name="async-commit", handler=handler)
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

    consumer = Consumer(log, log_kit.engine, name="lagging", handler=handler, idle_seconds=0.05)
    assert await consumer.drain() == 4
    assert _lag("lagging") > 3600
    stop = asyncio.Event()
    running = asyncio.create_task(consumer.run(stop))
    await asyncio.sleep(1.0)  # idle rounds: nothing is left to read
    stop.set()
    await running
    assert _lag("lagging") == 0


def _lag(consumer: str) -> float:
    value = REGISTRY.get_sample_value("headwater_consumer_lag_seconds", {"consumer": consumer})
    assert value is not None
    return value
