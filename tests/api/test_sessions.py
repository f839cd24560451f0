"""Web sessions through the API: sign-in and its cookies, CSRF, sign-out, expiry, password
changes, the sign-in rate limit, one-time links, and the first owner from the environment."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from headwater.storage import create_engine
from tests.api.conftest import Api, unique
from tests.api.people import PASSWORD, attributes, login, person, session, set_cookies
from tests.conftest import scratch_database
from tests.server import start_server

SESSION, CSRF = "headwater_session", "headwater_csrf"


def test_sign_in_sets_the_cookies_and_answers_the_user(api: Api) -> None:
    workspace = api.workspace()
    email = f"{unique('in')}@example.com"
    api.ok(
        "POST",
        f"/api/v1/workspaces/{workspace}/members",
        201,
        json={"email": email, "role": "marketer", "pii_read": True, "password": PASSWORD},
    )
    response = login(api.server.url, email.upper())
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["user"]["email"] == email
    assert body["user"]["instance_owner"] is False
    assert body["user"]["workspaces"] == [
        {"workspace": workspace, "role": "marketer", "pii_read": True}
    ]
    assert body["expires_at"].endswith("Z")
    cookies = set_cookies(response)
    assert attributes(cookies[SESSION]) >= {"httponly", "samesite=lax", "path"}
    assert "path=/" in cookies[SESSION].lower()
    assert "httponly" not in attributes(cookies[CSRF])
    assert "samesite=lax" in attributes(cookies[CSRF])
    assert "secure" not in attributes(cookies[SESSION]) | attributes(cookies[CSRF])
    assert response.cookies[CSRF] == body["csrf_token"]
    assert response.cookies[SESSION].startswith("hws_")
    assert response.cookies[SESSION] not in response.text

    me = httpx.get(
        f"{api.server.url}/api/v1/me", cookies={SESSION: response.cookies[SESSION]}, timeout=30
    ).json()
    assert (me["kind"], me["email"], me["via"]) == ("user", email, "session")
    held = [{k: v for k, v in m.items() if k != "permissions"} for m in me["workspaces"]]
    assert held == body["user"]["workspaces"]
    assert all("workspace:read" in m["permissions"] for m in me["workspaces"])


def test_an_unknown_email_answers_as_a_wrong_password(api: Api) -> None:
    known = person(api)["email"]
    wrong = login(api.server.url, known, "not the password")
    unknown = login(api.server.url, f"{unique('nobody')}@example.com")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["code"] == "invalid_credentials"
    assert "set-cookie" not in wrong.headers


def test_an_unsafe_session_request_needs_the_csrf_token(api: Api) -> None:
    email = person(api, instance_owner=True)["email"]
    with session(api.server.url, email) as client:
        token = client.headers.pop("X-CSRF-Token")
        for headers in ({}, {"X-CSRF-Token": "wrong"}, {"X-CSRF-Token": ""}):
            response = client.post(
                "/api/v1/workspaces", json={"slug": unique("ws")}, headers=headers
            )
            assert response.status_code == 403, response.text
            assert response.json()["code"] == "csrf_failed"
        assert client.get("/api/v1/workspaces").status_code == 200  # a read needs none
        slug = unique("ws")
        created = client.post(
            "/api/v1/workspaces", json={"slug": slug}, headers={"X-CSRF-Token": token}
        )
        assert created.status_code == 201, created.text
    assert slug in {w["slug"] for w in api.ok("GET", "/api/v1/workspaces")}


def test_sign_out_ends_the_session(api: Api) -> None:
    email = person(api)["email"]
    with session(api.server.url, email) as client, session(api.server.url, email) as other:
        cookie = client.cookies[SESSION]
        refused = client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": "wrong"})
        assert refused.status_code == 403
        response = client.post("/api/v1/auth/logout")
        assert response.status_code == 204, response.text
        assert set(set_cookies(response)) == {SESSION, CSRF}
        assert "max-age=0" in set_cookies(response)[SESSION].lower()
        ended = httpx.get(f"{api.server.url}/api/v1/me", cookies={SESSION: cookie}, timeout=30)
        assert ended.status_code == 401
        assert ended.json()["code"] == "session_expired"
        assert other.get("/api/v1/me").status_code == 200  # another session goes on


async def test_an_expired_session_signs_nobody_in(api: Api, shared_database_url: str) -> None:
    email = person(api)["email"]
    with session(api.server.url, email) as client:
        assert client.get("/api/v1/me").status_code == 200
        session_id = client.get("/api/v1/me").json()["session_id"]
        engine = create_engine(shared_database_url, pool_size=1)
        try:
            async with engine.begin() as connection:
                await connection.execute(
                    text("UPDATE sessions SET expires_at = now() WHERE id = :id"),
                    {"id": session_id},
                )
        finally:
            await engine.dispose()
        response = client.get("/api/v1/me")
        assert response.status_code == 401
        assert response.json()["code"] == "session_expired"


def test_a_password_change_ends_the_other_sessions(api: Api) -> None:
    email = person(api)["email"]
    new = "a brand new passphrase"
    with session(api.server.url, email) as mine, session(api.server.url, email) as other:
        old_cookie = mine.cookies[SESSION]
        wrong = mine.put(
            "/api/v1/me/password",
            json={"current_password": "wrong", "new_password": new},
        )
        assert wrong.status_code == 400
        assert wrong.json()["code"] == "wrong_password"
        weak = mine.put(
            "/api/v1/me/password", json={"current_password": PASSWORD, "new_password": "short"}
        )
        assert weak.status_code == 400
        assert weak.json()["code"] == "weak_password"
        changed = mine.put(
            "/api/v1/me/password", json={"current_password": PASSWORD, "new_password": new}
        )
        assert changed.status_code == 200, changed.text
        assert mine.cookies[SESSION] != old_cookie
        mine.headers["X-CSRF-Token"] = changed.json()["csrf_token"]
        assert mine.get("/api/v1/me").json()["email"] == email
        assert mine.post("/api/v1/auth/logout").status_code == 204  # the new CSRF token works
        assert other.get("/api/v1/me").status_code == 401
    assert login(api.server.url, email).status_code == 401
    assert login(api.server.url, email, new).status_code == 200


def test_failed_sign_ins_are_limited(api: Api) -> None:
    email = person(api)["email"]
    for _ in range(5):  # HEADWATER_LOGIN_ATTEMPTS' default
        assert login(api.server.url, email, "wrong").status_code == 401
    limited = login(api.server.url, email)  # the right password, refused all the same
    assert limited.status_code == 429, limited.text
    body = limited.json()
    assert body["code"] == "too_many_attempts"
    assert 0 < body["retry_after"] <= 15 * 60
    assert int(limited.headers["retry-after"]) == body["retry_after"]
    assert "set-cookie" not in limited.headers
    # Another email from the same address is not limited (ten times as many failures are).
    assert login(api.server.url, person(api)["email"]).status_code == 200


def test_an_invitation_is_used_once(api: Api) -> None:
    created = api.ok("POST", "/api/v1/users", 201, json={"email": f"{unique('inv')}@example.com"})
    link = created["invite_link"]
    assert link.startswith(f"{api.server.url}/setup#hwl_")
    token = link.split("#", 1)[1]
    assert token not in str(api.ok("GET", "/api/v1/users"))
    accept = {"token": token, "password": PASSWORD}
    first = httpx.post(f"{api.server.url}/api/v1/auth/accept", json=accept, timeout=30)
    assert first.status_code == 200, first.text
    assert first.json()["user"]["email"] == created["email"]
    assert set(set_cookies(first)) == {SESSION, CSRF}
    responses = [
        httpx.post(f"{api.server.url}/api/v1/auth/accept", json=body, timeout=30)
        for body in (accept, {**accept, "token": "hwl_unknown"})
    ]
    assert [r.status_code for r in responses] == [400, 400]
    assert responses[0].json() == responses[1].json()
    assert responses[0].json()["code"] == "invalid_link"
    assert login(api.server.url, created["email"]).status_code == 200


@pytest.fixture(scope="module")
async def owner_database_url(postgres_url: str) -> AsyncIterator[str]:
    async with scratch_database(postgres_url, "hw_owner") as url:
        yield url


def test_the_configured_first_owner_signs_in_over_https(
    owner_database_url: str, tmp_path: Path
) -> None:
    """HEADWATER_OWNER_EMAIL and _PASSWORD make the first owner; behind an https public URL
    both cookies are Secure and invite links use that URL."""
    email = "first.owner@example.com"
    server = start_server(
        owner_database_url,
        tmp_path,
        {
            "HEADWATER_OWNER_EMAIL": email,
            "HEADWATER_OWNER_PASSWORD": PASSWORD,
            "HEADWATER_PUBLIC_URL": "https://headwater.example",
        },
    )
    try:
        response = login(server.url, email)
        assert response.status_code == 200, response.text
        assert response.json()["user"]["instance_owner"] is True
        for header in set_cookies(response).values():
            assert "secure" in attributes(header)
        with server.admin() as admin:
            created = admin.post("/api/v1/users", json={"email": "new@example.com"}).json()
        assert created["invite_link"].startswith("https://headwater.example/setup#hwl_")
        assert "owner set-up" not in server.log()
    finally:
        server.stop()
