"""The collection writes besides the log: dedup keys, rejections, duplicates and counts. None
commits.

They run on the asyncpg driver of the group commit's :class:`~headwater.storage.Transaction`
(the hot path: the committer opens ``driver.transaction()`` itself, no SQLAlchemy statement).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Final

from headwater.storage import Transaction

__all__ = [
    "DUPLICATES_KEPT",
    "CountKey",
    "DuplicateRow",
    "claim_message_ids",
    "count",
    "count_rejections_before",
    "forget_rejections_before",
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


# Retention (headwater.privacy composes these): the rejections of a workspace received before
# a time, from the chosen sources (None: every source) less the excluded ones (those with a
# window of their own). One range of ``rejections_received_at`` each.
_REJECTIONS_BEFORE = (
    " FROM rejections WHERE workspace_id = $1 AND received_at < $2"
    " AND ($3::int[] IS NULL OR source_id = ANY($3)) AND NOT (source_id = ANY($4::int[]))"
)


async def count_rejections_before(
    tx: Transaction,
    *,
    workspace_id: int,
    before: datetime,
    sources: Sequence[int] | None,
    excluding: Sequence[int] = (),
) -> int:
    """How many rejections :func:`forget_rejections_before` would delete."""
    chosen = None if sources is None else list(sources)
    found = await tx.driver.fetchval(
        "SELECT count(*)" + _REJECTIONS_BEFORE, workspace_id, before, chosen, list(excluding)
    )
    return int(found)


async def forget_rejections_before(
    tx: Transaction,
    *,
    workspace_id: int,
    before: datetime,
    sources: Sequence[int] | None,
    excluding: Sequence[int] = (),
) -> int:
    """Delete a workspace's rejections received before ``before``; how many."""
    chosen = None if sources is None else list(sources)
    status = await tx.driver.execute(
        "DELETE" + _REJECTIONS_BEFORE, workspace_id, before, chosen, list(excluding)
    )
    return int(status.split()[-1])
