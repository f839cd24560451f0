"""Regulations and suppressions as the API serves them: create, read, list, cancel. Each
function owns its transaction; the work itself is the regulation job's (``privacy.job``).

>>> created = await create_regulation(engine, workspace="shop", source_id=None, body={
...     "regulationType": "SUPPRESS_WITH_DELETE", "subjectType": "USER_ID",
...     "subjectIds": ["u-1"]})
>>> (await get_regulation(engine, "shop", created["data"]["regulateId"]))["data"]["regulation"]
{'id': '...', 'overallStatus': 'INITIALIZED', ...}

Nothing here keeps an id in clear: a subject is stored as its digest under the workspace's
identifier key, and shown as that digest (``hmac-sha256:<hex>``) unless the caller names the
id (``subject_id``), which is then shown where its digest matches. A suppressing type
suppresses the named ids at once, in the creating transaction; the job adds the rest of each
person.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncEngine

from headwater import collect, workspaces
from headwater.errors import BadRequest, Conflict, NotFound
from headwater.privacy import model, store
from headwater.privacy.views import (
    CreatedRegulationView,
    DeletedRegulationView,
    DestinationStatusView,
    PaginationView,
    RegulationEntryView,
    RegulationListView,
    RegulationView,
    SuppressedView,
    SuppressionsView,
    TargetView,
)
from headwater.spec import format_timestamp
from headwater.storage import Transaction, connected, transaction

__all__ = [
    "DEFAULT_COUNT",
    "MAX_COUNT",
    "cancel_regulation",
    "create_regulation",
    "get_regulation",
    "list_regulations",
    "list_suppressions",
]

DEFAULT_COUNT: Final = 10
MAX_COUNT: Final = 200
_KIND_TYPES: Final = {kind: subject for subject, kind in model.SUBJECT_KINDS.items()}


async def create_regulation(
    engine: AsyncEngine, *, workspace: str, source_id: int | None, body: Any
) -> CreatedRegulationView:
    """A new regulation of Segment's create body (400 on bad input; 404 for a source that is
    not the workspace's)."""
    request = model.parse_request(body)
    regulation_id = model.new_regulation_id()
    kind = model.SUBJECT_KINDS[request.subject_type]
    async with transaction(engine) as tx:
        workspace_id = await workspaces.workspace_id(tx, workspace)
        if source_id is not None and (
            await workspaces.source_workspace_id(tx, source_id) != workspace_id
        ):
            raise NotFound("source_not_found", f"no source {source_id} in workspace {workspace!r}")
        key = await workspaces.identifier_key(tx, workspace_id)
        digests = [workspaces.identifier_hash(key, kind, id_) for id_ in request.subject_ids]
        await store.insert_regulation(
            tx,
            regulation_id=regulation_id,
            workspace_id=workspace_id,
            source_id=source_id,
            regulation_type=request.regulation_type,
            subject_type=request.subject_type,
            targets=[
                (digest, {"subject": id_})
                for digest, id_ in zip(digests, request.subject_ids, strict=True)
            ],
        )
        if model.suppresses(request.regulation_type):
            entries = [(kind, digest, digest) for digest in digests]
            await collect.suppress(tx, workspace_id, entries, regulation_id=regulation_id)
    return {"data": {"regulateId": regulation_id}}


async def get_regulation(
    engine: AsyncEngine, workspace: str, regulation_id: str, *, subject_id: str | None = None
) -> RegulationView:
    """A regulation with its status, a status per destination and per subject; 404 when the
    workspace has none with this id."""
    async with connected(engine) as tx:
        workspace_id = await workspaces.workspace_id(tx, workspace)
        row = await store.get(tx, workspace_id, regulation_id)
        if row is None:
            raise NotFound("regulation_not_found", f"no regulation {regulation_id!r}")
        targets = await store.targets_of(tx, [regulation_id])
        destinations = await store.destinations_of(tx, regulation_id)
        asked = await _asked(tx, workspace_id, row.subject_type, subject_id)
    shown: list[TargetView] = [
        {
            "subject": _subject(target.subject_hash, asked, subject_id),
            "status": target.status,
            "errString": target.error or "",
            "finishedAt": _time(target.finished_at),
            "removed": dict(target.removed or {}),
        }
        for target in targets
    ]
    statuses = [_headwater_status(targets)]
    statuses += _destination_statuses(destinations)
    body: dict[str, Any] = {
        "id": row.id,
        "workspaceId": workspace,
        "overallStatus": row.status,
        "createdAt": format_timestamp(row.created_at),
        "streamStatus": [
            {
                "id": workspace if row.source_id is None else str(row.source_id),
                "destinationStatus": statuses,
            }
        ],
        "regulationType": row.regulation_type,
        "subjectType": row.subject_type,
        "targets": shown,
    }
    if row.finished_at is not None:
        body["finishedAt"] = format_timestamp(row.finished_at)
    return {"data": {"regulation": body}}  # type: ignore[typeddict-item]


