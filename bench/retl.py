"""Reverse ETL: a model of 1,000,000 rows in PostgreSQL synced to profiles (identify, upsert),
then 1% of its rows changed (updates, a few inserts and deletes) and synced again: the second
run's time (read the model, diff it against the state, send and record the changes), against
a plain read of the model's rows measured in the same run (the baseline), and the first run.

    .venv/bin/python -m bench.retl                 # 1,000,000 rows, 1% changed
    .venv/bin/python -m bench.retl --rows 200000

Runs on embedded PostgreSQL in a fresh data directory, holding two databases: Headwater's own
and the customer's (``shop``, its ``customers`` table loaded with ``generate_series``). The
sync goes through the real collector into the event log, as ``headwater serve`` runs it.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from contextlib import aclosing
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from headwater import retl
from headwater.collect import Collector
from headwater.log import PostgresLog
from headwater.retl import SyncTask
from headwater.retl.source import SourceDatabase
from headwater.settings import Settings
from headwater.storage import create_engine, migrate
from headwater.storage.embedded import EmbeddedPostgres
from headwater.telemetry.metrics import Metrics
from headwater.workspaces import create_source, create_workspace

__all__ = ["TARGET_SECONDS", "main", "measure"]

TARGET_SECONDS = 30.0
_QUERY = "SELECT id, email, plan, seats, country FROM customers"


async def _admin(url: str, database: str, *statements: str) -> None:
    parsed = make_url(url)
    connection = await asyncpg.connect(
        host=parsed.query.get("host") or parsed.host,
        port=parsed.port,
        user=parsed.username,
        database=database,
    )
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


def _url(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


async def _load_customer(url: str, rows: int) -> float:
    await _admin(url, "postgres", "CREATE DATABASE shop")
    started = time.perf_counter()
    await _admin(
        url,
        "shop",
        "CREATE TABLE customers (id bigint PRIMARY KEY, email text, plan text, seats int,"
        " country text)",
        "INSERT INTO customers SELECT n, 'user' || n || '@example.com',"
        " (ARRAY['free', 'team', 'pro'])[n % 3 + 1], n % 50, (ARRAY['DE', 'FR', 'GB'])[n % 3 + 1]"
        f" FROM generate_series(1, {rows}) n",
        "VACUUM ANALYZE customers",
    )
    return time.perf_counter() - started


async def _change(url: str, rows: int) -> int:
    """Change 1% of the rows: 98% of them updated, 1% inserted, 1% deleted."""
    changed = rows // 100
    inserted = deleted = max(1, changed // 100)
    updated = changed - inserted - deleted
    step = rows // updated
    await _admin(
        url,
        "shop",
        f"UPDATE customers SET plan = 'enterprise'"
        f" WHERE id % {step} = 0 AND id <= {step * updated}",
        "INSERT INTO customers SELECT n, 'new' || n || '@example.com', 'free', 1, 'DE'"
        f" FROM generate_series({rows + 1}, {rows + inserted}) n",
        f"DELETE FROM customers WHERE id % {step} = 1 AND id <= {step * deleted}",
    )
    return updated + inserted + deleted


async def _plain_read(url: str) -> tuple[float, int]:
    """The baseline: the model's rows read through the same driver, nothing else done."""
    database = SourceDatabase(url)
    started = time.perf_counter()
    count = 0
    async with aclosing(database.stream(_QUERY)) as chunks:
        async for _, rows in chunks:
            count += len(rows)
    elapsed = time.perf_counter() - started
    await database.close()
    return elapsed, count


async def _run(task: SyncTask, engine_workspace: tuple[object, str], sync_id: int) -> float:
    engine, workspace = engine_workspace
    await retl.run_now(engine, workspace=workspace, sync_id=sync_id)  # type: ignore[arg-type]
    started = time.perf_counter()
    assert await task.once()
    return time.perf_counter() - started


async def _measure(url: str, rows: int) -> dict[str, float]:
    load_s = await _load_customer(url, rows)
    shop = _url(url, "shop")
    # The customer's database is on the bench's own PostgreSQL server (headwater.retl.guard).
    settings = Settings(database_url=url, secret_key="bench", retl_allow_local_databases=True)
    engine = create_engine(settings.database_url or "", pool_size=6)
    await migrate(engine)
    log = PostgresLog(engine, settings.log_partitions)
    collector = Collector(engine=engine, log=log, settings=settings, metrics=Metrics())
    await collector.start()
    try:
        await create_workspace(engine, slug="shop")
        source = await create_source(engine, name="warehouse", workspace="shop")
        model = await retl.create_model(
            engine,
            settings,
            workspace="shop",
            name="Customers",
            connection=shop,
            query=_QUERY,
            primary_key="id",
        )
        sync = await retl.create_sync(
            engine,
            workspace="shop",
            values={
                "name": "Customers to profiles",
                "model_id": model["id"],
                "target": "profiles",
                "message_type": "identify",
                "mode": "upsert",
                "mapping": {"user_id": "id"},
                "schedule": {"kind": "manual"},
                "enabled": True,
                "source_id": source.id,
            },
        )
        task = SyncTask(engine, settings, collector=collector)
        first_s = await _run(task, (engine, "shop"), sync["id"])
        changed = await _change(url, rows)
        read_s, read_rows = await _plain_read(shop)
        second_s = await _run(task, (engine, "shop"), sync["id"])
        runs = await retl.list_runs(engine, workspace="shop", sync_id=sync["id"])
    finally:
        await collector.stop()
        await log.close()
        await engine.dispose()
    second, first = runs[0], runs[1]
    return {
        "load_s": load_s,
        "first_s": first_s,
        "first_added": first["added"],
        "changed_rows": changed,
        "read_s": read_s,
        "read_rows": read_rows,
        "second_s": second_s,
        "second_added": second["added"],
        "second_changed": second["changed"],
        "second_failed": second["failed"] + first["failed"],
    }


def measure(rows: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="headwater-bench-") as data_dir:
        embedded = EmbeddedPostgres(Path(data_dir))

        async def run() -> dict[str, float]:
            url = await embedded.start()
            try:
                return await _measure(url, rows)
            finally:
                await embedded.stop()

        return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    r = measure(args.rows)
    print(
        f"loaded the model's {args.rows:,} rows into the customer's database in {r['load_s']:.1f} s"
    )
    print(
        f"first run (every row sent through the collector): {r['first_s']:.1f} s,"
        f" {r['first_added']:,.0f} added, {args.rows / r['first_s']:,.0f} rows/s"
    )
    print(f"changed {r['changed_rows']:,.0f} rows (1%: updates, inserts, deletes)")
    print(f"baseline, a plain read of the model's {r['read_rows']:,.0f} rows: {r['read_s']:.1f} s")
    print(
        f"second run (diff sync): {r['second_s']:.1f} s, {r['second_added']:,.0f} added,"
        f" {r['second_changed']:,.0f} changed;"
        f" ratio to the plain read {r['second_s'] / r['read_s']:.2f},"
        f" to the first run {r['second_s'] / r['first_s']:.3f}"
    )
    met = r["second_s"] < TARGET_SECONDS and r["second_failed"] == 0
    print(f"target: the 1% diff synced in < {TARGET_SECONDS:.0f} s: {'met' if met else 'MISSED'}")


if __name__ == "__main__":
    main()
