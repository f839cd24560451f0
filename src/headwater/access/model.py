"""Roles, permissions and the principal a request acts as: pure rules, no I/O.

A person or service account holds one role per workspace (a :class:`Grant`), optionally with
the ``pii:read`` grant; an instance owner holds ``owner`` with ``pii:read`` in every workspace
and alone may create workspaces and manage people across them.

>>> principal = Principal.user(7, "ana@example.com", grants={"shop": Grant(Role.ANALYST)})
>>> principal.allows("shop", Permission.AUDIENCES_READ)
True
>>> principal.allows("shop", Permission.AUDIENCES_WRITE)
False
>>> principal.grant("other") is None     # a workspace it has no role in: answered as unknown
True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final, Literal

__all__ = [
    "INSTANCE_PERMISSIONS",
    "OWNER",
    "ROLE_PERMISSIONS",
    "Grant",
    "Permission",
    "Principal",
    "Role",
    "narrower",
]


class Role(StrEnum):
    """A role in one workspace; see :data:`ROLE_PERMISSIONS` for what each may do."""

    OWNER = "owner"
    ADMIN = "admin"
    DEVELOPER = "developer"
    MARKETER = "marketer"
    ANALYST = "analyst"
    PRIVACY_ADMIN = "privacy_admin"


class Permission(StrEnum):
    """What a management route needs; each route names exactly one (``api/permissions.py``)."""

    WORKSPACE_READ = "workspace:read"
    SOURCES_READ = "sources:read"
    SOURCES_WRITE = "sources:write"
    DATA_READ = "data:read"
    """Stored events, the live feed, rejections, statistics, processing failures."""
    FAILURES_REPLAY = "failures:replay"
    PROFILES_READ = "profiles:read"
    IDENTITY_WRITE = "identity:write"
    PROFILE_TOKENS_WRITE = "profile_tokens:write"
    """Create Profile API access tokens (they read profiles unmasked, as Segment's do)."""
    DESTINATIONS_READ = "destinations:read"
    DESTINATIONS_WRITE = "destinations:write"
    PLANS_READ = "plans:read"
    PLANS_WRITE = "plans:write"
    AUDIENCES_READ = "audiences:read"
    AUDIENCES_WRITE = "audiences:write"
    JOURNEYS_READ = "journeys:read"
    JOURNEYS_WRITE = "journeys:write"
    PRIVACY_READ = "privacy:read"
    PRIVACY_WRITE = "privacy:write"
    PEOPLE_READ = "people:read"
    PEOPLE_WRITE = "people:write"
    AUDIT_READ = "audit:read"
    TOKENS_OWN = "tokens:own"
    """Create, list and revoke one's own API tokens in the workspace."""
    AUTHENTICATED = "authenticated"
    """Any signed-in principal, whatever its roles (its own account, the connector catalog)."""
    INSTANCE_OWNER = "instance:owner"
    """Instance-wide administration: create workspaces, list and disable people."""
    PUBLIC = "public"
    """No sign-in (signing in itself, accepting a one-time link): such a route does not use
    the permission check, but is still a row of the route table."""


_READ: Final = frozenset(
    {
        Permission.WORKSPACE_READ,
        Permission.SOURCES_READ,
        Permission.DATA_READ,
        Permission.PROFILES_READ,
        Permission.DESTINATIONS_READ,
        Permission.PLANS_READ,
        Permission.AUDIENCES_READ,
        Permission.JOURNEYS_READ,
        Permission.TOKENS_OWN,
    }
)
_CONFIGURE: Final = frozenset(
    {
        Permission.SOURCES_WRITE,
        Permission.DESTINATIONS_WRITE,
        Permission.PLANS_WRITE,
        Permission.AUDIENCES_WRITE,
        Permission.JOURNEYS_WRITE,
        Permission.IDENTITY_WRITE,
        Permission.PROFILE_TOKENS_WRITE,
        Permission.FAILURES_REPLAY,
    }
)

INSTANCE_PERMISSIONS: Final = frozenset(
    {Permission.AUTHENTICATED, Permission.INSTANCE_OWNER, Permission.PUBLIC}
)
"""Permissions that no workspace role carries: they are checked against the principal."""

ROLE_PERMISSIONS: Final[Mapping[Role, frozenset[Permission]]] = {
    Role.OWNER: frozenset(Permission) - INSTANCE_PERMISSIONS,
    Role.ADMIN: _READ
    | _CONFIGURE
    | {Permission.PEOPLE_READ, Permission.AUDIT_READ, Permission.PRIVACY_READ},
    Role.DEVELOPER: _READ
    | {
        Permission.SOURCES_WRITE,
        Permission.DESTINATIONS_WRITE,
        Permission.PLANS_WRITE,
        Permission.FAILURES_REPLAY,
    },
    Role.MARKETER: _READ | {Permission.AUDIENCES_WRITE, Permission.JOURNEYS_WRITE},
    Role.ANALYST: _READ,
    Role.PRIVACY_ADMIN: _READ | {Permission.PRIVACY_READ, Permission.PRIVACY_WRITE},
}
"""What each role may do in its workspace. Every role reads the workspace's configuration and
data (personal values masked without ``pii:read``); none but the owner manages people."""


def narrower(role: Role, than: Role) -> bool:
    """True when ``role`` may do no more than ``than`` (a token never exceeds its user)."""
    return ROLE_PERMISSIONS[role] <= ROLE_PERMISSIONS[than]


@dataclass(frozen=True, slots=True)
class Grant:
    """One role in one workspace, and whether personal values are shown unmasked."""

    role: Role
    pii_read: bool = False
    limit: Role | None = None
    """A token's role, when it acts for a user whose role is not wider (then it may do what
    both roles allow: a token never does more than its user, whatever the user's role
    becomes later)."""

    def allows(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role] and (
            self.limit is None or permission in ROLE_PERMISSIONS[self.limit]
        )

    def narrowed(self, role: Role, pii_read: bool) -> Grant:
        """This grant as a token with ``role`` and ``pii_read`` may use it."""
        if narrower(self.role, role):
            return Grant(self.role, self.pii_read and pii_read, self.limit)
        if self.limit is None and narrower(role, self.role):
            return Grant(role, self.pii_read and pii_read)
        return Grant(self.role, self.pii_read and pii_read, role)


OWNER: Final = Grant(Role.OWNER, pii_read=True)
"""What an instance owner holds in every workspace."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts as, and through what: a session (the web UI) or an API token.

    ``label`` names the actor in the audit trail (an email, or a service account's token name).
    """

    kind: Literal["user", "service_account"]
    label: str
    user_id: int | None = None
    token_id: int | None = None
    session_id: int | None = None
    instance_owner: bool = False
    grants: Mapping[str, Grant] = field(default_factory=dict)
    """Roles by workspace slug (an instance owner's are implied: owner everywhere)."""

    @classmethod
    def user(
        cls,
        user_id: int,
        label: str,
        *,
        grants: Mapping[str, Grant] | None = None,
        instance_owner: bool = False,
        token_id: int | None = None,
        session_id: int | None = None,
    ) -> Principal:
        return cls(
            "user",
            label,
            user_id=user_id,
            token_id=token_id,
            session_id=session_id,
            instance_owner=instance_owner,
            grants=grants or {},
        )

    def grant(self, workspace: str) -> Grant | None:
        """The principal's role in ``workspace``, or None when it has none there."""
        if self.instance_owner:
            return OWNER
        return self.grants.get(workspace)

    def allows(self, workspace: str | None, permission: Permission) -> bool:
        """May the principal do ``permission`` (in ``workspace``, for a workspace's route)?"""
        if permission in (Permission.AUTHENTICATED, Permission.PUBLIC):
            return True
        if permission is Permission.INSTANCE_OWNER:
            return self.instance_owner
        if workspace is None:
            return False
        grant = self.grant(workspace)
        return grant is not None and grant.allows(permission)

    def pii_read(self, workspace: str | None) -> bool:
        """Are personal values shown unmasked to the principal (in ``workspace``; outside any
        workspace, as the instance's audit trail: to an instance owner only)?"""
        if workspace is None:
            return self.instance_owner
        grant = self.grant(workspace)
        return grant is not None and grant.pii_read
