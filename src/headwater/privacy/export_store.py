"""Subject access exports' SQL: the jobs (created, listed, claimed with ``SKIP LOCKED``,
finished or failed) and their files in parts. Takes a :class:`~headwater.storage.Transaction`
begun by the caller (statements on its driver); never commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import asyncpg
import msgspec

from headwater.storage import Transaction

__all__ = [
    "FORMATS",
    "claim",
    "clear_parts",
    "create",
    "downloaded",
    "fail",
    "finish",
    "get",
    "list_exports",
    "part",
    "part_count",
    "purge_expired",
    "release",
    "write_parts",
]

FORMATS = ("json", "csv")

_COLUMNS = (
    "id, subject_type, subject_id, status, reason, requested_by, created_at, started_at,"
    " finished_at, expires_at, counts::text AS counts, json_bytes, csv_bytes, downloads,"
    " last_downloaded_at, attempts, workspace_id"
)


async def create(
    tx: Transaction, *, workspace_id: int, subject_type: str, subject_id: str, requested_by: str
) -> asyncpg.Record:
    """A queued export of one subject."""
    row: asyncpg.Record | None = await tx.driver.fetchrow(
        "INSERT INTO privacy_exports (workspace_id, subject_type, subject_id, requested_by)"
        f" VALUES ($1, $2, $3, $4) RETURNING {_COLUMNS}",
        workspace_id,
        subject_type,
        subject_id,
        requested_by,
    )
    assert row is not None
    return row


async def list_exports(
    tx: Transaction, workspace_id: int, *, before: int | None, limit: int
) -> list[asyncpg.Record]:
    """The workspace's exports, newest first; ``before``: an id cursor."""
    return await tx.driver.fetch(
        f"SELECT {_COLUMNS} FROM privacy_exports WHERE workspace_id = $1"
        " AND ($2::bigint IS NULL OR id < $2) ORDER BY id DESC LIMIT $3",
        workspace_id,
        before,
        limit,
    )


async def get(tx: Transaction, workspace_id: int, export_id: int) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await tx.driver.fetchrow(
        f"SELECT {_COLUMNS} FROM privacy_exports WHERE id = $1 AND workspace_id = $2",
        export_id,
        workspace_id,
    )
    return row


async def claim(tx: Transaction, *, lease: timedelta) -> asyncpg.Record | None:
    """Take the oldest export waiting (queued, or running under a lease that ran out: its
    exporter stopped), leased for ``lease``; None when none waits. Another exporter skips it."""
    row: asyncpg.Record | None = await tx.driver.fetchrow(
        "UPDATE privacy_exports SET status = 'running', attempts = attempts + 1,"
        " started_at = coalesce(started_at, now()), lease_until = now() + $1::interval"
        " WHERE id = (SELECT id FROM privacy_exports WHERE status IN ('queued', 'running')"
        "  AND (status = 'queued' OR lease_until < now()) ORDER BY id LIMIT 1"
        "  FOR UPDATE SKIP LOCKED)"
        f" RETURNING {_COLUMNS}",
        lease,
    )
    return row


async def release(tx: Transaction, export_id: int, attempt: int, *, lease: timedelta) -> bool:
    """Extend the lease of the export claimed at ``attempt``; False when it is not ours any
    more (another exporter took it over)."""
    found = await tx.driver.fetchval(
        "UPDATE privacy_exports SET lease_until = now() + $3::interval"
        " WHERE id = $1 AND attempts = $2 AND status = 'running' RETURNING id",
        export_id,
        attempt,
        lease,
    )
    return found is not None


async def finish(
    tx: Transaction,
    export_id: int,
    attempt: int,
    *,
    counts: dict[str, int],
    sizes: dict[str, int],
    keep: timedelta,
) -> bool:
    """Mark the export claimed at ``attempt`` done (its parts written), its files kept for
    ``keep``; False when the export is not ours any more (the caller rolls back)."""
    done = await tx.driver.fetchval(
        "UPDATE privacy_exports SET status = 'done', reason = NULL, finished_at = now(),"
        " lease_until = NULL, expires_at = now() + $3::interval, counts = $4::text::jsonb,"
        " json_bytes = $5, csv_bytes = $6"
        " WHERE id = $1 AND attempts = $2 AND status = 'running' RETURNING id",
        export_id,
        attempt,
        keep,
        msgspec.json.encode(counts).decode(),
        sizes.get("json", 0),
        sizes.get("csv", 0),
    )
    return done is not None


async def write_parts(
    tx: Transaction, export_id: int, file_format: str, parts: Sequence[bytes], *, first: int
) -> None:
    """Parts ``first``, ``first + 1``... of one of the export's files."""
    await tx.driver.executemany(
        "INSERT INTO privacy_export_parts (export_id, format, n, data) VALUES ($1, $2, $3, $4)",
        [(export_id, file_format, first + i, data) for i, data in enumerate(parts)],
    )


async def clear_parts(tx: Transaction, export_id: int) -> None:
    """Remove what an earlier attempt at the export left."""
    await tx.driver.execute("DELETE FROM privacy_export_parts WHERE export_id = $1", export_id)


async def fail(tx: Transaction, export_id: int, attempt: int, reason: str) -> None:
    """Mark the export claimed at ``attempt`` failed, with ``reason``."""
    await tx.driver.execute(
        "UPDATE privacy_exports SET status = 'failed', reason = $3, finished_at = now(),"
        " lease_until = NULL WHERE id = $1 AND attempts = $2",
        export_id,
        attempt,
        reason,
    )
    await clear_parts(tx, export_id)


async def part_count(tx: Transaction, export_id: int, file_format: str) -> int:
    found = await tx.driver.fetchval(
        "SELECT count(*) FROM privacy_export_parts WHERE export_id = $1 AND format = $2",
        export_id,
        file_format,
    )
    return int(found)


async def part(tx: Transaction, export_id: int, file_format: str, n: int) -> bytes | None:
    """Part ``n`` of one of the export's files (None past the last)."""
    data: bytes | None = await tx.driver.fetchval(
        "SELECT data FROM privacy_export_parts WHERE export_id = $1 AND format = $2 AND n = $3",
        export_id,
        file_format,
        n,
    )
    return data


async def downloaded(tx: Transaction, export_id: int) -> None:
    """Count one download."""
    await tx.driver.execute(
        "UPDATE privacy_exports SET downloads = downloads + 1, last_downloaded_at = now()"
        " WHERE id = $1",
        export_id,
    )


async def purge_expired(tx: Transaction) -> int:
    """Remove the files of exports past their time (the job rows stay, as the record of the
    request); how many exports lost their files."""
    found = await tx.driver.fetchval(
        "WITH gone AS (DELETE FROM privacy_export_parts p USING privacy_exports e"
        " WHERE e.id = p.export_id AND e.expires_at < now() RETURNING p.export_id)"
        " SELECT count(DISTINCT export_id) FROM gone"
    )
    return int(found)
