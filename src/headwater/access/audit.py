"""The audit trail: every change made through the management API, appended once it committed,
and read back newest first. Each function owns its connection, but :func:`append_change`,
which appends in the caller's transaction (a background job's entry with its effect).

>>> change = AuditChange(workspace="shop", actor=principal, action="source.update",
...     resource="source:12", before={"name": "web"}, after={"name": "site"}, ip="10.0.0.7")
>>> await record_change(engine, change)
>>> page = await audit_entries(engine, AuditFilter(workspace="shop", action="source.update"))
>>> page["data"][0]["before"]
{'name': 'web'}

The trail is append-only: no function here changes or removes an entry, and the database
refuses UPDATE, DELETE and TRUNCATE on it (migration 0009). ``before`` and ``after`` pass
:func:`~headwater.access.redact.redact` on their way in.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import msgspec
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.access import store
from headwater.access.model import Principal
from headwater.access.redact import redact
from headwater.access.store import AuditFilter
from headwater.access.views import AuditEntryView, AuditPageView
from headwater.spec import format_timestamp
from headwater.storage import Transaction, connected, transaction

__all__ = [
    "AuditChange",
    "AuditFilter",
    "append_change",
    "audit_entries",
    "audit_export",
    "record_change",
]

_EXPORT_PAGE: Final = 1000


@dataclass(frozen=True, slots=True)
class AuditChange:
    """One successful change, as the management API saw it."""

    workspace: str | None
    actor: Principal
    action: str
    resource: str
    before: Any = None
    after: Any = None
    ip: str | None = None


def _json(value: Any) -> str | None:
    return None if value is None else msgspec.json.encode(redact(value)).decode()


async def record_change(engine: AsyncEngine, change: AuditChange) -> int:
    """Append ``change`` (its before and after redacted) in a transaction of its own; the
    entry's id. Raises what the database raises: the caller decides what a failure means."""
    async with transaction(engine) as connection:
        return await append_change(connection, change)


async def append_change(tx: Transaction, change: AuditChange) -> int:
    """Append ``change`` in the caller's transaction (which this never commits), so that the
    entry commits with the effect it records, or neither does; the entry's id.

    >>> async with transaction(engine) as tx:
    ...     await erase(tx, person)
    ...     await append_change(tx, AuditChange(workspace="shop", actor=job,
    ...         action="regulation.erase", resource="regulation:r1", after={"removed": {...}}))
    """
    actor = change.actor
    entry = {
        "workspace": change.workspace,
        "actor_kind": actor.kind,
        "actor_user_id": actor.user_id,
        "actor_label": actor.label,
        "token_id": actor.token_id,
        "session_id": actor.session_id,
        "action": change.action,
        "resource": change.resource,
        "before": _json(change.before),
        "after": _json(change.after),
        "ip": change.ip,
    }
    return await store.insert_audit(tx, entry)


def _utc(value: datetime | None) -> datetime | None:
    """A time without offset is UTC, as everywhere in the API."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _filter(found: AuditFilter) -> AuditFilter:
    return AuditFilter(
        workspace=found.workspace,
        actor=found.actor,
        action=found.action,
        resource=found.resource,
        since=_utc(found.since),
        until=_utc(found.until),
    )


def _view(row: Any) -> AuditEntryView:
    return {
        "id": row.id,
        "at": format_timestamp(row.at),
        "workspace": row.workspace,
        "actor": {
            "kind": row.actor_kind,
            "user_id": row.actor_user_id,
            "label": row.actor_label,
            "token_id": row.token_id,
            "session_id": row.session_id,
        },
        "action": row.action,
        "resource": row.resource,
        "before": row.before,
        "after": row.after,
        "ip": row.ip,
    }


async def audit_entries(
    engine: AsyncEngine, found: AuditFilter, *, before: int | None = None, limit: int = 100
) -> AuditPageView:
    """One page of the entries ``found`` selects, newest first, below id ``before``."""
    async with connected(engine) as connection:
        rows = await store.audit_rows(connection, _filter(found), before=before, limit=limit)
    return {
        "data": [_view(row) for row in rows],
        "next_cursor": rows[-1].id if len(rows) == limit else None,
    }


async def audit_export(engine: AsyncEngine, found: AuditFilter) -> AsyncIterator[AuditEntryView]:
    """Every entry ``found`` selects, newest first, read a page at a time (a connection per
    page, none held between them): entries appended meanwhile are newer than the first page
    and not included."""
    before: int | None = None
    while True:
        page = await audit_entries(engine, found, before=before, limit=_EXPORT_PAGE)
        for entry in page["data"]:
            yield entry
        before = page["next_cursor"]
        if before is None:
            return
