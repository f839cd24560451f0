"""The tracking API answers as Segment's does, on a real server and database."""

from __future__ import annotations

import gzip
import json

import httpx

from tests.server import RunningServer


def test_track_is_stored_normalised(server: RunningServer) -> None:
    body = {
        "userId": "user-1",
        "event": "Order Completed",
        "properties": {"revenue": 12.5},
        "messageId": "smoke-1",
        "timestamp": "2026-01-01T10:00:00Z",
        "sentAt": "2026-01-01T10:00:30Z",
    }
    response = httpx.post(f"{server.url}/v1/track", json=body, auth=(server.write_key, ""))
    assert response.status_code == 200
    assert response.json() == {"success": True}

    stored = server.api("GET", "/api/v1/workspaces/default/events/smoke-1")["payload"]
    assert stored["event"] == "Order Completed"
    assert stored["originalTimestamp"] == "2026-01-01T10:00:00.000Z"
    assert stored["properties"] == {"revenue": 12.5}
    assert "writeKey" not in stored


def test_gzip_batch_with_write_key_in_body(server: RunningServer) -> None:
    body = {
        "writeKey": server.write_key,
        "batch": [
            {"type": "identify", "userId": "u2", "traits": {"email": "a@b.c"}, "messageId": "g-1"},
            {"type": "page", "anonymousId": "anon", "name": "Home", "messageId": "g-2"},
        ],
    }
    response = httpx.post(
        f"{server.url}/v1/batch",
        content=gzip.compress(json.dumps(body).encode()),
        headers={"Content-Encoding": "gzip", "Content-Type": "text/plain"},
    )
    assert response.status_code == 200, response.text
    assert server.api("GET", "/api/v1/workspaces/default/events/g-2")["payload"]["name"] == "Home"
    assert server.api("GET", "/api/v1/workspaces/default/events/g-1")["payload"]["traits"] == {
        "email": "a@b.c"
    }
