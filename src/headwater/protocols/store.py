"""Management queries on plans, versions, connections, violations, the quarantine and the
observed schema. Each takes a SQLAlchemy connection; none commits (``service.py`` does).

The stage's own reads and writes, on asyncpg, are in ``records.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

import msgspec
from sqlalchemy import Row, text

from headwater.storage import Transaction

__all__ = [
    "Interval",
    "connection_of",
    "connections_of",
    "delete_connection",
    "delete_plan",
    "forget_governed",
    "governed_between",
    "insert_plan",
    "insert_version",
    "observed",
    "plan_by_slug",
    "plans",
    "quarantined",
    "set_quarantine_status",
    "upsert_connection",
    "version",
    "versions",
    "violation_counts",
    "violation_summary",
]

Interval = Literal["minute", "hour", "day"]
_json = msgspec.json.Encoder()


def _encode(value: Any) -> str:
    return _json.encode(value).decode()


_PLAN = (
    "SELECT p.id, p.slug, p.name, p.version, p.created_at, p.updated_at,"
    " (SELECT coalesce(array_agg(c.source_id ORDER BY c.source_id), '{}')"
    "  FROM tracking_plan_sources c WHERE c.plan_id = p.id) AS sources"
    " FROM tracking_plans p"
)


async def plans(connection: Transaction, workspace: int) -> Sequence[Row[Any]]:
    result = await connection.execute(
        text(f"{_PLAN} WHERE p.workspace_id = :w ORDER BY p.slug"), {"w": workspace}
    )
    return result.all()


async def plan_by_slug(
    connection: Transaction, workspace: int, slug: str, *, for_update: bool = False
) -> Row[Any] | None:
    lock = " FOR UPDATE OF p" if for_update else ""
    result = await connection.execute(
        text(f"{_PLAN} WHERE p.workspace_id = :w AND p.slug = :slug{lock}"),
        {"w": workspace, "slug": slug},
    )
    return result.first()


async def insert_plan(connection: Transaction, workspace: int, slug: str, name: str) -> int:
    """A new plan at version 1 (its version row comes from :func:`insert_version`)."""
    found = await connection.scalar(
        text(
            "INSERT INTO tracking_plans (workspace_id, slug, name, version)"
            " VALUES (:w, :slug, :name, 1) ON CONFLICT (workspace_id, slug) DO NOTHING"
            " RETURNING id"
        ),
        {"w": workspace, "slug": slug, "name": name},
    )
    return 0 if found is None else int(found)


async def insert_version(
    connection: Transaction,
    plan_id: int,
    version: int,
    document: dict[str, Any],
    note: str,
) -> None:
    """Store ``document`` as ``version`` and make it the plan's current one."""
    await connection.execute(
        text(
            "INSERT INTO tracking_plan_versions (plan_id, version, document, note)"
            " VALUES (:p, :v, CAST(:d AS jsonb), :note)"
        ),
        {"p": plan_id, "v": version, "d": _encode(document), "note": note},
    )
    await connection.execute(
        text(
            "UPDATE tracking_plans SET version = :v, name = :name, updated_at = now() WHERE id = :p"
        ),
        {"p": plan_id, "v": version, "name": document["name"]},
    )


async def delete_plan(connection: Transaction, plan_id: int) -> None:
    await connection.execute(text("DELETE FROM tracking_plans WHERE id = :p"), {"p": plan_id})


async def versions(connection: Transaction, plan_id: int) -> Sequence[Row[Any]]:
    result = await connection.execute(
        text(
            "SELECT version, note, created_at, jsonb_array_length(document->'events') AS events"
            " FROM tracking_plan_versions WHERE plan_id = :p ORDER BY version DESC"
        ),
        {"p": plan_id},
    )
    return result.all()


async def version(connection: Transaction, plan_id: int, number: int) -> Row[Any] | None:
    result = await connection.execute(
        text(
            "SELECT version, note, created_at, document FROM tracking_plan_versions"
            " WHERE plan_id = :p AND version = :v"
        ),
        {"p": plan_id, "v": number},
    )
    return result.first()


_CONNECTION = (
    "SELECT c.source_id, c.settings, c.revision, c.connected_at, p.slug AS plan, p.version"
    " FROM tracking_plan_sources c JOIN tracking_plans p ON p.id = c.plan_id"
)


async def upsert_connection(
    connection: Transaction, source_id: int, plan_id: int, settings: dict[str, Any]
) -> None:
    await connection.execute(
        text(
            "INSERT INTO tracking_plan_sources (source_id, plan_id, settings)"
            " VALUES (:s, :p, CAST(:settings AS jsonb)) ON CONFLICT (source_id) DO UPDATE"
            " SET plan_id = EXCLUDED.plan_id, settings = EXCLUDED.settings,"
            " revision = tracking_plan_sources.revision + 1"
        ),
        {"s": source_id, "p": plan_id, "settings": _encode(settings)},
    )


async def connection_of(connection: Transaction, source_id: int) -> Row[Any] | None:
    result = await connection.execute(
        text(f"{_CONNECTION} WHERE c.source_id = :s"), {"s": source_id}
    )
    return result.first()


async def connections_of(connection: Transaction, workspace: int) -> Sequence[Row[Any]]:
    result = await connection.execute(
        text(f"{_CONNECTION} WHERE p.workspace_id = :w ORDER BY c.source_id"), {"w": workspace}
    )
    return result.all()


async def delete_connection(connection: Transaction, source_id: int) -> bool:
    result = await connection.execute(
        text("DELETE FROM tracking_plan_sources WHERE source_id = :s RETURNING source_id"),
        {"s": source_id},
    )
    return result.first() is not None


