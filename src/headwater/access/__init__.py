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

__all__ = [
    "INSTANCE_PERMISSIONS",
    "OWNER",
    "ROLE_PERMISSIONS",
    "FirstOwner",
    "Grant",
    "Permission",
    "Principal",
    "Role",
    "authenticate_session",
    "authenticate_token",
    "bootstrap_owner",
    "narrower",
]
