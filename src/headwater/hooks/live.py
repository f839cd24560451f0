"""A webhook source's debugger, live: each request the source records from now on, as it is
recorded (the database looked at every quarter of a second while idle, as the sources' live
event feed does)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.hooks.service import history
from headwater.hooks.views import HookRequestView

__all__ = ["watch_requests"]

_BATCH = 200


async def watch_requests(
    engine: AsyncEngine, source_id: int, *, after: int | None, poll_seconds: float = 0.25
) -> AsyncIterator[HookRequestView]:
    """The source's requests recorded after id ``after`` (after the newest one when None),
    oldest first, forever. "Now" is fixed when this returns, before the first item is asked
    for: a request sent once the caller has the iterator is in it."""
    if after is None:
        newest = await history(engine, source_id, limit=1)
        after = newest[0]["id"] if newest else 0
    return _watching(engine, source_id, after, poll_seconds)


async def _watching(
    engine: AsyncEngine, source_id: int, after: int, poll_seconds: float
) -> AsyncIterator[HookRequestView]:
    while True:
        found = await history(engine, source_id, after=after, limit=_BATCH)
        for request in reversed(found):
            after = request["id"]
            yield request
        if not found:
            await asyncio.sleep(poll_seconds)
