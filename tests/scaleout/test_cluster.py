"""The scale-out deployment as processes, and each kind of process killed under load.

A three-node JetStream cluster (the stream on three replicas), two ``headwater serve`` API
nodes (no processor; they deliver, as deployed) and two ``headwater worker`` processes share one
PostgreSQL. A webhook destination delivers every event to a receiver on 127.0.0.1 that checks
each request's signature. The Segment Python SDK, one client per API node, sends people's events
(each person's events split over both nodes and three log partitions, some older than others)
while a worker, an API node and the stream's leader among the NATS servers are killed with
SIGKILL one after the other, each started again.

Afterwards: every event the SDK sent (it retries what got no answer, as it does) is stored once
in the index and once in the stream, every NATS server's replica holds the stream up to the same
sequence, each person has one profile equal to canonical resolution, and every event reached
the receiver. Delivery is at least once: a request a killed process had sent and not yet
recorded as delivered is sent again once its lease ends. Each delivering process (the worker,
the API node) is killed while the receiver holds one of its requests, so a send is in flight
at each kill. Each event arrives once, except the events of requests a killed process had sent
(known exactly: the receiver notes each request's sender port, and a killed process's ports
are noted while it is stopped), which may arrive again, the same event under the same
messageId for the receiver to drop; those of the held requests do.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import nats
import pytest
from segment.analytics.client import Client as SegmentClient
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.destinations.sink import Recorded, Reply, Sink
from tests.e2e.test_crash import stored_counts
from tests.natsserver import NatsCluster
from tests.profiles.test_races import PROCESSED, check_profiles, person_events, scalar, wait_for
from tests.scaleout.partition import caught_up
from tests.scaleout.processes import kill_noting_ports, tcp_ports
from tests.scaleout.test_jetstream_crash import in_stream
from tests.server import COLLECT_ONLY, RunningServer, Worker, start_server

pytestmark = pytest.mark.e2e

STREAM = "CLUSTER"
SECRET = "cluster-test-signing-secret"
BATCH = 20
CONCURRENCY = 2
PEOPLE_PER_SECOND = 20
"""The load's pace: five events a person, so about 100 events a second."""

DELIVERY = {
    "HEADWATER_DELIVERY_BACKOFF_BASE_SECONDS": "0.05",
    "HEADWATER_DELIVERY_BACKOFF_MAX_SECONDS": "0.5",
    "HEADWATER_DELIVERY_LEASE_SECONDS": "2",
    "HEADWATER_DELIVERY_POLL_SECONDS": "0.2",
    "HEADWATER_DESTINATIONS_REFRESH_SECONDS": "0.5",
}


def _segment_call(client: SegmentClient, event: dict[str, Any], message_id: str) -> bool:
    """``event`` (a Segment message) sent through the SDK's own call; False if not queued."""
    common = {
        "user_id": event.get("userId"),
        "anonymous_id": event.get("anonymousId"),
        "context": event.get("context"),
        "timestamp": datetime.fromisoformat(event["timestamp"]),
        "message_id": message_id,
    }
    if event["type"] == "page":
        queued, _ = client.page(name=event["name"], **common)
    elif event["type"] == "identify":
        queued, _ = client.identify(traits=event["traits"], **common)
    else:
        queued, _ = client.track(event=event["event"], properties=event.get("properties"), **common)
    return bool(queued)


class SdkLoad:
    """People's events at a steady pace through one SDK client per API node, a person's
    events alternating between the nodes, until :meth:`finish`."""

    def __init__(self, nodes: list[RunningServer]) -> None:
        self.errors: list[object] = []
        self.clients = [
            SegmentClient(
                node.write_key,
                host=node.url,
                max_retries=12,  # backoff 0.5 s doubling: well past any restart here
                upload_interval=0.1,
                timeout=15,
                on_error=lambda error, items: self.errors.append(error),
            )
            for node in nodes
        ]
        self.people = 0
        self.unqueued = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            n = self.people
            for i, event in enumerate(person_events(n, late=n % 3 == 0)):
                client = self.clients[(n + i) % len(self.clients)]
                if not _segment_call(client, event, f"p-{n}-{i}"):
                    self.unqueued += 1
            self.people += 1
            self._stop.wait(1 / PEOPLE_PER_SECOND)

    def finish(self) -> None:
        """Stop making events; wait until the SDK has sent (or given up on) every one."""
        self._stop.set()
        self._thread.join(30)
        for client in self.clients:
            client.flush()
            client.join()

    def message_ids(self) -> set[str]:
        return {f"p-{n}-{i}" for n in range(self.people) for i in range(5)}


