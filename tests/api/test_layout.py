"""The management API's one layout, walked over its OpenAPI document: every workspace-scoped
route is under ``/api/v1/workspaces/{workspace}/`` and answers one 404 for an unknown
workspace; every route that takes a body takes JSON; every operation declares its answer."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.api.conftest import Api, unique
from tests.server import RunningServer

_GLOBAL = {
    "/api/v1/workspaces",
    "/api/v1/destination-kinds",
    "/api/v1/journey-node-types",
    "/api/v1/auth/login",
    "/api/v1/auth/accept",
    "/api/v1/auth/logout",
    "/api/v1/me",
    "/api/v1/users",
    "/api/v1/users/{user_id}",
    "/api/v1/users/{user_id}/enable",
    "/api/v1/audit",  # the instance's entries: workspaces created, people, sign-ins
    "/api/v1/audit/export",
    "/api/v1/processing/backlog",  # the processor's, over every workspace
}
_OWN = "/api/v1/me/"
"""The caller's own things (its tokens, its password), across workspaces."""
_SCOPED = "/api/v1/workspaces/{workspace}/"
# Path parameters other than the workspace: any value of the right type names nothing.
_PARAMETERS = {
    "source_id": "1",
    "destination_id": "1",
    "key": "k",
    "slug": "s",
    "message_id": "m",
    "profile_id": "p",
    "user_id": "1",
    "token_id": "1",
    "version": "1",
    "export_id": "1",
    "rule_id": "1",
    "regulate_id": "r",
    "model_id": "1",
    "sync_id": "1",
    "run_id": "1",
    "import_id": "1",
}
_NOT_JSON = {
    ("POST", "/api/v1/workspaces/{workspace}/tracking-plans/import"),
    ("POST", "/api/v1/workspaces/{workspace}/journeys/import"),
    ("POST", "/api/v1/workspaces/{workspace}/imports"),  # the file itself, any of three formats
}
"""The bodies that are files (JSON, YAML or CSV, as their ``format`` says)."""


@pytest.fixture(scope="module")
def document(api_server: RunningServer) -> dict[str, Any]:
    return httpx.get(f"{api_server.url}/api/openapi.json", timeout=10).json()  # type: ignore[no-any-return]


def _operations(document: dict[str, Any], prefix: str) -> list[tuple[str, str]]:
    return [
        (method.upper(), path)
        for path, operations in document["paths"].items()
        if path.startswith(prefix)
        for method in operations
    ]


def _fill(path: str, workspace: str) -> str:
    return re.sub(
        r"\{(\w+)\}",
        lambda m: workspace if m[1] == "workspace" else _PARAMETERS[m[1]],
        path,
    )


def test_every_management_route_is_global_or_under_its_workspace(
    document: dict[str, Any],
) -> None:
    for _, path in _operations(document, "/api/v1/"):
        assert path in _GLOBAL or path.startswith((_SCOPED, _OWN)), path


def test_every_route_under_an_unknown_workspace_answers_one_404(
    api: Api, document: dict[str, Any]
) -> None:
    operations = _operations(document, _SCOPED)
    assert len(operations) > 50
    workspace = unique("no-such-workspace")
    expected = {
        "success": False,
        "code": "workspace_not_found",
        "message": f"no workspace {workspace!r}",
    }
    for method, path in operations:
        body = {} if method in ("POST", "PUT", "PATCH") else None
        response = api.client.request(method, _fill(path, workspace), json=body)
        assert response.status_code == 404, f"{method} {path}: {response.text}"
        assert response.headers["content-type"] == "application/json", f"{method} {path}"
        assert response.json() == expected, f"{method} {path}"


