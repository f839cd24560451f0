"""Web sessions: signing in with an email and password (rate limited), signing out, changing
one's password, and using a one-time link (set-up or invitation). Each function owns its
transaction; argon2 runs in a thread, outside any transaction.

>>> opened = await sign_in(engine, email="ana@example.com", password="...", client=Client(ip))
>>> opened.token        # the session cookie's value: shown to the browser once, stored hashed
'hws_...'

A session token and its CSRF token are 256-bit secrets stored as SHA-256 hashes; the session
ends ``hours`` after it starts, on sign-out, on a password change, or when its user is
disabled.
"""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater import workspaces
from headwater.access import passwords, people, people_store
from headwater.access.credentials import digest, new_secret
from headwater.access.model import Permission, Principal
from headwater.access.views import HeldView, MembershipView, MeView, UserView
from headwater.errors import BadRequest, Conflict, TooManyRequests, Unauthorized
from headwater.storage import Transaction, connected, transaction

__all__ = [
    "Client",
    "Limits",
    "NewSession",
    "accept_link",
    "change_password",
    "sign_in",
    "sign_out",
    "user_view",
    "whoami",
]

IP_FACTOR = 10
"""An IP address may fail this many times more often than one email."""


class Client(msgspec.Struct, frozen=True):
    """Where a request comes from, as the session records it."""

    ip: str | None = None
    user_agent: str | None = None


class Limits(msgspec.Struct, frozen=True, kw_only=True):
    """How long a session lasts and how many failed sign-ins are allowed (settings)."""

    session_hours: float = 12.0
    attempts: int = 5
    window: timedelta = timedelta(minutes=15)


class NewSession(msgspec.Struct, frozen=True, kw_only=True):
    """A session just opened: its two secrets are handed to the browser once."""

    id: int
    token: str
    csrf_token: str
    expires_at: datetime
    user: UserView


def user_view(row: Any) -> UserView:
    """A :func:`people_store.list_users` row as the API answers it."""
    workspaces: list[MembershipView] = [
        {"workspace": m["workspace"], "role": m["role"], "pii_read": m["pii_read"]}
        for m in row.workspaces
    ]
    return {
        "id": row.id,
        "email": row.email,
        "instance_owner": row.instance_owner,
        "disabled": row.disabled,
        "created_at": row.created_at,
        "workspaces": workspaces,
    }


async def _open(
    connection: Transaction, user_id: int, client: Client, limits: Limits
) -> NewSession:
    token, csrf = new_secret("hws_"), new_secret("hwc_")
    expires_at = datetime.now(UTC) + timedelta(hours=limits.session_hours)
    session_id = await people_store.insert_session(
        connection,
        token_sha256=digest(token),
        csrf_sha256=digest(csrf),
        user_id=user_id,
        ip=client.ip,
        user_agent=client.user_agent,
        expires_at=expires_at,
    )
    (row,) = await people_store.list_users(connection, user_id)
    return NewSession(
        id=session_id, token=token, csrf_token=csrf, expires_at=expires_at, user=user_view(row)
    )


async def _retry_after(
    connection: Transaction, email_sha256: str, ip: str | None, limits: Limits
) -> int | None:
    """Seconds until another attempt may be made, or None when one may be made now."""
    waits = []
    nth = await people_store.latest_failure(
        connection, email_sha256=email_sha256, window=limits.window, nth=limits.attempts
    )
    if nth is not None:
        waits.append(nth)
    if ip is not None:
        nth = await people_store.latest_failure(
            connection, ip=ip, window=limits.window, nth=limits.attempts * IP_FACTOR
        )
        if nth is not None:
            waits.append(nth)
    if not waits:
        return None
    until = max(waits) + limits.window
    return max(1, math.ceil((until - datetime.now(UTC)).total_seconds()))


async def sign_in(
    engine: AsyncEngine, *, email: str, password: str, client: Client, limits: Limits
) -> NewSession:
    """Open a session for the enabled person with this email and password.

    Every attempt is recorded (the email only as a hash). After ``limits.attempts`` failures
    of one email (since its last success) or ten times as many from one IP address within
    ``limits.window``, 429 ``too_many_attempts`` with ``retry_after`` (seconds), before the
    password is looked at; such refused attempts count as failures. An unknown email, a
    disabled person, one without a password yet and a wrong password all answer the same
    401 ``invalid_credentials``, after the same argon2 work.
    """
    email_sha256 = digest(email.strip().lower())
    async with connected(engine) as connection:
        wait = await _retry_after(connection, email_sha256, client.ip, limits)
        user = None if wait else await people_store.user_by_email(connection, email.strip())
    if wait is not None:
        async with transaction(engine) as connection:
            await people_store.record_attempt(
                connection, email_sha256=email_sha256, ip=client.ip, succeeded=False
            )
        raise TooManyRequests(
            "too_many_attempts",
            f"too many failed sign-ins; try again in {wait} seconds",
            retry_after=wait,
        )
    stored = None if user is None or user.disabled else user.password_hash
    valid = await asyncio.to_thread(passwords.verify_password, stored, password)
    async with transaction(engine) as connection:
        await people_store.record_attempt(
            connection, email_sha256=email_sha256, ip=client.ip, succeeded=valid
        )
        if valid and user is not None:
            return await _open(connection, user.id, client, limits)
    raise Unauthorized("invalid_credentials", "wrong email or password")


