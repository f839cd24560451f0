"""Whether the processor has caught up with a moment: the regulation job erases, and the
exporter reads, a person only once every event received before their request is processed
(linked to the person's profiles), so that none of those events is missed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Final

from headwater.log import EventLog
from headwater.pipeline import CONSUMER

__all__ = ["GRACE", "processed_until"]

GRACE: Final = timedelta(seconds=2)
"""How long after a moment an event received before it may still be committing (a request
in flight): a moment counts as passed only this long after it."""


async def processed_until(log: EventLog, moment: datetime, *, grace: timedelta = GRACE) -> bool:
    """Has ``grace`` passed since ``moment``, and has the processor processed every event
    received up to it (no partition's next unprocessed event was received at or before it)?"""
    if datetime.now(UTC) < moment + grace:
        return False
    waiting = await log.pending(CONSUMER, range(log.partitions))
    for partition, after in waiting.items():
        first = await log.read(partition, after=after, limit=1)
        if first and first[0].received_at <= moment:
            return False
    return True
