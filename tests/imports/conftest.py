"""One ``headwater serve`` shared by the import tests (each makes its own workspace), and
helpers to upload, run and count."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.conftest import scratch_database
from tests.server import ADMIN_TOKEN, RunningServer, start_server


@pytest.fixture(scope="package")
async def imports_database_url(postgres_url: str) -> Any:
    async with scratch_database(postgres_url, "hw_imports") as url:
        yield url


@pytest.fixture(scope="package")
def imports_server(
    imports_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    running = start_server(
        imports_database_url,
        tmp_path_factory.mktemp("imports"),
        extra_env={"HEADWATER_IMPORT_MAX_ROWS": "5000", "HEADWATER_IMPORT_MAX_BYTES": "2000000"},
    )
    try:
        yield running
        assert "Traceback" not in running.log(), running.log()
    finally:
        running.stop()


def client(server: RunningServer) -> httpx.Client:
    return httpx.Client(
        base_url=f"{server.url}/api/v1",
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        timeout=60,
    )


def upload(
    http: httpx.Client,
    workspace: str,
    source_id: int,
    kind: str,
    body: bytes,
    *,
    content_type: str = "text/csv",
    file_name: str = "file.csv",
) -> httpx.Response:
    return http.post(
        f"/workspaces/{workspace}/imports",
        params={"source_id": source_id, "kind": kind, "file_name": file_name},
        content=body,
        headers={"Content-Type": content_type},
    )


def finished(http: httpx.Client, workspace: str, job_id: int) -> dict[str, Any]:
    """The import once it is done or failed (polled: it runs in the background)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job: dict[str, Any] = http.get(f"/workspaces/{workspace}/imports/{job_id}").json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"import {job_id} did not finish: {job}")


async def log_counts(database_url: str, source_id: int) -> tuple[int, int]:
    """(events in the log for the source, distinct message ids among them)."""
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
            "SELECT count(*), count(DISTINCT message_id) FROM events WHERE source_id = $1",
            source_id,
        )
    finally:
        await connection.close()
    return int(row[0]), int(row[1])
