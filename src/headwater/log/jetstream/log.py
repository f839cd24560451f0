"""The event log on NATS JetStream: the log for a scale-out deployment.

JetStream holds the entries and orders them: an append is published to the partition's subject
with ``Nats-Msg-Id`` (the workspace and the ``messageId``) and returns only once JetStream has
acknowledged every message (stored on a quorum of the stream's replicas), so the tracking API
answers 200 only after that. Consumers read a partition from JetStream from their committed
offset on, each entry only once its index row has committed (:meth:`JetStreamLog.read`); the
offset is the stream sequence.

PostgreSQL keeps what JetStream cannot answer (see :mod:`~headwater.log.jetstream.index`): the
index of entries for the reads by key, the consumers' committed offsets and the partition
leases. Offsets commit inside the consumer's transaction (:meth:`commit` with ``connection``),
atomically with the effects, as on the PostgreSQL log; leases keep one owner per partition.
Both are the PostgreSQL log's own statements, on the same tables.

What differs from the PostgreSQL log, by design:

- An append is not part of the caller's transaction: JetStream has the entries once
  :meth:`append` returns, even if the caller's transaction then rolls back. Only the index
  rows roll back. Collection answers such a request 503; the SDK's retry is dropped by JetStream
  inside the duplicate window (its acknowledgement names the first sequence, which is then
  indexed) and by collection's dedup keys beyond it.
- :meth:`forget` removes the index rows in the caller's transaction and the JetStream messages
  at once (JetStream has no transaction): an erasure that rolls back leaves the index rows,
  and is retried by the regulation job until it commits.
- The index rows of concurrent appenders commit in any order, so a reader by source
  (:meth:`following`) may see offset N before a smaller one; the consumers' reads
  (:meth:`read`), from JetStream, see offsets in order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from nats.aio.client import Client
from nats.aio.msg import Msg
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from headwater.log.base import EventLog, LogEntry, LogRecord
from headwater.log.jetstream import codec, index
from headwater.log.jetstream.stream import (
    LogUnavailable,
    Stored,
    Stream,
    StreamOptions,
    unavailable,
)
from headwater.log.postgres import PostgresLog
from headwater.storage import begin, driver_connection

__all__ = ["JetStreamLog"]

_REASON_CHARS = 1000
"""A dead-letter copy's reason header at most (the failures table keeps the whole reason)."""

_LOOK_PAST = 100
"""How far :meth:`JetStreamLog.pending` reads past an unindexed entry at a partition's head."""


