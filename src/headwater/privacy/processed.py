"""Whether the processor has caught up with a moment: the regulation job erases, and the
exporter reads, a person only once every event received before their request is processed
(linked to the person's profiles), so that none of those events is missed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Final

from headwater.log import EventLog
from headwater.pipeline import CONSUMER

__all__ = ["GRACE", "processed_through", "processed_until"]

GRACE: Final = timedelta(seconds=2)
"""How long after a moment an event received before it may still be committing (a request
in flight): a moment counts as passed only this long after it."""


async def processed_through(log: EventLog, *, grace: timedelta = GRACE) -> datetime:
    """A time up to which every event received is processed: ``grace`` before now (an event
    received later may still be committing), or just before the oldest event that waits in a
    partition, whichever is earlier. What it answers stays true: processed events stay
    processed, and an event appended later was received after it."""
    through = datetime.now(UTC) - grace
    waiting = await log.pending(CONSUMER, range(log.partitions))
    for partition, after in waiting.items():
        first = await log.read(partition, after=after, limit=1)
        if first:
            through = min(through, first[0].received_at - timedelta(microseconds=1))
    return through


async def processed_until(log: EventLog, moment: datetime, *, grace: timedelta = GRACE) -> bool:
    """Has ``grace`` passed since ``moment``, and has the processor processed every event
    received up to it?"""
    if datetime.now(UTC) < moment + grace:
        return False
    return moment <= await processed_through(log, grace=grace)
