"""Reverse ETL's SQL for models, syncs and runs (the state's is in ``state.py``). Every
function takes the caller's :class:`~headwater.storage.Transaction` (begun: statements run on
its driver) and never commits."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import msgspec
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.storage import Transaction, begin

__all__ = [
    "begun",
    "claim",
    "delete_model",
    "delete_sync",
    "finish_run",
    "get_model",
    "get_run",
    "get_sync",
    "holds",
    "insert_model",
    "insert_sync",
    "list_models",
    "list_runs",
    "list_syncs",
    "model_in_use",
    "record_lost",
    "renew",
    "request_run",
    "start_run",
    "update_model",
    "update_sync",
]

_MODEL = (
    "id, workspace_id, name, connection::text AS connection, query, primary_key, cursor_column,"
    " created_at, updated_at"
)
_SYNC = (
    "id, workspace_id, model_id, name, target, message_type, destination_id, source_id, mode,"
    " mapping::text AS mapping, schedule::text AS schedule, enabled, next_run_at, run_requested,"
    " lease_until, cursor_mark::text AS cursor_mark, created_at, updated_at"
)
_RUN = (
    "id, sync_id, status, trigger, started_at, finished_at, rows_read, added, changed, removed,"
    " failed, reason, failures::text AS failures"
)


@asynccontextmanager
async def begun(engine: AsyncEngine) -> AsyncIterator[Transaction]:
    """A transaction on ``engine``, begun so that driver statements run inside it; committed
    on exit, rolled back on error."""
    async with engine.begin() as connection:
        yield await begin(connection)


def _json(value: Any) -> str:
    return msgspec.json.encode(value).decode()


async def insert_model(tx: Transaction, *, workspace_id: int, values: dict[str, Any]) -> int:
    model_id: int = await tx.driver.fetchval(
        "INSERT INTO retl_models (workspace_id, name, connection, query, primary_key,"
        " cursor_column) VALUES ($1, $2, $3::jsonb, $4, $5, $6) RETURNING id",
        workspace_id,
        values["name"],
        _json(values["connection"]),
        values["query"],
        values["primary_key"],
        values["cursor_column"],
    )
    return model_id


async def update_model(tx: Transaction, model_id: int, values: dict[str, Any]) -> None:
    await tx.driver.execute(
        "UPDATE retl_models SET name = $2, connection = $3::jsonb, query = $4, primary_key = $5,"
        " cursor_column = $6, updated_at = now() WHERE id = $1",
        model_id,
        values["name"],
        _json(values["connection"]),
        values["query"],
        values["primary_key"],
        values["cursor_column"],
    )


async def get_model(tx: Transaction, workspace_id: int, model_id: int) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await tx.driver.fetchrow(
        f"SELECT {_MODEL} FROM retl_models WHERE workspace_id = $1 AND id = $2",
        workspace_id,
        model_id,
    )
    return row


async def list_models(tx: Transaction, workspace_id: int) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await tx.driver.fetch(
        f"SELECT {_MODEL} FROM retl_models WHERE workspace_id = $1 ORDER BY name", workspace_id
    )
    return rows


async def model_in_use(tx: Transaction, model_id: int) -> list[str]:
    """The names of the syncs that send the model."""
    rows = await tx.driver.fetch(
        "SELECT name FROM retl_syncs WHERE model_id = $1 ORDER BY name", model_id
    )
    return [r["name"] for r in rows]


async def delete_model(tx: Transaction, model_id: int) -> None:
    await tx.driver.execute("DELETE FROM retl_models WHERE id = $1", model_id)


async def insert_sync(tx: Transaction, *, workspace_id: int, values: dict[str, Any]) -> int:
    sync_id: int = await tx.driver.fetchval(
        "INSERT INTO retl_syncs (workspace_id, model_id, name, target, message_type,"
        " destination_id, source_id, mode, mapping, schedule, enabled, next_run_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10::jsonb, $11, $12) RETURNING id",
        workspace_id,
        *_sync_values(values),
    )
    return sync_id


def _sync_values(values: dict[str, Any]) -> tuple[Any, ...]:
    return (
        values["model_id"],
        values["name"],
        values["target"],
        values["message_type"],
        values["destination_id"],
        values["source_id"],
        values["mode"],
        _json(values["mapping"]),
        _json(values["schedule"]),
        values["enabled"],
        values["next_run_at"],
    )


async def update_sync(tx: Transaction, sync_id: int, values: dict[str, Any]) -> None:
    await tx.driver.execute(
        "UPDATE retl_syncs SET model_id = $2, name = $3, target = $4, message_type = $5,"
        " destination_id = $6, source_id = $7, mode = $8, mapping = $9::jsonb,"
        " schedule = $10::jsonb, enabled = $11, next_run_at = $12, updated_at = now()"
        " WHERE id = $1",
        sync_id,
        *_sync_values(values),
    )


async def get_sync(tx: Transaction, workspace_id: int, sync_id: int) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await tx.driver.fetchrow(
        f"SELECT {_SYNC} FROM retl_syncs WHERE workspace_id = $1 AND id = $2",
        workspace_id,
        sync_id,
    )
    return row


async def list_syncs(tx: Transaction, workspace_id: int) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await tx.driver.fetch(
        f"SELECT {_SYNC} FROM retl_syncs WHERE workspace_id = $1 ORDER BY name", workspace_id
    )
    return rows


async def delete_sync(tx: Transaction, sync_id: int) -> None:
    await tx.driver.execute("DELETE FROM retl_syncs WHERE id = $1", sync_id)


async def request_run(tx: Transaction, sync_id: int) -> None:
    await tx.driver.execute("UPDATE retl_syncs SET run_requested = true WHERE id = $1", sync_id)


async def claim(tx: Transaction, *, lease: timedelta) -> tuple[asyncpg.Record, str] | None:
    """Lease one due sync (``FOR UPDATE SKIP LOCKED``: two processes never take the same):
    one asked to run, one whose time has come, or one whose last run's lease ran out (its
    process stopped mid-run, or stalled). The sync and why it runs (``manual``, ``schedule``,
    ``recovery``).

    A sync whose lease ran out has its ``running`` runs marked ``interrupted`` in the same
    transaction: a run's status is its fencing token (:func:`holds`), so the process that lost
    the lease, if it is still alive, writes no state and no end from then on."""
    row: asyncpg.Record | None = await tx.driver.fetchrow(
        f"""
