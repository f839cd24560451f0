"""Management API: journeys (drafts with optimistic locking, publishing, pause, resume,
archive, versions, journeys as code) and the node types of the canvas's palette.

Documents are read with exact decimals, like audiences' definitions: a split on
``total > 0.1`` means what it says. See :mod:`headwater.journeys.service` for the states.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse
from pydantic import Field

from headwater import journeys
from headwater.api.auth import allowed
from headwater.api.bodies import Body, documented, read_body
from headwater.api.params import Id
from headwater.api.scope import SCOPED, Allowed, known_workspace
from headwater.errors import BadRequest
from headwater.journeys import (
    START_LIMIT,
    InstanceView,
    JourneyDetailView,
    JourneyStatsView,
    JourneyVersionDetailView,
    JourneyVersionView,
    JourneyView,
    NodeTypeView,
    StartedView,
    TrialRunView,
    TrialSample,
)

__all__ = ["files", "palette", "router"]

router = APIRouter(tags=["journeys"], dependencies=SCOPED)
palette = APIRouter(tags=["journeys"], dependencies=[Depends(allowed)])
files = APIRouter(tags=["journeys"], dependencies=[Depends(allowed), Depends(known_workspace)])
"""The import route: its body is a file (JSON or YAML, as ``format`` says)."""

_BASE = "/workspaces/{workspace}/journeys"
_ONE = _BASE + "/{key}"
_MEDIA = {"json": "application/json", "yaml": "application/yaml"}


class JourneyIn(Body):
    key: str
    name: str = Field(min_length=1)
    description: str = ""
    document: dict[str, Any] | None = None


class DraftIn(Body):
    revision: int = Field(ge=1, description="the draft's revision this change was made on")
    document: dict[str, Any]


class JourneyChange(Body):
    name: str | None = Field(default=None, min_length=1)
    description: str | None = None


class PublishIn(Body):
    note: str = Field(default="", max_length=2000)


class StartIn(Body):
    profile_ids: list[str] = Field(min_length=1, max_length=START_LIMIT)
    start_id: str | None = Field(
        default=None,
        max_length=200,
        description="names this start: sent again, it enters nobody twice",
    )
    properties: dict[str, Any] = Field(
        default_factory=dict,
        description="what the steps' templates read as {{ event.x }}, as if an event had them",
    )


class LaterIn(Body):
    after: journeys.Duration = Field(description="how long after the entry the event comes")
    event: dict[str, Any] = Field(description="a Segment message, as the tracking API takes")


class TestRunIn(Body):
    """A sample to walk through the journey (see :func:`test_run`)."""

    version: int | None = Field(default=None, ge=1, description="a version (default: the draft)")
    document: dict[str, Any] | None = Field(
        default=None, description="a document to run instead, such as the editor's unsaved draft"
    )
    event: dict[str, Any] | None = Field(
        default=None, description="the Segment message that triggers the journey"
    )
    profile_id: str | None = Field(default=None, max_length=200)
    user_id: str | None = Field(default=None, max_length=512)
    traits: dict[str, Any] = Field(
        default={}, description="the sample's traits; laid over a named profile's"
    )
    computed: dict[str, Any] = Field(
        default={}, description="computed traits' values by key; laid over a named profile's"
    )
    audiences: list[str] | None = Field(
        default=None, max_length=200, description="audience keys (default: a profile's own)"
    )
    later: list[LaterIn] = Field(default=[], max_length=50)
    ignore_history: bool = Field(
        default=False, description="let a profile that entered before in again"
    )
    failing: list[str] = Field(
        default=[], max_length=100, description="action nodes to take as failed"
    )
    consent: dict[str, bool] | None = Field(
        default=None,
        max_length=100,
        description="consent categories -> consented (default: a profile's own; the event's"
        " context.consent.categoryPreferences replace it)",
    )


@palette.get("/journey-node-types")
async def node_types() -> list[NodeTypeView]:
    """Every node type a journey may use, with its config's JSON Schema."""
    return journeys.node_types()


