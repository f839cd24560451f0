"""Queries on ``import_jobs``; none commits.

The job's ``columns`` column holds the detected columns and a sample of rows (``{"names":
[...], "sample": [...]}``): what the upload found, shown while the mapping is chosen.
"""

from __future__ import annotations

from typing import Any, Final

import msgspec
from sqlalchemy import Row, func, insert, select, text, update

from headwater.imports.tables import import_jobs
from headwater.imports.views import ImportView, RowErrorView
from headwater.storage import Transaction

__all__ = [
    "ERRORS_KEPT",
    "advance",
    "expire_uploads",
    "finish",
    "get_job",
    "insert_job",
    "list_jobs",
    "pending_jobs",
    "queue_job",
    "start_job",
    "try_lock",
    "unlock",
    "waiting",
]

ERRORS_KEPT: Final = 100
"""Row errors kept with a job (the first ones): every rejection is in the rejections too."""

_LOCK: Final = 7210027
"""The advisory lock class of a running import (the second key is the job's id)."""


def _view(row: Row[Any]) -> ImportView:
    found = row.columns
    return {
        "id": row.id,
        "workspace_id": row.workspace_id,
        "source_id": row.source_id,
        "kind": row.kind,
        "format": row.format,
        "file_name": row.file_name,
        "file_bytes": row.file_bytes,
        "rows_total": row.rows_total,
        "columns": found["names"],
        "sample": found["sample"],
        "mapping": row.mapping,
        "status": row.status,
        "checkpoint": row.checkpoint,
        "imported": row.imported,
        "duplicates": row.duplicates,
        "rejected": row.rejected,
        "errors": row.errors,
        "failure": row.failure,
        "created_by": row.created_by,
        "created_at": row.created_at,
        "started_at": row.started_at,
        "finished_at": row.finished_at,
    }


async def insert_job(tx: Transaction, **values: Any) -> ImportView:
    """A new job (status ``uploaded``) from its columns' values."""
    row = (
        await tx.execute(
            insert(import_jobs).values(status="uploaded", **values).returning(*import_jobs.c)
        )
    ).one()
    return _view(row)


async def get_job(tx: Transaction, workspace_id: int, job_id: int) -> ImportView | None:
    row = (
        await tx.execute(
            select(import_jobs).where(
                import_jobs.c.id == job_id, import_jobs.c.workspace_id == workspace_id
            )
        )
    ).first()
    return _view(row) if row else None


async def list_jobs(
    tx: Transaction, workspace_id: int, *, before: int | None, limit: int
) -> list[ImportView]:
    """The workspace's imports, newest first."""
    query = select(import_jobs).where(import_jobs.c.workspace_id == workspace_id)
    if before is not None:
        query = query.where(import_jobs.c.id < before)
    rows = await tx.execute(query.order_by(import_jobs.c.id.desc()).limit(limit))
    return [_view(row) for row in rows]


async def queue_job(tx: Transaction, job_id: int, mapping: dict[str, Any]) -> bool:
    """Queue an uploaded job with its mapping; False when it is not ``uploaded`` any more."""
    result = await tx.execute(
        update(import_jobs)
        .where(import_jobs.c.id == job_id, import_jobs.c.status == "uploaded")
        .values(status="queued", mapping=mapping)
    )
    return bool(result.rowcount)


async def pending_jobs(tx: Transaction) -> list[int]:
    """Jobs to run: queued, or running when their runner stopped (a crash), oldest first."""
    rows = await tx.scalars(
        select(import_jobs.c.id)
        .where(import_jobs.c.status.in_(("queued", "running")))
        .order_by(import_jobs.c.id)
    )
    return list(rows)


async def try_lock(tx: Transaction, job_id: int) -> bool:
    """Take the job's session lock on ``tx``'s connection, held until :func:`unlock` or the
    connection ends (the process died: another runner may then take the job)."""
    return bool(await tx.driver.fetchval("SELECT pg_try_advisory_lock($1, $2)", _LOCK, job_id))


async def unlock(tx: Transaction, job_id: int) -> None:
    await tx.driver.execute("SELECT pg_advisory_unlock($1, $2)", _LOCK, job_id)


async def start_job(tx: Transaction, job_id: int) -> ImportView | None:
    """Mark a queued or interrupted job running; the job, or None when it is finished."""
    row = (
        await tx.execute(
            update(import_jobs)
            .where(import_jobs.c.id == job_id, import_jobs.c.status.in_(("queued", "running")))
            .values(
                status="running", started_at=func.coalesce(import_jobs.c.started_at, func.now())
            )
            .returning(*import_jobs.c)
        )
    ).first()
    return _view(row) if row else None


async def advance(
    tx: Transaction,
    job_id: int,
    *,
    checkpoint: int,
    imported: int,
    duplicates: int,
    rejected: int,
    errors: list[RowErrorView],
) -> None:
    """Move the checkpoint to ``checkpoint`` rows and add the batch's counts and errors (the
    first :data:`ERRORS_KEPT` of the job are kept)."""
    await tx.driver.execute(
        "UPDATE import_jobs SET checkpoint = $2, imported = imported + $3,"
        " duplicates = duplicates + $4, rejected = rejected + $5,"
        " errors = CASE WHEN jsonb_array_length(errors) >= $6 THEN errors"
        " ELSE (SELECT coalesce(jsonb_agg(e), '[]'::jsonb) FROM (SELECT e FROM"
        " jsonb_array_elements(errors || $7::text::jsonb) AS x(e) LIMIT $6) AS kept) END"
        " WHERE id = $1",
        job_id,
        checkpoint,
        imported,
        duplicates,
        rejected,
        ERRORS_KEPT,
        msgspec.json.encode(errors[:ERRORS_KEPT]).decode(),
    )


async def finish(tx: Transaction, job_id: int, *, failure: str | None = None) -> None:
    """Mark the job done, or failed with ``failure`` (why, in plain words), and forget its
    sample rows (personal data, needed only to choose the mapping)."""
    await tx.execute(
        update(import_jobs)
        .where(import_jobs.c.id == job_id)
        .values(
            status="failed" if failure else "done",
            failure=failure,
            finished_at=func.now(),
            columns=func.jsonb_set(
                import_jobs.c.columns, text("'{sample}'::text[]"), text("'[]'::jsonb")
            ),
        )
    )


async def expire_uploads(tx: Transaction, *, hours: int, failure: str) -> list[int]:
    """End (failed with ``failure``) the jobs uploaded more than ``hours`` ago and never
    started, forgetting their sample rows; their ids."""
    rows = await tx.driver.fetch(
        "UPDATE import_jobs SET status = 'failed', failure = $2, finished_at = now(),"
        " columns = jsonb_set(columns, '{sample}', '[]'::jsonb)"
        " WHERE status = 'uploaded' AND created_at < now() - make_interval(hours => $1)"
        " RETURNING id",
        hours,
        failure,
    )
    return sorted(row[0] for row in rows)


async def waiting(tx: Transaction, job_ids: list[int]) -> set[int]:
    """Those of ``job_ids`` whose file is still needed: uploaded, queued or running."""
    rows = await tx.driver.fetch(
        "SELECT id FROM import_jobs WHERE id = ANY($1::bigint[])"
        " AND status IN ('uploaded', 'queued', 'running')",
        job_ids,
    )
    return {row[0] for row in rows}
