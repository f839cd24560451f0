"""Who a request acts as: the first owner, and the principal behind an API token. Each
function owns its transaction.

>>> first = await bootstrap_owner(engine, admin_token=None, email=None, password=None)
>>> principal = await authenticate_token(engine, first.admin_token, configured=None)
>>> principal.instance_owner
True
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater.access import passwords, people, store
from headwater.access.credentials import digest, new_secret, same
from headwater.access.model import Grant, Principal, Role
from headwater.errors import Forbidden
from headwater.storage import connected, transaction

__all__ = ["FirstOwner", "authenticate_session", "authenticate_token", "bootstrap_owner"]

_SETUP_DAYS = 7


class FirstOwner(msgspec.Struct, frozen=True, kw_only=True):
    """What the first start created for the first owner: shown once."""

    user_id: int
    email: str | None
    admin_token: str | None
    """The owner's generated API token, or None when ``HEADWATER_ADMIN_TOKEN`` is set."""
    setup_token: str | None
    """A one-time link's secret, to give the owner an email and password (None when
    ``HEADWATER_OWNER_EMAIL`` and ``HEADWATER_OWNER_PASSWORD`` did)."""


async def bootstrap_owner(
    engine: AsyncEngine,
    *,
    admin_token: str | None,
    email: str | None,
    password: str | None,
) -> FirstOwner | None:
    """When no instance owner exists, create the first one (from ``email`` and ``password``
    when both are given, else with a set-up link) and, unless ``admin_token`` is configured,
    an API token of theirs valid in every workspace."""
    async with transaction(engine) as connection:
        await connection.connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7210009)")
        if await store.first_owner(connection) is not None:
            return None
        complete = email is not None and password is not None
        user_id = await store.insert_user(
            connection,
            email=people.check_email(email) if complete and email else None,
            password_hash=passwords.hash_password(password) if complete and password else None,
            instance_owner=True,
        )
        token = None if admin_token else new_secret("hw_")
        if token:
            await store.insert_token(
                connection,
                token_sha256=digest(token),
                name="admin token",
                role=Role.OWNER,
                pii_read=True,
                user_id=user_id,
            )
        setup = None
        if not complete:
            setup = new_secret("hwl_")
            await store.insert_link(
                connection,
                token_sha256=digest(setup),
                user_id=user_id,
                purpose="setup",
                expires_at=datetime.now(UTC) + timedelta(days=_SETUP_DAYS),
            )
        return FirstOwner(
            user_id=user_id,
            email=email if complete else None,
            admin_token=token,
            setup_token=setup,
        )


async def authenticate_token(
    engine: AsyncEngine, token: str, *, configured: str | None
) -> Principal | None:
    """The principal ``token`` acts as, or None when it is unknown, revoked or expired, or its
    user is disabled. ``configured`` (``HEADWATER_ADMIN_TOKEN``) is the first owner's."""
    async with connected(engine) as connection:
        if configured is not None and same(token, configured):
            owner = await store.first_owner(connection)
            if owner is None:
                return None
            user_id, email = owner
            return Principal.user(user_id, email or "first owner", instance_owner=True)
        row = await store.token_row(connection, digest(token))
    if row is None or row.disabled:
        return None
    if row.user_id is None:
        assert row.workspace is not None  # api_tokens_owner_check
        return Principal(
            "service_account",
            row.name,
            token_id=row.id,
            grants={row.workspace: Grant(row.role, row.pii_read)},
        )
    label = row.email or "first owner"
    if row.workspace is not None:
        held = row.grants.get(row.workspace)
        scoped = {} if held is None else {row.workspace: held.narrowed(row.role, row.pii_read)}
        return Principal.user(row.user_id, label, grants=scoped, token_id=row.id)
    return Principal.user(
        row.user_id,
        label,
        grants={slug: grant.narrowed(row.role, row.pii_read) for slug, grant in row.grants.items()},
        instance_owner=row.instance_owner and row.role is Role.OWNER and row.pii_read,
        token_id=row.id,
    )


async def authenticate_session(
    engine: AsyncEngine, session: str, *, csrf: str | None
) -> Principal | None:
    """The user a web session cookie signs in, or None when it is unknown, revoked or expired.
    ``csrf`` is the request's ``X-CSRF-Token`` for an unsafe method (None for a safe one): a
    session request that changes something must carry its session's CSRF token, else 403
    ``csrf_failed`` (a page of another site can make the browser send the cookie, but cannot
    read the token)."""
    async with connected(engine) as connection:
        row = await store.session_row(connection, digest(session))
    if row is None:
        return None
    if csrf is not None and not same(digest(csrf), row.csrf_sha256):
        raise Forbidden("csrf_failed", "send the session's CSRF token as X-CSRF-Token")
    return Principal.user(
        row.user_id,
        row.email or "first owner",
        grants=row.grants,
        instance_owner=row.instance_owner,
        session_id=row.id,
    )
