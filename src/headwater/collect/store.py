"""The collection writes besides the log: dedup keys, rejections and counts. None commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = [
    "CountKey",
    "claim_message_ids",
    "count",
    "insert_rejections",
    "minute",
    "purge_dedup_keys",
]

# (source_id, bucket, type, name, workspace_id)
CountKey = tuple[int, datetime, str, str, int]

_CLAIM = """
INSERT INTO dedup_keys (workspace_id, message_id, received_at)
SELECT * FROM unnest($1::int[], $2::text[], $3::timestamptz[])
ON CONFLICT DO NOTHING
RETURNING workspace_id, message_id
"""

_REJECT = """
INSERT INTO rejections (workspace_id, source_id, received_at, batch_index, type, message_id,
                        reason, payload)
SELECT w, s, r, i, t, m, reason, j::jsonb
FROM unnest($1::int[], $2::int[], $3::timestamptz[], $4::int[], $5::text[], $6::text[],
            $7::text[], $8::text[]) AS x(w, s, r, i, t, m, reason, j)
"""

_COUNT = """
INSERT INTO event_counts AS c (source_id, bucket, type, name, workspace_id, accepted,
                               duplicates, rejected)
SELECT * FROM unnest($1::int[], $2::timestamptz[], $3::text[], $4::text[], $5::int[],
                     $6::bigint[], $7::bigint[], $8::bigint[])
ON CONFLICT (source_id, bucket, type, name) DO UPDATE SET
    accepted = c.accepted + excluded.accepted,
    duplicates = c.duplicates + excluded.duplicates,
    rejected = c.rejected + excluded.rejected
"""


async def claim_message_ids(
    connection: AsyncConnection, keys: Sequence[tuple[int, str]], received_at: datetime
) -> set[tuple[int, str]]:
    """Insert dedup keys; return those that were new (the rest were seen within the window).

    ``keys`` must be sorted so that concurrent writers lock rows in the same order.
    """
    if not keys:
        return set()
    result = await connection.exec_driver_sql(
        _CLAIM,
        ([k[0] for k in keys], [k[1] for k in keys], [received_at] * len(keys)),
    )
    return {(row["workspace_id"], row["message_id"]) for row in result.mappings()}


async def insert_rejections(
    connection: AsyncConnection,
    rows: Sequence[tuple[int, int, datetime, int, str | None, str | None, str, str | None]],
) -> None:
    """Rows of (workspace, source, received_at, index, type, messageId, reason, payload JSON)."""
    if rows:
        await connection.exec_driver_sql(
            _REJECT, tuple(list(column) for column in zip(*rows, strict=True))
        )


async def count(connection: AsyncConnection, counts: dict[CountKey, list[int]]) -> None:
    """Add [accepted, duplicates, rejected] to each (source, bucket, type, name) counter."""
    if not counts:
        return
    keys = sorted(counts)
    columns: tuple[list[object], ...] = tuple([] for _ in range(8))
    for key in keys:
        for column, value in zip(columns, (*key, *counts[key]), strict=True):
            column.append(value)
    await connection.exec_driver_sql(_COUNT, columns)


async def purge_dedup_keys(connection: AsyncConnection, *, older_than: timedelta) -> int:
    """Forget message ids received before the dedup window; return how many."""
    result = await connection.exec_driver_sql(
        "DELETE FROM dedup_keys WHERE received_at < now() - $1::interval", (older_than,)
    )
    return int(result.rowcount or 0)


def minute(value: datetime) -> datetime:
    """The counter bucket of a time."""
    return value.replace(second=0, microsecond=0)
