"""Management API: subject access exports (everything held about one person, as a JSON
document and a ZIP of CSV files, built in the background).

Creating one needs ``privacy:write`` and is in the audit trail (``subject_export.create``);
listing and reading them needs ``privacy:read``. Downloading one needs ``privacy:read`` and
the ``pii:read`` grant in the workspace: the files are the person's own data, unmasked (a
masked export would not answer a subject access request); without the grant, 403
``pii_read_required``. A download is a read, so it is not in the audit trail (which records
changes); the export counts its downloads and keeps the time of the last one.
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import Field

from headwater import privacy
from headwater.access import AuditChange
from headwater.api.audit_trail import record
from headwater.api.auth import principal_of
from headwater.api.bodies import Body, documented, read_body
from headwater.api.client_ip import client_ip
from headwater.api.scope import SCOPED, WORKSPACE, Allowed
from headwater.errors import Forbidden
from headwater.privacy import ExportView

__all__ = ["router"]

router = APIRouter(prefix=WORKSPACE + "/privacy/exports", tags=["privacy"], dependencies=SCOPED)

ExportId = Annotated[int, Path(ge=1, le=2**63 - 1)]

_DOWNLOAD_RESPONSES: Final[dict[int | str, dict[str, Any]]] = {
    200: {
        "content": {
            "application/json": {
                "schema": {
                    "title": "SubjectAccessExport",
                    "type": "object",
                    "properties": {
                        "export": {"description": "who asked, when, for which subject"},
                        "profile": {"description": "the profile and its traits"},
                        "identifiers": {"description": "every identifier of the person"},
                        "consent": {"description": "consent now and its history"},
                        "memberships": {"description": "audiences, now and over time"},
                        "journeys": {"description": "journey instances and their steps"},
                        "destinations": {"description": "which destinations received data"},
                        "events": {"description": "the events within retention, as stored"},
                    },
                }
            },
            "application/zip": {"schema": {"type": "string", "format": "binary"}},
        },
        "description": "the JSON document (format=json) or the ZIP of CSV files (format=csv)",
    }
}


class ExportIn(Body):
    subject_type: Literal["USER_ID", "ANONYMOUS_ID"] = Field(
        description="what ``subject_id`` is: a userId or an anonymousId"
    )
    subject_id: str = Field(
        min_length=1, max_length=1000, description="the identifier of the person to export"
    )


@router.post("", status_code=202, openapi_extra=documented(ExportIn))
async def create_export(workspace: str, request: Request, runtime: Allowed) -> ExportView:
    """Queue an export of everything held about the person the identifier belongs to (every
    profile merged together, every identifier of theirs). 202: the job, ``queued``; poll it
    until ``done`` (or ``failed``, with the reason), then download it."""
    body = await read_body(request, ExportIn)
    return await privacy.create_export(
        runtime.database.engine,
        workspace=workspace,
        subject_type=body.subject_type,
        subject_id=body.subject_id,
        requested_by=principal_of(request).label,
    )


@router.get("")
async def list_exports(
    workspace: str,
    runtime: Allowed,
    before: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> list[ExportView]:
    """The workspace's exports, newest first; page with ``before`` (the last id seen)."""
    return await privacy.list_exports(
        runtime.database.engine, workspace=workspace, before=before, limit=limit
    )


@router.get("/{export_id}")
async def get_export(workspace: str, export_id: ExportId, runtime: Allowed) -> ExportView:
    """One export: its state, what each section holds once done, until when it is kept."""
    return await privacy.get_export(
        runtime.database.engine, workspace=workspace, export_id=export_id
    )


@router.get("/{export_id}/download", responses=_DOWNLOAD_RESPONSES)
async def download_export(
    workspace: str,
    export_id: ExportId,
    request: Request,
    runtime: Allowed,
    format: Literal["json", "csv"] = "json",
) -> StreamingResponse:
    """A finished export's file: ``json`` (one document) or ``csv`` (a ZIP, one CSV file per
    table), each download in the audit trail (``subject_export.download``). Needs
    ``pii:read``: 403 ``pii_read_required`` without it. 409
    ``export_not_ready`` before it is done; 404 ``export_expired`` once its files are gone."""
    engine = runtime.database.engine
    await privacy.get_export(engine, workspace=workspace, export_id=export_id)  # 404 first
    if not principal_of(request).pii_read(workspace):
        raise Forbidden(
            "pii_read_required", "an export holds a person's values unmasked; it needs pii:read"
        )
    download = await privacy.open_download(
        engine, workspace=workspace, export_id=export_id, file_format=format
    )
    # Who took a person's data away is a privacy action, though a read.
    change = AuditChange(
        workspace=workspace,
        actor=principal_of(request),
        action="subject_export.download",
        resource=f"subject_export:{export_id}",
        after={"format": format},
        ip=client_ip(request.scope, runtime.settings.trusted_proxies),
    )
    await record(runtime, change)
    return StreamingResponse(
        download.chunks,
        media_type=download.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{download.filename}"',
            "Content-Length": str(download.size),
            "Cache-Control": "no-store",
        },
    )
