"""Export jobs survive their exporter: a job whose exporter stopped is claimed again once its
lease ran out, and failed after too many attempts; one exporter's job is not another's; expired
files are removed and the job stays."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.errors import NotFound
from headwater.log import PostgresLog
from headwater.pipeline import Processor
from headwater.privacy import Exporter, create_export, get_export, open_download
from headwater.privacy import export_store as store
from headwater.privacy.export import ATTEMPTS
from headwater.settings import Settings
from headwater.storage import begin
from headwater.telemetry.metrics import Metrics
from headwater.workspaces import create_source, create_workspace
from tests.privacy.helpers import record


async def _queued(engine: AsyncEngine, subject: str = "u-1") -> int:
    job = await create_export(
        engine, workspace="shop", subject_type="USER_ID", subject_id=subject, requested_by="t"
    )
    return job["id"]


async def _claim_and_stop(engine: AsyncEngine) -> None:
    """An exporter claims the next job and stops at once: its lease has already run out."""
    async with engine.begin() as connection:
        tx = await begin(connection)
        assert await store.claim(tx, lease=timedelta(seconds=-1)) is not None


async def test_a_job_left_by_a_stopped_exporter_is_built_by_another(engine: AsyncEngine) -> None:
    await create_workspace(engine, slug="shop")
    export_id = await _queued(engine)
    await _claim_and_stop(engine)
    assert (await get_export(engine, workspace="shop", export_id=export_id))["status"] == "running"
    exporter = Exporter(engine, PostgresLog(engine, 4))
    assert await exporter.turn() is True
    done = await get_export(engine, workspace="shop", export_id=export_id)
    assert done["status"] == "done"
    assert done["counts"] == {
        "traits": 0,
        "identifiers": 1,
        "events": 0,
        "consent_changes": 0,
        "membership_changes": 0,
        "journeys": 0,
        "destinations": 0,
    }
    assert await exporter.turn() is False  # nothing waits


async def test_a_job_whose_exporter_keeps_stopping_fails_with_the_reason(
    engine: AsyncEngine,
) -> None:
    await create_workspace(engine, slug="shop")
    export_id = await _queued(engine)
    for _ in range(ATTEMPTS):
        await _claim_and_stop(engine)
    assert await Exporter(engine, PostgresLog(engine, 4)).turn() is True
    failed = await get_export(engine, workspace="shop", export_id=export_id)
    assert failed["status"] == "failed"
    assert failed["reason"] == f"gave up after {ATTEMPTS} attempts: the exporter stopped"
    assert failed["files"] == {"json": None, "csv": None}


async def test_a_job_leased_by_a_running_exporter_is_not_taken(engine: AsyncEngine) -> None:
    await create_workspace(engine, slug="shop")
    export_id = await _queued(engine)
    async with engine.begin() as connection:
        tx = await begin(connection)
        claimed = await store.claim(tx, lease=timedelta(minutes=5))
    assert claimed is not None
    assert await Exporter(engine, PostgresLog(engine, 4)).turn() is False
    running = await get_export(engine, workspace="shop", export_id=export_id)
    assert running["status"] == "running"


async def test_expired_files_are_removed_and_the_job_stays(engine: AsyncEngine) -> None:
    await create_workspace(engine, slug="shop")
    export_id = await _queued(engine)
    await Exporter(engine, PostgresLog(engine, 4), keep=timedelta(seconds=-1)).turn()
    expired = await get_export(engine, workspace="shop", export_id=export_id)
    assert expired["status"] == "done"
    assert expired["expired"] is True
    assert expired["files"] == {"json": None, "csv": None}
    with pytest.raises(NotFound, match="expired"):
        await open_download(engine, workspace="shop", export_id=export_id, file_format="json")
    async with engine.begin() as connection:
        tx = await begin(connection)
        assert await store.part_count(tx, export_id, "json") > 0
    await Exporter(engine, PostgresLog(engine, 4)).turn()  # a new exporter purges first
    async with engine.begin() as connection:
        tx = await begin(connection)
        assert await store.part_count(tx, export_id, "json") == 0
        assert await store.part_count(tx, export_id, "csv") == 0
    assert (await get_export(engine, workspace="shop", export_id=export_id))["id"] == export_id


async def _document(engine: AsyncEngine, export_id: int) -> dict[str, Any]:
    download = await open_download(
        engine, workspace="shop", export_id=export_id, file_format="json"
    )
    body = b"".join([chunk async for chunk in download.chunks])
    return json.loads(body)  # type: ignore[no-any-return]


async def _unprocessed(engine: AsyncEngine, settings: Settings, count: int) -> PostgresLog:
    """The log of a workspace "shop" holding ``count`` events of user-1, none processed."""
    workspace = await create_workspace(engine, slug="shop")
    source = await create_source(engine, name="web", workspace="shop")
    log = PostgresLog(engine, settings.log_partitions)
    now = datetime.now(UTC)
    await log.append(
        [
            record(f"m-{n}", now, workspace_id=workspace.id, source_id=source.id)
            for n in range(count)
        ]
    )
    return log


async def test_an_export_waits_for_the_events_received_before_it(
    engine: AsyncEngine, settings: Settings
) -> None:
    log = await _unprocessed(engine, settings, 3)
    export_id = await _queued(engine, "user-1")
    building = asyncio.create_task(Exporter(engine, log, tick=0.1).turn())
    await asyncio.sleep(3)  # past the grace for requests in flight; nothing processed yet
    assert not building.done()
    processor = Processor(engine=engine, log=log, settings=settings, metrics=Metrics())
    while await processor.drain():
        pass
    assert await asyncio.wait_for(building, timeout=30) is True
    done = await get_export(engine, workspace="shop", export_id=export_id)
    assert (done["status"], done["counts"]["events"]) == ("done", 3)
    assert (await _document(engine, export_id))["export"]["all_events_processed"] is True


async def test_an_export_built_before_its_events_were_processed_says_so(
    engine: AsyncEngine, settings: Settings
) -> None:
    log = await _unprocessed(engine, settings, 1)
    export_id = await _queued(engine, "user-1")
    # No processor runs, and the export may not wait.
    assert await Exporter(engine, log, catch_up=timedelta(0)).turn() is True
    done = await get_export(engine, workspace="shop", export_id=export_id)
    assert (done["status"], done["counts"]["events"]) == ("done", 0)
    assert (await _document(engine, export_id))["export"]["all_events_processed"] is False
