"""Destinations' SQL off the hot path (SQLAlchemy Core text; never commits).

Instances, the reads behind the management API (stats, errors, dead letters), replay's
inserts, and housekeeping. The queue's hot statements live in :mod:`.queue`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater.destinations.model import Destination
from headwater.destinations.views import QueueView

__all__ = [
    "dead_letters",
    "delete_destination",
    "destinations",
    "foreign_sources",
    "get_destination",
    "insert_destination",
    "latest_errors",
    "queue_depth",
    "replay_dead_letters",
    "stats",
    "trim_errors",
    "update_destination",
    "workspace_id",
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


async def workspace_id(connection: AsyncConnection, slug: str) -> int | None:
    value = await connection.scalar(
        text("SELECT id FROM workspaces WHERE slug = :slug"), {"slug": slug}
    )
    return int(value) if value is not None else None


async def foreign_sources(
    connection: AsyncConnection, workspace_id: int, source_ids: list[int]
) -> list[int]:
    """The ids among ``source_ids`` that are no source of the workspace, in their order."""
    if not source_ids:
        return []
    owned = await connection.scalars(
        text("SELECT id FROM sources WHERE workspace_id = :workspace AND id = ANY(:ids)"),
        {"workspace": workspace_id, "ids": [i for i in source_ids if -(2**31) <= i < 2**31]},
    )
    mine = set(owned)
    return [i for i in source_ids if i not in mine]


async def destinations(
    connection: AsyncConnection, *, workspace_id: int | None = None, enabled: bool | None = None
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


async def get_destination(connection: AsyncConnection, destination_id: int) -> Destination | None:
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


async def insert_destination(connection: AsyncConnection, **values: Any) -> int:
    """Insert a destination (columns as keyword arguments); return its id."""
    names = ", ".join(values)
    params = ", ".join(_param(name) for name in values)
    return int(
        await connection.scalar(
            text(f"INSERT INTO destinations ({names}) VALUES ({params}) RETURNING id"),
            _encoded(values),
        )
    )


async def update_destination(
    connection: AsyncConnection, destination_id: int, **values: Any
) -> bool:
    if not values:
        return True
    assignments = ", ".join(f"{name} = {_param(name)}" for name in values)
    result = await connection.execute(
        text(f"UPDATE destinations SET {assignments}, updated_at = now() WHERE id = :id"),
        {**_encoded(values), "id": destination_id},
    )
    return bool(result.rowcount)


async def delete_destination(connection: AsyncConnection, destination_id: int) -> int:
    """Delete a destination with its queue, dead letters, errors and stats; return how many
    undelivered rows went with it."""
    dropped = await connection.execute(
        text("DELETE FROM deliveries WHERE destination_id = :id"), {"id": destination_id}
    )
    for table in ("dead_letters", "delivery_errors", "delivery_stats"):
        await connection.execute(
            text(f"DELETE FROM {table} WHERE destination_id = :id"), {"id": destination_id}
        )
    await connection.execute(
        text("DELETE FROM destinations WHERE id = :id"), {"id": destination_id}
    )
    return int(dropped.rowcount)


async def queue_depth(connection: AsyncConnection, destination_id: int) -> QueueView:
    """Undelivered rows: pending (not failed yet: waiting, or on its first attempt),
    retrying (an attempt failed; waiting for the next), oldest's age. ``attempts`` counts
    claims, so a row in flight for the first time is pending, not retrying."""
    row = (
        await connection.execute(
            text(
                "SELECT count(*) FILTER (WHERE last_error IS NULL) AS pending,"
                " count(*) FILTER (WHERE last_error IS NOT NULL) AS retrying,"
                " extract(epoch FROM now() - min(received_at)) AS oldest"
                " FROM deliveries WHERE destination_id = :id"
            ),
            {"id": destination_id},
        )
    ).one()
    return {
        "pending": int(row.pending),
        "retrying": int(row.retrying),
        "oldest_seconds": float(row.oldest) if row.oldest is not None else None,
    }


async def stats(
    connection: AsyncConnection,
    destination_id: int,
    *,
    since: datetime,
    until: datetime,
    interval: str,
) -> list[Row[Any]]:
    """Counts and summed latency histograms per ``interval`` (minute, hour or day)."""
    result = await connection.execute(
        text(
            "SELECT date_trunc(:interval, bucket) AS at, sum(enqueued) AS enqueued,"
            " sum(skipped_integrations) AS skipped_integrations,"
            " sum(skipped_consent) AS skipped_consent, sum(skipped_filters) AS skipped_filters,"
            " sum(delivered) AS delivered, sum(retried) AS retried, sum(failed) AS failed,"
            " sum(dead_lettered) AS dead_lettered,"
            " array_agg(array_to_string(latency_ms, ',')) AS latency"
            " FROM delivery_stats WHERE destination_id = :id AND bucket >= :since"
            " AND bucket < :until GROUP BY 1 ORDER BY 1"
        ),
        {"interval": interval, "id": destination_id, "since": since, "until": until},
    )
    return list(result)


async def latest_errors(
    connection: AsyncConnection, destination_id: int, *, limit: int
) -> list[dict[str, Any]]:
    rows = await connection.execute(
        text(
            "SELECT id, at, outcome, events, message_ids, error, exchange FROM delivery_errors"
            " WHERE destination_id = :id ORDER BY id DESC LIMIT :limit"
        ),
        {"id": destination_id, "limit": limit},
    )
    return [dict(row._mapping) for row in rows]


async def dead_letters(
    connection: AsyncConnection, destination_id: int, *, limit: int, before: int | None
) -> list[dict[str, Any]]:
    rows = await connection.execute(
        text(
            "SELECT id, message_id, received_at, enqueued_at, failed_at, attempts, reason,"
            " error, exchange, payload FROM dead_letters WHERE destination_id = :id"
            " AND (CAST(:before AS bigint) IS NULL OR id < :before) ORDER BY id DESC LIMIT :limit"
        ),
        {"id": destination_id, "limit": limit, "before": before},
    )
    return [dict(row._mapping) for row in rows]


async def replay_dead_letters(
    connection: AsyncConnection, destination_id: int, *, ids: list[int] | None
) -> int:
    """Move dead letters (all, or ``ids``) back into the queue, due now; return how many.

    A message still queued for the destination is not queued twice; its dead letter goes.
    """
    result = await connection.execute(
        text(
            "WITH moved AS (DELETE FROM dead_letters WHERE destination_id = :id"
            " AND (CAST(:ids AS bigint[]) IS NULL OR id = ANY(:ids))"
            " RETURNING destination_id, message_id, received_at, payload),"
            " inserted AS (INSERT INTO deliveries (destination_id, message_id, user_key,"
            " received_at, payload) SELECT destination_id, message_id,"
            " coalesce(payload->>'userId', payload->>'anonymousId'), received_at, payload"
            " FROM moved ON CONFLICT (destination_id, message_id) DO NOTHING RETURNING 1)"
            " SELECT count(*) FROM inserted"
        ),
        {"id": destination_id, "ids": ids},
    )
    count = int(result.scalar_one())
    await connection.execute(
        text("SELECT pg_notify('headwater_delivery', :id)"), {"id": str(destination_id)}
    )
    return count


async def trim_errors(connection: AsyncConnection, *, keep: int) -> None:
    """Keep the newest ``keep`` errors of each destination."""
    await connection.execute(
        text(
            "DELETE FROM delivery_errors e USING (SELECT id, row_number() OVER"
            " (PARTITION BY destination_id ORDER BY id DESC) AS n FROM delivery_errors) r"
            " WHERE e.id = r.id AND r.n > :keep"
        ),
        {"keep": keep},
    )
