"""The event log in memory: the same contract as :class:`~headwater.log.PostgresLog`, for tests
and for a processor run without a log server (its stages still need PostgreSQL for their own
tables).

Several :class:`MemoryLog` objects on one :class:`MemoryStorage` behave like several processes
on one log server: they see each other's appends, offsets and leases, and an append wakes
every object's :meth:`~MemoryLog.wait`. Nothing survives the process.

>>> storage = MemoryStorage()
>>> log = MemoryLog(4, storage=storage)
>>> await log.append([record])
>>> await MemoryLog(4, storage=storage).read(log.partition_of("user-1"), after=0, limit=10)
[LogEntry(partition=..., offset=1, ...)]

An append or a commit given a caller's ``connection`` takes effect when that connection's
transaction commits, and not at all when it rolls back, as the PostgreSQL log's does (within
the process only: the memory log is no participant of the database's transaction, so a crash
between the two commits may lose one side).
"""

from __future__ import annotations

import asyncio
import bisect
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, event
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater.log.base import EventLog, LogEntry, LogRecord
from headwater.spec import Message, decode_message, encode_payload_bytes

__all__ = ["MemoryLog", "MemoryStorage"]

_NAMED = {"track": False, "page": True, "screen": True}
"""Types whose entries carry a name, and whether an empty name counts as none."""


@dataclass
class _Lease:
    owner: str
    expires: float


@dataclass
class MemoryStorage:
    """What the log objects of one process share: the entries, offsets, leases and waiters."""

    entries: dict[int, LogEntry] = field(default_factory=dict)
    """By offset, in offset (append) order."""
    partitions: dict[int, list[LogEntry]] = field(default_factory=dict)
    first: dict[tuple[int, str], LogEntry] = field(default_factory=dict)
    """The first entry of each ``(workspace_id, message_id)``."""
    committed: dict[tuple[str, int], int] = field(default_factory=dict)
    leases: dict[tuple[str, int], _Lease] = field(default_factory=dict)
    members: dict[tuple[str, str], float] = field(default_factory=dict)
    """``(consumer, owner)`` -> expiry: owners holding no partition yet still count."""
    waiters: weakref.WeakSet[asyncio.Event] = field(default_factory=weakref.WeakSet)
    last_offset: int = 0


