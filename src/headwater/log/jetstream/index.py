"""The JetStream log's index in PostgreSQL: its entries in the ``events`` table, under the
offsets JetStream gave them.

The reads by key (an entry by offset or ``messageId``, a source's newest, a time range), the
set-based SQL of the capabilities (the governed history relation), erasure and
retention by day all need the entries in the database; JetStream can answer none of them
without reading a whole subject. So each append is written to JetStream (which orders and
acknowledges it and carries it to the consumers) and then into ``events`` inside the
collector's transaction, with the stream sequence as ``seq``: the same rows the PostgreSQL log
keeps, read by the same statements.

Unlike the PostgreSQL log's append, this insert takes no lock: the order of offsets is
JetStream's, and concurrent appenders commit their index rows in parallel.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

__all__ = ["committed", "first_sequence", "indexed", "insert", "remove", "row"]

# [[seq, partition, workspace, source, payload, duplicate], ...] as one JSON document, the
# indexed columns derived in SQL exactly as the PostgreSQL log's append derives them. A
# duplicate (a retry JetStream acknowledged with an earlier sequence) is indexed only if that
# sequence is not yet (the attempt that published it may have rolled back).
_INSERT = """
INSERT INTO events (seq, partition, workspace_id, source_id, message_id, type, name, user_id,
                    anonymous_id, timestamp, received_at, payload)
OVERRIDING SYSTEM VALUE
SELECT (r->>0)::bigint, (r->>1)::smallint, (r->>2)::int, (r->>3)::int, d->>'messageId',
       d->>'type',
       CASE d->>'type' WHEN 'track' THEN d->>'event'
                       WHEN 'page' THEN nullif(d->>'name', '')
                       WHEN 'screen' THEN nullif(d->>'name', '') END,
       d->>'userId', d->>'anonymousId', (d->>'timestamp')::timestamptz,
       (d->>'receivedAt')::timestamptz, d
FROM (SELECT r, r->4 AS d FROM jsonb_array_elements($1::text::jsonb) AS rows(r)) AS rows
WHERE NOT (r->>5)::boolean OR NOT EXISTS (SELECT FROM events e WHERE e.seq = (r->>0)::bigint)
"""

_REMOVE = "DELETE FROM events WHERE seq = ANY($2::bigint[]) AND workspace_id + 0 = $1 RETURNING seq"

_COMMITTED = """
SELECT p.partition, coalesce(o.committed, 0)
FROM unnest($2::smallint[]) AS p(partition)
LEFT JOIN log_offsets o ON o.consumer = $1 AND o.partition = p.partition
"""

_FIRST = "SELECT coalesce(max(seq), 0) + 1 FROM events"

_INDEXED = "SELECT seq FROM events WHERE seq = ANY($1::bigint[])"


def row(
    sequence: int,
    partition: int,
    workspace_id: int,
    source_id: int,
    payload: bytes,
    *,
    duplicate: bool,
) -> bytes:
    """One element of :func:`insert`'s document."""
    return b"[%d,%d,%d,%d,%s,%s]" % (
        sequence,
        partition,
        workspace_id,
        source_id,
        payload,
        b"true" if duplicate else b"false",
    )


async def insert(driver: asyncpg.Connection, rows: Sequence[bytes]) -> None:
    """Index ``rows`` (built by :func:`row`) in the driver's transaction."""
    if rows:
        await driver.execute(_INSERT, (b"[%s]" % b",".join(rows)).decode())


async def remove(
    driver: asyncpg.Connection, workspace_id: int, offsets: Sequence[int]
) -> list[int]:
    """Remove ``workspace_id``'s entries at ``offsets``; return the offsets removed."""
    return [r[0] for r in await driver.fetch(_REMOVE, workspace_id, sorted(set(offsets)))]


async def indexed(driver: asyncpg.Connection, offsets: Sequence[int]) -> set[int]:
    """Which of ``offsets`` have a committed index row."""
    return {int(r[0]) for r in await driver.fetch(_INDEXED, list(offsets))}


async def first_sequence(driver: asyncpg.Connection) -> int:
    """The first offset a new stream may use: past every entry the installation holds (an
    installation moved from the PostgreSQL log keeps its entries and their offsets)."""
    return int(await driver.fetchval(_FIRST))


async def committed(
    driver: asyncpg.Connection, consumer: str, partitions: Sequence[int]
) -> dict[int, int]:
    """``consumer``'s committed offset on each of ``partitions`` (0 when none), at once."""
    rows = await driver.fetch(_COMMITTED, consumer, list(partitions))
    return {int(r[0]): int(r[1]) for r in rows}
