"""The collector's suppression sets follow a change made elsewhere (another process's
regulation) as soon as its notification arrives, not at the next full refresh, and the
watching task ends as soon as it is told to stop."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.collect import store
from headwater.collect.suppressions import Suppressions
from headwater.storage import connected
from headwater.supervisor import Health
from headwater.workspaces import identifier_hash, identifier_key
from headwater.workspaces.service import create_workspace


async def _until(check: Callable[[], bool], within: float) -> float:
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < within, "not within the time allowed"
        await asyncio.sleep(0.05)
    return time.monotonic() - started


async def test_a_suppression_added_elsewhere_is_enforced_when_notified(
    engine: AsyncEngine,
) -> None:
    workspace = await create_workspace(engine, slug="watched")
    # A refresh far away: only the notification can bring the change in time.
    suppressions = Suppressions(engine, refresh_seconds=3600)
    await suppressions.load()
    stop = asyncio.Event()
    watching = asyncio.create_task(suppressions.watch(stop, Health("suppressions")))
    try:
        await asyncio.sleep(0.5)  # listening
        assert not suppressions.refused(workspace.id, "user-1", None)
        async with connected(engine) as tx:
            key = await identifier_key(tx, workspace.id)
            digest = identifier_hash(key, "user_id", "user-1")
            await store.suppress(tx, workspace.id, [("user_id", digest, digest)], regulation_id="r")
            await tx.connection.commit()
        await _until(lambda: suppressions.refused(workspace.id, "user-1", None), within=10)
        assert not suppressions.refused(workspace.id, "user-2", "user-1")
    finally:
        stop.set()
        # Ends at once, not when its hour of waiting for the next refresh is up.
        await asyncio.wait_for(watching, timeout=10)


async def _suppress(engine: AsyncEngine, workspace_id: int, user_id: str) -> None:
    async with connected(engine) as tx:
        key = await identifier_key(tx, workspace_id)
        digest = identifier_hash(key, "user_id", user_id)
        await store.suppress(tx, workspace_id, [("user_id", digest, digest)], regulation_id="r")
        await tx.connection.commit()


async def test_a_remembered_verdict_does_not_outlive_a_change(engine: AsyncEngine) -> None:
    workspace = await create_workspace(engine, slug="remembered")
    await _suppress(engine, workspace.id, "user-0")
    suppressions = Suppressions(engine, refresh_seconds=3600)
    await suppressions.load()
    # Verdicts reached, and remembered, before the change: ask twice.
    for _ in range(2):
        assert suppressions.refused(workspace.id, "user-0", None)
        assert not suppressions.refused(workspace.id, "user-1", "anon-1")

    await _suppress(engine, workspace.id, "user-1")
    await suppressions.reload(workspace.id)
    assert suppressions.refused(workspace.id, "user-1", None)
    assert not suppressions.refused(workspace.id, None, "anon-1")

    async with connected(engine) as tx:
        key = await identifier_key(tx, workspace.id)
        origin = identifier_hash(key, "user_id", "user-0")
        await store.unsuppress(tx, workspace.id, [origin], origin=origin)
        await tx.connection.commit()
    await suppressions.reload(workspace.id)
    assert not suppressions.refused(workspace.id, "user-0", None)
    assert suppressions.refused(workspace.id, "user-1", None)
