"""Identity benchmark: the processor's identity and profile stage, and the Profile API.

    .venv/bin/python -m bench.identity [--people 200000] [--seconds 10]

1. Generates events for ``--people`` people (5 on average each, 1,000,000 for 200,000 people):
   anonymous page views and tracks on one device, a fifth of the people on a second device,
   each device's session ending with an identify (userId, email, traits).
2. Appends them to the event log of a fresh embedded PostgreSQL (through the log's own append,
   as collection does), then drains them with one processor: first with no stage (the
   baseline: reading the log and committing offsets), then, on a copy of the log position,
   with the identity and profile stage. Prints events/s for both and the ratio.
3. Starts ``headwater serve`` on that database (processor off) and reads profiles through the
   Profile API from a separate process (random people, user_id, anonymous_id and email
   lookups, traits and external_ids) beside ``/health`` on the same server as the baseline.
   Prints requests/s and p50/p99.

Targets on a 2-core machine: >= 10,000 events/s through identity and profiles with one
processor; Profile API p99 under 20 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psutil
import uvloop

from bench.ingest import ADMIN_TOKEN, fresh_database, serve_on
from bench.load import Connection, Result, connect, open_loop
from headwater.log import LogRecord, PostgresLog
from headwater.pipeline import Processor
from headwater.profiles import ProfileStage
from headwater.runtime import tune_garbage_collector
from headwater.settings import Settings
from headwater.spec import Envelope, Event, normalise
from headwater.storage import create_engine
from headwater.telemetry.metrics import Metrics

START = datetime(2026, 1, 1, tzinfo=UTC)


def people_events(people: int, seed: int = 7) -> list[dict[str, Any]]:
    """Messages in the order a site would send them, five per person on average: four
    anonymous ones and an identify on one device, or two sessions of one or two anonymous ones
    and an identify each on two devices (a fifth of the people)."""
    rng = random.Random(seed)
    messages: list[dict[str, Any]] = []
    for person in range(people):
        devices = 2 if rng.random() < 0.2 else 1
        at = START + timedelta(seconds=rng.randrange(30 * 86400))
        for device in range(devices):
            anonymous = f"anon-{person}-{device}"
            for step in range(rng.choice((3, 4, 5)) if devices == 1 else rng.choice((1, 2))):
                at += timedelta(seconds=rng.randrange(1, 600))
                kind = "page" if step % 2 == 0 else "track"
                message: dict[str, Any] = {"type": kind, "anonymousId": anonymous}
                message |= {"name": "Home"} if kind == "page" else {"event": "Product Viewed"}
                message |= {"timestamp": at.isoformat(), "properties": {"step": step}}
                messages.append(message)
            at += timedelta(seconds=rng.randrange(1, 600))
            messages.append(
                {
                    "type": "identify",
                    "anonymousId": anonymous,
                    "userId": f"user-{person}",
                    "traits": {"email": f"person{person}@example.com", "plan": "free"},
                    "timestamp": at.isoformat(),
                }
            )
    return messages


def as_events(messages: list[dict[str, Any]]) -> list[Event]:
    envelope = Envelope(received_at=datetime.now(UTC))
    events = []
    for index, message in enumerate(messages):
        result = normalise(message, index=index, route_type=None, envelope=envelope)
        assert isinstance(result, Event), result
        events.append(result)
    return events


async def load_log(engine: Any, log: PostgresLog, events: list[Event]) -> float:
    started = time.perf_counter()
    for start in range(0, len(events), 5000):
        chunk = events[start : start + 5000]
        await log.append([LogRecord(workspace_id=1, source_id=1, event=e) for e in chunk])
    return time.perf_counter() - started


def _postgres_cpu(data_dir: str) -> float:
    """CPU seconds used so far by the PostgreSQL serving ``data_dir`` (postmaster and backends;
    backends that exited are not counted, so connections must stay open across a phase)."""
    total = 0.0
    for process in psutil.process_iter(["cmdline"]):
        if data_dir in " ".join(process.info["cmdline"] or ()):
            for member in (process, *process.children(recursive=True)):
                with contextlib.suppress(psutil.NoSuchProcess):
                    times = member.cpu_times()
                    total += times.user + times.system
    return total


async def drain(processor: Processor, total: int) -> float:
    started = time.perf_counter()
    done = 0
    while done < total:
        processed = await processor.drain()
        if processed == 0:
            raise SystemExit(f"the processor stopped after {done} of {total} events")
        done += processed
    return time.perf_counter() - started


async def process(
    url: str, events: list[Event], settings: Settings, data_dir: str
) -> dict[str, float]:
    engine = create_engine(url, pool_size=settings.processor_connections())
    log = PostgresLog(engine, settings.log_partitions)
    loaded = await load_log(engine, log, events)
    # The garbage collector as `headwater serve` and `headwater worker` set it up after
    # start-up; here it also freezes the generated events out of its scans (a million of them
    # in the official run, which a worker does not hold).
    tune_garbage_collector()
    baseline = Processor(
        engine=engine,
        log=log,
        settings=settings,
        metrics=Metrics(),
        stages=[],
        name="bench-baseline",
    )
    bare = await drain(baseline, len(events))
    full = Processor(
        engine=engine, log=log, settings=settings, metrics=Metrics(), stages=[ProfileStage()]
    )
    python_cpu, postgres_cpu = time.process_time(), _postgres_cpu(data_dir)
    identity = await drain(full, len(events))
    python_cpu = time.process_time() - python_cpu
    postgres_cpu = _postgres_cpu(data_dir) - postgres_cpu
    conflicts = full.metrics.sample(
        "headwater_consumer_conflicts_total", {"consumer": full.consumer.name}
    )
    async with engine.connect() as connection:
        live = await connection.exec_driver_sql(
            "SELECT count(*) FROM profiles WHERE kind = 'user' AND merged_into IS NULL"
        )
        profiles = int(live.scalar_one())
    await log.close()
    await engine.dispose()
    return {
        "load_events_per_s": len(events) / loaded,
        "baseline_events_per_s": len(events) / bare,
        "identity_events_per_s": len(events) / identity,
        "python_us_per_event": python_cpu / len(events) * 1e6,
        "postgres_us_per_event": postgres_cpu / len(events) * 1e6,
        "live_profiles": profiles,
        "conflicts": conflicts or 0.0,
    }


def _get(people: int, path_of: Any) -> Any:
    """A builder of raw GET requests for random people (seeded: runs read the same people)."""
    rng = random.Random(3)
    auth = base64.b64encode(f"{ADMIN_TOKEN}:".encode()).decode()

    def raw(_: int) -> bytes:
        path = path_of(rng.randrange(people), rng)
        return (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic {auth}\r\n\r\n"
        ).encode()

    return raw


async def read_profiles(port: int, people: int, seconds: float, path_of: Any) -> Result:
    """Closed loop: 16 clients read as fast as answers come back (the maximum rate)."""
    result = Result()
    raw = _get(people, path_of)
    connections: list[Connection] = [await connect("127.0.0.1", port) for _ in range(16)]
    deadline = time.perf_counter() + seconds

    async def client(connection: Connection) -> None:
        while time.perf_counter() < deadline:
            request = raw(0)
            started = time.perf_counter()
            status = await connection.request(request)
            result.latencies.append(time.perf_counter() - started)
            result.requests += 1
            result.errors += status != 200

    started = time.perf_counter()
    await asyncio.gather(*(client(c) for c in connections))
    result.seconds = time.perf_counter() - started
    return result


RATE = 300
"""The steady read rate for the latency target: three times Segment's limit of 100 requests/s
per space."""


def profile_path(person: int, rng: random.Random) -> str:
    lookup = rng.choice(
        (
            f"user_id:user-{person}",
            f"anonymous_id:anon-{person}-0",
            f"email:person{person}@example.com",
        )
    )
    tail = rng.choice(("traits", "external_ids"))
    return f"/v1/spaces/default/collections/users/profiles/{lookup}/{tail}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=200_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()

    messages = people_events(args.people)
    print(f"{len(messages)} events for {args.people} people")
    events = as_events(messages)
    with fresh_database() as (url, data_dir):
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:  # as the worker
            figures = runner.run(process(url, events, Settings(database_url=url), data_dir))
        print(f"loaded the log at {figures['load_events_per_s']:.0f} events/s")
        print(
            f"processor, no stage (baseline): {figures['baseline_events_per_s']:.0f} events/s\n"
            f"processor, identity + profiles: {figures['identity_events_per_s']:.0f} events/s"
            f"  ratio {figures['identity_events_per_s'] / figures['baseline_events_per_s']:.2f}"
            f"  ({figures['live_profiles']} live user profiles)\n"
            f"  CPU per event: processor {figures['python_us_per_event']:.0f} µs,"
            f" PostgreSQL {figures['postgres_us_per_event']:.0f} µs\n"
            f"  batches rolled back by a deadlock and retried: {figures['conflicts']:.0f}"
        )
        reads = _serve_and_read(url, args.people, args.seconds, data_dir)
    for name, result in reads.items():
        summary = result.summary()
        print(
            f"{name:<12} {summary['requests_per_s']:>8.0f} req/s  p50 {summary['p50_ms']:.2f} ms"
            f"  p99 {summary['p99_ms']:.2f} ms  errors {summary['errors']:.0f}"
        )
    api, health = reads["profile api"].summary(), reads["/health"].summary()
    steady = reads[f"profile api at {RATE}/s"].summary()
    print(f"ratio profile api / health: {api['requests_per_s'] / health['requests_per_s']:.2f}")
    fast = figures["identity_events_per_s"] >= 10_000
    print(f"target >= 10,000 events/s: {'met' if fast else 'MISSED'}")
    print(
        f"target Profile API p99 < 20 ms at {RATE} req/s (16 concurrent readers):"
        f" {'met' if steady['p99_ms'] < 20 else 'MISSED'}"
    )


def _serve_and_read(url: str, people: int, seconds: float, data_dir: str) -> dict[str, Result]:
    with serve_on(url, data_dir) as port:
        httpx.get(f"http://127.0.0.1:{port}/health")
        return {
            "profile api": asyncio.run(read_profiles(port, people, seconds, profile_path)),
            "/health": asyncio.run(read_profiles(port, people, seconds, lambda *_: "/health")),
            f"profile api at {RATE}/s": asyncio.run(
                open_loop("127.0.0.1", port, _get(people, profile_path), RATE, seconds, 16)
            ),
        }


if __name__ == "__main__":
    main()
