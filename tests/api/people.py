"""People for the API tests: made by the admin token, signed in through the API."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from tests.api.conftest import Api, unique

PASSWORD = "correct horse battery"


def person(api: Api, **fields: Any) -> dict[str, Any]:
    """A new person with :data:`PASSWORD` (and ``fields``), as ``POST /users`` answers."""
    body = {"email": f"{unique('p')}@example.com", "password": PASSWORD, **fields}
    return api.ok("POST", "/api/v1/users", 201, json=body)  # type: ignore[no-any-return]


def member(api: Api, workspace: str, role: str, **fields: Any) -> dict[str, Any]:
    """A new person with ``role`` in ``workspace`` and :data:`PASSWORD`."""
    body = {
        "email": f"{unique('m')}@example.com",
        "role": role,
        "password": PASSWORD,
        **fields,
    }
    path = f"/api/v1/workspaces/{workspace}/members"
    return api.ok("POST", path, 201, json=body)  # type: ignore[no-any-return]


def login(url: str, email: str, password: str = PASSWORD) -> httpx.Response:
    return httpx.post(
        f"{url}/api/v1/auth/login", json={"email": email, "password": password}, timeout=30
    )


def signed_in(url: str, email: str, password: str = PASSWORD) -> httpx.Client:
    """A client signed in by session: the cookies in its jar, the CSRF token in its headers
    (the caller closes it)."""
    client = httpx.Client(base_url=url, timeout=30)
    response = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return client


@contextmanager
def session(url: str, email: str, password: str = PASSWORD) -> Iterator[httpx.Client]:
    """:func:`signed_in`, closed at the end of the block."""
    client = signed_in(url, email, password)
    try:
        yield client
    finally:
        client.close()


def set_cookies(response: httpx.Response) -> dict[str, str]:
    """The response's ``Set-Cookie`` headers by cookie name."""
    found = {}
    for header in response.headers.get_list("set-cookie"):
        found[header.split("=", 1)[0]] = header
    return found


def attributes(header: str) -> set[str]:
    """A ``Set-Cookie`` header's attributes, lowercased, without values but SameSite's."""
    parts = [part.strip().lower() for part in header.split(";")[1:]]
    return {part if part.startswith("samesite") else part.split("=")[0] for part in parts}
