"""The read models of people, memberships, sign-in, API tokens and the audit trail, as the
management API answers them (``TypedDict``s: see ``headwater.workspaces.views``; times in
:func:`~headwater.spec.format_timestamp`'s form). A token's secret is in them once, at its
creation; its hash and other secrets never."""

from __future__ import annotations

from typing import Any, Literal, NotRequired

from typing_extensions import TypedDict

from headwater.access.model import Role
from headwater.access.store import ListedToken
from headwater.spec import Timestamp

__all__ = [
    "AuditActorView",
    "AuditEntryView",
    "AuditPageView",
    "MeView",
    "MembershipView",
    "NewTokenView",
    "PasswordChangedView",
    "SignInView",
    "TokenView",
    "UserView",
    "WorkspaceMemberView",
    "token_view",
]


class MembershipView(TypedDict):
    """A role in one workspace, and whether personal values are shown unmasked."""

    workspace: str
    role: str
    pii_read: bool


class HeldView(MembershipView):
    """A role the caller acts with, and what it allows there (the web app offers only that)."""

    permissions: list[str]


class UserView(TypedDict):
    """A person. ``invite_link`` only in the answer that created them without a password:
    one use, 7 days, shown once."""

    id: int
    email: str | None
    instance_owner: bool
    disabled: bool
    created_at: Timestamp
    workspaces: list[MembershipView]
    invite_link: NotRequired[str]


class WorkspaceMemberView(TypedDict):
    """A person's membership of one workspace (``invite_link``: as in :class:`UserView`)."""

    user_id: int
    email: str | None
    role: str
    pii_read: bool
    instance_owner: bool
    disabled: bool
    created_at: Timestamp
    invite_link: NotRequired[str]


class MeView(TypedDict):
    """Who the caller is, and how they signed in (``via``: ``session`` or ``token``)."""

    kind: Literal["user", "service_account"]
    id: int | None
    email: str | None
    label: str
    instance_owner: bool
    workspaces: list[HeldView]
    via: Literal["session", "token"]
    token_id: int | None
    session_id: int | None


class SignInView(TypedDict):
    """The answer to a sign-in: the user, the session's CSRF token (also in the readable
    cookie; send it as ``X-CSRF-Token`` on every unsafe request) and when the session ends."""

    user: UserView
    csrf_token: str
    expires_at: Timestamp


class PasswordChangedView(TypedDict):
    """A changed password: every session of the person ended; a caller signed in by session
    got a fresh one (its new CSRF token and end here, None otherwise)."""

    user_id: int
    csrf_token: str | None
    expires_at: Timestamp | None


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


class AuditActorView(TypedDict):
    """Who made a change: a person (``user_id``) or a workspace's service account, through an
    API token (``token_id``) or a web session (``session_id``)."""

    kind: Literal["user", "service_account"]
    user_id: int | None
    label: str
    """The person's email (the first owner before setting one: ``first owner``), or the
    service account token's name."""
    token_id: int | None
    session_id: int | None


class AuditEntryView(TypedDict):
    """One change through the management API, secrets redacted (``"[redacted]"``)."""

    id: int
    at: str
    workspace: str | None
    """The workspace's slug; null for an instance-level change (a workspace created, people)."""
    actor: AuditActorView
    action: str
    """``resource.verb``, as ``api/permissions.py`` names it: ``source.update``..."""
    resource: str
    """``kind:id`` (``source:12``, ``tracking_plan:orders``), or the kind alone for a change
    of a workspace-wide setting (``identity_rules``)."""
    before: Any
    """What the API showed of the resource before the change (null for a creation, or when
    the route has no read of the same resource)."""
    after: Any
    """The change's answer (null for a deletion), or its request body when it answered none."""
    ip: str | None


class AuditPageView(TypedDict):
    """A page of entries, newest first; pass ``next_cursor`` back as ``before`` for the next
    (null at the end)."""

    data: list[AuditEntryView]
    next_cursor: int | None