class JetStreamLog(EventLog):
    """The log on the JetStream servers at ``urls``, its index and offsets in ``engine``'s
    database. It connects on first use; one connection per object."""

    def __init__(
        self,
        engine: AsyncEngine,
        partitions: int,
        *,
        urls: Sequence[str],
        options: StreamOptions | None = None,
    ) -> None:
        super().__init__(partitions)
        self._engine = engine
        self._urls = list(urls)
        self._options = options or StreamOptions()
        self._postgres = PostgresLog(engine, partitions)
        self._stream: Stream | None = None
        self._connecting = asyncio.Lock()
        self._appended = asyncio.Event()

    @property
    def options(self) -> StreamOptions:
        """The stream's name and how it is made."""
        return self._options

    async def _connected(self) -> Stream:
        if self._stream is not None:
            return self._stream
        async with self._connecting:
            if self._stream is None:
                with unavailable():
                    self._stream = await self._connect()
        return self._stream

    async def _connect(self) -> Stream:
        client = Client()
        try:
            # The client retries servers for ever (reconnects must outlive any outage), so a
            # first connection that cannot be made is given up here.
            await asyncio.wait_for(
                client.connect(
                    servers=self._urls,
                    name="headwater",
                    max_reconnect_attempts=-1,
                    reconnected_cb=self._woken,
                ),
                self._options.request_timeout_seconds,
            )
        except TimeoutError:
            await client.close()
            raise LogUnavailable(f"no NATS server answered at {', '.join(self._urls)}") from None
        stream = Stream(client, self._options)
        try:
            async with self._engine.connect() as connection:
                first = await index.first_sequence(await driver_connection(connection))
            await stream.ensure(first_sequence=first)
            await client.subscribe(stream.appended, cb=self._on_appended)
        except BaseException:
            await client.close()  # the next use connects afresh
            raise
        return stream

    async def append(
        self, records: Sequence[LogRecord], *, connection: AsyncConnection | None = None
    ) -> None:
        if not records:
            return
        stream = await self._connected()
        partitions = [self.partition_of(r.event.partition_key) for r in records]
        bodies = [codec.encode(r) for r in records]
        with unavailable():
            rows = await self._publish(stream, partitions, bodies, records)
        if connection is None:
            async with self._engine.connect() as own:
                driver = await driver_connection(own)
                async with driver.transaction():
                    await index.insert(driver, rows)
        else:
            await index.insert((await begin(connection)).driver, rows)
        with unavailable():
            await stream.client.publish(stream.appended, b"")

    async def _publish(
        self,
        stream: Stream,
        partitions: Sequence[int],
        bodies: Sequence[bytes],
        records: Sequence[LogRecord],
    ) -> list[bytes]:
        """Publish every body, wait for every acknowledgement; the index rows to write."""
        publish = stream.jetstream.publish_async
        pending = [
            await publish(
                stream.subject(partition),
                body,
                headers={"Nats-Msg-Id": f"{record.workspace_id}:{record.event.message_id}"},
            )
            for partition, body, record in zip(partitions, bodies, records, strict=True)
        ]
        # An acknowledgement lost with a server that died never comes, and the client does not
        # time the future out: without this bound the append (and every request waiting on
        # its group commit) would wait for ever.
        try:
            async with asyncio.timeout(self._options.request_timeout_seconds):
                acks = await asyncio.gather(*pending)
        except TimeoutError:
            for future in pending:
                future.cancel()
            raise LogUnavailable("JetStream did not acknowledge the append in time") from None
        rows = []
        for partition, body, ack in zip(partitions, bodies, acks, strict=True):
            if ack.duplicate:
                # The stream kept an earlier attempt's message: index that one, as stored.
                body = await stream.message(ack.seq) or body
            workspace_id, source_id, payload = codec.payload_of(body)
            rows.append(
                index.row(
                    ack.seq,
                    partition,
                    workspace_id,
                    source_id,
                    payload,
                    duplicate=bool(ack.duplicate),
                )
            )
        return rows

    async def read(self, partition: int, *, after: int, limit: int) -> list[LogEntry]:
        """The partition's entries after ``after`` that are in the index, up to the first one
        that is not yet (see :meth:`_indexed_prefix`)."""
        stream = await self._connected()
        with unavailable():
            found = await stream.read(partition, after=after, limit=limit)
        kept = await self._indexed_prefix(stream, found)
        return [codec.decode(m.body, partition=partition, offset=m.sequence) for m in kept]

    async def _indexed_prefix(self, stream: Stream, found: Sequence[Stored]) -> list[Stored]:
        """``found`` (a partition's messages in order) as far as a consumer may take it.

        JetStream has an entry before its index row commits (in the appender's transaction,
        after the acknowledgement), and a node killed in between leaves it unindexed until
        the client's retry, inside the duplicate window, indexes it under the same offset.
        A consumer must not process it before: the stages read processed events back from
        the index (a late event's identity rebuild reads its component's stored events) and
        would leave it out. So the entries are taken up to the first unindexed one still
        inside the duplicate window (the consumer reads it again later); an unindexed one
        older than the window is skipped: it was never acknowledged, and a retry now would
        be stored as a new entry (or it was erased)."""
        if not found:
            return []
        async with self._engine.connect() as connection:
            driver = await driver_connection(connection)
            indexed = await index.indexed(driver, [m.sequence for m in found])
        horizon = datetime.now(UTC) - timedelta(
            seconds=stream.duplicate_window_seconds + self._options.request_timeout_seconds
        )
        kept = []
        for message in found:
            if message.sequence in indexed:
                kept.append(message)
            elif message.stored_at > horizon:
                break
        return kept

    async def entries(
        self, offsets: Sequence[int], *, connection: AsyncConnection | None = None
    ) -> list[LogEntry]:
        return await self._postgres.entries(offsets, connection=connection)

    async def find(self, workspace_id: int, message_id: str) -> LogEntry | None:
        return await self._postgres.find(workspace_id, message_id)

    async def newest(
        self, source_id: int, *, limit: int, before: int | None = None
    ) -> list[LogEntry]:
        return await self._postgres.newest(source_id, limit=limit, before=before)

    async def following(self, source_id: int, *, after: int, limit: int) -> list[LogEntry]:
        return await self._postgres.following(source_id, after=after, limit=limit)

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
        return await self._postgres.received(
            workspace_id,
            since=since,
            until=until,
            after=after,
            sources=sources,
            limit=limit,
            connection=connection,
        )

    async def forget(
        self,
        workspace_id: int,
        offsets: Sequence[int],
        *,
        connection: AsyncConnection | None = None,
    ) -> int:
        if not offsets:
            return 0
        if connection is not None:
            gone = await index.remove((await begin(connection)).driver, workspace_id, offsets)
        else:
            async with self._engine.begin() as own:
                gone = await index.remove((await begin(own)).driver, workspace_id, offsets)
        if gone:
            stream = await self._connected()
            with unavailable():
                for offset in gone:
                    await stream.delete(offset)
                await stream.forget_dead(set(gone))
        return len(gone)

    async def set_aside(self, entry: LogEntry, *, consumer: str, stage: str, reason: str) -> None:
        stream = await self._connected()
        headers = {
            "Headwater-Consumer": consumer,
            "Headwater-Stage": stage,
            "Headwater-Reason": " ".join(reason.split())[:_REASON_CHARS],
            "Headwater-Workspace": str(entry.workspace_id),
            "Headwater-Message-Id": entry.message_id,
            "Headwater-Offset": str(entry.offset),
        }
        with unavailable():
            body = await stream.message(entry.offset)
            await stream.set_aside(entry.partition, entry.offset, body or b"", headers)

    async def committed(self, consumer: str, partition: int) -> int:
        return await self._postgres.committed(consumer, partition)

    async def pending(self, consumer: str, partitions: Sequence[int]) -> dict[int, int]:
        # The offsets in one query, then every partition's next entry asked of JetStream at
        # once: an idle round costs two round trips, whatever the partition count.
        if not partitions:
            return {}
        async with self._engine.connect() as connection:
            driver = await driver_connection(connection)
            offsets = await index.committed(driver, consumer, partitions)
        stream = await self._connected()
        with unavailable():
            heads = await asyncio.gather(
                *(stream.read(p, after=offsets[p], limit=1) for p in partitions)
            )
        first = {p: head[0] for p, head in zip(partitions, heads, strict=True) if head}
        if not first:
            return {}
        async with self._engine.connect() as connection:
            driver = await driver_connection(connection)
            indexed = await index.indexed(driver, [m.sequence for m in first.values()])
        waiting = {p: offsets[p] for p, m in first.items() if m.sequence in indexed}
        for partition in first.keys() - waiting.keys():
            # Not indexed: pending if the consumer may take anything now (rare: it reads).
            if await self.read(partition, after=offsets[partition], limit=_LOOK_PAST):
                waiting[partition] = offsets[partition]
        return waiting

    async def commit(
        self,
        consumer: str,
        partition: int,
        offset: int,
        *,
        connection: AsyncConnection | None = None,
    ) -> None:
        await self._postgres.commit(consumer, partition, offset, connection=connection)

    async def claim(self, consumer: str, owner: str, *, ttl_seconds: float) -> list[int]:
        return await self._postgres.claim(consumer, owner, ttl_seconds=ttl_seconds)

    async def release(self, consumer: str, owner: str) -> None:
        await self._postgres.release(consumer, owner)

    async def wait(self, seconds: float) -> None:
        stream = await self._connected()
        if not stream.client.is_connected:
            raise LogUnavailable("not connected to any NATS server")
        try:
            await asyncio.wait_for(self._appended.wait(), seconds)
        except TimeoutError:
            return
        finally:
            self._appended.clear()

    async def reachable(self) -> bool:
        """Whether a NATS server answers and the stream has a leader and a quorum of current
        replicas: whether an append would be acknowledged (during a leader election, or with
        a majority of the stream's servers away, it would not)."""
        try:
            stream = await self._connected()
            if not stream.client.is_connected:
                return False
            with unavailable():
                return await stream.writable()
        except LogUnavailable:
            return False

    async def _on_appended(self, _: Msg) -> None:
        self._appended.set()

    async def _woken(self) -> None:
        # Reconnected: appends told meanwhile went unheard, so readers should look now.
        self._appended.set()

    async def close(self) -> None:
        await self._postgres.close()
        if self._stream is not None:
            await self._stream.client.drain()
            self._stream = None
