"""Management API: reverse ETL's models and syncs.

Under ``/api/v1/workspaces/{workspace}/reverse-etl``. A model's connection URL is write-only:
answers show it with the password masked. The previews run the query on the customer's
database with a limit and change nothing (reads in the permission table, like an audience's).
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from headwater import retl
from headwater.api.params import BigId, Id
from headwater.api.scope import SCOPED, Allowed
from headwater.retl import ModelPreviewView, ModelView, RunView, SyncView

__all__ = ["router"]

router = APIRouter(tags=["reverse-etl"], dependencies=SCOPED)
_MODELS = "/workspaces/{workspace}/reverse-etl/models"
_SYNCS = "/workspaces/{workspace}/reverse-etl/syncs"


class ModelIn(BaseModel):
    name: str
    connection: str = Field(
        description="a SQLAlchemy URL, e.g. postgresql://user:password@host:5432/db; write-only"
    )
    query: str = Field(description="a SELECT returning one row per record")
    primary_key: str = Field(description="the column that names each row")
    cursor_column: str | None = Field(
        default=None, description="a column that grows when a row changes: read rows from it on"
    )


class ModelChange(BaseModel):
    """The fields to change; a connection left out keeps the stored one."""

    model_config = ConfigDict(extra="allow")

    name: str | None = None
    connection: str | None = None
    query: str | None = None
    primary_key: str | None = None
    cursor_column: str | None = None


class PreviewIn(BaseModel):
    connection: str
    query: str
    primary_key: str | None = None
    limit: int = Field(default=10, ge=1, le=1000)


class SyncIn(BaseModel):
    name: str
    model_id: Id
    target: Literal["profiles", "events", "destination"]
    message_type: Literal["identify", "group", "track"]
    mode: Literal["insert", "update", "upsert", "mirror"] = "upsert"
    mapping: dict[str, Any] = Field(
        description="user_id, anonymous_id, group_id, event, event_column, timestamp_column"
        " (column names; event a fixed name) and fields {name: column}"
    )
    schedule: dict[str, Any] = Field(
        default_factory=lambda: {"kind": "manual"},
        description='{"kind": "manual"}, {"kind": "interval", "seconds": N} or'
        ' {"kind": "cron", "expression": "0 6 * * *"} (UTC)',
    )
    destination_id: Id | None = None
    source_id: Id | None = Field(
        default=None, description="the source messages come from; default: 'Reverse ETL'"
    )
    enabled: bool = True


class SyncChange(BaseModel):
    """The fields to change; fields not sent keep their values."""

    model_config = ConfigDict(extra="allow")

    name: str | None = None
    model_id: Id | None = None
    target: Literal["profiles", "events", "destination"] | None = None
    message_type: Literal["identify", "group", "track"] | None = None
    mode: Literal["insert", "update", "upsert", "mirror"] | None = None
    mapping: dict[str, Any] | None = None
    schedule: dict[str, Any] | None = None
    destination_id: Id | None = None
    source_id: Id | None = None
    enabled: bool | None = None


@router.get(_MODELS)
async def list_models(workspace: str, runtime: Allowed) -> list[ModelView]:
    return await retl.list_models(runtime.database.engine, workspace=workspace)


@router.post(_MODELS, status_code=201)
async def create_model(workspace: str, body: ModelIn, runtime: Allowed) -> ModelView:
    return await retl.create_model(
        runtime.database.engine, runtime.settings, workspace=workspace, **body.model_dump()
    )


@router.post(_MODELS + "/preview")
async def preview(workspace: str, body: PreviewIn, runtime: Allowed) -> ModelPreviewView:
    """Run an unsaved model's query with a limit: its columns, first rows and problems."""
    return await retl.preview(runtime.database.engine, runtime.settings, **body.model_dump())


@router.get(_MODELS + "/{model_id}")
async def get_model(workspace: str, model_id: Id, runtime: Allowed) -> ModelView:
    return await retl.get_model(runtime.database.engine, workspace=workspace, model_id=model_id)


@router.patch(_MODELS + "/{model_id}")
async def update_model(
    workspace: str, model_id: Id, body: ModelChange, runtime: Allowed
) -> ModelView:
    return await retl.update_model(
        runtime.database.engine,
        runtime.settings,
        workspace=workspace,
        model_id=model_id,
        changes=body.model_dump(exclude_unset=True),
    )


@router.delete(_MODELS + "/{model_id}")
async def delete_model(workspace: str, model_id: Id, runtime: Allowed) -> ModelView:
    """Delete a model no sync sends (409 ``model_in_use`` otherwise)."""
    return await retl.delete_model(runtime.database.engine, workspace=workspace, model_id=model_id)


@router.post(_MODELS + "/{model_id}/preview")
async def preview_model(
    workspace: str,
    model_id: Id,
    runtime: Allowed,
    limit: int = Query(default=10, ge=1, le=1000),
) -> ModelPreviewView:
    return await retl.preview_model(
        runtime.database.engine,
        runtime.settings,
        workspace=workspace,
        model_id=model_id,
        limit=limit,
    )


@router.get(_SYNCS)
async def list_syncs(workspace: str, runtime: Allowed) -> list[SyncView]:
    return await retl.list_syncs(runtime.database.engine, workspace=workspace)


@router.post(_SYNCS, status_code=201)
async def create_sync(workspace: str, body: SyncIn, runtime: Allowed) -> SyncView:
    return await retl.create_sync(
        runtime.database.engine, workspace=workspace, values=body.model_dump()
    )


@router.get(_SYNCS + "/{sync_id}")
async def get_sync(workspace: str, sync_id: Id, runtime: Allowed) -> SyncView:
    return await retl.get_sync(runtime.database.engine, workspace=workspace, sync_id=sync_id)


@router.patch(_SYNCS + "/{sync_id}")
async def update_sync(workspace: str, sync_id: Id, body: SyncChange, runtime: Allowed) -> SyncView:
    return await retl.update_sync(
        runtime.database.engine,
        workspace=workspace,
        sync_id=sync_id,
        changes=body.model_dump(exclude_unset=True),
    )


@router.delete(_SYNCS + "/{sync_id}")
async def delete_sync(workspace: str, sync_id: Id, runtime: Allowed) -> SyncView:
    """Delete a sync with its runs and state; what it sent stays where it went."""
    return await retl.delete_sync(runtime.database.engine, workspace=workspace, sync_id=sync_id)


@router.post(_SYNCS + "/{sync_id}/run")
async def run_now(workspace: str, sync_id: Id, runtime: Allowed) -> SyncView:
    """Ask for a run now: a reverse ETL task takes it within ``retl_poll_seconds``."""
    return await retl.run_now(runtime.database.engine, workspace=workspace, sync_id=sync_id)


@router.get(_SYNCS + "/{sync_id}/runs")
async def list_runs(
    workspace: str,
    sync_id: Id,
    runtime: Allowed,
    limit: int = Query(default=50, ge=1, le=500),
) -> list[RunView]:
    """The sync's runs, newest first, with counts and samples of failed rows."""
    return await retl.list_runs(
        runtime.database.engine, workspace=workspace, sync_id=sync_id, limit=limit
    )


@router.get(_SYNCS + "/{sync_id}/runs/{run_id}")
async def get_run(workspace: str, sync_id: Id, run_id: BigId, runtime: Allowed) -> RunView:
    return await retl.get_run(
        runtime.database.engine, workspace=workspace, sync_id=sync_id, run_id=run_id
    )
