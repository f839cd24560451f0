"""Retention on a real PostgreSQL: the log's day partitions are created ahead and for late
appends, a dry run drops nothing, apply drops exactly the expired days (and deletes the rows
of a source whose window is shorter than its neighbours'), and a run cut short is finished by
the next."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.log import partitions
from headwater.privacy import WindowIn, apply_retention, maintain, retention_plan, set_windows
from headwater.privacy.windows import Store
from headwater.storage import connected, transaction
from headwater.storage.days import day_partitions, default_days
from headwater.workspaces import create_source, create_workspace
from tests.privacy.helpers import append

TODAY = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)


def day(offset: int) -> datetime:
    return TODAY + timedelta(days=offset)


async def _counts(engine: AsyncEngine) -> dict[tuple[date, int], int]:
    """Rows per (UTC day, source)."""
    async with connected(engine) as tx:
        rows = await tx.driver.fetch(
            "SELECT (received_at AT TIME ZONE 'UTC')::date, source_id, count(*) FROM events"
            " GROUP BY 1, 2"
        )
    return {(r[0], r[1]): r[2] for r in rows}


async def _days(engine: AsyncEngine) -> set[date]:
    async with connected(engine) as tx:
        return {p.day for p in await day_partitions(tx, partitions.EVENTS)}


@pytest.fixture
async def space(engine: AsyncEngine) -> dict[str, int]:
    """Workspaces ``a`` (sources a1, a2) and ``b`` (source b1)."""
    a = await create_workspace(engine, slug="a")
    b = await create_workspace(engine, slug="b")
    ids = {"a": a.id, "b": b.id}
    for name, workspace in (("a1", "a"), ("a2", "a"), ("b1", "b")):
        source = await create_source(engine, name=name, workspace=workspace)
        ids[name] = source.id
    return ids


async def _windows(engine: AsyncEngine, workspace: str, *windows: WindowIn) -> None:
    await set_windows(engine, workspace=workspace, windows=windows, default_days=None)


async def test_days_are_created_ahead_and_late_appends_get_their_day(
    engine: AsyncEngine, space: dict[str, int]
) -> None:
    far = day(40)
    await append(engine, far, 3, workspace_id=space["a"], source_id=space["a1"])
    async with connected(engine) as tx:
        assert await default_days(tx, partitions.EVENTS) == [far.date()]  # caught, not refused

    created, _ = await maintain(engine, default_days=None)

    days = await _days(engine)
    assert {TODAY.date() + timedelta(days=n) for n in range(-1, 8)} <= days
    assert far.date() in days
    assert partitions.EVENTS.partition_name(far.date()) in created
    async with connected(engine) as tx:
        assert await default_days(tx, partitions.EVENTS) == []
    assert (await _counts(engine))[(far.date(), space["a1"])] == 3
    # A second round creates nothing more.
    again, _ = await maintain(engine, default_days=None)
    assert again == []


async def test_a_dry_run_lists_and_drops_nothing_and_apply_drops_exactly_the_expired_days(
    engine: AsyncEngine, space: dict[str, int]
) -> None:
    for offset in (-20, -10, -1, 0):
        await append(engine, day(offset), 5, workspace_id=space["a"], source_id=space["a1"])
        await append(engine, day(offset), 2, workspace_id=space["b"], source_id=space["b1"])
    await maintain(engine, default_days=None)  # nothing configured: nothing with rows goes
    before = await _counts(engine)
    assert len(before) == 8
    await _windows(engine, "a", WindowIn(store=Store.EVENTS, days=5))
    await _windows(engine, "b", WindowIn(store=Store.EVENTS, days=5))

    plan = await retention_plan(engine, workspace="a", default_days=None)

    drops = [i for i in plan["items"] if i["action"] == "drop_partition"]
    assert [i["partition"] for i in drops] == [
        partitions.EVENTS.partition_name(day(-20).date()),
        partitions.EVENTS.partition_name(day(-10).date()),
    ]
    assert [i["rows"] for i in drops] == [5, 5]  # a's rows only
    assert plan["dry_run"] is True
    assert await _counts(engine) == before

    done = await apply_retention(engine, workspace="a", default_days=None)

    assert [i["partition"] for i in done["items"]] == [i["partition"] for i in drops]
    after = await _counts(engine)
    expected = {k: v for k, v in before.items() if k[0] >= day(-1).date()}
    assert after == expected
    days = await _days(engine)
    assert day(-10).date() not in days
    assert day(-1).date() in days


async def test_a_shorter_window_deletes_its_rows_from_a_day_kept_for_neighbours(
    engine: AsyncEngine, space: dict[str, int]
) -> None:
    for source, workspace in (("a1", "a"), ("a2", "a"), ("b1", "b")):
        await append(engine, day(-10), 4, workspace_id=space[workspace], source_id=space[source])
    await _windows(
        engine,
        "a",
        WindowIn(store=Store.EVENTS, days=30),
        WindowIn(store=Store.EVENTS, source_id=space["a2"], days=3),
    )

    done = await apply_retention(engine, workspace=None, default_days=None)

    assert [(i["action"], i["source_id"], i["rows"]) for i in done["items"]] == [
        ("delete_rows", space["a2"], 4)
    ]
    assert await _counts(engine) == {
        (day(-10).date(), space["a1"]): 4,
        (day(-10).date(), space["b1"]): 4,
    }
    assert day(-10).date() in await _days(engine)


async def test_a_workspace_without_a_window_keeps_its_rows(
    engine: AsyncEngine, space: dict[str, int]
) -> None:
    await append(engine, day(-10), 3, workspace_id=space["a"], source_id=space["a1"])
    await append(engine, day(-10), 3, workspace_id=space["b"], source_id=space["b1"])
    await _windows(engine, "a", WindowIn(store=Store.EVENTS, days=2))

    plan = await retention_plan(engine, workspace="b", default_days=None)
    assert plan["items"] == []
    await apply_retention(engine, workspace=None, default_days=None)

    assert await _counts(engine) == {(day(-10).date(), space["b1"]): 3}
    # With an install default, b's rows go too, and the day with them.
    done = await apply_retention(engine, workspace=None, default_days=5)
    assert [i["action"] for i in done["items"]] == ["drop_partition"]
    assert await _counts(engine) == {}


async def test_a_run_cut_short_is_finished_by_the_next(
    engine: AsyncEngine, space: dict[str, int], database_url: str
) -> None:
    for offset in (-20, -10):
        await append(engine, day(offset), 2, workspace_id=space["a"], source_id=space["a1"])
    await maintain(engine, default_days=None)  # the days get their partitions
    await _windows(engine, "a", WindowIn(store=Store.EVENTS, days=5))
    blocked = partitions.EVENTS.partition_name(day(-10).date())
    holder = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        held = holder.transaction()
        await held.start()
        # as an append in progress holds it
        await holder.execute(f"LOCK TABLE {blocked} IN ROW EXCLUSIVE MODE")
        # The second day's lock times out: the round fails after dropping the first.
        with pytest.raises(asyncpg.LockNotAvailableError):
            await apply_retention(engine, workspace=None, default_days=None)
        await held.rollback()
    finally:
        await holder.close()
    days = await _days(engine)
    assert day(-20).date() not in days
    assert day(-10).date() in days

    done = await apply_retention(engine, workspace=None, default_days=None)

    assert [i["partition"] for i in done["items"]] == [blocked]
    assert await _counts(engine) == {}


async def test_dropping_a_day_forgets_the_governed_payloads_of_its_events(
    engine: AsyncEngine, space: dict[str, int]
) -> None:
    await append(engine, day(-10), 2, workspace_id=space["a"], source_id=space["a1"])
    await append(engine, day(-1), 1, workspace_id=space["a"], source_id=space["a1"])
    async with transaction(engine) as tx:
        await tx.driver.execute(
            "INSERT INTO governed_payloads (seq, workspace_id, payload)"
            " SELECT seq, workspace_id, NULL FROM events"
        )
    await _windows(engine, "a", WindowIn(store=Store.EVENTS, days=5))

    await apply_retention(engine, workspace="a", default_days=None)

    async with connected(engine) as tx:
        kept = await tx.driver.fetch("SELECT seq FROM governed_payloads")
        alive = await tx.driver.fetch("SELECT seq FROM events")
    assert {r[0] for r in kept} == {r[0] for r in alive}
    assert len(alive) == 1


async def test_concurrent_runs_do_not_trip_over_each_other(
    engine: AsyncEngine, space: dict[str, int]
) -> None:
    for offset in (-30, -20, -10):
        await append(engine, day(offset), 2, workspace_id=space["a"], source_id=space["a1"])
    await _windows(engine, "a", WindowIn(store=Store.EVENTS, days=5))

    first, second = await asyncio.gather(
        apply_retention(engine, workspace=None, default_days=None),
        apply_retention(engine, workspace=None, default_days=None),
    )

    assert len(first["items"]) + len(second["items"]) == 3
    assert await _counts(engine) == {}
