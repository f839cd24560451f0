"""The Profile API, shaped like Segment's: ``/v1/spaces/{space}/collections/{collection}/
profiles/{id_type}:{value}/{traits|events|external_ids|links|metadata}``.

Auth is HTTP Basic with an access token as the user and an empty password (Segment's form);
an access token opens the one space (workspace) it was created for. An API token opens the
spaces where its role reads profiles with the ``pii:read`` grant (the Profile API answers
unmasked values, as Segment's does). A verified token is remembered for ten seconds: a revoked
one stops working within that time.
"""

from __future__ import annotations

import time
from functools import partial
from typing import Annotated, Any

import msgspec
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater import access, audiences, profiles, protocols, workspaces
from headwater.api.auth import runtime
from headwater.errors import BadRequest, NotFound, Unauthorized
from headwater.log import EventLog
from headwater.profiles import EventsPage, ExternalIdsPage, LinksPage, MetadataView, TraitsPage
from headwater.runtime import Runtime

__all__ = [
    "DEFAULT_LIMIT",
    "PREFIX",
    "ProfileRead",
    "check_access",
    "encode",
    "read",
    "router",
]

_TOKEN_TTL = 10.0

PREFIX = "/v1/spaces/{space}/collections/{collection}/profiles"

router = APIRouter(
    prefix=PREFIX,
    tags=["profile api"],
    default_response_class=JSONResponse,
)


ProfileRead = TraitsPage | EventsPage | ExternalIdsPage | LinksPage | MetadataView
"""The answer of one Profile API read."""


def encode(body: ProfileRead | dict[str, Any]) -> bytes:
    """The body (a read's answer or an error's) encoded once by msgspec: the stored values are
    JSON already, so FastAPI's per-value conversion would only cost time."""
    return msgspec.json.encode(body)


def _json(body: ProfileRead) -> Response:
    return Response(encode(body), media_type="application/json")


Lookup = Annotated[str, Path(description="<id_type>:<value>, e.g. user_id:u1 or email:a@b.c")]
Next = Annotated[str | None, Query(alias="next", description="cursor from the previous page")]


async def _space_access(request: Request, space: str) -> Runtime:
    """The runtime, once the request's token opens ``space``."""
    current = runtime(request)
    await check_access(
        current, request.app.state.verified_tokens, request.headers.get("authorization"), space
    )
    return current


async def check_access(
    current: Runtime,
    verified: dict[tuple[str, str], float],
    authorization: str | None,
    space: str,
) -> None:
    """Raise :class:`Unauthorized` unless the ``Authorization`` header's token opens ``space``;
    verified pairs are remembered in ``verified`` for ten seconds (a revoked token stops
    working within that time)."""
    token = workspaces.basic_user(authorization)
    if token is None:
        raise Unauthorized("missing_token", "send an access token as the HTTP Basic user")
    if verified.get((token, space), 0.0) > time.monotonic():
        return
    engine = current.database.engine
    if await workspaces.access_token_workspace(engine, token) == space or _opens(
        await access.authenticate_token(engine, token, configured=current.settings.admin_token),
        space,
    ):
        verified[(token, space)] = time.monotonic() + _TOKEN_TTL
        return
    raise Unauthorized("invalid_token", f"the token does not open space {space!r}")


def _opens(principal: access.Principal | None, space: str) -> bool:
    return (
        principal is not None
        and principal.allows(space, access.Permission.PROFILES_READ)
        and principal.pii_read(space)
    )


Space = Annotated[Runtime, Depends(_space_access)]


def collection_of(collection: str) -> profiles.Collection:
    if collection == "users":
        return "users"
    if collection == "accounts":
        return "accounts"
    raise NotFound("collection_not_found", "collections are users and accounts")


DEFAULT_LIMIT: dict[str, int] = {"traits": 10, "events": 10, "external_ids": 25}
"""Segment's page sizes when ``limit`` is not given."""

_TRAIT_CLASSES: dict[str, tuple[str, ...]] = {
    "": ("audience", "trait"),
    "audience": ("audience",),
    "computed_trait": ("trait",),
}
"""Segment's ``class`` values, as the kinds of computations they show ("": no class)."""


