"""Migration 0028 down and up again: the reverse ETL tables go and come back."""

from __future__ import annotations

from sqlalchemy import text

from tests.privacy.helpers import database_at, migrate_to

_TABLES = "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'retl\\_%'"


async def test_down_and_up(postgres_url: str) -> None:
    async with database_at(postgres_url, "hw_retl_migration", "0028") as engine:
        async with engine.connect() as connection:
            assert await connection.scalar(text(_TABLES)) == 4
        await migrate_to(engine, "0025", down=True)
        async with engine.connect() as connection:
            assert await connection.scalar(text(_TABLES)) == 0
        await migrate_to(engine, "0028")
        async with engine.connect() as connection:
            assert await connection.scalar(text(_TABLES)) == 4
