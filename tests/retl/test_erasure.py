"""Deleting a person removes them from the reverse ETL syncs' state kept in Headwater: rows
keyed by one of their identifiers, mirror rows sent with one, and the failure samples that name
them; everyone else's state stays (their rows are not sent again)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from headwater import retl
from headwater.storage import begin
from tests.retl.conftest import Customer, Headwater
from tests.retl.test_runs import _TABLE, _model, _rows, _run, _sync


async def _state(hw: Headwater, sync_id: int) -> set[str]:
    rows = await _rows(hw.engine, "SELECT key FROM retl_state WHERE sync_id = :s", s=sync_id)
    return {row[0] for row in rows}


async def _forget(hw: Headwater, keys: list[str], values: list[str]) -> dict[str, int]:
    async with hw.engine.connect() as connection:
        tx = await begin(connection)
        counts = await retl.forget_person(tx, hw.source.workspace_id, keys, values)
        await connection.commit()
    return counts


async def test_a_person_leaves_every_sync_s_state_and_failure_samples(
    headwater: Headwater, customer: Customer
) -> None:
    await customer.execute(*_TABLE)
    by_id = await _sync(
        headwater,
        await _model(headwater, customer),
        mode="mirror",
        mapping={"user_id": "email", "fields": {"plan": "plan"}},
    )
    keyed_by_email = await retl.create_model(
        headwater.engine,
        headwater.settings,
        workspace=headwater.workspace,
        name="By email",
        connection=customer.url,
        query="SELECT email, plan, CASE WHEN id IN (3, 4) THEN NULL ELSE email END AS uid"
        " FROM customers",
        primary_key="email",
    )
    by_email = await _sync(
        headwater,
        keyed_by_email["id"],
        name="Keyed by email",
        mapping={"user_id": "uid", "fields": {"plan": "plan"}},
    )
    await _run(headwater, by_id)
    failing = await _run(headwater, by_email)
    assert sorted(f["key"] for f in failing["failures"]) == [
        "user3@example.com",
        "user4@example.com",
    ]
    before: dict[int, Any] = {s: await _state(headwater, s) for s in (by_id, by_email)}

    # The mirror sync's key is the row's id, not one of the person's identifiers: its row is
    # found by the identifiers it was sent with.
    counts = await _forget(headwater, ["user3@example.com"], ["user3@example.com"])

    assert counts == {"retl_state": 2, "retl_failures": 1}
    assert await _state(headwater, by_id) == before[by_id] - {"3"}
    assert await _state(headwater, by_email) == before[by_email] - {"user3@example.com"}
    (run,) = await retl.list_runs(headwater.engine, workspace=headwater.workspace, sync_id=by_email)
    assert [f["key"] for f in run["failures"]] == ["user4@example.com"]
    assert run["failed"] == 2  # the counts stay: they are no one's
    async with headwater.engine.connect() as connection:
        stored = await connection.execute(
            text("SELECT count(*) FROM retl_state WHERE identity::text ILIKE '%user3@%'")
        )
        assert stored.scalar_one() == 0
    assert await _forget(headwater, ["user3@example.com"], ["user3@example.com"]) == {
        "retl_state": 0,
        "retl_failures": 0,
    }
