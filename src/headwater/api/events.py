"""Management API: a workspace's stored events, a source's live feed, rejections and counts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, cast

import msgspec
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from headwater import activity
from headwater.access import Classifier, mask
from headwater.activity import CountView, EventView, RejectionView
from headwater.api.masking import classifier_of
from headwater.api.params import Cursor, Id, Moment
from headwater.api.scope import SCOPED, WORKSPACE, Allowed, SourceId

__all__ = ["router"]

router = APIRouter(prefix=WORKSPACE, tags=["data"], dependencies=SCOPED)


@router.get("/events/{message_id}")
async def get_event(message_id: str, workspace: str, runtime: Allowed) -> EventView:
    """An event by messageId, as stored (normalised)."""
    return await activity.get_event(
        runtime.database.engine, runtime.log, message_id=message_id, workspace=workspace
    )


@router.get("/sources/{source_id}/events")
async def latest_events(
    source_id: SourceId,
    runtime: Allowed,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    before: Cursor | None = None,
) -> list[EventView]:
    """A source's newest events, newest first; page with ``before`` (an offset)."""
    return await activity.latest(
        runtime.database.engine, runtime.log, source_id=source_id, limit=limit, before=before
    )


@router.get(
    "/sources/{source_id}/live",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}}},
)
async def live(
    source_id: SourceId,
    runtime: Allowed,
    request: Request,
    after: Cursor | None = None,
    last_event_id: Annotated[Cursor | None, Header()] = None,
) -> StreamingResponse:
    """Server-sent events, what happens to the source's messages from now on (or after offset
    ``after`` / ``Last-Event-ID`` for the stored events):

    - ``event: event``: an event as stored (``id`` its offset, ``data`` as ``GET .../events``
      gives it); a reconnecting client resumes after the last one;
    - ``event: fate``: a message rejected (with the reason), dropped as a duplicate, blocked
      by a tracking plan (with the reason and violations) or flagged (let through by a plan
      with violations: the violations and the payload as governed), as ``FateView``.

    Personal values are masked without ``pii:read``."""
    engine = runtime.database.engine
    start = after if after is not None else last_event_id
    if start is None:
        # Fix "now" before answering: an event sent once the client sees the stream open
        # must be in the feed, which it was not when the feed chose "now" lazily.
        newest = await activity.latest(engine, runtime.log, source_id=source_id, limit=1)
        start = newest[0]["offset"] if newest else 0
    feed = await activity.watch(engine, runtime.log, source_id=source_id, after=start)
    return StreamingResponse(
        _frames(feed, classifier_of(request.scope)),
        media_type="text/event-stream",
        headers={"cache-control": "no-cache"},
    )


async def _frames(
    feed: AsyncIterator[activity.LiveItem], classifier: Classifier | None
) -> AsyncIterator[bytes]:
    yield b": connected\n\n"
    async for kind, item in feed:
        data = msgspec.json.encode(item if classifier is None else mask(item, classifier))
        if kind == "stored":
            offset = cast(EventView, item)["offset"]
            yield b"id: %d\nevent: event\ndata: %s\n\n" % (offset, data)
        else:
            # no id: a reconnecting client resumes after the last stored event
            yield b"event: fate\ndata: %s\n\n" % data


@router.get("/rejections")
async def rejections(
    workspace: str,
    runtime: Allowed,
    source: Id | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    before: Cursor | None = None,
) -> list[RejectionView]:
    """Rejected messages with their reasons, newest first."""
    return await activity.list_rejections(
        runtime.database.engine, workspace=workspace, source_id=source, limit=limit, before=before
    )


@router.get("/stats")
async def stats(
    workspace: str,
    runtime: Allowed,
    source: Id | None = None,
    since: Moment | None = None,
    until: Moment | None = None,
    interval: activity.Interval = "hour",
    by: activity.GroupBy = "source",
) -> list[CountView]:
    """Accepted, duplicate, rejected and suppressed counts per time bucket, by source or by
    event (``suppressed``: messages of suppressed people, refused before the log)."""
    return await activity.counts(
        runtime.database.engine,
        workspace=workspace,
        source_id=source,
        since=since,
        until=until,
        interval=interval,
        group_by=by,
    )
