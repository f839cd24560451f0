"""Migration 0026 on an install at 0025: webhook sources can be made after it; a downgrade keeps
the sources (as server sources) and drops the webhook tables; upgrading again works."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.storage import connected
from tests.privacy.helpers import database_at, migrate_to

_SOURCE = "INSERT INTO sources (id, workspace_id, name, write_key, kind) VALUES ($1, 1, $2, $2, $3)"


async def _tables(engine: AsyncEngine) -> set[str]:
    async with connected(engine) as tx:
        rows = await tx.driver.fetch(
            "SELECT tablename FROM pg_tables WHERE tablename LIKE 'hook_%'"
        )
    return {row["tablename"] for row in rows}


async def test_up_down_and_up_again(postgres_url: str) -> None:
    async with database_at(postgres_url, "hw_mig26", "0025") as engine:
        async with connected(engine) as tx:
            await tx.driver.execute("INSERT INTO workspaces (id, slug, name) VALUES (1, 'w', 'w')")
            with pytest.raises(asyncpg.CheckViolationError):
                await tx.driver.execute(_SOURCE, 1, "hook-before", "webhook")
        await migrate_to(engine, "0026")
        assert await _tables(engine) == {"hook_sources", "hook_requests"}
        async with connected(engine) as tx:
            await tx.driver.execute(_SOURCE, 1, "hook-one", "webhook")
            await tx.driver.execute(
                "INSERT INTO hook_sources (source_id, url_key, config) VALUES (1, 'k', '{}')"
            )
            await tx.driver.execute(
                "INSERT INTO hook_requests (workspace_id, source_id, method, headers, query,"
                " body_bytes, status, outcome, messages, errors)"
                " VALUES (1, 1, 'POST', '{}', '{}', 0, 200, 'stored', '[]', '[]')"
            )
        await migrate_to(engine, "0025", down=True)
        assert await _tables(engine) == set()
        async with connected(engine) as tx:
            kind = await tx.driver.fetchval("SELECT kind FROM sources WHERE id = 1")
        assert kind == "server"
        await migrate_to(engine, "0026")
        assert await _tables(engine) == {"hook_sources", "hook_requests"}
