"""What the JetStream log does beyond the contract suite: the server's duplicate window, an
append whose caller rolled back and was retried, an unreachable server, and a three-node
cluster losing a server under appends (kill -9)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.log import JetStreamLog, LogRecord, StreamOptions
from headwater.storage import create_engine
from tests.log.test_contract import make_record, read_everything
from tests.natsserver import NatsCluster

_streams = itertools.count()


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=8)
    yield engine
    await engine.dispose()


def _log(engine: AsyncEngine, urls: list[str], *, replicas: int = 1) -> JetStreamLog:
    options = StreamOptions(name=f"JS_{next(_streams)}", replicas=replicas)
    return JetStreamLog(engine, 4, urls=urls, options=options)


async def _stored(log: JetStreamLog) -> list[str]:
    everything = await read_everything(log)
    return sorted(e.message_id for es in everything.values() for e in es)


async def test_a_retry_inside_the_duplicate_window_is_stored_once(
    engine: AsyncEngine, nats_urls: list[str]
) -> None:
    log = _log(engine, nats_urls)
    try:
        await log.append([make_record("m-1"), make_record("m-2")])
        await log.append([make_record("m-1"), make_record("m-3")])
        # The same messageId in another workspace is another event.
        await log.append([make_record("m-1", workspace_id=2)])
        assert await _stored(log) == ["m-1", "m-1", "m-2", "m-3"]
        first = await log.find(1, "m-1")
        assert first is not None
        # The index holds the retry once, under the first attempt's offset.
        indexed = await log.entries(range(first.offset, first.offset + 10))
        assert sorted(e.message_id for e in indexed) == ["m-1", "m-1", "m-2", "m-3"]
    finally:
        await log.close()


async def test_a_retried_append_whose_first_attempt_rolled_back_is_indexed_once(
    engine: AsyncEngine, nats_urls: list[str]
) -> None:
    """JetStream keeps the first attempt (it has no transaction); the index row rolls back
    with the caller, and the retry indexes the entry under the first attempt's offset."""
    log = _log(engine, nats_urls)
    record = make_record("m-1", properties={"attempt": 1})
    retry = make_record("m-1", properties={"attempt": 2})
    try:
        async with engine.connect() as connection:
            transaction = await connection.begin()
            await log.append([record], connection=connection)
            await transaction.rollback()
        assert await log.find(1, "m-1") is None
        async with engine.begin() as connection:
            await log.append([retry], connection=connection)
        found = await log.find(1, "m-1")
        assert found is not None
        # What the index holds is what JetStream stored: the first attempt.
        assert found.message.properties == {"attempt": 1}  # type: ignore[union-attr]
        assert await _stored(log) == ["m-1"]
        assert [e.offset for e in await log.entries([found.offset])] == [found.offset]
    finally:
        await log.close()


async def test_an_unreachable_server_is_a_connection_error(engine: AsyncEngine) -> None:
    """Collection answers 503 to it and a consumer retries: both treat OSError so."""
    log = JetStreamLog(
        engine,
        4,
        urls=["nats://127.0.0.1:9"],
        options=StreamOptions(request_timeout_seconds=1.0),
    )
    with pytest.raises(ConnectionError):
        await log.append([make_record("m-1")])
    with pytest.raises(ConnectionError):
        await log.read(0, after=0, limit=10)
    await log.close()


async def append_until_acknowledged(log: JetStreamLog, batch: list[LogRecord]) -> None:
    """Append as an SDK sends: a batch not acknowledged (ConnectionError, answered 503) is
    sent again until it is; JetStream drops what an earlier attempt had stored."""
    for _ in range(200):
        try:
            await log.append(batch)
            return
        except ConnectionError:
            await asyncio.sleep(0.1)
    raise AssertionError("never acknowledged")


def _records(prefix: str, count: int) -> list[LogRecord]:
    return [make_record(f"{prefix}-{i}", user_id=f"user-{i % 9}") for i in range(count)]


async def test_a_three_node_cluster_keeps_every_acknowledged_entry_when_a_server_dies(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    with NatsCluster.start(tmp_path, size=3) as cluster:
        log = _log(engine, cluster.urls, replicas=3)
        try:
            acknowledged: list[str] = []
            for round_ in range(5):
                batch = _records(f"before-{round_}", 50)
                await append_until_acknowledged(log, batch)
                acknowledged += [r.event.message_id for r in batch]
            cluster.nodes[0].kill()
            # The stream keeps a quorum (two of three): appends go on, acknowledged.
            for round_ in range(5):
                batch = _records(f"during-{round_}", 50)
                await append_until_acknowledged(log, batch)
                acknowledged += [r.event.message_id for r in batch]
            cluster.nodes[0].start()
            cluster.wait_healthy()
            for round_ in range(5):
                batch = _records(f"after-{round_}", 50)
                await append_until_acknowledged(log, batch)
                acknowledged += [r.event.message_id for r in batch]
            # Each acknowledged entry once: no loss, and no retry stored twice.
            assert await _stored(log) == sorted(acknowledged)
        finally:
            await log.close()


async def test_an_entry_is_read_only_once_indexed_and_skipped_when_never_acknowledged(
    engine: AsyncEngine, nats_urls: list[str]
) -> None:
    """An entry whose index row has not committed holds back its partition's later entries
    (the stages read processed events back from the index); once the duplicate window has
    passed without the retry that would index it, it was never acknowledged: it is skipped."""
    options = StreamOptions(
        name=f"JS_{next(_streams)}", duplicate_window_seconds=1, request_timeout_seconds=1
    )
    log = JetStreamLog(engine, 1, urls=nats_urls, options=options)
    try:
        async with engine.connect() as connection:
            transaction = await connection.begin()
            await log.append([make_record("unacknowledged")], connection=connection)
            # In JetStream, not yet in the index: nothing may be read, nor what follows it.
            await log.append([make_record("after")])
            assert await log.read(0, after=0, limit=10) == []
            await transaction.rollback()
        deadline = asyncio.get_running_loop().time() + 30
        while not (entries := await log.read(0, after=0, limit=10)):
            assert asyncio.get_running_loop().time() < deadline, "never skipped"
            await asyncio.sleep(0.1)
        assert [e.message_id for e in entries] == ["after"]
        assert await log.pending("processor", [0]) == {0: 0}
    finally:
        await log.close()