async def list_regulations(
    engine: AsyncEngine,
    workspace: str,
    *,
    source_id: int | None = None,
    status: str | None = None,
    types: Sequence[str] = (),
    count: int = DEFAULT_COUNT,
    cursor: str | None = None,
    subject_id: str | None = None,
    subject_type: str = "USER_ID",
) -> RegulationListView:
    """The workspace's regulations (of a source), newest first, a page at a time."""
    if status is not None and status not in model.STATUSES:
        raise BadRequest("invalid_status", f"status must be one of {', '.join(model.STATUSES)}")
    unknown = [kind for kind in types if kind not in model.REGULATION_TYPES]
    if unknown:
        raise BadRequest("invalid_regulation_type", f"unknown regulation types {unknown}")
    offset = _offset(cursor)
    _check_count(count)
    async with connected(engine) as tx:
        workspace_id = await workspaces.workspace_id(tx, workspace)
        if source_id is not None and (
            await workspaces.source_workspace_id(tx, source_id) != workspace_id
        ):
            raise NotFound("source_not_found", f"no source {source_id} in workspace {workspace!r}")
        asked = await _asked(tx, workspace_id, subject_type, subject_id)
        rows, total = await store.page(
            tx,
            workspace_id,
            source_id=source_id,
            status=status,
            types=types,
            subject_hash=asked,
            offset=offset,
            limit=count,
        )
        targets = await store.targets_of(tx, [row.id for row in rows])
    subjects: dict[str, list[str]] = {}
    for target in targets:
        shown = _subject(target.subject_hash, asked, subject_id)
        subjects.setdefault(target.regulation_id, []).append(shown)
    entries: list[RegulationEntryView] = []
    for row in rows:
        entry: RegulationEntryView = {
            "id": row.id,
            "subjectType": row.subject_type,
            "subjects": subjects.get(row.id, []),
            "status": row.status,
            "createdAt": format_timestamp(row.created_at),
            "regulationType": row.regulation_type,
        }
        if row.finished_at is not None:
            entry["finishedAt"] = format_timestamp(row.finished_at)
        entries.append(entry)
    following = offset + len(rows)
    return {
        "data": {
            "regulations": entries,
            "pagination": _pagination(
                _cursor(offset), _cursor(following) if following < total else None, total
            ),
        }
    }


async def list_suppressions(
    engine: AsyncEngine,
    workspace: str,
    *,
    count: int = DEFAULT_COUNT,
    cursor: str | None = None,
    subject_id: str | None = None,
    subject_type: str = "USER_ID",
) -> SuppressionsView:
    """The workspace's suppressed identifiers by subject type, a page at a time (as digests;
    with ``subject_id``, that id alone when it is suppressed)."""
    _check_count(count)
    after = _digest_cursor(cursor)
    async with connected(engine) as tx:
        workspace_id = await workspaces.workspace_id(tx, workspace)
        asked = await _asked(tx, workspace_id, subject_type, subject_id)
        if subject_id is not None and asked is None:
            asked = b""  # no key yet: nothing is suppressed
        rows, total = await collect.suppression_page(
            tx, workspace_id, after=after, limit=count, only=asked
        )
    grouped: dict[str, list[str]] = {}
    for kind, digest in rows:
        shown = (
            subject_id if asked is not None and digest == asked else model.subject_digest(digest)
        )
        grouped.setdefault(_KIND_TYPES.get(kind, kind.upper()), []).append(shown or "")
    suppressed: list[SuppressedView] = [
        {"subjectType": kind, "subjectIds": ids} for kind, ids in grouped.items()
    ]
    more = len(rows) == count and asked is None
    return {
        "data": {
            "suppressed": suppressed,
            "pagination": _pagination(
                cursor or _cursor(0),
                _encode(rows[-1][1].hex()) if more and rows else None,
                total,
            ),
        }
    }


