"""Delivery benchmark: throughput to a batching webhook, and end-to-end latency at a steady rate
with and without a second, failing destination.

    .venv/bin/python -m bench.delivery [--events 100000] [--seconds 20] [--rate 1000]

Starts ``bench.sink`` (uvicorn + uvloop, its own process) and ``headwater serve`` (embedded
PostgreSQL in a temporary data directory), then:

1. **throughput**: with delivery off, ingests ``--events`` events (500 per request) and waits
   until the processor has queued them all for one webhook destination (batches of 500, 4
   senders); restarts Headwater with delivery on and times the queue's drain to the sink:
   deliveries/s, from the restarted server's readiness to the last event received;
2. **latency alone**: ``--rate`` events/s (10 per request, open loop) for ``--seconds``;
   p50/p95 received (Headwater's ``receivedAt``) to delivered (the sink's clock);
3. **latency beside a failing destination**: the same, with a second destination whose
   endpoint answers 500 after one second, every time (8 senders, batches of 100).

Targets on this machine: >= 10,000 deliveries/s; p95 < 1 s end to end, unchanged by the
failing destination. The processor's lag (sampled from ``/metrics``) is printed beside the
latency: the part of it spent before the routing stage queued the event.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bench.ingest import ADMIN_TOKEN, WRITE_KEY, free_port, wait_ready

HEADERS = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@contextmanager
def sink() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.sink:app",
            "--port",
            str(port),
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--no-access-log",
            "--log-level",
            "warning",
        ]
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}/stats", process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextmanager
def headwater(data_dir: str, *, delivery: bool) -> Iterator[str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADWATER_")}
    env |= {
        "HEADWATER_DATA_DIR": data_dir,
        "HEADWATER_ADMIN_TOKEN": ADMIN_TOKEN,
        "HEADWATER_LOG_LEVEL": "warning",
        "HEADWATER_WORKERS": "1",  # the figures in docs/performance.md are one process's
        "HEADWATER_RUN_DELIVERY": "true" if delivery else "false",
    }
    with (Path(data_dir) / "server.log").open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "headwater", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_ready(f"http://127.0.0.1:{port}/ready", process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=60)


def _events(phase: str, start: int, count: int) -> list[dict[str, Any]]:
    return [
        {
            "type": "track",
            "event": "Order Completed",
            "userId": f"user-{n % 5000}",
            "messageId": f"{phase}-{n}",
            "properties": {"order": n, "total": 19.99, "currency": "EUR"},
        }
        for n in range(start, start + count)
    ]


async def _ingest(url: str, phase: str, total: int, per_request: int = 500) -> None:
    async with httpx.AsyncClient(auth=(WRITE_KEY, ""), timeout=60) as client:
        queue = list(range(0, total, per_request))

        async def worker() -> None:
            while queue:
                start = queue.pop()
                body = {"batch": _events(phase, start, min(per_request, total - start))}
                (await client.post(f"{url}/v1/batch", json=body)).raise_for_status()

        await asyncio.gather(*(worker() for _ in range(8)))


async def _steady(
    url: str, phase: str, rate: float, seconds: float, per_request: int = 10
) -> list[float]:
    """Open loop: a request of ``per_request`` events every ``per_request / rate`` seconds.
    Return the processor's lag (``headwater_consumer_lag_seconds``) sampled every 0.5 s."""
    interval = per_request / rate
    lags: list[float] = []
    async with httpx.AsyncClient(auth=(WRITE_KEY, ""), timeout=30) as client:
        tasks = []
        begin = time.monotonic()
        sampled = begin
        for index in range(int(seconds / interval)):
            await asyncio.sleep(max(0.0, begin + index * interval - time.monotonic()))
            body = {"batch": _events(phase, index * per_request, per_request)}
            tasks.append(asyncio.create_task(client.post(f"{url}/v1/batch", json=body)))
            if time.monotonic() - sampled > 0.5:
                sampled = time.monotonic()
                tasks.append(asyncio.create_task(client.get(f"{url}/metrics")))
        for response in await asyncio.gather(*tasks):
            response.raise_for_status()
            if response.request.url.path == "/metrics":
                lags.extend(
                    float(line.rsplit(" ", 1)[1])
                    for line in response.text.splitlines()
                    if line.startswith('headwater_consumer_lag_seconds{consumer="processor"}')
                )
    return lags


