"""A network partition of a three-node JetStream cluster: the stream's leader is cut off from
the two other servers (its routes go through proxies the test closes; ``/routez`` shows it
isolated) while appends go on through the log on the majority side. The isolated server
acknowledges nothing (no quorum); the majority elects another leader and goes on
acknowledging; after the partition heals the isolated server catches up, and every
acknowledged entry is in the stream and the index exactly once, with the append the isolated
server refused, retried, once too."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import nats
import nats.errors
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.log import JetStreamLog, LogRecord, StreamOptions
from tests.e2e.test_crash import stored_counts
from tests.log.test_contract import make_record
from tests.log.test_jetstream import append_until_acknowledged
from tests.natsserver import NatsCluster, NatsNode
from tests.scaleout.partition import Partition, caught_up, routes_of
from tests.scaleout.test_jetstream_crash import in_stream

pytestmark = pytest.mark.e2e

STREAM = "PARTITIONED"


def _log(engine: AsyncEngine, nodes: list[NatsNode], *, timeout: float = 10.0) -> JetStreamLog:
    return JetStreamLog(
        engine,
        4,
        urls=[node.url for node in nodes],
        options=StreamOptions(name=STREAM, replicas=3, request_timeout_seconds=timeout),
    )


def _records(prefix: str, count: int = 40) -> list[LogRecord]:
    return [make_record(f"{prefix}-{i}", user_id=f"user-{i % 7}") for i in range(count)]


def _until(condition: Callable[[], bool], what: str, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"not {what} after {within}s"
        time.sleep(0.1)


async def _leader(nodes: list[NatsNode], *, besides: str = "", within: float = 60) -> str:
    """The stream's leader (other than ``besides``), as ``nodes`` see it."""
    deadline = time.monotonic() + within
    client = await nats.connect(servers=[node.url for node in nodes])
    try:
        while True:
            try:
                info = await client.jetstream(timeout=2).stream_info(STREAM)
            except nats.errors.Error:
                info = None
            leader = info.cluster.leader if info is not None and info.cluster else None
            if leader and leader != besides:
                return leader
            assert time.monotonic() < deadline, "no stream leader elected"
            await asyncio.sleep(0.2)
    finally:
        await client.close()


async def test_the_stream_leader_cut_off_from_the_cluster_loses_nothing_acknowledged(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    with (
        Partition() as partition,
        NatsCluster.start(tmp_path, size=3, route_via=partition.proxy) as cluster,
    ):
        nodes = cluster.nodes
        names = {node.name for node in nodes}
        await asyncio.to_thread(
            _until,
            lambda: all(routes_of(n) >= names - {n.name} for n in nodes),
            "a full mesh of routes",
        )
        everywhere = _log(engine, nodes)
        opened = [everywhere]
        acknowledged: list[str] = []
        try:
            batch = _records("before")
            await append_until_acknowledged(everywhere, batch)
            acknowledged += [r.event.message_id for r in batch]
            name = await _leader(nodes)
            leader = next(node for node in nodes if node.name == name)
            others = [node for node in nodes if node is not leader]
            # A log on the leader alone (connected before the cut) and one on the others.
            minority, majority = _log(engine, [leader], timeout=2.0), _log(engine, others)
            opened += [minority, majority]
            for log, prefix in ((minority, "minority-before"), (majority, "majority-before")):
                batch = _records(prefix)
                await append_until_acknowledged(log, batch)
                acknowledged += [r.event.message_id for r in batch]

            await asyncio.to_thread(partition.isolate, leader)
            await asyncio.to_thread(
                _until,
                lambda: (
                    not routes_of(leader) and all(leader.name not in routes_of(n) for n in others)
                ),
                "isolated",
            )
            # The isolated server has no quorum: it acknowledges nothing.
            refused = _records("refused")
            with pytest.raises(ConnectionError):
                await minority.append(refused)
            # The majority elects another leader and goes on.
            for round_ in range(3):
                batch = _records(f"during-{round_}")
                await append_until_acknowledged(majority, batch)
                acknowledged += [r.event.message_id for r in batch]
            assert await _leader(others, besides=leader.name) != leader.name

            partition.heal()
            await asyncio.to_thread(
                _until, lambda: routes_of(leader) >= names - {leader.name}, "healed"
            )
            last = await asyncio.to_thread(caught_up, nodes, STREAM)
            # The refused append, retried (its request was answered 503), is stored once.
            await append_until_acknowledged(majority, refused)
            acknowledged += [r.event.message_id for r in refused]
            batch = _records("after")
            await append_until_acknowledged(minority, batch)  # through the healed server
            acknowledged += [r.event.message_id for r in batch]
            assert await asyncio.to_thread(caught_up, nodes, STREAM) > last

            once = Counter(dict.fromkeys(acknowledged, 1))
            assert await in_stream(engine, [n.url for n in others], STREAM) == once
            assert await stored_counts(engine) == once
        finally:
            for log in opened:
                await log.close()


async def test_a_partial_partition_between_the_leader_and_one_follower_loses_nothing(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    """The leader and one follower lose the routes between them while each keeps its route to
    the third server. Appends go on through a log connected to every server and through one
    connected to the separated follower alone (a cluster's servers do not relay for one
    another, so that follower may answer 503 until a leader it can reach is elected, and its
    appends are retried). Every acknowledged entry, and every retried one, is stored once;
    after the routes come back every replica ends at the same sequence."""
    with (
        Partition() as partition,
        NatsCluster.start(tmp_path, size=3, route_via=partition.proxy) as cluster,
    ):
        nodes = cluster.nodes
        names = {node.name for node in nodes}

        def meshed() -> bool:
            return all(routes_of(n) >= names - {n.name} for n in nodes)

        await asyncio.to_thread(_until, meshed, "a full mesh of routes")
        everywhere = _log(engine, nodes)
        opened = [everywhere]
        acknowledged: list[str] = []
        try:
            batch = _records("before")
            await append_until_acknowledged(everywhere, batch)
            acknowledged += [r.event.message_id for r in batch]
            name = await _leader(nodes)
            leader = next(node for node in nodes if node.name == name)
            follower, third = [node for node in nodes if node is not leader]
            separated = _log(engine, [follower], timeout=2.0)
            opened.append(separated)

            await asyncio.to_thread(partition.separate, leader, follower)
            await asyncio.to_thread(
                _until,
                lambda: (
                    follower.name not in routes_of(leader)
                    and routes_of(follower) == {third.name}
                    and routes_of(third) >= {leader.name, follower.name}
                ),
                "the leader and the follower apart, both still routed to the third",
            )
            for round_ in range(3):
                for log, prefix in ((everywhere, "everywhere"), (separated, "separated")):
                    batch = _records(f"{prefix}-{round_}")
                    await append_until_acknowledged(log, batch)
                    acknowledged += [r.event.message_id for r in batch]

            partition.heal()
            await asyncio.to_thread(_until, meshed, "healed")
            batch = _records("after")
            await append_until_acknowledged(separated, batch)
            acknowledged += [r.event.message_id for r in batch]
            await asyncio.to_thread(caught_up, nodes, STREAM)

            once = Counter(dict.fromkeys(acknowledged, 1))
            assert await in_stream(engine, [n.url for n in nodes], STREAM) == once
            assert await stored_counts(engine) == once
        finally:
            for log in opened:
                await log.close()