async def sign_out(engine: AsyncEngine, session_id: int) -> None:
    """End the session (again: nothing)."""
    async with transaction(engine) as connection:
        await people_store.revoke_session(connection, session_id)


async def change_password(
    engine: AsyncEngine,
    *,
    user_id: int,
    current: str,
    new: str,
    reopen: Client | None,
    limits: Limits,
) -> NewSession | None:
    """Set the user's password to ``new`` once ``current`` is theirs (else 400
    ``wrong_password``; ``new`` too weak: 400 ``weak_password``) and end all their sessions;
    with ``reopen`` (the request came by session), open a fresh one for the caller.

    A wrong ``current`` counts as a failed sign-in of the person's email, so a stolen session
    or token cannot guess the password faster than the sign-in page: past the limit, 429
    ``too_many_attempts`` before the password is looked at (see :func:`sign_in`)."""
    passwords.check_password(new)
    async with connected(engine) as connection:
        user = await people_store.user_by_id(connection, user_id)
        email = user.email if user is not None else None
        email_sha256 = digest(email.strip().lower()) if email else None
        wait = await _retry_after(connection, email_sha256, None, limits) if email_sha256 else None
    if wait is not None:
        raise TooManyRequests(
            "too_many_attempts",
            f"too many wrong passwords; try again in {wait} seconds",
            retry_after=wait,
        )
    stored = None if user is None else user.password_hash
    valid = await asyncio.to_thread(passwords.verify_password, stored, current)
    if email_sha256 is not None:
        async with transaction(engine) as connection:
            await people_store.record_attempt(
                connection, email_sha256=email_sha256, ip=None, succeeded=valid
            )
    if not valid:
        raise BadRequest("wrong_password", "the current password is not right")
    hashed = await asyncio.to_thread(passwords.hash_password, new)
    async with transaction(engine) as connection:
        await people_store.set_password(connection, user_id, hashed)
        await people_store.revoke_user_sessions(connection, user_id)
        return None if reopen is None else await _open(connection, user_id, reopen, limits)


_INVALID_LINK = "the link is unknown, used or expired; ask for a new one"


async def accept_link(
    engine: AsyncEngine,
    *,
    token: str,
    password: str,
    email: str | None,
    client: Client,
    limits: Limits,
) -> NewSession:
    """Use a one-time link: set the password (and, for the first owner's set-up link, the
    email, required then: 400 ``email_required``; another person's: 409 ``email_taken``),
    mark the link used and open a session. An unknown, used or expired link, or one whose
    person is disabled: 400 ``invalid_link``. An invitation's email is the invited one
    (``email`` is ignored)."""
    hashed = await asyncio.to_thread(passwords.hash_password, password)
    async with transaction(engine) as connection:
        link = await people_store.link_row(connection, digest(token))
        user = None if link is None else await people_store.user_by_id(connection, link[1])
        if link is None or user is None or user.disabled:
            raise BadRequest("invalid_link", _INVALID_LINK)
        link_id, user_id, purpose = link
        if purpose == "setup":
            if email is None:
                raise BadRequest("email_required", "the first owner's set-up needs an email")
            chosen = people.check_email(email)
            holder = await people_store.user_by_email(connection, chosen)
            if holder is not None and holder.id != user_id:
                raise Conflict("email_taken", "another person has this email")
            await people_store.set_email(connection, user_id, chosen)
        await people_store.set_password(connection, user_id, hashed)
        await people_store.use_link(connection, link_id)
        return await _open(connection, user_id, client, limits)


async def whoami(engine: AsyncEngine, principal: Principal) -> MeView:
    """Who ``principal`` is: a person (their email from the database) or a service account,
    the roles it acts with (an instance owner: owner with ``pii:read`` in every workspace; a
    token: narrowed to the token's role) and how it signed in."""
    email = None
    if principal.user_id is not None:
        async with connected(engine) as connection:
            user = await people_store.user_by_id(connection, principal.user_id)
        email = None if user is None else user.email
    if principal.instance_owner:
        slugs = [found.slug for found in await workspaces.list_workspaces(engine)]
    else:
        slugs = sorted(principal.grants)
    held: list[HeldView] = []
    for slug in slugs:
        grant = principal.grant(slug)
        if grant is not None:
            allowed = sorted(p.value for p in Permission if grant.allows(p))
            held.append(
                {
                    "workspace": slug,
                    "role": grant.role.value,
                    "pii_read": grant.pii_read,
                    "permissions": allowed,
                }
            )
    return {
        "kind": principal.kind,
        "id": principal.user_id,
        "email": email,
        "label": principal.label,
        "instance_owner": principal.instance_owner,
        "workspaces": held,
        "via": "session" if principal.session_id is not None else "token",
        "token_id": principal.token_id,
        "session_id": principal.session_id,
    }
