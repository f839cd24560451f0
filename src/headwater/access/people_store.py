"""Queries on people, their memberships, web sessions, one-time links and sign-in attempts.
Each takes a connection; none commits."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, insert, select, text, update

from headwater.access.model import Role
from headwater.access.tables import login_attempts, memberships, one_time_links, sessions, users
from headwater.storage import Transaction

__all__ = [
    "UserRow",
    "delete_membership",
    "disable_user",
    "enabled_owner_count",
    "insert_membership",
    "insert_session",
    "latest_failure",
    "link_row",
    "list_users",
    "member_rows",
    "membership",
    "record_attempt",
    "revoke_session",
    "revoke_user_sessions",
    "set_email",
    "set_password",
    "update_membership",
    "use_link",
    "user_by_email",
    "user_by_id",
    "workspace_owner_count",
]


class UserRow:
    """A person as :func:`user_by_email` and :func:`user_by_id` read them."""

    __slots__ = ("created_at", "disabled", "email", "id", "instance_owner", "password_hash")

    def __init__(self, row: Any) -> None:
        self.id: int = row.id
        self.email: str | None = row.email
        self.password_hash: str | None = row.password_hash
        self.instance_owner: bool = bool(row.instance_owner)
        self.disabled: bool = row.disabled_at is not None
        self.created_at: datetime = row.created_at


_USER = select(
    users.c.id,
    users.c.email,
    users.c.password_hash,
    users.c.instance_owner,
    users.c.disabled_at,
    users.c.created_at,
)


async def user_by_email(connection: Transaction, email: str) -> UserRow | None:
    """The person with this email (compared without case), disabled or not."""
    row = (
        await connection.execute(_USER.where(func.lower(users.c.email) == email.lower()))
    ).first()
    return None if row is None else UserRow(row)


async def user_by_id(connection: Transaction, user_id: int) -> UserRow | None:
    row = (await connection.execute(_USER.where(users.c.id == user_id))).first()
    return None if row is None else UserRow(row)


async def set_password(connection: Transaction, user_id: int, password_hash: str) -> None:
    await connection.execute(
        update(users)
        .where(users.c.id == user_id)
        .values(password_hash=password_hash, password_changed_at=func.now())
    )


async def set_email(connection: Transaction, user_id: int, email: str) -> None:
    await connection.execute(update(users).where(users.c.id == user_id).values(email=email))


async def disable_user(connection: Transaction, user_id: int) -> None:
    await connection.execute(
        update(users)
        .where(users.c.id == user_id, users.c.disabled_at.is_(None))
        .values(disabled_at=func.now())
    )


async def enable_user(connection: Transaction, user_id: int) -> None:
    await connection.execute(update(users).where(users.c.id == user_id).values(disabled_at=None))


async def enabled_owner_count(connection: Transaction) -> int:
    """Enabled instance owners; locks them, so that two disables cannot both pass a check."""
    rows = await connection.execute(
        select(users.c.id)
        .where(users.c.instance_owner, users.c.disabled_at.is_(None))
        .with_for_update()
    )
    return len(rows.all())


_WORKSPACES = """
SELECT coalesce(json_agg(json_build_object('workspace', w.slug, 'role', m.role,
                                           'pii_read', m.pii_read) ORDER BY w.slug), '[]')
FROM memberships m JOIN workspaces w ON w.id = m.workspace_id
WHERE m.user_id = u.id
"""

_USERS = text(
    f"""
SELECT u.id, u.email, u.instance_owner, u.disabled_at IS NOT NULL AS disabled, u.created_at,
       ({_WORKSPACES}) AS workspaces
