"""The event log on PostgreSQL: the ``events`` table, ordered per partition by ``seq``.

Appends take a transaction-level advisory lock, so offsets become visible in the order they
were assigned: a reader that has seen offset N never later finds a smaller one appear. Each
append commits many records (collection groups requests), so the lock costs little.

Leases live in ``log_leases``: one row per leased partition, and one membership row per live
owner at a negative slot, so that an owner holding no partition yet still counts when the
others compute their fair share (without it, the first owner kept every partition forever).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from headwater.log.base import EventLog, LogEntry, LogRecord
from headwater.spec import Event, decode_message, encode_payload_bytes
from headwater.storage import Listener, begin, driver_connection, removed

__all__ = ["PostgresLog"]

_APPEND_LOCK = 7210002
_CLAIM_LOCK = 7210003
_CHANNEL = "headwater_log"

# One round trip: take the append lock (an InitPlan, evaluated before the first row gets its
# seq), insert, and notify listeners; the notification is delivered when the caller commits.
# The rows cross the wire as one JSON document, [[partition, workspace, source, payload], ...],
# built by joining encoded payloads: far cheaper in Python than parallel arrays, which asyncpg
# encodes element by element. PostgreSQL derives the indexed columns from each payload.
_APPEND = f"""
WITH appended AS (
    INSERT INTO events (partition, workspace_id, source_id, message_id, type, name, user_id,
                        anonymous_id, timestamp, received_at, payload)
    SELECT (r->>0)::smallint, (r->>1)::int, (r->>2)::int, d->>'messageId', d->>'type',
           CASE d->>'type' WHEN 'track' THEN d->>'event'
                           WHEN 'page' THEN nullif(d->>'name', '')
                           WHEN 'screen' THEN nullif(d->>'name', '') END,
           d->>'userId', d->>'anonymousId', (d->>'timestamp')::timestamptz,
           (d->>'receivedAt')::timestamptz, d
    FROM (SELECT r, r->3 AS d FROM jsonb_array_elements($1::text::jsonb) AS rows(r)) AS rows
    WHERE EXISTS (SELECT FROM pg_advisory_xact_lock({_APPEND_LOCK}))
    RETURNING 1
)
SELECT pg_notify('{_CHANNEL}', '') FROM (SELECT FROM appended LIMIT 1) AS any_row
"""

# From this many records on, an append is a binary COPY (the append lock taken first, the
# notification sent after, in the same transaction): PostgreSQL then parses no JSON document
# of the whole batch and extracts no column from it, which halves a large batch's time (file
# imports commit 20,000 records at once). The columns are the ones ``_APPEND`` derives, taken
# from each payload the same way.
_COPY_FROM = 1000
_COPY_COLUMNS = (
    "partition",
    "workspace_id",
    "source_id",
    "message_id",
    "type",
    "name",
    "user_id",
    "anonymous_id",
    "timestamp",
    "received_at",
    "payload",
)
_NAMED = {"track": "event", "page": "name", "screen": "name"}

# The committed offset of each partition, and whether an entry follows it: one index probe on
# events (partition, seq) per partition, in one round trip for all of a consumer's partitions.
_PENDING = """
SELECT p.partition, coalesce(o.committed, 0) AS committed
FROM unnest($2::smallint[]) AS p(partition)
LEFT JOIN log_offsets o ON o.consumer = $1 AND o.partition = p.partition
WHERE EXISTS (SELECT FROM events e
              WHERE e.partition = p.partition AND e.seq > coalesce(o.committed, 0))
"""

# A partition's entries after an offset, as one range of the (partition, seq) index, whatever
# the planner's costs. Written as ``partition = $1 AND seq > $2 ORDER BY seq``, it was planned
# (default random_page_cost) as a walk of the primary key filtering out every other
# partition's entries: 15 ms a batch of 2,000 against 1.4 ms. No equality on the partition, so
# only this index yields the order asked for.
_READ = """
SELECT seq, workspace_id, source_id, message_id, type, name, user_id, anonymous_id, timestamp,
       received_at, payload::text
