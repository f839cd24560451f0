"""Reading what collection recorded beside the log (rejections, duplicates, counts) and what
tracking plans blocked (the quarantine) or let through changed (flagged). Queries take a
connection. (Events are read through the :class:`~headwater.log.EventLog`.)"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final, Literal

from sqlalchemy import Row, func, literal_column, select

from headwater.collect.tables import duplicates, event_counts, rejections
from headwater.protocols.tables import flagged, quarantine
from headwater.storage import Transaction

__all__ = ["FATE_TABLES", "count_rows", "fate_rows", "newest_fate_ids", "rejection_rows"]

FATE_TABLES: Final = {
    "rejected": rejections,
    "duplicate": duplicates,
    "blocked": quarantine,
    "flagged": flagged,
}
"""Where each fate of a message other than "stored" is recorded, by id."""


async def newest_fate_ids(connection: Transaction, *, source_id: int) -> dict[str, int]:
    """The newest id of each fate's records of the source (0 for none): a live feed's start."""
    found = {}
    for fate, table in FATE_TABLES.items():
        newest = select(func.coalesce(func.max(table.c.id), 0)).where(
            table.c.source_id == source_id
        )
        found[fate] = int(await connection.scalar(newest))
    return found


async def fate_rows(
    connection: Transaction, *, fate: str, source_id: int, after: int, limit: int
) -> list[Row[Any]]:
    """The source's records of ``fate`` after id ``after``, oldest first."""
    table = FATE_TABLES[fate]
    query = (
        select(table)
        .where(table.c.source_id == source_id, table.c.id > after)
        .order_by(table.c.id)
        .limit(limit)
    )
    return list(await connection.execute(query))


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
            func.sum(event_counts.c.suppressed).label("suppressed"),
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