class Receiver:
    """The webhook receiver: checks each request as the webhook connector documents it (JSON,
    signed with the secret, an idempotency key, a batch of Segment events each with its
    messageId), and holds the requests of a process about to be killed until the kill, so
    that the kill finds a send in flight."""

    def __init__(self) -> None:
        self.held: list[Recorded] = []
        self._victim: set[int] = set()
        self._release = threading.Event()
        self._lock = threading.Lock()

    def __call__(self, request: Recorded) -> Reply:
        assert request.headers.get("content-type") == "application/json"
        digest = hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(request.headers.get("x-signature", ""), f"sha256={digest}")
        assert request.headers.get("idempotency-key")
        assert all(event["messageId"] for event in request.json()["batch"])
        with self._lock:
            hold = request.peer_port in self._victim
            if hold:
                self.held.append(request)
        if hold:
            self._release.wait(60)
        return Reply(200, {"ok": True})

    def kill_mid_send(self, child: Worker | RunningServer, *, within: float = 60) -> set[int]:
        """Hold ``child``'s next request, kill ``child`` with it in flight (kill -9), let the
        receiver answer (no one listens); ``child``'s ports."""
        held = len(self.held)
        self._release.clear()
        deadline = time.monotonic() + within
        while len(self.held) == held:
            assert time.monotonic() < deadline, "the process sent nothing to the receiver"
            with self._lock:
                self._victim = tcp_ports(child.process.pid)
            time.sleep(0.02)
        try:
            return kill_noting_ports(child)
        finally:
            with self._lock:
                self._victim = set()
            self._release.set()


async def grown(engine: AsyncEngine, by: int, *, within: float = 90) -> None:
    """Wait until ``by`` more events are stored than now: the load goes on."""
    target = int(await scalar(engine, "SELECT count(*) FROM events")) + by
    await wait_for(engine, f"SELECT count(*) >= {target} FROM events", True, within=within)


async def _stream_leader(urls: list[str]) -> str:
    client = await nats.connect(servers=urls)
    try:
        info = await client.jetstream().stream_info(STREAM)
        assert info.cluster is not None
        assert info.cluster.leader is not None
        return info.cluster.leader
    finally:
        await client.close()


def _delivered(requests: list[Recorded]) -> list[tuple[Recorded, dict[str, Any]]]:
    """Every event received, with the request that carried it (a request a kill cut short
    has no whole body: it carried nothing)."""
    found = []
    for request in requests:
        try:
            events = request.json()["batch"]
        except ValueError:
            continue
        found += [(request, event) for event in events]
    return found


@contextmanager
def _processes(
    database_url: str, tmp_path: Path, env: dict[str, str]
) -> Iterator[tuple[list[RunningServer], list[Worker], Callable[[str], Worker]]]:
    """Two API nodes and two workers on ``env``'s cluster; ``worker(name)`` starts another."""
    nodes: list[RunningServer] = []
    workers: list[Worker] = []

    def worker(name: str) -> Worker:
        workers.append(Worker(database_url, tmp_path / f"{name}.log", extra_env=env))
        return workers[-1]

    try:
        for name in ("api-a", "api-b"):
            (tmp_path / name).mkdir()
            nodes.append(
                start_server(
                    database_url,
                    tmp_path / name,
                    {**COLLECT_ONLY, **env},
                    source=not nodes,  # one source, on the shared database
                )
            )
        worker("worker-0")
        worker("worker-1")
        yield nodes, workers, worker
    finally:
        for each in [*workers, *nodes]:
            each.stop()


