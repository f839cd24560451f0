"""What the plans find: violations over time, the quarantine (replay and forward), the observed
schema of a source and plans drafted from it. Each function owns its transaction and returns
JSON-ready values.

Replay and forward re-append quarantined messages to the event log, in the same transaction as
their status change, with a mark under ``context.headwater``::

    {"replay": {"quarantine_id": 7, "reason": "violations", "attempt": 1}}
    {"forwarded": {"quarantine_id": 7, "from_source": 3}}

A replayed message goes through its source's current plan again: it passes (its quarantine row
becomes ``released``) or is blocked again (the same row goes back to ``quarantined``, with the
new reason and one more attempt; never a second row). A forwarded message is appended under
the other source and follows that source's plan.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater import workspaces
from headwater.errors import BadRequest, NotFound
from headwater.log import EventLog, LogRecord
from headwater.protocols import store
from headwater.protocols.observe import infer_plan
from headwater.protocols.service import require_source
from headwater.protocols.store import Interval
from headwater.protocols.views import (
    DocumentView,
    ObservedEventView,
    ObservedFieldView,
    QuarantinedView,
    ResentView,
    ViolationsView,
)
from headwater.spec import Event, format_timestamp, parse_timestamp
from headwater.storage import connected, transaction

__all__ = [
    "draft_plan",
    "forward",
    "observed_fields",
    "observed_schema",
    "quarantine",
    "replay",
    "violations",
]

_MAX_WINDOW = timedelta(days=92)


def _window(since: datetime | None, until: datetime | None) -> tuple[datetime, datetime]:
    until = until or datetime.now(UTC)
    since = since or until - timedelta(days=1)
    if since.tzinfo is None or until.tzinfo is None:
        raise BadRequest("invalid_time", "since and until need a time zone (e.g. Z)")
    if since >= until or until - since > _MAX_WINDOW:
        raise BadRequest("invalid_window", "since must be before until, at most 92 days apart")
    return since, until


async def violations(
    engine: AsyncEngine,
    *,
    workspace: str,
    source_id: int | None = None,
    event: str | None = None,
    violation: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    interval: Interval = "hour",
    limit: int = 100,
) -> ViolationsView:
    """Violations in ``[since, until)`` (default: the last 24 hours): one row per kind
    (source, event, type, path) with its count, newest message and samples, and the counts
    per ``interval`` and type."""
    since, until = _window(since, until)
    filters = {"source_id": source_id, "event": event, "violation": violation}
    async with connected(engine) as connection:
        workspace_id = await workspaces.workspace_id(connection, workspace)
        summary = await store.violation_summary(
            connection, workspace_id, since=since, until=until, limit=limit, filters=filters
        )
        series = await store.violation_counts(
            connection, workspace_id, since=since, until=until, interval=interval, filters=filters
        )
    return {
        "since": format_timestamp(since),
        "until": format_timestamp(until),
        "violations": [
            {
                "source_id": row.source_id,
                "event_type": row.event_type,
                "event_name": row.event_name,
                "type": row.violation,
                "path": row.path,
                "count": int(row.total),
                "message": row.message,
                "first_seen": format_timestamp(row.first_seen) if row.first_seen else None,
                "last_seen": format_timestamp(row.last_seen) if row.last_seen else None,
                "samples": row.samples or [],
            }
            for row in summary
        ],
        "counts": [
            {"bucket": format_timestamp(r.bucket), "type": r.violation, "count": int(r.total)}
            for r in series
        ],
    }


def _quarantined(row: Row[Any], *, payload: bool = True) -> QuarantinedView:
    out: QuarantinedView = {
        "id": row.id,
        "source_id": row.source_id,
        "message_id": row.message_id,
        "type": row.type,
        "name": row.name,
        "reason": row.reason,
        "violations": row.violations,
        "status": row.status,
        "attempts": row.attempts,
        "plan_version": row.plan_version,
        "first_blocked_at": format_timestamp(row.first_blocked_at),
        "blocked_at": format_timestamp(row.blocked_at),
        "resolved_at": format_timestamp(row.resolved_at) if row.resolved_at else None,
        "forwarded_to": row.forwarded_to,
    }
    if payload:
        out["payload"] = row.payload
    return out


async def quarantine(
    engine: AsyncEngine,
    *,
    workspace: str,
    source_id: int | None = None,
    status: str | None = "quarantined",
    reason: str | None = None,
    before: int | None = None,
    limit: int = 50,
) -> list[QuarantinedView]:
    """Blocked messages, newest first (page with ``before``, an id); ``status`` None: all."""
    async with connected(engine) as connection:
        rows = await store.quarantined(
            connection,
            await workspaces.workspace_id(connection, workspace),
            source_id=source_id,
            status=status,
            reason=reason,
            before=before,
            limit=min(max(limit, 1), 1000),
        )
    return [_quarantined(row) for row in rows]


def _record(row: Row[Any], source_id: int, mark: dict[str, Any]) -> LogRecord:
    payload = dict(row.payload)
    context = dict(payload.get("context") or {})
    context["headwater"] = {**(context.get("headwater") or {}), **mark}
    payload["context"] = context
    name = payload.get("event") if row.type == "track" else payload.get("name")
    event = Event(
        type=row.type,
        message_id=row.message_id,
        user_id=payload.get("userId"),
        anonymous_id=payload.get("anonymousId"),
        name=name if isinstance(name, str) else None,
        timestamp=parse_timestamp(payload["timestamp"]),
        received_at=parse_timestamp(payload["receivedAt"]),
        payload=payload,
    )
    return LogRecord(workspace_id=row.workspace_id, source_id=source_id, event=event)


async def _resend(
    engine: AsyncEngine,
    log: EventLog,
    *,
    workspace: str,
    ids: Sequence[int] | None,
    source_id: int | None,
    to_source: int | None,
) -> ResentView:
    if ids is None and source_id is None:
        raise BadRequest("nothing_selected", "give the ids, or a source to take all of its")
    async with transaction(engine) as connection:
        workspace_id = await workspaces.workspace_id(connection, workspace)
        if to_source is not None:
            await require_source(connection, workspace_id, to_source)
        rows = await store.quarantined(
            connection,
            workspace_id,
            ids=ids,
            source_id=source_id,
            status="quarantined",
            limit=10_000,
            for_update=True,
        )
        if ids is not None and len(rows) != len(set(ids)):
            missing = sorted(set(ids) - {row.id for row in rows})
            shown = ", ".join(map(str, missing[:10])) + (", …" if len(missing) > 10 else "")
            raise NotFound(
                "not_quarantined", f"{len(missing)} ids are not in the quarantine: {shown}"
            )
        if to_source is None:
            marks = [
                {"replay": {"quarantine_id": r.id, "reason": r.reason, "attempt": r.attempts}}
                for r in rows
            ]
        else:
            marks = [
                {"forwarded": {"quarantine_id": r.id, "from_source": r.source_id}} for r in rows
            ]
        records = [
            _record(row, to_source or row.source_id, mark)
            for row, mark in zip(rows, marks, strict=True)
        ]
        await log.append(records, connection=connection.connection)
        status = "replayed" if to_source is None else "forwarded"
        await store.set_quarantine_status(connection, [r.id for r in rows], status, to_source)
    ids = [row.id for row in rows]
    if to_source is None:
        return {"replayed": len(rows), "ids": ids}
    return {"forwarded": len(rows), "ids": ids}


async def replay(
    engine: AsyncEngine,
    log: EventLog,
    *,
    workspace: str,
    ids: Sequence[int] | None = None,
    source_id: int | None = None,
) -> ResentView:
    """Re-append quarantined messages (``ids``, or all of ``source_id``'s) to the log."""
    return await _resend(
        engine, log, workspace=workspace, ids=ids, source_id=source_id, to_source=None
    )


async def forward(
    engine: AsyncEngine,
    log: EventLog,
    *,
    workspace: str,
    to_source: int,
    ids: Sequence[int] | None = None,
    source_id: int | None = None,
) -> ResentView:
    """Append quarantined messages under another source of the workspace."""
    return await _resend(
        engine, log, workspace=workspace, ids=ids, source_id=source_id, to_source=to_source
    )


async def observed_schema(
    engine: AsyncEngine, *, workspace: str, source_id: int
) -> list[ObservedEventView]:
    """Every event the source sent, with its count and its property paths (types with counts,
    first and last seen)."""
    async with connected(engine) as connection:
        await require_source(
            connection, await workspaces.workspace_id(connection, workspace), source_id
        )
        rows = await store.observed(connection, source_id)
    events: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        event = events.setdefault(
            (row.event_type, row.event_name),
            {"type": row.event_type, "name": row.event_name, "count": 0, "properties": {}},
        )
        if row.path == "":
            event |= {
                "count": int(row.total),
                "first_seen": format_timestamp(row.first_seen),
                "last_seen": format_timestamp(row.last_seen),
            }
            continue
        found = event["properties"].setdefault(
            row.path, {"path": row.path, "types": {}, "count": 0, "last_seen": None}
        )
        found["types"][row.json_type] = int(row.total)
        found["count"] += int(row.total)
        seen = format_timestamp(row.last_seen)
        found["last_seen"] = max(found["last_seen"] or seen, seen)
    return [
        cast(ObservedEventView, {**e, "properties": list(e["properties"].values())})
        for e in events.values()
    ]


async def observed_fields(engine: AsyncEngine, *, workspace: str) -> list[ObservedFieldView]:
    """Every property path the workspace's sources sent (over events): its JSON types with
    counts, total count, last seen, the sources that sent it and the PII detectors that found a
    personal value there, in path order."""
    async with connected(engine) as connection:
        rows = await store.observed_paths(
            connection, await workspaces.workspace_id(connection, workspace)
        )
    fields: dict[str, ObservedFieldView] = {}
    for row in rows:
        found = fields.setdefault(
            row.path,
            {
                "path": row.path,
                "types": {},
                "count": 0,
                "last_seen": None,
                "source_ids": [],
                "detected": [],
            },
        )
        found["types"][row.json_type] = int(row.total)
        found["count"] += int(row.total)
        seen = format_timestamp(row.last_seen)
        found["last_seen"] = max(found["last_seen"] or seen, seen)
        found["source_ids"] = sorted(set(found["source_ids"]) | set(row.source_ids))
        found["detected"] = sorted(set(found["detected"]) | set(row.detected))
    return list(fields.values())


async def draft_plan(
    engine: AsyncEngine, *, workspace: str, source_id: int, name: str | None = None
) -> DocumentView:
    """A plan document drafted from the source's observed schema (not stored)."""
    async with connected(engine) as connection:
        await require_source(
            connection, await workspaces.workspace_id(connection, workspace), source_id
        )
        rows = await store.observed(connection, source_id)
    if not rows:
        raise NotFound("nothing_observed", f"source {source_id} has sent nothing yet")
    observed = [(r.event_type, r.event_name, r.path, r.json_type, int(r.total)) for r in rows]
    return cast(DocumentView, infer_plan(name or f"Source {source_id}", observed))
