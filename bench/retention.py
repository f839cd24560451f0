"""Retention: the time to drop one day of the event log holding 1,000,000 events, and one day
of each smaller store (rejections, quarantine, dead letters, journey steps; 200,000 rows each),
against deleting the same rows by time (the baseline, measured in the same run), and the time
migration 0021 takes to partition an existing log, per million rows.

    .venv/bin/python -m bench.retention                 # 1,000,000 events, 200,000 rows a store
    .venv/bin/python -m bench.retention --events 200000 --rows 50000 --skip-migration

Each part runs on embedded PostgreSQL in a fresh data directory. The rows are loaded with one
``INSERT ... SELECT generate_series`` each (event payloads ~350 bytes, shaped like stored track
calls; the smaller stores' rows shaped like theirs).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater import collect, delivery, journeys, protocols
from headwater.log import partitions
from headwater.privacy import WindowIn, apply_retention, maintain, retention_plan, set_windows
from headwater.privacy.windows import Store
from headwater.storage import connected, create_engine, migrate
from headwater.storage.database import _MIGRATIONS
from headwater.storage.days import DayTable, ensure_days
from headwater.storage.embedded import EmbeddedPostgres
from headwater.workspaces import bootstrap

__all__ = ["TARGET_SECONDS", "main", "measure_retention", "measure_small_stores"]

TARGET_SECONDS = 1.0

_LOAD = """
INSERT INTO events (partition, workspace_id, source_id, message_id, type, name, user_id,
                    anonymous_id, timestamp, received_at, payload)
SELECT i % 16, 1, 1, 'bench-' || i, 'track', 'Order Completed', 'user-' || (i % 50000), NULL,
       $1::timestamptz + (i * interval '80 milliseconds'),
       $1::timestamptz + (i * interval '80 milliseconds'),
       jsonb_build_object(
           'type', 'track', 'event', 'Order Completed', 'messageId', 'bench-' || i,
           'userId', 'user-' || (i % 50000),
           'properties', jsonb_build_object('orderId', 'o-' || i, 'total', i % 500,
                                            'currency', 'EUR', 'coupon', 'WINTER'),
           'context', jsonb_build_object('library', jsonb_build_object(
               'name', 'analytics-python', 'version', '2.3.0'), 'ip', '203.0.113.9'),
           'timestamp', '2026-01-01T00:00:00.000Z', 'receivedAt', '2026-01-01T00:00:00.000Z')
