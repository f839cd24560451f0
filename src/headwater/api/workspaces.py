"""Management API: workspaces (global) and each workspace's sources."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from headwater import workspaces
from headwater.api.auth import principal_of
from headwater.api.hook_receiver import receivers
from headwater.api.scope import SCOPED, UNSCOPED, WORKSPACE, Allowed, SourceId
from headwater.errors import BadRequest
from headwater.workspaces import SourceView, WorkspaceView, source_view, workspace_view

__all__ = ["router", "sources"]

router = APIRouter(tags=["sources"], dependencies=UNSCOPED)
sources = APIRouter(prefix=WORKSPACE + "/sources", tags=["sources"], dependencies=SCOPED)


class WorkspaceIn(BaseModel):
    slug: str = Field(description="lowercase letters, digits and '-'")
    name: str | None = None


TrackingKind = Literal["server", "client"]
"""A source that SDKs send to; a webhook source is made with ``POST …/webhook-sources``."""


class SourceIn(BaseModel):
    name: str
    write_key: str | None = Field(default=None, description="generated when omitted")
    kind: TrackingKind = Field(
        default="server", description="client: context.ip is filled from the connection"
    )
    strict: bool = Field(default=False, description="invalid events fail the request with 400")


class SourcePatch(BaseModel):
    name: str | None = None
    kind: TrackingKind | None = None
    strict: bool | None = None
    enabled: bool | None = None


@router.get("/workspaces")
async def list_workspaces(request: Request, runtime: Allowed) -> list[WorkspaceView]:
    """The workspaces the caller has a role in (an instance owner: all)."""
    principal = principal_of(request)
    return [
        workspace_view(w)
        for w in await workspaces.list_workspaces(runtime.database.engine)
        if principal.grant(w.slug) is not None
    ]


@router.post("/workspaces", status_code=201)
async def create_workspace(body: WorkspaceIn, runtime: Allowed) -> WorkspaceView:
    created = await workspaces.create_workspace(
        runtime.database.engine, slug=body.slug, name=body.name
    )
    return workspace_view(created)


@sources.get("")
async def list_sources(workspace: str, runtime: Allowed) -> list[SourceView]:
    """The workspace's sources, with their write keys."""
    found = await workspaces.list_sources(runtime.database.engine, workspace=workspace)
    return [source_view(source) for source in found]


@sources.post("", status_code=201)
async def create_source(workspace: str, body: SourceIn, runtime: Allowed) -> SourceView:
    source = await workspaces.create_source(
        runtime.database.engine,
        name=body.name,
        workspace=workspace,
        write_key=body.write_key,
        kind=body.kind,
        strict=body.strict,
    )
    return source_view(source)


@sources.get("/{source_id}")
async def get_source(source_id: SourceId, runtime: Allowed) -> SourceView:
    return source_view(await workspaces.get_source(runtime.database.engine, source_id))


@sources.patch("/{source_id}")
async def update_source(
    source_id: SourceId, body: SourcePatch, runtime: Allowed, request: Request
) -> SourceView:
    if body.kind is not None:
        current = await workspaces.get_source(runtime.database.engine, source_id)
        if current.kind == "webhook":
            raise BadRequest("invalid_kind", "a webhook source stays a webhook source")
    source = await workspaces.update_source(
        runtime.database.engine, source_id, **body.model_dump(exclude_none=True)
    )
    runtime.collector.keys.forget()
    receivers(request).forget()
    return source_view(source)
