"""Reading what collection recorded beside the log: rejections and counts. Queries take a
connection. (Events are read through the :class:`~headwater.log.EventLog`.)"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Row, func, literal_column, select

from headwater.collect.tables import event_counts, rejections
from headwater.storage import Transaction

__all__ = ["count_rows", "rejection_rows"]

Interval = Literal["minute", "hour", "day"]
GroupBy = Literal["source", "event"]


async def rejection_rows(
    connection: Transaction,
    *,
    workspace_id: int,
    source_id: int | None,
    limit: int,
    before: int | None,
) -> list[Row[Any]]:
    query = (
        select(rejections)
        .where(rejections.c.workspace_id == workspace_id)
        .order_by(rejections.c.id.desc())
        .limit(limit)
    )
    if source_id is not None:
        query = query.where(rejections.c.source_id == source_id)
    if before is not None:
        query = query.where(rejections.c.id < before)
    return list(await connection.execute(query))


async def count_rows(
    connection: Transaction,
    *,
    workspace_id: int,
    source_id: int | None,
    since: datetime,
    until: datetime,
    interval: Interval,
    group_by: GroupBy,
) -> list[Row[Any]]:
    """Sums of accepted, duplicates and rejected per time bucket and source or event."""
    # Buckets are cut in UTC whatever the session's time zone.
    bucket = func.date_trunc(
        literal_column(f"'{interval}'"), event_counts.c.bucket, literal_column("'UTC'")
    ).label("bucket")
    keys: list[Any] = [bucket, event_counts.c.source_id]
    if group_by == "event":
        keys += [event_counts.c.type, event_counts.c.name]
    query = (
        select(
            *keys,
            func.sum(event_counts.c.accepted).label("accepted"),
            func.sum(event_counts.c.duplicates).label("duplicates"),
            func.sum(event_counts.c.rejected).label("rejected"),
        )
        .where(
            event_counts.c.workspace_id == workspace_id,
            event_counts.c.bucket >= since,
            event_counts.c.bucket < until,
        )
        .group_by(*keys)
        .order_by(*keys)
    )
    if source_id is not None:
        query = query.where(event_counts.c.source_id == source_id)
    return list(await connection.execute(query))
