"""People management: the instance's people (an instance owner's) and each workspace's
members (its owners'). Each function owns its transaction.

A person created without a password gets an invitation: a one-time link's secret
(``hwl_...``, 7 days), returned once for the caller to pass on.

Owners are never all lost: the last enabled instance owner cannot be disabled (409
``last_owner``), and while no enabled instance owner exists, a workspace's last owner
membership cannot be removed or demoted (409 ``last_owner``); with an instance owner, who is
owner of every workspace, it can.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater import workspaces
from headwater.access import passwords, people, people_store, store
from headwater.access.credentials import digest, new_secret
from headwater.access.model import Role
from headwater.access.sessions import user_view
from headwater.access.views import UserView, WorkspaceMemberView
from headwater.errors import BadRequest, Conflict, NotFound
from headwater.storage import Transaction, connected, transaction

__all__ = [
    "INVITE_DAYS",
    "Created",
    "add_member",
    "create_user",
    "disable_user",
    "list_members",
    "list_users",
    "remove_member",
    "update_member",
]

INVITE_DAYS = 7


class Created(msgspec.Struct, frozen=True, kw_only=True):
    """A person or membership just made, and the invitation's secret (None with a password)."""

    view: Any
    invite_token: str | None


def member_view(row: Any) -> WorkspaceMemberView:
    return {
        "user_id": row.user_id,
        "email": row.email,
        "role": row.role,
        "pii_read": row.pii_read,
        "instance_owner": row.instance_owner,
        "disabled": row.disabled,
        "created_at": row.created_at,
    }


async def list_users(engine: AsyncEngine) -> list[UserView]:
    async with connected(engine) as connection:
        return [user_view(row) for row in await people_store.list_users(connection)]


async def _hash(password: str | None) -> str | None:
    return None if password is None else await asyncio.to_thread(passwords.hash_password, password)


async def _new_person(
    connection: Transaction, email: str, password_hash: str | None, instance_owner: bool
) -> tuple[int, str | None]:
    """Create a person (409 ``email_taken`` when the email is someone's): its id, and an
    invitation's secret when it has no password."""
    if await people_store.user_by_email(connection, email) is not None:
        raise Conflict("email_taken", f"{email!r} already has an account")
    user_id = await store.insert_user(
        connection, email=email, password_hash=password_hash, instance_owner=instance_owner
    )
    invite = None
    if password_hash is None:
        invite = new_secret("hwl_")
        await store.insert_link(
            connection,
            token_sha256=digest(invite),
            user_id=user_id,
            purpose="invite",
            expires_at=datetime.now(UTC) + timedelta(days=INVITE_DAYS),
        )
    return user_id, invite


async def create_user(
    engine: AsyncEngine, *, email: str, password: str | None, instance_owner: bool
) -> Created:
    """A new person (``view``: :class:`UserView`), invited when ``password`` is None."""
    checked = people.check_email(email)
    hashed = await _hash(password)
    async with transaction(engine) as connection:
        user_id, invite = await _new_person(connection, checked, hashed, instance_owner)
        (row,) = await people_store.list_users(connection, user_id)
        return Created(view=user_view(row), invite_token=invite)


async def disable_user(engine: AsyncEngine, user_id: int) -> UserView:
    """Disable the person and end their sessions (their API tokens stop working: a disabled
    person's tokens are refused). 404 ``user_not_found``; 409 ``last_owner`` for the last
    enabled instance owner."""
    async with transaction(engine) as connection:
        user = await people_store.user_by_id(connection, user_id)
        if user is None:
            raise NotFound("user_not_found", f"no user {user_id}")
        if (
            user.instance_owner
            and not user.disabled
            and await people_store.enabled_owner_count(connection) <= 1
        ):
            raise Conflict("last_owner", "the last instance owner cannot be disabled")
        await people_store.disable_user(connection, user_id)
        await people_store.revoke_user_sessions(connection, user_id)
        (row,) = await people_store.list_users(connection, user_id)
        return user_view(row)