def test_every_route_under_a_source_not_of_its_workspace_answers_one_404(
    api: Api, document: dict[str, Any]
) -> None:
    operations = [
        (method, path) for method, path in _operations(document, _SCOPED) if "{source_id}" in path
    ]
    assert len(operations) > 5
    workspace = api.workspace()
    elsewhere = api.source()  # of the default workspace
    for source_id in (elsewhere["id"], 2**31 - 1):
        expected = {
            "success": False,
            "code": "source_not_found",
            "message": f"no source {source_id} in workspace {workspace!r}",
        }
        for method, path in operations:
            body = {} if method in ("POST", "PUT", "PATCH") else None
            filled = _fill(path, workspace).replace("/sources/1", f"/sources/{source_id}")
            response = api.client.request(method, filled, json=body)
            assert response.status_code == 404, f"{method} {path}: {response.text}"
            assert response.json() == expected, f"{method} {path}"


def test_every_route_that_takes_a_body_refuses_one_that_is_not_json(
    api: Api, document: dict[str, Any]
) -> None:
    operations = [
        (method, path)
        for method, path in _operations(document, "/api/v1/")
        if method in ("POST", "PUT", "PATCH") and (method, path) not in _NOT_JSON
    ]
    assert len(operations) > 20
    for method, path in operations:
        for content_type in (None, "text/plain", "application/x-www-form-urlencoded", "text/json"):
            headers = {} if content_type is None else {"content-type": content_type}
            response = api.client.request(
                method, _fill(path, "default"), content=b"{}", headers=headers
            )
            assert response.status_code == 415, f"{method} {path}: {response.text}"
            body = response.json()
            assert body["code"] == "unsupported_media_type", f"{method} {path}"
            assert repr(content_type or "") in body["message"]


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "application/merge+json"],
)
def test_a_json_body_is_taken_with_a_json_content_type(api: Api, content_type: str) -> None:
    headers = {"content-type": content_type}
    # a route with a declared body model and one that reads its body itself
    slug = unique("ws")
    created = api.client.post(
        "/api/v1/workspaces", content=f'{{"slug": "{slug}"}}', headers=headers
    )
    assert created.status_code == 201, created.text
    rules = api.ok("GET", f"/api/v1/workspaces/{slug}/identity-rules")
    replaced = api.client.put(
        f"/api/v1/workspaces/{slug}/identity-rules",
        content=httpx.Request("PUT", "/", json=rules).content,
        headers=headers,
    )
    assert replaced.status_code == 200, replaced.text


def test_a_body_less_request_needs_no_content_type(api: Api) -> None:
    workspace = api.workspace()
    response = api.client.post(
        f"/api/v1/workspaces/{workspace}/failures/replay", headers={"content-type": "text/plain"}
    )
    assert response.status_code != 415, response.text


def _described(schema: dict[str, Any]) -> bool:
    """The schema names what the answer holds: a model (a reference, or properties), a list
    or a choice of those, or a scalar; not an empty schema nor "any object"."""
    if "$ref" in schema or "properties" in schema:
        return True
    if "anyOf" in schema or "oneOf" in schema:
        return all(_described(s) for s in schema.get("anyOf", schema.get("oneOf")))
    if schema.get("type") == "array":
        return _described(schema.get("items", {}))
    return schema.get("type") in ("string", "integer", "number", "boolean", "null")


def test_every_operation_declares_its_answer(document: dict[str, Any]) -> None:
    undeclared = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            answers = {
                status: answer
                for status, answer in operation["responses"].items()
                if status.startswith("2")
            }
            assert answers, f"{method.upper()} {path} declares no successful answer"
            for status, answer in answers.items():
                if status == "204":
                    continue
                schemas = [c.get("schema", {}) for c in answer.get("content", {}).values()]
                if not schemas or not all(_described(schema) for schema in schemas):
                    undeclared.append(f"{method.upper()} {path} {status}")
    assert not undeclared, f"{len(undeclared)} answers without a schema:\n" + "\n".join(undeclared)


def test_every_schema_has_a_name_of_its_own(document: dict[str, Any]) -> None:
    # Two models of one name get module-qualified names (a__b__Model) in the document.
    qualified = [name for name in document["components"]["schemas"] if "__" in name]
    assert not qualified, qualified
