"""The browser plugins' queries (``workspaces/plugins.py``): one row per source that has any."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from headwater.storage import Transaction
from headwater.workspaces.tables import source_plugins

__all__ = ["read", "write"]


async def read(connection: Transaction, source_id: int) -> list[Any]:
    """The source's plugins as stored (plain JSON values), none when never set."""
    stored = await connection.scalar(
        select(source_plugins.c.plugins).where(source_plugins.c.source_id == source_id)
    )
    return list(stored or [])


async def write(connection: Transaction, source_id: int, plugins: list[Any]) -> None:
    """Replace the source's plugins."""
    statement = insert(source_plugins).values(source_id=source_id, plugins=plugins)
    await connection.execute(
        statement.on_conflict_do_update(
            index_elements=[source_plugins.c.source_id],
            set_={"plugins": statement.excluded.plugins, "updated_at": func.now()},
        )
    )
