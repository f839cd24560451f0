"""The event log contract, continued: the reads by key (the API's and replays'), offsets as
cursors across partitions, and commits inside a caller's transaction.

Like ``test_contract.py``, only the :class:`EventLog` interface is used, so every
implementation runs it (see ``conftest.py``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import msgspec
import pytest

from headwater.log import EventLog, LogEntry, LogRecord
from headwater.spec import format_timestamp, message_builtins
from tests.log.conftest import LogKit
from tests.log.test_contract import _BASE_TIME, make_record, read_everything


def received_record(message_id: str, seconds: int, **record: Any) -> LogRecord:
    """A record received ``seconds`` after the suite's base time."""
    made = make_record(message_id, **record)
    at = _BASE_TIME + timedelta(seconds=seconds)
    payload = {**made.event.payload, "receivedAt": format_timestamp(at)}
    event = msgspec.structs.replace(made.event, received_at=at, payload=payload)
    return msgspec.structs.replace(made, event=event)


def ids(entries: list[LogEntry]) -> list[str]:
    return [e.message_id for e in entries]


async def _mixed(log: EventLog) -> list[LogEntry]:
    """Twelve records of four users (several partitions) from sources 1 and 2 of workspace 1,
    and two of workspace 2; every entry, in offset order."""
    await log.append(
        [make_record(f"m-{i}", user_id=f"user-{i % 4}", source_id=1 + i % 2) for i in range(12)]
    )
    await log.append([make_record(f"w2-{i}", workspace_id=2, source_id=3) for i in range(2)])
    everything = await read_everything(log)
    return sorted((e for es in everything.values() for e in es), key=lambda e: e.offset)


async def test_offsets_are_unique_across_partitions_and_grow_in_append_order(
    event_log: EventLog,
) -> None:
    entries = await _mixed(event_log)
    assert len({e.partition for e in entries}) > 1
    assert ids(entries) == [f"m-{i}" for i in range(12)] + ["w2-0", "w2-1"]
    assert len({e.offset for e in entries}) == len(entries)


async def test_entries_returns_the_entries_at_offsets(event_log: EventLog) -> None:
    entries = await _mixed(event_log)
    chosen = [entries[7].offset, entries[2].offset, entries[7].offset, entries[-1].offset]
    missing = entries[-1].offset + 1000
    assert await event_log.entries([*chosen, missing]) == [entries[2], entries[7], entries[-1]]
    assert await event_log.entries([]) == []
    assert await event_log.entries([missing]) == []


async def test_find_returns_the_first_entry_of_a_message_id_in_a_workspace(
    event_log: EventLog,
) -> None:
    await event_log.append([make_record("dup", properties={"n": 1})])
    await event_log.append([make_record("dup", properties={"n": 2})])
    await event_log.append([make_record("dup", workspace_id=2, properties={"n": 3})])
    found = await event_log.find(1, "dup")
    assert found is not None
    assert message_builtins(found.message)["properties"] == {"n": 1}
    other = await event_log.find(2, "dup")
    assert other is not None
    assert other.workspace_id == 2
    assert message_builtins(other.message)["properties"] == {"n": 3}
    assert await event_log.find(3, "dup") is None
    assert await event_log.find(1, "nothing") is None


async def test_newest_pages_a_sources_entries_backwards(event_log: EventLog) -> None:
    entries = await _mixed(event_log)
    odd = [e for e in reversed(entries) if e.source_id == 2]
    assert await event_log.newest(2, limit=100) == odd
    first = await event_log.newest(2, limit=4)
    assert first == odd[:4]
    rest = await event_log.newest(2, limit=100, before=first[-1].offset)
    assert rest == odd[4:]
    assert await event_log.newest(2, limit=100, before=odd[-1].offset) == []
    assert await event_log.newest(9, limit=10) == []


async def test_following_reads_a_sources_entries_after_an_offset(event_log: EventLog) -> None:
    entries = await _mixed(event_log)
    even = [e for e in entries if e.source_id == 1]
    assert await event_log.following(1, after=0, limit=100) == even
    assert await event_log.following(1, after=even[1].offset, limit=2) == even[2:4]
    assert await event_log.following(1, after=even[-1].offset, limit=100) == []
    await event_log.append([make_record("late", source_id=1)])
    assert ids(await event_log.following(1, after=even[-1].offset, limit=100)) == ["late"]


