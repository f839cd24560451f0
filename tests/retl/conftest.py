"""Reverse ETL on real components: the customer's database is a second database of the test
PostgreSQL, reached with a password (a role of its own); Headwater's own is a fresh migrated
one, with a real collector writing to the real event log."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.collect import Collector
from headwater.log import PostgresLog
from headwater.settings import Settings
from headwater.telemetry.metrics import Metrics
from headwater.workspaces import Source, create_source, create_workspace
from tests.conftest import scratch_database

LOCAL = {"HEADWATER_RETL_ALLOW_LOCAL_DATABASES": "true"}
"""The customer's database is on the test PostgreSQL server, Headwater's own: processes that
read it must allow local databases (``headwater.retl.guard``, tested in test_guard.py)."""

PASSWORD = "s3cret-Pw_91"
"""The customer role's password: no answer, error or run may ever show it."""


@dataclass
class Customer:
    url: str
    """``postgresql://reader:PASSWORD@host:port/db``"""

    async def execute(self, *statements: str) -> None:
        connection = await _connect(self.url)
        try:
            for statement in statements:
                await connection.execute(statement)
        finally:
            await connection.close()


async def _connect(url: str) -> asyncpg.Connection:
    parsed = make_url(url)
    return await asyncpg.connect(
        host=parsed.query.get("host") or parsed.host,
        port=parsed.port,
        user=parsed.username,
        password=parsed.password,
        database=parsed.database,
    )


@pytest.fixture
async def customer(postgres_url: str) -> AsyncIterator[Customer]:
    """An empty database with a ``reader`` role that has a password and owns the schema."""
    async with scratch_database(postgres_url, "hw_customer", template=None) as url:
        admin = await _connect(url)
        try:
            exists = await admin.fetchval("SELECT 1 FROM pg_roles WHERE rolname = 'reader'")
            if not exists:
                await admin.execute(f"CREATE ROLE reader LOGIN PASSWORD '{PASSWORD}'")
            database = make_url(url).database
            await admin.execute(f'GRANT ALL ON DATABASE "{database}" TO reader')
            await admin.execute("GRANT ALL ON SCHEMA public TO reader")
        finally:
            await admin.close()
        parsed = make_url(url).set(username="reader", password=PASSWORD, drivername="postgresql")
        yield Customer(parsed.render_as_string(hide_password=False))


@dataclass
class Headwater:
    engine: AsyncEngine
    settings: Settings
    collector: Collector
    source: Source
    workspace: str = "shop"


@pytest.fixture
async def headwater(engine: AsyncEngine, settings: Settings) -> AsyncIterator[Headwater]:
    settings = settings.model_copy(
        update={"retl_chunk_rows": 7, "secret_key": "test-key", "retl_allow_local_databases": True}
    )
    log = PostgresLog(engine, settings.log_partitions)
    collector = Collector(engine=engine, log=log, settings=settings, metrics=Metrics())
    await collector.start()
    await create_workspace(engine, slug="shop")
    source = await create_source(engine, name="warehouse", workspace="shop")
    try:
        yield Headwater(engine, settings, collector, source)
    finally:
        await collector.stop()
        await log.close()