WITH due AS (
    SELECT id, run_requested, lease_until FROM retl_syncs
     WHERE enabled AND (lease_until IS NULL OR lease_until < now())
       AND (run_requested OR next_run_at <= now() OR lease_until < now())
     ORDER BY run_requested DESC, next_run_at NULLS LAST
     LIMIT 1 FOR UPDATE SKIP LOCKED
)
UPDATE retl_syncs s SET lease_until = now() + $1::interval, run_requested = false
  FROM due WHERE s.id = due.id
RETURNING due.run_requested AS was_requested, due.lease_until AS old_lease,
          {", ".join("s." + c.strip() for c in _SYNC.split(","))}
""",
        lease,
    )
    if row is None:
        return None
    if row["old_lease"] is not None:
        await _interrupt_runs(tx, row["id"])
    if row["was_requested"]:
        why = "manual"
    elif row["old_lease"] is not None:
        why = "recovery"
    else:
        why = "schedule"
    return row, why


async def renew(tx: Transaction, sync_id: int, run_id: int, *, lease: timedelta) -> bool:
    """Extend the sync's lease for its run ``run_id``; False (nothing renewed) when that run no
    longer holds the sync (another process took it over after the lease ran out)."""
    result = await tx.driver.execute(
        "UPDATE retl_syncs SET lease_until = now() + $3::interval WHERE id = $1 AND EXISTS"
        " (SELECT 1 FROM retl_runs WHERE id = $2 AND status = 'running')",
        sync_id,
        run_id,
        lease,
    )
    return result.split()[-1] != "0"


async def holds(tx: Transaction, run_id: int) -> bool:
    """Whether run ``run_id`` still holds its sync (it is ``running``: a claim after its lease
    ran out marks it ``interrupted``). The run's row is share-locked until ``tx`` ends, so
    what ``tx`` writes cannot cross such a claim."""
    status = await tx.driver.fetchval(
        "SELECT status FROM retl_runs WHERE id = $1 FOR SHARE", run_id
    )
    return bool(status == "running")


_INTERRUPTED = (
    "its lease ran out before it finished (its process stopped, or could not renew the lease"
    " in time); the next run picked up from its state"
)


async def _interrupt_runs(tx: Transaction, sync_id: int) -> None:
    """Mark the sync's runs left ``running`` (their lease ran out) as ``interrupted``."""
    await tx.driver.execute(
        "UPDATE retl_runs SET status = 'interrupted', finished_at = now(), reason = $2"
        " WHERE sync_id = $1 AND status = 'running'",
        sync_id,
        _INTERRUPTED,
    )


