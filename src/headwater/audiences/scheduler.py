"""The batch recompute on a schedule: every computation is recomputed in SQL at least every
``interval``, so that members leave (and computed traits change) when a time window passes,
and account audiences, which the real-time stage does not update, stay current.

>>> scheduler = Scheduler(engine, interval=timedelta(minutes=15))
>>> await scheduler.run(stop)        # in ``headwater serve`` and in ``headwater worker``

Any number of processes may run one: each turn claims one due computation with
``FOR UPDATE SKIP LOCKED`` and moves its next run forward before working on it, so two
processes never recompute the same computation at once. A new or changed definition is due at
once, so its first members appear within ``tick`` seconds.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.audiences.service import recompute_due
from headwater.storage import STORAGE_ERRORS
from headwater.supervisor import Health, first_set

__all__ = ["Scheduler"]

logger = logging.getLogger(__name__)


class Scheduler:
    def __init__(self, engine: AsyncEngine, *, interval: timedelta, tick: float = 5.0) -> None:
        """``interval``: between two recomputes of one computation; ``tick``: how often to
        look for due ones."""
        self.engine, self.interval, self.tick = engine, interval, tick

    async def turn(self) -> int:
        """Recompute everything due now; return how many were recomputed."""
        done = await recompute_due(self.engine, interval=self.interval)
        for result in done:
            logger.info("recomputed %s", result["key"], extra={"recompute": result})
        return len(done)

    async def run(self, stop: asyncio.Event, health: Health | None = None) -> None:
        """Turn every ``tick`` seconds until ``stop`` is set; a database outage is logged,
        reported to ``health`` and retried on the next tick."""
        health = health if health is not None else Health("audience-scheduler")
        while not stop.is_set():
            try:
                await self.turn()
            except STORAGE_ERRORS as error:
                health.failed(error)
                logger.warning("audience recompute failed; retrying", exc_info=True)
            else:
                health.ok()
            await first_set(stop, seconds=self.tick)
