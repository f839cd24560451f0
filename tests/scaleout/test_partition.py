"""A network partition of a three-node JetStream cluster: the stream's leader is cut off from
the two other servers (its routes go through proxies the test closes; ``/routez`` shows it
isolated) while appends go on through the log on the majority side. The isolated server
acknowledges nothing (no quorum); the majority elects another leader and goes on
acknowledging; after the partition heals the isolated server catches up, and every
acknowledged entry is in the stream and the index exactly once, with the append the isolated
server refused, retried, once too. And a partial partition: the leader and one follower apart,
each still routed to the third server."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
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
from tests.scaleout.partition import Partition, caught_up, meshed, routes_of
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


class _Run:
    """A meshed three-server cluster behind route proxies, the logs a test opened on it, and
    every entry they had acknowledged."""

    def __init__(self, engine: AsyncEngine, partition: Partition, nodes: list[NatsNode]) -> None:
        self.engine, self.partition, self.nodes = engine, partition, nodes
        self.opened: list[JetStreamLog] = []
        self.acknowledged: list[str] = []
        self.everywhere = self.log(nodes)
        self.leader = nodes[0]

    def log(self, nodes: list[NatsNode], *, timeout: float = 10.0) -> JetStreamLog:
        """A log connected to ``nodes`` alone, closed at the end."""
        self.opened.append(_log(self.engine, nodes, timeout=timeout))
        return self.opened[-1]

    async def append(self, log: JetStreamLog, batch: list[LogRecord]) -> None:
        """Append ``batch`` until acknowledged, as an SDK retries."""
        await append_until_acknowledged(log, batch)
        self.acknowledged += [r.event.message_id for r in batch]

    async def check(self, urls: list[str]) -> None:
        """Every acknowledged entry once in the stream (read through ``urls``) and the index."""
        once = Counter(dict.fromkeys(self.acknowledged, 1))
        assert await in_stream(self.engine, urls, STREAM) == once
        assert await stored_counts(self.engine) == once


@asynccontextmanager
async def _partitionable(engine: AsyncEngine, tmp_path: Path) -> AsyncIterator[_Run]:
    """A run whose first entries are acknowledged, the stream's leader known."""
    with (
        Partition() as partition,
        NatsCluster.start(tmp_path, size=3, route_via=partition.proxy) as cluster,
    ):
        nodes = cluster.nodes
        await asyncio.to_thread(_until, lambda: meshed(nodes), "a full mesh of routes")
        run = _Run(engine, partition, nodes)
        try:
            await run.append(run.everywhere, _records("before"))
            name = await _leader(nodes)
            run.leader = next(node for node in nodes if node.name == name)
            yield run
        finally:
            for log in run.opened:
                await log.close()


async def test_the_stream_leader_cut_off_from_the_cluster_loses_nothing_acknowledged(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    async with _partitionable(engine, tmp_path) as run:
        nodes, leader = run.nodes, run.leader
        others = [node for node in nodes if node is not leader]
        # A log on the leader alone (connected before the cut) and one on the others.
        minority, majority = run.log([leader], timeout=2.0), run.log(others)
        await run.append(minority, _records("minority-before"))
        await run.append(majority, _records("majority-before"))

        await asyncio.to_thread(run.partition.isolate, leader)
        await asyncio.to_thread(
            _until,
            lambda: not routes_of(leader) and all(leader.name not in routes_of(n) for n in others),
            "isolated",
        )
        # The isolated server has no quorum: it acknowledges nothing.
        refused = _records("refused")
        with pytest.raises(ConnectionError):
            await minority.append(refused)
        # The majority elects another leader and goes on.
        for round_ in range(3):
            await run.append(majority, _records(f"during-{round_}"))
        assert await _leader(others, besides=leader.name) != leader.name

        run.partition.heal()
        await asyncio.to_thread(_until, lambda: meshed(nodes), "healed")
        last = await asyncio.to_thread(caught_up, nodes, STREAM)
        # The refused append, retried (its request was answered 503), is stored once.
        await run.append(majority, refused)
        await run.append(minority, _records("after"))  # through the healed server
        assert await asyncio.to_thread(caught_up, nodes, STREAM) > last
        await run.check([n.url for n in others])


async def test_a_partial_partition_between_the_leader_and_one_follower_loses_nothing(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    """The leader and one follower lose the routes between them while each keeps its route to
    the third server. Appends go on through a log connected to every server and through one
    connected to the separated follower alone (a cluster's servers do not relay for one
    another, so that follower may answer 503 until a leader it can reach is elected, and its
    appends are retried). Every acknowledged entry, and every retried one, is stored once;
    after the routes come back every replica ends at the same sequence."""
    async with _partitionable(engine, tmp_path) as run:
        nodes, leader = run.nodes, run.leader
        follower, third = [node for node in nodes if node is not leader]
        separated = run.log([follower], timeout=2.0)

        await asyncio.to_thread(run.partition.separate, leader, follower)
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
            await run.append(run.everywhere, _records(f"everywhere-{round_}"))
            await run.append(separated, _records(f"separated-{round_}"))

        run.partition.heal()
        await asyncio.to_thread(_until, lambda: meshed(nodes), "healed")
        await run.append(separated, _records("after"))
        await asyncio.to_thread(caught_up, nodes, STREAM)
        await run.check([n.url for n in nodes])
