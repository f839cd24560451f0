"""A request refused as a whole still leaves a trace in its source's rejections."""

from __future__ import annotations

import gzip
import json

import httpx

from tests.server import RunningServer


def test_oversize_request_is_refused_and_recorded(server: RunningServer) -> None:
    batch = [{"type": "track", "userId": "u", "event": "Big", "properties": {"x": "y" * 9000}}]
    body = gzip.compress(json.dumps({"batch": batch * 60}).encode())
    response = httpx.post(
        f"{server.url}/v1/batch",
        content=body,
        headers={"Content-Encoding": "gzip"},
        auth=(server.write_key, ""),
    )
    assert response.status_code == 400
    assert response.json()["code"] == "request_too_large"

    rejections = server.api("GET", "/api/v1/workspaces/default/rejections")
    assert len(rejections) == 1
    assert rejections[0]["index"] == -1
    assert rejections[0]["reason"].startswith("request refused (request_too_large)")
    assert rejections[0]["payload"] == {"bytes": len(body), "gzip": True}
    stats = server.api("GET", "/api/v1/workspaces/default/stats")
    assert sum(row["rejected"] for row in stats) == 1


def test_unknown_write_key_records_nothing(server: RunningServer) -> None:
    response = httpx.post(f"{server.url}/v1/track", content=b"{", auth=("not-a-key", ""))
    assert response.status_code == 401
    assert server.api("GET", "/api/v1/workspaces/default/rejections") == []


def test_body_over_the_limit_by_content_length_is_recorded(server: RunningServer) -> None:
    response = httpx.post(
        f"{server.url}/v1/batch", content=b"x" * 600_000, auth=(server.write_key, "")
    )
    assert response.status_code == 400
    assert response.json()["code"] == "request_too_large"
    [rejection] = server.api("GET", "/api/v1/workspaces/default/rejections")
    assert rejection["reason"].startswith("request refused (request_too_large)")
    assert rejection["payload"] is None


def test_strict_refusal_is_recorded_with_its_reason(server: RunningServer) -> None:
    body = {"batch": [{"type": "track", "userId": "u1"}]}
    response = httpx.post(
        f"{server.url}/v1/batch",
        json=body,
        auth=(server.write_key, ""),
        headers={"X-Headwater-Strict": "1"},
    )
    assert response.status_code == 400
    [rejection] = server.api("GET", "/api/v1/workspaces/default/rejections")
    assert rejection["reason"] == (
        "request refused (invalid_events): 1 of 1 events are invalid; none was stored"
    )


def test_method_not_allowed_names_the_allowed_methods(server: RunningServer) -> None:
    response = httpx.get(f"{server.url}/v1/track")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST, OPTIONS"
    assert response.json()["code"] == "method_not_allowed"
