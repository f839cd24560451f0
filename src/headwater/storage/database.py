"""The database: an async SQLAlchemy engine on PostgreSQL, embedded or external.

>>> db = await open_database(settings)   # starts embedded PostgreSQL when no URL is set
>>> await migrate(db.engine)
>>> await db.close()
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from headwater.settings import Settings
from headwater.storage.embedded import EmbeddedPostgres

__all__ = [
    "STORAGE_ERRORS",
    "UNSTORABLE_ERRORS",
    "Database",
    "asyncpg_url",
    "create_engine",
    "driver_connection",
    "migrate",
    "open_database",
    "unavailable",
]

STORAGE_ERRORS: tuple[type[BaseException], ...] = (
    DBAPIError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    OSError,
)
"""What a failing or unreachable database raises, through SQLAlchemy or asyncpg directly."""

UNSTORABLE_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.DataError,
    asyncpg.IntegrityConstraintViolationError,
    asyncpg.ProgramLimitExceededError,
)
"""Of those, what says the data itself cannot be stored: a retry of the same data fails too."""

_UNAVAILABLE_STATES = ("08", "53", "57P01", "57P02", "57P03")
"""SQLSTATEs of a database that cannot be reached or is going away: connection exceptions,
insufficient resources (too many connections), and administrator, crash or start-up shutdown."""


def unavailable(error: BaseException) -> bool:
    """Whether ``error`` says the database is unreachable or going away (retry later), as
    opposed to refusing a statement or its data (retrying the same thing fails again).

    Walks the chain SQLAlchemy and asyncpg build (``orig``, ``__cause__``): a refused or
    reset socket, a connection found closed, a pool that timed out, or an SQLSTATE of
    ``_UNAVAILABLE_STATES``.
    """
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, OSError | TimeoutError | PoolTimeout):
            return True
        if isinstance(seen, DBAPIError) and seen.connection_invalidated:
            return True
        if isinstance(seen, asyncpg.InterfaceError) and "connection is closed" in str(seen):
            return True
        state = getattr(seen, "sqlstate", None)
        if isinstance(state, str) and state.startswith(_UNAVAILABLE_STATES):
            return True
        seen = getattr(seen, "orig", None) or seen.__cause__
    return False


_MIGRATIONS = Path(__file__).parent / "migrations"


@dataclass
class Database:
    engine: AsyncEngine
    url: str
    embedded: EmbeddedPostgres | None = None

    async def close(self) -> None:
        await self.engine.dispose()
        if self.embedded is not None:
            await self.embedded.stop()


def asyncpg_url(url: str) -> str:
    """Any PostgreSQL URL as the asyncpg dialect's URL."""
    for prefix in (
        "postgresql+asyncpg://",
        "postgresql+psycopg://",
        "postgresql://",
        "postgres://",
    ):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url


def _json_serializer(value: Any) -> str:
    return msgspec.json.encode(value).decode()


_SERVER_SETTINGS = {"plan_cache_mode": "force_custom_plan"}
"""Plan every execution of a prepared statement with its parameters. asyncpg keeps statements
prepared per connection, and PostgreSQL's generic plan, chosen once while a table was small
(a fresh install, a first import), stays a sequential scan as the table grows into millions of
rows: the profile stage fell from thousands of events/s to hundreds that way. A custom plan
sees the table's current size (its page count) even before autovacuum analyzes it; planning
costs tens of microseconds a statement, and statements carry whole batches."""


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    return create_async_engine(
        asyncpg_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=False,
        json_serializer=_json_serializer,
        json_deserializer=msgspec.json.decode,
        connect_args={"server_settings": _SERVER_SETTINGS},
    )


async def open_database(settings: Settings, *, pool_size: int = 10) -> Database:
    """Connect to ``settings.database_url``, or start embedded PostgreSQL when it is unset."""
    if settings.database_url:
        return Database(
            create_engine(settings.database_url, pool_size=pool_size), settings.database_url
        )
    embedded = EmbeddedPostgres(settings.resolved_data_dir())
    url = await embedded.start()
    return Database(create_engine(url, pool_size=pool_size), url, embedded)


async def driver_connection(connection: AsyncConnection) -> asyncpg.Connection:
    """The asyncpg connection under a pooled SQLAlchemy connection.

    The hot paths (collection's group commit, the log's append) run their few statements on
    it directly, in an ``async with driver.transaction()`` block, skipping SQLAlchemy's
    per-statement overhead while still using its pool.
    """
    raw = await connection.get_raw_connection()
    driver: asyncpg.Connection = raw.driver_connection  # type: ignore[assignment]
    return driver


async def migrate(engine: AsyncEngine) -> None:
    """Bring the schema to the newest migration (idempotent; safe from several processes)."""
    async with engine.begin() as connection:
        await connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7210001)")
        await connection.run_sync(_upgrade)


def _upgrade(connection: Connection) -> None:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "heads")
