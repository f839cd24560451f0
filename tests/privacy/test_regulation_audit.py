"""The regulation job's work in the audit trail, through ``headwater serve``: a
SUPPRESS_WITH_DELETE leaves one entry per stage that changed data (suppressed, erased with its
counts, forwarded to a destination with its outcome), by the job, naming the regulation and the
subject's digest, and none of the person's identifiers."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.destinations.sink import Recorded, Reply, Sink
from tests.privacy.helpers import caught_up, ended, regulate
from tests.server import RunningServer

pytestmark = pytest.mark.e2e

USER = "user-a4d01b"
ANONYMOUS = "anon-a4d01b"
EMAIL = "zed-a4d01b@example.com"
KEY = "braze-rest-key-audit-0001"


def _users_delete(request: Recorded) -> Reply:
    assert (request.method, request.path) == ("POST", "/users/delete")
    return Reply(201, {"deleted": 1, "message": "success"})


def _send(server: RunningServer, write_key: str, path: str, body: dict[str, Any]) -> None:
    answer = httpx.post(f"{server.url}/v1/{path}", json=body, auth=(write_key, ""), timeout=10)
    assert answer.status_code == 200, answer.text


def _trail(server: RunningServer, slug: str, **query: str) -> list[dict[str, Any]]:
    page = server.api("GET", f"/api/v1/workspaces/{slug}/audit", params={"limit": 1000, **query})
    return list(page["data"])


def test_a_deletion_audits_each_stage_without_the_persons_ids(server: RunningServer) -> None:
    slug, write_key, _ = server.new_workspace()
    with Sink(_users_delete) as sink:
        braze = server.api(
            "POST",
            f"/api/v1/workspaces/{slug}/destinations",
            json={
                "name": "braze",
                "kind": "braze",
                "config": {"api_key": KEY, "endpoint": sink.url},
            },
        )
        identify = {"userId": USER, "anonymousId": ANONYMOUS, "traits": {"email": EMAIL}}
        _send(server, write_key, "identify", identify)
        _send(server, write_key, "track", {"anonymousId": ANONYMOUS, "event": "Viewed"})
        caught_up(server)

        regulate_id = regulate(server, slug, "SUPPRESS_WITH_DELETE", [USER])
        regulation = ended(server, slug, regulate_id)
        assert regulation["overallStatus"] == "FINISHED", regulation
        assert sink.requests, "the deletion was forwarded to Braze"
    [target] = regulation["targets"]
    assert target["subject"].startswith("hmac-sha256:")

    entries = _trail(server, slug, resource=f"regulation:{regulate_id}", actor="regulation job")
    by_action = {entry["action"]: entry for entry in entries}
    assert sorted(by_action) == ["regulation.erase", "regulation.forward", "regulation.suppress"]
    assert len(entries) == 3
    common = {
        "regulation": regulate_id,
        "regulationType": "SUPPRESS_WITH_DELETE",
        "subjectType": "USER_ID",
        "subject": target["subject"],
    }
    for entry in entries:
        assert entry["actor"]["kind"] == "service_account"
        assert entry["actor"]["label"] == "regulation job"
        assert entry["workspace"] == slug
        assert {k: entry["after"][k] for k in common} == common
    assert by_action["regulation.suppress"]["after"]["identifiers"] == 2  # user id, anonymous id
    removed = by_action["regulation.erase"]["after"]["removed"]
    assert removed == target["removed"]
    assert removed["events"] == 2
    forwarded = by_action["regulation.forward"]["after"]
    assert forwarded["destination"] == {"id": braze["id"], "name": "braze"}
    assert (forwarded["status"], forwarded["attempts"]) == ("FINISHED", 1)

    # The whole workspace's trail (the creation's entry too) holds none of the person's ids.
    everything = json.dumps(_trail(server, slug)).lower()
    assert f"regulation:{regulate_id}".lower() in everything
    for value in (USER, ANONYMOUS, EMAIL):
        assert value.lower() not in everything
