"""PII rules on a real server: each action at collection (the stored event keeps no raw
value; a block is a recorded rejection), per-source scope, a destination's rules seen at a
recording webhook, masking with and without ``pii:read``, the inbox, the test run, bad input."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from segment.analytics.client import Client as SegmentClient

from headwater.access import MASK
from headwater.pii import REDACTED
from tests.api.conftest import Api, unique
from tests.destinations.sink import Sink
from tests.server import RunningServer

_HEX64 = re.compile(r"[0-9a-f]{64}")


def eventually(probe: Callable[[], Any], timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        assert time.monotonic() < deadline, "not in time"
        time.sleep(0.2)


def _webhook(api: Api, workspace: str, sink: Sink) -> Any:
    """A webhook destination of the workspace that sends to ``sink``."""
    return api.ok(
        "POST",
        f"/api/v1/workspaces/{workspace}/destinations",
        201,
        json={"name": unique("hook"), "kind": "webhook", "config": {"url": sink.url}},
    )


def _rules(workspace: str) -> str:
    return f"/api/v1/workspaces/{workspace}/pii-rules"


def _stored(api: Api, workspace: str, message_id: str) -> dict[str, Any]:
    path = f"/api/v1/workspaces/{workspace}/events/{message_id}"
    payload: dict[str, Any] = api.ok("GET", path)["payload"]
    return payload


def test_each_action_at_collection_with_the_sdk(api: Api) -> None:
    workspace = api.workspace()
    source = api.source(workspace=workspace)
    for rule in (
        {"path": "traits.email", "action": "hash"},
        {"detector": "phone", "action": "redact"},
        {"key": "(?i)^ssn$", "action": "drop"},
        {"path": "traits.nickname", "action": "mask"},
        {"path": "traits.plan", "action": "allow"},
    ):
        api.ok("POST", _rules(workspace), 201, json=rule)
    email, phone, ssn = f"ana.{uuid.uuid4().hex[:6]}@example.com", "+14155550123", "123-45-6789"
    client = SegmentClient(source["write_key"], host=api.server.url, sync_mode=True)
    client.identify(
        "u1",
        {
            "email": email,
            "mobile": phone,
            "ssn": ssn,
            "nickname": "Ani",
            "plan": "+14155550100",
        },
        message_id="pii-identify",
    )
    client.track("u1", "Signed Up", {"ssn": ssn, "total": 3}, message_id="pii-track")

    identify = eventually(lambda: _try_stored(api, workspace, "pii-identify"))
    traits = identify["traits"]
    assert _HEX64.fullmatch(traits["email"])
    assert traits["mobile"] == REDACTED
    assert "ssn" not in traits
    assert traits["nickname"] == "Ani"  # mask keeps the value stored
    assert traits["plan"] == "+14155550100"  # allowed despite the phone detector
    stored = json.dumps(identify)
    assert email not in stored
    assert phone not in stored
    assert ssn not in stored
    track = _stored(api, workspace, "pii-track")
    assert track["properties"] == {"total": 3}


def _try_stored(api: Api, workspace: str, message_id: str) -> dict[str, Any] | None:
    path = f"/api/v1/workspaces/{workspace}/events/{message_id}"
    response = api.client.get(path)
    return response.json()["payload"] if response.status_code == 200 else None


def test_hashes_are_stable_in_a_workspace_and_salted_per_workspace(api: Api) -> None:
    hashes = []
    for _ in range(2):
        workspace = api.workspace()
        source = api.source(workspace=workspace)
        api.ok("POST", _rules(workspace), 201, json={"path": "properties.email", "action": "hash"})
        for n in range(2):
            message_id = unique("h")
            api.track(
                source["write_key"],
                userId="u1",
                event="E",
                messageId=message_id,
                properties={"email": "same@example.com", "n": n},
            )
            hashes.append(_stored(api, workspace, message_id)["properties"]["email"])
    assert hashes[0] == hashes[1]
    assert hashes[2] == hashes[3]
    assert hashes[0] != hashes[2]
    unsalted = hmac.new(b"", b"same@example.com", hashlib.sha256).hexdigest()
    assert unsalted not in hashes


def test_a_blocked_event_is_a_recorded_rejection(api: Api) -> None:
    workspace = api.workspace()
    source = api.source(workspace=workspace)
    rule = api.ok(
        "POST",
        _rules(workspace),
        201,
        json={"path": "properties.**", "detector": "card", "action": "block"},
    )
    card = "4111 1111 1111 1111"
    blocked, kept = unique("blocked"), unique("kept")
    answer = api.track(
        source["write_key"],
        "/v1/batch",
        batch=[
            {
                "type": "track",
                "userId": "u1",
                "event": "Paid",
                "messageId": blocked,
                "properties": {"payment": {"card": card}},
            },
            {
                "type": "track",
                "userId": "u1",
                "event": "Paid",
                "messageId": kept,
                "properties": {"payment": {"card": "4111 1111 1111 1112"}},
            },
        ],
    )
    assert answer.json() == {"success": True}  # Segment's answer, as for any rejection
    rejections = api.ok("GET", f"/api/v1/workspaces/{workspace}/rejections")
    assert [r["messageId"] for r in rejections] == [blocked]
    assert str(rule["id"]) in rejections[0]["reason"]
    assert "properties.payment.card" in rejections[0]["reason"]
    assert card not in json.dumps(rejections)
    api.error("GET", f"/api/v1/workspaces/{workspace}/events/{blocked}", 404, "event_not_found")
    assert _stored(api, workspace, kept)["properties"]["payment"]["card"].endswith("1112")
    stats = api.ok("GET", f"/api/v1/workspaces/{workspace}/stats", params={"source": source["id"]})
    assert "rejected" in json.dumps(stats)


def test_rules_apply_to_their_sources_only(api: Api) -> None:
    workspace = api.workspace()
    covered, other = api.source(workspace=workspace), api.source(workspace=workspace)
    api.ok(
        "POST",
        _rules(workspace),
        201,
        json={"path": "properties.email", "action": "redact", "sources": [covered["id"]]},
    )
    ids = {}
    for name, source in (("covered", covered), ("other", other)):
        ids[name] = unique(name)
        api.track(
            source["write_key"],
            userId="u1",
            event="E",
            messageId=ids[name],
            properties={"email": "ana@example.com"},
        )
    assert _stored(api, workspace, ids["covered"])["properties"]["email"] == REDACTED
    assert _stored(api, workspace, ids["other"])["properties"]["email"] == "ana@example.com"


def test_a_destination_rule_changes_what_that_destination_receives(api: Api) -> None:
    workspace = api.workspace()
    source = api.source(workspace=workspace)
    with Sink() as sink:
        hook = _webhook(api, workspace, sink)
        api.ok(
            "POST",
            _rules(workspace),
            201,
            json={"path": "properties.email", "action": "redact", "destinations": [hook["id"]]},
        )
        api.ok(
            "POST",
            _rules(workspace),
            201,
            json={"path": "properties.secret", "action": "block", "destinations": [hook["id"]]},
        )
        started = datetime.now(UTC) - timedelta(seconds=1)
        sent, held = unique("sent"), unique("held")
        api.track(
            source["write_key"],
            userId="u1",
            event="E",
            messageId=sent,
            properties={"email": "ana@example.com"},
        )
        api.track(
            source["write_key"], userId="u1", event="E", messageId=held, properties={"secret": 1}
        )
        received = eventually(lambda: [r.json() for r in sink.requests])
        time.sleep(1)
        bodies = [r.json() for r in sink.requests]
        # A replay of the time range sends the event again with the rules applied, as now.
        window = {"since": started.isoformat(), "until": datetime.now(UTC).isoformat()}
        replayed = api.ok(
            "POST", f"/api/v1/workspaces/{workspace}/destinations/{hook['id']}/replay", json=window
        )
        assert replayed == {"queued": 1, "skipped": 1}
        again = sink.wait_for(len(bodies) + 1)[-1].json()
    assert received[0]["messageId"] == sent
    assert received[0]["properties"]["email"] == REDACTED
    assert held not in {b["messageId"] for b in bodies}
    assert (again["messageId"], again["properties"]["email"]) == (sent, REDACTED)
    # the log keeps the event as sent: the rule is the destination's only
    assert _stored(api, workspace, sent)["properties"]["email"] == "ana@example.com"


def _token(api: Api, workspace: str, pii_read: bool) -> str:
    created = api.ok(
        "POST",
        f"/api/v1/workspaces/{workspace}/tokens",
        201,
        json={
            "name": unique("t"),
            "role": "analyst",
            "pii_read": pii_read,
            "service_account": True,
        },
    )
    return str(created["token"])


def test_mask_rules_mask_in_the_api_without_pii_read(api: Api, api_server: RunningServer) -> None:
    workspace = api.workspace()
    source = api.source(workspace=workspace)
    api.ok("POST", _rules(workspace), 201, json={"path": "properties.plan_code", "action": "mask"})
    message_id = unique("m")
    api.track(
        source["write_key"],
        userId="u1",
        event="E",
        messageId=message_id,
        properties={"plan_code": "PX-123", "total": 5},
    )
    path = f"/api/v1/workspaces/{workspace}/events/{message_id}"
    for pii_read, expected in ((True, "PX-123"), (False, MASK)):
        headers = {"Authorization": f"Bearer {_token(api, workspace, pii_read)}"}
        with httpx.Client(base_url=api_server.url, headers=headers, timeout=30) as client:
            answer = client.get(path)
            assert answer.status_code == 200, answer.text
            assert answer.json()["payload"]["properties"] == {"plan_code": expected, "total": 5}
            keys = client.get(f"/api/v1/workspaces/{workspace}/personal-keys").json()
            assert "plancode" in keys["anywhere"]
    other = api.workspace()  # another workspace's rules do not reach here
    keys = api.ok("GET", f"/api/v1/workspaces/{other}/personal-keys")
    assert "plancode" not in keys["anywhere"]


def test_the_inbox(api: Api) -> None:
    workspace = api.workspace()
    source = api.source(workspace=workspace)
    api.track(
        source["write_key"],
        "/v1/identify",
        userId="u1",
        traits={
            "email": "a@b.co",
            "home_address": "1 Main St",
            "favorite_color": "red",
            "mobile": "+14155550123",
            # names that say nothing, values that do
            "reach_me_at": "ana@example.com",
            "spot": "48.8566, 2.3522",
        },
    )
    inbox = f"/api/v1/workspaces/{workspace}/pii-inbox"

    def paths() -> set[str]:
        return {item["path"] for item in api.ok("GET", inbox)}

    listed = eventually(lambda: paths() or None)
    assert listed == {
        "traits.email",
        "traits.home_address",
        "traits.mobile",
        "traits.reach_me_at",
        "traits.spot",
    }
    detected = {item["path"]: item["detected"] for item in api.ok("GET", inbox)}
    assert detected == {
        "traits.email": ["email"],
        "traits.home_address": [],
        "traits.mobile": ["phone"],
        "traits.reach_me_at": ["email"],
        "traits.spot": ["location"],
    }
    api.ok("POST", f"{inbox}/dismiss", json={"path": "traits.home_address"})
    api.ok("POST", f"{inbox}/dismiss", json={"path": "traits.spot"})
    api.ok("POST", f"{inbox}/classify", 201, json={"path": "traits.reach_me_at", "action": "hash"})
    rule = api.ok("POST", f"{inbox}/classify", 201, json={"path": "traits.email", "action": "hash"})
    assert (rule["path"], rule["action"]) == ("traits.email", "hash")
    assert paths() == {"traits.mobile"}
    api.ok("POST", f"{inbox}/dismiss", json={"path": "traits.home_address", "dismissed": False})
    assert paths() == {"traits.mobile", "traits.home_address"}


def test_the_test_run_stores_nothing(api: Api) -> None:
    workspace = api.workspace()
    source = api.source(workspace=workspace)
    api.ok("POST", _rules(workspace), 201, json={"detector": "email", "action": "redact"})
    hashed = api.ok(
        "POST",
        _rules(workspace),
        201,
        json={"path": "traits.phone", "action": "hash", "sources": [source["id"]]},
    )
    sample = {
        "type": "identify",
        "userId": "u1",
        "traits": {"email": "a@b.co", "phone": "+14155550123", "plan": "pro"},
    }
    answer = api.ok(
        "POST", f"{_rules(workspace)}/test", json={"message": sample, "source_id": source["id"]}
    )
    assert answer["blocked"] is None
    assert answer["message"]["traits"]["email"] == REDACTED
    assert _HEX64.fullmatch(answer["message"]["traits"]["phone"])
    assert answer["message"]["traits"]["plan"] == "pro"
    assert {(f["path"], f["action"], f["stage"]) for f in answer["fields"]} == {
        ("traits.email", "redact", "collection"),
        ("traits.phone", "hash", "collection"),
    }
    without = api.ok("POST", f"{_rules(workspace)}/test", json={"message": sample})
    assert without["message"]["traits"]["phone"] == "+14155550123"  # not that source's rule
    assert [r["id"] for r in api.ok("GET", _rules(workspace)) if r["id"] == hashed["id"]]
    stats = api.ok("GET", f"/api/v1/workspaces/{workspace}/stats")
    assert 'accepted": 1' not in json.dumps(stats)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"key": "([a-z", "action": "drop"}, "key"),
        ({"value": "*", "action": "drop"}, "value"),
        ({"detector": "dna", "action": "drop"}, "detector"),
        ({"action": "drop"}, "path"),
        ({"path": "properties.email", "action": "shred"}, "action"),
        ({"path": "properties.email", "action": "hash", "colour": 1}, None),
        ({"path": "properties.email", "action": "hash", "sources": [2147483000]}, "sources"),
        (
            {"path": "properties.email", "action": "hash", "destinations": [2147483000]},
            "destinations",
        ),
        ({"path": "properties.email", "action": "hash", "sources": "all"}, "sources"),
    ],
)
def test_bad_rules_answer_400_with_the_field(api: Api, body: Any, field: str | None) -> None:
    answer = api.error("POST", _rules("default"), 400, "invalid_rule", json=body)
    if field is not None:
        assert answer["field"] == field


def test_rules_crud_and_errors(api: Api) -> None:
    workspace = api.workspace()
    made = api.ok("POST", _rules(workspace), 201, json={"path": "traits.email", "action": "hash"})
    one = f"{_rules(workspace)}/{made['id']}"
    assert api.ok("GET", one)["name"] == "traits.email"
    changed = api.ok("PATCH", one, json={"action": "drop", "name": "emails"})
    assert (changed["action"], changed["name"], changed["path"]) == (
        "drop",
        "emails",
        "traits.email",
    )
    api.error("PATCH", one, 400, "invalid_rule", json={"path": None})
    api.error(
        "POST",
        _rules(workspace),
        400,
        "invalid_json",
        content=b"{",
        headers={"Content-Type": "application/json"},
    )
    other = api.workspace()
    api.error("GET", f"{_rules(other)}/{made['id']}", 404, "pii_rule_not_found")
    api.error("DELETE", f"{_rules(other)}/{made['id']}", 404, "pii_rule_not_found")
    assert api.ok("DELETE", one) == {"id": made["id"], "deleted": True}
    assert api.ok("GET", _rules(workspace)) == []
    api.error("POST", f"{_rules(workspace)}/test", 400, "invalid_test", json={"message": 1})


def _actions(server: RunningServer) -> dict[tuple[str, str], float]:
    """``headwater_pii_actions_total`` from ``/metrics``, by (stage, action)."""
    response = httpx.get(f"{server.url}/metrics", timeout=10)
    assert response.status_code == 200
    return {
        (sample.labels["stage"], sample.labels["action"]): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
        if sample.name == "headwater_pii_actions_total"
    }


def test_metrics_count_the_actions_at_collection_and_in_routing(api: Api) -> None:
    workspace = api.workspace()
    source = api.source(workspace=workspace)
    with Sink() as sink:
        hook = _webhook(api, workspace, sink)
        for rule in (
            {"path": "properties.email", "action": "hash"},
            {"path": "properties.phone", "action": "redact"},
            {"key": "(?i)^ssn$", "action": "drop"},
            {"path": "properties.secret", "action": "block"},
            {"path": "properties.plan", "action": "allow"},
            {"path": "properties.note", "action": "drop", "destinations": [hook["id"]]},
        ):
            api.ok("POST", _rules(workspace), 201, json=rule)
        before = _actions(api.server)
        properties = {"email": "ana@example.com", "phone": "+14155550123", "ssn": "1"}
        api.track(
            source["write_key"],
            "/v1/batch",
            batch=[
                {"type": "track", "userId": "u1", "event": "A", "properties": properties},
                {
                    "type": "track",
                    "userId": "u2",
                    "event": "A",
                    "properties": {"email": "bo@example.com", "plan": "pro", "note": "n"},
                },
                # blocked: counted once as a block, not for the email hashed before it
                {
                    "type": "track",
                    "userId": "u3",
                    "event": "A",
                    "properties": {"email": "cy@example.com", "secret": 1},
                },
            ],
        )
        after = _actions(api.server)

        def delta(stage: str, action: str, now: dict[tuple[str, str], float]) -> float:
            return now[stage, action] - before[stage, action]

        # Counted before the request is answered; allowed fields are not counted.
        counted = {action: delta("collection", action, after) for action in ("hash", "redact")}
        assert counted == {"hash": 2, "redact": 1}
        assert (delta("collection", "drop", after), delta("collection", "block", after)) == (1, 1)
        assert {action for _, action in after} == {"hash", "redact", "drop", "block"}
        received = {r.json()["userId"]: r.json() for r in sink.wait_for(2)}
        routed = eventually(lambda: delta("routing", "drop", _actions(api.server)))
    assert routed == 1
    assert set(received) == {"u1", "u2"}
    assert "note" not in received["u2"]["properties"]
