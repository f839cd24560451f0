"""Erasing one person reads their rows, not the workspace's: the statements erase runs find the
person through indexes, so what one erasure costs does not grow with the store (the regulation
job's speed at a million events rests on it). Measured by the database's own counters of rows
read, after erasing one person among 20,000 others who hold events, profiles and identifiers,
with the tables never analysed (the planner's view right after a bulk load)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

from headwater.log import PostgresLog
from headwater.privacy import erase, person_of
from headwater.storage import begin, create_engine
from tests.privacy.helpers import record

OTHERS = 20_000
READ_LIMIT = 500
"""Rows (index entries and heap rows) erase may read in each table: the person holds a handful,
the others 20,000 or more per table."""

_OTHERS = """
INSERT INTO profiles (id, workspace_id, kind, first_ts, first_message_id, last_ts,
    last_message_id)
SELECT 'prf_' || n, 1, 'user', now(), 'm-' || n, now(), 'm-' || n
FROM generate_series(1, $1) AS n;
INSERT INTO identifiers (workspace_id, kind, type, value, profile_id, added_at, message_id)
SELECT 1, 'user', t, t || '-' || n, 'prf_' || n, now(), 'm-' || n
FROM generate_series(1, $1) AS n, unnest(ARRAY['user_id', 'anonymous_id']) AS t;
INSERT INTO identifier_mentions (workspace_id, kind, type, value, newest_ts, newest_message_id)
SELECT workspace_id, kind, type, value, added_at, message_id FROM identifiers;
INSERT INTO profile_events (workspace_id, kind, message_id, profile_id, seq, timestamp, type,
    mentions)
SELECT 1, 'user', 'm-' || n, 'prf_' || n, n, now(), 'track', '[]'::jsonb
FROM generate_series(1, $1) AS n;
"""

_PERSON = """
INSERT INTO profiles (id, workspace_id, kind, first_ts, first_message_id, last_ts,
    last_message_id)
VALUES ('prf_them', 1, 'user', now(), 'theirs-0', now(), 'theirs-2');
INSERT INTO identifiers (workspace_id, kind, type, value, profile_id, added_at, message_id)
VALUES (1, 'user', 'user_id', 'u-them', 'prf_them', now(), 'theirs-0'),
       (1, 'user', 'anonymous_id', 'a-them', 'prf_them', now(), 'theirs-0');
INSERT INTO identifier_mentions (workspace_id, kind, type, value, newest_ts, newest_message_id)
VALUES (1, 'user', 'user_id', 'u-them', now(), 'theirs-2'),
       (1, 'user', 'anonymous_id', 'a-them', now(), 'theirs-2');
"""

_LINK = """
INSERT INTO profile_events (workspace_id, kind, message_id, profile_id, seq, timestamp, type,
    mentions)
SELECT 1, 'user', m, 'prf_them', s, now(), 'track', '[]'::jsonb
FROM unnest($1::text[], $2::bigint[]) AS x(m, s)
"""

_READS = """
SELECT t.relname, t.seq_tup_read + coalesce(sum(i.idx_tup_read), 0)
FROM pg_stat_user_tables t LEFT JOIN pg_stat_user_indexes i ON i.relid = t.relid
GROUP BY t.relname, t.seq_tup_read
"""

_OTHER_SESSIONS = (
    "SELECT count(*) FROM pg_stat_activity"
    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
)


async def _reads(url: str) -> dict[str, int]:
    """Rows read so far per table (a partition counted under its parent's name), once every
    other session of the database has ended. A session reports what it read at most every
    second, or after 10 s idle; an ending session reports it before it leaves
    ``pg_stat_activity``, so nothing read earlier can be reported after this reading."""
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as connection:
            driver: Any = (await connection.get_raw_connection()).driver_connection
            deadline = time.monotonic() + 30
            while await driver.fetchval(_OTHER_SESSIONS):
                assert time.monotonic() < deadline, "other sessions still open"
                await asyncio.sleep(0.05)
            await driver.execute("SELECT pg_stat_clear_snapshot()")
            rows = await driver.fetch(_READS)
    finally:
        await engine.dispose()
    reads: dict[str, int] = {}
    for name, count in rows:
        table = "events" if name.startswith("events_") else name
        reads[table] = reads.get(table, 0) + int(count)
    return reads


async def _seed(url: str) -> None:
    engine = create_engine(url, pool_size=1)
    log = PostgresLog(engine, 4)
    try:
        now = datetime.now(UTC)
        for start in range(0, OTHERS, 5_000):
            await log.append(
                [
                    record(f"others-{n}", now, workspace_id=1, source_id=1)
                    for n in range(start, start + 5_000)
                ]
            )
        await log.append(
            [record(f"theirs-{n}", now, workspace_id=1, source_id=1) for n in range(3)]
        )
        theirs = list(await log.newest(1, limit=3))
        async with engine.begin() as connection:
            tx = await begin(connection)
            await tx.driver.execute(_OTHERS.replace("$1", str(OTHERS)))
            await tx.driver.execute(_PERSON)
            await tx.driver.execute(
                _LINK, [entry.message_id for entry in theirs], [entry.offset for entry in theirs]
            )
    finally:
        await log.close()
        await engine.dispose()


async def _erase(url: str) -> dict[str, int]:
    engine = create_engine(url, pool_size=1)
    log = PostgresLog(engine, 4)
    try:
        async with engine.begin() as connection:
            tx = await begin(connection)
            person = await person_of(
                tx, workspace_id=1, subject_type="USER_ID", subject_id="u-them"
            )
            return await erase(tx, person, log=log)
    finally:
        await log.close()
        await engine.dispose()


async def test_erasing_one_person_reads_only_their_rows(database_url: str) -> None:
    await _seed(database_url)
    before = await _reads(database_url)
    removed = await _erase(database_url)
    after = await _reads(database_url)

    assert (removed["events"], removed["profiles"], removed["identifiers"]) == (3, 1, 2)
    assert removed["profile_events"] == 3
    read = {table: after.get(table, 0) - before.get(table, 0) for table in after}
    assert read["identifiers"] > 0  # the counters are live: erase did read it
    heavy = {table: count for table, count in read.items() if count > READ_LIMIT}
    assert heavy == {}
