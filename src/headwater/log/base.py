"""The event log: the one interface between collection and every later stage.

Records are appended in batches and read back per partition, in offset order. The partition
comes from the user's ids (:attr:`~headwater.spec.Event.partition_key`), so one person's events
are read in the order they were appended. Consumers commit offsets durably; after a crash, a
consumer resumes after its last committed offset, so delivery is at-least-once and consumers
must be idempotent (the ``messageId`` is the key).

Several processes consume together through leases: :meth:`EventLog.claim` hands each live
owner a fair share of the partitions; a crashed owner's leases expire and move to the others.

Implementations: :class:`~headwater.log.postgres.PostgresLog` (default). A NATS JetStream
implementation maps partitions to subjects and consumer offsets to durable consumers.
"""

from __future__ import annotations

import abc
import zlib
from collections.abc import Sequence
from datetime import datetime

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater.spec import Event, Message

__all__ = ["EventLog", "LogEntry", "LogRecord"]


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
    async def wait(self, seconds: float) -> None:
        """Return when something may have been appended, or after ``seconds``; raise when
        the log cannot be reached (the caller retries later, and reads before waiting again:
        what was appended meanwhile may have gone unnoticed)."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release connections and listeners."""
