"""How far the processor is behind the log: the events waiting and the oldest one's age.

>>> await backlog(log)
{'partitions_behind': 1, 'oldest_waiting': '2026-12-05T10:00:00.000Z', 'lag_seconds': 2.4}

Read from the log and the processor's committed offsets (what every processor process shares),
so any server process answers for all of them. The lag is the time since the oldest waiting
event was received: 0 when nothing waits.
"""

from __future__ import annotations

from datetime import UTC, datetime

from headwater.log import EventLog
from headwater.pipeline.processor import CONSUMER
from headwater.pipeline.views import BacklogView
from headwater.spec import format_timestamp

__all__ = ["backlog"]


async def backlog(log: EventLog, *, consumer: str = CONSUMER) -> BacklogView:
    """The processor's backlog over every partition (see the module)."""
    waiting = await log.pending(consumer, range(log.partitions))
    oldest: datetime | None = None
    for partition, after in waiting.items():
        first = await log.read(partition, after=after, limit=1)
        if first and (oldest is None or first[0].received_at < oldest):
            oldest = first[0].received_at
    lag = 0.0 if oldest is None else max(0.0, (datetime.now(UTC) - oldest).total_seconds())
    return {
        "partitions_behind": len(waiting),
        "oldest_waiting": None if oldest is None else format_timestamp(oldest),
        "lag_seconds": round(lag, 3),
    }
