"""Tracking plan benchmark: collection plus processing, without a plan and with a 100-event plan.

    .venv/bin/python -m bench.plans [--events 50000] [--rounds 3]

1. Starts ``headwater serve`` (processor off) on a fresh embedded PostgreSQL, with two sources:
   ``plain`` (no plan) and ``planned``, connected to a plan of 100 track events (6 properties
   each: strings, an enum, a number with a minimum, an integer, a boolean, a nested object; 3
   required) with ``violations: flag``.
2. After a warm-up (the plan compiled, caches filled), each round sends ``--events`` track
   events to each source in 10 alternating chunks: a chunk is posted through ``/v1/batch``
   (100 a request, 8 connections, every answer after its commit), then drained by one
   in-process processor running the default pipeline (tracking plans, identity and profiles,
   routing). Alternating keeps both sources on the same, growing, profile tables. Traffic
   has the same shape for both (new users each chunk, so identity does the same work): the
   100 event names over 5,000 users, 10% of messages invalid (a wrong type, a missing
   required property or an unplanned one).
3. Prints, per round and as the median, events/s through collection plus processing for both
   sources, and the ratio; then the cost of :meth:`CompiledPlan.check` alone (µs a message)
   and of compiling the plan.

Target: with the plan, throughput at least 80% of the throughput without (validation costs
under 20%).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from typing import Any

import httpx
import msgspec

from bench.ingest import ADMIN_TOKEN, fresh_database, serve_on
from headwater.log import PostgresLog
from headwater.pipeline import Processor
from headwater.protocols import Enforcement, parse_plan
from headwater.protocols.validate import compile_plan
from headwater.settings import Settings
from headwater.storage import create_engine
from headwater.telemetry.metrics import Metrics

EVENTS = 100
CHUNKS = 10


def plan_document() -> dict[str, Any]:
    """A plan of ``EVENTS`` track events with 6 typed properties each."""
    events = []
    for number in range(EVENTS):
        events.append(
            {
                "name": f"Event {number}",
                "schema": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string", "pattern": "^[a-z0-9-]+$"},
                        "plan": {"type": "string", "enum": ["free", "pro", "team"]},
                        "amount": {"type": "number", "minimum": 0},
                        "count": {"type": "integer"},
                        "trial": {"type": "boolean"},
                        "page": {
                            "type": "object",
                            "properties": {"path": {"type": "string"}, "title": {"type": "string"}},
                        },
                    },
                    "required": ["id", "plan", "amount"],
                },
            }
        )
    return {"name": "Bench", "events": events}


def traffic(count: int, prefix: str, seed: int = 11) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    messages = []
    for index in range(count):
        properties: dict[str, Any] = {
            "id": f"o-{index}",
            "plan": rng.choice(("free", "pro", "team")),
            "amount": round(rng.random() * 100, 2),
            "count": rng.randrange(10),
            "trial": rng.random() < 0.5,
            "page": {"path": "/checkout", "title": "Checkout"},
        }
        if rng.random() < 0.1:
            broken = rng.randrange(3)
            if broken == 0:
                properties["amount"] = "lots"
            elif broken == 1:
                del properties["plan"]
            else:
                properties["colour"] = "red"
        messages.append(
            {
                "type": "track",
                "event": f"Event {rng.randrange(EVENTS)}",
                "userId": f"{prefix}-user-{rng.randrange(5000)}",
                "messageId": f"{prefix}-{index}",
                "properties": properties,
            }
        )
    return messages


async def collect(url: str, write_key: str, messages: list[dict[str, Any]]) -> float:
    bodies = [
        msgspec.json.encode({"batch": messages[i : i + 100]}) for i in range(0, len(messages), 100)
    ]
    queue = iter(bodies)
    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=url, auth=(write_key, ""), timeout=60) as client:

        async def sender() -> None:
            for body in queue:
                answer = await client.post(
                    "/v1/batch", content=body, headers={"Content-Type": "application/json"}
                )
                answer.raise_for_status()

        await asyncio.gather(*(sender() for _ in range(8)))
    return time.perf_counter() - started


async def drain(processor: Processor, total: int) -> float:
    started = time.perf_counter()
    done = 0
    while done < total:
        processed = await processor.drain()
        if processed == 0:
            raise SystemExit(f"the processor stopped after {done} of {total} events")
        done += processed
    return time.perf_counter() - started


async def rounds(url: str, port: int, events: int, count: int) -> list[dict[str, float]]:
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as api:
        keys = {}
        for name in ("plain", "planned"):
            source = (
                await api.post("/api/v1/workspaces/default/sources", json={"name": name})
            ).json()
            keys[name] = (source["id"], source["write_key"])
        created = await api.post("/api/v1/workspaces/default/tracking-plans", json=plan_document())
        created.raise_for_status()
        connected = await api.put(
            f"/api/v1/workspaces/default/sources/{keys['planned'][0]}/tracking-plan",
            json={"plan": "bench", "settings": {"violations": "flag"}},
        )
        connected.raise_for_status()
    settings = Settings(database_url=url)
    engine = create_engine(url, pool_size=4)
    log = PostgresLog(engine, settings.log_partitions)
    processor = Processor(engine=engine, log=log, settings=settings, metrics=Metrics())
    for name in ("plain", "planned"):  # warm up: compile the plan, fill the caches
        await collect(base, keys[name][1], traffic(500, f"warm-{name}"))
        await drain(processor, 500)
    figures = []
    chunk = max(events // CHUNKS, 100)
    for number in range(count):
        seconds = {f"{name}_{part}": 0.0 for name in keys for part in ("collect", "process")}
        # Small alternating chunks: the profile tables grow as the run goes on, and both
        # sources must see the same tables.
        for step in range(CHUNKS):
            for name in ("plain", "planned") if step % 2 == 0 else ("planned", "plain"):
                messages = traffic(chunk, f"{name}-{number}-{step}", seed=number * 100 + step)
                seconds[f"{name}_collect"] += await collect(base, keys[name][1], messages)
                seconds[f"{name}_process"] += await drain(processor, chunk)
        total = chunk * CHUNKS
        row = {key: total / value for key, value in seconds.items()}
        for name in keys:
            row[name] = total / (seconds[f"{name}_collect"] + seconds[f"{name}_process"])
        row["ratio"] = row["planned"] / row["plain"]
        figures.append(row)
        print(
            f"round {number + 1}: no plan {row['plain']:,.0f} events/s"
            f" (collect {row['plain_collect']:,.0f}, process {row['plain_process']:,.0f});"
            f" 100-event plan {row['planned']:,.0f} events/s"
            f" (collect {row['planned_collect']:,.0f}, process {row['planned_process']:,.0f});"
            f" ratio {row['ratio']:.2f}"
        )
    await log.close()
    await engine.dispose()
    return figures


def check_cost(events: int) -> tuple[float, float]:
    """Seconds to compile the plan; µs per message of ``check`` alone."""
    started = time.perf_counter()
    compiled = compile_plan(parse_plan(plan_document()))
    compiling = time.perf_counter() - started
    messages = traffic(events, "check")
    settings = Enforcement(violations="flag")
    started = time.perf_counter()
    for message in messages:
        compiled.check(message, settings)
    return compiling, (time.perf_counter() - started) / len(messages) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=30_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with fresh_database() as (url, data_dir), serve_on(url, data_dir) as port:
        figures = asyncio.run(rounds(url, port, args.events, args.rounds))
    ratios = [row["ratio"] for row in figures]
    plain = statistics.median(row["plain"] for row in figures)
    planned = statistics.median(row["planned"] for row in figures)
    print(
        f"median: no plan {plain:,.0f} events/s, 100-event plan {planned:,.0f} events/s,"
        f" ratio {statistics.median(ratios):.2f} (rounds {min(ratios):.2f}-{max(ratios):.2f})"
    )
    compiling, per_message = check_cost(args.events)
    print(f"compiling the plan: {compiling:.2f} s; check alone: {per_message:.1f} µs a message")
    met = statistics.median(ratios) >= 0.8
    print(f"target: validation costs < 20% ({'met' if met else 'MISSED'})")


if __name__ == "__main__":
    main()
