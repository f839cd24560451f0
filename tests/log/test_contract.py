"""The event log contract: what every implementation of :class:`EventLog` must do.

Only the interface is used here, so the suite runs unchanged against each implementation
(see ``conftest.py``).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from headwater.log import EventLog, LogEntry, LogRecord
from headwater.spec import Envelope, Event, format_timestamp, message_builtins, normalise
from tests.log.conftest import PARTITIONS, LogKit

_BASE_TIME = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def make_event(
    message_id: str,
    *,
    user_id: str | None = "user-1",
    anonymous_id: str | None = None,
    name: str = "Order Completed",
    properties: dict[str, Any] | None = None,
) -> Event:
    """A track event as normalisation makes it: the payload is the full normalised message."""
    received_at = _BASE_TIME + timedelta(seconds=1)
    payload: dict[str, Any] = {
        "type": "track",
        "event": name,
        "messageId": message_id,
        "userId": user_id,
        "anonymousId": anonymous_id,
        "properties": properties or {},
        "context": {"library": {"name": "contract-suite", "version": "1"}},
        "integrations": {},
        "timestamp": format_timestamp(_BASE_TIME),
        "receivedAt": format_timestamp(received_at),
    }
    return Event(
        type="track",
        message_id=message_id,
        user_id=user_id,
        anonymous_id=anonymous_id,
        name=name,
        timestamp=_BASE_TIME,
        received_at=received_at,
        payload=payload,
    )


def make_record(
    message_id: str, *, workspace_id: int = 1, source_id: int = 1, **event: Any
) -> LogRecord:
    return LogRecord(
        workspace_id=workspace_id, source_id=source_id, event=make_event(message_id, **event)
    )


async def read_all(log: EventLog, partition: int, *, after: int = 0) -> list[LogEntry]:
    """Every entry of a partition after ``after``, in pages."""
    entries: list[LogEntry] = []
    while True:
        page = await log.read(partition, after=after, limit=100)
        if not page:
            return entries
        entries += page
        after = page[-1].offset


async def read_everything(log: EventLog) -> dict[int, list[LogEntry]]:
    return {p: await read_all(log, p) for p in range(log.partitions)}


def assert_increasing(entries: list[LogEntry]) -> None:
    offsets = [e.offset for e in entries]
    assert offsets == sorted(set(offsets)), offsets


# --- append and read ------------------------------------------------------------------------


async def test_append_then_read_returns_a_partitions_records_in_order(event_log: EventLog) -> None:
    properties = {
        "revenue": 12.5,
        "items": [{"sku": "a-1", "qty": 2}, {"sku": "b-2", "qty": 1}],
        "note": "crème brûlée ✓ 寿司",
        "gift": False,
        "coupon": None,
        "big": 2**53,
    }
    records = [
        make_record(f"m-{i}", properties={**properties, "i": i}, source_id=7, workspace_id=3)
        for i in range(10)
    ]
    await event_log.append(records[:4])
    await event_log.append(records[4:])

    partition = event_log.partition_of("user-1")
    entries = await event_log.read(partition, after=0, limit=100)

    assert [e.message_id for e in entries] == [f"m-{i}" for i in range(10)]
    assert_increasing(entries)
    assert all(e.offset > 0 for e in entries)
    for entry, record in zip(entries, records, strict=True):
        event = record.event
        assert entry.partition == partition
        assert entry.workspace_id == 3
        assert entry.source_id == 7
        assert entry.type == "track"
        assert entry.name == "Order Completed"
        assert entry.user_id == "user-1"
        assert entry.anonymous_id is None
        assert entry.timestamp == event.timestamp
        assert entry.received_at == event.received_at
        assert message_builtins(entry.message) == event.payload
    for other in set(range(PARTITIONS)) - {partition}:
        assert await event_log.read(other, after=0, limit=100) == []


async def test_empty_append_is_a_no_op(event_log: EventLog) -> None:
    await event_log.append([])
    assert await read_everything(event_log) == {p: [] for p in range(PARTITIONS)}


async def test_partition_of_is_stable_and_in_range(log_kit: LogKit) -> None:
    first, second = log_kit.make(partitions=16), log_kit.make(partitions=16)
    keys = [f"user-{i}" for i in range(500)] + ["", "émilie@example.com", "anon-42"]
    seen = set()
    for key in keys:
        partition = first.partition_of(key)
        assert 0 <= partition < 16
        assert partition == first.partition_of(key) == second.partition_of(key)
        seen.add(partition)
    assert seen == set(range(16)), "500 keys should reach every one of 16 partitions"
    # Pinned: a person's partition must not change across processes, restarts or releases,
    # or their events would be read out of order after an upgrade.
    assert [first.partition_of(k) for k in ("user-1", "anon-42", "émilie@example.com")] == [
        4,
        13,
        1,
    ]
    single = log_kit.make(partitions=1)
    assert {single.partition_of(k) for k in keys} == {0}


def test_a_log_needs_a_partition(log_kit: LogKit) -> None:
    with pytest.raises(ValueError, match="partition"):
        log_kit.make(partitions=0)


async def test_records_of_one_key_land_in_one_partition(event_log: EventLog) -> None:
    users = [f"user-{i}" for i in range(12)]
    for round_ in range(3):
        await event_log.append(
            [make_record(f"{user}-{round_}", user_id=user) for user in users]
            + [make_record(f"anon-{round_}", user_id=None, anonymous_id="anon-7")]
            + [make_record(f"both-{round_}", user_id="user-3", anonymous_id="anon-x")]
        )
    everything = await read_everything(event_log)
    where: dict[str, set[int]] = {}
    for partition, entries in everything.items():
        assert_increasing(entries)
        for entry in entries:
            key = entry.user_id or entry.anonymous_id or ""
            where.setdefault(key, set()).add(partition)
    assert set(where) == {*users, "anon-7"}
    for key, partitions in where.items():
        assert partitions == {event_log.partition_of(key)}, key
    # One person's events come back in the order they were appended.
    user_3 = [e.message_id for e in everything[event_log.partition_of("user-3")]]
    user_3 = [m for m in user_3 if m.startswith(("user-3-", "both-"))]
    assert user_3 == ["user-3-0", "both-0", "user-3-1", "both-1", "user-3-2", "both-2"]
    assert len(set(where)) > 1
    assert len({p for ps in where.values() for p in ps}) > 1


async def test_read_after_an_offset_resumes_there(event_log: EventLog) -> None:
    await event_log.append([make_record(f"m-{i}") for i in range(9)])
    partition = event_log.partition_of("user-1")
    everything = await event_log.read(partition, after=0, limit=100)

    first = await event_log.read(partition, after=0, limit=4)
    rest = await event_log.read(partition, after=first[-1].offset, limit=100)
    assert first + rest == everything
    middle = everything[4]
    assert await event_log.read(partition, after=middle.offset, limit=100) == everything[5:]
    assert await event_log.read(partition, after=everything[-1].offset, limit=100) == []


async def test_limit_caps_a_read(event_log: EventLog) -> None:
    await event_log.append([make_record(f"m-{i}") for i in range(7)])
    partition = event_log.partition_of("user-1")
    assert [e.message_id for e in await event_log.read(partition, after=0, limit=3)] == [
        "m-0",
        "m-1",
        "m-2",
    ]
    assert len(await event_log.read(partition, after=0, limit=1)) == 1
    assert len(await event_log.read(partition, after=0, limit=100)) == 7


# --- consumer offsets ------------------------------------------------------------------------


async def test_committed_is_zero_before_any_commit(event_log: EventLog) -> None:
    await event_log.append([make_record("m-1")])
    assert [await event_log.committed("processor", p) for p in range(PARTITIONS)] == [0] * 4


async def test_commit_is_durable_and_never_goes_back(log_kit: LogKit) -> None:
    log = log_kit.make()
    await log.commit("processor", 2, 15)
    assert await log.committed("processor", 2) == 15

    restarted = log_kit.make()
    assert await restarted.committed("processor", 2) == 15
    await restarted.commit("processor", 2, 9)
    assert await log_kit.make().committed("processor", 2) == 15
    await restarted.commit("processor", 2, 30)
    assert await log_kit.make().committed("processor", 2) == 30
    # Offsets belong to one consumer and one partition.
    assert await restarted.committed("processor", 1) == 0
    assert await restarted.committed("webhooks", 2) == 0


async def test_a_crashed_consumer_is_resumed_from_its_commit(log_kit: LogKit) -> None:
    writer = log_kit.make()
    await writer.append([make_record(f"m-{i}") for i in range(8)])
    partition = writer.partition_of("user-1")

    consumer = log_kit.make()
    start = await consumer.committed("processor", partition)
    batch = await consumer.read(partition, after=start, limit=5)
    assert [e.message_id for e in batch] == ["m-0", "m-1", "m-2", "m-3", "m-4"]
    # Processes m-0 and m-1, commits, processes m-2..m-4 and crashes before committing them.
    await consumer.commit("processor", partition, batch[1].offset)
    await consumer.close()
    del consumer

    successor = log_kit.make()
    resumed_at = await successor.committed("processor", partition)
    assert resumed_at == batch[1].offset
    again = await successor.read(partition, after=resumed_at, limit=100)
    assert [e.message_id for e in again] == ["m-2", "m-3", "m-4", "m-5", "m-6", "m-7"]
    assert again[:3] == batch[2:]


async def test_pending_names_partitions_with_entries_after_their_commit(log_kit: LogKit) -> None:
    log = log_kit.make()
    everywhere = range(PARTITIONS)
    assert await log.pending("processor", everywhere) == {}
    await log.append([make_record(f"m-{i}") for i in range(3)])
    partition = log.partition_of("user-1")
    entries = await log.read(partition, after=0, limit=100)
    assert await log.pending("processor", everywhere) == {partition: 0}
    assert await log.pending("processor", [p for p in everywhere if p != partition]) == {}

    await log.commit("processor", partition, entries[0].offset)
    assert await log.pending("processor", everywhere) == {partition: entries[0].offset}
    # Another consumer's offsets are its own; a caught-up partition is not pending.
    assert await log.pending("webhooks", [partition]) == {partition: 0}
    await log.commit("processor", partition, entries[-1].offset)
    assert await log.pending("processor", everywhere) == {}


# --- leases ----------------------------------------------------------------------------------


async def _settle(log: EventLog, owners: list[str], *, ttl: float = 30.0) -> dict[str, list[int]]:
    """Let each owner claim in turn, a few rounds, as their loops would; the last claims."""
    held: dict[str, list[int]] = {}
    for _ in range(3):
        for owner in owners:
            held[owner] = await log.claim("processor", owner, ttl_seconds=ttl)
    return held


def _assert_fair_split(held: dict[str, list[int]], partitions: int) -> None:
    owned = [p for ps in held.values() for p in ps]
    assert sorted(owned) == list(range(partitions)), f"owned twice or not at all: {held}"
    sizes = [len(ps) for ps in held.values()]
    assert max(sizes) - min(sizes) <= 1, f"unfair split: {held}"


async def test_a_single_owner_gets_every_partition(event_log: EventLog) -> None:
    assert await event_log.claim("processor", "a", ttl_seconds=30) == list(range(PARTITIONS))
    # Claiming again renews, and changes nothing.
    assert await event_log.claim("processor", "a", ttl_seconds=30) == list(range(PARTITIONS))
    # Consumers lease independently.
    assert await event_log.claim("webhooks", "b", ttl_seconds=30) == list(range(PARTITIONS))


@pytest.mark.parametrize(("owners", "partitions"), [(2, 4), (2, 5), (3, 16)])
async def test_owners_split_partitions_fairly(
    log_kit: LogKit, owners: int, partitions: int
) -> None:
    log = log_kit.make(partitions=partitions)
    names = [f"owner-{i}" for i in range(owners)]
    held = await _settle(log, names)
    _assert_fair_split(held, partitions)
    assert all(held.values()), held


async def test_owners_on_separate_log_objects_split_fairly(log_kit: LogKit) -> None:
    first, second = log_kit.make(partitions=8), log_kit.make(partitions=8)
    held: dict[str, list[int]] = {}
    for _ in range(3):
        held["a"] = await first.claim("processor", "a", ttl_seconds=30)
        held["b"] = await second.claim("processor", "b", ttl_seconds=30)
    _assert_fair_split(held, 8)
    assert len(held["a"]) == len(held["b"]) == 4


async def test_an_expired_owners_partitions_move_to_the_others(event_log: EventLog) -> None:
    await event_log.claim("processor", "short", ttl_seconds=1.5)
    await event_log.claim("processor", "long", ttl_seconds=30)
    await event_log.claim("processor", "short", ttl_seconds=1.5)
    long = await event_log.claim("processor", "long", ttl_seconds=30)
    assert 0 < len(long) < PARTITIONS, "both owners should hold partitions before the expiry"

    deadline = time.monotonic() + 10
    while long != list(range(PARTITIONS)):
        assert time.monotonic() < deadline, f"the expired leases never moved: {long}"
        await asyncio.sleep(0.1)
        long = await event_log.claim("processor", "long", ttl_seconds=30)


async def test_release_hands_partitions_over_at_once(event_log: EventLog) -> None:
    held = await _settle(event_log, ["a", "b"])
    assert held["a"]
    assert held["b"]
    await event_log.release("processor", "a")
    assert await event_log.claim("processor", "b", ttl_seconds=30) == list(range(PARTITIONS))


# --- concurrency and transactions ------------------------------------------------------------


async def test_concurrent_appends_become_visible_in_offset_order(log_kit: LogKit) -> None:
    """A reader polling while many appenders commit never finds an offset below one it has
    already read: it reads each record exactly once, by moving its position forward only."""
    log = log_kit.make(partitions=2)
    # Large appends beside small ones: a large one takes its offsets first and commits last.
    sizes = [150 if a % 3 == 0 else 1 for a in range(30)]
    expected = {f"a{a}-m{m}" for a, size in enumerate(sizes) for m in range(size)}
    seen: list[str] = []
    positions = dict.fromkeys(range(2), 0)
    done = asyncio.Event()

    async def poll() -> None:
        while True:
            finished = done.is_set()
            progressed = False
            for partition in positions:
                page = await log.read(partition, after=positions[partition], limit=1000)
                for entry in page:
                    assert entry.offset > positions[partition]
                    positions[partition] = entry.offset
                    seen.append(entry.message_id)
                    progressed = True
            if finished and not progressed:
                return
            await asyncio.sleep(0)

    async def append(a: int) -> None:
        await log.append(
            [make_record(f"a{a}-m{m}", user_id=f"user-{(a + m) % 7}") for m in range(sizes[a])]
        )

    reader = asyncio.create_task(poll())
    await asyncio.gather(*(append(a) for a in range(len(sizes))))
    done.set()
    await asyncio.wait_for(reader, 30)

    counts = Counter(seen)
    assert set(counts) == expected, f"missed: {sorted(expected - set(counts))[:10]}"
    assert max(counts.values()) == 1
    everything = await read_everything(log)
    assert sum(len(entries) for entries in everything.values()) == len(expected)


async def test_append_joins_the_callers_transaction(log_kit: LogKit) -> None:
    if log_kit.engine is None:
        pytest.skip(f"{log_kit.name} does not live in the database")
    if not log_kit.transactional:
        pytest.skip(f"{log_kit.name} has no transaction to join")
    log = log_kit.make()
    partition = log.partition_of("user-1")

    async with log_kit.engine.connect() as connection:
        transaction = await connection.begin()
        await log.append([make_record("rolled-back")], connection=connection)
        assert await log.read(partition, after=0, limit=10) == [], "visible before commit"
        await transaction.rollback()
    assert await read_everything(log) == {p: [] for p in range(PARTITIONS)}

    async with log_kit.engine.begin() as connection:
        await log.append([make_record("committed")], connection=connection)
    assert [e.message_id for e in await log.read(partition, after=0, limit=10)] == ["committed"]


# --- waiting for appends ---------------------------------------------------------------------


async def test_wait_returns_early_after_an_append(log_kit: LogKit) -> None:
    waiter, writer = log_kit.make(), log_kit.make()
    started = time.monotonic()
    waiting = asyncio.create_task(waiter.wait(20))
    for i in range(40):
        await writer.append([make_record(f"m-{i}")])
        finished, _ = await asyncio.wait({waiting}, timeout=0.25)
        if finished:
            break
    assert waiting.done(), "wait() did not notice appends"
    await waiting
    assert time.monotonic() - started < 10


async def test_wait_does_not_miss_an_append_between_two_waits(log_kit: LogKit) -> None:
    waiter, writer = log_kit.make(), log_kit.make()
    await waiter.wait(0.05)  # a consumer's loop: wait, read (nothing new yet) ...
    await writer.append([make_record("m-1")])  # ... an append lands before the next wait
    started = time.monotonic()
    await waiter.wait(20)
    assert time.monotonic() - started < 5


async def test_wait_times_out_without_appends(event_log: EventLog) -> None:
    started = time.monotonic()
    await event_log.wait(0.6)
    elapsed = time.monotonic() - started
    assert 0.5 <= elapsed < 5, elapsed


async def test_a_large_append_stores_entries_as_small_appends_do(event_log: EventLog) -> None:
    # PostgresLog appends a large batch with COPY, a small one with one JSON statement: the
    # columns it derives must not depend on which (microseconds cut, empty page names null).
    received_at = datetime(2026, 1, 1, 12, 0, 0, 123456, tzinfo=UTC)
    envelope = Envelope(received_at=received_at)
    messages: list[dict[str, Any]] = []
    for i in range(600):
        messages.append(
            {
                "type": "track",
                "event": f"E{i % 7}",
                "userId": f"u{i}",
                "timestamp": "2026-01-01T10:00:00.987654Z",
            }
        )
        messages.append({"type": "page", "name": "" if i % 2 else "Home", "anonymousId": f"a{i}"})

    def records(prefix: str) -> list[LogRecord]:
        made = []
        for index, message in enumerate(messages):
            event = normalise(
                {**message, "messageId": f"{prefix}{index}"},
                index=index,
                route_type=None,
                envelope=envelope,
            )
            assert isinstance(event, Event)
            made.append(LogRecord(workspace_id=1, source_id=1, event=event))
        return made

    await event_log.append(records("large-"))
    small = records("small-")
    for start in range(0, len(small), 100):
        await event_log.append(small[start : start + 100])
    entries = [e for p in (await read_everything(event_log)).values() for e in p]
    assert len(entries) == 2 * len(messages)

    def shape(entry: LogEntry) -> tuple[Any, ...]:
        return (
            entry.type,
            entry.name,
            entry.user_id,
            entry.anonymous_id,
            entry.timestamp,
            entry.received_at,
            entry.partition,
        )

    by_id = {e.message_id: e for e in entries}
    for index in range(len(messages)):
        assert shape(by_id[f"large-{index}"]) == shape(by_id[f"small-{index}"])
    assert by_id["large-3"].name is None  # an empty page name
    assert by_id["large-1"].name == "Home"
