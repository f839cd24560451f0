"""Management API: stored events, a source's live feed, rejections and counts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import msgspec
from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import StreamingResponse

from headwater import activity, workspaces
from headwater.api.auth import admin
from headwater.api.params import Cursor, Id, Moment
from headwater.runtime import Runtime

__all__ = ["router"]

router = APIRouter(tags=["data"])
Admin = Annotated[Runtime, Depends(admin)]


@router.get("/events/{message_id}")
async def get_event(message_id: str, runtime: Admin, workspace: str = "default") -> dict[str, Any]:
    """An event by messageId, as stored (normalised)."""
    return await activity.get_event(
        runtime.database.engine, runtime.log, message_id=message_id, workspace=workspace
    )


@router.get("/sources/{source_id}/events")
async def latest_events(
    source_id: Id,
    runtime: Admin,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    before: Cursor | None = None,
) -> list[dict[str, Any]]:
    """A source's newest events, newest first; page with ``before`` (an offset)."""
    return await activity.latest(
        runtime.database.engine, runtime.log, source_id=source_id, limit=limit, before=before
    )


@router.get("/sources/{source_id}/live", response_class=StreamingResponse)
async def live(
    source_id: Id,
    runtime: Admin,
    after: Cursor | None = None,
    last_event_id: Annotated[Cursor | None, Header()] = None,
) -> StreamingResponse:
    """Server-sent events: each new event of the source as it is stored (``id`` is its offset)."""
    engine = runtime.database.engine
    await workspaces.get_source(engine, source_id)  # 404 before the stream starts
    start = after if after is not None else last_event_id
    if start is None:
        # Fix "now" before answering: an event sent once the client sees the stream open
        # must be in the feed, which it was not when follow() chose "now" lazily.
        newest = await activity.latest(engine, runtime.log, source_id=source_id, limit=1)
        start = newest[0]["offset"] if newest else 0
    feed = activity.follow(engine, runtime.log, source_id=source_id, after=start)
    return StreamingResponse(
        _frames(feed), media_type="text/event-stream", headers={"cache-control": "no-cache"}
    )


async def _frames(feed: AsyncIterator[dict[str, Any]]) -> AsyncIterator[bytes]:
    yield b": connected\n\n"
    async for event in feed:
        yield b"id: %d\nevent: event\ndata: %s\n\n" % (event["offset"], msgspec.json.encode(event))


@router.get("/rejections")
async def rejections(
    runtime: Admin,
    workspace: str | None = None,
    source: Id | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    before: Cursor | None = None,
) -> list[dict[str, Any]]:
    """Rejected messages with their reasons, newest first."""
    return await activity.list_rejections(
        runtime.database.engine, workspace=workspace, source_id=source, limit=limit, before=before
    )


@router.get("/stats")
async def stats(
    runtime: Admin,
    workspace: str | None = None,
    source: Id | None = None,
    since: Moment | None = None,
    until: Moment | None = None,
    interval: activity.Interval = "hour",
    by: activity.GroupBy = "source",
) -> list[dict[str, Any]]:
    """Accepted, duplicate and rejected counts per time bucket, by source or by event."""
    return await activity.counts(
        runtime.database.engine,
        workspace=workspace,
        source_id=source,
        since=since,
        until=until,
        interval=interval,
        group_by=by,
    )
