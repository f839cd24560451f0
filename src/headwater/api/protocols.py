"""Management API: tracking plans (versions, diff, import and export, typed code), their
sources and enforcement settings, violations, the quarantine and observed schemas."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from headwater import protocols
from headwater.api.auth import allowed
from headwater.api.params import BigId, Cursor, Id, Moment
from headwater.api.scope import SCOPED, Allowed, SourceId, known_workspace
from headwater.errors import BadRequest
from headwater.protocols import (
    ConnectionView,
    DocumentView,
    ObservedEventView,
    PlanDiffView,
    PlanView,
    PlanWithDocumentView,
    QuarantinedView,
    ResentView,
    VersionView,
    ViolationsView,
)

__all__ = ["files", "router"]

router = APIRouter(tags=["tracking plans"], dependencies=SCOPED)
files = APIRouter(
    tags=["tracking plans"], dependencies=[Depends(allowed), Depends(known_workspace)]
)
"""The import route: its body is a file (JSON, YAML or CSV, as ``format`` says), not JSON."""
_MEDIA = {"json": "application/json", "yaml": "application/yaml", "csv": "text/csv"}
_TEXT: dict[str, Any] = {"schema": {"type": "string"}}
_DOCUMENT: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/DocumentView"}}},
    }
}
"""The body of create and update, read by hand (so that a bad document is ``invalid_plan`` with
the reason, not a generic 422) but declared, so that generated clients type it."""


async def _json(request: Request) -> Any:
    try:
        return msgspec.json.decode(await request.body())
    except msgspec.DecodeError as error:
        raise BadRequest("invalid_json", f"the body is not JSON: {error}") from None


@router.get("/workspaces/{workspace}/tracking-plans")
async def list_plans(workspace: str, runtime: Allowed) -> list[PlanView]:
    return await protocols.list_plans(runtime.database.engine, workspace=workspace)


@router.post("/workspaces/{workspace}/tracking-plans", status_code=201, openapi_extra=_DOCUMENT)
async def create_plan(
    workspace: str, request: Request, runtime: Allowed, slug: str | None = None
) -> PlanView:
    """Create a plan from its JSON document (see docs/tracking-plans.md); ``slug`` defaults
    to the name's. 409 when the slug is taken."""
    return await protocols.create_plan(
        runtime.database.engine, workspace=workspace, document=await _json(request), slug=slug
    )


@files.post("/workspaces/{workspace}/tracking-plans/import", status_code=201)
async def import_plan(
    workspace: str,
    request: Request,
    runtime: Allowed,
    format: Literal["json", "yaml", "csv"] = "json",
    name: Annotated[str | None, Query(description="the plan's name (required for CSV)")] = None,
    slug: str | None = None,
) -> PlanView:
    """Import a JSON, YAML or CSV file (the raw body): a new plan, or a new version of the plan
    with that slug."""
    try:
        text = (await request.body()).decode()
    except UnicodeDecodeError:
        raise BadRequest("invalid_plan", "the file is not UTF-8") from None
    document = protocols.read_document(text, format, name=name)
    return await protocols.import_plan(
        runtime.database.engine, workspace=workspace, document=document, slug=slug
    )


@router.get("/workspaces/{workspace}/tracking-plans/{slug}")
async def get_plan(
    workspace: str, slug: str, runtime: Allowed, version: Id | None = None
) -> PlanWithDocumentView:
    """The plan and the document of ``version`` (default: the newest)."""
    return await protocols.get_plan(
        runtime.database.engine, workspace=workspace, slug=slug, version=version
    )


@router.put("/workspaces/{workspace}/tracking-plans/{slug}", openapi_extra=_DOCUMENT)
async def update_plan(
    workspace: str, slug: str, request: Request, runtime: Allowed, note: str = ""
) -> PlanView:
    """Store a new version (none when the document is unchanged); connected sources validate
    against it from their next batch on."""
    return await protocols.update_plan(
        runtime.database.engine,
        workspace=workspace,
        slug=slug,
        document=await _json(request),
        note=note,
    )


@router.delete("/workspaces/{workspace}/tracking-plans/{slug}", status_code=204)
async def delete_plan(workspace: str, slug: str, runtime: Allowed) -> None:
    await protocols.delete_plan(runtime.database.engine, workspace=workspace, slug=slug)


@router.get("/workspaces/{workspace}/tracking-plans/{slug}/versions")
async def versions(workspace: str, slug: str, runtime: Allowed) -> list[VersionView]:
    return await protocols.versions(runtime.database.engine, workspace=workspace, slug=slug)


@router.get("/workspaces/{workspace}/tracking-plans/{slug}/diff")
async def diff(
    workspace: str,
    slug: str,
    runtime: Allowed,
    from_version: Annotated[Id, Query(alias="from")],
    to_version: Annotated[Id | None, Query(alias="to")] = None,
) -> PlanDiffView:
    """What changed from version ``from`` to ``to`` (default: the newest)."""
    return await protocols.diff(
        runtime.database.engine,
        workspace=workspace,
        slug=slug,
        before=from_version,
        after=to_version,
    )


@router.get(
    "/workspaces/{workspace}/tracking-plans/{slug}/export",
    response_class=PlainTextResponse,
    responses={200: {"content": {media: _TEXT for media in _MEDIA.values()}}},
)
async def export_plan(
    workspace: str,
    slug: str,
    runtime: Allowed,
    format: Literal["json", "yaml", "csv"] = "json",
    version: Id | None = None,
) -> PlainTextResponse:
    text = await protocols.export_plan(
        runtime.database.engine, workspace=workspace, slug=slug, format=format, version=version
    )
    return PlainTextResponse(text, media_type=_MEDIA[format])


