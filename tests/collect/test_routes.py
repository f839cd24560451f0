"""Every tracking route answers POST, refuses other methods as JSON, and passes CORS preflight."""

from __future__ import annotations

from typing import Any

import pytest

from tests.collect.helpers import Source, assert_error, assert_ok, request

SINGLE = {
    "identify": {"userId": "u1", "traits": {"plan": "pro"}},
    "track": {"userId": "u1", "event": "Routed"},
    "page": {"anonymousId": "a1", "name": "Home"},
    "screen": {"anonymousId": "a1", "name": "Main"},
    "group": {"userId": "u1", "groupId": "g1"},
    "alias": {"userId": "u1", "previousId": "a1"},
}
SHORT = {"i": "identify", "t": "track", "p": "page", "s": "screen", "g": "group", "a": "alias"}
BATCH_ROUTES = ["/v1/batch", "/v1/b", "/v1/import", "/beacon/v1/batch"]
ALL_ROUTES = [
    *(f"/v1/{kind}" for kind in SINGLE),
    *(f"/v1/{short}" for short in SHORT),
    *BATCH_ROUTES,
]


def body_for(path: str, message_id: str) -> tuple[dict[str, Any], str]:
    """A valid body for ``path`` and the type it stores."""
    name = path.rstrip("/").rsplit("/", 1)[1]
    if path.rstrip("/") in BATCH_ROUTES:
        message = {**SINGLE["screen"], "type": "screen", "messageId": message_id}
        return {"batch": [message]}, "screen"
    kind = SHORT.get(name, name)
    return {**SINGLE[kind], "messageId": message_id}, kind


@pytest.mark.parametrize("slash", ["", "/"])
def test_every_route_stores_its_type(source: Source, slash: str) -> None:
    expected = []
    for number, path in enumerate(ALL_ROUTES):
        body, kind = body_for(path, f"route-{number}{slash}")
        assert_ok(source.post(path + slash, body))
        expected.append((f"route-{number}{slash}", kind))
    stored = [(event["messageId"], event["type"]) for event in source.events()]
    assert stored == expected


def test_the_route_type_wins_over_the_body_type(source: Source) -> None:
    assert_ok(source.post("/v1/t", {"type": "identify", "userId": "u1", "event": "E"}))
    assert source.events()[0]["type"] == "track"


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_other_methods_are_405_json(source: Source, method: str) -> None:
    for path in [*ALL_ROUTES, "/v1/track/"]:
        response = request(method, f"{source.url}{path}", auth=(source.write_key, ""))
        assert_error(response, 405, "method_not_allowed")
    assert source.nothing_stored()


@pytest.mark.parametrize("path", ["/v1/x", "/v1/tracks", "/v1/batch/extra", "/v2/track"])
def test_unknown_routes_are_404_json(source: Source, path: str) -> None:
    response = source.post(path, SINGLE["track"])
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()
    assert source.nothing_stored()


def test_preflight_on_every_route(source: Source) -> None:
    for path in [*ALL_ROUTES, "/v1/track/"]:
        response = request(
            "OPTIONS",
            f"{source.url}{path}",
            headers={
                "Origin": "https://shop.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type, x-custom-header",
            },
        )
        assert response.status_code in (200, 204), path
        headers = response.headers
        assert headers["access-control-allow-origin"] == "https://shop.example"
        assert headers["access-control-allow-credentials"] == "true"
        assert "POST" in headers["access-control-allow-methods"]
        allowed = {h.strip().lower() for h in headers["access-control-allow-headers"].split(",")}
        assert {"authorization", "content-type", "anonymousid", "sentat"} <= allowed
        assert "x-custom-header" in allowed
        assert "origin" in headers["vary"].lower()
    assert source.nothing_stored()


def test_preflight_without_origin_allows_any(source: Source) -> None:
    response = request("OPTIONS", f"{source.url}/v1/batch")
    assert response.status_code in (200, 204)
    assert response.headers["access-control-allow-origin"] == "*"


def test_responses_carry_cors_headers(source: Source) -> None:
    origin = {"Origin": "https://shop.example"}
    ok = source.post("/v1/track", SINGLE["track"], headers=origin)
    assert_ok(ok)
    assert ok.headers["access-control-allow-origin"] == "https://shop.example"
    refused = source.post("/v1/track", content=b"{", headers=origin)
    assert_error(refused, 400, "invalid_json")
    assert refused.headers["access-control-allow-origin"] == "https://shop.example"
    unauthorised = source.post("/v1/track", SINGLE["track"], auth=False, headers=origin)
    assert_error(unauthorised, 401)
    assert unauthorised.headers["access-control-allow-origin"] == "https://shop.example"


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        "text/plain",
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded",
        "application/octet-stream",
        "",
    ],
)
def test_any_content_type_is_read_as_json(source: Source, content_type: str) -> None:
    response = source.post(
        "/v1/track",
        {**SINGLE["track"], "messageId": f"ct-{source.id}"},
        headers={"Content-Type": content_type},
    )
    assert_ok(response)
    assert [event["messageId"] for event in source.events()] == [f"ct-{source.id}"]