FROM users u
WHERE CAST(:user_id AS integer) IS NULL OR u.id = CAST(:user_id AS integer)
ORDER BY u.id
"""
)


async def list_users(connection: Transaction, user_id: int | None = None) -> list[Any]:
    """Every person (or the one ``user_id``) with their memberships (``workspaces``:
    ``[{workspace, role, pii_read}]``)."""
    return list((await connection.execute(_USERS, {"user_id": user_id})).all())


# Sessions.


async def insert_session(
    connection: Transaction,
    *,
    token_sha256: str,
    csrf_sha256: str,
    user_id: int,
    ip: str | None,
    user_agent: str | None,
    expires_at: datetime,
) -> int:
    session_id = await connection.scalar(
        insert(sessions)
        .values(
            token_sha256=token_sha256,
            csrf_sha256=csrf_sha256,
            user_id=user_id,
            ip=ip,
            user_agent=user_agent,
            expires_at=expires_at,
            created_at=func.now(),
        )
        .returning(sessions.c.id)
    )
    return int(session_id)


async def revoke_session(connection: Transaction, session_id: int) -> None:
    await connection.execute(
        update(sessions)
        .where(sessions.c.id == session_id, sessions.c.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )


async def revoke_user_sessions(connection: Transaction, user_id: int) -> None:
    await connection.execute(
        update(sessions)
        .where(sessions.c.user_id == user_id, sessions.c.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )


# One-time links.


async def link_row(connection: Transaction, token_sha256: str) -> tuple[int, int, str] | None:
    """An unused, unexpired link with this hash, locked: its id, user and purpose."""
    row = (
        await connection.execute(
            select(one_time_links.c.id, one_time_links.c.user_id, one_time_links.c.purpose)
            .where(
                one_time_links.c.token_sha256 == token_sha256,
                one_time_links.c.used_at.is_(None),
                one_time_links.c.expires_at > func.now(),
            )
            .with_for_update()
        )
    ).first()
    return None if row is None else (row.id, row.user_id, row.purpose)


async def use_link(connection: Transaction, link_id: int) -> None:
    await connection.execute(
        update(one_time_links).where(one_time_links.c.id == link_id).values(used_at=func.now())
    )


# Sign-in attempts.


async def record_attempt(
    connection: Transaction, *, email_sha256: str, ip: str | None, succeeded: bool
) -> None:
    await connection.execute(
        insert(login_attempts).values(
            email_sha256=email_sha256, ip=ip, succeeded=succeeded, at=func.now()
        )
    )


async def latest_failure(
    connection: Transaction,
    *,
    email_sha256: str | None = None,
    ip: str | None = None,
    window: timedelta,
    nth: int,
) -> datetime | None:
    """When the ``nth`` most recent failed attempt (of this email since its last success, or
    of this IP address) within ``window`` happened; None when there are fewer."""
    attempt = login_attempts.c
    if email_sha256 is not None:
        last_success = (
            select(func.max(attempt.at))
            .where(attempt.email_sha256 == email_sha256, attempt.succeeded)
            .scalar_subquery()
        )
        match = and_(
            attempt.email_sha256 == email_sha256,
            attempt.at > func.coalesce(last_success, func.now() - window),
        )
    else:
        match = attempt.ip == ip
    found: datetime | None = await connection.scalar(
        select(attempt.at)
        .where(match, ~attempt.succeeded, attempt.at > func.now() - window)
        .order_by(attempt.at.desc())
        .offset(nth - 1)
        .limit(1)
    )
    return found


# Memberships.


async def membership(
    connection: Transaction, workspace_id: int, user_id: int, *, lock: bool = False
) -> tuple[Role, bool] | None:
    """The user's role and ``pii:read`` in the workspace, or None when not a member."""
    query = select(memberships.c.role, memberships.c.pii_read).where(
        memberships.c.workspace_id == workspace_id, memberships.c.user_id == user_id
    )
    row = (await connection.execute(query.with_for_update() if lock else query)).first()
    return None if row is None else (Role(row.role), bool(row.pii_read))


_MEMBERS = text(
    """
SELECT u.id AS user_id, u.email, m.role, m.pii_read, u.instance_owner,
       u.disabled_at IS NOT NULL AS disabled, m.created_at
FROM memberships m JOIN users u ON u.id = m.user_id
WHERE m.workspace_id = :workspace_id
ORDER BY u.id
"""
)


async def member_rows(
    connection: Transaction, workspace_id: int, user_id: int | None = None
) -> list[Any]:
    """The workspace's members (or the one ``user_id``), with their emails."""
    rows = (await connection.execute(_MEMBERS, {"workspace_id": workspace_id})).all()
    return [row for row in rows if user_id is None or row.user_id == user_id]


async def insert_membership(
    connection: Transaction, *, workspace_id: int, user_id: int, role: Role, pii_read: bool
) -> None:
    await connection.execute(
        insert(memberships).values(
            workspace_id=workspace_id,
            user_id=user_id,
            role=role.value,
            pii_read=pii_read,
            created_at=func.now(),
        )
    )


async def update_membership(
    connection: Transaction, *, workspace_id: int, user_id: int, values: dict[str, Any]
) -> None:
    await connection.execute(
        update(memberships)
        .where(memberships.c.workspace_id == workspace_id, memberships.c.user_id == user_id)
        .values(**values)
    )


async def delete_membership(connection: Transaction, *, workspace_id: int, user_id: int) -> None:
    await connection.execute(
        delete(memberships).where(
            memberships.c.workspace_id == workspace_id, memberships.c.user_id == user_id
        )
    )


async def workspace_owner_count(connection: Transaction, workspace_id: int) -> int:
    """Enabled people holding ``owner`` in the workspace; locks their memberships."""
    rows = await connection.execute(
        select(memberships.c.user_id)
        .join(users, users.c.id == memberships.c.user_id)
        .where(
            memberships.c.workspace_id == workspace_id,
            memberships.c.role == Role.OWNER.value,
            users.c.disabled_at.is_(None),
        )
        .with_for_update(of=memberships)
    )
    return len(rows.all())
