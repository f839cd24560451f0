"""People, roles, API tokens, web sessions and the audit trail: who may do what in which
workspace, and a record of what they did."""

from headwater.access.audit import (
    AuditChange,
    AuditFilter,
    audit_entries,
    audit_export,
    record_change,
)
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
from headwater.access.redact import REDACTED, redact
from headwater.access.service import (
    FirstOwner,
    authenticate_session,
    authenticate_token,
    bootstrap_owner,
)
from headwater.access.views import AuditActorView, AuditEntryView, AuditPageView

__all__ = [
    "INSTANCE_PERMISSIONS",
    "OWNER",
    "REDACTED",
    "ROLE_PERMISSIONS",
    "AuditActorView",
    "AuditChange",
    "AuditEntryView",
    "AuditFilter",
    "AuditPageView",
    "FirstOwner",
    "Grant",
    "Permission",
    "Principal",
    "Role",
    "audit_entries",
    "audit_export",
    "authenticate_session",
    "authenticate_token",
    "bootstrap_owner",
    "narrower",
    "record_change",
    "redact",
]
