"""An :class:`Importer` in the test's process, on the test's fresh database and data
directory, with a real collector writing to the real event log."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.collect import Collector
from headwater.imports import Importer, ImportView
from headwater.log import PostgresLog
from headwater.settings import Settings
from headwater.supervisor import Health
from headwater.telemetry.metrics import Metrics
from headwater.workspaces import Source, create_source, create_workspace


@dataclass
class Local:
    engine: AsyncEngine
    settings: Settings
    collector: Collector
    importer: Importer
    source: Source
    workspace: str = "shop"

    async def upload(self, body: str) -> ImportView:
        async def chunks() -> AsyncIterator[bytes]:
            yield body.encode()

        return await self.importer.upload(
            workspace=self.workspace,
            source_id=self.source.id,
            kind="events",
            fmt="csv",
            file_name="people.csv",
            chunks=chunks(),
            created_by="test",
        )

    async def run_to_end(self, job_id: int) -> ImportView:
        """Start ``job_id`` and run the runner until the import ends."""
        await self.importer.start(workspace=self.workspace, job_id=job_id, mapping=None)
        stop = asyncio.Event()
        runner = asyncio.create_task(self.importer.run(stop, Health("imports")))
        try:
            # The job's state is in the database: polled, as a client of the API would.
            while (job := await self.job(job_id))["status"] not in ("done", "failed"):  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        finally:
            stop.set()
            await runner
        return job

    async def job(self, job_id: int) -> ImportView:
        return await self.importer.get(workspace=self.workspace, job_id=job_id)

    async def sql(self, statement: str, **values: Any) -> None:
        async with self.engine.begin() as connection:
            await connection.execute(text(statement), values)


@pytest.fixture
async def local(engine: AsyncEngine, settings: Settings) -> AsyncIterator[Local]:
    log = PostgresLog(engine, settings.log_partitions)
    collector = Collector(engine=engine, log=log, settings=settings, metrics=Metrics())
    await collector.start()
    await create_workspace(engine, slug="shop")
    source = await create_source(engine, name="files", workspace="shop")
    importer = Importer(engine=engine, collector=collector, settings=settings)
    try:
        yield Local(engine, settings, collector, importer, source)
    finally:
        await importer.close()
        await collector.stop()
        await log.close()