async def cancel_regulation(
    engine: AsyncEngine, workspace: str, regulation_id: str
) -> DeletedRegulationView:
    """Delete a regulation that has not started (Segment: only ``INITIALIZED`` ones), and the
    suppressions it added; 404 when there is none, 409 when it has started."""
    async with transaction(engine) as tx:
        workspace_id = await workspaces.workspace_id(tx, workspace)
        row = await store.get(tx, workspace_id, regulation_id)
        if row is None:
            raise NotFound("regulation_not_found", f"no regulation {regulation_id!r}")
        if not await store.cancel(tx, workspace_id, regulation_id):
            raise Conflict(
                "regulation_started",
                f"regulation {regulation_id!r} is {row.status}: only an INITIALIZED regulation"
                " can be deleted",
            )
        await collect.unsuppress_regulation(tx, workspace_id, regulation_id)
    return {"data": {"status": "SUCCESS"}}


async def _asked(
    tx: Transaction, workspace_id: int, subject_type: str, subject_id: str | None
) -> bytes | None:
    """The digest of the id the caller names, or None."""
    if subject_id is None:
        return None
    kind = model.SUBJECT_KINDS.get(subject_type)
    if kind is None:
        raise BadRequest("invalid_subject_type", "subjectType must be USER_ID or ANONYMOUS_ID")
    key = await workspaces.identifier_key(tx, workspace_id)
    await tx.connection.commit()
    return workspaces.identifier_hash(key, kind, subject_id)


def _subject(digest: bytes, asked: bytes | None, subject_id: str | None) -> str:
    if asked is not None and subject_id is not None and bytes(digest) == asked:
        return subject_id
    return model.subject_digest(bytes(digest))


def _time(value: Any) -> str | None:
    return None if value is None else format_timestamp(value)


def _headwater_status(targets: Sequence[Any]) -> DestinationStatusView:
    """Headwater's own stores as a destination of the regulation."""
    statuses = [
        model.internal_status(target.stage, target.status, target.work) for target in targets
    ]
    finished = [target.finished_at for target in targets if target.finished_at is not None]
    errors = [target.error for target in targets if target.error]
    return {
        "name": "Headwater",
        "id": "headwater",
        "status": model.overall(statuses, started=True),
        "errString": errors[-1] if errors else "",
        "finishedAt": format_timestamp(max(finished)) if finished else "",
    }


def _destination_statuses(rows: Sequence[Any]) -> list[DestinationStatusView]:
    by_destination: dict[int, list[Any]] = {}
    for row in rows:
        by_destination.setdefault(row.destination_id, []).append(row)
    shown: list[DestinationStatusView] = []
    for destination_id, parts in sorted(by_destination.items()):
        finished = [part.finished_at for part in parts if part.finished_at is not None]
        errors = [part.error for part in parts if part.error]
        shown.append(
            {
                "name": parts[0].name,
                "id": str(destination_id),
                "status": model.overall([part.status for part in parts], started=True),
                "errString": errors[-1] if errors else "",
                "finishedAt": format_timestamp(max(finished))
                if finished and len(finished) == len(parts)
                else "",
            }
        )
    return shown


def _check_count(count: int) -> None:
    if not 1 <= count <= MAX_COUNT:
        raise BadRequest("invalid_pagination", f"pagination.count must be 1 to {MAX_COUNT}")


def _encode(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _decode(cursor: str) -> str:
    try:
        return base64.b64decode(cursor.encode(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise BadRequest("invalid_pagination", "pagination.cursor is not a cursor") from None


def _cursor(offset: int) -> str:
    return _encode(str(offset))


def _offset(cursor: str | None) -> int:
    if cursor is None:
        return 0
    decoded = _decode(cursor)
    if not decoded.isdigit():
        raise BadRequest("invalid_pagination", "pagination.cursor is not a cursor")
    return int(decoded)


def _digest_cursor(cursor: str | None) -> bytes | None:
    if cursor is None:
        return None
    decoded = _decode(cursor)
    if decoded == "0":
        return None
    try:
        return bytes.fromhex(decoded)
    except ValueError:
        raise BadRequest("invalid_pagination", "pagination.cursor is not a cursor") from None


def _pagination(current: str, following: str | None, total: int) -> PaginationView:
    page: PaginationView = {"current": current, "totalEntries": total}
    if following is not None:
        page["next"] = following
    return page