@router.get(
    "/workspaces/{workspace}/tracking-plans/{slug}/codegen",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": _TEXT}}},
)
async def codegen(
    workspace: str,
    slug: str,
    runtime: Allowed,
    lang: Literal["python", "typescript"] = "python",
    version: Id | None = None,
) -> PlainTextResponse:
    """A typed tracking module (Typewriter style) for the plan."""
    found = await protocols.get_plan(
        runtime.database.engine, workspace=workspace, slug=slug, version=version
    )
    plan = protocols.parse_plan(found["document"])
    return PlainTextResponse(protocols.generate(plan, lang, version=found["shown_version"]))


class ConnectIn(BaseModel):
    plan: str = Field(description="the plan's slug")
    settings: dict[str, Any] = Field(
        default_factory=dict,
        description="unplanned_events (allow, block), unplanned_properties (allow, omit), "
        "violations (allow, flag, omit, block)",
    )


@router.get("/workspaces/{workspace}/tracking-plan-sources")
async def list_connections(workspace: str, runtime: Allowed) -> list[ConnectionView]:
    return await protocols.list_connections(runtime.database.engine, workspace=workspace)


@router.get("/workspaces/{workspace}/sources/{source_id}/tracking-plan")
async def get_connection(workspace: str, source_id: SourceId, runtime: Allowed) -> ConnectionView:
    found = await protocols.list_connections(
        runtime.database.engine, workspace=workspace, source_id=source_id
    )
    return found[0]


@router.put("/workspaces/{workspace}/sources/{source_id}/tracking-plan")
async def connect(
    workspace: str, source_id: SourceId, body: ConnectIn, runtime: Allowed
) -> ConnectionView:
    """Validate the source's messages against a plan with these settings."""
    return await protocols.connect_source(
        runtime.database.engine,
        workspace=workspace,
        plan=body.plan,
        source_id=source_id,
        settings=body.settings,
    )


@router.delete("/workspaces/{workspace}/sources/{source_id}/tracking-plan", status_code=204)
async def disconnect(workspace: str, source_id: SourceId, runtime: Allowed) -> None:
    await protocols.disconnect_source(
        runtime.database.engine, workspace=workspace, source_id=source_id
    )


@router.get("/workspaces/{workspace}/violations")
async def violations(
    workspace: str,
    runtime: Allowed,
    source_id: Id | None = None,
    event: str | None = None,
    type: str | None = None,
    since: Moment | None = None,
    until: Moment | None = None,
    interval: Literal["minute", "hour", "day"] = "hour",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> ViolationsView:
    """Violations per kind (source, event, type, path) with counts and samples, and counts
    per ``interval`` (default window: the last 24 hours)."""
    return await protocols.violations(
        runtime.database.engine,
        workspace=workspace,
        source_id=source_id,
        event=event,
        violation=type,
        since=since,
        until=until,
        interval=interval,
        limit=limit,
    )


@router.get("/workspaces/{workspace}/quarantine")
async def quarantine(
    workspace: str,
    runtime: Allowed,
    source_id: Id | None = None,
    status: Literal["quarantined", "replayed", "forwarded", "released", "all"] = "quarantined",
    reason: Literal["violations", "unplanned_event"] | None = None,
    before: Cursor | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> list[QuarantinedView]:
    """Blocked messages with their reasons and violations, newest first."""
    return await protocols.quarantine(
        runtime.database.engine,
        workspace=workspace,
        source_id=source_id,
        status=None if status == "all" else status,
        reason=reason,
        before=before,
        limit=limit,
    )


class ResendIn(BaseModel):
    ids: list[BigId] | None = Field(default=None, description="quarantine ids")
    source_id: Id | None = Field(default=None, description="or: all of this source's")


class ForwardIn(ResendIn):
    to_source: Id


@router.post("/workspaces/{workspace}/quarantine/replay")
async def replay(workspace: str, body: ResendIn, runtime: Allowed) -> ResentView:
    """Re-append quarantined messages to the pipeline (after the plan was fixed)."""
    return await protocols.replay(
        runtime.database.engine,
        runtime.log,
        workspace=workspace,
        ids=body.ids,
        source_id=body.source_id,
    )


@router.post("/workspaces/{workspace}/quarantine/forward")
async def forward(workspace: str, body: ForwardIn, runtime: Allowed) -> ResentView:
    """Append quarantined messages under another source of the workspace."""
    return await protocols.forward(
        runtime.database.engine,
        runtime.log,
        workspace=workspace,
        to_source=body.to_source,
        ids=body.ids,
        source_id=body.source_id,
    )


@router.get("/workspaces/{workspace}/sources/{source_id}/observed-schema")
async def observed_schema(
    workspace: str, source_id: SourceId, runtime: Allowed
) -> list[ObservedEventView]:
    """Every event and property path the source sent, with types, counts and last seen."""
    return await protocols.observed_schema(
        runtime.database.engine, workspace=workspace, source_id=source_id
    )


@router.get("/workspaces/{workspace}/sources/{source_id}/observed-schema/plan")
async def draft_plan(
    workspace: str, source_id: SourceId, runtime: Allowed, name: str | None = None
) -> DocumentView:
    """A plan document drafted from the observed schema (not stored: POST it to create it)."""
    return await protocols.draft_plan(
        runtime.database.engine, workspace=workspace, source_id=source_id, name=name
    )
