"""The lease on a running sync: renewed while a long run works, so no other process takes the
sync; and a run whose lease ran out while its process was alive (it could not renew for the
lease's length) is fenced: once another process claims the sync, the first run stops at its
next chunk, writes no state and no end, and is recorded ``interrupted`` with a plain reason.

A gate in the customer's database holds a run inside its model's read: rows after the first
chunk wait on an advisory lock the test holds, which it releases when it chooses."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import pytest
from sqlalchemy import text

from headwater import retl
from headwater.retl import SyncTask, store
from tests.retl.conftest import Customer, Headwater, _connect
from tests.retl.test_runs import _TABLE, _counts, _model, _run, _sync

_GATE = (
    "CREATE TABLE gate (closed boolean NOT NULL)",
    "INSERT INTO gate VALUES (true)",
    """CREATE FUNCTION pass_gate(id int) RETURNS int LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF id > 7 AND (SELECT closed FROM gate) THEN
        PERFORM pg_advisory_lock(4242);
        PERFORM pg_advisory_unlock(4242);
    END IF;
    RETURN id;
END $$""",
)
_GATED = "SELECT pass_gate(id) AS id, email, plan, seats FROM customers"
"""The model: its first chunk (7 rows) passes, the rest wait while the gate is closed."""


@pytest.fixture
async def gate(customer: Customer) -> AsyncIterator[asyncpg.Connection]:
    """The customer's table and gate, the gate's lock held by the returned connection."""
    await customer.execute(*_TABLE, *_GATE)
    holder = await _connect(customer.url)
    await holder.execute("SELECT pg_advisory_lock(4242)")
    try:
        yield holder
    finally:
        await holder.close()


async def _waiting_at_gate(holder: asyncpg.Connection) -> None:
    for _ in range(600):
        waiting = await holder.fetchval(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        )
        if waiting:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the run never reached the gate")


async def _lease_until(headwater: Headwater, sync_id: int) -> object:
    async with headwater.engine.connect() as connection:
        return await connection.scalar(
            text("SELECT lease_until FROM retl_syncs WHERE id = :s"), {"s": sync_id}
        )


async def test_a_long_run_keeps_its_lease(
    headwater: Headwater, customer: Customer, gate: asyncpg.Connection
) -> None:
    settings = headwater.settings.model_copy(update={"retl_lease_seconds": 6})
    sync_id = await _sync(headwater, await _model(headwater, customer, query=_GATED))
    await retl.run_now(headwater.engine, workspace=headwater.workspace, sync_id=sync_id)
    first = asyncio.create_task(
        SyncTask(headwater.engine, settings, collector=headwater.collector).once()
    )
    await _waiting_at_gate(gate)
    leased = await _lease_until(headwater, sync_id)
    async with headwater.engine.connect() as connection:
        for _ in range(600):  # until the first lease would have run out
            if await connection.scalar(
                text("SELECT clock_timestamp() > CAST(:l AS timestamptz) + interval '1 s'"),
                {"l": leased},
            ):
                break
            await asyncio.sleep(0.05)
    async with store.begun(headwater.engine) as tx:
        assert await store.claim(tx, lease=timedelta(seconds=6)) is None  # still leased
    assert await _lease_until(headwater, sync_id) > leased  # type: ignore[operator]
    await gate.execute("SELECT pg_advisory_unlock(4242)")
    assert await first
    runs = await retl.list_runs(headwater.engine, workspace=headwater.workspace, sync_id=sync_id)
    assert [(r["status"], r["added"]) for r in runs] == [("succeeded", 20)]


async def test_a_run_that_lost_its_lease_stops_without_writing(
    headwater: Headwater, customer: Customer, gate: asyncpg.Connection
) -> None:
    """Two claims of one sync: the first run stalls (its renewals would come far too late),
    its lease runs out, a second process claims and runs the sync; the first then goes on and
    must change nothing: not the state, not the sync, not the second run's record."""
    settings = headwater.settings.model_copy(update={"retl_lease_seconds": 3600})
    sync_id = await _sync(headwater, await _model(headwater, customer, query=_GATED))
    await retl.run_now(headwater.engine, workspace=headwater.workspace, sync_id=sync_id)
    first = asyncio.create_task(
        SyncTask(headwater.engine, settings, collector=headwater.collector).once()
    )
    await _waiting_at_gate(gate)
    # The row changes after the first run's snapshot: if it wrote its (older) state, the next
    # run would see the row as changed.
    await customer.execute(
        "UPDATE gate SET closed = false", "UPDATE customers SET plan = 'pro' WHERE id = 10"
    )
    async with headwater.engine.begin() as connection:
        await connection.execute(
            text("UPDATE retl_syncs SET lease_until = now() - interval '1 s' WHERE id = :s"),
            {"s": sync_id},
        )
    assert await SyncTask(headwater.engine, settings, collector=headwater.collector).once()
    await gate.execute("SELECT pg_advisory_unlock(4242)")
    assert await first

    runs = await retl.list_runs(headwater.engine, workspace=headwater.workspace, sync_id=sync_id)
    assert [(r["status"], r["trigger"]) for r in runs] == [
        ("succeeded", "recovery"),
        ("interrupted", "manual"),
    ]
    second, lost = runs
    assert _counts(second) == (13, 0, 0, 0)
    # It sent and recorded its first chunk, read the second and stopped before sending it.
    assert (lost["rows_read"], *_counts(lost)) == (14, 7, 0, 0, 0)
    assert lost["reason"] is not None
    assert "could not renew its lease" in lost["reason"]
    assert await _lease_until(headwater, sync_id) is None  # released by the second run
    assert _counts(await _run(headwater, sync_id)) == (0, 0, 0, 0)
