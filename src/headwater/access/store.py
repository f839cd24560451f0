"""Queries on people, roles, tokens and sessions. Each takes a connection; none commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, text

from headwater.access.model import Grant, Role
from headwater.access.people import LinkPurpose
from headwater.access.tables import api_tokens, one_time_links, users
from headwater.storage import Transaction

__all__ = [
    "AuditFilter",
    "ListedToken",
    "SessionRow",
    "TokenRow",
    "audit_rows",
    "first_owner",
    "insert_audit",
    "insert_link",
    "insert_token",
    "insert_user",
    "listed_tokens",
    "revoke_token",
    "session_row",
    "token_row",
    "user_grants",
    "workspace_id",
]


async def insert_user(
    connection: Transaction,
    *,
    email: str | None,
    password_hash: str | None,
    instance_owner: bool = False,
) -> int:
    user_id = await connection.scalar(
        insert(users)
        .values(
            email=email,
            password_hash=password_hash,
            instance_owner=instance_owner,
            password_changed_at=None if password_hash is None else func.now(),
            created_at=func.now(),
        )
        .returning(users.c.id)
    )
    return int(user_id)


async def first_owner(connection: Transaction) -> tuple[int, str | None] | None:
    """The first instance owner still enabled: its id and email."""
    row = (
        await connection.execute(
            select(users.c.id, users.c.email)
            .where(users.c.instance_owner, users.c.disabled_at.is_(None))
            .order_by(users.c.id)
            .limit(1)
        )
    ).first()
    return None if row is None else (row.id, row.email)


async def insert_token(
    connection: Transaction,
    *,
    token_sha256: str,
    name: str,
    role: Role,
    pii_read: bool,
    user_id: int | None = None,
    workspace_id: int | None = None,
    expires_at: datetime | None = None,
    created_by: int | None = None,
) -> int:
    token_id = await connection.scalar(
        insert(api_tokens)
        .values(
            token_sha256=token_sha256,
            name=name,
            role=role.value,
            pii_read=pii_read,
            user_id=user_id,
            workspace_id=workspace_id,
            expires_at=expires_at,
            created_by=created_by,
            created_at=func.now(),
        )
        .returning(api_tokens.c.id)
    )
    return int(token_id)


async def insert_link(
    connection: Transaction,
    *,
    token_sha256: str,
    user_id: int,
    purpose: LinkPurpose,
    expires_at: datetime,
) -> None:
    await connection.execute(
        insert(one_time_links).values(
            token_sha256=token_sha256,
            user_id=user_id,
            purpose=purpose,
            expires_at=expires_at,
            created_at=func.now(),
        )
    )


_GRANTS = """
SELECT coalesce(json_agg(json_build_array(w.slug, m.role, m.pii_read)), '[]')
FROM memberships m JOIN workspaces w ON w.id = m.workspace_id
WHERE m.user_id = u.id
"""

# An instance owner's roles: owner, with pii:read, in every workspace.
_EVERYWHERE = """
SELECT coalesce(json_agg(json_build_array(w.slug, 'owner', true)), '[]') FROM workspaces w
"""

# One trip per request: the token, its workspace, its user and the user's roles (an instance
# owner's in every workspace, so that a narrower token of theirs is narrowed everywhere).
_TOKEN = text(
    f"""
SELECT t.id, t.name, t.user_id, t.role, t.pii_read, w.slug AS workspace,
       u.email, u.instance_owner, u.disabled_at IS NOT NULL AS disabled,
       CASE WHEN u.id IS NULL THEN '[]' WHEN u.instance_owner THEN ({_EVERYWHERE})
            ELSE ({_GRANTS}) END AS grants
FROM api_tokens t
LEFT JOIN workspaces w ON w.id = t.workspace_id
LEFT JOIN users u ON u.id = t.user_id
WHERE t.token_sha256 = :sha AND t.revoked_at IS NULL
  AND (t.expires_at IS NULL OR t.expires_at > now())
