"""Management API: retention windows per workspace, store and source; a dry run of what they
would drop now; and dropping it now."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from headwater.api.scope import SCOPED, Allowed
from headwater.privacy import (
    RetentionPlanView,
    RetentionView,
    WindowIn,
    apply_retention,
    get_windows,
    retention_plan,
    set_windows,
)

__all__ = ["router"]

router = APIRouter(tags=["privacy"], dependencies=SCOPED)


class RetentionIn(BaseModel):
    windows: list[WindowIn] = Field(
        max_length=1000,
        description="the workspace's windows, replacing the ones it had; [] keeps everything",
    )


@router.get("/workspaces/{workspace}/retention")
async def get_retention(workspace: str, runtime: Allowed) -> RetentionView:
    """The workspace's retention windows per store (and per source), and the install's default
    for what has none (null: kept until a window is set)."""
    return await get_windows(
        runtime.database.engine,
        workspace=workspace,
        default_days=runtime.settings.retention_default_days,
    )


@router.put("/workspaces/{workspace}/retention")
async def put_retention(workspace: str, body: RetentionIn, runtime: Allowed) -> RetentionView:
    """Replace the workspace's windows. A source's window (``source_id``) is allowed on the
    stores whose rows have a source (events, rejections, quarantine) and wins over the
    workspace's. The windows take effect at the next retention round (daily), or at once with
    ``POST .../retention/apply``."""
    return await set_windows(
        runtime.database.engine,
        workspace=workspace,
        windows=body.windows,
        default_days=runtime.settings.retention_default_days,
    )


@router.post("/workspaces/{workspace}/retention/dry-run")
async def dry_run(workspace: str, runtime: Allowed) -> RetentionPlanView:
    """What retention would drop now for this workspace, dropping nothing: each day of the log
    that would go whole (its date range and this workspace's events in it, counted), each
    source's rows deleted from a day kept for others, and the rows of the other stores."""
    return await retention_plan(
        runtime.database.engine,
        workspace=workspace,
        default_days=runtime.settings.retention_default_days,
    )


@router.post("/workspaces/{workspace}/retention/apply")
async def apply(workspace: str, runtime: Allowed) -> RetentionPlanView:
    """Enforce the workspace's windows now and answer what went (the dry run's items, done).
    A day of the log is dropped whole only when every row in it, of any workspace, is past
    its window."""
    return await apply_retention(
        runtime.database.engine,
        workspace=workspace,
        default_days=runtime.settings.retention_default_days,
    )
