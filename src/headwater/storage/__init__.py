"""Storage: the tables, the engine (embedded or external PostgreSQL) and migrations."""

from headwater.storage.database import Database, asyncpg_url, create_engine, migrate, open_database

__all__ = ["Database", "asyncpg_url", "create_engine", "migrate", "open_database"]
