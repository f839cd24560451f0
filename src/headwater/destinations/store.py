"""Destination instances' SQL (SQLAlchemy Core text; never commits).

The delivery engine's reads and housekeeping are in :mod:`headwater.delivery.store`.
"""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import Row, text

from headwater.destinations.model import Destination
from headwater.storage import Transaction

__all__ = [
    "delete_destination",
    "destinations",
    "get_destination",
    "insert_destination",
    "routing_version",
    "update_destination",
]

_COLUMNS = (
    "id, workspace_id, name, kind, config, sources, filters, categories, delivery, enabled,"
    " created_at, updated_at"
)


def _destination(row: Row[Any]) -> Destination:
    return Destination(
        id=row.id,
        workspace_id=row.workspace_id,
        name=row.name,
        kind=row.kind,
        config=row.config,
        sources=list(row.sources) if row.sources is not None else None,
        filters=row.filters,
        categories=list(row.categories) if row.categories is not None else None,
        options=row.delivery,
        enabled=row.enabled,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def destinations(
    connection: Transaction, *, workspace_id: int | None = None, enabled: bool | None = None
) -> list[Destination]:
    """Destinations of one workspace (or all), optionally only enabled or disabled ones."""
    rows = await connection.execute(
        text(
            f"SELECT {_COLUMNS} FROM destinations"
            " WHERE (CAST(:workspace AS integer) IS NULL OR workspace_id = :workspace)"
            " AND (CAST(:enabled AS boolean) IS NULL OR enabled = :enabled) ORDER BY id"
        ),
        {"workspace": workspace_id, "enabled": enabled},
    )
    return [_destination(row) for row in rows]


async def routing_version(connection: Transaction) -> int:
    """The version of what routing reads (``routing_changes``: raised by every change to the
    destinations or the PII rules, in the changing transaction)."""
    version: int = await connection.driver.fetchval("SELECT version FROM routing_changes")
    return version


async def get_destination(connection: Transaction, destination_id: int) -> Destination | None:
    row = (
        await connection.execute(
            text(f"SELECT {_COLUMNS} FROM destinations WHERE id = :id"), {"id": destination_id}
        )
    ).first()
    return _destination(row) if row is not None else None


_JSON_COLUMNS = frozenset({"config", "filters", "delivery"})


def _encoded(values: dict[str, Any]) -> dict[str, Any]:
    return {
        name: msgspec.json.encode(value).decode() if name in _JSON_COLUMNS else value
        for name, value in values.items()
    }


def _param(name: str) -> str:
    return f"CAST(:{name} AS jsonb)" if name in _JSON_COLUMNS else f":{name}"


async def insert_destination(connection: Transaction, **values: Any) -> int:
    """Insert a destination (columns as keyword arguments); return its id."""
    names = ", ".join(values)
    params = ", ".join(_param(name) for name in values)
    return int(
        await connection.scalar(
            text(f"INSERT INTO destinations ({names}) VALUES ({params}) RETURNING id"),
            _encoded(values),
        )
    )


async def update_destination(connection: Transaction, destination_id: int, **values: Any) -> bool:
    if not values:
        return True
    assignments = ", ".join(f"{name} = {_param(name)}" for name in values)
    result = await connection.execute(
        text(f"UPDATE destinations SET {assignments}, updated_at = now() WHERE id = :id"),
        {**_encoded(values), "id": destination_id},
    )
    return bool(result.rowcount)


async def delete_destination(connection: Transaction, destination_id: int) -> None:
    """Delete a destination's row (the delivery engine removes its queue first, in the same
    transaction)."""
    await connection.execute(
        text("DELETE FROM destinations WHERE id = :id"), {"id": destination_id}
    )
