"""A network partition under the real deployment: two ``headwater serve`` API nodes on a
three-node JetStream cluster, API node A connected to the stream's leader only, API node B to
the two other servers, a ``headwater worker`` processing, and the Segment Python SDK sending a
person's events through both nodes all along. The leader is cut off from the cluster (its
routes go through proxies the test closes).

While cut off, A cannot store anything (no quorum): its ``/ready`` says the log is down and
it answers the SDK 503 after the request timeout, and the SDK retries; B goes on storing
through the leader the majority elects. After the partition heals, every event the SDK sent
is stored once in the index and once in the stream, every replica ends at the same sequence,
and each person has one profile equal to canonical resolution."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import nats
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.e2e.test_crash import stored_counts
from tests.natsserver import NatsCluster, NatsNode
from tests.profiles.test_races import PROCESSED, check_profiles, wait_for
from tests.scaleout.partition import Partition, caught_up, meshed, routes_of
from tests.scaleout.test_cluster import SdkLoad, grown
from tests.scaleout.test_jetstream_crash import in_stream
from tests.server import COLLECT_ONLY, RunningServer, Worker, start_server

pytestmark = pytest.mark.e2e

STREAM = "PARTITIONED_SDK"


def _until(condition: Callable[[], bool], what: str, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"not {what} after {within}s"
        time.sleep(0.2)


def _log_state(node: RunningServer) -> str:
    """What ``node``'s ``/ready`` says of the log (``up`` or ``down``)."""
    try:
        return str(httpx.get(f"{node.url}/ready", timeout=15).json()["log"])
    except httpx.TransportError:
        return "unanswered"


async def _make_leader(nodes: list[NatsNode], wanted: NatsNode, *, tries: int = 30) -> None:
    """Ask the stream's leader to step down until ``wanted`` is elected."""
    client = await nats.connect(servers=[node.url for node in nodes])
    try:
        jetstream = client.jetstream(timeout=5)
        for _ in range(tries):
            try:
                info = await jetstream.stream_info(STREAM)
            except nats.errors.Error:
                await asyncio.sleep(0.3)
                continue
            leader = info.cluster.leader if info.cluster else None
            if leader == wanted.name:
                return
            if leader:
                await client.request(f"$JS.API.STREAM.LEADER.STEPDOWN.{STREAM}", b"", timeout=5)
            await asyncio.sleep(0.5)
        raise AssertionError(f"{wanted.name} never became the stream's leader")
    finally:
        await client.close()


@contextmanager
def _deployment(
    database_url: str, tmp_path: Path, nodes: list[NatsNode]
) -> Iterator[tuple[RunningServer, Callable[[], RunningServer]]]:
    """API node B on the two servers that stay together (it creates the stream and the
    source), a worker on every server, and a function that starts API node A on ``nodes[0]``
    alone; all stopped after."""
    common = {"HEADWATER_EVENT_LOG": "nats", "HEADWATER_NATS_REPLICAS": "3"}
    common["HEADWATER_NATS_STREAM"] = STREAM

    def on(some: list[NatsNode]) -> dict[str, str]:
        return {**common, "HEADWATER_NATS_URLS": ",".join(node.url for node in some)}

    started: list[RunningServer | Worker] = []

    def api_node(name: str, some: list[NatsNode], *, source: bool) -> RunningServer:
        (tmp_path / name).mkdir()
        env = {**COLLECT_ONLY, **on(some)}
        node = start_server(database_url, tmp_path / name, env, source=source)
        started.append(node)
        return node

    try:
        b = api_node("api-b", nodes[1:], source=True)
        started.append(Worker(database_url, tmp_path / "worker.log", extra_env=on(nodes)))
        yield b, lambda: api_node("api-a", nodes[:1], source=False)
    finally:
        for child in reversed(started):
            child.stop()


def _unavailable(node: RunningServer) -> float:
    """How many tracking requests ``node`` has answered 503."""
    text = httpx.get(f"{node.url}/metrics", timeout=10).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "headwater_tracking_requests_total" and sample.labels == {"status": "503"}
    )


async def test_the_sdk_through_an_api_node_on_a_cut_off_leader_loses_nothing(
    database_url: str, engine: AsyncEngine, tmp_path: Path
) -> None:
    with (
        Partition() as partition,
        NatsCluster.start(tmp_path / "nats", size=3, route_via=partition.proxy) as cluster,
    ):
        servers = cluster.nodes
        await asyncio.to_thread(_until, lambda: meshed(servers), "a full mesh of routes")
        with _deployment(database_url, tmp_path, servers) as (b, start_a):
            await _make_leader(servers, servers[0])
            a = await asyncio.to_thread(start_a)
            load = SdkLoad([a, b])
            load.start()
            try:
                await grown(engine, 200)
                await asyncio.to_thread(partition.isolate, servers[0])
                await asyncio.to_thread(
                    _until,
                    lambda: not routes_of(servers[0]),
                    "the leader cut off",
                )
                # A cannot store (its server has no quorum) and says so; B goes on.
                await asyncio.to_thread(_until, lambda: _log_state(a) == "down", "A not ready")
                await grown(engine, 300)
                # The SDK's requests to A were answered 503 (retried later), not left waiting.
                assert await asyncio.to_thread(_unavailable, a) > 0
                partition.heal()
                await asyncio.to_thread(_until, lambda: meshed(servers), "healed")
                await asyncio.to_thread(_until, lambda: _log_state(a) == "up", "A ready again")
                await grown(engine, 200)  # through both nodes again
            finally:
                await asyncio.to_thread(load.finish)

            assert load.errors == [], "the SDK gave events up"
            assert load.unqueued == 0, "the SDK's queue overflowed"
            sent = load.message_ids()
            once = Counter(dict.fromkeys(sent, 1))
            assert await stored_counts(engine) == once, "lost or stored twice in the index"
            urls = [node.url for node in servers]
            assert await in_stream(engine, urls, STREAM) == once, "lost or doubled in the stream"
            await asyncio.to_thread(caught_up, servers, STREAM)
            await wait_for(engine, PROCESSED, len(sent), within=180)
            await check_profiles(engine, load.people, len(sent))
