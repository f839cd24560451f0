"""Crash and isolation: kill -9 of ``headwater serve`` during delivery loses nothing, and a dead
destination does not slow a healthy one.

After kill -9 we assert *at-least-once*, precisely: every messageId sent is answered 2xx by the
receiver at least once; a messageId answered twice was in a request in flight when the process
died (so at most ``concurrency * batch_size`` of them), and both copies carry the same
``Idempotency-Key`` for the receiver to drop the second.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.destinations.conftest import FAST, Space, eventually, track
from tests.destinations.sink import Recorded, Reply, Sink
from tests.server import RunningServer, start_server


@pytest.fixture
def own_server(database_url: str, tmp_path: Path) -> Iterator[RunningServer]:
    running = start_server(database_url, tmp_path, FAST)
    try:
        yield running
    finally:
        running.stop()


def test_kill_9_during_delivery_loses_nothing(own_server: RunningServer) -> None:
    space = Space.create(own_server)
    accepted: list[str] = []
    keys: dict[str, set[str]] = defaultdict(set)
    lock = threading.Lock()

    def handler(request: Recorded) -> Reply:
        body = request.json()
        with lock:
            accepted.append(body["messageId"])
            keys[body["messageId"]].add(request.headers["idempotency-key"])
        return Reply(200, delay=0.05)

    concurrency = 4
    with Sink(handler) as sink:
        space.destination(sink.url, delivery={"concurrency": concurrency})
        sent = {f"k-{n}" for n in range(400)}
        space.send(*(track(n, prefix="k") for n in range(400)))
        eventually(lambda: len(accepted) >= 60, what="deliveries under way")
        own_server.kill()
        at_kill = len(accepted)
        own_server.restart()
        eventually(lambda: set(accepted) >= sent, timeout=60, what="every event after restart")
        time.sleep(1.5)  # past the lease: anything left would arrive now
    assert at_kill < len(sent), "the kill came during delivery"
    assert set(accepted) == sent
    twice = [m for m, count in Counter(accepted).items() if count > 1]
    assert len(twice) <= concurrency, twice
    assert all(len(keys[m]) == 1 for m in twice)
    assert not sink.errors


def _latencies(space: Space, sink: Sink, prefix: str, count: int, rate: float) -> list[float]:
    """Send ``count`` single events at ``rate``/s; their send-to-received times at ``sink``."""
    sent_at: dict[str, float] = {}
    with httpx.Client(auth=(space.write_key, ""), timeout=10) as client:
        start = time.monotonic()
        for n in range(count):
            time.sleep(max(0.0, start + n / rate - time.monotonic()))
            message = track(n, prefix=prefix)
            sent_at[message["messageId"]] = time.monotonic()
            assert client.post(f"{space.server.url}/v1/track", json=message).status_code == 200
    arrived = {}
    deadline = time.monotonic() + 20
    while len(arrived) < count and time.monotonic() < deadline:
        for request in list(sink.requests):
            for event in request.json()["batch"]:
                if event["messageId"] in sent_at:
                    arrived.setdefault(event["messageId"], request.at)
        time.sleep(0.05)
    assert len(arrived) == count
    return [arrived[m] - sent_at[m] for m in sent_at]


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def test_a_dead_destination_does_not_slow_a_healthy_one(own_server: RunningServer) -> None:
    space = Space.create(own_server)
    with Sink() as healthy, Sink(lambda _: Reply(503, delay=2.0)) as dead:
        space.destination(
            healthy.url,
            name="healthy",
            config={"url": healthy.url, "batch_size": 50},
            delivery={"concurrency": 4},
        )
        alone = _p95(_latencies(space, healthy, "a", 100, 40.0))
        dead_id = space.destination(
            dead.url,
            name="dead",
            delivery={"timeout_seconds": 0.5, "concurrency": 8, "batch_size": 1},
        )
        time.sleep(0.5)  # the processor rereads destinations every 0.2 s
        space.send(*(track(n, prefix="d") for n in range(40)))
        eventually(lambda: len(dead.requests) >= 8, what="the dead destination failing")
        beside = _p95(_latencies(space, healthy, "b", 100, 40.0))
        assert len(dead.requests) >= 16, "the dead destination kept failing meanwhile"
    assert beside < 1.0
    assert beside < alone * 2 + 0.15, (alone, beside)
    health = space.ok("GET", f"/{dead_id}/health")
    assert health["queue"]["retrying"] + health["queue"]["pending"] > 0