async def enable_user(engine: AsyncEngine, user_id: int) -> UserView:
    """Enable a disabled person again: they may sign in, and their API tokens that have not
    expired or been revoked work again (sessions ended when they were disabled stay ended).
    404 ``user_not_found``; an enabled person is left as they are."""
    async with transaction(engine) as connection:
        if await people_store.user_by_id(connection, user_id) is None:
            raise NotFound("user_not_found", f"no user {user_id}")
        await people_store.enable_user(connection, user_id)
        (row,) = await people_store.list_users(connection, user_id)
        return user_view(row)


async def list_members(engine: AsyncEngine, workspace: str) -> list[WorkspaceMemberView]:
    async with connected(engine) as connection:
        workspace_id = await workspaces.workspace_id(connection, workspace)
        return [
            member_view(row) for row in await people_store.member_rows(connection, workspace_id)
        ]


async def add_member(
    engine: AsyncEngine,
    *,
    workspace: str,
    email: str,
    role: Role,
    pii_read: bool,
    password: str | None,
) -> Created:
    """Give the person with ``email`` ``role`` in the workspace (``view``:
    :class:`WorkspaceMemberView`), creating them when the email is new (invited when
    ``password`` is None). 409 ``already_member``; a password for a person who has an account: 400
    ``password_not_allowed`` (a workspace's owner does not set another account's password)."""
    checked = people.check_email(email)
    async with connected(engine) as connection:
        existing = await people_store.user_by_email(connection, checked)
    if existing is not None and password is not None:
        raise BadRequest(
            "password_not_allowed", f"{checked!r} already has an account; leave out the password"
        )
    hashed = await _hash(password)
    async with transaction(engine) as connection:
        workspace_id = await workspaces.workspace_id(connection, workspace)
        existing = await people_store.user_by_email(connection, checked)
        invite = None
        if existing is None:
            user_id, invite = await _new_person(connection, checked, hashed, False)
        else:
            user_id = existing.id
            if await people_store.membership(connection, workspace_id, user_id) is not None:
                raise Conflict("already_member", f"{checked!r} is already a member")
        await people_store.insert_membership(
            connection, workspace_id=workspace_id, user_id=user_id, role=role, pii_read=pii_read
        )
        (row,) = await people_store.member_rows(connection, workspace_id, user_id)
        return Created(view=member_view(row), invite_token=invite)


async def _member(connection: Transaction, workspace: str, user_id: int) -> tuple[int, Role]:
    """The workspace's id and the member's role (locked); 404 ``member_not_found``."""
    workspace_id = await workspaces.workspace_id(connection, workspace)
    found = await people_store.membership(connection, workspace_id, user_id, lock=True)
    if found is None:
        raise NotFound("member_not_found", f"user {user_id} is not a member of {workspace!r}")
    return workspace_id, found[0]


async def _keep_an_owner(connection: Transaction, workspace_id: int, role: Role) -> None:
    """409 ``last_owner`` when taking ``role`` away would leave the workspace without an
    owner while no instance owner exists."""
    if role is not Role.OWNER:
        return
    if await store.first_owner(connection) is not None:
        return
    if await people_store.workspace_owner_count(connection, workspace_id) <= 1:
        raise Conflict("last_owner", "the workspace's last owner cannot be removed or demoted")


async def update_member(
    engine: AsyncEngine,
    *,
    workspace: str,
    user_id: int,
    role: Role | None,
    pii_read: bool | None,
) -> WorkspaceMemberView:
    """Change a member's role and/or ``pii:read`` (see the module for the last owner)."""
    async with transaction(engine) as connection:
        workspace_id, current = await _member(connection, workspace, user_id)
        if role is not None and role is not Role.OWNER:
            await _keep_an_owner(connection, workspace_id, current)
        values: dict[str, Any] = {}
        if role is not None:
            values["role"] = role.value
        if pii_read is not None:
            values["pii_read"] = pii_read
        if values:
            await people_store.update_membership(
                connection, workspace_id=workspace_id, user_id=user_id, values=values
            )
        (row,) = await people_store.member_rows(connection, workspace_id, user_id)
        return member_view(row)


async def remove_member(engine: AsyncEngine, *, workspace: str, user_id: int) -> None:
    """End a membership (see the module for the last owner). The person's account stays."""
    async with transaction(engine) as connection:
        workspace_id, current = await _member(connection, workspace, user_id)
        await _keep_an_owner(connection, workspace_id, current)
        await people_store.delete_membership(connection, workspace_id=workspace_id, user_id=user_id)
