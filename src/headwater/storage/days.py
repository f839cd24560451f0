"""Tables partitioned by UTC day (PostgreSQL): list their days, create days ahead, move what a
default partition caught into its day, find which keys a day holds, drop a day or delete some
keys' rows from it.

A :class:`DayTable` is partitioned by range of one timestamp column, one partition per UTC day
named ``<table>_pYYYYMMDD``, and a ``DEFAULT`` partition (``<table>_default``) so that an insert
never fails for want of a day: :func:`ensure_days` moves what the default caught into its own
day before retention looks at it, so retention never has to reach into the default. The owners
declare theirs beside their tables (the event log's ``events``, collection's ``rejections``,
the tracking plans' ``quarantine``, delivery's ``dead_letters``, journeys' ``journey_steps``;
migrations 0021 and 0025).

Rows are grouped by a ``key`` column leading one of the table's indexes (a source, a
destination, a journey): which keys a day holds is one index probe per key (a loose index
scan), and a day's rows of some keys are deleted through that index.

Every DDL statement here runs with a short ``lock_timeout``: dropping or attaching a partition
needs a strong lock on the table, and waiting behind a long read would queue every insert behind
it. A statement that times out raises (a storage error), and the retention task tries again next
round. These functions take a :class:`~headwater.storage.Transaction` and never commit.

>>> REJECTIONS = DayTable("rejections", "received_at", key="source_id", workspace="workspace_id")
>>> REJECTIONS.partition_name(date(2026, 12, 6)), REJECTIONS.default
('rejections_p20261206', 'rejections_default')
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Final

from headwater.storage.transaction import Transaction

__all__ = [
    "AHEAD_DAYS",
    "DayPartition",
    "DayTable",
    "count_rows",
    "day_partitions",
    "default_days",
    "delete_keys",
    "drop",
    "ensure_days",
    "keys_in",
    "lock",
]

AHEAD_DAYS: Final = 7
"""Days created ahead of today by the retention task (and by migrations 0021 and 0025)."""

_LOCK_TIMEOUT: Final = "2s"
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")


def _start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class DayTable:
    """A table partitioned by UTC day of ``column``; its rows grouped by ``key``, whose
    workspace is the ``workspace`` column (None: the table has none, the owner knows it from
    the key)."""

    table: str
    column: str
    key: str
    workspace: str | None = None

    def __post_init__(self) -> None:
        for name in (self.table, self.column, self.key, self.workspace or "_"):
            if not _IDENTIFIER.fullmatch(name):
                raise ValueError(f"not a plain identifier: {name!r}")

    @property
    def default(self) -> str:
        """The default partition's name."""
        return f"{self.table}_default"

    def partition_name(self, day: date) -> str:
        """The partition of one UTC day."""
        return f"{self.table}_p{day:%Y%m%d}"

    def day_of(self, name: str) -> date | None:
        """The day a partition of this table holds; None for any other name."""
        found = re.fullmatch(rf"{self.table}_p(\d{{8}})", name)
        return datetime.strptime(found.group(1), "%Y%m%d").date() if found else None

    def checked(self, name: str) -> str:
        """``name`` quoted, if it is one of this table's day partitions (names reach SQL only
        through here; the default partition is never dropped or emptied)."""
        if self.day_of(name) is None:
            raise ValueError(f"not a day partition of {self.table}: {name!r}")
        return f'"{name}"'

    def day_filter(self, day: date) -> str:
        """The condition selecting one UTC day's rows."""
        start = _start(day)
        end = start + timedelta(days=1)
        return f"{self.column} >= '{start.isoformat()}' AND {self.column} < '{end.isoformat()}'"


@dataclass(frozen=True, slots=True)
class DayPartition:
    """One day of a table: the partition's name, the UTC day it holds (``start`` inclusive,
    ``end`` exclusive) and PostgreSQL's estimate of its rows (``pg_class.reltuples``; 0 until
    the table was first analyzed). A day the default partition caught has the default's name."""

    name: str
    day: date
    rows_estimate: int

    @property
    def start(self) -> datetime:
        return _start(self.day)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=1)


async def _lock_timeout(tx: Transaction) -> None:
    await tx.driver.execute(f"SET LOCAL lock_timeout = '{_LOCK_TIMEOUT}'")


async def day_partitions(tx: Transaction, table: DayTable) -> list[DayPartition]:
    """Every day partition of the table, oldest first."""
    rows = await tx.driver.fetch(
        "SELECT c.relname, c.reltuples FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
        " WHERE i.inhparent = $1::regclass",
        table.table,
    )
    found = []
    for name, estimate in rows:
        day = table.day_of(name)
        if day is not None:
            found.append(DayPartition(name, day, max(int(estimate), 0)))
    return sorted(found, key=lambda p: p.day)


