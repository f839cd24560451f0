"""The API documentation pages work offline: every script, style and icon they name is served
by Headwater itself, and the OpenAPI document declares the bounds and the error shape."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from tests.server import RunningServer

# what a page loads: <script src>, <link href>, and the URLs its inline script names
_REFERENCES = re.compile(
    r"""(?:src|href)\s*=\s*["']([^"']+)["']|(?:url|Url)\s*:\s*["']([^"']+)["']"""
)
_TYPES = {".js": "javascript", ".css": "text/css", ".png": "image/png"}


@pytest.mark.parametrize("page", ["/api/docs", "/api/redoc"])
def test_a_docs_page_loads_only_assets_of_the_same_origin(
    api_server: RunningServer, page: str
) -> None:
    response = httpx.get(f"{api_server.url}{page}", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "/api/openapi.json" in response.text
    references = [a or b for a, b in _REFERENCES.findall(response.text)]
    assets = [r for r in references if r.endswith(tuple(_TYPES))]
    assert len(assets) >= 2, references  # the bundle's script and (Swagger UI) its style or icon
    for reference in references:
        assert not urlsplit(reference).netloc, f"{page} loads {reference} from another origin"
    # nor does its inline script build another origin's URL
    assert "http://" not in response.text
    assert "https://" not in response.text
    for reference in assets:
        asset = httpx.get(f"{api_server.url}{urljoin(page, reference)}", timeout=10)
        assert asset.status_code == 200, reference
        assert _TYPES[reference[reference.rindex(".") :]] in asset.headers["content-type"]
        assert len(asset.content) > 0


def test_the_openapi_document_declares_bounds_and_the_error_shape(
    api_server: RunningServer,
) -> None:
    document = httpx.get(f"{api_server.url}/api/openapi.json", timeout=10).json()
    operation = document["paths"]["/api/v1/workspaces/{workspace}/sources/{source_id}/events"][
        "get"
    ]
    parameters = {p["name"]: p["schema"] for p in operation["parameters"]}
    assert (parameters["source_id"]["minimum"], parameters["source_id"]["maximum"]) == (
        1,
        2**31 - 1,
    )
    before = next(s for s in parameters["before"]["anyOf"] if s.get("type") == "integer")
    assert (before["minimum"], before["maximum"]) == (0, 2**63 - 1)
    # Every error answer has the API's shape, not FastAPI's default one.
    error = operation["responses"]["4XX"]["content"]["application/json"]["schema"]
    assert error == {"$ref": "#/components/schemas/ErrorBody"}
    assert set(document["components"]["schemas"]["ErrorBody"]["required"]) == {
        "success",
        "code",
        "message",
    }
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_the_openapi_document_declares_the_plan_document_as_body(
    api_server: RunningServer,
) -> None:
    """Create and update read the plan document by hand (to answer ``invalid_plan`` with the
    reason), yet declare it, so that the web app's generated client types what it sends."""
    document = httpx.get(f"{api_server.url}/api/openapi.json", timeout=10).json()
    plans = "/api/v1/workspaces/{workspace}/tracking-plans"
    for method, path in (("post", plans), ("put", plans + "/{slug}")):
        body = document["paths"][path][method]["requestBody"]
        assert body["required"] is True
        schema = body["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/DocumentView"}
    assert "events" in document["components"]["schemas"]["DocumentView"]["required"]


@pytest.mark.parametrize("section", ["audiences", "computed-traits"])
def test_the_openapi_document_declares_the_bodies_of_audiences(
    api_server: RunningServer, section: str
) -> None:
    """The bodies are decoded by hand (exact decimals); the web app's types need them."""
    document = httpx.get(f"{api_server.url}/api/openapi.json", timeout=10).json()
    base = f"/api/v1/workspaces/{{workspace}}/{section}"

    def body(path: str, method: str) -> dict[str, object]:
        found = document["paths"][path][method]["requestBody"]["content"]["application/json"]
        return dict(found["schema"])

    create = body(base, "post")
    assert {"key", "name", "definition"} <= set(create["required"])  # type: ignore[arg-type]
    assert create["additionalProperties"] is False
    assert "definition" in body(f"{base}/preview", "post")["properties"]  # type: ignore[operator]
    change = body(f"{base}/{{key}}", "patch")["properties"]
    assert {"name", "definition", "destinations", "enabled"} <= set(change)  # type: ignore[arg-type]


def test_the_openapi_summaries_use_the_right_article(api_server: RunningServer) -> None:
    document = httpx.get(f"{api_server.url}/api/openapi.json", timeout=10).json()
    summaries = [
        operation["summary"]
        for operations in document["paths"].values()
        for operation in operations.values()
    ]
    base = "/api/v1/workspaces/{workspace}"
    assert document["paths"][f"{base}/audiences"]["post"]["summary"] == "Create an audience"
    assert document["paths"][f"{base}/computed-traits"]["post"]["summary"] == (
        "Create a computed trait"
    )
    # "a user" and "an hour" are right: the check skips words that start with u or h
    wrong = [s for s in summaries if re.search(r"\b[Aa] [aeioAEIO]|\b[Aa]n [^aeiouhAEIOUH]", s)]
    assert wrong == []
