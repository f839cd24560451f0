"""The event log's day partitions (PostgreSQL): list them, create days ahead, move what the
default partition caught into its day, find which sources a day holds, drop a day.

``events`` is partitioned by range of ``received_at`` (migration 0021), one partition per UTC
day named ``events_pYYYYMMDD``, and a ``DEFAULT`` partition (``events_default``) so that an
append never fails for want of a day: :func:`ensure_days` moves what the default caught into
its own day before retention looks at it, so retention never has to reach into the default.

Every DDL statement here runs with a short ``lock_timeout``: dropping or attaching a partition
needs a strong lock on ``events``, and waiting behind a long read would queue every append
behind it. A statement that times out raises (a storage error), and the retention task tries
again next round.

These functions take a :class:`~headwater.storage.Transaction` and never commit; the log's
in-memory twin has no partitions (retention is a PostgreSQL concern, like ``VACUUM``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Final

from headwater.storage import Transaction

__all__ = [
    "AHEAD_DAYS",
    "DEFAULT_PARTITION",
    "DayPartition",
    "count_rows",
    "day_partitions",
    "default_days",
    "delete_sources",
    "drop",
    "ensure_days",
    "lock",
    "offset_range",
    "partition_name",
    "present",
    "sources_in",
]

AHEAD_DAYS: Final = 7
"""Days created ahead of today by the retention task (and by migration 0021)."""

DEFAULT_PARTITION: Final = "events_default"
_NAME = re.compile(r"events_p(\d{8})")
_LOCK_TIMEOUT: Final = "2s"


@dataclass(frozen=True, slots=True)
class DayPartition:
    """One day of the log: its table, the UTC day it holds (``start`` inclusive, ``end``
    exclusive, by ``received_at``) and PostgreSQL's estimate of its rows
    (``pg_class.reltuples``; 0 until the table was first analyzed)."""

    name: str
    day: date
    rows_estimate: int

    @property
    def start(self) -> datetime:
        return datetime(self.day.year, self.day.month, self.day.day, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=1)


def partition_name(day: date) -> str:
    """The table of one UTC day.

    >>> partition_name(date(2026, 12, 6))
    'events_p20261206'
    """
    return f"events_p{day:%Y%m%d}"


def _day_of(name: str) -> date | None:
    found = _NAME.fullmatch(name)
    return datetime.strptime(found.group(1), "%Y%m%d").date() if found else None


def _checked(name: str) -> str:
    """``name`` quoted, if it is a day partition's (names reach SQL only through here)."""
    if _day_of(name) is None:
        raise ValueError(f"not a day partition of the event log: {name!r}")
    return f'"{name}"'


async def _lock_timeout(tx: Transaction) -> None:
    await tx.driver.execute(f"SET LOCAL lock_timeout = '{_LOCK_TIMEOUT}'")


async def day_partitions(tx: Transaction) -> list[DayPartition]:
    """Every day partition of ``events``, oldest first."""
    rows = await tx.driver.fetch(
        "SELECT c.relname, c.reltuples FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
        " WHERE i.inhparent = 'events'::regclass"
    )
    found = []
    for name, estimate in rows:
        day = _day_of(name)
        if day is not None:
            found.append(DayPartition(name, day, max(int(estimate), 0)))
    return sorted(found, key=lambda p: p.day)


async def default_days(tx: Transaction) -> list[date]:
    """The UTC days of the rows the default partition caught (usually none)."""
    rows = await tx.driver.fetch(
        "SELECT DISTINCT (received_at AT TIME ZONE 'UTC')::date FROM events_default ORDER BY 1"
    )
    return [row[0] for row in rows]


async def ensure_days(tx: Transaction, days: Iterable[date]) -> list[str]:
    """Create the partition of each day that has none, moving the rows of that day the default
    partition caught into it; the names created. The new table is filled first and then
    attached, which locks ``events`` less than ``CREATE TABLE ... PARTITION OF`` would."""
    existing = {p.day for p in await day_partitions(tx)}
    created = []
    for day in sorted(set(days) - existing):
        await _lock_timeout(tx)
        name = _checked(partition_name(day))
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        end = start + timedelta(days=1)
        await tx.driver.execute(f"CREATE TABLE {name} (LIKE events INCLUDING DEFAULTS)")
        await tx.driver.execute(
            f"WITH moved AS (DELETE FROM events_default WHERE received_at >= $1"
            f" AND received_at < $2 RETURNING *) INSERT INTO {name} SELECT * FROM moved",
            start,
            end,
        )
        await tx.driver.execute(
            f"ALTER TABLE events ATTACH PARTITION {name}"
            f" FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
        )
        created.append(partition_name(day))
    return created


