"""Audiences benchmark: the batch recompute of 10 audiences and 10 computed traits over
100,000 profiles and 2,000,000 events, and real-time membership latency.

    .venv/bin/python -m bench.audiences [--profiles 100000] [--events 2000000] [--samples 200]

1. Starts embedded PostgreSQL in a temporary directory and bulk-loads, in SQL
   (``INSERT ... SELECT`` over ``generate_series``, not through the processor), profiles with
   traits and a ``user_id`` identifier each, and track events spread over the last 120 days
   (``events`` and ``profile_events``, as the profile stage leaves them), then ``VACUUM
   ANALYZE``. The processor's offsets are set past the loaded events.
2. Baseline: one full read of the events the computations look at (a ``count`` over
   ``profile_events`` joined to ``events``), the floor of any recompute that reads properties.
3. Creates the 10 computed traits and 10 audiences below and recomputes them all
   (``audiences.recompute``: each in its own transaction, two at a time), then once more as
   the scheduler does (little changes). Target: under 60 s.
4. Runs the processor with its default stages and, ``--samples`` times, appends one
   ``Order Completed`` of a user outside ``buyers_30d`` to the event log (the append commits:
   that is when the tracking API acknowledges) and polls until the membership is visible in
   ``computed_values``. Target: p95 under 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bench.ingest import fresh_database
from headwater import audiences
from headwater.log import LogRecord, PostgresLog
from headwater.pipeline import Processor
from headwater.settings import Settings
from headwater.spec import Envelope, Event, normalise
from headwater.storage import create_engine, driver_connection
from headwater.telemetry.metrics import Metrics

TRAITS: dict[str, dict[str, Any]] = {
    "orders_90d": {"kind": "counter", "event": "Order Completed", "window": {"within_days": 90}},
    "revenue_90d": {
        "kind": "sum",
        "event": "Order Completed",
        "property": "total",
        "window": {"within_days": 90},
    },
    "avg_order": {"kind": "average", "event": "Order Completed", "property": "total"},
    "max_order": {"kind": "max", "event": "Order Completed", "property": "total"},
    "min_price_30d": {
        "kind": "min",
        "event": "Product Viewed",
        "property": "price",
        "window": {"within_days": 30},
    },
    "top_category": {"kind": "most_frequent", "event": "Product Viewed", "property": "category"},
    "first_category": {"kind": "first", "event": "Product Viewed", "property": "category"},
    "last_cart_category": {"kind": "last", "event": "Added to Cart", "property": "category"},
    "cart_categories_60d": {
        "kind": "unique_list",
        "event": "Added to Cart",
        "property": "category",
        "window": {"within_days": 60},
    },
    "viewed_categories_30d": {
        "kind": "unique_count",
        "event": "Product Viewed",
        "property": "category",
        "window": {"within_days": 30},
    },
}
AUDIENCES: dict[str, dict[str, Any]] = {
    "buyers_30d": {"type": "event", "event": "Order Completed", "window": {"within_days": 30}},
    "repeat_buyers": {
        "type": "event",
        "event": "Order Completed",
        "window": {"within_days": 90},
        "count": {"operator": "at_least", "value": 3},
    },
    "big_spenders": {"type": "trait", "trait": "revenue_90d", "operator": "at_least", "value": 500},
    "pro_plan": {"type": "trait", "trait": "plan", "operator": "equals", "value": "pro"},
    "shoe_lovers": {
        "type": "event",
        "event": "Product Viewed",
        "window": {"within_days": 30},
        "where": [{"property": "category", "operator": "equals", "value": "shoes"}],
        "count": {"operator": "at_least", "value": 2},
    },
    "cart_abandoners": {
        "type": "funnel",
        "first": {"event": "Added to Cart"},
        "then": {"event": "Order Completed"},
        "within_hours": 24,
        "followed": False,
        "window": {"within_days": 7},
    },
    "lapsed": {
        "type": "and",
        "conditions": [
            {"type": "event", "event": "Signed In", "window": {"between_days": [30, 90]}},
            {
                "type": "event",
                "event": "Signed In",
                "window": {"within_days": 30},
                "performed": False,
            },
        ],
    },
    "enterprise_or_big": {
        "type": "or",
        "conditions": [
            {"type": "trait", "trait": "plan", "operator": "equals", "value": "enterprise"},
            {"type": "trait", "trait": "seats", "operator": "at_least", "value": 50},
        ],
    },
    "recent_signups": {
        "type": "trait",
        "trait": "signed_up_at",
        "operator": "within_last_days",
        "value": 30,
    },
    "pro_buyers": {
        "type": "and",
        "conditions": [
            {"type": "audience", "audience": "buyers_30d"},
            {"type": "audience", "audience": "pro_plan"},
        ],
    },
}

_PROFILES = """
INSERT INTO profiles (id, workspace_id, kind, first_ts, first_message_id, last_ts,
    last_message_id, traits)
