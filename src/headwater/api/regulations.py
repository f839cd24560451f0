"""Regulations (deletion and suppression), in Segment's Public API shapes, twice over:

- ``/v1/regulations``, ``/v1/regulations/sources/{sourceId}``, ``/v1/regulations/{regulateId}``
  and ``/v1/suppressions``: the paths of Segment's Public API under ``/v1``, so that a script
  written for ``https://api.segmentapis.com`` works against ``https://<headwater>/v1``. They
  take an API token (``Authorization: Bearer``) and act in the token's workspace (see
  :func:`public_scope` for a principal that reaches several);
- ``/api/v1/workspaces/{workspace}/regulations...`` and ``.../suppressions``: the same
  operations in the management API, for the web app, checked by its route table.

Reads need ``privacy:read``, changes ``privacy:write``; each change (``regulation.create``,
``regulation.delete``) is in the audit trail. Bad input answers 400 (``invalid_json``,
``invalid_regulation_type``, ``invalid_subject_type``, ``invalid_subject_ids``,
``too_many_subject_ids``, ``invalid_pagination``); a source or regulation that is not the
workspace's, 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Final, Literal

import msgspec
from fastapi import APIRouter, Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from headwater import privacy, workspaces
from headwater.access import AuditChange, Permission, Principal
from headwater.api.audit_trail import record
from headwater.api.auth import SAFE_METHODS, authenticate, runtime
from headwater.api.bodies import documented
from headwater.api.client_ip import client_ip
from headwater.api.params import Id
from headwater.api.scope import SCOPED, Allowed, SourceId, json_body
from headwater.errors import BadRequest, Forbidden, NotFound
from headwater.runtime import Runtime

__all__ = ["WORKSPACE_HEADER", "PublicScope", "public", "public_scope", "router"]


WORKSPACE_HEADER: Final = "x-headwater-workspace"
_bearer = HTTPBearer(auto_error=False)


class RegulationIn(BaseModel):
    """Segment's create body."""

    regulationType: Literal[
        "SUPPRESS_WITH_DELETE",
        "SUPPRESS_WITH_DELETE_INTERNAL",
        "SUPPRESS_ONLY",
        "DELETE_ONLY",
        "DELETE_INTERNAL",
        "UNSUPPRESS",
    ]
    subjectType: Literal["USER_ID", "ANONYMOUS_ID"]
    subjectIds: list[str] = Field(min_length=1, max_length=privacy.MAX_SUBJECTS)


_BODY: Final = documented(RegulationIn)


async def _body(request: Request) -> Any:
    try:
        return msgspec.json.decode(await request.body())
    except msgspec.DecodeError as error:
        raise BadRequest("invalid_json", f"the body is not JSON: {error}") from None


@dataclass(frozen=True, slots=True)
class PublicScope:
    """Who a ``/v1`` request acts as, and in which workspace (slug)."""

    runtime: Runtime
    principal: Principal
    workspace: str


