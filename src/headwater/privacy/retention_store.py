"""Privacy's SQL: the retention windows. Takes a :class:`~headwater.storage.Transaction`,
never commits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, text

from headwater.storage import Transaction

__all__ = ["all_windows", "replace_windows", "windows_of"]


async def windows_of(tx: Transaction, workspace_id: int) -> Sequence[Row[Any]]:
    """A workspace's windows: ``store, source_id (0: the workspace's), days, updated_at``."""
    rows = await tx.execute(
        text(
            "SELECT store, source_id, days, updated_at FROM retention_windows"
            " WHERE workspace_id = :workspace ORDER BY store, source_id"
        ),
        {"workspace": workspace_id},
    )
    return rows.all()


async def all_windows(tx: Transaction) -> Sequence[Row[Any]]:
    """Every window of the install: ``workspace_id, store, source_id, days``."""
    rows = await tx.execute(
        text("SELECT workspace_id, store, source_id, days FROM retention_windows")
    )
    return rows.all()


async def replace_windows(
    tx: Transaction, workspace_id: int, windows: Sequence[tuple[str, int, int]]
) -> None:
    """Make ``(store, source_id, days)`` the workspace's windows (a row kept unchanged keeps
    its ``updated_at``)."""
    keys = [f"{store}:{source}" for store, source, _ in windows]
    await tx.execute(
        text(
            "DELETE FROM retention_windows WHERE workspace_id = :workspace"
            " AND NOT (store || ':' || source_id = ANY(:keys))"
        ),
        {"workspace": workspace_id, "keys": keys},
    )
    for store, source, days in windows:
        await tx.execute(
            text(
                "INSERT INTO retention_windows (workspace_id, store, source_id, days)"
                " VALUES (:workspace, :store, :source, :days)"
                " ON CONFLICT (workspace_id, store, source_id) DO UPDATE"
                " SET days = excluded.days, updated_at = now()"
                " WHERE retention_windows.days <> excluded.days"
            ),
            {"workspace": workspace_id, "store": store, "source": source, "days": days},
        )
