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
from headwater.access.personal import DEFAULT as DEFAULT_PERSONAL
from headwater.access.personal import MASK, Classifier, PersonalKeys, mask
from headwater.access.service import (
    FirstOwner,
    authenticate_session,
    authenticate_token,
    bootstrap_owner,
)

__all__ = [
    "DEFAULT_PERSONAL",
    "INSTANCE_PERMISSIONS",
    "MASK",
    "OWNER",
    "ROLE_PERMISSIONS",
    "Classifier",
    "FirstOwner",
    "Grant",
    "Permission",
    "PersonalKeys",
    "Principal",
    "Role",
    "authenticate_session",
    "authenticate_token",
    "bootstrap_owner",
    "mask",
    "narrower",
]
