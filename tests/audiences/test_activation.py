"""Activation: the Segment-shaped payloads (pure), and audience changes reaching a webhook
destination through the delivery engine of a running server."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import httpx

from headwater.audiences.activation import Change, Identity, payloads
from tests.destinations.sink import Sink
from tests.server import RunningServer

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def change(kind: str, what: str, value: Any = True) -> Change:
    return Change(7, "buyers", kind, "prf_1", what, value, AT, computation_id=3)


def test_audience_entered_and_exited() -> None:
    ada = Identity(user_id="ada", anonymous_id="a-1", email="ada@example.com")
    identify, track = payloads(change("audience", "entered"), ada)
    assert identify["type"] == "identify"
    assert identify["traits"] == {"buyers": True, "email": "ada@example.com"}
    assert (identify["userId"], identify["anonymousId"]) == ("ada", "a-1")
    assert track["event"] == "Audience Entered"
    assert track["properties"] == {"audience_key": "buyers", "buyers": True}
    assert track["context"]["personas"]["computation_key"] == "buyers"
    assert track["timestamp"] == "2026-03-01T12:00:00Z"
    assert identify["messageId"] != track["messageId"]
    identify, track = payloads(change("audience", "exited", None), ada)
    assert identify["traits"]["buyers"] is False
    assert track["event"] == "Audience Exited"
    assert track["properties"] == {"audience_key": "buyers", "buyers": False}


def test_computed_traits_are_identify_traits_and_ids_are_never_missing() -> None:
    (identify,) = payloads(change("trait", "updated", 42), Identity(user_id="ada"))
    assert identify["traits"] == {"buyers": 42}
    assert "anonymousId" not in identify
    (gone,) = payloads(change("trait", "exited", None), Identity())
    assert gone["traits"] == {"buyers": None}
    assert gone["anonymousId"] == "prf_1"  # a profile with no id is named by its own
    assert payloads(change("trait", "updated", 1), Identity())[0]["messageId"] == (
        "hw-audience-change-7-identify"
    )


def test_audience_changes_reach_a_destination(server: RunningServer) -> None:
    with Sink() as sink, server.admin() as client:
        created = client.post(
            "/api/v1/workspaces/default/destinations",
            json={"name": "hook", "kind": "webhook", "config": {"url": sink.url}},
        )
        assert created.status_code == 201, created.text
        destination = created.json()["id"]
        audience = client.post(
            "/api/v1/workspaces/default/audiences",
            json={
                "key": "buyers",
                "name": "Buyers",
                "destinations": [destination],
                "definition": {
                    "version": 1,
                    "condition": {"type": "event", "event": "Order Completed"},
                },
            },
        )
        assert audience.status_code == 201, audience.text
        response = httpx.post(
            f"{server.url}/v1/track",
            json={"userId": "ada", "event": "Order Completed", "traits": {}},
            auth=(server.write_key, ""),
        )
        assert response.status_code == 200
        deadline = time.monotonic() + 30
        found: dict[str, Any] = {}
        while time.monotonic() < deadline and len(found) < 2:
            for request in list(sink.requests):
                body = request.json()
                if body.get("type") == "identify" or body.get("event") == "Audience Entered":
                    found[body["type"]] = body
            time.sleep(0.2)
        assert found["track"]["properties"] == {"audience_key": "buyers", "buyers": True}
        assert found["track"]["userId"] == "ada"
        assert found["identify"]["traits"] == {"buyers": True}
        changes = client.get("/api/v1/workspaces/default/audiences/buyers/changes").json()
        assert [c["delivered"] for c in changes["data"]] == [True]
