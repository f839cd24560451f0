"""Management API: webhook sources (created from a preset or rules, their URL and
configuration, the secret rotated), the test run of a sample request, and the debugger's
history of the requests each received."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

import msgspec
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field, WithJsonSchema

from headwater import hooks
from headwater.access import Classifier, mask
from headwater.api.bodies import inlined_schema
from headwater.api.hook_receiver import receivers
from headwater.api.masking import classifier_of
from headwater.api.params import Cursor
from headwater.api.scope import SCOPED, WORKSPACE, Allowed, SourceId
from headwater.errors import BadRequest
from headwater.spec import format_timestamp

__all__ = ["router"]

router = APIRouter(prefix=WORKSPACE, tags=["webhooks"], dependencies=SCOPED)


def _config_schema() -> dict[str, Any]:
    """The configuration's schema (rules typed; ``auth`` an open object, its secret shown as
    ``{"set": true}`` when read back), for clients. The service validates the value itself,
    so that a mistake answers 400 ``invalid_hook_config`` naming the field."""
    schema = inlined_schema(hooks.HookConfig)
    schema["properties"]["auth"] = {
        "type": "object",
        "additionalProperties": True,
        "description": "how the sender authenticates (docs/webhooks.md)",
    }
    return schema


HookConfigJson = Annotated[dict[str, Any], WithJsonSchema(_config_schema())]


class HookIn(BaseModel):
    name: str
    preset: str | None = Field(default=None, description="a preset's name (GET hook-presets)")
    config: HookConfigJson | None = Field(
        default=None, description="the configuration (docs/webhooks.md); the preset's if omitted"
    )
    secret: str | None = Field(
        default=None,
        description="the sender's signing secret, token or password (generated if omitted), "
        "or SendGrid's public key",
    )


class HookPut(BaseModel):
    preset: str | None = None
    config: HookConfigJson | None = None
    secret: str | None = Field(default=None, description="a new secret; the stored one is kept")


class RotateIn(BaseModel):
    secret: str | None = Field(default=None, description="the new secret; generated if omitted")
    new_secret: bool = Field(default=True, description="replace the secret")
    new_url: bool = Field(default=False, description="give the source a new URL")


class HookSampleIn(BaseModel):
    """A sample request: its body as text, or as JSON in ``json``."""

    method: str = "POST"
    headers: dict[str, str] = Field(default_factory=dict)
    query: dict[str, str] = Field(default_factory=dict)
    body: str | None = None
    json_body: Any = Field(default=None, alias="json")


class TestIn(BaseModel):
    config: HookConfigJson | None = Field(
        default=None, description="a configuration to try; the source's own if omitted"
    )
    request: HookSampleIn


@router.get("/hook-presets")
async def list_presets(runtime: Allowed) -> list[hooks.PresetView]:
    """The presets a webhook source can start from, each with its sender's signature scheme."""
    return [
        {
            "name": p.name,
            "title": p.title,
            "secret_field": p.secret_field,
            "secret_label": p.secret_label,
            "docs": p.docs,
            "config": p.config,
        }
        for p in hooks.PRESETS.values()
    ]


@router.post("/webhook-sources", status_code=201)
async def create_hook(workspace: str, body: HookIn, runtime: Allowed) -> hooks.RotatedView:
    """A new webhook source. The answer shows its URL and, once, a generated secret."""
    settings = runtime.settings
    return await hooks.create(
        runtime.database.engine,
        workspace=workspace,
        name=body.name,
        preset=body.preset,
        config=body.config,
        secret=body.secret,
        secret_key=settings.secret_key,
        public_url=settings.public_url,
    )


@router.get("/sources/{source_id}/hook")
async def get_hook(source_id: SourceId, runtime: Allowed) -> hooks.HookView:
    return await hooks.describe(
        runtime.database.engine, source_id, public_url=runtime.settings.public_url
    )


@router.put("/sources/{source_id}/hook")
async def put_hook(
    source_id: SourceId, body: HookPut, runtime: Allowed, request: Request
) -> hooks.HookView:
    """Replace the configuration (a preset's or ``config``); the secret is kept unless given."""
    settings = runtime.settings
    changed = await hooks.configure(
        runtime.database.engine,
        source_id,
        preset=body.preset,
        config=body.config,
        secret=body.secret,
        secret_key=settings.secret_key,
        public_url=settings.public_url,
    )
    receivers(request).forget()
    return changed


