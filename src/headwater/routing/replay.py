"""Self-serve replay to one destination: its dead letters, or a time range of stored events.

>>> await replay(engine, workspace="default", destination_id=3, dead_letters=True)
{"queued": 120, "skipped": 0}

Dead letters go back into the queue as they were sent (the shape after filters), due now,
and leave the dead-letter list. A time range rereads the event log between ``since`` and
``until`` (by ``receivedAt``) from the destination's sources, as the tracking plans left it
(``governed``: :func:`headwater.protocols.governed`), and routes each event again through the
destination's *current* integrations check, consent, filters and PII rules (a field its
rules drop is not sent again; an event one blocks is skipped).
Either way a message still queued for the destination is not queued twice; a message
delivered before is sent again (that is the point of a replay), with the same messageId for
the receiver to deduplicate on.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from headwater import delivery, pii
from headwater.destinations import ReplayedView, find
from headwater.errors import BadRequest
from headwater.log import Amend, EventLog
from headwater.routing.stage import Route, route_entries
from headwater.storage import transaction

__all__ = ["replay"]

_CHUNK = 1000


async def replay(
    engine: AsyncEngine,
    log: EventLog,
    *,
    governed: Amend,
    workspace: str,
    destination_id: int,
    since: datetime | None = None,
    until: datetime | None = None,
    dead_letters: bool = False,
    ids: list[int] | None = None,
) -> ReplayedView:
    """Queue dead letters (all, or ``ids``) or the events of ``[since, until)`` again."""
    if dead_letters == (since is not None or until is not None):
        raise BadRequest(
            "invalid_replay", "replay either dead letters or a time range (since and until)"
        )
    if ids is not None and not dead_letters:
        raise BadRequest(
            "invalid_replay", "ids name dead letters: send dead_letters true with them"
        )
    if dead_letters:
        async with transaction(engine) as connection:
            await find(connection, workspace, destination_id)
            queued = await delivery.replay_dead_letters(connection, destination_id, ids=ids)
        return {"queued": queued, "skipped": 0}
    if since is None or until is None or since >= until:
        raise BadRequest("invalid_range", "a time range needs since < until")
    return await _replay_range(engine, log, governed, workspace, destination_id, since, until)


async def _replay_range(
    engine: AsyncEngine,
    log: EventLog,
    governed: Amend,
    workspace: str,
    destination_id: int,
    since: datetime,
    until: datetime,
) -> ReplayedView:
    queued = skipped = 0
    after = 0
    # The PII rules as they are when the replay starts, loaded (and compiled) once for every
    # page.
    async with transaction(engine) as connection:
        privacy = await pii.load(connection)
    while True:
        async with transaction(engine) as connection:
            destination = await find(connection, workspace, destination_id)
            page = await log.received(
                destination.workspace_id,
                since=since,
                until=until,
                after=after,
                sources=destination.sources,
                limit=_CHUNK,
                connection=connection.connection,
            )
            if not page:
                return {"queued": queued, "skipped": skipped}
            after = page[-1].offset
            # Blocked events are left out, as if never received; they count as nothing.
            entries = await governed(connection, page)
            routes = {destination.workspace_id: [Route.of(destination)]}
            batch = route_entries(entries, routes, privacy)
            found = batch.get(destination_id, delivery.Enqueued())
            skipped += len(entries) - len(found.rows)
            queued += await delivery.enqueue(connection, batch)
