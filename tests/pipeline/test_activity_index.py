"""The batch recompute's index on profile events (``profile_events_activity``): an event whose
name no index row could hold is stored beside it (the index leaves it out), and an audience's
event condition still reads the index alone (an index-only scan), long-named events counted."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.audiences.conditions import parse_audience
from headwater.audiences.sql import Refs, audience_query
from headwater.storage import driver_connection
from tests.pipeline.test_failures import incompressible

NOW = datetime(2026, 3, 1, tzinfo=UTC)
LONG = incompressible(3000)
WIDEST = "".join(chr(0x1F300 + ord(c) * 7 % 700) for c in incompressible(600))
"""600 four-byte characters: the longest name in the index (2,400 bytes, incompressible)."""


async def _plan_and_members(engine: AsyncEngine, event: str) -> tuple[str, set[str]]:
    definition = parse_audience(
        {
            "version": 1,
            "condition": {"type": "event", "event": event, "window": {"within_days": 30}},
        }
    )
    query = audience_query(definition, workspace_id=1, subject="user", refs=Refs(), now=NOW)
    async with engine.connect() as connection:
        driver = await driver_connection(connection)
        await driver.execute("SET enable_seqscan = off")  # a few rows: cost is no guide
        plan = "\n".join(
            row[0] for row in await driver.fetch(f"EXPLAIN (COSTS OFF) {query.sql}", *query.params)
        )
        members = {row[0] for row in await driver.fetch(query.sql, *query.params)}
    return plan, members


async def test_a_long_event_name_is_stored_and_counted(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        driver = await driver_connection(connection)
        await driver.executemany(
            "INSERT INTO profiles (id, workspace_id, kind, first_ts, first_message_id, last_ts,"
            " last_message_id) VALUES ($1, 1, 'user', $2, $1, $2, $1)",
            [("p-short", NOW), ("p-long", NOW), ("p-widest", NOW)],
        )
        await driver.executemany(
            "INSERT INTO profile_events (workspace_id, kind, message_id, profile_id, seq,"
            " timestamp, type, name, mentions) VALUES (1, 'user', $1, $2, $3, $4, 'track', $5,"
            " '[]')",
            [
                ("m1", "p-short", 1, NOW, "Order Completed"),
                ("m2", "p-long", 2, NOW, LONG),
                ("m3", "p-widest", 3, NOW, WIDEST),
            ],
        )
    plan, members = await _plan_and_members(engine, "Order Completed")
    assert "Index Only Scan using profile_events_activity" in plan, plan
    assert members == {"p-short"}
    _, members = await _plan_and_members(engine, LONG)
    assert members == {"p-long"}
    assert len(WIDEST.encode()) == 2400
    plan, members = await _plan_and_members(engine, WIDEST)
    assert "Index Only Scan using profile_events_activity" in plan, plan
    assert members == {"p-widest"}
