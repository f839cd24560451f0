"""The retention task: at start and every ``retention_interval_seconds`` (a day), create the
log's days ahead and enforce every window; each round that dropped or deleted anything is one
entry in the audit trail (actor: the retention task). Supervised like every background task:
a failed round shows in ``/ready`` and the task metrics, and is tried again next round."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.access import Principal
from headwater.access.audit import AuditChange, record_change
from headwater.privacy.retention import maintain
from headwater.settings import Settings
from headwater.storage import STORAGE_ERRORS
from headwater.supervisor import Health, first_set

__all__ = ["RetentionTask"]

_log = logging.getLogger(__name__)

ACTOR = Principal(kind="service_account", label="retention task")


class RetentionTask:
    def __init__(self, engine: AsyncEngine, settings: Settings) -> None:
        self._engine = engine
        self._settings = settings

    async def round(self) -> None:
        """One round: days ahead, windows enforced, the audit entry (if anything went)."""
        created, done = await maintain(
            self._engine, default_days=self._settings.retention_default_days
        )
        if created:
            _log.info("created day partitions %s", ", ".join(created))
        if done["items"]:
            _log.info("retention dropped %d rows (%d actions)", done["rows"], len(done["items"]))
            change = AuditChange(
                workspace=None,
                actor=ACTOR,
                action="retention.run",
                resource="retention",
                after=done,
            )
            await record_change(self._engine, change)

    async def run(self, stop: asyncio.Event, health: Health) -> None:
        """Rounds until ``stop``; a database outage is reported to ``health`` and retried
        a minute later (a lock held by a long read counts as one)."""
        while not stop.is_set():
            try:
                await self.round()
            except STORAGE_ERRORS as error:
                health.failed(error)
                _log.warning("retention round failed: %s", error)
                wait = min(60.0, self._settings.retention_interval_seconds)
            else:
                health.ok()
                wait = self._settings.retention_interval_seconds
            await first_set(stop, seconds=wait)
