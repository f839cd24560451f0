"""The collection writes besides the log: dedup keys, rejections, duplicates and counts; and the
suppressions privacy adds and removes (:data:`SUPPRESSIONS_CHANNEL`). None commits.

They run on the asyncpg driver of the caller's :class:`~headwater.storage.Transaction` (the
hot path: the committer opens ``driver.transaction()`` itself, no SQLAlchemy statement).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Final

from headwater.storage import Transaction, holds_any, removed

__all__ = [
    "DUPLICATES_KEPT",
    "SUPPRESSIONS_CHANNEL",
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
    "suppress",
    "suppressed_hashes",
    "suppressed_workspaces",
    "suppression_page",
    "unsuppress",
    "unsuppress_regulation",
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
                               duplicates, rejected, suppressed)
SELECT * FROM unnest($1::int[], $2::timestamptz[], $3::text[], $4::text[], $5::int[],
                     $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[])
ON CONFLICT (source_id, bucket, type, name) DO UPDATE SET
    accepted = c.accepted + excluded.accepted,
    duplicates = c.duplicates + excluded.duplicates,
    rejected = c.rejected + excluded.rejected,
    suppressed = c.suppressed + excluded.suppressed
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
    """Add [accepted, duplicates, rejected, suppressed] to each (source, bucket, type, name)
    counter."""
    if not counts:
        return
    keys = sorted(counts)
    columns: tuple[list[object], ...] = tuple([] for _ in range(9))
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


SUPPRESSIONS_CHANNEL: Final = "headwater_suppressions"
"""Notified (payload: the workspace id) in the transaction that changes a workspace's
suppressions; every collector reloads that workspace's set when it commits."""


async def suppress(
    tx: Transaction,
    workspace_id: int,
    entries: Sequence[tuple[str, bytes, bytes]],
    *,
    regulation_id: str,
) -> None:
    """Add (kind, digest, origin) entries to the workspace's suppressions, ``origin`` being the
    digest of the subject whose person the identifier belongs to (an entry already there keeps
    the regulation that added it), and notify the collectors."""
    rows = sorted({entry[1]: entry for entry in entries}.values(), key=lambda entry: entry[1])
    if rows:
        await tx.driver.execute(
            "INSERT INTO suppressions (workspace_id, identifier_hash, kind, origin, regulation_id)"
            " SELECT $1, h, k, o, $5 FROM unnest($2::bytea[], $3::text[], $4::bytea[])"
            " AS x(h, k, o) ORDER BY h ON CONFLICT DO NOTHING",
            workspace_id,
            [row[1] for row in rows],
            [row[0] for row in rows],
            [row[2] for row in rows],
            regulation_id,
        )
    await tx.driver.execute("SELECT pg_notify($1, $2)", SUPPRESSIONS_CHANNEL, str(workspace_id))


async def unsuppress(
    tx: Transaction, workspace_id: int, hashes: Sequence[bytes], *, origin: bytes
) -> int:
    """Remove identifier digests, and every suppression added for the subject whose digest is
    ``origin``, from the workspace's suppressions and notify the collectors; how many."""
    status = await tx.driver.execute(
        "DELETE FROM suppressions WHERE workspace_id = $1"
        " AND (identifier_hash = ANY($2::bytea[]) OR origin = $3)",
        workspace_id,
        list(hashes),
        origin,
    )
    await tx.driver.execute("SELECT pg_notify($1, $2)", SUPPRESSIONS_CHANNEL, str(workspace_id))
    return int(status.split()[-1])


async def suppressed_workspaces(tx: Transaction) -> list[int]:
    """The workspaces that have suppressions."""
    rows = await tx.driver.fetch("SELECT DISTINCT workspace_id FROM suppressions")
    return [row[0] for row in rows]


async def suppressed_hashes(tx: Transaction, workspace_id: int) -> frozenset[bytes]:
    """Every identifier digest the workspace suppresses."""
    rows = await tx.driver.fetch(
        "SELECT identifier_hash FROM suppressions WHERE workspace_id = $1", workspace_id
    )
    return frozenset(bytes(row[0]) for row in rows)


async def suppression_page(
    tx: Transaction, workspace_id: int, *, after: bytes | None, limit: int, only: bytes | None
) -> tuple[list[tuple[str, bytes]], int]:
    """A page of the workspace's suppressions, (kind, digest) in digest order, after
    ``after``, and how many it has; with ``only``, that digest alone if suppressed."""
    rows = await tx.driver.fetch(
        "SELECT kind, identifier_hash FROM suppressions WHERE workspace_id = $1"
        " AND ($2::bytea IS NULL OR identifier_hash > $2)"
        " AND ($3::bytea IS NULL OR identifier_hash = $3)"
        " ORDER BY identifier_hash LIMIT $4",
        workspace_id,
        after,
        only,
        limit,
    )
    total = await tx.driver.fetchval(
        "SELECT count(*) FROM suppressions WHERE workspace_id = $1"
        " AND ($2::bytea IS NULL OR identifier_hash = $2)",
        workspace_id,
        only,
    )
    return [(row[0], bytes(row[1])) for row in rows], int(total)


async def unsuppress_regulation(tx: Transaction, workspace_id: int, regulation_id: str) -> int:
    """Remove the suppressions one regulation added (it was cancelled) and notify."""
    status = await tx.driver.execute(
        "DELETE FROM suppressions WHERE workspace_id = $1 AND regulation_id = $2",
        workspace_id,
        regulation_id,
    )
    await tx.driver.execute("SELECT pg_notify($1, $2)", SUPPRESSIONS_CHANNEL, str(workspace_id))
    return int(status.split()[-1])


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