def _p95(values: list[float]) -> float:
    ordered = sorted(values) or [0.0]
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] * 1000


def _phase(sink_url: str, phase: str) -> dict[str, float]:
    return httpx.get(f"{sink_url}/stats").json().get(phase, {"count": 0})  # type: ignore[no-any-return]


def _wait_count(sink_url: str, phase: str, count: int, timeout: float = 300) -> dict[str, float]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = _phase(sink_url, phase)
        if found["count"] >= count:
            return found
        time.sleep(0.2)
    raise SystemExit(f"{phase}: {_phase(sink_url, phase)['count']} of {count} delivered")


def _destination(url: str, name: str, config: dict[str, Any], delivery: dict[str, Any]) -> int:
    response = httpx.post(
        f"{url}/api/v1/workspaces/default/destinations",
        json={"name": name, "kind": "webhook", "config": config, "delivery": delivery},
        headers=HEADERS,
    )
    response.raise_for_status()
    return int(response.json()["id"])


def _queued(url: str, destination: int) -> int:
    health = httpx.get(
        f"{url}/api/v1/workspaces/default/destinations/{destination}/health", headers=HEADERS
    ).json()
    return int(health["queue"]["pending"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=1000.0)
    args = parser.parse_args()
    run = uuid.uuid4().hex[:6]
    fill, alone, beside = f"fill{run}", f"alone{run}", f"beside{run}"
    with sink() as sink_url, tempfile.TemporaryDirectory(prefix="headwater-bench-") as data_dir:
        with headwater(data_dir, delivery=False) as url:
            httpx.post(
                f"{url}/api/v1/workspaces/default/sources",
                json={"name": "bench", "write_key": WRITE_KEY},
                headers=HEADERS,
            ).raise_for_status()
            hook = _destination(
                url, "sink", {"url": f"{sink_url}/ok", "batch_size": 500}, {"concurrency": 4}
            )
            started = time.monotonic()
            asyncio.run(_ingest(url, fill, args.events))
            while _queued(url, hook) < args.events:
                time.sleep(0.5)
            print(f"queued {args.events} deliveries in {time.monotonic() - started:.1f}s")
        with headwater(data_dir, delivery=True) as url:
            began = time.time()
            drained = _wait_count(sink_url, fill, args.events)
            throughput = args.events / (drained["last"] - began)
            lag_alone = _p95(asyncio.run(_steady(url, alone, args.rate, args.seconds)))
            quiet = _wait_count(sink_url, alone, int(args.seconds * args.rate))
            _destination(
                url,
                "failing",
                {"url": f"{sink_url}/fail", "batch_size": 100},
                {"concurrency": 8, "timeout_seconds": 5},
            )
            time.sleep(3)  # the processor and the workers pick the new destination up
            lag_beside = _p95(asyncio.run(_steady(url, beside, args.rate, args.seconds)))
            noisy = _wait_count(sink_url, beside, int(args.seconds * args.rate))
    print(f"throughput       {throughput:>10,.0f} deliveries/s  ({args.events:,} events)")
    print(
        f"{'latency':<17}{'p50 ms':>10}{'p95 ms':>10}{'processor lag p95 ms':>22}"
        f"   at {args.rate:,.0f} events/s"
    )
    print(f"{'  alone':<17}{quiet['p50_ms']:>10.0f}{quiet['p95_ms']:>10.0f}{lag_alone:>22.0f}")
    print(
        f"{'  with failing':<17}{noisy['p50_ms']:>10.0f}{noisy['p95_ms']:>10.0f}{lag_beside:>22.0f}"
    )
    print(f"ratio p95 with/without failing destination: {noisy['p95_ms'] / quiet['p95_ms']:.2f}")
    checks = [
        (">= 10,000 deliveries/s", throughput >= 10_000),
        ("p95 < 1 s alone", quiet["p95_ms"] < 1000),
        ("p95 < 1 s beside a failing destination", noisy["p95_ms"] < 1000),
    ]
    for label, ok in checks:
        print(f"target {label}: {'met' if ok else 'MISSED'}")


if __name__ == "__main__":
    main()
