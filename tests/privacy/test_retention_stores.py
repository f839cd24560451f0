"""Retention of the smaller stores (rejections, quarantine, delivery logs, journey history) on a
real PostgreSQL: each is partitioned by day like the log, an expired day is dropped whole (its
partition gone from ``pg_class``), a day shared with rows kept longer loses only the expired
keys' rows, the dry run says which partitions and rows would go, and what a default partition
caught is moved into its day first. The keys that became wider with partitioning stay as
unique as before (a quarantined message has one row; a journey step is taken once)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater import collect, delivery, journeys, protocols
from headwater.journeys.instances import Step, save
from headwater.privacy import WindowIn, apply_retention, maintain, retention_plan, set_windows
from headwater.privacy.windows import Store
from headwater.protocols import records
from headwater.storage import Transaction, begin, connected, transaction
from headwater.storage.days import DayTable, day_partitions, default_days
from headwater.workspaces import create_source, create_workspace

TODAY = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)

TABLES: dict[Store, DayTable] = {
    Store.REJECTIONS: collect.REJECTION_DAYS,
    Store.QUARANTINE: protocols.QUARANTINE_DAYS,
    Store.DELIVERY_LOGS: delivery.DEAD_LETTER_DAYS,
    Store.JOURNEY_HISTORY: journeys.STEP_DAYS,
}


_SERIAL = itertools.count(1)


def day(offset: int) -> datetime:
    return TODAY + timedelta(days=offset)


@pytest.fixture
async def space(engine: AsyncEngine) -> dict[str, int]:
    """Workspaces ``a`` and ``b``, each with a source, a destination and a journey (``a1``:
    the source; ``ad``: the destination; ``aj``: the journey)."""
    ids: dict[str, int] = {}
    for name in ("a", "b"):
        ids[name] = (await create_workspace(engine, slug=name)).id
        ids[f"{name}1"] = (await create_source(engine, name=f"{name}1", workspace=name)).id
    async with transaction(engine) as tx:
        for name in ("a", "b"):
            ids[f"{name}d"] = await tx.driver.fetchval(
                "INSERT INTO destinations (workspace_id, name, kind, config)"
                " VALUES ($1, $2, 'webhook', '{}') RETURNING id",
                ids[name],
                f"{name}-hook",
            )
            ids[f"{name}j"] = await tx.driver.fetchval(
                "INSERT INTO journeys (workspace_id, key, name, draft)"
                " VALUES ($1, $2, $2, '{}') RETURNING id",
                ids[name],
                f"{name}-journey",
            )
    return ids


async def _add(
    engine: AsyncEngine, kind: Store, space: dict[str, int], w: str, at: datetime
) -> None:
    """One row of workspace ``w`` in the store, dated ``at`` (by the store's day column)."""
    n = next(_SERIAL)
    async with transaction(engine) as tx:
        if kind is Store.REJECTIONS:
            await tx.driver.execute(
                "INSERT INTO rejections (workspace_id, source_id, received_at, batch_index,"
                " reason) VALUES ($1, $2, $3, 0, 'invalid')",
                space[w],
                space[f"{w}1"],
                at,
            )
        elif kind is Store.QUARANTINE:
            await tx.driver.execute(
                "INSERT INTO quarantine (workspace_id, source_id, message_id, type, reason,"
                " violations, payload, status, log_partition, log_offset, first_blocked_at)"
                " VALUES ($1, $2, $3, 'track', 'r', '[]', '{}', 'quarantined', 0, $4, $5)",
                space[w],
                space[f"{w}1"],
                f"m-{n}",
                n,
                at,
            )
        elif kind is Store.DELIVERY_LOGS:
            await tx.driver.execute(
                "INSERT INTO dead_letters (destination_id, message_id, received_at, enqueued_at,"
                " failed_at, attempts, reason, error, payload)"
                " VALUES ($1, $2, $3, $3, $3, 5, 'failed', 'e', '{}')",
                space[f"{w}d"],
                f"m-{n}",
                at,
            )
        else:
            instance = await tx.driver.fetchval(
                "INSERT INTO journey_instances (workspace_id, journey_id, version, profile_id,"
                " trigger_id, state, node_id, node_since, context, entered_at)"
                " VALUES ($1, $2, 1, $3, $3, 'waiting', 'n', $4, '{}', $4) RETURNING id",
                space[w],
                space[f"{w}j"],
                f"t-{n}",
                at,
            )
            await save(
                tx,
                [],
                [Step(instance, 0, space[f"{w}j"], 1, "n", "next", at, at, None)],
            )


async def _count(engine: AsyncEngine, kind: Store) -> int:
    async with connected(engine) as tx:
        return int(await tx.driver.fetchval(f"SELECT count(*) FROM {TABLES[kind].table}"))


async def _exists(engine: AsyncEngine, name: str) -> bool:
    async with connected(engine) as tx:
        return bool(await tx.driver.fetchval("SELECT to_regclass($1) IS NOT NULL", name))


async def _window(engine: AsyncEngine, workspace: str, *windows: WindowIn) -> None:
    await set_windows(engine, workspace=workspace, windows=windows, default_days=None)


@pytest.mark.parametrize("kind", list(TABLES))
async def test_an_expired_day_is_dropped_whole_after_a_dry_run_that_says_so(
    engine: AsyncEngine, space: dict[str, int], kind: Store
) -> None:
    table = TABLES[kind]
    for offset in (-10, -10, -1):
        await _add(engine, kind, space, "a", day(offset))
    await maintain(engine, default_days=None)  # every store's days exist, nothing goes
    expired = table.partition_name(day(-10).date())
    assert await _exists(engine, expired)
    await _window(engine, "a", WindowIn(store=kind, days=5))

    plan = await retention_plan(engine, workspace="a", default_days=None)

    assert [(i["store"], i["action"], i["partition"], i["rows"]) for i in plan["items"]] == [
        (kind.value, "drop_partition", expired, 2)
    ]
    assert plan["rows"] == 2
    assert await _count(engine, kind) == 3  # a dry run removes nothing

    done = await apply_retention(engine, workspace="a", default_days=None)

    assert [(i["action"], i["partition"]) for i in done["items"]] == [("drop_partition", expired)]
    assert not await _exists(engine, expired)  # the partition is gone, not emptied
    assert await _count(engine, kind) == 1
    assert await _exists(engine, table.partition_name(day(-1).date()))


@pytest.mark.parametrize("kind", list(TABLES))
async def test_a_day_shared_with_a_workspace_kept_longer_loses_only_the_expired_rows(
    engine: AsyncEngine, space: dict[str, int], kind: Store
) -> None:
    table = TABLES[kind]
    for w in ("a", "a", "b"):
        await _add(engine, kind, space, w, day(-10))
    await maintain(engine, default_days=None)
    await _window(engine, "a", WindowIn(store=kind, days=5))  # b keeps everything
    shared = table.partition_name(day(-10).date())
    key = {
        Store.REJECTIONS: ("source_id", "a1"),
        Store.QUARANTINE: ("source_id", "a1"),
        Store.DELIVERY_LOGS: ("destination_id", "ad"),
        Store.JOURNEY_HISTORY: ("journey_id", "aj"),
    }[kind]

    plan = await retention_plan(engine, workspace="a", default_days=None)
    elsewhere = await retention_plan(engine, workspace="b", default_days=None)
    done = await apply_retention(engine, workspace=None, default_days=None)

    for found in (plan, done):
        items = [dict(i) for i in found["items"]]
        assert [(i["action"], i["partition"], i[key[0]], i["rows"]) for i in items] == [
            ("delete_rows", shared, space[key[1]], 2)
        ]
    assert elsewhere["items"] == []
    assert await _exists(engine, shared)
    assert await _count(engine, kind) == 1


@pytest.mark.parametrize("kind", list(TABLES))
async def test_what_the_default_partition_caught_gets_its_day_and_then_goes(
    engine: AsyncEngine, space: dict[str, int], kind: Store
) -> None:
    table = TABLES[kind]
    await _add(engine, kind, space, "a", day(-40))  # no partition for that day: the default
    async with connected(engine) as tx:
        assert await default_days(tx, table) == [day(-40).date()]
    await _window(engine, "a", WindowIn(store=kind, days=5))

    plan = await retention_plan(engine, workspace="a", default_days=None)

    # The dry run sees the day as a round will have made it, in the default for now.
    assert [(i["action"], i["partition"], i["rows"]) for i in plan["items"]] == [
        ("drop_partition", table.default, 1)
    ]
    assert await _count(engine, kind) == 1

    done = await apply_retention(engine, workspace="a", default_days=None)

    moved = table.partition_name(day(-40).date())
    assert [(i["action"], i["partition"]) for i in done["items"]] == [("drop_partition", moved)]
    assert not await _exists(engine, moved)
    assert await _exists(engine, table.default)  # never dropped itself
    async with connected(engine) as tx:
        assert await default_days(tx, table) == []
    assert await _count(engine, kind) == 0


async def test_the_daily_round_creates_every_stores_days_ahead(engine: AsyncEngine) -> None:
    created, _ = await maintain(engine, default_days=None, now=day(30))
    ahead = {day(30).date() + timedelta(days=n) for n in range(-1, 8)}
    async with connected(engine) as tx:
        for table in TABLES.values():
            assert ahead <= {p.day for p in await day_partitions(tx, table)}, table.table
    assert journeys.STEP_DAYS.partition_name(day(37).date()) in created
    again, _ = await maintain(engine, default_days=None, now=day(30))
    assert again == []


def _blocked(source_id: int, offset: int) -> dict[str, object]:
    return {
        "workspace_id": 1,
        "source_id": source_id,
        "message_id": "m-1",
        "type": "track",
        "name": "Bought",
        "reason": "violations",
        "violations": [],
        "payload": {"type": "track"},
        "plan_id": None,
        "plan_version": None,
        "log_partition": 0,
        "log_offset": offset,
    }


async def test_a_message_blocked_again_keeps_its_one_quarantine_row(
    engine: AsyncEngine, space: dict[str, int]
) -> None:
    async with transaction(engine) as tx:
        await records.quarantine(tx, [_blocked(space["a1"], 1)])
    async with transaction(engine) as tx:
        await tx.driver.execute(
            "UPDATE quarantine SET first_blocked_at = first_blocked_at - interval '3 days',"
            " blocked_at = blocked_at - interval '3 days'"
        )
    async with transaction(engine) as tx:  # a replay, blocked again at another offset
        await records.quarantine(tx, [_blocked(space["a1"], 2)])
    async with transaction(engine) as tx:  # the same entry redelivered: nothing changes
        await records.quarantine(tx, [_blocked(space["a1"], 2)])

    async with connected(engine) as tx:
        rows = await tx.driver.fetch(
            "SELECT attempts, log_offset, first_blocked_at < blocked_at FROM quarantine"
        )
    assert [tuple(r) for r in rows] == [(2, 2, True)]


@asynccontextmanager
async def _begun(engine: AsyncEngine) -> AsyncIterator[Transaction]:
    """A transaction begun as the processor's is, so the statements on the driver are in it."""
    async with engine.begin() as connection:
        yield await begin(connection)


async def _block(engine: AsyncEngine, source_id: int, offset: int) -> None:
    async with _begun(engine) as tx:
        await records.quarantine(tx, [_blocked(source_id, offset)])


async def _waiting_for_a_lock(engine: AsyncEngine) -> bool:
    async with connected(engine) as tx:
        return bool(
            await tx.driver.fetchval(
                "SELECT EXISTS (SELECT FROM pg_locks WHERE locktype = 'advisory' AND NOT granted)"
            )
        )


async def test_two_transactions_blocking_one_message_at_once_make_one_row(
    engine: AsyncEngine, space: dict[str, int]
) -> None:
    async with _begun(engine) as tx:
        await records.quarantine(tx, [_blocked(space["a1"], 1)])
        # The second waits for this one's lock on the message, then finds its row.
        second = asyncio.create_task(_block(engine, space["a1"], 2))
        while not await _waiting_for_a_lock(engine):
            assert not second.done()
            await asyncio.sleep(0.01)
    await second

    async with connected(engine) as tx:
        rows = await tx.driver.fetch("SELECT attempts, log_offset FROM quarantine")
    assert [tuple(r) for r in rows] == [(2, 2)]


async def test_a_journey_step_is_still_taken_once(
    engine: AsyncEngine, space: dict[str, int]
) -> None:
    await _add(engine, Store.JOURNEY_HISTORY, space, "a", day(-3))
    async with connected(engine) as tx:
        instance, entered = await tx.driver.fetchrow(
            "SELECT s.instance_id, s.entered_at FROM journey_steps s"
        )
    assert entered == day(-3)  # the instance's entry time, copied by the insert

    step = Step(instance, 0, space["aj"], 1, "n", "next", TODAY, TODAY, None)
    with pytest.raises(asyncpg.UniqueViolationError):
        async with transaction(engine) as tx:
            await save(tx, [], [step])
    assert await _count(engine, Store.JOURNEY_HISTORY) == 1