"""
)


class TokenRow:
    """A live token as :func:`token_row` reads it."""

    __slots__ = (
        "disabled",
        "email",
        "grants",
        "id",
        "instance_owner",
        "name",
        "pii_read",
        "role",
        "user_id",
        "workspace",
    )

    def __init__(self, row: Any) -> None:
        self.id: int = row.id
        self.name: str = row.name
        self.user_id: int | None = row.user_id
        self.role = Role(row.role)
        self.pii_read: bool = row.pii_read
        self.workspace: str | None = row.workspace
        self.email: str | None = row.email
        self.instance_owner: bool = bool(row.instance_owner)
        self.disabled: bool = bool(row.disabled)
        self.grants = grants_of(row.grants)


def grants_of(rows: Any) -> dict[str, Grant]:
    """``[[slug, role, pii_read], ...]`` (as the queries aggregate them) by slug."""
    return {slug: Grant(Role(role), pii_read) for slug, role, pii_read in rows}


async def token_row(connection: Transaction, token_sha256: str) -> TokenRow | None:
    """The token with this hash, unless it is revoked or expired."""
    row = (await connection.execute(_TOKEN, {"sha": token_sha256})).first()
    return None if row is None else TokenRow(row)


async def user_grants(connection: Transaction, user_id: int) -> dict[str, Grant]:
    rows = await connection.scalar(
        text(f"SELECT ({_GRANTS}) FROM users u WHERE u.id = :user_id"), {"user_id": user_id}
    )
    return grants_of(rows or [])


_SESSION = text(
    f"""
SELECT s.id, s.csrf_sha256, u.id AS user_id, u.email, u.instance_owner, ({_GRANTS}) AS grants
FROM sessions s JOIN users u ON u.id = s.user_id
WHERE s.token_sha256 = :sha AND s.revoked_at IS NULL AND s.expires_at > now()
  AND u.disabled_at IS NULL
"""
)


class SessionRow:
    """A live session of an enabled user, as :func:`session_row` reads it."""

    __slots__ = ("csrf_sha256", "email", "grants", "id", "instance_owner", "user_id")

    def __init__(self, row: Any) -> None:
        self.id: int = row.id
        self.csrf_sha256: str = row.csrf_sha256
        self.user_id: int = row.user_id
        self.email: str | None = row.email
        self.instance_owner: bool = bool(row.instance_owner)
        self.grants = grants_of(row.grants)


async def session_row(connection: Transaction, token_sha256: str) -> SessionRow | None:
    """The session with this hash, unless it is revoked or expired or its user disabled."""
    row = (await connection.execute(_SESSION, {"sha": token_sha256})).first()
    return None if row is None else SessionRow(row)


async def workspace_id(connection: Transaction, slug: str) -> int | None:
    """The id of the workspace ``slug`` (resolved here, beside the token it scopes)."""
    found = await connection.scalar(
        text("SELECT id FROM workspaces WHERE slug = :slug"), {"slug": slug}
    )
    return None if found is None else int(found)


class ListedToken:
    """An API token as the token routes show it: never its secret nor its hash."""

    __slots__ = (
        "created_at",
        "email",
        "expired",
        "expires_at",
        "id",
        "name",
        "pii_read",
        "revoked_at",
        "role",
        "user_id",
        "workspace",
    )

    def __init__(self, row: Any) -> None:
        self.id: int = row.id
        self.name: str = row.name
        self.user_id: int | None = row.user_id
        self.email: str | None = row.email
        self.workspace: str | None = row.workspace
        self.role = Role(row.role)
        self.pii_read: bool = row.pii_read
        self.created_at: datetime = row.created_at
        self.expires_at: datetime | None = row.expires_at
        self.revoked_at: datetime | None = row.revoked_at
        self.expired: bool = bool(row.expired)


_LISTED = """
SELECT t.id, t.name, t.user_id, u.email, w.slug AS workspace, t.role, t.pii_read,
       t.created_at, t.expires_at, t.revoked_at,
       coalesce(t.expires_at <= now(), false) AS expired
