"""Runs of syncs on a real customer database (PostgreSQL, a role with a password) into a real
Headwater: the first run sends every row through the collector, the next sends only what
changed, a retried run changes nothing, failed rows are retried, mirror mode undoes removed
keys, the source being down is a failed run with a plain reason and no password."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater import retl
from headwater.retl import SyncTask
from headwater.retl.send import CollectorTarget, TargetRefused
from headwater.workspaces import update_source
from tests.retl.conftest import PASSWORD, Customer, Headwater

_TABLE = (
    "CREATE TABLE customers (id int PRIMARY KEY, email text, plan text, seats int,"
    " updated timestamptz NOT NULL DEFAULT now())",
    "INSERT INTO customers (id, email, plan, seats)"
    " SELECT n, 'user' || n || '@example.com', 'free', n FROM generate_series(1, 20) n",
)


async def _rows(engine: AsyncEngine, sql: str, **params: Any) -> list[Any]:
    async with engine.connect() as connection:
        return list((await connection.execute(text(sql), params)).all())


async def _events(hw: Headwater) -> list[dict[str, Any]]:
    rows = await _rows(
        hw.engine,
        "SELECT payload::text FROM events WHERE source_id = :s ORDER BY seq",
        s=hw.source.id,
    )
    return [msgspec.json.decode(r[0]) for r in rows]


async def _model(hw: Headwater, customer: Customer, **extra: Any) -> int:
    view = await retl.create_model(
        hw.engine,
        hw.settings,
        workspace=hw.workspace,
        name=extra.pop("name", "Customers"),
        connection=customer.url,
        query=extra.pop("query", "SELECT id, email, plan, seats FROM customers"),
        primary_key="id",
        **extra,
    )
    assert PASSWORD not in view["connection"]
    assert view["connection"].startswith("postgresql://reader:***@")
    return view["id"]


async def _sync(hw: Headwater, model_id: int, **values: Any) -> int:
    body = {
        "name": "To profiles",
        "model_id": model_id,
        "target": "profiles",
        "message_type": "identify",
        "mode": "upsert",
        "mapping": {"user_id": "id", "fields": {"email": "email", "plan": "plan"}},
        "schedule": {"kind": "manual"},
        "enabled": True,
        "source_id": hw.source.id,
        **values,
    }
    return (await retl.create_sync(hw.engine, workspace=hw.workspace, values=body))["id"]


async def _run(hw: Headwater, sync_id: int) -> retl.RunView:
    await retl.run_now(hw.engine, workspace=hw.workspace, sync_id=sync_id)
    assert await SyncTask(hw.engine, hw.settings, collector=hw.collector).once()
    runs = await retl.list_runs(hw.engine, workspace=hw.workspace, sync_id=sync_id)
    return runs[0]


def _counts(run: retl.RunView) -> tuple[int, int, int, int]:
    return run["added"], run["changed"], run["removed"], run["failed"]


async def test_first_run_then_only_changes(headwater: Headwater, customer: Customer) -> None:
    await customer.execute(*_TABLE)
    sync_id = await _sync(headwater, await _model(headwater, customer))

    first = await _run(headwater, sync_id)
    assert first["status"] == "succeeded", first
    assert (first["rows_read"], *_counts(first)) == (20, 20, 0, 0, 0)
    events = await _events(headwater)
    assert len(events) == 20
    by_user = {e["userId"]: e for e in events}
    assert by_user["3"]["type"] == "identify"
    assert by_user["3"]["traits"] == {"email": "user3@example.com", "plan": "free"}

    second = await _run(headwater, sync_id)
    assert _counts(second) == (0, 0, 0, 0)
    assert len(await _events(headwater)) == 20

    await customer.execute(
        "UPDATE customers SET plan = 'pro' WHERE id IN (2, 5)",
        "INSERT INTO customers (id, email, plan, seats) VALUES (21, 'new@example.com', 'free', 1)",
        "DELETE FROM customers WHERE id = 7",
    )
    third = await _run(headwater, sync_id)
    assert _counts(third) == (1, 2, 0, 0), third  # upsert: a removal sends nothing
    fresh = (await _events(headwater))[20:]
    assert sorted(e["userId"] for e in fresh) == ["2", "21", "5"]
    assert {e["traits"]["plan"] for e in fresh if e["userId"] != "21"} == {"pro"}


async def test_a_retried_run_sends_duplicates_only(
    headwater: Headwater, customer: Customer
) -> None:
    """Messages are named by sync, key and row hash: with the state lost (a crash after the
    send), the run again sends the same messageIds and collection drops them."""
    await customer.execute(*_TABLE)
    sync_id = await _sync(headwater, await _model(headwater, customer))
    await _run(headwater, sync_id)
    async with headwater.engine.begin() as connection:
        await connection.execute(text("DELETE FROM retl_state WHERE sync_id = :s"), {"s": sync_id})
    again = await _run(headwater, sync_id)
    assert again["added"] == 20
    assert len(await _events(headwater)) == 20


async def test_failed_rows_are_kept_and_retried(headwater: Headwater, customer: Customer) -> None:
    await customer.execute(*_TABLE, "UPDATE customers SET email = NULL WHERE id IN (4, 9)")
    model_id = await _model(headwater, customer)
    sync_id = await _sync(
        headwater,
        model_id,
        mapping={"user_id": "email", "fields": {"plan": "plan"}},
    )
    run = await _run(headwater, sync_id)
    assert _counts(run) == (18, 0, 0, 2), run
    assert sorted(f["key"] for f in run["failures"]) == ["4", "9"]
    assert all("userId" in f["reason"] or "anonymousId" in f["reason"] for f in run["failures"])

    await customer.execute("UPDATE customers SET email = 'fixed' || id WHERE email IS NULL")
    retried = await _run(headwater, sync_id)
    assert _counts(retried) == (2, 0, 0, 0), retried
    assert {e.get("userId") for e in await _events(headwater)} >= {"fixed4", "fixed9"}


async def test_mirror_clears_the_traits_of_a_removed_key(
    headwater: Headwater, customer: Customer
) -> None:
    await customer.execute(*_TABLE)
    sync_id = await _sync(headwater, await _model(headwater, customer), mode="mirror")
    await _run(headwater, sync_id)
    await customer.execute("DELETE FROM customers WHERE id IN (3, 8)")
    run = await _run(headwater, sync_id)
    assert _counts(run) == (0, 0, 2, 0), run
    removals = (await _events(headwater))[20:]
    assert sorted(e["userId"] for e in removals) == ["3", "8"]
    assert all(e["traits"] == {"email": None, "plan": None} for e in removals)
    assert _counts(await _run(headwater, sync_id)) == (0, 0, 0, 0)


async def test_insert_and_update_modes(headwater: Headwater, customer: Customer) -> None:
    await customer.execute(*_TABLE)
    model_id = await _model(headwater, customer)
    inserts = await _sync(headwater, model_id, name="inserts", mode="insert")
    updates = await _sync(headwater, model_id, name="updates", mode="update")
    assert _counts(await _run(headwater, inserts)) == (20, 0, 0, 0)
    assert _counts(await _run(headwater, updates)) == (0, 0, 0, 0)  # first sight: recorded
    await customer.execute(
        "UPDATE customers SET plan = 'pro' WHERE id = 1",
        "INSERT INTO customers (id, email, plan, seats) VALUES (30, 'x@example.com', 'free', 1)",
    )
    assert _counts(await _run(headwater, inserts)) == (1, 0, 0, 0)
    assert _counts(await _run(headwater, updates)) == (0, 1, 0, 0)


async def test_events_with_an_event_column(headwater: Headwater, customer: Customer) -> None:
    await customer.execute(
        "CREATE TABLE orders (id text PRIMARY KEY, customer int, kind text, total numeric,"
        " at timestamptz)",
        "INSERT INTO orders VALUES ('o1', 1, 'Order Completed', 12.50, '2026-03-01T10:00:00Z'),"
        " ('o2', 2, 'Order Refunded', 3, '2026-03-02T11:00:00Z')",
    )
    model_id = await _model(headwater, customer, name="Orders", query="SELECT * FROM orders")
    sync_id = await _sync(
        headwater,
        model_id,
        target="events",
        message_type="track",
        mapping={"user_id": "customer", "event_column": "kind", "timestamp_column": "at"},
    )
    assert _counts(await _run(headwater, sync_id)) == (2, 0, 0, 0)
    events = {e["event"]: e for e in await _events(headwater)}
    assert events["Order Completed"]["properties"] == {"id": "o1", "total": "12.50"}
    assert events["Order Completed"]["timestamp"].startswith("2026-03-01T10:00:00")


async def test_source_down_is_a_failed_run_without_the_password(
    headwater: Headwater, customer: Customer
) -> None:
    await customer.execute(*_TABLE)
    model_id = await _model(headwater, customer)
    sync_id = await _sync(headwater, model_id)
    # Nothing listens on port 1.
    down = (
        make_url(customer.url)
        .set(host="127.0.0.1", port=1, query={})
        .render_as_string(hide_password=False)
    )
    await retl.update_model(
        headwater.engine,
        headwater.settings,
        workspace=headwater.workspace,
        model_id=model_id,
        changes={"connection": down},
    )
    run = await _run(headwater, sync_id)
    assert run["status"] == "failed"
    assert run["reason"]
    assert run["reason"].startswith("the model's database:")
    assert PASSWORD not in str(run)


async def test_a_query_error_is_scrubbed_of_the_password(
    headwater: Headwater, customer: Customer
) -> None:
    await customer.execute(*_TABLE)
    model_id = await _model(headwater, customer, query=f"SELECT '{PASSWORD}'::int AS id")
    run = await _run(headwater, await _sync(headwater, model_id))
    assert run["status"] == "failed"
    assert "invalid input syntax" in (run["reason"] or "")
    assert PASSWORD not in str(run)
    assert "***" in (run["reason"] or "")


async def test_a_mapping_naming_a_missing_column_fails_plainly(
    headwater: Headwater, customer: Customer
) -> None:
    await customer.execute(*_TABLE)
    sync_id = await _sync(
        headwater,
        await _model(headwater, customer),
        mapping={"user_id": "id", "fields": {"name": "full_name"}},
    )
    run = await _run(headwater, sync_id)
    assert run["status"] == "failed"
    assert run["reason"] == "the mapping names columns the model does not have: full_name"


async def test_a_disabled_source_fails_the_run_plainly(
    headwater: Headwater, customer: Customer
) -> None:
    await customer.execute(*_TABLE)
    sync_id = await _sync(headwater, await _model(headwater, customer))
    await update_source(headwater.engine, headwater.source.id, enabled=False)
    run = await _run(headwater, sync_id)
    assert (run["status"], run["reason"]) == (
        "failed",
        "the sync's source is disabled or deleted: enable it to send",
    )
    assert await _events(headwater) == []


async def test_a_refused_write_key_stops_the_target(headwater: Headwater) -> None:
    target = CollectorTarget(
        headwater.collector, write_key="no-such-key", settings=headwater.settings
    )
    with pytest.raises(TargetRefused):
        await target.send([{"type": "identify", "userId": "u1", "messageId": "m1"}])


async def test_failure_samples_stop_at_twenty_and_the_count_does_not(
    headwater: Headwater, customer: Customer
) -> None:
    await customer.execute(*_TABLE, "UPDATE customers SET email = NULL WHERE id <= 17")
    await customer.execute(
        "INSERT INTO customers (id, email, plan, seats) SELECT n, NULL, 'free', n"
        " FROM generate_series(21, 30) n"
    )
    sync_id = await _sync(
        headwater, await _model(headwater, customer), mapping={"user_id": "email"}
    )
    run = await _run(headwater, sync_id)
    assert (run["rows_read"], *_counts(run)) == (30, 3, 0, 0, 27), run
    assert len(run["failures"]) == 20
    failed_keys = {str(n) for n in [*range(1, 18), *range(21, 31)]}
    assert {f["key"] for f in run["failures"]} <= failed_keys
    assert len({f["key"] for f in run["failures"]}) == 20
