"""The event log: the one interface between collection and every later stage.

Records are appended in batches and read back per partition, in offset order. The partition
comes from the user's ids (:attr:`~headwater.spec.Event.partition_key`), so one person's events
are read in the order they were appended. Consumers commit offsets durably; after a crash, a
consumer resumes after its last committed offset, so delivery is at-least-once and consumers
must be idempotent (the ``messageId`` is the key).

Several processes consume together through leases: :meth:`EventLog.claim` hands each live
owner a fair share of the partitions; a crashed owner's leases expire and move to the others.

An offset names one entry of the whole log: offsets are unique across partitions and grow in
append order, so an offset is also a cursor over a source's or a workspace's entries.

Besides the consumers' reads (:meth:`EventLog.read`), the log answers the reads of the API and
of replays by key: entries by offset, an event by ``messageId``, a source's newest entries, a
workspace's entries received in a time range. They return entries as appended; the form the
tracking plans left (changed or blocked payloads) belongs to the protocols capability: a
reader that wants it is handed that capability's :data:`Amend` function
(:func:`headwater.protocols.governed`) by its entry point, capabilities importing no other.

Implementations: :class:`~headwater.log.postgres.PostgresLog` (default),
:class:`~headwater.log.memory.MemoryLog` (tests, a processor without a log server) and
:class:`~headwater.log.jetstream.JetStreamLog` (scale-out: entries in NATS JetStream, one
subject per partition, the stream sequence as offset; its index, offsets and leases in
PostgreSQL).
"""

from __future__ import annotations

import abc
import zlib
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater.spec import Event, Message
from headwater.storage import Transaction

__all__ = ["Amend", "EventLog", "LogEntry", "LogRecord"]


class LogRecord(msgspec.Struct, frozen=True, kw_only=True):
    """What collection appends: an accepted event and where it came from."""

    workspace_id: int
    source_id: int
    event: Event


class LogEntry(msgspec.Struct, frozen=True, kw_only=True):
    """What consumers read: a record with its partition and offset, and its message decoded.

    The other fields are the log's indexed columns (derived from the message when appended):
    ``timestamp`` and ``received_at`` parsed, ``name`` the track event or page or screen name.
    """

    partition: int
    offset: int
    workspace_id: int
    source_id: int
    message_id: str
    type: str
    name: str | None
    user_id: str | None
    anonymous_id: str | None
    timestamp: datetime
    received_at: datetime
    message: Message


Amend = Callable[[Transaction, Sequence["LogEntry"]], Awaitable[list["LogEntry"]]]
"""Entries as a later stage left them, in their order, read on the capabilities' database:
the tracking plans' governed form (:func:`headwater.protocols.governed`) replaces changed
payloads and leaves blocked entries out."""


