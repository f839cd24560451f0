"""An import's commits go apart from the tracking API's group commit: a tracking request is
acknowledged while an import's batch is held up in the database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import text

from headwater.collect import Collector
from headwater.spec import Event
from headwater.workspaces import Source
from tests.imports.local import Local, local

__all__ = ["local"]


async def _normalised(collector: Collector, source: Source, ids: list[str]) -> list[Event]:
    messages = [
        (i, {"type": "track", "event": "Paid", "userId": f"u-{i}", "messageId": message_id})
        for i, message_id in enumerate(ids)
    ]
    events, rejections = await collector.normalised(source, messages, received_at=_now())
    assert not rejections
    return events


def _now() -> datetime:
    return datetime.now(UTC)


async def test_tracking_is_acknowledged_while_an_import_batch_waits(local: Local) -> None:
    collector, source = local.collector, local.source
    batch = await _normalised(collector, source, [f"import-{i}" for i in range(3000)])
    tracked = await _normalised(collector, source, ["tracked-1"])
    async with local.engine.connect() as holder:
        # An uncommitted claim of one of the batch's message ids: the import's transaction
        # waits on it (as it would on a slow COPY) until the holder ends.
        await holder.execute(
            text(
                "INSERT INTO dedup_keys (workspace_id, message_id, received_at)"
                " VALUES (:w, 'import-1500', now())"
            ),
            {"w": source.workspace_id},
        )
        importing = asyncio.create_task(
            collector.commit_apart(source, batch, [], received_at=_now(), chunk=1000)
        )
        while not await _waiting_on_a_lock(local):  # noqa: ASYNC110 (PostgreSQL's state)
            await asyncio.sleep(0.01)
        tracking = asyncio.create_task(collector.commit(source, tracked, [], received_at=_now()))
        done, _ = await asyncio.wait(
            {importing, tracking}, timeout=60, return_when=asyncio.FIRST_COMPLETED
        )
        assert done == {tracking}, "the tracking request waited behind the import"
        assert tracking.result().accepted == 1
        await holder.rollback()
    result = await importing
    # The chunk before the held one committed apart, then the rest.
    assert (result.accepted, result.duplicates) == (3000, 0)


async def _waiting_on_a_lock(local: Local) -> bool:
    async with local.engine.connect() as connection:
        found = await connection.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
        )
        return bool(found.scalar_one())