@router.post("/sources/{source_id}/hook/rotate")
async def rotate_hook(
    source_id: SourceId, body: RotateIn, runtime: Allowed, request: Request
) -> hooks.RotatedView:
    """A new secret (shown once) and, with ``new_url``, a new URL (the old one stops)."""
    settings = runtime.settings
    rotated = await hooks.rotate(
        runtime.database.engine,
        source_id,
        secret=body.secret,
        new_secret=body.new_secret,
        new_url=body.new_url,
        secret_key=settings.secret_key,
        public_url=settings.public_url,
    )
    receivers(request).forget()
    return rotated


@router.post("/sources/{source_id}/hook/test")
async def test_hook(source_id: SourceId, body: TestIn, runtime: Allowed) -> hooks.HookTestView:
    """Run a sample request through the mapping and transformation, without authentication
    and without storing anything: the messages it would make, or why it would make none."""
    if body.config is not None:
        config = hooks.validated({**body.config, "auth": {"type": "none"}})
    else:
        found = await hooks.describe(runtime.database.engine, source_id, public_url=None)
        config = hooks.validated({**found["config"], "auth": {"type": "none"}})
    sample = body.request
    if sample.body is not None and sample.json_body is not None:
        raise BadRequest("invalid_sample", "give the sample's body as text or as json, not both")
    text = sample.body if sample.body is not None else None
    raw = text.encode() if text is not None else b""
    headers = {k.lower(): v for k, v in sample.headers.items()}
    if sample.json_body is not None:
        raw = json.dumps(sample.json_body).encode()
        headers.setdefault("content-type", "application/json")
    incoming = hooks.HookRequest(
        method=sample.method.upper(),
        url="https://example.invalid/v1/hooks/test",
        body=raw,
        headers=headers,
        query=sample.query,
    )
    answer = hooks.challenge(config, incoming)
    mapped = hooks.map_request(config, incoming)
    return {
        "messages": mapped.messages,
        "errors": mapped.errors,
        "matched": mapped.matched,
        "reply": answer.body if answer is not None else None,
    }


@router.get("/sources/{source_id}/hook/requests")
async def hook_requests(
    source_id: SourceId,
    runtime: Allowed,
    after: Annotated[int | None, Query(description="only requests newer than this id")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[hooks.HookRequestView]:
    """The source's recent requests, newest first: what each made, or why it made nothing or
    was refused (credentials and signatures redacted; a refused request's body not kept)."""
    return await hooks.history(runtime.database.engine, source_id, after=after, limit=limit)


@router.get(
    "/sources/{source_id}/hook/requests/live",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}}},
)
async def hook_requests_live(
    source_id: SourceId,
    runtime: Allowed,
    request: Request,
    after: Cursor | None = None,
    last_event_id: Annotated[Cursor | None, Header()] = None,
) -> StreamingResponse:
    """Server-sent events, each request the source records from now on (or after ``after`` /
    ``Last-Event-ID``): ``event: request``, ``id`` the request's id, ``data`` as ``GET
    .../hook/requests`` gives it; a reconnecting client resumes after the last one. Personal
    values are masked without ``pii:read``."""
    start = after if after is not None else last_event_id
    feed = await hooks.watch_requests(runtime.database.engine, source_id, after=start)
    return StreamingResponse(
        _frames(feed, classifier_of(request.scope)),
        media_type="text/event-stream",
        headers={"cache-control": "no-cache"},
    )


async def _frames(
    feed: AsyncIterator[hooks.HookRequestView], classifier: Classifier | None
) -> AsyncIterator[bytes]:
    yield b": connected\n\n"
    async for found in feed:
        item = {**found, "received_at": format_timestamp(found["received_at"])}
        data = msgspec.json.encode(item if classifier is None else mask(item, classifier))
        yield b"id: %d\nevent: request\ndata: %s\n\n" % (found["id"], data)