def _day_filter(day: date) -> str:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    end = start + timedelta(days=1)
    return f"received_at >= '{start.isoformat()}' AND received_at < '{end.isoformat()}'"


async def sources_in(
    tx: Transaction, name: str, *, caught: date | None = None
) -> list[tuple[int, int]]:
    """The ``(workspace_id, source_id)`` pairs a day partition holds: one probe of its
    ``(source_id, seq)`` index per source (a loose index scan), however many rows it has.
    With ``caught``, the pairs of that day among the rows the default partition caught
    (``name`` is then :data:`DEFAULT_PARTITION`; a dry run sees them before a round moves
    them)."""
    if caught is not None:
        rows = await tx.driver.fetch(
            "SELECT DISTINCT workspace_id, source_id FROM events_default WHERE "
            + _day_filter(caught)
        )
        return sorted((row[0], row[1]) for row in rows)
    table = _checked(name)
    rows = await tx.driver.fetch(
        f"""
        WITH RECURSIVE found AS (
            (SELECT source_id, workspace_id FROM {table} ORDER BY source_id LIMIT 1)
            UNION ALL
            SELECT next.source_id, next.workspace_id FROM found, LATERAL (
                SELECT source_id, workspace_id FROM {table} WHERE source_id > found.source_id
                ORDER BY source_id LIMIT 1) AS next
        )
        SELECT workspace_id, source_id FROM found
        """
    )
    return [(row[0], row[1]) for row in rows]


async def count_rows(
    tx: Transaction, name: str, source_ids: Sequence[int], *, caught: date | None = None
) -> int:
    """The exact count of a day partition's rows from these sources (an index range each);
    with ``caught``, of that day's rows the default partition caught."""
    if caught is not None:
        table, where = DEFAULT_PARTITION, " AND " + _day_filter(caught)
    else:
        table, where = _checked(name), ""
    return int(
        await tx.driver.fetchval(
            f"SELECT count(*) FROM {table} WHERE source_id = ANY($1::int[]){where}",
            list(source_ids),
        )
    )


async def lock(tx: Transaction, name: str) -> bool:
    """Lock a day partition against appends until the transaction ends; False if it is gone."""
    await _lock_timeout(tx)
    if not await tx.driver.fetchval("SELECT to_regclass($1) IS NOT NULL", name):
        return False
    await tx.driver.execute(f"LOCK TABLE {_checked(name)} IN EXCLUSIVE MODE")
    return True


async def drop(tx: Transaction, name: str) -> None:
    """Drop a whole day partition: its rows go at once, whatever their number."""
    await _lock_timeout(tx)
    await tx.driver.execute(f"DROP TABLE IF EXISTS {_checked(name)}")


async def delete_sources(tx: Transaction, name: str, source_ids: Sequence[int]) -> int:
    """Delete the rows of these sources from one day partition (the rows of a source whose
    window is shorter than its neighbours' in that day); how many."""
    status = await tx.driver.execute(
        f"DELETE FROM {_checked(name)} WHERE source_id = ANY($1::int[])", list(source_ids)
    )
    return int(status.split()[-1])


async def offset_range(tx: Transaction, name: str) -> tuple[int, int] | None:
    """The lowest and highest offset (``seq``) a day partition holds; None when empty."""
    row = await tx.driver.fetchrow(f"SELECT min(seq), max(seq) FROM {_checked(name)}")
    return None if row is None or row[0] is None else (int(row[0]), int(row[1]))


async def present(tx: Transaction, offsets: Sequence[int]) -> set[int]:
    """Which of these offsets the log still holds (in any partition)."""
    rows = await tx.driver.fetch(
        "SELECT seq FROM events WHERE seq = ANY($1::bigint[])", list(offsets)
    )
    return {row[0] for row in rows}
