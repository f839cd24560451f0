"""What every management route shares: the permission check, the workspace a route is under, the
source it names, and the one rule for request bodies.

Every workspace-scoped route lives under ``/api/v1/workspaces/{workspace}/...``; its router
resolves the workspace first, so that an unknown parent answers the same 404 everywhere::

    router = APIRouter(prefix=WORKSPACE, dependencies=SCOPED)

    @router.get("/sources/{source_id}/events")
    async def latest(workspace: str, source_id: SourceId, runtime: Allowed) -> ...

Unknown workspace: 404 ``workspace_not_found``; a source id that is not one of the
workspace's: 404 ``source_not_found``. A body is JSON and says so: a request that carries one
without ``Content-Type: application/json`` (or ``application/*+json``, parameters allowed)
answers 415 ``unsupported_media_type``, on every route (before this rule, routes with a body
model answered a missing or other type with a 422 and routes that read their body themselves
took anything). A request without a body needs no ``Content-Type``.
"""

from __future__ import annotations

from email.message import Message
from typing import Annotated, Final

from fastapi import Depends, Request
from fastapi.params import Depends as DependsParam

from headwater import workspaces
from headwater.api.auth import allowed, principal_of
from headwater.api.params import Id
from headwater.errors import NotFound, UnsupportedMediaType
from headwater.runtime import Runtime

__all__ = [
    "SCOPED",
    "UNSCOPED",
    "WORKSPACE",
    "Allowed",
    "SourceId",
    "json_body",
    "known_workspace",
]

WORKSPACE: Final = "/workspaces/{workspace}"
"""The prefix of every workspace-scoped route (under ``/api/v1``)."""

Allowed = Annotated[Runtime, Depends(allowed)]
"""The runtime, once the request's principal may use the route (:func:`allowed`)."""


async def known_workspace(workspace: str, request: Request, runtime: Allowed) -> str:
    """``workspace`` (a slug), once it names a workspace; 404 ``workspace_not_found``.

    Only an instance owner's workspace is looked up: any other principal holds a role in it,
    read with the principal in this request (from a membership or a token joined to the
    workspace), so it exists; the lookup would cost each request a database round trip."""
    if principal_of(request).instance_owner:
        await workspaces.get_workspace(runtime.database.engine, workspace)
    return workspace


async def _source_of_workspace(
    source_id: Id, runtime: Allowed, workspace: Annotated[str, Depends(known_workspace)]
) -> int:
    """``source_id``, once it is a source of ``workspace``; 404 ``source_not_found``."""
    source = await workspaces.find_source(runtime.database.engine, source_id)
    if source is None or source.workspace != workspace:
        raise NotFound("source_not_found", f"no source {source_id} in workspace {workspace!r}")
    return source_id


SourceId = Annotated[int, Depends(_source_of_workspace)]
"""A path's ``{source_id}``, checked to be a source of the path's workspace."""

_JSON_METHODS: Final = frozenset({"POST", "PUT", "PATCH"})


async def json_body(request: Request) -> None:
    """415 when the request has a body whose ``Content-Type`` is not JSON (see the module)."""
    if request.method not in _JSON_METHODS:
        return
    if not await request.body():
        return
    declared = request.headers.get("content-type", "")
    header = Message()
    header["content-type"] = declared
    subtype = header.get_content_subtype()
    if header.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    ):
        return
    raise UnsupportedMediaType(
        "unsupported_media_type",
        f"the body must be JSON, sent as Content-Type: application/json (not {declared!r})",
    )


UNSCOPED: Final[list[DependsParam]] = [Depends(allowed), Depends(json_body)]
"""The dependencies of a global management router: the permission check, then the body rule."""

SCOPED: Final[list[DependsParam]] = [*UNSCOPED, Depends(known_workspace)]
"""The dependencies of a workspace-scoped router: as :data:`UNSCOPED`, then the workspace."""
