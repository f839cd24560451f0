"""Duplicates are recorded, with their payload, for a day (the live debugger shows them), then
forgotten by the housekeeping round; their counts stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.collect.store import DUPLICATES_KEPT, insert_duplicates, purge_duplicates
from headwater.collect.tables import duplicates
from headwater.storage import connected


async def test_duplicates_older_than_a_day_are_forgotten(engine: AsyncEngine) -> None:
    now = datetime.now(UTC)
    old = now - DUPLICATES_KEPT - timedelta(minutes=1)
    async with connected(engine) as tx:
        await insert_duplicates(
            tx,
            [
                (1, 1, old, "track", "Paid", "old-1", '{"event": "Paid"}'),
                (1, 1, now, "track", "Paid", "new-1", '{"event": "Paid"}'),
            ],
        )
    async with connected(engine) as tx:
        assert await purge_duplicates(tx) == 1
    async with connected(engine) as tx:
        rows = list(await tx.execute(select(duplicates.c.message_id, duplicates.c.payload)))
    assert [(row.message_id, row.payload) for row in rows] == [("new-1", {"event": "Paid"})]
