"""The event log's day partitions (PostgreSQL): ``events`` as a :class:`~headwater.storage.days.
DayTable`, and what retention asks of the log beyond the days themselves (the offsets a day
holds, which offsets remain).

``events`` is partitioned by range of ``received_at`` (migration 0021), one partition per UTC
day named ``events_pYYYYMMDD``, and a ``DEFAULT`` partition (``events_default``);
:mod:`headwater.storage.days` creates, fills, empties and drops the days. The log's in-memory
twin has no partitions (retention is a PostgreSQL concern, like ``VACUUM``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from headwater.storage import Transaction
from headwater.storage.days import DayTable

__all__ = ["EVENTS", "offset_range", "present"]

EVENTS: Final = DayTable("events", "received_at", key="source_id", workspace="workspace_id")
"""The log's entries, by day of ``received_at``, grouped by source (index ``(source_id, seq)``)."""


async def offset_range(tx: Transaction, name: str) -> tuple[int, int] | None:
    """The lowest and highest offset (``seq``) a day partition holds; None when empty."""
    row = await tx.driver.fetchrow(f"SELECT min(seq), max(seq) FROM {EVENTS.checked(name)}")
    return None if row is None or row[0] is None else (int(row[0]), int(row[1]))


async def present(tx: Transaction, offsets: Sequence[int]) -> set[int]:
    """Which of these offsets the log still holds (in any partition)."""
    rows = await tx.driver.fetch(
        "SELECT seq FROM events WHERE seq = ANY($1::bigint[])", list(offsets)
    )
    return {row[0] for row in rows}
