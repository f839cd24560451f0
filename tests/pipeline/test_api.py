"""Processing failures through a running ``headwater serve``: the event a stage refused is
listed with its stage and reason, the others of its partition reach their profiles, and a
replay after the fix resolves it (once)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx

from tests.cli.conftest import cli_for
from tests.pipeline.test_failures import incompressible
from tests.server import ADMIN_TOKEN, RunningServer

T = TypeVar("T")


def eventually(probe: Callable[[], T | None], *, timeout: float = 30) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {probe}")


def send(server: RunningServer, write_key: str, *messages: dict[str, Any]) -> None:
    response = httpx.post(
        f"{server.url}/v1/batch", json={"batch": list(messages)}, auth=(write_key, "")
    )
    assert response.status_code == 200, response.text


def profile_of(server: RunningServer, slug: str, user_id: str) -> bool:
    response = httpx.get(
        f"{server.url}/v1/spaces/{slug}/collections/users/profiles/user_id:{user_id}/metadata",
        auth=(ADMIN_TOKEN, ""),
    )
    return response.status_code == 200


def test_failures_are_listed_and_replayed_once_fixed(server: RunningServer, tmp_path: Path) -> None:
    slug, write_key, source_id = server.new_workspace()
    other, other_key, _ = server.new_workspace()
    base = f"/api/v1/workspaces/{slug}"
    server.api("PUT", f"{base}/identity-rules", json={"max_length": 5000})
    send(
        server,
        write_key,
        {"type": "identify", "userId": "ok-1", "messageId": "ok-1"},
        {
            "type": "identify",
            "userId": "bad-1",
            "traits": {"email": incompressible(3000) + "@example.com"},
            "messageId": "bad",
        },
        {"type": "identify", "userId": "ok-2", "messageId": "ok-2"},
    )
    send(server, other_key, {"type": "identify", "userId": "other-1", "messageId": "o-1"})

    listed = eventually(lambda: server.api("GET", f"{base}/failures"))
    assert [(f["message_id"], f["stage"], f["source_id"]) for f in listed] == [
        ("bad", "profile", source_id)
    ]
    assert "54000" in listed[0]["reason"]
    assert eventually(lambda: profile_of(server, slug, "ok-2"))
    assert eventually(lambda: profile_of(server, other, "other-1"))
    assert server.api("GET", f"/api/v1/workspaces/{other}/failures") == []
    with httpx.Client(base_url=server.url) as anonymous:
        assert anonymous.get(f"{base}/failures").status_code == 401
    with server.admin() as client:
        missing = client.get("/api/v1/workspaces/nowhere/failures")
    assert missing.status_code == 404
    assert missing.json()["code"] == "workspace_not_found"

    server.api("PUT", f"{base}/identity-rules", json={"max_length": 512})

    cli = cli_for(server, tmp_path)
    shown = cli.run("failures", "list", "--workspace", slug, "--json").json()
    assert [f["message_id"] for f in shown] == ["bad"]
    outcome = cli.run("failures", "replay", "--workspace", slug, "--json").json()
    assert [f["message_id"] for f in outcome["resolved"]] == ["bad"]
    assert (outcome["replayed"], outcome["failed"]) == (1, [])
    assert server.api("GET", f"{base}/failures") == []
    [resolved] = server.api("GET", f"{base}/failures", params={"status": "resolved"})
    assert resolved["resolved_at"] is not None
    assert server.api("POST", f"{base}/failures/replay", json={"ids": [resolved["id"]]}) == {
        "replayed": 0,
        "resolved": [],
        "failed": [],
    }
    events = httpx.get(
        f"{server.url}/v1/spaces/{slug}/collections/users/profiles/user_id:bad-1/events",
        auth=(ADMIN_TOKEN, ""),
    ).json()
    assert [e["messageId"] for e in events["data"]] == ["bad"]
