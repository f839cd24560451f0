"""The collection writes besides the log: dedup keys, rejections, duplicates and counts. None
commits.

They run on the asyncpg driver of the group commit's :class:`~headwater.storage.Transaction`
(the hot path: the committer opens ``driver.transaction()`` itself, no SQLAlchemy statement).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Final

from headwater.storage import Transaction, holds_any, removed

__all__ = [
    "DUPLICATES_KEPT",
    "CountKey",
    "DuplicateRow",
    "claim_message_ids",
    "count",
    "forget_records",
    "insert_duplicates",
    "insert_rejections",
    "minute",
    "purge_dedup_keys",
    "purge_duplicates",
]

# (source_id, bucket, type, name, workspace_id)
CountKey = tuple[int, datetime, str, str, int]

# Returns the keys that were NOT inserted (seen before): usually none, so little comes back.
_CLAIM = """
WITH input AS (
    SELECT * FROM unnest($1::int[], $2::text[]) WITH ORDINALITY AS x(workspace_id, message_id, n)
), inserted AS (
    INSERT INTO dedup_keys (workspace_id, message_id, received_at)
    SELECT workspace_id, message_id, $3::timestamptz FROM input ORDER BY n
    ON CONFLICT DO NOTHING
    RETURNING workspace_id, message_id
)
SELECT workspace_id, message_id FROM input
EXCEPT ALL
SELECT workspace_id, message_id FROM inserted
"""

_REJECT = """
INSERT INTO rejections (workspace_id, source_id, received_at, batch_index, type, message_id,
                        reason, payload)
SELECT w, s, r, i, t, m, reason, j::jsonb
FROM unnest($1::int[], $2::int[], $3::timestamptz[], $4::int[], $5::text[], $6::text[],
            $7::text[], $8::text[]) AS x(w, s, r, i, t, m, reason, j)
"""

_DUPLICATE = """
INSERT INTO duplicates (workspace_id, source_id, received_at, type, name, message_id, payload)
SELECT w, s, r, t, n, m, j::jsonb
FROM unnest($1::int[], $2::int[], $3::timestamptz[], $4::text[], $5::text[], $6::text[],
            $7::text[]) AS x(w, s, r, t, n, m, j)
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
    tx: Transaction, keys: Sequence[tuple[int, str]], received_at: datetime
) -> set[tuple[int, str]]:
    """Insert dedup keys; return those seen before (within the window): the duplicates.

    ``keys`` must be distinct and sorted, so that concurrent writers lock rows in one order.
    """
    if not keys:
        return set()
    rows = await tx.driver.fetch(_CLAIM, [k[0] for k in keys], [k[1] for k in keys], received_at)
    return {(row[0], row[1]) for row in rows}


async def insert_rejections(
    tx: Transaction,
    rows: Sequence[tuple[int, int, datetime, int, str | None, str | None, str, str | None]],
) -> None:
    """Rows of (workspace, source, received_at, index, type, messageId, reason, payload JSON)."""
    if rows:
        await tx.driver.execute(_REJECT, *(list(column) for column in zip(*rows, strict=True)))


DuplicateRow = tuple[int, int, datetime, str, str | None, str, str]
"""(workspace, source, received_at, type, name, messageId, payload JSON)."""


async def insert_duplicates(tx: Transaction, rows: Sequence[DuplicateRow]) -> None:
    """Record messages dropped as duplicates (kept :data:`DUPLICATES_KEPT`)."""
    if rows:
        await tx.driver.execute(_DUPLICATE, *(list(column) for column in zip(*rows, strict=True)))


async def count(tx: Transaction, counts: dict[CountKey, list[int]]) -> None:
    """Add [accepted, duplicates, rejected] to each (source, bucket, type, name) counter."""
    if not counts:
        return
    keys = sorted(counts)
    columns: tuple[list[object], ...] = tuple([] for _ in range(8))
    for key in keys:
        for column, value in zip(columns, (*key, *counts[key]), strict=True):
            column.append(value)
    await tx.driver.execute(_COUNT, *columns)


async def purge_dedup_keys(tx: Transaction, *, older_than: timedelta) -> int:
    """Forget message ids received before the dedup window; return how many."""
    status = await tx.driver.execute(
        "DELETE FROM dedup_keys WHERE received_at < now() - $1::interval", older_than
    )
    return int(status.split()[-1])


DUPLICATES_KEPT: Final = timedelta(days=1)
"""How long a duplicate stays visible to the live debugger (its count stays in the counts)."""


async def purge_duplicates(tx: Transaction) -> int:
    """Forget duplicates older than :data:`DUPLICATES_KEPT`; return how many."""
    status = await tx.driver.execute(
        "DELETE FROM duplicates WHERE received_at < now() - $1::interval", DUPLICATES_KEPT
    )
    return int(status.split()[-1])


def minute(value: datetime) -> datetime:
    """The counter bucket of a time."""
    return value.replace(second=0, microsecond=0)


_FORGET = (
    "DELETE FROM {table} WHERE workspace_id = $1"
    " AND (message_id = ANY($2::text[]) OR " + holds_any("payload", "$3::text[]") + ")"
)


async def forget_records(
    tx: Transaction, workspace_id: int, message_ids: Sequence[str], values: Sequence[str]
) -> dict[str, int]:
    """Remove a person's rejected and duplicate messages: those of ``message_ids``, or whose
    payload holds one of ``values`` (their identifiers, lower case), and the dedup keys of
    ``message_ids`` (a primary-key probe each: a message id may be built from a user's id or
    email); return rows removed per table. Rejections are read whole for the workspace (they
    are few, and indexed by source only). A copy of an erased message sent again is then
    accepted as new, as any event of the person arriving after the erase is. The counts
    (``event_counts``) stay: they are no one's."""
    args = (workspace_id, sorted(set(message_ids)), sorted(set(values)))
    counts = {
        table: removed(await tx.driver.execute(_FORGET.format(table=table), *args))
        for table in ("rejections", "duplicates")
    }
    keys = await tx.driver.execute(
        "DELETE FROM dedup_keys WHERE workspace_id = $1 AND message_id = ANY($2::text[])",
        *args[:2],
    )
    return counts | {"dedup_keys": removed(keys)}
