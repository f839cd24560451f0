"""The PostgreSQL log's read is one range of the (partition, seq) index, whatever the planner
believes about costs: a walk of the primary key that filters out the other partitions reads
every partition's entries to return one's (ten times the work at 16 partitions)."""

from __future__ import annotations

import re

from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.log import LogRecord, PostgresLog
from headwater.log.postgres import _READ
from headwater.storage import driver_connection
from tests.log.test_contract import make_record

PARTITIONS = 16


async def test_a_read_scans_only_its_partition(engine: AsyncEngine) -> None:
    log = PostgresLog(engine, PARTITIONS)
    try:
        records: list[LogRecord] = [
            make_record(f"m-{i}", user_id=f"user-{i}") for i in range(20_000)
        ]
        for start in range(0, len(records), 5_000):
            await log.append(records[start : start + 5_000])
        partition = log.partition_of("user-1")
        async with engine.connect() as connection:
            driver = await driver_connection(connection)
            await driver.execute("ANALYZE events")
            plan = "\n".join(
                row[0]
                for row in await driver.fetch(
                    f"EXPLAIN (ANALYZE, COSTS OFF) {_READ}", partition, 100, 500
                )
            )
            entries = await log.read(partition, after=100, limit=500)
    finally:
        await log.close()

    # Each day partition (and the default one) is read through its own copy of the index.
    assert re.search(r"Index Scan using events\w*partition_seq", plan), plan
    assert "Seq Scan" not in plan, plan
    assert "Rows Removed by Filter" not in plan, plan
    assert len(entries) == 500
    assert {e.partition for e in entries} == {partition}
    assert [e.offset for e in entries] == sorted(e.offset for e in entries)
    assert entries[0].offset > 100
