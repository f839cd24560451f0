"""The read models of people, memberships and sign-in, as the management API answers them
(``TypedDict``s: see ``headwater.workspaces.views``)."""

from __future__ import annotations

from typing import Literal, NotRequired

from typing_extensions import TypedDict

from headwater.spec import Timestamp

__all__ = [
    "MeView",
    "MembershipView",
    "PasswordChangedView",
    "SignInView",
    "UserView",
    "WorkspaceMemberView",
]


class MembershipView(TypedDict):
    """A role in one workspace, and whether personal values are shown unmasked."""

    workspace: str
    role: str
    pii_read: bool


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
    workspaces: list[MembershipView]
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
