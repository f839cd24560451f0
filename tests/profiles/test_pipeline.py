"""Identity and profiles through the real pipeline: events sent to a running server are
resolved by its processor and served by the Segment-shaped Profile API."""

from __future__ import annotations

import time
from typing import Any

import httpx

from tests.server import ADMIN_TOKEN, RunningServer

SPACE = "/v1/spaces/default/collections/users/profiles"


def send(server: RunningServer, *messages: dict[str, Any]) -> None:
    response = httpx.post(
        f"{server.url}/v1/batch", json={"batch": list(messages)}, auth=(server.write_key, "")
    )
    assert response.status_code == 200, response.text


def profile_api(server: RunningServer, path: str) -> httpx.Response:
    return httpx.get(f"{server.url}{SPACE}/{path}", auth=(ADMIN_TOKEN, ""))


def eventually(server: RunningServer, path: str, check: Any, timeout: float = 20) -> Any:
    """Poll the Profile API until ``check(body)`` holds (the processor runs asynchronously)."""
    deadline = time.monotonic() + timeout
    body = None
    while time.monotonic() < deadline:
        response = profile_api(server, path)
        if response.status_code == 200:
            body = response.json()
            if check(body):
                return body
        time.sleep(0.1)
    raise AssertionError(f"{path}: last answer {body}")


def ids(body: dict[str, Any]) -> set[tuple[str, str]]:
    return {(item["type"], item["id"]) for item in body["data"]}


def test_anonymous_activity_on_two_devices_joins_the_known_user(server: RunningServer) -> None:
    send(
        server,
        {
            "type": "page",
            "anonymousId": "web-1",
            "name": "Home",
            "messageId": "p1",
            "timestamp": "2026-01-01T10:00:00Z",
        },
        {
            "type": "identify",
            "anonymousId": "web-1",
            "userId": "ada",
            "traits": {"email": "Ada@Example.com", "plan": "free"},
            "messageId": "i1",
            "timestamp": "2026-01-01T10:01:00Z",
        },
        {
            "type": "track",
            "anonymousId": "phone-1",
            "event": "App Opened",
            "messageId": "t1",
            "timestamp": "2026-01-02T08:00:00Z",
        },
        {
            "type": "identify",
            "anonymousId": "phone-1",
            "userId": "ada",
            "traits": {"plan": "pro"},
            "messageId": "i2",
            "timestamp": "2026-01-02T08:01:00Z",
        },
    )
    expected = {
        ("user_id", "ada"),
        ("anonymous_id", "web-1"),
        ("anonymous_id", "phone-1"),
        ("email", "ada@example.com"),
    }
    body = eventually(server, "user_id:ada/external_ids", lambda b: ids(b) == expected)
    assert ids(body) == expected
    traits = profile_api(server, "anonymous_id:phone-1/traits").json()["traits"]
    assert traits == {"email": "Ada@Example.com", "plan": "pro"}
    events = eventually(server, "email:ada@example.com/events", lambda b: len(b["data"]) == 4)
    assert [e["messageId"] for e in events["data"]] == ["i2", "t1", "i1", "p1"]
    metadata = profile_api(server, "user_id:ada/metadata").json()["metadata"]
    assert metadata["first_message_id"] == "p1"
    assert metadata["last_message_id"] == "i2"


def test_a_late_older_event_never_overwrites_a_newer_trait(server: RunningServer) -> None:
    send(
        server,
        {
            "type": "identify",
            "userId": "bo",
            "traits": {"plan": "pro"},
            "messageId": "new",
            "timestamp": "2026-03-01T00:00:00Z",
        },
    )
    eventually(server, "user_id:bo/traits", lambda b: b["traits"] == {"plan": "pro"})
    send(
        server,
        {
            "type": "identify",
            "userId": "bo",
            "traits": {"plan": "free", "city": "Oslo"},
            "messageId": "old",
            "timestamp": "2026-02-01T00:00:00Z",
        },
    )
    body = eventually(server, "user_id:bo/traits", lambda b: "city" in b["traits"])
    assert body["traits"] == {"plan": "pro", "city": "Oslo"}


def test_a_shared_device_keeps_two_known_users_apart(server: RunningServer) -> None:
    send(
        server,
        {
            "type": "identify",
            "anonymousId": "kiosk",
            "userId": "u1",
            "messageId": "s1",
            "timestamp": "2026-01-01T00:00:00Z",
        },
        {
            "type": "identify",
            "anonymousId": "kiosk",
            "userId": "u2",
            "messageId": "s2",
            "timestamp": "2026-01-01T01:00:00Z",
        },
    )
    first = eventually(server, "user_id:u1/external_ids", lambda b: len(b["data"]) == 2)
    assert ids(first) == {("user_id", "u1"), ("anonymous_id", "kiosk")}
    second = eventually(server, "user_id:u2/external_ids", lambda b: len(b["data"]) == 1)
    assert ids(second) == {("user_id", "u2")}


def test_unknown_profile_is_a_json_404(server: RunningServer) -> None:
    response = profile_api(server, "user_id:nobody/traits")
    assert response.status_code == 404
    assert response.json()["code"] == "profile_not_found"
    assert httpx.get(f"{server.url}{SPACE}/user_id:x/traits").status_code == 401
