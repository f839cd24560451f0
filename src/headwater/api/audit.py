"""Management API: the audit trail, read and exported (never changed: no route edits or
removes an entry).

A workspace's entries need ``audit:read`` there; the instance's (a workspace created, people
and their sign-ins: entries without a workspace) need an instance owner. Both take the same
filters: ``actor`` (an email or token name, or a user id), ``action`` (``source.update``),
``resource`` (``source:12``, or a kind: ``source``), ``since`` (included) and ``until``
(excluded). Lists are newest first, a page at a time (``before``: the previous page's
``next_cursor``); exports stream every matching entry as JSON Lines or CSV.

The routes mask their own answers (``MASKED_BY_ROUTE``): a reader without ``pii:read`` sees the
personal values of ``before`` and ``after`` masked; the actor and its address, which are the
team's, not a customer's, are shown as they are.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Annotated, Any, Final, Literal

import msgspec
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from headwater import access
from headwater.api.masking import classifier_of
from headwater.api.params import Cursor, Moment
from headwater.api.scope import SCOPED, UNSCOPED, WORKSPACE, Allowed
from headwater.runtime import Runtime

__all__ = ["instance", "router"]

router = APIRouter(prefix=WORKSPACE + "/audit", tags=["audit trail"], dependencies=SCOPED)
instance = APIRouter(prefix="/audit", tags=["audit trail"], dependencies=UNSCOPED)

CSV_COLUMNS: Final = (
    "id",
    "at",
    "workspace",
    "actor_kind",
    "actor_user_id",
    "actor_label",
    "token_id",
    "session_id",
    "action",
    "resource",
    "before",
    "after",
    "ip",
)
"""The export's CSV columns; ``before`` and ``after`` hold JSON text."""

_EXPORT_RESPONSES: Final[dict[int | str, dict[str, Any]]] = {
    200: {
        "content": {
            "application/x-ndjson": {"schema": {"type": "string"}},
            "text/csv": {"schema": {"type": "string"}},
        },
        "description": "every matching entry, newest first",
    }
}


class _Filters:
    """The filters every audit route takes (see the module)."""

    def __init__(
        self,
        actor: Annotated[str | None, Query(max_length=320)] = None,
        action: Annotated[str | None, Query(max_length=200)] = None,
        resource: Annotated[str | None, Query(max_length=500)] = None,
        since: Moment | None = None,
        until: Moment | None = None,
    ) -> None:
        self.actor = actor
        self.action = action
        self.resource = resource
        self.since = since
        self.until = until

    def of(self, workspace: str | None) -> access.AuditFilter:
        return access.AuditFilter(
            workspace=workspace,
            actor=self.actor,
            action=self.action,
            resource=self.resource,
            since=self.since,
            until=self.until,
        )


Filters = Annotated[_Filters, Depends()]
Limit = Annotated[int, Query(ge=1, le=1000)]
Format = Annotated[Literal["jsonl", "csv"], Query(description="JSON Lines or CSV")]


def _shown(entry: access.AuditEntryView, classifier: access.Classifier | None) -> None:
    """Mask ``entry``'s ``before`` and ``after`` in place for a reader without ``pii:read``."""
    if classifier is not None:
        entry["before"] = access.mask(entry["before"], classifier)
        entry["after"] = access.mask(entry["after"], classifier)


async def _page(
    request: Request,
    runtime: Runtime,
    found: access.AuditFilter,
    before: int | None,
    limit: int,
) -> access.AuditPageView:
    page = await access.audit_entries(runtime.database.engine, found, before=before, limit=limit)
    classifier = classifier_of(request.scope)
    for entry in page["data"]:
        _shown(entry, classifier)
    return page


def _csv_line(values: list[Any]) -> str:
    out = io.StringIO()
    csv.writer(out).writerow(values)
    return out.getvalue()


def _csv_row(entry: access.AuditEntryView) -> list[Any]:
    actor = entry["actor"]
    return [
        entry["id"],
        entry["at"],
        entry["workspace"] or "",
        actor["kind"],
        "" if actor["user_id"] is None else actor["user_id"],
        actor["label"],
        "" if actor["token_id"] is None else actor["token_id"],
        "" if actor["session_id"] is None else actor["session_id"],
        entry["action"],
        entry["resource"],
        "" if entry["before"] is None else msgspec.json.encode(entry["before"]).decode(),
        "" if entry["after"] is None else msgspec.json.encode(entry["after"]).decode(),
        entry["ip"] or "",
    ]


def _export(
    request: Request, runtime: Runtime, found: access.AuditFilter, kind: str, name: str
) -> StreamingResponse:
    classifier = classifier_of(request.scope)

    async def lines() -> AsyncIterator[bytes]:
        if kind == "csv":
            yield _csv_line(list(CSV_COLUMNS)).encode()
        async for entry in access.audit_export(runtime.database.engine, found):
            _shown(entry, classifier)
            if kind == "csv":
                yield _csv_line(_csv_row(entry)).encode()
            else:
                yield msgspec.json.encode(entry) + b"\n"

    media = "text/csv; charset=utf-8" if kind == "csv" else "application/x-ndjson"
    disposition = f'attachment; filename="{name}.{kind}"'
    return StreamingResponse(
        lines(), media_type=media, headers={"Content-Disposition": disposition}
    )


@router.get("")
async def workspace_entries(
    request: Request,
    workspace: str,
    runtime: Allowed,
    filters: Filters,
    before: Cursor | None = None,
    limit: Limit = 100,
) -> access.AuditPageView:
    """The workspace's audit entries, newest first (see the module for the filters)."""
    return await _page(request, runtime, filters.of(workspace), before, limit)


@router.get("/export", response_class=StreamingResponse, responses=_EXPORT_RESPONSES)
async def workspace_export(
    request: Request, workspace: str, runtime: Allowed, filters: Filters, format: Format = "jsonl"
) -> StreamingResponse:
    """Every matching entry of the workspace, newest first, streamed as JSON Lines (one
    entry, as the list shows it, per line) or CSV (columns: see ``CSV_COLUMNS``)."""
    return _export(request, runtime, filters.of(workspace), format, f"audit-{workspace}")


@instance.get("")
async def instance_entries(
    request: Request,
    runtime: Allowed,
    filters: Filters,
    before: Cursor | None = None,
    limit: Limit = 100,
) -> access.AuditPageView:
    """The instance's audit entries (without a workspace: workspaces created, people, sign-ins),
    newest first."""
    return await _page(request, runtime, filters.of(None), before, limit)


@instance.get("/export", response_class=StreamingResponse, responses=_EXPORT_RESPONSES)
async def instance_export(
    request: Request, runtime: Allowed, filters: Filters, format: Format = "jsonl"
) -> StreamingResponse:
    """Every matching instance entry, newest first, as JSON Lines or CSV."""
    return _export(request, runtime, filters.of(None), format, "audit-instance")
