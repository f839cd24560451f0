"""What the privacy tests share: events on chosen days, appended through the PostgreSQL log
(retention); the regulations API as a script written for Segment's calls it, waiting for a
regulation to end and for the processor to catch up; a scan of every table for a person's
values."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import httpx
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.log import LogRecord, PostgresLog
from headwater.spec import Event, format_timestamp
from headwater.storage import Transaction, create_engine
from headwater.storage.database import _MIGRATIONS
from tests.conftest import scratch_database
from tests.server import ADMIN_TOKEN, RunningServer


def record(
    message_id: str, received_at: datetime, *, workspace_id: int, source_id: int
) -> LogRecord:
    payload = {
        "type": "track",
        "event": "Order Completed",
        "messageId": message_id,
        "userId": "user-1",
        "properties": {},
        "context": {},
        "integrations": {},
        "timestamp": format_timestamp(received_at),
        "receivedAt": format_timestamp(received_at),
    }
    event = Event(
        type="track",
        message_id=message_id,
        user_id="user-1",
        anonymous_id=None,
        name="Order Completed",
        timestamp=received_at,
        received_at=received_at,
        payload=payload,
    )
    return LogRecord(workspace_id=workspace_id, source_id=source_id, event=event)


async def append(
    engine: AsyncEngine, received_at: datetime, count: int, *, workspace_id: int, source_id: int
) -> None:
    log = PostgresLog(engine, 4)
    try:
        await log.append(
            [
                record(
                    f"{source_id}-{received_at:%Y%m%d%H%M}-{n}",
                    received_at,
                    workspace_id=workspace_id,
                    source_id=source_id,
                )
                for n in range(count)
            ]
        )
    finally:
        await log.close()


PENDING = ("INITIALIZED", "RUNNING")


def public(server: RunningServer, workspace: str, token: str = ADMIN_TOKEN) -> httpx.Client:
    """A client of ``/v1`` (Segment's paths) acting in ``workspace``."""
    return httpx.Client(
        base_url=f"{server.url}/v1",
        headers={"Authorization": f"Bearer {token}", "X-Headwater-Workspace": workspace},
        timeout=30,
    )


def regulate(
    server: RunningServer, workspace: str, kind: str, ids: list[str], subject: str = "USER_ID"
) -> str:
    with public(server, workspace) as client:
        response = client.post(
            "/regulations",
            json={"regulationType": kind, "subjectType": subject, "subjectIds": ids},
        )
    assert response.status_code == 200, response.text
    return str(response.json()["data"]["regulateId"])


def ended(server: RunningServer, workspace: str, regulate_id: str, timeout: float = 90) -> Any:
    """The regulation once its status is no longer INITIALIZED or RUNNING."""
    deadline = time.monotonic() + timeout
    with public(server, workspace) as client:
        while time.monotonic() < deadline:
            body = client.get(f"/regulations/{regulate_id}").json()["data"]["regulation"]
            if body["overallStatus"] not in PENDING:
                return body
            time.sleep(0.2)
    raise AssertionError(f"regulation {regulate_id} did not end:\n{server.log()[-3000:]}")


def caught_up(server: RunningServer, timeout: float = 60) -> None:
    """Wait until the processor has processed everything in the log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        backlog = server.api("GET", "/api/v1/processing/backlog")
        if backlog["partitions_behind"] == 0:
            return
        time.sleep(0.1)
    raise AssertionError("the processor did not catch up")


def service_token(server: RunningServer, workspace: str, role: str) -> str:
    created = server.api(
        "POST",
        f"/api/v1/workspaces/{workspace}/tokens",
        json={"name": f"sa-{role}-{time.monotonic_ns()}", "role": role, "service_account": True},
    )
    return str(created["token"])


async def tables(engine: AsyncEngine) -> list[str]:
    """Every table of the database (partitioned ones too), migrations' bookkeeping aside."""
    async with engine.connect() as connection:
        tx = await Transaction.of(connection)
        rows = await tx.driver.fetch(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition"
            " AND c.relname <> 'alembic_version' ORDER BY 1"
        )
    return [row[0] for row in rows]


async def holding(engine: AsyncEngine, values: set[str]) -> dict[str, int]:
    """Per table, how many rows hold one of ``values`` anywhere in their text (lower case)."""
    wanted = sorted({value.lower() for value in values})
    found: dict[str, int] = {}
    async with engine.connect() as connection:
        tx = await Transaction.of(connection)
        for table in await tables(engine):
            count = await tx.driver.fetchval(
                f'SELECT count(*) FROM "{table}" AS t WHERE EXISTS'
                " (SELECT 1 FROM unnest($1::text[]) AS v(value)"
                "  WHERE strpos(lower(t::text), v.value) > 0)",
                wanted,
            )
            if count:
                found[table] = count
    return found


def _to(connection: Connection, revision: str, down: bool) -> None:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["connection"] = connection
    (command.downgrade if down else command.upgrade)(config, revision)


async def migrate_to(engine: AsyncEngine, revision: str, *, down: bool = False) -> None:
    """Upgrade (or downgrade) the database to ``revision``."""
    async with engine.begin() as connection:
        await connection.run_sync(_to, revision, down)


@asynccontextmanager
async def database_at(postgres_url: str, name: str, revision: str) -> AsyncIterator[AsyncEngine]:
    """A scratch database migrated to ``revision``, and its engine."""
    async with scratch_database(postgres_url, name, template=None) as url:
        engine = create_engine(url, pool_size=2)
        try:
            await migrate_to(engine, revision)
            yield engine
        finally:
            await engine.dispose()
