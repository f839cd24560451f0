"""Migration 0025 on an install at 0024 with rows in the four smaller stores: each becomes
partitioned by day with its rows, ids and keys; journey steps get their instance's entry time;
ids continue past the old ones; a downgrade gives the plain tables back with the same rows, and
upgrading again works."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.storage import connected, days
from headwater.storage.days import DayTable
from tests.privacy.helpers import database_at, migrate_to

_OLD = [datetime(2025, 3, d, 9, 30, tzinfo=UTC) for d in (1, 2, 4)]
_ENTERED = datetime(2025, 2, 27, 8, 0, tzinfo=UTC)

_TABLES = {
    "rejections": DayTable("rejections", "received_at", key="source_id"),
    "quarantine": DayTable("quarantine", "first_blocked_at", key="source_id"),
    "dead_letters": DayTable("dead_letters", "failed_at", key="destination_id"),
    "journey_steps": DayTable("journey_steps", "entered_at", key="journey_id"),
}
_ORDER = {
    "rejections": "id",
    "quarantine": "id",
    "dead_letters": "id",
    "journey_steps": "instance_id, step",
}


_FILL = [
    "INSERT INTO workspaces (id, slug, name) VALUES (1, 'w', 'w')",
    "INSERT INTO journeys (workspace_id, key, name, draft) VALUES (1, 'j', 'j', '{}')",
    "INSERT INTO journey_instances (workspace_id, journey_id, version, profile_id, trigger_id,"
    " state, node_id, node_since, context, entered_at)"
    " VALUES (1, 1, 1, 'p', 't', 'waiting', 'n', $1, '{}', $1)",
]


async def _fill(engine: AsyncEngine) -> None:
    async with connected(engine) as tx:
        for statement in _FILL:
            await tx.driver.execute(statement, *([_ENTERED] if "$1" in statement else []))
        for n, at in enumerate(_OLD * 2):
            await tx.driver.execute(
                "INSERT INTO rejections (workspace_id, source_id, received_at, batch_index,"
                " reason) VALUES (1, $1, $2, $3, 'invalid')",
                n % 2 + 1,
                at,
                n,
            )
            await tx.driver.execute(
                "INSERT INTO quarantine (workspace_id, source_id, message_id, type, reason,"
                " violations, payload, status, log_partition, log_offset, first_blocked_at,"
                " blocked_at) VALUES (1, 1, $1, 'track', 'r', '[]', '{}', 'quarantined', 0, $2,"
                " $3, $3::timestamptz + interval '1 day')",
                f"m-{n}",
                n,
                at,
            )
            await tx.driver.execute(
                "INSERT INTO dead_letters (destination_id, message_id, received_at, enqueued_at,"
                " failed_at, attempts, reason, error, payload)"
                " VALUES (3, $1, $2, $2, $2, 5, 'failed', 'e', '{}')",
                f"m-{n}",
                at,
            )
            await tx.driver.execute(
                "INSERT INTO journey_steps (instance_id, step, journey_id, version, node_id,"
                " started_at, finished_at) VALUES (1, $1, 1, 1, 'n', $2, $2)",
                n,
                at,
            )
        # Failed inserts used ids: the partitioned tables must not hand them out again.
        for table in ("rejections", "quarantine", "dead_letters"):
            await tx.driver.execute(f"SELECT nextval('{table}_id_seq')")


async def _rows(engine: AsyncEngine) -> dict[str, list[tuple[Any, ...]]]:
    async with connected(engine) as tx:
        return {
            table: [
                tuple(r) for r in await tx.driver.fetch(f"SELECT * FROM {table} ORDER BY {order}")
            ]
            for table, order in _ORDER.items()
        }


async def _kinds(engine: AsyncEngine) -> dict[str, str]:
    async with connected(engine) as tx:
        rows = await tx.driver.fetch(
            "SELECT relname, relkind FROM pg_class WHERE relname = ANY($1::text[])",
            list(_TABLES),
        )
    return {r[0]: str(r[1].decode() if isinstance(r[1], bytes) else r[1]) for r in rows}


async def _new_ids(engine: AsyncEngine) -> dict[str, int]:
    async with connected(engine) as tx:
        return {
            "rejections": await tx.driver.fetchval(
                "INSERT INTO rejections (workspace_id, source_id, received_at, batch_index,"
                " reason) VALUES (1, 1, now(), 0, 'new') RETURNING id"
            ),
            "dead_letters": await tx.driver.fetchval(
                "INSERT INTO dead_letters (destination_id, message_id, received_at,"
                " enqueued_at, attempts, reason, error, payload)"
                " VALUES (3, 'new', now(), now(), 1, 'failed', 'e', '{}') RETURNING id"
            ),
        }


async def test_the_four_stores_are_partitioned_by_day_with_their_rows_and_back(
    postgres_url: str,
) -> None:
    async with database_at(postgres_url, "hw_days", "0024") as engine:
        await _fill(engine)
        old = await _rows(engine)
        assert await _kinds(engine) == dict.fromkeys(_TABLES, "r")

        await migrate_to(engine, "0025")

        assert await _kinds(engine) == dict.fromkeys(_TABLES, "p")
        new = await _rows(engine)
        for table in ("rejections", "quarantine", "dead_letters"):
            assert new[table] == old[table], table
        # Journey steps: the same rows, each with its instance's entry time added.
        assert new["journey_steps"] == [(*row, _ENTERED) for row in old["journey_steps"]]
        today = datetime.now(UTC).date()
        async with connected(engine) as tx:
            for name, table in _TABLES.items():
                held = {p.day for p in await days.day_partitions(tx, table)}
                stored = {_ENTERED.date()} if name == "journey_steps" else {d.date() for d in _OLD}
                assert stored <= held, name
                assert {today + timedelta(days=n) for n in range(0, 8)} <= held, name
                assert await days.default_days(tx, table) == [], name
        ids = await _new_ids(engine)
        # Past the old rows (six each) and the id each failed insert used.
        assert ids == {"rejections": 8, "dead_letters": 8}

        await migrate_to(engine, "0024", down=True)

        assert await _kinds(engine) == dict.fromkeys(_TABLES, "r")
        back = await _rows(engine)
        for table in _ORDER:
            assert [r for r in back[table] if r[0] != 8] == old[table], table
        again = await _new_ids(engine)
        assert again == {"rejections": 9, "dead_letters": 9}

        await migrate_to(engine, "0025")
        assert await _kinds(engine) == dict.fromkeys(_TABLES, "p")
        assert len((await _rows(engine))["rejections"]) == len(old["rejections"]) + 2
