"""Seeing the data: an event as stored, a source's live feed, rejections, duplicates, counts.

Every function returns plain JSON-ready values (what the API and the CLI print). Events are
read through the :class:`~headwater.log.EventLog`, as appended (before tracking plans).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal

from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.activity import store
from headwater.activity.store import GroupBy, Interval
from headwater.activity.views import CountView, EventView, FateView, RejectionView
from headwater.errors import BadRequest, NotFound
from headwater.log import EventLog, LogEntry
from headwater.spec import format_timestamp, message_builtins
from headwater.storage import connected
from headwater.workspaces import find_workspace_id, get_source, workspace_id

__all__ = [
    "GroupBy",
    "Interval",
    "LiveItem",
    "counts",
    "get_event",
    "latest",
    "list_rejections",
    "watch",
]


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


LiveItem = tuple[Literal["stored"], EventView] | tuple[Literal["fate"], FateView]
"""An item of :func:`watch`: a stored event, or a message's other fate."""

_FATE_BATCH: Final = 200


async def watch(
    engine: AsyncEngine,
    log: EventLog,
    *,
    source_id: int,
    after: int,
    poll_seconds: float = 0.25,
) -> AsyncIterator[LiveItem]:
    """What happens to a source's messages from now on, forever: each event stored (after
    offset ``after``, oldest first), and each message rejected, dropped as a duplicate,
    blocked by a tracking plan or let through by one with violations (flagged) from the call
    on (:class:`FateView`). Each kind comes in its own order; a blocked or flagged event comes
    as stored first.

    "Now" is fixed when this returns, before the first item is asked for: a message sent once
    the caller has the iterator is in it. Idle, it looks every ``poll_seconds`` (a quarter of
    a second: the live debugger shows a message well within a second of its acknowledgement).
    An unknown source: 404 ``source_not_found``.
    """
    await get_source(engine, source_id)
    async with connected(engine) as connection:
        cursors = await store.newest_fate_ids(connection, source_id=source_id)
    return _watching(engine, log, source_id, after, cursors, poll_seconds)


async def _watching(
    engine: AsyncEngine,
    log: EventLog,
    source_id: int,
    after: int,
    cursors: dict[str, int],
    poll_seconds: float,
) -> AsyncIterator[LiveItem]:
    while True:
        entries = await log.following(source_id, after=after, limit=500)
        for entry in entries:
            after = entry.offset
            yield "stored", _event(entry)
        fates = await _fates_after(engine, source_id, cursors)
        for fate in fates:
            yield "fate", fate
        if not entries and not fates:
            await asyncio.sleep(poll_seconds)


async def _fates_after(
    engine: AsyncEngine, source_id: int, cursors: dict[str, int]
) -> list[FateView]:
    """The records of each fate after ``cursors`` (moved past them)."""
    found: list[FateView] = []
    async with connected(engine) as connection:
        for fate, after in cursors.items():
            rows = await store.fate_rows(
                connection, fate=fate, source_id=source_id, after=after, limit=_FATE_BATCH
            )
            for row in rows:
                cursors[fate] = row.id
                found.append(_fate(fate, row))
    return found


def _fate(fate: str, row: Any) -> FateView:
    mapping = row._mapping
    view: FateView = {
        "fate": fate,  # type: ignore[typeddict-item]
        "id": row.id,
        "sourceId": row.source_id,
        "messageId": row.message_id,
        "type": row.type,
        "name": mapping.get("name"),
        "receivedAt": format_timestamp(mapping.get("received_at") or mapping["blocked_at"]),
        "reason": mapping.get("reason"),
        "payload": row.payload,
    }
    if "violations" in mapping:
        view["violations"] = mapping["violations"]
    return view


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
    """Accepted, duplicate, rejected and suppressed counts per time bucket, by source or by
    event name.

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
            "suppressed": int(row.suppressed),
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
