"""Every management route answers 401 JSON without a valid admin token."""

from __future__ import annotations

import re

import httpx
import pytest

from headwater.access import Permission
from headwater.api.permissions import rule_of
from tests.api.conftest import Api
from tests.server import RunningServer


def _public(method: str, path: str) -> bool:
    rule = rule_of(method, path.removeprefix("/api/v1"))
    return rule is not None and rule.permission is Permission.PUBLIC


def _api_routes(server: RunningServer) -> list[tuple[str, str]]:
    """Every management route that needs a sign-in (not signing in itself)."""
    document = httpx.get(f"{server.url}/api/openapi.json", timeout=10).json()
    routes = [
        (method.upper(), re.sub(r"\{[^}]+\}", "1", path))
        for path, operations in document["paths"].items()
        if path.startswith("/api/v1/")
        for method in operations
        if not _public(method.upper(), path)
    ]
    assert len(routes) >= 11, routes
    return routes


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "missing_token"),
        ({"Authorization": "Bearer wrong-token"}, "invalid_token"),
        ({"Authorization": "Bearer"}, "missing_token"),
        ({"Authorization": "Basic dGVzdC13cml0ZS1rZXktMDAwMTo="}, "missing_token"),  # write key
    ],
)
def test_every_api_route_refuses_a_missing_or_wrong_token(
    api_server: RunningServer, headers: dict[str, str], code: str
) -> None:
    with httpx.Client(base_url=api_server.url, headers=headers, timeout=10) as client:
        for method, path in _api_routes(api_server):
            response = client.request(method, path, json={"name": "x", "slug": "x"})
            assert response.status_code == 401, f"{method} {path}: {response.text}"
            assert response.headers["content-type"].startswith("application/json")
            body = response.json()
            assert body["success"] is False, body
            assert body["code"] == code, f"{method} {path}: {body}"


def test_a_refused_request_changes_nothing(api: Api) -> None:
    slug = "never-created"
    response = httpx.post(
        f"{api.server.url}/api/v1/workspaces",
        json={"slug": slug},
        headers={"Authorization": "Bearer wrong-token"},
    )
    assert response.status_code == 401
    assert slug not in {w["slug"] for w in api.ok("GET", "/api/v1/workspaces")}


def test_the_admin_token_is_accepted(api: Api) -> None:
    assert "default" in {w["slug"] for w in api.ok("GET", "/api/v1/workspaces")}
