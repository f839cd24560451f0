"""Management API: destinations, their delivery figures, dead letters and replay.

Under ``/api/v1``; every route but ``/destination-kinds`` is under
``/workspaces/{workspace}/destinations``. Secrets are never returned: a secret config field
reads ``{"set": true}`` (or ``null`` when unset).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from headwater import delivery, destinations, protocols, routing
from headwater.api.params import BigId, Cursor, Id, Moment
from headwater.api.scope import SCOPED, UNSCOPED, Allowed
from headwater.destinations import (
    DeadLetterView,
    DeliveryErrorView,
    DestinationDeletedView,
    DestinationHealthView,
    DestinationView,
    KindView,
    ReplayedView,
    StatsView,
    TestSendView,
)

__all__ = ["catalog", "router"]

router = APIRouter(tags=["destinations"], dependencies=SCOPED)
catalog = APIRouter(tags=["destinations"], dependencies=UNSCOPED)
_BASE = "/workspaces/{workspace}/destinations"
_MAX_REPLAY_IDS = 1000
"""Dead letters one replay may name: a page of the list, chosen by hand, is far fewer."""


class DestinationIn(BaseModel):
    name: str
    kind: str = Field(description="a connector kind from GET /destination-kinds")
    config: dict[str, Any] = Field(description="the connector's config (see its config_schema)")
    sources: list[Id] | None = Field(default=None, description="source ids; null: all sources")
    filters: list[dict[str, Any]] = Field(default_factory=list, description="see docs")
    categories: list[str] | None = Field(
        default=None, description="consent categories; null: the connector's defaults"
    )
    delivery: dict[str, Any] = Field(
        default_factory=dict,
        description="batch_size, concurrency, rate_limit, ordered, retry_window_seconds,"
        " timeout_seconds, alert_below, alert_window_minutes",
    )
    enabled: bool = True


class DestinationChange(BaseModel):
    """The fields to change; fields not sent keep their values. Unknown fields reach the
    service, which names them (400 ``invalid_change``)."""

    model_config = ConfigDict(extra="allow")

    name: str | None = None
    config: dict[str, Any] | None = None
    sources: list[Id] | None = Field(default=None, description="source ids; null: all sources")
    filters: list[dict[str, Any]] | None = None
    categories: list[str] | None = None
    delivery: dict[str, Any] | None = None
    enabled: bool | None = None


class SampleIn(BaseModel):
    event: dict[str, Any] | None = Field(default=None, description="default: a sample track")


class DestinationReplayIn(BaseModel):
    since: Moment | None = None
    until: Moment | None = None
    dead_letters: bool = False
    ids: list[BigId] | None = Field(
        default=None,
        min_length=1,
        max_length=_MAX_REPLAY_IDS,
        description=f"only these dead letters (with dead_letters true; at most {_MAX_REPLAY_IDS})",
    )


@catalog.get("/destination-kinds")
async def destination_kinds(_: Allowed) -> list[KindView]:
    """Every connector with its config's JSON Schema, batch size and consent categories."""
    return destinations.kinds()


@router.get(_BASE)
async def list_destinations(workspace: str, runtime: Allowed) -> list[DestinationView]:
    return await destinations.list_destinations(runtime.database.engine, workspace=workspace)


@router.post(_BASE, status_code=201)
async def create_destination(
    workspace: str, body: DestinationIn, runtime: Allowed
) -> DestinationView:
    return await destinations.create_destination(
        runtime.database.engine,
        runtime.settings,
        workspace=workspace,
        **body.model_dump(),
    )


@router.get(_BASE + "/{destination_id}")
async def get_destination(workspace: str, destination_id: Id, runtime: Allowed) -> DestinationView:
    return await destinations.get_destination(
        runtime.database.engine, workspace=workspace, destination_id=destination_id
    )


@router.patch(_BASE + "/{destination_id}")
async def update_destination(
    workspace: str, destination_id: Id, body: DestinationChange, runtime: Allowed
) -> DestinationView:
    """Change any of name, config (merged key by key; secrets left out are kept), sources,
    filters, categories, delivery, enabled."""
    return await destinations.update_destination(
        runtime.database.engine,
        runtime.settings,
        workspace=workspace,
        destination_id=destination_id,
        changes=body.model_dump(exclude_unset=True),
    )


