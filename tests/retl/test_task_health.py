"""Headwater's own database away: the reverse ETL task reports each failed round to its
health (``failing`` in ``/ready``, counted in ``headwater_task_failures_total``) and keeps
trying; back, it reports ``up``."""

from __future__ import annotations

import asyncio
import re

from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.retl import SyncTask
from headwater.settings import Settings
from headwater.storage import create_engine
from headwater.supervisor import Health, State, TaskMetrics
from headwater.telemetry.metrics import Metrics


async def _until(health: Health, state: State) -> None:
    """Wait (at most 30 s) for the task's health to reach ``state``; the task sets no event of
    its own, so this looks every round."""
    async with asyncio.timeout(30):
        while health.state is not state:  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def test_a_database_outage_is_reported_then_recovery(
    engine: AsyncEngine, settings: Settings
) -> None:
    settings = settings.model_copy(update={"retl_poll_seconds": 0.05})
    metrics = Metrics()
    dead = create_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none", pool_size=1)
    stop = asyncio.Event()
    health = Health("reverse-etl", metrics.of(TaskMetrics))
    task = asyncio.create_task(SyncTask(dead, settings, collector=None).run(stop, health))
    try:
        await _until(health, State.FAILING)
        failures = re.search(
            rb'headwater_task_failures_total\{task="reverse-etl"\} (\d+)', metrics.exposition()
        )
        assert failures is not None
        assert int(failures[1]) >= 1
    finally:
        stop.set()
        await task
        await dead.dispose()
    alive = Health("reverse-etl")
    stop = asyncio.Event()
    task = asyncio.create_task(SyncTask(engine, settings, collector=None).run(stop, alive))
    try:
        await _until(alive, State.UP)
    finally:
        stop.set()
        await task