async def public_scope(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> PublicScope:
    """The principal of a ``/v1`` request and its workspace, once it may use the route.

    Segment's tokens belong to one workspace, and so does a Headwater API token: that is the
    workspace. A principal that reaches several (a session, the configured admin token, an
    instance owner) names one with the ``X-Headwater-Workspace`` header (or ``?workspace=``);
    without it, the instance's only workspace if it has one, else 400 ``workspace_required``.
    A workspace the principal has no role in is 404 ``workspace_not_found``; reads need
    ``privacy:read``, changes ``privacy:write`` (403 ``forbidden``).
    """
    principal = await authenticate(request, credentials)
    request.state.principal = principal
    current = runtime(request)
    named = request.headers.get(WORKSPACE_HEADER) or request.query_params.get("workspace")
    workspace = named or await _only_workspace(current, principal)
    if principal.grant(workspace) is None:
        raise NotFound("workspace_not_found", f"no workspace {workspace!r}")
    if principal.instance_owner:
        await workspaces.get_workspace(current.database.engine, workspace)
    needed = Permission.PRIVACY_READ if request.method in SAFE_METHODS else Permission.PRIVACY_WRITE
    if not principal.allows(workspace, needed):
        raise Forbidden("forbidden", f"this needs {needed.value} in {workspace!r}")
    return PublicScope(current, principal, workspace)


async def _only_workspace(current: Runtime, principal: Principal) -> str:
    if not principal.instance_owner and len(principal.grants) == 1:
        return next(iter(principal.grants))
    if principal.instance_owner:
        known = await workspaces.list_workspaces(current.database.engine)
        if len(known) == 1:
            return known[0].slug
    raise BadRequest(
        "workspace_required",
        "this token reaches several workspaces: name one with the X-Headwater-Workspace header",
    )


Public = Annotated[PublicScope, Depends(public_scope)]
Count = Annotated[int, Query(alias="pagination.count", ge=1, le=200)]
Cursor = Annotated[str | None, Query(alias="pagination.cursor")]
Types = Annotated[list[str] | None, Query(alias="regulationTypes")]
SubjectId = Annotated[
    str | None,
    Query(alias="subjectId", description="show this id where it is a subject (kept hashed)"),
]
SubjectType = Annotated[Literal["USER_ID", "ANONYMOUS_ID"], Query(alias="subjectType")]

public = APIRouter(prefix="/v1", tags=["regulations"], dependencies=[Depends(json_body)])
router = APIRouter(prefix="/workspaces/{workspace}", tags=["regulations"], dependencies=SCOPED)


async def _audit(
    scope: PublicScope, request: Request, action: str, resource: str, after: Any
) -> None:
    """Record a ``/v1`` change in the audit trail (the management API's recorder does not see
    these paths); a failure is logged and counted as the recorder's, and the change stands."""
    change = AuditChange(
        workspace=scope.workspace,
        actor=scope.principal,
        action=action,
        resource=resource,
        after=after,
        ip=client_ip(request.scope, scope.runtime.settings.trusted_proxies),
    )
    await record(scope.runtime, change)


def _types(types: list[str] | None) -> list[str]:
    """``regulationTypes`` repeated or comma-separated."""
    return [part for value in types or () for part in value.split(",") if part]


@dataclass(frozen=True, slots=True)
class Page:
    """The query of a list of suppressions: a page and, optionally, one subject's id."""

    count: int
    cursor: str | None
    subject_id: str | None
    subject_type: Literal["USER_ID", "ANONYMOUS_ID"]


@dataclass(frozen=True, slots=True)
class Filters:
    """The query of a list of regulations: a page, a status and the types to show."""

    page: Page
    status: str | None
    types: list[str]


def _page(
    count: Count = 10,
    cursor: Cursor = None,
    subject_id: SubjectId = None,
    subject_type: SubjectType = "USER_ID",
) -> Page:
    return Page(count, cursor, subject_id, subject_type)


def _filters(
    count: Count = 10,
    cursor: Cursor = None,
    status: str | None = None,
    regulation_types: Types = None,
    subject_id: SubjectId = None,
    subject_type: SubjectType = "USER_ID",
) -> Filters:
    return Filters(Page(count, cursor, subject_id, subject_type), status, _types(regulation_types))


Paged = Annotated[Page, Depends(_page)]
Filtered = Annotated[Filters, Depends(_filters)]


# The operations, shared by the two routers: each handler below names its path and its
# scope (a /v1 token's workspace or the management API's {workspace}) and calls one of these.


async def _create(
    runtime: Runtime, workspace: str, source_id: int | None, request: Request
) -> privacy.CreatedRegulationView:
    return await privacy.create_regulation(
        runtime.database.engine,
        workspace=workspace,
        source_id=source_id,
        body=await _body(request),
    )


async def _list(
    runtime: Runtime, workspace: str, source_id: int | None, query: Filters
) -> privacy.RegulationListView:
    return await privacy.list_regulations(
        runtime.database.engine,
        workspace,
        source_id=source_id,
        status=query.status,
        types=query.types,
        count=query.page.count,
        cursor=query.page.cursor,
        subject_id=query.page.subject_id,
        subject_type=query.page.subject_type,
    )


async def _suppressions(runtime: Runtime, workspace: str, page: Page) -> privacy.SuppressionsView:
    return await privacy.list_suppressions(
        runtime.database.engine,
        workspace,
        count=page.count,
        cursor=page.cursor,
        subject_id=page.subject_id,
        subject_type=page.subject_type,
    )


@public.post("/regulations", openapi_extra=_BODY)
async def create_workspace_regulation(
    scope: Public, request: Request
) -> privacy.CreatedRegulationView:
    """Create a workspace regulation (Segment's ``createWorkspaceRegulation``)."""
    created = await _create(scope.runtime, scope.workspace, None, request)
    regulate_id = created["data"]["regulateId"]
    await _audit(scope, request, "regulation.create", f"regulation:{regulate_id}", created)
    return created


@public.get("/regulations")
async def list_workspace_regulations(scope: Public, query: Filtered) -> privacy.RegulationListView:
    """List the workspace's regulations, newest first (``listWorkspaceRegulations``)."""
    return await _list(scope.runtime, scope.workspace, None, query)


@public.post("/regulations/sources/{sourceId}", openapi_extra=_BODY)
async def create_source_regulation(
    scope: Public, request: Request, sourceId: Id
) -> privacy.CreatedRegulationView:
    """Create a source regulation (``createSourceRegulation``); it covers the whole person
    in the workspace, like a workspace regulation (docs/privacy.md)."""
    created = await _create(scope.runtime, scope.workspace, sourceId, request)
    await _audit(scope, request, "regulation.create", f"source:{sourceId}", created)
    return created


@public.get("/regulations/sources/{sourceId}")
async def list_regulations_from_source(
    scope: Public, sourceId: Id, query: Filtered
) -> privacy.RegulationListView:
    """List a source's regulations (``listRegulationsFromSource``)."""
    return await _list(scope.runtime, scope.workspace, sourceId, query)


@public.get("/regulations/{regulateId}")
async def get_regulation(
    scope: Public, regulateId: str, subject_id: SubjectId = None
) -> privacy.RegulationView:
    """A regulation with its overall status, a status per destination (``streamStatus``) and,
    Headwater's addition, per subject (``targets``)."""
    return await privacy.get_regulation(
        scope.runtime.database.engine, scope.workspace, regulateId, subject_id=subject_id
    )


@public.delete("/regulations/{regulateId}")
async def delete_regulation(
    scope: Public, request: Request, regulateId: str
) -> privacy.DeletedRegulationView:
    """Delete a regulation that has not started (``deleteRegulation``; 409 once it has)."""
    deleted = await privacy.cancel_regulation(
        scope.runtime.database.engine, scope.workspace, regulateId
    )
    await _audit(scope, request, "regulation.delete", f"regulation:{regulateId}", None)
    return deleted


@public.get("/suppressions")
async def list_suppressions(scope: Public, page: Paged) -> privacy.SuppressionsView:
    """The workspace's suppressed identifiers (``listSuppressions``), as digests; with
    ``subjectId``, that id alone when it is suppressed."""
    return await _suppressions(scope.runtime, scope.workspace, page)


@router.post("/regulations", openapi_extra=_BODY)
async def create_regulation_in(
    workspace: str, runtime: Allowed, request: Request
) -> privacy.CreatedRegulationView:
    """Create a workspace regulation (as ``POST /v1/regulations``)."""
    return await _create(runtime, workspace, None, request)


@router.get("/regulations")
async def list_regulations_in(
    workspace: str, runtime: Allowed, query: Filtered
) -> privacy.RegulationListView:
    """The workspace's regulations, newest first (as ``GET /v1/regulations``)."""
    return await _list(runtime, workspace, None, query)


@router.post("/regulations/sources/{source_id}", openapi_extra=_BODY)
async def create_source_regulation_in(
    workspace: str, source_id: SourceId, runtime: Allowed, request: Request
) -> privacy.CreatedRegulationView:
    """Create a source regulation (as ``POST /v1/regulations/sources/{sourceId}``)."""
    return await _create(runtime, workspace, source_id, request)


@router.get("/regulations/sources/{source_id}")
async def list_source_regulations_in(
    workspace: str, source_id: SourceId, runtime: Allowed, query: Filtered
) -> privacy.RegulationListView:
    """A source's regulations (as ``GET /v1/regulations/sources/{sourceId}``)."""
    return await _list(runtime, workspace, source_id, query)


@router.get("/regulations/{regulate_id}")
async def get_regulation_in(
    workspace: str, regulate_id: str, runtime: Allowed, subject_id: SubjectId = None
) -> privacy.RegulationView:
    """A regulation and its statuses (as ``GET /v1/regulations/{regulateId}``)."""
    return await privacy.get_regulation(
        runtime.database.engine, workspace, regulate_id, subject_id=subject_id
    )


@router.delete("/regulations/{regulate_id}")
async def delete_regulation_in(
    workspace: str, regulate_id: str, runtime: Allowed
) -> privacy.DeletedRegulationView:
    """Delete a regulation that has not started (as ``DELETE /v1/regulations/{regulateId}``)."""
    return await privacy.cancel_regulation(runtime.database.engine, workspace, regulate_id)


@router.get("/suppressions")
async def list_suppressions_in(
    workspace: str, runtime: Allowed, page: Paged
) -> privacy.SuppressionsView:
    """The workspace's suppressed identifiers (as ``GET /v1/suppressions``)."""
    return await _suppressions(runtime, workspace, page)
