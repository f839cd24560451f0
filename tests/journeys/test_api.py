"""Journeys through the management API of a running ``headwater serve``: drafts with optimistic
locking, publishing into versions, states, journeys as code, and bad input answered 4xx with
the problem named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.cli.conftest import Finished, cli_for
from tests.server import RunningServer

BASE = "/api/v1/workspaces/default/journeys"

WELCOME: dict[str, Any] = {
    "version": 1,
    "trigger": {"type": "event", "event": "Signed Up"},
    "entry": {"mode": "once"},
    "start": "wait",
    "nodes": {
        "wait": {
            "type": "wait_event",
            "config": {
                "events": [
                    {
                        "port": "bought",
                        "event": "Order Completed",
                        "where": [{"property": "total", "operator": "greater_than", "value": 0.1}],
                    }
                ],
                "timeout": {"days": 3},
            },
            "next": {"bought": "done", "timeout": "nudge"},
        },
        "nudge": {
            "type": "send",
            "config": {"destination": 1, "event": "Nudge"},
            "next": {"out": "done"},
        },
        "done": {"type": "exit"},
    },
}


def _call(server: RunningServer, method: str, path: str, **kwargs: Any) -> httpx.Response:
    with server.admin() as client:
        return client.request(method, BASE + path, **kwargs)


def _ok(server: RunningServer, method: str, path: str, status: int = 200, **kw: Any) -> Any:
    response = _call(server, method, path, **kw)
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def test_a_journey_from_draft_to_archive(server: RunningServer) -> None:
    created = _ok(
        server, "POST", "", 201, json={"key": "welcome", "name": "Welcome", "document": WELCOME}
    )
    assert created["state"] == "draft"
    assert created["version"] is None
    assert created["problems"] == []
    assert created["changed"] is True
    assert created["draft"]["nodes"]["wait"]["config"]["events"][0]["where"][0]["value"] == 0.1

    # two people edit the same revision: the second is told, nothing is overwritten
    unfinished = {**WELCOME, "nodes": {**WELCOME["nodes"], "extra": {"type": "exit"}}}
    first = _ok(server, "PUT", "/welcome/draft", json={"revision": 1, "document": unfinished})
    assert first["revision"] == 2
    assert first["problems"] == [
        {"path": "nodes.extra", "message": "nothing leads here: connect it or remove it"}
    ]
    late = _call(server, "PUT", "/welcome/draft", json={"revision": 1, "document": WELCOME})
    assert late.status_code == 409
    assert late.json()["code"] == "draft_changed"
    assert late.json()["revision"] == 2
    assert _ok(server, "GET", "/welcome")["draft"] == unfinished

    refused = _call(server, "POST", "/welcome/publish", json={})
    assert refused.status_code == 400
    assert refused.json()["code"] == "journey_not_publishable"
    assert refused.json()["problems"][0]["path"] == "nodes.extra"

    _ok(server, "PUT", "/welcome/draft", json={"revision": 2, "document": WELCOME})
    live = _ok(server, "POST", "/welcome/publish", json={"note": "first"})
    assert (live["state"], live["version"], live["changed"]) == ("live", 1, False)
    again = _ok(server, "POST", "/welcome/publish", json={})
    assert again["version"] == 1  # nothing changed, no new version

    paused = _ok(server, "POST", "/welcome/pause")
    assert paused["state"] == "paused"
    changed = {**WELCOME, "entry": {"mode": "every_time"}}
    revision = paused["revision"]
    _ok(server, "PUT", "/welcome/draft", json={"revision": revision, "document": changed})
    second = _ok(server, "POST", "/welcome/publish", json={"note": "every time"})
    assert (second["state"], second["version"]) == ("paused", 2)  # publishing does not resume
    assert _ok(server, "POST", "/welcome/resume")["state"] == "live"

    versions = _ok(server, "GET", "/welcome/versions")
    assert [(v["version"], v["note"]) for v in versions] == [(2, "every time"), (1, "first")]
    assert _ok(server, "GET", "/welcome/versions/1")["document"] == WELCOME
    assert _call(server, "GET", "/welcome/versions/9").json()["code"] == "version_not_found"

    gone = _call(server, "DELETE", "/welcome")
    assert gone.status_code == 409
    assert gone.json()["code"] == "journey_published"
    archived = _ok(server, "POST", "/welcome/archive")
    assert archived["state"] == "archived"
    for method, path, body in (
        ("PUT", "/welcome/draft", {"revision": archived["revision"], "document": WELCOME}),
        ("POST", "/welcome/publish", {}),
        ("POST", "/welcome/resume", None),
    ):
        response = _call(server, method, path, json=body)
        assert response.status_code == 409, (path, response.text)
    assert [j["key"] for j in _ok(server, "GET", "")] == ["welcome"]


def test_journeys_as_code_round_trip_in_json_and_yaml(server: RunningServer) -> None:
    _ok(server, "POST", "", 201, json={"key": "welcome", "name": "Welcome", "document": WELCOME})
    exported = _call(server, "GET", "/welcome/export", params={"format": "yaml"})
    assert exported.headers["content-type"].startswith("application/yaml")
    file = yaml.safe_load(exported.text)
    assert file["document"] == WELCOME

    file["key"] = "welcome-copy"
    file["name"] = "Welcome (copy)"
    copied = _ok(
        server,
        "POST",
        "/import",
        201,
        params={"format": "yaml"},
        content=yaml.safe_dump(file).encode(),
    )
    assert (copied["key"], copied["name"], copied["draft"]) == (
        "welcome-copy",
        "Welcome (copy)",
        WELCOME,
    )

    # importing over an existing journey replaces its draft (the file wins)
    file["document"] = {**WELCOME, "exits": [{"event": "Unsubscribed"}]}
    replaced = _ok(
        server, "POST", "/import", 201, params={"format": "json"}, content=json.dumps(file)
    )
    assert replaced["draft"]["exits"] == [{"event": "Unsubscribed"}]
    assert replaced["revision"] == 2

    for content in (b"\xff", b"[]", b"{not json"):
        refused = _call(server, "POST", "/import", content=content)
        assert refused.status_code == 400
        assert refused.json()["code"] == "invalid_journey"


def test_bad_input_is_a_4xx_naming_the_problem(server: RunningServer) -> None:
    cases: list[tuple[str, str, Any, int, str]] = [
        ("POST", "", {"key": "Bad Key", "name": "X"}, 400, "invalid_key"),
        ("POST", "", {"key": "x", "name": ""}, 400, "invalid_request"),
        ("POST", "", {"key": "x", "name": "X", "extra": 1}, 400, "invalid_request"),
        (
            "POST",
            "",
            {"key": "x", "name": "X", "document": {**WELCOME, "start": "a b"}},
            400,
            "invalid_journey",
        ),
        ("GET", "/nope", None, 404, "journey_not_found"),
        ("PUT", "/nope/draft", {"revision": 1, "document": WELCOME}, 404, "journey_not_found"),
    ]
    for method, path, body, status, code in cases:
        response = _call(server, method, path, json=body)
        assert response.status_code == status, (body, response.text)
        assert response.json()["code"] == code, response.text
    teleport = {**WELCOME, "nodes": {"wait": {"type": "teleport"}}}
    _ok(server, "POST", "", 201, json={"key": "x", "name": "X"})
    refused = _call(server, "PUT", "/x/draft", json={"revision": 1, "document": teleport})
    assert refused.status_code == 400
    assert refused.json()["problems"][0]["path"] == "nodes.wait.type"
    taken = _call(server, "POST", "", json={"key": "x", "name": "Again"})
    assert taken.status_code == 409
    assert taken.json()["code"] == "journey_exists"
    # a draft never published may be deleted
    assert _call(server, "DELETE", "/x").status_code == 204
    assert _call(server, "GET", "/x").status_code == 404


def test_the_palette_lists_every_node_type_with_its_config_schema(
    server: RunningServer,
) -> None:
    with server.admin() as client:
        kinds = client.get("/api/v1/journey-node-types").json()
    by_type = {kind["type"]: kind for kind in kinds}
    assert {"delay", "wait_event", "split", "send", "webhook", "exit"} <= set(by_type)
    assert by_type["send"]["family"] == "action"
    assert "destination" in by_type["send"]["config_schema"]["properties"]


def test_journeys_as_code_from_the_command_line(server: RunningServer, tmp_path: Path) -> None:
    def cli(*args: str) -> Finished:
        return cli_for(server, server.data_dir / "cli").run("journeys", *args)

    file = tmp_path / "welcome.yaml"
    file.write_text(yaml.safe_dump({"key": "welcome", "name": "Welcome", "document": WELCOME}))
    imported = cli("import", str(file), "--json")
    assert json.loads(imported.stdout)["state"] == "draft", imported.stderr
    published = cli("publish", "welcome", "--note", "first", "--json")
    assert json.loads(published.stdout)["version"] == 1, published.stderr
    assert json.loads(cli("pause", "welcome", "--json").stdout)["state"] == "paused"
    assert json.loads(cli("resume", "welcome", "--json").stdout)["state"] == "live"
    listed = json.loads(cli("list", "--json").stdout)
    assert [(j["key"], j["state"], j["version"]) for j in listed] == [("welcome", "live", 1)]
    out = tmp_path / "back.yaml"
    assert cli("export", "welcome", "--version", "1", "--out", str(out)).returncode == 0
    assert yaml.safe_load(out.read_text())["document"] == WELCOME
    versions = json.loads(cli("versions", "welcome", "--json").stdout)
    assert [v["note"] for v in versions] == ["first"]
    stats = json.loads(cli("stats", "welcome", "--json").stdout)
    assert (stats["entered"], stats["nodes"]) == (0, {})
    started = cli("start", "welcome", "prf_nobody", "--properties", '{"coupon": "X1"}', "--json")
    assert json.loads(started.stdout)["skipped"] == [
        {"profile_id": "prf_nobody", "reason": "no such profile"}
    ]
    assert cli("start", "welcome", "prf_nobody", "--properties", "[1]").returncode == 2
    assert cli("start", "welcome", "prf_nobody", "--properties", "{").returncode == 2

    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"key": "b", "name": "B", "document": {"version": 1}}))
    failed = cli("import", str(broken), "--json")
    assert failed.returncode == 1
    assert json.loads(failed.stdout)["code"] == "invalid_journey"
    unfinished = {**WELCOME, "start": "nowhere"}
    file.write_text(yaml.safe_dump({"key": "welcome", "name": "Welcome", "document": unfinished}))
    assert cli("import", str(file)).returncode == 0
    refused = cli("publish", "welcome", "--json")
    assert refused.returncode == 1
    assert json.loads(refused.stdout)["problems"][0]["path"] == "start"
