"""Management API: file imports (CSV, JSON Lines, Parquet) into a source.

The file is the request's body, as it is, with its format in ``Content-Type`` (``text/csv``,
``application/x-ndjson``, ``application/vnd.apache.parquet``) or in ``?format=``; or the file
of a ``multipart/form-data`` body (a browser's form, ``curl -F file=@orders.csv``), its name
and format from the part's ``filename`` and ``Content-Type``. It streams to disk, never whole
in memory. Then: a dry run with a mapping (every
row checked, nothing written), start, and the import's progress and history::

    POST /api/v1/workspaces/acme/imports?source_id=3&kind=events&file_name=orders.csv
    POST /api/v1/workspaces/acme/imports/7/dry-run   {"mapping": {...}}
    POST /api/v1/workspaces/acme/imports/7/start     {"mapping": {...}}
    GET  /api/v1/workspaces/acme/imports/7
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from headwater import access
from headwater.api.auth import allowed, principal_of
from headwater.api.masking import classifier_of
from headwater.api.params import BigId, Cursor, Id
from headwater.api.scope import SCOPED, WORKSPACE, Allowed, known_workspace
from headwater.errors import UnsupportedMediaType
from headwater.imports import (
    DryRunView,
    FileFormat,
    ImportKind,
    ImportView,
    Mapping,
    boundary_of,
    file_part,
    format_of,
)

__all__ = ["router", "uploads"]


def _masked(job: ImportView, request: Request) -> ImportView:
    """``job`` with the personal values of its sample rows masked for a principal without
    ``pii:read`` (see ``headwater.api.masking``, ``MASKED_BY_ROUTE``)."""
    classifier = classifier_of(request.scope)
    if classifier is None:
        return job
    return {**job, "sample": access.mask(job["sample"], classifier)}


router = APIRouter(prefix=WORKSPACE + "/imports", tags=["imports"], dependencies=SCOPED)
uploads = APIRouter(
    prefix=WORKSPACE + "/imports",
    tags=["imports"],
    # Not the JSON body rule: the body is the file.
    dependencies=[Depends(allowed), Depends(known_workspace)],
)

_Column = Annotated[str, Field(min_length=1, max_length=512)]


class MappingIn(BaseModel):
    """Which column holds what; a column named nowhere is left out of the messages."""

    model_config = ConfigDict(extra="forbid")

    user_id: _Column | None = None
    anonymous_id: _Column | None = None
    group_id: _Column | None = None
    event: _Column | None = Field(None, description="the event name (events imports)")
    timestamp: _Column | None = Field(None, description="when it happened, ISO-8601")
    key: _Column | None = Field(
        None,
        description="a column naming the row for good (an order id): a row with the same key"
        " imported again is a duplicate even if other cells changed",
    )
    fields: dict[_Column, _Column] = Field(
        default_factory=dict,
        max_length=2000,
        description="column -> trait (profiles, accounts) or property (events) name",
    )

    def mapping(self) -> Mapping:
        return Mapping(**self.model_dump())


class DryRunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mapping: MappingIn | None = Field(None, description="null: the import's suggested mapping")
    max_errors: int = Field(1000, ge=0, le=10_000)


class StartIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mapping: MappingIn | None = Field(None, description="null: the import's suggested mapping")


@uploads.post("", status_code=201)
async def upload(
    workspace: str,
    request: Request,
    runtime: Allowed,
    source_id: Annotated[Id, Query(description="the source the rows enter")],
    kind: Annotated[ImportKind, Query(description="profiles, events or accounts")],
    file_name: Annotated[
        str | None, Query(min_length=1, max_length=255, description="else the form's filename")
    ] = None,
    format: Annotated[FileFormat | None, Query(description="else from Content-Type")] = None,
) -> ImportView:
    """Upload a file (the body). Answers the import with the file's columns, a sample of its
    rows and a suggested mapping; nothing is imported until ``start``. 413 over the size or
    row limit, 422 when the file cannot be read as its format."""
    content_type = request.headers.get("content-type")
    chunks: AsyncIterator[bytes] = request.stream()
    boundary = boundary_of(content_type or "")
    if boundary is not None:
        part = await file_part(chunks, boundary)
        file_name = file_name or part.file_name[:255] or None
        content_type, chunks = part.content_type, part.chunks
    file_name = file_name or "upload"
    fmt = format or format_of(file_name, content_type)
    if fmt is None:
        raise UnsupportedMediaType(
            "unknown_file_format",
            "send the file as text/csv, application/x-ndjson or application/vnd.apache.parquet,"
            " or name its format with ?format=csv|jsonl|parquet",
        )
    job = await runtime.importer.upload(
        workspace=workspace,
        source_id=source_id,
        kind=kind,
        fmt=fmt,
        file_name=file_name,
        chunks=chunks,
        created_by=principal_of(request).label,
    )
    return _masked(job, request)


@router.get("")
async def history(
    workspace: str,
    request: Request,
    runtime: Allowed,
    before: Cursor | None = None,
    limit: int = Query(50, ge=1, le=200),
) -> list[ImportView]:
    """The workspace's imports, newest first, with their counts (rows read, imported,
    duplicates, rejected) and a sample of row errors."""
    found = await runtime.importer.history(workspace=workspace, before=before, limit=limit)
    return [_masked(job, request) for job in found]


@router.get("/{import_id}")
async def status(
    workspace: str, import_id: BigId, request: Request, runtime: Allowed
) -> ImportView:
    """One import: its state, progress (``checkpoint`` of ``rows_total``) and counts."""
    return _masked(await runtime.importer.get(workspace=workspace, job_id=import_id), request)


@router.post("/{import_id}/dry-run")
async def dry_run(
    workspace: str, import_id: BigId, runtime: Allowed, body: DryRunIn | None = None
) -> DryRunView:
    """Check every row with the mapping, as the import would, writing nothing: the rows that
    would be refused, each with its number, column and what is wrong. No body: the
    suggested mapping."""
    body = body or DryRunIn()
    mapping = body.mapping.mapping() if body.mapping else None
    return await runtime.importer.dry_run(
        workspace=workspace, job_id=import_id, mapping=mapping, max_errors=body.max_errors
    )


@router.post("/{import_id}/start", status_code=202)
async def start(
    workspace: str,
    import_id: BigId,
    request: Request,
    runtime: Allowed,
    body: StartIn | None = None,
) -> ImportView:
    """Start the import with the mapping; it runs in the background (follow it with GET).
    Good rows go in, bad ones are recorded as rejections with their reasons. No body: the
    suggested mapping."""
    mapping = body.mapping.mapping() if body and body.mapping else None
    job = await runtime.importer.start(workspace=workspace, job_id=import_id, mapping=mapping)
    return _masked(job, request)
