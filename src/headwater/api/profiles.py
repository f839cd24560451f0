"""Management API: profiles (search, one profile's graph, merges and timeline), identity rules
and Profile API access tokens."""

from __future__ import annotations

from typing import Annotated

import msgspec
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from headwater import profiles, protocols, workspaces
from headwater.api.scope import SCOPED, Allowed
from headwater.errors import BadRequest
from headwater.profiles import (
    IdentityRulesView,
    ProfileDetailView,
    ProfileRefView,
    ProfileTimelinePage,
)
from headwater.workspaces import AccessTokenView

__all__ = ["router"]

router = APIRouter(tags=["profiles"], dependencies=SCOPED)


class AccessTokenIn(BaseModel):
    name: str


@router.post("/workspaces/{workspace}/access-tokens", status_code=201)
async def create_access_token(
    workspace: str, body: AccessTokenIn, runtime: Allowed
) -> AccessTokenView:
    """A Profile API access token for the workspace; shown once."""
    token = await workspaces.create_access_token(
        runtime.database.engine, workspace=workspace, name=body.name
    )
    return {"token": token, "workspace": workspace, "name": body.name}


@router.get("/workspaces/{workspace}/profiles")
async def search_profiles(
    workspace: str,
    runtime: Allowed,
    identifier: Annotated[str | None, Query(description="type:value, e.g. email:a@b.c")] = None,
    trait: Annotated[str | None, Query(description="name=value, e.g. plan=pro")] = None,
    value: Annotated[str | None, Query(description="any identifier's value")] = None,
    collection: str = "users",
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> list[ProfileRefView]:
    """Profiles matching an identifier, a trait value, or any identifier value; without any
    of them, the profiles seen most recently (newest first). Each with its first identifiers
    and its traits, to tell it apart in a list."""
    if collection not in ("users", "accounts"):
        raise BadRequest("invalid_collection", "collection is users or accounts")
    return await profiles.search(
        runtime.database.engine,
        workspace=workspace,
        collection="users" if collection == "users" else "accounts",
        identifier=identifier,
        trait=trait,
        value=value,
        limit=limit,
    )


@router.get("/workspaces/{workspace}/profiles/{profile_id}")
async def profile(
    workspace: str,
    profile_id: str,
    runtime: Allowed,
    events: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> ProfileDetailView:
    """One profile: traits with update times, identity graph, merge history, links, timeline.

    A merged-away id answers with the survivor (``id``) beside the ``requested_id``.
    """
    return await profiles.detail(
        runtime.database.engine,
        runtime.log,
        governed=protocols.governed,
        workspace=workspace,
        profile_id=profile_id,
        events_limit=events,
    )


@router.get("/workspaces/{workspace}/profiles/{profile_id}/events")
async def profile_events(
    workspace: str,
    profile_id: str,
    runtime: Allowed,
    before: Annotated[str | None, Query(description="the previous page's next")] = None,
    type: Annotated[str | None, Query(description="only events of this type, e.g. track")] = None,
    name: Annotated[str | None, Query(description="only events whose name contains this")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> ProfileTimelinePage:
    """A profile's events, newest first, as stored (tracking plans applied), ``limit`` at a
    time; a merged-away id answers with the survivor's events."""
    return await profiles.timeline_page(
        runtime.database.engine,
        runtime.log,
        governed=protocols.governed,
        workspace=workspace,
        profile_id=profile_id,
        limit=limit,
        before=before,
        event_type=type,
        name=name,
    )


@router.get("/workspaces/{workspace}/identity-rules")
async def get_identity_rules(workspace: str, runtime: Allowed) -> IdentityRulesView:
    """The workspace's identity rules (Segment's defaults until changed)."""
    return await profiles.get_rules(runtime.database.engine, workspace=workspace)


@router.put(
    "/workspaces/{workspace}/identity-rules",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/IdentityRulesView"}}
            },
        }
    },
)
async def put_identity_rules(
    workspace: str, request: Request, runtime: Allowed
) -> IdentityRulesView:
    """Replace the workspace's identity rules; fields left out take their defaults, and
    ``limits`` and ``priorities`` are laid over the default ones type by type.

    The body is the form ``GET`` returns. Invalid rules answer 400 with the reason. The
    processor rereads rules every 5 s: events processed from then on follow the new rules;
    profiles already built are not rebuilt.
    """
    try:
        body = msgspec.json.decode(await request.body())
    except msgspec.DecodeError as error:
        raise BadRequest("invalid_json", f"the body is not JSON: {error}") from None
    return await profiles.set_rules(runtime.database.engine, workspace=workspace, rules=body)