FROM generate_series(0, $2 - 1) AS i
"""


async def _load(engine: AsyncEngine, day: datetime, events: int) -> float:
    """Load ``events`` rows into one day (at most 1,080,000 fit a day at 80 ms apart)."""
    started = time.perf_counter()
    async with connected(engine) as tx:
        await tx.driver.execute(_LOAD, day, events)
        await tx.driver.execute("ANALYZE events")
    return time.perf_counter() - started


async def _retention(url: str, events: int) -> dict[str, float]:
    engine = create_engine(url, pool_size=4)
    try:
        await migrate(engine)
        await bootstrap(engine)
        day = (datetime.now(UTC) - timedelta(days=20)).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        async with connected(engine) as tx:
            await ensure_days(tx, partitions.EVENTS, [day.date()])
        figures = {"load_s": await _load(engine, day, events)}
        await set_windows(
            engine,
            workspace="default",
            windows=[WindowIn(store=Store.EVENTS, days=7)],
            default_days=None,
        )
        started = time.perf_counter()
        plan = await retention_plan(engine, workspace="default", default_days=None)
        figures["dry_run_s"] = time.perf_counter() - started
        figures["planned_rows"] = plan["rows"]
        started = time.perf_counter()
        done = await apply_retention(engine, workspace="default", default_days=None)
        figures["drop_s"] = time.perf_counter() - started
        figures["dropped_rows"] = done["rows"]

        # The baseline: the same rows loaded again and deleted by time, as a table without
        # partitions would have to.
        await maintain(engine, default_days=None)
        async with connected(engine) as tx:
            await ensure_days(tx, partitions.EVENTS, [day.date()])
        await _load(engine, day, events)
        started = time.perf_counter()
        async with connected(engine) as tx:
            status = await tx.driver.execute(
                "DELETE FROM events WHERE received_at >= $1 AND received_at < $2",
                day,
                day + timedelta(days=1),
            )
        figures["delete_s"] = time.perf_counter() - started
        figures["deleted_rows"] = int(status.split()[-1])
    finally:
        await engine.dispose()
    return figures


_PAYLOAD = (
    "jsonb_build_object('type', 'track', 'event', 'Order Completed', 'messageId', 'bench-' || i)"
)
_SMALL: dict[Store, tuple[DayTable, str]] = {
    Store.REJECTIONS: (
        collect.REJECTION_DAYS,
        "INSERT INTO rejections (workspace_id, source_id, received_at, batch_index, type,"
        " message_id, reason, payload) SELECT 1, 1, $1::timestamptz + i * interval '80 ms', 0,"
        f" 'track', 'bench-' || i, 'missing userId', {_PAYLOAD}"
        " FROM generate_series(0, $2 - 1) AS i",
    ),
    Store.QUARANTINE: (
        protocols.QUARANTINE_DAYS,
        "INSERT INTO quarantine (workspace_id, source_id, message_id, type, name, reason,"
        " violations, payload, status, log_partition, log_offset, first_blocked_at, blocked_at)"
        " SELECT 1, 1, 'bench-' || i, 'track', 'Order Completed', 'violations',"
        ' \'[{"path": "properties.total", "message": "required"}]\','
        f" {_PAYLOAD}, 'quarantined', i % 16, i, $1::timestamptz + i * interval '80 ms',"
        " $1::timestamptz + i * interval '80 ms' FROM generate_series(0, $2 - 1) AS i",
    ),
    Store.DELIVERY_LOGS: (
        delivery.DEAD_LETTER_DAYS,
        "INSERT INTO dead_letters (destination_id, message_id, received_at, enqueued_at,"
        " failed_at, attempts, reason, error, payload) SELECT 1, 'bench-' || i,"
        " $1::timestamptz, $1::timestamptz, $1::timestamptz + i * interval '80 ms', 8,"
        f" 'failed', 'HTTP 500 from the destination', {_PAYLOAD}"
        " FROM generate_series(0, $2 - 1) AS i",
    ),
    Store.JOURNEY_HISTORY: (
        journeys.STEP_DAYS,
        # ten steps per instance, each instance entered on the day
        "WITH entered AS (INSERT INTO journey_instances (workspace_id, journey_id, version,"
        " profile_id, trigger_id, state, node_id, node_since, context, entered_at)"
        " SELECT 1, 1, 1, 'p-' || i, gen_random_uuid()::text,"
        " 'completed', 'end', $1::timestamptz, '{}', $1::timestamptz + i * interval '800 ms'"
        " FROM generate_series(0, $2 / 10 - 1) AS i RETURNING id, entered_at)"
        " INSERT INTO journey_steps (instance_id, step, journey_id, version, node_id, port,"
        " started_at, finished_at, entered_at) SELECT e.id, s, 1, 1, 'node-' || s, 'next',"
        " e.entered_at, e.entered_at, e.entered_at FROM entered e, generate_series(0, 9) AS s",
    ),
}

_OWNERS = (
    "INSERT INTO destinations (workspace_id, name, kind, config)"
    " VALUES (1, 'bench', 'webhook', '{}')",
    "INSERT INTO journeys (workspace_id, key, name, draft) VALUES (1, 'bench', 'bench', '{}')",
)


async def _load_small(engine: AsyncEngine, kind: Store, day: datetime, rows: int) -> None:
    table, load = _SMALL[kind]
    async with connected(engine) as tx:
        await ensure_days(tx, table, [day.date()])
        await tx.driver.execute(load, day, rows)
        await tx.driver.execute(f"ANALYZE {table.table}")


async def _small_stores(url: str, rows: int) -> dict[str, float]:
    """A day of each smaller store dropped by a workspace's apply, then the same rows loaded
    again and deleted by time."""
    engine = create_engine(url, pool_size=4)
    figures: dict[str, float] = {}
    try:
        await migrate(engine)
        await bootstrap(engine)
        async with connected(engine) as tx:
            for statement in _OWNERS:
                await tx.driver.execute(statement)
        day = (datetime.now(UTC) - timedelta(days=20)).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        for kind, (table, _) in _SMALL.items():
            await _load_small(engine, kind, day, rows)
            await set_windows(
                engine,
                workspace="default",
                windows=[WindowIn(store=kind, days=7)],
                default_days=None,
            )
            started = time.perf_counter()
            done = await apply_retention(engine, workspace="default", default_days=None)
            figures[f"{kind}_drop_s"] = time.perf_counter() - started
            figures[f"{kind}_dropped"] = done["rows"]
            await _load_small(engine, kind, day, rows)
            started = time.perf_counter()
            async with connected(engine) as tx:
                status = await tx.driver.execute(
                    f"DELETE FROM {table.table} WHERE {table.day_filter(day.date())}"
                )
            figures[f"{kind}_delete_s"] = time.perf_counter() - started
            figures[f"{kind}_deleted"] = int(status.split()[-1])
    finally:
        await engine.dispose()
    return figures


def _upgrade_to(connection: Connection, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def _migration(url: str, events: int) -> dict[str, float]:
    """Migration 0021 over a log of ``events`` rows spread over 10 days."""
    engine = create_engine(url, pool_size=2)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade_to, "0017")
        start = datetime(2026, 1, 1, tzinfo=UTC)
        per_day = events // 10
        loading = time.perf_counter()
        for n in range(10):
            await _load(engine, start + timedelta(days=n), per_day)
        loaded = time.perf_counter() - loading
        started = time.perf_counter()
        await migrate(engine)
        took = time.perf_counter() - started
    finally:
        await engine.dispose()
    return {"rows": per_day * 10, "load_s": loaded, "migrate_s": took}


def _on_fresh_postgres(part: str, events: int) -> dict[str, float]:
    """``part`` (retention, small, migration) on a PostgreSQL of its own."""
    with tempfile.TemporaryDirectory(prefix="headwater-bench-") as data_dir:
        embedded = EmbeddedPostgres(Path(data_dir))

        async def run() -> dict[str, float]:
            url = await embedded.start()
            try:
                if part == "retention":
                    return await _retention(url, events)
                if part == "small":
                    return await _small_stores(url, events)
                return await _migration(url, events)
            finally:
                await embedded.stop()

        return asyncio.run(run())


def measure_retention(events: int) -> dict[str, float]:
    """The drop of a day of ``events`` events and the baseline, on a fresh PostgreSQL (what
    ``bench.privacy`` prints as its retention figure)."""
    return _on_fresh_postgres("retention", events)


def measure_small_stores(rows: int) -> dict[str, float]:
    """A day of ``rows`` rows of each smaller store dropped, and the baseline, on a fresh
    PostgreSQL: ``<store>_drop_s``, ``<store>_delete_s`` and the rows of each."""
    return _on_fresh_postgres("small", rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--rows", type=int, default=200_000, help="rows a smaller store's day")
    parser.add_argument("--skip-migration", action="store_true")
    args = parser.parse_args()

    r = measure_retention(args.events)
    print(f"loaded {args.events:,} events into one day in {r['load_s']:.1f} s")
    print(f"dry run: {r['planned_rows']:,.0f} rows listed in {r['dry_run_s'] * 1000:.0f} ms")
    print(f"drop of the day (apply): {r['dropped_rows']:,.0f} rows in {r['drop_s'] * 1000:.0f} ms")
    print(
        f"baseline, DELETE by time: {r['deleted_rows']:,.0f} rows in {r['delete_s'] * 1000:.0f} ms"
        f"  ratio drop / delete {r['drop_s'] / r['delete_s']:.4f}"
    )
    met = r["drop_s"] < TARGET_SECONDS and r["dropped_rows"] >= args.events
    print(f"target: a day of {args.events:,} events dropped in < 1 s: {'met' if met else 'MISSED'}")
    small = measure_small_stores(args.rows)
    for kind in _SMALL:
        drop, delete = small[f"{kind}_drop_s"], small[f"{kind}_delete_s"]
        print(
            f"{kind}: drop of a day {small[f'{kind}_dropped']:,.0f} rows in {drop * 1000:.0f} ms;"
            f" baseline DELETE by time {small[f'{kind}_deleted']:,.0f} rows in"
            f" {delete * 1000:.0f} ms  ratio drop / delete {drop / delete:.4f}"
        )
    if not args.skip_migration:
        m = _on_fresh_postgres("migration", args.events)
        per_million = m["migrate_s"] / m["rows"] * 1_000_000
        print(
            f"migration 0021 over {m['rows']:,.0f} events (10 days): {m['migrate_s']:.1f} s,"
            f" {per_million:.1f} s per million rows (loading them took {m['load_s']:.1f} s)"
        )


if __name__ == "__main__":
    main()
