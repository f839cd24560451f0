"""Management API: workspaces and sources."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from headwater import workspaces
from headwater.api.auth import admin
from headwater.api.params import Id
from headwater.runtime import Runtime
from headwater.workspaces import SourceKind

__all__ = ["router"]

router = APIRouter(tags=["sources"])
Admin = Annotated[Runtime, Depends(admin)]


class WorkspaceIn(BaseModel):
    slug: str = Field(description="lowercase letters, digits and '-'")
    name: str | None = None


class SourceIn(BaseModel):
    name: str
    workspace: str = "default"
    write_key: str | None = Field(default=None, description="generated when omitted")
    kind: SourceKind = Field(
        default="server", description="client: context.ip is filled from the connection"
    )
    strict: bool = Field(default=False, description="invalid events fail the request with 400")


class SourcePatch(BaseModel):
    name: str | None = None
    kind: SourceKind | None = None
    strict: bool | None = None
    enabled: bool | None = None


def _plain(value: Any) -> Any:
    return msgspec.to_builtins(value)


@router.get("/workspaces")
async def list_workspaces(runtime: Admin) -> list[dict[str, Any]]:
    return _plain(await workspaces.list_workspaces(runtime.database.engine))  # type: ignore[no-any-return]


@router.post("/workspaces", status_code=201)
async def create_workspace(body: WorkspaceIn, runtime: Admin) -> dict[str, Any]:
    created = await workspaces.create_workspace(
        runtime.database.engine, slug=body.slug, name=body.name
    )
    return _plain(created)  # type: ignore[no-any-return]


@router.get("/sources")
async def list_sources(runtime: Admin, workspace: str | None = None) -> list[dict[str, Any]]:
    return _plain(await workspaces.list_sources(runtime.database.engine, workspace=workspace))  # type: ignore[no-any-return]


@router.post("/sources", status_code=201)
async def create_source(body: SourceIn, runtime: Admin) -> dict[str, Any]:
    source = await workspaces.create_source(
        runtime.database.engine,
        name=body.name,
        workspace=body.workspace,
        write_key=body.write_key,
        kind=body.kind,
        strict=body.strict,
    )
    return _plain(source)  # type: ignore[no-any-return]


@router.get("/sources/{source_id}")
async def get_source(source_id: Id, runtime: Admin) -> dict[str, Any]:
    return _plain(await workspaces.get_source(runtime.database.engine, source_id))  # type: ignore[no-any-return]


@router.patch("/sources/{source_id}")
async def update_source(source_id: Id, body: SourcePatch, runtime: Admin) -> dict[str, Any]:
    source = await workspaces.update_source(
        runtime.database.engine, source_id, **body.model_dump(exclude_none=True)
    )
    runtime.collector.keys.forget()
    return _plain(source)  # type: ignore[no-any-return]
