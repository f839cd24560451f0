"""The read models of API tokens, as the management API answers them (``TypedDict``s, like
``headwater.workspaces.views``): never a token's secret nor its hash, but once, at creation."""

from __future__ import annotations

from typing import Literal

from typing_extensions import TypedDict

from headwater.access.model import Role
from headwater.access.store import ListedToken
from headwater.spec import Timestamp

__all__ = ["NewTokenView", "TokenView", "token_view"]


class TokenView(TypedDict):
    """An API token: ``kind`` user (acts as ``email``'s person, narrowed to ``role``) or
    service_account (no person; acts in ``workspace`` with ``role``). ``workspace`` is null
    for an instance-level token (the first owner's). ``expired``: past ``expires_at``."""

    id: int
    name: str
    kind: Literal["user", "service_account"]
    email: str | None
    workspace: str | None
    role: Role
    pii_read: bool
    created_at: Timestamp
    expires_at: Timestamp | None
    revoked_at: Timestamp | None
    expired: bool


class NewTokenView(TokenView):
    """A new API token, with its secret ``token``: the only time it is shown."""

    token: str


def token_view(token: ListedToken) -> TokenView:
    return {
        "id": token.id,
        "name": token.name,
        "kind": "service_account" if token.user_id is None else "user",
        "email": token.email,
        "workspace": token.workspace,
        "role": token.role,
        "pii_read": token.pii_read,
        "created_at": token.created_at,
        "expires_at": token.expires_at,
        "revoked_at": token.revoked_at,
        "expired": token.expired,
    }
