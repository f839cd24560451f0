"""Seeing the data: an event as stored, a source's live feed, rejections, duplicates, counts.

Every function returns plain JSON-ready values (what the API and the CLI print). Events are
read through the :class:`~headwater.log.EventLog`, as appended (before tracking plans).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.activity import store
from headwater.activity.store import GroupBy, Interval
from headwater.activity.views import CountView, EventView, RejectionView
from headwater.errors import BadRequest, NotFound
from headwater.log import EventLog, LogEntry
from headwater.spec import format_timestamp, message_builtins
from headwater.storage import connected
from headwater.workspaces import find_workspace_id, get_source, workspace_id

__all__ = ["GroupBy", "Interval", "counts", "follow", "get_event", "latest", "list_rejections"]


def _event(entry: LogEntry) -> EventView:
    return {
        "offset": entry.offset,
        "partition": entry.partition,
        "sourceId": entry.source_id,
        "messageId": entry.message_id,
        "type": entry.type,
        "name": entry.name,
        "receivedAt": format_timestamp(entry.received_at),
        "payload": message_builtins(entry.message),
    }


async def get_event(
    engine: AsyncEngine, log: EventLog, *, message_id: str, workspace: str = "default"
) -> EventView:
    """The stored, normalised event with ``message_id`` in ``workspace``."""
    async with connected(engine) as connection:
        space = await find_workspace_id(connection, workspace)
    entry = None if space is None else await log.find(space, message_id)
    if entry is None:
        raise NotFound("event_not_found", f"no event {message_id!r} in workspace {workspace!r}")
    return _event(entry)


async def latest(
    engine: AsyncEngine,
    log: EventLog,
    *,
    source_id: int,
    limit: int = 50,
    before: int | None = None,
) -> list[EventView]:
    """A source's newest events, newest first; page with ``before`` (an offset)."""
    await get_source(engine, source_id)
    entries = await log.newest(source_id, limit=_limit(limit), before=before)
    return [_event(entry) for entry in entries]


async def follow(
    engine: AsyncEngine,
    log: EventLog,
    *,
    source_id: int,
    after: int | None = None,
    poll_seconds: float = 0.5,
) -> AsyncIterator[EventView]:
    """Yield a source's events as they arrive, oldest first, forever.

    Starts after offset ``after``; without it, with the events stored from now on.
    """
    await get_source(engine, source_id)
    if after is None:
        newest = await log.newest(source_id, limit=1)
        after = newest[0].offset if newest else 0
    while True:
        entries = await log.following(source_id, after=after, limit=500)
        for entry in entries:
            after = entry.offset
            yield _event(entry)
        if not entries:
            await asyncio.sleep(poll_seconds)


async def list_rejections(
    engine: AsyncEngine,
    *,
    workspace: str,
    source_id: int | None = None,
    limit: int = 50,
    before: int | None = None,
) -> list[RejectionView]:
    """Rejected messages with their reasons, newest first; page with ``before`` (an id)."""
    workspace_id = await _workspace_id(engine, workspace)
    async with connected(engine) as connection:
        rows = await store.rejection_rows(
            connection,
            workspace_id=workspace_id,
            source_id=source_id,
            limit=_limit(limit),
            before=before,
        )
    return [
        {
            "id": row.id,
            "sourceId": row.source_id,
            "receivedAt": format_timestamp(row.received_at),
            "index": row.batch_index,
            "type": row.type,
            "messageId": row.message_id,
            "reason": row.reason,
            "payload": row.payload,
        }
        for row in rows
    ]


async def counts(
    engine: AsyncEngine,
    *,
    workspace: str,
    source_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    interval: Interval = "hour",
    group_by: GroupBy = "source",
) -> list[CountView]:
    """Accepted, duplicate and rejected counts per time bucket, by source or by event name.

    Defaults to the last 24 hours.
    """
    until = _aware(until) or datetime.now(UTC) + timedelta(minutes=1)
    since = _aware(since) or until - timedelta(days=1)
    if since >= until:
        raise BadRequest("invalid_range", "since must be before until")
    workspace_id = await _workspace_id(engine, workspace)
    async with connected(engine) as connection:
        rows = await store.count_rows(
            connection,
            workspace_id=workspace_id,
            source_id=source_id,
            since=since,
            until=until,
            interval=interval,
            group_by=group_by,
        )
    result: list[CountView] = []
    for row in rows:
        item: CountView = {
            "bucket": format_timestamp(row.bucket),
            "sourceId": row.source_id,
            "accepted": int(row.accepted),
            "duplicates": int(row.duplicates),
            "rejected": int(row.rejected),
        }
        if group_by == "event":
            item["type"] = row.type
            item["event"] = row.name or None
        result.append(item)
    return result


async def _workspace_id(engine: AsyncEngine, slug: str) -> int:
    """The id of workspace ``slug``; 404 for an unknown one."""
    async with connected(engine) as connection:
        return await workspace_id(connection, slug)


def _aware(value: datetime | None) -> datetime | None:
    """Times without an offset are UTC."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _limit(limit: int) -> int:
    if not 1 <= limit <= 1000:
        raise BadRequest("invalid_limit", "limit must be between 1 and 1000")
    return limit
