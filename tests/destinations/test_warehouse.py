"""The PostgreSQL warehouse connector against a real database created for the test: Segment's
tables, one table per event, new columns for new properties, idempotent by messageId."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest

from headwater.connectors.base import DeletionSubject, Outcome
from headwater.connectors.warehouse import PostgresWarehouse, PostgresWarehouseConfig
from headwater.spec import Message, message_of
from tests.conftest import scratch_database

BASE = {
    "receivedAt": "2024-05-01T10:00:00.000Z",
    "sentAt": "2024-05-01T10:00:00.000Z",
    "timestamp": "2024-05-01T09:59:59.000Z",
}
CONTEXT = {"library": {"name": "analytics-python", "version": "2.3"}, "ip": "1.2.3.4"}


@pytest.fixture
async def warehouse_url(postgres_url: str) -> AsyncIterator[str]:
    async with scratch_database(postgres_url, "hw_wh", template=None) as url:
        yield url


def event(kind: str, message_id: str, **fields: Any) -> Message:
    return message_of(
        {
            "type": kind,
            "messageId": message_id,
            "userId": "u1",
            "context": CONTEXT,
            **BASE,
            **fields,
        }
    )


async def test_loads_segments_schema_evolves_and_is_idempotent(warehouse_url: str) -> None:
    config = PostgresWarehouseConfig.model_validate({"url": warehouse_url, "schema_name": "web"})
    first = [
        event(
            "track",
            "t1",
            event="Order Completed",
            properties={"orderId": "o1", "total": 30.5, "items": [1, 2]},
        ),
        event("track", "t2", event="Signed Up", properties={"plan": "pro"}),
        event("identify", "i1", traits={"email": "a@b.c", "address": {"city": "Oslo"}}),
        event("page", "p1", name="Home", properties={"path": "/"}),
        event("screen", "s1", name="Settings"),
        event("group", "g1", groupId="acme", traits={"employees": 50}),
        event("alias", "a1", previousId="anon-1"),
    ]
    second = [
        event(
            "track",
            "t3",
            event="Order Completed",
            properties={"orderId": "o2", "total": 12, "coupon": "X"},
        ),
        event("identify", "i2", traits={"email": "new@b.c"}),
    ]
    async with httpx.AsyncClient() as client:
        connector = PostgresWarehouse(config, client)
        try:
            assert (await connector.send(first)).outcome is Outcome.DELIVERED
            assert (await connector.send(second)).outcome is Outcome.DELIVERED
            assert (await connector.send(first + second)).outcome is Outcome.DELIVERED
        finally:
            await connector.close()
    db = await asyncpg.connect(warehouse_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        tables = {
            r[0]
            for r in await db.fetch(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'web'"
            )
        }
        assert tables == {
            "tracks",
            "order_completed",
            "signed_up",
            "identifies",
            "users",
            "pages",
            "screens",
            "groups",
            "aliases",
        }
        assert await db.fetchval("SELECT count(*) FROM web.tracks") == 3
        orders = await db.fetch(
            "SELECT id, order_id, total, items, coupon, context_library_name, event_text,"
            " received_at FROM web.order_completed ORDER BY id"
        )
        assert [(r["id"], r["order_id"], r["total"], r["coupon"]) for r in orders] == [
            ("t1", "o1", 30.5, None),
            ("t3", "o2", 12.0, "X"),
        ]
        assert orders[0]["items"] == "[1,2]"
        assert orders[0]["context_library_name"] == "analytics-python"
        assert orders[0]["event_text"] == "Order Completed"
        assert orders[0]["received_at"].year == 2024
        users = await db.fetch("SELECT id, email, address_city FROM web.users")
        assert [tuple(r) for r in users] == [("u1", "new@b.c", None)]
        assert await db.fetchval("SELECT count(*) FROM web.identifies") == 2
        assert await db.fetchval("SELECT group_id FROM web.groups") == "acme"
        assert await db.fetchval("SELECT previous_id FROM web.aliases") == "anon-1"
        assert await db.fetchval("SELECT name FROM web.pages") == "Home"
    finally:
        await db.close()


async def test_an_unreachable_warehouse_is_retried() -> None:
    config = PostgresWarehouseConfig.model_validate({"url": "postgresql://nobody@127.0.0.1:9/x"})
    async with httpx.AsyncClient() as client:
        connector = PostgresWarehouse(config, client)
        result = await connector.send([event("track", "t1", event="X")])
        await connector.close()
    assert result.outcome is Outcome.RETRY
    assert result.error


async def test_a_deletion_removes_the_person_from_every_table_and_no_one_else(
    warehouse_url: str,
) -> None:
    config = PostgresWarehouseConfig.model_validate({"url": warehouse_url, "schema_name": "web"})

    def of(person: str, anonymous: str, email: str, n: int) -> list[Message]:
        ids = {"userId": person, "anonymousId": anonymous}
        return [
            event("track", f"{person}-t{n}", event="Order Completed", properties={"n": n}, **ids),
            event("identify", f"{person}-i{n}", traits={"email": email}, **ids),
            event("page", f"{person}-p{n}", name="Home", **ids),
            event("alias", f"{person}-a{n}", previousId=anonymous, userId=person),
            event("track", f"{person}-anon{n}", event="Viewed", userId=None, anonymousId=anonymous),
        ]

    async with httpx.AsyncClient() as client:
        connector = PostgresWarehouse(config, client)
        try:
            loaded = of("ann", "anon-a", "Ann@Example.com", 1) + of("bob", "anon-b", "b@x.io", 2)
            assert (await connector.send(loaded)).outcome is Outcome.DELIVERED
            subject = DeletionSubject(
                regulation_id="r1",
                user_ids=("ann",),
                anonymous_ids=("anon-a",),
                emails=("ann@example.com",),
            )
            assert PostgresWarehouse.deletes
            assert (await connector.delete(subject)).outcome is Outcome.DELIVERED
            assert (await connector.delete(subject)).outcome is Outcome.DELIVERED  # again: none
        finally:
            await connector.close()
    db = await asyncpg.connect(warehouse_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        tables = [
            r[0]
            for r in await db.fetch(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'web'"
            )
        ]
        assert {"tracks", "order_completed", "viewed", "identifies", "users", "pages"} <= set(
            tables
        )
        for table in tables:
            text = " ".join(
                str(row) for row in await db.fetch(f'SELECT * FROM web."{table}"')
            ).lower()
            assert "ann" not in text, (table, text)
            assert "anon-a" not in text, (table, text)
        assert await db.fetchval("SELECT count(*) FROM web.tracks") == 2  # bob's two
        assert await db.fetchval("SELECT id FROM web.users") == "bob"
    finally:
        await db.close()
