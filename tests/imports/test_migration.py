"""Migration 0027 creates ``import_jobs`` and its downgrade drops it; up again works."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.privacy.helpers import database_at, migrate_to


async def _has_table(engine: AsyncEngine) -> bool:
    async with engine.connect() as connection:
        found = await connection.scalar(text("SELECT to_regclass('import_jobs') IS NOT NULL"))
    return bool(found)


async def test_import_jobs_up_down_and_up(postgres_url: str) -> None:
    async with database_at(postgres_url, "hw_import_migration", "0025") as engine:
        assert not await _has_table(engine)
        await migrate_to(engine, "0027")
        assert await _has_table(engine)
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO import_jobs (workspace_id, source_id, kind, format, file_name,"
                    " file_bytes, rows_total, columns, mapping, status) VALUES"
                    " (1, 1, 'events', 'csv', 'a.csv', 10, 1, '{}', '{}', 'uploaded')"
                )
            )
        await migrate_to(engine, "0025", down=True)
        assert not await _has_table(engine)
        await migrate_to(engine, "0027")
        assert await _has_table(engine)
