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

    rejections = server.api("GET", "/api/v1/rejections")
    assert len(rejections) == 1
    assert rejections[0]["index"] == -1
    assert rejections[0]["reason"].startswith("request refused (request_too_large)")
    assert rejections[0]["payload"] == {"bytes": len(body), "gzip": True}
    stats = server.api("GET", "/api/v1/stats")
    assert sum(row["rejected"] for row in stats) == 1


def test_unknown_write_key_records_nothing(server: RunningServer) -> None:
    response = httpx.post(f"{server.url}/v1/track", content=b"{", auth=("not-a-key", ""))
    assert response.status_code == 401
    assert server.api("GET", "/api/v1/rejections") == []
