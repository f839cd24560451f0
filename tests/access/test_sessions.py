"""Signing in, rate limits, one-time links and password changes, on a real database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from headwater import access
from headwater.access import Client, Limits
from headwater.errors import ApiError, BadRequest, TooManyRequests, Unauthorized

PASSWORD = "correct horse battery"
LIMITS = Limits(session_hours=1, attempts=3, window=timedelta(minutes=15))
HERE = Client("192.0.2.1", "pytest")


async def _person(engine: AsyncEngine, email: str, password: str | None = PASSWORD) -> int:
    created = await access.create_user(engine, email=email, password=password, instance_owner=False)
    return int(created.view["id"])


async def _refusal(engine: AsyncEngine, email: str, password: str) -> ApiError:
    with pytest.raises(ApiError) as refused:
        await access.sign_in(engine, email=email, password=password, client=HERE, limits=LIMITS)
    return refused.value


async def test_an_unknown_email_and_a_wrong_password_answer_alike(engine: AsyncEngine) -> None:
    await _person(engine, "ana@example.com")
    unknown = await _refusal(engine, "nobody@example.com", PASSWORD)
    wrong = await _refusal(engine, "ana@example.com", "not the password")
    assert isinstance(unknown, Unauthorized)
    assert isinstance(wrong, Unauthorized)
    assert unknown.body() == wrong.body()
    assert unknown.code == "invalid_credentials"

    opened = await access.sign_in(
        engine, email="ANA@example.com ", password=PASSWORD, client=HERE, limits=LIMITS
    )
    assert opened.token.startswith("hws_")
    principal = await access.authenticate_session(engine, opened.token, csrf=None)
    assert principal is not None
    assert principal.user_id == opened.user["id"]
    assert principal.session_id == opened.id
    async with engine.connect() as connection:
        stored = (
            await connection.execute(text("SELECT token_sha256, csrf_sha256 FROM sessions"))
        ).one()
        emails = (await connection.execute(text("SELECT email_sha256 FROM login_attempts"))).all()
    assert opened.token not in stored
    assert opened.csrf_token not in stored
    assert all("@" not in row.email_sha256 for row in emails)


async def test_failures_limit_an_email_even_with_the_right_password(engine: AsyncEngine) -> None:
    await _person(engine, "bo@example.com")
    for _ in range(LIMITS.attempts):
        assert isinstance(await _refusal(engine, "bo@example.com", "wrong"), Unauthorized)
    limited = await _refusal(engine, "bo@example.com", PASSWORD)
    assert isinstance(limited, TooManyRequests)
    assert limited.code == "too_many_attempts"
    assert 0 < limited.details["retry_after"] <= LIMITS.window.total_seconds()
    # An unknown email is limited the same way.
    for _ in range(LIMITS.attempts):
        await _refusal(engine, "ghost@example.com", "wrong")
    ghost = await _refusal(engine, "ghost@example.com", "wrong")
    assert isinstance(ghost, TooManyRequests)
    assert set(ghost.body()) == set(limited.body())
    # Once the failures are older than the window, the right password works again.
    async with engine.begin() as connection:
        await connection.execute(text("UPDATE login_attempts SET at = at - interval '1 hour'"))
    await access.sign_in(
        engine, email="bo@example.com", password=PASSWORD, client=HERE, limits=LIMITS
    )


async def test_an_address_is_limited_across_emails(engine: AsyncEngine) -> None:
    limits = Limits(attempts=1, window=timedelta(minutes=5))
    for n in range(10):  # ten times the per-email limit, each email failing once
        with pytest.raises(Unauthorized):
            await access.sign_in(
                engine, email=f"p{n}@example.com", password="x", client=HERE, limits=limits
            )
    with pytest.raises(TooManyRequests):
        await access.sign_in(
            engine, email="fresh@example.com", password="x", client=HERE, limits=limits
        )
    with pytest.raises(Unauthorized):  # another address is not limited
        await access.sign_in(
            engine,
            email="other@example.com",
            password="x",
            client=Client("192.0.2.2"),
            limits=limits,
        )


async def test_the_set_up_link_sets_email_and_password_once(engine: AsyncEngine) -> None:
    first = await access.bootstrap_owner(engine, admin_token=None, email=None, password=None)
    assert first is not None
    assert first.setup_token is not None
    token = first.setup_token

    with pytest.raises(BadRequest) as missing:
        await access.accept_link(
            engine, token=token, password=PASSWORD, email=None, client=HERE, limits=LIMITS
        )
    assert missing.value.code == "email_required"
    opened = await access.accept_link(
        engine,
        token=token,
        password=PASSWORD,
        email="owner@example.com",
        client=HERE,
        limits=LIMITS,
    )
    assert opened.user["email"] == "owner@example.com"
    assert opened.user["instance_owner"]

    refusals = []
    for link in (token, "hwl_unknown"):
        with pytest.raises(BadRequest) as refused:
            await access.accept_link(
                engine,
                token=link,
                password=PASSWORD,
                email="x@example.com",
                client=HERE,
                limits=LIMITS,
            )
        refusals.append(refused.value.body())
    assert refusals[0] == refusals[1]
    assert refusals[0]["code"] == "invalid_link"
    await access.sign_in(
        engine, email="owner@example.com", password=PASSWORD, client=HERE, limits=LIMITS
    )


async def test_an_expired_invitation_is_refused(engine: AsyncEngine) -> None:
    created = await access.create_user(
        engine, email="late@example.com", password=None, instance_owner=False
    )
    assert created.invite_token is not None
    async with engine.begin() as connection:
        await connection.execute(text("UPDATE one_time_links SET expires_at = now()"))
    with pytest.raises(BadRequest) as refused:
        await access.accept_link(
            engine,
            token=created.invite_token,
            password=PASSWORD,
            email=None,
            client=HERE,
            limits=LIMITS,
        )
    assert refused.value.code == "invalid_link"


async def test_a_password_change_ends_every_session(engine: AsyncEngine) -> None:
    user_id = await _person(engine, "cy@example.com")
    sessions = [
        await access.sign_in(
            engine, email="cy@example.com", password=PASSWORD, client=HERE, limits=LIMITS
        )
        for _ in range(2)
    ]
    with pytest.raises(BadRequest) as wrong:
        await access.change_password(
            engine,
            user_id=user_id,
            current="wrong",
            new="another good one",
            reopen=HERE,
            limits=LIMITS,
        )
    assert wrong.value.code == "wrong_password"
    fresh = await access.change_password(
        engine,
        user_id=user_id,
        current=PASSWORD,
        new="another good one",
        reopen=HERE,
        limits=LIMITS,
    )
    assert fresh is not None
    for old in sessions:
        assert await access.authenticate_session(engine, old.token, csrf=None) is None
    assert await access.authenticate_session(engine, fresh.token, csrf=None) is not None
    assert isinstance(await _refusal(engine, "cy@example.com", PASSWORD), Unauthorized)


async def test_an_expired_or_ended_session_signs_nobody_in(engine: AsyncEngine) -> None:
    await _person(engine, "di@example.com")
    opened = await access.sign_in(
        engine, email="di@example.com", password=PASSWORD, client=HERE, limits=LIMITS
    )
    ended = await access.sign_in(
        engine, email="di@example.com", password=PASSWORD, client=HERE, limits=LIMITS
    )
    await access.sign_out(engine, ended.id)
    assert await access.authenticate_session(engine, ended.token, csrf=None) is None
    assert await access.authenticate_session(engine, opened.token, csrf=None) is not None
    async with engine.begin() as connection:
        await connection.execute(
            text("UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = :id"),
            {"id": opened.id},
        )
    assert await access.authenticate_session(engine, opened.token, csrf=None) is None


async def test_wrong_current_passwords_are_throttled_like_sign_ins(engine: AsyncEngine) -> None:
    """A stolen session must not guess its person's password faster than the sign-in page."""
    user_id = await _person(engine, "ed@example.com")

    async def change(current: str) -> object:
        return await access.change_password(
            engine,
            user_id=user_id,
            current=current,
            new="another good one",
            reopen=None,
            limits=LIMITS,
        )

    for _ in range(LIMITS.attempts):
        with pytest.raises(BadRequest):
            await change("wrong")
    with pytest.raises(TooManyRequests) as throttled:
        await change(PASSWORD)  # even the right one, until the window has passed
    assert throttled.value.code == "too_many_attempts"
    # They count as failed sign-ins of the email: the sign-in page is throttled too.
    assert isinstance(await _refusal(engine, "ed@example.com", PASSWORD), TooManyRequests)