async def record_lost(
    tx: Transaction,
    run_id: int,
    *,
    counts: dict[str, int],
    failures: Sequence[dict[str, str]],
    reason: str,
) -> None:
    """Record what run ``run_id``, interrupted when another process took its sync over, did
    before it noticed, and why it stopped; the sync itself is left to the run that holds it."""
    await tx.driver.execute(
        "UPDATE retl_runs SET rows_read = $2, added = $3, changed = $4, removed = $5,"
        " failed = $6, reason = $7, failures = $8::jsonb"
        " WHERE id = $1 AND status = 'interrupted'",
        run_id,
        counts["rows_read"],
        counts["added"],
        counts["changed"],
        counts["removed"],
        counts["failed"],
        reason,
        _json(list(failures)),
    )


async def start_run(tx: Transaction, sync_id: int, trigger: str) -> int:
    run_id: int = await tx.driver.fetchval(
        "INSERT INTO retl_runs (sync_id, trigger) VALUES ($1, $2) RETURNING id", sync_id, trigger
    )
    return run_id


async def finish_run(
    tx: Transaction,
    *,
    sync_id: int,
    run_id: int,
    status: str,
    counts: dict[str, int],
    reason: str | None,
    failures: Sequence[dict[str, str]],
    next_run_at: datetime | None,
    cursor_mark: Any,
) -> bool:
    """Record the run's end, and release the sync until ``next_run_at``; False, writing
    nothing, when the run no longer holds the sync (:func:`holds`)."""
    # The sync's row first, as a claim locks it: then the run's.
    await tx.driver.execute("SELECT 1 FROM retl_syncs WHERE id = $1 FOR UPDATE", sync_id)
    status_now = await tx.driver.fetchval(
        "SELECT status FROM retl_runs WHERE id = $1 FOR UPDATE", run_id
    )
    if status_now != "running":
        return False
    await tx.driver.execute(
        "UPDATE retl_runs SET status = $2, finished_at = now(), rows_read = $3, added = $4,"
        " changed = $5, removed = $6, failed = $7, reason = $8, failures = $9::jsonb"
        " WHERE id = $1",
        run_id,
        status,
        counts["rows_read"],
        counts["added"],
        counts["changed"],
        counts["removed"],
        counts["failed"],
        reason,
        _json(list(failures)),
    )
    await tx.driver.execute(
        "UPDATE retl_syncs SET lease_until = NULL, next_run_at = $2,"
        " cursor_mark = COALESCE($3::jsonb, cursor_mark) WHERE id = $1",
        sync_id,
        next_run_at,
        None if cursor_mark is None else _json(cursor_mark),
    )
    return True


async def list_runs(tx: Transaction, sync_id: int, *, limit: int) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await tx.driver.fetch(
        f"SELECT {_RUN} FROM retl_runs WHERE sync_id = $1 ORDER BY id DESC LIMIT $2",
        sync_id,
        limit,
    )
    return rows


async def get_run(tx: Transaction, sync_id: int, run_id: int) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await tx.driver.fetchrow(
        f"SELECT {_RUN} FROM retl_runs WHERE sync_id = $1 AND id = $2", sync_id, run_id
    )
    return row