@router.delete(_BASE + "/{destination_id}")
async def delete_destination(
    workspace: str, destination_id: Id, runtime: Allowed
) -> DestinationDeletedView:
    """Delete a disabled destination and its undelivered events (409 while enabled)."""
    return await delivery.delete_destination(
        runtime.database.engine, workspace=workspace, destination_id=destination_id
    )


@router.post(_BASE + "/{destination_id}/enable")
async def enable(workspace: str, destination_id: Id, runtime: Allowed) -> DestinationView:
    return await destinations.update_destination(
        runtime.database.engine,
        runtime.settings,
        workspace=workspace,
        destination_id=destination_id,
        changes={"enabled": True},
    )


@router.post(_BASE + "/{destination_id}/disable")
async def disable(workspace: str, destination_id: Id, runtime: Allowed) -> DestinationView:
    """Stop routing and delivering; queued events wait until the destination is enabled."""
    return await destinations.update_destination(
        runtime.database.engine,
        runtime.settings,
        workspace=workspace,
        destination_id=destination_id,
        changes={"enabled": False},
    )


@router.post(_BASE + "/{destination_id}/test")
async def send_test(
    workspace: str, destination_id: Id, runtime: Allowed, body: SampleIn | None = None
) -> TestSendView:
    """Send one event now (not queued, not retried); answer the outcome, request and response."""
    return await destinations.send_test(
        runtime.database.engine,
        runtime.settings,
        workspace=workspace,
        destination_id=destination_id,
        event=body.event if body is not None else None,
    )


@router.get(_BASE + "/{destination_id}/stats")
async def stats(
    workspace: str,
    destination_id: Id,
    runtime: Allowed,
    since: Moment | None = None,
    until: Moment | None = None,
    interval: Literal["minute", "hour", "day"] = "hour",
) -> StatsView:
    """Counts and p50/p95 received-to-delivered latency per interval (default: 24 h)."""
    return await delivery.stats(
        runtime.database.engine,
        workspace=workspace,
        destination_id=destination_id,
        since=since,
        until=until,
        interval=interval,
    )


@router.get(_BASE + "/{destination_id}/health")
async def health(workspace: str, destination_id: Id, runtime: Allowed) -> DestinationHealthView:
    """Alert state (ok, alerting, no_data), success ratio, and the queue's depth."""
    return await delivery.health(
        runtime.database.engine, workspace=workspace, destination_id=destination_id
    )


@router.get(_BASE + "/{destination_id}/errors")
async def errors(
    workspace: str,
    destination_id: Id,
    runtime: Allowed,
    limit: Annotated[int, Query(ge=1, le=1000)] = 20,
) -> list[DeliveryErrorView]:
    """The latest failed sends, each with its request and response."""
    return await delivery.errors(
        runtime.database.engine,
        workspace=workspace,
        destination_id=destination_id,
        limit=limit,
        settings=runtime.settings,
    )


@router.get(_BASE + "/{destination_id}/dead-letters")
async def dead_letters(
    workspace: str,
    destination_id: Id,
    runtime: Allowed,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    before: Cursor | None = None,
) -> list[DeadLetterView]:
    return await delivery.dead_letters(
        runtime.database.engine,
        workspace=workspace,
        destination_id=destination_id,
        limit=limit,
        before=before,
        settings=runtime.settings,
    )


@router.post(_BASE + "/{destination_id}/replay")
async def replay(
    workspace: str, destination_id: Id, body: DestinationReplayIn, runtime: Allowed
) -> ReplayedView:
    """Queue the dead letters (``dead_letters: true``, optionally ``ids``) or the events
    received in ``[since, until)`` again for this destination."""
    return await routing.replay(
        runtime.database.engine,
        runtime.log,
        governed=protocols.governed,
        workspace=workspace,
        destination_id=destination_id,
        since=body.since,
        until=body.until,
        dead_letters=body.dead_letters,
        ids=body.ids,
    )
