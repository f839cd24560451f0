"""The profile store's per-key reads stay index probes once its tables are large.

PostgreSQL flattens a ``LATERAL`` subquery without ``LIMIT`` into a join and may then scan the
whole table; the stage reads a few hundred keys per batch from tables of millions of rows, so
a scan per batch would grow with the data. The counts of this transaction's scans
(``pg_stat_xact_user_tables``) show which plan ran.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.profiles import lookups, store
from headwater.storage import Transaction, driver_connection

PROFILES = 40_000

_FILL = f"""
INSERT INTO profiles (id, workspace_id, kind, first_ts, first_message_id, last_ts,
    last_message_id)
SELECT 'prf_' || n, 1, 'user', now(), 'm' || n, now(), 'm' || n
FROM generate_series(1, {PROFILES}) AS n;
INSERT INTO identifiers (workspace_id, kind, type, value, profile_id, added_at, message_id)
SELECT 1, 'user', t, t || '-' || n, 'prf_' || n, now(), 'm' || n
FROM generate_series(1, {PROFILES}) AS n, unnest(ARRAY['anonymous_id', 'user_id']) AS t;
ANALYZE profiles, identifiers
"""


async def _scans(driver: asyncpg.Connection, table: str) -> tuple[int, int]:
    row = await driver.fetchrow(
        "SELECT seq_scan, coalesce(idx_scan, 0) FROM pg_stat_xact_user_tables WHERE relname = $1",
        table,
    )
    assert row is not None
    return int(row[0]), int(row[1])


async def _probes(
    engine: AsyncEngine, table: str, read: Callable[[Transaction], Awaitable[int]]
) -> None:
    async with engine.begin() as connection:
        tx = await Transaction.of(connection)
        seq_before, idx_before = await _scans(tx.driver, table)
        found = await read(tx)
        seq_after, idx_after = await _scans(tx.driver, table)
    assert found > 0
    assert seq_after == seq_before, f"{table} was scanned whole"
    assert idx_after > idx_before


async def test_reads_by_profile_id_probe_the_index_of_a_large_table(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as connection:
        await (await driver_connection(connection)).execute(_FILL)
    ids = [f"prf_{n}" for n in range(1, PROFILES, PROFILES // 1000)]

    async def identifiers(tx: Transaction) -> int:
        found = await store.profile_identifiers(tx, ids)
        assert {i.profile_id for i in found} == set(ids)
        return len(found)

    async def profiles(tx: Transaction) -> int:
        return len(await store.profiles_for_update(tx, ids))

    await _probes(engine, "identifiers", identifiers)
    await _probes(engine, "profiles", profiles)


_UNANALYZED = (
    "ALTER TABLE identifiers SET (autovacuum_enabled = false);"
    " ALTER TABLE profiles SET (autovacuum_enabled = false);"
    + _FILL.replace("ANALYZE profiles, identifiers", "")
)
"""The tables as a store filled faster than autovacuum analyzes them has them: no statistics."""


async def _fetched(driver: asyncpg.Connection) -> tuple[int, int]:
    """Whole scans of ``profiles`` and ``identifiers`` in this transaction, and rows fetched
    from them through indexes."""
    row = await driver.fetchrow(
        "SELECT sum(seq_scan), sum(coalesce(idx_tup_fetch, 0)) FROM pg_stat_xact_user_tables"
        " WHERE relname IN ('identifiers', 'profiles')"
    )
    assert row is not None
    return int(row[0]), int(row[1])


async def test_resolve_probes_before_the_tables_are_analyzed(engine: AsyncEngine) -> None:
    """Resolving a few identifiers fetches a few rows, not the workspace's every identifier,
    while the tables have no statistics yet."""
    async with engine.begin() as connection:
        await (await driver_connection(connection)).execute(_UNANALYZED)
    wanted = [
        ("user_id", "user_id-7"),
        ("anonymous_id", "anonymous_id-9"),
        ("profile_id", "prf_11"),
        ("email", "nobody@example.com"),
        ("user_id", "user_id-39999"),
    ]
    async with engine.begin() as connection:
        tx = await Transaction.of(connection)
        found = await lookups.resolve(tx, 1, wanted)
        scans, fetched = await _fetched(tx.driver)
    assert found == ["prf_7", "prf_9", "prf_11", None, "prf_39999"]
    assert scans == 0, "a table was scanned whole"
    assert fetched <= 4 * len(wanted), f"{fetched} rows fetched for {len(wanted)} ids"


async def test_a_family_is_read_by_probes_before_the_tables_are_analyzed(
    engine: AsyncEngine,
) -> None:
    """The person a regulation or an export names (the profile and every profile merged into
    it, through ``merged_into``, with their identifiers) is read through indexes, not by a scan
    of every profile nor a read of every identifier."""
    async with engine.begin() as connection:
        await (await driver_connection(connection)).execute(
            _UNANALYZED
            + "; UPDATE profiles SET merged_into = 'prf_2' WHERE id IN ('prf_1', 'prf_3');"
            " UPDATE profiles SET merged_into = 'prf_1' WHERE id = 'prf_4'"
        )
    async with engine.begin() as connection:
        tx = await Transaction.of(connection)
        profiles, identifiers = await lookups.family(tx, 1, "prf_2")
        scans, fetched = await _fetched(tx.driver)
        alone = await lookups.family(tx, 1, "prf_5")
        unknown = await lookups.family(tx, 1, "prf_none")
    assert profiles == ["prf_1", "prf_2", "prf_3", "prf_4"]
    assert identifiers == sorted(
        (t, f"{t}-{n}") for n in range(1, 5) for t in ("anonymous_id", "user_id")
    )
    assert alone == (["prf_5"], [("anonymous_id", "anonymous_id-5"), ("user_id", "user_id-5")])
    assert unknown == ([], [])
    assert scans == 0, "a table was scanned whole"
    assert fetched <= 40, f"{fetched} rows fetched for a person of 4 profiles"