class EventLog(abc.ABC):
    """Append-only, partitioned, with durable consumer offsets and partition leases."""

    def __init__(self, partitions: int) -> None:
        if partitions < 1:
            raise ValueError("an event log needs at least one partition")
        self.partitions = partitions

    def partition_of(self, key: str) -> int:
        """The partition of a partition key; stable across processes and restarts."""
        return zlib.crc32(key.encode()) % self.partitions

    @abc.abstractmethod
    async def append(
        self, records: Sequence[LogRecord], *, connection: AsyncConnection | None = None
    ) -> None:
        """Append ``records`` durably, in order.

        With ``connection``, an implementation that lives in the same database appends inside
        that transaction, so the append commits or rolls back with the caller's other writes.
        """

    @abc.abstractmethod
    async def read(self, partition: int, *, after: int, limit: int) -> list[LogEntry]:
        """Entries of ``partition`` with offsets greater than ``after``, oldest first."""

    @abc.abstractmethod
    async def entries(
        self, offsets: Sequence[int], *, connection: AsyncConnection | None = None
    ) -> list[LogEntry]:
        """The entries at ``offsets`` (those that exist), oldest first, each once.

        With ``connection`` (the caller's, on the capabilities' database), an implementation
        living in that database reads on it: no second connection, the caller's snapshot."""

    @abc.abstractmethod
    async def find(self, workspace_id: int, message_id: str) -> LogEntry | None:
        """The first entry (lowest offset) with ``message_id`` in ``workspace_id``, or None."""

    @abc.abstractmethod
    async def newest(
        self, source_id: int, *, limit: int, before: int | None = None
    ) -> list[LogEntry]:
        """``source_id``'s last ``limit`` entries, newest first; with ``before``, only those
        with smaller offsets (the next page)."""

    @abc.abstractmethod
    async def following(self, source_id: int, *, after: int, limit: int) -> list[LogEntry]:
        """``source_id``'s first ``limit`` entries with offsets greater than ``after``, oldest
        first (a live feed)."""

    @abc.abstractmethod
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
        """``workspace_id``'s entries received in ``[since, until)`` (``received_at``), of
        ``sources`` (every source when None), with offsets greater than ``after``, oldest
        first, at most ``limit``: page by passing the last offset as ``after``.
        ``connection`` as for :meth:`entries`."""

    @abc.abstractmethod
    async def forget(
        self,
        workspace_id: int,
        offsets: Sequence[int],
        *,
        connection: AsyncConnection | None = None,
    ) -> int:
        """Remove ``workspace_id``'s entries at ``offsets`` (a person erased: the only removal
        from an append-only log); return how many there were. Offsets of other workspaces, or
        of no entry, remove nothing, so a second call removes nothing.

        With ``connection``, an implementation in the same database removes them inside that
        transaction (they go only if it commits). Consumers never go back, so an entry removed
        behind a consumer's offset changes nothing it did; one ahead of it is never read."""

    @abc.abstractmethod
    async def committed(self, consumer: str, partition: int) -> int:
        """The last offset ``consumer`` committed on ``partition`` (0 when none)."""

    async def pending(self, consumer: str, partitions: Sequence[int]) -> dict[int, int]:
        """Of ``partitions``, those holding entries after ``consumer``'s committed offset, each
        with that offset (read now, as :meth:`committed` would). An implementation answers in
        one round trip where it can: an idle consumer asks this, not each partition."""
        found: dict[int, int] = {}
        for partition in partitions:
            after = await self.committed(consumer, partition)
            if await self.read(partition, after=after, limit=1):
                found[partition] = after
        return found

    @abc.abstractmethod
    async def commit(
        self,
        consumer: str,
        partition: int,
        offset: int,
        *,
        connection: AsyncConnection | None = None,
    ) -> None:
        """Record that ``consumer`` processed ``partition`` up to ``offset``; never goes back.

        With ``connection``, an implementation in the same database commits the offset inside
        that transaction, atomically with the consumer's effects.
        """

    @abc.abstractmethod
    async def claim(self, consumer: str, owner: str, *, ttl_seconds: float) -> list[int]:
        """Renew ``owner``'s leases and take its fair share of free partitions; return them."""

    @abc.abstractmethod
    async def release(self, consumer: str, owner: str) -> None:
        """Give up ``owner``'s leases so that other owners take them at once."""

    @abc.abstractmethod
    async def set_aside(self, entry: LogEntry, *, consumer: str, stage: str, reason: str) -> None:
        """``consumer`` set ``entry`` aside: it failed alone in ``stage`` for ``reason``. The
        processor records that in PostgreSQL (``headwater.pipeline.failures``, where the API
        lists and replays it), in the transaction that commits the offset past the entry, and
        calls this in that transaction too. A log whose server has dead-letter subjects copies
        the entry there; a log in PostgreSQL (or in memory) does nothing more, the failures
        table being its dead letters. Raises ``ConnectionError`` when the log's server is
        away (the batch is then retried)."""

    @abc.abstractmethod
    async def wait(self, seconds: float) -> None:
        """Return when something may have been appended, or after ``seconds``; raise when
        the log cannot be reached (the caller retries later, and reads before waiting again:
        what was appended meanwhile may have gone unnoticed)."""

    async def reachable(self) -> bool:
        """Whether the log's own servers answer now (readiness). A log kept in the
        capabilities' database has none of its own: it answers when the database does."""
        return True

    @abc.abstractmethod
    async def close(self) -> None:
        """Release connections and listeners."""