FROM events WHERE (partition, seq) > ($1::smallint, $2::bigint) AND partition <= $1::smallint
ORDER BY partition, seq LIMIT $3
"""

# The reads by key (the API's and replays'), each one range or probe of an index of events:
# (seq), (workspace_id, message_id), (source_id, seq); a time range walks (seq) in order.
_COLUMNS = (
    "partition, seq, workspace_id, source_id, message_id, type, name, user_id, anonymous_id,"
    " timestamp, received_at, payload::text"
)
_ENTRIES = f"SELECT {_COLUMNS} FROM events WHERE seq = ANY($1::bigint[]) ORDER BY seq"
# A person's entries, by the primary key: the same statement on a plain or a partitioned table.
# The workspace is checked on the rows the offsets find (``+ 0`` keeps it out of the index
# conditions): left to the planner, it may read the whole workspace's entries of a day through
# ``events_workspace_message`` and intersect them with the offsets' probes, which costs as much
# as the workspace holds (19 ms a person at 100,000 entries) instead of one probe per offset.
_FORGET = "DELETE FROM events WHERE seq = ANY($2::bigint[]) AND workspace_id + 0 = $1"
_FIND = (
    f"SELECT {_COLUMNS} FROM events WHERE workspace_id = $1 AND message_id = $2"
    " ORDER BY seq LIMIT 1"
)
_NEWEST = (
    f"SELECT {_COLUMNS} FROM events WHERE source_id = $1"
    " AND ($3::bigint IS NULL OR seq < $3) ORDER BY seq DESC LIMIT $2"
)
_FOLLOWING = (
    f"SELECT {_COLUMNS} FROM events WHERE source_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
)
_RECEIVED = (
    f"SELECT {_COLUMNS} FROM events WHERE workspace_id = $1 AND received_at >= $2"
    " AND received_at < $3 AND seq > $4 AND ($5::integer[] IS NULL OR source_id = ANY($5))"
    " ORDER BY seq LIMIT $6"
)


def _columns(event: Event) -> tuple[Any, ...]:
    """(message_id, type, name, user_id, anonymous_id) of an event, as ``_APPEND`` derives
    them from its payload. An encoded payload is one no PII rule read (a file import's):
    the event's own fields, made from it, are the same."""
    payload = event.payload
    if not isinstance(payload, dict):
        return (event.message_id, event.type, event.name, event.user_id, event.anonymous_id)
    kind = payload["type"]
    field = _NAMED.get(kind)
    name = payload.get(field) if field else None
    if kind != "track" and name == "":
        name = None
    return (payload["messageId"], kind, name, payload.get("userId"), payload.get("anonymousId"))


def _milliseconds(value: datetime) -> datetime:
    """``value`` cut to the millisecond, as the payload writes it (and ``_APPEND`` reads it):
    ``value`` itself when it has no finer part (most timestamps), else a cached copy (every
    event of an append shares its ``received_at``)."""
    return _cut(value) if value.microsecond % 1000 else value


@functools.lru_cache(maxsize=1024)
def _cut(value: datetime) -> datetime:
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def _entry(row: asyncpg.Record) -> LogEntry:
    """An entry from a row of ``_COLUMNS``."""
    return LogEntry(
        partition=row[0],
        offset=row[1],
        workspace_id=row[2],
        source_id=row[3],
        message_id=row[4],
        type=row[5],
        name=row[6],
        user_id=row[7],
        anonymous_id=row[8],
        timestamp=row[9],
        received_at=row[10],
        message=decode_message(row[11]),
    )


class PostgresLog(EventLog):
    def __init__(self, engine: AsyncEngine, partitions: int) -> None:
        super().__init__(partitions)
        self._engine = engine
        self._appended = asyncio.Event()
        # A lost connection wakes the waiter too: it then fails (or resubscribes) at once.
        self._listener = Listener(engine, _CHANNEL, self._on_notify, on_lost=self._appended.set)

    async def append(
        self, records: Sequence[LogRecord], *, connection: AsyncConnection | None = None
    ) -> None:
        if not records:
            return
        if connection is None:
            async with self._engine.connect() as own:
                driver = await driver_connection(own)
                async with driver.transaction():
                    await self._append(driver, records)
        else:
            await self._append((await begin(connection)).driver, records)

    async def _append(self, driver: asyncpg.Connection, records: Sequence[LogRecord]) -> None:
        if len(records) >= _COPY_FROM:
            await self._copy(driver, records)
            return
        partition_of = self.partition_of
        rows = b",".join(
            b"[%d,%d,%d,%s]"
            % (
                partition_of(r.event.partition_key),
                r.workspace_id,
                r.source_id,
                encode_payload_bytes(r.event.payload),
            )
            for r in records
        )
        await driver.execute(_APPEND, (b"[%s]" % rows).decode())

    async def _copy(self, driver: asyncpg.Connection, records: Sequence[LogRecord]) -> None:
        partition_of = self.partition_of
        rows = [
            (
                partition_of(r.event.partition_key),
                r.workspace_id,
                r.source_id,
                *_columns(r.event),
                _milliseconds(r.event.timestamp),
                _milliseconds(r.event.received_at),
                encode_payload_bytes(r.event.payload).decode(),
            )
            for r in records
        ]
        await driver.execute(f"SELECT pg_advisory_xact_lock({_APPEND_LOCK})")
        await driver.copy_records_to_table("events", records=rows, columns=_COPY_COLUMNS)
        await driver.execute(f"SELECT pg_notify('{_CHANNEL}', '')")

    async def read(self, partition: int, *, after: int, limit: int) -> list[LogEntry]:
        # On the asyncpg connection, outside a transaction: one round trip, and no
        # SQLAlchemy row processing for what every consumer reads. The payload arrives as
        # text and is decoded once, straight into the typed message.
        async with self._engine.connect() as connection:
            driver = await driver_connection(connection)
            rows = await driver.fetch(_READ, partition, after, limit)
        return [
            LogEntry(
                partition=partition,
                offset=row[0],
                workspace_id=row[1],
                source_id=row[2],
                message_id=row[3],
                type=row[4],
                name=row[5],
                user_id=row[6],
                anonymous_id=row[7],
                timestamp=row[8],
                received_at=row[9],
                message=decode_message(row[10]),
            )
            for row in rows
        ]

    async def _fetch(
        self, query: str, *args: object, connection: AsyncConnection | None = None
    ) -> list[LogEntry]:
        if connection is not None:
            rows = await (await driver_connection(connection)).fetch(query, *args)
        else:
            async with self._engine.connect() as own:
                rows = await (await driver_connection(own)).fetch(query, *args)
        return [_entry(row) for row in rows]

    async def entries(
        self, offsets: Sequence[int], *, connection: AsyncConnection | None = None
    ) -> list[LogEntry]:
        if not offsets:
            return []
        return await self._fetch(_ENTRIES, list(offsets), connection=connection)

    async def forget(
        self,
        workspace_id: int,
        offsets: Sequence[int],
        *,
        connection: AsyncConnection | None = None,
    ) -> int:
        if not offsets:
            return 0
        wanted = sorted(set(offsets))
        if connection is not None:
            status = await (await begin(connection)).driver.execute(_FORGET, workspace_id, wanted)
        else:
            async with self._engine.begin() as own:
                status = await (await begin(own)).driver.execute(_FORGET, workspace_id, wanted)
        return removed(status)

    async def find(self, workspace_id: int, message_id: str) -> LogEntry | None:
        found = await self._fetch(_FIND, workspace_id, message_id)
        return found[0] if found else None

    async def newest(
        self, source_id: int, *, limit: int, before: int | None = None
    ) -> list[LogEntry]:
        return await self._fetch(_NEWEST, source_id, limit, before)

    async def following(self, source_id: int, *, after: int, limit: int) -> list[LogEntry]:
        return await self._fetch(_FOLLOWING, source_id, after, limit)

    async def received(
        self,
        workspace_id: int,
        *,
        since: datetime,
        until: datetime,
        after: int = 0,
        sources: Sequence[int] | None = None,
        limit: int,
        connection: AsyncConnection | None = None,
    ) -> list[LogEntry]:
        chosen = None if sources is None else list(sources)
        return await self._fetch(
            _RECEIVED, workspace_id, since, until, after, chosen, limit, connection=connection
        )

    async def committed(self, consumer: str, partition: int) -> int:
        async with self._engine.connect() as connection:
            value = await connection.scalar(
                text(
                    "SELECT committed FROM log_offsets"
                    " WHERE consumer = :consumer AND partition = :partition"
                ),
                {"consumer": consumer, "partition": partition},
            )
            return int(value or 0)

    async def pending(self, consumer: str, partitions: Sequence[int]) -> dict[int, int]:
        if not partitions:
            return {}
        async with self._engine.connect() as connection:
            driver = await driver_connection(connection)
            rows = await driver.fetch(_PENDING, consumer, list(partitions))
        return {row["partition"]: row["committed"] for row in rows}

    async def commit(
        self,
        consumer: str,
        partition: int,
        offset: int,
        *,
        connection: AsyncConnection | None = None,
    ) -> None:
        statement = text(
            "INSERT INTO log_offsets (consumer, partition, committed)"
            " VALUES (:consumer, :partition, :offset)"
            " ON CONFLICT (consumer, partition) DO UPDATE"
            " SET committed = GREATEST(log_offsets.committed, excluded.committed)"
        )
        params = {"consumer": consumer, "partition": partition, "offset": offset}
        if connection is not None:
            await connection.execute(statement, params)
            return
        async with self._engine.begin() as own:
            await own.execute(statement, params)

    async def claim(self, consumer: str, owner: str, *, ttl_seconds: float) -> list[int]:
        params = {"consumer": consumer, "owner": owner, "ttl": ttl_seconds}
        async with self._engine.begin() as connection:
            await connection.exec_driver_sql(
                "SELECT pg_advisory_xact_lock($1, hashtext($2))", (_CLAIM_LOCK, consumer)
            )
            await self._join(connection, params)
            owners = list(
                await connection.scalars(
                    text(
                        "SELECT DISTINCT owner FROM log_leases WHERE consumer = :consumer"
                        " AND expires_at > now() ORDER BY owner"
                    ),
                    params,
                )
            )
            # Shares add up to the partition count: the first owners (by name) take one more.
            extra = 1 if owners.index(owner) < self.partitions % len(owners) else 0
            share = self.partitions // len(owners) + extra
            held = list(
                await connection.scalars(
                    text(
                        "UPDATE log_leases SET expires_at = now() + make_interval(secs => :ttl)"
                        " WHERE consumer = :consumer AND owner = :owner AND partition >= 0"
                        " RETURNING partition"
                    ),
                    params,
                )
            )
            held.sort()
            if len(held) > share:
                await connection.execute(
                    text(
                        "DELETE FROM log_leases WHERE consumer = :consumer AND owner = :owner"
                        " AND partition = ANY(:extra)"
                    ),
                    {**params, "extra": held[share:]},
                )
                return held[:share]
            if len(held) == share:
                return held
            taken = await connection.scalars(
                text(
                    "INSERT INTO log_leases (consumer, partition, owner, expires_at)"
                    " SELECT :consumer, p, :owner, now() + make_interval(secs => :ttl)"
                    " FROM generate_series(0, :last) AS p"
                    " WHERE NOT EXISTS (SELECT 1 FROM log_leases l WHERE l.consumer = :consumer"
                    "   AND l.partition = p AND l.expires_at > now())"
                    " ORDER BY p LIMIT :wanted"
                    " ON CONFLICT (consumer, partition) DO UPDATE"
                    " SET owner = excluded.owner, expires_at = excluded.expires_at"
                    " RETURNING partition"
                ),
                {**params, "last": self.partitions - 1, "wanted": share - len(held)},
            )
            return sorted([*held, *taken])

    async def _join(self, connection: AsyncConnection, params: dict[str, Any]) -> None:
        """Renew ``owner``'s membership row, or take a free negative slot for it."""
        renewed = await connection.execute(
            text(
                "UPDATE log_leases SET expires_at = now() + make_interval(secs => :ttl)"
                " WHERE consumer = :consumer AND owner = :owner AND partition < 0"
            ),
            params,
        )
        if renewed.rowcount:
            return
        await connection.execute(
            text(
                "INSERT INTO log_leases (consumer, partition, owner, expires_at)"
                " SELECT :consumer, s, :owner, now() + make_interval(secs => :ttl)"
                " FROM generate_series(-1, -32768, -1) AS s"
                " WHERE NOT EXISTS (SELECT 1 FROM log_leases l WHERE l.consumer = :consumer"
                "   AND l.partition = s AND l.expires_at > now())"
                " LIMIT 1"
                " ON CONFLICT (consumer, partition) DO UPDATE"
                " SET owner = excluded.owner, expires_at = excluded.expires_at"
            ),
            params,
        )

    async def release(self, consumer: str, owner: str) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(
                text("DELETE FROM log_leases WHERE consumer = :consumer AND owner = :owner"),
                {"consumer": consumer, "owner": owner},
            )

    async def set_aside(self, entry: LogEntry, *, consumer: str, stage: str, reason: str) -> None:
        """Nothing more: the failures table is this log's dead letters."""

    async def wait(self, seconds: float) -> None:
        # Subscribed again (the database restarted): what was appended meanwhile went
        # unnoticed, so return at once for the consumer to read.
        if await self._listener.ensure():
            return
        try:
            await asyncio.wait_for(self._appended.wait(), seconds)
        except TimeoutError:
            return
        finally:
            self._appended.clear()

    def _on_notify(self, *_: object) -> None:
        self._appended.set()

    async def close(self) -> None:
        await self._listener.close()