SELECT 'prf_' || lpad(i::text, 8, '0'), 1, 'user', now(), 'seed', now(), 'seed',
    jsonb_build_object(
        'plan', jsonb_build_object('v', (ARRAY['free', 'pro', 'enterprise'])[1 + i % 3],
                                   't', now(), 'm', 'seed'),
        'seats', jsonb_build_object('v', i % 97, 't', now(), 'm', 'seed'),
        'signed_up_at', jsonb_build_object(
            'v', to_char((now() - (i % 365) * interval '1 day') AT TIME ZONE 'UTC',
                         'YYYY-MM-DD"T"HH24:MI:SS"Z"'), 't', now(), 'm', 'seed'))
FROM generate_series(1, $1) AS i
"""
_IDENTIFIERS = """
INSERT INTO identifiers (workspace_id, kind, type, value, profile_id, added_at, message_id)
SELECT 1, 'user', 'user_id', 'user-' || i, 'prf_' || lpad(i::text, 8, '0'), now(), 'seed'
FROM generate_series(1, $1) AS i
"""
_EVENTS = """
INSERT INTO events (partition, workspace_id, source_id, message_id, type, name, user_id,
    timestamp, received_at, payload)
SELECT 0, 1, 1, 'b' || n, 'track', name, 'user-' || p, ts, ts,
    jsonb_build_object('type', 'track', 'event', name, 'userId', 'user-' || p,
                       'messageId', 'b' || n, 'timestamp', ts, 'properties', jsonb_build_object(
        'category', (ARRAY['shoes', 'hats', 'bags', 'shirts', 'socks', 'belts', 'coats',
                           'scarves', 'gloves', 'boots'])[1 + c],
        'price', round((r * 200)::numeric, 2), 'total', round((r * 300)::numeric, 2)))
FROM (SELECT n, 1 + (hashint4(n) & 2147483647) % $2 AS p,
             now() - random() * interval '120 days' AS ts, random() AS r,
             floor(random() * 10)::int AS c, random() AS k
      FROM generate_series(1, $1) AS n) AS g,
LATERAL (SELECT CASE WHEN k < 0.5 THEN 'Product Viewed' WHEN k < 0.7 THEN 'Added to Cart'
                     WHEN k < 0.8 THEN 'Order Completed' ELSE 'Signed In' END AS name) AS nm
"""
_PROFILE_EVENTS = """
INSERT INTO profile_events (workspace_id, kind, message_id, profile_id, seq, timestamp, type,
    name, mentions)
SELECT workspace_id, 'user', message_id, 'prf_' || lpad(substr(user_id, 6), 8, '0'), seq,
    timestamp, type, name, '[]'