Filters = dict[str, Any]
"""``source_id``, ``event`` (name) and ``violation`` (type), each None for any."""


def _filters(filters: Filters) -> str:
    columns = {"source_id": "source_id", "event": "event_name", "violation": "violation"}
    return "".join(
        f" AND {column} = :{name}"
        for name, column in columns.items()
        if filters.get(name) is not None
    )


async def violation_summary(
    connection: Transaction,
    workspace: int,
    *,
    since: datetime,
    until: datetime,
    filters: Filters,
    limit: int,
) -> Sequence[Row[Any]]:
    """One row per kind of violation seen in ``[since, until)``: count, message, samples."""
    result = await connection.execute(
        text(
            "SELECT c.source_id, c.event_type, c.event_name, c.violation, c.path, c.total,"
            " s.message, s.first_seen, s.last_seen, s.samples FROM ("
            "  SELECT source_id, event_type, event_name, violation, path, sum(count) AS total"
            "  FROM violation_counts WHERE workspace_id = :w"
            "  AND bucket >= :since AND bucket < :until"
            f" {_filters(filters)}"
            "  GROUP BY 1, 2, 3, 4, 5) c"
            " LEFT JOIN violation_samples s USING (source_id, event_type, event_name,"
            " violation, path) ORDER BY c.total DESC, c.source_id, c.event_name, c.path"
            " LIMIT :limit"
        ),
        {
            "w": workspace,
            "since": since,
            "until": until,
            "limit": limit,
            **filters,
        },
    )
    return result.all()


async def violation_counts(
    connection: Transaction,
    workspace: int,
    *,
    since: datetime,
    until: datetime,
    interval: Interval,
    filters: Filters,
) -> Sequence[Row[Any]]:
    """Counts per time bucket and violation type."""
    result = await connection.execute(
        text(
            "SELECT date_trunc(:interval, bucket) AS bucket, violation, sum(count) AS total"
            " FROM violation_counts WHERE workspace_id = :w AND bucket >= :since"
            f" AND bucket < :until {_filters(filters)}"
            " GROUP BY 1, 2 ORDER BY 1, 2"
        ),
        {
            "w": workspace,
            "interval": interval,
            "since": since,
            "until": until,
            **filters,
        },
    )
    return result.all()


async def quarantined(
    connection: Transaction,
    workspace: int,
    *,
    ids: Sequence[int] | None = None,
    source_id: int | None = None,
    status: str | None = None,
    reason: str | None = None,
    before: int | None = None,
    limit: int = 50,
    for_update: bool = False,
) -> Sequence[Row[Any]]:
    """Quarantined messages, newest first; ``ids`` picks some, the rest filter."""
    where = "workspace_id = :w"
    if ids is not None:
        where += " AND id = ANY(:ids)"
    if source_id is not None:
        where += " AND source_id = :source"
    if status is not None:
        where += " AND status = :status"
    if reason is not None:
        where += " AND reason = :reason"
    if before is not None:
        where += " AND id < :before"
    lock = " FOR UPDATE" if for_update else ""
    result = await connection.execute(
        text(f"SELECT * FROM quarantine WHERE {where} ORDER BY id DESC LIMIT :limit{lock}"),
        {
            "w": workspace,
            "ids": list(ids or ()),
            "source": source_id,
            "status": status,
            "reason": reason,
            "before": before,
            "limit": limit,
        },
    )
    return result.all()


async def set_quarantine_status(
    connection: Transaction, ids: Sequence[int], status: str, forwarded_to: int | None
) -> None:
    await connection.execute(
        text(
            "UPDATE quarantine SET status = :status, resolved_at = now(),"
            " forwarded_to = :to WHERE id = ANY(:ids)"
        ),
        {"ids": list(ids), "status": status, "to": forwarded_to},
    )


async def observed_paths(connection: Transaction, workspace_id: int) -> Sequence[Row[Any]]:
    """Every property path the workspace's sources sent, over events and partitions: path,
    JSON type, count, last seen, the sources and the detectors that found a personal value
    there (for the PII inbox)."""
    result = await connection.execute(
        text(
            "SELECT path, json_type, sum(count) AS total, max(last_seen) AS last_seen,"
            " array_agg(DISTINCT source_id ORDER BY source_id) AS source_ids,"
            " array_remove(array_agg(DISTINCT detected), NULL) AS detected"
            " FROM observed_schema WHERE workspace_id = :w AND path <> ''"
            " GROUP BY 1, 2 ORDER BY 1, 2"
        ),
        {"w": workspace_id},
    )
    return result.all()


async def observed(connection: Transaction, source_id: int) -> Sequence[Row[Any]]:
    """The source's observed schema, partitions added up."""
    result = await connection.execute(
        text(
            "SELECT event_type, event_name, path, json_type, sum(count) AS total,"
            " min(first_seen) AS first_seen, max(last_seen) AS last_seen"
            " FROM observed_schema WHERE source_id = :s GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
        ),
        {"s": source_id},
    )
    return result.all()


async def governed_between(connection: Transaction, low: int, high: int) -> list[int]:
    """The log offsets in ``[low, high]`` with a governed payload or a blocked marker."""
    rows = await connection.scalars(
        text("SELECT seq FROM governed_payloads WHERE seq BETWEEN :low AND :high"),
        {"low": low, "high": high},
    )
    return list(rows)


async def forget_governed(connection: Transaction, offsets: Sequence[int]) -> int:
    """Delete the governed payloads of these log offsets (their events are gone); how many."""
    if not offsets:
        return 0
    result = await connection.execute(
        text("DELETE FROM governed_payloads WHERE seq = ANY(:offsets)"),
        {"offsets": list(offsets)},
    )
    return int(result.rowcount)
