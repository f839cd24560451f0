"""Migration 0021 on an install migrated to 0017 with events in it: the rows, their offsets and
the governed view survive; each day gets its partition; offsets continue past the old ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from headwater.log import PostgresLog, partitions
from headwater.storage import connected, migrate
from headwater.storage.days import day_partitions, default_days
from tests.privacy.helpers import database_at, record

_OLD_DAYS = [datetime(2025, 3, d, 9, 30, tzinfo=UTC) for d in (1, 2, 4)]


async def test_an_install_at_0017_with_events_is_partitioned_with_its_rows(
    postgres_url: str,
) -> None:
    async with database_at(postgres_url, "hw_upgrade", "0017") as engine:
        async with connected(engine) as tx:
            for n, received in enumerate(_OLD_DAYS * 3):
                await tx.driver.execute(
                    "INSERT INTO events (partition, workspace_id, source_id, message_id,"
                    " type, name, timestamp, received_at, payload) VALUES"
                    " ($1, 1, 1, $2, 'track', 'Bought', $3, $3, '{\"type\": \"track\"}')",
                    n % 2,
                    f"m-{n}",
                    received,
                )
            # A failed append used an offset: the new table must not hand it out again.
            await tx.driver.execute("SELECT nextval('events_seq_seq')")
            old = [tuple(r) for r in await tx.driver.fetch("SELECT * FROM events ORDER BY seq")]
            await tx.driver.execute(
                "INSERT INTO governed_payloads (seq, workspace_id, payload) VALUES (2, 1, NULL)"
            )

        await migrate(engine)

        async with connected(engine) as tx:
            kind = await tx.driver.fetchval("SELECT relkind FROM pg_class WHERE relname = 'events'")
            new = [tuple(r) for r in await tx.driver.fetch("SELECT * FROM events ORDER BY seq")]
            governed = await tx.driver.fetch("SELECT seq FROM governed_events ORDER BY seq")
            days = {p.day for p in await day_partitions(tx, partitions.EVENTS)}
            caught = await default_days(tx, partitions.EVENTS)
        assert kind == b"p" or kind == "p"
        assert new == old
        assert [r[0] for r in governed] == [r[0] for r in old if r[0] != 2]
        assert {d.date() for d in _OLD_DAYS} <= days
        today = datetime.now(UTC).date()
        assert {today + timedelta(days=n) for n in range(0, 8)} <= days
        assert caught == []

        log = PostgresLog(engine, 2)
        try:
            await log.append([record("new", datetime.now(UTC), workspace_id=1, source_id=1)])
            entries = await log.read(log.partition_of("user-1"), after=0, limit=100)
        finally:
            await log.close()
        newest = max(e.offset for e in entries)
        assert newest > len(old) + 1  # past the old rows and the offset the failure used
