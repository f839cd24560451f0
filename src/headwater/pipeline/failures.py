"""Processing failures: log entries the processor's stages failed on alone, set aside so that
the rest of their partition goes on (see :mod:`headwater.log.consumer`), kept until a replay
passes. The processor (``headwater.pipeline``) records and replays them; they live beside the
log because they are log entries, named by partition and offset.

One row per log entry (partition, offset). A row is ``open`` until a replay runs the entry
through the stages without error (``resolved``); a replay that fails again keeps it open with
the new stage and reason, and counts the attempt. Queries take the caller's connection and
never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

import msgspec
from sqlalchemy import text

from headwater.log import EventLog, LogEntry
from headwater.pipeline.views import FailureView
from headwater.spec import format_timestamp
from headwater.storage import Transaction, removed

__all__ = [
    "Failure",
    "failed_again",
    "find",
    "forget_failures",
    "listed",
    "record",
    "resolved",
    "rows",
]

MAX_REASON_CHARS = 2000
"""A reason is the error's text (a database error may quote the value it refused)."""


class Failure(msgspec.Struct, frozen=True):
    """A recorded processing failure, as the API shows it."""

    id: int
    workspace_id: int
    source_id: int
    message_id: str
    log_partition: int
    log_offset: int
    stage: str
    reason: str
    status: str
    attempts: int
    first_failed_at: datetime
    failed_at: datetime
    resolved_at: datetime | None

    def to_json(self) -> FailureView:
        out = msgspec.structs.asdict(self)
        for key in ("first_failed_at", "failed_at", "resolved_at"):
            value = out[key]
            out[key] = None if value is None else format_timestamp(value)
        return cast(FailureView, out)


_COLUMNS = (
    "id, workspace_id, source_id, message_id, log_partition, log_offset, stage, reason, status,"
    " attempts, first_failed_at, failed_at, resolved_at"
)


def _failure(row: Any) -> Failure:
    return Failure(*row)


async def record(connection: Transaction, entry: LogEntry, stage: str, reason: str) -> None:
    """Record ``entry`` as failed; an entry recorded before (a redelivery) stays as it is."""
    await connection.execute(
        text(
            "INSERT INTO processing_failures (workspace_id, source_id, message_id, log_partition,"
            " log_offset, stage, reason, status)"
            " VALUES (:workspace, :source, :message, :partition, :offset, :stage, :reason,"
            " 'open') ON CONFLICT (log_partition, log_offset) DO NOTHING"
        ),
        {
            "workspace": entry.workspace_id,
            "source": entry.source_id,
            "message": entry.message_id,
            "partition": entry.partition,
            "offset": entry.offset,
            "stage": stage,
            "reason": reason[:MAX_REASON_CHARS],
        },
    )


async def listed(
    connection: Transaction,
    workspace: int,
    *,
    status: str | None,
    before: int | None,
    limit: int,
) -> list[Failure]:
    """A workspace's failures, newest first; ``status`` None: every status."""
    rows = await connection.execute(
        text(
            f"SELECT {_COLUMNS} FROM processing_failures WHERE workspace_id = :workspace"
            " AND (CAST(:status AS text) IS NULL OR status = :status)"
            " AND (CAST(:before AS bigint) IS NULL OR id < :before)"
            " ORDER BY id DESC LIMIT :limit"
        ),
        {"workspace": workspace, "status": status, "before": before, "limit": limit},
    )
    return [_failure(row) for row in rows]


async def find(
    connection: Transaction, workspace: int, ids: list[int] | None, *, lock: bool = False
) -> list[Failure]:
    """The workspace's open failures among ``ids`` (None: all of them), oldest first;
    ``lock``: locked until the transaction ends, skipping those another replay holds."""
    rows = await connection.execute(
        text(
            f"SELECT {_COLUMNS} FROM processing_failures WHERE workspace_id = :workspace"
            " AND status = 'open' AND (CAST(:ids AS bigint[]) IS NULL OR id = ANY(:ids))"
            " ORDER BY id" + (" FOR UPDATE SKIP LOCKED" if lock else "")
        ),
        {"workspace": workspace, "ids": ids},
    )
    return [_failure(row) for row in rows]


async def rows(connection: Transaction, ids: list[int]) -> list[Failure]:
    found = await connection.execute(
        text(f"SELECT {_COLUMNS} FROM processing_failures WHERE id = ANY(:ids) ORDER BY id"),
        {"ids": ids},
    )
    return [_failure(row) for row in found]


async def resolved(connection: Transaction, failure_id: int) -> None:
    await connection.execute(
        text(
            "UPDATE processing_failures SET status = 'resolved', resolved_at = now(),"
            " attempts = attempts + 1 WHERE id = :id"
        ),
        {"id": failure_id},
    )


async def failed_again(connection: Transaction, failure_id: int, stage: str, reason: str) -> None:
    await connection.execute(
        text(
            "UPDATE processing_failures SET stage = :stage, reason = :reason, failed_at = now(),"
            " attempts = attempts + 1 WHERE id = :id AND status = 'open'"
        ),
        {"id": failure_id, "stage": stage, "reason": reason[:MAX_REASON_CHARS]},
    )


async def forget_failures(
    tx: Transaction,
    workspace_id: int,
    log: EventLog,
    message_ids: Sequence[str],
    person_ids: Sequence[str],
) -> tuple[int, list[tuple[str, int]]]:
    """Remove a person's processing failures: those of ``message_ids``, and those whose log
    entry names one of ``person_ids`` as its ``userId`` or ``anonymousId`` (an event a stage
    failed on may never have reached the person's profile). Return how many went and their
    log entries (message id, offset), for the caller to remove from the log. Reads every
    failure of the workspace, and their entries by offset."""
    rows = await tx.driver.fetch(
        "SELECT message_id, log_offset FROM processing_failures WHERE workspace_id = $1",
        workspace_id,
    )
    if not rows:
        return 0, []
    known, ids = set(message_ids), set(person_ids)
    entries = await log.entries([row[1] for row in rows], connection=tx.connection)
    theirs = {
        (entry.message_id, entry.offset)
        for entry in entries
        if entry.workspace_id == workspace_id
        and (entry.message_id in known or {entry.user_id, entry.anonymous_id} & ids)
    }
    theirs |= {(row[0], row[1]) for row in rows if row[0] in known}
    if not theirs:
        return 0, []
    status = await tx.driver.execute(
        "DELETE FROM processing_failures WHERE workspace_id = $1"
        " AND log_offset = ANY($2::bigint[])",
        workspace_id,
        sorted(offset for _, offset in theirs),
    )
    return removed(status), sorted(theirs, key=lambda found: found[1])
