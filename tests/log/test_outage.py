"""A database outage under a running consumer: it keeps running, says it is failing, and once
the database is back it processes what came meanwhile and wakes on new appends again."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater.log import Consumer, LogEntry, PostgresLog
from headwater.storage import create_engine
from headwater.supervisor import Health, State
from headwater.telemetry.metrics import Metrics
from tests.cable import Cable
from tests.log.test_contract import make_record

PARTITIONS = 4


async def _until(probe: Callable[[], bool], what: str, within: float = 20.0) -> None:
    for _ in range(int(within / 0.02)):
        if probe():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.parametrize("idle_seconds", [0.2, 60.0], ids=["polling", "listening"])
async def test_a_consumer_outlives_an_outage_and_wakes_on_appends_after_it(
    database_url: str, idle_seconds: float
) -> None:
    """The consumer's database goes away (its connections drop, new ones are refused) for
    longer than its leases, then comes back. Appends come from elsewhere meanwhile.

    With short idle waits, the consumer renews its leases and waits during the outage: both
    fail, and it must go on. With a long one (60 s), after the outage only a notification on
    a LISTEN made anew can wake it for the last append within the test's time."""
    direct = create_engine(database_url, pool_size=2)
    writer = PostgresLog(direct, PARTITIONS)
    seen: list[str] = []

    async def handler(entries: Sequence[LogEntry], connection: AsyncConnection) -> None:
        seen.extend(entry.message_id for entry in entries)

    with Cable(database_url) as cable:
        engine = create_engine(cable.url, pool_size=4)
        log = PostgresLog(engine, PARTITIONS)
        consumer = Consumer(
            log,
            engine,
            name="outage",
            handler=handler,
            metrics=Metrics(),
            lease_seconds=1.5,
            idle_seconds=idle_seconds,
        )
        health = Health("outage-consumer")
        stop = asyncio.Event()
        running = asyncio.create_task(consumer.run(stop, health))
        try:
            await writer.append([make_record(f"before-{i}", user_id=f"u{i}") for i in range(8)])
            await _until(lambda: len(seen) == 8, "the first events")
            await _until(lambda: health.state is State.UP, "the consumer to report up")

            cable.cut()
            await writer.append([make_record(f"during-{i}", user_id=f"u{i}") for i in range(8)])
            await _until(lambda: health.state is State.FAILING, "the consumer to report it")
            await asyncio.sleep(2.0)  # past the leases: renewing them fails too
            assert not running.done(), running
            assert health.error is not None

            cable.mend()
            await _until(lambda: len(seen) == 16, "the events appended during the outage")
            await _until(lambda: health.state is State.UP, "the consumer to recover")
            await writer.append([make_record(f"after-{i}", user_id=f"u{i}") for i in range(8)])
            await _until(lambda: len(seen) == 24, "a notification after the outage", within=10)
            assert sorted(seen) == sorted(
                f"{when}-{i}" for when in ("before", "during", "after") for i in range(8)
            )
        finally:
            stop.set()
            await writer.append([make_record("wake-up", user_id="u0")])  # ends the idle wait
            await running
            await log.close()
            await engine.dispose()
            await direct.dispose()
