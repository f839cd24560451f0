"""Real-time audiences and computed traits through the processor (profile stage, then the
audience stage) on a real PostgreSQL, checked against the batch recompute on the same data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from headwater import audiences
from headwater.audiences import AudienceStage
from headwater.log import LogRecord, PostgresLog
from headwater.pipeline import Processor
from headwater.profiles import ProfileStage
from headwater.settings import Settings
from headwater.spec import Envelope, Event, normalise
from headwater.telemetry.metrics import Metrics
from headwater.workspaces import bootstrap

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class Pipeline:
    """A workspace, its event log and a processor with the profile and audience stages."""

    def __init__(self, engine: AsyncEngine, settings: Settings) -> None:
        self.engine = engine
        self.log = PostgresLog(engine, settings.log_partitions)
        self.stage = AudienceStage(clock=lambda: NOW)
        self.processor = Processor(
            engine=engine,
            log=self.log,
            settings=settings,
            metrics=Metrics(),
            stages=[ProfileStage(), self.stage],
        )

    async def send(self, *messages: dict[str, Any]) -> None:
        envelope = Envelope(received_at=NOW)
        events = []
        for index, message in enumerate(messages):
            event = normalise(message, index=index, route_type=None, envelope=envelope)
            assert isinstance(event, Event), event
            events.append(LogRecord(workspace_id=1, source_id=1, event=event))
        await self.log.append(events)
        while await self.processor.drain():
            pass

    async def values(self) -> dict[tuple[str, str], Any]:
        async with self.engine.connect() as connection:
            rows = await connection.exec_driver_sql(
                "SELECT c.key, v.profile_id, v.value FROM computed_values v"
                " JOIN computations c ON c.id = v.computation_id"
            )
            return {(row[0], row[1]): row[2] for row in rows}

    async def changes(self) -> list[dict[str, Any]]:
        async with self.engine.connect() as connection:
            rows = await connection.exec_driver_sql(
                "SELECT key, profile_id, change, cause, message_id, value FROM audience_changes"
                " ORDER BY id"
            )
            return [dict(row._mapping) for row in rows]

    async def profile_of(self, user_id: str) -> str:
        async with self.engine.connect() as connection:
            rows = await connection.exec_driver_sql(
                "SELECT profile_id FROM identifiers WHERE type = 'user_id' AND value = $1",
                (user_id,),
            )
            return str(rows.scalar_one())


async def _setup(engine: AsyncEngine, settings: Settings) -> Pipeline:
    await bootstrap(engine)
    definitions: list[tuple[str, str, dict[str, Any]]] = [
        (
            "trait",
            "spend_30d",
            {
                "kind": "sum",
                "event": "Order Completed",
                "property": "total",
                "window": {"within_days": 30},
            },
        ),
        ("trait", "orders", {"kind": "counter", "event": "Order Completed"}),
        (
            "trait",
            "top_category",
            {"kind": "most_frequent", "event": "Product Viewed", "property": "category"},
        ),
        (
            "audience",
            "buyers",
            {
                "condition": {
                    "type": "event",
                    "event": "Order Completed",
                    "window": {"within_days": 30},
                    "count": {"operator": "at_least", "value": 2},
                }
            },
        ),
        (
            "audience",
            "pro_buyers",
            {
                "condition": {
                    "type": "and",
                    "conditions": [
                        {"type": "audience", "audience": "buyers"},
                        {"type": "trait", "trait": "plan", "operator": "equals", "value": "pro"},
                    ],
                }
            },
        ),
        (
            "audience",
            "big_spenders",
            {
                "condition": {
                    "type": "trait",
                    "trait": "spend_30d",
                    "operator": "at_least",
                    "value": 100,
                }
            },
        ),
        (
            "audience",
            "viewed_then_bought",
            {
                "condition": {
                    "type": "funnel",
                    "first": {"event": "Product Viewed"},
                    "then": {"event": "Order Completed"},
                    "within_hours": 24,
                }
            },
        ),
        (
            "audience",
            "window_shoppers",
            {
                "condition": {
                    "type": "and",
                    "conditions": [
                        {"type": "event", "event": "Product Viewed"},
                        {"type": "event", "event": "Order Completed", "performed": False},
                    ],
                }
            },
        ),
    ]
    for kind, key, body in definitions:
        await audiences.create(
            engine,
            workspace="default",
            kind=kind,
            key=key,
            name=key,
            definition={"version": 1, **body},
        )
    return Pipeline(engine, settings)


def at(days_ago: float) -> str:
    return (NOW - timedelta(days=days_ago)).isoformat()


async def test_real_time_and_batch_agree_and_windows_expire(
    engine: AsyncEngine, settings: Settings
) -> None:
    pipeline = await _setup(engine, settings)
    await pipeline.send(
        {"type": "identify", "userId": "ada", "traits": {"plan": "pro"}, "timestamp": at(10)},
        {
            "type": "track",
            "userId": "ada",
            "event": "Product Viewed",
            "timestamp": at(3),
            "properties": {"category": "shoes"},
        },
        {
            "type": "track",
            "userId": "ada",
            "event": "Order Completed",
            "timestamp": at(2.9),
            "properties": {"total": 60.5},
        },
        {
            "type": "track",
            "userId": "ada",
            "event": "Order Completed",
            "timestamp": at(1),
            "properties": {"total": 40},
        },
        {
            "type": "track",
            "userId": "bob",
            "event": "Product Viewed",
            "timestamp": at(1),
            "properties": {"category": "hats"},
        },
        {
            "type": "track",
            "userId": "bob",
            "event": "Product Viewed",
            "timestamp": at(0.5),
            "properties": {"category": "hats"},
        },
        {
            "type": "track",
            "userId": "cy",
            "event": "Order Completed",
            "timestamp": at(45),
            "properties": {"total": 500},
        },
    )
    ada, bob, cy = [await pipeline.profile_of(u) for u in ("ada", "bob", "cy")]
    real_time = await pipeline.values()
    assert {k for k, p in real_time if p == ada} == {
        "spend_30d",
        "orders",
        "buyers",
        "pro_buyers",
        "big_spenders",
        "viewed_then_bought",
    }
    assert real_time[("spend_30d", ada)] == 100.5
    assert real_time[("top_category", bob)] == "hats"
    assert {k for k, p in real_time if p == bob} == {"top_category", "window_shoppers"}
    assert {k for k, p in real_time if p == cy} == {"orders"}  # the order is 45 days old
    changes = await pipeline.changes()
    assert all(c["cause"] == "event" and c["message_id"] for c in changes)
    assert {c["change"] for c in changes} == {"entered"}

    # The batch recompute on the same data at the same time changes nothing.
    results = await audiences.recompute(engine, workspace="default", now=NOW)
    assert [r for r in results if r["entered"] or r["exited"] or r["updated"]] == []
    assert await pipeline.values() == real_time

    # 29 days later Ada's first order leaves the 30-day window: the batch takes her out.
    later = NOW + timedelta(days=29)
    await audiences.recompute(engine, workspace="default", now=later)
    after = await pipeline.values()
    assert ("buyers", ada) not in after
    assert ("pro_buyers", ada) not in after
    assert after[("spend_30d", ada)] == 40
    exits = [c for c in await pipeline.changes() if c["change"] != "entered"]
    assert {(c["key"], c["change"], c["cause"]) for c in exits} == {
        ("buyers", "exited", "recompute"),
        ("pro_buyers", "exited", "recompute"),
        ("big_spenders", "exited", "recompute"),
        ("spend_30d", "updated", "recompute"),
    }


async def test_a_redelivered_batch_changes_nothing(engine: AsyncEngine, settings: Settings) -> None:
    pipeline = await _setup(engine, settings)
    messages = [
        {
            "type": "track",
            "userId": "ada",
            "event": "Order Completed",
            "messageId": f"o{i}",
            "timestamp": at(i),
            "properties": {"total": 70},
        }
        for i in (1, 2)
    ]
    await pipeline.send(*messages)
    before = (await pipeline.values(), await pipeline.changes())
    async with engine.begin() as connection:
        await connection.exec_driver_sql("UPDATE log_offsets SET committed = 0")
    while await pipeline.processor.drain():
        pass
    assert (await pipeline.values(), await pipeline.changes()) == before


async def test_memberships_follow_merges(engine: AsyncEngine, settings: Settings) -> None:
    pipeline = await _setup(engine, settings)
    await pipeline.send(
        {
            "type": "track",
            "anonymousId": "anon-1",
            "event": "Product Viewed",
            "timestamp": at(2),
            "properties": {"category": "shoes"},
        },
        {
            "type": "track",
            "userId": "ada",
            "event": "Order Completed",
            "timestamp": at(1.5),
            "properties": {"total": 10},
        },
    )
    before = await pipeline.values()
    (anonymous,) = {p for k, p in before if k == "window_shoppers"}
    known = await pipeline.profile_of("ada")
    await pipeline.send(
        {"type": "identify", "anonymousId": "anon-1", "userId": "ada", "timestamp": at(1)}
    )
    survivor = await pipeline.profile_of("ada")
    (merged,) = {anonymous, known} - {survivor}
    values = await pipeline.values()
    assert merged not in {p for _, p in values}  # the merged-away profile holds nothing
    assert {k for k, p in values if p == survivor} == {
        "viewed_then_bought",  # viewed (anonymously) then bought within 24 hours
        "orders",
        "spend_30d",
    }
    changes = await pipeline.changes()
    assert {
        c["cause"] for c in changes if c["profile_id"] == merged and c["change"] == "exited"
    } == {"merged"}
    assert {c["key"] for c in changes if c["profile_id"] == merged and c["change"] == "exited"} == {
        k for k, p in before if p == merged
    }
