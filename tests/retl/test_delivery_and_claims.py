"""A sync to a destination goes through the delivery engine to a real HTTP receiver; two
processes never run the same sync (SKIP LOCKED leases); a run whose process stopped is
recorded as interrupted and picked up again; a cursor column reads only new rows; another
SQLAlchemy dialect (SQLite, synchronous) works as a model's database."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

from headwater import destinations, retl
from headwater.delivery import DeliveryWorkers
from headwater.retl import SyncTask, store
from headwater.supervisor import Health
from headwater.telemetry.metrics import Metrics
from tests.destinations.sink import Sink
from tests.retl.conftest import Customer, Headwater
from tests.retl.test_runs import _TABLE, _counts, _model, _run, _sync


async def test_a_destination_sync_is_delivered_by_the_engine(
    headwater: Headwater, customer: Customer
) -> None:
    await customer.execute(*_TABLE)
    with Sink() as sink:
        destination = await destinations.create_destination(
            headwater.engine,
            headwater.settings,
            workspace=headwater.workspace,
            name="crm",
            kind="webhook",
            config={"url": sink.url},
        )
        sync_id = await _sync(
            headwater,
            await _model(headwater, customer),
            target="destination",
            destination_id=destination["id"],
            mapping={"user_id": "email", "fields": {"plan": "plan", "seats": "seats"}},
        )
        assert _counts(await _run(headwater, sync_id)) == (20, 0, 0, 0)
        stop = asyncio.Event()
        workers = DeliveryWorkers(
            engine=headwater.engine, settings=headwater.settings, metrics=Metrics()
        )
        task = asyncio.create_task(workers.run(stop, Health("delivery")))
        try:
            received = await asyncio.to_thread(sink.wait_for, 20)
        finally:
            stop.set()
            await task
    bodies = [r.json() for r in received]
    assert {b["userId"] for b in bodies} == {f"user{n}@example.com" for n in range(1, 21)}
    one = next(b for b in bodies if b["userId"] == "user3@example.com")
    assert (one["type"], one["traits"]) == ("identify", {"plan": "free", "seats": 3})
    assert one["messageId"].startswith("retl-")


async def test_a_mirror_removal_reaches_a_destination(
    headwater: Headwater, customer: Customer
) -> None:
    """A key gone from a mirror sync's model reaches the destination as the documented
    removal: the sync's message type with the identifiers the key was last sent with and
    every mapped field null."""
    await customer.execute(*_TABLE)
    with Sink() as sink:
        destination = await destinations.create_destination(
            headwater.engine,
            headwater.settings,
            workspace=headwater.workspace,
            name="crm",
            kind="webhook",
            config={"url": sink.url},
        )
        sync_id = await _sync(
            headwater,
            await _model(headwater, customer),
            target="destination",
            destination_id=destination["id"],
            mode="mirror",
            mapping={"user_id": "email", "fields": {"plan": "plan", "seats": "seats"}},
        )
        assert _counts(await _run(headwater, sync_id)) == (20, 0, 0, 0)
        await customer.execute("DELETE FROM customers WHERE id IN (3, 8)")
        assert _counts(await _run(headwater, sync_id)) == (0, 0, 2, 0)
        stop = asyncio.Event()
        workers = DeliveryWorkers(
            engine=headwater.engine, settings=headwater.settings, metrics=Metrics()
        )
        task = asyncio.create_task(workers.run(stop, Health("delivery")))
        try:
            received = await asyncio.to_thread(sink.wait_for, 22)
        finally:
            stop.set()
            await task
    bodies = [r.json() for r in received]
    removals = [b for b in bodies if b["traits"] == {"plan": None, "seats": None}]
    assert sorted(b["userId"] for b in removals) == ["user3@example.com", "user8@example.com"]
    assert all(b["type"] == "identify" for b in removals)
    assert all(b["context"]["headwater"]["key"] in ("3", "8") for b in removals), removals
    sent = {b["messageId"] for b in bodies if b not in removals}
    assert all(b["messageId"].startswith("retl-") and b["messageId"] not in sent for b in removals)


async def test_two_tasks_never_run_the_same_sync(headwater: Headwater, customer: Customer) -> None:
    """While one process holds its claim (its transaction not committed yet), another's claim
    skips the sync at once instead of taking it too (or waiting for it)."""
    await customer.execute(*_TABLE)
    sync_id = await _sync(headwater, await _model(headwater, customer))
    await retl.run_now(headwater.engine, workspace=headwater.workspace, sync_id=sync_id)
    lease = timedelta(minutes=1)
    async with store.begun(headwater.engine) as first:
        claimed = await store.claim(first, lease=lease)
        assert claimed is not None
        assert claimed[0]["id"] == sync_id
        async with store.begun(headwater.engine) as second:
            # A claim that waited for the first one's lock would fail here, not hang.
            await second.driver.execute("SET LOCAL lock_timeout = '5s'")
            assert await store.claim(second, lease=lease) is None
    async with store.begun(headwater.engine) as third:
        assert await store.claim(third, lease=lease) is None  # leased now


async def test_a_run_whose_process_stopped_is_picked_up(
    headwater: Headwater, customer: Customer
) -> None:
    await customer.execute(*_TABLE)
    sync_id = await _sync(headwater, await _model(headwater, customer))
    # What a process killed mid-run leaves: a running run and a lease that ran out.
    async with headwater.engine.begin() as connection:
        await connection.execute(
            text("INSERT INTO retl_runs (sync_id, trigger) VALUES (:s, 'manual')"), {"s": sync_id}
        )
        await connection.execute(
            text("UPDATE retl_syncs SET lease_until = now() - interval '1 second' WHERE id = :s"),
            {"s": sync_id},
        )
    assert await SyncTask(
        headwater.engine, headwater.settings, collector=headwater.collector
    ).once()
    runs = await retl.list_runs(headwater.engine, workspace=headwater.workspace, sync_id=sync_id)
    assert [(r["status"], r["trigger"]) for r in runs] == [
        ("succeeded", "recovery"),
        ("interrupted", "manual"),
    ]
    assert runs[0]["added"] == 20


async def test_a_run_asked_for_after_a_stop_still_closes_the_stopped_run(
    headwater: Headwater, customer: Customer
) -> None:
    """ "Run now" pressed while a stopped process's lease runs out: the new run is ``manual``,
    and the stopped run is recorded ``interrupted`` all the same, not left ``running``."""
    await customer.execute(*_TABLE)
    sync_id = await _sync(headwater, await _model(headwater, customer))
    async with headwater.engine.begin() as connection:
        await connection.execute(
            text("INSERT INTO retl_runs (sync_id, trigger) VALUES (:s, 'schedule')"),
            {"s": sync_id},
        )
        await connection.execute(
            text("UPDATE retl_syncs SET lease_until = now() - interval '1 second' WHERE id = :s"),
            {"s": sync_id},
        )
    await _run(headwater, sync_id)
    runs = await retl.list_runs(headwater.engine, workspace=headwater.workspace, sync_id=sync_id)
    assert [(r["status"], r["trigger"]) for r in runs] == [
        ("succeeded", "manual"),
        ("interrupted", "schedule"),
    ]
    assert runs[1]["reason"] is not None
    assert "lease ran out" in runs[1]["reason"]


async def test_a_leased_sync_is_not_taken(headwater: Headwater, customer: Customer) -> None:
    await customer.execute(*_TABLE)
    sync_id = await _sync(headwater, await _model(headwater, customer))
    await retl.run_now(headwater.engine, workspace=headwater.workspace, sync_id=sync_id)
    async with headwater.engine.begin() as connection:
        await connection.execute(
            text("UPDATE retl_syncs SET lease_until = now() + interval '1 hour' WHERE id = :s"),
            {"s": sync_id},
        )
    task = SyncTask(headwater.engine, headwater.settings, collector=headwater.collector)
    assert not await task.once()


async def test_a_cursor_reads_rows_from_the_last_mark(
    headwater: Headwater, customer: Customer
) -> None:
    await customer.execute(
        *_TABLE, "UPDATE customers SET updated = '2026-01-01'::timestamptz + id * interval '1 s'"
    )
    model_id = await _model(
        headwater,
        customer,
        query="SELECT id, email, plan, updated FROM customers",
        cursor_column="updated",
    )
    sync_id = await _sync(headwater, model_id, mapping={"user_id": "id", "fields": {"p": "plan"}})
    first = await _run(headwater, sync_id)
    assert (first["rows_read"], first["added"]) == (20, 20)
    await customer.execute(
        "UPDATE customers SET plan = 'pro', updated = now() + interval '1 minute' WHERE id = 4"
    )
    second = await _run(headwater, sync_id)
    # The row at the mark (id 20, unchanged: its hash says so) and the one changed since.
    assert (second["rows_read"], *_counts(second)) == (2, 0, 1, 0, 0)


async def test_another_dialect_sqlite(headwater: Headwater, tmp_path: Path) -> None:
    path = tmp_path / "crm.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE accounts (id TEXT PRIMARY KEY, owner TEXT, name TEXT)")
        db.executemany(
            "INSERT INTO accounts VALUES (?, ?, ?)", [("a1", "u1", "Acme"), ("a2", "u2", "Bolt")]
        )
    url = f"sqlite:///{path}"
    shown = await retl.preview(
        headwater.engine,
        headwater.settings,
        connection=url,
        query="SELECT * FROM accounts",
        primary_key="id",
        limit=5,
    )
    assert shown["columns"] == ["id", "owner", "name"]
    assert shown["rows"] == [["a1", "u1", "Acme"], ["a2", "u2", "Bolt"]]
    model = await retl.create_model(
        headwater.engine,
        headwater.settings,
        workspace=headwater.workspace,
        name="Accounts",
        connection=url,
        query="SELECT * FROM accounts",
        primary_key="id",
    )
    values: dict[str, Any] = {
        "message_type": "group",
        "mapping": {"user_id": "owner", "group_id": "id", "fields": {"name": "name"}},
    }
    sync_id = await _sync(headwater, model["id"], **values)
    assert _counts(await _run(headwater, sync_id)) == (2, 0, 0, 0)


async def test_preview_reports_what_would_stop_a_sync(
    headwater: Headwater, customer: Customer
) -> None:
    await customer.execute(*_TABLE)
    shown = await retl.preview(
        headwater.engine,
        headwater.settings,
        connection=customer.url,
        query="SELECT plan AS id, email FROM customers ORDER BY id",
        primary_key="id",
        limit=3,
    )
    assert len(shown["rows"]) == 3
    assert shown["problems"] == ["the primary key repeats: each row needs its own"]
