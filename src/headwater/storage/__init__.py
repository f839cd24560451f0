"""Storage: the one metadata, the engine (embedded or external PostgreSQL), migrations, and the
transaction every store function takes."""

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
from headwater.storage.transaction import Transaction, begin, connected, transaction

__all__ = [
    "STORAGE_ERRORS",
    "UNSTORABLE_ERRORS",
    "Database",
    "Listener",
    "Transaction",
    "asyncpg_url",
    "begin",
    "connected",
    "create_engine",
    "driver_connection",
    "migrate",
    "open_database",
    "transaction",
    "unavailable",
]
