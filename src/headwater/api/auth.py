"""Who a management request acts as, and whether its role allows the route.

A request signs in with an API token (``Authorization: Bearer <token>``) or, from the web UI,
with the session cookie; a session request that changes something also sends its CSRF token
(``X-CSRF-Token``). The route's permission comes from :data:`headwater.api.permissions.ROUTES`:

- no credentials, or unknown, expired or revoked ones: 401;
- a workspace in the path that the principal has no role in: 404 ``workspace_not_found``,
  the answer for a workspace that does not exist (another workspace's existence is not told);
- a role that does not allow the route (or a route missing from the table): 403 ``forbidden``.

The principal is left in ``request.state.principal`` and the route's rule in
``request.state.rule``, for the route, the audit trail and the masking of personal values.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from headwater.access import Permission, Principal, authenticate_session, authenticate_token
from headwater.api.permissions import rule_of
from headwater.errors import Forbidden, NotFound, Unauthorized
from headwater.runtime import Runtime

__all__ = [
    "CSRF_COOKIE",
    "CSRF_HEADER",
    "SAFE_METHODS",
    "SESSION_COOKIE",
    "allowed",
    "principal_of",
    "runtime",
]

SESSION_COOKIE: Final = "headwater_session"
CSRF_COOKIE: Final = "headwater_csrf"
"""Readable by the page (not HttpOnly), which sends it back as :data:`CSRF_HEADER`."""
CSRF_HEADER: Final = "x-csrf-token"
SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})

_bearer = HTTPBearer(auto_error=False)


def runtime(request: Request) -> Runtime:
    return request.app.state.runtime  # type: ignore[no-any-return]


def principal_of(request: Request) -> Principal:
    """The principal :func:`allowed` found for this request."""
    return request.state.principal  # type: ignore[no-any-return]


async def authenticate(
    request: Request, credentials: HTTPAuthorizationCredentials | None
) -> Principal:
    """The principal of the request's token or session cookie; 401 without one."""
    current = runtime(request)
    engine = current.database.engine
    if credentials is not None:
        found = await authenticate_token(
            engine, credentials.credentials, configured=current.settings.admin_token
        )
        if found is None:
            raise Unauthorized("invalid_token", "unknown, expired or revoked token")
        return found
    session = request.cookies.get(SESSION_COOKIE)
    if session:
        csrf = None if request.method in SAFE_METHODS else request.headers.get(CSRF_HEADER, "")
        found = await authenticate_session(engine, session, csrf=csrf)
        if found is None:
            raise Unauthorized("session_expired", "the session has ended; sign in again")
        return found
    raise Unauthorized(
        "missing_token", "sign in, or send an API token as 'Authorization: Bearer <token>'"
    )


async def allowed(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Runtime:
    """The runtime, once the request's principal may use the route (see the module)."""
    principal = await authenticate(request, credentials)
    request.state.principal = principal
    workspace: str | None = request.path_params.get("workspace")
    if workspace is not None and principal.grant(workspace) is None:
        raise NotFound("workspace_not_found", f"no workspace {workspace!r}")
    route = request.scope.get("route")
    rule = rule_of(request.method, getattr(route, "path", ""))
    if rule is None or not principal.allows(workspace, rule.permission):
        needed = "an unlisted permission" if rule is None else rule.permission.value
        raise Forbidden("forbidden", _refusal(principal, workspace, needed))
    request.state.rule = rule
    return runtime(request)


def _refusal(principal: Principal, workspace: str | None, needed: str) -> str:
    grant = None if workspace is None else principal.grant(workspace)
    if grant is None:
        who = "an instance owner" if needed == Permission.INSTANCE_OWNER else "another role"
        return f"this needs {needed}; ask {who}"
    return f"your role in {workspace!r} ({grant.role.value}) does not allow {needed}"