FROM events
"""


async def load(engine: AsyncEngine, profiles: int, events: int, partitions: int) -> float:
    started = time.perf_counter()
    async with engine.begin() as connection:
        driver = await driver_connection(connection)
        await driver.execute("SELECT setseed(0.7)")
        await driver.execute(_PROFILES, profiles)
        await driver.execute(_IDENTIFIERS, profiles)
        await driver.execute(_EVENTS, events, profiles)
        await driver.execute(_PROFILE_EVENTS)
        await driver.execute(
            "INSERT INTO log_offsets (consumer, partition, committed)"
            " SELECT 'processor', p, (SELECT max(seq) FROM events)"
            " FROM generate_series(0, $1 - 1) AS p",
            partitions,
        )
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.exec_driver_sql("VACUUM ANALYZE")
    return time.perf_counter() - started


async def baseline(engine: AsyncEngine) -> float:
    started = time.perf_counter()
    async with engine.connect() as connection:
        await connection.exec_driver_sql(
            "SELECT count(*), sum((e.payload -> 'properties' ->> 'total')::numeric)"
            " FROM profile_events pe JOIN events e ON e.seq = pe.seq"
        )
    return time.perf_counter() - started


async def recompute_all(engine: AsyncEngine) -> tuple[float, list[dict[str, Any]]]:
    for key, body in TRAITS.items():
        await audiences.create(
            engine,
            workspace="default",
            kind="trait",
            key=key,
            name=key,
            definition={"version": 1, **body},
        )
    for key, condition in AUDIENCES.items():
        await audiences.create(
            engine,
            workspace="default",
            kind="audience",
            key=key,
            name=key,
            definition={"version": 1, "condition": condition},
        )
    started = time.perf_counter()
    results = await audiences.recompute(engine, workspace="default", now=datetime.now(UTC))
    return time.perf_counter() - started, results


async def real_time(engine: AsyncEngine, settings: Settings, samples: int) -> list[float]:
    log = PostgresLog(engine, settings.log_partitions)
    processor = Processor(engine=engine, log=log, settings=settings, metrics=Metrics())
    stop = asyncio.Event()
    running = asyncio.create_task(processor.run(stop))
    async with engine.connect() as connection:
        buyers = (
            await connection.exec_driver_sql("SELECT id FROM computations WHERE key = 'buyers_30d'")
        ).scalar_one()
        outside = [
            row[0]
            for row in await connection.exec_driver_sql(
                "SELECT p.id FROM profiles p WHERE NOT EXISTS (SELECT 1 FROM computed_values v"
                f" WHERE v.computation_id = {buyers} AND v.profile_id = p.id) ORDER BY p.id"
                f" LIMIT {samples}"
            )
        ]
    latencies = []
    try:
        await asyncio.sleep(2)  # leases claimed
        for pid in outside:
            user = f"user-{int(pid[4:])}"
            message = {
                "type": "track",
                "userId": user,
                "event": "Order Completed",
                "properties": {"total": 12.5},
            }
            event = normalise(
                message, index=0, route_type=None, envelope=Envelope(received_at=datetime.now(UTC))
            )
            assert isinstance(event, Event)
            await log.append([LogRecord(workspace_id=1, source_id=1, event=event)])
            acknowledged = time.perf_counter()
            while True:
                async with engine.connect() as connection:
                    found = await connection.exec_driver_sql(
                        "SELECT 1 FROM computed_values WHERE computation_id = $1"
                        " AND profile_id = $2",
                        (buyers, pid),
                    )
                    if found.first() is not None:
                        break
                await asyncio.sleep(0.005)
            latencies.append(time.perf_counter() - acknowledged)
    finally:
        stop.set()
        await running
        await log.close()
    return latencies


async def run(url: str, args: argparse.Namespace) -> None:
    settings = Settings(database_url=url)
    engine = create_engine(url, pool_size=4)
    try:
        loaded = await load(engine, args.profiles, args.events, settings.log_partitions)
        print(f"bulk-loaded {args.profiles} profiles and {args.events} events in {loaded:.1f} s")
        floor = await baseline(engine)
        print(f"baseline: one read of every event with its properties: {floor:.1f} s")
        seconds, results = await recompute_all(engine)
        for result in results:
            print(f"  {result['key']:<24} {result['seconds']:>6.2f} s  entered {result['entered']}")
        print(
            f"full recompute, 10 traits + 10 audiences: {seconds:.1f} s"
            f"  ({seconds / 60:.2f} of the 60 s target, {seconds / floor:.1f}x the baseline)"
        )
        started = time.perf_counter()
        again = await audiences.recompute(engine, workspace="default", now=datetime.now(UTC))
        steady = time.perf_counter() - started
        changed = sum(r["entered"] + r["exited"] + r["updated"] for r in again)
        print(
            f"again, as the scheduler does ({changed} changes): {steady:.1f} s"
            f"  ({steady / 60:.2f} of the target, {steady / floor:.1f}x the baseline)"
        )
        latencies = sorted(await real_time(engine, settings, args.samples))
        p50 = statistics.median(latencies)
        p95 = latencies[int(len(latencies) * 0.95) - 1]
        print(
            f"real time, ack to membership visible: p50 {p50 * 1000:.0f} ms"
            f"  p95 {p95 * 1000:.0f} ms  max {latencies[-1] * 1000:.0f} ms"
            f"  ({p95:.2f} of the 1 s target; {len(latencies)} samples)"
        )
        print(f"target full recompute < 60 s: {'met' if seconds < 60 else 'MISSED'}")
        print(f"target real-time p95 < 1 s: {'met' if p95 < 1 else 'MISSED'}")
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()
    with fresh_database() as (url, _):
        asyncio.run(run(url, args))


if __name__ == "__main__":
    main()
