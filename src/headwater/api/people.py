"""Management API: signing in to the web UI, one's own account, the instance's people and each
workspace's members.

Sign-in sets two cookies: the session (``HttpOnly``) and its CSRF token (readable by the page,
which sends it back as ``X-CSRF-Token`` on every unsafe request); both ``SameSite=Lax``,
``Path=/``, and ``Secure`` when the request came over HTTPS (directly, through a trusted
proxy's ``X-Forwarded-Proto``, or when ``public_url`` is ``https://``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from headwater import access
from headwater.access import (
    Client,
    Limits,
    MeView,
    NewSession,
    PasswordChangedView,
    Principal,
    Role,
    SignInView,
    UserView,
    WorkspaceMemberView,
)
from headwater.api.auth import CSRF_COOKIE, SESSION_COOKIE, principal_of, runtime
from headwater.api.client_ip import client_ip, trusted
from headwater.api.params import Id
from headwater.api.permissions import rule_of
from headwater.api.scope import SCOPED, UNSCOPED, WORKSPACE, Allowed, json_body
from headwater.errors import Forbidden
from headwater.runtime import Runtime
from headwater.settings import Settings

__all__ = ["account", "members", "sign_in", "users"]


async def public(request: Request) -> Runtime:
    """The runtime, for a route anyone may call (its rule is still left for the audit
    trail in ``request.state.rule``)."""
    route = request.scope.get("route")
    request.state.rule = rule_of(request.method, getattr(route, "path", ""))
    return runtime(request)


Public = Annotated[Runtime, Depends(public)]

sign_in = APIRouter(tags=["people"], dependencies=[Depends(json_body)])
account = APIRouter(tags=["people"], dependencies=UNSCOPED)
users = APIRouter(prefix="/users", tags=["people"], dependencies=UNSCOPED)
members = APIRouter(prefix=WORKSPACE + "/members", tags=["people"], dependencies=SCOPED)


class LoginIn(BaseModel):
    email: str
    password: str


class AcceptIn(BaseModel):
    token: str = Field(description="the one-time link's secret: what follows '#' (hwl_...)")
    password: str
    email: str | None = Field(default=None, description="required for the first owner's set-up")


class PasswordIn(BaseModel):
    current_password: str
    new_password: str


class UserIn(BaseModel):
    email: str
    password: str | None = Field(default=None, description="omitted: an invite link is returned")
    instance_owner: bool = False


class MemberIn(BaseModel):
    email: str
    role: Role
    pii_read: bool = False
    password: str | None = Field(
        default=None, description="for a new person only; omitted: an invite link is returned"
    )


class MemberPatch(BaseModel):
    role: Role | None = None
    pii_read: bool | None = None


def _client(request: Request, settings: Settings) -> Client:
    ip = client_ip(request.scope, settings.trusted_proxies)
    return Client(ip, request.headers.get("user-agent"))


def _limits(settings: Settings) -> Limits:
    return Limits(
        session_hours=settings.session_hours,
        attempts=settings.login_attempts,
        window=settings.login_window,
    )


def _https(request: Request, settings: Settings) -> bool:
    if request.url.scheme == "https" or (settings.public_url or "").startswith("https:"):
        return True
    peer = request.client.host if request.client else None
    proto = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return proto == "https" and peer is not None and trusted(peer, settings.trusted_proxies)


async def _signed_in(
    request: Request, response: Response, current: Runtime, opened: NewSession
) -> SignInView:
    """Set the cookies of a new session and leave its principal for the audit trail."""
    secure = _https(request, current.settings)
    for name, value, http_only in (
        (SESSION_COOKIE, opened.token, True),
        (CSRF_COOKIE, opened.csrf_token, False),
    ):
        response.set_cookie(
            name,
            value,
            expires=opened.expires_at,
            path="/",
            secure=secure,
            httponly=http_only,
            samesite="lax",
        )
    principal = await access.authenticate_session(current.database.engine, opened.token, csrf=None)
    if principal is not None:
        request.state.principal = principal
    return {"user": opened.user, "csrf_token": opened.csrf_token, "expires_at": opened.expires_at}


def _clear_cookies(response: Response) -> None:
    for name in (SESSION_COOKIE, CSRF_COOKIE):
        response.delete_cookie(name, path="/", samesite="lax")


def _link(request: Request, settings: Settings, secret: str | None) -> str | None:
    if secret is None:
        return None
    base = settings.public_url or str(request.base_url)
    return f"{base.rstrip('/')}/setup#{secret}"


@sign_in.post("/auth/login")
async def login(body: LoginIn, request: Request, response: Response, current: Public) -> SignInView:
    """Sign in with an email and password: sets the session and CSRF cookies. Wrong email or
    password: 401 ``invalid_credentials`` (the same for both); too many failures: 429
    ``too_many_attempts`` with ``Retry-After``."""
    opened = await access.sign_in(
        current.database.engine,
        email=body.email,
        password=body.password,
        client=_client(request, current.settings),
        limits=_limits(current.settings),
    )
    return await _signed_in(request, response, current, opened)


@sign_in.post("/auth/accept")
async def accept(
    body: AcceptIn, request: Request, response: Response, current: Public
) -> SignInView:
    """Use a set-up or invitation link: set the password (and the first owner's email), then
    sign in. An unknown, used or expired link: 400 ``invalid_link``."""
    opened = await access.accept_link(
        current.database.engine,
        token=body.token,
        password=body.password,
        email=body.email,
        client=_client(request, current.settings),
        limits=_limits(current.settings),
    )
    return await _signed_in(request, response, current, opened)


@account.post("/auth/logout", status_code=204)
async def logout(request: Request, current: Allowed) -> Response:
    """End the caller's session (signed in by session) and clear the cookies."""
    principal = principal_of(request)
    if principal.session_id is not None:
        await access.sign_out(current.database.engine, principal.session_id)
    response = Response(status_code=204)
    _clear_cookies(response)
    return response


@account.get("/me")
async def me(request: Request, current: Allowed) -> MeView:
    """Who the caller is: a person or a service account, its roles, how it signed in."""
    return await access.whoami(current.database.engine, principal_of(request))


@account.put("/me/password")
async def change_password(
    body: PasswordIn, request: Request, response: Response, current: Allowed
) -> PasswordChangedView:
    """Change one's password (people only): ends all one's sessions; a caller signed in by
    session gets a fresh one (new cookies, and the new CSRF token in the answer)."""
    principal: Principal = principal_of(request)
    if principal.user_id is None:
        raise Forbidden("not_a_user", "a service account has no password")
    by_session = principal.session_id is not None
    opened = await access.change_password(
        current.database.engine,
        user_id=principal.user_id,
        current=body.current_password,
        new=body.new_password,
        reopen=_client(request, current.settings) if by_session else None,
        limits=_limits(current.settings),
    )
    if opened is None:
        return {"user_id": principal.user_id, "csrf_token": None, "expires_at": None}
    signed_in = await _signed_in(request, response, current, opened)
    return {
        "user_id": principal.user_id,
        "csrf_token": signed_in["csrf_token"],
        "expires_at": signed_in["expires_at"],
    }


@users.get("")
async def list_users(current: Allowed) -> list[UserView]:
    """Every person of the instance, with their workspaces."""
    return await access.list_users(current.database.engine)


@users.post("", status_code=201)
async def create_user(body: UserIn, request: Request, current: Allowed) -> UserView:
    """Create a person; without a password the answer holds an invite link (one use, 7
    days, shown once)."""
    created = await access.create_user(
        current.database.engine,
        email=body.email,
        password=body.password,
        instance_owner=body.instance_owner,
    )
    view: UserView = created.view
    link = _link(request, current.settings, created.invite_token)
    if link is not None:
        view["invite_link"] = link
    return view


@users.delete("/{user_id}")
async def disable_user(user_id: Id, current: Allowed) -> UserView:
    """Disable a person: their sessions end and their API tokens stop working. The last
    enabled instance owner: 409 ``last_owner``."""
    return await access.disable_user(current.database.engine, user_id)


@users.post("/{user_id}/enable")
async def enable_user(user_id: Id, current: Allowed) -> UserView:
    """Enable a disabled person again: they may sign in, and their API tokens that have not
    expired or been revoked work again."""
    return await access.enable_user(current.database.engine, user_id)


@members.get("")
async def list_members(workspace: str, current: Allowed) -> list[WorkspaceMemberView]:
    return await access.list_members(current.database.engine, workspace)


@members.post("", status_code=201)
async def add_member(
    workspace: str, body: MemberIn, request: Request, current: Allowed
) -> WorkspaceMemberView:
    """Give a person a role here, creating them when the email is new (without a password:
    with an invite link). Already a member: 409 ``already_member``."""
    created = await access.add_member(
        current.database.engine,
        workspace=workspace,
        email=body.email,
        role=body.role,
        pii_read=body.pii_read,
        password=body.password,
    )
    view: WorkspaceMemberView = created.view
    link = _link(request, current.settings, created.invite_token)
    if link is not None:
        view["invite_link"] = link
    return view


@members.patch("/{user_id}")
async def update_member(
    workspace: str, user_id: Id, body: MemberPatch, current: Allowed
) -> WorkspaceMemberView:
    """Change a member's role or ``pii_read``. Not a member here: 404 ``member_not_found``."""
    return await access.update_member(
        current.database.engine,
        workspace=workspace,
        user_id=user_id,
        role=body.role,
        pii_read=body.pii_read,
    )


@members.delete("/{user_id}", status_code=204)
async def remove_member(workspace: str, user_id: Id, current: Allowed) -> Response:
    """End a membership (the person's account stays)."""
    await access.remove_member(current.database.engine, workspace=workspace, user_id=user_id)
    return Response(status_code=204)
