"""Storage: the tables, the engine (embedded or external PostgreSQL) and migrations."""

from headwater.storage.database import (
    STORAGE_ERRORS,
    UNSTORABLE_ERRORS,
    Database,
    asyncpg_url,
    create_engine,
    driver_connection,
    migrate,
    open_database,
    unavailable,
)
from headwater.storage.listener import Listener

__all__ = [
    "STORAGE_ERRORS",
    "UNSTORABLE_ERRORS",
    "Database",
    "Listener",
    "asyncpg_url",
    "create_engine",
    "driver_connection",
    "migrate",
    "open_database",
    "unavailable",
]
