"""Retention: the time to drop one day of the event log holding 1,000,000 events, against
deleting the same rows by time (the baseline, measured in the same run), and the time
migration 0021 takes to partition an existing log, per million rows.

    .venv/bin/python -m bench.retention                 # 1,000,000 events
    .venv/bin/python -m bench.retention --events 200000 --skip-migration

Each part runs on embedded PostgreSQL in a fresh data directory. The events are loaded with one
``INSERT ... SELECT generate_series`` (payloads ~350 bytes, shaped like stored track calls).
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

from headwater.log import partitions
from headwater.privacy import WindowIn, apply_retention, maintain, retention_plan, set_windows
from headwater.privacy.windows import Store
from headwater.storage import connected, create_engine, migrate
from headwater.storage.database import _MIGRATIONS
from headwater.storage.embedded import EmbeddedPostgres
from headwater.workspaces import bootstrap

__all__ = ["TARGET_SECONDS", "main", "measure_retention"]

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
            await partitions.ensure_days(tx, [day.date()])
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
            await partitions.ensure_days(tx, [day.date()])
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
    with tempfile.TemporaryDirectory(prefix="headwater-bench-") as data_dir:
        embedded = EmbeddedPostgres(Path(data_dir))

        async def run() -> dict[str, float]:
            url = await embedded.start()
            try:
                if part == "retention":
                    return await _retention(url, events)
                return await _migration(url, events)
            finally:
                await embedded.stop()

        return asyncio.run(run())


def measure_retention(events: int) -> dict[str, float]:
    """The drop of a day of ``events`` events and the baseline, on a fresh PostgreSQL (what
    ``bench.privacy`` prints as its retention figure)."""
    return _on_fresh_postgres("retention", events)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
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
    if not args.skip_migration:
        m = _on_fresh_postgres("migration", args.events)
        per_million = m["migrate_s"] / m["rows"] * 1_000_000
        print(
            f"migration 0021 over {m['rows']:,.0f} events (10 days): {m['migrate_s']:.1f} s,"
            f" {per_million:.1f} s per million rows (loading them took {m['load_s']:.1f} s)"
        )


if __name__ == "__main__":
    main()