async def read(
    engine: AsyncEngine,
    log: EventLog,
    tail: str,
    *,
    space: str,
    collection: str,
    lookup: str,
    url: str,
    limit: int | None = None,
    include: str | None = None,
    next_token: str | None = None,
    trait_class: str | None = None,
) -> ProfileRead:
    """One Profile API read (``tail`` is traits, events, external_ids, links or metadata),
    whichever app received the request: the FastAPI routes below or the lean ProfileApp.

    Traits are Segment's: those the profile's messages set, its computed traits and its
    audiences (``true``, or ``false`` once left), each by its key; ``trait_class``
    (Segment's ``class``) keeps only the audiences or only the computed traits."""
    kind = collection_of(collection)
    if tail == "metadata":
        return await profiles.metadata(engine, space=space, collection=kind, lookup=lookup)
    if tail == "links":
        return await profiles.links(engine, space=space, collection=kind, lookup=lookup, url=url)
    size = DEFAULT_LIMIT[tail] if limit is None else limit
    if tail == "traits":
        kinds = _TRAIT_CLASSES.get(trait_class or "")
        if kinds is None:
            raise BadRequest("invalid_class", "class is audience or computed_trait")
        return await profiles.traits(
            engine,
            space=space,
            collection=kind,
            lookup=lookup,
            include=[name.strip() for name in include.split(",")] if include else None,
            limit=size,
            next_token=next_token,
            url=url,
            computed=partial(audiences.profile_traits, kinds=kinds),
            stored=not trait_class,
        )
    if tail == "events":
        return await profiles.events(
            engine,
            log,
            governed=protocols.governed,
            space=space,
            collection=kind,
            lookup=lookup,
            limit=size,
            next_token=next_token,
            url=url,
        )
    return await profiles.external_ids(
        engine,
        space=space,
        collection=kind,
        lookup=lookup,
        limit=size,
        next_token=next_token,
        url=url,
    )


Include = Annotated[str | None, Query(description="comma-separated trait names")]
TraitClass = Annotated[
    str | None,
    Query(alias="class", description="audience or computed_trait: only those traits"),
]


@router.get("/{lookup}/traits", responses={200: {"model": TraitsPage}})
async def traits(
    request: Request,
    space: str,
    collection: str,
    lookup: Lookup,
    current: Space,
    include: Include = None,
    limit: int = DEFAULT_LIMIT["traits"],
    next_token: Next = None,
    trait_class: TraitClass = None,
) -> Response:
    return _json(
        await read(
            current.database.engine,
            current.log,
            "traits",
            space=space,
            collection=collection,
            lookup=lookup,
            url=request.url.path,
            limit=limit,
            include=include,
            next_token=next_token,
            trait_class=trait_class,
        )
    )


@router.get("/{lookup}/events", responses={200: {"model": EventsPage}})
async def events(
    request: Request,
    space: str,
    collection: str,
    lookup: Lookup,
    current: Space,
    limit: int = DEFAULT_LIMIT["events"],
    next_token: Next = None,
) -> Response:
    return _json(
        await read(
            current.database.engine,
            current.log,
            "events",
            space=space,
            collection=collection,
            lookup=lookup,
            url=request.url.path,
            limit=limit,
            next_token=next_token,
        )
    )


@router.get("/{lookup}/external_ids", responses={200: {"model": ExternalIdsPage}})
async def external_ids(
    request: Request,
    space: str,
    collection: str,
    lookup: Lookup,
    current: Space,
    limit: int = DEFAULT_LIMIT["external_ids"],
    next_token: Next = None,
) -> Response:
    return _json(
        await read(
            current.database.engine,
            current.log,
            "external_ids",
            space=space,
            collection=collection,
            lookup=lookup,
            url=request.url.path,
            limit=limit,
            next_token=next_token,
        )
    )


@router.get("/{lookup}/links", responses={200: {"model": LinksPage}})
async def links(
    request: Request, space: str, collection: str, lookup: Lookup, current: Space
) -> Response:
    return _json(
        await read(
            current.database.engine,
            current.log,
            "links",
            space=space,
            collection=collection,
            lookup=lookup,
            url=request.url.path,
        )
    )


@router.get("/{lookup}/metadata", responses={200: {"model": MetadataView}})
async def metadata(
    request: Request, space: str, collection: str, lookup: Lookup, current: Space
) -> Response:
    return _json(
        await read(
            current.database.engine,
            current.log,
            "metadata",
            space=space,
            collection=collection,
            lookup=lookup,
            url=request.url.path,
        )
    )
