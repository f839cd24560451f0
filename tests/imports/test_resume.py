"""An import interrupted by ``kill -9`` of its server resumes from its checkpoint when the
server starts again, and every row ends in the log exactly once."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import asyncpg
import psutil
from sqlalchemy.engine import make_url

from tests.imports.conftest import client, finished, log_counts, upload
from tests.server import start_server

_ROWS = 40_000


async def _job_row(database_url: str, job_id: int) -> tuple[str, int]:
    parsed = make_url(database_url)
    connection = await asyncpg.connect(
        host=parsed.query.get("host") or parsed.host,
        port=parsed.port,
        user=parsed.username,
        password=parsed.password,
        database=parsed.database,
    )
    try:
        row = await connection.fetchrow(
            "SELECT status, checkpoint FROM import_jobs WHERE id = $1", job_id
        )
    finally:
        await connection.close()
    return str(row[0]), int(row[1])


async def test_a_killed_import_resumes_and_stores_each_row_once(
    database_url: str, tmp_path: Path
) -> None:
    server = start_server(database_url, tmp_path, extra_env={"HEADWATER_IMPORT_BATCH_ROWS": "250"})
    try:
        body = "user_id,event,n\n" + "".join(f"u{i % 997},Step,{i}\n" for i in range(_ROWS))
        with client(server) as http:
            source = http.post("/workspaces/default/sources", json={"name": "file"}).json()
            job = upload(http, "default", source["id"], "events", body.encode()).json()
            http.post(f"/workspaces/default/imports/{job['id']}/start", json={})
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                status = http.get(f"/workspaces/default/imports/{job['id']}").json()
                if status["checkpoint"] >= 250:
                    break
                await asyncio.sleep(0.01)
        helpers = psutil.Process(server.process.pid).children(recursive=True)
        assert helpers, "the import's worker process was not running"
        server.kill()
        # The import's worker process (and multiprocessing's resource tracker) end with it.
        _, alive = psutil.wait_procs(helpers, timeout=15)
        assert alive == [], [p.cmdline() for p in alive]
        status_after_kill, checkpoint = await _job_row(database_url, job["id"])
        assert status_after_kill == "running"
        assert 250 <= checkpoint < _ROWS, "the import was not caught halfway"
        in_log, _ = await log_counts(database_url, source["id"])
        assert in_log < _ROWS

        server.restart()
        with client(server) as http:
            done = finished(http, "default", job["id"])
        assert done["status"] == "done"
        assert done["checkpoint"] == _ROWS
        assert done["imported"] + done["duplicates"] == _ROWS
        assert done["rejected"] == 0
        assert await log_counts(database_url, source["id"]) == (_ROWS, _ROWS)
    finally:
        server.stop()