FROM api_tokens t
LEFT JOIN workspaces w ON w.id = t.workspace_id
LEFT JOIN users u ON u.id = t.user_id
"""


async def listed_tokens(
    connection: Transaction,
    *,
    workspace: str | None = None,
    user_id: int | None = None,
    token_id: int | None = None,
    own_token_id: int | None = None,
) -> list[ListedToken]:
    """Tokens, newest first: those of ``workspace`` (when given), that are ``token_id`` (when
    given), and, when ``user_id`` or ``own_token_id`` is given, only those of that user or
    that are that token (a service account's own)."""
    clauses = ["true"]
    if workspace is not None:
        clauses.append("w.slug = :workspace")
    if token_id is not None:
        clauses.append("t.id = :token_id")
    if user_id is not None or own_token_id is not None:
        clauses.append("(t.user_id = :user_id OR t.id = :own_token_id)")
    statement = text(f"{_LISTED} WHERE {' AND '.join(clauses)} ORDER BY t.id DESC")
    given = {
        "workspace": workspace,
        "token_id": token_id,
        "user_id": user_id,
        "own_token_id": own_token_id,
    }
    rows = await connection.execute(
        statement, {name: value for name, value in given.items() if f":{name}" in statement.text}
    )
    return [ListedToken(row) for row in rows]


async def revoke_token(connection: Transaction, token_id: int) -> None:
    """Revoke the token now (a revoked one keeps its first revocation time)."""
    await connection.execute(
        text("UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE id = :token_id"),
        {"token_id": token_id},
    )


# The audit trail (append-only: migration 0009's triggers refuse UPDATE, DELETE and TRUNCATE).

_INSERT_AUDIT = text(
    """
INSERT INTO audit_log (at, workspace_id, actor_kind, actor_user_id, actor_label, token_id,
                       session_id, action, resource, before, after, ip)
VALUES (now(), (SELECT id FROM workspaces WHERE slug = :workspace), :actor_kind,
        :actor_user_id, :actor_label, :token_id, :session_id, :action, :resource,
        CAST(:before AS jsonb), CAST(:after AS jsonb), :ip)
RETURNING id
"""
)


async def insert_audit(connection: Transaction, entry: dict[str, Any]) -> int:
    """Append one entry: ``entry`` has every parameter of the statement above (``workspace``
    a slug or None, ``before``/``after`` JSON text or None)."""
    return int(await connection.scalar(_INSERT_AUDIT, entry))


class AuditFilter:
    """Which entries a reader wants: one workspace's (a slug) or the instance's (None), by
    actor (an email or label, case-insensitive, or a user id), action, resource (exact, or
    every resource of a kind: ``source`` matches ``source:12``) and time (``since`` included,
    ``until`` excluded)."""

    __slots__ = ("action", "actor", "resource", "since", "until", "workspace")

    def __init__(
        self,
        *,
        workspace: str | None,
        actor: str | None = None,
        action: str | None = None,
        resource: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> None:
        self.workspace = workspace
        self.actor = actor
        self.action = action
        self.resource = resource
        self.since = since
        self.until = until


_AUDIT_COLUMNS = """
a.id, a.at, w.slug AS workspace, a.actor_kind, a.actor_user_id, a.actor_label, a.token_id,
a.session_id, a.action, a.resource, a.before, a.after, a.ip
"""


async def audit_rows(
    connection: Transaction, found: AuditFilter, *, before: int | None, limit: int
) -> list[Any]:
    """Entries matching ``found``, newest first, with ids below ``before`` (a keyset cursor)."""
    where = ["a.workspace_id IS NULL" if found.workspace is None else "w.slug = :workspace"]
    values: dict[str, Any] = {"workspace": found.workspace, "limit": limit}
    if found.actor is not None:
        if found.actor.isascii() and found.actor.isdigit():
            where.append("a.actor_user_id = :actor_id")
            values["actor_id"] = int(found.actor) if len(found.actor) < 10 else -1
        else:
            where.append("lower(a.actor_label) = lower(:actor)")
            values["actor"] = found.actor
    if found.action is not None:
        where.append("a.action = :action")
        values["action"] = found.action
    if found.resource is not None:
        if ":" in found.resource:
            where.append("a.resource = :resource")
        else:
            where.append("(a.resource = :resource OR starts_with(a.resource, :resource || ':'))")
        values["resource"] = found.resource
    for name, condition in (("since", "a.at >= :since"), ("until", "a.at < :until")):
        if getattr(found, name) is not None:
            where.append(condition)
            values[name] = getattr(found, name)
    if before is not None:
        where.append("a.id < :before")
        values["before"] = before
    statement = text(
        f"SELECT {_AUDIT_COLUMNS} FROM audit_log a LEFT JOIN workspaces w ON w.id = a.workspace_id"
        f" WHERE {' AND '.join(where)} ORDER BY a.id DESC LIMIT :limit"
    )
    return list((await connection.execute(statement, values)).all())