async def default_days(tx: Transaction, table: DayTable) -> list[date]:
    """The UTC days of the rows the default partition caught (usually none)."""
    rows = await tx.driver.fetch(
        f"SELECT DISTINCT ({table.column} AT TIME ZONE 'UTC')::date"
        f' FROM "{table.default}" ORDER BY 1'
    )
    return [row[0] for row in rows]


async def ensure_days(tx: Transaction, table: DayTable, days: Iterable[date]) -> list[str]:
    """Create the partition of each day that has none, moving the rows of that day the default
    partition caught into it; the names created. The new table is filled first and then
    attached, which locks the parent less than ``CREATE TABLE ... PARTITION OF`` would."""
    existing = {p.day for p in await day_partitions(tx, table)}
    created = []
    for day in sorted(set(days) - existing):
        await _lock_timeout(tx)
        name = table.partition_name(day)
        quoted = table.checked(name)
        start = _start(day)
        await tx.driver.execute(
            f"CREATE TABLE {quoted} (LIKE {table.table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
        )
        await tx.driver.execute(
            f'WITH moved AS (DELETE FROM "{table.default}"'
            f" WHERE {table.day_filter(day)} RETURNING *) INSERT INTO {quoted} SELECT * FROM moved"
        )
        await tx.driver.execute(
            f"ALTER TABLE {table.table} ATTACH PARTITION {quoted} FOR VALUES FROM"
            f" ('{start.isoformat()}') TO ('{(start + timedelta(days=1)).isoformat()}')"
        )
        created.append(name)
    return created


async def keys_in(
    tx: Transaction, table: DayTable, name: str, *, caught: date | None = None
) -> list[tuple[int | None, int]]:
    """The ``(workspace, key)`` pairs a day partition holds (the workspace None when the table
    has no workspace column): one probe of an index leading with the key per key (a loose
    index scan), however many rows the day has. With ``caught``, the pairs of that day among
    the rows the default partition caught (``name`` is then the default's; a dry run sees them
    before a round moves them)."""
    workspace = table.workspace or "NULL::int"
    if caught is not None:
        rows = await tx.driver.fetch(
            f'SELECT DISTINCT {workspace}, {table.key} FROM "{table.default}"'
            f" WHERE {table.day_filter(caught)}"
        )
        return sorted((row[0], row[1]) for row in rows)
    quoted, key = table.checked(name), table.key
    rows = await tx.driver.fetch(
        f"""
        WITH RECURSIVE found AS (
            (SELECT {key} AS key, {workspace} AS workspace FROM {quoted} ORDER BY {key} LIMIT 1)
            UNION ALL
            SELECT next.key, next.workspace FROM found, LATERAL (
                SELECT {key} AS key, {workspace} AS workspace FROM {quoted}
                WHERE {key} > found.key ORDER BY {key} LIMIT 1) AS next
        )
        SELECT workspace, key FROM found
        """
    )
    return [(row[0], row[1]) for row in rows]


def _where(table: DayTable, name: str, caught: date | None) -> tuple[str, str]:
    if caught is not None:
        return f'"{table.default}"', " AND " + table.day_filter(caught)
    return table.checked(name), ""


async def count_rows(
    tx: Transaction,
    table: DayTable,
    name: str,
    keys: Sequence[int],
    *,
    caught: date | None = None,
) -> int:
    """The exact count of a day partition's rows of these keys (an index range each); with
    ``caught``, of that day's rows the default partition caught."""
    quoted, where = _where(table, name, caught)
    return int(
        await tx.driver.fetchval(
            f"SELECT count(*) FROM {quoted} WHERE {table.key} = ANY($1::bigint[]){where}",
            list(keys),
        )
    )


async def lock(tx: Transaction, table: DayTable, name: str) -> bool:
    """Lock a day partition against inserts until the transaction ends; False if it is gone."""
    await _lock_timeout(tx)
    if not await tx.driver.fetchval("SELECT to_regclass($1) IS NOT NULL", name):
        return False
    await tx.driver.execute(f"LOCK TABLE {table.checked(name)} IN EXCLUSIVE MODE")
    return True


async def drop(tx: Transaction, table: DayTable, name: str) -> None:
    """Drop a whole day partition: its rows go at once, whatever their number."""
    await _lock_timeout(tx)
    await tx.driver.execute(f"DROP TABLE IF EXISTS {table.checked(name)}")


async def delete_keys(tx: Transaction, table: DayTable, name: str, keys: Sequence[int]) -> int:
    """Delete the rows of these keys from one day partition (the rows of a source whose window
    is shorter than its neighbours' in that day); how many."""
    status = await tx.driver.execute(
        f"DELETE FROM {table.checked(name)} WHERE {table.key} = ANY($1::bigint[])", list(keys)
    )
    return int(status.split()[-1])