@router.get(_BASE)
async def list_journeys(workspace: str, runtime: Allowed) -> list[JourneyView]:
    return await journeys.list_journeys(runtime.database.engine, workspace=workspace)


@router.post(_BASE, status_code=201, openapi_extra=documented(JourneyIn))
async def create_journey(workspace: str, request: Request, runtime: Allowed) -> JourneyDetailView:
    """A new draft (an empty one, started by hand, without ``document``); 409
    ``journey_exists`` when the key is taken."""
    body = await read_body(request, JourneyIn)
    return await journeys.create_journey(
        runtime.database.engine,
        workspace=workspace,
        key=body.key,
        name=body.name,
        description=body.description,
        document=body.document,
    )


@files.post(_BASE + "/import", status_code=201)
async def import_journey(
    workspace: str, request: Request, runtime: Allowed, format: Literal["json", "yaml"] = "json"
) -> JourneyDetailView:
    """A journey file (the raw body, as export gives it): a new journey, or the new draft of
    the journey with its key. Publishing stays a separate step."""
    try:
        text = (await request.body()).decode()
    except UnicodeDecodeError:
        raise BadRequest("invalid_journey", "the file is not UTF-8") from None
    file = journeys.read_file(text, format)
    return await journeys.import_journey(runtime.database.engine, workspace=workspace, file=file)


@router.get(_ONE)
async def get_journey(workspace: str, key: str, runtime: Allowed) -> JourneyDetailView:
    """The journey with its draft and what stops the draft from being published."""
    return await journeys.get_journey(runtime.database.engine, workspace=workspace, key=key)


@router.patch(_ONE, openapi_extra=documented(JourneyChange))
async def update_journey(
    workspace: str, key: str, request: Request, runtime: Allowed
) -> JourneyDetailView:
    body = await read_body(request, JourneyChange)
    return await journeys.update_journey(
        runtime.database.engine,
        workspace=workspace,
        key=key,
        name=body.name,
        description=body.description,
    )


@router.delete(_ONE, status_code=204)
async def delete_journey(workspace: str, key: str, runtime: Allowed) -> None:
    """Only a journey never published (409 ``journey_published``: archive it instead)."""
    await journeys.delete_journey(runtime.database.engine, workspace=workspace, key=key)


@router.put(_ONE + "/draft", openapi_extra=documented(DraftIn))
async def save_draft(
    workspace: str, key: str, request: Request, runtime: Allowed
) -> JourneyDetailView:
    """Store the draft made on ``revision``: 409 ``draft_changed`` (with the latest
    ``revision``) when someone saved in between, 400 ``invalid_journey`` with ``problems``
    when a part is malformed. An unfinished draft is fine; publishing checks the rest."""
    body = await read_body(request, DraftIn)
    return await journeys.save_draft(
        runtime.database.engine,
        workspace=workspace,
        key=key,
        document=body.document,
        revision=body.revision,
    )


@router.post(_ONE + "/publish", openapi_extra=documented(PublishIn, required=False))
async def publish(
    workspace: str, key: str, request: Request, runtime: Allowed
) -> JourneyDetailView:
    """The draft as a new version, run from now on; 400 ``journey_not_publishable`` with
    every problem when it is not complete."""
    body = await read_body(request, PublishIn, optional=True)
    return await journeys.publish(
        runtime.database.engine, workspace=workspace, key=key, note=body.note
    )


@router.post(_ONE + "/pause")
async def pause(workspace: str, key: str, runtime: Allowed) -> JourneyDetailView:
    return await journeys.pause(runtime.database.engine, workspace=workspace, key=key)


@router.post(_ONE + "/resume")
async def resume(workspace: str, key: str, runtime: Allowed) -> JourneyDetailView:
    return await journeys.resume(runtime.database.engine, workspace=workspace, key=key)


