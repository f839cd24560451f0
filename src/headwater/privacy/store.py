"""Queries on regulations, their targets and their destinations. Each takes the caller's
:class:`~headwater.storage.Transaction`; none commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, and_, delete, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from headwater.privacy.model import START_DELAY
from headwater.privacy.tables import regulation_destinations, regulation_targets, regulations
from headwater.storage import Transaction

__all__ = [
    "cancel",
    "claim",
    "destinations_of",
    "finish",
    "get",
    "insert_destinations",
    "insert_regulation",
    "page",
    "pending_targets",
    "release",
    "renew",
    "targets_of",
    "update_destination",
    "update_target",
]


async def insert_regulation(
    tx: Transaction,
    *,
    regulation_id: str,
    workspace_id: int,
    source_id: int | None,
    regulation_type: str,
    subject_type: str,
    targets: Sequence[tuple[bytes, dict[str, Any]]],
) -> None:
    """A new regulation, ``INITIALIZED``, with a target per (subject digest, work)."""
    await tx.execute(
        insert(regulations).values(
            id=regulation_id,
            workspace_id=workspace_id,
            source_id=source_id,
            regulation_type=regulation_type,
            subject_type=subject_type,
            status="INITIALIZED",
            next_at=func.now() + START_DELAY,
        )
    )
    await tx.execute(
        insert(regulation_targets),
        [
            {
                "regulation_id": regulation_id,
                "position": position,
                "subject_hash": digest,
                "status": "INITIALIZED",
                "stage": "resolve",
                "work": work,
            }
            for position, (digest, work) in enumerate(targets)
        ],
    )


async def get(tx: Transaction, workspace_id: int, regulation_id: str) -> Row[Any] | None:
    return (
        await tx.execute(
            select(regulations).where(
                regulations.c.id == regulation_id, regulations.c.workspace_id == workspace_id
            )
        )
    ).first()


async def page(
    tx: Transaction,
    workspace_id: int,
    *,
    source_id: int | None,
    status: str | None,
    types: Sequence[str],
    subject_hash: bytes | None,
    offset: int,
    limit: int,
) -> tuple[list[Row[Any]], int]:
    """Regulations newest first (of a source, of a status, of types, naming a subject), a page
    from ``offset``, and how many there are."""
    conditions = [regulations.c.workspace_id == workspace_id]
    if source_id is not None:
        conditions.append(regulations.c.source_id == source_id)
    if status is not None:
        conditions.append(regulations.c.status == status)
    if types:
        conditions.append(regulations.c.regulation_type.in_(types))
    if subject_hash is not None:
        conditions.append(
            regulations.c.id.in_(
                select(regulation_targets.c.regulation_id).where(
                    regulation_targets.c.subject_hash == subject_hash
                )
            )
        )
    rows = (
        await tx.execute(
            select(regulations)
            .where(*conditions)
            .order_by(regulations.c.created_at.desc(), regulations.c.id)
            .offset(offset)
            .limit(limit)
        )
    ).all()
    total = await tx.scalar(select(func.count()).select_from(regulations).where(*conditions))
    return list(rows), int(total)


async def targets_of(tx: Transaction, regulation_ids: Sequence[str]) -> list[Row[Any]]:
    """The targets of regulations, in regulation and position order."""
    rows = await tx.execute(
        select(regulation_targets)
        .where(regulation_targets.c.regulation_id.in_(regulation_ids))
        .order_by(regulation_targets.c.regulation_id, regulation_targets.c.position)
    )
    return list(rows.all())


async def destinations_of(
    tx: Transaction, regulation_id: str, position: int | None = None
) -> list[Row[Any]]:
    """A regulation's destination rows (of one target), in target and destination order."""
    query = select(regulation_destinations).where(
        regulation_destinations.c.regulation_id == regulation_id
    )
    if position is not None:
        query = query.where(regulation_destinations.c.position == position)
    rows = await tx.execute(
        query.order_by(regulation_destinations.c.position, regulation_destinations.c.destination_id)
    )
    return list(rows.all())