class MemoryLog(EventLog):
    """The log in this process's memory. A partition's reads are a binary search; the reads by
    source and time range scan every entry (tests, small runs)."""

    def __init__(self, partitions: int, *, storage: MemoryStorage | None = None) -> None:
        super().__init__(partitions)
        self.storage = MemoryStorage() if storage is None else storage
        self._appended = asyncio.Event()
        self.storage.waiters.add(self._appended)

    async def append(
        self, records: Sequence[LogRecord], *, connection: AsyncConnection | None = None
    ) -> None:
        if not records:
            return
        # Encoded and decoded as the database does, so that readers get what they would get
        # there (JSON values), and no entry shares a mutable payload with its record.
        messages = [decode_message(encode_payload_bytes(r.event.payload)) for r in records]
        _on_commit(connection, lambda: self._append(records, messages))

    def _append(self, records: Sequence[LogRecord], messages: list[Message]) -> None:
        storage = self.storage
        for record, message in zip(records, messages, strict=True):
            storage.last_offset += 1
            partition = self.partition_of(record.event.partition_key)
            entry = _entry(partition, storage.last_offset, record, message)
            storage.entries[entry.offset] = entry
            storage.partitions.setdefault(entry.partition, []).append(entry)
            storage.first.setdefault((entry.workspace_id, entry.message_id), entry)
        for waiter in storage.waiters:
            waiter.set()

    async def read(self, partition: int, *, after: int, limit: int) -> list[LogEntry]:
        entries = self.storage.partitions.get(partition, [])
        start = bisect.bisect_right(entries, after, key=_offset)
        return entries[start : start + limit]

    async def entries(
        self, offsets: Sequence[int], *, connection: AsyncConnection | None = None
    ) -> list[LogEntry]:
        stored = self.storage.entries
        return [stored[offset] for offset in sorted(set(offsets)) if offset in stored]

    async def forget(
        self,
        workspace_id: int,
        offsets: Sequence[int],
        *,
        connection: AsyncConnection | None = None,
    ) -> int:
        stored = self.storage.entries
        gone = {
            offset
            for offset in offsets
            if offset in stored and stored[offset].workspace_id == workspace_id
        }
        if gone:
            _on_commit(connection, lambda: self._forget(gone))
        return len(gone)

    def _forget(self, gone: set[int]) -> None:
        storage = self.storage
        for offset in gone:
            entry = storage.entries.pop(offset, None)
            if entry is None:
                continue
            storage.partitions[entry.partition].remove(entry)
            key = (entry.workspace_id, entry.message_id)
            if storage.first.get(key) is entry:
                del storage.first[key]
                later = [
                    e for e in storage.entries.values() if (e.workspace_id, e.message_id) == key
                ]
                if later:
                    storage.first[key] = later[0]

    async def find(self, workspace_id: int, message_id: str) -> LogEntry | None:
        return self.storage.first.get((workspace_id, message_id))

    async def newest(
        self, source_id: int, *, limit: int, before: int | None = None
    ) -> list[LogEntry]:
        found = [
            e
            for e in reversed(self.storage.entries.values())
            if e.source_id == source_id and (before is None or e.offset < before)
        ]
        return found[:limit]

    async def following(self, source_id: int, *, after: int, limit: int) -> list[LogEntry]:
        found = [
            e
            for e in self.storage.entries.values()
            if e.source_id == source_id and e.offset > after
        ]
        return found[:limit]

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
        found = [
            e
            for e in self.storage.entries.values()
            if e.workspace_id == workspace_id
            and since <= e.received_at < until
            and e.offset > after
            and (sources is None or e.source_id in sources)
        ]
        return found[:limit]

    async def committed(self, consumer: str, partition: int) -> int:
        return self.storage.committed.get((consumer, partition), 0)

    async def commit(
        self,
        consumer: str,
        partition: int,
        offset: int,
        *,
        connection: AsyncConnection | None = None,
    ) -> None:
        def commit() -> None:
            key = (consumer, partition)
            self.storage.committed[key] = max(self.storage.committed.get(key, 0), offset)

        _on_commit(connection, commit)

    async def claim(self, consumer: str, owner: str, *, ttl_seconds: float) -> list[int]:
        # The PostgreSQL log's algorithm, on dictionaries (see its claim).
        storage, now = self.storage, time.monotonic()
        expires = now + ttl_seconds
        storage.members[consumer, owner] = expires
        owners = sorted(
            {o for (c, o), until in storage.members.items() if c == consumer and until > now}
            | {
                lease.owner
                for (c, _), lease in storage.leases.items()
                if c == consumer and lease.expires > now
            }
        )
        extra = 1 if owners.index(owner) < self.partitions % len(owners) else 0
        share = self.partitions // len(owners) + extra
        held = sorted(
            p for (c, p), lease in storage.leases.items() if c == consumer and lease.owner == owner
        )
        for partition in held:
            storage.leases[consumer, partition].expires = expires
        if len(held) > share:
            for partition in held[share:]:
                del storage.leases[consumer, partition]
            return held[:share]
        free = [
            p
            for p in range(self.partitions)
            if (lease := storage.leases.get((consumer, p))) is None or lease.expires <= now
        ]
        for partition in free[: share - len(held)]:
            storage.leases[consumer, partition] = _Lease(owner, expires)
            held.append(partition)
        return sorted(held)

    async def release(self, consumer: str, owner: str) -> None:
        storage = self.storage
        storage.members.pop((consumer, owner), None)
        for key in [k for k, lease in storage.leases.items() if k[0] == consumer]:
            if storage.leases[key].owner == owner:
                del storage.leases[key]

    async def set_aside(self, entry: LogEntry, *, consumer: str, stage: str, reason: str) -> None:
        """Nothing more: the failures table is this log's dead letters."""

    async def wait(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._appended.wait(), seconds)
        except TimeoutError:
            return
        finally:
            self._appended.clear()

    async def close(self) -> None:
        self.storage.waiters.discard(self._appended)


def _offset(entry: LogEntry) -> int:
    return entry.offset


def _entry(partition: int, offset: int, record: LogRecord, message: Message) -> LogEntry:
    event_ = record.event
    name = None
    if event_.type in _NAMED:
        name = (event_.name or None) if _NAMED[event_.type] else event_.name
    return LogEntry(
        partition=partition,
        offset=offset,
        workspace_id=record.workspace_id,
        source_id=record.source_id,
        message_id=event_.message_id,
        type=event_.type,
        name=name,
        user_id=event_.user_id,
        anonymous_id=event_.anonymous_id,
        timestamp=event_.timestamp,
        received_at=event_.received_at,
        message=message,
    )


_pending: weakref.WeakKeyDictionary[Connection, list[Callable[[], None]]] = (
    weakref.WeakKeyDictionary()
)
"""Effects waiting for their connection's transaction to commit. A connection's listeners
stay for its life (SQLAlchemy does not allow removing one while it runs)."""


def _on_commit(connection: AsyncConnection | None, effect: Callable[[], None]) -> None:
    """Apply ``effect`` now, or when ``connection``'s transaction commits (never if it rolls
    back)."""
    if connection is None:
        effect()
        return
    sync = connection.sync_connection
    if sync is None:
        raise RuntimeError("the connection is closed")
    if sync not in _pending:
        _pending[sync] = []
        event.listen(sync, "commit", _committed)
        event.listen(sync, "rollback", _rolled_back)
    _pending[sync].append(effect)


def _committed(connection: Connection) -> None:
    effects, _pending[connection] = _pending[connection], []
    for effect in effects:
        effect()


def _rolled_back(connection: Connection) -> None:
    _pending[connection] = []
