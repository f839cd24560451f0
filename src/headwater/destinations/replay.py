"""Self-serve replay to one destination: its dead letters, or a time range of stored events.

>>> await replay(engine, workspace="default", destination_id=3, dead_letters=True)
{"queued": 120, "skipped": 0}

Dead letters go back into the queue as they were sent (the shape after filters), due now,
and leave the dead-letter list. A time range rereads the event log (``events``) between
``since`` and ``until`` (by ``receivedAt``) from the destination's sources and routes each
event again through the destination's *current* integrations check, consent and filters.
Either way a message still queued for the destination is not queued twice; a message
delivered before is sent again (that is the point of a replay), with the same messageId for
the receiver to deduplicate on.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.destinations import queue, store
from headwater.destinations.service import find
from headwater.destinations.stage import Route, route_entries
from headwater.errors import BadRequest
from headwater.log import LogEntry
from headwater.spec import message_of
from headwater.storage import driver_connection

__all__ = ["replay"]

_CHUNK = 1000

_READ = """
SELECT partition, seq, workspace_id, source_id, message_id, type, name, user_id, anonymous_id,
       timestamp, received_at, payload
FROM governed_events
WHERE workspace_id = :workspace AND received_at >= :since AND received_at < :until
  AND seq > :after AND (CAST(:sources AS integer[]) IS NULL OR source_id = ANY(:sources))
ORDER BY seq LIMIT :limit
"""


async def replay(
    engine: AsyncEngine,
    *,
    workspace: str,
    destination_id: int,
    since: datetime | None = None,
    until: datetime | None = None,
    dead_letters: bool = False,
    ids: list[int] | None = None,
) -> dict[str, int]:
    """Queue dead letters (all, or ``ids``) or the events of ``[since, until)`` again."""
    if dead_letters == (since is not None or until is not None):
        raise BadRequest(
            "invalid_replay", "replay either dead letters or a time range (since and until)"
        )
    if dead_letters:
        async with engine.begin() as connection:
            await find(connection, workspace, destination_id)
            queued = await store.replay_dead_letters(connection, destination_id, ids=ids)
        return {"queued": queued, "skipped": 0}
    if since is None or until is None or since >= until:
        raise BadRequest("invalid_range", "a time range needs since < until")
    return await _replay_range(engine, workspace, destination_id, since, until)


async def _replay_range(
    engine: AsyncEngine, workspace: str, destination_id: int, since: datetime, until: datetime
) -> dict[str, int]:
    queued = skipped = 0
    after = 0
    while True:
        async with engine.begin() as connection:
            destination = await find(connection, workspace, destination_id)
            rows = list(
                await connection.execute(
                    text(_READ),
                    {
                        "workspace": destination.workspace_id,
                        "since": since,
                        "until": until,
                        "after": after,
                        "sources": destination.sources,
                        "limit": _CHUNK,
                    },
                )
            )
            if not rows:
                return {"queued": queued, "skipped": skipped}
            entries = [
                LogEntry(
                    partition=r.partition,
                    offset=r.seq,
                    workspace_id=r.workspace_id,
                    source_id=r.source_id,
                    message_id=r.message_id,
                    type=r.type,
                    name=r.name,
                    user_id=r.user_id,
                    anonymous_id=r.anonymous_id,
                    timestamp=r.timestamp,
                    received_at=r.received_at,
                    message=message_of(r.payload),
                )
                for r in rows
            ]
            after = entries[-1].offset
            batch = route_entries(entries, {destination.workspace_id: [Route.of(destination)]})
            found = batch.get(destination_id, queue.Enqueued())
            skipped += len(entries) - len(found.rows)
            driver = await driver_connection(connection)
            queued += await queue.enqueue(driver, batch)
