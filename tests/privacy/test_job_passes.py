"""The regulation job takes a pass of subjects through each stage together: the collectors
reload the workspace's suppressions once a pass, not once a subject, and every subject still
gets its own erasure, counts and audit entries. Two subjects that are one person are erased
once, the second finding nothing left."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.log import PostgresLog
from headwater.privacy import Person, erase
from headwater.privacy.job import Regulator
from headwater.privacy.regulations import create_regulation
from headwater.storage import Transaction, begin

PEOPLE = 60
BATCH = 25

_PEOPLE = """
INSERT INTO workspaces (id, slug, name) VALUES (1, 'default', 'Default') ON CONFLICT DO NOTHING;
INSERT INTO profiles (id, workspace_id, kind, first_ts, first_message_id, last_ts,
    last_message_id)
SELECT 'prf_' || n, 1, 'user', now(), 'm', now(), 'm' FROM generate_series(0, $1) AS n;
INSERT INTO identifiers (workspace_id, kind, type, value, profile_id, added_at, message_id)
SELECT 1, 'user', t, t || '-' || n, 'prf_' || n, now(), 'm'
FROM generate_series(0, $1) AS n, unnest(ARRAY['user_id', 'anonymous_id']) AS t;
"""
"""People 0 to PEOPLE, each a profile with a user id and an anonymous id; the last is kept."""


async def _fetch(engine: AsyncEngine, query: str, *args: object) -> list[tuple[object, ...]]:
    async with engine.connect() as connection:
        tx = await Transaction.of(connection)
        return [tuple(row) for row in await tx.driver.fetch(query, *args)]


async def test_a_pass_reloads_suppressions_once_and_erases_each_subject(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as connection:
        await (await begin(connection)).driver.execute(_PEOPLE.replace("$1", str(PEOPLE)))
    ((slug,),) = await _fetch(engine, "SELECT slug FROM workspaces WHERE id = 1")
    # Subject PEOPLE is person 0 named by their anonymous id: the same person twice.
    ids = [f"user_id-{n}" for n in range(PEOPLE)]
    body = {"regulationType": "SUPPRESS_WITH_DELETE", "subjectType": "USER_ID", "subjectIds": ids}
    created = await create_regulation(engine, workspace=str(slug), source_id=None, body=body)
    regulation_id = created["data"]["regulateId"]
    async with engine.begin() as connection:  # no wait for a change of mind
        await (await begin(connection)).driver.execute("UPDATE regulations SET next_at = now()")

    log = PostgresLog(engine, 4)
    reloads: list[int] = []

    async def reload(workspace_id: int) -> None:
        reloads.append(workspace_id)

    async def erase_person(tx: Transaction, person: Person) -> dict[str, int]:
        return await erase(tx, person, log=log)

    regulator = Regulator(
        engine,
        log,
        erase=erase_person,
        suppressions_changed=reload,
        poll_seconds=0.05,
        grace=timedelta(milliseconds=100),
        batch=BATCH,
    )
    try:
        deadline = time.monotonic() + 60
        status = "INITIALIZED"
        while status != "FINISHED":
            assert time.monotonic() < deadline, status
            await regulator.turn()
            await asyncio.sleep(0.05)
            ((status,),) = await _fetch(
                engine, "SELECT status FROM regulations WHERE id = $1", regulation_id
            )
    finally:
        await log.close()

    passes = -(-PEOPLE // BATCH)
    assert reloads == [1] * passes
    targets = await _fetch(
        engine,
        "SELECT status, removed FROM regulation_targets WHERE regulation_id = $1 ORDER BY position",
        regulation_id,
    )
    assert [row[0] for row in targets] == ["FINISHED"] * PEOPLE
    for _, removed in targets:
        assert isinstance(removed, dict)
        assert (removed["profiles"], removed["identifiers"]) == (1, 2)
    left = await _fetch(engine, "SELECT value FROM identifiers ORDER BY value")
    assert left == [(f"anonymous_id-{PEOPLE}",), (f"user_id-{PEOPLE}",)]
    audited = await _fetch(
        engine,
        "SELECT action, count(*) FROM audit_log WHERE resource = $1 GROUP BY action ORDER BY 1",
        f"regulation:{regulation_id}",
    )
    assert audited == [("regulation.erase", PEOPLE), ("regulation.suppress", PEOPLE)]
