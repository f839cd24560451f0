"""API tokens, as their owners and the workspace's owners manage them: list, create (the
secret is shown once), revoke. Each function owns its transaction.

A user's token acts as the user narrowed to its role, in the one workspace it is created in;
it may not be wider than what the caller may do there (its role per :func:`narrower`, and
``pii_read`` only with the caller's). A service account's token has no user: it acts in its
workspace with its role, and only a principal that manages people there (``people:write``)
creates one. Revocation and expiry take effect on the next request (each request reads its
token; the Profile API remembers a verified token for ten seconds).

>>> new = await create_token(engine, principal, "shop", name="ci", role=Role.DEVELOPER)
>>> await revoke_token(engine, principal, new["id"], workspace="shop")
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.access import store
from headwater.access.credentials import digest, new_secret
from headwater.access.model import Grant, Permission, Principal, Role, narrower
from headwater.access.views import NewTokenView, TokenView, token_view
from headwater.errors import BadRequest, Forbidden, NotFound
from headwater.storage import connected, transaction

__all__ = ["create_token", "expiry", "list_tokens", "revoke_token"]

_NAME_LIMIT = 200
_MAX_DAYS = 3650


async def list_tokens(
    engine: AsyncEngine, principal: Principal, *, workspace: str | None
) -> list[TokenView]:
    """The caller's own tokens (in ``workspace``, or in every workspace and the instance-level
    ones when None); every token of ``workspace`` for a caller with ``people:read`` there."""
    everyone = workspace is not None and principal.allows(workspace, Permission.PEOPLE_READ)
    async with connected(engine) as connection:
        found = await store.listed_tokens(
            connection,
            workspace=workspace,
            **({} if everyone else _own(principal)),
        )
    return [token_view(token) for token in found]


def _own(principal: Principal) -> dict[str, int]:
    """The filter of the principal's own tokens: its user's, or (a service account) itself."""
    return {"user_id": principal.user_id or 0, "own_token_id": principal.token_id or 0}


def expiry(
    expires_at: datetime | None, expires_in_days: int | None, *, now: datetime
) -> datetime | None:
    """When a new token expires (None: never); 400 ``invalid_expiry`` for both forms, a time in
    the past or without a zone, or a number of days out of 1..3650."""
    if expires_at is not None and expires_in_days is not None:
        raise BadRequest("invalid_expiry", "give expires_at or expires_in_days, not both")
    if expires_in_days is not None:
        if not 1 <= expires_in_days <= _MAX_DAYS:
            raise BadRequest("invalid_expiry", f"expires_in_days must be 1 to {_MAX_DAYS}")
        return now + timedelta(days=expires_in_days)
    if expires_at is None:
        return None
    if expires_at.tzinfo is None:
        raise BadRequest("invalid_expiry", "expires_at needs a time zone (e.g. Z)")
    if expires_at <= now:
        raise BadRequest("invalid_expiry", "expires_at is in the past")
    return expires_at


async def create_token(
    engine: AsyncEngine,
    principal: Principal,
    workspace: str,
    *,
    name: str,
    role: Role,
    pii_read: bool = False,
    expires_at: datetime | None = None,
    expires_in_days: int | None = None,
    service_account: bool = False,
) -> NewTokenView:
    """A new token in ``workspace`` (see the module for who may create which); 403
    ``forbidden`` for a role or ``pii_read`` wider than the caller's, a service account's
    token without ``people:write``, or a user's token asked by a service account."""
    label = name.strip()
    if not label or len(label) > _NAME_LIMIT:
        raise BadRequest("invalid_name", f"name must be 1 to {_NAME_LIMIT} characters")
    expires = expiry(expires_at, expires_in_days, now=datetime.now(UTC))
    grant = principal.grant(workspace)
    if grant is None:
        raise NotFound("workspace_not_found", f"no workspace {workspace!r}")
    _check_width(principal, workspace, grant, role, pii_read, service_account)
    secret = new_secret("hw_")
    async with transaction(engine) as connection:
        workspace_id = await store.workspace_id(connection, workspace)
        if workspace_id is None:
            raise NotFound("workspace_not_found", f"no workspace {workspace!r}")
        token_id = await store.insert_token(
            connection,
            token_sha256=digest(secret),
            name=label,
            role=role,
            pii_read=pii_read,
            user_id=None if service_account else principal.user_id,
            workspace_id=workspace_id,
            expires_at=expires,
            created_by=principal.user_id,
        )
        (created,) = await store.listed_tokens(connection, token_id=token_id)
    return {**token_view(created), "token": secret}


def _check_width(
    principal: Principal,
    workspace: str,
    grant: Grant,
    role: Role,
    pii_read: bool,
    service_account: bool,
) -> None:
    if service_account:
        if not principal.allows(workspace, Permission.PEOPLE_WRITE):
            raise Forbidden(
                "forbidden", "a service account's token needs people:write; ask an owner"
            )
    elif principal.user_id is None:
        raise Forbidden(
            "forbidden", "a service account has no user to act as; create a service account's"
        )
    if not narrower(role, grant.role) or (
        grant.limit is not None and not narrower(role, grant.limit)
    ):
        held = grant.role.value if grant.limit is None else f"{grant.role.value}/{grant.limit}"
        raise Forbidden(
            "forbidden", f"role {role.value} is wider than yours in {workspace!r} ({held})"
        )
    if pii_read and not grant.pii_read:
        raise Forbidden("forbidden", f"pii_read needs your pii:read grant in {workspace!r}")


async def revoke_token(
    engine: AsyncEngine, principal: Principal, token_id: int, *, workspace: str | None
) -> TokenView:
    """Revoke one of the caller's own tokens (of ``workspace``, or of any when None), or with
    ``people:write`` any token of ``workspace``; 404 ``token_not_found`` for a token the caller
    may not see (another workspace's included), 403 for one it sees (``people:read``) but may
    not revoke. Revoking a revoked token answers it unchanged."""
    async with transaction(engine) as connection:
        found = await store.listed_tokens(connection, workspace=workspace, token_id=token_id)
        token = found[0] if found else None
        own = token is not None and (
            (principal.user_id is not None and token.user_id == principal.user_id)
            or token.id == principal.token_id
        )
        if token is None or not (own or _sees(principal, workspace)):
            raise NotFound("token_not_found", f"no token {token_id} of yours here")
        if not (own or _may(principal, workspace, Permission.PEOPLE_WRITE)):
            raise Forbidden("forbidden", "revoking another's token needs people:write")
        await store.revoke_token(connection, token_id)
        (revoked,) = await store.listed_tokens(connection, token_id=token_id)
    return token_view(revoked)


def _sees(principal: Principal, workspace: str | None) -> bool:
    return _may(principal, workspace, Permission.PEOPLE_READ)


def _may(principal: Principal, workspace: str | None, permission: Permission) -> bool:
    return workspace is not None and principal.allows(workspace, permission)