async def test_received_pages_a_workspaces_time_range(event_log: EventLog) -> None:
    await event_log.append(
        [
            received_record(f"r-{s}", s, user_id=f"user-{s % 3}", source_id=1 + s % 2)
            for s in range(10)
        ]
        + [received_record("elsewhere", 5, workspace_id=2)]
    )
    since, until = _BASE_TIME + timedelta(seconds=2), _BASE_TIME + timedelta(seconds=8)

    everything = await event_log.received(1, since=since, until=until, limit=100)
    assert ids(everything) == [f"r-{s}" for s in range(2, 8)]
    assert [e.offset for e in everything] == sorted(e.offset for e in everything)

    pages: list[LogEntry] = []
    after = 0
    while page := await event_log.received(1, since=since, until=until, after=after, limit=4):
        pages += page
        after = page[-1].offset
    assert pages == everything

    chosen = await event_log.received(1, since=since, until=until, sources=[2], limit=100)
    assert ids(chosen) == ["r-3", "r-5", "r-7"]
    assert await event_log.received(1, since=since, until=until, sources=[], limit=100) == []
    assert ids(await event_log.received(2, since=since, until=until, limit=100)) == ["elsewhere"]


async def test_a_commit_inside_the_callers_transaction_rolls_back_with_it(
    log_kit: LogKit,
) -> None:
    if log_kit.engine is None:
        pytest.skip(f"{log_kit.name} does not live beside a database")
    log = log_kit.make()
    async with log_kit.engine.connect() as connection:
        transaction = await connection.begin()
        await log.commit("processor", 1, 10, connection=connection)
        await transaction.rollback()
    assert await log.committed("processor", 1) == 0

    async with log_kit.engine.begin() as connection:
        await log.commit("processor", 1, 10, connection=connection)
    assert await log.committed("processor", 1) == 10


async def test_reads_on_the_callers_connection_return_the_same(log_kit: LogKit) -> None:
    if log_kit.engine is None:
        pytest.skip(f"{log_kit.name} does not live beside a database")
    log = log_kit.make()
    entries = await _mixed(log)
    offsets = [e.offset for e in entries]
    since, until = _BASE_TIME, _BASE_TIME + timedelta(minutes=1)
    async with log_kit.engine.connect() as connection:
        assert await log.entries(offsets, connection=connection) == entries
        assert await log.received(
            1, since=since, until=until, limit=100, connection=connection
        ) == await log.received(1, since=since, until=until, limit=100)


# --- forgetting a person's entries -----------------------------------------------------------


async def test_forget_removes_a_workspaces_entries_at_offsets_and_only_those(
    event_log: EventLog,
) -> None:
    entries = await _mixed(event_log)
    ann = [e for e in entries if e.user_id == "user-1" and e.workspace_id == 1]
    other_workspace = entries[-1]
    assert len(ann) == 3
    assert other_workspace.workspace_id == 2
    offsets = [e.offset for e in ann] + [other_workspace.offset, entries[-1].offset + 1000]

    assert await event_log.forget(1, offsets) == 3
    left = await event_log.entries([e.offset for e in entries])
    assert [e for e in entries if e not in ann] == left
    assert all(e.user_id != "user-1" or e.workspace_id == 2 for e in left)
    assert await event_log.find(1, ann[0].message_id) is None
    everything = await read_everything(event_log)
    assert not {e.offset for es in everything.values() for e in es} & {e.offset for e in ann}
    # A second call finds nothing left to remove, and fails on nothing.
    assert await event_log.forget(1, offsets) == 0
    assert await event_log.forget(1, []) == 0


async def test_forget_joins_the_callers_transaction(log_kit: LogKit) -> None:
    if log_kit.engine is None:
        pytest.skip(f"{log_kit.name} does not live in the database")
    if not log_kit.transactional:
        pytest.skip(f"{log_kit.name} has no transaction to join")
    log = log_kit.make()
    entries = await _mixed(log)
    first = entries[0]

    async with log_kit.engine.connect() as connection:
        transaction = await connection.begin()
        assert await log.forget(1, [first.offset], connection=connection) == 1
        await transaction.rollback()
    assert await log.entries([first.offset]) == [first]

    async with log_kit.engine.begin() as connection:
        assert await log.forget(1, [first.offset], connection=connection) == 1
    assert await log.entries([first.offset]) == []
