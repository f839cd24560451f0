"""Bearer-token auth for the management API; verified tokens are remembered for a minute."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from headwater.errors import Unauthorized
from headwater.runtime import Runtime
from headwater.workspaces import check_admin_token

__all__ = ["admin", "runtime"]

_bearer = HTTPBearer(auto_error=False)
_TOKEN_TTL = 60.0


def runtime(request: Request) -> Runtime:
    return request.app.state.runtime  # type: ignore[no-any-return]


async def admin(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Runtime:
    """The runtime, once the request's bearer token is an admin token; 401 otherwise."""
    current = runtime(request)
    if credentials is None:
        raise Unauthorized(
            "missing_token", "send an admin token as 'Authorization: Bearer <token>'"
        )
    token = credentials.credentials
    verified: dict[str, float] = request.app.state.verified_tokens
    if verified.get(token, 0.0) > time.monotonic():
        return current
    if not await check_admin_token(
        current.database.engine, token, configured=current.settings.admin_token
    ):
        raise Unauthorized("invalid_token", "unknown admin token")
    verified[token] = time.monotonic() + _TOKEN_TTL
    return current