async def cancel(tx: Transaction, workspace_id: int, regulation_id: str) -> bool:
    """Delete a regulation still ``INITIALIZED`` and not leased; whether it was."""
    result = await tx.execute(
        delete(regulations).where(
            regulations.c.id == regulation_id,
            regulations.c.workspace_id == workspace_id,
            regulations.c.status == "INITIALIZED",
            regulations.c.lease_owner.is_(None),
        )
    )
    return bool(result.rowcount)


_CLAIM = text(
    """
UPDATE regulations SET lease_owner = :owner, lease_until = now() + :lease,
    status = CASE WHEN status = 'INITIALIZED' THEN 'RUNNING' ELSE status END
WHERE id = (
    SELECT id FROM regulations
    WHERE status IN ('INITIALIZED', 'RUNNING') AND next_at <= now()
      AND (lease_until IS NULL OR lease_until < now())
    ORDER BY next_at
    LIMIT 1
    FOR UPDATE SKIP LOCKED
)
RETURNING id, workspace_id, regulation_type, subject_type, created_at
"""
)


async def claim(tx: Transaction, owner: str, lease: timedelta) -> Row[Any] | None:
    """Lease the regulation due first whose lease has run out (or that has none), marking it
    ``RUNNING``; None when none is due. A crashed owner's lease runs out and another (or the
    same process, restarted) takes the regulation over where its targets' stages stand."""
    return (await tx.execute(_CLAIM, {"owner": owner, "lease": lease})).first()


async def renew(tx: Transaction, regulation_id: str, owner: str, lease: timedelta) -> bool:
    """Extend ``owner``'s lease; False when it lost it."""
    result = await tx.execute(
        update(regulations)
        .where(regulations.c.id == regulation_id, regulations.c.lease_owner == owner)
        .values(lease_until=func.now() + lease)
    )
    return bool(result.rowcount)


async def release(tx: Transaction, regulation_id: str, owner: str, next_at: datetime) -> None:
    """Give the lease up until ``next_at`` (work waits: the processor, a retry)."""
    await tx.execute(
        update(regulations)
        .where(regulations.c.id == regulation_id, regulations.c.lease_owner == owner)
        .values(lease_owner=None, lease_until=None, next_at=next_at)
    )


async def finish(tx: Transaction, regulation_id: str, status: str) -> None:
    await tx.execute(
        update(regulations)
        .where(regulations.c.id == regulation_id)
        .values(status=status, finished_at=func.now(), lease_owner=None, lease_until=None)
    )


async def pending_targets(tx: Transaction, regulation_id: str, limit: int) -> list[Row[Any]]:
    """Targets not ended yet, in position order, locked for this turn."""
    rows = await tx.execute(
        select(regulation_targets)
        .where(
            regulation_targets.c.regulation_id == regulation_id,
            regulation_targets.c.status.in_(("INITIALIZED", "RUNNING")),
        )
        .order_by(regulation_targets.c.position)
        .limit(limit)
    )
    return list(rows.all())


async def update_target(tx: Transaction, regulation_id: str, position: int, **values: Any) -> None:
    await tx.execute(
        update(regulation_targets)
        .where(
            regulation_targets.c.regulation_id == regulation_id,
            regulation_targets.c.position == position,
        )
        .values(**values)
    )


async def insert_destinations(
    tx: Transaction,
    regulation_id: str,
    positions: Sequence[int],
    destinations: Sequence[tuple[int, str]],
) -> None:
    """A ``RUNNING`` row per (destination id, name) for each target at ``positions`` (once:
    repeats are kept)."""
    rows = [
        {
            "regulation_id": regulation_id,
            "position": position,
            "destination_id": destination_id,
            "name": name,
            "status": "RUNNING",
        }
        for position in positions
        for destination_id, name in destinations
    ]
    if rows:
        await tx.execute(pg_insert(regulation_destinations).on_conflict_do_nothing(), rows)


async def update_destination(
    tx: Transaction, regulation_id: str, position: int, destination_id: int, **values: Any
) -> None:
    await tx.execute(
        update(regulation_destinations)
        .where(
            and_(
                regulation_destinations.c.regulation_id == regulation_id,
                regulation_destinations.c.position == position,
                regulation_destinations.c.destination_id == destination_id,
            )
        )
        .values(**values)
    )
