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
from headwater.storage.erasure import holds_any, removed
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
    "holds_any",
    "migrate",
    "open_database",
    "removed",
    "transaction",
    "unavailable",
]
