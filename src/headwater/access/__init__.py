"""People, roles, API tokens, web sessions and the audit trail: who may do what in which
workspace, and a record of what they did."""

from headwater.access.model import (
    INSTANCE_PERMISSIONS,
    OWNER,
    ROLE_PERMISSIONS,
    Grant,
    Permission,
    Principal,
    Role,
    narrower,
)
from headwater.access.service import (
    FirstOwner,
    authenticate_session,
    authenticate_token,
    bootstrap_owner,
)
from headwater.access.tokens import create_token, list_tokens, revoke_token
from headwater.access.views import NewTokenView, TokenView

__all__ = [
    "INSTANCE_PERMISSIONS",
    "OWNER",
    "ROLE_PERMISSIONS",
    "FirstOwner",
    "Grant",
    "NewTokenView",
    "Permission",
    "Principal",
    "Role",
    "TokenView",
    "authenticate_session",
    "authenticate_token",
    "bootstrap_owner",
    "create_token",
    "list_tokens",
    "narrower",
    "revoke_token",
]
