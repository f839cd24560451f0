"""An uploaded file never started is ended after ``import_upload_ttl_hours`` and deleted;
a fresh upload, and an upload being received, stay."""

from __future__ import annotations

import os
import time

from tests.imports.local import Local, local

__all__ = ["local"]

_FILE = "user_id,event\nu-1,Signed up\n"


async def test_uploads_not_started_in_time_are_ended_and_deleted(local: Local) -> None:
    old = await local.upload(_FILE)
    fresh = await local.upload(_FILE)
    await local.sql(
        "UPDATE import_jobs SET created_at = now() - interval '25 hours' WHERE id = :id",
        id=old["id"],
    )
    folder = local.settings.resolved_data_dir() / "imports"
    stale_staged, live_staged = folder / "upload-stale", folder / "upload-live"
    stale_staged.write_bytes(b"x")
    live_staged.write_bytes(b"x")
    long_ago = time.time() - 25 * 3600
    os.utime(stale_staged, (long_ago, long_ago))

    assert await local.importer.sweep() == [old["id"]]

    ended = await local.job(old["id"])
    assert ended["status"] == "failed"
    assert "HEADWATER_IMPORT_UPLOAD_TTL_HOURS" in (ended["failure"] or "")
    assert ended["sample"] == []
    assert sorted(p.name for p in folder.iterdir()) == [f"{fresh['id']}.csv", "upload-live"]
    assert (await local.job(fresh["id"]))["status"] == "uploaded"
    assert await local.importer.sweep() == []


async def test_the_runner_sweeps_each_round(local: Local) -> None:
    old = await local.upload(_FILE)
    await local.sql(
        "UPDATE import_jobs SET created_at = now() - interval '25 hours' WHERE id = :id",
        id=old["id"],
    )
    other = await local.upload(_FILE)
    await local.run_to_end(other["id"])
    assert (await local.job(old["id"]))["status"] == "failed"
    assert not any((local.settings.resolved_data_dir() / "imports").iterdir())
