"""Management API: API tokens. A person lists, creates and revokes their own tokens in a
workspace (``tokens:own``); an owner (``people:write``) creates service accounts' tokens and
revokes anyone's; ``people:read`` lists every token of the workspace. ``/me/tokens`` is the
caller's own across workspaces, the instance-level ones included. A token's secret is shown
once, in the creation's answer; revocation and expiry apply from the next request (the
Profile API remembers a verified token for ten seconds)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from headwater import access
from headwater.api.auth import principal_of
from headwater.api.params import Id, Moment
from headwater.api.scope import SCOPED, UNSCOPED, WORKSPACE, Allowed

__all__ = ["me", "router"]

router = APIRouter(prefix=WORKSPACE + "/tokens", tags=["tokens"], dependencies=SCOPED)
me = APIRouter(prefix="/me/tokens", tags=["tokens"], dependencies=UNSCOPED)


class TokenIn(BaseModel):
    name: str = Field(description="what the token is for, shown in lists and the audit trail")
    role: access.Role = Field(description="no wider than the caller's own role here")
    pii_read: bool = Field(default=False, description="personal values unmasked (needs yours)")
    expires_at: Moment | None = Field(default=None, description="with a time zone")
    expires_in_days: int | None = Field(
        default=None, ge=1, le=3650, description="instead of expires_at"
    )
    service_account: bool = Field(
        default=False, description="a token of no person (needs people:write)"
    )


@router.get("")
async def list_tokens(workspace: str, request: Request, runtime: Allowed) -> list[access.TokenView]:
    """The caller's tokens in the workspace (every token of it with ``people:read``)."""
    return await access.list_tokens(
        runtime.database.engine, principal_of(request), workspace=workspace
    )


@router.post("", status_code=201)
async def create_token(
    workspace: str, body: TokenIn, request: Request, runtime: Allowed
) -> access.NewTokenView:
    """A new token; its ``token`` is shown here only."""
    return await access.create_token(
        runtime.database.engine,
        principal_of(request),
        workspace,
        name=body.name,
        role=body.role,
        pii_read=body.pii_read,
        expires_at=body.expires_at,
        expires_in_days=body.expires_in_days,
        service_account=body.service_account,
    )


@router.delete("/{token_id}")
async def revoke_token(
    workspace: str, token_id: Id, request: Request, runtime: Allowed
) -> access.TokenView:
    """Revoke one's own token, or (``people:write``) any token of the workspace."""
    return await access.revoke_token(
        runtime.database.engine, principal_of(request), token_id, workspace=workspace
    )


@me.get("")
async def my_tokens(request: Request, runtime: Allowed) -> list[access.TokenView]:
    """The caller's own tokens in every workspace, and its instance-level ones."""
    return await access.list_tokens(runtime.database.engine, principal_of(request), workspace=None)


@me.delete("/{token_id}")
async def revoke_my_token(token_id: Id, request: Request, runtime: Allowed) -> access.TokenView:
    """Revoke one of the caller's own tokens (404 ``token_not_found`` for any other)."""
    return await access.revoke_token(
        runtime.database.engine, principal_of(request), token_id, workspace=None
    )