@router.post(_ONE + "/archive")
async def archive(workspace: str, key: str, runtime: Allowed) -> JourneyDetailView:
    return await journeys.archive(runtime.database.engine, workspace=workspace, key=key)


@router.get(_ONE + "/versions")
async def list_versions(workspace: str, key: str, runtime: Allowed) -> list[JourneyVersionView]:
    return await journeys.list_versions(runtime.database.engine, workspace=workspace, key=key)


@router.get(_ONE + "/versions/{version}")
async def get_version(
    workspace: str, key: str, version: Id, runtime: Allowed
) -> JourneyVersionDetailView:
    return await journeys.get_version(
        runtime.database.engine, workspace=workspace, key=key, version=version
    )


@router.get(
    _ONE + "/export",
    response_class=PlainTextResponse,
    responses={200: {"content": {m: {"schema": {"type": "string"}} for m in _MEDIA.values()}}},
)
async def export_journey(
    workspace: str,
    key: str,
    runtime: Allowed,
    format: Literal["json", "yaml"] = "json",
    version: Id | None = None,
) -> PlainTextResponse:
    """The journey as a file: its draft, or ``version``."""
    text = await journeys.export_journey(
        runtime.database.engine, workspace=workspace, key=key, version=version, format=format
    )
    return PlainTextResponse(text, media_type=_MEDIA[format])


@router.post(_ONE + "/start", openapi_extra=documented(StartIn))
async def start(workspace: str, key: str, request: Request, runtime: Allowed) -> StartedView:
    """Start profiles in the live journey now, by its entry rules; those skipped come back
    with the reason."""
    body = await read_body(request, StartIn)
    return await journeys.start(
        runtime.database.engine,
        workspace=workspace,
        key=key,
        profile_ids=body.profile_ids,
        start_id=body.start_id,
        properties=body.properties,
    )


@router.get(_ONE + "/stats")
async def stats(
    workspace: str, key: str, runtime: Allowed, version: Id | None = None
) -> JourneyStatsView:
    """Entered, in progress, completed, failed, converted, exited by reason, and per node:
    arrived, there now, out of each port, errors, time spent there (all versions, or one)."""
    return await journeys.journey_stats(
        runtime.database.engine, workspace=workspace, key=key, version=version
    )


@router.get("/workspaces/{workspace}/profiles/{profile_id}/journeys")
async def profile_journeys(workspace: str, profile_id: str, runtime: Allowed) -> list[InstanceView]:
    """The profile's journeys, newest first, each step by step."""
    return await journeys.profile_journeys(
        runtime.database.engine, workspace=workspace, profile_id=profile_id
    )


@router.post(_ONE + "/test-run", openapi_extra=documented(TestRunIn))
async def test_run(workspace: str, key: str, request: Request, runtime: Allowed) -> TrialRunView:
    """The path a sample would take through the journey (its draft, ``version``, or
    ``document``), on a virtual clock, with each action's effect described and none done:
    nothing is sent, queued or stored, so this is a read (``journeys:read``, not audited, like
    an audience's preview). A named profile's personal values are masked for a caller without
    ``pii:read``, as in every answer that holds them. 404 for an unknown journey, version or
    profile; 400 ``invalid_journey`` (with ``problems``) for a document that cannot run, 400
    ``invalid_sample`` (with ``problems``) for a sample that cannot."""
    body = await read_body(request, TestRunIn)
    if body.version is not None and body.document is not None:
        raise BadRequest("invalid_request", "give a version or a document, not both")
    sample = TrialSample(
        event=body.event,
        profile_id=body.profile_id,
        user_id=body.user_id,
        traits=body.traits,
        computed=body.computed,
        audiences=body.audiences,
        later=[(item.after.span(), item.event) for item in body.later],
        ignore_history=body.ignore_history,
        failing=body.failing,
        consent=body.consent,
    )
    return await journeys.run_sample(
        runtime.database.engine,
        workspace=workspace,
        key=key,
        sample=sample,
        version=body.version,
        document=body.document,
    )
