"""Management API: processing failures (events a processor stage failed on alone, set aside
so that the rest of their partition went on), their replay once the cause is fixed, and the
processor's backlog."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from headwater.api.scope import SCOPED, UNSCOPED, Allowed
from headwater.pipeline import (
    BacklogView,
    FailureView,
    ReplayedFailuresView,
    backlog,
    list_failures,
)

__all__ = ["processing", "router"]

router = APIRouter(tags=["processing failures"], dependencies=SCOPED)
processing = APIRouter(tags=["processing failures"], dependencies=UNSCOPED)


@processing.get("/processing/backlog")
async def processing_backlog(runtime: Allowed) -> BacklogView:
    """How far the processor is behind the event log, over every workspace: partitions with
    events waiting, when the oldest waiting event was received, and its age in seconds (0 when
    the processor is caught up)."""
    return await backlog(runtime.log)


@router.get("/workspaces/{workspace}/failures")
async def failures(
    workspace: str,
    runtime: Allowed,
    status: Literal["open", "resolved", "all"] = "open",
    before: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> list[FailureView]:
    """Events the processor failed on, newest first: the stage, the reason, the source, the
    ``messageId`` and the log position of each; page with ``before`` (an id)."""
    return await list_failures(
        runtime.database.engine,
        workspace=workspace,
        status=None if status == "all" else status,
        before=before,
        limit=limit,
    )


class FailureReplayIn(BaseModel):
    ids: list[Annotated[int, Field(ge=1, le=2**63 - 1)]] | None = Field(
        default=None, description="failure ids; absent: every open failure of the workspace"
    )


@router.post("/workspaces/{workspace}/failures/replay")
async def replay(workspace: str, body: FailureReplayIn, runtime: Allowed) -> ReplayedFailuresView:
    """Run open failures through the processor's stages again (after their cause was fixed):
    those that pass are ``resolved``, the others stay ``open`` with the new reason. Replaying
    again changes nothing: resolved failures are not replayed, and the stages are idempotent
    per ``messageId``."""
    return await runtime.processor.replay(workspace=workspace, ids=body.ids)