async def test_two_api_nodes_two_workers_and_a_nats_cluster_survive_kill_9_of_each(
    database_url: str, engine: AsyncEngine, tmp_path: Path
) -> None:
    with NatsCluster.start(tmp_path / "nats", size=3) as cluster:
        env = {
            "HEADWATER_EVENT_LOG": "nats",
            "HEADWATER_NATS_URLS": ",".join(cluster.urls),
            "HEADWATER_NATS_REPLICAS": "3",
            "HEADWATER_NATS_STREAM": STREAM,
            **DELIVERY,
        }
        with (
            Sink(receiver := Receiver()) as sink,
            _processes(database_url, tmp_path, env) as running,
        ):
            nodes, workers, worker = running
            nodes[0].api(
                "POST",
                "/api/v1/workspaces/default/destinations",
                json={
                    "name": "receiver",
                    "kind": "webhook",
                    "config": {"url": sink.url, "batch_size": BATCH, "secret": SECRET},
                    "delivery": {"concurrency": CONCURRENCY, "timeout_seconds": 5},
                },
            )
            load = SdkLoad(nodes)
            load.start()
            try:
                killed = await _kill_each_kind(engine, cluster, nodes, workers[0], worker, receiver)
            finally:
                await asyncio.to_thread(load.finish)
            await _check(engine, cluster, load, sink, receiver, killed)


async def _kill_each_kind(
    engine: AsyncEngine,
    cluster: NatsCluster,
    nodes: list[RunningServer],
    first_worker: Worker,
    worker: Callable[[str], Worker],
    receiver: Receiver,
) -> set[int]:
    """Kill a worker, an API node and the stream's leader, one after the other, each while
    the load goes on, each started again; the ports the killed delivering processes had."""
    killed: set[int] = set()
    await grown(engine, 300)
    killed |= await asyncio.to_thread(receiver.kill_mid_send, first_worker)
    worker("worker-0-again")
    await grown(engine, 300)

    killed |= await asyncio.to_thread(receiver.kill_mid_send, nodes[1])
    await grown(engine, 100)  # the other node goes on taking events
    await asyncio.to_thread(nodes[1].restart)
    await grown(engine, 300)

    name = await _stream_leader(cluster.urls)
    leader = next(n for n in cluster.nodes if n.name == name)
    leader.kill()
    await grown(engine, 100)  # the two others keep the stream's quorum
    leader.start()
    await asyncio.to_thread(cluster.wait_healthy)
    await grown(engine, 300)
    return killed


async def _check(
    engine: AsyncEngine,
    cluster: NatsCluster,
    load: SdkLoad,
    sink: Sink,
    receiver: Receiver,
    killed: set[int],
) -> None:
    assert load.errors == [], "the SDK gave events up"
    assert load.unqueued == 0, "the SDK's queue overflowed: the load outran the API nodes"
    sent = load.message_ids()
    once = Counter(dict.fromkeys(sent, 1))
    assert await stored_counts(engine) == once, "an event lost or stored twice in the index"
    assert await in_stream(engine, cluster.urls, STREAM) == once, "lost or doubled in the stream"
    # Every server's replica (the killed one's too) ends at the same sequence.
    await asyncio.to_thread(caught_up, cluster.nodes, STREAM)

    total = len(sent)
    await wait_for(engine, PROCESSED, total, within=180)
    await check_profiles(engine, load.people, total)

    # Delivered: every event, then nothing left queued (nothing can be sent again after).
    deadline = asyncio.get_running_loop().time() + 120
    while {e["messageId"] for _, e in _delivered(sink.requests)} != sent:
        assert asyncio.get_running_loop().time() < deadline, "events not delivered"
        await asyncio.sleep(0.2)
    await wait_for(engine, "SELECT count(*) FROM deliveries", 0, within=60)
    assert not sink.errors, sink.errors[:3]
    assert not sink.strays

    delivered = _delivered(sink.requests)
    copies = Counter(event["messageId"] for _, event in delivered)
    in_flight = Counter(e["messageId"] for r, e in delivered if r.peer_port in killed)
    repeated = {m: n for m, n in copies.items() if n > 1}
    unexplained = {m: n for m, n in repeated.items() if n - 1 > in_flight[m]}
    assert unexplained == {}, "delivered again though no killed process had sent it"
    # What the killed processes had in flight when they died arrives again.
    held = {event["messageId"] for _, event in _delivered(receiver.held)}
    assert len(receiver.held) >= 2
    assert held <= repeated.keys(), "a send in flight at a kill was not sent again"
    # Two delivering processes were killed, each with at most CONCURRENCY requests in flight.
    assert len(repeated) <= 2 * CONCURRENCY * BATCH
    bodies: dict[str, set[str]] = {}
    for _, event in delivered:
        if event["messageId"] in repeated:
            bodies.setdefault(event["messageId"], set()).add(json.dumps(event, sort_keys=True))
    assert all(len(found) == 1 for found in bodies.values()), "a repeat differs from its first"
