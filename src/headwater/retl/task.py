"""The supervised ``reverse-etl`` task: runs due syncs, one at a time per process.

>>> supervisor.add("reverse-etl", SyncTask(engine, settings, collector=collector).run)

Every ``retl_poll_seconds`` it leases a due sync (asked to run, its schedule's time come, or
its last run's lease run out because its process stopped) with ``FOR UPDATE SKIP LOCKED``, so
two processes never run the same sync at once, and runs it. Headwater's database being away
is reported to the task's health (``/ready``, ``headwater_task_*`` metrics) and tried again;
the customer's database being away is a failed run, recorded with its reason, and leaves the
task up.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.collect import Collector
from headwater.retl import store
from headwater.retl.records import SyncRecord
from headwater.retl.runner import SyncRunner
from headwater.settings import Settings
from headwater.storage import STORAGE_ERRORS
from headwater.supervisor import Health, first_set

__all__ = ["SyncTask"]

_log = logging.getLogger(__name__)


class SyncTask:
    def __init__(
        self, engine: AsyncEngine, settings: Settings, *, collector: Collector | None
    ) -> None:
        self._engine = engine
        self._poll = settings.retl_poll_seconds
        self._lease = timedelta(seconds=settings.retl_lease_seconds)
        self._runner = SyncRunner(engine, settings, collector=collector)

    async def run(self, stop: asyncio.Event, health: Health) -> None:
        """Run due syncs until ``stop``."""
        while not stop.is_set():
            try:
                ran = await self.once()
            except STORAGE_ERRORS as error:  # Headwater's database is away: next round
                health.failed(error)
                _log.warning("reverse ETL round failed: %s", error)
                ran = False
            else:
                health.ok()
            if not ran:
                await first_set(stop, seconds=self._poll)

    async def once(self) -> bool:
        """Lease and run one due sync; whether there was one."""
        async with store.begun(self._engine) as tx:
            claimed = await store.claim(tx, lease=self._lease)
        if claimed is None:
            return False
        row, why = claimed
        await self._runner.run(SyncRecord.of(row), trigger=why)
        return True
